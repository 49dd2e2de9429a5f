//! The precondition checks among the named response checks (`is-running`, `is-complete`,
//! `is-error`, `is-result`, `has-entries`, `um-running`, `um-terminal`, `um-failed`,
//! `key-has-colon`): each says whether an answer shows what the case needs, and when it does
//! not, makes the judgement inconclusive. They never fail a rule. Pure.

use serde_json::Value;

use super::{Judgement, aiqum};

/// A short rendering of an answer for a reason (at most 200 characters).
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

/// GetAsyncResult's `result.status` is `want` (`running`, `complete`).
pub(crate) fn gar_status(b: &Value, want: &str, j: &mut Judgement) {
    if b.pointer("/result/status").and_then(Value::as_str) != Some(want) {
        j.inconclusive(format!(
            "precondition: the handle was expected {want}, the answer was {}",
            brief(b)
        ));
    }
}

/// The JSON-RPC answer is a method error.
pub(crate) fn is_error(b: &Value, j: &mut Judgement) {
    if b.get("error").is_none() {
        j.inconclusive(format!(
            "precondition: a method error was expected, the answer was {}",
            brief(b)
        ));
    }
}

/// The JSON-RPC answer is a result.
pub(crate) fn is_result(b: &Value, j: &mut Judgement) {
    if b.get("result").is_none() {
        j.inconclusive(format!(
            "precondition: a result was expected, the answer was {}",
            brief(b)
        ));
    }
}

/// ListAsyncResults listed at least one entry.
pub(crate) fn has_entries(b: &Value, j: &mut Judgement) {
    if b.pointer("/result/asyncHandles")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
    {
        j.inconclusive(
            "precondition: ListAsyncResults listed no entry (the handles it should list are gone: another rule's failure)",
        );
    }
}

/// The AIQUM job is terminal (`want`) or running (`!want`).
pub(crate) fn um_terminal(b: &Value, want: bool, j: &mut Judgement) {
    if crate::poll::aiqum_terminal(b) != Some(want) {
        j.inconclusive(format!(
            "precondition: the job was expected {}, the answer was {}",
            if want { "terminal" } else { "running" },
            brief(b)
        ));
    }
}

/// The AIQUM job's outcome is ERROR or PARTIAL_FAILURES.
pub(crate) fn um_failed(b: &Value, j: &mut Judgement) {
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

/// The job key at `/key`, `/job/key` or `/records/0/key` contains `:`.
pub(crate) fn key_has_colon(b: &Value, j: &mut Judgement) {
    let key = ["/key", "/job/key", "/records/0/key"]
        .iter()
        .find_map(|p| b.pointer(p).and_then(Value::as_str));
    if !key.is_some_and(|k| k.contains(':')) {
        j.inconclusive("precondition: the job key has no ':' to test with");
    }
}
