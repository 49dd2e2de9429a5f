//! `jobconform merge`: the JSON verdicts of a split run (`run --shard K/N`) put back together as
//! the verdict one unsplit run would have written. The trials are taken as they are; everything
//! derived from them (the per-rule outcomes across targets, the summary, each target's Element
//! dialect, the exit code) is derived again by the same code a run uses. Verdicts of different
//! runs are refused, and a lost or doubled shard is an error ([`Gap`]), never a smaller verdict.
//!
//! Owns the merge; reading a verdict is `report::read`'s, writing one `report::json`'s and
//! `report::junit`'s.

mod check;

use std::path::{Path, PathBuf};

use crate::report::json::{self, Document, RunFacts};
use crate::report::read::{Full, ReadError};
use crate::report::{CaseRecord, TargetRecord, element_dialect, ran};
use crate::runner::shard::Shard;
use crate::runner::{Exit, exit_of};

/// One verdict file, read.
#[derive(Debug, Clone)]
pub struct Input {
    /// Where it came from (named in errors).
    pub path: PathBuf,
    /// What it says.
    pub doc: Full,
}

/// A shard or trials missing, or held twice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Gap {
    /// No input is this shard.
    #[error("missing: shard {shard} has no verdict among the inputs ({trials} trial(s) never ran)")]
    MissingShard {
        /// The shard.
        shard: Shard,
        /// Its planned share.
        trials: usize,
    },
    /// Two inputs are the same shard.
    #[error("duplicate: shard {shard} is both {first} and {second}")]
    DuplicateShard {
        /// The shard.
        shard: Shard,
        /// The first file.
        first: String,
        /// The second file.
        second: String,
    },
    /// An input holds more or fewer trials than its share.
    #[error("missing: {path} (shard {shard}) holds {held} trial(s) of its share of {planned}")]
    Share {
        /// The file.
        path: String,
        /// Its shard.
        shard: Shard,
        /// Trials it holds.
        held: usize,
        /// Its planned share.
        planned: usize,
    },
    /// Two inputs of different shards hold the same trials.
    #[error("duplicate: {} trial(s) are in both {first} and {second}: {}", trials.len(), shown(trials))]
    DuplicateTrials {
        /// The first file.
        first: String,
        /// The second file.
        second: String,
        /// The trials.
        trials: Vec<String>,
    },
}

/// Up to five names, then how many more.
fn shown(names: &[String]) -> String {
    let mut s = names.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    if names.len() > 5 {
        s.push_str(&format!(" and {} more", names.len() - 5));
    }
    s
}

/// Why verdicts were not merged.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MergeError {
    /// No input.
    #[error("merge: no verdict given")]
    Empty,
    /// An input could not be read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// An input has no plan (written before `plan` existed).
    #[error(
        "merge {}: the verdict has no `plan` (written by an older jobconform?); rerun it",
        path.display()
    )]
    NoPlan {
        /// The file.
        path: PathBuf,
    },
    /// Two inputs come from different runs.
    #[error(
        "merge {} and {}: they come from different {what} ({left} in {}, {right} in {})",
        a.display(), b.display(), a.display(), b.display()
    )]
    Mismatch {
        /// What differs (`contract versions`, `case sets`, ...).
        what: &'static str,
        /// The first file.
        a: PathBuf,
        /// The other file.
        b: PathBuf,
        /// The first file's value.
        left: String,
        /// The other file's value.
        right: String,
    },
    /// Shards or trials are missing or duplicated (each gap says which).
    #[error("merge: {} shard(s) or trial set(s) missing or duplicated", .0.len())]
    Gaps(Vec<Gap>),
}

/// The merged verdict.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The JSON document, as a single run would write it: targets in the run's order, every
    /// trial by name.
    pub document: Document,
    /// The exit code a single run would end with.
    pub exit: Exit,
}

/// Reads every verdict file (on as many threads as there are cores), in the given order.
pub fn read_all(paths: &[impl AsRef<Path> + Sync]) -> Result<Vec<Input>, MergeError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = paths.len().div_ceil(threads).max(1);
    let read = |part: &[_]| -> Result<Vec<Input>, MergeError> {
        part.iter()
            .map(|p: &_| {
                let path = AsRef::<Path>::as_ref(p).to_path_buf();
                Ok(Input {
                    doc: Full::read(&path)?,
                    path,
                })
            })
            .collect()
    };
    let parts: Vec<Result<Vec<Input>, MergeError>> = std::thread::scope(|s| {
        let handles: Vec<_> = paths
            .chunks(chunk)
            .map(|part| s.spawn(move || read(part)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut all = Vec::with_capacity(paths.len());
    for part in parts {
        all.extend(part?);
    }
    Ok(all)
}

/// Merges verdicts of one split run.
pub fn merge(inputs: Vec<Input>) -> Result<Merged, MergeError> {
    check::agree(&inputs)?;
    let gaps = check::gaps(&inputs);
    if !gaps.is_empty() {
        return Err(MergeError::Gaps(gaps));
    }
    let mut plan = check::plan_of(&inputs[0])?.clone();
    plan.shard = None;
    let strict = inputs[0].doc.strict;
    let started = inputs.iter().map(|i| i.doc.started).min();
    let finished = inputs.iter().map(|i| i.doc.finished).max();
    let interrupted = inputs.iter().any(|i| i.doc.interrupted);
    let mut records: Vec<CaseRecord> = Vec::new();
    let mut all_targets: Vec<TargetRecord> = Vec::new();
    for input in inputs {
        records.extend(input.doc.cases);
        all_targets.extend(input.doc.targets);
    }
    records.sort_by(|a, b| a.trial.cmp(&b.trial));
    let targets: Vec<TargetRecord> = plan
        .targets
        .iter()
        .filter_map(|name| target(name, &all_targets, &records))
        .collect();
    let exit = exit_of(&records, ran(&records), interrupted);
    let facts = RunFacts {
        started: started.unwrap_or_else(jiff::Timestamp::now),
        strict,
        exit_code: exit.code(),
        interrupted,
        plan: Some(plan),
    };
    let mut document = json::document_from(&facts, targets, records);
    if let Some(f) = finished {
        document.finished = f;
    }
    Ok(Merged { document, exit })
}

/// One target from every input that ran something on it: the first's fingerprint and
/// capabilities, everyone's leftovers, the Element dialect its merged trials reveal.
fn target(name: &str, all: &[TargetRecord], records: &[CaseRecord]) -> Option<TargetRecord> {
    let mut parts = all.iter().filter(|t| t.name == name);
    let mut t = parts.next()?.clone();
    for other in parts {
        t.leftovers.extend(other.leftovers.iter().cloned());
        if t.dialect.aiqum.is_none() {
            t.dialect.aiqum = other.dialect.aiqum;
        }
    }
    t.dialect.element = element_dialect(records.iter().filter(|r| r.target == name));
    Some(t)
}
