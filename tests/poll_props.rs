//! Property tests of the reference poller (`jobconform::poll`) against a scripted job server on
//! the same paused current-thread tokio runtime (virtual time: minutes of polling take
//! milliseconds). Generated: job timelines (steps, WARNING mid-run and at the end, failure,
//! aborted), transient faults at random requests and on the terminal answer, long polling on/off
//! (and asked of a server without it), policies. Each property is its own test, and each has a
//! `teeth_*` test showing that its checker rejects a deliberately broken poller.
//!
//! Case counts: `PROPTEST_CASES` overrides the tuned default ([`CASES`]). Failures are persisted
//! to `tests/poll_props.proptest-regressions` and replayed first.
//!
//! Two servers: `poll_props/fake.rs`, a small scripted server that can inject transient faults
//! (503, connection reset, `xDBVersionMismatch`), and the real mock (`jobconform::mock`, jobs
//! started through its control API, no faults), for which every property runs again in
//! `real_mock::{element,aiqum}`. Both are served in process (`Client::in_process`: no socket, the
//! same exchanges, timeouts and error kinds as over HTTP, shown by the transport's
//! `in_process_and_http_agree` tests); the examples against the real mock go over HTTP. Property checkers: `check.rs`; generators: `generate.rs`;
//! broken pollers: `broken.rs`; example tests: `examples.rs`.

#[path = "poll_props/broken.rs"]
mod broken;
#[path = "poll_props/check.rs"]
mod check;
#[path = "poll_props/examples.rs"]
mod examples;
#[path = "poll_props/fake.rs"]
mod fake;
#[path = "poll_props/generate.rs"]
mod generate;
#[path = "poll_props/real.rs"]
mod real;
#[path = "common/seed.rs"]
mod seed;

use std::collections::BTreeMap;
use std::time::Duration;

use jobconform::mock::audit::{AuditConfig, audit};
use jobconform::poll::{self, Keep};
use jobconform::transport::{Client, Limits, aiqum, element};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use serde_json::json;

use broken::Broken;
use check::{Api, Run, Scenario};
use fake::Fault;
use generate::{any_scenario, scenario, warning_mid_run};

/// Default cases per property (tuned so the whole file runs in a few seconds in debug).
const CASES: u32 = 64;
/// Cases per property against the real mock.
const REAL_CASES: u32 = 32;
/// Cases per teeth test (a broken poller must be caught within these).
const TEETH_CASES: u32 = 64;

/// Which poller a run uses.
#[derive(Debug, Clone, Copy)]
enum Poller {
    Reference,
    Broken(Broken),
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn config() -> Config {
    let path: &'static str = Box::leak(
        format!(
            "{}/tests/poll_props.proptest-regressions",
            env!("CARGO_MANIFEST_DIR")
        )
        .into_boxed_str(),
    );
    seed::seeded(Config {
        cases: cases(CASES),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(path))),
        ..Config::default()
    })
}

/// Runs one scenario with one poller, server and client on one paused runtime.
fn run(sc: &Scenario, poller: Poller) -> Run {
    // In process nothing does I/O: only the (paused) timer is needed.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    rt.block_on(async {
        sc.seed_jitter();
        let server = fake::spawn(sc.script.clone());
        let client =
            Client::in_process(None, Limits::default(), server.service.clone()).expect("client");
        let mut observed = 0u32;
        let mut observe = |_: &jobconform::transport::Exchange| observed += 1;
        let out = match (poller, sc.api) {
            (Poller::Reference, Api::Element) => {
                let ep = element::Endpoint::parse(&format!("{}/json-rpc/12.5", server.base))
                    .expect("endpoint");
                let handle = json!(fake::HANDLE);
                poll::element(&client, &ep, &handle, &sc.policy, sc.keep, &mut observe).await
            }
            (Poller::Reference, Api::Aiqum) => {
                let ep = aiqum::Endpoint::parse(&format!("{}/api", server.base)).expect("ep");
                poll::aiqum(&client, &ep, fake::KEY, &sc.policy, &mut observe).await
            }
            (Poller::Broken(kind), api) => {
                broken::run(kind, api, &client, &server.base, &sc.policy, &mut observe).await
            }
        };
        let returned = server.t0().elapsed();
        let api = if sc.api == Api::Element {
            "element"
        } else {
            "aiqum"
        };
        Run {
            sc: sc.clone(),
            out,
            log: server.log(),
            returned,
            observed,
            journal: server.journal(api),
            clock_error: Duration::ZERO,
        }
    })
}

type Checker = fn(&Run) -> Result<(), String>;

/// Runs a property over generated scenarios with the reference poller; panics on a failure.
fn holds(check: Checker, strategy: impl Strategy<Value = Scenario>) {
    let mut runner = TestRunner::new(config());
    let result = runner.run(&strategy, |sc| {
        check(&run(&sc, Poller::Reference)).map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Runs a property over scenarios of one API (without faults: the mock injects none) against the
/// real mock.
fn holds_on_real_mock(api: Api, check: Checker) {
    let mut config = config();
    config.cases = cases(REAL_CASES);
    let strategy = scenario(api, vec![Keep::Keep, Keep::KeepThenRelease]).prop_map(|mut sc| {
        sc.script.faults.clear();
        sc.script.fault_on_terminal = None;
        sc
    });
    let result = TestRunner::new(config).run(&strategy, |sc| {
        check(&real::run(&sc)).map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Asserts that a property checker rejects a broken poller on some generated scenario.
fn rejects(check: Checker, poller: Poller, strategy: impl Strategy<Value = Scenario>) {
    let mut runner = TestRunner::new(seed::seeded(Config {
        cases: cases(TEETH_CASES),
        failure_persistence: None,
        max_shrink_iters: 0,
        ..Config::default()
    }));
    let result = runner.run(&strategy, |sc| {
        check(&run(&sc, poller)).map_err(TestCaseError::fail)
    });
    assert!(result.is_err(), "{poller:?} was not caught");
}

#[test]
fn ends_iff_terminal_or_deadline() {
    holds(check::ends_iff_terminal_or_deadline, any_scenario());
}

#[test]
fn never_polls_after_terminal() {
    holds(check::never_polls_after_terminal, any_scenario());
}

#[test]
fn intervals_respect_minimum_and_never_shrink_while_unchanged() {
    holds(
        check::intervals_respect_minimum_and_never_shrink,
        any_scenario(),
    );
}

#[test]
fn completion_detected_within_one_max_interval_or_promptly_with_long_poll() {
    holds(check::completion_detected_promptly, any_scenario());
}

#[test]
fn request_count_bounded() {
    holds(check::request_count_bounded, any_scenario());
}

#[test]
fn no_element_result_lost() {
    let keeps = vec![Keep::Keep, Keep::KeepThenRelease];
    holds(check::no_element_result_lost, scenario(Api::Element, keeps));
}

/// The client audit (`jobconform::mock::audit`) finds the reference poller's journal clean in
/// every scenario: the audit and the poller agree on the client rules.
#[test]
fn audit_finds_own_poller_clean() {
    holds(audit_clean, any_scenario());
}

/// The audit of a run's journal, with the run's policy as the client's promises, is clean.
fn audit_clean(r: &Run) -> Result<(), String> {
    let config = AuditConfig {
        min_interval_ms: r.sc.policy.min_interval.as_millis() as u64,
        deadline_ms: Some(r.sc.policy.deadline.as_millis() as u64),
        ..AuditConfig::default()
    };
    let report = audit(&r.journal, &config);
    if report.clean() {
        Ok(())
    } else {
        Err(report.to_text())
    }
}

#[test]
fn teeth_ends_iff_terminal_or_deadline_rejects_stop_on_warning() {
    rejects(
        check::ends_iff_terminal_or_deadline,
        Poller::Broken(Broken::StopOnWarning),
        warning_mid_run(),
    );
}

#[test]
fn teeth_never_polls_after_terminal_rejects_one_more_poll() {
    rejects(
        check::never_polls_after_terminal,
        Poller::Broken(Broken::OneMoreAfterTerminal),
        any_scenario(),
    );
}

#[test]
fn teeth_intervals_reject_hammering_and_shrinking() {
    for kind in [Broken::Hammer, Broken::Shrinking] {
        rejects(
            check::intervals_respect_minimum_and_never_shrink,
            Poller::Broken(kind),
            any_scenario(),
        );
    }
}

#[test]
fn teeth_completion_detection_rejects_slow_poller() {
    rejects(
        check::completion_detected_promptly,
        Poller::Broken(Broken::Slow),
        any_scenario(),
    );
}

#[test]
fn teeth_request_count_rejects_hammering() {
    rejects(
        check::request_count_bounded,
        Poller::Broken(Broken::Hammer),
        any_scenario(),
    );
}

#[test]
fn teeth_no_element_result_lost_rejects_polling_without_keep_result() {
    // The reference poller with keepResult absent (a careless client): a connection reset on the
    // complete answer loses the result for good.
    let strategy = scenario(Api::Element, vec![Keep::Absent]).prop_map(|mut sc| {
        sc.script.fault_on_terminal = Some(Fault::Reset);
        sc.script.faults = BTreeMap::new();
        sc
    });
    rejects(check::no_element_result_lost, Poller::Reference, strategy);
}

/// The properties again, against the real mock (`jobconform::mock`) instead of the fake server.
mod real_mock {
    use super::check::{self, Api};
    use super::holds_on_real_mock;

    macro_rules! real_mock_properties {
        ($($name:ident => $check:expr;)+) => {
            /// Element (`POST /_jobconform/element/jobs`).
            mod element {
                use super::*;
                $(#[test]
                fn $name() {
                    holds_on_real_mock(Api::Element, $check);
                })+
            }
            /// AIQUM (`POST /_jobconform/aiqum/jobs`), long polling offered or not.
            mod aiqum {
                use super::*;
                $(#[test]
                fn $name() {
                    holds_on_real_mock(Api::Aiqum, $check);
                })+
            }
        };
    }

    real_mock_properties! {
        ends_iff_terminal_or_deadline => check::ends_iff_terminal_or_deadline;
        never_polls_after_terminal => check::never_polls_after_terminal;
        intervals_respect_minimum_and_never_shrink_while_unchanged =>
            check::intervals_respect_minimum_and_never_shrink;
        completion_detected_promptly => check::completion_detected_promptly;
        request_count_bounded => check::request_count_bounded;
        no_element_result_lost => check::no_element_result_lost;
        audit_finds_own_poller_clean => super::super::audit_clean;
    }
}
