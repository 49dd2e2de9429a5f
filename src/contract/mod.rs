//! The contract as data: the rule registry (`rules.json`: every rule of CONTRACT.md with its level,
//! text and evidence, plus the ambiguity register) and the compiled JSON Schema set (`schemas/`,
//! `$ref`s resolved from a preloaded local registry, never the network). (BODY TO BE WRITTEN by the
//! contract work; the signatures below are the agreed API.)

use serde::Serialize;
use serde_json::Value;

/// MUST or SHOULD.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// Stated by the vendor docs; failing it makes a target non-conformant.
    Must,
    /// Observed in NetApp clients or inferred; a warning unless `--strict`.
    Should,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Rule {
    /// `EL-KEEP-DEFAULT`
    pub id: String,
    /// MUST or SHOULD.
    pub level: Level,
    /// The rule's sentence.
    pub text: String,
}

/// One schema violation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaError {
    /// JSON pointer into the instance.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

/// A schema name that is not in `schemas/`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("find schema {0:?} in schemas/")]
pub struct UnknownSchema(pub String);

/// Every rule, in CONTRACT.md order.
pub fn rules() -> &'static [Rule] {
    todo!("contract work")
}

/// A rule by ID.
pub fn rule(id: &str) -> Option<&'static Rule> {
    rules().iter().find(|r| r.id == id)
}

/// Validates `value` against a schema named by file and optional fragment
/// (`element/get-async-result.json#/$defs/running`).
pub fn validate(schema: &str, value: &Value) -> Result<Vec<SchemaError>, UnknownSchema> {
    let _ = (schema, value);
    todo!("contract work")
}
