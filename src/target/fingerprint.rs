//! Fingerprinting a target before any case runs: Element `GetAPI` + `GetClusterVersionInfo`
//! (clusterVersion is the firmware), AIQUM `GET /management-server/system`. It is also the
//! reachability and credentials gate: a refused connection, a TLS failure, a timeout or a 401 here
//! stops the run before any trial (exit code 3). It judges nothing else.

use serde::Serialize;
use serde_json::{Value, json};

use super::Target;
use crate::transport::{AuthMode, Exchange, TransportError, aiqum, element};

/// What a target says it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Fingerprint {
    /// Element: GetAPI's `currentVersion`, as served.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element_current_version: Option<Value>,
    /// Element: GetClusterVersionInfo's `clusterVersion` (the firmware), `unknown` if not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element_firmware: Option<String>,
    /// AIQUM: the server's version from `/management-server/system`, `unknown` if not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aiqum_version: Option<String>,
    /// Firmware label used in reports and snapshots (the profile's `label`, else the firmware).
    pub label: String,
}

/// Why a target cannot be used at all.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Unusable {
    /// No answer.
    #[error("reach target {target} at {url}: {error}")]
    Unreachable {
        /// Target name.
        target: String,
        /// The URL asked.
        url: String,
        /// What went wrong.
        error: TransportError,
    },
    /// HTTP 401.
    #[error("log in to target {target} at {url}: credentials refused (HTTP 401) for user {user:?}")]
    Refused {
        /// Target name.
        target: String,
        /// The URL asked.
        url: String,
        /// The user (never the password).
        user: String,
    },
}

fn gate(target: &Target, x: &Exchange) -> Result<(), Unusable> {
    match &x.response {
        Err(error) => Err(Unusable::Unreachable {
            target: target.name.clone(),
            url: x.request.url.clone(),
            error: error.clone(),
        }),
        Ok(r) if r.status == 401 => Err(Unusable::Refused {
            target: target.name.clone(),
            url: x.request.url.clone(),
            user: target
                .client
                .credentials()
                .map(|c| c.user.clone())
                .unwrap_or_default(),
        }),
        Ok(_) => Ok(()),
    }
}

async fn rpc(target: &Target, ep: &element::Endpoint, method: &str) -> Exchange {
    element::call(
        &target.client,
        ep,
        element::Call {
            method,
            params: json!({}),
            id: json!(method),
            auth: AuthMode::Default,
            version: None,
        },
    )
    .await
}

/// Fingerprints a target; `Err` when it is unreachable or refuses the credentials.
pub async fn fingerprint(target: &Target) -> Result<Fingerprint, Unusable> {
    let mut fp = Fingerprint::default();
    if let Some(ep) = &target.element {
        let api = rpc(target, ep, "GetAPI").await;
        gate(target, &api)?;
        fp.element_current_version = api
            .json()
            .and_then(|v| v.pointer("/result/currentVersion"))
            .cloned();
        let info = rpc(target, ep, "GetClusterVersionInfo").await;
        gate(target, &info)?;
        fp.element_firmware = Some(
            info.json()
                .and_then(|v| v.pointer("/result/clusterVersion"))
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_else(|| "unknown".into()),
        );
    }
    if let Some(ep) = &target.aiqum {
        let x = aiqum::request(
            &target.client,
            ep,
            aiqum::Request::get("/management-server/system"),
        )
        .await;
        gate(target, &x)?;
        fp.aiqum_version = Some(aiqum_version(&x).unwrap_or_else(|| "unknown".into()));
    }
    fp.label = target
        .label
        .clone()
        .or_else(|| fp.element_firmware.clone().filter(|f| f != "unknown"))
        .or_else(|| fp.aiqum_version.clone().filter(|f| f != "unknown"))
        .unwrap_or_else(|| "unknown".into());
    Ok(fp)
}

/// The version in a `/management-server/system` answer: `version.full`, or `version` itself.
fn aiqum_version(x: &Exchange) -> Option<String> {
    if x.status() != Some(200) {
        return None;
    }
    let v = x.json()?.get("version")?;
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => m.get("full").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}
