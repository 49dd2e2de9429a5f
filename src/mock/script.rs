//! Scripted job timelines: what the control API (`POST /_jobconform/{element,aiqum}/jobs`) accepts
//! and what `start: {"work": {"scripted": ...}}` in a case sends. A timeline is a list of steps of
//! target-time durations, then a final outcome; the state at any instant is computed from the
//! clock.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A job's timeline.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JobScript {
    /// Running steps, in order; the job is terminal after the last one ends.
    #[serde(default)]
    pub steps: Vec<ScriptStep>,
    /// How the job ends.
    pub outcome: Outcome,
    /// Element `resultType` (default `Clone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<String>,
    /// Element: the success `result` payload; AIQUM: `job_results` (`[{name, value}]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// Element: the nested failure `error` object (default `xAsyncJobFailed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    /// AIQUM job `name` (default `Scripted job`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Transient faults answered, in order, to the first reads of this job (one fault per read;
    /// reads after them are answered normally). A client must retry them within its deadline
    /// and not count them as contract failures (CL-TRANSIENT).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<Fault>,
}

/// A transient fault a scripted job answers a read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum Fault {
    /// Element method error `xDBVersionMismatch` (AIQUM: HTTP 503).
    #[serde(rename = "xDBVersionMismatch")]
    DbVersionMismatch,
    /// Element method error `xNotPrimary` (AIQUM: HTTP 503).
    #[serde(rename = "xNotPrimary")]
    NotPrimary,
    /// Element method error `xDBConnectionLoss` (AIQUM: HTTP 503).
    #[serde(rename = "xDBConnectionLoss")]
    DbConnectionLoss,
    /// AIQUM HTTP 503 with an error body (Element: `xDBVersionMismatch`).
    #[serde(rename = "http-503")]
    Http503,
    /// AIQUM HTTP 500 with an error body (Element: `xDBConnectionLoss`).
    #[serde(rename = "http-500")]
    Http500,
}

impl Fault {
    /// The Element method error name this fault is served as.
    pub fn element_name(self) -> &'static str {
        match self {
            Fault::DbVersionMismatch | Fault::Http503 => "xDBVersionMismatch",
            Fault::NotPrimary => "xNotPrimary",
            Fault::DbConnectionLoss | Fault::Http500 => "xDBConnectionLoss",
        }
    }
    /// The HTTP status an AIQUM read with this fault gets.
    pub fn aiqum_status(self) -> u16 {
        match self {
            Fault::Http500 => 500,
            _ => 503,
        }
    }
}

/// One running step.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptStep {
    /// Duration in target milliseconds.
    pub ms: u64,
    /// AIQUM lifecycle `state` during the step (default `running`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// AIQUM `status` during the step (default `normal`; `warning` mid-run is allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Element `details` during the step (default `{"percentComplete": N}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

/// How a job ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Element: `result` present. AIQUM: `completed` / `normal`.
    Success,
    /// Element: nested `error`. AIQUM: `completed` / `error`.
    Failure,
    /// AIQUM: `completed` / `warning` (Element: success).
    Warning,
    /// AIQUM: `completed` / `partial_failures` (Element: failure).
    PartialFailures,
    /// AIQUM: `aborted` / `error` (Element: failure `xAsyncJobAborted`).
    Aborted,
}

impl JobScript {
    /// The next scripted fault after the `served` ones, counting it as served; `None` once all
    /// are served.
    pub fn next_fault(&self, served: &mut usize) -> Option<Fault> {
        let fault = self.faults.get(*served).copied()?;
        *served += 1;
        Some(fault)
    }

    /// Total running time in target milliseconds.
    pub fn duration_ms(&self) -> u64 {
        self.steps.iter().map(|s| s.ms).sum()
    }

    /// The step active `elapsed_ms` after the start, with its index; `None` once terminal.
    pub fn step_at(&self, elapsed_ms: u64) -> Option<(usize, &ScriptStep)> {
        let mut end = 0u64;
        for (i, s) in self.steps.iter().enumerate() {
            end = end.saturating_add(s.ms);
            if elapsed_ms < end {
                return Some((i, s));
            }
        }
        None
    }

    /// Target time (since start) at which step `i` began; `steps.len()` gives the terminal time.
    pub fn step_start_ms(&self, i: usize) -> u64 {
        self.steps.iter().take(i).map(|s| s.ms).sum()
    }
}
