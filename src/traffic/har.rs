//! Reading a HAR file (HTTP Archive 1.2, what browsers and mitmproxy export) as traffic: each
//! `log.entries[]` item becomes an [`Observed`] exchange. Credentials never survive the reading:
//! the `Authorization` header only says whether the request authenticated, and the password it
//! carries (and its Basic token) is redacted from both bodies. An entry without an answer
//! (`status` 0) is a transport fault. Entries of other hosts are kept and counted as unparsed by
//! the judge; a file with no Element or AIQUM entry at all is an error naming the hosts it holds.

use serde_json::Value;

use super::{Observed, Traffic};
use crate::transport::{
    self, AuthMode, Body, Credentials, Exchange, RequestRecord, ResponseRecord, TransportError,
};

/// Why a HAR document cannot be judged.
#[derive(Debug, thiserror::Error)]
pub enum HarError {
    /// No `log.entries` array.
    #[error("not a HAR file: no log.entries array")]
    NotHar,
    /// An empty `log.entries`.
    #[error("the HAR file has no entries (log.entries is empty)")]
    NoEntries,
    /// An entry that cannot be read.
    #[error("entry {number}: {source}")]
    Entry {
        /// 1-based entry number.
        number: usize,
        /// What is wrong with it.
        source: EntryError,
    },
    /// No entry is Element or AIQUM traffic.
    #[error(
        "none of the {entries} entries is Element (/json-rpc/<version>) or AIQUM (/api/...) traffic; hosts seen: {}",
        .hosts.join(", ")
    )]
    NoApiTraffic {
        /// How many entries there are.
        entries: usize,
        /// The hosts they went to, sorted, once each.
        hosts: Vec<String>,
    },
}

/// What is wrong with one HAR entry.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    /// A required member is absent (`request`, `request.url`, `request.method`,
    /// `startedDateTime`, `response`).
    #[error("no {0}")]
    Missing(&'static str),
    /// `request.url` is not a URL.
    #[error("request.url {url:?}: {reason}")]
    Url {
        /// The text.
        url: String,
        /// The URL parser's words.
        reason: String,
    },
    /// `startedDateTime` is not a timestamp.
    #[error("startedDateTime {text:?}: {source}")]
    Started {
        /// The text.
        text: String,
        /// The timestamp parser's error.
        source: jiff::Error,
    },
    /// `response.content.text` says base64 and is not.
    #[error("response.content.text is not base64: {0}")]
    Base64(#[source] base64::DecodeError),
}

/// Parses a HAR document; the error names the entry at fault (1-based).
pub fn parse(har: &Value) -> Result<Traffic, HarError> {
    let entries = har
        .pointer("/log/entries")
        .and_then(Value::as_array)
        .ok_or(HarError::NotHar)?;
    if entries.is_empty() {
        return Err(HarError::NoEntries);
    }
    let mut traffic = Traffic::default();
    for (n, e) in entries.iter().enumerate() {
        let o = entry(n, e).map_err(|source| HarError::Entry {
            number: n + 1,
            source,
        })?;
        traffic.exchanges.push(o);
    }
    if !traffic.exchanges.iter().any(|o| o.api().is_some()) {
        let mut hosts: Vec<String> = traffic
            .exchanges
            .iter()
            .filter_map(|o| reqwest::Url::parse(&o.exchange.request.url).ok())
            .filter_map(|u| u.host_str().map(str::to_string))
            .collect();
        hosts.sort();
        hosts.dedup();
        return Err(HarError::NoApiTraffic {
            entries: entries.len(),
            hosts,
        });
    }
    Ok(traffic)
}

fn header<'a>(headers: Option<&'a Value>, name: &str) -> Option<&'a str> {
    headers?
        .as_array()?
        .iter()
        .find(|h| {
            h.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })?
        .get("value")?
        .as_str()
}

fn entry(n: usize, e: &Value) -> Result<Observed, EntryError> {
    use EntryError::Missing;
    let req = e.get("request").ok_or(Missing("request"))?;
    let url = req
        .get("url")
        .and_then(Value::as_str)
        .ok_or(Missing("request.url"))?;
    reqwest::Url::parse(url).map_err(|err| EntryError::Url {
        url: url.to_string(),
        reason: err.to_string(),
    })?;
    let method = req
        .get("method")
        .and_then(Value::as_str)
        .ok_or(Missing("request.method"))?;
    let started = e
        .get("startedDateTime")
        .and_then(Value::as_str)
        .ok_or(Missing("startedDateTime"))?;
    let at: jiff::Timestamp = started.parse().map_err(|source| EntryError::Started {
        text: started.to_string(),
        source,
    })?;
    let headers = req.get("headers");
    let authorization = header(headers, "authorization");
    let creds = authorization.and_then(transport::basic_credentials);
    let request_body = req
        .pointer("/postData/text")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(|t| match transport::body_of(t.as_bytes(), creds.as_ref()) {
            Body::Json(v) => v,
            _ => Value::String(redact(t, creds.as_ref())),
        });
    let resp = e.get("response").ok_or(Missing("response"))?;
    let status = resp.get("status").and_then(Value::as_u64).unwrap_or(0);
    let elapsed_ms = e
        .get("time")
        .and_then(Value::as_f64)
        .unwrap_or(0.0)
        .max(0.0) as u64;
    let response = if status == 0 || status > 599 {
        Err(TransportError::Io(format!(
            "no answer recorded (status {status})"
        )))
    } else {
        let content_type = header(resp.get("headers"), "content-type")
            .or_else(|| resp.pointer("/content/mimeType").and_then(Value::as_str))
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        Ok(ResponseRecord {
            status: status as u16,
            content_type,
            body: content(resp.get("content"), creds.as_ref())?,
            elapsed_ms,
        })
    };
    Ok(Observed {
        seq: n as u64,
        at_ms: u64::try_from(at.as_millisecond()).unwrap_or(0),
        client: header(headers, crate::mock::journal::CLIENT_HEADER)
            .unwrap_or("har")
            .chars()
            .take(64)
            .collect(),
        exchange: Exchange {
            request: RequestRecord {
                method: method.to_string(),
                url: url.to_string(),
                auth: AuthMode::seen(authorization.is_some()),
                body: request_body,
            },
            response,
        },
    })
}

fn redact(s: &str, creds: Option<&Credentials>) -> String {
    creds.map_or_else(|| s.to_string(), |c| transport::redact_str_with(c, s))
}

/// The response body of a HAR `content` object (text, or base64 with `encoding`).
fn content(c: Option<&Value>, creds: Option<&Credentials>) -> Result<Body, EntryError> {
    let Some(text) = c.and_then(|c| c.get("text")).and_then(Value::as_str) else {
        return Ok(Body::Empty);
    };
    if c.and_then(|c| c.get("encoding")).and_then(Value::as_str) == Some("base64") {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(EntryError::Base64)?;
        return Ok(transport::body_of(&bytes, creds));
    }
    Ok(transport::body_of(text.as_bytes(), creds))
}
