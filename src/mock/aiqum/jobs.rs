//! AIQUM job timelines and job objects: turns a job's [`JobScript`] into segments of constant
//! (state, status) on the clock, applies the timeline deviations (`state-backwards`,
//! `job-never-ends`, `warning-terminal`, `forget-finished`, `accept-404-window`) and renders the
//! job object in either dialect with the rendering deviations. Pure: no I/O, no locks, no clock
//! reads (the caller passes `now`).

use serde_json::{Map, Value, json};

use super::super::script::{JobScript, Outcome};
use super::super::{AiqumDialect, MockConfig};
use super::{Job, Origin};
use crate::mock::Deviation;

/// A stretch of a job's life with one (state, status), in ms since submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Start, ms since submit.
    pub from: u64,
    /// End (exclusive), ms since submit; `None` for the last segment.
    pub to: Option<u64>,
    /// Lifecycle state, lower case (`queued`, `running`, `completed`, `aborted`, or a scripted one).
    pub state: String,
    /// Outcome status, lower case (`normal`, `warning`, `partial_failures`, `error`).
    pub status: String,
    /// Whether the job is finished.
    pub terminal: bool,
    /// Finished because of `warning-terminal` (literal dialect serves `WARNING`).
    pub frozen_warning: bool,
}

fn seg(from: u64, to: Option<u64>, state: &str, status: &str, terminal: bool) -> Segment {
    Segment {
        from,
        to,
        state: state.to_string(),
        status: status.to_string(),
        terminal,
        frozen_warning: false,
    }
}

/// Split-dialect (state, status) a job ends in.
pub fn outcome_pair(o: Outcome) -> (&'static str, &'static str) {
    match o {
        Outcome::Success => ("completed", "normal"),
        Outcome::Failure => ("completed", "error"),
        Outcome::Warning => ("completed", "warning"),
        Outcome::PartialFailures => ("completed", "partial_failures"),
        Outcome::Aborted => ("aborted", "error"),
    }
}

/// The whole timeline of a job, deviations applied; consecutive segments the dialect serves
/// identically are merged.
pub fn segments(job: &Job, config: &MockConfig) -> Vec<Segment> {
    let mut segs = running_segments(&job.script, config.deviates(Deviation::StateBackwards));
    let end = job.script.duration_ms();
    if job.origin == Origin::Call && config.deviates(Deviation::JobNeverEnds) {
        match segs.last_mut() {
            Some(last) => last.to = None,
            None => segs.push(seg(0, None, "running", "normal", false)),
        }
    } else {
        let (state, status) = outcome_pair(job.script.outcome);
        segs.push(seg(end, None, state, status, true));
    }
    let first_warning = segs
        .iter()
        .position(|s| !s.terminal && s.status == "warning");
    if let (true, Some(i)) = (config.deviates(Deviation::WarningTerminal), first_warning) {
        segs.truncate(i + 1);
        let s = &mut segs[i];
        s.to = None;
        s.state = "completed".into();
        s.terminal = true;
        s.frozen_warning = true;
    }
    // Merge what the dialect serves identically, so every boundary is a change a client sees
    // (long polls wake on it and `last_modified` moves with it).
    let same = |a: &Segment, b: &Segment| {
        a.terminal == b.terminal
            && match config.aiqum_dialect {
                AiqumDialect::Split => a.state == b.state && a.status == b.status,
                AiqumDialect::Literal => literal_state(a) == literal_state(b),
            }
    };
    let mut merged: Vec<Segment> = Vec::with_capacity(segs.len());
    for s in segs {
        match merged.last_mut() {
            Some(m) if same(m, &s) => m.to = s.to,
            _ => merged.push(s),
        }
    }
    merged
}

fn running_segments(script: &JobScript, backwards: bool) -> Vec<Segment> {
    let mut segs = Vec::new();
    let mut t = 0u64;
    for s in &script.steps {
        if s.ms == 0 {
            continue;
        }
        let state = s.state.as_deref().unwrap_or("running").to_ascii_lowercase();
        let status = s.status.as_deref().unwrap_or("normal").to_ascii_lowercase();
        if backwards && state == "running" && s.ms >= 2 {
            // state-backwards: the second half of every running step is served as queued.
            let half = s.ms / 2;
            segs.push(seg(t, Some(t + half), "running", &status, false));
            segs.push(seg(t + half, Some(t + s.ms), "queued", &status, false));
        } else {
            segs.push(seg(t, Some(t + s.ms), &state, &status, false));
        }
        t += s.ms;
    }
    segs
}

impl Segment {
    /// Whether the segment covers `elapsed` ms since submit.
    pub fn contains(&self, elapsed: u64) -> bool {
        self.from <= elapsed && self.to.is_none_or(|to| elapsed < to)
    }
}

/// Ms since the job's submit at target time `now` (0 before submit).
pub fn elapsed(job: &Job, now: i64) -> u64 {
    now.saturating_sub(job.submit_ms).max(0) as u64
}

/// The segment a job is in at target time `now` (before submit: the first one).
pub fn segment_at(job: &Job, config: &MockConfig, now: i64) -> Option<Segment> {
    let elapsed = elapsed(job, now);
    segments(job, config)
        .into_iter()
        .find(|s| s.contains(elapsed))
}

/// Target time at which the job's current segment ends, if it ever does.
pub fn next_change(job: &Job, seg: &Segment) -> Option<i64> {
    seg.to.map(|to| job.submit_ms.saturating_add(to as i64))
}

/// Target time at which the current segment began (the job's last change).
pub fn changed_at(job: &Job, seg: &Segment) -> i64 {
    job.submit_ms.saturating_add(seg.from as i64)
}

/// Target time at which the job finishes with a success (normal or warning), if it does.
pub fn succeeded_at(job: &Job, config: &MockConfig) -> Option<i64> {
    let last = segments(job, config).pop()?;
    (last.terminal && matches!(last.status.as_str(), "normal" | "warning"))
        .then(|| changed_at(job, &last))
}

/// Whether the job still appears at all (`forget-finished` drops it 1 s after it ends).
pub fn listed(job: &Job, config: &MockConfig, now: i64) -> bool {
    if !config.deviates(Deviation::ForgetFinished) {
        return true;
    }
    match segments(job, config).last() {
        Some(last) if last.terminal => now < changed_at(job, last).saturating_add(1_000),
        _ => true,
    }
}

/// Whether a read by key finds the job (`listed`, and `accept-404-window` hides it for 500 ms).
pub fn readable(job: &Job, config: &MockConfig, now: i64) -> bool {
    if config.deviates(Deviation::Accept404Window) && now < job.submit_ms.saturating_add(500) {
        return false;
    }
    listed(job, config, now)
}

/// Whether this read of a finished job fails with HTTP 500 (`failed-job-500`).
pub fn failed_500(seg: &Segment, config: &MockConfig) -> bool {
    config.deviates(Deviation::FailedJob500)
        && seg.terminal
        && matches!(seg.status.as_str(), "error" | "partial_failures")
}

/// How to render a job.
#[derive(Debug, Clone, Copy)]
pub struct Render<'a> {
    /// The mock's configuration.
    pub config: &'a MockConfig,
    /// `/api` or `/api/v2`, for `_links`.
    pub prefix: &'a str,
    /// Wall time of target ms 0.
    pub wall0: jiff::Timestamp,
    /// Serve the flapped status (`terminal-flaps`, odd terminal reads after the first).
    pub flap: bool,
}

/// ISO 8601 UTC with milliseconds for target ms `ms` (may be negative; `clock::iso_at`, whose test holds it equal to strftime).
pub fn iso(wall0: jiff::Timestamp, ms: i64) -> String {
    crate::mock::clock::iso_at(wall0, ms, true)
}

/// The literal-dialect `state` of a segment.
pub fn literal_state(s: &Segment) -> String {
    if s.terminal {
        if s.frozen_warning {
            return "WARNING".into();
        }
        match s.status.as_str() {
            "error" => "ERROR".into(),
            "partial_failures" => "PARTIAL_FAILURES".into(),
            _ => "NORMAL".into(),
        }
    } else {
        // Register U1/U2: `state` holds one of the four values, and WARNING is the only one
        // that is not terminal, so a job still going is WARNING (queued, running, or running
        // with a warning alike).
        "WARNING".into()
    }
}

/// Whether a job object the mock serves shows the job finished, read as a client reads it
/// (register U1/U2): with a `status` member, the lifecycle `state` is `completed` or `aborted`;
/// without one, `state` is an outcome other than WARNING. The mock's own reading, for its journal
/// and audit (it shares no judging code with the harness); it reads only what the mock writes
/// (lower case in the split dialect, upper case in the literal one), so it compares exactly.
pub fn shows_terminal(job: &Value) -> bool {
    let state = job.get("state").and_then(Value::as_str).unwrap_or("");
    if job.get("status").is_some() {
        state == "completed" || state == "aborted"
    } else {
        ["NORMAL", "ERROR", "PARTIAL_FAILURES"].contains(&state)
    }
}

/// The `state` and (split dialect only) `status` a job object serves for `seg`; `flap` serves
/// the flapped value (`terminal-flaps`).
pub fn served(seg: &Segment, cfg: &MockConfig, flap: bool) -> (String, Option<String>) {
    match cfg.aiqum_dialect {
        AiqumDialect::Split => {
            let mut status = seg.status.clone();
            if seg.terminal && flap {
                status = if status == "normal" {
                    "warning"
                } else {
                    "normal"
                }
                .into();
            }
            if seg.terminal && status == "normal" && cfg.deviates(Deviation::StatusSuccess) {
                status = "success".into();
            }
            (seg.state.clone(), Some(status))
        }
        AiqumDialect::Literal => {
            let mut state = literal_state(seg);
            if seg.terminal && flap {
                state = if state == "NORMAL" {
                    "PARTIAL_FAILURES"
                } else {
                    "NORMAL"
                }
                .into();
            }
            if seg.terminal && state == "NORMAL" && cfg.deviates(Deviation::StatusSuccess) {
                state = "SUCCESS".into();
            }
            (state, None)
        }
    }
}

/// Target ms a finished job's `complete_time` serves (`complete-before-submit` applied).
pub fn completed_ms(job: &Job, seg: &Segment, cfg: &MockConfig) -> i64 {
    if cfg.deviates(Deviation::CompleteBeforeSubmit) {
        job.submit_ms - 1_000
    } else {
        changed_at(job, seg)
    }
}

/// The job object for `seg`; returns it with the state served.
pub fn render(job: &Job, seg: &Segment, r: &Render<'_>) -> Value {
    // Strings are moved or cloned into the map (`json!(x)` would serialize a copy of each).
    let cfg = r.config;
    let mut o = Map::new();
    o.insert("key".into(), Value::String(job.key.clone()));
    o.insert("name".into(), Value::String(job.name.clone()));
    o.insert("description".into(), Value::String(job.description.clone()));
    let (state, status) = served(seg, cfg, r.flap);
    o.insert("state".into(), Value::String(state));
    if let Some(status) = status {
        o.insert("status".into(), Value::String(status));
    }
    o.insert(
        "submit_time".into(),
        Value::String(iso(r.wall0, job.submit_ms)),
    );
    if cfg.long_poll {
        // Register U3 (Deploy-style): what a long poll passes back as `last_modified`.
        o.insert(
            "last_modified".into(),
            Value::String(iso(r.wall0, changed_at(job, seg))),
        );
    }
    if seg.terminal {
        let done = completed_ms(job, seg, cfg);
        o.insert("complete_time".into(), Value::String(iso(r.wall0, done)));
        let success = matches!(seg.status.as_str(), "normal" | "warning");
        if success && !cfg.deviates(Deviation::NoJobResults) {
            let results = job.script.result.clone().unwrap_or_else(|| json!([]));
            o.insert("job_results".into(), results);
        }
    }
    if !cfg.deviates(Deviation::JobWithoutLinks) {
        o.insert(
            "_links".into(),
            json!({"self": {"href": Value::String(job_href(r.prefix, &job.key))}}),
        );
    }
    Value::Object(o)
}

/// `/api[/v2]/management-server/jobs/<key>`.
pub fn job_href(prefix: &str, key: &str) -> String {
    format!("{prefix}/management-server/jobs/{key}")
}
