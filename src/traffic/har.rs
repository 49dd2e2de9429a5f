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

/// Parses a HAR document; the error names the entry at fault (1-based).
pub fn parse(har: &Value) -> Result<Traffic, String> {
    let entries = har
        .pointer("/log/entries")
        .and_then(Value::as_array)
        .ok_or("not a HAR file: no log.entries array")?;
    if entries.is_empty() {
        return Err("the HAR file has no entries (log.entries is empty)".into());
    }
    let mut traffic = Traffic::default();
    for (n, e) in entries.iter().enumerate() {
        let o = entry(n, e).map_err(|why| format!("entry {}: {why}", n + 1))?;
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
        return Err(format!(
            "none of the {} entries is Element (/json-rpc/<version>) or AIQUM (/api/...) traffic; \
             hosts seen: {}",
            entries.len(),
            hosts.join(", ")
        ));
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

fn entry(n: usize, e: &Value) -> Result<Observed, String> {
    let req = e.get("request").ok_or("no request")?;
    let url = req
        .get("url")
        .and_then(Value::as_str)
        .ok_or("no request.url")?;
    reqwest::Url::parse(url).map_err(|err| format!("request.url {url:?}: {err}"))?;
    let method = req
        .get("method")
        .and_then(Value::as_str)
        .ok_or("no request.method")?;
    let started = e
        .get("startedDateTime")
        .and_then(Value::as_str)
        .ok_or("no startedDateTime")?;
    let at: jiff::Timestamp = started
        .parse()
        .map_err(|err| format!("startedDateTime {started:?}: {err}"))?;
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
    let resp = e.get("response").ok_or("no response")?;
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
fn content(c: Option<&Value>, creds: Option<&Credentials>) -> Result<Body, String> {
    let Some(text) = c.and_then(|c| c.get("text")).and_then(Value::as_str) else {
        return Ok(Body::Empty);
    };
    if c.and_then(|c| c.get("encoding")).and_then(Value::as_str) == Some("base64") {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| format!("response.content.text is not base64: {e}"))?;
        return Ok(transport::body_of(&bytes, creds));
    }
    Ok(transport::body_of(text.as_bytes(), creds))
}
