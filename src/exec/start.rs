//! The `start` step: begins asynchronous work and binds its handle or job key. Scripted jobs go
//! through the mock's control API; Element `clone` creates (and records in the ledger) an account
//! if needed, a minimum-size scratch volume and its clone; AIQUM `call` sends the target's
//! asynchronous call (the profile's on live targets, a LUN create on the mock) and registers the
//! created object's cleanup once the job names it. Every object is recorded in the ledger the
//! moment the answer that created it arrives.

use std::time::Duration;

use serde_json::{Value, json};

use super::ElCall;
use super::run::{Run, StepResult, Stop};
use crate::case::template::text_of;
use crate::case::{Api, StartStep, Work};
use crate::ledger::Created;
use crate::target::{AiqumCleanup, Kind};
use crate::transport::{AuthMode, SendBody, aiqum};

/// A unique name for objects the harness creates (`jobconform-<random>`).
pub fn scratch_name() -> String {
    format!("jobconform-{:012x}", fastrand::u64(..) & 0xffff_ffff_ffff)
}

/// Body of the LUN create the mock accepts for `work: call` (1 GiB), or for `work: failing-call`
/// (larger than the mock's aggregates: accepted, then its job fails).
pub fn mock_lun_body(failing: bool) -> Value {
    let size = match failing {
        true => crate::mock::aiqum::AGGREGATE_BYTES + 1,
        false => 1073741824u64,
    };
    json!({"name": scratch_name(), "space": {"size": size}, "svm": {"key": "svm-key-1"}})
}

/// Runs a start step.
pub async fn start(run: &mut Run<'_>, s: &StartStep) -> StepResult {
    let expects = run.expand_expects(&s.expect)?;
    match &s.work {
        Work::Scripted(script) => {
            let Kind::Mock { control, .. } = &run.target().kind else {
                return Err(Stop::Skip("scripted jobs need the mock".into()));
            };
            let (path, ptr) = match run.case().api {
                Api::Element => ("element/jobs", "/asyncHandle"),
                Api::Aiqum => ("aiqum/jobs", "/key"),
            };
            let url = format!("{}/{path}", control.trim_end_matches('/'));
            let body = serde_json::to_value(script)
                .map_err(|e| Stop::Harness(format!("serialize the job script: {e}")))?;
            let ex = run
                .target()
                .client
                .send(
                    reqwest::Method::POST,
                    &url,
                    Some(SendBody::Json(body)),
                    AuthMode::Default,
                    Duration::ZERO,
                )
                .await;
            let i = run.record(ex)?;
            let value = run.ex(i).json().and_then(|b| b.pointer(ptr)).cloned();
            let Some(v) = value else {
                return Err(Stop::Harness(format!(
                    "start a scripted job: the control API answered {:?} without {ptr}",
                    run.ex(i).status()
                )));
            };
            run.began(&text_of(&v));
            run.set_var(&s.var, v);
            run.judge(&expects, i, None)?;
            let body = run.ex(i).json().cloned();
            run.capture(&s.capture, body.as_ref())
        }
        Work::Clone => clone(run, s, &expects).await,
        Work::Call => call(run, s, &expects, false).await,
        Work::FailingCall => call(run, s, &expects, true).await,
    }
}

/// Sends a setup call and returns the value at `ptr` of its result; anything else makes the case
/// inconclusive.
async fn setup(run: &mut Run<'_>, method: &str, params: Value, ptr: &str) -> Result<Value, Stop> {
    let i = run.el_call(ElCall::new(method, params)).await?;
    run.ex(i)
        .json()
        .and_then(|b| b.pointer(ptr))
        .cloned()
        .ok_or_else(|| {
            Stop::Inconclusive(format!(
                "set up the clone: {method} answered without {ptr}: {}",
                run.ex(i).json().map(Value::to_string).unwrap_or_default()
            ))
        })
}

async fn account(run: &mut Run<'_>) -> Result<i64, Stop> {
    if let Some(a) = run.target().element_account {
        return Ok(a);
    }
    let known = run
        .target()
        .ledger
        .outstanding()
        .into_iter()
        .find_map(|c| match c {
            Created::ElementAccount { id } => Some(id),
            _ => None,
        });
    if let Some(a) = known {
        return Ok(a);
    }
    // The account is the target's, made by whichever case needs it first: its exchange is marked
    // so that snapshots leave it out.
    let first = run.transcript().len();
    let v = setup(
        run,
        "AddAccount",
        json!({"username": scratch_name()}),
        "/result/accountID",
    )
    .await?;
    run.mark_shared_setup(first..run.transcript().len());
    let id = v.as_i64().ok_or_else(|| {
        Stop::Inconclusive(format!("set up the clone: accountID {v} is not an integer"))
    })?;
    run.target().ledger.record(Created::ElementAccount { id });
    Ok(id)
}

async fn clone(run: &mut Run<'_>, s: &StartStep, expects: &[crate::case::Expect]) -> StepResult {
    let volume = match run.scratch_volume() {
        Some(v) => v,
        None => {
            let account = account(run).await?;
            let size = setup(run, "GetLimits", json!({}), "/result/volumeSizeMin")
                .await
                .ok()
                .and_then(|v| v.as_i64())
                .unwrap_or(1_000_000_000);
            let params = json!({"name": scratch_name(), "accountID": account, "totalSize": size,
                "enable512e": false});
            let v = setup(run, "CreateVolume", params, "/result/volumeID").await?;
            let id = v.as_i64().ok_or_else(|| {
                Stop::Inconclusive(format!("set up the clone: volumeID {v} is not an integer"))
            })?;
            run.target().ledger.record(Created::ElementVolume { id });
            run.set_scratch_volume(id);
            id
        }
    };
    let params = json!({"volumeID": volume, "name": scratch_name()});
    let i = run.el_call(ElCall::new("CloneVolume", params)).await?;
    if let Some(id) = run
        .ex(i)
        .json()
        .and_then(|b| b.pointer("/result/volumeID"))
        .and_then(Value::as_i64)
    {
        run.target().ledger.record(Created::ElementVolume { id });
    }
    run.judge(expects, i, None)?;
    let body = run.ex(i).json().cloned();
    let handle = body
        .as_ref()
        .and_then(|b| b.pointer("/result/asyncHandle"))
        .cloned();
    let Some(h) = handle else {
        return Err(Stop::Inconclusive(format!(
            "CloneVolume answered without result.asyncHandle: {}",
            body.map(|b| b.to_string()).unwrap_or_default()
        )));
    };
    // A new job under a reused handle starts a new history (reuse is EL-HANDLE-UNIQUE's concern).
    run.began(&text_of(&h));
    run.set_var(&s.var, h);
    run.capture(&s.capture, body.as_ref())
}

async fn call(
    run: &mut Run<'_>,
    s: &StartStep,
    expects: &[crate::case::Expect],
    failing: bool,
) -> StepResult {
    let configured = match failing {
        true => &run.target().aiqum_failing_call,
        false => &run.target().aiqum_call,
    };
    let (method, path, body, cleanup) = match (&run.target().kind, configured) {
        (_, Some(c)) => (
            c.method.clone(),
            c.path.clone(),
            c.body.clone(),
            c.cleanup.clone(),
        ),
        (Kind::Mock { .. }, None) => (
            "POST".to_string(),
            "/storage-provider/luns".to_string(),
            Some(mock_lun_body(failing)),
            Some(AiqumCleanup {
                method: "DELETE".into(),
                path: "/storage-provider/luns/${result:lunKey}".into(),
            }),
        ),
        (Kind::Live, None) => {
            return Err(Stop::Skip(format!(
                "no AIQUM asynchronous call is configured for this target (profile {})",
                if failing {
                    "aiqum_failing_call"
                } else {
                    "aiqum_call"
                }
            )));
        }
    };
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|_| Stop::Harness(format!("send: {method:?} is not an HTTP method")))?;
    let req = aiqum::Request {
        method,
        path: &path,
        query: Default::default(),
        body,
        auth: AuthMode::Default,
        extra_wait: Duration::ZERO,
    };
    let i = run.um_request(req).await?;
    let before = run.finding_count();
    run.judge(expects, i, None)?;
    let body = run.ex(i).json().cloned();
    let key = body
        .as_ref()
        .and_then(|b| b.pointer("/job/key"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let Some(key) = key else {
        if run.finding_count() > before {
            // The case's own expectations on this answer already failed (UM-ACCEPT-202): they
            // say why the case cannot go on; it failed, it is not inconclusive.
            return Err(Stop::Halt);
        }
        return Err(Stop::Inconclusive(format!(
            "the asynchronous call answered {:?} without job.key",
            run.ex(i).status()
        )));
    };
    if let Some(c) = cleanup {
        run.expect_removal(&key, c);
    }
    run.began(&key);
    run.set_var(&s.var, Value::String(key));
    run.capture(&s.capture, body.as_ref())
}
