//! Helpers of `tests/proxy.rs`: a `jobconform proxy` process in front of a `serve` process,
//! scripted jobs through the mock's control API, the harness's client, a careless client, and
//! reading verdicts.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use super::support::{SECRET, Served, jobconform, signal, text, wait_bounded};

/// The clients' promises the proxy judges against: the reference poller waits at least 50 ms,
/// and arrival times at the proxy jitter with the machine's load.
pub const AUDIT: &[&str] = &["--min-interval-ms", "40", "--tolerance-ms", "20"];

/// A `jobconform proxy` process; killed on drop.
pub struct Proxy {
    pub child: Child,
    pub urls: Value,
}

impl Proxy {
    /// A proxy in front of both APIs of `served`.
    pub fn start(served: &Served, extra: &[&str]) -> Proxy {
        let (e, a) = (served.url("element"), served.url("aiqum"));
        let mut args = vec![
            "--element-upstream",
            e.as_str(),
            "--aiqum-upstream",
            a.as_str(),
        ];
        args.extend_from_slice(extra);
        Proxy::spawn(&args)
    }

    /// A proxy with these arguments (after `proxy`) and the audit flags.
    pub fn spawn(args: &[&str]) -> Proxy {
        jobconform::transport::install_crypto();
        let mut all = vec!["proxy"];
        all.extend_from_slice(AUDIT);
        all.extend_from_slice(args);
        let mut child = jobconform(&all)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn proxy");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the URL line");
        let urls: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("proxy printed {line:?}: {e}"));
        Proxy { child, urls }
    }

    pub fn url(&self, k: &str) -> String {
        self.urls[k]
            .as_str()
            .unwrap_or_else(|| panic!("no {k} in {}", self.urls))
            .to_string()
    }

    /// The live verdict (JSON document).
    pub async fn verdict(&self) -> Value {
        let r = reqwest::get(self.url("verdict"))
            .await
            .expect("GET verdict");
        assert_eq!(r.status(), 200);
        r.json().await.expect("verdict is JSON")
    }

    /// The live verdict over HTTPS, trusting the proxy's own certificate.
    pub async fn verdict_with_ca(&self, ca: &str) -> Value {
        let pem = std::fs::read(ca).expect("read CA");
        let cert = reqwest::Certificate::from_pem(&pem).expect("PEM");
        let c = reqwest::Client::builder()
            .tls_certs_only([cert])
            .build()
            .expect("client");
        let r = c
            .get(self.url("verdict"))
            .send()
            .await
            .expect("GET verdict");
        assert_eq!(r.status(), 200);
        r.json().await.expect("verdict is JSON")
    }

    /// SIGINT, then the exit code and stderr.
    pub fn stop(mut self) -> (Option<i32>, String) {
        signal(self.child.id(), "-INT");
        let status =
            wait_bounded(&mut self.child, Duration::from_secs(20)).expect("proxy stops on SIGINT");
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            e.read_to_string(&mut err).expect("read stderr");
        }
        (status.code(), err)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The harness's own client (admin and the test server's password).
pub fn reference_client() -> jobconform::transport::Client {
    use jobconform::transport::{Client, Credentials, Limits, Secret, TlsConfig};
    let creds = Credentials {
        user: "admin".into(),
        password: Secret::new(SECRET),
    };
    Client::new(Some(creds), Limits::default(), &TlsConfig::default()).expect("client")
}

fn script(outcome: &str) -> Value {
    let mut s = json!({"steps": [{"ms": 1500}, {"ms": 1500}], "outcome": outcome});
    if outcome == "failure" {
        s["error"] = json!({"name": "xBulkVolumeScriptFailure", "message": "failed"});
    }
    s
}

/// Starts a scripted job on the mock through its control API (`element` or `aiqum`); the answer.
async fn control(served: &Served, api: &str, script: &Value) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{}/{api}/jobs", served.url("control")))
        .basic_auth("admin", Some(SECRET))
        .json(script)
        .send()
        .await
        .expect("control API");
    r.json().await.expect("JSON")
}

/// A scripted AIQUM job running for a minute of target time; its key.
pub async fn scripted_aiqum_running(served: &Served) -> String {
    let script = json!({"steps": [{"ms": 60000}], "outcome": "success"});
    let b = control(served, "aiqum", &script).await;
    b["key"].as_str().expect("key").to_string()
}

/// A scripted Element job on the mock (3 s of target time); its handle.
pub async fn scripted_element(served: &Served, outcome: &str) -> u64 {
    let b = control(served, "element", &script(outcome)).await;
    b["asyncHandle"]
        .as_u64()
        .unwrap_or_else(|| panic!("no handle: {b}"))
}

/// A scripted AIQUM job on the mock; its key.
pub async fn scripted_aiqum(served: &Served, outcome: &str) -> String {
    let b = control(served, "aiqum", &script(outcome)).await;
    b["key"]
        .as_str()
        .unwrap_or_else(|| panic!("no key: {b}"))
        .to_string()
}

/// A careless client (`x-jobconform-client: careless`): polls handle `h` back to back without
/// keepResult until an answer is complete or an error (at most 500 polls), then `after` more times.
pub async fn careless_element(proxy: &Proxy, h: u64, after: usize) {
    let http = reqwest::Client::new();
    let mut left: Option<usize> = None;
    for id in 0..500 {
        if left == Some(0) {
            return;
        }
        let b: Value = http
            .post(proxy.url("element"))
            .basic_auth("admin", Some(SECRET))
            .header("x-jobconform-client", "careless")
            .json(&json!({"method": "GetAsyncResult", "params": {"asyncHandle": h}, "id": id}))
            .send()
            .await
            .expect("answer")
            .json()
            .await
            .unwrap_or(Value::Null);
        left = match left {
            Some(n) => Some(n - 1),
            None if b.pointer("/result/status") == Some(&json!("complete"))
                || b.get("error").is_some() =>
            {
                Some(after)
            }
            None => None,
        };
    }
}

/// The rule IDs with findings in a verdict document, sorted, without duplicates.
pub fn finding_rules(v: &Value) -> Vec<String> {
    let mut r: Vec<String> = v["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .flat_map(|c| c["findings"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f["rule"].as_str().map(str::to_string))
        .collect();
    r.sort();
    r.dedup();
    r
}

/// The server rules (not CL-*) with findings in a verdict document.
pub fn server_findings(v: &Value) -> Vec<String> {
    finding_rules(v)
        .into_iter()
        .filter(|r| !r.starts_with("CL-"))
        .collect()
}

/// `jobconform judge FILE` with the audit flags and `extra`: exit code, the JSON verdict, stderr.
pub fn judge(file: &Path, extra: &[&str]) -> (Option<i32>, Value, String) {
    let dir = super::support::tmp();
    let report = dir.path().join("judged.json");
    let mut args = vec![
        "judge",
        file.to_str().expect("utf-8"),
        "--report-json",
        report.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(AUDIT);
    args.extend_from_slice(extra);
    let out = jobconform(&args).output().expect("run judge");
    let (_, err) = text(&out);
    let v = super::support::validate_report(&report);
    (out.status.code(), v, err)
}
