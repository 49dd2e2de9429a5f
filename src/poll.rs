//! The reference poller, public API: poll an Element async handle or an AIQUM job until it is
//! terminal or the deadline passes, with standard polling (minimum interval, capped exponential
//! backoff with jitter while nothing changes) or AIQUM long polling (register U3), retrying
//! transient faults (CL-TRANSIENT) within the deadline. Every exchange is handed to an observer
//! before the poller looks at it, so callers check every observation, not just the last.
//!
//! (BODY TO BE WRITTEN by the poll work; the types and signatures below are the agreed API.)

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::transport::{Client, Exchange, aiqum, element};

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
    /// Time from the first poll to the terminal observation.
    pub elapsed: Duration,
    /// Whether long polling was used.
    pub long_polled: bool,
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
    let _ = (client, ep, handle, policy, keep, observe);
    todo!("poll work")
}

/// Polls an AIQUM job by key.
pub async fn aiqum(
    client: &Client,
    ep: &aiqum::Endpoint,
    key: &str,
    policy: &Policy,
    observe: &mut (dyn FnMut(&Exchange) + Send),
) -> Outcome {
    let _ = (client, ep, key, policy, observe);
    todo!("poll work")
}

/// Register U1/U2: whether an AIQUM job object is terminal. Split dialect (a `status` member
/// exists): `state` is `completed` or `aborted`. Literal dialect: `state` is `NORMAL`, `ERROR` or
/// `PARTIAL_FAILURES`. Case-insensitive; WARNING alone is never terminal. `None` if the object has
/// no string `state`.
pub fn aiqum_terminal(job: &Value) -> Option<bool> {
    let state = job.get("state")?.as_str()?.to_ascii_lowercase();
    Some(if job.get("status").is_some() {
        matches!(state.as_str(), "completed" | "aborted")
    } else {
        matches!(state.as_str(), "normal" | "error" | "partial_failures")
    })
}
