//! The property checkers: each takes one [`Run`] (what a poller returned plus the server-side log
//! in virtual time) and says whether the poller kept one rule, with the evidence when it did not.
//! Pure; no I/O. The bounds are stated and argued on each function.

use std::time::Duration;

use jobconform::poll::{End, Keep, Outcome, Policy};
use serde_json::Value;

use super::fake::{End as ScriptEnd, Req, Script, expected_result};

/// Which API a scenario polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// Element GetAsyncResult.
    Element,
    /// AIQUM job GET.
    Aiqum,
}

/// One generated situation.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The API.
    pub api: Api,
    /// The job and the server's faults.
    pub script: Script,
    /// The poll policy (`long_poll` only for AIQUM).
    pub policy: Policy,
    /// Element keepResult policy.
    pub keep: Keep,
}

/// What a poller did in a scenario.
#[derive(Debug)]
pub struct Run {
    /// The scenario.
    pub sc: Scenario,
    /// What the poller returned.
    pub out: Outcome,
    /// Every request, server-side.
    pub log: Vec<Req>,
    /// When the poller returned, since the server started.
    pub returned: Duration,
    /// Exchanges the observer was given.
    pub observed: u32,
    /// The log as the mock's journal would record it (for the audit).
    pub journal: Vec<jobconform::mock::journal::Entry>,
    /// How far a measured interval may be off (0 for the fake server, which logs exact virtual
    /// instants; 1 ms for the real mock, whose journal holds whole milliseconds computed in f64).
    pub clock_error: Duration,
}

const MS: Duration = Duration::from_millis(1);

impl Scenario {
    /// Seeds this thread's `fastrand` (the poller's jitter) from the scenario, so that a
    /// persisted proptest failure replays with the same jitter draws.
    pub fn seed_jitter(&self) {
        use std::hash::{DefaultHasher, Hash, Hasher};
        let mut h = DefaultHasher::new();
        format!("{self:?}").hash(&mut h);
        fastrand::seed(h.finish());
    }
}

impl Run {
    /// Largest interval the reference schedule can produce: `max * (1 + jitter)`.
    fn cap(&self) -> Duration {
        let p = &self.sc.policy;
        p.max_interval.mul_f64(1.0 + p.jitter)
    }
    fn deadline(&self) -> Duration {
        self.sc.policy.deadline
    }
    fn terminal_at(&self) -> Duration {
        Duration::from_millis(self.sc.script.terminal_ms())
    }
    /// Long polling against a server that offers it.
    fn long_capable(&self) -> bool {
        self.sc.policy.long_poll.is_some() && self.sc.script.long_poll
    }
    fn first_terminal(&self) -> Option<usize> {
        self.log.iter().position(|r| r.terminal)
    }
    /// The release call (KeepThenRelease): the request after the first terminal answer.
    fn is_release(&self, i: usize) -> bool {
        self.sc.keep == Keep::KeepThenRelease && self.first_terminal().is_some_and(|t| i == t + 1)
    }
    /// Requests except the release.
    fn polls(&self) -> usize {
        self.log.len() - usize::from((0..self.log.len()).any(|i| self.is_release(i)))
    }
    fn faults(&self) -> u32 {
        self.log.iter().filter(|r| r.fault.is_some()).count() as u32
    }
    /// Answers whose state-relevant content differs from the previous answer's (first included).
    fn changes(&self) -> u64 {
        let mut prev: Option<&str> = None;
        let mut n = 0;
        for s in self.log.iter().filter_map(|r| r.seen.as_deref()) {
            if prev != Some(s) {
                n += 1;
            }
            prev = Some(s);
        }
        n
    }
    /// Whether the answer to request `i` left the job unchanged for the poller (a fault counts).
    fn unchanged(&self, i: usize) -> bool {
        let Some(s) = self.log[i].seen.as_deref() else {
            return self.log[i].fault.is_some();
        };
        self.log[..i]
            .iter()
            .rev()
            .find_map(|r| r.seen.as_deref())
            .is_some_and(|p| p == s)
    }
    /// The state-relevant content of a job value, in the log's notation.
    fn seen_of(&self, v: &Value) -> String {
        match self.sc.api {
            Api::Element => format!("{}/{}", v["status"], v["details"]),
            Api::Aiqum => format!("{}/{}", v["state"], v["status"]),
        }
    }
}

fn fail(run: &Run, what: String) -> Result<(), String> {
    let times: Vec<String> = run
        .log
        .iter()
        .map(|r| {
            format!(
                "{}ms{}{}{}",
                r.at.as_millis(),
                r.long_poll.map_or(String::new(), |s| format!("(lp{s})")),
                r.fault.map_or(String::new(), |f| format!("!{f:?}")),
                r.seen.as_deref().map_or(String::new(), |s| format!("={s}"))
            )
        })
        .collect();
    Err(format!(
        "{what}\n  end={:?} returned={}ms requests={}\n  log: {}",
        run.out.end,
        run.returned.as_millis(),
        run.out.requests,
        times.join(" ")
    ))
}

/// The first poll is sent at once; every exchange was observed; polling ended Terminal exactly when a terminal answer was seen
/// (with that answer as `last`), and Deadline only when no further poll fitted: it returned at or
/// before the deadline and later than `deadline - max(cap, 1 s)` (the 1 s is the smallest long
/// poll), with the last answer seen as `last`. Never Failed (the scenarios hold no hard errors).
pub fn ends_iff_terminal_or_deadline(run: &Run) -> Result<(), String> {
    if run.observed != run.out.requests || run.log.len() != run.out.requests as usize {
        return fail(run, format!("observed {} exchanges", run.observed));
    }
    if run.log.first().is_none_or(|r| r.at > Duration::ZERO) {
        return fail(run, "the first poll was not sent at once".into());
    }
    let last_seen = run.log.iter().rev().find_map(|r| r.seen.clone());
    let last = run.out.last.as_ref().map(|v| run.seen_of(v));
    match (&run.out.end, run.first_terminal()) {
        (End::Terminal, Some(t)) if last == run.log[t].seen => Ok(()),
        (End::Terminal, _) => fail(run, "ended Terminal without a terminal answer".into()),
        (End::Deadline, Some(_)) => fail(run, "ended Deadline after a terminal answer".into()),
        (End::Deadline, None) => {
            let slack = run.cap().max(Duration::from_secs(1));
            if run.returned > run.deadline() + MS || run.returned + slack < run.deadline() {
                fail(run, "gave up away from the deadline".into())
            } else if last != last_seen {
                fail(
                    run,
                    format!("last {last:?} is not the last seen {last_seen:?}"),
                )
            } else {
                Ok(())
            }
        }
        (End::Failed { reason }, _) => fail(run, format!("failed: {reason}")),
    }
}

/// After the first terminal answer: no request at all, except exactly one release call without
/// keepResult under `Keep::KeepThenRelease`.
pub fn never_polls_after_terminal(run: &Run) -> Result<(), String> {
    let Some(t) = run.first_terminal() else {
        return Ok(());
    };
    let after = &run.log[t + 1..];
    let ok = match (run.sc.api, run.sc.keep) {
        (Api::Element, Keep::KeepThenRelease) => {
            after.len() == 1 && after[0].keep_result != Some(true)
        }
        _ => after.is_empty(),
    };
    if ok {
        Ok(())
    } else {
        fail(
            run,
            format!("{} requests after the terminal answer", after.len()),
        )
    }
}

/// Between a standard poll's answer and the next request: at least `min_interval`; and while the
/// job is unchanged (same answer as before, or a transient fault) an interval is never shorter
/// than the one before it (1 ms of timer resolution allowed, plus the log's clock error). Intervals after a long poll and
/// the release call are exempt (a long poll may be followed at once).
pub fn intervals_respect_minimum_and_never_shrink(run: &Run) -> Result<(), String> {
    let min = run.sc.policy.min_interval;
    let log = &run.log;
    let std = |i: usize| log[i].long_poll.is_none();
    for i in 1..log.len() {
        if run.is_release(i) || !std(i - 1) {
            continue;
        }
        let gap = log[i].at.saturating_sub(log[i - 1].answered);
        let err = run.clock_error;
        if gap + err < min {
            return fail(
                run,
                format!("request {i}: {gap:?} after the previous answer"),
            );
        }
        if i >= 2 && std(i - 2) && run.unchanged(i - 1) {
            let before = log[i - 1].at.saturating_sub(log[i - 2].answered);
            if gap + MS + err * 2 < before {
                return fail(
                    run,
                    format!("request {i}: interval shrank {before:?} -> {gap:?}"),
                );
            }
        }
    }
    Ok(())
}

/// With F faulted requests and `cap = max * (1 + jitter)`: standard polling sees the terminal
/// state at most `(1 + F) * cap` after it happens (the poll before it was earlier, every interval
/// is at most `cap`, each fault costs one more); long polling against a capable server sees it at
/// once, `F * cap` with faults, unless the job ends in the last second before the deadline, where
/// no long poll fits and the poller polls plainly (the standard bound). Deadline is allowed only
/// when that bound would pass the deadline (minus 1 s for long polling).
pub fn completion_detected_promptly(run: &Run) -> Result<(), String> {
    let f = run.faults();
    let term = run.terminal_at();
    let in_tail = term + Duration::from_secs(1) > run.deadline();
    let (bound, slack) = if run.long_capable() && !in_tail {
        (run.cap() * f + MS, Duration::from_secs(1))
    } else {
        (run.cap() * (1 + f) + MS, Duration::ZERO)
    };
    match run.first_terminal() {
        Some(t) if run.log[t].answered > term + bound => fail(
            run,
            format!("terminal at {term:?} seen at {:?}", run.log[t].answered),
        ),
        None if run.out.end == End::Deadline && term + bound + slack < run.deadline() => fail(
            run,
            format!("terminal at {term:?} never seen (bound {bound:?})"),
        ),
        _ => Ok(()),
    }
}

/// Request bounds (release excluded). C = answers that differ from the previous one (first
/// included), F = faulted requests, D = deadline.
/// - Standard: every interval is >= min and all polls start by D, so N <= 1 + D/min. Also, within
///   each of the <= C + 1 runs of unchanged answers the base interval grows by `backoff` from min
///   and reaches max after at most K = ceil(log_backoff(max/min)) + 1 intervals (the +1 absorbs
///   rounding); every later interval is >= max, so N <= 1 + (C + 1) * K + D/max.
/// - Long polling (capable server): each answer is a change, the terminal answer, a fault, or a
///   timeout that took a whole `poll_timeout` t (the last one possibly shortened, once), so
///   N <= C + D/t + 2 + F, plus the plain GETs of the last second (no long poll fits there; they
///   are at least min apart): 1 + 1 s/min.
/// - Long polling asked of a server without it: the standard bound + 2 + F (the early answers
///   before the fallback).
pub fn request_count_bounded(run: &Run) -> Result<(), String> {
    let p = &run.sc.policy;
    let n = run.polls() as u64;
    let d = p.deadline.as_millis() as u64;
    let c = run.changes();
    let f = u64::from(run.faults());
    let bound = if let (true, Some(t)) = (run.long_capable(), p.long_poll) {
        let tail = 1 + 1000 / (p.min_interval.as_millis() as u64).max(1);
        c + d / (t.as_millis() as u64) + 2 + f + tail
    } else {
        let min = p.min_interval.as_millis() as u64;
        let max = p.max_interval.as_millis() as u64;
        let by_min = 1 + d / min;
        let by_backoff = if p.backoff > 1.0 {
            let k = ((max as f64 / min as f64).ln() / p.backoff.ln()).ceil() as u64 + 1;
            1 + (c + 1) * k + d / max
        } else {
            u64::MAX
        };
        let extra = if p.long_poll.is_some() { 2 + f } else { 0 };
        by_min.min(by_backoff) + extra
    };
    if n <= bound {
        Ok(())
    } else {
        fail(run, format!("{n} requests > bound {bound} (C={c}, F={f})"))
    }
}

/// Element with keepResult: whenever the job completes early enough to be seen before the
/// deadline (`terminal + (1 + F) * cap < D`), polling ends Terminal with the complete payload
/// (the scripted `result`, or the nested `error` of a failed job), faults on the complete answer
/// notwithstanding.
pub fn no_element_result_lost(run: &Run) -> Result<(), String> {
    if run.sc.api != Api::Element {
        return Ok(());
    }
    let f = run.faults();
    if run.terminal_at() + run.cap() * (1 + f) + MS >= run.deadline() {
        return Ok(());
    }
    let last = run.out.last.as_ref();
    let got = match last {
        Some(v) if v["status"] == "complete" => v.get("result").or_else(|| v.get("error")),
        _ => None,
    };
    let want = match run.sc.script.end {
        ScriptEnd::Success | ScriptEnd::Warning => expected_result(),
        _ => serde_json::json!({"name": "xAsyncJobFailed", "message": "scripted failure"}),
    };
    match (&run.out.end, got) {
        (End::Terminal, Some(r)) if *r == want => Ok(()),
        _ => fail(run, format!("result lost: last = {last:?}")),
    }
}
