//! In-process transport: a [`Client`] whose requests are handed straight to an axum service (the
//! mock's router from [`crate::mock::service`], a test's scripted server) instead of going over a
//! socket. Property tests and benches use it to spend their time on the property rather than on
//! HTTP framing and loopback I/O.
//!
//! Owns only the hand-over, and keeps everything the caller sees as over HTTP:
//! - the request is built by the same code as over HTTP (reqwest's builder in
//!   [`Client::send`]: method, URL, credentials, JSON or raw body), then completed with what
//!   reqwest and hyper add on the wire: the client's default `accept` and `user-agent`, `host`,
//!   `content-length`, and the URI in origin form (`/path?query`, as a server reads it);
//! - the answer is read as over HTTP: status, `content-type`, body bytes up to
//!   [`super::Limits::max_body`] (no body for HEAD, 1xx, 204 and 304, as hyper frames them),
//!   recorded by the same [`super::body_of`];
//! - the same request timeout (request timeout plus a long poll's extra wait, on `tokio::time`,
//!   so a paused runtime gives virtual time): no answer in time is [`TransportError::Timeout`]
//!   with the same milliseconds, and, as a client closing its connection, the service's future
//!   is dropped;
//! - a body that breaks mid-way, or a service that panics, is [`TransportError::Io`], as a
//!   broken connection is over HTTP. There is no connection, so never `Connect` or `Tls`. Error
//!   texts are this module's own (hyper's wording is not imitated); the kinds are the same.
//!
//! It never decides pass or fail. The URL's scheme and authority only fill `host`: every request
//! goes to the one service.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use axum::body::Body as WireBody;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use futures_util::FutureExt;
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::{
    Body, Client, ClientError, Credentials, Limits, ResponseRecord, TlsConfig, TransportError,
    classify, error_chain,
};

/// What an in-process client sends to: any axum router (cheap to clone; each request gets its own
/// clone, as each connection does in `axum::serve`).
pub type Service = axum::Router;

/// The `user-agent` every jobconform client sends (as [`super::http_client`] configures it).
const USER_AGENT: &str = concat!("jobconform/", env!("CARGO_PKG_VERSION"));

impl Client {
    /// A client whose requests go to `service` in this process, with the credentials and limits
    /// an HTTP client would have. The service runs on the caller's task, so requests run on the
    /// caller's runtime (a paused one gives virtual time). Cheap: the HTTP client that builds the
    /// requests is made once per process (building one loads the system's CA certificates, about
    /// a millisecond, which per property-test case was most of the case).
    pub fn in_process(
        creds: Option<Credentials>,
        limits: Limits,
        service: Service,
    ) -> Result<Client, ClientError> {
        Ok(Client {
            http: request_builder()?,
            creds,
            limits,
            in_process: Some(service),
        })
    }

    /// Whether requests go to a service in this process rather than over HTTP.
    pub fn is_in_process(&self) -> bool {
        self.in_process.is_some()
    }
}

/// The HTTP client in-process clients build their requests with (never sending through it): one
/// per process, made with default limits and TLS settings, which building a request does not read
/// (the request timeout is set per request).
fn request_builder() -> Result<reqwest::Client, ClientError> {
    static BUILDER: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    if let Some(c) = BUILDER.get() {
        return Ok(c.clone());
    }
    let c = super::http_client(&Limits::default(), &TlsConfig::default())?;
    Ok(BUILDER.get_or_init(|| c).clone())
}

/// Sends a request built by [`Client::send`] to `service` and reads the answer as over HTTP.
pub(super) async fn send(
    client: &Client,
    service: &Service,
    rb: reqwest::RequestBuilder,
    timeout: Duration,
    started: Instant,
) -> Result<ResponseRecord, TransportError> {
    let built = rb.build().map_err(|e| classify(&e, timeout))?;
    let request = wire_request(built)?;
    let headless = request.method() == Method::HEAD;
    let call = AssertUnwindSafe(service.clone().oneshot(request)).catch_unwind();
    let response = match tokio::time::timeout(timeout, call).await {
        Err(_) => return Err(timed_out(timeout)),
        Ok(Err(_panic)) => {
            return Err(TransportError::Io(
                "the in-process service panicked before answering".into(),
            ));
        }
        Ok(Ok(Ok(r))) => r,
        Ok(Ok(Err(never))) => match never {},
    };
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bodyless = headless
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    let bytes = if bodyless {
        Some(Vec::new())
    } else {
        read_body(
            response.into_body(),
            started + timeout,
            timeout,
            client.limits.max_body,
        )
        .await?
    };
    let body = match bytes {
        Some(b) => client.parse_body(&b),
        None => Body::TooLarge {
            limit: client.limits.max_body,
        },
    };
    Ok(ResponseRecord {
        status: status.as_u16(),
        content_type,
        body,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

/// The body's bytes, frame by frame until `deadline` (as the HTTP path reads chunks); `None` when
/// it exceeds `max_body` (reading stops there).
async fn read_body(
    mut body: WireBody,
    deadline: Instant,
    timeout: Duration,
    max_body: usize,
) -> Result<Option<Vec<u8>>, TransportError> {
    let mut bytes: Vec<u8> = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame = match tokio::time::timeout(left, body.frame()).await {
            Err(_) => return Err(timed_out(timeout)),
            Ok(None) => return Ok(Some(bytes)),
            Ok(Some(Err(e))) => return Err(TransportError::Io(error_chain(&e))),
            Ok(Some(Ok(f))) => f,
        };
        // Trailers carry no body bytes.
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        if bytes.len() + chunk.len() > max_body {
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
    }
}

fn timed_out(timeout: Duration) -> TransportError {
    TransportError::Timeout(timeout.as_millis() as u64)
}

/// The request as a server receives it: origin-form URI, the headers reqwest and hyper add
/// (without overwriting the caller's), the body bytes.
fn wire_request(built: reqwest::Request) -> Result<Request<WireBody>, TransportError> {
    let url = built.url();
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TransportError::Io(format!(
            "send to {url}: the URL scheme is not http or https"
        )));
    }
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        (None, _) => String::new(),
    };
    let body: Vec<u8> = built
        .body()
        .and_then(reqwest::Body::as_bytes)
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    let mut headers = built.headers().clone();
    let defaults = [
        (header::ACCEPT, HeaderValue::from_static("*/*")),
        (header::USER_AGENT, HeaderValue::from_static(USER_AGENT)),
    ];
    for (name, value) in defaults {
        headers.entry(name).or_insert(value);
    }
    if let Ok(v) = HeaderValue::from_str(&host) {
        headers.entry(header::HOST).or_insert(v);
    }
    let sends_length =
        !body.is_empty() || matches!(*built.method(), Method::POST | Method::PUT | Method::PATCH);
    if sends_length {
        headers
            .entry(header::CONTENT_LENGTH)
            .or_insert(HeaderValue::from(body.len()));
    }
    let mut request = Request::builder()
        .method(built.method().clone())
        .uri(target.as_str())
        .body(WireBody::from(body))
        .map_err(|e| TransportError::Io(format!("send to {url}: {e}")))?;
    *request.headers_mut() = headers;
    Ok(request)
}

#[cfg(test)]
#[path = "in_process_tests.rs"]
mod tests;
