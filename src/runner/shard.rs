//! `run --shard K/N`: which trials (target x case) fall to shard K of N. Pure and deterministic:
//! every shard computes the same partition from the same targets and cases, so N processes run
//! every trial exactly once without talking to each other.
//!
//! - **By target** when there are at least N targets: targets sorted by name are dealt round
//!   robin, so every shard has one or more whole targets (its fingerprint, list cases and cleanup
//!   stay in one process) and adding a case moves no trial.
//! - **By trial** otherwise: rendezvous hashing (highest random weight) of each unit's name, so
//!   adding a case moves no existing trial and removing one moves only its own. A target's
//!   whole-list cases (`*-LIST-*`) form one unit and so run in one shard, where the target's list
//!   lock keeps them apart from that shard's other cases.
//!
//! Owns no I/O and knows nothing of libtest-mimic; the runner applies the partition.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::trials::trial_name;

/// Most shards a run may be split into.
pub const MAX_SHARDS: u32 = 10_000;

/// One shard of a split run: `index` of `count`, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 1..=count.
    pub index: u32,
    /// How many shards the run is split into.
    pub count: u32,
}

/// Why a `--shard` value is not a shard.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// Not two numbers around a slash.
    #[error("read --shard {0:?}: expected K/N, two whole numbers such as 2/4")]
    Syntax(String),
    /// N is 0 or too large.
    #[error("read --shard {value:?}: N must be between 1 and {MAX_SHARDS}")]
    Count {
        /// The value given.
        value: String,
    },
    /// K is 0 or above N.
    #[error("read --shard {value:?}: K must be between 1 and N ({count})")]
    Index {
        /// The value given.
        value: String,
        /// N.
        count: u32,
    },
}

impl Shard {
    /// Parses `K/N` (1-based).
    pub fn parse(value: &str) -> Result<Shard, ShardError> {
        let syntax = || ShardError::Syntax(value.to_string());
        let (k, n) = value.trim().split_once('/').ok_or_else(syntax)?;
        let number = |s: &str| {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(syntax());
            }
            // All digits: only overflow can fail, and a huge number is out of range anyway.
            Ok(s.parse::<u32>().unwrap_or(u32::MAX))
        };
        let (index, count) = (number(k)?, number(n)?);
        if count == 0 || count > MAX_SHARDS {
            return Err(ShardError::Count {
                value: value.to_string(),
            });
        }
        if index == 0 || index > count {
            return Err(ShardError::Index {
                value: value.to_string(),
                count,
            });
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// How a run is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum By {
    /// Whole targets per shard (at least as many targets as shards).
    Target,
    /// Trials per shard (fewer targets than shards).
    Trial,
}

impl By {
    /// `target` or `trial`.
    pub fn as_str(self) -> &'static str {
        match self {
            By::Target => "target",
            By::Trial => "trial",
        }
    }
}

/// The partition of a run's trials over `count` shards.
#[derive(Debug, Clone)]
pub struct Partition {
    /// How many shards.
    pub count: u32,
    /// By target or by trial.
    pub by: By,
    /// By target: each target's shard.
    owners: HashMap<String, u32>,
}

impl Partition {
    /// The partition of trials on `targets` over `count` shards (`count` >= 1).
    pub fn new(count: u32, targets: &[String]) -> Partition {
        let count = count.max(1);
        let by = if targets.len() >= count as usize {
            By::Target
        } else {
            By::Trial
        };
        let mut sorted: Vec<&String> = targets.iter().collect();
        sorted.sort();
        sorted.dedup();
        let owners = sorted
            .into_iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), (i as u64 % u64::from(count)) as u32 + 1))
            .collect();
        Partition { count, by, owners }
    }

    /// The shard (1-based) that runs `case` on `target`; `whole_target` for a case about a whole
    /// job list (see `trials::needs_whole_target`).
    pub fn shard_of(&self, target: &str, case: &str, whole_target: bool) -> u32 {
        if self.by == By::Target
            && let Some(k) = self.owners.get(target)
        {
            return *k;
        }
        let unit = if whole_target {
            // Not a possible trial name: case names never contain a NUL.
            format!("{target}/\u{0}whole-list")
        } else {
            format!("{target}/{case}")
        };
        let base = fnv1a(unit.as_bytes());
        (1..=self.count)
            .max_by_key(|k| (mix(base ^ mix(u64::from(*k))), std::cmp::Reverse(*k)))
            .unwrap_or(1)
    }

    /// Whether shard `k` has any trial on `target` at all (by trial: every target may).
    pub fn may_run_on(&self, k: u32, target: &str) -> bool {
        self.by == By::Trial || self.owners.get(target) == Some(&k)
    }
}

/// A case as the partition sees it: its name, and whether it is about a whole job list.
#[derive(Debug, Clone, Copy)]
pub struct CaseKey<'a> {
    /// Case name.
    pub name: &'a str,
    /// See `trials::needs_whole_target`.
    pub whole_target: bool,
}

/// This shard's share of a run: the trials it runs, and the plan every shard agrees on.
#[derive(Debug, Clone)]
pub struct Share {
    /// The shard (1/1 for an unsharded run).
    pub shard: Shard,
    /// How the run is split.
    pub by: By,
    /// Selected trials per shard, shard 1 first.
    pub sizes: Vec<usize>,
    /// Trials the whole run selected.
    pub total: usize,
    partition: Partition,
    mine: HashSet<String>,
}

impl Share {
    /// Whether this shard runs the trial `TARGET/CASE`.
    pub fn runs(&self, trial: &str) -> bool {
        self.mine.contains(trial)
    }
    /// Whether this shard needs `target` at all (fingerprint, probe, cleanup).
    pub fn needs(&self, target: &str) -> bool {
        self.partition.may_run_on(self.shard.index, target)
    }
}

/// Shard `shard`'s share of the trials on `targets` x `cases` that `selected` keeps (libtest's
/// FILTER and `--skip`); every shard computes the same sizes and total.
pub fn share(
    shard: Shard,
    targets: &[String],
    cases: &[CaseKey<'_>],
    selected: impl Fn(&str) -> bool,
) -> Share {
    let partition = Partition::new(shard.count, targets);
    let mut sizes = vec![0; shard.count as usize];
    let mut mine = HashSet::new();
    for t in targets {
        for c in cases {
            let name = trial_name(t, c.name);
            if !selected(&name) {
                continue;
            }
            let k = partition.shard_of(t, c.name, c.whole_target);
            sizes[(k - 1) as usize] += 1;
            if k == shard.index {
                mine.insert(name);
            }
        }
    }
    Share {
        shard,
        by: partition.by,
        total: sizes.iter().sum(),
        sizes,
        partition,
        mine,
    }
}

/// FNV-1a, 64 bits: a stable hash (the same on every platform and Rust version, unlike std's).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The splitmix64 finalizer: spreads FNV's weak low bits over the whole word.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_k_of_n_and_refuses_the_rest() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(Shard::parse(" 1/1 "), Ok(Shard { index: 1, count: 1 }));
        for bad in [
            "", "2", "2/", "/4", "a/4", "2/b", "-1/4", "2/4/6", "+2/4", "2.0/4",
        ] {
            assert!(
                matches!(Shard::parse(bad), Err(ShardError::Syntax(_))),
                "{bad}"
            );
        }
        assert!(matches!(Shard::parse("0/4"), Err(ShardError::Index { .. })));
        assert!(matches!(Shard::parse("5/4"), Err(ShardError::Index { .. })));
        assert!(matches!(Shard::parse("1/0"), Err(ShardError::Count { .. })));
        assert!(matches!(
            Shard::parse("1/99999999999999999999"),
            Err(ShardError::Count { .. })
        ));
        let e = Shard::parse("0/3").expect_err("refused").to_string();
        assert_eq!(e, "read --shard \"0/3\": K must be between 1 and N (3)");
    }

    #[test]
    fn by_target_deals_every_shard_a_target() {
        let targets: Vec<String> = ["c", "a", "b", "d"].map(String::from).to_vec();
        let p = Partition::new(3, &targets);
        assert_eq!(p.by, By::Target);
        let got: Vec<u32> = ["a", "b", "c", "d"]
            .iter()
            .map(|t| p.shard_of(t, "x", false))
            .collect();
        assert_eq!(got, [1, 2, 3, 1]);
        assert_eq!(Partition::new(5, &targets).by, By::Trial);
    }

    #[test]
    fn list_cases_of_a_target_share_a_shard() {
        let p = Partition::new(7, &["mock".to_string()]);
        let first = p.shard_of("mock", "aiqum/list/a", true);
        assert!((0..50).all(|i| p.shard_of("mock", &format!("l{i}"), true) == first));
        let spread: std::collections::BTreeSet<u32> = (0..200)
            .map(|i| p.shard_of("mock", &format!("c{i}"), false))
            .collect();
        assert_eq!(spread.len(), 7, "200 trials reach every one of 7 shards");
    }
}
