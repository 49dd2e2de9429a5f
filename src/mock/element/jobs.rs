//! Element asynchronous results: handles as timelines on the mock clock (status computed at query
//! time, never by a timer), GetAsyncResult with the keepResult rules of CONTRACT.md §2 (register
//! E4), ListAsyncResults, and the starting of clone and scripted jobs. Check-and-purge happens
//! under the caller's lock (EL-KEEP-ONCE); this file never awaits.

use serde_json::{Value, json};

use super::rpc::{Params, RpcError};
use super::{Ctx, ElementState, Note};
use crate::mock::script::{JobScript, Outcome};
use crate::mock::{Deviation, ElementDialect};

/// One asynchronous result.
#[derive(Debug, Clone)]
pub struct Handle {
    /// The handle (`asyncHandle`, `asyncResultID`).
    pub id: u64,
    /// Target time it was created.
    pub created_ms: u64,
    /// Its running steps (outcome and payloads are resolved below).
    pub script: JobScript,
    /// `resultType`.
    pub result_type: String,
    /// Whether the operation succeeded (`result`) or failed (`error`).
    pub ok: bool,
    /// The `result` (when ok) or the nested `error`.
    pub payload: Value,
    /// Invalidated (fetched complete without keepResult, cancelled).
    pub purged: bool,
    /// The clone it tracks, if any (CancelClone).
    pub clone_id: Option<u64>,
    /// The volume the clone creates, if any (removed on CancelClone).
    pub new_volume: Option<u64>,
    /// Complete answers served so far (`last-update-backwards`).
    pub complete_polls: u64,
    /// Scripted transient faults served so far (`JobScript::faults`).
    pub faults_served: usize,
    /// Fetches in flight that will purge when the last ends (`racy-purge`).
    pub inflight: u32,
}

/// What a handle shows at an instant.
#[derive(Debug, Clone, PartialEq)]
pub enum View {
    /// Still running: `details` and the time of the last step boundary.
    Running {
        /// The `details` object.
        details: Value,
        /// Target time of the last state change.
        last_ms: u64,
    },
    /// Finished at `last_ms`.
    Complete {
        /// Target time of completion.
        last_ms: u64,
    },
}

impl Handle {
    /// Target time the job completes.
    pub fn complete_ms(&self) -> u64 {
        self.created_ms.saturating_add(self.script.duration_ms())
    }

    /// The state at target time `now`.
    pub fn view(&self, now: u64) -> View {
        let elapsed = now.saturating_sub(self.created_ms);
        match self.script.step_at(elapsed) {
            Some((i, step)) => View::Running {
                details: step.details.clone().unwrap_or_else(
                    || json!({"percentComplete": i * 100 / self.script.steps.len().max(1)}),
                ),
                last_ms: self.created_ms + self.script.step_start_ms(i),
            },
            None => View::Complete {
                last_ms: self.complete_ms(),
            },
        }
    }
}

/// Resolves a script into a new handle (allocated per EL-HANDLE-UNIQUE or `reuse-handles`).
pub fn start(st: &mut ElementState, ctx: &Ctx, script: JobScript) -> u64 {
    let ok = matches!(script.outcome, Outcome::Success | Outcome::Warning);
    let payload = if ok {
        script.result.clone().unwrap_or_else(
            || json!({"cloneID": st.next_clone(), "volumeID": 0, "message": "Clone complete."}),
        )
    } else {
        script
            .error
            .clone()
            .unwrap_or_else(|| match script.outcome {
                Outcome::Aborted => json!({"name": "xAsyncJobAborted", "message": "Job aborted."}),
                _ => json!({"name": "xAsyncJobFailed", "message": "Job failed."}),
            })
    };
    let id = match st.handles.keys().next_back() {
        Some(&newest)
            if ctx.config.deviates(Deviation::ReuseHandles)
                && st.handles.get(&newest).is_some_and(|h| !h.purged) =>
        {
            newest
        }
        _ => st.next_handle(),
    };
    let handle = Handle {
        id,
        created_ms: ctx.now,
        result_type: script.result_type.clone().unwrap_or_else(|| "Clone".into()),
        script,
        ok,
        payload,
        purged: false,
        clone_id: None,
        new_volume: None,
        complete_polls: 0,
        faults_served: 0,
        inflight: 0,
    };
    st.handles.insert(id, handle);
    id
}

/// The running steps of a clone lasting `ms` (four steps, default `percentComplete` details).
pub fn clone_steps(ms: u64) -> Vec<crate::mock::script::ScriptStep> {
    let quarter = ms / 4;
    (0..4)
        .map(|i| crate::mock::script::ScriptStep {
            ms: if i == 3 { ms - 3 * quarter } else { quarter },
            state: None,
            status: None,
            details: None,
        })
        .collect()
}

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
    let mut out = json!({"createTime": time(ctx, h.created_ms), "resultType": h.result_type});
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
    out["lastUpdateTime"] = json!(time(ctx, last_ms));
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
    out["lastUpdateTime"] = json!(time(ctx, last_ms));
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

/// ListAsyncResults.
pub fn list_async_results(
    st: &mut ElementState,
    ctx: &Ctx,
    p: &Params,
    _note: &mut Note,
) -> Result<Value, RpcError> {
    let types = p.opt_strs("asyncResultTypes")?;
    let cfg = ctx.config;
    let mut entries = Vec::new();
    let mut listed = Vec::new();
    for h in st.handles.values() {
        if h.purged && !cfg.deviates(Deviation::ListKeepsPurged) {
            continue;
        }
        if let Some(types) = &types
            && !cfg.deviates(Deviation::ListIgnoresFilter)
            && !types.contains(&h.result_type)
        {
            continue;
        }
        let (completed, last_ms, data) = match h.view(ctx.now) {
            View::Running { details, last_ms } => (false, last_ms, details),
            View::Complete { last_ms } => {
                listed.push(h.id);
                let mut data = h.payload.clone();
                if h.ok
                    && cfg.deviates(Deviation::ListDataDiffers)
                    && let Some(o) = data.as_object_mut()
                {
                    o.insert("listedOnly".into(), json!(true));
                }
                (true, last_ms, data)
            }
        };
        entries.push(json!({
            "asyncResultID": h.id,
            "completed": if cfg.deviates(Deviation::ListCompletedAsString) {
                json!(completed.to_string())
            } else {
                json!(completed)
            },
            "createTime": ctx.clock.iso(h.created_ms),
            "lastUpdateTime": ctx.clock.iso(last_ms),
            "resultType": h.result_type,
            "success": completed && h.ok,
            "data": data,
        }));
    }
    if cfg.deviates(Deviation::ListPurges) {
        for id in listed {
            if let Some(h) = st.handles.get_mut(&id) {
                h.purged = true;
            }
        }
    }
    Ok(json!({"asyncHandles": entries}))
}
