//! Reading a JSON verdict back (a `run --report-json` file): as per-target, per-rule outcomes, so
//! `jobconform diff` can compare verdicts ([`crate::diff::RuleVerdicts`]; only the `rules`
//! member), and in full ([`Full`]: targets, case records, plan), so `jobconform merge` can put the
//! verdicts of a split run back together. It never re-judges anything.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::plan::Plan;
use super::{CaseRecord, TargetRecord};
use crate::diff::{DiffError, RuleMatrix, RuleOutcome, RuleVerdicts};

/// A verdict document read back in full (what `merge` needs; `summary` and `rules` are derived
/// from these and not read).
#[derive(Debug, Clone, Deserialize)]
pub struct Full {
    /// Start of the run.
    pub started: jiff::Timestamp,
    /// End of the run.
    pub finished: jiff::Timestamp,
    /// Whether SHOULD findings failed the run.
    pub strict: bool,
    /// The run's exit code.
    pub exit_code: u8,
    /// Whether it was interrupted.
    pub interrupted: bool,
    /// Its targets.
    pub targets: Vec<TargetRecord>,
    /// Its trials.
    pub cases: Vec<CaseRecord>,
    /// What it was asked to do (absent in verdicts of older versions).
    #[serde(default)]
    pub plan: Option<Plan>,
}

/// A verdict file that could not be read back.
#[derive(Debug, Clone, thiserror::Error)]
#[error("read verdict {}: {message}", path.display())]
pub struct ReadError {
    /// The file.
    pub path: std::path::PathBuf,
    /// What went wrong.
    pub message: String,
}

impl Full {
    /// Reads a verdict file in full.
    pub fn read(path: &Path) -> Result<Full, ReadError> {
        let err = |message: String| ReadError {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| err(format!("not a jobconform verdict: {e}")))
    }
}

/// A verdict document as read back: its label (the file name) and its `rules`.
#[derive(Debug, Clone)]
pub struct VerdictFile {
    /// Column label: the file's name.
    pub label: String,
    rules: Vec<ReadRule>,
}

#[derive(Debug, Clone, Deserialize)]
struct ReadRule {
    id: String,
    #[serde(default)]
    targets: Vec<ReadOnTarget>,
}

#[derive(Debug, Clone, Deserialize)]
struct ReadOnTarget {
    target: String,
    outcome: String,
}

#[derive(Debug, Deserialize)]
struct ReadDocument {
    rules: Vec<ReadRule>,
}

impl VerdictFile {
    /// Reads a verdict file.
    pub fn read(path: &Path) -> Result<VerdictFile, DiffError> {
        let err = |message: String| DiffError::Verdict {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let doc: ReadDocument = serde_json::from_str(&text)
            .map_err(|e| err(format!("not a jobconform verdict (no usable `rules`): {e}")))?;
        let label = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Ok(VerdictFile {
            label,
            rules: doc.rules,
        })
    }

    /// [`VerdictFile::read`] as one diff column.
    pub fn matrix(path: &Path) -> Result<RuleMatrix, DiffError> {
        VerdictFile::read(path).map(|v| RuleMatrix::from_verdicts(&v))
    }
}

/// A report outcome as a diff outcome: a finding (`fail`, or `warn` for a SHOULD rule) fails the
/// rule; `inconclusive` and `untested` say nothing.
fn outcome(word: &str) -> RuleOutcome {
    match word {
        "fail" | "warn" => RuleOutcome::Fail,
        "pass" => RuleOutcome::Pass,
        _ => RuleOutcome::Untested,
    }
}

impl RuleVerdicts for VerdictFile {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn outcomes(&self) -> BTreeMap<String, BTreeMap<String, RuleOutcome>> {
        let mut out: BTreeMap<String, BTreeMap<String, RuleOutcome>> = BTreeMap::new();
        for r in &self.rules {
            for t in &r.targets {
                let o = outcome(&t.outcome);
                if o != RuleOutcome::Untested {
                    out.entry(t.target.clone())
                        .or_default()
                        .insert(r.id.clone(), o);
                }
            }
        }
        out
    }
}
