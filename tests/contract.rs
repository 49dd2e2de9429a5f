//! The contract's data against its sources: every schema compiles offline and meta-validates, the
//! embedded schema list equals `schemas/`, `rules.json` equals CONTRACT.md's tables, the vendor's
//! documented examples validate and hand-made counter-examples do not, and the case schema agrees
//! with the serde case model. Reads only files of this repository and `../shared/`.

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

const CONTRACT_MD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/CONTRACT.md");
const SEED_GAR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/seeds/000_d9256b05381bc1e3.txt"
);

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
