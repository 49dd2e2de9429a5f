//! The live progress line of a running poll: on a terminal (stderr is a TTY and `CI` is not set),
//! each observation rewrites one line on stderr with the target, the job, the state it showed,
//! the time since the poll began and the number of requests so far; the line is cleared when the
//! poll ends. Nothing is printed in CI or when stderr is not a terminal. Never judges anything.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use crate::transport::Exchange;

/// Whether progress lines are shown in this process.
pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
        std::io::stderr().is_terminal() && !ci
    })
}

/// What an answer showed about the job, in a few words.
pub fn state_of(ex: &Exchange) -> String {
    let Some(body) = ex.json() else {
        return match &ex.response {
            Ok(r) => format!("HTTP {}", r.status),
            Err(e) => format!("no answer ({e})"),
        };
    };
    if let Some(name) = body.pointer("/error/name").and_then(Value::as_str) {
        return name.to_string();
    }
    let gar = body.get("result").filter(|r| r.get("status").is_some());
    let job = gar.unwrap_or(body);
    let word = |k: &str| job.get(k).and_then(Value::as_str);
    let mut s = match (word("status"), word("state")) {
        (Some(status), Some(state)) => format!("{state}/{status}"),
        (Some(one), None) | (None, Some(one)) => one.to_string(),
        (None, None) => "?".into(),
    };
    if let Some(p) = job
        .pointer("/details/percentComplete")
        .and_then(Value::as_u64)
    {
        s.push_str(&format!(" {p}%"));
    }
    s
}

/// Shows one more observation of a poll on the progress line, when progress lines are enabled.
pub fn observed(
    target: &str,
    job: &str,
    ex: &Exchange,
    since: tokio::time::Instant,
    requests: usize,
) {
    if enabled() {
        show(target, job, &state_of(ex), since.elapsed(), requests);
    }
}

/// Rewrites the progress line.
pub fn show(target: &str, job: &str, state: &str, elapsed: Duration, requests: usize) {
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "\r\x1b[K{target}: polling {job}: {state}, {:.1} s, {requests} request(s)",
        elapsed.as_secs_f64()
    );
    let _ = err.flush();
}

/// Clears the progress line.
pub fn clear() {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[K");
    let _ = err.flush();
}

#[cfg(test)]
mod tests {
    use super::state_of;
    use crate::transport::{AuthMode, Body, Exchange, RequestRecord, ResponseRecord};
    use serde_json::json;

    fn ex(body: serde_json::Value) -> Exchange {
        Exchange {
            request: RequestRecord {
                method: "POST".into(),
                url: "u".into(),
                auth: AuthMode::Default,
                body: None,
            },
            response: Ok(ResponseRecord {
                status: 200,
                content_type: None,
                body: Body::Json(body),
                elapsed_ms: 1,
            }),
        }
    }

    #[test]
    fn states_read_from_both_apis() {
        let running =
            json!({"id": 1, "result": {"status": "running", "details": {"percentComplete": 40}}});
        assert_eq!(state_of(&ex(running)), "running 40%");
        assert_eq!(
            state_of(&ex(json!({"state": "running", "status": "warning"}))),
            "running/warning"
        );
        assert_eq!(state_of(&ex(json!({"state": "WARNING"}))), "WARNING");
        let gone = json!({"id": 1, "error": {"code": 500, "name": "xAsyncHandleDoesNotExist", "message": ""}});
        assert_eq!(state_of(&ex(gone)), "xAsyncHandleDoesNotExist");
    }
}
