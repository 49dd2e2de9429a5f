//! Stateful, model-based test of the mock (issue 5): random sequences of scripted Element and
//! AIQUM jobs, GetAsyncResult with keepResult absent/false/true, ListAsyncResults with and without
//! a type filter, AIQUM job reads by key, list pages and page walks, and clock advances, run
//! against a default mock on a paused tokio runtime and compared at every step with a reference
//! model written from CONTRACT.md §2–4 (proptest-state-machine, driven without its macro).
//! This file owns the runner configuration only: the model is in `model/reference.rs`, the
//! system under test in `model/sut.rs`, the comparisons in `model/element.rs` and
//! `model/aiqum.rs`. It must not reach into the mock's state other than to read its clock.
//!
//! `PROPTEST_CASES=N cargo test --test model` runs N sequences (default 300); failures are
//! shrunk and their seeds kept in `tests/model.proptest-regressions`, replayed first next time.

#[path = "model/aiqum.rs"]
mod aiqum;
#[path = "model/element.rs"]
mod element;
#[path = "model/reference.rs"]
mod reference;
#[path = "model/sut.rs"]
mod sut;

use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};

/// Sequences per run unless `PROPTEST_CASES` says otherwise.
const DEFAULT_CASES: u32 = 300;

const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/model.proptest-regressions"
);

fn config() -> Config {
    let mut cfg = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        cfg.cases = DEFAULT_CASES;
    }
    cfg.failure_persistence = Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS)));
    cfg
}

#[test]
fn mock_agrees_with_the_model() {
    let cfg = config();
    let mut runner = TestRunner::new(cfg.clone());
    let strategy = reference::Model::sequential_strategy(1..40);
    let result = runner.run(&strategy, |(init, transitions, seen)| {
        sut::MockMachine::test_sequential(cfg.clone(), init, transitions, seen);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Deviations from the contract that the transitions reach; each must make the model disagree.
const CAUGHT: &[&str] = &[
    "id-not-echoed",
    "errors-as-http-500",
    "error-code-string",
    "status-completed",
    "running-with-result",
    "running-without-details",
    "details-when-complete",
    "both-result-and-error",
    "async-error-without-name",
    "times-without-z",
    "last-update-backwards",
    "unknown-handle-wrong-code",
    "purge-running",
    "purge-despite-keep",
    "keep-absent-ignored",
    "keep-false-ignored",
    "reuse-handles",
    "list-completed-as-string",
    "list-ignores-filter",
    "list-purges",
    "list-data-differs",
    "list-keeps-purged",
    "jobs-text-plain",
    "errors-html",
    "job-without-links",
    "status-success",
    "complete-before-submit",
    "terminal-flaps",
    "state-backwards",
    "warning-terminal",
    "failed-job-500",
    "no-job-results",
    "unknown-key-500",
    "keys-need-escaping",
    "forget-finished",
    "list-num-records-wrong",
    "list-oldest-first",
    "list-default-all",
    "pages-overlap",
];

/// The model has teeth: against a mock with one deviation, some sequence disagrees.
#[test]
fn every_reachable_deviation_is_caught() {
    let mut missed = Vec::new();
    for &name in CAUGHT {
        sut::DEVIATIONS.with(|d| *d.borrow_mut() = vec![name]);
        let cfg = Config {
            cases: 64,
            max_shrink_iters: 1,
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner = TestRunner::new(cfg.clone());
        let strategy = reference::Model::sequential_strategy(1..40);
        let result = runner.run(&strategy, |(init, transitions, seen)| {
            sut::MockMachine::test_sequential(cfg.clone(), init, transitions, seen);
            Ok(())
        });
        if result.is_ok() {
            missed.push(name);
        }
    }
    sut::DEVIATIONS.with(|d| d.borrow_mut().clear());
    assert!(
        missed.is_empty(),
        "deviations no sequence caught: {missed:?}"
    );
}
