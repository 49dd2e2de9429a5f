//! The register's job vocabulary, each rule the harness applies stated once: what is terminal in
//! each dialect (Element `complete`; AIQUM register U1/U2/U4), which AIQUM values are readable
//! (U1, U11), and what is a transient fault (CL-TRANSIENT). `poll` decides whether to poll again
//! with it, `exec` and `cleanup` whether to resend, `check` and `traffic` how to read a job.
//!
//! Pure functions over exchanges and job objects: no I/O, no judging (a value these functions
//! cannot read is reported by `check`, not here). Depends on `transport`'s exchange record only.

use serde_json::Value;

use crate::transport::{Exchange, TransportError};

/// Element method errors that are transient (CL-TRANSIENT): retried, never terminal.
pub const ELEMENT_TRANSIENT: &[&str] = &[
    "xDBVersionMismatch",
    "xNotPrimary",
    "xDBConnectionLoss",
    "xDBOperationTimeout",
    "xDBSessionExpired",
    "xDBNoServerResponse",
];

/// Whether a GetAsyncResult `result` object says the operation ended: `status == "complete"`.
pub fn element_terminal(result: &Value) -> bool {
    result.get("status").and_then(Value::as_str) == Some("complete")
}

/// Lifecycle `state` values of the split dialect (register U1), lower case.
pub const AIQUM_LIFECYCLE: &[&str] = &[
    "queued",
    "waiting",
    "scheduled",
    "running",
    "aborting",
    "completed",
    "aborted",
];

/// Whether `state` is one of [`AIQUM_LIFECYCLE`], compared without case (U4).
pub fn is_lifecycle(state: &str) -> bool {
    // Compared without case and without allocating (the lists are all one case).
    AIQUM_LIFECYCLE
        .iter()
        .any(|l| l.eq_ignore_ascii_case(state))
}

/// Outcome values (register U1), upper case: `status` in the split dialect, `state` in the
/// literal one.
pub const AIQUM_OUTCOMES: &[&str] = &["NORMAL", "WARNING", "PARTIAL_FAILURES", "ERROR"];

/// Register U1/U2: whether an AIQUM job object is terminal. Split dialect (a `status` member
/// exists): `state` is `completed` or `aborted`. Literal dialect: `state` is `NORMAL`, `ERROR` or
/// `PARTIAL_FAILURES`. Case-insensitive; WARNING alone is never terminal. `None` if the object has
/// no string `state`.
pub fn aiqum_terminal(job: &Value) -> Option<bool> {
    let state = job.get("state")?.as_str()?;
    let any = |words: &[&str]| words.iter().any(|w| w.eq_ignore_ascii_case(state));
    Some(if job.get("status").is_some() {
        any(&["completed", "aborted"])
    } else {
        any(&["normal", "error", "partial_failures"])
    })
}

/// Why an AIQUM job's `state`/`status` cannot be read in either dialect of register U1, if it
/// cannot (compared without case, U4): split (a `status` member): `status` is not one of the four
/// outcomes (an unknown lifecycle `state` is [`unknown_state`]'s: register U11); literal:
/// `state` is neither an outcome nor a lifecycle value.
pub fn aiqum_unreadable(job: &Value) -> Option<String> {
    let state = job.get("state").and_then(Value::as_str).unwrap_or("");
    let lifecycle = is_lifecycle(state);
    let outcome = |s: &str| AIQUM_OUTCOMES.iter().any(|o| o.eq_ignore_ascii_case(s));
    match job.get("status") {
        Some(status) => {
            let status = status.as_str().unwrap_or("");
            (!outcome(status)).then(|| format!("status {status:?} is none of {AIQUM_OUTCOMES:?}"))
        }
        None if !lifecycle && !outcome(state) => Some(format!(
            "state {state:?} is neither an outcome nor a lifecycle state (register U1)"
        )),
        None => None,
    }
}

/// Register U11: the `state` of a job that is not terminal (U1/U2) and not one a job shows
/// while it is still going: `queued`, `waiting`, `scheduled`, `running`, `aborting` (the AIQUM
/// pages' job and task states), and in the literal dialect `WARNING`. Compared without case.
/// Polling on such a value would wait for the deadline on something it cannot read.
pub fn unknown_state(job: &Value) -> Option<&str> {
    let state = job.get("state")?.as_str()?;
    let literal_warning = job.get("status").is_none() && state.eq_ignore_ascii_case("warning");
    let known = aiqum_terminal(job) == Some(true) || literal_warning || is_lifecycle(state);
    (!known).then_some(state)
}

/// A transient fault (CL-TRANSIENT): not an answer to judge, a reason to ask again.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// The connection broke or timed out: the request may or may not have been carried out.
    Connection(TransportError),
    /// An HTTP 5xx that carries no answer the contract reads (no named JSON-RPC method error, no
    /// AIQUM job that says it ended): a gateway's or an overloaded server's page.
    Http(u16),
    /// An Element method error named in [`ELEMENT_TRANSIENT`], whatever the HTTP status.
    Method(String),
}

impl Fault {
    /// Whether the fault shows the request was not carried out, so that even a write may be sent
    /// again: an HTTP 503 (service unavailable) or a transient method error. A broken connection
    /// or another 5xx may come after the work was done.
    pub fn nothing_done(&self) -> bool {
        matches!(self, Fault::Http(503) | Fault::Method(_))
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Connection(e) => write!(f, "failed to {e}"),
            Fault::Http(s) => write!(f, "HTTP {s}"),
            Fault::Method(name) => write!(f, "method error {name}"),
        }
    }
}

/// CL-TRANSIENT, the one definition: whether `ex` is a transient fault rather than an answer.
/// A broken or timed-out connection; an Element method error named in [`ELEMENT_TRANSIENT`]; an
/// HTTP 5xx, unless its body is an answer the contract reads: a named JSON-RPC method error
/// (judged by its name: `errors-as-http-500` is EL-RPC-ERROR-HTTP's business) or an AIQUM job
/// that says it ended (a server that reads failed jobs with an error code: UM-FAILED-IS-200's).
/// Whether a fault may be resent is the caller's: see [`Fault::nothing_done`].
pub fn transient(ex: &Exchange) -> Option<Fault> {
    let r = match &ex.response {
        Err(e @ (TransportError::Io(_) | TransportError::Timeout(_))) => {
            return Some(Fault::Connection(e.clone()));
        }
        Err(_) => return None,
        Ok(r) => r,
    };
    let body = r.body.json();
    if let Some(name) = body
        .and_then(|b| b.pointer("/error/name"))
        .and_then(Value::as_str)
    {
        return ELEMENT_TRANSIENT
            .contains(&name)
            .then(|| Fault::Method(name.to_string()));
    }
    let ended_job =
        body.is_some_and(|j| aiqum_terminal(j) == Some(true) && aiqum_unreadable(j).is_none());
    ((500..600).contains(&r.status) && !ended_job).then_some(Fault::Http(r.status))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::transport::{AuthMode, Body, RequestRecord, ResponseRecord};

    fn answer(status: u16, body: Body) -> Exchange {
        Exchange {
            request: RequestRecord {
                method: "GET".into(),
                url: "http://127.0.0.1:1/api/management-server/jobs/k".into(),
                auth: AuthMode::Default,
                body: None,
            },
            response: Ok(ResponseRecord {
                status,
                content_type: Some("application/json".into()),
                body,
                elapsed_ms: 1,
            }),
        }
    }

    #[test]
    fn transient_is_a_broken_connection_a_bare_5xx_or_a_named_transient_method_error() {
        let broken = |e: TransportError| Exchange {
            response: Err(e),
            ..answer(200, Body::Empty)
        };
        let io = TransportError::Io("reset".into());
        assert_eq!(transient(&broken(io.clone())), Some(Fault::Connection(io)));
        assert_eq!(
            transient(&broken(TransportError::Timeout(5))),
            Some(Fault::Connection(TransportError::Timeout(5)))
        );
        assert_eq!(
            transient(&broken(TransportError::Connect("refused".into()))),
            None
        );
        for s in [500, 502, 503, 504] {
            assert_eq!(transient(&answer(s, Body::Empty)), Some(Fault::Http(s)));
            let page = json!({"error": {"message": "gateway"}});
            assert_eq!(
                transient(&answer(s, Body::Json(page))),
                Some(Fault::Http(s))
            );
        }
        let mismatch = json!({"error": {"name": "xDBVersionMismatch", "code": 500}, "id": 1});
        assert_eq!(
            transient(&answer(200, Body::Json(mismatch))),
            Some(Fault::Method("xDBVersionMismatch".into()))
        );
    }

    #[test]
    fn answers_the_contract_reads_are_never_transient() {
        let named = json!({"error": {"name": "xUnknownAsyncHandle", "code": 500}, "id": 1});
        assert_eq!(
            transient(&answer(500, Body::Json(named))),
            None,
            "EL-RPC-ERROR-HTTP's"
        );
        let failed = json!({"key": "k", "state": "completed", "status": "ERROR"});
        assert_eq!(
            transient(&answer(500, Body::Json(failed))),
            None,
            "UM-FAILED-IS-200's"
        );
        let running = json!({"key": "k", "state": "running", "status": "NORMAL"});
        assert_eq!(
            transient(&answer(500, Body::Json(running))),
            Some(Fault::Http(500)),
            "a running job on a 5xx says nothing ended"
        );
        for s in [200, 404, 400] {
            assert_eq!(transient(&answer(s, Body::Empty)), None);
        }
    }

    #[test]
    fn only_a_503_or_a_method_error_shows_nothing_was_done() {
        assert!(Fault::Http(503).nothing_done());
        assert!(Fault::Method("xNotPrimary".into()).nothing_done());
        assert!(!Fault::Http(500).nothing_done());
        assert!(!Fault::Connection(TransportError::Io("reset".into())).nothing_done());
    }
}
