//! Element per-answer and per-observation rules, applied automatically by the executor: the
//! JSON-RPC envelope (EL-RPC-ENVELOPE, with a null `id` accepted per register E9;
//! EL-RPC-ERROR-SHAPE) on every Element answer, the
//! GetAsyncResult shape (EL-GAR-STATUS, -RUNNING, -DETAILS, -COMPLETE, -ASYNC-ERROR, -TIMES) on
//! every GetAsyncResult answer, and EL-GAR-STABLE across the answers about one handle. Pure: no
//! I/O, and each rule is judged only where it is the rule at stake, so one broken rule never shows
//! up as another (a status that is neither `running` nor `complete` is judged by EL-GAR-STATUS
//! only, an unparsable time by EL-GAR-TIMES only).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Finding, parse_utc, type_name};
use crate::transport::{AuthMode, Body, Exchange};

/// The automatic checks on one Element answer, as every answer gets them (from a case step or
/// from traffic): the envelope on every authenticated answer that is not a 401/403 (the id is
/// compared unless the request was `raw`), and for a GetAsyncResult of a well-formed handle with
/// a `result` object the observation rules and EL-GAR-STABLE against `histories` (earlier
/// observations per handle, keyed by the handle's text; the observation is appended).
pub fn automatic(
    ex: &Exchange,
    raw: bool,
    histories: &mut BTreeMap<String, Vec<Value>>,
) -> Vec<Finding> {
    let status = ex.status();
    if ex.request.auth != AuthMode::Default || matches!(status, None | Some(401) | Some(403)) {
        return Vec::new();
    }
    let request = ex.request.body.as_ref();
    let sent_id = if raw {
        None
    } else {
        request.and_then(|b| b.get("id"))
    };
    let mut found = envelope(ex, sent_id);
    // Only a query of a well-formed handle is an observation (a malformed call's answer is
    // judged by EL-GAR-PARAMS alone).
    if let Some(handle) = gar_handle(ex)
        && let Some(body) = ex.json()
        && let Some(nested) = body.get("result").filter(|r| r.is_object())
    {
        found.extend(gar_answer(body));
        let history = histories.entry(handle.to_string()).or_default();
        found.extend(stable(history, nested));
        history.push(nested.clone());
    }
    found
}

/// The handle a GetAsyncResult request names, when it is a well-formed (integer) one.
pub fn gar_handle(ex: &Exchange) -> Option<&Value> {
    let body = ex.request.body.as_ref()?;
    if body.get("method").and_then(Value::as_str) != Some("GetAsyncResult") {
        return None;
    }
    body.pointer("/params/asyncHandle")
        .filter(|h| h.is_u64() || h.is_i64())
}

/// EL-RPC-ENVELOPE and EL-RPC-ERROR-SHAPE on one Element answer. `sent_id` is the request's `id`
/// (`None` for raw bodies, whose id is unknown).
pub fn envelope(ex: &Exchange, sent_id: Option<&Value>) -> Vec<Finding> {
    let mut out = Vec::new();
    let Ok(resp) = &ex.response else {
        return out;
    };
    let body = match &resp.body {
        Body::Json(v) => v,
        other => {
            out.push(
                Finding::new("EL-RPC-ENVELOPE", "the answer is not a JSON object")
                    .at("")
                    .values(
                        Some(Value::String("a JSON-RPC response object".into())),
                        serde_json::to_value(other).ok(),
                    ),
            );
            return out;
        }
    };
    let Some(obj) = body.as_object() else {
        out.push(
            Finding::new("EL-RPC-ENVELOPE", "the answer is not a JSON object")
                .at("")
                .values(None, Some(body.clone())),
        );
        return out;
    };
    let has_result = obj.contains_key("result");
    let has_error = obj.contains_key("error");
    if has_result == has_error {
        out.push(
            Finding::new(
                "EL-RPC-ENVELOPE",
                if has_result {
                    "the answer carries both result and error"
                } else {
                    "the answer carries neither result nor error"
                },
            )
            .at("")
            .values(
                Some(Value::String("exactly one of result and error".into())),
                Some(Value::Array(
                    obj.keys().map(|k| Value::String(k.clone())).collect(),
                )),
            ),
        );
    }
    // Register E9: an `id` of null is accepted (NetApp's GetClusterInfo example answers a request
    // with `"id": 1` so); any other value must echo the request's.
    let null_id = obj.get("id").is_some_and(Value::is_null);
    if let Some(id) = sent_id
        && obj.get("id") != Some(id)
        && !null_id
    {
        out.push(
            Finding::new(
                "EL-RPC-ENVELOPE",
                "the answer's id does not echo the request's",
            )
            .at("/id")
            .values(Some(id.clone()), obj.get("id").cloned()),
        );
    }
    if let Some(err) = obj.get("error") {
        out.extend(error_shape(err));
    }
    out
}

/// EL-RPC-ERROR-SHAPE on a method error object.
pub fn error_shape(err: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(e) = err.as_object() else {
        out.push(
            Finding::new("EL-RPC-ERROR-SHAPE", "the error is not an object")
                .at("/error")
                .values(Some("object".into()), Some(err.clone())),
        );
        return out;
    };
    for (key, want) in [
        ("code", "integer"),
        ("name", "string"),
        ("message", "string"),
    ] {
        let got = e.get(key).map(type_name);
        if got != Some(want) {
            out.push(
                Finding::new(
                    "EL-RPC-ERROR-SHAPE",
                    format!("error.{key} is not a{} {want}", article(want)),
                )
                .at(format!("/error/{key}"))
                .values(Some(want.into()), e.get(key).cloned()),
            );
        }
    }
    out
}

/// `n` before a type name that starts with a vowel (`a` + `n` + ` object`), else nothing.
pub(super) fn article(t: &str) -> &'static str {
    if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "n"
    } else {
        ""
    }
}

/// The GetAsyncResult shape rules on one answer (the whole JSON-RPC body). Answers without a
/// `result` object (method errors) are not observations and give nothing.
pub fn gar_answer(body: &Value) -> Vec<Finding> {
    let Some(r) = body.get("result").filter(|r| r.is_object()) else {
        return Vec::new();
    };
    observation(r, "/result")
}

/// The GetAsyncResult shape rules on the nested `result` object; `base` is its pointer.
pub fn observation(r: &Value, base: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let at = |p: &str| format!("{base}{p}");
    let status = r.get("status");
    let has = |k: &str| r.get(k).is_some();
    match status.and_then(Value::as_str) {
        Some("running") => {
            for k in ["result", "error"] {
                if has(k) {
                    out.push(
                        Finding::new("EL-GAR-RUNNING", format!("a running handle carries {k}"))
                            .at(at(&format!("/{k}")))
                            .values(None, r.get(k).cloned()),
                    );
                }
            }
            match r.get("details") {
                Some(d) if d.is_object() => {}
                other => out.push(
                    Finding::new("EL-GAR-DETAILS", "a running handle has no details object")
                        .at(at("/details"))
                        .values(Some("object".into()), other.cloned()),
                ),
            }
        }
        Some("complete") => {
            if has("result") == has("error") {
                out.push(
                    Finding::new(
                        "EL-GAR-COMPLETE",
                        "a complete handle must carry exactly one of result and error",
                    )
                    .at(base.to_string())
                    .values(
                        Some("exactly one of result and error".into()),
                        Some(Value::Array(
                            r.as_object()
                                .map(|m| m.keys().map(|k| Value::String(k.clone())).collect())
                                .unwrap_or_default(),
                        )),
                    ),
                );
            }
            if has("details") {
                out.push(
                    Finding::new("EL-GAR-COMPLETE", "a complete handle still carries details")
                        .at(at("/details"))
                        .values(None, r.get("details").cloned()),
                );
            }
            if let Some(e) = r.get("error") {
                out.extend(async_error(e, &at("/error")));
            }
        }
        _ => out.push(
            Finding::new(
                "EL-GAR-STATUS",
                "status is neither \"running\" nor \"complete\"",
            )
            .at(at("/status"))
            .values(
                Some(serde_json::json!(["running", "complete"])),
                status.cloned(),
            ),
        ),
    }
    out.extend(times(r, base));
    out
}

fn async_error(e: &Value, at: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(obj) = e.as_object() else {
        out.push(
            Finding::new("EL-GAR-ASYNC-ERROR", "the nested error is not an object")
                .at(at)
                .values(Some("object".into()), Some(e.clone())),
        );
        return out;
    };
    for k in ["name", "message"] {
        if !obj.get(k).is_some_and(Value::is_string) {
            out.push(
                Finding::new(
                    "EL-GAR-ASYNC-ERROR",
                    format!("the nested error has no string {k}"),
                )
                .at(format!("{at}/{k}"))
                .values(Some("string".into()), obj.get(k).cloned()),
            );
        }
    }
    out
}

fn times(r: &Value, base: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    if !r.get("resultType").is_some_and(Value::is_string) {
        out.push(
            Finding::new("EL-GAR-TIMES", "resultType is not a string")
                .at(format!("{base}/resultType"))
                .values(Some("string".into()), r.get("resultType").cloned()),
        );
    }
    let mut parsed = Vec::new();
    for k in ["createTime", "lastUpdateTime"] {
        let v = r.get(k);
        match v.and_then(Value::as_str).and_then(parse_utc) {
            Some(t) => parsed.push(t),
            None => out.push(
                Finding::new(
                    "EL-GAR-TIMES",
                    format!("{k} is not an ISO 8601 UTC time ending in Z or +00:00"),
                )
                .at(format!("{base}/{k}"))
                .values(Some("YYYY-MM-DDTHH:MM:SSZ".into()), v.cloned()),
            ),
        }
    }
    if let [created, updated] = parsed[..]
        && updated < created
    {
        out.push(
            Finding::new("EL-GAR-TIMES", "lastUpdateTime is earlier than createTime")
                .at(format!("{base}/lastUpdateTime"))
                .values(
                    r.get("createTime").cloned(),
                    r.get("lastUpdateTime").cloned(),
                ),
        );
    }
    out
}

/// EL-GAR-STABLE: judges the next observation (nested `result` object) of a handle against the
/// earlier ones. Values that are malformed (judged by EL-GAR-TIMES / -STATUS) are skipped here.
pub fn stable(history: &[Value], next: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(prev) = history.last() else {
        return out;
    };
    let first = &history[0];
    for k in ["createTime", "resultType"] {
        if first.get(k).is_some() && next.get(k) != first.get(k) {
            out.push(
                Finding::new("EL-GAR-STABLE", format!("{k} changed between polls"))
                    .at(format!("/result/{k}"))
                    .values(first.get(k).cloned(), next.get(k).cloned()),
            );
        }
    }
    let t = |v: &Value| {
        v.get("lastUpdateTime")
            .and_then(Value::as_str)
            .and_then(parse_utc)
    };
    if let (Some(a), Some(b)) = (history.iter().filter_map(t).max(), t(next))
        && b < a
    {
        out.push(
            Finding::new("EL-GAR-STABLE", "lastUpdateTime went backwards")
                .at("/result/lastUpdateTime")
                .values(
                    prev.get("lastUpdateTime").cloned(),
                    next.get("lastUpdateTime").cloned(),
                ),
        );
    }
    let status = |v: &Value| v.get("status").and_then(Value::as_str).map(str::to_string);
    if let Some(done) = history
        .iter()
        .find(|v| status(v).as_deref() == Some("complete"))
    {
        if status(next).as_deref() == Some("running") {
            out.push(
                Finding::new("EL-GAR-STABLE", "status went from complete back to running")
                    .at("/result/status")
                    .values(Some("complete".into()), Some("running".into())),
            );
        } else if status(next).as_deref() == Some("complete") {
            for k in ["result", "error"] {
                if done.get(k) != next.get(k) {
                    out.push(
                        Finding::new(
                            "EL-GAR-STABLE",
                            format!("the complete payload's {k} changed between polls"),
                        )
                        .at(format!("/result/{k}"))
                        .values(done.get(k).cloned(), next.get(k).cloned()),
                    );
                }
            }
        }
    }
    out
}
