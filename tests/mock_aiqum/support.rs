//! Test support for `tests/mock_aiqum.rs`: a mock on the current (paused) runtime with a reqwest
//! client that records every answer, plus small readers of job objects. No assertions about
//! rules here beyond `assert_error`.

use std::cell::RefCell;

use jobconform::mock::{self, AiqumDialect, MockConfig, RunningMock};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::time::Instant;

/// How a request authenticates.
#[derive(Clone, Copy, PartialEq)]
pub enum Auth {
    Good,
    None,
    Wrong,
}

/// One answer, as the tests see it.
#[derive(Debug, Clone)]
pub struct R {
    pub status: u16,
    pub ct: String,
    pub json: Option<Value>,
    pub elapsed_ms: u64,
    pub job_read: bool,
    /// The contract schema the body must satisfy (`schemas/aiqum/...`), if any.
    pub schema: Option<&'static str>,
}

impl R {
    pub fn j(&self) -> &Value {
        self.json.as_ref().unwrap_or(&Value::Null)
    }
}

pub struct M {
    pub mock: RunningMock,
    pub http: reqwest::Client,
    pub base: String,
    pub seen: RefCell<Vec<R>>,
}

impl M {
    pub async fn start(config: MockConfig) -> M {
        jobconform::transport::install_crypto();
        let mock = mock::spawn(config).await.expect("spawn mock");
        let base = format!("http://{}", mock.addr);
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client");
        M {
            mock,
            http,
            base,
            seen: RefCell::new(Vec::new()),
        }
    }

    pub async fn req(&self, method: Method, path: &str, body: Option<Value>, auth: Auth) -> R {
        let mut rb = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        match auth {
            Auth::Good => rb = rb.basic_auth(mock::DEFAULT_USER, Some(mock::DEFAULT_PASSWORD)),
            Auth::Wrong => rb = rb.basic_auth(mock::DEFAULT_USER, Some("nope")),
            Auth::None => {}
        }
        if let Some(b) = body {
            rb = rb
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let t = Instant::now();
        let resp = rb.send().await.expect("send");
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = resp.bytes().await.expect("body");
        let job_read = method == Method::GET && path.contains("/management-server/jobs");
        let schema = match status {
            202 => Some("aiqum/accepted.json"),
            400.. => Some("aiqum/error.json"),
            200 if job_read && path.contains("/management-server/jobs/") => Some("aiqum/job.json"),
            200 if job_read => Some("aiqum/job-list.json"),
            _ => None,
        };
        let r = R {
            status,
            ct,
            json: serde_json::from_slice(&bytes).ok(),
            elapsed_ms: t.elapsed().as_millis() as u64,
            job_read,
            schema,
        };
        self.seen.borrow_mut().push(r.clone());
        r
    }

    pub async fn get(&self, path: &str) -> R {
        self.req(Method::GET, path, None, Auth::Good).await
    }

    pub async fn job(&self, key: &str, query: &str) -> R {
        self.get(&format!("/api/management-server/jobs/{}{query}", enc(key)))
            .await
    }

    pub async fn script(&self, script: Value) -> String {
        let r = self
            .req(
                Method::POST,
                "/_jobconform/aiqum/jobs",
                Some(script),
                Auth::Good,
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.json);
        r.j()["key"].as_str().expect("key").to_string()
    }

    pub async fn lun(&self, prefix: &str) -> R {
        let body = json!({"name": "lun1", "space": {"size": 1_048_576}, "svm": {"key": "svm-1"}});
        self.req(
            Method::POST,
            &format!("{prefix}/storage-provider/luns"),
            Some(body),
            Auth::Good,
        )
        .await
    }
}

pub fn enc(key: &str) -> String {
    key.replace(':', "%3A")
}

pub fn cfg(dialect: AiqumDialect, deviations: &[&'static str]) -> MockConfig {
    MockConfig {
        aiqum_dialect: dialect,
        deviations: deviations
            .iter()
            .map(|n| n.parse().expect("a deviation's name"))
            .collect(),
        ..MockConfig::default()
    }
}

pub fn terminal(j: &Value) -> bool {
    jobconform::poll::aiqum_terminal(j).unwrap_or(false)
}

pub fn state(j: &Value) -> String {
    j["state"].as_str().unwrap_or("").to_string()
}

/// The outcome value of a job: `status` (split) or `state` (literal), lower case.
pub fn outcome(j: &Value) -> String {
    j.get("status")
        .unwrap_or(&j["state"])
        .as_str()
        .unwrap_or("")
        .to_ascii_lowercase()
}

pub fn rank(s: &str) -> u8 {
    match s.to_ascii_lowercase().as_str() {
        "queued" => 0,
        "running" | "warning" => 1,
        _ => 2,
    }
}

pub fn ts(v: &Value) -> Option<jiff::Timestamp> {
    v.as_str()?.parse().ok()
}

pub const SLACK: u64 = 150;
pub const FOUR: [&str; 4] = ["normal", "warning", "partial_failures", "error"];

impl M {
    pub async fn raw(&self, method: Method, path: &str, body: &str) -> R {
        let r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(mock::DEFAULT_USER, Some(mock::DEFAULT_PASSWORD))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("send");
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = r.bytes().await.expect("body");
        R {
            status,
            ct,
            json: serde_json::from_slice(&bytes).ok(),
            elapsed_ms: 0,
            job_read: false,
            schema: None,
        }
    }
}

pub fn assert_error(r: &R, status: u16) {
    assert_eq!(r.status, status, "{:?}", r.json);
    assert!(r.ct.starts_with("application/json"), "{}", r.ct);
    assert!(r.j()["error"]["message"].is_string(), "{:?}", r.json);
    assert!(r.j()["error"]["code"].is_string(), "{:?}", r.json);
}

pub fn is_key(k: &str) -> bool {
    let parts: Vec<&str> = k.split(':').collect();
    let hex = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit());
    parts.len() == 4
        && hex(parts[0])
        && parts[1].strip_prefix('-').is_some_and(hex)
        && hex(parts[2])
        && hex(parts[3].trim_start_matches('-'))
}
