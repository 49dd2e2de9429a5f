//! Which per-observation rules a case's observations exercised, so that the report counts them
//! for every case that polled (not only for the cases that name them), and never counts a rule
//! as passed on what was not seen: EL-GAR-RUNNING and -DETAILS need a `running` answer,
//! -COMPLETE a `complete` one, -ASYNC-ERROR a complete answer with an `error`, -STABLE two
//! answers about one handle; UM-TERMINAL-ABSORBING a read after a terminal one, UM-STATE-FORWARD
//! two reads, UM-FAILED-IS-200 a failed job. (UM-WARNING is not among them: whether a job that
//! ended on WARNING was meant to go on cannot be seen from its answers.) Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// The per-observation rules exercised by the Element observations (nested GetAsyncResult
/// `result` objects per handle) and AIQUM observations (job objects per key) of one case.
pub fn rules(
    element: &BTreeMap<String, Vec<Value>>,
    aiqum: &BTreeMap<String, Vec<Value>>,
) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    for obs in element.values().filter(|o| !o.is_empty()) {
        out.extend(["EL-GAR-STATUS", "EL-GAR-TIMES"]);
        let status = |o: &Value| o.get("status").and_then(Value::as_str).map(str::to_string);
        if obs.iter().any(|o| status(o).as_deref() == Some("running")) {
            out.extend(["EL-GAR-RUNNING", "EL-GAR-DETAILS"]);
        }
        let complete: Vec<&Value> = obs
            .iter()
            .filter(|o| status(o).as_deref() == Some("complete"))
            .collect();
        if !complete.is_empty() {
            out.insert("EL-GAR-COMPLETE");
        }
        if complete.iter().any(|o| o.get("error").is_some()) {
            out.insert("EL-GAR-ASYNC-ERROR");
        }
        if obs.len() >= 2 {
            out.insert("EL-GAR-STABLE");
        }
    }
    for obs in aiqum.values().filter(|o| !o.is_empty()) {
        out.extend(["UM-JSON", "UM-JOB-SHAPE", "UM-JOB-STATUS", "UM-JOB-TIMES"]);
        if obs.len() >= 2 {
            out.insert("UM-STATE-FORWARD");
        }
        let terminal = |o: &Value| crate::poll::aiqum_terminal(o) == Some(true);
        if let Some(first) = obs.iter().position(terminal)
            && obs.len() > first + 1
        {
            out.insert("UM-TERMINAL-ABSORBING");
        }
        let outcome = |o: &Value| super::aiqum::outcome(o);
        if obs
            .iter()
            .any(|o| matches!(outcome(o).as_deref(), Some("ERROR" | "PARTIAL_FAILURES")))
        {
            out.insert("UM-FAILED-IS-200");
        }
    }
    out
}
