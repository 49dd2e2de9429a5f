//! Forwarding one request: to the Element upstream for `/json-rpc/...`, to the AIQUM upstream for
//! `/api/...` (anything else to whichever is configured), with the method, path, query, headers
//! and body unchanged (hop-by-hop headers and `Accept-Encoding` excepted). The answer is streamed back as it comes: no
//! lock is held while waiting, nothing is buffered past the body cap (a larger answer is streamed
//! on and recorded as too large), and the timeout is the proxy's request timeout plus a long
//! poll's `poll_timeout`, never shorter than what the client asked the server to wait. When the
//! upstream cannot be reached, refuses TLS or times out, the client gets the API's own error
//! shape (a JSON-RPC error, or an AIQUM error object) with HTTP 502 or 504, and the exchange is
//! recorded as a transport fault.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body as AxBody, Bytes};
use axum::extract::{ConnectInfo, Request, State as AxState};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use serde_json::{Value, json};

use super::State;
use crate::traffic::{Api, Observed};
use crate::transport::{
    self, AuthMode, Body, Credentials, Exchange, RequestRecord, ResponseRecord, TransportError,
};

/// Chunks in flight between the upstream and the client (back-pressure beyond that).
const CHUNKS_IN_FLIGHT: usize = 8;

/// Headers that belong to one connection, never forwarded.
const HOP_BY_HOP: &[HeaderName] = &[
    header::CONNECTION,
    header::HOST,
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

fn forwardable(name: &HeaderName) -> bool {
    !HOP_BY_HOP.contains(name) && name.as_str() != "keep-alive"
}

/// Request headers not forwarded: the hop-by-hop ones, and `Accept-Encoding` (a compressed
/// answer could not be judged; the client gets the identity encoding, which every client reads).
fn forwardable_request(name: &HeaderName) -> bool {
    forwardable(name) && name != header::ACCEPT_ENCODING
}

/// What the recording needs to know about the request.
struct Sent {
    seq: u64,
    at_ms: u64,
    started: Instant,
    client: String,
    creds: Option<Credentials>,
    request: RequestRecord,
}

fn now_ms() -> u64 {
    u64::try_from(jiff::Timestamp::now().as_millisecond()).unwrap_or(0)
}

/// The fallback handler: forwards the request, streams the answer back.
pub async fn handle(
    AxState(st): AxState<Arc<State>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    let seq = st.next_seq();
    let at_ms = now_ms();
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let api = Api::of_path(parts.uri.path());
    let upstream = match api {
        Some(Api::Element) => st.config.element.as_ref(),
        Some(Api::Aiqum) => st.config.aiqum.as_ref(),
        None => None,
    }
    .or(st.config.element.as_ref())
    .or(st.config.aiqum.as_ref());
    let Some(origin) = upstream
        .and_then(|u| reqwest::Url::parse(u).ok())
        .map(|u| u.origin().ascii_serialization())
    else {
        return error(
            api,
            None,
            StatusCode::NOT_FOUND,
            "no upstream is configured for this path",
        );
    };
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let url = format!("{origin}{path_and_query}");
    let limit = st.config.limits.max_body;
    let bytes = match http_body_util::Limited::new(body, limit).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            let status = if e.is::<http_body_util::LengthLimitError>() {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::BAD_REQUEST
            };
            return error(api, None, status, &format!("read the request body: {e}"));
        }
    };
    let authorization = parts.headers.get(header::AUTHORIZATION);
    let creds = authorization
        .and_then(|v| v.to_str().ok())
        .and_then(transport::basic_credentials);
    let body_value = match transport::body_of(&bytes, creds.as_ref()) {
        Body::Empty => None,
        Body::Json(v) => Some(v),
        Body::Text { text, .. } => Some(Value::String(text)),
        Body::TooLarge { .. } => None,
    };
    let sent = Sent {
        seq,
        at_ms,
        started,
        client: crate::mock::journal::client_of(&parts.headers, Some(peer)),
        request: RequestRecord {
            method: parts.method.to_string(),
            url: url.clone(),
            auth: AuthMode::seen(authorization.is_some()),
            body: body_value,
        },
        creds,
    };
    let rpc_id = sent
        .request
        .body
        .as_ref()
        .and_then(|b| b.get("id"))
        .cloned();
    let timeout = st.config.limits.request_timeout + long_poll_wait(&url);
    let mut rb = st
        .http
        .request(parts.method.clone(), &url)
        .timeout(timeout)
        .body(bytes);
    for (name, value) in parts.headers.iter().filter(|(n, _)| forwardable_request(n)) {
        rb = rb.header(name, value);
    }
    let resp = match rb.send().await {
        Ok(r) => r,
        Err(e) => {
            let fault = transport::classify(&e, timeout);
            let status = match fault {
                TransportError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
                _ => StatusCode::BAD_GATEWAY,
            };
            let message = format!("jobconform proxy: failed to {fault} (upstream {origin})");
            record(&st, sent, Err(fault), 0);
            return error(api, rpc_id.as_ref(), status, &message);
        }
    };
    let small = resp
        .content_length()
        .is_some_and(|n| n <= SMALL_BODY.min(st.config.limits.max_body as u64));
    if small {
        whole(st, sent, resp, timeout).await
    } else {
        stream_back(st, sent, resp, timeout)
    }
}

/// Answers whose announced length is at most this are read whole before they are passed on (one
/// write, no relay task); longer or unannounced ones are streamed.
const SMALL_BODY: u64 = 64 * 1024;

/// Reads a small answer whole (within the deadline), records it, and passes it on.
async fn whole(st: Arc<State>, sent: Sent, resp: reqwest::Response, timeout: Duration) -> Response {
    let status = resp.status();
    let headers = forwarded_headers(resp.headers());
    let content_type = content_type_of(&headers);
    let left = (sent.started + timeout).saturating_duration_since(Instant::now());
    let bytes = match tokio::time::timeout(left, resp.bytes()).await {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return fault_after_head(&st, sent, transport::classify(&e, timeout)),
        Err(_) => {
            let fault = TransportError::Timeout(timeout.as_millis() as u64);
            return fault_after_head(&st, sent, fault);
        }
    };
    let response = ResponseRecord {
        status: status.as_u16(),
        content_type,
        body: transport::body_of(&bytes, sent.creds.as_ref()),
        elapsed_ms: sent.started.elapsed().as_millis() as u64,
    };
    let size = bytes.len();
    record(&st, sent, Ok(response), size);
    let mut out = Response::new(AxBody::from(bytes));
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    out
}

/// The upstream broke or stalled after its head: recorded as a fault, and the client's
/// connection is closed without an answer (as the upstream's was).
fn fault_after_head(st: &State, sent: Sent, fault: TransportError) -> Response {
    record(st, sent, Err(fault.clone()), 0);
    let stream = futures_util::stream::once(async move {
        Err::<Bytes, _>(std::io::Error::other(fault.to_string()))
    });
    Response::new(AxBody::from_stream(stream))
}

fn forwarded_headers(h: &HeaderMap) -> HeaderMap {
    h.iter()
        .filter(|(n, _)| forwardable(n))
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect()
}

fn content_type_of(h: &HeaderMap) -> Option<String> {
    h.get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The extra wait a long poll asks for (`poll_timeout` seconds, capped at 1 hour).
fn long_poll_wait(url: &str) -> Duration {
    crate::check::query_of(url)
        .iter()
        .find(|(k, _)| k == "poll_timeout")
        .and_then(|(_, v)| v.parse::<u64>().ok())
        .map_or(Duration::ZERO, |s| Duration::from_secs(s.min(3600)))
}

/// Streams the upstream's answer to the client while keeping up to the body cap for the record.
fn stream_back(
    st: Arc<State>,
    sent: Sent,
    mut resp: reqwest::Response,
    timeout: Duration,
) -> Response {
    let status = resp.status();
    let headers = forwarded_headers(resp.headers());
    let content_type = content_type_of(&headers);
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(CHUNKS_IN_FLIGHT);
    let deadline = sent.started + timeout;
    let limit = st.config.limits.max_body;
    tokio::spawn(async move {
        let mut kept: Vec<u8> = Vec::new();
        let mut too_large = false;
        let outcome: Result<(), TransportError> = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let chunk = match tokio::time::timeout(left, resp.chunk()).await {
                Err(_) => break Err(TransportError::Timeout(timeout.as_millis() as u64)),
                Ok(Err(e)) => break Err(transport::classify(&e, timeout)),
                Ok(Ok(None)) => break Ok(()),
                Ok(Ok(Some(c))) => c,
            };
            if !too_large {
                if kept.len() + chunk.len() > limit {
                    too_large = true;
                    kept = Vec::new();
                } else {
                    kept.extend_from_slice(&chunk);
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, tx.send(Ok(chunk))).await {
                Ok(Ok(())) => {}
                _ => {
                    break Err(TransportError::Io(
                        "the client stopped reading the answer".into(),
                    ));
                }
            }
        };
        let size = kept.len();
        let response = match outcome {
            Ok(()) => Ok(ResponseRecord {
                status: status.as_u16(),
                content_type,
                body: if too_large {
                    Body::TooLarge { limit }
                } else {
                    transport::body_of(&kept, sent.creds.as_ref())
                },
                elapsed_ms: sent.started.elapsed().as_millis() as u64,
            }),
            Err(fault) => {
                let _ = tx.send(Err(std::io::Error::other(fault.to_string()))).await;
                Err(fault)
            }
        };
        record(&st, sent, response, size);
    });
    let stream =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    let mut out = Response::new(AxBody::from_stream(stream));
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    out
}

fn record(st: &State, sent: Sent, response: Result<ResponseRecord, TransportError>, size: usize) {
    let o = Observed {
        seq: sent.seq,
        at_ms: sent.at_ms,
        client: sent.client,
        exchange: Exchange {
            request: sent.request,
            response,
        },
    };
    st.observe(o, size);
}

/// An error answer in the API's own shape: a JSON-RPC error (Element, echoing the request's id)
/// or an AIQUM error object.
pub fn error(
    api: Option<Api>,
    rpc_id: Option<&Value>,
    status: StatusCode,
    message: &str,
) -> Response {
    let body = match api {
        Some(Api::Element) => {
            let name = match status {
                StatusCode::GATEWAY_TIMEOUT => "xUpstreamTimeout",
                StatusCode::PAYLOAD_TOO_LARGE => "xRequestTooLarge",
                _ => "xUpstreamUnreachable",
            };
            json!({"id": rpc_id.cloned().unwrap_or(Value::Null), "error": {"code": 500, "name": name, "message": message}})
        }
        _ => json!({"error": {"message": message, "code": status.as_u16().to_string()}}),
    };
    (status, axum::Json(body)).into_response()
}
