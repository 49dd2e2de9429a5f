//! AIQUM provisioning calls that start jobs: LUNs and file shares under `/storage-provider/`.
//! Validates bodies synchronously (400, by [`super::invalid`]), answers 202 with
//! `{"job": {"key", "_links"}}`, and records the object change as the job's effect (applied when
//! the job succeeds). Also serves GET of the objects. Deviations served here: `accept-200`,
//! `accept-no-key`, `accept-link-wrong-key`. Also the timeline a provisioning call's job follows
//! ([`call_script`]). Holds no lock across an `.await`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State as AxState};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::super::State;
use super::invalid::{non_empty_str, validate_create, validate_patch};
use super::jobs::job_href;
use super::reply::{self, Note};
use super::{Effect, Kind, Origin};
use crate::mock::script::{JobScript, Outcome, ScriptStep};
use crate::mock::{Deviation, MockConfig};

/// The provisioning routes under `/api` and `/api/v2`.
pub fn routes() -> Router<Arc<State>> {
    let mut r = Router::new();
    for p in ["/api", "/api/v2"] {
        for kind in [Kind::Lun, Kind::FileShare] {
            let seg = kind.segment();
            r = r
                .route(
                    &format!("{p}/storage-provider/{seg}"),
                    get(list_objects).post(create).fallback(not_allowed),
                )
                .route(
                    &format!("{p}/storage-provider/{seg}/{{key}}"),
                    get(get_object)
                        .patch(modify)
                        .delete(remove)
                        .fallback(not_allowed),
                );
        }
    }
    r
}

async fn not_allowed(AxState(st): AxState<Arc<State>>, req: Request) -> Response {
    if let Some(r) = reply::check_auth(&st.config, req.headers()) {
        return r;
    }
    let m = format!("{} is not allowed on {}", req.method(), req.uri().path());
    reply::error(&st.config, StatusCode::METHOD_NOT_ALLOWED, "405", &m)
}

fn kind_of(path: &str) -> Kind {
    if path.contains("/storage-provider/file-shares") {
        Kind::FileShare
    } else {
        Kind::Lun
    }
}

fn object_key_of(path: &str, kind: Kind) -> Option<String> {
    let raw = path
        .rsplit_once(&format!("/storage-provider/{}/", kind.segment()))?
        .1;
    reply::decode_path(raw)
}

fn uuid() -> String {
    let h = |n: usize| -> String { (0..n).map(|_| fastrand::digit(16)).collect() };
    format!("{}-{}-{}-{}-{}", h(8), h(4), h(4), h(4), h(12))
}

fn new_object_key(kind: Kind) -> String {
    let t = match kind {
        Kind::Lun => "lun",
        Kind::FileShare => "volume",
    };
    format!("{}:type={t},uuid={}", uuid(), uuid())
}

async fn read_json(st: &State, req: Request) -> Result<Value, (StatusCode, String)> {
    let bytes = axum::body::to_bytes(req.into_body(), st.config.max_body)
        .await
        .map_err(|e| {
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("could not read the body: {e}"),
            )
        })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!("the body is not JSON: {e}"),
        )
    })
}

fn bad(st: &State, m: &str) -> Response {
    reply::error(&st.config, StatusCode::BAD_REQUEST, "400", m)
}

fn no_object(st: &State, kind: Kind) -> Response {
    let m = format!("no {} with that key", kind.label());
    reply::error(&st.config, StatusCode::NOT_FOUND, "404", &m)
}

/// What a provisioning call asks for.
struct Call {
    /// The job fails (a create larger than [`super::AGGREGATE_BYTES`]): no result, no effect.
    fails: bool,
    kind: Kind,
    verb: &'static str,
    name: String,
    description: String,
    results: Value,
    effect: Effect,
}

/// Starts the job of `call` and answers 202 (journaled).
fn accept(st: &State, parts: &axum::http::request::Parts, call: Call) -> Response {
    let prefix = reply::prefix_of(parts.uri.path());
    let now = st.clock.now_ms();
    let mut script = call_script(&st.config);
    if call.fails {
        script.outcome = crate::mock::script::Outcome::Failure;
        script.error = Some(json!({"message": "no aggregate has room for the requested size"}));
    } else {
        script.result = Some(call.results);
    }
    let (key, other) = {
        let mut s = st.aiqum.lock().unwrap_or_else(|p| p.into_inner());
        s.settle(now as i64);
        let key = s.push_job(
            call.name,
            call.description,
            now as i64,
            script,
            Origin::Call,
            Some(call.effect),
        );
        let other = st
            .config
            .deviates(Deviation::AcceptLinkWrongKey)
            .then(|| s.fresh_key());
        (key, other)
    };
    let href = job_href(prefix, other.as_deref().unwrap_or(&key));
    let mut job = json!({"key": key, "_links": {"self": {"href": href}}});
    if let (true, Some(o)) = (
        st.config.deviates(Deviation::AcceptNoKey),
        job.as_object_mut(),
    ) {
        o.remove("key");
    }
    let status = if st.config.deviates(Deviation::Accept200) {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let response = reply::json_answer(&st.config, status, &json!({"job": job}), false);
    let note = Note {
        op: format!("{} {}", call.verb, call.kind.segment()),
        job: Some(key),
        http_status: status.as_u16(),
        ..Note::default()
    };
    reply::journal(
        st,
        &parts.headers,
        reply::peer_of(&parts.extensions),
        now,
        note,
    );
    response
}

async fn create(AxState(st): AxState<Arc<State>>, req: Request) -> Response {
    if let Some(r) = reply::check_auth(&st.config, req.headers()) {
        return r;
    }
    let kind = kind_of(req.uri().path());
    let (parts, body) = req.into_parts();
    let body = match read_json(&st, Request::new(body)).await {
        Ok(b) => b,
        Err((code, m)) => return reply::error(&st.config, code, code.as_str(), &m),
    };
    if let Err(e) = validate_create(&body) {
        return bad(&st, &e.to_string());
    }
    let okey = new_object_key(kind);
    let name = non_empty_str(&body, "/name")
        .unwrap_or_default()
        .to_string();
    let mut object = body.clone();
    object["key"] = json!(okey);
    let call = Call {
        fails: body
            .pointer("/space/size")
            .and_then(Value::as_u64)
            .is_some_and(|s| s > super::AGGREGATE_BYTES),
        kind,
        verb: "POST",
        name: format!("Create {}", kind.label()),
        description: format!("Create {} {name}", kind.label()),
        results: json!([{"name": kind.result_name(), "value": okey}]),
        effect: Effect::Create(kind, okey.clone(), object),
    };
    accept(&st, &parts, call)
}

async fn modify(AxState(st): AxState<Arc<State>>, req: Request) -> Response {
    if let Some(r) = reply::check_auth(&st.config, req.headers()) {
        return r;
    }
    let kind = kind_of(req.uri().path());
    let okey = object_key_of(req.uri().path(), kind);
    let (parts, body) = req.into_parts();
    let body = match read_json(&st, Request::new(body)).await {
        Ok(b) => b,
        Err((code, m)) => return reply::error(&st.config, code, code.as_str(), &m),
    };
    let patch = match validate_patch(&body) {
        Ok(p) => p,
        Err(e) => return bad(&st, &e.to_string()),
    };
    let Some(okey) = okey.filter(|k| exists(&st, kind, k)) else {
        return no_object(&st, kind);
    };
    let call = Call {
        fails: false,
        kind,
        verb: "PATCH",
        name: format!("Modify {}", kind.label()),
        description: format!("Modify {} {okey}", kind.label()),
        results: json!([{"name": kind.result_name(), "value": okey}]),
        effect: Effect::Update(kind, okey.clone(), patch),
    };
    accept(&st, &parts, call)
}

async fn remove(AxState(st): AxState<Arc<State>>, req: Request) -> Response {
    if let Some(r) = reply::check_auth(&st.config, req.headers()) {
        return r;
    }
    let kind = kind_of(req.uri().path());
    let okey = object_key_of(req.uri().path(), kind);
    let (parts, _) = req.into_parts();
    let Some(okey) = okey.filter(|k| exists(&st, kind, k)) else {
        return no_object(&st, kind);
    };
    let call = Call {
        fails: false,
        kind,
        verb: "DELETE",
        name: format!("Delete {}", kind.label()),
        description: format!("Delete {} {okey}", kind.label()),
        results: json!([]),
        effect: Effect::Delete(kind, okey.clone()),
    };
    accept(&st, &parts, call)
}

fn exists(st: &State, kind: Kind, key: &str) -> bool {
    let now = st.clock.now_ms() as i64;
    let mut s = st.aiqum.lock().unwrap_or_else(|p| p.into_inner());
    s.settle(now);
    s.object(kind, key).is_some()
}

async fn get_object(AxState(st): AxState<Arc<State>>, req: Request) -> Response {
    if let Some(r) = reply::check_auth(&st.config, req.headers()) {
        return r;
    }
    let kind = kind_of(req.uri().path());
    let okey = object_key_of(req.uri().path(), kind);
    let now = st.clock.now_ms() as i64;
    let found = okey.and_then(|k| {
        let mut s = st.aiqum.lock().unwrap_or_else(|p| p.into_inner());
        s.settle(now);
        s.object(kind, &k).cloned()
    });
    match found {
        Some(o) => reply::json_answer(&st.config, StatusCode::OK, &o, false),
        None => no_object(&st, kind),
    }
}

async fn list_objects(AxState(st): AxState<Arc<State>>, req: Request) -> Response {
    if let Some(r) = reply::check_auth(&st.config, req.headers()) {
        return r;
    }
    let kind = kind_of(req.uri().path());
    let now = st.clock.now_ms() as i64;
    let records: Vec<Value> = {
        let mut s = st.aiqum.lock().unwrap_or_else(|p| p.into_inner());
        s.settle(now);
        s.objects(kind).into_iter().cloned().collect()
    };
    let body = json!({
        "records": records,
        "num_records": records.len(),
        "total_records": records.len(),
        "_links": {"self": {"href": req.uri().to_string()}},
    });
    reply::json_answer(&st.config, StatusCode::OK, &body, false)
}

/// A running step of `ms` target milliseconds in lifecycle `state`.
pub(super) fn step(ms: u64, state: &str) -> ScriptStep {
    ScriptStep {
        ms,
        state: Some(state.to_string()),
        status: None,
        details: None,
    }
}

/// The timeline of a job started by a provisioning call: `queued` for a third of
/// `config.aiqum_job_ms` (long enough that a client polling at once after the 202 sees it even on
/// a loaded machine and a fast time scale, so snapshots do not depend on timing), then `running`,
/// then success.
pub fn call_script(config: &MockConfig) -> JobScript {
    let total = config.aiqum_job_ms;
    let steps = if total >= 2 {
        let queued = (total / 3).max(1);
        vec![step(queued, "queued"), step(total - queued, "running")]
    } else if total == 1 {
        vec![step(1, "running")]
    } else {
        Vec::new()
    };
    JobScript {
        steps,
        outcome: Outcome::Success,
        result_type: None,
        result: None,
        error: None,
        name: None,
        faults: Vec::new(),
    }
}
