//! Runs one case against one target, step by step: templating, sending through `transport`,
//! judging through `check`, polling through `poll`, recording the transcript. Owns the I/O side of
//! named checks. The types below are the agreed interface with `runner`, `report` and `snapshot`;
//! a case never decides its own verdict here beyond its expected failure.

use std::ops::Range;
use std::time::Duration;

use serde::Serialize;

use crate::case::LoadedCase;
use crate::check::Finding;
use crate::target::Target;
use crate::transport::Exchange;

mod builtins;
mod history;
pub mod named;
mod pending;
mod probe;
pub mod retry;
pub mod run;
mod send;
mod start;
mod steps;
mod timing;

pub use send::ElCall;

/// What a target offers, probed once per target before its cases run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Capabilities {
    /// AIQUM long polling (register U3) answered as specified.
    pub long_poll: bool,
    /// Whether long polling was probed at all (a running job to probe with was found or
    /// started); `false` means "not probed", not "not offered".
    pub long_poll_probed: bool,
    /// AIQUM dialect seen (register U1), if any job was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aiqum_dialect: Option<crate::check::AiqumDialect>,
    /// How the probe concluded, for the report.
    pub notes: Vec<String>,
}

/// How a case ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Status {
    /// Every step ran; the findings say whether it conformed.
    Ran,
    /// Not run on this target (needs mutations, scripted jobs, a capability); never silently.
    Skipped {
        /// Why.
        reason: String,
    },
    /// A precondition failed in a way no rule of this case covers (the findings say what was
    /// seen); the case's own rules are neither passed nor failed.
    Inconclusive {
        /// Why.
        reason: String,
    },
    /// The harness could not do its job (bad template variable, target unreachable, ...).
    HarnessError {
        /// What went wrong, reading after "failed to".
        message: String,
    },
}

/// Everything one case produced on one target.
#[derive(Debug, Clone, Serialize)]
pub struct CaseOutcome {
    /// How it ended.
    pub status: Status,
    /// Conformance findings, each naming its rule.
    pub findings: Vec<Finding>,
    /// Every exchange, in order (credentials already redacted by transport).
    pub transcript: Vec<Exchange>,
    /// Register decisions applied and facts recorded (e.g. `E1: unknown handle named xDBNoSuchPath`).
    pub notes: Vec<String>,
    /// Wall time.
    pub duration: Duration,
    /// Per-observation rules the case's observations exercised (`check::observed`), counted
    /// for it besides the rules it names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub observed: Vec<String>,
    /// Transcript ranges of `concurrent` groups: which of N simultaneous calls wins is a race,
    /// so snapshots put each group in a canonical order (`snapshot::order`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub concurrent: Vec<Range<usize>>,
    /// Transcript ranges of target-wide setup that this case sent for every case of the target
    /// (the Element scratch account, made by whichever case needs it first): left out of
    /// snapshots.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shared_setup: Vec<Range<usize>>,
    /// The findings of an expected failure that happened as the case says it must (then they
    /// are not failures, and `findings` is empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expected: Vec<Finding>,
    /// The Element dialect the case's unknown-handle answers showed (register E1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element_dialect: Option<crate::check::ElementDialect>,
}

impl CaseOutcome {
    /// An outcome with nothing in it but its status (a case that never ran).
    pub fn of(status: Status) -> CaseOutcome {
        CaseOutcome {
            status,
            findings: Vec::new(),
            transcript: Vec::new(),
            notes: Vec::new(),
            duration: Duration::ZERO,
            observed: Vec::new(),
            concurrent: Vec::new(),
            shared_setup: Vec::new(),
            expected: Vec::new(),
            element_dialect: None,
        }
    }
}

/// Attempts of a case that starts real work on a live target: when the work did not show what
/// the case needs (a clone already complete at its first poll), the case is inconclusive and is
/// tried again with fresh work, at most this many times in all.
pub const LIVE_ATTEMPTS: usize = 3;

/// Told about every poll a case runs (the runner shows progress with it): `exec` draws nothing.
pub trait Watcher: Send + Sync {
    /// A poll of `job` on `target` begins; its events go to the returned watch, which is dropped
    /// when the poll ends.
    fn poll(&self, target: &str, job: &str) -> Box<dyn PollWatch>;
}

/// What watches one poll.
pub trait PollWatch: Send {
    /// One event of the poll, in the order it happens.
    fn event(&mut self, e: &crate::poll::Event<'_>);
}

/// A watcher that is told nothing and shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unwatched;

impl Watcher for Unwatched {
    fn poll(&self, _: &str, _: &str) -> Box<dyn PollWatch> {
        Box::new(Unwatched)
    }
}

impl PollWatch for Unwatched {
    fn event(&mut self, _: &crate::poll::Event<'_>) {}
}

/// Runs one case on one target, watched by nobody.
pub async fn run_case(case: &LoadedCase, target: &Target, caps: &Capabilities) -> CaseOutcome {
    run_case_watched(case, target, caps, &Unwatched).await
}

/// Runs one case on one target, telling `watcher` about its polls.
pub async fn run_case_watched(
    case: &LoadedCase,
    target: &Target,
    caps: &Capabilities,
    watcher: &dyn Watcher,
) -> CaseOutcome {
    let started = std::time::Instant::now();
    let c = &case.case;
    let real_work = !target.is_mock() && c.needs == crate::case::Needs::Mutations;
    let mut earlier = Vec::new();
    let (mut out, stop) = loop {
        let (out, stop) = attempt(case, target, caps, watcher).await;
        let retry = match &stop {
            Some(run::Stop::Unseen(reason)) if real_work && out.findings.is_empty() => {
                Some(reason.clone())
            }
            _ => None,
        };
        match retry {
            Some(reason) if earlier.len() + 1 < LIVE_ATTEMPTS => earlier.push(format!(
                "attempt {} with real work was inconclusive ({reason}); tried again with fresh work",
                earlier.len() + 1
            )),
            _ => break (out, stop),
        }
    };
    for n in earlier {
        if !out.notes.contains(&n) {
            out.notes.push(n);
        }
    }
    let mut status = match stop {
        None | Some(run::Stop::Halt) => Status::Ran,
        Some(run::Stop::Skip(reason)) => Status::Skipped { reason },
        Some(run::Stop::Inconclusive(reason) | run::Stop::Unseen(reason)) => {
            Status::Inconclusive { reason }
        }
        Some(run::Stop::Harness(message)) => Status::HarnessError { message },
    };
    let mut findings = std::mem::take(&mut out.findings);
    let mut notes = std::mem::take(&mut out.notes);
    let mut expected = Vec::new();
    if let (Some(ef), Status::Ran) = (&c.expect_failure, &status) {
        let failed: std::collections::BTreeSet<&str> =
            findings.iter().map(|f| f.rule.as_str()).collect();
        let wanted: std::collections::BTreeSet<&str> =
            ef.rules.iter().map(String::as_str).collect();
        if failed == wanted {
            notes.push(format!(
                "expected failure on {:?} happened: {}",
                ef.rules, ef.reason
            ));
            for f in &findings {
                notes.push(format!("expected: {}: {}", f.rule, f.message));
            }
            expected = std::mem::take(&mut findings);
        } else {
            status = Status::HarnessError {
                message: format!(
                    "see the expected failure on {wanted:?} happen: the case failed on {failed:?}"
                ),
            };
        }
    }
    CaseOutcome {
        status,
        findings,
        transcript: out.transcript,
        notes,
        duration: started.elapsed(),
        observed: out.observed,
        concurrent: out.concurrent,
        shared_setup: out.shared_setup,
        expected,
        element_dialect: out.element_dialect,
    }
}

/// Why `case` does not start: the run was interrupted, or [`cannot_run`].
fn skip_reason(case: &LoadedCase, target: &Target, caps: &Capabilities) -> Option<String> {
    if target.interrupted.load(std::sync::atomic::Ordering::SeqCst) {
        return Some("interrupted: nothing new is started".into());
    }
    cannot_run(case, target, caps)
}

/// Why `target` cannot run `case`, if it cannot.
pub fn cannot_run(case: &LoadedCase, target: &Target, caps: &Capabilities) -> Option<String> {
    use crate::case::{Api, Capability, Needs};
    let c = &case.case;
    match c.api {
        Api::Element if target.element.is_none() => {
            return Some("target has no Element endpoint (--element)".into());
        }
        Api::Aiqum if target.aiqum.is_none() => {
            return Some("target has no AIQUM endpoint (--aiqum)".into());
        }
        _ => {}
    }
    match c.needs {
        Needs::Scripted if !target.is_mock() => {
            return Some("needs the mock's scripted jobs; never runs on a live target".into());
        }
        Needs::Mutations if !target.allow_mutations => {
            return Some("creates objects on the target: run with --allow-mutations".into());
        }
        Needs::Mutations if c.api == Api::Aiqum && !target.is_mock() => {
            // A case that starts no work of its own still counts on the profile's call.
            let failing = c.starts(|w| matches!(w, crate::case::Work::FailingCall));
            let call = !failing || c.starts(|w| matches!(w, crate::case::Work::Call));
            for (needed, configured, name) in [
                (call, target.aiqum_call.is_some(), "aiqum_call"),
                (
                    failing,
                    target.aiqum_failing_call.is_some(),
                    "aiqum_failing_call",
                ),
            ] {
                if needed && !configured {
                    return Some(format!(
                        "no {name} configured for this target (see --profile)"
                    ));
                }
            }
        }
        _ => {}
    }
    if c.requires.contains(&Capability::LongPoll) && !caps.long_poll {
        return Some(if caps.long_poll_probed {
            "target does not offer AIQUM long polling (register U3)".into()
        } else {
            "AIQUM long polling not probed: no running job to probe with (run with --allow-mutations and an aiqum_call)".into()
        });
    }
    None
}

/// One attempt: the steps, then (unless the case was skipped before sending anything) its cleanup
/// steps, and the AIQUM objects still unnamed handed to the ledger.
async fn attempt(
    case: &LoadedCase,
    target: &Target,
    caps: &Capabilities,
    watcher: &dyn Watcher,
) -> (run::Produced, Option<run::Stop>) {
    let c = &case.case;
    let mut run = run::Run::new(target, caps, c, watcher);
    let stop = match skip_reason(case, target, caps) {
        Some(reason) => Some(run::Stop::Skip(reason)),
        None => run_steps(&mut run).await,
    };
    let skipped = matches!(stop, Some(run::Stop::Skip(_))) && run.transcript().is_empty();
    if !skipped {
        for (i, st) in c.cleanup.iter().enumerate() {
            if let Err(e) = steps::step(&mut run, st).await {
                run.note(format!("cleanup step {i} did not finish: {e:?}"));
            }
        }
    }
    (run.finish(), stop)
}

async fn run_steps(run: &mut run::Run<'_>) -> Option<run::Stop> {
    if let Err(stop) = builtins::prepare(run).await {
        return Some(stop);
    }
    for st in &run.case().steps {
        if let Err(stop) = steps::step(run, st).await {
            return Some(stop);
        }
    }
    None
}

/// Probes a target's optional capabilities (long polling) and dialect.
pub async fn probe(target: &Target) -> Capabilities {
    probe::probe(target).await
}
