//! AIQUM REST: requests relative to the API base (`https://host/api`), recorded as exchanges.
//! No judging.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use std::time::Duration;

use serde_json::Value;

use super::endpoint::{EndpointError, parse_http_url};
use super::{AuthMode, Client, Exchange, Query, SendBody};

/// An AIQUM endpoint: `https://host/api` (or `/api/v2`).
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// Base URL, no trailing slash (`https://host/api`).
    pub base: String,
}

impl Endpoint {
    /// Parses `https://host/api` (a trailing slash is allowed).
    pub fn parse(url: &str) -> Result<Endpoint, EndpointError> {
        let (trimmed, parsed) = parse_http_url(url)?;
        if !(parsed.path().ends_with("/api") || parsed.path().ends_with("/api/v2")) {
            return Err(EndpointError::AiqumPath {
                url: url.to_string(),
            });
        }
        Ok(Endpoint {
            base: trimmed.to_string(),
        })
    }

    /// Origin (`https://host:port`), for following server-given hrefs such as `/api/...`.
    pub fn origin(&self) -> String {
        match reqwest::Url::parse(&self.base) {
            Ok(u) => u.origin().ascii_serialization(),
            Err(_) => self.base.clone(),
        }
    }

    /// URL for a path relative to the base (`/management-server/jobs`), or, for an href starting
    /// with `/api`, relative to the origin (verbatim, as the server gave it).
    pub fn url(&self, path: &str, query: &Query) -> String {
        let mut url = if path.starts_with("/api/") || path == "/api" {
            format!("{}{}", self.origin(), path)
        } else {
            format!("{}{}", self.base, path)
        };
        if !query.is_empty() {
            let q: Vec<String> = query
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect();
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&q.join("&"));
        }
        url
    }
}

/// Percent-encodes a query value, keeping what AIQUM filters and keys use verbatim (`:`, `|`,
/// `*`, `,`, `-`, `_`, `.`, `~`).
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

/// `s` with its `%XX` escapes decoded (invalid escapes kept as they are; lossy UTF-8): a key or
/// value read back from a URL.
pub fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Everything but unreserved characters and the verbatim ones above is escaped.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b':')
    .remove(b',')
    .remove(b'|')
    .remove(b'*');

/// One REST request.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// HTTP method.
    pub method: reqwest::Method,
    /// Path relative to the base, or an `/api/...` href.
    pub path: &'a str,
    /// Query parameters.
    pub query: Query,
    /// JSON body.
    pub body: Option<Value>,
    /// Authentication mode.
    pub auth: AuthMode,
    /// Extra time the request may take (long polling).
    pub extra_wait: Duration,
}

impl<'a> Request<'a> {
    /// A plain GET of `path` (no query, no body, default authentication, no extra wait); other
    /// fields are set with struct update syntax: `Request { query, ..Request::get(path) }`.
    pub fn get(path: &'a str) -> Request<'a> {
        Request {
            method: reqwest::Method::GET,
            path,
            query: Query::new(),
            body: None,
            auth: AuthMode::Default,
            extra_wait: Duration::ZERO,
        }
    }
}

/// Sends a request and records the exchange.
pub async fn request(client: &Client, ep: &Endpoint, r: Request<'_>) -> Exchange {
    let url = ep.url(r.path, &r.query);
    client
        .send(
            r.method,
            &url,
            r.body.map(SendBody::Json),
            r.auth,
            r.extra_wait,
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn query_values_keep_what_aiqum_uses_verbatim_and_escape_the_rest() {
        assert_eq!(
            encode("06a6148bf9e862df:-2611856e:16e8d47e722:-7f87"),
            "06a6148bf9e862df:-2611856e:16e8d47e722:-7f87"
        );
        assert_eq!(encode("normal|error"), "normal|error");
        assert_eq!(encode("a b&c=d/e?"), "a%20b%26c%3Dd%2Fe%3F");
        assert_eq!(encode("é+%"), "%C3%A9%2B%25");
        assert_eq!(encode("x,y*z_~."), "x,y*z_~.");
    }
}
