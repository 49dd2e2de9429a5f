//! Snapshots of what a case saw: normalization (exchanges without scheme/host/port, bodies, their
//! shape, the findings' rule IDs, the case status), redaction of volatile values to named
//! placeholders ([`mod@redact`]), and the one place insta is configured ([`store`]). A snapshot is
//! stored at `snapshots/<label>/<case path>.snap` in insta's file format.
//!
//! This module never judges a target (findings come from `check`), never talks to a target, and
//! never panics on a mismatch: it returns [`SnapshotMismatch`] with a readable diff.

pub mod foreign;
pub mod infer;
pub mod order;
mod patterns;
pub mod redact;
pub mod shape;
pub mod store;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

pub use redact::{Redactor, Volatile, redact};
pub use shape::Shape;
pub use store::{
    SnapshotMismatch, Stored, Update, assert_snapshot, default_root, insta_settings, read_snapshot,
    snapshot_file, write_snapshot,
};

use crate::exec::CaseOutcome;
use crate::transport::{AuthMode, Body, Exchange};

/// What normalization needs besides the outcome.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The rule IDs the case is written to check (`Case::rules`); a rule listed here and with no
    /// finding counts as passed in `diff`'s matrix when the case ran.
    pub rules: Vec<String>,
    /// Volatile values the run knows about (the unknown handle and key, the target's host:port).
    /// Unknown handles and keys the caller leaves out are inferred ([`infer::infer_unknowns`]).
    pub volatile: Volatile,
}

/// The normalized, redacted content of one case's snapshot. Deterministic: the same exchanges
/// with different ports, handles, keys and timestamps give the same value, and list entries of
/// other cases running at the same time are left out ([`foreign::drop_foreign`]). The case name
/// and label are not part of the value (they are the file's path and header).
///
/// Exchanges exec marks as target-wide setup are left out. Consecutive identical exchanges
/// (after redaction) are recorded once, and a run of polls of one job keeps each distinct answer
/// once, so the number of polls of a running job does not matter; the exchanges of a
/// `concurrent` group keep every answer, sorted ([`order`]); JSON-RPC integer ids become `[id]`
/// (`[other-id]` when the answer echoes a different one).
///
/// Members: `status`, `rules` (sorted), `findings` (sorted unique rule IDs), `expected_findings`
/// (rule IDs of an expected failure that happened), `exchanges`
/// (request `method`/`path`/`body`, response `status`/`content_type`/`body`), `shape` (per request
/// kind, see [`Shape`]) and `error_names`.
pub fn snapshot_value(case_name: &str, outcome: &CaseOutcome, ctx: &Context) -> Value {
    let _ = case_name;
    // Target-wide setup (the scratch account) is sent by whichever case needs it first.
    let len = outcome.transcript.len();
    let shared = order::within(&outcome.shared_setup, len);
    let is_shared = |i: usize| shared.iter().any(|r| r.contains(&i));
    let own: Vec<Exchange> = (0..len)
        .filter(|&i| !is_shared(i))
        .map(|i| outcome.transcript[i].clone())
        .collect();
    let shift = |i: usize| i - (0..i).filter(|&j| is_shared(j)).count();
    let transcript = foreign::drop_foreign(&own);
    let volatile = infer::infer_unknowns(&ctx.volatile, &transcript);
    // Which of N concurrent calls wins is a race: each concurrent group is sorted by its redacted
    // form, then redacted again in that order so placeholders are numbered the same every time.
    let groups: Vec<std::ops::Range<usize>> = order::within(&outcome.concurrent, len)
        .into_iter()
        .map(|g| shift(g.start)..shift(g.end))
        .collect();
    let raw: Vec<Value> = transcript.iter().map(exchange_raw).collect();
    let mut red = Redactor::new(&volatile);
    let first: Vec<Value> = raw.iter().map(|x| red.value(x, None)).collect();
    let order = order::permutation(&first, &groups);
    // In transcript order (no group moved) the first redaction is already the answer.
    let exchanges: Vec<Value> = if order.iter().enumerate().all(|(k, &i)| k == i) {
        first
    } else {
        red = Redactor::new(&volatile);
        order.iter().map(|&i| red.value(&raw[i], None)).collect()
    };
    let transcript: Vec<&Exchange> = order.iter().map(|&i| &transcript[i]).collect();
    let grouped: Vec<bool> = (0..transcript.len())
        .map(|i| groups.iter().any(|g| g.contains(&i)))
        .collect();
    let mut shapes: BTreeMap<String, Shape> = BTreeMap::new();
    for (x, redacted) in transcript.iter().zip(&exchanges) {
        let sig = signature(redacted);
        let shape = shapes.entry(sig).or_default();
        match &x.response {
            Ok(r) => {
                shape.status_codes.insert(r.status);
                match &r.body {
                    Body::Json(v) => shape.add_body(v),
                    Body::Empty => shape.add_kind("empty"),
                    Body::Text { .. } => shape.add_kind("text"),
                    Body::TooLarge { .. } => shape.add_kind("too-large"),
                }
            }
            Err(_) => shape.add_kind("no-response"),
        }
    }
    // A job polled while running answers the same thing several times, and how many times (and
    // whether a short phase is seen at all) depends on timing: see [`order::condense`].
    let exchanges = order::condense(exchanges, &grouped);
    let error_names: BTreeSet<String> = shapes
        .values()
        .flat_map(|s| s.error_names.iter().cloned())
        .collect();
    let findings: BTreeSet<&str> = outcome.findings.iter().map(|f| f.rule.as_str()).collect();
    let rules: BTreeSet<&str> = ctx.rules.iter().map(String::as_str).collect();
    let status = serde_json::to_value(&outcome.status).unwrap_or(Value::Null);
    // Notes are free text for people (timings, counts) and stay out.
    let expected: BTreeSet<&str> = outcome.expected.iter().map(|f| f.rule.as_str()).collect();
    json!({
        "status": red.value(&status, None),
        "rules": rules,
        "findings": findings,
        "expected_findings": expected,
        "exchanges": exchanges,
        "shape": serde_json::to_value(&shapes).unwrap_or(Value::Null),
        "error_names": error_names,
    })
}

/// Normalizes one case's outcome and checks it against its stored snapshot: [`snapshot_value`]
/// then [`assert_snapshot`] at `<root>/<label>/<case_name>.snap`. What the runner calls per trial.
pub fn check_case(
    root: &std::path::Path,
    label: &str,
    case_name: &str,
    outcome: &CaseOutcome,
    ctx: &Context,
    mode: Update,
) -> Result<Stored, SnapshotMismatch> {
    let value = snapshot_value(case_name, outcome, ctx);
    assert_snapshot(root, label, case_name, &value, mode)
}

/// One exchange as raw JSON (before redaction): the URL reduced to path and query.
fn exchange_raw(x: &Exchange) -> Value {
    let mut req = Map::new();
    req.insert("method".into(), Value::String(x.request.method.clone()));
    req.insert("path".into(), Value::String(url_path(&x.request.url)));
    if x.request.auth != AuthMode::Default {
        let auth = serde_json::to_value(x.request.auth).unwrap_or(Value::Null);
        req.insert("auth".into(), auth);
    }
    // JSON-RPC ids count the calls, so one more poll shifts every later id: an integer id becomes
    // `[id]`, and an answer echoing another integer becomes `[other-id]`.
    let sent_id = x
        .request
        .body
        .as_ref()
        .and_then(|b| b.get("id"))
        .and_then(Value::as_i64);
    if let Some(b) = &x.request.body {
        let mut b = b.clone();
        if sent_id.is_some() {
            b["id"] = Value::String("[id]".into());
        }
        req.insert("body".into(), b);
    }
    let mut out = Map::new();
    out.insert("request".into(), Value::Object(req));
    match &x.response {
        Ok(r) => {
            let mut resp = Map::new();
            resp.insert("status".into(), json!(r.status));
            if let Some(ct) = &r.content_type {
                resp.insert("content_type".into(), Value::String(ct.clone()));
            }
            match &r.body {
                Body::Empty => {}
                Body::Json(v) => {
                    let mut v = v.clone();
                    if let (Some(sent), Some(got)) = (sent_id, v.get("id").and_then(Value::as_i64))
                    {
                        let id = if sent == got { "[id]" } else { "[other-id]" };
                        v["id"] = Value::String(id.into());
                    }
                    resp.insert("body".into(), v);
                }
                Body::Text { text, error } => {
                    resp.insert("text".into(), Value::String(text.clone()));
                    resp.insert("text_error".into(), Value::String(error.clone()));
                }
                Body::TooLarge { limit } => {
                    resp.insert("too_large".into(), json!(limit));
                }
            }
            out.insert("response".into(), Value::Object(resp));
        }
        Err(e) => {
            let err = serde_json::to_value(e).unwrap_or(Value::Null);
            out.insert("transport_error".into(), err);
        }
    }
    Value::Object(out)
}

/// The URL without scheme, host and port, percent-escapes decoded (`/api/jobs/a:-b?x=1`).
pub fn url_path(url: &str) -> String {
    let rest = match url.find("://") {
        Some(i) => &url[i + 3..],
        None => return crate::transport::aiqum::decode(url),
    };
    match rest.find(['/', '?']) {
        Some(i) => crate::transport::aiqum::decode(&rest[i..]),
        None => "/".into(),
    }
}

/// The kind of request an exchange is, for grouping shapes: `POST /json-rpc/12.5 GetAsyncResult`,
/// `GET /api/management-server/jobs/[job-key]` (query dropped, placeholder numbers dropped).
pub fn signature(redacted_exchange: &Value) -> String {
    let req = &redacted_exchange["request"];
    let method = req["method"].as_str().unwrap_or("?");
    let path = req["path"].as_str().unwrap_or("?");
    let path = path.split('?').next().unwrap_or(path);
    let mut sig = format!("{method} {}", strip_numbers(path));
    if let Some(m) = req["body"]["method"].as_str() {
        sig.push(' ');
        sig.push_str(m);
    }
    sig
}

/// `[job-key-2]` -> `[job-key]`.
fn strip_numbers(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('[') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        match tail.find(']') {
            Some(j) => {
                let inner = &tail[1..j];
                let base = match inner.rsplit_once('-') {
                    Some((b, n)) if !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()) => b,
                    _ => inner,
                };
                out.push('[');
                out.push_str(base);
                out.push(']');
                rest = &tail[j + 1..];
            }
            None => {
                out.push_str(tail);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}
