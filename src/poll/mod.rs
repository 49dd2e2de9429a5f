//! The reference poller, public API: poll an Element async handle or an AIQUM job until it is
//! terminal or the deadline passes, with standard polling (minimum interval, capped exponential
//! backoff with jitter while nothing changes) or AIQUM long polling (register U3), retrying
//! transient faults (CL-TRANSIENT) within the deadline. Every exchange is handed to an observer
//! before the poller looks at it, so callers check every observation, not just the last.
//!
//! This file owns the types, the classification of answers (job, transient fault, failure) and
//! the entry points; the schedule lives in [`backoff`], the loops in `element_loop` and
//! `aiqum_loop`. The poller never judges conformance (that is `check`'s job): it only decides
//! whether to poll again.
//!
//! Decisions, stated once:
//! - The first poll is immediate; see [`backoff`] for the intervals. Intervals are measured on
//!   `tokio::time`, so on a paused runtime the whole poll runs in virtual time.
//! - "Unchanged" compares the state-relevant content only: Element `status` + `details`, AIQUM
//!   `state` + `status`. A transient fault counts as unchanged (the backoff keeps growing).
//! - Deadline (CL-DEADLINE): an interval is never cut short. When the next poll would start after
//!   the deadline the poller returns [`End::Deadline`] at once with the last state seen. A request
//!   already in flight is not cancelled (the client's request timeout bounds it).
//! - A value nothing says will ever turn terminal ends polling at once with [`End::Failed`]
//!   (the caller judges it; waiting for the deadline would only delay that): an Element
//!   `result.status` other than `running`/`complete`, an AIQUM `state` of [`unknown_state`]
//!   (register U11).
//! - Terminal (CL-STOP): Element `result.status == "complete"`; AIQUM [`aiqum_terminal`]. The
//!   poller stops at the first terminal answer, except that [`Keep::KeepThenRelease`] then sends
//!   exactly one GetAsyncResult without `keepResult` (sent at once, not retried, not
//!   interpreted) and never touches the handle again (CL-KEEP).
//! - Transient (CL-TRANSIENT): [`crate::contract::jobs::transient`], the one definition (a broken
//!   connection, a 5xx that carries no answer the contract reads, Element method errors named in
//!   [`ELEMENT_TRANSIENT`]). Anything else that is not a job ends polling with [`End::Failed`].
//! - AIQUM long polling (`policy.long_poll = Some(t)`): `GET jobs/{key}?poll_timeout=<s>` with
//!   `s = min(t, time left)` in whole seconds (>= 1; with less than 1 s left no long poll fits,
//!   and the poller goes on with plain GETs on the standard schedule until the deadline),
//!   plus `last_modified=<job.last_modified>` once the job has shown a string `last_modified`.
//!   After each answer it polls again at once unless terminal, but never sooner than
//!   `min_interval` after the previous poll was sent (an early answer with a change may come from
//!   a target that does not long-poll at all; CL-NO-HAMMER holds either way). A long poll that answers before
//!   90 % of its timeout with a non-terminal job that is unchanged means the target lacks the
//!   capability: the poller falls back to standard polling for the rest of the job and says so
//!   in [`Outcome::notes`]. The first long poll carries no `last_modified`; if it answers early,
//!   the poller waits `min_interval` and asks again with the job's `last_modified` (or, when the
//!   job has none, falls back at once). After a transient fault it sleeps the standard backoff
//!   before the next long poll.
//! - Every loop is bounded by the deadline and by [`REQUEST_CAP`] requests.
//! - Watching ([`element_watched`], [`aiqum_watched`]): besides every exchange, the watcher is
//!   told when the poller will look again ([`Next`]): the interval just before each sleep, and
//!   each long poll just before it is sent. Telling changes nothing in the schedule.
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//! use jobconform::poll::{self, Keep, Policy};
//! use jobconform::transport::{Client, Limits, TlsConfig, element};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::new(None, Limits::default(), &TlsConfig::default())?;
//! let ep = element::Endpoint::parse("https://10.0.0.1/json-rpc/12.5")?;
//! let policy = Policy { deadline: Duration::from_secs(120), ..Policy::default() };
//! let mut seen = 0;
//! let out = poll::element(&client, &ep, &serde_json::json!(42), &policy, Keep::KeepThenRelease,
//!     &mut |_exchange| seen += 1).await;
//! println!("{:?} after {} requests ({seen} observed): {:?}", out.end, out.requests, out.last);
//! # Ok(()) }
//! ```

mod aiqum_loop;
pub mod backoff;
mod element_loop;

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::contract::jobs;
pub use crate::contract::jobs::{
    AIQUM_LIFECYCLE, AIQUM_OUTCOMES, ELEMENT_TRANSIENT, aiqum_terminal, aiqum_unreadable,
    is_lifecycle, unknown_state,
};
use crate::transport::{Body, Client, Exchange, ResponseRecord, aiqum, element};

/// How to poll. All durations are real time (the runner divides target time by the mock's scale).
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Minimum (and first) interval between polls of one job (CL-NO-HAMMER).
    pub min_interval: Duration,
    /// Cap of the backoff.
    pub max_interval: Duration,
    /// Multiplier applied while the job is unchanged (>= 1.0).
    pub backoff: f64,
    /// Random extra fraction of the interval in `[0, jitter]` (never shortens it).
    pub jitter: f64,
    /// Give up after this long (CL-DEADLINE).
    pub deadline: Duration,
    /// AIQUM: use long polling with this `poll_timeout` per request when the target offers it.
    pub long_poll: Option<Duration>,
    /// How many times faster than real time the target's clock runs (the mock's `--time-scale`;
    /// 1.0 for real servers). Long-poll timeouts go on the wire in the target's seconds.
    pub time_scale: f64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min_interval: Duration::from_millis(500),
            max_interval: Duration::from_secs(10),
            backoff: 1.5,
            jitter: 0.1,
            deadline: Duration::from_secs(600),
            long_poll: None,
            time_scale: 1.0,
        }
    }
}

/// Element keepResult policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Keep {
    /// Poll with `keepResult: true` (the result can never be lost); do not release.
    #[default]
    Keep,
    /// Poll with `keepResult: true`, then release the handle with one final call without it.
    KeepThenRelease,
    /// Poll without `keepResult` (how careless clients poll; the complete answer purges).
    Absent,
}

/// Why polling stopped.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum End {
    /// The job was seen terminal.
    Terminal,
    /// The deadline passed first; `last` in the outcome is the last state seen.
    Deadline,
    /// A non-transient failure ended polling (unknown handle, 404, a body that is not a job).
    Failed {
        /// What went wrong.
        reason: String,
    },
}

/// What a poll saw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// Why it stopped.
    pub end: End,
    /// The last job seen: the GetAsyncResult `result` object (Element) or the job object (AIQUM).
    pub last: Option<Value>,
    /// Requests sent (including retries and the release call).
    pub requests: u32,
    /// Transient faults retried.
    pub transient: u32,
    /// Time from the first poll to the terminal observation (or to giving up).
    pub elapsed: Duration,
    /// Whether long polling was used.
    pub long_polled: bool,
    /// Remarks about how polling went (e.g. a fallback from long to standard polling).
    pub notes: Vec<String>,
}

/// When a poller will look at the job again, told to a watcher (e.g. the progress line).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Next {
    /// The next poll is sent after this interval (the poller is sleeping it now).
    In(Duration),
    /// A long poll is being sent now: the target may hold it up to `poll_timeout` seconds of its
    /// own clock, `real` in real time.
    LongPoll {
        /// The `poll_timeout` sent, in the target's seconds.
        poll_timeout: u64,
        /// How long that is in real time (`poll_timeout` divided by the policy's time scale).
        real: Duration,
    },
}

/// One thing a watched poll reports, in the order it happens.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// An exchange, handed over before the poller looks at it.
    Observed(&'a Exchange),
    /// When the poller will look again.
    Next(Next),
}

/// Most requests one poll sends, whatever the policy (a second bound besides the deadline).
pub const REQUEST_CAP: u32 = 100_000;

/// How the poller reads one exchange.
#[derive(Debug, Clone, PartialEq)]
enum Answer {
    /// A job, at `JobAt` in the exchange's body ([`take_job`] moves it out).
    Job(JobAt),
    /// A transient fault (CL-TRANSIENT): retry within the deadline.
    Transient,
    /// A failure that ends polling.
    Failed(String),
}

/// Where an answer's job is in the body.
#[derive(Debug, Clone, Copy, PartialEq)]
enum JobAt {
    /// The `result` member (Element GetAsyncResult).
    Result,
    /// The whole body (an AIQUM job object).
    Body,
}

/// The job an exchange read as [`Answer::Job`] holds, moved out of the exchange (which the
/// poller is done with once the watcher has seen it), instead of cloned.
fn take_job(ex: Exchange, at: JobAt) -> Value {
    let body = match ex.response {
        Ok(ResponseRecord {
            body: Body::Json(v),
            ..
        }) => v,
        _ => Value::Null,
    };
    match (at, body) {
        (JobAt::Body, body) => body,
        (JobAt::Result, Value::Object(mut o)) => o.remove("result").unwrap_or(Value::Null),
        (JobAt::Result, _) => Value::Null,
    }
}

impl Outcome {
    fn new() -> Outcome {
        Outcome {
            end: End::Deadline,
            last: None,
            requests: 0,
            transient: 0,
            elapsed: Duration::ZERO,
            long_polled: false,
            notes: Vec::new(),
        }
    }
}

/// A transient fault, or a transport failure that ends polling; `None` for an answer.
fn fault(ex: &Exchange) -> Option<Answer> {
    if jobs::transient(ex).is_some() {
        return Some(Answer::Transient);
    }
    match &ex.response {
        Ok(_) => None,
        Err(e) => Some(Answer::Failed(format!("get an answer: {e}"))),
    }
}

/// Reads a GetAsyncResult exchange.
fn classify_element(ex: &Exchange) -> Answer {
    if let Some(a) = fault(ex) {
        return a;
    }
    let status = ex.status().unwrap_or(0);
    let body = ex.json();
    if let Some(err) = body.and_then(|b| b.get("error")) {
        let name = err.get("name").and_then(Value::as_str).unwrap_or("");
        let msg = err.get("message").and_then(Value::as_str).unwrap_or("");
        return Answer::Failed(format!("poll the handle: method error {name:?}: {msg}"));
    }
    if !(200..300).contains(&status) {
        return Answer::Failed(format!("poll the handle: HTTP {status}"));
    }
    match body.and_then(|b| b.get("result")) {
        Some(r) => match r.get("status").and_then(Value::as_str) {
            Some("running" | "complete") => Answer::Job(JobAt::Result),
            // Fail fast: a status the contract does not define cannot say whether the job ended,
            // so waiting for the deadline would learn nothing more.
            Some(other) => Answer::Failed(format!(
                "poll the handle: status {other:?} is neither \"running\" nor \"complete\": \
                 whether the job ended cannot be read"
            )),
            None => {
                Answer::Failed("poll the handle: the answer is not a GetAsyncResult result".into())
            }
        },
        None => Answer::Failed("poll the handle: the answer is not a GetAsyncResult result".into()),
    }
}

/// Reads an AIQUM job GET exchange. A 5xx whose body is a job that says it ended is read as that
/// job ([`jobs::transient`]): retrying it until the deadline would learn nothing more.
fn classify_aiqum(ex: &Exchange) -> Answer {
    if let Some(a) = fault(ex) {
        return a;
    }
    let status = ex.status().unwrap_or(0);
    let ended = ex
        .json()
        .filter(|j| aiqum_terminal(j) == Some(true) && aiqum_unreadable(j).is_none());
    if let (true, Some(_)) = ((500..600).contains(&status), ended) {
        return Answer::Job(JobAt::Body);
    }
    if !(200..300).contains(&status) {
        let msg = ex
            .json()
            .and_then(|b| b.pointer("/error/message"))
            .and_then(Value::as_str)
            .unwrap_or("");
        return Answer::Failed(
            format!("read the job: HTTP {status} {msg}")
                .trim_end()
                .into(),
        );
    }
    match ex.json() {
        Some(job) if aiqum_terminal(job).is_some() => {
            match (aiqum_unreadable(job), unknown_state(job)) {
                // Fail fast: a value outside both dialects cannot say whether the job ended.
                (Some(why), _) => Answer::Failed(format!(
                    "read the job: {why}: whether the job ended cannot be read"
                )),
                (None, Some(state)) => Answer::Failed(format!(
                    "read the job: state {state:?} is neither terminal nor a state a running job \
                     shows (register U11): nothing to wait for"
                )),
                (None, None) => Answer::Job(JobAt::Body),
            }
        }
        _ => Answer::Failed("read the job: the answer is not a job object".into()),
    }
}

/// Polls an Element handle with GetAsyncResult.
pub async fn element(
    client: &Client,
    ep: &element::Endpoint,
    handle: &Value,
    policy: &Policy,
    keep: Keep,
    observe: &mut (dyn FnMut(&Exchange) + Send),
) -> Outcome {
    let mut watch = |e: Event<'_>| {
        if let Event::Observed(ex) = e {
            observe(ex);
        }
    };
    element_loop::run(client, ep, handle, policy, keep, &mut watch).await
}

/// [`fn@element`], telling `watch` every exchange and when the next poll is due.
pub async fn element_watched(
    client: &Client,
    ep: &element::Endpoint,
    handle: &Value,
    policy: &Policy,
    keep: Keep,
    watch: &mut (dyn FnMut(Event<'_>) + Send),
) -> Outcome {
    element_loop::run(client, ep, handle, policy, keep, watch).await
}

/// Polls an AIQUM job by key.
pub async fn aiqum(
    client: &Client,
    ep: &aiqum::Endpoint,
    key: &str,
    policy: &Policy,
    observe: &mut (dyn FnMut(&Exchange) + Send),
) -> Outcome {
    let mut watch = |e: Event<'_>| {
        if let Event::Observed(ex) = e {
            observe(ex);
        }
    };
    aiqum_loop::run(client, ep, key, policy, &mut watch).await
}

/// [`fn@aiqum`], telling `watch` every exchange, each long poll as it is sent, and when the next
/// poll is due.
pub async fn aiqum_watched(
    client: &Client,
    ep: &aiqum::Endpoint,
    key: &str,
    policy: &Policy,
    watch: &mut (dyn FnMut(Event<'_>) + Send),
) -> Outcome {
    aiqum_loop::run(client, ep, key, policy, watch).await
}

#[cfg(test)]
mod tests;
