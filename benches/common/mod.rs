//! Shared bench helpers (included by every bench binary with `mod common;`): the machine line,
//! statistics (medians, percentiles), table printing, /proc memory readings, runtimes, a
//! closed-loop HTTP load generator (N keep-alive connections, one request in flight on each), and
//! the mock's control API (and, in `served`, `jobconform serve` processes and profiles). Owns no measurement policy of its own beyond these mechanics; must not
//! depend on anything in the crate except the public mock and transport APIs.
#![allow(dead_code)]

pub mod served;

use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Basic-auth user and password of the mock.
pub const USER: &str = jobconform::mock::DEFAULT_USER;
/// Basic-auth password of the mock.
pub const PASSWORD: &str = jobconform::mock::DEFAULT_PASSWORD;

/// `nproc` and the load average now, for the header of every table.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ");
    format!("{now}  nproc={cpus}  loadavg={}", load.join(" "))
}

/// A numeric knob from the environment (`JC_BENCH_*`), else `default`.
pub fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Median of a sample (0 for an empty one).
pub fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// The `p`-th percentile (0..=100) of a sample, nearest rank (0 for an empty one).
pub fn percentile(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

/// A table printed in Markdown, with a title and the machine line.
pub struct Table {
    title: String,
    head: Vec<String>,
    rows: Vec<Vec<String>>,
    notes: Vec<String>,
}

impl Table {
    /// A table with column headers.
    pub fn new(title: &str, head: &[&str]) -> Table {
        Table {
            title: title.to_string(),
            head: head.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }
    /// Appends a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
    /// Appends a note printed under the table.
    pub fn note(&mut self, s: impl Into<String>) {
        self.notes.push(s.into());
    }
    /// Prints the table to stdout.
    pub fn print(&self) {
        println!("\n### {}\n", self.title);
        println!("_{}_\n", machine());
        println!("| {} |", self.head.join(" | "));
        println!(
            "|{}|",
            self.head
                .iter()
                .map(|_| "---")
                .collect::<Vec<_>>()
                .join("|")
        );
        for r in &self.rows {
            println!("| {} |", r.join(" | "));
        }
        for n in &self.notes {
            println!("\n{n}");
        }
        println!();
    }
}

/// A `/proc/<pid>/status` field in KiB (`VmRSS`, `VmHWM`); `self` for this process.
pub fn status_kib(pid: &str, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// A multi-thread runtime with `workers` threads.
pub fn multi_rt(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("build a tokio runtime")
}

/// A current-thread runtime with a paused clock (virtual time).
pub fn paused_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("build a paused tokio runtime")
}

/// A jobconform transport client for the mock (default limits, mock credentials).
pub fn jc_client() -> jobconform::transport::Client {
    use jobconform::transport::{Client, Credentials, Limits, Secret, TlsConfig};
    let creds = Credentials {
        user: USER.into(),
        password: Secret::new(PASSWORD),
    };
    Client::new(Some(creds), Limits::default(), &TlsConfig::default()).expect("build a client")
}

/// A bare reqwest client with at most one idle connection per host.
pub fn bare_client() -> reqwest::Client {
    jobconform::transport::install_crypto();
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(1)
        .build()
        .expect("build a reqwest client")
}

/// One request to repeat.
#[derive(Clone, Debug)]
pub struct Req {
    /// Method.
    pub method: reqwest::Method,
    /// URL.
    pub url: String,
    /// JSON body, if any.
    pub body: Option<bytes::Bytes>,
    /// Extra headers (name, value).
    pub headers: Vec<(&'static str, String)>,
}

impl Req {
    /// A GET.
    pub fn get(url: String) -> Req {
        Req {
            method: reqwest::Method::GET,
            url,
            body: None,
            headers: Vec::new(),
        }
    }
    /// A POST of a JSON value.
    pub fn post(url: String, v: &Value) -> Req {
        Req {
            method: reqwest::Method::POST,
            url,
            body: Some(bytes::Bytes::from(v.to_string())),
            headers: Vec::new(),
        }
    }
    /// Sends it once on a client; the status and the body's length.
    pub async fn send(&self, c: &reqwest::Client) -> Result<(u16, usize), reqwest::Error> {
        let mut rb = c
            .request(self.method.clone(), &self.url)
            .basic_auth(USER, Some(PASSWORD));
        for (name, value) in &self.headers {
            rb = rb.header(*name, value);
        }
        if let Some(b) = &self.body {
            rb = rb
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b.clone());
        }
        let r = rb.send().await?;
        let status = r.status().as_u16();
        let n = r.bytes().await?.len();
        Ok((status, n))
    }
}

/// What one closed-loop measurement saw.
#[derive(Debug, Default, Clone)]
pub struct Sample {
    /// Requests completed with a 2xx.
    pub ok: u64,
    /// Requests that failed or were not 2xx.
    pub errors: u64,
    /// Wall time of the measurement, seconds.
    pub secs: f64,
    /// Latency of every request, microseconds.
    pub lat_us: Vec<f64>,
}

impl Sample {
    /// Completed requests per second.
    pub fn rps(&self) -> f64 {
        self.ok as f64 / self.secs.max(1e-9)
    }
}

/// Runs `req` on every client in `conns` (one request in flight per client) for `dur`.
pub async fn load(req: &Req, conns: &[reqwest::Client], dur: Duration) -> Sample {
    let start = Instant::now();
    let end = start + dur;
    let tasks: Vec<_> = conns
        .iter()
        .map(|c| {
            let c = c.clone();
            let req = req.clone();
            tokio::spawn(async move {
                let mut s = Sample::default();
                while Instant::now() < end {
                    let t = Instant::now();
                    match req.send(&c).await {
                        Ok((st, _)) if (200..300).contains(&st) => {
                            s.ok += 1;
                            s.lat_us.push(t.elapsed().as_secs_f64() * 1e6);
                        }
                        _ => s.errors += 1,
                    }
                }
                s
            })
        })
        .collect();
    let mut all = Sample::default();
    for t in tasks {
        if let Ok(s) = t.await {
            all.ok += s.ok;
            all.errors += s.errors;
            all.lat_us.extend(s.lat_us);
        }
    }
    all.secs = start.elapsed().as_secs_f64();
    all
}

/// Sends `req` `n` times one after another; the latency of each in microseconds.
pub async fn serial(req: &Req, c: &reqwest::Client, n: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        if let Ok((st, _)) = req.send(c).await
            && (200..300).contains(&st)
        {
            out.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    out
}

/// The control API's base (`http://ADDR/_jobconform`) and the APIs of a mock at `addr`.
#[derive(Clone, Debug)]
pub struct MockUrls {
    /// `http://ADDR/json-rpc/12.5`
    pub element: String,
    /// `http://ADDR/api`
    pub aiqum: String,
    /// `http://ADDR/_jobconform`
    pub control: String,
}

impl MockUrls {
    /// From the mock's own URLs.
    pub fn of(u: &jobconform::mock::Urls) -> MockUrls {
        MockUrls {
            element: u.element.clone(),
            aiqum: u.aiqum.clone(),
            control: u.control.clone(),
        }
    }
}

/// A script running for ever (or for `ms`), succeeding.
pub fn script_running(ms: u64) -> Value {
    json!({"steps": [{"ms": ms}], "outcome": "success"})
}

/// Starts a scripted Element job; its handle.
pub async fn element_job(c: &reqwest::Client, u: &MockUrls, script: &Value) -> u64 {
    let r = Req::post(format!("{}/element/jobs", u.control), script);
    let v: Value = c
        .request(r.method, &r.url)
        .basic_auth(USER, Some(PASSWORD))
        .json(script)
        .send()
        .await
        .expect("start an element job")
        .json()
        .await
        .expect("read the handle");
    v["asyncHandle"].as_u64().expect("an asyncHandle")
}

/// Starts a scripted AIQUM job; its key.
pub async fn aiqum_job(c: &reqwest::Client, u: &MockUrls, script: &Value) -> String {
    let v: Value = c
        .post(format!("{}/aiqum/jobs", u.control))
        .basic_auth(USER, Some(PASSWORD))
        .json(script)
        .send()
        .await
        .expect("start an aiqum job")
        .json()
        .await
        .expect("read the key");
    v["key"].as_str().expect("a key").to_string()
}

/// Formats a number of requests per second.
pub fn fmt_rps(x: f64) -> String {
    format!("{x:.0}")
}

/// Formats microseconds.
pub fn fmt_us(x: f64) -> String {
    if x >= 10_000.0 {
        format!("{:.1} ms", x / 1000.0)
    } else {
        format!("{x:.0} µs")
    }
}

/// Formats a ratio as a percentage.
pub fn fmt_pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}
