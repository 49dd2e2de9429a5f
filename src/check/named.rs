//! Named checks: Rust logic for what a case's `expect`/`pointer` language cannot say. Pure (the
//! ones that need I/O live in `exec::named`, but their names are listed here so the loader knows
//! every name). Each check judges one rule, given by the case; a precondition check never fails a
//! rule, it makes the case inconclusive.
//!
//! Response checks (`{"rule": R, "check": NAME}` in an `expect`; the body is the answer's JSON, or
//! the final job for a `poll` step):
//!
//! - `unknown-handle-error`: the answer is a method error, no result, code 500 (the string `"500"`
//!   is left to EL-RPC-ERROR-SHAPE), name `xAsyncHandleDoesNotExist` or `xDBNoSuchPath`
//!   (register E1: the name served is recorded).
//! - `gone-handle-error`: like `unknown-handle-error` for a handle that should have been
//!   invalidated; if the answer is still a result, that is another rule's failure (EL-KEEP-*), so
//!   the case is inconclusive.
//! - `error-500`: a method error (not a result) with code 500 (EL-GAR-PARAMS).
//! - `unused-parameters`: the call returned a result, and `unusedParameters` (at the top level
//!   or inside `result`: register E6, the place seen is noted) names every `harness*` parameter
//!   sent (EL-RPC-UNUSED-PARAMS).
//! - `getapi-versions`: `currentVersion` and `supportedVersions` present, versions numbers or
//!   numeric strings (E5), and the URL's version among `supportedVersions` (EL-VER-GETAPI).
//! - `async-list-shape`: `asyncHandles` is an array of entries with the documented fields and
//!   types (EL-LIST-SHAPE).
//! - `async-list-filter`: every entry's `resultType` is among the request's `asyncResultTypes`
//!   (EL-LIST-FILTER).
//! - `accept-link`: `job._links.self.href`, when present, ends in
//!   `/api[/v2]/management-server/jobs/<job.key>` (UM-ACCEPT-LINK).
//! - `um-error-body`: a JSON body with a top-level `error` object holding a string `message`
//!   (UM-ERROR-SHAPE).
//! - `um-list-shape`: `records` array, `num_records == len(records)`, `total_records >=
//!   num_records`, `_links` object (UM-LIST-SHAPE).
//! - `newest-first`: records' `submit_time` never increases down the list (UM-LIST-ORDER).
//! - `default-page-size`: at most 20 records (UM-LIST-DEFAULT).
//! - `list-filter-only`: every record matches the request's `key`/`state`/`status` query filters,
//!   compared without case (UM-LIST-FILTER).
//! - `job-results-shape`: a job that finished NORMAL has `job_results`, an array of `{name: str,
//!   value: str}`; other outcomes make the case inconclusive (UM-RESULTS).
//! - `status-normal`, `status-warning`, `status-error`, `status-partial-failures`: the job's outcome
//!   value (`status`, or `state` in the literal dialect) is that one, compared without case.
//! - `status-not-warning`: the final outcome is not WARNING (UM-WARNING: a job whose script goes on
//!   past a mid-run warning must not end on it; a wrong value otherwise is UM-JOB-STATUS's).
//! - `terminal`: the job is terminal by register U1/U2.
//! - Preconditions (inconclusive when they do not hold): `is-running` / `is-complete`
//!   (GetAsyncResult `result.status`), `is-error` / `is-result` (JSON-RPC answer), `um-running`
//!   (job not terminal), `um-terminal` (job terminal), `um-failed` (the job's outcome is ERROR or
//!   PARTIAL_FAILURES: a failing call did fail), `key-has-colon` (the job key at `/key`, `/job/key`
//!   or `/records/0/key` contains `:`), `has-entries` (ListAsyncResults' `asyncHandles` is not an
//!   empty array: an empty list is well-shaped, but leaves no entry to judge).
//!
//! Group checks (`concurrent` step): `exactly-one-result`: among the answers exactly one has a
//! `result`, every other one is an error (EL-KEEP-ONCE; the error's shape is EL-GAR-UNKNOWN's).
//!
//! Step checks (`check` step): `distinct` (pure: `args.values` are pairwise different,
//! EL-HANDLE-UNIQUE); with I/O in `exec::named`: `client-audit`, `list-walk`, `list-agrees`, `not-listed`,
//! `readable-at-once`, `long-poll-timing`, `answers-at-once`, `seen-running`.

use serde_json::{Value, json};

use super::shapes::{
    async_list_shape, code_500, entries, getapi, list_filter, records, um_list_shape,
    unknown_handle, unused_parameters,
};
use super::{Finding, Judgement};
use crate::check::aiqum;
use crate::transport::Exchange;

/// Names of response checks.
pub const RESPONSE: &[&str] = &[
    "unknown-handle-error",
    "gone-handle-error",
    "error-500",
    "getapi-versions",
    "async-list-shape",
    "async-list-filter",
    "accept-link",
    "um-error-body",
    "um-list-shape",
    "newest-first",
    "default-page-size",
    "list-filter-only",
    "job-results-shape",
    "status-normal",
    "status-warning",
    "status-error",
    "status-partial-failures",
    "status-not-warning",
    "terminal",
    "is-running",
    "is-complete",
    "is-error",
    "is-result",
    "um-running",
    "um-terminal",
    "um-failed",
    "key-has-colon",
    "has-entries",
    "unused-parameters",
];

/// Names of group checks.
pub const GROUP: &[&str] = &["exactly-one-result"];

/// Names of step checks (`distinct` here, the others in `exec::named`).
pub const STEP: &[&str] = &[
    "distinct",
    "list-walk",
    "list-agrees",
    "not-listed",
    "readable-at-once",
    "long-poll-timing",
    "answers-at-once",
    "seen-running",
    "client-audit",
];

/// Runs a response check on `body` (the answer's JSON, or the final job of a poll). `None` for an
/// unknown name.
pub fn response(name: &str, rule: &str, ex: &Exchange, body: Option<&Value>) -> Option<Judgement> {
    let mut j = Judgement::default();
    let null = Value::Null;
    let b = body.unwrap_or(&null);
    let fail = |msg: &str| Finding::new(rule, msg);
    match name {
        "unknown-handle-error" => unknown_handle(rule, b, false, &mut j),
        "gone-handle-error" => unknown_handle(rule, b, true, &mut j),
        "unused-parameters" => unused_parameters(rule, ex, b, &mut j),
        "error-500" => {
            if b.get("error").is_none() || b.get("result").is_some() {
                j.fail(fail("the call answered with a result, not a method error").at(""));
            } else if !code_500(b) {
                j.fail(
                    fail("the method error's code is not 500")
                        .at("/error/code")
                        .values(Some(500.into()), b.pointer("/error/code").cloned()),
                );
            }
        }
        "getapi-versions" => getapi(rule, ex, b, &mut j),
        "async-list-shape" => async_list_shape(rule, b, &mut j),
        "async-list-filter" => {
            let wanted = ex
                .request
                .body
                .as_ref()
                .and_then(|r| r.pointer("/params/asyncResultTypes"))
                .cloned()
                .unwrap_or(Value::Null);
            for (i, e) in entries(b).iter().enumerate() {
                let t = e.get("resultType").cloned().unwrap_or(Value::Null);
                if !wanted.as_array().is_some_and(|w| w.contains(&t)) {
                    j.fail(
                        fail("an entry of a type not asked for came back")
                            .at(format!("/result/asyncHandles/{i}/resultType"))
                            .values(Some(wanted.clone()), Some(t)),
                    );
                }
            }
        }
        "accept-link" => {
            let key = b.pointer("/job/key").and_then(Value::as_str);
            if let (Some(key), Some(href)) = (key, b.pointer("/job/_links/self/href")) {
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
                        fail("job._links.self.href does not name the job's key")
                            .at("/job/_links/self/href")
                            .values(
                                Some(format!("/api/management-server/jobs/{key}").into()),
                                Some(href.clone()),
                            ),
                    );
                }
            }
        }
        "um-error-body" => {
            if ex.status().is_none_or(|s| s < 400) {
                j.inconclusive(format!(
                    "precondition: an error answer was expected, the status was {:?}",
                    ex.status()
                ));
            } else if !b.pointer("/error/message").is_some_and(Value::is_string) {
                j.fail(
                    fail("the error answer has no JSON error.message string")
                        .at("/error/message")
                        .values(Some("string".into()), body_or_text(ex)),
                );
            }
        }
        "um-list-shape" => um_list_shape(rule, b, &mut j),
        "newest-first" => {
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
                        fail("a record is newer than the one before it")
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
        "default-page-size" => {
            let n = records(b).len();
            if n > 20 {
                j.fail(
                    fail("more than 20 records came back without max_records")
                        .at("/records")
                        .values(Some(20.into()), Some(n.into())),
                );
            }
        }
        "list-filter-only" => list_filter(rule, ex, b, &mut j),
        "job-results-shape" => match aiqum::outcome(b).as_deref() {
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
                        fail("job_results is not an array of {name, value} strings")
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
        },
        "status-normal" | "status-warning" | "status-error" | "status-partial-failures" => {
            let want = name["status-".len()..]
                .replace('-', "_")
                .to_ascii_uppercase();
            let got = aiqum::outcome(b);
            if got.as_deref() != Some(want.as_str()) {
                let member = &format!("/{}", aiqum::outcome_member(b));
                j.fail(
                    fail("the job's outcome is not the expected one")
                        .at(member)
                        .values(Some(want.into()), b.pointer(member).cloned()),
                );
            }
        }
        "status-not-warning" => {
            if aiqum::outcome(b).as_deref() == Some("WARNING") {
                let member = &format!("/{}", aiqum::outcome_member(b));
                j.fail(
                    fail("the job ended on WARNING although its run went on past the warning")
                        .at(member)
                        .values(Some("not WARNING".into()), b.pointer(member).cloned()),
                );
            }
        }
        "terminal" => {
            if crate::poll::aiqum_terminal(b) != Some(true) {
                j.fail(
                    fail("the job is not terminal")
                        .at("/state")
                        .values(None, b.get("state").cloned()),
                );
            }
        }
        "is-running" | "is-complete" => {
            let want = &name[3..];
            if b.pointer("/result/status").and_then(Value::as_str) != Some(want) {
                j.inconclusive(format!(
                    "precondition: the handle was expected {want}, the answer was {}",
                    brief(b)
                ));
            }
        }
        "is-error" => {
            if b.get("error").is_none() {
                j.inconclusive(format!(
                    "precondition: a method error was expected, the answer was {}",
                    brief(b)
                ));
            }
        }
        "has-entries" => {
            if b.pointer("/result/asyncHandles")
                .and_then(Value::as_array)
                .is_some_and(Vec::is_empty)
            {
                j.inconclusive(
                    "precondition: ListAsyncResults listed no entry (the handles it should list are gone: another rule's failure)",
                );
            }
        }
        "is-result" => {
            if b.get("result").is_none() {
                j.inconclusive(format!(
                    "precondition: a result was expected, the answer was {}",
                    brief(b)
                ));
            }
        }
        "um-running" | "um-terminal" => {
            let terminal = crate::poll::aiqum_terminal(b);
            let want = name == "um-terminal";
            if terminal != Some(want) {
                j.inconclusive(format!(
                    "precondition: the job was expected {}, the answer was {}",
                    if want { "terminal" } else { "running" },
                    brief(b)
                ));
            }
        }
        "um-failed" => {
            if !matches!(
                aiqum::outcome(b).as_deref(),
                Some("ERROR" | "PARTIAL_FAILURES")
            ) {
                j.inconclusive(format!(
                    "precondition: the job was expected to fail (the failing call did not make it fail), the answer was {}",
                    brief(b)
                ));
            }
        }
        "key-has-colon" => {
            let key = ["/key", "/job/key", "/records/0/key"]
                .iter()
                .find_map(|p| b.pointer(p).and_then(Value::as_str));
            if !key.is_some_and(|k| k.contains(':')) {
                j.inconclusive("precondition: the job key has no ':' to test with");
            }
        }
        _ => return None,
    }
    Some(j)
}

fn brief(b: &Value) -> String {
    let s = b.to_string();
    if s.len() > 200 {
        format!(
            "{}...",
            &s[..s.char_indices().nth(200).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}

fn body_or_text(ex: &Exchange) -> Option<Value> {
    ex.response
        .as_ref()
        .ok()
        .and_then(|r| serde_json::to_value(&r.body).ok())
}

/// Runs a group check over the answers of a `concurrent` step. `None` for an unknown name.
pub fn group(name: &str, rule: &str, answers: &[(usize, &Exchange)]) -> Option<Judgement> {
    let mut j = Judgement::default();
    match name {
        "exactly-one-result" => {
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
        _ => return None,
    }
    Some(j)
}

/// Runs a pure step check. `None` for a name that is not pure (see `exec::named`).
pub fn step(name: &str, rule: &str, args: &Value) -> Option<Judgement> {
    let mut j = Judgement::default();
    match name {
        "distinct" => {
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
        _ => return None,
    }
    Some(j)
}
