//! The targets of a run, around the trials (built by [`super::targets`]): fingerprinted and
//! probed before the trials; announced when they will be changed; cleaned and summed up after;
//! and the run's share and plan.

use std::sync::Arc;

use futures_util::future::join_all;
use libtest_mimic::Trial;
use tokio::sync::{RwLock, Semaphore};

use super::shard::{self, By, CaseKey, Shard, Share};
use super::targets::TargetSet;
use super::trials::{Ready, needs_whole_target};
use crate::case::{Api, LoadedCase, Needs};
use crate::cleanup::Leftover;
use crate::exec::{Capabilities, cannot_run};
use crate::report::plan::{Plan, ShardPlan, case_set_digest, contract_digest};
use crate::report::{CaseRecord, Dialects, TargetKind, TargetRecord, element_dialect};
use crate::target::fingerprint::{Fingerprint, Unusable, fingerprint};
use crate::target::{Configured, Target};

/// A target after fingerprint and probe.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// What trials use.
    pub ready: Ready,
    /// What it said it is.
    pub fingerprint: Fingerprint,
}

fn ready(set: &TargetSet, c: &Configured, caps: Capabilities, label: &str) -> Ready {
    Ready {
        private: set.private.clone(),
        label: label.to_string(),
        target: Arc::new(c.target.clone()),
        caps: Arc::new(caps),
        permits: Arc::new(Semaphore::new(c.concurrency.max(1))),
        list_lock: Arc::new(RwLock::new(())),
    }
}

/// Targets without fingerprint or probe (for `--list`).
pub fn unprobed(set: &TargetSet) -> Vec<Prepared> {
    set.targets
        .iter()
        .map(|c| Prepared {
            ready: ready(set, c, Capabilities::default(), "unknown"),
            fingerprint: Fingerprint::default(),
        })
        .collect()
}

/// Fingerprints every target (concurrently), then probes each once.
pub async fn prepare(set: &TargetSet) -> Result<Vec<Prepared>, Unusable> {
    let prints = join_all(set.targets.iter().map(|c| fingerprint(&c.target))).await;
    let mut prints_ok = Vec::new();
    for p in prints {
        prints_ok.push(p?);
    }
    let caps = join_all(set.targets.iter().map(|c| {
        let t = c.target.clone();
        async move {
            tokio::spawn(async move { crate::exec::probe(&t).await })
                .await
                .unwrap_or_else(|_| Capabilities {
                    notes: vec!["probe failed (panicked); capabilities assumed absent".into()],
                    ..Capabilities::default()
                })
        }
    }))
    .await;
    Ok(set
        .targets
        .iter()
        .zip(prints_ok)
        .zip(caps)
        .map(|((c, fp), caps)| Prepared {
            ready: ready(set, c, caps, &fp.label),
            fingerprint: fp,
        })
        .collect())
}

/// On stderr, before any trial: for each live target that will be changed, exactly what will be
/// created and how it will be removed.
pub fn announce_mutations(
    args: &libtest_mimic::Arguments,
    trials: &[Trial],
    targets: &[Ready],
    cases: &[Arc<LoadedCase>],
) {
    for r in targets.iter().filter(|r| !r.target.is_mock()) {
        let t: &Target = &r.target;
        let selected: Vec<&LoadedCase> = cases
            .iter()
            .filter(|c| c.case.needs == Needs::Mutations)
            .filter(|c| cannot_run(c, t, &r.caps).is_none())
            .filter(|c| {
                let name = super::trials::trial_name(&t.name, &c.name);
                trials
                    .iter()
                    .find(|tr| tr.name() == name)
                    .is_some_and(|tr| !args.is_filtered_out(tr) && !args.is_ignored(tr))
            })
            .map(|c| c.as_ref())
            .collect();
        if selected.is_empty() {
            continue;
        }
        eprintln!(
            "jobconform: target {} WILL BE CHANGED by {} case(s):",
            t.name,
            selected.len()
        );
        for c in &selected {
            eprintln!("  {}", c.name);
        }
        if selected.iter().any(|c| c.case.api == Api::Element) {
            match t.element_account {
                Some(a) => eprintln!(
                    "  Element: in account {a}, per case a scratch volume and its clone(s)"
                ),
                None => eprintln!(
                    "  Element: a temporary account, and per case a scratch volume and its clone(s)"
                ),
            }
            eprintln!(
                "    removed afterwards: DeleteVolume + PurgeDeletedVolume for every volume (clones first), then RemoveAccount for the temporary account"
            );
        }
        if selected.iter().any(|c| c.case.api == Api::Aiqum)
            && let Some(call) = &t.aiqum_call
        {
            let body = call
                .body
                .as_ref()
                .map(|b| format!(" {b}"))
                .unwrap_or_default();
            eprintln!("  AIQUM: per case {} {}{}", call.method, call.path, body);
            match &call.cleanup {
                Some(c) => eprintln!(
                    "    removed afterwards: {} {} (a 202 is polled to its end)",
                    c.method, c.path
                ),
                None => eprintln!("    NOT removed afterwards: the profile gives no cleanup call"),
            }
        }
    }
}

/// The share of the run's trials that `shard` runs (all of them without `--shard`), counting only
/// trials libtest's FILTER and `--skip` select.
pub fn share(
    args: &libtest_mimic::Arguments,
    shard: Option<Shard>,
    targets: &[String],
    cases: &[Arc<LoadedCase>],
) -> Share {
    let keys: Vec<CaseKey<'_>> = cases
        .iter()
        .map(|c| CaseKey {
            name: &c.name,
            whole_target: needs_whole_target(c),
        })
        .collect();
    let selected = |name: &str| !args.is_filtered_out(&Trial::test(name, || Ok(())));
    let one = Shard { index: 1, count: 1 };
    shard::share(shard.unwrap_or(one), targets, &keys, selected)
}

/// One line about a shard: which, how the run is split and why, and its share.
pub fn describe(s: &Share) -> String {
    let why = match s.by {
        By::Target => "at least as many targets as shards",
        By::Trial => "fewer targets than shards",
    };
    let own = s.sizes[(s.shard.index - 1) as usize];
    format!(
        "shard {} by {} ({why}): {own} of {} trial(s)",
        s.shard,
        s.by.as_str(),
        s.total
    )
}

/// The report's `plan`: contract and case set, the run's targets, and the shard if any.
pub fn plan_record(s: &Share, targets: &[String], cases: &[Arc<LoadedCase>]) -> Plan {
    Plan {
        contract: contract_digest(),
        cases: case_set_digest(cases),
        targets: targets.to_vec(),
        trials: s.total,
        shard: (s.shard.count > 1).then(|| ShardPlan {
            index: s.shard.index,
            count: s.shard.count,
            by: s.by,
            sizes: s.sizes.clone(),
        }),
    }
}

/// Cleans every target (concurrently), whatever happened.
pub async fn clean_all(targets: &[Ready]) -> Vec<Vec<Leftover>> {
    join_all(
        targets
            .iter()
            .map(|r| async move { crate::cleanup::clean(&r.target).await }),
    )
    .await
}

/// The report's view of a target.
pub fn target_record(
    p: &Prepared,
    leftovers: Vec<Leftover>,
    records: &[CaseRecord],
) -> TargetRecord {
    let t = &p.ready.target;
    let mine: Vec<CaseRecord> = records
        .iter()
        .filter(|r| r.target == t.name)
        .cloned()
        .collect();
    TargetRecord {
        name: t.name.clone(),
        kind: if t.is_mock() {
            TargetKind::Mock
        } else {
            TargetKind::Live
        },
        element: t.element.as_ref().map(|e| e.url(None)),
        aiqum: t.aiqum.as_ref().map(|a| a.base.clone()),
        fingerprint: p.fingerprint.clone(),
        dialect: Dialects {
            element: element_dialect(&mine),
            aiqum: p.ready.caps.aiqum_dialect,
        },
        capabilities: (*p.ready.caps).clone(),
        leftovers,
    }
}
