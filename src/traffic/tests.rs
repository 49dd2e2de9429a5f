//! Teeth of the traffic judge on hand-built traffic: for each rule judged from sequences or single
//! exchanges, a sequence that keeps it (pass) and one that breaks it (exactly that rule fails),
//! "not observed" when nothing put a rule at stake, and the recording's round trip.

use serde_json::{Value, json};

use super::verdict::{self, Config};
use super::{Observed, Traffic, record};
use crate::report::Verdict;
use crate::report::json::SourceKind;
use crate::transport::{AuthMode, Body, Exchange, RequestRecord, ResponseRecord};

const EL: &str = "https://10.0.0.1/json-rpc/12.5";
const UM: &str = "https://um.example.com/api";

fn ex(
    t: u64,
    method: &str,
    url: &str,
    body: Option<Value>,
    status: u16,
    answer: Value,
) -> Observed {
    Observed {
        seq: t,
        at_ms: 1_000_000 + t * 1000,
        client: "c".into(),
        exchange: Exchange {
            request: RequestRecord {
                method: method.into(),
                url: url.into(),
                auth: AuthMode::Default,
                body,
            },
            response: Ok(ResponseRecord {
                status,
                content_type: Some("application/json".into()),
                body: Body::Json(answer),
                elapsed_ms: 5,
            }),
        },
    }
}

fn rpc(t: u64, method: &str, params: Value, answer: Value) -> Observed {
    let id = json!(t);
    let mut body = answer;
    body["id"] = id.clone();
    ex(
        t,
        "POST",
        EL,
        Some(json!({"method": method, "params": params, "id": id})),
        200,
        body,
    )
}

fn nested(status: &str) -> Value {
    let mut r = json!({"status": status, "resultType": "Clone", "createTime": "2026-01-01T00:00:00Z", "lastUpdateTime": "2026-01-01T00:00:01Z"});
    if status == "running" {
        r["details"] = json!({"percentComplete": 10});
    } else {
        r["result"] = json!({"cloneID": 3, "volumeID": 4});
    }
    json!({"result": r})
}

fn gone() -> Value {
    json!({"error": {"code": 500, "name": "xAsyncHandleDoesNotExist", "message": "gone"}})
}

fn gar(t: u64, keep: Option<bool>, answer: Value) -> Observed {
    let params = match keep {
        Some(k) => json!({"asyncHandle": 7, "keepResult": k}),
        None => json!({"asyncHandle": 7}),
    };
    rpc(t, "GetAsyncResult", params, answer)
}

/// A request to AIQUM job `k` (`/management-server/jobs/k`) and its answer.
fn on_job(t: u64, method: &str, status: u16, answer: Value) -> Observed {
    ex(
        t,
        method,
        &format!("{UM}/management-server/jobs/k"),
        None,
        status,
        answer,
    )
}

fn outcome(exchanges: Vec<Observed>, name: &str) -> Verdict {
    let t = Traffic {
        exchanges,
        ..Traffic::default()
    };
    let v = verdict::judge(&t, &Config::default(), SourceKind::Recording, "test");
    v.records
        .iter()
        .find(|r| r.name == name)
        .map(|r| r.outcome)
        .unwrap_or_else(|| panic!("no record {name}"))
}

fn failing(exchanges: Vec<Observed>) -> Vec<String> {
    let t = Traffic {
        exchanges,
        ..Traffic::default()
    };
    let v = verdict::judge(&t, &Config::default(), SourceKind::Recording, "test");
    let mut r: Vec<String> = v
        .records
        .iter()
        .filter(|r| !r.findings.is_empty() && r.name.starts_with("server/"))
        .flat_map(|r| r.rules.clone())
        .collect();
    r.sort();
    r
}

#[test]
fn keep_rules_pass_and_fail_on_exactly_their_rule() {
    // keepResult: true keeps; a purge is EL-KEEP-TRUE.
    let kept = vec![
        gar(0, Some(true), nested("complete")),
        gar(1, Some(true), nested("complete")),
    ];
    assert_eq!(outcome(kept, "server/EL-KEEP-TRUE"), Verdict::Pass);
    assert_eq!(
        failing(vec![
            gar(0, Some(true), nested("complete")),
            gar(1, Some(true), gone())
        ]),
        ["EL-KEEP-TRUE"]
    );
    // Without keepResult (or false) the next fetch is gone.
    assert_eq!(
        outcome(
            vec![gar(0, None, nested("complete")), gar(1, None, gone())],
            "server/EL-KEEP-DEFAULT"
        ),
        Verdict::Pass
    );
    assert_eq!(
        failing(vec![
            gar(0, None, nested("complete")),
            gar(1, None, nested("complete"))
        ]),
        ["EL-KEEP-DEFAULT"]
    );
    assert_eq!(
        failing(vec![
            gar(0, Some(false), nested("complete")),
            gar(1, None, nested("complete"))
        ]),
        ["EL-KEEP-FALSE"]
    );
    // A running answer keeps the handle.
    assert_eq!(
        failing(vec![gar(0, None, nested("running")), gar(1, None, gone())]),
        ["EL-KEEP-RUNNING"]
    );
    assert_eq!(
        outcome(
            vec![
                gar(0, None, nested("running")),
                gar(1, None, nested("running"))
            ],
            "server/EL-KEEP-RUNNING"
        ),
        Verdict::Pass
    );
    // A call failing on a bad parameter invalidates nothing.
    let bad = rpc(
        1,
        "GetAsyncResult",
        json!({"asyncHandle": "7"}),
        json!({"error": {"code": 500, "name": "xInvalidParameterType", "message": "m"}}),
    );
    assert_eq!(
        failing(vec![
            gar(0, Some(true), nested("running")),
            bad.clone(),
            gar(2, Some(true), gone())
        ]),
        ["EL-KEEP-FAILED-CALL"]
    );
    // A listing invalidates nothing.
    let list = rpc(
        1,
        "ListAsyncResults",
        json!({}),
        json!({"result": {"asyncHandles": [{"asyncResultID": 7, "completed": true, "createTime": "2026-01-01T00:00:00Z", "lastUpdateTime": "2026-01-01T00:00:01Z", "resultType": "Clone", "success": true, "data": {}}]}}),
    );
    assert_eq!(
        failing(vec![
            gar(0, Some(true), nested("complete")),
            list,
            gar(2, Some(true), gone())
        ]),
        ["EL-LIST-NO-PURGE"]
    );
    // No second fetch: not observed.
    assert_eq!(
        outcome(
            vec![gar(0, None, nested("complete"))],
            "server/EL-KEEP-DEFAULT"
        ),
        Verdict::Skipped
    );
}

#[test]
fn concurrent_fetches_judge_keep_once_only() {
    let mut a = gar(0, None, nested("complete"));
    let mut b = gar(1, None, nested("complete"));
    a.exchange.response.as_mut().expect("ok").elapsed_ms = 80;
    b.at_ms = a.at_ms + 10;
    assert_eq!(failing(vec![a.clone(), b]), ["EL-KEEP-ONCE"]);
    let mut c = gar(1, None, gone());
    c.at_ms = a.at_ms + 10;
    assert_eq!(outcome(vec![a, c], "server/EL-KEEP-ONCE"), Verdict::Pass);
}

#[test]
fn handles_and_clones() {
    let start = |t: u64| {
        rpc(
            t,
            "CloneVolume",
            json!({"volumeID": 1, "name": "x"}),
            json!({"result": {"asyncHandle": 7, "cloneID": 3, "volumeID": 4}}),
        )
    };
    assert_eq!(
        failing(vec![
            start(0),
            gar(1, Some(true), nested("running")),
            start(2)
        ]),
        ["EL-HANDLE-UNIQUE"]
    );
    let mut wrong = nested("complete");
    wrong["result"]["result"]["cloneID"] = json!(1003);
    assert_eq!(
        failing(vec![start(0), gar(1, Some(true), wrong)]),
        ["EL-CLONE-START"]
    );
    assert_eq!(
        outcome(
            vec![start(0), gar(1, Some(true), nested("complete"))],
            "server/EL-CLONE-START"
        ),
        Verdict::Pass
    );
}

#[test]
fn single_exchange_rules() {
    let mut anonymous = gar(0, None, nested("running"));
    anonymous.exchange.request.auth = AuthMode::None;
    assert_eq!(failing(vec![anonymous]), ["EL-RPC-AUTH"]);
    let mut e500 = gar(0, None, gone());
    e500.exchange.response.as_mut().expect("ok").status = 500;
    assert_eq!(failing(vec![e500]), ["EL-RPC-ERROR-HTTP"]);
    let accept = |status: u16, body: Value| {
        ex(
            0,
            "POST",
            &format!("{UM}/storage-provider/luns"),
            Some(json!({})),
            status,
            body,
        )
    };
    assert_eq!(
        failing(vec![accept(200, json!({"job": {"key": "k"}}))]),
        ["UM-ACCEPT-202"]
    );
    assert_eq!(
        failing(vec![accept(
            202,
            json!({"job": {"key": "k", "_links": {"self": {"href": "/api/management-server/jobs/other"}}}})
        )]),
        ["UM-ACCEPT-LINK"]
    );
    let read = on_job(
        1,
        "GET",
        404,
        json!({"error": {"message": "no", "code": "404"}}),
    );
    assert_eq!(
        failing(vec![accept(202, json!({"job": {"key": "k"}})), read]),
        ["UM-ACCEPT-READABLE"]
    );
    let delete = on_job(0, "DELETE", 204, Value::Null);
    assert_eq!(failing(vec![delete]), ["UM-JOBS-READONLY"]);
}

#[test]
fn transport_faults_and_foreign_paths_are_no_findings() {
    let mut fault = gar(0, None, nested("running"));
    fault.exchange.response = Err(crate::transport::TransportError::Connect("refused".into()));
    let other = ex(
        1,
        "GET",
        "https://10.0.0.1/favicon.ico",
        None,
        200,
        json!({}),
    );
    let t = Traffic {
        exchanges: vec![fault, other],
        ..Traffic::default()
    };
    let v = verdict::judge(&t, &Config::default(), SourceKind::Proxy, "p");
    assert_eq!(v.source.transport_faults, 1);
    assert_eq!(v.source.unparsed.len(), 1, "{:?}", v.source.unparsed);
    assert!(v.records.iter().all(|r| r.findings.is_empty()));
    assert_eq!(verdict::exit_code(&v), 2, "nothing observed");
}

#[test]
fn a_recording_reads_back_as_written() {
    let dir = std::env::temp_dir().join(format!("jc-traffic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("r.jsonl");
    let _ = std::fs::remove_file(&path);
    let header = record::Header {
        jobconform_recording: record::FORMAT,
        started: jiff::Timestamp::UNIX_EPOCH,
        element: Some(EL.into()),
        aiqum: None,
    };
    let mut r = record::Recorder::open(&path, &header).expect("open");
    let written = vec![
        gar(0, Some(true), nested("running")),
        gar(1, None, nested("complete")),
    ];
    for o in &written {
        r.append(o).expect("append");
    }
    let (kind, t) = record::read(&path).expect("read");
    assert_eq!(kind, record::FileKind::Recording);
    assert_eq!(t.exchanges, written);
    assert_eq!(t.element.as_deref(), Some(EL));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn long_polling_is_judged_once_the_target_is_seen_holding_one() {
    let job = json!({"key": "k", "state": "running", "status": "normal", "submit_time": "2026-01-01T00:00:00Z", "_links": {"self": {"href": "/api/management-server/jobs/k"}}});
    let read = |t: u64, client: &str, long: bool, elapsed: u64| {
        let q = if long { "?poll_timeout=1" } else { "" };
        let mut o = ex(
            t,
            "GET",
            &format!("{UM}/management-server/jobs/k{q}"),
            None,
            200,
            job.clone(),
        );
        o.client = client.into();
        o.exchange.response.as_mut().expect("ok").elapsed_ms = elapsed;
        o
    };
    let clients = |exchanges: Vec<Observed>| {
        let t = Traffic {
            exchanges,
            ..Traffic::default()
        };
        let v = verdict::judge(&t, &Config::default(), SourceKind::Proxy, "p");
        let of = |name: &str| v.records.iter().find(|r| r.name == name).map(|r| r.outcome);
        (of("client/a/CL-LONG-POLL"), of("client/b/CL-LONG-POLL"))
    };
    let held = vec![
        read(0, "a", true, 950),
        read(2, "a", true, 950),
        read(4, "b", false, 3),
        read(6, "b", false, 3),
    ];
    assert_eq!(clients(held), (Some(Verdict::Pass), Some(Verdict::Warn)));
    // A long poll answered at once shows nothing about the target: not observed.
    let early = vec![
        read(0, "a", true, 5),
        read(2, "a", true, 5),
        read(4, "b", false, 3),
        read(6, "b", false, 3),
    ];
    assert_eq!(
        clients(early),
        (Some(Verdict::Skipped), Some(Verdict::Skipped))
    );
}

#[test]
fn a_job_read_before_that_answers_404_fails_um_key_retained() {
    let read = |t: u64, status: u16, answer: Value| on_job(t, "GET", status, answer);
    let job = |state: &str, status: &str| {
        let mut j = json!({"key": "k", "state": state, "status": status,
               "submit_time": "2026-01-01T00:00:00Z",
               "_links": {"self": {"href": "/api/management-server/jobs/k"}}});
        if state == "COMPLETED" {
            j["complete_time"] = json!("2026-01-01T00:00:05Z");
        }
        j
    };
    let missing = json!({"error": {"message": "job not found", "code": "404"}});
    // Read running, then gone: the job was not kept.
    assert_eq!(
        failing(vec![
            read(0, 200, job("RUNNING", "NORMAL")),
            read(1, 404, missing.clone())
        ]),
        ["UM-KEY-RETAINED"]
    );
    // Read finished, and again later: kept.
    let kept = vec![
        read(0, 200, job("COMPLETED", "NORMAL")),
        read(1, 200, job("COMPLETED", "NORMAL")),
    ];
    assert_eq!(outcome(kept, "server/UM-KEY-RETAINED"), Verdict::Pass);
    // Never read before: a 404 is not this rule's (nothing at stake).
    assert_eq!(
        outcome(
            vec![read(0, 404, missing.clone())],
            "server/UM-KEY-RETAINED"
        ),
        Verdict::Skipped
    );
    // A DELETE the server took came between: UM-JOBS-READONLY's finding, not this rule's.
    let delete = on_job(1, "DELETE", 204, Value::Null);
    assert_eq!(
        failing(vec![
            read(0, 200, job("COMPLETED", "NORMAL")),
            delete,
            read(2, 404, missing)
        ]),
        ["UM-JOBS-READONLY"]
    );
}
