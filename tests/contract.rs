//! The contract's data against its sources: every schema compiles offline and meta-validates, the
//! embedded schema list equals `schemas/`, `rules.json` equals CONTRACT.md's tables, the vendor's
//! documented examples validate and hand-made counter-examples do not, and the case schema agrees
//! with the serde case model. Reads only files of this repository and `../shared/`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use jobconform::contract::{self, Evidence, Level, RuleApi};
use rstest::rstest;
use serde_json::{Value, json};

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

// ---------------------------------------------------------------- schema files

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
        if name != "case.schema.json" {
            assert!(!named.is_empty(), "{name}: description names no rule ID");
        }
        for id in named {
            assert!(
                known.contains(id.as_str()),
                "{name}: names unknown rule {id}"
            );
        }
        // The file and each of its $defs compile against the offline registry.
        assert!(contract::validate(&name, &json!(null)).is_ok(), "{name}");
        if let Some(defs) = doc["$defs"].as_object() {
            for key in defs.keys() {
                let frag = format!("{name}#/$defs/{key}");
                assert!(contract::validate(&frag, &json!(null)).is_ok(), "{frag}");
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
    assert_invalid(
        "common.json#/$defs/timestamp",
        &json!("2016-01-01T22:29:18+00:00"),
    );
}

// ---------------------------------------------------------------- rules vs CONTRACT.md

struct MdRule {
    section: String,
    id: String,
    level: String,
    text: String,
}

/// The rule rows and register rows of CONTRACT.md, in order.
fn contract_md() -> (Vec<MdRule>, Vec<[String; 3]>) {
    let md = std::fs::read_to_string(CONTRACT_MD).expect("read ../shared/CONTRACT.md");
    let (mut rules, mut register) = (Vec::new(), Vec::new());
    let mut section = String::new();
    for line in md.lines() {
        if let Some(s) = line.strip_prefix("## ") {
            section = s.to_owned();
            continue;
        }
        if !line.starts_with("| ") || line.starts_with("| ID ") {
            continue;
        }
        let cells: Vec<String> = line
            .trim()
            .trim_matches('|')
            .split(" | ")
            .map(|c| c.trim().to_owned())
            .collect();
        assert_eq!(cells.len(), 3, "unexpected table row: {line}");
        if section.starts_with("6.") {
            register.push([cells[0].clone(), cells[1].clone(), cells[2].clone()]);
        } else {
            rules.push(MdRule {
                section: section.clone(),
                id: cells[0].clone(),
                level: cells[1].clone(),
                text: cells[2].clone(),
            });
        }
    }
    (rules, register)
}

#[test]
fn rules_json_equals_contract_md_in_ids_levels_sections_and_text() {
    let (md, _) = contract_md();
    assert!(md.len() > 50, "parsed only {} rules", md.len());
    let ours: Vec<_> = contract::rules().iter().map(|r| r.id.as_str()).collect();
    let theirs: Vec<_> = md.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ours, theirs,
        "rule IDs or their order differ from CONTRACT.md"
    );
    for (r, m) in contract::rules().iter().zip(&md) {
        let level = match r.level {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
        };
        assert_eq!(level, m.level, "{}: level", r.id);
        assert_eq!(r.section, m.section, "{}: section", r.id);
        let text = match r.api {
            // Section 5 rows complete "A client that polls ... behaves well when it:".
            RuleApi::Client => format!("A polling client {}.", m.text.trim_end_matches([';', '.'])),
            _ => m.text.clone(),
        };
        assert_eq!(r.text, text, "{}: text", r.id);
    }
}

#[test]
fn register_equals_contract_md() {
    let (_, md) = contract_md();
    let ours: Vec<[String; 3]> = contract::register()
        .iter()
        .map(|e| [e.id.clone(), e.ambiguity.clone(), e.decision.clone()])
        .collect();
    assert_eq!(ours, md);
}

#[test]
fn rule_metadata_is_consistent() {
    let register: BTreeSet<&str> = contract::register().iter().map(|e| e.id.as_str()).collect();
    let mut ids = BTreeSet::new();
    let mut used = BTreeSet::new();
    for r in contract::rules() {
        assert!(ids.insert(r.id.as_str()), "duplicate {}", r.id);
        let (prefix, api) = r.id.split_once('-').expect("prefix");
        let want = match prefix {
            "EL" => RuleApi::Element,
            "UM" => RuleApi::Aiqum,
            "CL" => RuleApi::Client,
            other => panic!("{}: prefix {other}", r.id),
        };
        assert!(!api.is_empty());
        assert_eq!(r.api, want, "{}: api", r.id);
        assert_eq!(r.server, want != RuleApi::Client, "{}: server", r.id);
        let section_api = match r.section.as_bytes()[0] {
            b'1'..=b'3' => RuleApi::Element,
            b'4' => RuleApi::Aiqum,
            _ => RuleApi::Client,
        };
        assert_eq!(r.api, section_api, "{}: section {}", r.id, r.section);
        for e in &r.register {
            assert!(
                register.contains(e.as_str()),
                "{}: unknown register {e}",
                r.id
            );
            used.insert(e.as_str());
        }
        // Server MUST rules come from the vendor docs (CONTRACT.md's definition of MUST).
        if r.server && r.level == Level::Must {
            assert_eq!(r.evidence, Evidence::Doc, "{}", r.id);
        }
    }
    assert_eq!(used, register, "every register entry applies to some rule");
    assert_eq!(
        contract::rule("EL-GAR-UNKNOWN").expect("rule").register,
        ["E1"]
    );
    assert!(contract::rule("EL-NOPE").is_none());
}

#[test]
fn table_and_json_cover_every_rule() {
    let table = contract::render_table();
    let lines: Vec<&str> = table.lines().collect();
    // Header, one line per rule, summary.
    assert_eq!(lines.len(), contract::rules().len() + 2, "{table}");
    for (line, r) in lines[1..].iter().zip(contract::rules()) {
        assert!(line.starts_with(&r.id), "{line}");
        assert!(line.chars().count() <= 130, "line too wide: {line}");
    }
    // Columns are aligned: the level column starts at the same offset on every rule line.
    let col = lines[1].find("MUST").expect("level column");
    for line in &lines[1..=contract::rules().len()] {
        let at = line
            .find("MUST")
            .or_else(|| line.find("SHOULD"))
            .expect("level");
        assert_eq!(at, col, "{line}");
    }
    let j = contract::to_json();
    assert_eq!(
        j["rules"].as_array().expect("rules").len(),
        contract::rules().len()
    );
    assert_eq!(j["register"].as_array().expect("register").len(), 10);
    assert_eq!(j["rules"][0]["level"], "MUST");
    assert_eq!(j["rules"][0]["evidence"], "doc");
}

// ---------------------------------------------------------------- the vendor's examples

/// The top-level JSON objects of the GetAsyncResult page, in order: request, method error,
/// asynchronous error, asynchronous success.
fn seed_examples() -> Vec<Value> {
    let text = std::fs::read_to_string(SEED_GAR).expect("read the GetAsyncResult seed");
    let mut out = Vec::new();
    let mut buf = String::new();
    let mut depth = 0i32;
    for line in text.lines() {
        if depth == 0 && line.trim() != "{" {
            continue;
        }
        depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
        buf.push_str(line);
        buf.push('\n');
        if depth == 0 {
            out.push(serde_json::from_str(&buf).expect("seed example is JSON"));
            buf.clear();
        }
    }
    out
}

#[test]
fn documented_examples_validate() {
    let ex = seed_examples();
    assert_eq!(ex.len(), 4, "{ex:#?}");
    let (request, method_error, async_error, async_success) = (&ex[0], &ex[1], &ex[2], &ex[3]);

    assert_valid("element/request.json", request);
    assert_valid(
        "element/get-async-result.json#/$defs/params",
        &request["params"],
    );

    assert_valid("element/response.json", method_error);
    assert_valid("element/error.json", &method_error["error"]);
    assert_valid("element/get-async-result.json", method_error);
    assert_eq!(method_error["error"]["name"], "xDBNoSuchPath");

    for ok in [async_error, async_success] {
        assert_valid("element/get-async-result.json#/$defs/response", ok);
        assert_valid("element/get-async-result.json", ok);
        assert_valid("element/get-async-result.json#/$defs/result", &ok["result"]);
    }
    assert_valid(
        "element/get-async-result.json#/$defs/complete-failure",
        &async_error["result"],
    );
    assert_valid(
        "element/get-async-result.json#/$defs/complete-success",
        &async_success["result"],
    );
    assert_valid(
        "element/clone-volume.json#/$defs/clone-result",
        &async_success["result"]["result"],
    );
}

fn complete_success() -> Value {
    json!({
        "createTime": "2016-01-01T22:29:18Z",
        "lastUpdateTime": "2016-01-01T22:45:51Z",
        "result": {"cloneID": 25, "message": "Clone complete.", "volumeID": 47},
        "resultType": "Clone",
        "status": "complete"
    })
}

fn running() -> Value {
    json!({
        "createTime": "2016-01-01T22:29:18Z",
        "lastUpdateTime": "2016-01-01T22:30:00Z",
        "resultType": "Clone",
        "status": "running",
        "details": {"percentComplete": 40}
    })
}

fn with(mut v: Value, f: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    f(v.as_object_mut().expect("object"));
    v
}

#[rstest]
#[case::result_and_error(with(complete_success(), |m| {
    m.insert("error".into(), json!({"name": "xFailed", "message": "no"}));
}))]
#[case::details_while_complete(with(complete_success(), |m| {
    m.insert("details".into(), json!({}));
}))]
#[case::status_completed(with(complete_success(), |m| {
    m.insert("status".into(), json!("completed"));
}))]
#[case::time_without_z(with(complete_success(), |m| {
    m.insert("createTime".into(), json!("2016-01-01T22:29:18"));
}))]
#[case::running_with_result(with(running(), |m| {
    m.insert("result".into(), json!({"cloneID": 1}));
}))]
#[case::running_with_error(with(running(), |m| {
    m.insert("error".into(), json!({"name": "x", "message": "y"}));
}))]
#[case::nested_error_without_name(with(complete_success(), |m| {
    m.remove("result");
    m.insert("error".into(), json!({"message": "Bulk volume job failed", "bvID": 1}));
}))]
#[case::string_error(with(complete_success(), |m| {
    m.remove("result");
    m.insert("error".into(), json!("Bulk volume job failed"));
}))]
#[case::complete_with_neither(with(complete_success(), |m| { m.remove("result"); }))]
#[case::no_result_type(with(complete_success(), |m| { m.remove("resultType"); }))]
fn counter_examples_do_not_validate(#[case] result: Value) {
    assert_invalid("element/get-async-result.json#/$defs/result", &result);
    let response = json!({"id": 1, "result": result});
    assert_invalid("element/get-async-result.json#/$defs/response", &response);
}

#[test]
fn errors_point_into_the_instance() {
    let bad = with(complete_success(), |m| {
        m.insert("createTime".into(), json!("2016-01-01T22:29:18"));
    });
    let errs = assert_invalid(
        "element/get-async-result.json#/$defs/response",
        &json!({"id": 1, "result": bad}),
    );
    assert!(
        errs.iter().any(|e| e.pointer == "/result/createTime"),
        "{errs:#?}"
    );
}

#[test]
fn errors_are_specific_and_reported_once() {
    let bad = with(complete_success(), |m| {
        m.insert("status".into(), json!("completed"));
    });
    let errs = assert_invalid(
        "element/get-async-result.json#/$defs/response",
        &json!({"id": 1, "result": bad}),
    );
    assert!(
        errs.iter().all(|e| e.pointer == "/result/status"),
        "{errs:#?}"
    );
    for (i, e) in errs.iter().enumerate() {
        assert!(!errs[..i].contains(e), "duplicate {e:?}");
    }
    let both = json!({"id": 1, "result": {}, "error": {"code": 500, "name": "x", "message": "y"}});
    let errs = assert_invalid("element/response.json", &both);
    assert_eq!(errs[0].pointer, "/error", "{errs:#?}");
    let literal_running = with(literal_job(), |m| {
        m.insert("state".into(), json!("running"));
    });
    let errs = assert_invalid("aiqum/job.json", &literal_running);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(errs[0].pointer, "/state");
}

#[test]
fn details_is_should_level_only() {
    let bare = with(running(), |m| {
        m.remove("details");
    });
    assert_valid("element/get-async-result.json#/$defs/running", &bare);
    assert_valid("element/get-async-result.json#/$defs/result", &bare);
    assert_invalid(
        "element/get-async-result.json#/$defs/running-details",
        &bare,
    );
    assert_valid(
        "element/get-async-result.json#/$defs/running-details",
        &running(),
    );
    let not_object = with(running(), |m| {
        m.insert("details".into(), json!("40%"));
    });
    assert_invalid("element/get-async-result.json#/$defs/running", &not_object);
}

#[test]
fn element_envelope_and_methods() {
    assert_invalid(
        "element/response.json",
        &json!({"id": 1, "result": {}, "error": {"code": 500, "name": "x", "message": "y"}}),
    );
    assert_invalid("element/response.json", &json!({"id": 1}));
    assert_invalid("element/response.json", &json!({"id": 1.5, "result": {}}));
    assert_valid("element/response.json", &json!({"id": null, "result": {}}));
    assert_invalid(
        "element/error.json",
        &json!({"code": "500", "name": "x", "message": "y"}),
    );
    assert_invalid(
        "element/get-async-result.json#/$defs/params",
        &json!({"asyncHandle": "1"}),
    );
    assert_invalid(
        "element/get-async-result.json#/$defs/params",
        &json!({"keepResult": true}),
    );

    // E5: numbers or numeric strings.
    assert_valid(
        "element/get-api.json",
        &json!({"id": 1, "result": {"currentVersion": 12.5, "supportedVersions": [1.0, 12.5]}}),
    );
    assert_valid(
        "element/get-api.json",
        &json!({"id": 1, "result": {"currentVersion": "12.5", "supportedVersions": ["1.0", "12.5"]}}),
    );
    assert_invalid(
        "element/get-api.json",
        &json!({"id": 1, "result": {"currentVersion": "twelve", "supportedVersions": []}}),
    );

    assert_valid(
        "element/get-cluster-version-info.json#/$defs/result",
        &json!({"clusterAPIVersion": "12.5", "clusterVersion": "12.5.0.897"}),
    );
    assert_invalid(
        "element/get-cluster-version-info.json#/$defs/result",
        &json!({"clusterAPIVersion": 12.5, "clusterVersion": "12.5.0.897"}),
    );

    assert_valid(
        "element/clone-volume.json",
        &json!({"id": 1, "result": {"asyncHandle": 12, "cloneID": 3, "volumeID": 48, "curve": {}}}),
    );
    assert_invalid(
        "element/clone-volume.json",
        &json!({"id": 1, "result": {"asyncHandle": "12", "cloneID": 3, "volumeID": 48}}),
    );

    let entry = json!({"asyncResultID": 3, "completed": true, "createTime": "2016-10-27T16:09:29Z",
        "lastUpdateTime": "2016-10-27T16:09:30Z", "resultType": "DriveAdd", "success": true, "data": {}});
    assert_valid(
        "element/list-async-results.json",
        &json!({"id": 1, "result": {"asyncHandles": [entry.clone()]}}),
    );
    assert_valid(
        "element/list-async-results.json#/$defs/result",
        &json!({"asyncHandles": []}),
    );
    let no_data = with(entry, |m| {
        m.remove("data");
    });
    assert_invalid(
        "element/list-async-results.json#/$defs/result",
        &json!({"asyncHandles": [no_data]}),
    );
}

// ---------------------------------------------------------------- AIQUM

const KEY: &str = "06a6148bf9e862df:-2611856e:16e8d47e722:-7f87";

fn split_job() -> Value {
    json!({
        "key": KEY, "name": "Create LUN", "state": "completed", "status": "normal",
        "submit_time": "2019-11-12T10:02:19+05:30", "complete_time": "2019-11-12T10:02:40+05:30",
        "job_results": [{"name": "lunKey", "value": "abc:type=lun,uuid=1"}],
        "_links": {"self": {"href": format!("/api/management-server/jobs/{KEY}")}}
    })
}

fn literal_job() -> Value {
    json!({
        "key": KEY, "state": "NORMAL", "submit_time": "2019-11-12T04:32:19Z",
        "_links": {"self": {"href": format!("/api/management-server/jobs/{KEY}")}}
    })
}

#[test]
fn aiqum_jobs_in_both_dialects() {
    assert_valid("aiqum/job.json", &split_job());
    assert_valid("aiqum/job.json#/$defs/split", &split_job());
    assert_valid("aiqum/job.json", &literal_job());
    assert_valid("aiqum/job.json#/$defs/literal", &literal_job());
    assert_valid(
        "aiqum/job.json",
        &with(split_job(), |m| {
            m.insert("status".into(), json!("PARTIAL_FAILURES"));
            m.insert("complete_time".into(), Value::Null);
        }),
    );
    assert_valid(
        "aiqum/job.json",
        &with(literal_job(), |m| {
            m.insert("state".into(), json!("Warning"));
        }),
    );

    // A literal job (no status) must carry one of the four outcomes in `state`.
    assert_invalid(
        "aiqum/job.json",
        &with(literal_job(), |m| {
            m.insert("state".into(), json!("running"));
        }),
    );
    assert_invalid(
        "aiqum/job.json",
        &with(split_job(), |m| {
            m.insert("status".into(), json!("done"));
        }),
    );
    assert_invalid(
        "aiqum/job.json",
        &with(split_job(), |m| {
            m.remove("_links");
        }),
    );
    assert_invalid(
        "aiqum/job.json",
        &with(split_job(), |m| {
            m.insert("submit_time".into(), json!("yesterday"));
        }),
    );
    assert_invalid(
        "aiqum/job.json",
        &with(split_job(), |m| {
            m.insert(
                "job_results".into(),
                json!([{"name": "lunKey", "value": 7}]),
            );
        }),
    );

    let list = json!({"records": [split_job(), literal_job()], "num_records": 2, "total_records": 5,
        "_links": {"self": {"href": "/api/management-server/jobs"},
                   "next": {"href": "/api/management-server/jobs?start.key=x&max_records=2"}}});
    assert_valid("aiqum/job-list.json", &list);
    assert_invalid(
        "aiqum/job-list.json",
        &with(list.clone(), |m| {
            m.remove("_links");
        }),
    );
    assert_invalid(
        "aiqum/job-list.json",
        &with(list, |m| {
            m.insert("_links".into(), json!({"next": {}}));
        }),
    );
}

#[test]
fn aiqum_accepted_and_error_bodies() {
    let href = format!("/api/management-server/jobs/{KEY}");
    assert_valid(
        "aiqum/accepted.json",
        &json!({"job": {"key": KEY, "_links": {"self": {"href": href}}}}),
    );
    assert_valid("aiqum/accepted.json", &json!({"job": {"key": KEY}}));
    assert_invalid(
        "aiqum/accepted.json",
        &json!({"job": {"_links": {"self": {"href": href}}}}),
    );
    assert_invalid("aiqum/accepted.json", &json!({"job": {"key": ""}}));
    assert_invalid("aiqum/accepted.json", &json!({"job_key": KEY}));

    assert_valid(
        "aiqum/error.json",
        &json!({"error": {"message": "not found", "code": "4", "target": "key"}}),
    );
    assert_invalid("aiqum/error.json", &json!({"error": {"code": "4"}}));
    assert_invalid("aiqum/error.json", &json!({"message": "not found"}));
}

// ---------------------------------------------------------------- the case schema

fn valid_case() -> Value {
    json!({
        "description": "A complete handle fetched without keepResult is gone afterwards.",
        "api": "element",
        "rules": ["EL-KEEP-DEFAULT", "EL-GAR-UNKNOWN"],
        "needs": "scripted",
        "steps": [
            {"start": {"as": "h", "work": {"scripted": {"steps": [{"ms": 100, "details": {"percentComplete": 50}}], "outcome": "success"}}}},
            {"poll": {"job": "${h}", "keep_result": true, "deadline_ms": 5000, "deadline_rule": "EL-GAR-STATUS",
                      "expect": [{"rule": "EL-GAR-COMPLETE", "schema": "element/get-async-result.json#/$defs/response"}]}},
            {"rpc": {"method": "GetAsyncResult", "params": {"asyncHandle": "${h}"},
                     "expect": [
                        {"rule": "EL-KEEP-DEFAULT", "pointer": "/result/status", "equals": "complete"},
                        {"rule": "EL-RPC-ERROR-HTTP", "status": [200]}
                     ],
                     "capture": {"status": "/result/status"}}},
            {"repeat": {"times": 2, "steps": [
                {"rpc": {"method": "GetAsyncResult", "params": {"asyncHandle": "${h}"},
                         "expect": [{"rule": "EL-GAR-UNKNOWN", "pointer": "/error/name", "one_of": ["xAsyncHandleDoesNotExist", "xDBNoSuchPath"]}]}}
            ]}},
            {"wait": {"ms": 10}},
            {"check": {"name": "handles-unique", "rule": "EL-HANDLE-UNIQUE"}}
        ],
        "cleanup": [
            {"concurrent": {"times": 2, "rpc": {"method": "ListAsyncResults"}, "check": {"rule": "EL-LIST-SHAPE", "name": "all-agree"}}}
        ]
    })
}

#[test]
fn valid_case_validates_and_deserializes() {
    let case = valid_case();
    assert_valid("case.schema.json", &case);
    let parsed: jobconform::case::Case = serde_json::from_value(case).expect("serde agrees");
    assert_eq!(parsed.rules, ["EL-KEEP-DEFAULT", "EL-GAR-UNKNOWN"]);
    assert_eq!(parsed.steps.len(), 6);
    assert_eq!(parsed.cleanup.len(), 1);

    let aiqum = json!({
        "description": "A 202 names a job that reaches a terminal state.",
        "api": "aiqum", "rules": ["UM-ACCEPT-202"], "needs": "mutations", "requires": ["long-poll"],
        "snapshot": false,
        "expect_failure": {"rules": ["UM-ACCEPT-202"], "reason": "the doc-literal dialect omits the key"},
        "steps": [
            {"start": {"as": "k", "work": "call", "expect": [{"rule": "UM-ACCEPT-202", "status": 202}]}},
            {"http": {"method": "GET", "path": "/management-server/jobs/${k}", "query": {"poll_timeout": 5},
                      "auth": "wrong", "expect": [{"rule": "UM-AUTH", "status": 401}, {"rule": "UM-JSON", "content_type": "application/json"},
                      {"rule": "UM-POLL-STANDARD", "max_ms": 2000}, {"rule": "UM-JOB-SHAPE", "pointer": "/key", "type": "string"},
                      {"rule": "UM-JOB-SHAPE", "pointer": "/missing", "absent": true},
                      {"rule": "UM-JOB-SHAPE", "pointer": "/_links", "present": true},
                      {"rule": "UM-JOB-SHAPE", "check": "key-matches"}]}},
            {"poll": {"job": "${k}", "mode": "long"}}
        ]
    });
    assert_valid("case.schema.json", &aiqum);
    serde_json::from_value::<jobconform::case::Case>(aiqum).expect("serde agrees");
}

#[rstest]
#[case::unknown_top_level_field(with(valid_case(), |m| { m.insert("$schema".into(), json!("x")); }))]
#[case::unknown_step_field(with(valid_case(), |m| {
    m.insert("steps".into(), json!([{"wait": {"ms": 1, "why": "x"}}]));
}))]
#[case::unknown_step_kind(with(valid_case(), |m| {
    m.insert("steps".into(), json!([{"sleep": {"ms": 1}}]));
}))]
#[case::two_step_kinds_in_one(with(valid_case(), |m| {
    m.insert("steps".into(), json!([{"wait": {"ms": 1}, "check": {"name": "x", "rule": "EL-GAR-STATUS"}}]));
}))]
#[case::unknown_work(with(valid_case(), |m| {
    m.insert("steps".into(), json!([{"start": {"as": "h", "work": "bulk"}}]));
}))]
#[case::unknown_script_field(with(valid_case(), |m| {
    m.insert("steps".into(), json!([{"start": {"as": "h", "work": {"scripted": {"outcome": "success", "speed": 2}}}}]));
}))]
#[case::missing_description(with(valid_case(), |m| { m.remove("description"); }))]
#[case::unknown_api(with(valid_case(), |m| { m.insert("api".into(), json!("ontap")); }))]
fn cases_serde_refuses_are_refused(#[case] case: Value) {
    assert_invalid("case.schema.json", &case);
    assert!(
        serde_json::from_value::<jobconform::case::Case>(case).is_err(),
        "serde accepted what the schema refuses"
    );
}

fn with_expect(expect: Value) -> Value {
    with(valid_case(), |m| {
        m.insert(
            "steps".into(),
            json!([{"rpc": {"method": "GetAPI", "expect": [expect]}}]),
        );
    })
}

#[rstest]
#[case::two_assertions(json!({"rule": "EL-VER-GETAPI", "status": 200, "schema": "element/get-api.json"}))]
#[case::no_assertion(json!({"rule": "EL-VER-GETAPI"}))]
#[case::pointer_without_assertion(json!({"rule": "EL-VER-GETAPI", "pointer": "/result"}))]
#[case::pointer_with_two(json!({"rule": "EL-VER-GETAPI", "pointer": "/result", "present": true, "type": "object"}))]
#[case::equals_without_pointer(json!({"rule": "EL-VER-GETAPI", "equals": 1}))]
#[case::equals_null(json!({"rule": "EL-VER-GETAPI", "pointer": "/id", "equals": null}))]
#[case::absent_false(json!({"rule": "EL-VER-GETAPI", "pointer": "/error", "absent": false}))]
#[case::no_rule(json!({"status": 200}))]
#[case::bad_rule_id(json!({"rule": "keep-default", "status": 200}))]
#[case::bad_pointer(json!({"rule": "EL-VER-GETAPI", "pointer": "result", "present": true}))]
fn expectations_carry_exactly_one_assertion(#[case] expect: Value) {
    assert_invalid("case.schema.json", &with_expect(expect));
}

#[test]
fn case_rules_must_be_a_non_empty_list_of_ids() {
    assert_invalid(
        "case.schema.json",
        &with(valid_case(), |m| {
            m.insert("rules".into(), json!([]));
        }),
    );
    assert_invalid(
        "case.schema.json",
        &with(valid_case(), |m| {
            m.insert("rules".into(), json!(["el-gar-status"]));
        }),
    );
}
