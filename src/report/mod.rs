//! What a run produced, in the forms people and CI read: the per-trial verdict ([`judge`]), the
//! failure text libtest prints ([`text`]), the terminal summary, the JSON verdict document
//! ([`json`], validated by `schemas/report.schema.json`) and JUnit XML ([`junit`]). Everything
//! here works on records already redacted by the runner; nothing here sends a request or knows
//! libtest-mimic.

pub mod coverage;
pub mod json;
pub mod junit;
pub mod plan;
pub mod progress;
pub mod read;
pub mod text;

use serde::{Deserialize, Serialize};

use crate::check::{AiqumDialect, ElementDialect, Finding};
use crate::cleanup::Leftover;
use crate::contract::Level;
use crate::exec::{Capabilities, CaseOutcome, Status};
use crate::target::fingerprint::Fingerprint;
use crate::transport::Exchange;

/// How one case ended on one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Ran; no finding.
    Pass,
    /// Ran; only SHOULD findings (without `--strict`).
    Warn,
    /// Ran; a MUST finding (or a SHOULD one under `--strict`).
    Fail,
    /// Not run on this target, with a reason.
    Skipped,
    /// A precondition failed; the case's rules are neither passed nor failed.
    Inconclusive,
    /// The harness could not do its job.
    Error,
}

impl Verdict {
    /// The lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
            Verdict::Skipped => "skipped",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Error => "error",
        }
    }
}

/// A finding with its rule's level and sentence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatedFinding {
    /// The finding (redacted).
    #[serde(flatten)]
    pub finding: Finding,
    /// The rule's level; an ID the registry does not know counts as MUST.
    pub level: Level,
    /// The rule's sentence, if the registry knows the rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_text: Option<String>,
}

/// One trial: one case on one target.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseRecord {
    /// Trial name (`TARGET/CASE`).
    pub trial: String,
    /// Case name (path under `cases/` without `.json`).
    pub name: String,
    /// Target name.
    pub target: String,
    /// Rules the case is written to check.
    pub rules: Vec<String>,
    /// The verdict.
    pub outcome: Verdict,
    /// Why it was skipped, inconclusive or an error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Findings, rated.
    pub findings: Vec<RatedFinding>,
    /// Register decisions applied and facts recorded.
    pub notes: Vec<String>,
    /// Every exchange (redacted).
    pub transcript: Vec<Exchange>,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// The Element dialect this case's unknown-handle answers showed (register E1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element_dialect: Option<ElementDialect>,
    /// The snapshot check, if the trial was checked against a stored snapshot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotCheck>,
}

/// How the snapshot check of one trial ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotStatus {
    /// The stored snapshot matched.
    Matched,
    /// None was stored; one was written.
    Created,
    /// The stored one was rewritten (`--update`).
    Updated,
    /// The stored one no longer matches.
    Changed,
    /// None was stored, and creating one is not allowed (under CI).
    Missing,
    /// The store could not be read or written.
    Error,
}

impl SnapshotStatus {
    /// The lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotStatus::Matched => "matched",
            SnapshotStatus::Created => "created",
            SnapshotStatus::Updated => "updated",
            SnapshotStatus::Changed => "changed",
            SnapshotStatus::Missing => "missing",
            SnapshotStatus::Error => "error",
        }
    }
}

/// What the snapshot check of one trial found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotCheck {
    /// How it ended.
    pub status: SnapshotStatus,
    /// The `.snap` file.
    pub path: String,
    /// The difference or error, for failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl SnapshotCheck {
    /// Whether the trial fails because of its snapshot.
    pub fn failed(&self) -> bool {
        matches!(
            self.status,
            SnapshotStatus::Changed | SnapshotStatus::Missing | SnapshotStatus::Error
        )
    }
}

/// Element and AIQUM dialects seen on a target.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dialects {
    /// `current` (xAsyncHandleDoesNotExist) or `doc-literal` (xDBNoSuchPath), if an unknown
    /// handle was seen (register E1).
    pub element: Option<ElementDialect>,
    /// `split` or `literal`, if a job was read (register U1).
    pub aiqum: Option<AiqumDialect>,
}

/// Whether a target is a mock (scripted cases run there) or a live system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// The embedded mock or a `--control` mock.
    Mock,
    /// A live cluster or AIQUM server (or a `serve` mock named as one).
    Live,
}

impl TargetKind {
    /// `mock` or `live`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Mock => "mock",
            TargetKind::Live => "live",
        }
    }
}

/// One target of the run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetRecord {
    /// Name.
    pub name: String,
    /// Mock or live.
    pub kind: TargetKind,
    /// Element endpoint URL.
    pub element: Option<String>,
    /// AIQUM API base.
    pub aiqum: Option<String>,
    /// What it said it is.
    pub fingerprint: Fingerprint,
    /// Dialects seen.
    pub dialect: Dialects,
    /// Probed capabilities.
    pub capabilities: Capabilities,
    /// What cleanup could not remove.
    pub leftovers: Vec<Leftover>,
}

/// The level of a rule; unknown IDs count as MUST (a typo must never hide a failure).
pub fn level_of(rule: &str) -> Level {
    crate::contract::rule(rule).map_or(Level::Must, |r| r.level)
}

/// Rates findings with their rules' levels and sentences.
pub fn rate(findings: Vec<Finding>) -> Vec<RatedFinding> {
    findings
        .into_iter()
        .map(|f| {
            let rule = crate::contract::rule(&f.rule);
            RatedFinding {
                level: rule.map_or(Level::Must, |r| r.level),
                rule_text: rule.map(|r| r.text.clone()),
                finding: f,
            }
        })
        .collect()
}

/// The verdict for an outcome whose findings are already rated, and the reason to show.
pub fn judge(
    status: &Status,
    findings: &[RatedFinding],
    strict: bool,
) -> (Verdict, Option<String>) {
    match status {
        Status::Skipped { reason } => (Verdict::Skipped, Some(reason.clone())),
        Status::Inconclusive { reason } => (
            Verdict::Inconclusive,
            Some(format!("inconclusive: {reason}")),
        ),
        Status::HarnessError { message } => (
            Verdict::Error,
            Some(format!("harness error: failed to {message}")),
        ),
        Status::Ran => {
            let fails = findings.iter().any(|f| f.level == Level::Must || strict);
            if fails {
                (Verdict::Fail, None)
            } else if findings.is_empty() {
                (Verdict::Pass, None)
            } else {
                (Verdict::Warn, None)
            }
        }
    }
}

/// A record for a case outcome (findings rated, verdict judged). Redaction is the caller's job.
pub fn record(
    trial: &str,
    case: &crate::case::LoadedCase,
    target: &str,
    outcome: CaseOutcome,
    strict: bool,
) -> CaseRecord {
    let findings = rate(outcome.findings);
    let (verdict, reason) = judge(&outcome.status, &findings, strict);
    // The rules the case names, then the per-observation rules its observations exercised.
    let mut rules = case.case.rules.clone();
    for r in outcome.observed {
        if !rules.contains(&r) {
            rules.push(r);
        }
    }
    CaseRecord {
        trial: trial.to_string(),
        name: case.name.clone(),
        target: target.to_string(),
        rules,
        outcome: verdict,
        reason,
        findings,
        notes: outcome.notes,
        transcript: outcome.transcript,
        duration_ms: outcome.duration.as_millis() as u64,
        element_dialect: outcome.element_dialect,
        snapshot: None,
    }
}

/// Adds a snapshot check to a record: a failed check fails a trial that ran (the target no
/// longer answers what was recorded), with the difference as its reason.
pub fn with_snapshot(mut r: CaseRecord, check: Option<SnapshotCheck>) -> CaseRecord {
    if let Some(c) = &check
        && c.failed()
        && matches!(r.outcome, Verdict::Pass | Verdict::Warn | Verdict::Fail)
    {
        r.outcome = Verdict::Fail;
        r.reason = Some(format!("snapshot {}: {}", c.status.as_str(), c.path));
    }
    r.snapshot = check;
    r
}

/// How many trials ran (passed, warned, failed or hit a harness error), as libtest counts them:
/// skipped and inconclusive trials are reported to it as ignored.
pub fn ran(records: &[CaseRecord]) -> u64 {
    records
        .iter()
        .filter(|r| {
            matches!(
                r.outcome,
                Verdict::Pass | Verdict::Warn | Verdict::Fail | Verdict::Error
            )
        })
        .count() as u64
}

/// The Element dialect a target's cases saw (register E1): `doc-literal` if any case saw
/// xDBNoSuchPath, else `current` if any saw xAsyncHandleDoesNotExist.
pub fn element_dialect<'a, I>(records: I) -> Option<ElementDialect>
where
    I: IntoIterator<Item = &'a CaseRecord>,
{
    let seen: Vec<ElementDialect> = records
        .into_iter()
        .filter_map(|r| r.element_dialect)
        .collect();
    [ElementDialect::DocLiteral, ElementDialect::Current]
        .into_iter()
        .find(|d| seen.contains(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rated(level: Level) -> RatedFinding {
        RatedFinding {
            finding: Finding::new("X", "m"),
            level,
            rule_text: None,
        }
    }

    #[test]
    fn should_findings_warn_unless_strict() {
        let f = [rated(Level::Should)];
        assert_eq!(judge(&Status::Ran, &f, false).0, Verdict::Warn);
        assert_eq!(judge(&Status::Ran, &f, true).0, Verdict::Fail);
        assert_eq!(
            judge(&Status::Ran, &[rated(Level::Must)], false).0,
            Verdict::Fail
        );
        assert_eq!(judge(&Status::Ran, &[], true).0, Verdict::Pass);
    }

    #[test]
    fn non_ran_statuses_keep_their_reason() {
        let (v, r) = judge(
            &Status::Inconclusive {
                reason: "no clone".into(),
            },
            &[],
            false,
        );
        assert_eq!(v, Verdict::Inconclusive);
        assert_eq!(r.as_deref(), Some("inconclusive: no clone"));
        let (v, _) = judge(
            &Status::HarnessError {
                message: "x".into(),
            },
            &[],
            false,
        );
        assert_eq!(v, Verdict::Error);
    }
}
