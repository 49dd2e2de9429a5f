//! AIQUM per-observation rules, applied automatically by the executor to every answer about one
//! job (each poll and each GET of `/management-server/jobs/{key}`): UM-JSON, UM-JOB-SHAPE,
//! UM-JOB-STATUS (case-insensitive; the casing served is recorded, register U4), UM-JOB-TIMES,
//! UM-FAILED-IS-200, and across the observations of one job UM-TERMINAL-ABSORBING and
//! UM-STATE-FORWARD. Also the dialect helpers (register U1). Pure: no I/O. Answers that are not a
//! job (a 404 for an unknown key, an HTML error page) are not observations and give nothing here;
//! the rules about them (UM-KEY-UNKNOWN, UM-ERROR-SHAPE) are judged by the cases that provoke them.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{AiqumDialect, Judgement, parse_iso};
use crate::check::Finding;
use crate::transport::Exchange;

/// The four outcome values (register U1).
pub const OUTCOMES: &[&str] = crate::poll::AIQUM_OUTCOMES;

/// The member that carries a job's outcome: `status` when the job has one (split), else `state`
/// (literal; register U1).
pub fn outcome_member(job: &Value) -> &'static str {
    if job.get("status").is_some() {
        "status"
    } else {
        "state"
    }
}

/// Split when the job has a `status` member, else literal (register U1).
pub fn dialect(job: &Value) -> AiqumDialect {
    match outcome_member(job) {
        "status" => AiqumDialect::Split,
        _ => AiqumDialect::Literal,
    }
}

/// The outcome value of a job, upper-cased: `status` (split) or `state` (literal).
pub fn outcome(job: &Value) -> Option<String> {
    job.get(outcome_member(job))
        .and_then(Value::as_str)
        .map(str::to_ascii_uppercase)
}

fn casing(s: &str) -> &'static str {
    if s.chars().any(|c| c.is_ascii_lowercase()) && s.chars().any(|c| c.is_ascii_uppercase()) {
        "mixed case"
    } else if s.chars().any(|c| c.is_ascii_lowercase()) {
        "lower case"
    } else {
        "upper case"
    }
}

/// Whether a job body is a job object (an object with a `key` or a `state`).
pub fn is_job(v: &Value) -> bool {
    v.is_object() && (v.get("key").is_some() || v.get("state").is_some())
}

/// The per-observation rules on one answer to a read of job `asked_key`.
pub fn job_answer(asked_key: &str, ex: &Exchange) -> Judgement {
    let mut j = Judgement::default();
    let Ok(resp) = &ex.response else {
        return j;
    };
    let Some(job) = resp.body.json().filter(|v| is_job(v)) else {
        return j;
    };
    let failed = matches!(
        outcome(job).as_deref(),
        Some("ERROR") | Some("PARTIAL_FAILURES")
    );
    if failed && resp.status != 200 {
        j.fail(
            Finding::new(
                "UM-FAILED-IS-200",
                format!("a failed job was read with HTTP {}", resp.status),
            )
            .values(Some(200.into()), Some(resp.status.into())),
        );
    }
    if !(200..300).contains(&resp.status) {
        return j;
    }
    let ct = resp.content_type.as_deref().unwrap_or("");
    if !ct.to_ascii_lowercase().starts_with("application/json") {
        j.fail(
            Finding::new("UM-JSON", "the job answer is not application/json")
                .values(Some("application/json".into()), Some(ct.into())),
        );
    }
    shape(asked_key, job, &mut j);
    status(job, &mut j);
    times(job, &mut j);
    j.note(format!("U1: AIQUM dialect {}", dialect(job)));
    j
}

/// UM-KEY-RETAINED: job `key` answered as a job before (`seen`, the earlier observations of it)
/// and now answers 404. A target that drops a job soon after it ends, before the next poll, is
/// never seen finishing; the key it handed out no longer names the job it answered for. The
/// caller makes sure no write came between: a 404 after a DELETE the server took is
/// UM-JOBS-READONLY's matter (so `run` asks only for polls, the traffic judge forgets a job
/// written to), and a first read that is a 404 is UM-ACCEPT-READABLE's.
pub fn vanished(key: &str, ex: &Exchange, seen: &[Value]) -> Option<Finding> {
    let last = seen.last()?;
    let status = ex.status()?;
    (status == 404).then(|| {
        Finding::new(
            "UM-KEY-RETAINED",
            format!(
                "job {key} was read {} time(s) (last state {}) and now answers 404: it was not \
                 kept readable by key",
                seen.len(),
                last.get("state").unwrap_or(&Value::Null)
            ),
        )
        .values(Some(200.into()), Some(404.into()))
    })
}

/// The automatic checks on one answer to a read of job `key`, as every such answer gets them:
/// [`job_answer`], then (when the answer is a job) [`sequence`] against the earlier observations
/// of the job in `histories` (keyed by job key; the job is appended). Also returns the job.
pub fn automatic(
    key: &str,
    ex: &Exchange,
    histories: &mut BTreeMap<String, Vec<Value>>,
) -> (Judgement, Option<Value>) {
    let mut j = job_answer(key, ex);
    let job = ex.json().filter(|v| is_job(v)).cloned();
    if let Some(job) = &job {
        let history = histories.entry(key.to_string()).or_default();
        j.findings.extend(sequence(history, job));
        history.push(job.clone());
    }
    (j, job)
}

fn shape(asked_key: &str, job: &Value, j: &mut Judgement) {
    if job.get("key").and_then(Value::as_str) != Some(asked_key) {
        j.fail(
            Finding::new("UM-JOB-SHAPE", "the job's key is not the key asked for")
                .at("/key")
                .values(Some(asked_key.into()), job.get("key").cloned()),
        );
    }
    if !job.get("state").is_some_and(Value::is_string) {
        j.fail(
            Finding::new("UM-JOB-SHAPE", "the job has no string state")
                .at("/state")
                .values(Some("string".into()), job.get("state").cloned()),
        );
    }
    if job.get("status").is_some_and(|s| !s.is_string()) {
        j.fail(
            Finding::new("UM-JOB-SHAPE", "the job's status is not a string")
                .at("/status")
                .values(Some("string".into()), job.get("status").cloned()),
        );
    }
    if !job
        .pointer("/_links/self/href")
        .is_some_and(Value::is_string)
    {
        j.fail(
            Finding::new("UM-JOB-SHAPE", "the job has no _links.self.href")
                .at("/_links/self/href")
                .values(
                    Some("string".into()),
                    job.pointer("/_links/self/href").cloned(),
                ),
        );
    }
}

fn status(job: &Value, j: &mut Judgement) {
    let member = outcome_member(job);
    let Some(raw) = job.get(member).and_then(Value::as_str) else {
        return;
    };
    if OUTCOMES.contains(&raw.to_ascii_uppercase().as_str()) {
        j.note(format!("U4: {member} served in {}", casing(raw)));
    } else if member == "status" {
        j.fail(
            Finding::new(
                "UM-JOB-STATUS",
                "status is not one of NORMAL, WARNING, PARTIAL_FAILURES, ERROR",
            )
            .at("/status")
            .values(Some(serde_json::json!(OUTCOMES)), Some(raw.into())),
        );
    }
    // A value outside both dialects (register U1) cannot say whether the job ended: the poller
    // stops at once (fail fast), so the value is judged here. Split dialect: a `status` outside
    // the four is judged above (an unknown lifecycle `state` ends the poll as inconclusive, no
    // finding: register U11); literal dialect: a `state` that is neither an outcome nor a
    // lifecycle word is an outcome outside the four (UM-JOB-STATUS). A lifecycle word alone in the
    // literal dialect is a running job: readable.
    if let Some(why) = crate::poll::aiqum_unreadable(job)
        && member == "state"
    {
        j.fail(
            Finding::new(
                "UM-JOB-STATUS",
                format!("{why}: the job cannot be read as running or ended"),
            )
            .at("/state")
            .values(
                Some(serde_json::json!(crate::poll::AIQUM_LIFECYCLE)),
                job.get("state").cloned(),
            ),
        );
    }
}

fn times(job: &Value, j: &mut Judgement) {
    let submit = job.get("submit_time");
    let Some(s) = submit.and_then(Value::as_str).and_then(parse_iso) else {
        j.fail(
            Finding::new("UM-JOB-TIMES", "submit_time is not an ISO 8601 timestamp")
                .at("/submit_time")
                .values(Some("ISO 8601".into()), submit.cloned()),
        );
        return;
    };
    if crate::poll::aiqum_terminal(job) == Some(true) {
        let complete = job.get("complete_time");
        match complete.and_then(Value::as_str).and_then(parse_iso) {
            Some(c) if c >= s => {}
            Some(_) => j.fail(
                Finding::new("UM-JOB-TIMES", "complete_time is earlier than submit_time")
                    .at("/complete_time")
                    .values(submit.cloned(), complete.cloned()),
            ),
            None => j.fail(
                Finding::new(
                    "UM-JOB-TIMES",
                    "a terminal job has no ISO 8601 complete_time",
                )
                .at("/complete_time")
                .values(Some("ISO 8601".into()), complete.cloned()),
            ),
        }
    }
}

/// Order of split-dialect lifecycle states for UM-STATE-FORWARD (the words are
/// [`crate::poll::AIQUM_LIFECYCLE`]; queued, waiting and scheduled rank first); unknown states have
/// none.
pub fn state_rank(state: &str) -> Option<u8> {
    if !crate::poll::is_lifecycle(state) {
        return None;
    }
    Some(match state.to_ascii_lowercase().as_str() {
        "running" => 1,
        "aborting" => 2,
        "completed" | "aborted" => 3,
        _ => 0,
    })
}

/// UM-TERMINAL-ABSORBING and UM-STATE-FORWARD: judges the next observation of a job against the
/// earlier ones.
pub fn sequence(history: &[Value], next: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    let field = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    if let Some(done) = history
        .iter()
        .find(|v| crate::poll::aiqum_terminal(v) == Some(true))
    {
        for k in ["state", "status"] {
            if field(done, k) != field(next, k) {
                out.push(
                    Finding::new(
                        "UM-TERMINAL-ABSORBING",
                        format!("a terminal job's {k} changed on a later read"),
                    )
                    .at(format!("/{k}"))
                    .values(done.get(k).cloned(), next.get(k).cloned()),
                );
            }
        }
    }
    if dialect(next) == AiqumDialect::Split
        && let Some(now) = field(next, "state").as_deref().and_then(state_rank)
    {
        let seen = history
            .iter()
            .filter_map(|v| field(v, "state"))
            .filter_map(|s| state_rank(&s).map(|r| (r, s)))
            .max_by_key(|(r, _)| *r);
        if let Some((r, s)) = seen
            && now < r
        {
            out.push(
                Finding::new("UM-STATE-FORWARD", "the job's state moved backwards")
                    .at("/state")
                    .values(Some(s.into()), next.get("state").cloned()),
            );
        }
    }
    out
}
