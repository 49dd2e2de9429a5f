//! Why cleanup could not remove an object: one variant per way a removal fails. Harness trouble,
//! never a conformance finding; its text (redacted) is the `error` of the run's leftover.

use serde_json::Value;

use crate::poll::End;
use crate::transport::TransportError;

/// Why one object could not be removed (its text goes into the [`Leftover`]). A harness error of
/// cleanup, never a conformance finding.
#[derive(Debug, thiserror::Error)]
pub enum CleanupError {
    /// An Element object on a target without an Element endpoint.
    #[error("target has no Element endpoint")]
    NoElement,
    /// An AIQUM object on a target without an AIQUM endpoint.
    #[error("target has no AIQUM endpoint")]
    NoAiqum,
    /// The recorded cleanup method is not an HTTP method.
    #[error("{0} is not an HTTP method")]
    BadMethod(String),
    /// No answer to a cleanup call (`DeleteVolume`, `DELETE /path`).
    #[error("{call}: {source}")]
    Transport {
        /// The call.
        call: String,
        /// Why no answer came.
        source: TransportError,
    },
    /// An Element error other than "does not exist".
    #[error("{method}: {error}")]
    Element {
        /// The method.
        method: String,
        /// The `error` member of the answer.
        error: Value,
    },
    /// An Element answer with neither `result` nor `error`.
    #[error("{method}: HTTP {status} without a result")]
    NoResult {
        /// The method.
        method: String,
        /// HTTP status.
        status: u16,
    },
    /// An AIQUM cleanup call refused.
    #[error("{call}: HTTP {status}")]
    Status {
        /// `METHOD path`.
        call: String,
        /// HTTP status.
        status: u16,
    },
    /// An AIQUM cleanup call accepted without naming its job.
    #[error("{call}: 202 without job.key")]
    NoJobKey {
        /// `METHOD path`.
        call: String,
    },
    /// The cleanup job ended in ERROR or PARTIAL_FAILURES.
    #[error("{call}: cleanup job {key} ended in failure")]
    JobFailed {
        /// `METHOD path`.
        call: String,
        /// The job.
        key: String,
    },
    /// The cleanup job was not terminal by the cleanup deadline.
    #[error("{call}: cleanup job {key} not terminal after {secs} s")]
    JobDeadline {
        /// `METHOD path`.
        call: String,
        /// The job.
        key: String,
        /// The deadline, in seconds.
        secs: u64,
    },
    /// Polling the cleanup job failed.
    #[error("{call}: cleanup job {key}: {reason}")]
    JobPoll {
        /// `METHOD path`.
        call: String,
        /// The job.
        key: String,
        /// What went wrong.
        reason: String,
    },
    /// The creating job of a pending object could not be read at all.
    #[error("job {key}: never read ({end:?})")]
    NeverRead {
        /// The creating job.
        key: String,
        /// How polling it ended.
        end: End,
    },
    /// The creating job of a pending object names no object.
    #[error(
        "job {key} names no object in job_results (state {state}, status {status}): its end could not be read, so what it created is unknown"
    )]
    Unnamed {
        /// The creating job.
        key: String,
        /// Its `state` (null if absent).
        state: Value,
        /// Its `status` (null if absent).
        status: Value,
    },
}
