//! The order and repetition of exchanges that depend on timing, not on the target: the answers of
//! a `concurrent` group (which of N simultaneous calls wins is a race) are put in a canonical
//! order, and the answers of repeated polls are recorded once each. The groups come typed from
//! [`crate::exec::CaseOutcome::concurrent`].
//!
//! Pure (no I/O) and it never drops an answer a firmware diff needs: every distinct answer of a
//! poll stays, in order of first appearance, and every answer of a concurrent group stays (only
//! their order changes).

use std::collections::BTreeSet;
use std::ops::Range;

use serde_json::Value;

/// The ranges that fit a transcript of `len` exchanges (a range past its end is dropped).
pub fn within(ranges: &[Range<usize>], len: usize) -> Vec<Range<usize>> {
    ranges
        .iter()
        .filter(|r| r.start < r.end && r.end <= len)
        .cloned()
        .collect()
}

/// The transcript order to snapshot: every index in place, except that within each group the
/// exchanges are sorted by their (redacted) JSON text. Ties keep their order.
pub fn permutation(redacted: &[Value], groups: &[Range<usize>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..redacted.len()).collect();
    for g in groups {
        let Some(slice) = order.get_mut(g.clone()) else {
            continue;
        };
        slice.sort_by_cached_key(|&i| serde_json::to_string(&redacted[i]).unwrap_or_default());
    }
    order
}

/// Whether a redacted exchange is an idempotent read whose answer only reflects when it was
/// sent: an HTTP GET, `GetAsyncResult` with `keepResult: true`, or `ListAsyncResults`.
fn is_poll(x: &Value) -> bool {
    let req = &x["request"];
    if req["method"] == "GET" {
        return true;
    }
    match req["body"]["method"].as_str() {
        Some("GetAsyncResult") => req["body"]["params"]["keepResult"] == Value::Bool(true),
        Some("ListAsyncResults") => true,
        _ => false,
    }
}

/// The exchanges kept in a snapshot (in order). Inside a concurrent group (`grouped[i]`) every
/// exchange stays. Elsewhere an exchange equal to the one kept before it is dropped, and a poll
/// answer that already appeared earlier in the case (placeholder numbers aside) is dropped unless
/// it ended its run of polls: how often a job is seen `running`, whether it is seen `running`
/// again after `warning`, and whether a second job is still `running` when its first poll comes
/// all depend on timing. What a poll run ended on, and every distinct answer, stay.
pub fn condense(exchanges: Vec<Value>, grouped: &[bool]) -> Vec<Value> {
    let in_group = |i: usize| grouped.get(i).copied().unwrap_or(false);
    let poll = |i: usize| !in_group(i) && exchanges.get(i).is_some_and(is_poll);
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut keep = vec![true; exchanges.len()];
    for (i, x) in exchanges.iter().enumerate() {
        if !poll(i) {
            continue;
        }
        let ends_run = !(poll(i + 1) && exchanges[i + 1]["request"] == x["request"]);
        // The same answer to the same kind of request (a plain poll after long polls, or
        // another job's poll), placeholder numbers aside.
        let answer = serde_json::to_string(&x["response"]).unwrap_or_default();
        let key = super::strip_numbers(&format!("{} {answer}", super::signature(x)));
        if !seen.insert(key) && !ends_run {
            keep[i] = false;
        }
    }
    let mut out: Vec<Value> = Vec::with_capacity(exchanges.len());
    let mut prev_grouped = true;
    for (i, x) in exchanges.into_iter().enumerate() {
        if !keep[i] {
            continue;
        }
        let g = in_group(i);
        if !g && !prev_grouped && out.last() == Some(&x) {
            continue;
        }
        prev_grouped = g;
        out.push(x);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn get(status: &str) -> Value {
        get_of(1, status)
    }
    fn get_of(job: u32, status: &str) -> Value {
        json!({"request": {"method": "GET", "path": format!("/jobs/[job-key-{job}]")},
               "response": {"status": 200, "body": {"status": status}}})
    }
    fn rpc(result: &str) -> Value {
        json!({"request": {"method": "POST", "body": {"method": "GetAsyncResult",
               "params": {"asyncHandle": "[handle-1]"}}},
               "response": {"status": 200, "body": {"r": result}}})
    }

    #[test]
    fn groups_past_the_transcript_or_empty_are_dropped() {
        assert_eq!(within(&[2..5, 4..40, 3..3], 10), vec![2..5]);
    }

    #[test]
    fn a_group_is_sorted_and_the_rest_stays() {
        let xs = vec![rpc("z"), rpc("b"), rpc("a"), rpc("b"), rpc("0")];
        let groups = [Range { start: 1, end: 4 }];
        assert_eq!(permutation(&xs, &groups), vec![0, 2, 1, 3, 4]);
    }

    #[test]
    fn polls_keep_each_distinct_answer_once() {
        let xs = vec![get("normal"), get("warning"), get("normal"), get("error")];
        let got = condense(xs, &[]);
        assert_eq!(got, vec![get("normal"), get("warning"), get("error")]);
    }

    #[test]
    fn a_second_job_seen_running_or_not_gives_the_same_exchanges() {
        let head = vec![
            get_of(1, "running"),
            get_of(1, "running"),
            get_of(1, "done"),
        ];
        let mut late = head.clone();
        late.extend([get_of(2, "running"), get_of(2, "done")]);
        let mut early = head.clone();
        early.push(get_of(2, "done"));
        assert_eq!(condense(late, &[]), condense(early.clone(), &[]));
        assert_eq!(
            condense(early.clone(), &[]),
            vec![early[0].clone(), early[2].clone(), early[3].clone()]
        );
    }

    #[test]
    fn the_answer_that_ended_a_poll_stays_even_if_seen_before() {
        let xs = vec![get("running"), get("done"), get_of(2, "running")];
        assert_eq!(condense(xs.clone(), &[]), xs);
    }

    #[test]
    fn repeated_fetches_that_are_not_polls_keep_their_order() {
        let xs = vec![rpc("result"), rpc("error"), rpc("result"), rpc("result")];
        let got = condense(xs, &[]);
        assert_eq!(got, vec![rpc("result"), rpc("error"), rpc("result")]);
    }

    #[test]
    fn a_concurrent_group_keeps_every_answer() {
        let xs = vec![rpc("error"), rpc("error"), rpc("result"), rpc("result")];
        let got = condense(xs.clone(), &[false, true, true, false]);
        assert_eq!(
            got,
            vec![rpc("error"), rpc("error"), rpc("result"), rpc("result")]
        );
    }
}
