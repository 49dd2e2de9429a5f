//! Snapshot normalization, redaction and storage, on hand-built case outcomes (no server): the
//! value is deterministic and independent of ports, handles, keys and timestamps; placeholders are
//! consistent within a case; a renamed error is a mismatch naming the member; no credential is
//! ever written; redaction is idempotent; files are insta's format.

#![expect(clippy::unwrap_used, reason = "a test stops at the first surprise")]

#[path = "common/seed.rs"]
mod seed;

use std::time::Duration;

use jobconform::check::Finding;
use jobconform::diff::ChangeKind;
use jobconform::exec::{CaseOutcome, Status};
use jobconform::snapshot::{
    self, Context, SnapshotMismatch, Stored, Update, Volatile, assert_snapshot, redact,
    snapshot_value,
};
use jobconform::transport::{AuthMode, Body, Exchange, RequestRecord, ResponseRecord};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Values that differ from run to run.
struct Run {
    port: u16,
    handle: i64,
    other_handle: i64,
    unknown: i64,
    clone_id: i64,
    volume_id: i64,
    key: &'static str,
    time: &'static str,
    scratch: &'static str,
    error_name: &'static str,
    unknown_key: &'static str,
}

const RUN_A: Run = Run {
    port: 40001,
    handle: 17,
    other_handle: 18,
    unknown: 1_000_018,
    clone_id: 5,
    volume_id: 12,
    key: "06a6148bf9e862df:-2611856e:16e8d47e722:-7f87",
    time: "2026-11-23T14:21:54Z",
    scratch: "jobconform-a1b2c3",
    error_name: "xAsyncHandleDoesNotExist",
    unknown_key: "77aa:-1:2:-3",
};

const RUN_B: Run = Run {
    port: 51234,
    handle: 301,
    other_handle: 302,
    unknown: 1_000_302,
    clone_id: 91,
    volume_id: 44,
    key: "1f0e:-99aa:abc:-1",
    time: "2031-01-02T03:04:05.678Z",
    scratch: "jobconform-zz9q",
    error_name: "xAsyncHandleDoesNotExist",
    unknown_key: "beef:-2:9:-a",
};

fn ex(method: &str, url: String, body: Option<Value>, status: u16, resp: Body) -> Exchange {
    Exchange {
        request: RequestRecord {
            method: method.into(),
            url,
            auth: AuthMode::Default,
            body,
        },
        response: Ok(ResponseRecord {
            status,
            content_type: Some("application/json".into()),
            body: resp,
            elapsed_ms: 3,
        }),
    }
}

/// A case transcript: clone, poll the handle twice, list, ask for the unknown handle, AIQUM job.
fn outcome(r: &Run) -> CaseOutcome {
    let el = format!("https://127.0.0.1:{}/json-rpc/12.5", r.port);
    let um = format!(
        "https://127.0.0.1:{}/api/management-server/jobs/{}",
        r.port, r.key
    );
    let gar = |h: i64| json!({"method": "GetAsyncResult", "params": {"asyncHandle": h}, "id": 2});
    let transcript = vec![
        ex(
            "POST",
            el.clone(),
            Some(
                json!({"method": "CloneVolume", "params": {"volumeID": r.volume_id, "name": r.scratch}, "id": 1}),
            ),
            200,
            Body::Json(
                json!({"id": 1, "result": {"asyncHandle": r.handle, "cloneID": r.clone_id, "volumeID": r.volume_id}}),
            ),
        ),
        ex(
            "POST",
            el.clone(),
            Some(gar(r.handle)),
            200,
            Body::Json(
                json!({"id": 2, "result": {"status": "running", "resultType": "Clone", "details": {}, "createTime": r.time, "lastUpdateTime": r.time}}),
            ),
        ),
        ex(
            "POST",
            el.clone(),
            Some(gar(r.handle)),
            200,
            Body::Json(
                json!({"id": 2, "result": {"status": "complete", "resultType": "Clone", "result": {"cloneID": r.clone_id, "message": format!("Clone {} done", r.scratch)}, "createTime": r.time, "lastUpdateTime": r.time}}),
            ),
        ),
        ex(
            "POST",
            el.clone(),
            Some(json!({"method": "ListAsyncResults", "params": {}, "id": 3})),
            200,
            Body::Json(json!({"id": 3, "result": {"asyncHandles": [
                {"asyncResultID": r.handle, "completed": true, "createTime": r.time, "lastUpdateTime": r.time, "resultType": "Clone", "success": true, "data": {}},
                {"asyncResultID": r.other_handle, "completed": false, "createTime": r.time, "lastUpdateTime": r.time, "resultType": "Clone", "success": false, "data": {}}
            ]}})),
        ),
        ex(
            "POST",
            el,
            Some(gar(r.unknown)),
            200,
            Body::Json(
                json!({"id": 2, "error": {"code": 500, "name": r.error_name, "message": "no such handle"}}),
            ),
        ),
        ex(
            "GET",
            format!(
                "{um}?poll_timeout=5&last_modified={}",
                r.time.replace(':', "%3A")
            ),
            None,
            200,
            Body::Json(
                json!({"key": r.key, "state": "completed", "status": "NORMAL", "submit_time": r.time,
                "_links": {"self": {"href": format!("https://127.0.0.1:{}/api/management-server/jobs/{}", r.port, r.key)}}}),
            ),
        ),
        ex(
            "GET",
            format!(
                "https://127.0.0.1:{}/api/management-server/jobs/{}",
                r.port, r.unknown_key
            ),
            None,
            404,
            Body::Json(
                json!({"error": {"message": format!("job {} not found", r.unknown_key), "code": "404"}}),
            ),
        ),
    ];
    CaseOutcome {
        status: Status::Ran,
        findings: vec![Finding::new(
            "EL-GAR-DETAILS",
            format!("no details at {}", r.time),
        )],
        transcript,
        notes: vec![
            format!(
                "E1: unknown handle named {} after {} ms",
                r.error_name, r.port
            ),
            "expected: UM-LIST-DEFAULT: 25 records came back".into(),
        ],
        duration: Duration::from_millis(r.port as u64),
        observed: Vec::new(),
        concurrent: Vec::new(),
        shared_setup: Vec::new(),
        expected: vec![Finding::new("UM-LIST-DEFAULT", "25 records came back")],
        element_dialect: None,
    }
}

fn ctx(r: &Run) -> Context {
    Context {
        rules: vec!["EL-GAR-UNKNOWN".into(), "EL-GAR-DETAILS".into()],
        volatile: Volatile {
            unknown_handles: vec![],
            unknown_keys: vec![],
            hosts: vec![format!("127.0.0.1:{}", r.port)],
        },
    }
}

fn snap(r: &Run) -> Value {
    snapshot_value("element/clone/poll", &outcome(r), &ctx(r))
}

#[test]
fn normalization_is_deterministic_and_run_independent() {
    assert_eq!(snap(&RUN_A), snap(&RUN_A));
    assert_eq!(snap(&RUN_A), snap(&RUN_B));
    let text = serde_json::to_string(&snap(&RUN_B)).unwrap();
    for volatile in [
        "51234",
        "301",
        "700000",
        "1f0e",
        "2031",
        "zz9q",
        "127.0.0.1",
        "elapsed",
    ] {
        assert!(!text.contains(volatile), "{volatile} left in {text}");
    }
}

#[test]
fn placeholders_are_consistent_within_a_case() {
    let v = snap(&RUN_A);
    let x = &v["exchanges"];
    assert_eq!(
        x[0]["response"]["body"]["result"]["asyncHandle"],
        "[handle-1]"
    );
    // the same handle polled twice stays the same placeholder, a second handle gets the next one
    assert_eq!(
        x[1]["request"]["body"]["params"]["asyncHandle"],
        "[handle-1]"
    );
    assert_eq!(
        x[2]["request"]["body"]["params"]["asyncHandle"],
        "[handle-1]"
    );
    // the list keeps this case's handle; another case's handle (named nowhere else) is left out
    let list = &x[3]["response"]["body"]["result"]["asyncHandles"];
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["asyncResultID"], "[handle-1]");
    assert_eq!(
        x[4]["request"]["body"]["params"]["asyncHandle"],
        "[unknown-handle]"
    );
    assert_eq!(x[0]["response"]["body"]["result"]["cloneID"], "[clone-1]");
    assert_eq!(
        x[2]["response"]["body"]["result"]["result"]["cloneID"],
        "[clone-1]"
    );
    assert_eq!(
        x[0]["request"]["body"]["params"]["volumeID"],
        "[volume-id-1]"
    );
    assert_eq!(
        x[0]["request"]["body"]["params"]["name"],
        "[scratch-name-1]"
    );
    assert_eq!(
        x[2]["response"]["body"]["result"]["result"]["message"],
        "Clone [scratch-name-1] done"
    );
    assert_eq!(
        x[1]["response"]["body"]["result"]["createTime"],
        "[timestamp]"
    );
    // the job key in the path, the body and the href is one placeholder; the host is gone
    assert_eq!(
        x[5]["request"]["path"],
        "/api/management-server/jobs/[job-key-1]?poll_timeout=5&last_modified=[timestamp]"
    );
    assert_eq!(x[5]["response"]["body"]["key"], "[job-key-1]");
    assert_eq!(
        x[5]["response"]["body"]["_links"]["self"]["href"],
        "[host]/api/management-server/jobs/[job-key-1]"
    );
    assert_eq!(x[0]["request"]["path"], "/json-rpc/12.5");
    // the key never issued is inferred from the transcript (asked for, in no 2xx body)
    assert_eq!(
        x[6]["request"]["path"],
        "/api/management-server/jobs/[unknown-key]"
    );
    assert_eq!(
        x[6]["response"]["body"]["error"]["message"],
        "job [unknown-key] not found"
    );
    assert!(x[0]["response"].get("elapsed_ms").is_none());
    assert_eq!(v["findings"], json!(["EL-GAR-DETAILS"]));
    assert_eq!(v["expected_findings"], json!(["UM-LIST-DEFAULT"]));
    assert!(v.get("notes").is_none(), "free-text notes stay out");
    assert_eq!(v["rules"], json!(["EL-GAR-DETAILS", "EL-GAR-UNKNOWN"]));
    assert_eq!(v["error_names"], json!(["xAsyncHandleDoesNotExist"]));
    assert_eq!(v["status"], json!({"kind": "ran"}));
}

#[test]
fn repeated_polls_are_recorded_once_whatever_their_number() {
    let poll = |id: i64, pct: i64, status: &str| {
        ex(
            "POST",
            "https://127.0.0.1:1/json-rpc/12.5".into(),
            Some(json!({"method": "GetAsyncResult", "params": {"asyncHandle": 3}, "id": id})),
            200,
            Body::Json(
                json!({"id": id, "result": {"status": status, "details": {"percentComplete": pct}}}),
            ),
        )
    };
    let mut few = outcome(&RUN_A);
    few.transcript = vec![poll(1, 0, "running"), poll(2, 100, "complete")];
    let mut many = outcome(&RUN_A);
    many.transcript = vec![
        poll(1, 0, "running"),
        poll(2, 30, "running"),
        poll(3, 60, "running"),
        poll(4, 100, "complete"),
    ];
    let v = snapshot_value("element/poll", &few, &Context::default());
    assert_eq!(
        snapshot_value("element/poll", &many, &Context::default()),
        v
    );
    let x = &v["exchanges"];
    assert_eq!(x.as_array().unwrap().len(), 2);
    assert_eq!(x[0]["request"]["body"]["id"], "[id]");
    assert_eq!(x[0]["response"]["body"]["id"], "[id]");
    assert_eq!(
        x[0]["response"]["body"]["result"]["details"]["percentComplete"],
        "[percent]"
    );
    // an answer echoing another id stays visible
    let mut wrong = few.clone();
    if let Ok(r) = &mut wrong.transcript[1].response {
        r.body = Body::Json(json!({"id": 9, "result": {"status": "complete"}}));
    }
    let w = snapshot_value("element/poll", &wrong, &Context::default());
    assert_eq!(w["exchanges"][1]["response"]["body"]["id"], "[other-id]");
}

#[test]
fn list_entries_of_other_cases_are_left_out() {
    let list = |records: Value| {
        ex(
            "GET",
            "https://127.0.0.1:1/api/management-server/jobs?max_records=5".into(),
            None,
            200,
            Body::Json(json!({"records": records, "num_records": 2, "total_records": 40})),
        )
    };
    let mine = "aa:-1:2:-3";
    let accepted = ex(
        "POST",
        "https://127.0.0.1:1/api/datacenter/storage/luns".into(),
        Some(json!({"name": "jobconform-1"})),
        202,
        Body::Json(json!({"job": {"key": mine}})),
    );
    let record = |k: &str| json!({"key": k, "state": "completed", "status": "NORMAL"});
    let mut o = outcome(&RUN_A);
    o.transcript = vec![
        accepted.clone(),
        list(json!([record(mine), record("bb:-1:2:-3")])),
    ];
    let v = snapshot_value("aiqum/list", &o, &Context::default());
    let body = &v["exchanges"][1]["response"]["body"];
    assert_eq!(
        body["records"],
        json!([{"key": "[job-key-1]", "state": "completed", "status": "NORMAL"}])
    );
    assert_eq!(body["num_records"], "[count]");
    assert_eq!(body["total_records"], "[count]");
    // the same case with other jobs around gives the same snapshot
    o.transcript = vec![accepted, list(json!([record("cc:-9:9:-9"), record(mine)]))];
    assert_eq!(snapshot_value("aiqum/list", &o, &Context::default()), v);
}

#[test]
fn shape_records_types_enums_and_status_codes() {
    let v = snap(&RUN_A);
    let gar = &v["shape"]["POST /json-rpc/12.5 GetAsyncResult"];
    assert_eq!(gar["status_codes"], json!([200]));
    assert_eq!(gar["members"]["/result/status"], "string");
    assert_eq!(gar["members"]["/error/code"], "integer");
    assert_eq!(
        gar["values"]["/result/status"],
        json!(["complete", "running"])
    );
    assert_eq!(
        gar["values"]["/error/name"],
        json!(["xAsyncHandleDoesNotExist"])
    );
    let list = &v["shape"]["POST /json-rpc/12.5 ListAsyncResults"];
    assert_eq!(
        list["members"]["/result/asyncHandles/*/asyncResultID"],
        "integer"
    );
    assert_eq!(
        list["values"]["/result/asyncHandles/*/completed"],
        json!(["true"])
    );
    let job = &v["shape"]["GET /api/management-server/jobs/[job-key]"];
    assert_eq!(job["members"]["/_links/self/href"], "string");
}

#[test]
fn renamed_error_is_a_mismatch_naming_the_member() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let case = "element/get-async-result/unknown-handle";
    let first = snap(&RUN_A);
    let stored = assert_snapshot(root, "mock", case, &first, Update::Auto).unwrap();
    let file = root.join("mock/element/get-async-result/unknown-handle.snap");
    assert_eq!(stored, Stored::Created(file.clone()));
    assert_eq!(
        assert_snapshot(root, "mock", case, &first, Update::Never).unwrap(),
        Stored::Matched
    );
    let renamed = Run {
        error_name: "xDBNoSuchPath",
        ..RUN_B
    };
    let second = snap(&renamed);
    let err = assert_snapshot(root, "mock", case, &second, Update::Never).unwrap_err();
    let SnapshotMismatch::Changed {
        pointer,
        diff,
        pending,
        ..
    } = &err
    else {
        panic!("expected a change, got {err}");
    };
    assert_eq!(pointer, "/exchanges/4/response/body/error/name");
    assert!(
        diff.contains("-            \"name\": \"xAsyncHandleDoesNotExist\""),
        "{diff}"
    );
    assert!(
        diff.contains("+            \"name\": \"xDBNoSuchPath\""),
        "{diff}"
    );
    assert_eq!(pending, &None);
    assert!(
        err.to_string()
            .contains("/exchanges/4/response/body/error/name")
    );
    // Auto leaves a .snap.new for `cargo insta review`, and the .snap untouched
    let err = assert_snapshot(root, "mock", case, &second, Update::Auto).unwrap_err();
    let new_file = file.with_extension("snap.new");
    assert!(
        matches!(err, SnapshotMismatch::Changed { pending: Some(ref p), .. } if *p == new_file)
    );
    assert_eq!(
        snapshot::read_snapshot(&new_file).unwrap(),
        Some(second.clone())
    );
    assert_eq!(snapshot::read_snapshot(&file).unwrap(), Some(first));
    // Always overwrites and clears the pending file
    assert_eq!(
        assert_snapshot(root, "mock", case, &second, Update::Always).unwrap(),
        Stored::Updated(file.clone())
    );
    assert!(!new_file.exists());
    assert_eq!(
        assert_snapshot(root, "mock", case, &second, Update::Never).unwrap(),
        Stored::Matched
    );
}

#[test]
fn missing_snapshot_fails_only_when_writing_is_forbidden() {
    let dir = tempfile::tempdir().unwrap();
    let v = snap(&RUN_A);
    let err = assert_snapshot(dir.path(), "mock", "a/b", &v, Update::Never).unwrap_err();
    assert!(matches!(err, SnapshotMismatch::Missing { .. }), "{err}");
    assert!(!dir.path().join("mock/a/b.snap").exists());
    // the runner's one call: normalize, then check (here: create)
    let created = snapshot::check_case(
        dir.path(),
        "mock",
        "a/b",
        &outcome(&RUN_A),
        &ctx(&RUN_A),
        Update::Auto,
    );
    assert_eq!(
        created,
        Ok(Stored::Created(dir.path().join("mock/a/b.snap")))
    );
    assert_eq!(
        snapshot::read_snapshot(&dir.path().join("mock/a/b.snap")).unwrap(),
        Some(v)
    );
    assert_eq!(Update::from_parts("", true), Update::Never);
    assert_eq!(Update::from_parts("", false), Update::Auto);
    assert_eq!(Update::from_parts("auto", false), Update::Auto);
    assert_eq!(Update::from_parts("always", true), Update::Always);
    assert_eq!(Update::from_parts("1", false), Update::Always);
    assert_eq!(Update::from_parts("no", false), Update::Never);
}

#[test]
fn no_credential_reaches_a_snapshot() {
    let mut o = outcome(&RUN_A);
    o.transcript.push(ex(
        "POST",
        "https://admin:s3cret@127.0.0.1:443/json-rpc/12.5".into(),
        Some(json!({"method": "AddAccount", "params": {"username": "u", "initiatorSecret": "s3cret", "password": "[redacted]"}})),
        401,
        Body::Text {
            text: "Unauthorized. Authorization: Basic YWRtaW46czNjcmV0 Bearer abc.def-ghi rejected for [redacted]".into(),
            error: "expected value at line 1 column 1".into(),
        },
    ));
    let v = snapshot_value("element/auth", &o, &ctx(&RUN_A));
    let dir = tempfile::tempdir().unwrap();
    assert_snapshot(dir.path(), "mock", "element/auth", &v, Update::Always).unwrap();
    let file = std::fs::read_to_string(dir.path().join("mock/element/auth.snap")).unwrap();
    for secret in ["s3cret", "YWRtaW46czNjcmV0", "abc.def-ghi", "admin:"] {
        assert!(!file.contains(secret), "{secret} in snapshot:\n{file}");
    }
    assert!(file.contains("Authorization: Basic [redacted] Bearer [redacted] rejected"));
    assert!(file.contains("\"initiatorSecret\": \"[redacted]\""));
}

#[test]
fn files_are_insta_format_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let v = snap(&RUN_A);
    let case = "element/clone/poll";
    assert_snapshot(root, "mock", case, &v, Update::Always).unwrap();
    let path = snapshot::snapshot_file(root, "mock", case);
    let meta = insta::Snapshot::from_file(&path).unwrap();
    assert_eq!(
        meta.metadata().description(),
        Some("mock: element/clone/poll")
    );
    // insta's own assertion, under our settings, accepts the file we wrote
    let settings = snapshot::insta_settings(root, "mock", case);
    settings.bind(|| insta::assert_json_snapshot!(snapshot::store::snapshot_name(case), v));
    assert!(!path.with_extension("snap.new").exists());
    // and a file insta writes (pending, outside CI) reads back as the same value
    let other = "element/clone/other";
    let settings = snapshot::insta_settings(root, "mock", other);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_json_snapshot!("other", v));
    }));
    let pending = snapshot::snapshot_file(root, "mock", other).with_extension("snap.new");
    if r.is_err() && pending.exists() {
        assert_eq!(snapshot::read_snapshot(&pending).unwrap(), Some(v.clone()));
    }
}

#[test]
fn url_path_drops_scheme_host_port() {
    use snapshot::url_path;
    assert_eq!(
        url_path("https://10.0.0.1:8443/api/jobs/a%3A-b?x=1"),
        "/api/jobs/a:-b?x=1"
    );
    assert_eq!(url_path("http://h"), "/");
    assert_eq!(url_path("https://h?q=1"), "?q=1");
}

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z ]{0,6}",
        Just("2026-11-23T14:21:54Z".to_string()),
        Just("2026-11-23T14:21:54.5+02:00".to_string()),
        "[0-9a-f]{1,6}:-?[0-9a-f]{1,4}:[0-9a-f]{1,4}:-?[0-9a-f]{1,4}",
        "jobconform-[a-z0-9]{1,6}",
        "https?://[a-z0-9.]{1,8}(:[0-9]{1,5})?",
        "127\\.0\\.0\\.1:[0-9]{1,5}",
        "(Basic|Bearer) [A-Za-z0-9+/=]{0,8}",
        Just("[redacted]".to_string()),
        Just("[handle-1]".to_string()),
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[0-9a-f]{14,18}",
        "(handle|Handle)[ =:#]{0,2}[0-9]{0,8}",
        "/?asyncresults/[0-9]{0,8}",
        "\\[redacted\\]-?[a-z0-9]{0,4}",
        "[:\\-/\\[\\]0-9T.Z]{0,6}",
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..5).prop_map(|v| v.concat())
}

fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("asyncHandle"),
        Just("asyncHandles"),
        Just("asyncResultID"),
        Just("cloneID"),
        Just("volumeID"),
        Just("accountID"),
        Just("password"),
        Just("key"),
        Just("href"),
        Just("status"),
        Just("name"),
        Just("message"),
        Just("iqn"),
    ];
    let leaf = prop_oneof![
        any::<i64>().prop_map(|n| json!(n % 1000)),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..5).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #![proptest_config(seed::seeded(ProptestConfig::default()))]
    #[test]
    fn redaction_is_idempotent(v in json_value(), unknown in 0i64..1000, port in 1u16..65535) {
        let vol = Volatile {
            unknown_handles: vec![unknown],
            unknown_keys: vec!["ab:-1:2:-3".into()],
            hosts: vec![format!("127.0.0.1:{port}")],
        };
        let once = redact(&v, &vol);
        let twice = redact(&once, &vol);
        prop_assert_eq!(&once, &twice);
        let text = once.to_string();
        prop_assert!(!text.contains("2026-11-23T"), "timestamp left in {}", text);
        prop_assert!(!text.contains("jobconform-"), "scratch name left in {}", text);
    }
}

proptest! {
    #![proptest_config(seed::seeded(ProptestConfig::with_cases(64)))]
    /// Any two runs that differ only in volatile values give the same snapshot.
    #[test]
    fn snapshots_do_not_depend_on_volatile_values(
        port in 1u16..65535,
        handle in 1i64..999_000,
        clone_id in 1i64..100_000,
        volume_id in 1i64..100_000,
        key in prop_oneof![Just(RUN_A.key), Just(RUN_B.key), Just("0:0:0:0")],
        time in prop_oneof![Just(RUN_A.time), Just(RUN_B.time), Just("1999-12-31T23:59:59+01:00")],
        scratch in prop_oneof![Just(RUN_A.scratch), Just("jobconform-000000000001")],
    ) {
        let run = Run {
            port,
            handle,
            other_handle: handle + 1,
            unknown: handle + 1_000_000,
            clone_id,
            volume_id,
            key,
            time,
            scratch,
            ..RUN_B
        };
        prop_assert_eq!(snap(&run), snap(&RUN_A));
    }
}

mod against_the_mock {
    //! End to end on the embedded Element mock (paused clock, same runtime): two runs of the same
    //! transcript give the same snapshot; the doc-literal dialect differs by the error name only.

    use jobconform::mock::{self, ElementDialect, MockConfig};
    use jobconform::transport::element::{self, Call, Endpoint};
    use jobconform::transport::{Client, Credentials, Limits, Secret, TlsConfig};

    use super::*;

    async fn rpc(c: &Client, ep: &Endpoint, id: &mut i64, method: &str, params: Value) -> Exchange {
        *id += 1;
        let call = Call {
            method,
            params,
            id: json!(*id),
            auth: AuthMode::Default,
            version: None,
        };
        element::call(c, ep, call).await
    }

    /// Clone a scratch volume, poll it running then complete (invalidating), ask again, list, and
    /// ask for a handle never issued.
    async fn transcript(dialect: ElementDialect) -> CaseOutcome {
        let m = mock::spawn(MockConfig {
            element_dialect: dialect,
            clone_ms: 2_000,
            ..MockConfig::default()
        })
        .await
        .unwrap();
        let creds = Credentials {
            user: mock::DEFAULT_USER.into(),
            password: Secret::new(mock::DEFAULT_PASSWORD),
        };
        let c = Client::new(Some(creds), Limits::default(), &TlsConfig::default()).unwrap();
        let ep = Endpoint::parse(&m.urls.element).unwrap();
        let name = || format!("jobconform-{:012x}", fastrand::u64(..) & 0xffff_ffff_ffff);
        let mut id = 0;
        let mut t = Vec::new();
        t.push(rpc(&c, &ep, &mut id, "AddAccount", json!({"username": name()})).await);
        let account = t[0].json().unwrap()["result"]["accountID"].clone();
        let params = json!({"name": name(), "accountID": account, "totalSize": 1_000_000_000u64});
        t.push(rpc(&c, &ep, &mut id, "CreateVolume", params).await);
        let volume = t[1].json().unwrap()["result"]["volumeID"].clone();
        let params = json!({"volumeID": volume, "name": name()});
        t.push(rpc(&c, &ep, &mut id, "CloneVolume", params).await);
        let h = t[2].json().unwrap()["result"]["asyncHandle"]
            .as_i64()
            .unwrap();
        let gar = |keep: Option<bool>, h: i64| match keep {
            Some(k) => json!({"asyncHandle": h, "keepResult": k}),
            None => json!({"asyncHandle": h}),
        };
        t.push(rpc(&c, &ep, &mut id, "GetAsyncResult", gar(Some(true), h)).await);
        tokio::time::sleep(Duration::from_secs(3)).await;
        t.push(rpc(&c, &ep, &mut id, "GetAsyncResult", gar(None, h)).await);
        t.push(rpc(&c, &ep, &mut id, "GetAsyncResult", gar(None, h)).await);
        t.push(rpc(&c, &ep, &mut id, "ListAsyncResults", json!({})).await);
        t.push(rpc(&c, &ep, &mut id, "GetAsyncResult", gar(None, h + 1_000_000)).await);
        m.stop().await;
        CaseOutcome {
            status: Status::Ran,
            findings: vec![],
            transcript: t,
            notes: vec![],
            duration: Duration::ZERO,
            observed: Vec::new(),
            concurrent: Vec::new(),
            shared_setup: Vec::new(),
            expected: Vec::new(),
            element_dialect: None,
        }
    }

    fn value(o: &CaseOutcome) -> Value {
        let ctx = Context {
            rules: vec!["EL-KEEP-DEFAULT".into()],
            ..Context::default()
        };
        snapshot_value("element/keep-result/default-invalidates", o, &ctx)
    }

    #[tokio::test(start_paused = true)]
    async fn two_runs_give_one_snapshot_and_dialects_differ_by_error_name() {
        let a = transcript(ElementDialect::Current).await;
        let b = transcript(ElementDialect::Current).await;
        assert_ne!(
            a.transcript, b.transcript,
            "the raw runs differ (names, times, ports)"
        );
        let (va, vb) = (value(&a), value(&b));
        assert_eq!(va, vb);
        let x = &va["exchanges"];
        assert_eq!(x[3]["response"]["body"]["result"]["status"], "running");
        assert_eq!(x[4]["response"]["body"]["result"]["status"], "complete");
        assert_eq!(
            x[5]["request"]["body"]["params"]["asyncHandle"],
            "[handle-1]"
        );
        assert_eq!(
            x[5]["response"]["body"]["error"]["name"],
            "xAsyncHandleDoesNotExist"
        );
        assert_eq!(
            x[7]["request"]["body"]["params"]["asyncHandle"],
            "[unknown-handle]"
        );
        assert_eq!(
            x[2]["request"]["body"]["params"]["name"],
            "[scratch-name-3]"
        );
        let text = va.to_string();
        assert!(!text.contains(mock::DEFAULT_PASSWORD), "{text}");
        let lit = value(&transcript(ElementDialect::DocLiteral).await);
        let pointer = jobconform::snapshot::store::first_difference(&va, &lit);
        // E1: the dialects differ in the unknown-handle error (its name, and the message with it)
        assert!(
            pointer.starts_with("/exchanges/5/response/body/error/"),
            "{pointer}"
        );
        assert_eq!(
            lit["exchanges"][5]["response"]["body"]["error"]["name"],
            "xDBNoSuchPath"
        );
        assert_eq!(va["error_names"], json!(["xAsyncHandleDoesNotExist"]));
        assert_eq!(lit["error_names"], json!(["xDBNoSuchPath"]));

        // the two labels, stored and compared as `jobconform diff mock mock-doc-literal` would
        let dir = tempfile::tempdir().unwrap();
        let keep = std::env::var_os("SNAP_OUT").map(std::path::PathBuf::from);
        let root = keep.as_deref().unwrap_or(dir.path());
        let case = "element/keep-result/default-invalidates";
        assert_snapshot(root, "mock", case, &va, Update::Always).unwrap();
        assert_snapshot(root, "mock-doc-literal", case, &lit, Update::Always).unwrap();
        let a = jobconform::diff::SnapshotSet::load(root, "mock").unwrap();
        let b = jobconform::diff::SnapshotSet::load(root, "mock-doc-literal").unwrap();
        let md = jobconform::diff::compare(&a, &b).to_markdown();
        let line = "- `POST /json-rpc/12.5 GetAsyncResult` `/error/name`: error name removed \
                    `xAsyncHandleDoesNotExist`";
        assert!(md.contains(line), "{md}");
    }
}

mod against_the_aiqum_mock {
    //! End to end on the embedded AIQUM mock (paused clock): create a LUN (202 + job), read the
    //! job running and finished, list jobs, read a key never issued. Two runs give one snapshot
    //! (while another "case" adds jobs in between); the literal dialect changes the job's shape.

    use jobconform::mock::{self, AiqumDialect, MockConfig};
    use jobconform::transport::aiqum::{self, Endpoint, Request};
    use jobconform::transport::{Client, Credentials, Limits, Query, Secret, TlsConfig};

    use super::*;

    async fn get(c: &Client, ep: &Endpoint, path: &str) -> Exchange {
        aiqum::request(c, ep, Request::get(path)).await
    }

    async fn lun(c: &Client, ep: &Endpoint) -> Exchange {
        let name = format!("jobconform-{:012x}", fastrand::u64(..) & 0xffff_ffff_ffff);
        let body = json!({"name": name, "space": {"size": 1_048_576}, "svm": {"key": "svm-1"}});
        let r = Request {
            method: reqwest::Method::POST,
            path: "/storage-provider/luns",
            query: Query::new(),
            body: Some(body),
            auth: AuthMode::Default,
            extra_wait: Duration::ZERO,
        };
        aiqum::request(c, ep, r).await
    }

    async fn transcript(dialect: AiqumDialect, others: usize) -> CaseOutcome {
        let m = mock::spawn(MockConfig {
            aiqum_dialect: dialect,
            aiqum_job_ms: 2_000,
            ..MockConfig::default()
        })
        .await
        .unwrap();
        let creds = Credentials {
            user: mock::DEFAULT_USER.into(),
            password: Secret::new(mock::DEFAULT_PASSWORD),
        };
        let c = Client::new(Some(creds), Limits::default(), &TlsConfig::default()).unwrap();
        let ep = Endpoint::parse(&m.urls.aiqum).unwrap();
        let mut t = vec![lun(&c, &ep).await];
        let key = t[0].json().unwrap()["job"]["key"]
            .as_str()
            .unwrap()
            .to_string();
        let job = format!("/management-server/jobs/{}", key.replace(':', "%3A"));
        t.push(get(&c, &ep, &job).await);
        for _ in 0..others {
            lun(&c, &ep).await; // another case's job, not in this transcript
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
        t.push(get(&c, &ep, &job).await);
        t.push(get(&c, &ep, "/management-server/jobs").await);
        t.push(get(&c, &ep, "/management-server/jobs/0123abcd:-1:ff:-2").await);
        m.stop().await;
        CaseOutcome {
            status: Status::Ran,
            findings: vec![],
            transcript: t,
            notes: vec![],
            duration: Duration::ZERO,
            observed: Vec::new(),
            concurrent: Vec::new(),
            shared_setup: Vec::new(),
            expected: Vec::new(),
            element_dialect: None,
        }
    }

    fn value(o: &CaseOutcome) -> Value {
        snapshot_value("aiqum/job/lifecycle", o, &Context::default())
    }

    #[tokio::test(start_paused = true)]
    async fn two_runs_give_one_snapshot_and_dialects_differ_in_shape() {
        let a = value(&transcript(AiqumDialect::Split, 0).await);
        let b = value(&transcript(AiqumDialect::Split, 3).await);
        assert_eq!(a, b);
        let x = &a["exchanges"];
        assert_eq!(x[0]["response"]["status"], 202);
        assert_eq!(x[0]["response"]["body"]["job"]["key"], "[job-key-1]");
        assert_eq!(
            x[1]["request"]["path"],
            "/api/management-server/jobs/[job-key-1]"
        );
        assert_eq!(x[3]["response"]["body"]["records"][0]["key"], "[job-key-1]");
        assert_eq!(
            x[3]["response"]["body"]["records"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            x[4]["request"]["path"],
            "/api/management-server/jobs/[unknown-key]"
        );
        assert_eq!(x[4]["response"]["status"], 404);
        let text = a.to_string();
        assert!(!text.contains("jobconform-"), "{text}");
        assert!(!text.contains("T0") && !text.contains(":-"), "{text}");

        let lit = value(&transcript(AiqumDialect::Literal, 0).await);
        if let Some(out) = std::env::var_os("SNAP_OUT") {
            let out = std::path::Path::new(&out);
            assert_snapshot(out, "mock", "aiqum/job/lifecycle", &a, Update::Always).unwrap();
            let label = "mock-aiqum-literal";
            assert_snapshot(out, label, "aiqum/job/lifecycle", &lit, Update::Always).unwrap();
        }
        let sa = jobconform::diff::CaseRecord::from_value(a).shape;
        let sl = jobconform::diff::CaseRecord::from_value(lit).shape;
        let changes = jobconform::diff::model::shape_changes(&sa, &sl);
        let sig = "GET /api/management-server/jobs/[job-key]";
        assert!(
            changes.iter().any(|c| c.request == sig
                && c.pointer == "/status"
                && c.kind == ChangeKind::MemberRemoved),
            "{changes:#?}"
        );
    }
}

#[test]
fn a_job_read_from_a_list_is_reduced_to_its_key_whatever_its_state() {
    let other = "dd:-4:5:-6";
    let job = |state: &str| json!({"key": other, "state": state, "status": "normal"});
    let transcript = |state: &str| {
        vec![
            ex(
                "GET",
                "https://127.0.0.1:1/api/management-server/jobs?max_records=1".into(),
                None,
                200,
                Body::Json(json!({"records": [job(state)], "num_records": 1})),
            ),
            ex(
                "GET",
                format!("https://127.0.0.1:1/api/management-server/jobs/{other}"),
                None,
                200,
                Body::Json(job(state)),
            ),
        ]
    };
    let mut o = outcome(&RUN_A);
    o.transcript = transcript("running");
    let running = snapshot_value("aiqum/newest", &o, &Context::default());
    o.transcript = transcript("completed");
    let completed = snapshot_value("aiqum/newest", &o, &Context::default());
    assert_eq!(running, completed);
    let borrowed = json!({"key": "[job-key-1]", "borrowed": "[another job]"});
    assert_eq!(
        running["exchanges"][0]["response"]["body"]["records"],
        json!([borrowed])
    );
    assert_eq!(running["exchanges"][1]["response"]["body"], borrowed);
}

#[test]
fn a_concurrent_group_is_sorted_and_shared_setup_left_out() {
    let rpc = |id: i64, answer: Value| {
        ex(
            "POST",
            "https://127.0.0.1:1/json-rpc/12.5".into(),
            Some(json!({"id": id, "method": "GetAsyncResult", "params": {"asyncHandle": 7}})),
            200,
            Body::Json(answer),
        )
    };
    let result = |id: i64| rpc(id, json!({"id": id, "result": {"status": "complete"}}));
    let error = |id: i64| {
        rpc(
            id,
            json!({"id": id, "error": {"name": "xAsyncHandleDoesNotExist"}}),
        )
    };
    let account = ex(
        "POST",
        "https://127.0.0.1:1/json-rpc/12.5".into(),
        Some(json!({"id": 1, "method": "AddAccount", "params": {"username": "jobconform-x1"}})),
        200,
        Body::Json(json!({"id": 1, "result": {"accountID": 3}})),
    );
    let mut o = outcome(&RUN_A);
    o.concurrent.push(0..3);
    o.transcript = vec![error(2), result(3), error(4)];
    let first = snapshot_value("element/once", &o, &Context::default());
    o.transcript = vec![result(2), error(3), error(4), account];
    o.shared_setup.push(3..4);
    let second = snapshot_value("element/once", &o, &Context::default());
    assert_eq!(first, second);
    let answers: Vec<bool> = first["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["response"]["body"].get("error").is_some())
        .collect();
    assert_eq!(
        answers.iter().filter(|e| **e).count(),
        2,
        "every answer stays"
    );
    assert_eq!(answers.len(), 3);
}
