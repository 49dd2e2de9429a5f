//! The ledger of objects a run created on a target, and their removal. Every object is recorded
//! the moment the answer that created it arrives, and removed by [`clean`] whatever happened
//! (case failure, deadline, Ctrl-C). Removal order: Element volumes newest first (clones before
//! their sources), each DeleteVolume then PurgeDeletedVolume; then Element accounts
//! (RemoveAccount; volumes still in an account the run created are the run's too, and are removed
//! first). AIQUM objects, meanwhile, through their recorded cleanup calls, a few at once (a 202
//! is polled to a terminal state, bounded). What could not be removed comes back as a [`Leftover`]; this module
//! never decides pass or fail.

use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

use crate::target::Target;
use crate::transport::{AuthMode, Exchange, aiqum, element};

/// Something created on a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Created {
    /// An Element volume (source or clone): DeleteVolume + PurgeDeletedVolume.
    ElementVolume {
        /// volumeID
        id: i64,
    },
    /// An Element account created for scratch volumes: RemoveAccount (after its volumes).
    ElementAccount {
        /// accountID
        id: i64,
    },
    /// An AIQUM object: the cleanup call, already resolved (`DELETE /storage-provider/luns/KEY`).
    AiqumObject {
        /// HTTP method.
        method: String,
        /// Path under the API base.
        path: String,
    },
    /// An AIQUM object whose creating job never named it while the case ran (its end could not
    /// be read, or the case stopped first): at cleanup the job is read once more; if its
    /// `job_results` name the object it is removed, else it is listed as left behind.
    AiqumPending {
        /// The creating job's key.
        job: String,
        /// HTTP method of the cleanup call.
        method: String,
        /// Cleanup path with `${result:NAME}` still in it.
        path: String,
    },
}

/// Objects created and not yet removed, per target.
#[derive(Debug, Default)]
pub struct Ledger {
    items: Mutex<Vec<Created>>,
}

impl Ledger {
    /// Records a created object.
    pub fn record(&self, c: Created) {
        self.items.lock().unwrap_or_else(|p| p.into_inner()).push(c);
    }
    /// Marks an object as removed (a case removed it itself).
    pub fn forget(&self, c: &Created) {
        self.items
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|x| x != c);
    }
    /// Objects still outstanding.
    pub fn outstanding(&self) -> Vec<Created> {
        self.items.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl std::fmt::Display for Created {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Created::ElementVolume { id } => write!(f, "Element volume {id}"),
            Created::ElementAccount { id } => write!(f, "Element account {id}"),
            Created::AiqumObject { method, path } => write!(f, "AIQUM object ({method} {path})"),
            Created::AiqumPending { job, method, path } => {
                write!(f, "AIQUM object of job {job} ({method} {path})")
            }
        }
    }
}

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
                error: target.client.redact_str(&error),
            }),
        }
    }
    leftovers
}

/// Removes one object.
async fn remove(target: &Target, item: Created) -> (Created, Result<(), String>) {
    let result = match &item {
        Created::ElementVolume { id } => remove_volume(target, *id).await,
        Created::ElementAccount { id } => remove_account(target, *id).await,
        Created::AiqumObject { method, path } => remove_aiqum(target, method, path).await,
        Created::AiqumPending { job, method, path } => {
            match pending_path(target, job, path).await {
                Ok(Some(path)) => remove_aiqum(target, method, &path).await,
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            }
        }
    };
    (item, result)
}

/// `path` with every `${result:NAME}` replaced by the `job_results` value NAME of `job` (`*`: the
/// first value); `None` while the job names no such value.
pub fn resolve_path(path: &str, job: &Value) -> Option<String> {
    let results = job.get("job_results")?.as_array()?;
    let lookup: std::collections::BTreeMap<&str, &str> = results
        .iter()
        .filter_map(|r| Some((r.get("name")?.as_str()?, r.get("value")?.as_str()?)))
        .collect();
    let mut out = path.to_string();
    for name in crate::case::template::names_in(path) {
        let Some(field) = name.strip_prefix("result:") else {
            continue;
        };
        let value = match field {
            "*" => lookup.values().next(),
            f => lookup.get(f),
        }?;
        out = out.replace(&format!("${{{name}}}"), value);
    }
    Some(out)
}

/// Polls job `key` to its end (bounded like every cleanup job; an end that cannot be read stops
/// at once) and resolves `path` from its `job_results` (`None`: the job failed without naming
/// anything, so it created nothing); an error says why the object cannot be named.
async fn pending_path(target: &Target, key: &str, path: &str) -> Result<Option<String>, String> {
    let ep = target
        .aiqum
        .as_ref()
        .ok_or("target has no AIQUM endpoint")?;
    let mut policy = target.policy.clone();
    policy.deadline = policy.deadline.min(CLEANUP_JOB_DEADLINE);
    policy.long_poll = None;
    let outcome = crate::poll::aiqum(&target.client, ep, key, &policy, &mut |_| {}).await;
    let job = outcome
        .last
        .as_ref()
        .ok_or_else(|| format!("job {key}: never read ({:?})", outcome.end))?;
    let failed = outcome.end == crate::poll::End::Terminal
        && crate::check::aiqum::outcome(job).as_deref() == Some("ERROR");
    if failed && job.get("job_results").is_none_or(|r| r == &json!([])) {
        return Ok(None);
    }
    resolve_path(path, job).map(Some).ok_or_else(|| {
        format!(
            "job {key} names no object in job_results (state {}, status {}): its end could not be read, so what it created is unknown",
            job.get("state").unwrap_or(&Value::Null),
            job.get("status").unwrap_or(&Value::Null)
        )
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

async fn rpc(target: &Target, method: &str, params: Value) -> Result<Exchange, String> {
    let ep = target
        .element
        .as_ref()
        .ok_or("target has no Element endpoint")?;
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
/// error text.
fn answered(x: &Exchange, method: &str) -> Result<bool, String> {
    let r = x.response.as_ref().map_err(|e| format!("{method}: {e}"))?;
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
            return Err(format!("{method}: {err}"));
        }
    }
    Err(format!("{method}: HTTP {} without a result", r.status))
}

async fn remove_volume(target: &Target, id: i64) -> Result<(), String> {
    let del = rpc(target, "DeleteVolume", json!({ "volumeID": id })).await?;
    // A volume already deleted (but not purged) answers "does not exist" here: purge anyway.
    answered(&del, "DeleteVolume")?;
    let purge = rpc(target, "PurgeDeletedVolume", json!({ "volumeID": id })).await?;
    answered(&purge, "PurgeDeletedVolume").map(|_| ())
}

/// Removes an account the run created. If it still holds volumes (a clone the ledger never
/// heard of), those are the run's too: they are deleted and purged, then removal is retried once.
async fn remove_account(target: &Target, id: i64) -> Result<(), String> {
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

async fn remove_aiqum(target: &Target, method: &str, path: &str) -> Result<(), String> {
    let ep = target
        .aiqum
        .as_ref()
        .ok_or("target has no AIQUM endpoint")?;
    let m = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|_| format!("{method} is not an HTTP method"))?;
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
    let r = x
        .response
        .as_ref()
        .map_err(|e| format!("{method} {path}: {e}"))?;
    // A 2xx that names a job (a 202, or a server that answers 200 with the job: UM-ACCEPT-202's
    // concern, not cleanup's) is removed when that job ends.
    let job = r.body.json().and_then(|b| b.pointer("/job/key")).is_some();
    match r.status {
        202 => {}
        s if (200..300).contains(&s) && job => {}
        404 | 410 => return Ok(()),
        s if (200..300).contains(&s) => return Ok(()),
        s => return Err(format!("{method} {path}: HTTP {s}")),
    }
    let key = r
        .body
        .json()
        .and_then(|b| b.pointer("/job/key"))
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{method} {path}: 202 without job.key"))?;
    let mut policy = target.policy.clone();
    policy.deadline = policy.deadline.min(CLEANUP_JOB_DEADLINE);
    let outcome = crate::poll::aiqum(&target.client, ep, key, &policy, &mut |_| {}).await;
    match outcome.end {
        crate::poll::End::Terminal => {
            let failed = matches!(
                outcome
                    .last
                    .as_ref()
                    .and_then(crate::check::aiqum::outcome)
                    .as_deref(),
                Some("ERROR" | "PARTIAL_FAILURES")
            );
            if failed {
                Err(format!(
                    "{method} {path}: cleanup job {key} ended in failure"
                ))
            } else {
                Ok(())
            }
        }
        crate::poll::End::Deadline => Err(format!(
            "{method} {path}: cleanup job {key} not terminal after {} s",
            policy.deadline.as_secs()
        )),
        crate::poll::End::Failed { reason } => {
            Err(format!("{method} {path}: cleanup job {key}: {reason}"))
        }
    }
}
