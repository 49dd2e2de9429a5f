//! Named checks: Rust logic for what a case's `expect`/`pointer` language cannot say. Pure (the
//! step checks that need I/O live in `exec::named`). The names, and what each check judges, are
//! the enums of [`super::names`]; here every one of them is dispatched by an exhaustive `match`.
//! Each check judges one rule, given by the case; a precondition check never fails a rule, it
//! makes the case inconclusive ([`super::preconditions`]).

use serde_json::{Value, json};

use super::names::{Group, Outcome, PureStep, Response};
use super::shapes::{
    async_list_filter, async_list_shape, error_500, getapi, list_filter, records, um_list_shape,
    unknown_handle, unused_parameters,
};
use super::{Finding, Judgement, aiqum, preconditions as pre};
use crate::transport::Exchange;

/// Runs a response check on `body` (the answer's JSON, or the final job of a poll).
pub fn response(check: Response, rule: &str, ex: &Exchange, body: Option<&Value>) -> Judgement {
    let mut j = Judgement::default();
    let null = Value::Null;
    let b = body.unwrap_or(&null);
    match check {
        Response::UnknownHandleError => unknown_handle(rule, b, false, &mut j),
        Response::GoneHandleError => unknown_handle(rule, b, true, &mut j),
        Response::UnusedParameters => unused_parameters(rule, ex, b, &mut j),
        Response::Error500 => error_500(rule, b, &mut j),
        Response::GetapiVersions => getapi(rule, ex, b, &mut j),
        Response::AsyncListShape => async_list_shape(rule, b, &mut j),
        Response::AsyncListFilter => async_list_filter(rule, ex, b, &mut j),
        Response::AcceptLink => accept_link(rule, b, &mut j),
        Response::UmErrorBody => um_error_body(rule, ex, b, &mut j),
        Response::UmListShape => um_list_shape(rule, b, &mut j),
        Response::NewestFirst => newest_first(rule, b, &mut j),
        Response::DefaultPageSize => default_page_size(rule, b, &mut j),
        Response::ListFilterOnly => list_filter(rule, ex, b, &mut j),
        Response::JobResultsShape => job_results_shape(rule, b, &mut j),
        Response::Status(want) => status(rule, want, b, &mut j),
        Response::StatusNotWarning => status_not_warning(rule, b, &mut j),
        Response::Terminal => terminal(rule, b, &mut j),
        Response::IsRunning => pre::gar_status(b, "running", &mut j),
        Response::IsComplete => pre::gar_status(b, "complete", &mut j),
        Response::IsError => pre::is_error(b, &mut j),
        Response::IsResult => pre::is_result(b, &mut j),
        Response::HasEntries => pre::has_entries(b, &mut j),
        Response::UmRunning => pre::um_terminal(b, false, &mut j),
        Response::UmTerminal => pre::um_terminal(b, true, &mut j),
        Response::UmFailed => pre::um_failed(b, &mut j),
        Response::KeyHasColon => pre::key_has_colon(b, &mut j),
    }
    j
}

fn accept_link(rule: &str, b: &Value, j: &mut Judgement) {
    let key = b.pointer("/job/key").and_then(Value::as_str);
    let (Some(key), Some(href)) = (key, b.pointer("/job/_links/self/href")) else {
        return;
    };
    let ok = href.as_str().is_some_and(|h| {
        let path = h
            .split_once("://")
            .map_or(h, |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]));
        [
            format!("/api/management-server/jobs/{key}"),
            format!("/api/v2/management-server/jobs/{key}"),
        ]
        .contains(&path.to_string())
    });
    if !ok {
        j.fail(
            Finding::new(rule, "job._links.self.href does not name the job's key")
                .at("/job/_links/self/href")
                .values(
                    Some(format!("/api/management-server/jobs/{key}").into()),
                    Some(href.clone()),
                ),
        );
    }
}

fn um_error_body(rule: &str, ex: &Exchange, b: &Value, j: &mut Judgement) {
    if ex.status().is_none_or(|s| s < 400) {
        j.inconclusive(format!(
            "precondition: an error answer was expected, the status was {:?}",
            ex.status()
        ));
    } else if !b.pointer("/error/message").is_some_and(Value::is_string) {
        j.fail(
            Finding::new(rule, "the error answer has no JSON error.message string")
                .at("/error/message")
                .values(Some("string".into()), body_or_text(ex)),
        );
    }
}

fn newest_first(rule: &str, b: &Value, j: &mut Judgement) {
    let times: Vec<Option<jiff::Timestamp>> = records(b)
        .iter()
        .map(|r| {
            r.get("submit_time")
                .and_then(Value::as_str)
                .and_then(super::parse_iso)
        })
        .collect();
    for (i, w) in times.windows(2).enumerate() {
        if let (Some(a), Some(c)) = (w[0], w[1])
            && c > a
        {
            j.fail(
                Finding::new(rule, "a record is newer than the one before it")
                    .at(format!("/records/{}/submit_time", i + 1))
                    .values(
                        b.pointer(&format!("/records/{i}/submit_time")).cloned(),
                        b.pointer(&format!("/records/{}/submit_time", i + 1))
                            .cloned(),
                    ),
            );
            break;
        }
    }
}

fn default_page_size(rule: &str, b: &Value, j: &mut Judgement) {
    let n = records(b).len();
    if n > 20 {
        j.fail(
            Finding::new(rule, "more than 20 records came back without max_records")
                .at("/records")
                .values(Some(20.into()), Some(n.into())),
        );
    }
}

fn job_results_shape(rule: &str, b: &Value, j: &mut Judgement) {
    match aiqum::outcome(b).as_deref() {
        Some("NORMAL") => {
            let ok = b
                .get("job_results")
                .and_then(Value::as_array)
                .is_some_and(|a| {
                    a.iter().all(|r| {
                        r.get("name").is_some_and(Value::is_string)
                            && r.get("value").is_some_and(Value::is_string)
                    })
                });
            if !ok {
                j.fail(
                    Finding::new(rule, "job_results is not an array of {name, value} strings")
                        .at("/job_results")
                        .values(
                            Some(json!([{"name": "string", "value": "string"}])),
                            b.get("job_results").cloned(),
                        ),
                );
            }
        }
        other => j.inconclusive(format!(
            "the job did not finish NORMAL (outcome {other:?}), so UM-RESULTS says nothing"
        )),
    }
}

fn status(rule: &str, want: Outcome, b: &Value, j: &mut Judgement) {
    let want = want.value();
    if aiqum::outcome(b).as_deref() != Some(want) {
        let member = &format!("/{}", aiqum::outcome_member(b));
        j.fail(
            Finding::new(rule, "the job's outcome is not the expected one")
                .at(member)
                .values(Some(want.into()), b.pointer(member).cloned()),
        );
    }
}

fn status_not_warning(rule: &str, b: &Value, j: &mut Judgement) {
    if aiqum::outcome(b).as_deref() == Some("WARNING") {
        let member = &format!("/{}", aiqum::outcome_member(b));
        j.fail(
            Finding::new(
                rule,
                "the job ended on WARNING although its run went on past the warning",
            )
            .at(member)
            .values(Some("not WARNING".into()), b.pointer(member).cloned()),
        );
    }
}

fn terminal(rule: &str, b: &Value, j: &mut Judgement) {
    if crate::poll::aiqum_terminal(b) != Some(true) {
        j.fail(
            Finding::new(rule, "the job is not terminal")
                .at("/state")
                .values(None, b.get("state").cloned()),
        );
    }
}

fn body_or_text(ex: &Exchange) -> Option<Value> {
    ex.response
        .as_ref()
        .ok()
        .and_then(|r| serde_json::to_value(&r.body).ok())
}

/// Runs a group check over the answers of a `concurrent` step.
pub fn group(check: Group, rule: &str, answers: &[(usize, &Exchange)]) -> Judgement {
    let mut j = Judgement::default();
    match check {
        Group::ExactlyOneResult => {
            let with_result: Vec<usize> = answers
                .iter()
                .filter(|(_, ex)| ex.json().is_some_and(|b| b.get("result").is_some()))
                .map(|(i, _)| *i)
                .collect();
            if with_result.len() != 1 {
                j.fail(
                    Finding::new(
                        rule,
                        format!(
                            "{} of {} concurrent fetches got the result",
                            with_result.len(),
                            answers.len()
                        ),
                    )
                    .values(Some(1.into()), Some(with_result.len().into())),
                );
            }
            // The others' error shape is EL-GAR-UNKNOWN's business (judged elsewhere), so a wrong
            // error name never shows up as EL-KEEP-ONCE.
        }
    }
    j
}

/// Runs a pure step check on its (expanded) arguments.
pub fn step(check: PureStep, rule: &str, args: &Value) -> Judgement {
    let mut j = Judgement::default();
    match check {
        PureStep::Distinct => {
            let values = args
                .get("values")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for (i, a) in values.iter().enumerate() {
                if values[..i].contains(a) {
                    j.fail(
                        Finding::new(rule, "two asynchronous calls got the same handle")
                            .values(Some("distinct values".into()), Some(a.clone())),
                    );
                }
            }
        }
    }
    j
}
