//! Case loading: discovers `cases/**/*.json` (sorted, so runs are deterministic), parses each
//! file, validates it against `schemas/case.schema.json`, deserializes it into [`Case`], then
//! checks what a schema cannot: rule IDs exist (every expectation's rule is one of the case's
//! `rules`), schema and check names exist, templates use only variables defined earlier, `needs`
//! matches the work started, counts are in range. Every broken file is reported at once, one line
//! per problem with the file and a JSON pointer. Only this module deserializes case files; it
//! sends nothing anywhere.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::template::{BUILTINS, references};
use super::{Api, Case, Expect, LoadedCase, Needs, PollMode, Step, Work};
use crate::check::named;

/// One problem in one case file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFileError {
    /// The file, as shown (`cases/element/x.json`).
    pub path: PathBuf,
    /// JSON pointer into the file (`""` for the whole file).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

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
        .map(|(rel, text)| (PathBuf::from(rel), Ok((*text).to_owned())));
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
        let text = std::fs::read_to_string(&file).map_err(|e| e.to_string());
        (rel, text)
    });
    load_texts(&shown_root, root, texts)
}

/// Loads case texts named by their path under the cases directory (`element/x.json`); `shown_root`
/// prefixes the paths in error lines, `root` the paths the cases record.
fn load_texts(
    shown_root: &Path,
    root: &Path,
    files: impl Iterator<Item = (PathBuf, Result<String, String>)>,
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

fn de<T: DeserializeOwned>(v: &Value) -> Result<T, String> {
    serde_json::from_value(v.clone()).map_err(|e| e.to_string())
}

/// Deserializes a case, narrowing a failure to the innermost step or expectation at fault.
fn deserialize_located(v: &Value) -> Result<Case, (String, String)> {
    if let Some(obj) = v.as_object() {
        for list in ["steps", "cleanup"] {
            if let Some(steps) = obj.get(list).and_then(Value::as_array) {
                for (i, s) in steps.iter().enumerate() {
                    locate_step(s, &format!("/{list}/{i}"))?;
                }
            }
        }
        if let Some(exp) = obj.get("expect_failure")
            && let Err(m) = de::<super::ExpectFailure>(exp)
        {
            return Err(("/expect_failure".into(), m));
        }
    }
    de::<Case>(v).map_err(|m| (String::new(), m))
}

fn locate_step(s: &Value, at: &str) -> Result<(), (String, String)> {
    if de::<Step>(s).is_ok() {
        return Ok(());
    }
    let whole = de::<Step>(s).err().unwrap_or_default();
    let Some((kind, body)) = s
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.iter().next())
    else {
        return Err((at.into(), whole));
    };
    let at = format!("{at}/{kind}");
    let inner = match kind.as_str() {
        "repeat" => body.get("steps"),
        _ => None,
    };
    if let Some(steps) = inner.and_then(Value::as_array) {
        for (i, s) in steps.iter().enumerate() {
            locate_step(s, &format!("{at}/steps/{i}"))?;
        }
    }
    let rpc_at;
    let holder = if kind == "concurrent" {
        rpc_at = format!("{at}/rpc");
        body.get("rpc").map(|r| (r, rpc_at.as_str()))
    } else {
        Some((body, at.as_str()))
    };
    if let Some((h, hat)) = holder
        && let Some(list) = h.get("expect").and_then(Value::as_array)
    {
        for (k, e) in list.iter().enumerate() {
            if let Err(m) = de::<Expect>(e) {
                return Err((format!("{hat}/expect/{k}"), m));
            }
        }
    }
    Err((at, whole))
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
            let kinds = [
                e.status.is_some(),
                e.content_type.is_some(),
                e.schema.is_some(),
                e.max_ms.is_some(),
                e.check.is_some(),
                e.pointer.is_some(),
            ]
            .iter()
            .filter(|b| **b)
            .count();
            if kinds != 1 {
                self.problem(
                    at.clone(),
                    "an expectation needs exactly one of status, content_type, schema, max_ms, check, pointer".into(),
                );
            }
            let value_asserts = [
                e.equals.is_some(),
                e.one_of.is_some(),
                e.absent.is_some(),
                e.present.is_some(),
                e.json_type.is_some(),
            ]
            .iter()
            .filter(|b| **b)
            .count();
            if e.pointer.is_some() != (value_asserts == 1) || value_asserts > 1 {
                self.problem(
                    at.clone(),
                    "a pointer needs exactly one of equals, one_of, absent, present, type (and only a pointer takes them)".into(),
                );
            }
            if e.absent == Some(false) || e.present == Some(false) {
                self.problem(at.clone(), "absent and present can only be true".into());
            }
            if let Some(p) = &e.pointer
                && !(p.is_empty() || p.starts_with('/'))
            {
                self.problem(
                    format!("{at}/pointer"),
                    format!("{p:?} is not a JSON pointer"),
                );
            }
            if let Some(schema) = &e.schema
                && !schema_known(schema)
            {
                self.problem(format!("{at}/schema"), format!("unknown schema {schema:?}"));
            }
            if let Some(c) = &e.check
                && !named::RESPONSE.contains(&c.as_str())
            {
                self.problem(
                    format!("{at}/check"),
                    format!("unknown response check {c:?}"),
                );
            }
            if let Some(v) = &e.equals {
                self.uses(v, format!("{at}/equals"));
            }
            if let Some(v) = &e.one_of {
                self.uses(&Value::Array(v.clone()), format!("{at}/one_of"));
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
                if !named::GROUP.contains(&c.check.name.as_str()) {
                    self.problem(
                        format!("{at}/check/name"),
                        format!("unknown group check {:?}", c.check.name),
                    );
                }
            }
            Step::Check(c) => {
                let at = format!("{at}/check");
                self.attributed(&c.rule, format!("{at}/rule"));
                if !named::STEP.contains(&c.name.as_str()) {
                    self.problem(
                        format!("{at}/name"),
                        format!("unknown step check {:?}", c.name),
                    );
                }
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
