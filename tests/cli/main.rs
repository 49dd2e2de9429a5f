//! The `jobconform` binary end to end: listings, `serve` (plain and TLS, stops on SIGTERM),
//! `run` against the embedded mock and against a separately started `serve` (read-only, with
//! mutations and cleanup checked through the control API, interrupted mid-poll), every exit code,
//! the JSON report against its schema, JUnit well-formedness, and that the password given through
//! its variable appears nowhere; on a pseudo-terminal (`tty.rs`), the password prompt and the
//! progress line. Every server is started here on 127.0.0.1 port 0.

mod run;
mod support;
mod tty;

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use support::*;

#[test]
fn deviations_lists_the_registry() {
    let o = jobconform(&["deviations", "--format", "json"])
        .output()
        .expect("run");
    assert!(o.status.success());
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let names: Vec<&str> = v
        .as_array()
        .expect("array")
        .iter()
        .map(|d| d["name"].as_str().expect("name"))
        .collect();
    let expected: Vec<&str> = jobconform::mock::deviation::ALL
        .iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, expected);
    let o = jobconform(&["deviations", "--format", "markdown"])
        .output()
        .expect("run");
    assert_eq!(text(&o).0, jobconform::mock::deviation::markdown_table());
    let o = jobconform(&["deviations"]).output().expect("run");
    let (out, _) = text(&o);
    assert_eq!(out.lines().count(), expected.len());
    assert!(
        out.lines()
            .any(|l| l.starts_with("purge-despite-keep") && l.contains("EL-KEEP-TRUE"))
    );
}

#[test]
fn rules_coverage_says_what_a_live_target_judges_and_why_not() {
    let o = jobconform(&["rules", "--coverage", "--format", "json"])
        .output()
        .expect("run");
    assert!(o.status.success(), "{:?}", text(&o));
    let rows: Vec<Value> = serde_json::from_slice(&o.stdout).expect("JSON");
    let row = |id: &str| {
        rows.iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("{id} missing"))
            .clone()
    };
    assert_eq!(row("EL-KEEP-RUNNING")["live"], "mutations");
    assert_eq!(row("UM-FAILED-IS-200")["live"], "failing-call");
    assert_eq!(row("EL-RPC-AUTH")["live"], "read-only");
    assert_eq!(row("UM-WARNING")["live"], Value::Null);
    assert!(row("UM-WARNING")["why_not"].is_string());
    let o = jobconform(&["rules", "--coverage", "--cases", "/nonexistent"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
}

#[test]
fn rules_lists_the_contract() {
    let o = jobconform(&["rules", "--format", "json"])
        .output()
        .expect("run");
    assert!(o.status.success(), "{:?}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let rules = v["rules"].as_array().expect("rules array");
    assert!(
        v["register"]
            .as_array()
            .is_some_and(|r| r.iter().any(|e| e["id"] == "E1"))
    );
    assert_eq!(rules.len(), jobconform::contract::rules().len());
    assert!(
        rules
            .iter()
            .any(|r| r["id"] == "EL-KEEP-TRUE" && r["level"] == "MUST")
    );
    assert!(
        rules
            .iter()
            .any(|r| r["id"] == "EL-GAR-DETAILS" && r["level"] == "SHOULD")
    );
    let o = jobconform(&["rules"]).output().expect("run");
    let (out, _) = text(&o);
    assert!(
        out.lines()
            .any(|l| l.starts_with("EL-KEEP-TRUE") && l.contains("MUST"))
    );
}

#[test]
fn help_documents_the_exit_codes() {
    let o = jobconform(&["run", "--help"]).output().expect("run");
    let (out, _) = text(&o);
    for code in ["0 ", "1 ", "2 ", "3 ", "130"] {
        assert!(
            out.contains(&format!("\n  {code}")),
            "exit code {code} missing from run --help"
        );
    }
}

#[test]
fn serve_answers_getapi_and_stops_on_sigterm() {
    let s = Served::start(&[]);
    assert!(s.url("element").starts_with("http://127.0.0.1:"));
    assert!(s.urls.get("ca_cert").is_none());
    let (status, body) = http(
        "POST",
        &s.url("element"),
        Some(json!({"method": "GetAPI", "params": {}, "id": 1})),
        SECRET,
        None,
    );
    assert_eq!(status, 200);
    let body = body.expect("JSON");
    assert_eq!(body["id"], 1);
    assert!(body["result"]["supportedVersions"].is_array(), "{body}");
    let (status, _) = http(
        "POST",
        &s.url("element"),
        Some(json!({"method": "GetAPI", "params": {}, "id": 2})),
        "wrong",
        None,
    );
    assert_eq!(status, 401);
    assert!(s.stop().success(), "serve exits 0 on SIGTERM");
}

#[test]
fn serve_tls_uses_the_printed_certificate() {
    let s = Served::start(&["--tls"]);
    let ca = s.url("ca_cert");
    assert!(s.url("element").starts_with("https://127.0.0.1:"));
    let element = s.url("element").replace("127.0.0.1", "localhost");
    let (status, body) = http(
        "POST",
        &element,
        Some(json!({"method": "GetAPI", "params": {}, "id": 7})),
        SECRET,
        Some(&ca),
    );
    assert_eq!(status, 200);
    assert_eq!(body.expect("JSON")["id"], 7);
    // The client audit tells clients apart by address over TLS as over HTTP.
    let (status, _) = http(
        "POST",
        &element,
        Some(json!({"method": "ListAsyncResults", "params": {}, "id": 8})),
        SECRET,
        Some(&ca),
    );
    assert_eq!(status, 200);
    let control = s.url("control").replace("127.0.0.1", "localhost");
    let (status, journal) = http(
        "GET",
        &format!("{control}/journal"),
        None,
        SECRET,
        Some(&ca),
    );
    assert_eq!(status, 200);
    let journal = journal.expect("JSON");
    let clients: Vec<&Value> = journal
        .as_array()
        .expect("a list")
        .iter()
        .map(|e| &e["client"])
        .collect();
    assert!(
        !clients.is_empty() && clients.iter().all(|c| *c == "127.0.0.1"),
        "journal clients over TLS: {clients:?}"
    );
    assert!(s.stop().success());
    assert!(
        !Path::new(&ca).exists(),
        "the certificate file is removed at shutdown"
    );
}

#[test]
fn serve_refuses_an_unknown_deviation_with_exit_2() {
    let o = jobconform(&["serve", "--deviation", "no-such-deviation"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    let (_, err) = text(&o);
    assert!(
        err.contains("no-such-deviation") && err.contains("purge-despite-keep"),
        "{err}"
    );
}

fn scripted_element_job(s: &Served) -> i64 {
    let (status, body) = http(
        "POST",
        &format!("{}/element/jobs", s.url("control")),
        Some(json!({"steps": [{"ms": 60000}], "outcome": "success"})),
        SECRET,
        None,
    );
    assert!((200..300).contains(&status), "scripted job: {status}");
    body.expect("JSON")["asyncHandle"]
        .as_i64()
        .expect("asyncHandle")
}

fn poll_once(s: &Served, handle: i64) {
    let (status, _) = http(
        "POST",
        &s.url("element"),
        Some(
            json!({"method": "GetAsyncResult", "params": {"asyncHandle": handle, "keepResult": true}, "id": 1}),
        ),
        SECRET,
        None,
    );
    assert_eq!(status, 200);
}

#[test]
fn serve_audit_exits_1_when_a_client_hammers() {
    let s = Served::start(&["--time-scale", "50", "--audit"]);
    let h = scripted_element_job(&s);
    for _ in 0..4 {
        poll_once(&s, h);
    }
    let (status, err) = s.stop_with_stderr();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("CL-NO-HAMMER"), "{err}");
}

#[test]
fn serve_audit_exits_0_for_a_polite_client() {
    let s = Served::start(&["--time-scale", "50", "--audit"]);
    let h = scripted_element_job(&s);
    poll_once(&s, h);
    // 100 ms real is 5 s of target time at scale 50: far above the 500 ms minimum.
    std::thread::sleep(Duration::from_millis(100));
    poll_once(&s, h);
    assert!(s.stop().success(), "a polite client passes the audit");
}

#[test]
fn serve_faults_break_requests_before_they_are_processed() {
    use jobconform::transport::{
        AuthMode, Client, Credentials, Limits, Secret, SendBody, TlsConfig,
    };
    let s = Served::start(&["--time-scale", "50", "--faults", "1", "--faults-seed", "7"]);
    let creds = Credentials {
        user: "admin".into(),
        password: Secret::new(SECRET),
    };
    let client =
        Client::new(Some(creds), Limits::default(), &TlsConfig::default()).expect("client");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut faulted = 0;
    for id in 0..12 {
        let body = json!({"method": "GetAPI", "params": {}, "id": id});
        let x = rt.block_on(client.send(
            reqwest::Method::POST,
            &s.url("element"),
            Some(SendBody::Json(body)),
            AuthMode::Default,
            Duration::ZERO,
        ));
        let normal = x.status() == Some(200) && x.json().is_some_and(|b| b.get("result").is_some());
        if !normal {
            faulted += 1;
        }
    }
    assert!(faulted > 0, "--faults 1 faulted nothing");
    let o = jobconform(&["serve", "--faults", "1.5"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
}
