//! The schema set: every file of `schemas/`, embedded in the binary, registered under its `$id`
//! (`https://jobconform.invalid/schemas/<path>`) in one offline registry, and compiled on first use
//! per name (file plus optional `#fragment`). Must never fetch anything: `$ref`s resolve only
//! against the embedded files, and formats are asserted, not just annotated.
//!
//! Names: an Element method file's root is the whole JSON-RPC response and `#/$defs/result` its
//! `result` member (`element/get-async-result.json#/$defs/running` is a shape of that member;
//! `#/$defs/response-running` a whole body). AIQUM files describe the HTTP body itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{ReferencingError, Registry, ValidationError, Validator};
use serde_json::{Value, json};

use super::{SchemaError, UnknownSchema};

/// The `$id` prefix of every schema: a file's `$id` is this plus its path under `schemas/`.
pub const BASE_URI: &str = "https://jobconform.invalid/schemas/";

macro_rules! embed {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../schemas/", $path)))),*]
    };
}

/// Every schema file: path under `schemas/` and its text. A test keeps this equal to the directory.
const SCHEMAS: &[(&str, &str)] = embed![
    "aiqum/accepted.json",
    "aiqum/error.json",
    "aiqum/job-list.json",
    "aiqum/job.json",
    "case.schema.json",
    "common.json",
    "element/clone-volume.json",
    "element/error.json",
    "element/get-api.json",
    "element/get-async-result.json",
    "element/get-cluster-version-info.json",
    "element/list-async-results.json",
    "element/request.json",
    "element/response.json",
    "report.schema.json",
];

/// The path of every embedded schema file under `schemas/`, sorted.
pub fn schema_names() -> Vec<String> {
    let mut names: Vec<String> = SCHEMAS.iter().map(|(p, _)| (*p).to_owned()).collect();
    names.sort();
    names
}

/// The embedded text of a schema file (`element/get-async-result.json`), without fragment.
pub fn schema_source(file: &str) -> Option<&'static str> {
    SCHEMAS.iter().find(|(p, _)| *p == file).map(|(_, s)| *s)
}

/// Why a schema name does not compile. The set's own failures (a file that is not JSON, a
/// registry that cannot be built) are kept once and shared, hence the `Arc`s.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CompileError {
    /// An embedded file is not JSON.
    #[error("parse schemas/{path}: {source}")]
    Parse {
        /// The file under `schemas/`.
        path: &'static str,
        /// The parser's error.
        source: Arc<serde_json::Error>,
    },
    /// The files could not be registered together (a duplicate `$id`, an unresolvable `$ref`).
    #[error("register schemas/: {0}")]
    Register(#[source] Arc<ReferencingError>),
    /// The name's file is not one of the embedded ones.
    #[error("schemas/{0} is not embedded")]
    NotEmbedded(String),
    /// The name does not compile (a fragment that names nothing, a `$ref` to nothing).
    #[error("compile {name}: {source}")]
    Compile {
        /// The schema name (file and fragment).
        name: String,
        /// The compiler's error.
        source: Arc<ValidationError<'static>>,
    },
}

/// The registry of every embedded file keyed by `$id`, or why it could not be built.
fn registry() -> Result<&'static Registry<'static>, CompileError> {
    static REGISTRY: OnceLock<Result<Registry<'static>, CompileError>> = OnceLock::new();
    REGISTRY
        .get_or_init(|| {
            let mut pairs = Vec::with_capacity(SCHEMAS.len());
            for (path, text) in SCHEMAS {
                let doc: Value = serde_json::from_str(text).map_err(|e| CompileError::Parse {
                    path,
                    source: Arc::new(e),
                })?;
                pairs.push((format!("{BASE_URI}{path}"), doc));
            }
            Registry::new()
                .extend(pairs)
                .and_then(|b| b.prepare())
                .map_err(|e| CompileError::Register(Arc::new(e)))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The compiled validator for a name, compiled at most once per process.
fn validator(name: &str) -> Result<Arc<Validator>, CompileError> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Validator>>>> = OnceLock::new();
    let file = name.split_once('#').map_or(name, |(f, _)| f);
    if schema_source(file).is_none() {
        return Err(CompileError::NotEmbedded(file.to_owned()));
    }
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(v) = cache.get(name) {
        return Ok(Arc::clone(v));
    }
    let compiled = jsonschema::draft202012::options()
        .with_registry(registry()?)
        .offline()
        .should_validate_formats(true)
        .build(&json!({ "$ref": format!("{BASE_URI}{name}") }))
        .map_err(|e| CompileError::Compile {
            name: name.to_owned(),
            source: Arc::new(e),
        })?;
    let compiled = Arc::new(compiled);
    cache.insert(name.to_owned(), Arc::clone(&compiled));
    Ok(compiled)
}

/// Compiles a schema name (file plus optional fragment) and says why it does not compile: a
/// missing file, a fragment that names nothing, or a `$ref` that resolves to nothing.
pub fn compile(schema: &str) -> Result<(), CompileError> {
    validator(schema).map(|_| ())
}

/// Validates `value` against a schema named by file and optional fragment
/// (`element/get-async-result.json#/$defs/running`). An empty list means valid; each error is
/// reported once, in the validator's order.
pub fn validate(schema: &str, value: &Value) -> Result<Vec<SchemaError>, UnknownSchema> {
    let v = validator(schema).map_err(|_| UnknownSchema(schema.to_owned()))?;
    let mut out: Vec<SchemaError> = Vec::new();
    for e in v.iter_errors(value) {
        let err = SchemaError {
            pointer: e.instance_path().as_str().to_owned(),
            message: e.to_string(),
        };
        // A definition reached along two paths (`$ref` from two places) reports twice.
        if !out.contains(&err) {
            out.push(err);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_builds_offline() {
        assert!(registry().is_ok(), "{:?}", registry().err());
    }

    #[test]
    fn unknown_file_and_unknown_fragment_are_unknown_schemas() {
        assert!(validate("nope.json", &json!({})).is_err());
        assert!(validate("common.json#/$defs/nope", &json!({})).is_err());
        assert!(
            validate(
                "common.json#/$defs/timestamp",
                &json!("2016-01-01T22:29:18Z")
            )
            .is_ok()
        );
    }
}
