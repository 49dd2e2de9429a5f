//! The live deviation matrix: the suite in live mode (no control API, `--allow-mutations`, an
//! AIQUM call and a failing call, as a profile gives them) against the mock with each deviation,
//! as a real target would be judged. Every deviation whose rules the coverage table calls
//! live-observable is caught on exactly its rules; the few that a live target cannot provoke are
//! listed in [`NOT_LIVE`] with the reason, and must not be blamed on another rule. The faithful
//! mock gives no finding, under `--strict` too. Beside it, the four behaviours of issue 13 each
//! get a test: a purged running handle, an early long poll, a blocking plain GET, an unknown
//! status value (which must end its poll at once, not at the deadline).
//!
//! The mock runs at time scale 1 (a live target's clock is real time, and timing checks read it
//! so), with clones and AIQUM jobs of a few seconds; every case runs on a fresh mock of its own,
//! many at once (they mostly wait). `JOBCONFORM_DEVIATIONS=PREFIX` runs only some deviations.

#[allow(
    dead_code,
    reason = "shared with tests/cli; this target uses only created_objects"
)]
#[path = "cli/support.rs"]
mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jobconform::case::{Api, LoadedCase};
use jobconform::exec::{CaseOutcome, Status, cannot_run, probe, run_case};
use jobconform::mock::deviation::{self, Entry};
use jobconform::mock::{self, MockConfig};
use jobconform::report::{self, coverage};
use jobconform::target::{AiqumCall, AiqumCleanup, Kind, Target};
use jobconform::transport::{Credentials, Secret};
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Deviations a live target cannot provoke, with the reason (the coverage table's, per
/// deviation): they need a job that fails on Element, or a job scripted through WARNING.
const NOT_LIVE: &[(&str, &str)] = &[
    (
        "async-error-without-name",
        "needs a failed Element operation (EL-GAR-ASYNC-ERROR)",
    ),
    (
        "both-result-and-error",
        "needs a failed Element operation (EL-GAR-COMPLETE's failure half)",
    ),
    (
        "warning-terminal",
        "needs a job that passes through WARNING (UM-WARNING)",
    ),
    (
        "list-ignores-filter",
        "filtering between types needs jobs of two types (EL-LIST-FILTER)",
    ),
];

/// Deviations that break a rule through a race whose window is real time (the mock's
/// check-then-purge waits 50 ms for fetches in flight): on a loaded machine the concurrent
/// fetches may not overlap, so the rule may or may not fail, but never another rule.
const RACY: &[&str] = &["racy-purge"];

/// Cases running at once over the whole matrix (each on its own mock; they mostly wait).
const AT_ONCE: usize = 96;

fn mock_config(deviation: Option<&'static str>) -> MockConfig {
    MockConfig {
        time_scale: 1.0,
        deviations: deviation
            .map(|n| n.parse().expect("a deviation's name"))
            .into_iter()
            .collect(),
        clone_ms: 1_500,
        aiqum_job_ms: 4_500,
        ..MockConfig::default()
    }
}

/// A live target on `m`: real-time clock, mutations allowed, the mock's LUN create as the
/// profile's call and one larger than its aggregates as the failing call.
fn live_target(m: &mock::RunningMock) -> Target {
    let creds = Credentials {
        user: mock::DEFAULT_USER.into(),
        password: Secret::new(mock::DEFAULT_PASSWORD),
    };
    let mut t = jobconform::target::mock("live", &m.urls, 1.0, creds).expect("target");
    t.kind = Kind::Live;
    let call = |failing: bool| AiqumCall {
        method: "POST".into(),
        path: "/storage-provider/luns".into(),
        body: Some(json!({"name": "jc-scratch", "svm": {"key": "svm-1"},
            "space": {"size": if failing { mock::aiqum::AGGREGATE_BYTES + 1 } else { 1 << 30 }}})),
        cleanup: Some(AiqumCleanup {
            method: "DELETE".into(),
            path: "/storage-provider/luns/${result:lunKey}".into(),
        }),
    };
    t.aiqum_call = Some(call(false));
    t.aiqum_failing_call = Some(call(true));
    t.policy.min_interval = Duration::from_millis(100);
    t.policy.max_interval = Duration::from_millis(1_000);
    t.policy.deadline = Duration::from_secs(10);
    t
}

/// The objects the mock holds (volumes, accounts, LUNs), from its control API.
async fn objects(t: &Target, m: &mock::RunningMock) -> Vec<(String, Value)> {
    let url = format!("{}/state", m.urls.control);
    let ex = t.client.get(&url).await;
    support::created_objects(ex.json().expect("the control API's state is JSON"))
}

fn load_cases() -> Vec<LoadedCase> {
    jobconform::runner::cases::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("cases"))
        .expect("cases load")
}

/// Whether a case judges the target (EL-/UM- rules; CL-* cases judge jobconform's own client).
fn judges_the_target(c: &LoadedCase) -> bool {
    c.case.rules.iter().any(|r| !r.starts_with("CL-"))
}

/// What one deviation (or none) gave in live mode.
struct Matrix {
    failed: BTreeSet<String>,
    strict_failed: bool,
    log: Vec<String>,
    ran: usize,
    cleaned: bool,
}

/// Runs every case a live target can run (of `api`, or of both) against fresh mocks with
/// `deviation`.
async fn run_live(
    deviation: Option<&'static str>,
    api: Option<Api>,
    cases: Arc<Vec<LoadedCase>>,
    limit: Arc<Semaphore>,
) -> Matrix {
    let caps = {
        let _p = limit.acquire().await.expect("open");
        let m = mock::spawn(mock_config(deviation)).await.expect("mock");
        let t = tokio::task::block_in_place(|| live_target(&m));
        let caps = probe(&t).await;
        jobconform::cleanup::clean(&t).await;
        m.stop().await;
        Arc::new(caps)
    };
    let mut set = JoinSet::new();
    let chosen = cases
        .iter()
        .enumerate()
        .filter(|(_, c)| judges_the_target(c) && api.is_none_or(|a| c.case.api == a));
    for (i, c) in chosen {
        let (cases, limit, caps) = (cases.clone(), limit.clone(), caps.clone());
        let name = c.name.clone();
        set.spawn(async move {
            let _p = limit.acquire_owned().await.expect("open");
            let m = mock::spawn(mock_config(deviation)).await.expect("mock");
            let t = tokio::task::block_in_place(|| live_target(&m));
            if cannot_run(&cases[i], &t, &caps).is_some() {
                m.stop().await;
                return None;
            }
            let before = objects(&t, &m).await;
            let out = run_case(&cases[i], &t, &caps).await;
            // Nothing is left silently: what cleanup could not remove (a job that never ends
            // never names its LUN) is listed.
            let left = jobconform::cleanup::clean(&t).await;
            let clean = !left.is_empty() || objects(&t, &m).await == before;
            m.stop().await;
            Some((i, name, out, clean))
        });
    }
    let mut m = Matrix {
        failed: BTreeSet::new(),
        strict_failed: false,
        log: Vec::new(),
        ran: 0,
        cleaned: true,
    };
    while let Some(r) = set.join_next().await {
        let Some((i, name, out, clean)) = r.expect("a case panicked") else {
            continue;
        };
        m.ran += 1;
        m.cleaned &= clean;
        if !clean {
            m.log
                .push(format!("    {name}: left objects on the target, unlisted"));
        }
        judge_into(&mut m, &cases[i], &name, out);
    }
    m
}

fn judge_into(m: &mut Matrix, case: &LoadedCase, name: &str, out: CaseOutcome) {
    for f in &out.findings {
        m.failed.insert(f.rule.clone());
        m.log
            .push(format!("    {name} -> {}: {}", f.rule, f.message));
    }
    if let Status::Inconclusive { reason } | Status::HarnessError { message: reason } = &out.status
    {
        m.log.push(format!("    {name}: {reason}"));
    }
    let rec = report::record(name, case, "live", out, true);
    m.strict_failed |= matches!(rec.outcome, report::Verdict::Fail | report::Verdict::Error);
}

fn runtime() -> tokio::runtime::Runtime {
    jobconform::transport::install_crypto();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Whether the coverage table calls every rule of `d` live-observable and `d` is not in
/// [`NOT_LIVE`].
fn live_observable(d: &Entry, rows: &[coverage::RuleCoverage]) -> bool {
    NOT_LIVE.iter().all(|(n, _)| *n != d.name)
        && d.rules
            .iter()
            .all(|r| rows.iter().any(|row| row.id == *r && row.live.is_some()))
}

#[test]
fn each_live_observable_deviation_is_caught_on_exactly_its_rules_in_live_mode() {
    let filter = std::env::var("JOBCONFORM_DEVIATIONS").unwrap_or_default();
    let cases = Arc::new(load_cases());
    let rows = coverage::table(&cases);
    let chosen: Vec<&'static Entry> = deviation::ALL
        .iter()
        .filter(|d| d.name.starts_with(&filter))
        .collect();
    let started = Instant::now();
    let results = runtime().block_on(async {
        let limit = Arc::new(Semaphore::new(AT_ONCE));
        let mut set = JoinSet::new();
        for d in chosen {
            let (cases, limit) = (cases.clone(), limit.clone());
            let api = if d.rules.iter().all(|r| r.starts_with("UM-")) {
                Api::Aiqum
            } else {
                Api::Element
            };
            set.spawn(async move { (d, run_live(Some(d.name), Some(api), cases, limit).await) });
        }
        let mut out = Vec::new();
        while let Some(r) = set.join_next().await {
            out.push(r.expect("a deviation's run panicked"));
        }
        out
    });
    let mut wrong = Vec::new();
    let mut caught = 0;
    for (d, m) in &results {
        let want: BTreeSet<String> = d.rules.iter().map(|r| r.to_string()).collect();
        let observable = live_observable(d, &rows) && !RACY.contains(&d.name);
        if observable && m.failed != want {
            wrong.push(format!(
                "{d}: failed {:?}, want {want:?}\n{}",
                m.failed,
                m.log.join("\n")
            ));
        } else if !observable && !m.failed.is_subset(&want) {
            wrong.push(format!(
                "{d} (not live-observable): blamed {:?}\n{}",
                m.failed,
                m.log.join("\n")
            ));
        }
        if !m.cleaned {
            wrong.push(format!(
                "{d}: objects left on the target\n{}",
                m.log.join("\n")
            ));
        }
        caught += usize::from(observable && m.failed == want);
    }
    eprintln!(
        "{caught} of {} deviations caught live on exactly their rules in {:.1?}",
        results.len(),
        started.elapsed()
    );
    wrong.sort();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_faithful_mock_gives_no_finding_in_live_mode_even_strict() {
    let cases = Arc::new(load_cases());
    let m = runtime().block_on(run_live(
        None,
        None,
        cases,
        Arc::new(Semaphore::new(AT_ONCE)),
    ));
    assert!(m.ran > 60, "only {} cases ran in live mode", m.ran);
    assert!(
        m.failed.is_empty() && !m.strict_failed,
        "findings on a faithful target: {:?}\n{}",
        m.failed,
        m.log.join("\n")
    );
    assert!(m.cleaned, "objects left on the target");
}

/// Runs the cases whose name starts with `prefix` in live mode, each against a fresh mock with
/// `deviation`, and returns the rules that failed and each case's outcome.
fn live_cases(deviation: &'static str, prefix: &str) -> (BTreeSet<String>, Vec<CaseOutcome>) {
    live_cases_tuned(deviation, prefix, |_| {}, |_| {})
}

/// [`live_cases`] with the mock's configuration tuned by `mock` and the live target by `target`.
fn live_cases_tuned(
    deviation: &'static str,
    prefix: &str,
    mock: fn(&mut MockConfig),
    target: fn(&mut Target),
) -> (BTreeSet<String>, Vec<CaseOutcome>) {
    let cases: Vec<LoadedCase> = load_cases()
        .into_iter()
        .filter(|c| c.name.starts_with(prefix))
        .collect();
    assert!(!cases.is_empty(), "no case under {prefix}");
    runtime().block_on(async {
        let mut failed = BTreeSet::new();
        let mut outs = Vec::new();
        for c in &cases {
            let mut config = mock_config(Some(deviation));
            mock(&mut config);
            let m = mock::spawn(config).await.expect("mock");
            let mut t = tokio::task::block_in_place(|| live_target(&m));
            target(&mut t);
            let caps = probe(&t).await;
            assert_eq!(cannot_run(c, &t, &caps), None, "{} runs live", c.name);
            let out = run_case(c, &t, &caps).await;
            failed.extend(out.findings.iter().map(|f| f.rule.clone()));
            outs.push(out);
            jobconform::cleanup::clean(&t).await;
            m.stop().await;
        }
        (failed, outs)
    })
}

fn statuses(outs: &[CaseOutcome]) -> Vec<&Status> {
    outs.iter().map(|o| &o.status).collect()
}

/// Runs the cases under `prefix` live against `deviation` and asserts they failed exactly `rule`.
fn caught_live(deviation: &'static str, prefix: &str, rule: &str) {
    let (failed, outs) = live_cases(deviation, prefix);
    assert_eq!(failed, [rule.to_string()].into(), "{:?}", statuses(&outs));
}

#[test]
fn a_purged_running_handle_fails_el_keep_running_live() {
    caught_live(
        "purge-running",
        "element/keep-result/running-clone",
        "EL-KEEP-RUNNING",
    );
}

#[test]
fn an_early_long_poll_fails_um_poll_long_live() {
    caught_live(
        "long-poll-early",
        "aiqum/poll-long/real-work",
        "UM-POLL-LONG",
    );
}

/// A target that forgets a finished job before the next poll: the poll reads the job running,
/// then a 404 (the job ends after 300 ms and is gone 1 s later; the next poll comes 2 s after
/// the first). The poll cannot see it finish; the verdict is UM-KEY-RETAINED, not an
/// inconclusive case (how the live matrix once went red on a loaded CI machine).
#[test]
fn a_job_forgotten_between_polls_fails_um_key_retained_live() {
    let (failed, outs) = live_cases_tuned(
        "forget-finished",
        "aiqum/key-retained/after-call",
        |c| c.aiqum_job_ms = 300,
        |t| {
            t.policy.min_interval = Duration::from_secs(2);
            t.policy.max_interval = Duration::from_secs(2);
        },
    );
    assert_eq!(
        failed,
        ["UM-KEY-RETAINED".to_string()].into(),
        "{:?}",
        statuses(&outs)
    );
    let f = &outs[0].findings[0];
    assert!(f.message.contains("now answers 404"), "{}", f.message);
    let ex = &outs[0].transcript[f.exchange.expect("the 404 is named")];
    assert_eq!(ex.status(), Some(404));
    assert!(ex.request.url.contains("/management-server/jobs/"));
}

#[test]
fn a_blocking_plain_get_fails_um_poll_standard_live() {
    caught_live(
        "standard-poll-blocks",
        "aiqum/poll-standard/call-job-answers-at-once",
        "UM-POLL-STANDARD",
    );
}

/// The exchanges after the first answer whose `pointer` is `value`, that read the same thing
/// (a GetAsyncResult or a job GET).
fn reads_after(out: &CaseOutcome, pointer: &str, value: &str, what: &str) -> usize {
    let first = out
        .transcript
        .iter()
        .position(|x| x.json().and_then(|b| b.pointer(pointer)) == Some(&json!(value)))
        .unwrap_or_else(|| panic!("no answer with {pointer} = {value}"));
    out.transcript[first + 1..]
        .iter()
        .filter(|x| {
            let body = x
                .request
                .body
                .as_ref()
                .map(Value::to_string)
                .unwrap_or_default();
            body.contains(what) || x.request.url.contains(what)
        })
        .count()
}

/// Runs the case under `prefix` live against `deviation`: it fails exactly `rule`, and after the
/// first answer whose `pointer` is `value` the job is not read again (`what`: the request that
/// reads it): the poll ended at once, not at the deadline.
fn ends_at_once(deviation: &'static str, prefix: &str, rule: &str, seen: (&str, &str, &str)) {
    let (failed, outs) = live_cases(deviation, prefix);
    assert_eq!(failed, [rule.to_string()].into(), "{:?}", statuses(&outs));
    let (pointer, value, what) = seen;
    assert_eq!(reads_after(&outs[0], pointer, value, what), 0);
}

#[test]
fn an_unknown_element_status_ends_the_poll_at_once() {
    // The case goes on to its cleanup, which deletes volumes and never polls.
    ends_at_once(
        "status-completed",
        "element/clone/start-and-finish",
        "EL-GAR-STATUS",
        ("/result/status", "completed", "GetAsyncResult"),
    );
}

#[test]
fn an_unknown_aiqum_status_ends_the_poll_at_once() {
    ends_at_once(
        "status-success",
        "aiqum/terminal/after-call",
        "UM-JOB-STATUS",
        ("/status", "success", "/management-server/jobs/"),
    );
}

#[test]
fn not_live_names_real_deviations() {
    for name in RACY {
        assert!(deviation::ALL.iter().any(|d| d.name == *name), "{name}");
    }
    for (name, why) in NOT_LIVE {
        assert!(
            deviation::ALL.iter().any(|d| d.name == *name),
            "{name} is not a deviation ({why})"
        );
    }
}

/// "Done when": on a live target with mutations and a failing call, every server MUST rule has a
/// verdict, except those the coverage table justifies one by one.
#[test]
fn every_server_must_rule_without_a_live_verdict_is_justified() {
    let rows = coverage::table(&load_cases());
    let missing: Vec<&str> = rows
        .iter()
        .filter(|r| r.server && r.live.is_none() && r.level == jobconform::contract::Level::Must)
        .filter(|r| r.why_not.is_none())
        .map(|r| r.id.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "no live verdict and no reason: {missing:?}"
    );
    let never: Vec<&str> = coverage::never_live(&rows)
        .iter()
        .map(|(r, _)| *r)
        .collect();
    assert_eq!(never, ["EL-GAR-ASYNC-ERROR", "UM-WARNING"]);
}

#[test]
fn the_readme_coverage_table_is_generated() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("read README.md");
    let (begin, end) = ("<!-- COVERAGE:BEGIN -->", "<!-- COVERAGE:END -->");
    let start = readme.find(begin).expect("README has the BEGIN marker") + begin.len();
    let stop = readme[start..]
        .find(end)
        .expect("README has the END marker")
        + start;
    assert_eq!(
        readme[start..stop].trim(),
        coverage::markdown(&coverage::table(&load_cases())).trim(),
        "README.md's coverage table is stale: put the output of \
         `cargo run -- rules --coverage --format markdown` between the markers"
    );
}
