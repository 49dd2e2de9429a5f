//! The targets of a run, around the trials: built from flags, a profile, or an embedded mock;
//! fingerprinted and probed before the trials; announced when they will be changed; cleaned and
//! summed up after.

use std::sync::Arc;

use futures_util::future::join_all;
use libtest_mimic::Trial;
use tokio::sync::{RwLock, Semaphore};

use super::RunArgs;
use super::shard::{self, By, CaseKey, Shard, Share};
use super::trials::{Ready, needs_whole_target};
use crate::case::{Api, LoadedCase, Needs};
use crate::cleanup::Leftover;
use crate::exec::{Capabilities, cannot_run};
use crate::mock::{self, MockConfig, RunningMock};
use crate::report::plan::{Plan, ShardPlan, case_set_digest, contract_digest};
use crate::report::{CaseRecord, Dialects, TargetKind, TargetRecord, element_dialect};
use crate::target::fingerprint::{Fingerprint, Unusable, fingerprint};
use crate::target::{self, Configured, Target, TargetConfig, profile};
use crate::transport::{Credentials, Secret};

/// Default concurrency on the embedded mock.
const MOCK_CONCURRENCY: usize = 16;

/// The run's targets, and the embedded mock if one was started.
#[derive(Debug)]
pub struct TargetSet {
    /// Targets in order.
    pub targets: Vec<Configured>,
    mock: Option<RunningMock>,
    /// The embedded mock's configuration: a case that needs a whole target runs on a fresh copy
    /// of it instead of locking the shared one.
    private: Option<Arc<MockConfig>>,
}

impl TargetSet {
    /// Stops the embedded mock, if any.
    pub fn stop(self, rt: &tokio::runtime::Runtime) {
        if let Some(m) = self.mock {
            rt.block_on(m.stop());
        }
    }
}

fn flag_config(args: &RunArgs) -> TargetConfig {
    TargetConfig {
        element: args.element.clone(),
        aiqum: args.aiqum.clone(),
        user: args.user.clone(),
        password_env: args.password_env.clone(),
        ca_cert: args.ca_cert.clone(),
        insecure: args.insecure,
        ..TargetConfig::default()
    }
}

fn overrides(cfg: &mut TargetConfig, args: &RunArgs) {
    cfg.allow_mutations |= args.allow_mutations;
    if args.deadline.is_some() {
        cfg.deadline_s = args.deadline;
    }
    if args.min_interval.is_some() {
        cfg.min_interval_ms = args.min_interval;
    }
    if args.concurrency.is_some() {
        cfg.concurrency = args.concurrency;
    }
}

/// Builds the targets: a profile's, the flags' (target `live`), or an embedded mock.
pub async fn targets(args: &RunArgs) -> Result<TargetSet, String> {
    let mut configs: Vec<(String, TargetConfig)> = Vec::new();
    if let Some(control) = &args.control {
        return served_mock(args, control);
    }
    if let Some(path) = &args.profile {
        let p = profile::load(path).map_err(|e| e.to_string())?;
        configs.extend(p.targets);
    } else if args.element.is_some() || args.aiqum.is_some() {
        configs.push(("live".into(), flag_config(args)));
    }
    if configs.is_empty() {
        return embedded(args).await;
    }
    let mut out = Vec::new();
    for (name, mut cfg) in configs {
        overrides(&mut cfg, args);
        if args.label.is_some() {
            cfg.label = args.label.clone();
        }
        out.push(target::live(&name, &cfg).map_err(|e| e.to_string())?);
    }
    Ok(TargetSet {
        targets: out,
        mock: None,
        private: None,
    })
}

/// The snapshot label of the embedded mock: `--label`, else `mock` (a mock's firmware version is
/// made up, and its snapshots must not mix with a real cluster's).
fn mock_label(args: &RunArgs) -> String {
    args.label.clone().unwrap_or_else(|| "mock".into())
}

async fn embedded(args: &RunArgs) -> Result<TargetSet, String> {
    let scale = mock::clock::checked_scale("--mock-time-scale", args.mock_time_scale)?;
    let config = MockConfig {
        time_scale: scale,
        element_dialect: args.mock_element_dialect,
        aiqum_dialect: args.mock_aiqum_dialect,
        ..MockConfig::default()
    };
    let private = Some(Arc::new(config.clone()));
    let running = mock::spawn(config)
        .await
        .map_err(|e| format!("start the embedded mock: {e}"))?;
    let creds = Credentials {
        user: mock::DEFAULT_USER.into(),
        password: Secret::new(mock::DEFAULT_PASSWORD),
    };
    let mut target =
        target::mock("mock", &running.urls, scale, creds).map_err(|e| e.to_string())?;
    target.label = Some(mock_label(args));
    Ok(TargetSet {
        targets: vec![Configured {
            target,
            concurrency: args.concurrency.unwrap_or(MOCK_CONCURRENCY).max(1),
        }],
        mock: Some(running),
        private,
    })
}

/// The `--control` target: a `jobconform serve` mock treated as a mock (scripted cases run).
fn served_mock(args: &RunArgs, control: &str) -> Result<TargetSet, String> {
    let scale = mock::clock::checked_scale("--mock-time-scale", args.mock_time_scale)?;
    let urls = mock::Urls {
        element: args.element.clone().unwrap_or_default(),
        aiqum: args.aiqum.clone().unwrap_or_default(),
        control: control.trim_end_matches('/').to_string(),
    };
    let user = args
        .user
        .clone()
        .unwrap_or_else(|| mock::DEFAULT_USER.into());
    let password = match &args.password_env {
        Some(_) => target::password("mock", &user, args.password_env.as_deref())
            .map_err(|e| e.to_string())?,
        None => Secret::new(mock::DEFAULT_PASSWORD),
    };
    let mut target = target::mock("mock", &urls, scale, Credentials { user, password })
        .map_err(|e| e.to_string())?;
    // A served mock may run any dialect or deviation: it is not `mock` unless told so.
    target.label = args.label.clone();
    Ok(TargetSet {
        targets: vec![Configured {
            target,
            concurrency: args.concurrency.unwrap_or(MOCK_CONCURRENCY).max(1),
        }],
        mock: None,
        private: None,
    })
}

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
