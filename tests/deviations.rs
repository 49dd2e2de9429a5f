//! The deviation matrix: every deviation in `mock::deviation::ALL` is caught by the suite, on
//! exactly its rules, with the exit code its rules' level gives (1 for a MUST rule; 0 with a
//! warning for a SHOULD rule, and 1 under `--strict`). Also: a sample of deviations through the
//! real binary (`serve --deviation` + `run --control`), and the README's deviation table is the
//! registry's.
//!
//! The matrix runs only the cases of the deviation's API that judge the target (not the CL-*
//! cases of `cases/client/`, which judge jobconform's own client), each case on a fresh embedded mock
//! (127.0.0.1:0) with that one deviation: no case ever shares a deviating mock with another (a
//! deviation like `list-purges` breaks the handles of cases running beside it), so cases of all
//! deviations can run side by side (`AT_ONCE` of them). Verdicts and exit codes come from the
//! library functions the runner uses (`report::record`, `runner::exit_of`); nothing here
//! re-judges a finding. `JOBCONFORM_DEVIATIONS=PREFIX` runs only some deviations,
//! `JOBCONFORM_SHOW=PREFIX` prints their cases as they end (with `--nocapture`).

#[allow(
    dead_code,
    reason = "shared with tests/cli; this target uses only the serve helpers"
)]
#[path = "cli/support.rs"]
mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use jobconform::case::{Api, LoadedCase};
use jobconform::contract::Level;
use jobconform::exec::{probe, run_case};
use jobconform::mock::deviation::{self, Entry};
use jobconform::mock::{self, MockConfig};
use jobconform::report::{self, CaseRecord, Verdict};
use jobconform::runner::{Exit, exit_of};
use jobconform::target::{Kind, Target};
use jobconform::transport::{Credentials, Secret};
use jobconform::transport::{aiqum, element};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// The mock's time scale, as `jobconform run` uses for its embedded mock.
const SCALE: f64 = 50.0;
/// Deviations whose behaviour is a short window of target time (500 ms, 1 s): at scale 50 that
/// is 10-20 ms of real time, less than the scheduling noise of a busy machine, so they run at
/// this gentler scale.
const GENTLE: &[(&str, f64)] = &[("accept-404-window", 5.0), ("forget-finished", 5.0)];

fn scale_of(d: &Entry) -> f64 {
    GENTLE
        .iter()
        .find(|(n, _)| *n == d.name)
        .map_or(SCALE, |(_, s)| *s)
}
/// Cases running at once over the whole matrix (each on its own mock): the cases mostly wait
/// for the mock's clock, so this is well above the number of cores.
const AT_ONCE: usize = 10;

fn api_of(d: &Entry) -> Api {
    if d.rules.iter().all(|r| r.starts_with("UM-")) {
        Api::Aiqum
    } else {
        Api::Element
    }
}

/// Whether a case judges the target (EL-/UM- rules). Cases with only CL-* rules (`cases/client/`)
/// judge jobconform's own client against the faithful mock; against a deviating mock they are
/// not about the deviation, so the matrix leaves them out. (Run against the three deviations
/// that once misattributed to CL rules, they now report only the deviation's own rule; but their
/// interval measurements at the mock are too noisy under this test's parallel load.)
fn judges_the_target(c: &LoadedCase) -> bool {
    c.case.rules.iter().any(|r| !r.starts_with("CL-"))
}

fn must(d: &Entry) -> bool {
    d.rules.iter().any(|r| report::level_of(r) == Level::Must)
}

/// What one run of a deviation's API's cases against a mock with that deviation gave.
struct Run {
    /// Every rule with a finding (MUST or SHOULD), over all cases.
    failed: BTreeSet<String>,
    /// Records as `jobconform run` judges them, and with `--strict`.
    records: Vec<CaseRecord>,
    strict: Vec<CaseRecord>,
    /// Which case found what, for the failure message.
    log: Vec<String>,
}

async fn spawn_mock(d: &Entry) -> mock::RunningMock {
    mock::spawn(MockConfig {
        time_scale: scale_of(d),
        deviations: [d.deviation].into_iter().collect(),
        ..MockConfig::default()
    })
    .await
    .unwrap_or_else(|e| panic!("{d}: start the mock: {e}"))
}

/// The target for a mock, as the runner builds it for `--control`.
fn target_for(m: &mock::RunningMock, scale: f64) -> Target {
    let creds = Credentials {
        user: mock::DEFAULT_USER.into(),
        password: Secret::new(mock::DEFAULT_PASSWORD),
    };
    jobconform::target::mock("mock", &m.urls, scale, creds).expect("mock target")
}

/// `base` pointed at another mock, sharing its HTTP client: building a client blocks a runtime
/// thread for a while, which would delay every other case's timing.
fn retarget(base: &Target, m: &mock::RunningMock, scale: f64) -> Target {
    let mut t = base.clone();
    t.element = Some(element::Endpoint::parse(&m.urls.element).expect("element URL"));
    t.aiqum = Some(aiqum::Endpoint::parse(&m.urls.aiqum).expect("AIQUM URL"));
    t.kind = Kind::Mock {
        control: m.urls.control.clone(),
        time_scale: scale,
    };
    t.ledger = Arc::default();
    t
}

/// Runs the cases of the deviation's API, each on a fresh mock with the deviation (so no case
/// sees another's handles or jobs, and the cases of one deviation can run side by side), at most
/// `limit` cases at once over the whole matrix. The capabilities are probed once, on a mock of
/// their own, as the runner probes its target once.
async fn run_deviation(
    d: &'static Entry,
    cases: Arc<Vec<LoadedCase>>,
    limit: Arc<Semaphore>,
) -> Run {
    let (base, caps) = {
        let _permit = limit.acquire().await.expect("semaphore open");
        let m = spawn_mock(d).await;
        let base = tokio::task::block_in_place(|| target_for(&m, scale_of(d)));
        let caps = Arc::new(probe(&base).await);
        m.stop().await;
        (Arc::new(base), caps)
    };
    let api = api_of(d);
    let show = std::env::var("JOBCONFORM_SHOW").is_ok_and(|v| d.name.starts_with(&v));
    let mut set = JoinSet::new();
    let chosen = cases
        .iter()
        .enumerate()
        .filter(|(_, c)| c.case.api == api && judges_the_target(c));
    for (i, c) in chosen {
        let (cases, limit, caps, base) = (cases.clone(), limit.clone(), caps.clone(), base.clone());
        let name = c.name.clone();
        set.spawn(async move {
            let _permit = limit.acquire_owned().await.expect("semaphore open");
            let m = spawn_mock(d).await;
            let t = retarget(&base, &m, scale_of(d));
            let out = run_case(&cases[i], &t, &caps).await;
            drop(t);
            m.stop().await;
            if show {
                eprintln!("  {d}: {name} {:?} {:.1?}", out.status, out.duration);
            }
            (i, out)
        });
    }
    let mut outcomes = Vec::new();
    while let Some(r) = set.join_next().await {
        outcomes.push(r.unwrap_or_else(|e| panic!("{d}: a case panicked: {e}")));
    }
    outcomes.sort_by_key(|(i, _)| *i);
    let mut run = Run {
        failed: BTreeSet::new(),
        records: Vec::new(),
        strict: Vec::new(),
        log: Vec::new(),
    };
    for (i, out) in outcomes {
        let c = &cases[i];
        for f in &out.findings {
            run.failed.insert(f.rule.clone());
            run.log
                .push(format!("    {} -> {}: {}", c.name, f.rule, f.message));
        }
        let trial = format!("mock/{}", c.name);
        let strict = report::record(&trial, c, "mock", out.clone(), true);
        let rec = report::record(&trial, c, "mock", out, false);
        if let Some(reason) = &rec.reason {
            run.log
                .push(format!("    {} {}: {reason}", c.name, rec.outcome.as_str()));
        }
        run.records.push(rec);
        run.strict.push(strict);
    }
    run
}

/// What is wrong with a deviation's run, if anything.
fn judge(d: &Entry, run: &Run) -> Option<String> {
    let want: BTreeSet<String> = d.rules.iter().map(|r| r.to_string()).collect();
    let mut wrong = Vec::new();
    if run.failed != want {
        wrong.push(format!("failed {:?}, want {want:?}", run.failed));
    }
    let exit = exit_of(&run.records, report::ran(&run.records), false);
    let strict = exit_of(&run.strict, report::ran(&run.strict), false);
    let (want_exit, want_strict) = if must(d) {
        (Exit::Nonconformant, Exit::Nonconformant)
    } else {
        (Exit::Conformant, Exit::Nonconformant)
    };
    if exit != want_exit || strict != want_strict {
        wrong.push(format!(
            "exit {} (--strict {}), want {} ({})",
            exit.code(),
            strict.code(),
            want_exit.code(),
            want_strict.code()
        ));
    }
    if !must(d) {
        let warned = run.records.iter().any(|r| {
            r.outcome == Verdict::Warn
                && r.findings
                    .iter()
                    .any(|f| d.rules.contains(&f.finding.rule.as_str()))
        });
        if !warned {
            wrong.push("no case warns on the rule".into());
        }
    }
    (!wrong.is_empty()).then(|| format!("{d}: {}\n{}", wrong.join("; "), run.log.join("\n")))
}

fn load_cases() -> Vec<LoadedCase> {
    jobconform::runner::cases::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("cases"))
        .expect("cases load")
}

#[test]
fn every_deviation_fails_exactly_its_rules_with_its_exit_code() {
    jobconform::transport::install_crypto();
    let filter = std::env::var("JOBCONFORM_DEVIATIONS").unwrap_or_default();
    let chosen: Vec<&'static Entry> = deviation::ALL
        .iter()
        .filter(|d| d.name.starts_with(&filter))
        .collect();
    assert!(!chosen.is_empty(), "no deviation matches {filter:?}");
    let cases = Arc::new(load_cases());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    let started = std::time::Instant::now();
    let results = rt.block_on(async {
        let limit = Arc::new(Semaphore::new(AT_ONCE));
        let mut set = JoinSet::new();
        for d in chosen {
            let (cases, limit) = (cases.clone(), limit.clone());
            set.spawn(async move {
                let t = std::time::Instant::now();
                let run = run_deviation(d, cases, limit).await;
                eprintln!("{:<28} {:>6.1?}", d.name, t.elapsed());
                (d, run)
            });
        }
        let mut out = Vec::new();
        while let Some(r) = set.join_next().await {
            out.push(r.expect("a deviation's run panicked"));
        }
        out
    });
    eprintln!("{} deviations in {:.1?}", results.len(), started.elapsed());
    let mut wrong: Vec<String> = results.iter().filter_map(|(d, r)| judge(d, r)).collect();
    wrong.sort();
    assert!(
        wrong.is_empty(),
        "{} deviation(s) not caught exactly:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn the_readme_deviation_table_is_the_registry() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("read README.md");
    let begin = "<!-- DEVIATIONS:BEGIN -->";
    let end = "<!-- DEVIATIONS:END -->";
    let start = readme.find(begin).expect("README has the BEGIN marker") + begin.len();
    let stop = readme[start..]
        .find(end)
        .expect("README has the END marker")
        + start;
    let table = deviation::markdown_table();
    assert_eq!(
        readme[start..stop].trim(),
        table.trim(),
        "README.md's deviation table is stale: put the output of \
         `cargo run -- deviations --format markdown` between the markers"
    );
    assert_eq!(table.lines().count(), deviation::ALL.len() + 2);
}

mod cli {
    use super::support::{Served, live_run, text};

    /// `jobconform run` of one API's cases, one at a time, against `serve --deviation NAME`.
    fn run(name: &str, api: &str, extra: &[&str]) -> (Option<i32>, String, String) {
        let s = Served::start(&["--deviation", name, "--time-scale", "50"]);
        let control = s.url("control");
        let filter = format!("mock/{api}/");
        let mut args = vec![
            "--control",
            control.as_str(),
            "--mock-time-scale",
            "50",
            "--concurrency",
            "1",
            "--snapshots",
            "off",
            filter.as_str(),
        ];
        args.extend_from_slice(extra);
        let o = live_run(&s, &args).output().expect("run");
        let (out, err) = text(&o);
        (o.status.code(), out, err)
    }

    #[test]
    fn a_must_deviation_on_element_exits_1_naming_its_rule() {
        let (code, out, err) = run("unknown-handle-wrong-code", "element", &[]);
        assert_eq!(code, Some(1), "{out}\n{err}");
        assert!(out.contains("EL-GAR-UNKNOWN"), "{out}");
    }

    #[test]
    fn a_must_deviation_on_aiqum_exits_1_naming_its_rule() {
        let (code, out, err) = run("accept-200", "aiqum", &[]);
        assert_eq!(code, Some(1), "{out}\n{err}");
        assert!(out.contains("UM-ACCEPT-202"), "{out}");
    }

    #[test]
    fn a_should_deviation_warns_with_exit_0_and_fails_under_strict() {
        let (code, out, err) = run("no-job-results", "aiqum", &[]);
        assert_eq!(code, Some(0), "{out}\n{err}");
        assert!(
            err.contains("warnings") && err.contains("UM-RESULTS"),
            "{err}"
        );
        let (code, out, err) = run("no-job-results", "aiqum", &["--strict"]);
        assert_eq!(code, Some(1), "{out}\n{err}");
        assert!(out.contains("UM-RESULTS (SHOULD)"), "{out}");
    }
}
