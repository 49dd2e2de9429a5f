//! Runs one case against one target, step by step: templating, sending through `transport`,
//! judging through `check`, polling through `poll`, recording the transcript. Owns the I/O side of
//! named checks. (BODY TO BE WRITTEN by the exec work; the types below are the agreed interface
//! with `runner`, `report` and `snapshot`.)

use std::time::Duration;

use serde::Serialize;

use crate::case::LoadedCase;
use crate::check::Finding;
use crate::target::Target;
use crate::transport::Exchange;

/// What a target offers, probed once per target before its cases run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Capabilities {
    /// AIQUM long polling (register U3) answered as specified.
    pub long_poll: bool,
    /// AIQUM dialect seen (`split` or `literal`), if any job was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aiqum_dialect: Option<String>,
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
}

/// Runs one case on one target.
pub async fn run_case(case: &LoadedCase, target: &Target, caps: &Capabilities) -> CaseOutcome {
    let _ = (case, target, caps);
    todo!("exec work")
}

/// Probes a target's optional capabilities (long polling) and dialect.
pub async fn probe(target: &Target) -> Capabilities {
    let _ = target;
    todo!("exec work")
}
