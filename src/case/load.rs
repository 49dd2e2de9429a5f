//! Case loading: discovers `cases/**/*.json` (sorted, so runs are deterministic), parses each
//! file, validates it against `schemas/case.schema.json`, deserializes it into [`Case`] (check
//! names and expectation kinds are enums: an unknown name or a second assertion fails there, at
//! its JSON pointer), then checks what a schema cannot: rule IDs exist (every expectation's rule
//! is one of the case's `rules`), schema names exist, templates use only variables defined
//! earlier, `needs` matches the work started, counts are in range. Every broken file is reported at once, one line
//! per problem with the file and a JSON pointer. Only this module deserializes case files; it
//! sends nothing anywhere.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::template::{BUILTINS, references};
use super::{
    Api, Case, Expect, ExpectKind, LoadedCase, Needs, PointerAssert, PollMode, Step, Work,
};

/// One problem in one case file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CaseFileError {
    /// The file, as shown (`cases/element/x.json`).
    pub path: PathBuf,
    /// JSON pointer into the file (`""` for the whole file).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

/// `file: pointer: message`, or `file: message` for the whole file.
impl fmt::Display for CaseFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            write!(f, "{}: {}", self.path.display(), self.message)
        } else {
            write!(
                f,
                "{}: {}: {}",
                self.path.display(),
                self.pointer,
                self.message
            )
        }
    }
}

/// Every problem found in the case files, reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// The problems, in file order.
    pub errors: Vec<CaseFileError>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// The case files compiled into the binary (by `build.rs`): path under `cases/` and text, sorted.
pub const EMBEDDED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/cases.rs"));

/// Loads the embedded suite (the `cases/` this binary was built with), sorted by name.
pub fn load_embedded() -> Result<Vec<LoadedCase>, LoadError> {
    let files = EMBEDDED
        .iter()
        .map(|(rel, text)| (PathBuf::from(rel), Ok(Cow::Borrowed(*text))));
    load_texts(Path::new("cases"), Path::new("cases"), files)
}

/// Loads every case under `root` (the `cases/` directory), sorted by name.
pub fn load_dir(root: &Path) -> Result<Vec<LoadedCase>, LoadError> {
    let shown_root = PathBuf::from(root.file_name().unwrap_or(root.as_os_str()));
    let mut files = Vec::new();
    if let Err(e) = walk(root, &mut files) {
        return Err(LoadError {
            errors: vec![CaseFileError {
                path: root.to_path_buf(),
                pointer: String::new(),
                message: format!("failed to read the case directory: {e}"),
            }],
        });
    }
    let texts = files.into_iter().map(|file| {
        let rel = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
        let text = std::fs::read_to_string(&file).map(Cow::Owned);
        (rel, text)
    });
    load_texts(&shown_root, root, texts)
}

/// Loads case texts named by their path under the cases directory (`element/x.json`); `shown_root`
/// prefixes the paths in error lines, `root` the paths the cases record.
fn load_texts(
    shown_root: &Path,
    root: &Path,
    files: impl Iterator<Item = (PathBuf, std::io::Result<Cow<'static, str>>)>,
) -> Result<Vec<LoadedCase>, LoadError> {
    let mut files: Vec<_> = files.collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    for (rel, text) in files {
        let shown = shown_root.join(&rel);
        let name = rel
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let text = match text {
            Ok(t) => t,
            Err(e) => {
                errors.push(CaseFileError {
                    path: shown,
                    pointer: String::new(),
                    message: format!("failed to read: {e}"),
                });
                continue;
            }
        };
        match load_str(&name, &shown, &text) {
            Ok(mut c) => {
                c.path = root.join(&rel);
                cases.push(c);
            }
            Err(mut errs) => errors.append(&mut errs),
        }
    }
    if errors.is_empty() {
        cases.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(cases)
    } else {
        Err(LoadError { errors })
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

/// Loads one case from its text; `shown` is the path used in error lines.
pub fn load_str(name: &str, shown: &Path, text: &str) -> Result<LoadedCase, Vec<CaseFileError>> {
    let err = |pointer: String, message: String| CaseFileError {
        path: shown.to_path_buf(),
        pointer,
        message,
    };
    let value: Value = serde_json::from_str(text).map_err(|e| {
        vec![err(
            String::new(),
            format!(
                "invalid JSON at line {} column {}: {e}",
                e.line(),
                e.column()
            ),
        )]
    })?;
    let schema_errors = schema_errors(&value);
    if !schema_errors.is_empty() {
        return Err(schema_errors.into_iter().map(|(p, m)| err(p, m)).collect());
    }
    let case = deserialize_located(&value).map_err(|(p, m)| vec![err(p, m)])?;
    let problems = semantic(&case);
    if !problems.is_empty() {
        return Err(problems.into_iter().map(|(p, m)| err(p, m)).collect());
    }
    Ok(LoadedCase {
        name: name.to_string(),
        path: shown.to_path_buf(),
        case,
    })
}

/// Validation against `schemas/case.schema.json` (errors carry the instance pointer). Without the
/// schema in the registry, the typed deserialization below is the only structural check.
fn schema_errors(value: &Value) -> Vec<(String, String)> {
    match crate::contract::validate("case.schema.json", value) {
        Ok(errors) => {
            // One line per place: a oneOf failure restates what the first error already said.
            let mut out: Vec<(String, String)> = Vec::new();
            for e in errors {
                if !out.iter().any(|(p, _)| *p == e.pointer) {
                    out.push((
                        e.pointer,
                        format!("does not match the case schema: {}", e.message),
                    ));
                }
            }
            out
        }
        Err(_) => Vec::new(),
    }
}

/// Deserializes a case; a failure names the JSON pointer of the innermost field at fault.
fn deserialize_located(v: &Value) -> Result<Case, (String, String)> {
    serde_path_to_error::deserialize(v).map_err(|e| (pointer_of(e.path()), e.inner().to_string()))
}

/// The JSON pointer of a deserialization path (an externally tagged step's kind is the key it
/// is written under).
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|s| match s {
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                Some(key.replace('~', "~0").replace('/', "~1"))
            }
            Segment::Unknown => None,
        })
        .map(|t| format!("/{t}"))
        .collect()
}

fn rule_known(id: &str) -> bool {
    crate::contract::rule(id).is_some()
}

fn schema_known(name: &str) -> bool {
    crate::contract::compile(name).is_ok()
}

struct Sem<'a> {
    case: &'a Case,
    defined: BTreeSet<String>,
    problems: Vec<(String, String)>,
}

/// Checks what the schema cannot; returns (pointer, message) pairs.
fn semantic(case: &Case) -> Vec<(String, String)> {
    let mut s = Sem {
        case,
        defined: BUILTINS.iter().map(|b| b.to_string()).collect(),
        problems: Vec::new(),
    };
    for (i, r) in case.rules.iter().enumerate() {
        s.rule(r, format!("/rules/{i}"));
    }
    if case.rules.is_empty() {
        s.problem("/rules".into(), "a case must name at least one rule".into());
    }
    if let Some(ef) = &case.expect_failure {
        for (i, r) in ef.rules.iter().enumerate() {
            s.attributed(r, format!("/expect_failure/rules/{i}"));
        }
    }
    for (i, st) in case.steps.iter().enumerate() {
        s.step(st, &format!("/steps/{i}"));
    }
    for (i, st) in case.cleanup.iter().enumerate() {
        s.step(st, &format!("/cleanup/{i}"));
    }
    s.problems
}

impl Sem<'_> {
    fn problem(&mut self, at: String, msg: String) {
        self.problems.push((at, msg));
    }

    fn rule(&mut self, id: &str, at: String) {
        if !rule_known(id) {
            self.problem(at, format!("unknown rule ID {id:?}"));
        }
    }

    /// A rule an expectation is attributed to: known, and one of the case's `rules`.
    fn attributed(&mut self, id: &str, at: String) {
        if !rule_known(id) {
            self.problem(at, format!("unknown rule ID {id:?}"));
        } else if !self.case.rules.iter().any(|r| r == id) {
            self.problem(at, format!("rule {id:?} is not among the case's rules"));
        }
    }

    fn uses(&mut self, v: &Value, at: String) {
        for name in references(v) {
            if !self.defined.contains(&name) {
                self.problem(
                    at.clone(),
                    format!("variable ${{{name}}} is not defined by an earlier step or built in"),
                );
            }
        }
    }

    fn api(&mut self, want: Api, what: &str, at: &str) {
        if self.case.api != want {
            self.problem(
                at.into(),
                format!(
                    "{what} is for {want:?} cases, this case's api is {:?}",
                    self.case.api
                ),
            );
        }
    }

    fn expects(&mut self, list: &[Expect], at: &str) {
        for (k, e) in list.iter().enumerate() {
            let at = format!("{at}/expect/{k}");
            self.attributed(&e.rule, format!("{at}/rule"));
            match &e.kind {
                ExpectKind::Schema(schema) if !schema_known(schema) => {
                    self.problem(format!("{at}/schema"), format!("unknown schema {schema:?}"));
                }
                ExpectKind::Pointer { pointer, assert } => {
                    if !(pointer.is_empty() || pointer.starts_with('/')) {
                        self.problem(
                            format!("{at}/pointer"),
                            format!("{pointer:?} is not a JSON pointer"),
                        );
                    }
                    match assert {
                        PointerAssert::Equals(v) => self.uses(v, format!("{at}/equals")),
                        PointerAssert::OneOf(v) => {
                            self.uses(&Value::Array(v.clone()), format!("{at}/one_of"));
                        }
                        PointerAssert::Absent | PointerAssert::Present | PointerAssert::Type(_) => {
                        }
                    }
                }
                ExpectKind::Status(_)
                | ExpectKind::ContentType(_)
                | ExpectKind::Schema(_)
                | ExpectKind::MaxMs(_)
                | ExpectKind::Check(_) => {}
            }
        }
    }

    fn define(&mut self, names: impl IntoIterator<Item = String>) {
        self.defined.extend(names);
    }

    fn step(&mut self, st: &Step, at: &str) {
        match st {
            Step::Rpc(r) => {
                let at = format!("{at}/rpc");
                self.api(Api::Element, "an rpc step", &at);
                self.rpc(r, &at);
                self.define(r.capture.keys().cloned());
            }
            Step::Http(h) => {
                let at = format!("{at}/http");
                self.api(Api::Aiqum, "an http step", &at);
                self.uses(&Value::String(h.path.clone()), format!("{at}/path"));
                for (k, v) in &h.query {
                    self.uses(v, format!("{at}/query/{k}"));
                }
                if let Some(b) = &h.body {
                    self.uses(b, format!("{at}/body"));
                }
                self.expects(&h.expect, &at);
                self.define(h.capture.keys().cloned());
            }
            Step::Start(s) => {
                let at = format!("{at}/start");
                match &s.work {
                    Work::Scripted(_) if self.case.needs != Needs::Scripted => self.problem(
                        format!("{at}/work"),
                        "scripted work needs \"needs\": \"scripted\"".into(),
                    ),
                    Work::Clone | Work::Call | Work::FailingCall
                        if self.case.needs < Needs::Mutations =>
                    {
                        self.problem(
                            format!("{at}/work"),
                            "clone and call work need \"needs\": \"mutations\" (or scripted)"
                                .into(),
                        )
                    }
                    _ => {}
                }
                match &s.work {
                    Work::Clone => self.api(Api::Element, "clone work", &at),
                    Work::Call | Work::FailingCall => self.api(Api::Aiqum, "call work", &at),
                    Work::Scripted(_) => {}
                }
                self.expects(&s.expect, &at);
                self.define([s.var.clone()]);
                self.define(s.capture.keys().cloned());
            }
            Step::Poll(p) => {
                let at = format!("{at}/poll");
                self.uses(&p.job, format!("{at}/job"));
                if p.mode == PollMode::Long {
                    if self.case.api != Api::Aiqum {
                        self.problem(format!("{at}/mode"), "long polling is AIQUM only".into());
                    }
                    if !self.case.requires.contains(&super::Capability::LongPoll) {
                        self.problem(
                            format!("{at}/mode"),
                            "long polling needs \"requires\": [\"long-poll\"]".into(),
                        );
                    }
                }
                if let Some(r) = &p.deadline_rule {
                    self.attributed(r, format!("{at}/deadline_rule"));
                }
                self.expects(&p.expect, &at);
                self.define(p.capture.keys().cloned());
            }
            Step::Repeat(r) => {
                let at = format!("{at}/repeat");
                if !(1..=1000).contains(&r.times) {
                    self.problem(format!("{at}/times"), "times must be 1..=1000".into());
                }
                for (i, s) in r.steps.iter().enumerate() {
                    self.step(s, &format!("{at}/steps/{i}"));
                }
            }
            Step::Concurrent(c) => {
                let at = format!("{at}/concurrent");
                self.api(Api::Element, "a concurrent step", &at);
                if !(2..=64).contains(&c.times) {
                    self.problem(format!("{at}/times"), "times must be 2..=64".into());
                }
                self.rpc(&c.rpc, &format!("{at}/rpc"));
                self.attributed(&c.check.rule, format!("{at}/check/rule"));
            }
            Step::Check(c) => {
                let at = format!("{at}/check");
                self.attributed(&c.rule, format!("{at}/rule"));
                self.uses(&c.args, format!("{at}/args"));
            }
            Step::Wait(_) => {}
        }
    }

    fn rpc(&mut self, r: &super::RpcStep, at: &str) {
        self.uses(&r.params, format!("{at}/params"));
        if let Some(id) = &r.id {
            self.uses(id, format!("{at}/id"));
        }
        self.expects(&r.expect, at);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// What the schema refuses first is refused by the typed model too, at the same place: an
    /// expectation with two assertions, deep in a repeat.
    #[test]
    fn a_model_error_names_its_json_pointer() {
        let case = json!({"description": "x", "api": "element", "rules": ["EL-GAR-STATUS"],
            "steps": [{"repeat": {"times": 1, "steps": [{"rpc": {"method": "GetAPI",
                "expect": [{"rule": "EL-GAR-STATUS", "status": 200},
                           {"rule": "EL-GAR-STATUS", "status": 200, "max_ms": 5}]}}]}}]});
        let (pointer, message) = deserialize_located(&case).expect_err("two assertions");
        assert_eq!(pointer, "/steps/0/repeat/steps/0/rpc/expect/1");
        assert_eq!(message, crate::case::ExpectError::Kinds.to_string());
    }
}
