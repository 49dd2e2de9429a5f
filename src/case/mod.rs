//! The case model: what a case file (`cases/**/*.json`) says, as typed structs. A case is data,
//! named by its path under `cases/` without the extension (`element/keep-result/default-invalidates`).
//! Every struct refuses unknown fields; `schemas/case.schema.json` says the same thing for editors
//! and is checked first by [`load`], so errors carry a file and a JSON pointer.
//!
//! Strings anywhere in `params`, `path`, `query`, `body`, `equals` and `one_of` may use variables:
//! `"${h}"` alone is replaced by the captured JSON value (keeping its type), and `${h}` inside a
//! longer string by its text. Built-in variables: `${unknown_handle}` (an Element handle above
//! every listed one, never issued), `${unknown_key}` (an AIQUM key in the real format, never
//! issued), `${version}` (the Element endpoint's version).

pub mod expect;
pub mod load;
pub mod template;

pub use expect::{Expect, ExpectError, ExpectKind, JsonType, OneOrMany, PointerAssert};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::transport::AuthMode;

/// One case file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What the case checks and how, in a sentence or two.
    pub description: String,
    /// Which API the case talks to.
    pub api: Api,
    /// The rule IDs this case is written to check (per-observation rules checked on every poll
    /// may be reported too).
    pub rules: Vec<String>,
    /// What the case needs from a target; cases a target cannot run are ignored with a reason.
    #[serde(default)]
    pub needs: Needs,
    /// Capabilities the target must offer (probed once per target).
    #[serde(default)]
    pub requires: Vec<Capability>,
    /// Whether the case's exchanges are recorded in snapshots (default true).
    #[serde(default = "yes")]
    pub snapshot: bool,
    /// A known failure: the case must fail on exactly these rules; passing is itself a failure.
    #[serde(default)]
    pub expect_failure: Option<ExpectFailure>,
    /// The steps, in order. A harness error or a failed precondition stops the case.
    pub steps: Vec<Step>,
    /// Steps that always run after `steps`, even when a step failed.
    #[serde(default)]
    pub cleanup: Vec<Step>,
}

fn yes() -> bool {
    true
}

impl Case {
    /// A rough estimate of the case's length in target milliseconds: its waits (repeats counted)
    /// plus its longest poll, a poll lasting as long as the scripted job it polls or its
    /// deadline, whichever is shorter (jobs run side by side; a job never polled does not count).
    /// The runner starts long cases first so that they do not end the run late.
    pub fn expected_ms(&self) -> u64 {
        let mut l = Lengths::default();
        l.add(&self.steps);
        l.waits.saturating_add(l.longest_poll)
    }
}

/// What [`Case::expected_ms`] adds up, in target milliseconds.
#[derive(Default)]
struct Lengths {
    waits: u64,
    jobs: BTreeMap<String, u64>,
    longest_poll: u64,
}

impl Lengths {
    fn add(&mut self, steps: &[Step]) {
        for step in steps {
            match step {
                Step::Wait(w) => self.waits = self.waits.saturating_add(w.ms),
                Step::Repeat(r) => {
                    let before = self.waits;
                    self.add(&r.steps);
                    let once = self.waits - before;
                    self.waits = before.saturating_add(once.saturating_mul(r.times.into()));
                }
                Step::Start(StartStep {
                    var,
                    work: Work::Scripted(script),
                    ..
                }) => {
                    let ms = script.steps.iter().map(|s| s.ms).sum();
                    self.jobs.insert(var.clone(), ms);
                }
                Step::Poll(p) => {
                    let job = p
                        .job
                        .as_str()
                        .and_then(|j| j.strip_prefix("${")?.strip_suffix('}'))
                        .and_then(|var| self.jobs.get(var).copied())
                        .unwrap_or(0);
                    let ms = p.deadline_ms.map_or(job, |d| job.min(d));
                    self.longest_poll = self.longest_poll.max(ms);
                }
                _ => {}
            }
        }
    }
}

/// The API a case talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Api {
    /// SolidFire Element JSON-RPC.
    Element,
    /// Active IQ Unified Manager REST.
    Aiqum,
}

/// What a case needs from a target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Needs {
    /// Reads only, safe on any live target.
    #[default]
    ReadOnly,
    /// Creates objects (a clone, a LUN); live targets need `--allow-mutations`.
    Mutations,
    /// Needs the mock's scripted jobs (control API); never runs on a live target.
    Scripted,
}

/// An optional capability of a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// AIQUM long polling (`poll_timeout`, register U3).
    LongPoll,
}

/// A strict expected failure (wasmtime's `should_fail`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectFailure {
    /// The rules expected to fail.
    pub rules: Vec<String>,
    /// Why this failure is expected.
    pub reason: String,
}

/// One step. Written as an object with exactly one key naming the kind: `{"rpc": {...}}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Step {
    /// Send one Element JSON-RPC call.
    Rpc(RpcStep),
    /// Send one AIQUM HTTP request.
    Http(HttpStep),
    /// Start asynchronous work and capture its handle (Element) or job key (AIQUM).
    Start(StartStep),
    /// Poll a handle or job to a terminal state, checking every observation.
    Poll(PollStep),
    /// Run steps N times.
    Repeat(RepeatStep),
    /// Send N copies of one call at once and judge the answers together.
    Concurrent(ConcurrentStep),
    /// Run a named check (Rust logic for what the step language cannot say).
    Check(CheckStep),
    /// Wait a while (in target time: scaled on the mock).
    Wait(WaitStep),
}

/// An Element JSON-RPC call.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RpcStep {
    /// Method name.
    pub method: String,
    /// Parameters object (templated).
    #[serde(default = "empty_object")]
    pub params: Value,
    /// Request id; integer or string (default: a fresh integer).
    #[serde(default)]
    pub id: Option<Value>,
    /// How to authenticate.
    #[serde(default)]
    pub auth: AuthMode,
    /// API version for the URL instead of the endpoint's own.
    #[serde(default)]
    pub version: Option<String>,
    /// Send this text as the body instead of a request object (malformed-input probes).
    #[serde(default)]
    pub raw: Option<String>,
    /// Expectations on the answer.
    #[serde(default)]
    pub expect: Vec<Expect>,
    /// Variables to capture: name -> JSON pointer into the response body.
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

/// An AIQUM HTTP request.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpStep {
    /// HTTP method (`GET`, `POST`, `PATCH`, `DELETE`).
    pub method: String,
    /// Path relative to the API base (`/management-server/jobs/${key}`), or a server href
    /// (`/api/...`) followed verbatim (templated).
    pub path: String,
    /// Query parameters (templated values).
    #[serde(default)]
    pub query: BTreeMap<String, Value>,
    /// JSON body (templated).
    #[serde(default)]
    pub body: Option<Value>,
    /// How to authenticate.
    #[serde(default)]
    pub auth: AuthMode,
    /// Expectations on the answer.
    #[serde(default)]
    pub expect: Vec<Expect>,
    /// Variables to capture: name -> JSON pointer into the response body.
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
}

/// Start asynchronous work.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StartStep {
    /// Variable that receives the handle (Element, integer) or job key (AIQUM, string).
    #[serde(rename = "as")]
    pub var: String,
    /// What to start.
    pub work: Work,
    /// Expectations on the answer that started the work (the 202, or CloneVolume's result).
    #[serde(default)]
    pub expect: Vec<Expect>,
    /// Further captures from that answer: name -> JSON pointer.
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
}

/// The kind of work a `start` step begins.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Work {
    /// A scripted job through the mock's control API (case must need `scripted`).
    Scripted(crate::mock::script::JobScript),
    /// Element: CloneVolume of a scratch volume (created and removed by the harness).
    Clone,
    /// AIQUM: the target's asynchronous call (the profile's on live targets; a LUN create on the
    /// mock).
    Call,
    /// AIQUM: a call the target accepts and whose job then fails (the profile's
    /// `aiqum_failing_call` on live targets; on the mock a LUN create larger than its aggregates).
    FailingCall,
}

impl Case {
    /// Whether a `start` step (at any depth) begins this kind of work.
    pub fn starts(&self, what: fn(&Work) -> bool) -> bool {
        fn any(steps: &[Step], what: fn(&Work) -> bool) -> bool {
            steps.iter().any(|s| match s {
                Step::Start(st) => what(&st.work),
                Step::Repeat(r) => any(&r.steps, what),
                _ => false,
            })
        }
        any(&self.steps, what)
    }
}

/// Poll to a terminal state.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PollStep {
    /// The handle or job key (templated, usually `"${h}"`).
    pub job: Value,
    /// Standard or long polling.
    #[serde(default)]
    pub mode: PollMode,
    /// Element only: send `keepResult: true` on every poll (default true: the poller never loses
    /// a result). `false` polls with keepResult absent, the way careless clients do.
    #[serde(default = "yes")]
    pub keep_result: bool,
    /// Give up after this many milliseconds of target time (default: the target's deadline).
    #[serde(default)]
    pub deadline_ms: Option<u64>,
    /// The rule a missed deadline is reported against (e.g. `UM-TERMINAL`, `EL-CLONE-START`).
    /// Without it, a missed deadline makes the case inconclusive.
    #[serde(default)]
    pub deadline_rule: Option<String>,
    /// The job is scripted to outlast the deadline: the poll must give up at the deadline (no
    /// later than one maximum interval past it) and report the last state seen (CL-DEADLINE); a
    /// failure is reported against `deadline_rule`. A job that ends first makes the case
    /// inconclusive.
    #[serde(default)]
    pub expect_deadline: bool,
    /// Minimum interval between polls, in target milliseconds, instead of the target's (the
    /// maximum interval grows with it if needed). Client cases use it so that the intervals the
    /// mock measures are large against real-time noise.
    #[serde(default)]
    pub min_interval_ms: Option<u64>,
    /// Expectations on the final (terminal) observation's body.
    #[serde(default)]
    pub expect: Vec<Expect>,
    /// Captures from the final observation: name -> JSON pointer.
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
}

/// How to poll.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PollMode {
    /// Plain GETs / GetAsyncResult calls at the poller's intervals.
    #[default]
    Standard,
    /// AIQUM long polling (`poll_timeout`); needs the `long-poll` capability.
    Long,
}

/// Repeat steps.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RepeatStep {
    /// How many times (1..=1000).
    pub times: u32,
    /// The steps to repeat.
    pub steps: Vec<Step>,
}

/// N concurrent copies of one Element call.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConcurrentStep {
    /// How many copies (2..=64).
    pub times: u32,
    /// The call, sent `times` times at once (its own `expect` applies to each answer).
    pub rpc: RpcStep,
    /// A named group check over all answers, attributed to `rule`.
    pub check: GroupCheck,
}

/// A named check over several answers.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GroupCheck {
    /// Rule a failure is reported against.
    pub rule: String,
    /// Check name.
    pub name: crate::check::names::Group,
}

/// A named check step.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CheckStep {
    /// Check name (pure, or with I/O).
    pub name: crate::check::names::StepCheck,
    /// Rule a failure is reported against.
    pub rule: String,
    /// Arguments (templated).
    #[serde(default = "empty_object")]
    pub args: Value,
}

/// Wait.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WaitStep {
    /// Milliseconds of target time (divided by the mock's time scale).
    pub ms: u64,
}

/// A loaded case: its name (path under `cases/` without `.json`) and content.
#[derive(Debug, Clone)]
pub struct LoadedCase {
    /// `element/keep-result/default-invalidates`.
    pub name: String,
    /// The file it came from.
    pub path: std::path::PathBuf,
    /// The case.
    pub case: Case,
}
