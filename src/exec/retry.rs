//! Resending the executor's own requests after a transient fault (CL-TRANSIENT, defined once in
//! [`crate::contract::jobs::transient`]): a fault is not an answer to judge. Such a request is
//! retried a few times after a short pause (target time); every attempt stays in the transcript,
//! only the last one is judged. Reads (and everything on the mock, which injects its faults before
//! processing) are resent after any fault; on live targets writes only where the fault shows
//! nothing was done ([`Fault::nothing_done`]: a 503 or a transient method error), never after a
//! broken connection or another 5xx.

use crate::contract::jobs::{self, Fault};
use crate::transport::Exchange;

/// Attempts per request, the first included.
pub const ATTEMPTS: usize = 4;

/// Pause between attempts, in target milliseconds.
pub const PAUSE_MS: u64 = 1000;

/// The fault that makes `ex` worth sending again, or `None` when it is an answer to judge.
/// `idempotent`: whether resending is harmless even if the first request was processed.
pub fn resendable(ex: &Exchange, idempotent: bool) -> Option<Fault> {
    jobs::transient(ex).filter(|f| idempotent || f.nothing_done())
}

/// The retry decision for one request, shared by the executor (every attempt recorded) and
/// cleanup (a longer, growing schedule): how many attempts, the pause before the next one, and
/// whether a broken connection may be resent.
#[derive(Debug, Clone)]
pub struct Retry {
    attempts: usize,
    made: usize,
    pause: std::time::Duration,
    grow: f64,
    idempotent: bool,
}

impl Retry {
    /// At most `attempts` attempts (the first included), `pause` before the second one, each
    /// later pause `grow` times the one before; `idempotent` as for [`resendable`].
    pub fn new(attempts: usize, pause: std::time::Duration, grow: f64, idempotent: bool) -> Retry {
        Retry {
            attempts,
            made: 0,
            pause,
            grow: if grow.is_finite() && grow >= 1.0 {
                grow
            } else {
                1.0
            },
            idempotent,
        }
    }

    /// Counts an attempt that got `ex`: why and after what pause to send the request again, or
    /// `None` when `ex` is the answer to keep (not transient, or no attempt left).
    pub fn after(&mut self, ex: &Exchange) -> Option<(String, std::time::Duration)> {
        self.made += 1;
        if self.made >= self.attempts {
            return None;
        }
        let why = resendable(ex, self.idempotent)?.to_string();
        let pause = self.pause;
        self.pause = self.pause.mul_f64(self.grow);
        Some((why, pause))
    }
}

/// Element methods that change nothing (safe to resend after a broken connection).
pub fn element_read_only(method: &str) -> bool {
    method.starts_with("Get") || method.starts_with("List")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::transport::{AuthMode, Body, RequestRecord, ResponseRecord};

    fn answer(status: u16, body: serde_json::Value) -> Exchange {
        Exchange {
            request: RequestRecord {
                method: "POST".into(),
                url: "http://127.0.0.1:1/json-rpc/12.5".into(),
                auth: AuthMode::Default,
                body: None,
            },
            response: Ok(ResponseRecord {
                status,
                content_type: Some("application/json".into()),
                body: Body::Json(body),
                elapsed_ms: 1,
            }),
        }
    }

    #[test]
    fn transient_faults_are_retried_with_growing_pauses_up_to_the_attempts() {
        let busy = answer(503, json!({}));
        let mut r = Retry::new(4, Duration::from_millis(100), 1.5, true);
        let pauses: Vec<_> = std::iter::from_fn(|| r.after(&busy).map(|(_, p)| p)).collect();
        let ms = Duration::from_millis;
        assert_eq!(
            pauses,
            vec![ms(100), ms(150), ms(225)],
            "4 attempts, 3 pauses"
        );
        let mismatch = answer(
            200,
            json!({"error": {"name": "xDBVersionMismatch"}, "id": 1}),
        );
        let mut r = Retry::new(4, ms(100), 1.0, true);
        assert!(
            r.after(&mismatch)
                .is_some_and(|(why, _)| why.contains("xDBVersionMismatch"))
        );
    }

    #[test]
    fn an_answer_to_judge_ends_the_retries_at_once() {
        let ok = answer(200, json!({"result": {}, "id": 1}));
        let unknown = answer(
            200,
            json!({"error": {"name": "xUnknownAsyncHandle"}, "id": 1}),
        );
        for ex in [ok, unknown] {
            let mut r = Retry::new(4, Duration::from_millis(100), 1.0, true);
            assert!(r.after(&ex).is_none());
        }
        let mut once = Retry::new(1, Duration::from_millis(100), 1.0, true);
        assert!(
            once.after(&answer(503, json!({}))).is_none(),
            "no attempt left"
        );
    }

    #[test]
    fn writes_are_resent_only_when_the_fault_shows_nothing_was_done() {
        let reset = Exchange {
            response: Err(crate::transport::TransportError::Io("reset".into())),
            ..answer(200, json!({}))
        };
        let bad_gateway = answer(502, json!({}));
        let busy = answer(503, json!({}));
        for (ex, read, write) in [
            (&reset, true, false),
            (&bad_gateway, true, false),
            (&busy, true, true),
        ] {
            assert_eq!(resendable(ex, true).is_some(), read, "{ex:?}");
            assert_eq!(resendable(ex, false).is_some(), write, "{ex:?}");
        }
    }
}
