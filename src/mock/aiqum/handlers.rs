//! AIQUM job routes: `GET /management-server/jobs[/{key}]` (plain and long-polled reads, the
//! list), 405 for every other method there (`jobs-writable` lets DELETE remove a job), and the
//! control route that creates scripted jobs. Long polling (register U3): `poll_timeout` in whole
//! seconds 1..=120 of target time (else 400), optional `last_modified` (ISO 8601, else 400).
//! Without `last_modified` the answer comes when the job is terminal or the timeout passes (the
//! doc: "when the job state moves to NORMAL, ERROR, or PARTIAL_FAILURES"; UM-POLL-LONG). With
//! it (ONTAP Select Deploy's semantics) the answer also comes at once if the job changed after
//! `last_modified`, or when its (state, status) changes during the wait. Job objects carry
//! `last_modified` (the time of the job's last change) for the client to pass back. Waiting sleeps on the clock to the next
//! timeline boundary; no lock is held across an `.await`. Without `config.long_poll` both
//! parameters are ignored.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State as AxState};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::super::script::JobScript;
use super::super::{State, auth};
use super::invalid::LongPollError;
use super::jobs::{self, Render, Segment};
use super::reply::{self, Note};
use super::{Origin, list};
use crate::mock::Deviation;

/// Journal `op` of a plain job read.
pub const OP_GET_JOB: &str = "GET job";
/// Journal `op` of a long-polled job read.
pub const OP_LONG_POLL: &str = "GET job long-poll";
/// Journal `op` of a list read.
pub const OP_LIST: &str = "GET jobs";
/// Longest `poll_timeout`, seconds.
pub const MAX_POLL_TIMEOUT_S: u64 = 120;

/// The job routes under `/api` and `/api/v2`, plus the scripted-job control route.
pub fn routes() -> Router<Arc<State>> {
    let mut r = Router::new();
    for p in ["/api", "/api/v2"] {
        r = r
            .route(
                &format!("{p}/management-server/jobs"),
                get(list_jobs).fallback(not_allowed),
            )
            .route(
                &format!("{p}/management-server/jobs/{{key}}"),
                get(get_job).delete(delete_job).fallback(not_allowed),
            );
    }
    // Anything else under /api (and /api/v2) is a JSON 404, never an empty body.
    r.route("/api/{*rest}", axum::routing::any(unknown_path))
}

async fn unknown_path(AxState(st): AxState<Arc<State>>, req: Request) -> Response {
    if let Some(r) = reply::check_auth(&st.config, req.headers()) {
        return r;
    }
    let m = format!("no such resource: {}", req.uri().path());
    reply::error(&st.config, StatusCode::NOT_FOUND, "404", &m)
}

/// The decoded job key of a `.../management-server/jobs/{key}` path; `None` when
/// `keys-need-escaping` refuses an unescaped `:`.
fn key_of(st: &State, path: &str) -> Option<String> {
    let raw = path.rsplit_once("/management-server/jobs/")?.1;
    if st.config.deviates(Deviation::KeysNeedEscaping) && raw.contains(':') {
        return None;
    }
    reply::decode_path(raw)
}

fn not_found(st: &State) -> Response {
    if st.config.deviates(Deviation::UnknownKey500) {
        return reply::error(
            &st.config,
            StatusCode::INTERNAL_SERVER_ERROR,
            "500",
            "internal error while looking up the job",
        );
    }
    reply::error(&st.config, StatusCode::NOT_FOUND, "404", "job not found")
}

fn bad_request(st: &State, message: &str) -> Response {
    reply::error(&st.config, StatusCode::BAD_REQUEST, "400", message)
}

/// The next scripted transient fault of a job, if any is left (counted as served).
fn take_fault(st: &State, key: &str) -> Option<crate::mock::script::Fault> {
    let mut s = st.aiqum.lock().unwrap_or_else(|p| p.into_inner());
    s.take_fault(key)
}

/// Where a job is on its timeline at one instant.
struct Look {
    seg: Segment,
    next: Option<i64>,
    changed: i64,
}

fn look(st: &State, key: &str, now: i64) -> Option<Look> {
    let mut s = st.aiqum.lock().unwrap_or_else(|p| p.into_inner());
    s.settle(now);
    let job = s.job(key)?;
    if !jobs::readable(job, &st.config, now) {
        return None;
    }
    let seg = jobs::segment_at(job, &st.config, now)?;
    Some(Look {
        next: jobs::next_change(job, &seg),
        changed: jobs::changed_at(job, &seg),
        seg,
    })
}

/// Renders the read that is answered (counting it for `terminal-flaps`).
fn final_read(st: &State, key: &str, prefix: &str, now: i64) -> Option<(Segment, Value)> {
    let mut s = st.aiqum.lock().unwrap_or_else(|p| p.into_inner());
    s.settle(now);
    let wall0 = s.wall0();
    let job = s.job(key)?;
    if !jobs::readable(job, &st.config, now) {
        return None;
    }
    let seg = jobs::segment_at(job, &st.config, now)?;
    let mut flap = false;
    if seg.terminal {
        let reads = s.count_terminal_read(key)?;
        flap = st.config.deviates(Deviation::TerminalFlaps) && reads % 2 == 0;
    }
    let job = s.job(key)?;
    let render = Render {
        config: &st.config,
        prefix,
        wall0,
        flap,
    };
    let body = jobs::render(job, &seg, &render);
    Some((seg, body))
}

/// How a read waits.
struct Wait {
    /// Answer at the latest at this target ms.
    deadline: i64,
    /// The full timeout (for `long-poll-overstays`).
    full: i64,
    /// Answer at once if the job changed after this target ms.
    last_modified: Option<i64>,
    /// `long-poll-overstays`: a job that turns terminal mid-wait is answered only at `full`.
    overstay: bool,
    /// Answer when the job changes during the wait. Only with `last_modified` (the Deploy-style
    /// "changed since" long poll) or for `standard-poll-blocks`: a plain long poll answers early
    /// only when the job is terminal (UM-POLL-LONG, the doc's "when the job state moves to
    /// NORMAL, ERROR, or PARTIAL_FAILURES").
    wake_on_change: bool,
}

/// Waits as a long poll does; `None` if the job is (or becomes) unknown.
async fn wait(st: &State, key: &str, w: &Wait) -> Option<()> {
    // Segments are merged by what the dialect serves, so a new segment start is a visible change.
    let mut baseline: Option<i64> = None;
    loop {
        let now = st.clock.now_ms() as i64;
        let l = look(st, key, now)?;
        let changed = baseline.is_some_and(|b| b != l.changed);
        if l.seg.terminal {
            if changed && w.overstay && now < w.full {
                st.clock.sleep_until_ms(w.full as u64).await;
                continue;
            }
            return Some(());
        }
        let fresh = w.last_modified.is_some_and(|lm| l.changed > lm);
        if (changed && w.wake_on_change) || fresh || now >= w.deadline {
            return Some(());
        }
        if baseline.is_none() {
            baseline = Some(l.changed);
        }
        let wake = l
            .next
            .map_or(w.deadline, |n| n.min(w.deadline))
            .max(now + 1);
        st.clock.sleep_until_ms(wake as u64).await;
    }
}

fn parse_long_poll(st: &State, parts: &Parts, t0: i64) -> Result<Option<Wait>, LongPollError> {
    let pairs = reply::parse_query(parts.uri.query());
    let get = |name: &str| pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v);
    if !st.config.long_poll {
        return Ok(None);
    }
    let Some(t) = get("poll_timeout") else {
        return Ok(None);
    };
    let secs: u64 = t
        .trim()
        .parse()
        .ok()
        .filter(|s| (1..=MAX_POLL_TIMEOUT_S).contains(s))
        .ok_or_else(|| LongPollError::PollTimeout(t.clone()))?;
    let last_modified = match get("last_modified") {
        None => None,
        Some(v) => {
            let ts: jiff::Timestamp = v
                .trim()
                .parse()
                .map_err(|_| LongPollError::LastModified(v.clone()))?;
            let wall0 = st.aiqum.lock().unwrap_or_else(|p| p.into_inner()).wall0();
            Some(ts.duration_since(wall0).as_millis() as i64)
        }
    };
    let full = t0 + (secs * 1000) as i64;
    let deadline = if st.config.deviates(Deviation::LongPollEarly) {
        t0 + (secs * 500) as i64
    } else {
        full
    };
    Ok(Some(Wait {
        deadline,
        full,
        wake_on_change: last_modified.is_some(),
        last_modified,
        overstay: st.config.deviates(Deviation::LongPollOverstays),
    }))
}

async fn get_job(AxState(st): AxState<Arc<State>>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    if let Some(r) = reply::check_auth(&st.config, &parts.headers) {
        return r;
    }
    let t0 = st.clock.now_ms();
    let prefix = reply::prefix_of(parts.uri.path());
    let peer = reply::peer_of(&parts.extensions);
    let key = key_of(&st, parts.uri.path());
    let long = match parse_long_poll(&st, &parts, t0 as i64) {
        Ok(l) => l,
        Err(e) => return bad_request(&st, &e.to_string()),
    };
    let op = if long.is_some() {
        OP_LONG_POLL
    } else {
        OP_GET_JOB
    };
    let mut note = Note {
        op: op.into(),
        job: key.clone(),
        ..Note::default()
    };
    if let Some(fault) = key.as_deref().and_then(|k| take_fault(&st, k)) {
        let status =
            StatusCode::from_u16(fault.aiqum_status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let response = reply::error(
            &st.config,
            status,
            &fault.aiqum_status().to_string(),
            "transient fault scripted for this job; retry",
        );
        note.observed = Some(format!("fault {}", fault.aiqum_status()));
        note.http_status = response.status().as_u16();
        reply::journal(&st, &parts.headers, peer, t0, note);
        return response;
    }
    let found = match &key {
        None => None,
        Some(key) => {
            let waited = match (&long, st.config.deviates(Deviation::StandardPollBlocks)) {
                (Some(w), _) => wait(&st, key, w).await,
                (None, true) => {
                    let full = t0 as i64 + (MAX_POLL_TIMEOUT_S * 1000) as i64;
                    let w = Wait {
                        deadline: full,
                        full,
                        last_modified: None,
                        overstay: false,
                        wake_on_change: true,
                    };
                    wait(&st, key, &w).await
                }
                (None, false) => Some(()),
            };
            match waited {
                Some(()) => final_read(&st, key, prefix, st.clock.now_ms() as i64),
                None => None,
            }
        }
    };
    let response = match found {
        None => not_found(&st),
        Some((seg, body)) => {
            note.observed = body.get("state").and_then(Value::as_str).map(|st| {
                match body.get("status").and_then(Value::as_str) {
                    Some(status) => format!("{st}/{status}"),
                    None => st.to_string(),
                }
            });
            note.terminal = jobs::shows_terminal(&body);
            if jobs::failed_500(&seg, &st.config) {
                let mut b = body;
                b["error"] = json!({"message": "the job failed", "code": "500"});
                reply::json_answer(&st.config, StatusCode::INTERNAL_SERVER_ERROR, &b, true)
            } else {
                reply::json_answer(&st.config, StatusCode::OK, &body, true)
            }
        }
    };
    note.http_status = response.status().as_u16();
    reply::journal(&st, &parts.headers, peer, t0, note);
    response
}

async fn list_jobs(AxState(st): AxState<Arc<State>>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    if let Some(r) = reply::check_auth(&st.config, &parts.headers) {
        return r;
    }
    let t0 = st.clock.now_ms();
    let path = parts.uri.path();
    let prefix = reply::prefix_of(path);
    let self_href = match parts.uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    let pairs = reply::parse_query(parts.uri.query());
    let answer = {
        let mut s = st.aiqum.lock().unwrap_or_else(|p| p.into_inner());
        s.settle(t0 as i64);
        list::answer_bytes(&mut s, prefix, &self_href, &pairs, t0 as i64)
    };
    let response = match answer {
        Ok(body) => reply::json_bytes_answer(&st.config, StatusCode::OK, body, true),
        Err(list::BadQuery(m)) => bad_request(&st, &m),
    };
    let note = Note {
        op: OP_LIST.into(),
        http_status: response.status().as_u16(),
        ..Note::default()
    };
    reply::journal(
        &st,
        &parts.headers,
        reply::peer_of(&parts.extensions),
        t0,
        note,
    );
    response
}

fn method_not_allowed(st: &State) -> Response {
    let mut r = reply::error(
        &st.config,
        StatusCode::METHOD_NOT_ALLOWED,
        "405",
        "jobs are read-only: only GET is allowed",
    );
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    r
}

async fn not_allowed(AxState(st): AxState<Arc<State>>, req: Request) -> Response {
    if let Some(r) = reply::check_auth(&st.config, req.headers()) {
        return r;
    }
    method_not_allowed(&st)
}

async fn delete_job(AxState(st): AxState<Arc<State>>, req: Request) -> Response {
    if let Some(r) = reply::check_auth(&st.config, req.headers()) {
        return r;
    }
    if !st.config.deviates(Deviation::JobsWritable) {
        return method_not_allowed(&st);
    }
    let Some(key) = key_of(&st, req.uri().path()) else {
        return not_found(&st);
    };
    let removed = st
        .aiqum
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove_job(&key);
    if removed {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found(&st)
    }
}

/// `POST /_jobconform/aiqum/jobs`: a [`JobScript`] body makes a scripted job; 201 `{"key"}`.
/// Always needs Basic auth (whatever the deviations).
pub async fn create_scripted(AxState(st): AxState<Arc<State>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    if !auth::authorized(&parts.headers, &st.config) {
        let body = json!({"error": {"message": "authentication required", "code": "401"}});
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    }
    let bad = |m: String| {
        let body = json!({"error": {"message": m, "code": "400"}});
        (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
    };
    let bytes = match axum::body::to_bytes(body, st.config.max_body).await {
        Ok(b) => b,
        Err(e) => return bad(format!("read the body: {e}")),
    };
    let script: JobScript = match serde_json::from_slice(&bytes) {
        Ok(s) => s,
        Err(e) => return bad(format!("the body is not a job script: {e}")),
    };
    let now = st.clock.now_ms() as i64;
    let name = script
        .name
        .clone()
        .unwrap_or_else(|| "Scripted job".to_string());
    let key = st.aiqum.lock().unwrap_or_else(|p| p.into_inner()).push_job(
        name,
        "Scripted job".into(),
        now,
        script,
        Origin::Scripted,
        None,
    );
    (StatusCode::CREATED, axum::Json(json!({"key": key}))).into_response()
}
