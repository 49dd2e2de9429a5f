//! Every schema file: embedded copy equals disk, meta-validates, compiles offline (each `$defs`
//! entry too), has `$id`/`title`/`description`, and its description names real rule IDs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use jobconform::contract;
use serde_json::{Value, json};

use crate::{assert_invalid, assert_valid};

fn files_on_disk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("read schemas/") {
        let entry = entry.expect("dir entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if path.is_dir() {
            files_on_disk(&path, &format!("{prefix}{name}/"), out);
        } else if name.ends_with(".json") {
            out.push(format!("{prefix}{name}"));
        }
    }
}

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

#[test]
fn embedded_schema_list_equals_the_schemas_directory() {
    let mut disk = Vec::new();
    files_on_disk(&schemas_dir(), "", &mut disk);
    disk.sort();
    assert_eq!(contract::schema_names(), disk);
    for name in &disk {
        let text = std::fs::read_to_string(schemas_dir().join(name)).expect("read schema");
        assert_eq!(
            contract::schema_source(name),
            Some(text.as_str()),
            "{name}: embedded copy differs from the file"
        );
    }
}

#[test]
fn every_schema_meta_validates_compiles_and_names_its_rules() {
    let known: BTreeSet<&str> = contract::rules().iter().map(|r| r.id.as_str()).collect();
    let rule_ref = regex_lite_ids;
    for name in contract::schema_names() {
        let doc: Value =
            serde_json::from_str(contract::schema_source(&name).expect("embedded")).expect("json");
        jsonschema::meta::validate(&doc)
            .unwrap_or_else(|e| panic!("{name} does not meta-validate: {e}"));
        assert_eq!(
            doc["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}"
        );
        assert_eq!(
            doc["$id"],
            format!("{}{name}", contract::BASE_URI),
            "{name}: $id"
        );
        assert!(
            doc["title"].as_str().is_some_and(|t| !t.is_empty()),
            "{name}: title"
        );
        let description = doc["description"].as_str().expect("description");
        let named = rule_ref(description);
        // API schemas serve rules; document formats at the top (`*.schema.json`) need not.
        if !name.ends_with(".schema.json") {
            assert!(!named.is_empty(), "{name}: description names no rule ID");
        }
        for id in named {
            assert!(
                known.contains(id.as_str()),
                "{name}: names unknown rule {id}"
            );
        }
        // The file and each of its $defs compile against the offline registry.
        contract::compile(&name).unwrap_or_else(|e| panic!("failed to {e}"));
        if let Some(defs) = doc["$defs"].as_object() {
            for key in defs.keys() {
                let frag = format!("{name}#/$defs/{key}");
                contract::compile(&frag).unwrap_or_else(|e| panic!("failed to {e}"));
            }
        }
    }
}

/// Rule IDs (`EL-...`, `UM-...`, `CL-...`) named in a text.
fn regex_lite_ids(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| {
            (w.starts_with("EL-") || w.starts_with("UM-") || w.starts_with("CL-")) && w.len() > 3
        })
        .map(|w| w.trim_end_matches('-').to_owned())
        .collect()
}

#[test]
fn unknown_schemas_are_reported_not_guessed() {
    assert!(contract::validate("element/nope.json", &json!({})).is_err());
    assert!(contract::validate("element/get-async-result.json#/$defs/nope", &json!({})).is_err());
    let e = contract::validate("nope.json", &json!({})).expect_err("unknown");
    assert_eq!(e.to_string(), "find schema \"nope.json\" in schemas/");
}

#[test]
fn formats_are_asserted_not_only_annotated() {
    // Matches the pattern but is not a date: only `format` catches it.
    assert_invalid(
        "common.json#/$defs/timestamp",
        &json!("2016-02-30T22:29:18Z"),
    );
    assert_valid(
        "common.json#/$defs/timestamp",
        &json!("2016-01-01T22:29:18.123Z"),
    );
    // Register E11: UTC+0 may be written `+00:00`; any other offset is not UTC.
    assert_valid(
        "common.json#/$defs/timestamp",
        &json!("2016-01-01T22:29:18+00:00"),
    );
    assert_invalid(
        "common.json#/$defs/timestamp",
        &json!("2016-01-01T22:29:18+01:00"),
    );
    assert_invalid(
        "common.json#/$defs/timestamp",
        &json!("2016-01-01T22:29:18"),
    );
}
