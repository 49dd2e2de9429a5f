//! Element JSON-RPC: build the request object, POST it to `/json-rpc/<version>`, record the exchange.
//! No judging: the envelope is checked by `check::element`.

use std::time::Duration;

use serde_json::{Value, json};

use super::endpoint::{EndpointError, parse_http_url};
use super::{AuthMode, Client, Exchange, SendBody};

/// An Element endpoint: `https://MVIP/json-rpc/12.5`.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// Base URL without the version (`https://MVIP/json-rpc`).
    pub base: String,
    /// API version from the URL (`12.5`).
    pub version: String,
}

impl Endpoint {
    /// Parses `https://MVIP/json-rpc/12.5` (a trailing slash is allowed).
    pub fn parse(url: &str) -> Result<Endpoint, EndpointError> {
        let (trimmed, _) = parse_http_url(url)?;
        let (base, version) = trimmed
            .rsplit_once('/')
            .filter(|(b, v)| b.ends_with("/json-rpc") && !v.is_empty())
            .ok_or_else(|| EndpointError::ElementPath {
                url: url.to_string(),
            })?;
        if !version
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(EndpointError::ElementVersion {
                url: url.to_string(),
                version: version.to_string(),
            });
        }
        Ok(Endpoint {
            base: base.to_string(),
            version: version.to_string(),
        })
    }

    /// The URL for a version (the endpoint's own when `None`).
    pub fn url(&self, version: Option<&str>) -> String {
        format!("{}/{}", self.base, version.unwrap_or(&self.version))
    }
}

/// One JSON-RPC call.
#[derive(Clone, Debug)]
pub struct Call<'a> {
    /// Method name.
    pub method: &'a str,
    /// Parameters object.
    pub params: Value,
    /// Request id (integer or string).
    pub id: Value,
    /// Authentication mode.
    pub auth: AuthMode,
    /// Version override for the URL.
    pub version: Option<&'a str>,
}

/// Sends a call and records the exchange.
pub async fn call(client: &Client, ep: &Endpoint, c: Call<'_>) -> Exchange {
    let body = json!({"method": c.method, "params": c.params, "id": c.id});
    client
        .send(
            reqwest::Method::POST,
            &ep.url(c.version),
            Some(SendBody::Json(body)),
            c.auth,
            Duration::ZERO,
        )
        .await
}

/// Sends a raw body (malformed-input probes) and records the exchange.
pub async fn call_raw(
    client: &Client,
    ep: &Endpoint,
    raw: String,
    auth: AuthMode,
    version: Option<&str>,
) -> Exchange {
    client
        .send(
            reqwest::Method::POST,
            &ep.url(version),
            Some(SendBody::Raw(raw)),
            auth,
            Duration::ZERO,
        )
        .await
}
