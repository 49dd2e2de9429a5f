//! The contract's data against its sources: every schema compiles offline and meta-validates, the
//! embedded schema list equals `schemas/`, `rules.json` equals CONTRACT.md's tables, the vendor's
//! documented examples validate and hand-made counter-examples do not, and the case schema agrees
//! with the serde case model. Reads only files of this repository (`CONTRACT.md`,
//! `tests/fixtures/`).

use jobconform::contract;
use serde_json::Value;

#[path = "contract/aiqum.rs"]
mod aiqum;
#[path = "contract/case_schema.rs"]
mod case_schema;
#[path = "contract/element.rs"]
mod element;
#[path = "contract/registry.rs"]
mod registry;
#[path = "contract/schema_files.rs"]
mod schema_files;
#[path = "common/seed.rs"]
mod seed;

const CONTRACT_MD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/CONTRACT.md");
/// The vendor pages' documented examples, one JSON file each (sources in `README.md` there).
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/docs");

/// A documented example by its path under `tests/fixtures/docs/`.
fn fixture(path: &str) -> Value {
    read_json(&format!("{FIXTURES}/{path}"))
}

/// A NetApp-published answer by its path under `tests/fixtures/netapp/` (`PROVENANCE.md` there).
fn netapp_fixture(path: &str) -> Value {
    read_json(&format!(
        "{}/tests/fixtures/netapp/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
}

fn read_json(file: &str) -> Value {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("read {file}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn errors(schema: &str, value: &Value) -> Vec<contract::SchemaError> {
    contract::validate(schema, value).expect("schema is known")
}

#[track_caller]
fn assert_valid(schema: &str, value: &Value) {
    let errs = errors(schema, value);
    assert!(errs.is_empty(), "{schema} refused {value:#}:\n{errs:#?}");
}

#[track_caller]
fn assert_invalid(schema: &str, value: &Value) -> Vec<contract::SchemaError> {
    let errs = errors(schema, value);
    assert!(!errs.is_empty(), "{schema} accepted {value:#}");
    errs
}

fn with(mut v: Value, f: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    f(v.as_object_mut().expect("object"));
    v
}
