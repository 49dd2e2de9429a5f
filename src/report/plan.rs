//! The `plan` member of a JSON verdict: what a run was asked to do, so that verdicts of one split
//! run (`run --shard K/N`) can be checked and merged (`jobconform merge`). It names the contract
//! and the case set (digests), every target of the run, how many trials the whole run selected,
//! and, for a shard, which one it is, how the run was split and every shard's share.
//!
//! Owns only the record and its digests; the partition itself is `runner::shard`'s.

use serde::{Deserialize, Serialize};

use crate::case::LoadedCase;
use crate::runner::shard::{By, Shard, fnv1a};

/// What a run was asked to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Digest of the rule registry (IDs, levels, sentences): the contract version.
    pub contract: String,
    /// Digest of the case set (every case's name and content).
    pub cases: String,
    /// Every target of the run, in order (a shard may run only some of them).
    pub targets: Vec<String>,
    /// Trials the whole run selected (every shard together; after FILTER and --skip).
    pub trials: usize,
    /// Set when the run was one shard of several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardPlan>,
}

/// One shard's place in a split run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardPlan {
    /// 1-based index.
    pub index: u32,
    /// How many shards.
    pub count: u32,
    /// By target or by trial.
    pub by: By,
    /// Selected trials per shard, shard 1 first.
    pub sizes: Vec<usize>,
}

impl ShardPlan {
    /// The shard as `K/N`.
    pub fn shard(&self) -> Shard {
        Shard {
            index: self.index,
            count: self.count,
        }
    }
}

fn hex(h: u64) -> String {
    format!("{h:016x}")
}

/// The contract's digest: of the registry as `jobconform rules --format json` prints it.
pub fn contract_digest() -> String {
    hex(fnv1a(crate::contract::to_json().to_string().as_bytes()))
}

/// The case set's digest: of every case's name and content (as the loader read it), in name
/// order.
pub fn case_set_digest(cases: &[impl AsRef<LoadedCase>]) -> String {
    let mut parts: Vec<String> = cases
        .iter()
        .map(|c| {
            let c = c.as_ref();
            let body = serde_json::to_string(&c.case).unwrap_or_default();
            format!("{}\u{0}{body}", c.name)
        })
        .collect();
    parts.sort();
    hex(fnv1a(parts.join("\u{1}").as_bytes()))
}
