//! The AIQUM polling loop: `GET /management-server/jobs/{key}` until the job is terminal
//! (register U1/U2), the deadline or a failure, standard or long polling (register U3) with the
//! fallback described in [`super`]. Owns no judging and no interval arithmetic.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::backoff::Schedule;
use super::{
    Answer, End, Event, Next, Outcome, Policy, REQUEST_CAP, aiqum_terminal, classify_aiqum,
    take_job,
};
use crate::transport::aiqum::{Endpoint, Request, request};
use crate::transport::{Client, Query};

/// What decides "unchanged" for AIQUM: `state` and `status`.
fn state_key(job: &Value) -> Value {
    json!([job.get("state"), job.get("status")])
}

/// The `poll_timeout` of a long poll, in whole seconds of target time (1..=120, register U3), that
/// still ends before the deadline, and how long that is in real time (`None`: less than one
/// target second left). `scale`: how many times faster than real time the target's clock runs.
fn long_poll_secs(asked: Duration, remaining: Duration, scale: f64) -> Option<(u64, Duration)> {
    let target_secs = |d: Duration| (d.as_secs_f64() * scale).floor() as u64;
    let secs = target_secs(asked).clamp(1, 120).min(target_secs(remaining));
    (secs >= 1).then(|| (secs, Duration::from_secs_f64(secs as f64 / scale)))
}

/// What a long poll's answer (a running job) says about the target.
#[derive(Debug, Clone, Copy, PartialEq)]
enum LongAnswer {
    /// It came early with nothing new: the target does not long-poll; fall back to standard
    /// polling (the schedule goes on: seen from the server these were plain polls).
    Lacking,
    /// The first answer came at once (no `last_modified` could be sent; a Deploy-style server
    /// answers at once then): ask again with the job's `last_modified` after the minimum interval.
    AskWithLastModified,
    /// A long poll answered (change or timeout): ask again at once, but not sooner than the
    /// minimum interval after this poll was sent.
    Answered,
}

/// How long the loop waits before the next request.
#[derive(Debug, Clone, Copy)]
enum After {
    /// The standard schedule's next interval (growing while the job is `changed: false`).
    Wait {
        /// Whether the job changed since the previous answer.
        changed: bool,
    },
    /// A long poll answered: again at once, but not sooner than the minimum interval after the
    /// poll was sent (a target that answered early with a change may not long-poll at all).
    MinSince(Instant),
}

/// Reads a long poll's answer that took `waited` of a `real` timeout. Early with nothing new:
/// the target did not wait. The first answer is always "new"; it counts as early-for-nothing only
/// when no `last_modified` can be sent next time (otherwise the next long poll decides).
fn long_answer(
    waited: Duration,
    real: Duration,
    first: bool,
    changed: bool,
    can_resume: bool,
) -> LongAnswer {
    let early = waited < real.mul_f64(0.9);
    let lacking = early && if first { !can_resume } else { !changed };
    if lacking {
        LongAnswer::Lacking
    } else if early && first {
        LongAnswer::AskWithLastModified
    } else {
        LongAnswer::Answered
    }
}

/// The query of the next request: a long poll when one fits before the deadline (told to the
/// watcher as it is sent), with the job's `last_modified` once known; else a plain GET.
fn next_query(
    long: Option<Duration>,
    sched: &Schedule,
    last_modified: Option<&str>,
    watch: &mut (dyn FnMut(Event<'_>) + Send),
) -> (Query, Option<(u64, Duration)>) {
    let mut query = Query::new();
    // With less than a whole second left no long poll fits: the poll is a plain GET, and the
    // standard schedule (which never polls past the deadline) takes the rest.
    let fits = long.and_then(|t| long_poll_secs(t, sched.remaining(), sched.policy.time_scale));
    if let Some((secs, real)) = fits {
        query.insert("poll_timeout".into(), secs.to_string());
        if let Some(lm) = last_modified {
            query.insert("last_modified".into(), lm.to_string());
        }
        watch(Event::Next(Next::LongPoll {
            poll_timeout: secs,
            real,
        }));
    }
    (query, fits)
}

/// What the loop knows between requests.
struct Seen {
    /// The long-poll timeout still offered (`None` once the target is seen lacking it).
    long: Option<Duration>,
    /// The previous answer's `state_key`.
    prev: Option<Value>,
    /// The job's latest `last_modified`, sent with the next long poll.
    last_modified: Option<String>,
}

impl Seen {
    /// Reads a job's answer to the request sent at `sent` (`lp`: the long poll it was, if one):
    /// `None` when the job is terminal, else how long to wait before the next request.
    fn job(
        &mut self,
        job: &Value,
        lp: Option<(u64, Duration)>,
        sent: Instant,
        sched: &mut Schedule,
        notes: &mut Vec<String>,
    ) -> Option<After> {
        let k = state_key(job);
        let changed = self.prev.as_ref() != Some(&k);
        let first = self.prev.is_none();
        self.prev = Some(k);
        if let Some(lm) = job.get("last_modified").and_then(Value::as_str) {
            self.last_modified = Some(lm.to_string());
        }
        if aiqum_terminal(job) == Some(true) {
            return None;
        }
        let Some((secs, real)) = lp else {
            return Some(After::Wait { changed });
        };
        let waited = sent.elapsed();
        Some(
            match long_answer(waited, real, first, changed, self.last_modified.is_some()) {
                LongAnswer::Lacking => {
                    self.long = None;
                    notes.push(format!(
                        "long poll (poll_timeout={secs}) answered after {} ms with an unchanged \
                         running job: the target lacks long polling; fell back to standard polling",
                        waited.as_millis()
                    ));
                    After::Wait { changed }
                }
                LongAnswer::AskWithLastModified => {
                    sched.reset();
                    After::Wait { changed }
                }
                LongAnswer::Answered => After::MinSince(sent),
            },
        )
    }
}

/// Polls one job; see the module docs of [`super`] for the rules.
pub(super) async fn run(
    client: &Client,
    ep: &Endpoint,
    key: &str,
    policy: &Policy,
    watch: &mut (dyn FnMut(Event<'_>) + Send),
) -> Outcome {
    let mut sched = Schedule::start(policy);
    let mut out = Outcome::new();
    let path = format!("/management-server/jobs/{key}");
    let mut seen = Seen {
        long: policy.long_poll,
        prev: None,
        last_modified: None,
    };
    loop {
        if out.requests >= REQUEST_CAP {
            out.end = End::Failed {
                reason: format!("finish within {REQUEST_CAP} requests"),
            };
            break;
        }
        let (query, lp) = next_query(seen.long, &sched, seen.last_modified.as_deref(), watch);
        out.long_polled |= lp.is_some();
        let sent = Instant::now();
        let req = Request {
            query,
            extra_wait: lp.map_or(Duration::ZERO, |(_, real)| real),
            ..Request::get(&path)
        };
        let ex = request(client, ep, req).await;
        out.requests += 1;
        watch(Event::Observed(&ex));
        let after = match classify_aiqum(&ex) {
            Answer::Transient => {
                out.transient += 1;
                After::Wait { changed: false }
            }
            Answer::Failed(reason) => {
                out.end = End::Failed { reason };
                break;
            }
            Answer::Job(at) => {
                let job = take_job(ex, at);
                let after = seen.job(&job, lp, sent, &mut sched, &mut out.notes);
                out.last = Some(job);
                match after {
                    Some(after) => after,
                    None => {
                        out.end = End::Terminal;
                        break;
                    }
                }
            }
        };
        let announce = |d| watch(Event::Next(Next::In(d)));
        let in_time = match after {
            After::Wait { changed } => sched.wait(changed, announce).await,
            // The standard backoff starts afresh for transient faults.
            After::MinSince(sent) => sched.wait_min_since(sent, announce).await,
        };
        if !in_time {
            out.end = End::Deadline;
            break;
        }
    }
    out.elapsed = sched.elapsed();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_poll_seconds_fit_the_deadline() {
        let s = Duration::from_secs;
        assert_eq!(long_poll_secs(s(30), s(100), 1.0), Some((30, s(30))));
        assert_eq!(long_poll_secs(s(30), s(12), 1.0), Some((12, s(12))));
        assert_eq!(
            long_poll_secs(Duration::from_millis(300), s(5), 1.0),
            Some((1, s(1)))
        );
        assert_eq!(long_poll_secs(s(30), Duration::from_millis(999), 1.0), None);
        assert_eq!(
            long_poll_secs(s(500), s(1000), 1.0),
            Some((120, s(120))),
            "U3: at most 120 s"
        );
        // A mock 50 times faster than real time: 0.6 s real is 30 target seconds.
        let ms = Duration::from_millis;
        assert_eq!(long_poll_secs(ms(600), s(10), 50.0), Some((30, ms(600))));
        assert_eq!(long_poll_secs(ms(600), ms(10), 50.0), None);
    }
}
