//! One function per step kind: expand templates, send through the run's helpers (which record and
//! run the automatic checks), judge the step's own expectations, capture variables. Polls go
//! through `poll`, starts through `start`, named checks with I/O through `named`.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde_json::Value;

use super::ElCall;
use super::run::{Run, StepResult, Stop};
use crate::case::template::text_of;
use crate::case::{Api, ConcurrentStep, HttpStep, PollMode, PollStep, RpcStep, Step};
use crate::check::names::StepCheck;
use crate::check::{self, Finding};
use crate::poll::{self, End, Keep};
use crate::transport::{Query, aiqum, element};

/// Runs one step (boxed: `repeat` recurses).
pub fn step<'r, 'a: 'r>(
    run: &'r mut Run<'a>,
    st: &'r Step,
) -> Pin<Box<dyn Future<Output = StepResult> + Send + 'r>> {
    Box::pin(async move {
        if run
            .target()
            .interrupted
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return Err(Stop::Skip("interrupted: nothing new is started".into()));
        }
        match st {
            Step::Rpc(r) => rpc(run, r).await,
            Step::Http(h) => http(run, h).await,
            Step::Start(s) => super::start::start(run, s).await,
            Step::Poll(p) => poll_step(run, p).await,
            Step::Repeat(r) => {
                for _ in 0..r.times {
                    for s in &r.steps {
                        step(run, s).await?;
                    }
                }
                Ok(())
            }
            Step::Concurrent(c) => concurrent(run, c).await,
            Step::Check(c) => {
                let args = run.expand(&c.args)?;
                match c.name {
                    StepCheck::Pure(check) => run.absorb(check::named::step(check, &c.rule, &args)),
                    StepCheck::Io(check) => super::named::run(run, check, &c.rule, &args).await,
                }
            }
            Step::Wait(w) => {
                tokio::time::sleep(run.target().real(w.ms)).await;
                Ok(())
            }
        }
    })
}

async fn rpc(run: &mut Run<'_>, r: &RpcStep) -> StepResult {
    let params = run.expand(&r.params)?;
    let id = r.id.as_ref().map(|v| run.expand(v)).transpose()?;
    let expects = run.expand_expects(&r.expect)?;
    let call = ElCall {
        method: &r.method,
        params,
        id,
        auth: r.auth,
        version: r.version.as_deref(),
        raw: r.raw.clone(),
    };
    let i = run.el_call(call).await?;
    run.judge(&expects, i, None)?;
    let body = run.ex(i).json().cloned();
    run.capture(&r.capture, body.as_ref())
}

fn method_of(m: &str) -> Result<reqwest::Method, Stop> {
    reqwest::Method::from_bytes(m.to_ascii_uppercase().as_bytes())
        .map_err(|_| Stop::Harness(format!("send: {m:?} is not an HTTP method")))
}

async fn http(run: &mut Run<'_>, h: &HttpStep) -> StepResult {
    let path = text_of(&run.expand(&Value::String(h.path.clone()))?);
    let mut query = Query::new();
    let mut extra = Duration::ZERO;
    for (k, v) in &h.query {
        let text = text_of(&run.expand(v)?);
        if k == "poll_timeout"
            && let Ok(s) = text.parse::<u64>()
        {
            extra = run.target().real(s * 1000) + Duration::from_secs(1);
        }
        query.insert(k.clone(), text);
    }
    let body = h.body.as_ref().map(|b| run.expand(b)).transpose()?;
    let expects = run.expand_expects(&h.expect)?;
    let req = aiqum::Request {
        method: method_of(&h.method)?,
        path: &path,
        query,
        body,
        auth: h.auth,
        extra_wait: extra,
    };
    let i = run.um_request(req).await?;
    run.judge(&expects, i, None)?;
    let body = run.ex(i).json().cloned();
    run.capture(&h.capture, body.as_ref())
}

async fn poll_step(run: &mut Run<'_>, p: &PollStep) -> StepResult {
    let job = run.expand(&p.job)?;
    let expects = run.expand_expects(&p.expect)?;
    let key = text_of(&job);
    let policy = poll_policy(run, p, &key)?;
    let findings_before = run.finding_count();
    let started = tokio::time::Instant::now();
    // keepResult: true on every poll (the result is never lost), or absent as careless clients
    // poll.
    let keep = if p.keep_result {
        Keep::Keep
    } else {
        Keep::Absent
    };
    let outcome = poll_recorded(run, &job, &key, &policy, keep).await?;
    for n in &outcome.notes {
        run.note(format!("poll of {key}: {n}"));
    }
    let explained = run.finding_count() > findings_before;
    if p.expect_deadline {
        return gave_up_at_deadline(run, p, &job, &policy, &outcome, started.elapsed());
    }
    let polled = &run.transcript()[run
        .transcript()
        .len()
        .saturating_sub(outcome.requests as usize)..];
    let abnormal = polled
        .iter()
        .any(|ex| !ex.status().is_some_and(|s| (200..300).contains(&s)));
    match &outcome.end {
        End::Terminal => {
            let last = run.transcript().len().checked_sub(1).ok_or_else(|| {
                Stop::Harness(
                    "poll: the poller reported a terminal job without any exchange".into(),
                )
            })?;
            let body = outcome.last.clone();
            run.judge(&expects, last, body.as_ref())?;
            run.capture(&p.capture, body.as_ref())
        }
        End::Deadline if explained => Err(Stop::Halt),
        End::Deadline if abnormal => Err(Stop::Inconclusive(format!(
            "poll of {key}: the deadline passed while the target answered errors"
        ))),
        End::Deadline => missed_deadline(run, p, &key, &outcome),
        End::Failed { .. } if explained => Err(Stop::Halt),
        End::Failed { reason } => {
            vanished(run, &key)?;
            Err(Stop::Inconclusive(format!("poll of {key}: {reason}")))
        }
    }
}

/// A poll that ended on a 404 for an AIQUM job this case had read: a finding against
/// UM-KEY-RETAINED (`check::aiqum::vanished`), and the case halts.
fn vanished(run: &mut Run<'_>, key: &str) -> StepResult {
    if run.case().api != Api::Aiqum {
        return Ok(());
    }
    let Some(last) = run.transcript().len().checked_sub(1) else {
        return Ok(());
    };
    let seen = run.history().seen(Api::Aiqum, key);
    match check::aiqum::vanished(key, &run.transcript()[last], seen) {
        Some(f) => {
            run.fail(f.in_exchange(last));
            Err(Stop::Halt)
        }
        None => Ok(()),
    }
}

/// The poll's policy: the target's, with the case's deadline (on the mock, or when the poll is
/// about the deadline itself) and minimum interval, long polling when asked for, and a zero
/// deadline for a job already seen ended.
fn poll_policy(run: &mut Run<'_>, p: &PollStep, key: &str) -> Result<poll::Policy, Stop> {
    let mut policy = run.target().policy.clone();
    // A case's deadline is written for the mock's scripted jobs; on a live target real work takes
    // what it takes, and the user's deadline (`deadline_s`) decides, unless the poll is about the
    // deadline itself.
    if let Some(ms) = p.deadline_ms
        && (run.target().is_mock() || p.expect_deadline)
    {
        policy.deadline = run.target().real(ms);
    }
    if let Some(ms) = p.min_interval_ms {
        policy.min_interval = run.target().real(ms);
        policy.max_interval = policy.max_interval.max(policy.min_interval);
    }
    // Fail fast: a job already seen ended is read once, not polled to the deadline; if it moved
    // on, the per-observation checks (UM-TERMINAL-ABSORBING, EL-GAR-STABLE) say so.
    if run.history().seen_ended(run.case().api, key) && !p.expect_deadline {
        policy.deadline = Duration::ZERO;
        run.note(format!(
            "poll of {key}: the job was already seen ended: read once (a job that moves on is not waited for)"
        ));
    }
    policy.long_poll = None;
    if p.mode == PollMode::Long {
        if !run.caps().long_poll {
            return Err(Stop::Skip("the target does not offer long polling".into()));
        }
        policy.long_poll = Some(
            run.target()
                .policy
                .long_poll
                .unwrap_or(Duration::from_secs(10)),
        );
    }
    Ok(policy)
}

/// Polls `job` with the reference poller, telling the run's watcher every event, then records
/// every exchange and runs the automatic checks on each one that is not a transient fault.
async fn poll_recorded(
    run: &mut Run<'_>,
    job: &Value,
    key: &str,
    policy: &poll::Policy,
    keep: Keep,
) -> Result<poll::Outcome, Stop> {
    let api = run.case().api;
    let client = run.target().client.clone();
    let mut seen: Vec<crate::transport::Exchange> = Vec::new();
    let mut line = run.watcher().poll(&run.target().name, key);
    let mut watch = |e: poll::Event<'_>| {
        if let poll::Event::Observed(ex) = e {
            seen.push(ex.clone());
        }
        line.event(&e);
    };
    let outcome = match api {
        Api::Element => {
            let ep = run.element_ep()?;
            poll::element_watched(&client, ep, job, policy, keep, &mut watch).await
        }
        Api::Aiqum => {
            let ep = run.aiqum_ep()?;
            poll::aiqum_watched(&client, ep, key, policy, &mut watch).await
        }
    };
    drop(line);
    for ex in seen {
        let transient = crate::contract::jobs::transient(&ex).is_some();
        let i = run.record(ex)?;
        if !transient {
            run.observation_checks(api, i, key);
        }
    }
    Ok(outcome)
}

/// A poll that was not terminal within its deadline: a finding against the poll's
/// `deadline_rule`, or inconclusive without one.
fn missed_deadline(
    run: &mut Run<'_>,
    p: &PollStep,
    key: &str,
    outcome: &poll::Outcome,
) -> StepResult {
    let Some(rule) = &p.deadline_rule else {
        return Err(Stop::Inconclusive(format!(
            "poll of {key}: not terminal within the deadline"
        )));
    };
    let mut f = Finding::new(
        rule,
        format!(
            "{key} was not terminal within the deadline ({} requests)",
            outcome.requests
        ),
    )
    .values(Some("terminal".into()), outcome.last.clone());
    if let Some(last) = run.transcript().len().checked_sub(1) {
        f = f.in_exchange(last);
    }
    run.fail(f);
    Err(Stop::Halt)
}

/// CL-DEADLINE for a job scripted to outlast the poll's deadline: the poll ends with
/// `End::Deadline`, no later than one maximum (jittered) interval past the deadline, with the last
/// state seen.
fn gave_up_at_deadline(
    run: &mut Run<'_>,
    p: &PollStep,
    job: &serde_json::Value,
    policy: &poll::Policy,
    outcome: &poll::Outcome,
    took: Duration,
) -> StepResult {
    let rule = p.deadline_rule.as_deref().unwrap_or("CL-DEADLINE");
    match &outcome.end {
        End::Deadline => {
            let slack = policy.max_interval.mul_f64(1.0 + policy.jitter)
                + run.target().client.limits().request_timeout;
            if took > policy.deadline + slack {
                run.fail(
                    Finding::new(
                        rule,
                        format!(
                            "the poll gave up {took:?} after it started, past its deadline of {:?}",
                            policy.deadline
                        ),
                    )
                    .values(
                        Some(format!("<= {:?}", policy.deadline + slack).into()),
                        Some(format!("{took:?}").into()),
                    ),
                );
            }
            if outcome.last.is_none() {
                run.fail(Finding::new(
                    rule,
                    "the poll gave up without reporting the last state it saw",
                ));
            }
            Ok(())
        }
        End::Terminal => Err(Stop::Inconclusive(format!(
            "poll of {}: the job ended before the deadline it was meant to outlast",
            text_of(job)
        ))),
        End::Failed { reason } => Err(Stop::Inconclusive(format!(
            "poll of {}: {reason}",
            text_of(job)
        ))),
    }
}

async fn concurrent(run: &mut Run<'_>, c: &ConcurrentStep) -> StepResult {
    let ep = run.element_ep()?;
    let params = run.expand(&c.rpc.params)?;
    let expects = run.expand_expects(&c.rpc.expect)?;
    let client = run.target().client.clone();
    let mut calls = Vec::new();
    for _ in 0..c.times {
        let id = match &c.rpc.id {
            Some(v) => run.expand(v)?,
            None => run.fresh_id(),
        };
        calls.push(element::Call {
            method: &c.rpc.method,
            params: params.clone(),
            id,
            auth: c.rpc.auth,
            version: c.rpc.version.as_deref(),
        });
    }
    let answers = futures_util::future::join_all(
        calls
            .into_iter()
            .map(|call| element::call(&client, ep, call)),
    )
    .await;
    let mut indexes = Vec::new();
    for ex in answers {
        let i = run.record(ex)?;
        run.element_checks(i, false);
        run.judge(&expects, i, None)?;
        indexes.push(i);
    }
    if let (Some(a), Some(b)) = (indexes.first(), indexes.last()) {
        run.mark_concurrent(*a..*b + 1);
    }
    let group: Vec<(usize, &crate::transport::Exchange)> =
        indexes.iter().map(|i| (*i, run.ex(*i))).collect();
    let j = check::named::group(c.check.name, &c.check.rule, &group);
    run.absorb(j)
}
