//! Timing checks that need I/O (names in `check::names::IoStep`): `long-poll-timing`
//! (UM-POLL-LONG: one long poll, judged against its timeout, or for real work against the job's
//! own duration) and `answers-at-once` (UM-POLL-STANDARD: a plain GET of a running job, judged
//! against the same target's latency for its job list, measured in the same run). Every request
//! goes through the run's helpers, so it is recorded and checked like any other.

use std::time::Duration;

use serde_json::{Value, json};

use super::named::arg;
use super::run::{Run, StepResult, Stop};
use crate::case::template::text_of;
use crate::check::{Finding, Judgement, parse_iso};
use crate::transport::{Query, aiqum};

/// UM-POLL-STANDARD: a plain GET of a running job may take at most this factor times the
/// target's latency for its job list (`max_records=1`, best of [`BASELINE_SAMPLES`], measured right
/// after), or [`AT_ONCE_FLOOR_MS`], whichever is larger.
pub const AT_ONCE_FACTOR: u64 = 10;
/// The floor of the UM-POLL-STANDARD bound, in real milliseconds (a busy machine or a slow link
/// may take this long for any answer).
pub const AT_ONCE_FLOOR_MS: u64 = 500;
/// Job-list reads measured for the baseline.
const BASELINE_SAMPLES: usize = 3;

/// The real milliseconds an answer took, and its job object; a failed precondition otherwise.
fn answered_job(run: &Run<'_>, i: usize) -> Result<(u64, Value), Stop> {
    let ex = run.ex(i);
    let Ok(resp) = &ex.response else {
        return Err(Stop::Inconclusive("the job read got no answer".into()));
    };
    match ex.json().filter(|v| crate::check::aiqum::is_job(v)) {
        Some(job) => Ok((resp.elapsed_ms, job.clone())),
        None => Err(Stop::Inconclusive(format!(
            "the job read answered HTTP {} without a job",
            resp.status
        ))),
    }
}

/// `answers-at-once` (args `job`): GET the job (it must still be running, else the case is
/// inconclusive: a finished job's GET says nothing about blocking), then measure the job list.
pub async fn answers_at_once(run: &mut Run<'_>, rule: &str, args: &Value) -> StepResult {
    let key = text_of(arg(args, "job")?);
    let path = format!("/management-server/jobs/{key}");
    let i = run.um_request(aiqum::Request::get(&path)).await?;
    let (took, job) = answered_job(run, i)?;
    if crate::poll::aiqum_terminal(&job) != Some(false) {
        return Err(Stop::Unseen(format!(
            "job {key} had ended before it could be read running: a finished job's GET says nothing about blocking"
        )));
    }
    let mut base = u64::MAX;
    for _ in 0..BASELINE_SAMPLES {
        let mut query = Query::new();
        query.insert("max_records".into(), "1".into());
        let req = aiqum::Request {
            query,
            ..aiqum::Request::get("/management-server/jobs")
        };
        let b = run.um_request(req).await?;
        if let Ok(r) = &run.ex(b).response {
            base = base.min(r.elapsed_ms);
        }
    }
    if base == u64::MAX {
        return Err(Stop::Inconclusive(
            "the job list never answered: no baseline for \"at once\"".into(),
        ));
    }
    let bound = AT_ONCE_FLOOR_MS.max(AT_ONCE_FACTOR * base);
    if took > bound {
        run.fail(
            Finding::new(
                rule,
                format!(
                    "a plain GET of a running job took {took} ms; the job list took {base} ms in \
                     the same run (at once: at most max({AT_ONCE_FLOOR_MS} ms, \
                     {AT_ONCE_FACTOR} x {base} ms) = {bound} ms, real time)"
                ),
            )
            .values(
                Some(json!({"max_ms": bound})),
                Some(json!({"took_ms": took})),
            )
            .in_exchange(i),
        );
    }
    Ok(())
}

/// `long-poll-timing` (args `job`, `poll_timeout_s`, `expect`: `wait` for a job that outlasts
/// the timeout, `terminal` for one that ends during it (`within_ms`), or `real` for real work of
/// unknown length: a running answer must not come early, and a terminal one no later than the
/// job's own duration (`complete_time - submit_time`) after it started, plus slack).
pub async fn long_poll_timing(run: &mut Run<'_>, rule: &str, args: &Value) -> StepResult {
    let key = text_of(arg(args, "job")?);
    let secs = arg(args, "poll_timeout_s")?.as_u64().unwrap_or(10);
    let mode = arg(args, "expect")?.as_str().unwrap_or("wait").to_string();
    let timeout_ms = secs * 1000;
    // Slack in target time, plus 250 ms of real time for transport and scheduling latency: on the
    // mock (time scale 50) the target-time part alone is 50 ms of real time, less than the
    // scheduling noise of a busy machine.
    let latency_ms =
        (crate::check::expect::LATENCY_REAL_MS as f64 * run.target().time_scale()).round() as u64;
    let slack_ms = (timeout_ms / 4).max(2000) + latency_ms;
    let mut query = Query::new();
    query.insert("poll_timeout".into(), secs.to_string());
    let path = format!("/management-server/jobs/{key}");
    let req = aiqum::Request {
        query,
        extra_wait: run.target().real(timeout_ms + slack_ms) + Duration::from_secs(1),
        ..aiqum::Request::get(&path)
    };
    let since_start = run
        .history()
        .started(&key)
        .map(|t| (t.elapsed().as_millis() as f64 * run.target().time_scale()).round() as u64);
    let i = run.um_request(req).await?;
    let (real_ms, job) = answered_job(run, i)?;
    let took = (real_ms as f64 * run.target().time_scale()).round() as u64;
    let terminal = crate::poll::aiqum_terminal(&job) == Some(true);
    let mut j = Judgement::default();
    let f = |m: String, want: Value| {
        Finding::new(rule, m)
            .values(
                Some(want),
                Some(json!({"took_ms": took, "terminal": terminal})),
            )
            .in_exchange(i)
    };
    if took > timeout_ms + slack_ms {
        j.fail(f(
            format!(
                "the long poll answered after {took} ms, later than poll_timeout={secs}s plus slack"
            ),
            json!({"max_ms": timeout_ms + slack_ms}),
        ));
    }
    let early = |j: &mut Judgement| {
        if took < timeout_ms * 3 / 4 {
            j.fail(f(
                format!("the long poll returned a running job early, after {took} ms"),
                json!({"min_ms": timeout_ms * 3 / 4}),
            ));
        }
    };
    match mode.as_str() {
        "terminal" => {
            // The same real-time latency allowance as the upper bound: under load, the answer to
            // a job that turned terminal can be a few hundred ms of real time late (on the mock
            // at scale 50 that is many target seconds); a target that holds the poll to its
            // timeout (deviation `long-poll-overstays`) is still far beyond.
            let within = args
                .get("within_ms")
                .and_then(Value::as_u64)
                .unwrap_or(timeout_ms / 2)
                + latency_ms;
            if !terminal {
                j.fail(f(
                    "the job did not come back terminal".into(),
                    json!({"terminal": true}),
                ));
            } else if took > within {
                j.fail(f(
                    format!("a job that turned terminal was returned only after {took} ms"),
                    json!({"max_ms": within}),
                ));
            }
        }
        "real" if terminal => {
            let time = |k: &str| job.get(k).and_then(Value::as_str).and_then(parse_iso);
            let (Some(submit), Some(done), Some(since)) =
                (time("submit_time"), time("complete_time"), since_start)
            else {
                return Err(Stop::Inconclusive(
                    "the job's submit_time and complete_time do not say when it ended".into(),
                ));
            };
            let ran_ms = done.duration_since(submit).as_millis().max(0) as u64;
            if since >= ran_ms {
                return Err(Stop::Unseen(format!(
                    "job {key} had ended before the long poll was sent: the wait was not exercised"
                )));
            }
            // Timestamps may have whole seconds: 2 s of slack, plus the latency allowance.
            let within = ran_ms - since + 2000 + latency_ms;
            if took > within {
                j.fail(f(
                    format!(
                        "the job ended {} ms into the long poll (by its own times) but was returned only after {took} ms",
                        ran_ms - since
                    ),
                    json!({"max_ms": within}),
                ));
            }
        }
        "real" => early(&mut j),
        _ => {
            if terminal {
                return Err(Stop::Inconclusive(
                    "the job turned terminal during the wait; the timeout was not exercised".into(),
                ));
            }
            early(&mut j);
        }
    }
    run.absorb(j)
}
