//! GetAsyncResult on the mock's handles ([`super::jobs`]): the `asyncHandle` parameter (register
//! E7), the unknown-handle error of each dialect (E1), a handle's members as it shows now, and
//! the keepResult rules of CONTRACT.md §2 (register E4) with the deviations that break them.
//! Check-and-purge happens under the caller's lock (EL-KEEP-ONCE); this file never awaits.

use serde_json::{Map, Value, json};

use super::jobs::{Handle, View};
use super::rpc::{Params, RpcError};
use super::{Ctx, ElementState, Note};
use crate::mock::{Deviation, ElementDialect};

fn unknown(ctx: &Ctx, id: impl std::fmt::Display) -> RpcError {
    if ctx.config.deviates(Deviation::UnknownHandleWrongCode) {
        return RpcError {
            code: 404,
            name: "xNotFound".into(),
            message: format!("Async handle {id} not found."),
        };
    }
    match ctx.config.element_dialect {
        ElementDialect::Current => RpcError::new(
            "xAsyncHandleDoesNotExist",
            format!("Async handle {id} does not exist."),
        ),
        ElementDialect::DocLiteral => RpcError::new(
            "xDBNoSuchPath",
            format!("DBClient operation requested on a non-existent path at [/asyncresults/{id}]"),
        ),
    }
}

/// The `asyncHandle` parameter (register E7): an integer; a string of decimal digits is the same
/// handle in the `current` dialect (a 12.x cluster answered `xAsyncHandleDoesNotExist` to
/// `"999999999"` in NetApp's SDK test, so it converts and looks the handle up) and a type error in
/// `doc-literal` (the reference page types `asyncHandle` as an integer). Anything else is a type
/// error in both.
fn handle_param(v: &Value, dialect: ElementDialect) -> Result<u64, RpcError> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match v {
        Value::String(s) if dialect == ElementDialect::Current && digits(s) => s
            .parse()
            .map_err(|_| RpcError::mistyped("asyncHandle", "integer")),
        _ => v
            .as_u64()
            .ok_or_else(|| RpcError::mistyped("asyncHandle", "integer")),
    }
}

fn time(ctx: &Ctx, ms: u64) -> String {
    let s = ctx.clock.iso(ms);
    if ctx.config.deviates(Deviation::TimesWithoutZ) {
        s.trim_end_matches('Z').to_string()
    } else {
        s
    }
}

/// GetAsyncResult: the handle named, as it shows now (running or complete), invalidated by the
/// keepResult rules.
pub fn get_async_result(
    st: &mut ElementState,
    ctx: &Ctx,
    p: &Params,
    note: &mut Note,
) -> Result<Value, RpcError> {
    let Some((id, keep)) = gar_request(st, ctx, p, note)? else {
        // `gar-missing-handle-result`: no asyncHandle, an empty result.
        return Ok(json!({}));
    };
    let Some(h) = st.handles.get_mut(&id).filter(|h| !h.purged) else {
        note.observed = Some("unknown".into());
        return Err(unknown(ctx, id));
    };
    if let Some(fault) = h.script.next_fault(&mut h.faults_served) {
        let name = fault.element_name();
        note.observed = Some(format!("fault {name}"));
        return Err(RpcError::new(
            name,
            "Transient fault scripted for this handle; retry.",
        ));
    }
    let mut out = Value::Object(Map::from_iter([
        (
            "createTime".to_string(),
            Value::String(time(ctx, h.created_ms)),
        ),
        (
            "resultType".to_string(),
            Value::String(h.result_type.clone()),
        ),
    ]));
    match h.view(ctx.now) {
        View::Running { details, last_ms } => {
            show_running(h, ctx, keep, details, last_ms, &mut out, note);
        }
        View::Complete { last_ms } => {
            show_complete(h, ctx, last_ms, &mut out, note);
            if releases(ctx, keep) {
                release(h, ctx, note);
            }
        }
    }
    Ok(out)
}

/// GetAsyncResult's parameters: the handle and keepResult, or `None` when the handle is missing
/// and `gar-missing-handle-result` answers anyway. A bad parameter is an error, which under
/// `purge-on-failed-call` still purges the integer handle named.
fn gar_request(
    st: &mut ElementState,
    ctx: &Ctx,
    p: &Params,
    note: &mut Note,
) -> Result<Option<(u64, Option<bool>)>, RpcError> {
    let keep = p.opt_bool("keepResult");
    note.keep_result = keep.as_ref().ok().copied().flatten();
    let raw = p.raw("asyncHandle");
    note.job = raw.map(|v| v.to_string().trim_matches('"').to_string());
    let parsed = match raw {
        None if ctx.config.deviates(Deviation::GarMissingHandleResult) => return Ok(None),
        None => Err(RpcError::missing("asyncHandle")),
        Some(v) => handle_param(v, ctx.config.element_dialect),
    };
    match (parsed, keep) {
        (Ok(id), Ok(keep)) => Ok(Some((id, keep))),
        (Err(e), _) | (_, Err(e)) => {
            if ctx.config.deviates(Deviation::PurgeOnFailedCall)
                && let Some(h) = raw
                    .and_then(Value::as_u64)
                    .and_then(|id| st.handles.get_mut(&id))
            {
                h.purged = true;
                note.released = true;
            }
            Err(e)
        }
    }
}

/// A running handle's members; `purge-running` invalidates it unless keepResult is true.
fn show_running(
    h: &mut Handle,
    ctx: &Ctx,
    keep: Option<bool>,
    details: Value,
    last_ms: u64,
    out: &mut Value,
    note: &mut Note,
) {
    let cfg = ctx.config;
    note.observed = Some(format!("running {details}"));
    out["status"] = json!("running");
    out["lastUpdateTime"] = Value::String(time(ctx, last_ms));
    if !cfg.deviates(Deviation::RunningWithoutDetails) {
        out["details"] = details;
    }
    if cfg.deviates(Deviation::RunningWithResult) {
        out["result"] = json!({});
    }
    if cfg.deviates(Deviation::PurgeRunning) && keep != Some(true) {
        h.purged = true;
        note.released = true;
    }
}

/// A complete handle's members: status, lastUpdateTime, and the result or the nested error.
fn show_complete(h: &mut Handle, ctx: &Ctx, last_ms: u64, out: &mut Value, note: &mut Note) {
    let cfg = ctx.config;
    note.observed = Some("complete".into());
    note.terminal = true;
    h.complete_polls += 1;
    let last_ms = if cfg.deviates(Deviation::LastUpdateBackwards) {
        last_ms
            .saturating_sub(h.complete_polls.saturating_sub(1).saturating_mul(1000))
            .max(h.created_ms)
    } else {
        last_ms
    };
    out["lastUpdateTime"] = Value::String(time(ctx, last_ms));
    out["status"] = json!(if cfg.deviates(Deviation::StatusCompleted) {
        "completed"
    } else {
        "complete"
    });
    if h.ok {
        out["result"] = h.payload.clone();
    } else {
        let mut err = h.payload.clone();
        if cfg.deviates(Deviation::AsyncErrorWithoutName)
            && let Some(o) = err.as_object_mut()
        {
            o.remove("name");
        }
        out["error"] = err;
        if cfg.deviates(Deviation::BothResultAndError) {
            out["result"] = json!({});
        }
    }
    if cfg.deviates(Deviation::DetailsWhenComplete) {
        out["details"] = json!({"percentComplete": 100});
    }
}

/// Whether fetching a complete handle with this keepResult invalidates it (register E4, or the
/// deviation that breaks it).
fn releases(ctx: &Ctx, keep: Option<bool>) -> bool {
    let cfg = ctx.config;
    match keep {
        Some(true) => cfg.deviates(Deviation::PurgeDespiteKeep),
        Some(false) => !cfg.deviates(Deviation::KeepFalseIgnored),
        None => !cfg.deviates(Deviation::KeepAbsentIgnored),
    }
}

/// Invalidates a complete handle now, or under `racy-purge` when the last fetch in flight ends.
fn release(h: &mut Handle, ctx: &Ctx, note: &mut Note) {
    note.released = true;
    if ctx.config.deviates(Deviation::RacyPurge) {
        h.inflight += 1;
        note.deferred_purge = Some(h.id);
    } else {
        h.purged = true;
    }
}

/// Ends a deferred (`racy-purge`) fetch: the last one in flight purges.
pub fn finish_deferred(st: &mut ElementState, id: u64) {
    if let Some(h) = st.handles.get_mut(&id) {
        h.inflight = h.inflight.saturating_sub(1);
        if h.inflight == 0 {
            h.purged = true;
        }
    }
}
