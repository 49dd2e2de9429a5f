//! Cases x targets -> libtest-mimic trials. One trial per (target, case), named `TARGET/CASE`.
//! A case a target cannot run is ignored at run time with its reason, never dropped. Every trial
//! records its result (libtest-mimic's conclusion only has counts) for the reports.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use libtest_mimic::{Completion, Failed, Trial};
use tokio::sync::{RwLock, Semaphore};

use super::targets::TargetsError;
use crate::case::LoadedCase;
use crate::exec::{Capabilities, CaseOutcome, Status, cannot_run};
use crate::mock::{self, MockConfig};
use crate::report::{self, CaseRecord, Verdict, text};
use crate::target::Target;

/// A target ready for trials: probed capabilities and its concurrency cap.
#[derive(Debug, Clone)]
pub struct Ready {
    /// The target.
    pub target: Arc<Target>,
    /// Its capabilities.
    pub caps: Arc<Capabilities>,
    /// At most this many of its cases at once.
    pub permits: Arc<Semaphore>,
    /// Cases about the whole job list take this exclusively, every other case shared.
    pub list_lock: Arc<RwLock<()>>,
    /// For the embedded mock, its configuration: cases about the whole job list run on a fresh
    /// copy of it (see `on_private_mock`) instead of taking `list_lock`.
    pub private: Option<Arc<MockConfig>>,
    /// Firmware label (snapshot directory).
    pub label: String,
}

/// Whether a case judges a whole list of jobs or handles (`*-LIST-*` rules): other cases creating
/// jobs meanwhile would change what it sees, so it runs alone on its target.
pub fn needs_whole_target(case: &LoadedCase) -> bool {
    case.case.rules.iter().any(|r| r.contains("-LIST-"))
}

/// A trial's name: `TARGET/CASE`.
pub fn trial_name(target: &str, case: &str) -> String {
    format!("{target}/{case}")
}

/// The per-trial records, filled as trials finish.
pub type Records = Arc<Mutex<Vec<CaseRecord>>>;

fn panic_text(e: tokio::task::JoinError) -> String {
    if e.is_panic() {
        let p = e.into_panic();
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into())
    } else {
        "cancelled".into()
    }
}

fn outcome_of(status: Status) -> CaseOutcome {
    CaseOutcome::of(status)
}

/// Runs one case on one target (on the shared runtime, within the target's concurrency cap);
/// also returns the target it ran on (a private copy of the embedded mock, for some cases).
fn execute(
    rt: &'static tokio::runtime::Runtime,
    case: &Arc<LoadedCase>,
    ready: &Ready,
) -> (CaseOutcome, Arc<Target>) {
    let target = &ready.target;
    if let Some(reason) = cannot_run(case, target, &ready.caps) {
        return (outcome_of(Status::Skipped { reason }), target.clone());
    }
    let (case, mut target, caps, permits, lock) = (
        case.clone(),
        target.clone(),
        ready.caps.clone(),
        ready.permits.clone(),
        ready.list_lock.clone(),
    );
    let whole = needs_whole_target(&case);
    let private = ready.private.clone().filter(|_| whole);
    rt.block_on(async move {
        // Lock before permit, in every trial: no trial holds a permit while waiting for the lock.
        // A case on a private mock has its target to itself and needs no lock.
        let (_alone, _shared) = match (&private, whole) {
            (Some(_), _) => (None, None),
            (None, true) => (Some(lock.write_owned().await), None),
            (None, false) => (None, Some(lock.read_owned().await)),
        };
        let Ok(_permit) = permits.acquire_owned().await else {
            let reason = "not started: run shutting down".into();
            return (outcome_of(Status::Skipped { reason }), target);
        };
        if target.interrupted.load(Ordering::SeqCst) {
            let reason = "not started: run interrupted".into();
            return (outcome_of(Status::Skipped { reason }), target);
        }
        let mut copy = None;
        if let Some(config) = &private {
            match on_private_mock(config, &target).await {
                Ok((t, running)) => (target, copy) = (Arc::new(t), Some(running)),
                Err(e) => {
                    let message = e.to_string();
                    return (outcome_of(Status::HarnessError { message }), target);
                }
            }
        }
        let used = target.clone();
        let task = tokio::spawn(async move {
            let terminal = crate::report::progress::Terminal;
            crate::exec::run_case_watched(&case, &target, &caps, &terminal).await
        });
        let outcome = match task.await {
            Ok(o) => o,
            Err(e) => outcome_of(Status::HarnessError {
                message: format!("run the case: it panicked: {}", panic_text(e)),
            }),
        };
        if let Some(running) = copy {
            running.stop().await;
        }
        (outcome, used)
    })
}

/// A fresh copy of the embedded mock (same configuration: dialects, time scale, deviations) and
/// `main` pointed at it: same name, label, policy and interrupt flag, its own ledger. A case
/// about the whole job list sees only its own jobs there without stopping every other case, as
/// the exclusive lock on a shared target must. Whatever the case creates there is gone when the
/// copy stops after the case.
async fn on_private_mock(
    config: &MockConfig,
    main: &Target,
) -> Result<(Target, mock::RunningMock), TargetsError> {
    let running = mock::spawn(config.clone())
        .await
        .map_err(TargetsError::StartPrivateMock)?;
    let creds = crate::transport::Credentials {
        user: config.user.clone(),
        password: config.password.clone(),
    };
    let mut t = crate::target::mock(&main.name, &running.urls, main.time_scale(), creds)?;
    t.policy = main.policy.clone();
    t.label = main.label.clone();
    t.interrupted = main.interrupted.clone();
    Ok((t, running))
}

/// Redacts everything of a record that came from the target (findings, notes, reason).
fn redact(mut r: CaseRecord, target: &Target) -> CaseRecord {
    let c = &target.client;
    for f in &mut r.findings {
        f.finding.message = c.redact_str(&f.finding.message);
        f.finding.expected = f.finding.expected.take().map(|v| c.redact_value(v));
        f.finding.actual = f.finding.actual.take().map(|v| c.redact_value(v));
    }
    r.notes = r.notes.iter().map(|n| c.redact_str(n)).collect();
    r.reason = r.reason.as_deref().map(|s| c.redact_str(s));
    r
}

/// How the trials judge and record, and in which order they start.
#[derive(Debug, Clone)]
pub struct BuildConfig {
    /// `--strict`: SHOULD findings fail.
    pub strict: bool,
    /// Snapshot mode and root.
    pub snapshots: super::snapshots::Settings,
    /// Where each trial's record goes.
    pub records: Records,
    /// Order trials by [`crate::case::Case::expected_ms`], longest first (else in the cases'
    /// order, e.g. for `--list`).
    pub longest_first: bool,
}

/// Builds the trials for every case and target, in the order `config` asks for.
pub fn build(
    rt: &'static tokio::runtime::Runtime,
    targets: &[Ready],
    cases: &[Arc<LoadedCase>],
    config: &BuildConfig,
) -> Vec<Trial> {
    let mut trials = Vec::with_capacity(targets.len() * cases.len());
    let mut cases = cases.to_vec();
    let strict = config.strict;
    if config.longest_first {
        // Stable: cases of equal length keep their order. A long case started last would end the
        // run late while the other threads idle.
        cases.sort_by_cached_key(|c| std::cmp::Reverse(c.case.expected_ms()));
    }
    // Case-major order interleaves targets, so every target's cases start early (libtest-mimic
    // hands trials to its threads in order) and no target waits behind another's permits.
    for case in &cases {
        for ready in targets {
            let name = trial_name(&ready.target.name, &case.name);
            let (ready, case, records) = (ready.clone(), case.clone(), config.records.clone());
            let snapshots = config.snapshots.clone();
            let trial_name = name.clone();
            trials.push(Trial::ignorable_test(name, move || {
                let (outcome, used) = execute(rt, &case, &ready);
                let snap =
                    super::snapshots::check(&snapshots, &ready.label, &case, &outcome, &used);
                let rec = redact(
                    report::with_snapshot(
                        report::record(&trial_name, &case, &used.name, outcome, strict),
                        snap,
                    ),
                    &used,
                );
                let result = completion(&rec);
                records.lock().unwrap_or_else(|p| p.into_inner()).push(rec);
                result
            }));
        }
    }
    trials
}

/// What libtest-mimic is told about a record.
fn completion(r: &CaseRecord) -> Result<Completion, Failed> {
    match r.outcome {
        Verdict::Pass | Verdict::Warn => Ok(Completion::Completed),
        Verdict::Skipped | Verdict::Inconclusive => Ok(Completion::ignored_with(
            r.reason.clone().unwrap_or_default(),
        )),
        Verdict::Fail | Verdict::Error => Err(text::failure(r).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::TargetConfig;

    fn case(api: &str, needs: &str, requires: &[&str], rules: &[&str]) -> LoadedCase {
        let v = serde_json::json!({
            "description": "d", "api": api, "rules": rules, "needs": needs,
            "requires": requires, "steps": []
        });
        LoadedCase {
            name: "x/y".into(),
            path: "cases/x/y.json".into(),
            case: serde_json::from_value(v).expect("case"),
        }
    }

    fn live(allow_mutations: bool, aiqum: bool) -> Target {
        // PATH is always set: it stands in for a password variable without touching the env.
        let cfg = TargetConfig {
            element: Some("https://192.0.2.1/json-rpc/12.5".into()),
            aiqum: aiqum.then(|| "https://192.0.2.1/api".into()),
            password_env: Some("PATH".into()),
            allow_mutations,
            ..TargetConfig::default()
        };
        crate::target::live("lab", &cfg).expect("target").target
    }

    #[test]
    fn live_targets_refuse_with_a_reason() {
        let caps = Capabilities::default();
        let ro = live(false, false);
        let why = |c: &LoadedCase, t: &Target| cannot_run(c, t, &caps).unwrap_or_default();
        assert!(why(&case("element", "mutations", &[], &[]), &ro).contains("--allow-mutations"));
        assert!(why(&case("element", "scripted", &[], &[]), &ro).contains("scripted"));
        assert!(why(&case("aiqum", "read-only", &[], &[]), &ro).contains("no AIQUM endpoint"));
        assert_eq!(
            cannot_run(&case("element", "read-only", &[], &[]), &ro, &caps),
            None
        );
        let rw = live(true, true);
        assert_eq!(
            cannot_run(&case("element", "mutations", &[], &[]), &rw, &caps),
            None
        );
        assert!(why(&case("aiqum", "mutations", &[], &[]), &rw).contains("aiqum_call"));
        assert!(
            why(&case("aiqum", "read-only", &["long-poll"], &[]), &rw).contains("long polling")
        );
    }

    #[test]
    fn list_cases_run_alone() {
        assert!(needs_whole_target(&case(
            "aiqum",
            "read-only",
            &[],
            &["UM-LIST-PAGES"]
        )));
        assert!(!needs_whole_target(&case(
            "aiqum",
            "read-only",
            &[],
            &["UM-JOB-SHAPE"]
        )));
    }
}
