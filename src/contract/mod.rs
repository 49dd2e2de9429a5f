//! The contract as data: the rule registry (`rules.json`: every rule of CONTRACT.md with its level,
//! text and evidence, plus the ambiguity register) and the compiled JSON Schema set (`schemas/`,
//! embedded in the binary, `$ref`s resolved from a preloaded local registry, never the network).
//!
//! Owns no I/O and no judging: it answers "what does rule X say" and "does this value match schema
//! Y". Deciding pass or fail from exchanges is `check`'s job.

pub mod jobs;
mod markdown;
mod rules;
mod schemas;

use serde::Serialize;

pub use markdown::render_markdown;
pub use rules::{Section, preamble, register, render_table, rule, rules, sections, to_json};
pub use schemas::{BASE_URI, CompileError, compile, schema_names, schema_source, validate};

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

impl Level {
    /// `MUST` or `SHOULD`, as CONTRACT.md and the serialized form spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
        }
    }
}

/// Which side of the contract a rule is about.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum RuleApi {
    /// SolidFire Element JSON-RPC (`EL-*`).
    Element,
    /// Active IQ Unified Manager REST (`UM-*`).
    Aiqum,
    /// A polling client's behaviour (`CL-*`).
    Client,
}

/// Where a rule comes from (the tags of `research/*.md`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Evidence {
    /// NetApp's published documentation.
    Doc,
    /// Observed in NetApp/SolidFire SDK code or its live-cluster tests.
    Sdk,
    /// Observed in clients (Ansible modules, PowerShell, ...).
    Client,
    /// Deduced; stated nowhere.
    Inferred,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// `EL-KEEP-DEFAULT`
    pub id: String,
    /// MUST or SHOULD.
    pub level: Level,
    /// The CONTRACT.md section, e.g. `2. Element GetAsyncResult`.
    pub section: String,
    /// Element, AIQUM, or client behaviour.
    pub api: RuleApi,
    /// The rule's sentence, as CONTRACT.md words it.
    pub text: String,
    /// Where the rule comes from.
    pub evidence: Evidence,
    /// Whether a server can break it (false for the `CL-*` client rules).
    pub server: bool,
    /// Ambiguity-register entries that apply (`["E1"]`).
    pub register: Vec<String>,
}

/// One entry of the ambiguity register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterEntry {
    /// `E1`, `E2`, ... (Element) or `U1`, `U2`, ... (AIQUM).
    pub id: String,
    /// What the docs leave open.
    pub ambiguity: String,
    /// What the harness does about it.
    pub decision: String,
}

/// One schema violation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaError {
    /// JSON pointer into the instance.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

/// A schema name that is not in `schemas/` (or a fragment that names nothing in it).
#[derive(Debug, Clone, thiserror::Error)]
#[error("find schema {0:?} in schemas/")]
pub struct UnknownSchema(pub String);
