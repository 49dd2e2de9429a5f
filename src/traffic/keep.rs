//! The keepResult rules on traffic, from the sequence of fetches of each Element handle (per
//! server): what an answer promised about the next one, and whether the next one kept it.
//!
//! - a `running` answer keeps the handle (EL-KEEP-RUNNING);
//! - a `complete` answer to `keepResult: true` keeps it (EL-KEEP-TRUE);
//! - a `complete` answer without `keepResult` (EL-KEEP-DEFAULT) or with `false` (EL-KEEP-FALSE)
//!   releases it: the next fetch must get the unknown-handle error (its shape is EL-GAR-UNKNOWN's);
//! - a call that fails on a bad parameter naming a kept handle leaves it kept
//!   (EL-KEEP-FAILED-CALL); a ListAsyncResults listing a kept handle leaves it kept
//!   (EL-LIST-NO-PURGE);
//! - concurrent fetches without `keepResult` of a complete handle: exactly one gets the result
//!   (EL-KEEP-ONCE); their order is unknown, so no other rule is judged between them;
//! - a new asynchronous call never gets a handle that is still kept (EL-HANDLE-UNIQUE), and a
//!   clone's handle ends `Clone` naming the clone's `cloneID` (EL-CLONE-START).
//!
//! A rule is at stake only when the traffic holds the pair that shows it (a released handle never
//! fetched again says nothing about EL-KEEP-DEFAULT). Pure.

use std::collections::BTreeMap;

use serde_json::Value;

use super::server::{method_of, origin_of};
use super::{Api, Tally, Traffic, tally};
use crate::check::names::Response;
use crate::check::{self, Finding};
use crate::transport::Exchange;

/// What one answer about a handle showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    Running,
    Complete,
    /// A method error that is not transient: the handle is unknown to the server.
    Gone,
    /// A call that failed on a bad parameter (it names the handle leniently).
    FailedCall,
    /// A transient fault or an answer that says nothing.
    Nothing,
}

/// What the last answer promised about the next one.
#[derive(Debug, Clone, Copy)]
struct Promise {
    /// Whether the handle must still be there.
    kept: bool,
    /// The rule that promised it.
    rule: Option<&'static str>,
    /// When the promising answer was complete (a fetch that started earlier overlaps it).
    done_ms: u64,
}

#[derive(Debug, Default)]
struct Handle {
    promise: Option<Promise>,
    clone_id: Option<Value>,
    /// Fetches without keepResult in flight together: (start, end, got the result, index).
    racing: Vec<(u64, u64, bool, usize)>,
}

/// Judges the keepResult rules over `traffic`, visiting exchanges in `order`.
pub fn judge(traffic: &Traffic, order: &[usize], t: &mut Tally) {
    let mut handles: BTreeMap<(String, u64), Handle> = BTreeMap::new();
    for &i in order {
        let o = &traffic.exchanges[i];
        let ex = &o.exchange;
        if o.api() != Some(Api::Element) || ex.response.is_err() {
            continue;
        }
        let origin = origin_of(&ex.request.url);
        match method_of(ex) {
            Some("GetAsyncResult") => {
                let Some((h, shown, keep)) = fetch(ex) else {
                    continue;
                };
                let state = handles.entry((origin, h)).or_default();
                fetched(t, i, ex, (o.at_ms, o.done_ms()), shown, keep, state);
            }
            Some("ListAsyncResults") => {
                for h in listed(ex) {
                    if let Some(p) = handles
                        .get_mut(&(origin.clone(), h))
                        .and_then(|s| s.promise.as_mut())
                        && p.kept
                    {
                        p.rule = Some("EL-LIST-NO-PURGE");
                        p.done_ms = o.done_ms();
                    }
                }
            }
            Some(method) => {
                let result = ex.json().and_then(|b| b.get("result"));
                let Some(h) = result
                    .and_then(|r| r.get("asyncHandle"))
                    .and_then(Value::as_u64)
                else {
                    if method == "CloneVolume" && result.is_some() {
                        clone_start(t, i, result);
                    }
                    continue;
                };
                let state = handles.entry((origin, h)).or_default();
                let reused = state.promise.is_some_and(|p| p.kept);
                let findings = if reused {
                    vec![
                        Finding::new(
                            "EL-HANDLE-UNIQUE",
                            format!("{method} got handle {h}, which was still queryable"),
                        )
                        .at("/result/asyncHandle")
                        .values(None, Some(h.into())),
                    ]
                } else {
                    Vec::new()
                };
                tally(t, "EL-HANDLE-UNIQUE", i, findings);
                *state = Handle::default();
                if method == "CloneVolume" {
                    clone_start(t, i, result);
                    state.clone_id = result.and_then(|r| r.get("cloneID")).cloned();
                }
                state.promise = Some(Promise {
                    kept: true,
                    rule: None,
                    done_ms: o.done_ms(),
                });
            }
            None => {}
        }
    }
    for state in handles.values_mut() {
        race_over(t, state);
    }
}

/// The handle a GetAsyncResult names (leniently: a numeric string too, for a failed call), what
/// the answer showed, and the keepResult sent.
fn fetch(ex: &Exchange) -> Option<(u64, Shown, Option<bool>)> {
    let params = ex.request.body.as_ref()?.get("params");
    let raw = params.and_then(|p| p.get("asyncHandle"))?;
    let keep_raw = params.and_then(|p| p.get("keepResult"));
    let keep = keep_raw.and_then(Value::as_bool);
    let well_formed = raw.is_u64() && keep_raw.is_none_or(Value::is_boolean);
    let h = raw
        .as_u64()
        .or_else(|| raw.as_str().and_then(|s| s.parse().ok()))?;
    let body = ex.json();
    let error = body.and_then(|b| b.get("error"));
    let shown = match (
        body.and_then(|b| b.pointer("/result/status"))
            .and_then(Value::as_str),
        error,
    ) {
        (_, Some(_)) if !well_formed => Shown::FailedCall,
        (Some("running"), _) if well_formed => Shown::Running,
        (Some("complete"), _) if well_formed => Shown::Complete,
        (_, Some(e)) => {
            let name = e.get("name").and_then(Value::as_str).unwrap_or("");
            if crate::poll::ELEMENT_TRANSIENT.contains(&name) {
                Shown::Nothing
            } else {
                Shown::Gone
            }
        }
        _ => Shown::Nothing,
    };
    Some((h, shown, keep))
}

/// One fetch of a handle: judged against the last promise, then the promise it makes.
fn fetched(
    t: &mut Tally,
    i: usize,
    ex: &Exchange,
    (start, end): (u64, u64),
    shown: Shown,
    keep: Option<bool>,
    state: &mut Handle,
) {
    let releasing = keep != Some(true);
    if releasing && matches!(shown, Shown::Complete | Shown::Gone) {
        if state.racing.last().is_some_and(|r| start >= r.1) {
            race_over(t, state);
        }
        state.racing.push((start, end, shown == Shown::Complete, i));
    }
    let promise = state.promise.filter(|p| start >= p.done_ms);
    if let Some(Promise {
        kept,
        rule: Some(rule),
        ..
    }) = promise
    {
        match (kept, shown) {
            (true, Shown::Gone) => tally(
                t,
                rule,
                i,
                vec![
                    Finding::new(
                        rule,
                        "the handle was gone, though the earlier answer kept it",
                    )
                    .at("/error")
                    .values(
                        Some("the handle's status".into()),
                        ex.json().and_then(|b| b.get("error")).cloned(),
                    ),
                ],
            ),
            (false, Shown::Running | Shown::Complete) => tally(
                t,
                rule,
                i,
                vec![
                    Finding::new(
                        rule,
                        "the handle was still served after the answer that released it",
                    )
                    .at("/result/status")
                    .values(
                        Some("the unknown-handle error".into()),
                        ex.json().and_then(|b| b.pointer("/result/status")).cloned(),
                    ),
                ],
            ),
            (true, Shown::Running | Shown::Complete) | (false, Shown::Gone) => {
                tally(t, rule, i, Vec::new())
            }
            _ => {}
        }
    }
    if shown == Shown::Gone && promise.is_some_and(|p| !p.kept) {
        let name = ex
            .json()
            .and_then(|b| b.pointer("/error/name"))
            .and_then(Value::as_str);
        // Errors with a known unknown-handle name are judged on every answer (traffic::server).
        if name.is_none_or(|n| !check::UNKNOWN_HANDLE_NAMES.contains(&n)) {
            let j =
                check::named::response(Response::GoneHandleError, "EL-GAR-UNKNOWN", ex, ex.json());
            tally(t, "EL-GAR-UNKNOWN", i, j.findings);
        }
    }
    if shown == Shown::Complete
        && let Some(id) = state.clone_id.take()
    {
        clone_end(t, i, ex, &id);
    }
    let next = match (shown, keep) {
        (Shown::Running, _) => Some((true, "EL-KEEP-RUNNING")),
        (Shown::Complete, Some(true)) => Some((true, "EL-KEEP-TRUE")),
        (Shown::Complete, Some(false)) => Some((false, "EL-KEEP-FALSE")),
        (Shown::Complete, None) => Some((false, "EL-KEEP-DEFAULT")),
        (Shown::FailedCall, _) if state.promise.is_some_and(|p| p.kept) => {
            Some((true, "EL-KEEP-FAILED-CALL"))
        }
        (Shown::Gone, _) => state
            .promise
            .filter(|p| !p.kept)
            .and_then(|p| p.rule)
            .map(|r| (false, r)),
        _ => None,
    };
    if let Some((kept, rule)) = next {
        state.promise = Some(Promise {
            kept,
            rule: Some(rule),
            done_ms: end,
        });
    } else if shown == Shown::Gone {
        state.promise = Some(Promise {
            kept: false,
            rule: None,
            done_ms: end,
        });
    }
}

/// EL-KEEP-ONCE over the fetches without keepResult that were in flight together.
fn race_over(t: &mut Tally, state: &mut Handle) {
    let race = std::mem::take(&mut state.racing);
    let overlapping = race.len() >= 2 && race.windows(2).all(|w| w[1].0 < w[0].1.max(race[0].1));
    let results: Vec<usize> = race.iter().filter(|r| r.2).map(|r| r.3).collect();
    if !overlapping || results.is_empty() {
        return;
    }
    let last = race.last().map_or(0, |r| r.3);
    let findings = if results.len() > 1 {
        vec![
            Finding::new(
                "EL-KEEP-ONCE",
                format!(
                    "{} concurrent fetches without keepResult all got the result",
                    results.len()
                ),
            )
            .values(Some(1.into()), Some(results.len().into())),
        ]
    } else {
        Vec::new()
    };
    tally(t, "EL-KEEP-ONCE", last, findings);
}

/// The handles a ListAsyncResults answer lists.
fn listed(ex: &Exchange) -> Vec<u64> {
    ex.json()
        .and_then(|b| b.pointer("/result/asyncHandles"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|e| e.get("asyncResultID")?.as_u64())
                .collect()
        })
        .unwrap_or_default()
}

/// EL-CLONE-START on a CloneVolume answer: an integer asyncHandle, cloneID and volumeID.
fn clone_start(t: &mut Tally, i: usize, result: Option<&Value>) {
    let mut findings = Vec::new();
    for k in ["asyncHandle", "cloneID", "volumeID"] {
        let v = result.and_then(|r| r.get(k));
        if !v.is_some_and(|v| v.is_u64() || v.is_i64()) {
            findings.push(
                Finding::new(
                    "EL-CLONE-START",
                    format!("CloneVolume's {k} is not an integer"),
                )
                .at(format!("/result/{k}"))
                .values(Some("integer".into()), v.cloned()),
            );
        }
    }
    tally(t, "EL-CLONE-START", i, findings);
}

/// EL-CLONE-START on the complete answer about a clone's handle.
fn clone_end(t: &mut Tally, i: usize, ex: &Exchange, clone_id: &Value) {
    let r = ex.json().and_then(|b| b.get("result"));
    let mut findings = Vec::new();
    let kind = r.and_then(|r| r.get("resultType"));
    if kind.and_then(Value::as_str) != Some("Clone") {
        findings.push(
            Finding::new(
                "EL-CLONE-START",
                "the clone's handle did not end with resultType Clone",
            )
            .at("/result/resultType")
            .values(Some("Clone".into()), kind.cloned()),
        );
    }
    let named = r.and_then(|r| r.pointer("/result/cloneID"));
    if r.and_then(|r| r.get("result")).is_some() && named != Some(clone_id) {
        findings.push(
            Finding::new("EL-CLONE-START", "the clone's result names another cloneID")
                .at("/result/result/cloneID")
                .values(Some(clone_id.clone()), named.cloned()),
        );
    }
    tally(t, "EL-CLONE-START", i, findings);
}
