//! Transient faults on the executor's own requests (CL-TRANSIENT): a broken connection, an HTTP
//! 503, or an Element method error the poller also treats as transient is not an answer to judge.
//! Such a request is retried a few times after a short pause (target time); every attempt stays
//! in the transcript, only the last one is judged. On live targets writes are retried only where
//! the fault proves nothing was done (a 503 or a transient method error), never after a broken
//! connection; the mock injects its faults before processing, so there everything is retried.

use crate::poll::ELEMENT_TRANSIENT;
use crate::transport::{Exchange, TransportError};

/// Attempts per request, the first included.
pub const ATTEMPTS: usize = 4;

/// Pause between attempts, in target milliseconds.
pub const PAUSE_MS: u64 = 1000;

/// Why an answer is a transient fault, or `None` when it is an answer to judge. `idempotent`:
/// whether resending is harmless even if the first request was processed.
pub fn transient(ex: &Exchange, idempotent: bool) -> Option<String> {
    match &ex.response {
        Err(e @ (TransportError::Io(_) | TransportError::Timeout(_))) if idempotent => {
            Some(format!("failed to {e}"))
        }
        Err(_) => None,
        Ok(r) if r.status == 503 => Some("HTTP 503".into()),
        Ok(r) => {
            let name = r
                .body
                .json()
                .and_then(|b| b.pointer("/error/name"))
                .and_then(|n| n.as_str())?;
            ELEMENT_TRANSIENT
                .contains(&name)
                .then(|| format!("method error {name}"))
        }
    }
}

/// Element methods that change nothing (safe to resend after a broken connection).
pub fn element_read_only(method: &str) -> bool {
    method.starts_with("Get") || method.starts_with("List")
}
