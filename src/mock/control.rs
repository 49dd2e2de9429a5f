//! The control API under `/_jobconform/` (mock only, Basic auth like the APIs it controls):
//! `POST element/jobs` starts a scripted Element job, `GET journal` returns the request journal,
//! `POST reset` restores a fresh mock (both APIs and the journal; the clock keeps running), and
//! `GET state` summarises the Element objects. AIQUM's own control routes live in `aiqum.rs`.
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
    let aiqum = super::aiqum::state_summary(&state.aiqum.lock().unwrap_or_else(|p| p.into_inner()));
    Json(json!({"t_ms": now, "element": element, "aiqum": aiqum})).into_response()
}
