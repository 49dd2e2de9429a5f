//! The control API under `/_jobconform/` (mock only, Basic auth like the APIs it controls):
//! `POST element/jobs` starts a scripted Element job, `GET journal` returns the request journal,
//! `POST reset` restores a fresh mock (both APIs and the journal; the clock keeps running), and
//! `GET state` summarises the objects of both APIs, and `GET audit` judges every client's polling
//! against the CL-* rules (query: `min_interval_ms`, `tolerance_ms`, `deadline_ms`,
//! `format=text|json`). AIQUM's own control routes live in `aiqum/`.
//! Must not change how either API behaves, only what state it starts from.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State as AxState};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::journal::client_of;
use super::script::JobScript;
use super::{State, auth, element};

/// Routes.
pub fn routes() -> axum::Router<Arc<State>> {
    axum::Router::new()
        .route("/_jobconform/element/jobs", post(element_job))
        .route("/_jobconform/journal", get(journal))
        .route("/_jobconform/reset", post(reset))
        .route("/_jobconform/state", get(state_summary))
        .route("/_jobconform/audit", get(audit))
}

/// Query of `GET /_jobconform/audit`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    min_interval_ms: Option<u64>,
    tolerance_ms: Option<u64>,
    deadline_ms: Option<u64>,
    format: Option<String>,
}

async fn audit(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    query: Result<axum::extract::Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if !auth::authorized(&headers, &state.config) {
        return denied();
    }
    let q = match query {
        Ok(axum::extract::Query(q)) => q,
        Err(e) => {
            let body = json!({"error": {"message": format!("invalid audit query: {e}")}});
            return (StatusCode::BAD_REQUEST, Json(body)).into_response();
        }
    };
    let mut cfg = super::audit::AuditConfig::default();
    if let Some(v) = q.min_interval_ms {
        cfg.min_interval_ms = v;
    }
    if let Some(v) = q.tolerance_ms {
        cfg.tolerance_ms = v;
    }
    cfg.deadline_ms = q.deadline_ms;
    let report = super::audit::audit(&state.journal.snapshot(), &cfg);
    match q.format.as_deref() {
        Some("text") => report.to_text().into_response(),
        None | Some("json") => Json(report).into_response(),
        Some(other) => {
            let body = json!({"error": {"message": format!("format must be text or json, not {other:?}")}});
            (StatusCode::BAD_REQUEST, Json(body)).into_response()
        }
    }
}

fn denied() -> Response {
    element::unauthorized()
}

async fn element_job(
    AxState(state): AxState<Arc<State>>,
    headers: HeaderMap,
    ext: Extensions,
    body: Bytes,
) -> Response {
    if !auth::authorized(&headers, &state.config) {
        return denied();
    }
    // Any content type: curl users and scripts rarely set one.
    let script: JobScript = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => {
            let body = json!({"error": {"message": format!("invalid job script: {e}")}});
            return (StatusCode::BAD_REQUEST, Json(body)).into_response();
        }
    };
    let peer = ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let handle = element::start_scripted(&state, script, &client_of(&headers, peer));
    Json(json!({"asyncHandle": handle})).into_response()
}

async fn journal(AxState(state): AxState<Arc<State>>, headers: HeaderMap) -> Response {
    if !auth::authorized(&headers, &state.config) {
        return denied();
    }
    Json(state.journal.snapshot()).into_response()
}

async fn reset(AxState(state): AxState<Arc<State>>, headers: HeaderMap) -> Response {
    if !auth::authorized(&headers, &state.config) {
        return denied();
    }
    state.reset();
    (StatusCode::OK, Json(json!({"reset": true}))).into_response()
}

async fn state_summary(AxState(state): AxState<Arc<State>>, headers: HeaderMap) -> Response {
    if !auth::authorized(&headers, &state.config) {
        return denied();
    }
    let now = state.clock.now_ms();
    let element = state
        .element
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .summary(now);
    let aiqum =
        super::aiqum::state_summary(&mut state.aiqum.lock().unwrap_or_else(|p| p.into_inner()));
    Json(json!({"t_ms": now, "element": element, "aiqum": aiqum})).into_response()
}
