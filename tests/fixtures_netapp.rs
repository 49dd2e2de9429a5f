//! NetApp's own published answers (`tests/fixtures/netapp/`, sources in its `PROVENANCE.md`)
//! against the harness and the mock:
//!
//! - (a) no false positives: every fixture passes the schemas and checks it falls under, judged
//!   through the harness's own API (`contract::validate`, `check::element`, `check::named`), so
//!   the harness never fails what a real cluster sent;
//! - (b) the mock's shapes match (`mock_shapes`): the mock's answer to the same request has the
//!   same member names and JSON types, through the snapshot shape code, with every exception in
//!   one table.

#[path = "fixtures_netapp/mock_shapes.rs"]
mod mock_shapes;

use std::path::Path;

use jobconform::check::names::Response;
use jobconform::check::{Judgement, element, named};
use jobconform::contract;
use jobconform::transport::{AuthMode, Body, Exchange, RequestRecord, ResponseRecord};
use serde_json::{Value, json};

/// What judges a fixture.
#[derive(Debug, Clone, Copy)]
enum Judge {
    /// EL-RPC-ENVELOPE and EL-RPC-ERROR-SHAPE, the request having had this `id` (`None`: the
    /// source does not show the request's id).
    Envelope(Option<i64>),
    /// A JSON Schema under `schemas/` (file and optional fragment) on the whole answer.
    Schema(&'static str),
    /// A JSON Schema on the member at a JSON pointer.
    SchemaAt(&'static str, &'static str),
    /// The GetAsyncResult observation rules (EL-GAR-STATUS ... EL-GAR-TIMES).
    Gar,
    /// A named response check and the rule it serves.
    Named(Response, &'static str),
}

use Judge::{Envelope, Gar, Named, Schema, SchemaAt};

/// Every fixture, the Element API version its request went to, and what it falls under.
const FIXTURES: &[(&str, &str, &[Judge])] = &[
    (
        "element/get-async-result-method-error.json",
        "12.0",
        &[
            Envelope(Some(1)),
            Schema("element/get-async-result.json"),
            SchemaAt("element/error.json", "/error"),
            Named(Response::UnknownHandleError, "EL-GAR-UNKNOWN"),
            Named(Response::Error500, "EL-GAR-PARAMS"),
        ],
    ),
    (
        "element/get-async-result-task-error.json",
        "12.0",
        &[
            Envelope(Some(1)),
            Gar,
            Schema("element/get-async-result.json#/$defs/response-complete-failure"),
            Named(Response::IsComplete, "EL-GAR-STATUS"),
        ],
    ),
    (
        "element/get-async-result-task-success.json",
        "12.0",
        &[
            Envelope(Some(1)),
            Gar,
            Schema("element/get-async-result.json#/$defs/response-complete-success"),
            SchemaAt(
                "element/clone-volume.json#/$defs/clone-result",
                "/result/result",
            ),
        ],
    ),
    (
        "element/list-async-results.json",
        "12.0",
        &[
            Envelope(Some(1)),
            Schema("element/list-async-results.json#/$defs/response"),
            Named(Response::AsyncListShape, "EL-LIST-SHAPE"),
            Named(Response::HasEntries, "EL-LIST-SHAPE"),
        ],
    ),
    (
        "element/get-api.json",
        "12.0",
        &[
            Envelope(Some(1)),
            Schema("element/get-api.json#/$defs/response"),
            Named(Response::GetapiVersions, "EL-VER-GETAPI"),
        ],
    ),
    (
        "element/get-api-7.3-recorded.json",
        "7.0",
        &[
            Envelope(None),
            Schema("element/get-api.json#/$defs/response"),
            Named(Response::GetapiVersions, "EL-VER-GETAPI"),
        ],
    ),
    (
        "element/get-cluster-version-info.json",
        "12.0",
        &[
            Envelope(Some(1)),
            Schema("element/get-cluster-version-info.json#/$defs/response"),
        ],
    ),
    (
        "element/get-cluster-info.json",
        "12.0",
        &[Envelope(Some(1)), Schema("element/response.json")],
    ),
    (
        "element/get-limits.json",
        "12.0",
        &[Envelope(Some(1)), Schema("element/response.json")],
    ),
    (
        "element/clone-volume.json",
        "12.0",
        &[
            Envelope(Some(1)),
            Schema("element/clone-volume.json#/$defs/response"),
        ],
    ),
    (
        "element/delete-volume.json",
        "12.0",
        &[Envelope(Some(1)), Schema("element/response.json")],
    ),
    (
        "element/add-account.json",
        "12.0",
        &[Envelope(Some(1)), Schema("element/response.json")],
    ),
    (
        "element/create-volume.json",
        "12.0",
        &[Envelope(Some(1)), Schema("element/response.json")],
    ),
    (
        "element/list-volumes.json",
        "12.0",
        &[Envelope(Some(1)), Schema("element/response.json")],
    ),
    (
        "element/list-volumes-recorded.json",
        "11.0",
        &[Envelope(None), Schema("element/response.json")],
    ),
    (
        "element/list-accounts-recorded.json",
        "8.0",
        &[Envelope(Some(8)), Schema("element/response.json")],
    ),
    (
        "element/error-async-handle-does-not-exist-recorded.json",
        "12.0",
        &[
            Envelope(None),
            SchemaAt("element/error.json", "/error"),
            Named(Response::UnknownHandleError, "EL-GAR-UNKNOWN"),
            Named(Response::Error500, "EL-GAR-PARAMS"),
        ],
    ),
    (
        "element/error-unknown-account-recorded.json",
        "12.0",
        &[Envelope(None), SchemaAt("element/error.json", "/error")],
    ),
    (
        "aiqum/job-file-share-tail.json",
        "",
        &[SchemaAt(
            "aiqum/job.json#/$defs/common/properties/job_results",
            "/job_results",
        )],
    ),
];

/// Reads a fixture.
fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/netapp")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The fixture as an exchange: a POST to `/json-rpc/<version>` that carried `id`.
fn exchange(version: &str, id: Option<i64>, body: &Value) -> Exchange {
    Exchange {
        request: RequestRecord {
            method: "POST".into(),
            url: format!("https://cluster.invalid/json-rpc/{version}"),
            auth: AuthMode::Default,
            body: id.map(|id| json!({"method": "M", "params": {}, "id": id})),
        },
        response: Ok(ResponseRecord {
            status: 200,
            content_type: Some("application/json".into()),
            body: Body::Json(body.clone()),
            elapsed_ms: 1,
        }),
    }
}

fn judge(j: Judge, version: &str, body: &Value) -> Result<(), String> {
    let schema = |name: &str, v: &Value| match contract::validate(name, v) {
        Ok(errs) if errs.is_empty() => Ok(()),
        Ok(errs) => Err(format!("{name}: {errs:?}")),
        Err(e) => Err(format!("{name}: {e:?}")),
    };
    match j {
        Envelope(id) => {
            let sent = id.map(Value::from);
            let f = element::envelope(&exchange(version, id, body), sent.as_ref());
            if f.is_empty() {
                Ok(())
            } else {
                Err(format!("{f:?}"))
            }
        }
        Schema(name) => schema(name, body),
        SchemaAt(name, pointer) => match body.pointer(pointer) {
            Some(v) => schema(name, v),
            None => Err(format!("nothing at {pointer}")),
        },
        Gar => {
            let f = element::gar_answer(body);
            if f.is_empty() {
                Ok(())
            } else {
                Err(format!("{f:?}"))
            }
        }
        Named(check, rule) => {
            let ex = exchange(version, Some(1), body);
            match named::response(check, rule, &ex, Some(body)) {
                Judgement {
                    findings,
                    inconclusive: None,
                    ..
                } if findings.is_empty() => Ok(()),
                j => Err(format!("{check} ({rule}): {j:?}")),
            }
        }
    }
}

/// (a) Every fixture passes everything it falls under; all failures are reported at once.
#[test]
fn netapp_answers_pass_the_schemas_and_checks_they_fall_under() {
    let mut failures = Vec::new();
    for (name, version, judges) in FIXTURES {
        let body = fixture(name);
        for j in *judges {
            if let Err(e) = judge(*j, version, &body) {
                failures.push(format!("{name}: {j:?}: {e}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "the harness fails answers NetApp published:\n{}",
        failures.join("\n")
    );
}

/// Every file under `tests/fixtures/netapp/` is judged (none is forgotten), and each has a row
/// in `PROVENANCE.md`.
#[test]
fn every_fixture_is_judged_and_has_its_provenance() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/netapp");
    let provenance = std::fs::read_to_string(root.join("PROVENANCE.md")).expect("PROVENANCE.md");
    let mut on_disk = Vec::new();
    for dir in ["element", "aiqum"] {
        for e in std::fs::read_dir(root.join(dir)).expect("fixture dir") {
            let name = e.expect("entry").file_name().to_string_lossy().to_string();
            on_disk.push(format!("{dir}/{name}"));
        }
    }
    on_disk.sort();
    let mut judged: Vec<String> = FIXTURES.iter().map(|(n, _, _)| n.to_string()).collect();
    judged.sort();
    assert_eq!(on_disk, judged, "fixtures on disk vs judged here");
    for name in &judged {
        assert!(
            provenance.contains(&format!("`{name}`")),
            "{name} has no row in PROVENANCE.md"
        );
    }
}

/// The judges have teeth: a fixture broken the way a deviation breaks a target fails them.
#[test]
fn the_judges_fail_broken_answers() {
    let mut err = fixture("element/error-async-handle-does-not-exist-recorded.json");
    err["error"]["code"] = json!("500");
    assert!(judge(Envelope(None), "12.0", &err).is_err());
    let mut done = fixture("element/get-async-result-task-success.json");
    done["result"]["status"] = json!("completed");
    assert!(judge(Gar, "12.0", &done).is_err());
    let mut api = fixture("element/get-api.json");
    api["result"]["supportedVersions"] = json!(["11.0"]);
    assert!(
        judge(
            Named(Response::GetapiVersions, "EL-VER-GETAPI"),
            "12.0",
            &api
        )
        .is_err()
    );
    let echo = fixture("element/list-accounts-recorded.json");
    assert!(judge(Envelope(Some(9)), "8.0", &echo).is_err());
}
