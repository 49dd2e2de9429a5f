//! The live progress line of a running poll: on a terminal (stderr is a TTY and `CI` is not set),
//! each event of the poll rewrites one line on stderr with the target, the job, the state it
//! showed, the time since the poll began, the number of requests so far and when the poller will
//! look again (`next poll in 2.4 s`, or `long poll (30 s)` while a long poll is outstanding); the
//! line is cleared when the poll ends. Nothing is printed in CI or when stderr is not a terminal.
//! The text is a pure function of those values ([`fn@line`]). Never judges anything.
//!
//! [`Terminal`] is the runner's [`crate::exec::Watcher`]: `exec` tells it about each poll and
//! draws nothing itself.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use crate::poll::{Event, Next};
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

/// The progress line of one poll: what it has shown so far, updated by the poll's events.
#[derive(Debug, Clone)]
pub struct Watch {
    /// Target name.
    pub target: String,
    /// The job (handle or key), as text.
    pub job: String,
    /// When the poll began.
    pub since: tokio::time::Instant,
    /// What the last answer showed ([`state_of`]); `None` before the first.
    pub state: Option<String>,
    /// Answers seen so far.
    pub requests: usize,
    /// When the poller will look again, as last told.
    pub next: Option<Next>,
}

impl Watch {
    /// A poll of `job` on `target` that began `since`.
    pub fn new(target: &str, job: &str, since: tokio::time::Instant) -> Watch {
        Watch {
            target: target.to_string(),
            job: job.to_string(),
            since,
            state: None,
            requests: 0,
            next: None,
        }
    }

    /// Takes one event of the poll into account ([`Watch::update`]) and, when progress lines
    /// are enabled, rewrites the line.
    pub fn event(&mut self, e: &Event<'_>) {
        self.update(e);
        if enabled() {
            write_line(&self.render(self.since.elapsed()));
        }
    }

    /// Takes one event of the poll into account. An answer forgets the previous "next" until the
    /// poller tells the new one.
    pub fn update(&mut self, e: &Event<'_>) {
        match e {
            Event::Observed(ex) => {
                self.requests += 1;
                self.state = Some(state_of(ex));
                self.next = None;
            }
            Event::Next(n) => self.next = Some(*n),
        }
    }

    /// The line's text `elapsed` after the poll began.
    pub fn render(&self, elapsed: Duration) -> String {
        line(
            &self.target,
            &self.job,
            self.state.as_deref(),
            elapsed,
            self.requests,
            self.next,
        )
    }
}

/// The text of a progress line (without the control characters that rewrite it).
pub fn line(
    target: &str,
    job: &str,
    state: Option<&str>,
    elapsed: Duration,
    requests: usize,
    next: Option<Next>,
) -> String {
    let mut s = format!(
        "{target}: polling {job}: {}, {:.1} s, {requests} request(s)",
        state.unwrap_or("waiting"),
        elapsed.as_secs_f64()
    );
    if let Some(n) = next {
        s.push_str(", ");
        s.push_str(&next_text(n));
    }
    s
}

/// When the poller will look again, in a few words: `next poll in 2.4 s`, `long poll (30 s)`.
pub fn next_text(next: Next) -> String {
    match next {
        Next::In(d) => format!("next poll in {}", span(d)),
        Next::LongPoll { real, .. } => format!("long poll ({})", span(real)),
    }
}

/// A duration for people: `350 ms` below a second, `2.4 s` below ten, `30 s` above.
fn span(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{} ms", d.as_millis())
    } else if s < 10.0 {
        format!("{s:.1} s")
    } else {
        format!("{s:.0} s")
    }
}

/// The progress lines of every poll, on stderr when [`enabled`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Terminal;

impl crate::exec::Watcher for Terminal {
    fn poll(&self, target: &str, job: &str) -> Box<dyn crate::exec::PollWatch> {
        Box::new(Watch::new(target, job, tokio::time::Instant::now()))
    }
}

impl crate::exec::PollWatch for Watch {
    fn event(&mut self, e: &Event<'_>) {
        Watch::event(self, e);
    }
}

impl Drop for Watch {
    /// The line goes when its poll ends.
    fn drop(&mut self) {
        if enabled() {
            clear();
        }
    }
}

/// Replaces the progress line on stderr with `text`.
fn write_line(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[K{text}");
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
    use super::{Watch, line, next_text, state_of};
    use crate::poll::{Event, Next};
    use crate::transport::{AuthMode, Body, Exchange, RequestRecord, ResponseRecord};
    use serde_json::json;
    use std::time::Duration;

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

    #[test]
    fn next_poll_is_shown_in_words() {
        let ms = Duration::from_millis;
        assert_eq!(next_text(Next::In(ms(2400))), "next poll in 2.4 s");
        assert_eq!(next_text(Next::In(ms(10))), "next poll in 10 ms");
        assert_eq!(next_text(Next::In(ms(15_000))), "next poll in 15 s");
        let long = Next::LongPoll {
            poll_timeout: 30,
            real: Duration::from_secs(30),
        };
        assert_eq!(next_text(long), "long poll (30 s)");
        let scaled = Next::LongPoll {
            poll_timeout: 30,
            real: ms(600),
        };
        assert_eq!(
            next_text(scaled),
            "long poll (600 ms)",
            "real time, not the target's"
        );
    }

    #[test]
    fn the_line_names_target_job_state_time_requests_and_next() {
        let ms = Duration::from_millis;
        assert_eq!(
            line(
                "lab",
                "17",
                Some("running 40%"),
                ms(12_345),
                3,
                Some(Next::In(ms(2400)))
            ),
            "lab: polling 17: running 40%, 12.3 s, 3 request(s), next poll in 2.4 s"
        );
        assert_eq!(
            line("mock", "job-1", None, ms(0), 0, None),
            "mock: polling job-1: waiting, 0.0 s, 0 request(s)"
        );
    }

    #[test]
    fn a_watch_follows_the_events_of_a_poll() {
        let mut w = Watch::new("um", "k-1", tokio::time::Instant::now());
        let long = Next::LongPoll {
            poll_timeout: 30,
            real: Duration::from_secs(30),
        };
        w.update(&Event::Next(long));
        let at = Duration::from_millis(1500);
        assert_eq!(
            w.render(at),
            "um: polling k-1: waiting, 1.5 s, 0 request(s), long poll (30 s)"
        );
        let running = ex(serde_json::json!({"state": "running", "status": "normal"}));
        w.update(&Event::Observed(&running));
        assert_eq!(
            w.render(at),
            "um: polling k-1: running/normal, 1.5 s, 1 request(s)",
            "an answer forgets the long poll it answered"
        );
        w.update(&Event::Next(Next::In(Duration::from_millis(750))));
        assert_eq!(
            w.render(at),
            "um: polling k-1: running/normal, 1.5 s, 1 request(s), next poll in 750 ms"
        );
    }
}
