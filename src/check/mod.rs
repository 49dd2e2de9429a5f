//! Pure judging: exchanges and observations in, [`Finding`]s out. No I/O happens here, and nothing
//! here knows where a value came from (mock or live target).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One broken expectation, attributed to exactly one rule of CONTRACT.md.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
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

pub mod aiqum;
pub mod element;
pub mod expect;
pub mod named;
pub mod names;
pub mod observed;
mod preconditions;
mod shapes;

pub use shapes::query_of;

/// What judging one thing concluded: findings, or a precondition that did not hold (which makes
/// the case inconclusive rather than failed), plus facts worth recording (register decisions).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Judgement {
    /// Broken expectations.
    pub findings: Vec<Finding>,
    /// Set when a precondition did not hold: the case cannot say anything about its rules.
    pub inconclusive: Option<String>,
    /// Facts recorded for the report, for people (`E1: unknown handle named xDBNoSuchPath`).
    pub notes: Vec<String>,
    /// The Element dialect an unknown-handle error showed (register E1), for code to read.
    pub element_dialect: Option<ElementDialect>,
}

/// The Element dialect an unknown-handle error shows (register E1): the error name served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ElementDialect {
    /// `xAsyncHandleDoesNotExist`, what 12.x clusters answer.
    Current,
    /// `xDBNoSuchPath`, what NetApp's documented examples show.
    DocLiteral,
}

impl ElementDialect {
    /// Every dialect, in register order.
    pub const ALL: [ElementDialect; 2] = [ElementDialect::Current, ElementDialect::DocLiteral];

    /// The unknown-handle error name this dialect stands for.
    pub const fn error_name(self) -> &'static str {
        match self {
            ElementDialect::Current => "xAsyncHandleDoesNotExist",
            ElementDialect::DocLiteral => "xDBNoSuchPath",
        }
    }

    /// The dialect whose unknown-handle error is named `name`, if any.
    pub fn of_error_name(name: &str) -> Option<ElementDialect> {
        Self::ALL.into_iter().find(|d| d.error_name() == name)
    }
}

/// Unknown-handle error names (register E1), one per [`ElementDialect`].
pub const UNKNOWN_HANDLE_NAMES: [&str; 2] = [
    ElementDialect::Current.error_name(),
    ElementDialect::DocLiteral.error_name(),
];

/// The AIQUM dialect a job shows (register U1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AiqumDialect {
    /// A lower-case lifecycle `state` plus an outcome `status` (AIQUM 9.7+).
    Split,
    /// One upper-case `state` holding the outcome.
    Literal,
}

impl AiqumDialect {
    /// The word the register and the reports use (`split`, `literal`).
    pub fn as_str(self) -> &'static str {
        match self {
            AiqumDialect::Split => "split",
            AiqumDialect::Literal => "literal",
        }
    }
}

impl std::fmt::Display for AiqumDialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Judgement {
    /// Adds a finding.
    pub fn fail(&mut self, f: Finding) {
        self.findings.push(f);
    }
    /// Marks the judgement inconclusive (the first reason wins).
    pub fn inconclusive(&mut self, reason: impl Into<String>) {
        if self.inconclusive.is_none() {
            self.inconclusive = Some(reason.into());
        }
    }
    /// Adds a note once.
    pub fn note(&mut self, n: impl Into<String>) {
        let n = n.into();
        if !self.notes.contains(&n) {
            self.notes.push(n);
        }
    }
    /// Records the Element dialect seen (the first one wins).
    pub fn element_dialect(&mut self, d: ElementDialect) {
        self.element_dialect.get_or_insert(d);
    }
    /// Merges another judgement into this one (the first inconclusive reason and the first
    /// dialect win).
    pub fn merge(&mut self, other: Judgement) {
        self.findings.extend(other.findings);
        if self.inconclusive.is_none() {
            self.inconclusive = other.inconclusive;
        }
        if let Some(d) = other.element_dialect {
            self.element_dialect(d);
        }
        for n in other.notes {
            self.note(n);
        }
    }
    /// Sets the exchange index on every finding that has none.
    pub fn in_exchange(mut self, index: usize) -> Self {
        for f in &mut self.findings {
            if f.exchange.is_none() {
                f.exchange = Some(index);
            }
        }
        self
    }
}

/// The JSON type name of a value as the case language spells it (`integer` for whole numbers).
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Parses an ISO 8601 UTC timestamp `YYYY-MM-DDTHH:MM:SS[.f]` ending in `Z` (every Element
/// example) or in the zero offset `+00:00` (also UTC+0, which is all the pages ask: register E11).
pub fn parse_utc(s: &str) -> Option<jiff::Timestamp> {
    let b = s.as_bytes();
    let shape_ok = b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && (s.ends_with('Z') || s.ends_with("+00:00"));
    if !shape_ok {
        return None;
    }
    s.parse::<jiff::Timestamp>().ok()
}

/// Parses an ISO 8601 timestamp with any offset (`Z`, `+02:00`).
pub fn parse_iso(s: &str) -> Option<jiff::Timestamp> {
    if s.len() < 10 || s.as_bytes().get(4) != Some(&b'-') {
        return None;
    }
    s.parse::<jiff::Timestamp>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unknown_handle_check_records_the_dialect_and_merge_keeps_the_first() {
        let answer = |name: &str| serde_json::json!({"id": 1, "error": {"code": 500, "name": name, "message": "m"}});
        let mut first = Judgement::default();
        shapes::unknown_handle(
            "EL-GAR-UNKNOWN",
            &answer("xDBNoSuchPath"),
            false,
            &mut first,
        );
        assert_eq!(first.element_dialect, Some(ElementDialect::DocLiteral));
        assert_eq!(first.notes, ["E1: unknown handle named xDBNoSuchPath"]);
        let mut second = Judgement::default();
        shapes::unknown_handle(
            "EL-GAR-UNKNOWN",
            &answer("xAsyncHandleDoesNotExist"),
            false,
            &mut second,
        );
        assert_eq!(second.element_dialect, Some(ElementDialect::Current));
        first.merge(second);
        assert_eq!(first.element_dialect, Some(ElementDialect::DocLiteral));
        let mut none = Judgement::default();
        shapes::unknown_handle("EL-GAR-UNKNOWN", &answer("xNotFound"), false, &mut none);
        assert_eq!(none.element_dialect, None);
        assert_eq!(
            serde_json::to_value(ElementDialect::DocLiteral).ok(),
            Some("doc-literal".into())
        );
        assert_eq!(
            serde_json::to_value(AiqumDialect::Split).ok(),
            Some("split".into())
        );
    }
}
