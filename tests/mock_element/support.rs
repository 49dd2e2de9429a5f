//! Test support for `mock_element`: a mock on loopback plus a small JSON-RPC and control-API
//! client with Basic auth, and JSON predicates shared by the probes.

use std::time::Duration;

use jobconform::mock::{self, ElementDialect, MockConfig, RunningMock};
use serde_json::{Value, json};

pub struct T {
    pub m: RunningMock,
    c: reqwest::Client,
}

pub const USER: &str = mock::DEFAULT_USER;
pub const PASS: &str = mock::DEFAULT_PASSWORD;

pub fn config(deviations: &[&'static str], dialect: ElementDialect) -> MockConfig {
    MockConfig {
        deviations: deviations
            .iter()
            .map(|n| n.parse().expect("a deviation's name"))
            .collect(),
        element_dialect: dialect,
        clone_ms: 4_000,
        ..MockConfig::default()
    }
}

pub async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

impl T {
    pub async fn start(cfg: MockConfig) -> T {
        jobconform::transport::install_crypto();
        let m = mock::spawn(cfg).await.expect("mock starts");
        T {
            m,
            c: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.m.addr)
    }

    /// POSTs a raw body; (status, JSON body or Null, text).
    pub async fn raw(&self, path: &str, body: String, auth: Option<(&str, &str)>) -> (u16, Value) {
        let mut rq = self.c.post(self.url(path)).body(body);
        if let Some((u, p)) = auth {
            rq = rq.basic_auth(u, Some(p));
        }
        let resp = rq.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body read");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn call_at(&self, version: &str, req: Value) -> (u16, Value) {
        let path = format!("/json-rpc/{version}");
        self.raw(&path, req.to_string(), Some((USER, PASS))).await
    }

    pub async fn call(&self, method: &str, params: Value) -> Value {
        let req = json!({"method": method, "params": params, "id": 1});
        self.call_at(mock::ELEMENT_CURRENT, req).await.1
    }

    pub async fn result(&self, method: &str, params: Value) -> Value {
        let body = self.call(method, params).await;
        assert!(body.get("result").is_some(), "{method}: {body}");
        body["result"].clone()
    }

    pub async fn gar(&self, h: u64, keep: Option<bool>) -> Value {
        let params = match keep {
            Some(k) => json!({"asyncHandle": h, "keepResult": k}),
            None => json!({"asyncHandle": h}),
        };
        self.call("GetAsyncResult", params).await
    }

    pub async fn control(&self, path: &str, body: Value) -> Value {
        let (status, v) = self
            .raw(
                &format!("/_jobconform{path}"),
                body.to_string(),
                Some((USER, PASS)),
            )
            .await;
        assert_eq!(status, 200, "{path}: {v}");
        v
    }

    pub async fn control_get(&self, path: &str) -> Value {
        let url = self.url(&format!("/_jobconform{path}"));
        let resp = self.c.get(url).basic_auth(USER, Some(PASS)).send().await;
        resp.expect("sent").json().await.expect("json")
    }

    /// A scripted job: `steps` of ms each, then `outcome`; returns its handle.
    pub async fn job(&self, steps: &[u64], outcome: &str, result_type: &str) -> u64 {
        let steps: Vec<Value> = steps.iter().map(|ms| json!({"ms": ms})).collect();
        let script = json!({"steps": steps, "outcome": outcome, "result_type": result_type});
        let v = self.control("/element/jobs", script).await;
        v["asyncHandle"].as_u64().expect("handle")
    }

    /// A complete successful job.
    pub async fn done_job(&self) -> u64 {
        let h = self.job(&[1000, 1000], "success", "Clone").await;
        sleep_ms(2500).await;
        h
    }
}

pub fn is_error(body: &Value) -> bool {
    body.get("error").is_some() && body.get("result").is_none()
}

pub fn code_500(body: &Value) -> bool {
    let code = &body["error"]["code"];
    code.as_u64()
        .or_else(|| code.as_str().and_then(|s| s.parse().ok()))
        == Some(500)
}

pub fn is_iso_z(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.ends_with('Z') && s.parse::<jiff::Timestamp>().is_ok())
}

pub fn version_in(list: &Value, v: &str) -> bool {
    list.as_array().is_some_and(|l| {
        l.iter()
            .any(|x| x.as_str() == Some(v) || x.as_f64().is_some_and(|f| format!("{f:.1}") == v))
    })
}
