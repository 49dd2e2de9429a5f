//! Removal of the objects a run created on a target (recorded in its [`crate::ledger`] the moment
//! the answer that created each arrived), by [`clean`], whatever happened
//! (case failure, deadline, Ctrl-C). Removal order: Element volumes newest first (clones before
//! their sources), each DeleteVolume then PurgeDeletedVolume; then Element accounts
//! (RemoveAccount; volumes still in an account the run created are the run's too, and are removed
//! first). AIQUM objects, meanwhile, through their recorded cleanup calls, a few at once (a 202
//! is polled to a terminal state, bounded). What could not be removed comes back as a [`Leftover`]; this module
//! never decides pass or fail.

use std::time::Duration;

mod error;

use serde::Serialize;
use serde_json::{Value, json};

pub use crate::ledger::Created;
pub use error::CleanupError;

use crate::ledger::resolve_path;
use crate::poll::End;
use crate::target::Target;
use crate::transport::{AuthMode, Exchange, aiqum, element};

/// Something that could not be removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Leftover {
    /// The object.
    pub object: Created,
    /// Why it is still there.
    pub error: String,
}

/// Longest a cleanup job is polled.
const CLEANUP_JOB_DEADLINE: Duration = Duration::from_secs(120);

/// AIQUM removals sent at once (each one is a job the target runs and the harness polls).
const AIQUM_AT_ONCE: usize = 4;

/// Removes everything outstanding in the target's ledger (whatever the run's state, interrupted
/// or not) and returns what could not be removed. Removed objects are forgotten by the ledger.
/// Element objects go one at a time in the order of the module docs; AIQUM objects, which do not
/// depend on each other, up to `AIQUM_AT_ONCE` (4) at a time, alongside the Element ones.
pub async fn clean(target: &Target) -> Vec<Leftover> {
    use futures_util::stream::{self, StreamExt};
    let mut items = target.ledger.outstanding();
    // Clones are recorded after their sources: remove newest first.
    items.reverse();
    let order = |c: &Created| match c {
        Created::ElementVolume { .. } => 0,
        Created::ElementAccount { .. } => 1,
        Created::AiqumObject { .. } | Created::AiqumPending { .. } => 2,
    };
    items.sort_by_key(order);
    let (aiqum, element): (Vec<_>, Vec<_>) = items.into_iter().partition(|c| {
        matches!(
            c,
            Created::AiqumObject { .. } | Created::AiqumPending { .. }
        )
    });
    let element = async {
        let mut done = Vec::new();
        for item in element {
            done.push(remove(target, item).await);
        }
        done
    };
    let aiqum = stream::iter(aiqum)
        .map(|item| remove(target, item))
        .buffered(AIQUM_AT_ONCE)
        .collect::<Vec<_>>();
    let (element, aiqum) = tokio::join!(element, aiqum);
    let mut leftovers = Vec::new();
    for (item, result) in element.into_iter().chain(aiqum) {
        match result {
            Ok(()) => target.ledger.forget(&item),
            Err(error) => leftovers.push(Leftover {
                object: item,
                error: target.client.redact_str(&error.to_string()),
            }),
        }
    }
    leftovers
}

/// Removes one object.
async fn remove(target: &Target, item: Created) -> (Created, Result<(), CleanupError>) {
    let result = match &item {
        Created::ElementVolume { id } => remove_volume(target, *id).await,
        Created::ElementAccount { id } => remove_account(target, *id).await,
        Created::AiqumObject { method, path } => remove_aiqum(target, method, path).await,
        Created::AiqumPending { job, method, path } => {
            match pending_path(target, job, path).await {
                Ok(Named::Path(path)) => remove_aiqum(target, method, &path).await,
                Ok(Named::NothingCreated) => Ok(()),
                Err(e) => Err(e),
            }
        }
    };
    (item, result)
}

/// What the creating job of a pending object says once it has ended.
enum Named {
    /// The object's cleanup path, resolved from the job's `job_results`.
    Path(String),
    /// The job failed without naming anything: it created nothing.
    NothingCreated,
}

/// Polls job `key` to its end (bounded like every cleanup job; an end that cannot be read stops
/// at once) and resolves `path` from its `job_results`; an error says why the object cannot be
/// named.
async fn pending_path(target: &Target, key: &str, path: &str) -> Result<Named, CleanupError> {
    let ep = target.aiqum.as_ref().ok_or(CleanupError::NoAiqum)?;
    let mut policy = target.policy.clone();
    policy.deadline = policy.deadline.min(CLEANUP_JOB_DEADLINE);
    policy.long_poll = None;
    let outcome = crate::poll::aiqum(&target.client, ep, key, &policy, &mut |_| {}).await;
    let Some(job) = outcome.last.as_ref() else {
        return Err(CleanupError::NeverRead {
            key: key.to_string(),
            end: outcome.end,
        });
    };
    let failed = outcome.end == End::Terminal
        && crate::check::aiqum::outcome(job).as_deref() == Some("ERROR");
    if failed && job.get("job_results").is_none_or(|r| r == &json!([])) {
        return Ok(Named::NothingCreated);
    }
    resolve_path(path, job)
        .map(Named::Path)
        .ok_or_else(|| CleanupError::Unnamed {
            key: key.to_string(),
            state: job.get("state").cloned().unwrap_or(Value::Null),
            status: job.get("status").cloned().unwrap_or(Value::Null),
        })
}

/// Attempts per cleanup call: cleanup must not give up on a transient fault (CL-TRANSIENT).
const CLEANUP_ATTEMPTS: usize = 8;

/// Sends a cleanup request, resending it after a transient fault (a broken connection, a 503, a
/// transient Element error) with a growing pause, at most [`CLEANUP_ATTEMPTS`] times. Every
/// cleanup call is idempotent (removing an object twice answers "does not exist", which counts as
/// removed), so resending after a broken connection is safe.
async fn retrying<F, Fut>(target: &Target, mut send: F) -> Exchange
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Exchange>,
{
    use crate::exec::retry::{PAUSE_MS, Retry};
    let mut retry = Retry::new(CLEANUP_ATTEMPTS, target.real(PAUSE_MS), 1.5, true);
    loop {
        let x = send().await;
        match retry.after(&x) {
            Some((_, pause)) => tokio::time::sleep(pause).await,
            None => return x,
        }
    }
}

async fn rpc(target: &Target, method: &str, params: Value) -> Result<Exchange, CleanupError> {
    let ep = target.element.as_ref().ok_or(CleanupError::NoElement)?;
    let send = || {
        element::call(
            &target.client,
            ep,
            element::Call {
                method,
                params: params.clone(),
                id: json!(format!("cleanup-{method}")),
                auth: AuthMode::Default,
                version: None,
            },
        )
    };
    Ok(retrying(target, send).await)
}

/// `Ok(true)` for a result, `Ok(false)` for an error saying the object does not exist, else the
/// error.
fn answered(x: &Exchange, method: &str) -> Result<bool, CleanupError> {
    let r = x.response.as_ref().map_err(|e| CleanupError::Transport {
        call: method.to_string(),
        source: e.clone(),
    })?;
    let body = r.body.json();
    if let Some(b) = body {
        if b.get("result").is_some() {
            return Ok(true);
        }
        if let Some(err) = b.get("error") {
            let name = err.get("name").and_then(Value::as_str).unwrap_or("");
            if name.contains("DoesNotExist") || name.contains("NotFound") {
                return Ok(false);
            }
            return Err(CleanupError::Element {
                method: method.to_string(),
                error: err.clone(),
            });
        }
    }
    Err(CleanupError::NoResult {
        method: method.to_string(),
        status: r.status,
    })
}

async fn remove_volume(target: &Target, id: i64) -> Result<(), CleanupError> {
    let del = rpc(target, "DeleteVolume", json!({ "volumeID": id })).await?;
    // A volume already deleted (but not purged) answers "does not exist" here: purge anyway.
    answered(&del, "DeleteVolume")?;
    let purge = rpc(target, "PurgeDeletedVolume", json!({ "volumeID": id })).await?;
    answered(&purge, "PurgeDeletedVolume").map(|_| ())
}

/// Removes an account the run created. If it still holds volumes (a clone the ledger never
/// heard of), those are the run's too: they are deleted and purged, then removal is retried once.
async fn remove_account(target: &Target, id: i64) -> Result<(), CleanupError> {
    let x = rpc(target, "RemoveAccount", json!({ "accountID": id })).await?;
    let first = answered(&x, "RemoveAccount");
    let has_volumes = x
        .json()
        .and_then(|b| b.pointer("/error/name"))
        .and_then(Value::as_str)
        == Some("xAccountHasVolumes");
    if first.is_ok() || !has_volumes {
        return first.map(|_| ());
    }
    let list = rpc(target, "ListVolumes", json!({ "accounts": [id] })).await?;
    let ids: Vec<i64> = list
        .json()
        .and_then(|b| b.pointer("/result/volumes"))
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter_map(|v| v.get("volumeID").and_then(Value::as_i64))
                .collect()
        })
        .unwrap_or_default();
    for v in ids.into_iter().rev() {
        remove_volume(target, v).await?;
    }
    let x = rpc(target, "RemoveAccount", json!({ "accountID": id })).await?;
    answered(&x, "RemoveAccount").map(|_| ())
}

async fn remove_aiqum(target: &Target, method: &str, path: &str) -> Result<(), CleanupError> {
    let ep = target.aiqum.as_ref().ok_or(CleanupError::NoAiqum)?;
    let m = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|_| CleanupError::BadMethod(method.to_string()))?;
    let call = || format!("{method} {path}");
    let send = || {
        aiqum::request(
            &target.client,
            ep,
            aiqum::Request {
                method: m.clone(),
                ..aiqum::Request::get(path)
            },
        )
    };
    let x = retrying(target, send).await;
    let r = x.response.as_ref().map_err(|e| CleanupError::Transport {
        call: call(),
        source: e.clone(),
    })?;
    // A 2xx that names a job (a 202, or a server that answers 200 with the job: UM-ACCEPT-202's
    // concern, not cleanup's) is removed when that job ends.
    let job = r.body.json().and_then(|b| b.pointer("/job/key")).is_some();
    match r.status {
        202 => {}
        s if (200..300).contains(&s) && job => {}
        404 | 410 => return Ok(()),
        s if (200..300).contains(&s) => return Ok(()),
        status => {
            return Err(CleanupError::Status {
                call: call(),
                status,
            });
        }
    }
    let key = r
        .body
        .json()
        .and_then(|b| b.pointer("/job/key"))
        .and_then(Value::as_str)
        .ok_or_else(|| CleanupError::NoJobKey { call: call() })?;
    let mut policy = target.policy.clone();
    policy.deadline = policy.deadline.min(CLEANUP_JOB_DEADLINE);
    let outcome = crate::poll::aiqum(&target.client, ep, key, &policy, &mut |_| {}).await;
    match outcome.end {
        End::Terminal => {
            let failed = matches!(
                outcome
                    .last
                    .as_ref()
                    .and_then(crate::check::aiqum::outcome)
                    .as_deref(),
                Some("ERROR" | "PARTIAL_FAILURES")
            );
            if failed {
                Err(CleanupError::JobFailed {
                    call: call(),
                    key: key.to_string(),
                })
            } else {
                Ok(())
            }
        }
        End::Deadline => Err(CleanupError::JobDeadline {
            call: call(),
            key: key.to_string(),
            secs: policy.deadline.as_secs(),
        }),
        End::Failed { reason } => Err(CleanupError::JobPoll {
            call: call(),
            key: key.to_string(),
            reason,
        }),
    }
}
