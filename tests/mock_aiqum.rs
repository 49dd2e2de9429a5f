//! The mock's AIQUM half over real HTTP on loopback, in virtual time (the mock and the client run
//! on one paused current-thread runtime, so target time equals virtual time). Covers: every AIQUM
//! rule of CONTRACT.md section 4 with no deviation in both dialects (an audit that returns the set
//! of rules it saw broken), each AIQUM deviation breaking exactly its rules, provisioning and
//! validation, dialect values, the list (never stale: `list_memo.rs`; its query forms:
//! `list_query.rs`), long polling, the control
//! route, the journal and the state summary. It must not sleep in real time or reach beyond
//! 127.0.0.1.

use std::collections::BTreeSet;

use jobconform::mock::{self, AiqumDialect, MockConfig};
use reqwest::Method;
use rstest::rstest;
use serde_json::{Value, json};
use tokio::time::{Duration, sleep};

#[path = "mock_aiqum/audit.rs"]
mod audit;
#[path = "mock_aiqum/list_memo.rs"]
mod list_memo;
#[path = "mock_aiqum/list_query.rs"]
mod list_query;
#[path = "mock_aiqum/support.rs"]
mod support;

use audit::{audit, keys};
use support::*;
#[rstest]
#[case::split(AiqumDialect::Split)]
#[case::literal(AiqumDialect::Literal)]
#[tokio::test(start_paused = true)]
async fn every_aiqum_rule_holds_without_deviation(#[case] dialect: AiqumDialect) {
    let broken = audit(cfg(dialect, &[])).await;
    assert!(broken.is_empty(), "rules broken: {broken:?}");
}

/// Every AIQUM deviation of the registry (checked against it below).
const AIQUM_DEVIATIONS: &[&str] = &[
    "aiqum-no-auth",
    "jobs-text-plain",
    "errors-html",
    "accept-200",
    "accept-no-key",
    "accept-link-wrong-key",
    "accept-404-window",
    "job-without-links",
    "status-success",
    "complete-before-submit",
    "job-never-ends",
    "terminal-flaps",
    "state-backwards",
    "warning-terminal",
    "failed-job-500",
    "no-job-results",
    "standard-poll-blocks",
    "long-poll-early",
    "long-poll-overstays",
    "unknown-key-500",
    "keys-need-escaping",
    "forget-finished",
    "jobs-writable",
    "list-num-records-wrong",
    "list-oldest-first",
    "list-default-all",
    "pages-overlap",
    "list-ignores-filters",
];

#[test]
fn the_table_lists_every_aiqum_deviation() {
    let registry: Vec<&str> = mock::deviation::ALL
        .iter()
        .filter(|d| d.rules.iter().all(|r| r.starts_with("UM-")))
        .map(|d| d.name)
        .collect();
    assert_eq!(registry, AIQUM_DEVIATIONS);
}

#[rstest]
#[tokio::test(start_paused = true)]
async fn each_deviation_breaks_exactly_its_rules(
    #[values(
        "aiqum-no-auth",
        "jobs-text-plain",
        "errors-html",
        "accept-200",
        "accept-no-key",
        "accept-link-wrong-key",
        "accept-404-window",
        "job-without-links",
        "status-success",
        "complete-before-submit",
        "job-never-ends",
        "terminal-flaps",
        "state-backwards",
        "warning-terminal",
        "failed-job-500",
        "no-job-results",
        "standard-poll-blocks",
        "long-poll-early",
        "long-poll-overstays",
        "unknown-key-500",
        "keys-need-escaping",
        "forget-finished",
        "jobs-writable",
        "list-num-records-wrong",
        "list-oldest-first",
        "list-default-all",
        "pages-overlap",
        "list-ignores-filters"
    )]
    name: &'static str,
) {
    let d = mock::deviation::find(name).expect("registered");
    let want: BTreeSet<&str> = d.rules.iter().copied().collect();
    let broken = audit(cfg(AiqumDialect::Split, &[d.name])).await;
    assert_eq!(broken, want, "deviation {name}");
}

// ---- Provisioning and validation ----

#[rstest]
#[tokio::test(start_paused = true)]
async fn a_lun_is_created_changed_and_deleted_through_jobs(
    #[values("/api", "/api/v2")] prefix: &str,
    #[values(AiqumDialect::Split, AiqumDialect::Literal)] dialect: AiqumDialect,
) {
    let m = M::start(cfg(dialect, &[])).await;
    let acc = m.lun(prefix).await;
    assert_eq!(acc.status, 202);
    assert!(acc.ct.starts_with("application/json"));
    let key = acc.j()["job"]["key"].as_str().expect("job.key").to_string();
    assert!(is_key(&key), "{key}");
    let href = format!("{prefix}/management-server/jobs/{key}");
    assert_eq!(acc.j()["job"]["_links"]["self"]["href"], json!(href));
    let job = m.get(&href).await;
    assert_eq!(job.status, 200);
    assert_eq!(job.j()["_links"]["self"]["href"], json!(href));
    assert_eq!(job.j()["name"], json!("Create LUN"));
    assert!(!terminal(job.j()));
    assert!(job.j().get("complete_time").is_none());
    sleep(Duration::from_millis(3_001)).await;
    let done = m.get(&href).await.j().clone();
    assert!(terminal(&done), "{done}");
    assert_eq!(outcome(&done), "normal");
    assert_eq!(done["job_results"][0]["name"], json!("lunKey"));
    let lun_key = done["job_results"][0]["value"].as_str().expect("value");
    let lun_path = format!("{prefix}/storage-provider/luns/{}", enc(lun_key));
    let lun = m.get(&lun_path).await;
    assert_eq!(lun.status, 200);
    assert_eq!(lun.j()["name"], json!("lun1"));
    assert_eq!(lun.j()["key"], json!(lun_key));
    {
        let mut s = m.mock.state.aiqum.lock().expect("lock");
        let summary = mock::aiqum::state_summary(&mut s);
        assert_eq!(summary["objects"]["luns"], json!([lun_key]));
        assert_eq!(summary["jobs"]["total"], json!(26));
    }

    let patch = json!({"space": {"size": 2_097_152}});
    let acc = m
        .req(Method::PATCH, &lun_path, Some(patch), Auth::Good)
        .await;
    assert_eq!(acc.status, 202, "{:?}", acc.json);
    sleep(Duration::from_millis(3_001)).await;
    assert_eq!(
        m.get(&lun_path).await.j()["space"]["size"],
        json!(2_097_152)
    );

    let acc = m.req(Method::DELETE, &lun_path, None, Auth::Good).await;
    assert_eq!(acc.status, 202);
    let del = acc.j()["job"]["key"].as_str().expect("key").to_string();
    assert_ne!(del, key);
    assert_eq!(
        m.get(&lun_path).await.status,
        200,
        "gone before its job ended"
    );
    sleep(Duration::from_millis(3_001)).await;
    assert!(terminal(m.job(&del, "").await.j()));
    assert_error(&m.get(&lun_path).await, 404);
    let mut s = m.mock.state.aiqum.lock().expect("lock");
    let summary = mock::aiqum::state_summary(&mut s);
    assert_eq!(summary["objects"]["luns"], json!([]));
    assert_eq!(summary["jobs"]["by_state"]["completed"], json!(25 + 3));
}

#[tokio::test(start_paused = true)]
async fn a_file_share_is_created_through_a_job() {
    let m = M::start(MockConfig::default()).await;
    let body = json!({"name": "fs1", "space": {"size": 10}, "svm": {"key": "svm-1"}});
    let acc = m
        .req(
            Method::POST,
            "/api/storage-provider/file-shares",
            Some(body),
            Auth::Good,
        )
        .await;
    assert_eq!(acc.status, 202);
    let key = acc.j()["job"]["key"].as_str().expect("key").to_string();
    sleep(Duration::from_millis(3_001)).await;
    let done = m.job(&key, "").await.j().clone();
    assert_eq!(done["job_results"][0]["name"], json!("fileshareKey"));
    let fs = done["job_results"][0]["value"].as_str().expect("value");
    let list = m.get("/api/storage-provider/file-shares").await;
    assert_eq!(list.j()["records"][0]["key"], json!(fs));
    assert_eq!(list.j()["num_records"], json!(1));
}

#[rstest]
#[case::not_json(Method::POST, "/api/storage-provider/luns", "{")]
#[case::array(Method::POST, "/api/storage-provider/luns", "[]")]
#[case::empty(Method::POST, "/api/storage-provider/luns", "{}")]
#[case::no_name(
    Method::POST,
    "/api/storage-provider/luns",
    r#"{"space":{"size":1},"svm":{"key":"s"}}"#
)]
#[case::empty_name(
    Method::POST,
    "/api/storage-provider/luns",
    r#"{"name":"","space":{"size":1},"svm":{"key":"s"}}"#
)]
#[case::size_zero(
    Method::POST,
    "/api/storage-provider/luns",
    r#"{"name":"a","space":{"size":0},"svm":{"key":"s"}}"#
)]
#[case::size_negative(
    Method::POST,
    "/api/storage-provider/luns",
    r#"{"name":"a","space":{"size":-5},"svm":{"key":"s"}}"#
)]
#[case::size_string(
    Method::POST,
    "/api/v2/storage-provider/luns",
    r#"{"name":"a","space":{"size":"1"},"svm":{"key":"s"}}"#
)]
#[case::size_fraction(
    Method::POST,
    "/api/storage-provider/luns",
    r#"{"name":"a","space":{"size":1.5},"svm":{"key":"s"}}"#
)]
#[case::no_svm(
    Method::POST,
    "/api/storage-provider/luns",
    r#"{"name":"a","space":{"size":1}}"#
)]
#[case::svm_number(
    Method::POST,
    "/api/storage-provider/luns",
    r#"{"name":"a","space":{"size":1},"svm":{"key":5}}"#
)]
#[case::share_no_name(
    Method::POST,
    "/api/storage-provider/file-shares",
    r#"{"space":{"size":1},"svm":{"key":"s"}}"#
)]
#[case::patch_empty(Method::PATCH, "/api/storage-provider/luns/x", "{}")]
#[case::patch_bad_size(
    Method::PATCH,
    "/api/storage-provider/luns/x",
    r#"{"space":{"size":0}}"#
)]
#[case::patch_bad_name(Method::PATCH, "/api/storage-provider/file-shares/x", r#"{"name":7}"#)]
#[tokio::test(start_paused = true)]
async fn bad_bodies_get_a_synchronous_400_and_no_job(
    #[case] method: Method,
    #[case] path: &str,
    #[case] body: &str,
) {
    let m = M::start(MockConfig::default()).await;
    assert_error(&m.raw(method, path, body).await, 400);
    let list = m.get("/api/management-server/jobs").await;
    assert_eq!(list.j()["total_records"], json!(mock::aiqum::HISTORY_JOBS));
    assert!(
        m.mock
            .state
            .journal
            .snapshot()
            .iter()
            .all(|e| e.http_status != 202)
    );
}

#[rstest]
#[case(Method::PATCH, "/api/storage-provider/luns/nope", Some(json!({"name": "b"})))]
#[case(Method::DELETE, "/api/storage-provider/luns/nope", None)]
#[case(Method::GET, "/api/storage-provider/luns/nope", None)]
#[case(Method::DELETE, "/api/v2/storage-provider/file-shares/a%3Ab", None)]
#[tokio::test(start_paused = true)]
async fn unknown_objects_are_404(
    #[case] method: Method,
    #[case] path: &str,
    #[case] body: Option<Value>,
) {
    let m = M::start(MockConfig::default()).await;
    assert_error(&m.req(method, path, body, Auth::Good).await, 404);
}

// ---- Dialects ----

#[rstest]
#[case::success("success", ("completed", "normal"), "NORMAL")]
#[case::failure("failure", ("completed", "error"), "ERROR")]
#[case::warning("warning", ("completed", "warning"), "NORMAL")]
#[case::partial("partial-failures", ("completed", "partial_failures"), "PARTIAL_FAILURES")]
#[case::aborted("aborted", ("aborted", "error"), "ERROR")]
#[tokio::test(start_paused = true)]
async fn both_dialects_serve_the_timeline(
    #[case] outcome_name: &str,
    #[case] split_end: (&str, &str),
    #[case] literal_end: &str,
) {
    let script = json!({"steps": [{"ms": 1000, "state": "queued"}, {"ms": 1000},
                                  {"ms": 1000, "status": "warning"}],
                        "outcome": outcome_name,
                        "result": [{"name": "thingKey", "value": "t-1"}]});
    let split = M::start(cfg(AiqumDialect::Split, &[])).await;
    let literal = M::start(cfg(AiqumDialect::Literal, &[])).await;
    let ks = split.script(script.clone()).await;
    let kl = literal.script(script).await;
    let expect: [((&str, &str), &str); 4] = [
        (("queued", "normal"), "WARNING"),
        (("running", "normal"), "WARNING"),
        (("running", "warning"), "WARNING"),
        (split_end, literal_end),
    ];
    for (i, ((st, status), lit)) in expect.into_iter().enumerate() {
        let s = split.job(&ks, "").await.j().clone();
        let l = literal.job(&kl, "").await.j().clone();
        assert_eq!(
            (s["state"].as_str(), s["status"].as_str()),
            (Some(st), Some(status)),
            "step {i}: {s}"
        );
        assert_eq!(l["state"], json!(lit), "step {i}: {l}");
        assert!(l.get("status").is_none(), "{l}");
        let last = i == 3;
        assert_eq!(terminal(&s), last, "{s}");
        assert_eq!(terminal(&l), last, "{l}");
        for j in [&s, &l] {
            assert_eq!(j.get("complete_time").is_some(), last, "{j}");
            let success = matches!(outcome_name, "success" | "warning");
            assert_eq!(j.get("job_results").is_some(), last && success, "{j}");
            let submit = j["submit_time"].as_str().expect("submit_time");
            assert!(submit.ends_with('Z') && submit.len() == 24, "{submit}");
        }
        if last && matches!(outcome_name, "success" | "warning") {
            assert_eq!(
                s["job_results"],
                json!([{"name": "thingKey", "value": "t-1"}])
            );
        }
        sleep(Duration::from_millis(1000)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_warning_terminal_job_in_the_literal_dialect_stays_warning() {
    let m = M::start(cfg(AiqumDialect::Literal, &["warning-terminal"])).await;
    let k = m
        .script(
            json!({"steps": [{"ms": 500}, {"ms": 500, "status": "warning"}, {"ms": 500}],
                       "outcome": "failure"}),
        )
        .await;
    sleep(Duration::from_millis(5_000)).await;
    let j = m.job(&k, "").await.j().clone();
    assert_eq!(j["state"], json!("WARNING"));
    assert!(j.get("complete_time").is_some());
}

// ---- Long polling ----

async fn long(m: &M, key: &str, query: &str) -> R {
    m.job(key, query).await
}

#[tokio::test(start_paused = true)]
async fn a_long_poll_answers_at_its_timeout_when_nothing_changes() {
    let m = M::start(MockConfig::default()).await;
    let k = m
        .script(json!({"steps": [{"ms": 60_000}], "outcome": "success"}))
        .await;
    let r = long(&m, &k, "?poll_timeout=5").await;
    assert_eq!(r.status, 200);
    assert!(!terminal(r.j()));
    assert!(
        (5_000..=5_000 + SLACK).contains(&r.elapsed_ms),
        "{}",
        r.elapsed_ms
    );
    let plain = m.job(&k, "").await;
    assert!(
        plain.elapsed_ms < 50,
        "a plain GET blocked {} ms",
        plain.elapsed_ms
    );
}

#[tokio::test(start_paused = true)]
async fn a_long_poll_answers_promptly_when_the_job_ends() {
    let m = M::start(MockConfig::default()).await;
    let k = m
        .script(json!({"steps": [{"ms": 2_000}], "outcome": "failure"}))
        .await;
    let r = long(&m, &k, "?poll_timeout=30").await;
    assert!(terminal(r.j()), "{:?}", r.json);
    assert!(
        (2_000..=2_000 + SLACK).contains(&r.elapsed_ms),
        "{}",
        r.elapsed_ms
    );
    let again = long(&m, &k, "?poll_timeout=30").await;
    assert!(again.elapsed_ms < 50, "terminal jobs answer at once");
}

#[tokio::test(start_paused = true)]
async fn a_plain_long_poll_sleeps_through_state_changes_until_terminal() {
    let m = M::start(MockConfig::default()).await;
    let k = m
        .script(json!({"steps": [{"ms": 1_000, "state": "queued"}, {"ms": 9_000}], "outcome": "success"}))
        .await;
    let r = long(&m, &k, "?poll_timeout=30").await;
    assert!(terminal(r.j()), "{:?}", r.json);
    assert!(
        (10_000..=10_000 + SLACK).contains(&r.elapsed_ms),
        "{}",
        r.elapsed_ms
    );
}

#[tokio::test(start_paused = true)]
async fn a_long_poll_with_last_modified_answers_when_the_state_changes() {
    let m = M::start(MockConfig::default()).await;
    let k = m
        .script(json!({"steps": [{"ms": 1_000, "state": "queued"}, {"ms": 9_000}], "outcome": "success"}))
        .await;
    let first = m.job(&k, "").await;
    let lm = first.j()["last_modified"]
        .as_str()
        .expect("last_modified")
        .to_string();
    let r = long(&m, &k, &format!("?poll_timeout=30&last_modified={lm}")).await;
    assert_eq!(state(r.j()), "running");
    assert!(
        (1_000..=1_000 + SLACK).contains(&r.elapsed_ms),
        "{}",
        r.elapsed_ms
    );
}

#[tokio::test(start_paused = true)]
async fn last_modified_before_the_last_change_answers_at_once() {
    let m = M::start(MockConfig::default()).await;
    let k = m
        .script(json!({"steps": [{"ms": 60_000}], "outcome": "success"}))
        .await;
    let submit: jiff::Timestamp = ts(&m.job(&k, "").await.j()["submit_time"]).expect("time");
    let before = submit - jiff::SignedDuration::from_secs(1);
    let r = long(&m, &k, &format!("?poll_timeout=3&last_modified={before}")).await;
    assert!(r.elapsed_ms < 50, "{}", r.elapsed_ms);
    let r = long(&m, &k, &format!("?poll_timeout=3&last_modified={submit}")).await;
    assert!(
        (3_000..=3_000 + SLACK).contains(&r.elapsed_ms),
        "{}",
        r.elapsed_ms
    );
}

#[rstest]
#[case("?poll_timeout=0")]
#[case("?poll_timeout=121")]
#[case("?poll_timeout=abc")]
#[case("?poll_timeout=1.5")]
#[case("?poll_timeout=5&last_modified=yesterday")]
#[tokio::test(start_paused = true)]
async fn bad_long_poll_parameters_are_400(#[case] query: &str) {
    let m = M::start(MockConfig::default()).await;
    let k = m
        .script(json!({"steps": [{"ms": 60_000}], "outcome": "success"}))
        .await;
    assert_error(&m.job(&k, query).await, 400);
    let off = M::start(MockConfig {
        long_poll: false,
        ..MockConfig::default()
    })
    .await;
    let k = off
        .script(json!({"steps": [{"ms": 60_000}], "outcome": "success"}))
        .await;
    let r = off.job(&k, query).await;
    assert_eq!(r.status, 200, "ignored without the capability");
    assert!(r.elapsed_ms < 50);
}

#[tokio::test(start_paused = true)]
async fn without_the_capability_a_long_poll_answers_at_once() {
    let m = M::start(MockConfig {
        long_poll: false,
        ..MockConfig::default()
    })
    .await;
    let k = m
        .script(json!({"steps": [{"ms": 60_000}], "outcome": "success"}))
        .await;
    let r = long(&m, &k, "?poll_timeout=10").await;
    assert_eq!(r.status, 200);
    assert!(!terminal(r.j()));
    assert!(r.elapsed_ms < 50, "{}", r.elapsed_ms);
}

// ---- The list ----

fn list_keys(r: &R) -> Vec<String> {
    keys(r.j()["records"].as_array().expect("records"))
}

#[tokio::test(start_paused = true)]
async fn a_fresh_mock_has_a_finished_history() {
    let m = M::start(MockConfig::default()).await;
    let r = m.get("/api/management-server/jobs?max_records=1000").await;
    assert_eq!(r.j()["total_records"], json!(mock::aiqum::HISTORY_JOBS));
    let records = r.j()["records"].as_array().expect("records").clone();
    let statuses: BTreeSet<String> = records.iter().map(outcome).collect();
    assert_eq!(statuses, FOUR.iter().map(|s| s.to_string()).collect());
    let now = jiff::Timestamp::now();
    for j in &records {
        assert!(terminal(j));
        assert!(ts(&j["submit_time"]).expect("submit") < now);
        assert!(ts(&j["complete_time"]) >= ts(&j["submit_time"]));
    }
    let unique: BTreeSet<String> = list_keys(&r).into_iter().collect();
    assert_eq!(unique.len(), records.len());
    assert!(unique.iter().all(|k| is_key(k)));
}

#[tokio::test(start_paused = true)]
async fn the_list_orders_pages_and_filters() {
    let m = M::start(MockConfig::default()).await;
    let newest = m
        .script(json!({"steps": [{"ms": 10}], "outcome": "success"}))
        .await;
    let jobs = "/api/management-server/jobs";
    let default = m.get(jobs).await;
    assert_eq!(default.j()["num_records"], json!(20));
    assert_eq!(default.j()["total_records"], json!(26));
    assert_eq!(default.j()["records"][0]["key"], json!(newest));
    assert_eq!(default.j()["_links"]["self"]["href"], json!(jobs));
    assert_eq!(
        default.j()["_links"]["next"]["href"],
        json!(format!("{jobs}?max_records=20&offset=20"))
    );

    let asc = m
        .get(&format!(
            "{jobs}?order_by=submit_time%20asc&max_records=1000"
        ))
        .await;
    let mut rev = list_keys(&asc);
    rev.reverse();
    assert_eq!(
        rev,
        list_keys(&m.get(&format!("{jobs}?max_records=1000")).await)
    );
    let by_name = m
        .get(&format!("{jobs}?order_by=name+desc&max_records=1000"))
        .await;
    let names: Vec<&str> = by_name.j()["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["name"].as_str().unwrap_or(""))
        .collect();
    assert!(names.windows(2).all(|w| w[0] >= w[1]), "{names:?}");

    let tail = m.get(&format!("{jobs}?offset=20")).await;
    assert_eq!(tail.j()["num_records"], json!(6));
    assert!(tail.j()["_links"].get("next").is_none());
    assert_eq!(
        m.get(&format!("{jobs}?offset=100")).await.j()["num_records"],
        json!(0)
    );

    let page = m
        .get("/api/v2/management-server/jobs?max_records=3&status=normal")
        .await;
    let next = page.j()["_links"]["next"]["href"].as_str().expect("next");
    assert_eq!(
        next,
        "/api/v2/management-server/jobs?max_records=3&offset=3&status=normal"
    );

    let errors = m
        .get(&format!("{jobs}?status=ERROR&max_records=1000"))
        .await;
    assert!(errors.j()["num_records"].as_u64() > Some(0));
    assert!(
        errors.j()["records"]
            .as_array()
            .expect("r")
            .iter()
            .all(|r| outcome(r) == "error")
    );
    let either = m
        .get(&format!(
            "{jobs}?status=error|partial_failures&max_records=1000"
        ))
        .await;
    let got: BTreeSet<String> = either.j()["records"]
        .as_array()
        .expect("r")
        .iter()
        .map(outcome)
        .collect();
    assert_eq!(
        got,
        ["error", "partial_failures"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    let named = m.get(&format!("{jobs}?name=re*&max_records=1000")).await;
    assert!(named.j()["records"].as_array().expect("r").iter().all(|r| {
        let n = r["name"].as_str().unwrap_or("").to_ascii_lowercase();
        n.starts_with("re")
    }));
    assert!(named.j()["num_records"].as_u64() > Some(0));
    let one = m.get(&format!("{jobs}?key={newest}")).await;
    assert_eq!(list_keys(&one), vec![newest]);
}

#[rstest]
#[case("max_records=0")]
#[case("max_records=abc")]
#[case("max_records=-1")]
#[case("offset=-1")]
#[case("offset=x")]
#[case("order_by=bogus")]
#[case("order_by=name%20sideways")]
#[tokio::test(start_paused = true)]
async fn bad_list_parameters_are_400(#[case] query: &str) {
    let m = M::start(MockConfig::default()).await;
    assert_error(
        &m.get(&format!("/api/management-server/jobs?{query}")).await,
        400,
    );
}

// ---- Errors, keys, control, journal ----

#[rstest]
#[case(Method::POST, "/api/management-server/jobs")]
#[case(Method::PUT, "/api/v2/management-server/jobs")]
#[case(Method::PATCH, "/api/management-server/jobs/a:-b:c:-d")]
#[case(Method::DELETE, "/api/v2/management-server/jobs/a:-b:c:-d")]
#[tokio::test(start_paused = true)]
async fn jobs_are_read_only(#[case] method: Method, #[case] path: &str) {
    let m = M::start(MockConfig::default()).await;
    assert_error(&m.req(method.clone(), path, None, Auth::None).await, 401);
    assert_error(&m.req(method, path, Some(json!({})), Auth::Good).await, 405);
}

#[tokio::test(start_paused = true)]
async fn keys_work_escaped_and_unescaped() {
    let m = M::start(MockConfig::default()).await;
    let k = m.script(json!({"steps": [], "outcome": "success"})).await;
    for path in [
        format!("/api/management-server/jobs/{k}"),
        format!("/api/v2/management-server/jobs/{}", enc(&k)),
        format!("/api/management-server/jobs/{}", k.replace('-', "%2D")),
    ] {
        let r = m.get(&path).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.j()["key"], json!(k));
    }
    assert_error(&m.get("/api/management-server/jobs/nope").await, 404);
    assert_error(
        &m.req(
            Method::GET,
            "/api/management-server/jobs",
            None,
            Auth::Wrong,
        )
        .await,
        401,
    );
}

#[tokio::test(start_paused = true)]
async fn the_control_route_makes_scripted_jobs() {
    let m = M::start(cfg(AiqumDialect::Split, &["aiqum-no-auth"])).await;
    let path = "/_jobconform/aiqum/jobs";
    let script = json!({"steps": [{"ms": 5}], "outcome": "success"});
    assert_error(
        &m.req(Method::POST, path, Some(script.clone()), Auth::None)
            .await,
        401,
    );
    assert_error(
        &m.raw(Method::POST, path, r#"{"outcome": "success", "bogus": 1}"#)
            .await,
        400,
    );
    assert_error(&m.raw(Method::POST, path, r#"{"steps": []}"#).await, 400);
    let k = m.script(script).await;
    assert!(is_key(&k));
    assert_eq!(m.job(&k, "").await.j()["name"], json!("Scripted job"));
    let named = m
        .script(json!({"outcome": "aborted", "name": "Scripted thing"}))
        .await;
    let j = m.job(&named, "").await.j().clone();
    assert_eq!(
        (j["name"].clone(), j["state"].clone()),
        (json!("Scripted thing"), json!("aborted"))
    );
}

#[tokio::test(start_paused = true)]
async fn reads_and_calls_are_journaled() {
    let m = M::start(MockConfig::default()).await;
    let acc = m.lun("/api").await;
    let key = acc.j()["job"]["key"].as_str().expect("key").to_string();
    m.job(&key, "").await;
    let r = m
        .http
        .get(format!(
            "{}/api/management-server/jobs/{key}?poll_timeout=10",
            m.base
        ))
        .basic_auth(mock::DEFAULT_USER, Some(mock::DEFAULT_PASSWORD))
        .header("x-jobconform-client", "poller-7")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    m.get("/api/management-server/jobs").await;
    m.job("missing", "").await;
    let e = m.mock.state.journal.snapshot();
    let ops: Vec<&str> = e.iter().map(|e| e.op.as_str()).collect();
    assert_eq!(
        ops,
        [
            "POST luns",
            "GET job",
            "GET job long-poll",
            "GET jobs",
            "GET job"
        ]
    );
    assert!(e.iter().all(|e| e.api == "aiqum"));
    assert_eq!(e[0].job.as_deref(), Some(key.as_str()));
    assert_eq!(e[0].http_status, 202);
    assert_eq!(
        (e[1].observed.as_deref(), e[1].terminal),
        (Some("queued/normal"), false)
    );
    assert_eq!(e[1].client, "127.0.0.1");
    assert_eq!(
        (e[2].observed.as_deref(), e[2].terminal),
        (Some("completed/normal"), true),
        "a plain long poll answers when the job is terminal"
    );
    assert_eq!(e[2].client, "poller-7");
    assert_eq!(e[2].t_ms, e[1].t_ms, "journaled at arrival");
    assert_eq!((e[4].http_status, e[4].observed.as_deref()), (404, None));
}

/// Real time with a fast clock (no paused runtime): one long poll per state change.
#[tokio::test]
async fn with_a_fast_clock_a_long_poller_needs_one_request_per_change() {
    let m = M::start(MockConfig {
        time_scale: 1000.0,
        ..MockConfig::default()
    })
    .await;
    let acc = m.lun("/api/v2").await;
    let key = acc.j()["job"]["key"].as_str().expect("key").to_string();
    let mut last = m.job(&key, "").await.j().clone();
    let mut seen = vec![state(&last)];
    while !terminal(&last) {
        let lm = last["last_modified"].as_str().expect("last_modified");
        let r = m
            .job(&key, &format!("?poll_timeout=120&last_modified={lm}"))
            .await;
        assert_eq!(r.status, 200);
        last = r.j().clone();
        seen.push(state(&last));
        assert!(seen.len() <= 3, "{seen:?}");
    }
    // Each long poll answered with a change (how many changes a loaded machine lets the client
    // see depends on real scheduling, so only the order is fixed).
    let order = ["queued", "running", "completed"];
    let pos: Vec<usize> = seen
        .iter()
        .map(|s| order.iter().position(|o| o == s).expect("a known state"))
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert_eq!(seen.last().map(String::as_str), Some("completed"));
    let k = m
        .script(json!({"steps": [{"ms": 3_600_000}], "outcome": "success"}))
        .await;
    let r = m.job(&k, "?poll_timeout=2").await;
    assert_eq!(
        state(r.j()),
        "running",
        "answered at the 2 s (target) timeout"
    );
}

#[rstest]
#[case(Method::GET, "/api/no/such/thing", 404)]
#[case(Method::GET, "/api/v2/management-server/jobs/a/b", 404)]
#[case(Method::PUT, "/api/storage-provider/luns", 405)]
#[case(Method::POST, "/api/v2/storage-provider/file-shares/x", 405)]
#[tokio::test(start_paused = true)]
async fn other_paths_and_methods_get_json_errors(
    #[case] method: Method,
    #[case] path: &str,
    #[case] status: u16,
) {
    let m = M::start(MockConfig::default()).await;
    assert_error(&m.req(method.clone(), path, None, Auth::None).await, 401);
    assert_error(
        &m.req(method, path, Some(json!({})), Auth::Good).await,
        status,
    );
}

#[tokio::test(start_paused = true)]
async fn an_oversized_body_is_refused_with_a_json_error() {
    let m = M::start(MockConfig {
        max_body: 64,
        ..MockConfig::default()
    })
    .await;
    let body = format!(
        r#"{{"name": "{}", "space": {{"size": 1}}, "svm": {{"key": "s"}}}}"#,
        "x".repeat(100)
    );
    assert_error(
        &m.raw(Method::POST, "/api/storage-provider/luns", &body)
            .await,
        413,
    );
}

#[tokio::test(start_paused = true)]
async fn a_literal_long_poll_sleeps_through_changes_it_cannot_show() {
    let m = M::start(cfg(AiqumDialect::Literal, &[])).await;
    let k = m
        .script(json!({"steps": [{"ms": 1_000, "state": "queued"}, {"ms": 1_000}], "outcome": "success"}))
        .await;
    let first = m.job(&k, "").await.j().clone();
    assert_eq!(first["state"], json!("WARNING"));
    let r = m.job(&k, "?poll_timeout=30").await;
    assert_eq!(r.j()["state"], json!("NORMAL"));
    assert!(
        (2_000..=2_000 + SLACK).contains(&r.elapsed_ms),
        "{}",
        r.elapsed_ms
    );
    assert_eq!(first["last_modified"], first["submit_time"]);
    assert!(r.j()["last_modified"].as_str() > first["last_modified"].as_str());
}
