//! Pure judging: exchanges and observations in, [`Finding`]s out. No I/O happens here, and nothing
//! here knows where a value came from (mock or live target).

use serde::Serialize;
use serde_json::Value;

/// One broken expectation, attributed to exactly one rule of CONTRACT.md.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The rule ID, e.g. `EL-KEEP-DEFAULT`.
    pub rule: String,
    /// What was wrong, in one line that reads on its own.
    pub message: String,
    /// JSON pointer into the response body (or `""` for the whole body) where it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// What the rule expected (redacted before it is written anywhere).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<Value>,
    /// What the target answered (redacted before it is written anywhere).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<Value>,
    /// Index of the exchange in the case transcript that shows it, if one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<usize>,
}

impl Finding {
    /// A finding with a message only; fill in the rest with the builder methods.
    pub fn new(rule: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            rule: rule.into(),
            message: message.into(),
            pointer: None,
            expected: None,
            actual: None,
            exchange: None,
        }
    }
    /// Sets the JSON pointer at fault.
    pub fn at(mut self, pointer: impl Into<String>) -> Self {
        self.pointer = Some(pointer.into());
        self
    }
    /// Sets expected and actual values.
    pub fn values(mut self, expected: Option<Value>, actual: Option<Value>) -> Self {
        self.expected = expected;
        self.actual = actual;
        self
    }
    /// Sets the transcript index of the exchange that shows the finding.
    pub fn in_exchange(mut self, index: usize) -> Self {
        self.exchange = Some(index);
        self
    }
}
