//! Named step checks that need I/O or the run's observations ([`IoStep`]; their names and meaning
//! are in `check::names`): `list-walk` (UM-LIST-PAGES), `list-agrees` (EL-LIST-AGREES),
//! `not-listed` (EL-LIST-PURGED), `readable-at-once` (UM-ACCEPT-READABLE), `seen-running`
//! (precondition: a running observation of the job was made), `client-audit` (CL-*: the mock's
//! audit of jobconform's own polling of one job); the timing checks `long-poll-timing` and
//! `answers-at-once` live in `timing`. Each sends through the run's helpers, so every exchange is
//! recorded and automatically checked.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use super::ElCall;
use super::run::{Run, StepResult, Stop};
use crate::case::template::text_of;
use crate::check::names::IoStep;
use crate::check::{Finding, Judgement};
use crate::transport::{Query, aiqum};

/// Runs a named step check with I/O.
pub async fn run(run: &mut Run<'_>, check: IoStep, rule: &str, args: &Value) -> StepResult {
    match check {
        IoStep::ListWalk => list_walk(run, rule, args).await,
        IoStep::ListAgrees => list_agrees(run, rule, args).await,
        IoStep::NotListed => not_listed(run, rule, args).await,
        IoStep::ReadableAtOnce => readable_at_once(run, rule, args).await,
        IoStep::LongPollTiming => super::timing::long_poll_timing(run, rule, args).await,
        IoStep::AnswersAtOnce => super::timing::answers_at_once(run, rule, args).await,
        IoStep::SeenRunning => seen_running(run, args),
        IoStep::ClientAudit => client_audit(run, rule, args).await,
    }
}

pub(super) fn arg<'v>(args: &'v Value, k: &str) -> Result<&'v Value, Stop> {
    args.get(k)
        .ok_or_else(|| Stop::Harness(format!("run check: argument {k:?} is missing")))
}

/// Path of a server-given href, relative to the origin when it is an absolute URL.
fn href_path(href: &str) -> String {
    match reqwest::Url::parse(href) {
        Ok(u) => match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        },
        Err(_) => href.to_string(),
    }
}

async fn list_walk(run: &mut Run<'_>, rule: &str, args: &Value) -> StepResult {
    let n = arg(args, "max_records")?.as_u64().unwrap_or(5);
    let mut query = Query::new();
    query.insert("max_records".into(), n.to_string());
    let mut i = run
        .um_request(aiqum::Request {
            query,
            ..aiqum::Request::get("/management-server/jobs")
        })
        .await?;
    let mut seen = BTreeSet::new();
    let mut j = Judgement::default();
    for _page in 0..200 {
        let Some(body) = run.ex(i).json().cloned() else {
            return Err(Stop::Inconclusive("a list page is not JSON".into()));
        };
        let recs = body
            .get("records")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if recs.len() as u64 > n {
            j.fail(
                Finding::new(
                    rule,
                    format!("a page holds more than max_records={n} records"),
                )
                .at("/records")
                .values(Some(n.into()), Some(recs.len().into()))
                .in_exchange(i),
            );
        }
        for r in &recs {
            if let Some(k) = r.get("key").and_then(Value::as_str)
                && !seen.insert(k.to_string())
            {
                j.fail(
                    Finding::new(rule, "a job came back twice while walking the pages")
                        .values(None, Some(k.into()))
                        .in_exchange(i),
                );
            }
        }
        let next = body
            .pointer("/_links/next/href")
            .and_then(Value::as_str)
            .map(href_path);
        match next {
            Some(href) if !recs.is_empty() => {
                i = run.um_request(aiqum::Request::get(&href)).await?;
            }
            _ => return run.absorb(j),
        }
    }
    j.fail(Finding::new(
        rule,
        "the next links did not end within 200 pages",
    ));
    run.absorb(j)
}

async fn gar(run: &mut Run<'_>, handle: &Value) -> Result<usize, Stop> {
    run.el_call(ElCall::new(
        "GetAsyncResult",
        json!({"asyncHandle": handle, "keepResult": true}),
    ))
    .await
}

async fn list(run: &mut Run<'_>) -> Result<(usize, Option<Value>), Stop> {
    let i = run
        .el_call(ElCall::new("ListAsyncResults", json!({})))
        .await?;
    let entries = run
        .ex(i)
        .json()
        .and_then(|b| b.pointer("/result/asyncHandles"))
        .cloned();
    Ok((i, entries))
}

fn entry_for<'v>(entries: &'v Value, handle: &Value) -> Option<(usize, &'v Value)> {
    entries
        .as_array()?
        .iter()
        .enumerate()
        .find(|(_, e)| e.get("asyncResultID").map(text_of) == Some(text_of(handle)))
}

async fn list_agrees(run: &mut Run<'_>, rule: &str, args: &Value) -> StepResult {
    let handle = arg(args, "handle")?.clone();
    let gi = gar(run, &handle).await?;
    let Some(nested) = run.ex(gi).json().and_then(|b| b.get("result")).cloned() else {
        return Err(Stop::Inconclusive(
            "GetAsyncResult did not answer with a result".into(),
        ));
    };
    let (li, entries) = list(run).await?;
    let Some(entries) = entries else {
        return Err(Stop::Inconclusive(
            "ListAsyncResults gave no asyncHandles".into(),
        ));
    };
    let Some((k, entry)) = entry_for(&entries, &handle) else {
        return Err(Stop::Inconclusive(format!(
            "handle {} is not listed",
            text_of(&handle)
        )));
    };
    let at = |f: &str| format!("/result/asyncHandles/{k}/{f}");
    let mut j = Judgement::default();
    let complete = nested.get("status").and_then(Value::as_str) == Some("complete");
    if let Some(c) = entry.get("completed").and_then(Value::as_bool)
        && c != complete
    {
        j.fail(
            Finding::new(rule, "completed disagrees with GetAsyncResult's status")
                .at(at("completed"))
                .values(Some(complete.into()), Some(c.into()))
                .in_exchange(li),
        );
    }
    if complete {
        if nested.get("result").is_some() == nested.get("error").is_some() {
            return Err(Stop::Inconclusive(
                "GetAsyncResult's complete answer has both or neither of result and error (EL-GAR-COMPLETE's concern)".into(),
            ));
        }
        let ok = nested.get("result").is_some();
        if let Some(s) = entry.get("success").and_then(Value::as_bool)
            && s != ok
        {
            j.fail(
                Finding::new(
                    rule,
                    "success disagrees with the presence of GetAsyncResult's result",
                )
                .at(at("success"))
                .values(Some(ok.into()), Some(s.into()))
                .in_exchange(li),
            );
        }
        if ok && entry.get("data") != nested.get("result") {
            j.fail(
                Finding::new(
                    rule,
                    "a successful entry's data differs from GetAsyncResult's result",
                )
                .at(at("data"))
                .values(nested.get("result").cloned(), entry.get("data").cloned())
                .in_exchange(li),
            );
        }
    }
    run.absorb(j)
}

async fn not_listed(run: &mut Run<'_>, rule: &str, args: &Value) -> StepResult {
    let handle = arg(args, "handle")?.clone();
    let (li, entries) = list(run).await?;
    let Some(entries) = entries else {
        return Err(Stop::Inconclusive(
            "ListAsyncResults gave no asyncHandles".into(),
        ));
    };
    if let Some((k, _)) = entry_for(&entries, &handle) {
        run.fail(
            Finding::new(rule, "an invalidated handle is still listed")
                .at(format!("/result/asyncHandles/{k}"))
                .values(None, Some(handle.clone()))
                .in_exchange(li),
        );
    }
    Ok(())
}

async fn readable_at_once(run: &mut Run<'_>, rule: &str, args: &Value) -> StepResult {
    let key = text_of(arg(args, "job")?);
    let path = format!("/management-server/jobs/{key}");
    let first = run.um_request(aiqum::Request::get(&path)).await?;
    if run.ex(first).status() == Some(200) {
        return Ok(());
    }
    for _ in 0..6 {
        tokio::time::sleep(run.target().real(500)).await;
        let i = run.um_request(aiqum::Request::get(&path)).await?;
        if run.ex(i).status() == Some(200) {
            run.fail(
                Finding::new(rule, "the new job was not readable at once, only later")
                    .values(Some(200.into()), run.ex(first).status().map(Value::from))
                    .in_exchange(first),
            );
            return Ok(());
        }
    }
    Err(Stop::Inconclusive(format!(
        "job {key} never became readable by key (another rule's failure)"
    )))
}

fn seen_running(run: &mut Run<'_>, args: &Value) -> StepResult {
    let job = text_of(arg(args, "job")?);
    let running = run.history().seen_running(run.case().api, &job);
    if running {
        Ok(())
    } else {
        Err(Stop::Unseen(format!(
            "precondition: job {job} was never observed running, so the running-state rules were not exercised"
        )))
    }
}

/// CL-*: asks the mock (`GET {control}/audit`) how jobconform's own poller behaved towards one job
/// (`args.job`), with the minimum interval of the target's polling policy in target time, and
/// reports the audit's violations of `rule`. Optional `args.deadline_ms` (target time) flags polls
/// past it; optional `args.min_interval_ms` (target time) is the minimum the poll was given
/// (default: the target's policy); optional `args.max_polls` bounds the number of polls (CL-LONG-POLL: about one per
/// state change). The audit exchange is not recorded in the transcript: it is the harness judging
/// itself, with volatile journal times, not an answer of the target's API.
async fn client_audit(run: &mut Run<'_>, rule: &str, args: &Value) -> StepResult {
    let job = text_of(arg(args, "job")?);
    let crate::target::Kind::Mock {
        control,
        time_scale,
    } = &run.target().kind
    else {
        return Err(Stop::Skip(
            "the client audit reads the mock's journal".into(),
        ));
    };
    let scale = *time_scale;
    let target_ms = |d: Duration| (d.as_secs_f64() * 1000.0 * scale) as u64;
    let min = args
        .get("min_interval_ms")
        .and_then(Value::as_u64)
        .unwrap_or_else(|| target_ms(run.target().policy.min_interval));
    // The audit measures when requests *arrive* at the mock, which adds real scheduling and
    // network delay (milliseconds, more on a loaded machine), multiplied by the time scale: the
    // slack is 25 ms of real time (at most half the minimum interval, so hammering is always
    // caught). Cases give the poll and this check a minimum interval (`min_interval_ms`) large
    // against that noise; the exact property is proven in virtual time by tests/poll_props.rs.
    // The deadline gets 25 ms of real time too.
    let tolerance = target_ms(Duration::from_millis(25)).clamp(2, min / 2);
    let mut url =
        format!("{control}/audit?format=json&min_interval_ms={min}&tolerance_ms={tolerance}");
    if let Some(d) = args.get("deadline_ms").and_then(Value::as_u64) {
        let slack = target_ms(Duration::from_millis(25));
        url.push_str(&format!("&deadline_ms={}", d + slack));
    }
    let ex = run.target().client.get(&url).await;
    let Some(report) = ex.json().filter(|_| ex.status() == Some(200)).cloned() else {
        return Err(Stop::Harness(format!(
            "read the mock's client audit: {:?}",
            ex.response.as_ref().map(|r| r.status)
        )));
    };
    let mut polls = 0;
    let jobs = report["clients"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["jobs"].as_array().into_iter().flatten())
        .filter(|j| j["job"] == json!(job));
    for j in jobs {
        polls += j["polls"].as_u64().unwrap_or(0);
        for v in j["violations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| v["rule"] == json!(rule))
        {
            let what = v["what"].as_str().unwrap_or("broke the rule");
            run.fail(
                Finding::new(rule, format!("jobconform's own poller, job {job}: {what}"))
                    .values(None, Some(json!({"t_ms": v["t_ms"]}))),
            );
        }
    }
    if polls == 0 {
        return Err(Stop::Inconclusive(format!(
            "the mock journaled no poll of {job}"
        )));
    }
    if let Some(max) = args
        .get("max_polls")
        .and_then(Value::as_u64)
        .filter(|max| polls > *max)
    {
        run.fail(
            Finding::new(
                rule,
                format!("jobconform's own poller sent {polls} polls of {job}, more than {max}"),
            )
            .values(Some(json!(max)), Some(json!(polls))),
        );
    }
    run.note(format!(
        "client audit: {polls} polls of {job} judged for {rule} (minimum interval {min} ms)"
    ));
    Ok(())
}
