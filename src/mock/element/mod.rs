//! Element JSON-RPC at `POST /json-rpc/{version}`: authentication, the envelope (one object per
//! request, `{"method","params","id"}` in, `{"id","result"|"error"}` out), the method table with
//! version gating, and the journal of job-touching calls. Objects live in `objects.rs`,
//! asynchronous handles in `jobs.rs`, clone starters in `clones.rs`, fingerprint methods in
//! `info.rs`, the envelope helpers in `rpc.rs`. No lock is held across an `.await`.

pub mod clones;
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
use serde_json::{Map, Value, json};

use super::journal::{Entry, client_of};
use super::{ELEMENT_VERSIONS, MockConfig, State, clock::Clock, script::JobScript};
use rpc::{Params, RpcError};

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
    /// `running`, `complete` or `unknown`.
    pub observed: Option<&'static str>,
    /// Whether the answer showed the job terminal.
    pub terminal: bool,
    /// Whether the answer released the handle.
    pub released: bool,
    /// A handle to purge after the answer (`racy-purge`).
    pub deferred_purge: Option<u64>,
}

type MethodFn = fn(&mut ElementState, &Ctx, &Params, &mut Note) -> Result<Value, RpcError>;

/// One served method: name, first API version, known parameters, implementation.
#[derive(Debug)]
pub struct Method {
    /// Method name (case-sensitive).
    pub name: &'static str,
    /// First API version serving it.
    pub since: (u32, u32),
    /// Parameters it knows (others become `unusedParameters`).
    pub params: &'static [&'static str],
    /// Whether its calls go to the journal.
    pub journaled: bool,
    run: MethodFn,
}

macro_rules! m {
    ($name:literal, $since:expr, [$($p:literal),*], $j:literal, $f:path) => {
        Method { name: $name, since: $since, params: &[$($p),*], journaled: $j, run: $f }
    };
}

/// Every method the mock serves.
pub static METHODS: &[Method] = &[
    m!("GetAPI", (1, 0), [], false, info::get_api),
    m!(
        "GetClusterVersionInfo",
        (1, 0),
        [],
        false,
        info::get_cluster_version_info
    ),
    m!("GetClusterInfo", (1, 0), [], false, info::get_cluster_info),
    m!("GetLimits", (1, 0), [], false, info::get_limits),
    m!(
        "AddAccount",
        (1, 0),
        [
            "username",
            "initiatorSecret",
            "targetSecret",
            "attributes",
            "enableChap"
        ],
        false,
        objects::add_account
    ),
    m!(
        "RemoveAccount",
        (1, 0),
        ["accountID"],
        false,
        objects::remove_account
    ),
    m!(
        "CreateVolume",
        (1, 0),
        [
            "name",
            "accountID",
            "totalSize",
            "enable512e",
            "qos",
            "attributes",
            "qosPolicyID",
            "associateWithQoSPolicy",
            "enableSnapMirrorReplication",
            "fifoSize",
            "minFifoSize",
            "dedupe"
        ],
        false,
        objects::create_volume
    ),
    m!(
        "ListVolumes",
        (8, 0),
        [
            "startVolumeID",
            "limit",
            "volumeStatus",
            "accounts",
            "isPaired",
            "volumeIDs",
            "volumeName",
            "includeVirtualVolumes",
            "protectionSchemes"
        ],
        false,
        objects::list_volumes
    ),
    m!(
        "DeleteVolume",
        (1, 0),
        ["volumeID"],
        false,
        objects::delete_volume
    ),
    m!(
        "PurgeDeletedVolume",
        (1, 0),
        ["volumeID"],
        false,
        objects::purge_deleted_volume
    ),
    m!(
        "CloneVolume",
        (1, 0),
        [
            "volumeID",
            "name",
            "newAccountID",
            "newSize",
            "access",
            "snapshotID",
            "attributes",
            "enable512e",
            "enableSnapMirrorReplication"
        ],
        true,
        clones::clone_volume
    ),
    m!(
        "CopyVolume",
        (9, 0),
        ["volumeID", "dstVolumeID", "snapshotID"],
        true,
        clones::copy_volume
    ),
    m!(
        "CancelClone",
        (1, 0),
        ["cloneID"],
        false,
        clones::cancel_clone
    ),
    m!(
        "GetAsyncResult",
        (1, 0),
        ["asyncHandle", "keepResult"],
        true,
        jobs::get_async_result
    ),
    m!(
        "ListAsyncResults",
        (9, 0),
        ["asyncResultTypes"],
        true,
        jobs::list_async_results
    ),
];

fn parse_version(v: &str) -> (u32, u32) {
    let (a, b) = v.split_once('.').unwrap_or((v, "0"));
    (a.parse().unwrap_or(0), b.parse().unwrap_or(0))
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
        body.to_string(),
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
    if !cfg.deviates("element-no-auth") && !super::auth::authorized(&headers, cfg) {
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
    let (status, out) = serve_call(&state, &version, &body, &client_of(&headers, peer)).await;
    json_response(status, &out)
}

async fn serve_call(state: &State, version: &str, body: &[u8], client: &str) -> (u16, Value) {
    let cfg = &state.config;
    let null = Value::Null;
    let req: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            let err = RpcError::new("xJSONParseError", format!("invalid JSON request: {e}"));
            return rpc::failure(&null, &err, cfg);
        }
    };
    let Some(obj) = req.as_object() else {
        let err = RpcError::new(
            "xInvalidRequest",
            "a request is one JSON object; batches are not supported",
        );
        return rpc::failure(&null, &err, cfg);
    };
    let id = obj.get("id").unwrap_or(&null);
    let Some(name) = obj.get("method").and_then(Value::as_str) else {
        return rpc::failure(id, &RpcError::missing("method"), cfg);
    };
    let empty = Map::new();
    let params = match obj.get("params") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(m)) => m,
        Some(_) => return rpc::failure(id, &RpcError::mistyped("params", "object"), cfg),
    };
    let Some(method) = METHODS
        .iter()
        .find(|m| m.name == name && parse_version(version) >= m.since)
    else {
        let wrong = if cfg.deviates("unknown-method-wrong-name") {
            "xInvalidAPIMethod"
        } else {
            "xUnknownAPIMethod"
        };
        return rpc::failure(id, &RpcError::new(wrong, format!("method={name}")), cfg);
    };
    let p = Params::new(params, method.params);
    let unused = p.unused();
    let mut note = Note::default();
    let now = state.clock.now_ms();
    let result = if !unused.is_empty() && cfg.deviates("reject-unknown-params") {
        let names: Vec<&str> = unused.keys().map(String::as_str).collect();
        Err(RpcError::new(
            "xInvalidParameter",
            format!("unrecognised parameters {names:?}"),
        ))
    } else {
        let ctx = Ctx {
            config: cfg,
            clock: &state.clock,
            now,
            version,
        };
        let mut st = state.element.lock().unwrap_or_else(|p| p.into_inner());
        (method.run)(&mut st, &ctx, &p, &mut note)
    };
    if let Some(h) = note.deferred_purge {
        // racy-purge: the purge happens after a pause, so concurrent fetches see the result.
        tokio::time::sleep(state.clock.real(50)).await;
        let mut st = state.element.lock().unwrap_or_else(|p| p.into_inner());
        jobs::finish_deferred(&mut st, h);
    }
    let (status, out) = match result {
        Ok(mut v) => {
            if let (false, Some(o)) = (unused.is_empty(), v.as_object_mut()) {
                o.insert("unusedParameters".into(), Value::Object(unused));
            }
            (200, rpc::success(id, v, cfg))
        }
        Err(e) => rpc::failure(id, &e, cfg),
    };
    if method.journaled {
        state.journal.push(Entry {
            t_ms: now,
            client: client.to_string(),
            api: "element",
            op: method.name.to_string(),
            job: note.job,
            keep_result: note.keep_result,
            observed: note.observed.map(str::to_string),
            terminal: note.terminal,
            released: note.released,
            http_status: status,
        });
    }
    (status, out)
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
