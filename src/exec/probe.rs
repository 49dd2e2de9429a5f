//! The capability probe, once per target before its cases: does AIQUM offer long polling
//! (register U3), and which dialect does it serve (register U1)? On the mock a scripted job that
//! runs long is started through the control API; on a live target with mutations allowed and an
//! `aiqum_call`, that call starts real work to probe with (its object goes to the ledger, named
//! by the job's `job_results` at cleanup); otherwise a job from the list that is still running is
//! used, if there is one, and without one long polling is "not probed" (never "not offered"). A `GET` with `poll_timeout=2` (target seconds) that
//! comes back at once with the job still running means no capability; one that blocks for about
//! the timeout means the capability is there.

use std::time::Duration;

use serde_json::{Value, json};

use super::Capabilities;
use crate::target::{Kind, Target};
use crate::transport::{AuthMode, Query, SendBody, aiqum};

/// Probes the target.
pub async fn probe(target: &Target) -> Capabilities {
    let mut caps = Capabilities::default();
    let Some(ep) = &target.aiqum else {
        caps.notes
            .push("no AIQUM endpoint: long polling not probed".into());
        return caps;
    };
    let key = match running_job(target, ep, &mut caps).await {
        Some(k) => k,
        None => return caps,
    };
    caps.long_poll_probed = true;
    let mut query = Query::new();
    query.insert("poll_timeout".into(), "2".into());
    let path = format!("/management-server/jobs/{key}");
    let req = aiqum::Request {
        query,
        extra_wait: target.real(4000) + Duration::from_secs(1),
        ..aiqum::Request::get(&path)
    };
    let ex = aiqum::request(&target.client, ep, req).await;
    let Ok(resp) = &ex.response else {
        caps.notes
            .push("U3: the long-poll probe got no answer".into());
        return caps;
    };
    let took = (resp.elapsed_ms as f64 * target.time_scale()).round() as u64;
    let Some(job) = resp.body.json().filter(|v| crate::check::aiqum::is_job(v)) else {
        caps.notes.push(format!(
            "U3: the long-poll probe answered HTTP {} without a job: no long polling",
            resp.status
        ));
        return caps;
    };
    caps.aiqum_dialect = Some(crate::check::aiqum::dialect(job));
    let terminal = crate::poll::aiqum_terminal(job) == Some(true);
    if took >= 1000 {
        caps.long_poll = true;
        caps.notes.push(format!(
            "U3: GET with poll_timeout=2 waited {took} ms (target time): long polling offered"
        ));
    } else if terminal {
        caps.notes.push(
            "U3: the probe job ended before the long poll could wait; long polling not established"
                .into(),
        );
    } else {
        caps.notes.push(format!(
            "U3: GET with poll_timeout=2 answered after {took} ms with the job still running: no long polling"
        ));
    }
    caps
}

async fn running_job(
    target: &Target,
    ep: &aiqum::Endpoint,
    caps: &mut Capabilities,
) -> Option<String> {
    match &target.kind {
        Kind::Mock { control, .. } => {
            let url = format!("{}/aiqum/jobs", control.trim_end_matches('/'));
            let script = json!({"steps": [{"ms": 120000}], "outcome": "success",
                "name": "jobconform long-poll probe"});
            let ex = target
                .client
                .send(
                    reqwest::Method::POST,
                    &url,
                    Some(SendBody::Json(script)),
                    AuthMode::Default,
                    Duration::ZERO,
                )
                .await;
            let key = ex.json().and_then(|b| b.get("key")).and_then(Value::as_str);
            if key.is_none() {
                caps.notes.push(format!(
                    "U3: the mock's control API did not start a probe job (HTTP {:?})",
                    ex.status()
                ));
            }
            key.map(str::to_string)
        }
        Kind::Live if target.allow_mutations && target.aiqum_call.is_some() => {
            real_work(target, ep, caps).await
        }
        Kind::Live => {
            let mut query = Query::new();
            query.insert("state".into(), "running".into());
            query.insert("max_records".into(), "5".into());
            let req = aiqum::Request {
                query,
                ..aiqum::Request::get("/management-server/jobs")
            };
            let ex = aiqum::request(&target.client, ep, req).await;
            let records = ex
                .json()
                .and_then(|b| b.get("records"))
                .and_then(Value::as_array);
            if let Some(first) = records.and_then(|r| r.first()) {
                caps.aiqum_dialect = Some(crate::check::aiqum::dialect(first));
            }
            let key = records.and_then(|r| {
                r.iter()
                    .find(|j| crate::poll::aiqum_terminal(j) == Some(false))
                    .and_then(|j| j.get("key"))
                    .and_then(Value::as_str)
            });
            if key.is_none() {
                caps.notes.push(
                    "U3: long polling not probed: no running job in the list, and no real work \
                     to start (needs --allow-mutations and an aiqum_call)"
                        .into(),
                );
            }
            key.map(str::to_string)
        }
    }
}

/// Starts the profile's `aiqum_call` to probe with; its object is handed to the ledger.
async fn real_work(
    target: &Target,
    ep: &aiqum::Endpoint,
    caps: &mut Capabilities,
) -> Option<String> {
    let call = target.aiqum_call.as_ref()?;
    let method = reqwest::Method::from_bytes(call.method.as_bytes()).ok()?;
    let req = aiqum::Request {
        method,
        body: call.body.clone(),
        ..aiqum::Request::get(&call.path)
    };
    let ex = aiqum::request(&target.client, ep, req).await;
    let key = ex
        .json()
        .and_then(|b| b.pointer("/job/key"))
        .and_then(Value::as_str)
        .map(str::to_string);
    match (&key, &call.cleanup) {
        (Some(k), Some(c)) => target.ledger.record(crate::ledger::Created::AiqumPending {
            job: k.clone(),
            method: c.method.clone(),
            path: c.path.clone(),
        }),
        (Some(_), None) => {}
        (None, _) => caps.notes.push(format!(
            "U3: long polling not probed: the aiqum_call answered {:?} without job.key",
            ex.status()
        )),
    }
    if key.is_some() {
        caps.notes
            .push("U3: probed with real work (the profile's aiqum_call)".into());
    }
    key
}
