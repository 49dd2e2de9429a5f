//! Whether verdicts may be merged: they must come from one run plan (same contract, case set,
//! targets, selection, `--strict` and split), and together hold every trial of it exactly once.
//! Pure: verdicts already read in, errors out; nothing here writes anything.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::{Gap, Input, MergeError};
use crate::report::plan::Plan;
use crate::runner::shard::Shard;

fn name(p: &Path) -> String {
    p.display().to_string()
}

/// The plan of an input, or the error naming it.
pub(super) fn plan_of(input: &Input) -> Result<&Plan, MergeError> {
    input.doc.plan.as_ref().ok_or_else(|| MergeError::NoPlan {
        path: input.path.clone(),
    })
}

/// The shard an input is (1/1 when the run was not split).
pub(super) fn shard_of(plan: &Plan) -> Shard {
    plan.shard
        .as_ref()
        .map_or(Shard { index: 1, count: 1 }, |s| s.shard())
}

/// How an input's split reads in an error (`4 shards by target`, `not split`).
fn split(plan: &Plan) -> String {
    match &plan.shard {
        Some(s) => format!(
            "{} shards by {} of sizes {:?}",
            s.count,
            s.by.as_str(),
            s.sizes
        ),
        None => "not split".into(),
    }
}

/// Every input agrees with the first on what the run was.
pub(super) fn agree(inputs: &[Input]) -> Result<(), MergeError> {
    let Some(first) = inputs.first() else {
        return Err(MergeError::Empty);
    };
    let a = plan_of(first)?;
    for other in &inputs[1..] {
        let b = plan_of(other)?;
        let aspects: [(&'static str, String, String); 6] = [
            ("contract versions", a.contract.clone(), b.contract.clone()),
            ("case sets", a.cases.clone(), b.cases.clone()),
            ("target lists", a.targets.join(","), b.targets.join(",")),
            (
                "trial selections (FILTER, --skip)",
                format!("{} trials", a.trials),
                format!("{} trials", b.trials),
            ),
            (
                "--strict settings",
                format!("strict {}", first.doc.strict),
                format!("strict {}", other.doc.strict),
            ),
            ("splits", split(a), split(b)),
        ];
        for (what, left, right) in aspects {
            if left != right {
                return Err(MergeError::Mismatch {
                    what,
                    a: first.path.clone(),
                    b: other.path.clone(),
                    left,
                    right,
                });
            }
        }
    }
    Ok(())
}

/// Shards and trials missing or held twice (inputs already agree).
pub(super) fn gaps(inputs: &[Input]) -> Vec<Gap> {
    let mut gaps = Vec::new();
    let mut by_index: BTreeMap<u32, &PathBuf> = BTreeMap::new();
    let Some(plan) = inputs.first().and_then(|i| i.doc.plan.as_ref()) else {
        return gaps;
    };
    let count = shard_of(plan).count;
    let planned = |k: u32| {
        plan.shard
            .as_ref()
            .and_then(|s| s.sizes.get((k - 1) as usize).copied())
            .unwrap_or(plan.trials)
    };
    for input in inputs {
        let Some(p) = input.doc.plan.as_ref() else {
            continue;
        };
        let shard = shard_of(p);
        if let Some(first) = by_index.get(&shard.index) {
            gaps.push(Gap::DuplicateShard {
                shard,
                first: name(first),
                second: name(&input.path),
            });
            continue;
        }
        by_index.insert(shard.index, &input.path);
        let held = input.doc.cases.len();
        if held != planned(shard.index) {
            gaps.push(Gap::Share {
                path: name(&input.path),
                shard,
                held,
                planned: planned(shard.index),
            });
        }
    }
    for k in 1..=count {
        if !by_index.contains_key(&k) {
            gaps.push(Gap::MissingShard {
                shard: Shard { index: k, count },
                trials: planned(k),
            });
        }
    }
    gaps.extend(duplicate_trials(inputs));
    gaps
}

/// Trials held by two inputs of different shards (a duplicated shard is reported as such).
fn duplicate_trials(inputs: &[Input]) -> Vec<Gap> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut pairs: BTreeMap<(usize, usize), Vec<String>> = BTreeMap::new();
    for (i, input) in inputs.iter().enumerate() {
        for r in &input.doc.cases {
            match seen.get(r.trial.as_str()) {
                Some(&j) if j != i => pairs.entry((j, i)).or_default().push(r.trial.clone()),
                Some(_) => {}
                None => {
                    seen.insert(&r.trial, i);
                }
            }
        }
    }
    let index = |i: usize| inputs[i].doc.plan.as_ref().map(shard_of);
    pairs
        .into_iter()
        .filter(|((a, b), _)| index(*a) != index(*b))
        .map(|((a, b), trials)| Gap::DuplicateTrials {
            first: name(&inputs[a].path),
            second: name(&inputs[b].path),
            trials,
        })
        .collect()
}
