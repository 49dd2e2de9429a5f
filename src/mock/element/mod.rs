//! Element JSON-RPC at `POST /json-rpc/{version}`: authentication, the envelope (one object per
//! request, `{"method","params","id"}` in, `{"id","result"|"error"}` out) and the Element state.
//! The method table and one call's dispatch are in `dispatch.rs`, objects in `objects.rs`,
//! asynchronous handles in `jobs.rs`, clone starters in `clones.rs`, fingerprint methods in
//! `info.rs`, envelope helpers in `rpc.rs`. No lock is held across an `.await`.

pub mod clones;
pub mod dispatch;
pub mod gar;
pub mod info;
pub mod jobs;
pub mod objects;
pub mod rpc;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, State as AxState};
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::journal::{Entry, client_of};
use super::{ELEMENT_VERSIONS, MockConfig, State, clock::Clock, script::JobScript};
use crate::mock::Deviation;
pub use dispatch::{METHODS, Method};

/// Element objects and asynchronous results.
#[derive(Debug, Default)]
pub struct ElementState {
    /// Accounts by ID.
    pub accounts: BTreeMap<u64, objects::Account>,
    /// Volumes (including deleted, not yet purged ones) by ID.
    pub volumes: BTreeMap<u64, objects::Volume>,
    /// Asynchronous results by handle (purged ones stay, flagged).
    pub handles: BTreeMap<u64, jobs::Handle>,
    last_account: u64,
    last_volume: u64,
    last_handle: u64,
    last_clone: u64,
}

impl ElementState {
    /// Fresh state.
    pub fn new(_config: &MockConfig, _clock: &Clock) -> Self {
        ElementState::default()
    }

    fn next_account(&mut self) -> u64 {
        self.last_account += 1;
        self.last_account
    }
    fn next_volume(&mut self) -> u64 {
        self.last_volume += 1;
        self.last_volume
    }
    fn next_handle(&mut self) -> u64 {
        self.last_handle += 1;
        self.last_handle
    }
    fn next_clone(&mut self) -> u64 {
        self.last_clone += 1;
        self.last_clone
    }

    /// What `GET /_jobconform/state` shows of Element at target time `now`.
    pub fn summary(&self, now: u64) -> Value {
        let volumes: Vec<Value> = self
            .volumes
            .values()
            .map(|v| json!({"volumeID": v.id, "name": v.name, "status": v.status(now)}))
            .collect();
        let accounts: Vec<Value> = self
            .accounts
            .values()
            .map(|a| json!({"accountID": a.id, "username": a.username}))
            .collect();
        let live = self.handles.values().filter(|h| !h.purged).count();
        json!({"volumes": volumes, "accounts": accounts, "handles": live})
    }
}

/// What a method call sees besides its params.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// The mock's configuration.
    pub config: &'a MockConfig,
    /// The mock's clock.
    pub clock: &'a Clock,
    /// Target time of the call.
    pub now: u64,
    /// The API version in the URL.
    pub version: &'a str,
}

/// What a method reports for the journal (and a deferred purge for `racy-purge`).
#[derive(Debug, Default)]
pub struct Note {
    /// Handle concerned.
    pub job: Option<String>,
    /// keepResult sent.
    pub keep_result: Option<bool>,
    /// `running {details}`, `complete` or `unknown`: everything a client may treat as a change
    /// (the audit compares consecutive observations).
    pub observed: Option<String>,
    /// Whether the answer showed the job terminal.
    pub terminal: bool,
    /// Whether the answer released the handle.
    pub released: bool,
    /// A handle to purge after the answer (`racy-purge`).
    pub deferred_purge: Option<u64>,
}

/// Routes.
pub fn routes() -> axum::Router<Arc<State>> {
    axum::Router::new()
        .route("/json-rpc/{version}", axum::routing::post(handle))
        .route("/json-rpc/{version}/", axum::routing::post(handle))
}

fn json_response(status: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec(body).unwrap_or_default(),
    )
        .into_response()
}

/// The 401 a cluster sends: plain text, a Basic challenge.
pub fn unauthorized() -> Response {
    let mut r = (StatusCode::UNAUTHORIZED, "401 Unauthorized.").into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"SolidFire\""),
    );
    r
}

async fn handle(
    AxState(state): AxState<Arc<State>>,
    Path(version): Path<String>,
    headers: HeaderMap,
    ext: Extensions,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let cfg = &state.config;
    if !cfg.deviates(Deviation::ElementNoAuth) && !super::auth::authorized(&headers, cfg) {
        return unauthorized();
    }
    if !ELEMENT_VERSIONS.contains(&version.as_str()) {
        let msg = format!("API version {version} is not supported");
        let body = json!({"error": {"code": 404, "name": "xUnknownAPIVersion", "message": msg}});
        return json_response(404, &body);
    }
    let body = match body {
        Ok(b) => b,
        Err(rej) => {
            let status = rej.status().as_u16();
            let name = if status == 413 {
                "xRequestTooLarge"
            } else {
                "xInvalidRequest"
            };
            let err = json!({"code": status, "name": name, "message": rej.body_text()});
            return json_response(status, &json!({"id": null, "error": err}));
        }
    };
    let peer = ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let (status, out) =
        dispatch::serve_call(&state, &version, &body, &client_of(&headers, peer)).await;
    json_response(status, &out)
}

/// Starts a scripted job (control API) and journals it; returns the handle.
pub fn start_scripted(state: &State, script: JobScript, client: &str) -> u64 {
    let now = state.clock.now_ms();
    let ctx = Ctx {
        config: &state.config,
        clock: &state.clock,
        now,
        version: super::ELEMENT_CURRENT,
    };
    let id = {
        let mut st = state.element.lock().unwrap_or_else(|p| p.into_inner());
        jobs::start(&mut st, &ctx, script)
    };
    state.journal.push(Entry {
        t_ms: now,
        client: client.to_string(),
        api: "element",
        op: "control job".into(),
        job: Some(id.to_string()),
        keep_result: None,
        observed: Some("running".into()),
        terminal: false,
        released: false,
        http_status: 200,
    });
    id
}
