//! Small HTTP helpers for the AIQUM routes: error bodies (JSON, or HTML under `errors-html`), JSON
//! answers (text/plain under `jobs-text-plain`), Basic auth (skipped under `aiqum-no-auth`),
//! percent-decoding, query parsing and journal entries. No job logic here.

use std::net::SocketAddr;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::{Value, json};

use super::super::journal::{self, Entry};
use super::super::{MockConfig, State, auth};
use crate::mock::Deviation;

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
    if config.deviates(Deviation::ErrorsHtml) {
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
    let ct = if job && config.deviates(Deviation::JobsTextPlain) {
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
    if config.deviates(Deviation::AiqumNoAuth) || auth::authorized(headers, config) {
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

/// Percent-decodes a path segment (`+` is a plus sign there); `None` if the decoded bytes are not
/// UTF-8. A `%` not followed by two hex digits stays as it is.
pub fn decode_path(s: &str) -> Option<String> {
    percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(std::borrow::Cow::into_owned)
}

/// Percent-decodes a query name or value (`+` is a space there, `%2B` a plus sign); `None` if the
/// decoded bytes are not UTF-8.
fn decode_query_part(s: &str) -> Option<String> {
    if s.contains('+') {
        decode_path(&s.replace('+', " "))
    } else {
        decode_path(s)
    }
}

/// Parses a raw query string into decoded `(name, value)` pairs, in order; a part that does not
/// decode to UTF-8 is kept as it came.
pub fn parse_query(raw: Option<&str>) -> Vec<(String, String)> {
    raw.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                decode_query_part(k).unwrap_or_else(|| k.to_string()),
                decode_query_part(v).unwrap_or_else(|| v.to_string()),
            )
        })
        .collect()
}

/// What the mock's `_links.next.href` escapes (RFC 3986 query component): everything but ASCII
/// letters, digits and `-._~`, and `:`, `,`, `|` and `*`, which AIQUM keys and filters use
/// verbatim (UM-KEY-OPAQUE; filter operators). The mock's own set: it shares no encoding with the
/// harness it is tested by.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':')
    .remove(b',')
    .remove(b'|')
    .remove(b'*');

/// Percent-encodes a query value for the `_links.next.href` the mock writes: every byte outside
/// [`QUERY_VALUE`]'s verbatim set is `%XX` (upper-case hex).
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
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
        assert_eq!(decode_path("a%3Ab%2d").as_deref(), Some("a:b-"));
        assert_eq!(decode_query_part("a+b%").as_deref(), Some("a b%"));
        assert_eq!(decode_path("a+b%zz").as_deref(), Some("a+b%zz"));
        assert_eq!(decode_path("%ff"), None);
    }

    #[test]
    fn percent_decoding_edge_cases() {
        // A `%` too close to the end, or followed by one hex digit, stays.
        assert_eq!(decode_path("%").as_deref(), Some("%"));
        assert_eq!(decode_path("a%4").as_deref(), Some("a%4"));
        assert_eq!(decode_path("%4g%41").as_deref(), Some("%4gA"));
        // Two hex digits, no sign: `%+4` is not an escape.
        assert_eq!(decode_path("%+41").as_deref(), Some("%+41"));
        // An escape at the very end decodes; hex is either case.
        assert_eq!(decode_path("x%41").as_deref(), Some("xA"));
        assert_eq!(decode_path("%c3%A9").as_deref(), Some("é"));
        // `+` is a plus sign in a path, a space in a query; `%2B` is a plus sign in both.
        assert_eq!(decode_path("a+b%2Bc").as_deref(), Some("a+b+c"));
        assert_eq!(decode_query_part("a+b%2Bc").as_deref(), Some("a b+c"));
        // Bytes that are not UTF-8: None (a truncated sequence too).
        assert_eq!(decode_path("%C3"), None);
        assert_eq!(decode_query_part("%80+"), None);
        // Empty and plain strings.
        assert_eq!(decode_path("").as_deref(), Some(""));
        assert_eq!(decode_path("a:b|c").as_deref(), Some("a:b|c"));
    }

    #[test]
    fn queries_keep_a_part_that_is_not_utf8_as_it_came() {
        assert_eq!(
            parse_query(Some("a=%ff&b=c+d&&=e&%2B=%2b")),
            vec![
                ("a".to_string(), "%ff".to_string()),
                ("b".to_string(), "c d".to_string()),
                (String::new(), "e".to_string()),
                ("+".to_string(), "+".to_string()),
            ]
        );
        assert_eq!(parse_query(None), vec![]);
        assert_eq!(parse_query(Some("k=v=w")), vec![("k".into(), "v=w".into())]);
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
        assert_eq!(encode("+ %\n"), "%2B%20%25%0A");
    }
}
