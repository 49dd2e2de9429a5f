//! AIQUM server rules on traffic, one exchange at a time: job reads get the automatic checks of
//! `check::aiqum` (UM-JSON, UM-JOB-*, UM-FAILED-IS-200, UM-TERMINAL-ABSORBING, UM-STATE-FORWARD);
//! job lists the named list checks (UM-LIST-SHAPE, and UM-LIST-ORDER / UM-LIST-DEFAULT /
//! UM-LIST-FILTER where the query leaves them at stake); answers that carry a job the accept rules
//! (UM-ACCEPT-202, UM-ACCEPT-LINK, and UM-ACCEPT-READABLE on the first read of the key); a job
//! read before and read again UM-KEY-RETAINED (a 404 fails it, unless a write the server took
//! came between); writes to the job collection UM-JOBS-READONLY; every 4xx/5xx UM-ERROR-SHAPE.
//! Pure.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::server::{ServerJudged, named, unauthenticated};
use super::{tally, tally_all};
use crate::check::names::Response;
use crate::check::{self, Finding};
use crate::transport::Exchange;

/// What one AIQUM server has shown so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Seen {
    /// Earlier job observations per key.
    pub obs: BTreeMap<String, Vec<Value>>,
    /// Keys named by a 202 and not read yet.
    pub issued: BTreeSet<String>,
}

/// Judges one AIQUM exchange (with an answer) at index `i`.
pub fn judge(i: usize, ex: &Exchange, seen: &mut Seen, out: &mut ServerJudged) {
    let t = &mut out.tally;
    if unauthenticated(t, "UM-AUTH", i, ex) {
        return;
    }
    let status = ex.status().unwrap_or(0);
    let notes = &mut out.aiqum_notes;
    if status >= 400 && status != 401 {
        named(t, notes, "UM-ERROR-SHAPE", Response::UmErrorBody, i, ex);
    }
    let path = reqwest::Url::parse(&ex.request.url)
        .map(|u| u.path().to_string())
        .unwrap_or_default();
    let method = ex.request.method.as_str();
    let jobs_collection = path.ends_with("/management-server/jobs");
    let key = crate::exec::run::job_key_of(&ex.request.url);
    if method != "GET" && (jobs_collection || key.is_some()) {
        let findings = if matches!(status, 404 | 405) {
            Vec::new()
        } else {
            vec![
                Finding::new(
                    "UM-JOBS-READONLY",
                    format!("{method} on a job was answered {status}"),
                )
                .values(Some(serde_json::json!([404, 405])), Some(status.into())),
            ]
        };
        tally(t, "UM-JOBS-READONLY", i, findings);
        // A write the server took may have removed the job: a later 404 is this rule's finding,
        // not UM-KEY-RETAINED's.
        if (200..300).contains(&status)
            && let Some(key) = key
        {
            seen.obs.remove(&key);
        }
        return;
    }
    if let Some(key) = key {
        if seen.issued.remove(&key) {
            let findings = if status == 404 {
                vec![
                    Finding::new(
                        "UM-ACCEPT-READABLE",
                        "the job named by a 202 was not found on its first read",
                    )
                    .values(Some(200.into()), Some(404.into())),
                ]
            } else {
                Vec::new()
            };
            tally(t, "UM-ACCEPT-READABLE", i, findings);
        }
        job_read(i, ex, &key, seen, out);
        return;
    }
    if jobs_collection && method == "GET" && status == 200 {
        let query: Vec<String> = check::query_of(&ex.request.url)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let has = |k: &str| query.iter().any(|q| q == k);
        named(t, notes, "UM-LIST-SHAPE", Response::UmListShape, i, ex);
        if !has("order_by") {
            named(t, notes, "UM-LIST-ORDER", Response::NewestFirst, i, ex);
        }
        if !has("max_records") {
            named(
                t,
                notes,
                "UM-LIST-DEFAULT",
                Response::DefaultPageSize,
                i,
                ex,
            );
        }
        if has("key") || has("state") || has("status") {
            named(t, notes, "UM-LIST-FILTER", Response::ListFilterOnly, i, ex);
        }
        return;
    }
    let body = ex.json();
    let job = body.and_then(|b| b.get("job"));
    if method != "GET" && (status == 202 || ((200..300).contains(&status) && job.is_some())) {
        accepted(i, ex, status, seen, out);
    }
}

/// A read of one job: the automatic checks, with the rules at stake for what the answer showed.
fn job_read(i: usize, ex: &Exchange, key: &str, seen: &mut Seen, out: &mut ServerJudged) {
    let earlier = seen.obs.get(key).cloned().unwrap_or_default();
    let (j, job) = check::aiqum::automatic(key, ex, &mut seen.obs);
    let mut at_stake = Vec::new();
    if let Some(job) = &job {
        out.aiqum_dialect = out.aiqum_dialect.or(Some(check::aiqum::dialect(job)));
        if ex.status().is_some_and(|s| (200..300).contains(&s)) {
            at_stake.extend(["UM-JSON", "UM-JOB-SHAPE", "UM-JOB-STATUS", "UM-JOB-TIMES"]);
        }
        if matches!(
            check::aiqum::outcome(job).as_deref(),
            Some("ERROR" | "PARTIAL_FAILURES")
        ) {
            at_stake.push("UM-FAILED-IS-200");
        }
        if !earlier.is_empty() {
            at_stake.push("UM-STATE-FORWARD");
        }
        // Read again after it was seen terminal: it must not move on, and it was kept.
        if earlier
            .iter()
            .any(|v| crate::poll::aiqum_terminal(v) == Some(true))
        {
            at_stake.extend(["UM-TERMINAL-ABSORBING", "UM-KEY-RETAINED"]);
        }
    }
    for n in j.notes {
        if !out.aiqum_notes.contains(&n) {
            out.aiqum_notes.push(n);
        }
    }
    let mut findings = j.findings;
    // Read before and now a 404: not kept (a job never read before puts nothing at stake; its
    // first 404 is UM-ACCEPT-READABLE's or UM-KEY-UNKNOWN's).
    findings.extend(check::aiqum::vanished(key, ex, &earlier));
    tally_all(&mut out.tally, &at_stake, i, findings);
}

/// An answer to an asynchronous call: 202 with a non-empty `job.key` (UM-ACCEPT-202), a link
/// naming it (UM-ACCEPT-LINK); the key is remembered for UM-ACCEPT-READABLE.
fn accepted(i: usize, ex: &Exchange, status: u16, seen: &mut Seen, out: &mut ServerJudged) {
    let key = ex
        .json()
        .and_then(|b| b.pointer("/job/key"))
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty());
    let mut findings = Vec::new();
    if status != 202 {
        findings.push(
            Finding::new(
                "UM-ACCEPT-202",
                format!("an asynchronous call answered {status}, not 202"),
            )
            .values(Some(202.into()), Some(status.into())),
        );
    }
    if key.is_none() {
        findings.push(
            Finding::new(
                "UM-ACCEPT-202",
                "the answer to an asynchronous call has no job.key",
            )
            .at("/job/key")
            .values(
                Some("a non-empty string".into()),
                ex.json().and_then(|b| b.pointer("/job/key")).cloned(),
            ),
        );
    }
    tally(&mut out.tally, "UM-ACCEPT-202", i, findings);
    if let Some(key) = key {
        seen.issued.insert(key.to_string());
        if ex
            .json()
            .and_then(|b| b.pointer("/job/_links/self/href"))
            .is_some()
        {
            named(
                &mut out.tally,
                &mut out.aiqum_notes,
                "UM-ACCEPT-LINK",
                Response::AcceptLink,
                i,
                ex,
            );
        }
    }
}
