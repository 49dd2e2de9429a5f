//! A small scripted job server for the poller's property tests: one Element handle (GetAsyncResult
//! with keepResult/purge semantics) and one AIQUM job (GET, optional long polling), a timeline on
//! `tokio::time` (so a paused runtime gives virtual time), and transient faults injected at chosen
//! request indices. It logs every request server-side (arrival time, what the answer showed) for
//! the property checkers. It never judges; it is a stand-in for `jobconform::mock` with a control
//! API shaped like `POST /_jobconform/{element,aiqum}/jobs` (one scripted job per server).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::time::Instant;

/// The AIQUM key of the scripted job (opaque, with `:` and `-`).
pub const KEY: &str = "06a6148bf9e862df:-2611856e:16e8d47e722:-7f87";
/// The Element handle of the scripted job.
pub const HANDLE: u64 = 41;

/// A transient fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 503 with a text body.
    Unavailable,
    /// The connection breaks mid-answer (after the server processed the request).
    Reset,
    /// Element method error `xDBVersionMismatch` (AIQUM: served as 503).
    VersionMismatch,
}

/// How the scripted job ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Element result / AIQUM completed+normal.
    Success,
    /// Element nested error / AIQUM completed+error.
    Failure,
    /// AIQUM completed+warning (Element success).
    Warning,
    /// AIQUM completed+partial_failures (Element failure).
    PartialFailures,
    /// AIQUM aborted+error (Element failure).
    Aborted,
}

/// One running step: its length and what it shows (Element `details.percentComplete` = `show *
/// 25`; AIQUM `status` = `warning` when `show` is odd, else `normal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Length in milliseconds.
    pub ms: u64,
    /// What the step shows.
    pub show: u8,
}

/// A scripted job and the server's behaviour.
#[derive(Debug, Clone)]
pub struct Script {
    /// Running steps.
    pub steps: Vec<Step>,
    /// How it ends.
    pub end: End,
    /// Faults by request index (0 = first request).
    pub faults: BTreeMap<usize, Fault>,
    /// A fault on the first answer that would show the job terminal.
    pub fault_on_terminal: Option<Fault>,
    /// Whether AIQUM long polling is offered.
    pub long_poll: bool,
}

impl Script {
    /// When the job turns terminal (ms after start).
    pub fn terminal_ms(&self) -> u64 {
        self.steps.iter().map(|s| s.ms).sum()
    }
    /// The step running at `ms`, `None` once terminal.
    fn step_at(&self, ms: u64) -> Option<usize> {
        let mut end = 0;
        for (i, s) in self.steps.iter().enumerate() {
            end += s.ms;
            if ms < end {
                return Some(i);
            }
        }
        None
    }
    /// AIQUM (state, status) at `ms`.
    pub fn aiqum_at(&self, ms: u64) -> (&'static str, &'static str) {
        match self.step_at(ms) {
            Some(i) if self.steps[i].show % 2 == 1 => ("running", "warning"),
            Some(_) => ("running", "normal"),
            None => match self.end {
                End::Success => ("completed", "normal"),
                End::Failure => ("completed", "error"),
                End::Warning => ("completed", "warning"),
                End::PartialFailures => ("completed", "partial_failures"),
                End::Aborted => ("aborted", "error"),
            },
        }
    }
    /// The last time (<= `ms`) the AIQUM (state, status) changed; 0 if never.
    pub fn aiqum_changed_at(&self, ms: u64) -> u64 {
        let mut last = 0;
        let mut t = 0;
        for s in &self.steps {
            t += s.ms;
            if t > ms {
                break;
            }
            if t > 0 && self.aiqum_at(t) != self.aiqum_at(t - 1) {
                last = t;
            }
        }
        last
    }
    /// The next step boundary after `ms`, if any.
    fn next_boundary(&self, ms: u64) -> Option<u64> {
        let mut t = 0;
        for s in &self.steps {
            t += s.ms;
            if t > ms {
                return Some(t);
            }
        }
        None
    }
    /// The Element GetAsyncResult `result` at `ms`.
    pub fn element_at(&self, ms: u64) -> Value {
        match self.step_at(ms) {
            Some(i) => json!({"status": "running", "resultType": "Clone",
                "details": {"percentComplete": u64::from(self.steps[i].show) * 25},
                "createTime": "2026-01-01T00:00:00Z", "lastUpdateTime": "2026-01-01T00:00:00Z"}),
            None => match self.end {
                End::Success | End::Warning => json!({"status": "complete", "resultType": "Clone",
                    "result": expected_result(),
                    "createTime": "2026-01-01T00:00:00Z", "lastUpdateTime": "2026-01-01T00:00:01Z"}),
                _ => json!({"status": "complete", "resultType": "Clone",
                    "error": {"name": "xAsyncJobFailed", "message": "scripted failure"},
                    "createTime": "2026-01-01T00:00:00Z", "lastUpdateTime": "2026-01-01T00:00:01Z"}),
            },
        }
    }
}

/// The success payload of the scripted Element job.
pub fn expected_result() -> Value {
    json!({"cloneID": 7, "volumeID": 3, "message": "scripted clone done"})
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Req {
    /// Arrival, since the server started.
    pub at: Duration,
    /// Answer, since the server started.
    pub answered: Duration,
    /// `poll_timeout` asked (AIQUM long poll), in seconds.
    pub long_poll: Option<u64>,
    /// Element keepResult sent.
    pub keep_result: Option<bool>,
    /// Fault injected instead of (or, for `Reset`, after) the answer.
    pub fault: Option<Fault>,
    /// State-relevant content the client could see (`None` if faulted or unknown handle).
    pub seen: Option<String>,
    /// Whether the answer the client saw showed the job terminal.
    pub terminal: bool,
    /// Whether the server answered "unknown handle".
    pub unknown: bool,
}

struct Fake {
    t0: Instant,
    script: Script,
    log: Mutex<Vec<Req>>,
    purged: Mutex<bool>,
    terminal_fault_used: Mutex<bool>,
}

/// A fake server, served in process (its router is handed to `Client::in_process`; no socket).
pub struct Server {
    /// `http://in-process.invalid` (only paths and queries reach the router).
    pub base: String,
    /// The router a `Client::in_process` sends to.
    pub service: axum::Router,
    fake: Arc<Fake>,
}

impl Server {
    /// The request log so far.
    pub fn log(&self) -> Vec<Req> {
        self.fake.log.lock().expect("log lock").clone()
    }
    /// The log as the mock's journal would record it (what the client saw), for the audit.
    pub fn journal(&self, api: &'static str) -> Vec<jobconform::mock::journal::Entry> {
        self.log()
            .into_iter()
            .map(|r| jobconform::mock::journal::Entry {
                t_ms: r.at.as_millis() as u64,
                client: "jobconform".into(),
                api,
                // Like the mock: a long poll only when the server honours it.
                op: match (api, r.long_poll.filter(|_| self.fake.script.long_poll)) {
                    ("element", _) => "GetAsyncResult".into(),
                    (_, Some(_)) => "GET job long-poll".into(),
                    _ => "GET job".into(),
                },
                job: Some(if api == "element" {
                    HANDLE.to_string()
                } else {
                    KEY.into()
                }),
                keep_result: r.keep_result,
                released: api == "element" && r.terminal && r.keep_result != Some(true),
                observed: r.seen,
                terminal: r.terminal,
                http_status: if r.fault.is_some() { 503 } else { 200 },
            })
            .collect()
    }
    /// The start instant (time zero of the log).
    pub fn t0(&self) -> Instant {
        self.fake.t0
    }
}

/// Builds the server for `script` (call inside the paused runtime of the test: its time zero is
/// now). The transport's in-process and HTTP paths agree (`transport::in_process` tests), so the
/// properties hold over either; in process they spend their time on the property.
pub fn spawn(script: Script) -> Server {
    let fake = Arc::new(Fake {
        t0: Instant::now(),
        script,
        log: Mutex::new(Vec::new()),
        purged: Mutex::new(false),
        terminal_fault_used: Mutex::new(false),
    });
    let service = axum::Router::new()
        .route("/json-rpc/{version}", post(element))
        .route("/api/management-server/jobs/{key}", get(aiqum))
        .with_state(fake.clone());
    Server {
        base: jobconform::mock::service::ORIGIN.to_string(),
        service,
        fake,
    }
}

fn reset_response() -> Response {
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from_static(b"{\"id\": 1, \"res")),
        Err(std::io::Error::other("connection reset (injected)")),
    ];
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .expect("response")
}

impl Fake {
    fn now_ms(&self) -> u64 {
        self.t0.elapsed().as_millis() as u64
    }
    /// The fault for request `index` whose answer would show `terminal`.
    fn fault(&self, index: usize, terminal: bool) -> Option<Fault> {
        if let Some(f) = self.script.faults.get(&index) {
            return Some(*f);
        }
        let mut used = self.terminal_fault_used.lock().expect("lock");
        if terminal && !*used {
            *used = true;
            return self.script.fault_on_terminal;
        }
        None
    }
    fn push(&self, r: Req) {
        self.log.lock().expect("log lock").push(r);
    }
}

async fn element(State(f): State<Arc<Fake>>, body: axum::Json<Value>) -> Response {
    let at = f.t0.elapsed();
    let id = body.get("id").cloned().unwrap_or(Value::Null);
    let params = body.get("params").cloned().unwrap_or(json!({}));
    let keep_result = params.get("keepResult").and_then(Value::as_bool);
    let handle_ok = params.get("asyncHandle").and_then(Value::as_u64) == Some(HANDLE);
    let index = f.log.lock().expect("log lock").len();
    let result = f.script.element_at(f.now_ms());
    let terminal = result["status"] == "complete";
    let purged = *f.purged.lock().expect("lock");
    let fault = if handle_ok && !purged {
        f.fault(index, terminal)
    } else {
        f.script.faults.get(&index).copied()
    };
    let mut req = Req {
        at,
        answered: at,
        long_poll: None,
        keep_result,
        fault,
        seen: None,
        terminal: false,
        unknown: false,
    };
    match fault {
        Some(Fault::Unavailable) => {
            f.push(req);
            return (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response();
        }
        Some(Fault::VersionMismatch) => {
            f.push(req);
            let err = json!({"code": 500, "name": "xDBVersionMismatch", "message": "retry"});
            return axum::Json(json!({"id": id, "error": err})).into_response();
        }
        _ => {}
    }
    if !handle_ok || purged {
        req.unknown = true;
        f.push(req);
        let err = json!({"code": 500, "name": "xAsyncHandleDoesNotExist", "message": "gone"});
        return axum::Json(json!({"id": id, "error": err})).into_response();
    }
    if terminal && keep_result != Some(true) {
        *f.purged.lock().expect("lock") = true;
    }
    if fault == Some(Fault::Reset) {
        f.push(req);
        return reset_response();
    }
    req.seen = Some(format!("{}/{}", result["status"], result["details"]));
    req.terminal = terminal;
    f.push(req);
    axum::Json(json!({"id": id, "result": result})).into_response()
}

fn aiqum_job(s: &Script, ms: u64) -> Value {
    let (state, status) = s.aiqum_at(ms);
    json!({"key": KEY, "name": "scripted", "state": state, "status": status,
        "submit_time": "2026-01-01T00:00:00Z",
        "last_modified": s.aiqum_changed_at(ms).to_string(),
        "_links": {"self": {"href": format!("/api/management-server/jobs/{KEY}")}}})
}

async fn aiqum(
    State(f): State<Arc<Fake>>,
    Path(key): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let at = f.t0.elapsed();
    let index = f.log.lock().expect("log lock").len();
    let long_poll = q.get("poll_timeout").and_then(|s| s.parse::<u64>().ok());
    let last_modified = q.get("last_modified").and_then(|s| s.parse::<u64>().ok());
    if key != KEY {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": {"message": "no job"}})),
        )
            .into_response();
    }
    if let Some(fault) = f.script.faults.get(&index).copied() {
        return aiqum_fault(&f, at, long_poll, fault);
    }
    if let (Some(secs), true) = (long_poll, f.script.long_poll) {
        let until = f.t0 + at + Duration::from_secs(secs);
        loop {
            let ms = f.now_ms();
            let terminal = f.script.aiqum_at(ms).0 != "running";
            let news = last_modified.is_some_and(|lm| f.script.aiqum_changed_at(ms) > lm);
            if terminal || news || Instant::now() >= until {
                break;
            }
            let next = f
                .script
                .next_boundary(ms)
                .map_or(until, |b| (f.t0 + Duration::from_millis(b)).min(until));
            tokio::time::sleep_until(next).await;
        }
    }
    let ms = f.now_ms();
    let job = aiqum_job(&f.script, ms);
    let terminal = job["state"] != "running";
    if terminal && let Some(fault) = f.fault(usize::MAX, true) {
        return aiqum_fault(&f, at, long_poll, fault);
    }
    f.push(Req {
        at,
        answered: f.t0.elapsed(),
        long_poll,
        keep_result: None,
        fault: None,
        seen: Some(format!("{}/{}", job["state"], job["status"])),
        terminal,
        unknown: false,
    });
    axum::Json(job).into_response()
}

fn aiqum_fault(f: &Fake, at: Duration, long_poll: Option<u64>, fault: Fault) -> Response {
    f.push(Req {
        at,
        answered: f.t0.elapsed(),
        long_poll,
        keep_result: None,
        fault: Some(fault),
        seen: None,
        terminal: false,
        unknown: false,
    });
    match fault {
        Fault::Reset => reset_response(),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response(),
    }
}
