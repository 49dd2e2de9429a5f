//! AIQUM REST jobs served by the mock, at `/api` and `/api/v2` (CONTRACT.md section 4). Owns the
//! job table (history, jobs started by provisioning calls, scripted jobs), the provisioned objects
//! (LUNs, file shares) and the routes. It must not hold a lock across an `.await`, must not run
//! timers or threads per job (a job is a timeline on the [`Clock`]) and never reads `cases/`.
//!
//! Routes (each under both `/api` and `/api/v2`; hrefs served carry the prefix asked for):
//!
//! - `GET /management-server/jobs` (list, see [`list`]), `GET /management-server/jobs/{key}`
//!   (optionally long-polled with `poll_timeout`/`last_modified`, see [`handlers`]); any other
//!   method on those paths is 405 (UM-JOBS-READONLY).
//! - `POST /storage-provider/luns`, `PATCH|DELETE|GET /storage-provider/luns/{key}`,
//!   `GET /storage-provider/luns`, and the same for `/storage-provider/file-shares`: body
//!   validation is synchronous (400), then 202 with `{"job": {"key", "_links"}}` (see
//!   [`provision`]).
//! - `POST /_jobconform/aiqum/jobs` (control, Basic auth always): a [`JobScript`] body gives a
//!   scripted job, 201 `{"key": ...}`.
//!
//! Body validation (400 `{"error": {"message", "code"}}` before any job is made):
//!
//! - LUN or file share POST: a JSON object with `name` (non-empty string), `space.size` (integer
//!   > 0) and `svm.key` (non-empty string); other members are ignored.
//! - PATCH: a JSON object with at least one of `name` (non-empty string), `space.size` (integer
//!   > 0), `performance_service_level.key` (non-empty string); an unknown object key is 404.
//! - DELETE: no body needed; an unknown object key is 404.
//!
//! Dialects (register U1, U4): `split` serves lower-case `state` (`queued`, `running`, `completed`,
//! `aborted`) and `status` (`normal`, `warning`, `partial_failures`, `error`). `literal` serves
//! no `status` and an upper-case `state` that is always one of the four values (U1, and
//! `schemas/aiqum/job.json`): `WARNING` while the job is going (queued, running, or running with
//! a warning: U2 makes WARNING the one value that is not terminal), then `NORMAL`, `ERROR` or
//! `PARTIAL_FAILURES`. An outcome of warning ends as `NORMAL` (a final WARNING would never be
//! terminal) and an aborted job ends as `ERROR`. Scripted step states are visible only in the
//! split dialect.

pub mod handlers;
pub mod invalid;
pub mod jobs;
pub mod list;
mod list_cache;
pub mod provision;
pub mod reply;
mod summary;

use provision::step;
pub use summary::state_summary;
#[cfg(test)]
mod state_tests;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::Arc;

use serde_json::{Value, json};

use super::script::{JobScript, Outcome};
use super::{MockConfig, State, clock::Clock};

/// Where a job came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Part of the history a fresh server has (finished before the mock started).
    History,
    /// Started by a provisioning call (202).
    Call,
    /// Created through the control API.
    Scripted,
}

/// The kind of a provisioned object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `/storage-provider/luns`.
    Lun,
    /// `/storage-provider/file-shares`.
    FileShare,
}

impl Kind {
    /// Path segment after `/storage-provider/`.
    pub fn segment(self) -> &'static str {
        match self {
            Kind::Lun => "luns",
            Kind::FileShare => "file-shares",
        }
    }
    /// Human name used in job names.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Lun => "LUN",
            Kind::FileShare => "file share",
        }
    }
    /// `job_results` name carrying the object key.
    pub fn result_name(self) -> &'static str {
        match self {
            Kind::Lun => "lunKey",
            Kind::FileShare => "fileshareKey",
        }
    }
}

/// What a successful job does to the objects when it finishes.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Adds an object.
    Create(Kind, String, Value),
    /// Merges members into an object.
    Update(Kind, String, Value),
    /// Removes an object.
    Delete(Kind, String),
}

/// One job.
#[derive(Debug, Clone)]
pub struct Job {
    /// Opaque key.
    pub key: String,
    /// Creation sequence number (ties in submit time are broken by it).
    pub seq: u64,
    /// Job name.
    pub name: String,
    /// Job description.
    pub description: String,
    /// Submit time, target ms since the mock started (negative for history).
    pub submit_ms: i64,
    /// Timeline.
    pub script: JobScript,
    /// Where it came from.
    pub origin: Origin,
    /// What it does to the objects when it succeeds.
    pub effect: Option<Effect>,
    /// Whether the effect has been applied.
    pub applied: bool,
    /// Reads of the job while terminal (for `terminal-flaps`).
    pub terminal_reads: u64,
    /// Scripted transient faults served so far (`JobScript::faults`).
    pub faults_served: usize,
}

/// AIQUM jobs and objects.
#[derive(Debug)]
pub struct AiqumState {
    config: MockConfig,
    clock: Clock,
    wall0: jiff::Timestamp,
    jobs: Vec<Job>,
    /// Index into `jobs` by key.
    index: HashMap<String, usize>,
    /// Jobs whose effect is still to apply, by (success time, sequence), earliest first; the
    /// key may name a job since removed.
    pending: BinaryHeap<Reverse<(i64, u64, String)>>,
    objects: BTreeMap<(Kind, String), Value>,
    /// What the list remembers of the jobs (told of every job added, handed out or removed).
    list_memo: list_cache::Memo,
    next_seq: u64,
    host: u64,
    salt: u32,
    time_hex: u64,
}

/// Bytes the mock's aggregates hold: a LUN or file share create asking for more is accepted (202)
/// and its job fails with `error` (the way a real AIQUM fails a create no aggregate has room for).
pub const AGGREGATE_BYTES: u64 = 1 << 50;

/// Jobs a fresh server already has.
pub const HISTORY_JOBS: usize = 25;

impl AiqumState {
    /// Fresh state, with [`HISTORY_JOBS`] finished jobs submitted in the past.
    pub fn new(config: &MockConfig, clock: &Clock) -> Self {
        let wall0 = clock
            .iso_ms(0, true)
            .parse::<jiff::Timestamp>()
            .unwrap_or_else(|_| jiff::Timestamp::now());
        let mut s = AiqumState {
            config: config.clone(),
            clock: clock.clone(),
            wall0,
            jobs: Vec::new(),
            index: HashMap::new(),
            pending: BinaryHeap::new(),
            objects: BTreeMap::new(),
            list_memo: list_cache::Memo::default(),
            next_seq: 0,
            host: fastrand::u64(..),
            salt: fastrand::u32(..),
            time_hex: wall0.as_millisecond().max(0) as u64,
        };
        s.add_history();
        s
    }

    fn add_history(&mut self) {
        const NAMES: [&str; 4] = [
            "Rediscover cluster",
            "Acquire cluster",
            "Apply performance service level",
            "Rebalance workload",
        ];
        const OUTCOMES: [Outcome; 8] = [
            Outcome::Success,
            Outcome::Success,
            Outcome::Warning,
            Outcome::Success,
            Outcome::Failure,
            Outcome::Success,
            Outcome::PartialFailures,
            Outcome::Success,
        ];
        for i in 0..HISTORY_JOBS {
            let total = 5_000 + (i as u64 * 7_919) % 30_000;
            let script = JobScript {
                steps: vec![step(500, "queued"), step(total - 500, "running")],
                outcome: OUTCOMES[i % OUTCOMES.len()],
                result_type: None,
                result: Some(json!([])),
                error: None,
                name: None,
                faults: Vec::new(),
            };
            // Oldest first, two minutes apart; two share a submit time (ties go by sequence).
            let submit = -3_600_000 + (i as i64 * 120_000).min(23 * 120_000);
            let name = NAMES[i % NAMES.len()].to_string();
            self.push_job(name.clone(), name, submit, script, Origin::History, None);
        }
    }

    /// A new unique key that names no job (`accept-link-wrong-key`).
    pub fn fresh_key(&mut self) -> String {
        let k = self.new_key();
        self.next_seq += 1;
        k
    }

    /// A new unique key in the real format (`06a6148bf9e862df:-2611856e:16e8d47e722:-7f87`).
    fn new_key(&self) -> String {
        let seq = self.next_seq;
        let count = (seq % 65_536) as i64 - 32_768;
        let time = self.time_hex + seq / 65_536;
        let signed = |v: i64| {
            if v < 0 {
                format!("-{:x}", v.unsigned_abs())
            } else {
                format!("{v:x}")
            }
        };
        format!(
            "{:016x}:{}:{:x}:{}",
            self.host,
            signed(-(i64::from(self.salt >> 1) + 1)),
            time,
            signed(count)
        )
    }

    /// Adds a job and returns its key.
    pub fn push_job(
        &mut self,
        name: String,
        description: String,
        submit_ms: i64,
        script: JobScript,
        origin: Origin,
        effect: Option<Effect>,
    ) -> String {
        let key = self.new_key();
        let job = Job {
            key: key.clone(),
            seq: self.next_seq,
            name,
            description,
            submit_ms,
            script,
            origin,
            effect,
            applied: false,
            terminal_reads: 0,
            faults_served: 0,
        };
        if job.effect.is_some()
            && let Some(at) = jobs::succeeded_at(&job, &self.config)
        {
            self.pending.push(Reverse((at, job.seq, key.clone())));
        }
        self.index.insert(key.clone(), self.jobs.len());
        self.list_memo.pushed(&job);
        self.jobs.push(job);
        self.next_seq += 1;
        key
    }

    /// Target ms now.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms() as i64
    }

    /// Wall time of target ms 0.
    pub fn wall0(&self) -> jiff::Timestamp {
        self.wall0
    }

    /// Every job, in creation order.
    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    /// A job by key (the list forgets what it remembered of the job).
    pub fn job_mut(&mut self, key: &str) -> Option<&mut Job> {
        let i = *self.index.get(key)?;
        self.list_memo.touched(i);
        self.jobs.get_mut(i)
    }

    /// The next scripted transient fault of a job, counted as served. Leaves the list memo alone:
    /// no list entry shows the count.
    pub fn take_fault(&mut self, key: &str) -> Option<crate::mock::script::Fault> {
        let job = self.jobs.get_mut(*self.index.get(key)?)?;
        job.script.next_fault(&mut job.faults_served)
    }

    /// Counts a read of a job that showed it terminal (deviation `terminal-flaps`) and returns
    /// the count. Leaves the list memo alone: list entries never flap.
    pub fn count_terminal_read(&mut self, key: &str) -> Option<u64> {
        let job = self.jobs.get_mut(*self.index.get(key)?)?;
        job.terminal_reads += 1;
        Some(job.terminal_reads)
    }

    /// A job by key.
    pub fn job(&self, key: &str) -> Option<&Job> {
        let i = *self.index.get(key)?;
        self.jobs.get(i)
    }

    /// Removes a job (deviation `jobs-writable`).
    pub fn remove_job(&mut self, key: &str) -> bool {
        let before = self.jobs.len();
        self.jobs.retain(|j| j.key != key);
        if self.jobs.len() == before {
            return false;
        }
        self.index = self
            .jobs
            .iter()
            .enumerate()
            .map(|(i, j)| (j.key.clone(), i))
            .collect();
        self.list_memo.removed(self.jobs.len());
        true
    }

    /// Applies the effects of jobs that have finished successfully by `now`, in completion order.
    pub fn settle(&mut self, now: i64) {
        while let Some(Reverse((at, _, _))) = self.pending.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((_, _, key))) = self.pending.pop() else {
                break;
            };
            let Some(&i) = self.index.get(&key) else {
                continue;
            };
            let job = &mut self.jobs[i];
            if job.applied {
                continue;
            }
            job.applied = true;
            if let Some(effect) = job.effect.clone() {
                apply(&mut self.objects, effect);
            }
        }
    }

    /// A provisioned object, as it is now.
    pub fn object(&self, kind: Kind, key: &str) -> Option<&Value> {
        self.objects.get(&(kind, key.to_string()))
    }

    /// Every object of a kind, as it is now.
    pub fn objects(&self, kind: Kind) -> Vec<&Value> {
        self.objects
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .map(|(_, v)| v)
            .collect()
    }
}

pub(super) fn apply(objects: &mut BTreeMap<(Kind, String), Value>, effect: Effect) {
    match effect {
        Effect::Create(kind, key, v) => {
            objects.insert((kind, key), v);
        }
        Effect::Update(kind, key, patch) => {
            if let (Some(Value::Object(o)), Value::Object(p)) =
                (objects.get_mut(&(kind, key)), patch)
            {
                for (k, v) in p {
                    o.insert(k, v);
                }
            }
        }
        Effect::Delete(kind, key) => {
            objects.remove(&(kind, key));
        }
    }
}

/// Routes.
pub fn routes() -> axum::Router<Arc<State>> {
    handlers::routes().merge(provision::routes()).route(
        "/_jobconform/aiqum/jobs",
        axum::routing::post(handlers::create_scripted),
    )
}
