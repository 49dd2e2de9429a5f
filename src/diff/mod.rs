//! `jobconform diff A B`: what changed between two snapshot sets (labels under `snapshots/`) or
//! two verdicts. Owns the comparison model ([`DiffReport`]): rules fixed and broken, cases whose
//! response shape changed (members, types, enum values, error names, status codes), cases added
//! and removed; and its two renderings, Markdown ([`markdown`]) and a self-contained HTML page
//! ([`html`]). It reads snapshot files through `snapshot::store` only and never talks to a target.

pub mod html;
pub mod markdown;
pub mod model;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use model::{ChangeKind, DiffReport, RuleChange, ShapeChange, compare, compare_matrices};

use crate::snapshot::{Shape, read_snapshot};

/// A rule's outcome in one snapshot set or verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleOutcome {
    /// No case that ran checks it.
    Untested,
    /// Checked by a case that ran, and no finding names it.
    Pass,
    /// At least one finding names it.
    Fail,
}

impl RuleOutcome {
    /// `pass`, `fail` or `untested`.
    pub fn word(self) -> &'static str {
        match self {
            RuleOutcome::Untested => "untested",
            RuleOutcome::Pass => "pass",
            RuleOutcome::Fail => "fail",
        }
    }
}

/// What one case's snapshot recorded, as `diff` needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRecord {
    /// `status.kind` (`ran`, `skipped`, `inconclusive`, `harness-error`).
    pub status: String,
    /// The rule IDs the case checks.
    pub rules: BTreeSet<String>,
    /// The rule IDs of its findings, including those of an expected failure (a known
    /// non-conformance is still a failing rule in the matrix).
    pub findings: BTreeSet<String>,
    /// Response shapes per request kind.
    pub shape: BTreeMap<String, Shape>,
    /// The whole snapshot value.
    pub value: Value,
}

impl CaseRecord {
    /// Reads the members `snapshot::snapshot_value` writes; missing members read as empty.
    pub fn from_value(value: Value) -> CaseRecord {
        let set = |k: &str| -> BTreeSet<String> {
            value[k]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        CaseRecord {
            status: value["status"]["kind"]
                .as_str()
                .unwrap_or("ran")
                .to_string(),
            rules: set("rules"),
            findings: set("findings")
                .into_iter()
                .chain(set("expected_findings"))
                .collect(),
            shape: serde_json::from_value(value["shape"].clone()).unwrap_or_default(),
            value,
        }
    }
}

/// Every case snapshot under one label.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotSet {
    /// The label (directory name under the snapshot root).
    pub label: String,
    /// Case name (path under `cases/` without extension) to its record.
    pub cases: BTreeMap<String, CaseRecord>,
}

/// Failure to load a side of a diff.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DiffError {
    /// The label has no directory under the root.
    #[error("find snapshot label {label:?}: {} is not a directory", path.display())]
    NoSuchLabel {
        /// The label asked for.
        label: String,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// A verdict file could not be read as per-rule outcomes.
    #[error("read verdict {}: {message}", path.display())]
    Verdict {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A file or directory could not be read.
    #[error("read {}: {message}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl SnapshotSet {
    /// Loads every `<root>/<label>/**/*.snap` (`.snap.new` files are ignored).
    pub fn load(root: &Path, label: &str) -> Result<SnapshotSet, DiffError> {
        let dir = root.join(label);
        if !dir.is_dir() {
            return Err(DiffError::NoSuchLabel {
                label: label.into(),
                path: dir,
            });
        }
        let mut files = Vec::new();
        walk(&dir, &mut files)?;
        let mut cases = BTreeMap::new();
        for f in files {
            let rel = f.strip_prefix(&dir).unwrap_or(&f);
            let name: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let name = name.join("/");
            let name = name.strip_suffix(".snap").unwrap_or(&name).to_string();
            let value = read_snapshot(&f)
                .map_err(|e| DiffError::Read {
                    path: f.clone(),
                    message: e.to_string(),
                })?
                .unwrap_or(Value::Null);
            cases.insert(name, CaseRecord::from_value(value));
        }
        Ok(SnapshotSet {
            label: label.into(),
            cases,
        })
    }

    /// A set from snapshot values already in memory.
    pub fn from_values(label: &str, values: impl IntoIterator<Item = (String, Value)>) -> Self {
        SnapshotSet {
            label: label.into(),
            cases: values
                .into_iter()
                .map(|(k, v)| (k, CaseRecord::from_value(v)))
                .collect(),
        }
    }

    /// Rules x outcome for this set: a rule fails if any snapshot records a finding for it, passes
    /// if a case that ran lists it and no finding names it, and is untested otherwise.
    pub fn rule_matrix(&self) -> RuleMatrix {
        let mut m = RuleMatrix {
            label: self.label.clone(),
            ..RuleMatrix::default()
        };
        for (name, c) in &self.cases {
            for r in &c.findings {
                m.outcomes.insert(r.clone(), RuleOutcome::Fail);
                m.evidence.entry(r.clone()).or_default().push(name.clone());
            }
            if c.status == "ran" {
                for r in &c.rules {
                    let e = m.outcomes.entry(r.clone()).or_insert(RuleOutcome::Pass);
                    *e = (*e).max(RuleOutcome::Pass);
                }
            } else {
                for r in &c.rules {
                    m.outcomes.entry(r.clone()).or_insert(RuleOutcome::Untested);
                }
            }
        }
        m
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), DiffError> {
    let read_err = |e: std::io::Error| DiffError::Read {
        path: dir.to_path_buf(),
        message: e.to_string(),
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read_err)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "snap") {
            out.push(p);
        }
    }
    Ok(())
}

/// One column of the conformance matrix: per rule, its outcome, and the cases whose findings name
/// it (the evidence shown one click away).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleMatrix {
    /// Column label (snapshot label, or verdict file and target).
    pub label: String,
    /// Rule ID to outcome; rules absent here are untested.
    pub outcomes: BTreeMap<String, RuleOutcome>,
    /// Rule ID to the cases (or targets) whose findings name it.
    pub evidence: BTreeMap<String, Vec<String>>,
}

impl RuleMatrix {
    /// The outcome of a rule (untested if absent).
    pub fn outcome(&self, rule: &str) -> RuleOutcome {
        self.outcomes
            .get(rule)
            .copied()
            .unwrap_or(RuleOutcome::Untested)
    }

    /// One column from a verdict, targets merged (fail over pass over untested); the evidence
    /// of a failing rule names the targets it failed on.
    pub fn from_verdicts(v: &impl RuleVerdicts) -> RuleMatrix {
        let mut m = RuleMatrix {
            label: v.label(),
            ..RuleMatrix::default()
        };
        for (target, rules) in v.outcomes() {
            for (rule, o) in rules {
                let e = m.outcomes.entry(rule.clone()).or_insert(o);
                *e = (*e).max(o);
                if o == RuleOutcome::Fail {
                    m.evidence.entry(rule).or_default().push(target.clone());
                }
            }
        }
        m
    }
}

/// A verdict (the report of `run --report-json`) seen as "per target, per rule, an outcome"; the
/// runner's verdict type implements this so `diff` can compare verdict files.
pub trait RuleVerdicts {
    /// The column label (e.g. the file name).
    fn label(&self) -> String;
    /// Target name to rule ID to outcome.
    fn outcomes(&self) -> BTreeMap<String, BTreeMap<String, RuleOutcome>>;
}

/// One side of a diff: a snapshot set (rules and shapes) or a verdict (rules only).
#[derive(Debug, Clone)]
pub enum Side {
    /// A snapshot label.
    Snapshots(SnapshotSet),
    /// A verdict column.
    Verdicts(RuleMatrix),
}

/// Compares two sides; shapes and cases are compared only when both are snapshot sets.
pub fn compare_sides(a: &Side, b: &Side) -> DiffReport {
    match (a, b) {
        (Side::Snapshots(x), Side::Snapshots(y)) => compare(x, y),
        _ => {
            let m = |s: &Side| match s {
                Side::Snapshots(x) => x.rule_matrix(),
                Side::Verdicts(v) => v.clone(),
            };
            compare_matrices(&m(a), &m(b))
        }
    }
}

/// One side named on the command line: an existing file is a verdict, read by `read_verdict`
/// (the runner's verdict reader turned into a [`RuleMatrix`], e.g. with
/// [`RuleMatrix::from_verdicts`]); anything else is a snapshot label under `root`.
pub fn load_side(
    root: &Path,
    arg: &str,
    read_verdict: impl Fn(&Path) -> Result<RuleMatrix, DiffError>,
) -> Result<Side, DiffError> {
    let p = Path::new(arg);
    if p.is_file() {
        read_verdict(p).map(Side::Verdicts)
    } else {
        SnapshotSet::load(root, arg).map(Side::Snapshots)
    }
}
