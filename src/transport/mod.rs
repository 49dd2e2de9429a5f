//! Sending one request and recording the exchange. Owns the HTTP client (rustls with ring, timeouts,
//! body size cap, no proxy), credentials and their redaction. It never decides pass or fail: a
//! non-JSON or truncated body is recorded as such and judged by `check`; only failures to get an
//! answer at all (timeout, refused connection, TLS) are [`TransportError`]s.

pub mod aiqum;
pub mod element;
mod endpoint;
pub mod in_process;

pub use endpoint::EndpointError;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

/// Installs rustls' ring crypto provider once per process. Safe to call repeatedly.
pub fn install_crypto() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err only means another provider was installed first, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

pub use crate::secret::Secret;

/// HTTP Basic credentials.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// User name (not secret; it appears in reports).
    pub user: String,
    /// Password (secret; redacted from everything recorded).
    pub password: Secret,
}

/// How a request authenticates; cases use `none` and `wrong` to probe 401 rules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMode {
    /// The target's configured credentials.
    #[default]
    Default,
    /// No `Authorization` header.
    None,
    /// The configured user with a password that is certainly wrong.
    Wrong,
}

impl AuthMode {
    /// How a request seen in traffic was sent: with an `Authorization` header or without.
    pub fn seen(authorization: bool) -> AuthMode {
        if authorization {
            AuthMode::Default
        } else {
            AuthMode::None
        }
    }
}

/// Timeouts and size limits for every request a client sends.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Time to establish a connection (TCP + TLS).
    pub connect_timeout: Duration,
    /// Total time for one request, from send to the last body byte (long polls add their wait).
    pub request_timeout: Duration,
    /// Largest response body read; a larger one is recorded as [`Body::TooLarge`].
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_body: 8 * 1024 * 1024,
        }
    }
}

/// TLS settings for a live target.
#[derive(Clone, Debug, Default)]
pub struct TlsConfig {
    /// Trust only this PEM bundle (a cluster's self-signed certificate).
    pub ca_cert_pem: Option<Vec<u8>>,
    /// Accept any certificate (`--insecure`).
    pub insecure: bool,
}

/// Errors building a client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The CA bundle is not PEM.
    #[error("read CA certificate: {0}")]
    CaCert(String),
    /// reqwest refused the configuration.
    #[error("build HTTP client: {0}")]
    Build(String),
}

/// No answer could be had: the request never produced a complete HTTP response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, thiserror::Error)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
pub enum TransportError {
    /// Nothing (or not all) came back within the request timeout.
    #[error("get an answer within {0} ms")]
    Timeout(u64),
    /// The TCP connection was refused or could not be made.
    #[error("connect: {0}")]
    Connect(String),
    /// The TLS handshake failed (untrusted certificate, wrong name, protocol).
    #[error("establish TLS: {0}")]
    Tls(String),
    /// The connection broke mid-request or mid-body.
    #[error("read the answer: {0}")]
    Io(String),
}

impl TransportError {
    /// True when the target could not be reached at all (exit code 3 territory).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, TransportError::Connect(_) | TransportError::Tls(_))
    }
}

/// A response body as received (after redaction of credentials).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum Body {
    /// No bytes.
    Empty,
    /// Parsed JSON.
    Json(Value),
    /// Bytes that are not JSON (HTML error page, truncated JSON, ...), as lossy UTF-8, with the
    /// parse error.
    Text {
        /// The body text (at most 4 KiB kept).
        text: String,
        /// Why it is not JSON.
        error: String,
    },
    /// More than [`Limits::max_body`] bytes: reading stopped there.
    TooLarge {
        /// The cap that was hit.
        limit: usize,
    },
}

impl Body {
    /// The JSON value, if the body was JSON.
    pub fn json(&self) -> Option<&Value> {
        match self {
            Body::Json(v) => Some(v),
            _ => None,
        }
    }
}

/// What was sent.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct RequestRecord {
    /// HTTP method.
    pub method: String,
    /// Full URL (never carries credentials).
    pub url: String,
    /// How it authenticated.
    pub auth: AuthMode,
    /// JSON body sent, if any; a raw (non-JSON) body is recorded as a JSON string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ResponseRecord {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Type` header, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The body.
    pub body: Body,
    /// Time from send to last body byte, in milliseconds.
    pub elapsed_ms: u64,
}

/// One request and its answer (or the reason there was none).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Exchange {
    /// What was sent.
    pub request: RequestRecord,
    /// What came back, or why nothing did.
    pub response: Result<ResponseRecord, TransportError>,
}

impl Exchange {
    /// The response body as JSON, if there was a response with a JSON body.
    pub fn json(&self) -> Option<&Value> {
        self.response.as_ref().ok().and_then(|r| r.body.json())
    }
    /// The HTTP status, if there was a response.
    pub fn status(&self) -> Option<u16> {
        self.response.as_ref().ok().map(|r| r.status)
    }
}

/// An HTTP client for one target: credentials, limits, TLS. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    creds: Option<Credentials>,
    limits: Limits,
    /// Where requests go instead of over HTTP ([`Client::in_process`]).
    in_process: Option<in_process::Target>,
    /// The secret forms of `creds`, computed once for every answer recorded.
    forms: SecretForms,
}

/// The forms of a password that redaction replaces (the Basic token, then the password), shared
/// by a client's clones; `Debug` shows only how many.
#[derive(Clone, Default)]
struct SecretForms(std::sync::Arc<[String]>);

impl SecretForms {
    fn of(creds: Option<&Credentials>) -> SecretForms {
        SecretForms(creds.map(secret_forms).unwrap_or_default().into())
    }
}

impl std::fmt::Debug for SecretForms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretForms({} redacted)", self.0.len())
    }
}

impl Client {
    /// Builds a client. Proxies from the environment are ignored: targets are addressed directly.
    pub fn new(
        creds: Option<Credentials>,
        limits: Limits,
        tls: &TlsConfig,
    ) -> Result<Client, ClientError> {
        let http = http_client(&limits, tls)?;
        Ok(Client {
            http,
            forms: SecretForms::of(creds.as_ref()),
            creds,
            limits,
            in_process: None,
        })
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The configured credentials, if any.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.creds.as_ref()
    }

    /// Sends a plain GET with the client's credentials (no body, no extra wait) and records the
    /// exchange, like [`Client::send`].
    pub async fn get(&self, url: &str) -> Exchange {
        self.send(
            reqwest::Method::GET,
            url,
            None,
            AuthMode::Default,
            Duration::ZERO,
        )
        .await
    }

    /// Sends one request and records the exchange. `extra_wait` lengthens the timeout for a long
    /// poll. Never panics; every failure to get an answer is a [`TransportError`] in the record.
    pub async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<SendBody>,
        auth: AuthMode,
        extra_wait: Duration,
    ) -> Exchange {
        let recorded_body = body.as_ref().map(|b| match b {
            SendBody::Json(v) => v.clone(),
            SendBody::Raw(s) => Value::String(s.clone()),
        });
        let request = RequestRecord {
            method: method.to_string(),
            url: url.to_string(),
            auth,
            body: recorded_body.map(|v| self.redact_value(v)),
        };
        let started = Instant::now();
        let response = self
            .send_inner(method, url, body, auth, extra_wait, started)
            .await;
        Exchange { request, response }
    }

    async fn send_inner(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<SendBody>,
        auth: AuthMode,
        extra_wait: Duration,
        started: Instant,
    ) -> Result<ResponseRecord, TransportError> {
        let timeout = self.limits.request_timeout + extra_wait;
        if let Some(target) = &self.in_process {
            let out = in_process::Outgoing {
                method,
                url,
                body,
                auth,
            };
            return target.send(self, out, timeout, started).await;
        }
        let mut rb = self.http.request(method, url).timeout(timeout);
        if let Some((user, password)) = self.basic_pair(auth) {
            rb = rb.basic_auth(user, Some(password));
        }
        if let Some(bytes) = body.map(SendBody::into_bytes) {
            rb = rb
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes);
        }
        let deadline = started + timeout;
        let mut resp = rb.send().await.map_err(|e| classify(&e, timeout))?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut bytes: Vec<u8> = Vec::new();
        let mut too_large = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let chunk = match tokio::time::timeout(left, resp.chunk()).await {
                Err(_) => return Err(TransportError::Timeout(timeout.as_millis() as u64)),
                Ok(Err(e)) => return Err(classify(&e, timeout)),
                Ok(Ok(c)) => c,
            };
            let Some(chunk) = chunk else { break };
            if bytes.len() + chunk.len() > self.limits.max_body {
                too_large = true;
                break;
            }
            bytes.extend_from_slice(&chunk);
        }
        let body = if too_large {
            Body::TooLarge {
                limit: self.limits.max_body,
            }
        } else {
            self.parse_body(&bytes)
        };
        Ok(ResponseRecord {
            status,
            content_type,
            body,
            elapsed_ms: started.elapsed().as_millis() as u64,
        })
    }

    /// The Basic credentials a request with `auth` carries, if any.
    fn basic_pair(&self, auth: AuthMode) -> Option<(&str, &str)> {
        match (auth, self.creds.as_ref()) {
            (AuthMode::Default, Some(c)) => Some((c.user.as_str(), c.password.expose())),
            (AuthMode::Wrong, c) => Some((
                c.map_or("jobconform", |c| c.user.as_str()),
                "jobconform-certainly-wrong-password",
            )),
            _ => None,
        }
    }

    fn parse_body(&self, bytes: &[u8]) -> Body {
        body_redacted(bytes, &self.forms.0)
    }

    /// Replaces every occurrence of the password (and its Basic token) in a string.
    pub fn redact_str(&self, s: &str) -> String {
        replace_forms(s, &self.forms.0)
    }

    /// Replaces the password in every string of a JSON value (keys included).
    pub fn redact_value(&self, mut v: Value) -> Value {
        redact_in_place(&mut v, &self.forms.0);
        v
    }
}

/// The `user-agent` every jobconform client sends, over HTTP or in process.
const USER_AGENT: &str = concat!("jobconform/", env!("CARGO_PKG_VERSION"));

/// The HTTP client every request to a target goes through: rustls with ring, the connect
/// timeout of `limits`, no proxy from the environment, and only the CA of `tls` (or none with
/// `insecure`). Request timeouts are set per request.
pub fn http_client(limits: &Limits, tls: &TlsConfig) -> Result<reqwest::Client, ClientError> {
    install_crypto();
    let mut b = reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(limits.connect_timeout)
        .pool_max_idle_per_host(32)
        .user_agent(USER_AGENT);
    if let Some(pem) = &tls.ca_cert_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| ClientError::CaCert(e.to_string()))?;
        if certs.is_empty() {
            return Err(ClientError::CaCert("no certificate in the PEM file".into()));
        }
        b = b.tls_certs_only(certs);
    }
    if tls.insecure {
        b = b.tls_danger_accept_invalid_certs(true);
    }
    b.build().map_err(|e| ClientError::Build(e.to_string()))
}

/// A received body as recorded: empty, JSON (credentials redacted), or text (at most 4 KiB kept,
/// credentials redacted) with the parse error. The one place bytes become a [`Body`].
pub fn body_of(bytes: &[u8], creds: Option<&Credentials>) -> Body {
    body_redacted(bytes, &SecretForms::of(creds).0)
}

/// [`body_of`] with the secret forms of the credentials already computed (empty: none).
fn body_redacted(bytes: &[u8], forms: &[String]) -> Body {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Body::Empty;
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(mut v) => {
            if may_hold_forms(bytes, forms) {
                redact_in_place(&mut v, forms);
            }
            Body::Json(v)
        }
        Err(e) => {
            let mut text = String::from_utf8_lossy(bytes).into_owned();
            if text.len() > 4096 {
                let mut cut = 4096;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.truncate(cut);
                text.push_str("[...]");
            }
            Body::Text {
                text: replace_forms(&text, forms),
                error: e.to_string(),
            }
        }
    }
}

/// Whether a JSON body may hold a secret form in one of its strings (keys included). `false`
/// only when the body has no escape sequence (so each string parsed from it is a verbatim slice
/// of it) and no form occurs anywhere in it; then redacting the parsed value would change
/// nothing, and the walk over it is skipped.
fn may_hold_forms(bytes: &[u8], forms: &[String]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(raw) if !raw.contains('\\') => forms.iter().any(|f| raw.contains(f.as_str())),
        _ => true,
    }
}

/// Replaces the password of `c` (and its Basic token) in a string.
pub fn redact_str_with(c: &Credentials, s: &str) -> String {
    replace_forms(s, &secret_forms(c))
}

/// Replaces the password of `c` (and its Basic token) in every string of a JSON value.
pub fn redact_value_with(c: &Credentials, mut v: Value) -> Value {
    redact_in_place(&mut v, &secret_forms(c));
    v
}

/// The credentials of an `Authorization: Basic ...` header value (so that whoever records what
/// such a request carried can redact them), or `None` for another scheme or a malformed token.
pub fn basic_credentials(authorization: &str) -> Option<Credentials> {
    use base64::Engine;
    let (scheme, token) = authorization.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    Some(Credentials {
        user: user.to_string(),
        password: Secret::new(password),
    })
}

/// The body of a request.
#[derive(Debug, Clone)]
pub enum SendBody {
    /// A JSON value, serialized.
    Json(Value),
    /// Bytes sent as they are (for malformed-input probes).
    Raw(String),
}

impl SendBody {
    /// The bytes sent (sent as `application/json` either way).
    fn into_bytes(self) -> Vec<u8> {
        match self {
            SendBody::Json(v) => serde_json::to_vec(&v).unwrap_or_default(),
            SendBody::Raw(s) => s.into_bytes(),
        }
    }
}

/// The placeholder a password is replaced with wherever it would be recorded.
pub const REDACTED: &str = "[redacted]";

fn secret_forms(c: &Credentials) -> Vec<String> {
    use base64::Engine;
    let p = c.password.expose();
    if p.is_empty() {
        return Vec::new();
    }
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.user, p));
    vec![token, p.to_string()]
}

/// `s` with each form replaced in turn (the Basic token first, then the password).
fn replace_forms(s: &str, forms: &[String]) -> String {
    let mut out = s.to_string();
    for form in forms {
        if out.contains(form.as_str()) {
            out = out.replace(form.as_str(), REDACTED);
        }
    }
    out
}

/// [`replace_forms`] on every string of `v`, keys included, in place: the forms are computed once
/// per value, and only a string that holds one is rewritten (an object only when a key holds one).
fn redact_in_place(v: &mut Value, forms: &[String]) {
    if forms.is_empty() {
        return;
    }
    let holds = |s: &str| {
        forms
            .iter()
            .any(|f| f.len() <= s.len() && s.contains(f.as_str()))
    };
    match v {
        Value::String(s) if holds(s) => *s = replace_forms(s, forms),
        Value::Array(a) => a.iter_mut().for_each(|x| redact_in_place(x, forms)),
        Value::Object(m) => {
            if m.keys().any(|k| holds(k)) {
                *m = std::mem::take(m)
                    .into_iter()
                    .map(|(k, x)| (replace_forms(&k, forms), x))
                    .collect();
            }
            m.values_mut().for_each(|x| redact_in_place(x, forms));
        }
        _ => {}
    }
}

/// The [`TransportError`] of a failed reqwest request (timeout, TLS, connect, or I/O).
pub fn classify(e: &reqwest::Error, timeout: Duration) -> TransportError {
    if e.is_timeout() {
        return TransportError::Timeout(timeout.as_millis() as u64);
    }
    let chain = error_chain(e);
    let lower = chain.to_lowercase();
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        TransportError::Tls(chain)
    } else if e.is_connect() {
        TransportError::Connect(chain)
    } else {
        TransportError::Io(chain)
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts.join(": ")
}

/// Query parameters as ordered pairs.
pub type Query = BTreeMap<String, String>;

#[cfg(test)]
#[path = "redact_tests.rs"]
mod redact_tests;
