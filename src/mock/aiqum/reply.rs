//! Small HTTP helpers for the AIQUM routes: error bodies (JSON, or HTML under `errors-html`), JSON
//! answers (text/plain under `jobs-text-plain`), Basic auth (skipped under `aiqum-no-auth`),
//! percent-decoding, query parsing and journal entries. No job logic here.

use std::net::SocketAddr;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::super::journal::{self, Entry};
use super::super::{MockConfig, State, auth};

/// `/api/v2` when the path is under it, else `/api`.
pub fn prefix_of(path: &str) -> &'static str {
    if path.starts_with("/api/v2/") || path == "/api/v2" {
        "/api/v2"
    } else {
        "/api"
    }
}

/// An error answer: `{"error": {"message", "code"}}` as JSON (an HTML page under `errors-html`).
pub fn error(config: &MockConfig, status: StatusCode, code: &str, message: &str) -> Response {
    if config.deviates("errors-html") {
        let page = format!(
            "<html><head><title>{s}</title></head><body><h1>{s}</h1><p>{m}</p></body></html>",
            s = status,
            m = message
        );
        return (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            page,
        )
            .into_response();
    }
    let body = json!({"error": {"message": message, "code": code}});
    (status, axum::Json(body)).into_response()
}

/// A JSON answer; a job answer (`job`) goes as text/plain under `jobs-text-plain`.
pub fn json_answer(config: &MockConfig, status: StatusCode, body: &Value, job: bool) -> Response {
    json_bytes_answer(
        config,
        status,
        serde_json::to_vec(body).unwrap_or_default(),
        job,
    )
}

/// [`json_answer`] for a body already serialized (compact JSON bytes): `application/json`, or
/// text/plain for a job answer under `jobs-text-plain`.
pub fn json_bytes_answer(
    config: &MockConfig,
    status: StatusCode,
    body: Vec<u8>,
    job: bool,
) -> Response {
    let ct = if job && config.deviates("jobs-text-plain") {
        "text/plain; charset=utf-8"
    } else {
        "application/json"
    };
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(ct))],
        body,
    )
        .into_response()
}

/// `Some(401 answer)` unless the request carries the configured credentials (or `aiqum-no-auth`).
pub fn check_auth(config: &MockConfig, headers: &HeaderMap) -> Option<Response> {
    if config.deviates("aiqum-no-auth") || auth::authorized(headers, config) {
        return None;
    }
    Some(unauthorized(config))
}

/// A 401 answer with `WWW-Authenticate`.
pub fn unauthorized(config: &MockConfig) -> Response {
    let mut r = error(
        config,
        StatusCode::UNAUTHORIZED,
        "401",
        "authentication required: missing or wrong credentials",
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"jobconform\""),
    );
    r
}

/// Percent-decodes `s` (`+` stays `+` unless `plus_space`); `None` if the bytes are not UTF-8.
pub fn percent_decode(s: &str, plus_space: bool) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Parses a raw query string into decoded `(name, value)` pairs, in order.
pub fn parse_query(raw: Option<&str>) -> Vec<(String, String)> {
    raw.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(k, true).unwrap_or_else(|| k.to_string()),
                percent_decode(v, true).unwrap_or_else(|| v.to_string()),
            )
        })
        .collect()
}

/// Percent-encodes a query value for the `_links.next.href` the mock writes (RFC 3986 query
/// component): ASCII letters, digits and `-._~` stay, and so do `:`, `,`, `|` and `*`, which AIQUM
/// keys and filters use verbatim (UM-KEY-OPAQUE; filter operators); every other byte is `%XX`.
/// The mock's own: it shares no encoding with the harness it is tested by.
pub fn encode(s: &str) -> String {
    const VERBATIM: &[u8] = b"-._~:,|*";
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || VERBATIM.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 15)]));
        }
    }
    out
}

/// What one journal entry says.
#[derive(Debug, Clone, Default)]
pub struct Note {
    /// `GET job`, `GET jobs`, `POST luns`...
    pub op: String,
    /// Job key concerned.
    pub job: Option<String>,
    /// State served.
    pub observed: Option<String>,
    /// Whether the answer showed the job terminal.
    pub terminal: bool,
    /// HTTP status.
    pub http_status: u16,
}

/// Appends a journal entry for a request that arrived at target time `t_ms`.
pub fn journal(st: &State, headers: &HeaderMap, peer: Option<SocketAddr>, t_ms: u64, n: Note) {
    st.journal.push(Entry {
        t_ms,
        client: journal::client_of(headers, peer),
        api: "aiqum",
        op: n.op,
        job: n.job,
        keep_result: None,
        observed: n.observed,
        terminal: n.terminal,
        released: false,
        http_status: n.http_status,
    });
}

/// The peer address of a request, if the server recorded it.
pub fn peer_of(ext: &axum::http::Extensions) -> Option<SocketAddr> {
    ext.get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_keeps_what_is_not_an_escape() {
        assert_eq!(percent_decode("a%3Ab%2d", false).as_deref(), Some("a:b-"));
        assert_eq!(percent_decode("a+b%", true).as_deref(), Some("a b%"));
        assert_eq!(percent_decode("a+b%zz", false).as_deref(), Some("a+b%zz"));
        assert_eq!(percent_decode("%ff", false), None);
    }

    #[test]
    fn queries_decode_names_and_values() {
        let q = parse_query(Some("order_by=name%20desc&status=a|b&x"));
        assert_eq!(
            q,
            vec![
                ("order_by".to_string(), "name desc".to_string()),
                ("status".to_string(), "a|b".to_string()),
                ("x".to_string(), String::new()),
            ]
        );
        assert_eq!(encode("name desc"), "name%20desc");
        assert_eq!(encode("a:-b,c|d*e_f.g~h"), "a:-b,c|d*e_f.g~h");
        assert_eq!(encode("x/y?z&é"), "x%2Fy%3Fz%26%C3%A9");
    }
}
