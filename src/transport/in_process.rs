//! In-process transport: a [`Client`] whose requests are handed straight to an axum service (the
//! mock's router from [`crate::mock::service`], a test's scripted server) instead of going over a
//! socket. Property tests and benches use it to spend their time on the property rather than on
//! HTTP framing and loopback I/O.
//!
//! Owns only the hand-over, and keeps everything the caller sees as over HTTP:
//! - the request carries what [`Client::send`] puts on the wire over HTTP: the same Basic
//!   credentials for each [`super::AuthMode`] (one rule, `Client::basic_pair`; the header is
//!   encoded once per client), the same body bytes and `content-type` (`SendBody::into_bytes`),
//!   the URL parsed by the parser reqwest uses, and what reqwest and hyper add: the client's
//!   default `accept` and `user-agent`, `host`, `content-length`, the URI in origin form
//!   (`/path?query`, as a server reads it);
//! - the answer is read as over HTTP: status, `content-type`, body bytes up to
//!   [`super::Limits::max_body`] (no body for HEAD, 1xx, 204 and 304, as hyper frames them),
//!   recorded by the same [`super::body_of`];
//! - the same request timeout (request timeout plus a long poll's extra wait, on `tokio::time`,
//!   so a paused runtime gives virtual time): no answer in time is [`TransportError::Timeout`]
//!   with the same milliseconds, and, as a client closing its connection, the service's future
//!   is dropped;
//! - a body that breaks mid-way, or a service that panics, is [`TransportError::Io`], as a
//!   broken connection is over HTTP; so is a URL reqwest would refuse (not http or https, no
//!   host). There is no connection, so never `Connect` or `Tls`. Error texts are this module's
//!   own (hyper's wording is not imitated); the kinds are the same.
//!
//! It never decides pass or fail. The URL's scheme and authority only fill `host`: every request
//! goes to the one service.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use axum::body::Body as WireBody;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use futures_util::FutureExt;
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::{
    AuthMode, Body, Client, ClientError, Credentials, Limits, ResponseRecord, SendBody, TlsConfig,
    TransportError, error_chain,
};

/// What an in-process client sends to: any axum router (cheap to clone; each request gets its own
/// clone, as each connection does in `axum::serve`).
pub type Service = axum::Router;

/// Where an in-process client's requests go, with its `authorization` headers encoded once and the
/// last URL it parsed (a poller asks for the same URL again and again).
#[derive(Clone, Debug)]
pub(super) struct Target {
    service: Service,
    /// The last URL sent and what the wire takes of it.
    last_url: std::sync::Arc<std::sync::Mutex<Option<(String, Parsed)>>>,
    /// The header for [`AuthMode::Default`] (none without credentials).
    default_auth: Option<HeaderValue>,
    /// The header for [`AuthMode::Wrong`].
    wrong_auth: Option<HeaderValue>,
}

/// What the wire takes of a URL: the origin-form target and the `host` header.
#[derive(Clone, Debug)]
struct Parsed {
    target: String,
    host: Option<HeaderValue>,
}

/// One request as [`Client::send`] was given it.
pub(super) struct Outgoing<'a> {
    pub(super) method: Method,
    pub(super) url: &'a str,
    pub(super) body: Option<SendBody>,
    pub(super) auth: AuthMode,
}

impl Client {
    /// A client whose requests go to `service` in this process, with the credentials and limits
    /// an HTTP client would have. The service runs on the caller's task, so requests run on the
    /// caller's runtime (a paused one gives virtual time), which needs no I/O driver. Cheap: no
    /// HTTP client is built per call (building one loads the system's CA certificates, about a
    /// millisecond, which per property-test case was most of the case).
    pub fn in_process(
        creds: Option<Credentials>,
        limits: Limits,
        service: Service,
    ) -> Result<Client, ClientError> {
        let mut client = Client {
            http: idle_http_client()?,
            forms: super::SecretForms::of(creds.as_ref()),
            creds,
            limits,
            in_process: None,
        };
        let basic = |auth| client.basic_pair(auth).map(|(u, p)| basic_header(u, p));
        let target = Target {
            service,
            last_url: Default::default(),
            default_auth: basic(AuthMode::Default),
            wrong_auth: basic(AuthMode::Wrong),
        };
        client.in_process = Some(target);
        Ok(client)
    }

    /// Whether requests go to a service in this process rather than over HTTP.
    pub fn is_in_process(&self) -> bool {
        self.in_process.is_some()
    }
}

/// `Basic base64(user:password)`, marked sensitive, as reqwest encodes it.
fn basic_header(user: &str, password: &str) -> HeaderValue {
    use base64::Engine;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let mut v = HeaderValue::from_str(&format!("Basic {token}"))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
    v.set_sensitive(true);
    v
}

/// The HTTP client field of an in-process client, never sent through: one per process.
fn idle_http_client() -> Result<reqwest::Client, ClientError> {
    static IDLE: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    if let Some(c) = IDLE.get() {
        return Ok(c.clone());
    }
    let c = super::http_client(&Limits::default(), &TlsConfig::default())?;
    Ok(IDLE.get_or_init(|| c).clone())
}

impl Target {
    /// Hands one request to the service and reads the answer as over HTTP.
    pub(super) async fn send(
        &self,
        client: &Client,
        out: Outgoing<'_>,
        timeout: Duration,
        started: Instant,
    ) -> Result<ResponseRecord, TransportError> {
        let due = tokio::time::Instant::now() + timeout;
        let request = self.wire_request(out)?;
        let headless = request.method() == Method::HEAD;
        let call = AssertUnwindSafe(self.service.clone().oneshot(request)).catch_unwind();
        let response = match within(due, call).await {
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

    /// The request as a server receives it: origin-form URI, the headers reqwest and hyper put on
    /// the wire, the body bytes.
    fn wire_request(&self, out: Outgoing<'_>) -> Result<Request<WireBody>, TransportError> {
        let refused = |why: String| TransportError::Io(format!("send to {}: {why}", out.url));
        let parsed = self.parsed(out.url).map_err(|e| refused(e.to_string()))?;
        // Room for the six headers a POST carries without growing.
        let mut headers = HeaderMap::with_capacity(6);
        let auth = match out.auth {
            AuthMode::Default => self.default_auth.clone(),
            AuthMode::Wrong => self.wrong_auth.clone(),
            AuthMode::None => None,
        };
        if let Some(v) = auth {
            headers.insert(header::AUTHORIZATION, v);
        }
        let body = out.body.map(SendBody::into_bytes);
        if body.is_some() {
            let json = HeaderValue::from_static("application/json");
            headers.insert(header::CONTENT_TYPE, json);
        }
        let body = body.unwrap_or_default();
        headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        headers.insert(
            header::USER_AGENT,
            HeaderValue::from_static(super::USER_AGENT),
        );
        if let Some(v) = parsed.host {
            headers.insert(header::HOST, v);
        }
        let sends_length =
            !body.is_empty() || matches!(out.method, Method::POST | Method::PUT | Method::PATCH);
        if sends_length {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        }
        let mut request = Request::builder()
            .method(out.method)
            .uri(parsed.target.as_str())
            .body(WireBody::from(body))
            .map_err(|e| refused(e.to_string()))?;
        *request.headers_mut() = headers;
        Ok(request)
    }
}

/// Why reqwest would refuse a URL (the in-process client refuses it the same way).
#[derive(Debug, thiserror::Error)]
enum UrlRefused {
    /// Not a URL at all.
    #[error("{0}")]
    Parse(String),
    /// Not `http(s)://HOST/...`.
    #[error("the URL is not http(s)://HOST/...")]
    NotHttp,
}

impl Target {
    /// What the wire takes of `url`, parsed by the parser reqwest uses (so that the server sees
    /// the same normalized path and query), or why reqwest would refuse it; the last URL's parse
    /// is reused.
    fn parsed(&self, url: &str) -> Result<Parsed, UrlRefused> {
        let mut last = self.last_url.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((u, p)) = last.as_ref()
            && u == url
        {
            return Ok(p.clone());
        }
        let parsed = reqwest::Url::parse(url).map_err(|e| UrlRefused::Parse(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") || !parsed.has_host() {
            return Err(UrlRefused::NotHttp);
        }
        let target = match parsed.query() {
            Some(q) => format!("{}?{q}", parsed.path()),
            None => parsed.path().to_string(),
        };
        let host = match (parsed.host_str(), parsed.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => String::new(),
        };
        let p = Parsed {
            target,
            host: HeaderValue::from_str(&host).ok(),
        };
        *last = Some((url.to_string(), p.clone()));
        Ok(p)
    }
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
        let due = tokio::time::Instant::now() + left;
        let frame = match within(due, body.frame()).await {
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

/// `fut`'s output, or `Err` when `due` comes first (as `tokio::time::timeout_at`, which also
/// polls the future before looking at the clock). A future that is ready at once, as most
/// answers of an in-process service are, registers no timer.
async fn within<F: std::future::Future>(
    due: tokio::time::Instant,
    fut: F,
) -> Result<F::Output, tokio::time::error::Elapsed> {
    let mut fut = std::pin::pin!(fut);
    let first = std::future::poll_fn(|cx| std::task::Poll::Ready(fut.as_mut().poll(cx))).await;
    if let std::task::Poll::Ready(out) = first {
        return Ok(out);
    }
    tokio::time::timeout_at(due, fut).await
}

fn timed_out(timeout: Duration) -> TransportError {
    TransportError::Timeout(timeout.as_millis() as u64)
}

#[cfg(test)]
#[path = "in_process_tests.rs"]
mod tests;
