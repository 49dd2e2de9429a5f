//! Element asynchronous results: handles as timelines on the mock clock (status computed at query
//! time, never by a timer), ListAsyncResults, and the starting of clone and scripted jobs
//! (GetAsyncResult is `gar.rs`). This file never awaits.

use serde_json::{Value, json};

use super::rpc::{Params, RpcError};
use super::{Ctx, ElementState, Note};
use crate::mock::Deviation;
use crate::mock::script::{JobScript, Outcome};

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
