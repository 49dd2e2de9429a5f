//! Element method dispatch: the table of served methods (name, first API version, known
//! parameters, implementation) and one call from parsed body to (HTTP status, response object),
//! with unknown methods, unused parameters and the journal handled here. Holds the state lock
//! only around the method itself, never across an `.await`.

use serde_json::{Map, Value};

use super::rpc::{self, Params, RpcError};
use super::{Ctx, ElementState, Note, clones, gar, info, jobs, objects};
use crate::mock::journal::Entry;
use crate::mock::{Deviation, State};

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

impl Method {
    /// Whether an endpoint of `version` serves the method.
    pub fn serves(&self, version: &str) -> bool {
        parse_version(version) >= self.since
    }
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
        gar::get_async_result
    ),
    m!(
        "ListAsyncResults",
        (9, 0),
        ["asyncResultTypes"],
        true,
        jobs::list_async_results
    ),
];

/// `MAJOR.MINOR` as numbers (`(0, 0)` for what does not parse).
pub fn parse_version(v: &str) -> (u32, u32) {
    let (a, b) = v.split_once('.').unwrap_or((v, "0"));
    (a.parse().unwrap_or(0), b.parse().unwrap_or(0))
}

/// Serves one request body; returns the HTTP status and the response object.
pub async fn serve_call(state: &State, version: &str, body: &[u8], client: &str) -> (u16, Value) {
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
    let Some(method) = METHODS.iter().find(|m| m.name == name && m.serves(version)) else {
        let wrong = if cfg.deviates(Deviation::UnknownMethodWrongName) {
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
    let result = if !unused.is_empty() && cfg.deviates(Deviation::RejectUnknownParams) {
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
        // A fixed real-time window (not scaled), so concurrent clients overlap at any time scale.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let mut st = state.element.lock().unwrap_or_else(|p| p.into_inner());
        gar::finish_deferred(&mut st, h);
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
            observed: note.observed,
            terminal: note.terminal,
            released: note.released,
            http_status: status,
        });
    }
    (status, out)
}
