//! HTTP Basic authentication for the mock, as the real servers do it: every request to either API
//! and to the control API needs the configured user and password, else 401.

use axum::http::HeaderMap;
use base64::Engine;

use super::MockConfig;

/// Whether the request's `Authorization` header carries the configured credentials.
pub fn authorized(headers: &HeaderMap, config: &MockConfig) -> bool {
    let Some(value) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let Ok(text) = String::from_utf8(decoded) else {
        return false;
    };
    match text.split_once(':') {
        Some((u, p)) => u == config.user && p == config.password.expose(),
        None => false,
    }
}
