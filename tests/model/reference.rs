//! The reference model: what CONTRACT.md §2–4 (with register E1–E5, U1–U3) says the mock must
//! answer, as a small pure state machine. It owns the abstract state (target time, the Element
//! handles and AIQUM jobs started in this sequence, which handles are purged), the transition
//! strategy, and the predictions the system under test compares against. It does no I/O and never
//! looks at the mock's code: facts only the running mock can give (the ~25 AIQUM history jobs, the
//! handle numbers and job keys it issues) are learned by the SUT and passed in where needed.
//!
//! Time is on a grid of 125 ms so that every instant is exactly representable as an `f64` of
//! seconds (see the note on `GRID_MS`).

use proptest::prelude::*;
use proptest_state_machine::ReferenceStateMachine;
use serde_json::Value;

use jobconform::mock::script::{JobScript, Outcome, ScriptStep};

/// Every duration and clock advance is a multiple of this. The mock's clock computes target
/// milliseconds as `(elapsed.as_secs_f64() * 1000.0) as u64`, which reads 1 ms early for many
/// instants (1001 ms reads as 1000); multiples of 1/8 s are exact in binary, so the model and the
/// mock agree on step boundaries to the millisecond.
pub const GRID_MS: u64 = 125;

/// Element result types the scripts use (and `RtfiPendingNode`, which no script uses, for filters).
pub const RESULT_TYPES: [&str; 4] = ["Clone", "BulkVolume", "DriveAdd", "RtfiPendingNode"];

/// A clone's timeline: the mock's configured `clone_ms` (a parameter of the mock under test, like
/// a script; 3000 ms by default, on the grid), then success with a `Clone` result whose payload
/// the SUT learns from the CloneVolume answer (EL-CLONE-START).
fn clone_script() -> JobScript {
    JobScript {
        steps: vec![ScriptStep {
            ms: jobconform::mock::MockConfig::default().clone_ms,
            state: None,
            status: None,
            details: None,
        }],
        outcome: Outcome::Success,
        result_type: Some("Clone".into()),
        result: None,
        error: None,
        name: None,
        faults: Vec::new(),
    }
}

/// One Element job started by the sequence (index = order of starting).
#[derive(Clone, Debug)]
pub struct ElJob {
    /// Target ms it was started at.
    pub created: u64,
    /// What was sent to the control API.
    pub script: JobScript,
    /// Invalidated by a complete answer without `keepResult` (register E4).
    pub purged: bool,
}

impl ElJob {
    /// Whether the operation succeeded: script doc — Success and Warning give `result`.
    pub fn ok(&self) -> bool {
        matches!(self.script.outcome, Outcome::Success | Outcome::Warning)
    }
    /// Whether it is complete at `now`.
    pub fn complete(&self, now: u64) -> bool {
        now >= self.created + self.script.duration_ms()
    }
    /// `resultType` (script default `Clone`).
    pub fn result_type(&self) -> &str {
        self.script.result_type.as_deref().unwrap_or("Clone")
    }
}

/// One AIQUM job started by the sequence.
#[derive(Clone, Debug)]
pub struct UmJob {
    /// Target ms it was submitted at.
    pub submitted: u64,
    /// What was sent to the control API.
    pub script: JobScript,
}

/// A job's split-dialect view (register U1, lower case as 9.7+ serves).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UmView {
    /// Lifecycle state.
    pub state: String,
    /// Outcome status.
    pub status: String,
    /// `state` is `completed` or `aborted`.
    pub terminal: bool,
}

impl UmJob {
    /// The view at `now`: a running step's scripted state/status (default running/normal), then
    /// the outcome's pair.
    pub fn view(&self, now: u64) -> UmView {
        let elapsed = now.saturating_sub(self.submitted);
        if let Some((_, step)) = self.script.step_at(elapsed) {
            return UmView {
                state: step.state.clone().unwrap_or_else(|| "running".into()),
                status: step.status.clone().unwrap_or_else(|| "normal".into()),
                terminal: false,
            };
        }
        let (state, status) = match self.script.outcome {
            Outcome::Success => ("completed", "normal"),
            Outcome::Failure => ("completed", "error"),
            Outcome::Warning => ("completed", "warning"),
            Outcome::PartialFailures => ("completed", "partial_failures"),
            Outcome::Aborted => ("aborted", "error"),
        };
        UmView {
            state: state.into(),
            status: status.into(),
            terminal: true,
        }
    }
}

/// Which Element handle a GetAsyncResult asks for.
#[derive(Clone, Copy, Debug)]
pub enum HandleRef {
    /// The i-th handle this sequence started.
    Issued(usize),
    /// A handle the mock never issued (the SUT picks one far above every issued handle).
    Never(u8),
}

/// A GetAsyncResult that must fail on its parameters (EL-GAR-PARAMS).
#[derive(Clone, Copy, Debug)]
pub enum Bad {
    /// No `asyncHandle` at all.
    Missing,
    /// `asyncHandle` as a non-numeric string naming a live handle (`"handle-N"`; a numeric string
    /// is register E7's, looked up or refused, so never a failing call).
    StringHandle,
    /// `asyncHandle` with a fraction (`N.5`).
    Fraction,
    /// The integer handle with `keepResult: "yes"` (refused by the mock; a target that converts
    /// it is register E8's, which the model does not run against).
    KeepType,
}

/// Which AIQUM job a GET asks for.
#[derive(Clone, Copy, Debug)]
pub enum JobRef {
    /// The i-th job this sequence started.
    Started(usize),
    /// The i-th (modulo their number) job of the history the mock started with.
    History(u8),
    /// A key in the real format that names no job.
    Unknown(u8),
}

/// A list filter on a job's `state` or `status` (UM-LIST-FILTER), lower case as served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobFilter {
    /// `state` or `status`.
    pub field: &'static str,
    /// The value asked for.
    pub value: &'static str,
}

/// One step of a sequence.
#[derive(Clone, Debug)]
pub enum Transition {
    /// `POST /_jobconform/element/jobs`.
    StartElement(JobScript),
    /// `CloneVolume` of the SUT's source volume (EL-CLONE-START).
    StartClone,
    /// `POST /_jobconform/aiqum/jobs`.
    StartAiqum(JobScript),
    /// `GetAsyncResult {asyncHandle, keepResult?}`.
    GetAsync {
        /// The handle.
        handle: HandleRef,
        /// `keepResult`: absent, false or true.
        keep: Option<bool>,
    },
    /// GetAsyncResult with a bad parameter: a method error that invalidates nothing
    /// (EL-GAR-PARAMS, EL-KEEP-FAILED-CALL).
    GetAsyncBad {
        /// The handle the bad call names (as a string) or would have named.
        handle: HandleRef,
        /// What is wrong with the call.
        bad: Bad,
    },
    /// `clients` concurrent GetAsyncResult calls on one handle: on a complete handle exactly one
    /// gets the result without keepResult (EL-KEEP-ONCE), every one with it (EL-KEEP-TRUE).
    GetAsyncRace {
        /// The handle.
        handle: HandleRef,
        /// How many calls are in flight at once (2–4).
        clients: usize,
        /// All calls with `keepResult: true` (else all without keepResult).
        keep: bool,
    },
    /// `ListAsyncResults {asyncResultTypes?}`.
    ListAsync(Option<Vec<String>>),
    /// `GET /api[/v2]/management-server/jobs/{key}`.
    GetJob {
        /// The job.
        job: JobRef,
        /// Under the versioned base `/api/v2`.
        v2: bool,
    },
    /// `GET /api[/v2]/management-server/jobs[?max_records=N][&offset=K]`.
    ListJobs {
        /// Under the versioned base `/api/v2`.
        v2: bool,
        /// A `state` or `status` filter.
        filter: Option<JobFilter>,
        /// `max_records`.
        max: Option<usize>,
        /// `offset`.
        offset: Option<usize>,
    },
    /// Follow the last list answer's `_links.next.href` verbatim.
    NextPage,
    /// Walk every page from the first by `_links.next.href`.
    WalkJobs(Option<usize>),
    /// `tokio::time::advance` by this many ms.
    Advance(u64),
}

/// The abstract state.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// Target ms since the mock started.
    pub now: u64,
    /// Element jobs started, in order.
    pub handles: Vec<ElJob>,
    /// AIQUM jobs started, in order.
    pub jobs: Vec<UmJob>,
    /// The last list answer may be followed (no job was submitted since, and for a filtered list
    /// no time has passed, so the set being walked is the same: UM-LIST-PAGES).
    pub can_follow: bool,
    /// The last list answer was filtered.
    pub filtered: bool,
}

/// What GetAsyncResult must answer.
#[derive(Clone, Debug, PartialEq)]
pub enum GarExpect {
    /// Method error, code 500, `xAsyncHandleDoesNotExist` (EL-GAR-UNKNOWN, E1 default dialect).
    Unknown,
    /// `status: running`, with `resultType` (EL-GAR-RUNNING, EL-GAR-DETAILS).
    Running(String),
    /// `status: complete` with this `resultType` and `result` (ok) or `error` (EL-GAR-COMPLETE).
    Complete {
        /// `resultType`.
        result_type: String,
        /// Success: `result` present.
        ok: bool,
        /// The payload the script set, if any (the mock's default otherwise).
        payload: Option<Value>,
        /// Default error name (script doc) when the script set none and the job failed.
        default_error: Option<&'static str>,
    },
}

impl Model {
    /// The answer GetAsyncResult must give in this (pre-)state.
    pub fn gar_expect(&self, h: HandleRef) -> GarExpect {
        let job = match h {
            HandleRef::Issued(i) => &self.handles[i],
            HandleRef::Never(_) => return GarExpect::Unknown,
        };
        if job.purged {
            return GarExpect::Unknown;
        }
        if !job.complete(self.now) {
            return GarExpect::Running(job.result_type().into());
        }
        let ok = job.ok();
        let payload = if ok {
            job.script.result.clone()
        } else {
            job.script.error.clone()
        };
        let default_error = match (ok, job.script.outcome) {
            (true, _) => None,
            (false, Outcome::Aborted) => Some("xAsyncJobAborted"),
            (false, _) => Some("xAsyncJobFailed"),
        };
        GarExpect::Complete {
            result_type: job.result_type().into(),
            ok,
            payload,
            default_error,
        }
    }

    /// Element handles that ListAsyncResults must list (not purged, of a filtered type), by index.
    pub fn listed_handles(&self, types: Option<&[String]>) -> Vec<usize> {
        (0..self.handles.len())
            .filter(|&i| !self.handles[i].purged)
            .filter(|&i| types.is_none_or(|t| t.iter().any(|t| t == self.handles[i].result_type())))
            .collect()
    }

    /// Started AIQUM jobs newest first (UM-LIST-ORDER; equal submit times: the later request is
    /// the newer job). History jobs, submitted before the mock started, all come after these.
    pub fn jobs_newest_first(&self) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.jobs.len()).collect();
        idx.sort_by(|&a, &b| (self.jobs[b].submitted, b).cmp(&(self.jobs[a].submitted, a)));
        idx
    }
}

impl ReferenceStateMachine for Model {
    type State = Model;
    type Transition = Transition;

    fn init_state() -> BoxedStrategy<Model> {
        Just(Model::default()).boxed()
    }

    fn transitions(state: &Model) -> BoxedStrategy<Transition> {
        super::strategy::transitions(state)
    }

    fn preconditions(state: &Model, t: &Transition) -> bool {
        match t {
            Transition::GetAsync {
                handle: HandleRef::Issued(i),
                ..
            }
            | Transition::GetAsyncBad {
                handle: HandleRef::Issued(i),
                ..
            }
            | Transition::GetAsyncRace {
                handle: HandleRef::Issued(i),
                ..
            } => *i < state.handles.len(),
            Transition::GetJob {
                job: JobRef::Started(i),
                ..
            } => *i < state.jobs.len(),
            Transition::NextPage => state.can_follow,
            _ => true,
        }
    }

    fn apply(mut state: Model, t: &Transition) -> Model {
        match t {
            Transition::StartElement(script) => state.handles.push(ElJob {
                created: state.now,
                script: script.clone(),
                purged: false,
            }),
            Transition::StartClone => state.handles.push(ElJob {
                created: state.now,
                script: clone_script(),
                purged: false,
            }),
            Transition::StartAiqum(script) => {
                state.jobs.push(UmJob {
                    submitted: state.now,
                    script: script.clone(),
                });
                state.can_follow = false;
            }
            Transition::GetAsync { handle, keep } => {
                // Register E4: only a complete answer without keepResult invalidates.
                if let (GarExpect::Complete { .. }, HandleRef::Issued(i)) =
                    (state.gar_expect(*handle), handle)
                    && *keep != Some(true)
                {
                    state.handles[*i].purged = true;
                }
            }
            Transition::GetAsyncRace { handle, keep, .. } => {
                // EL-KEEP-ONCE: one of them fetched it without keepResult.
                if let (GarExpect::Complete { .. }, HandleRef::Issued(i)) =
                    (state.gar_expect(*handle), handle)
                    && !keep
                {
                    state.handles[*i].purged = true;
                }
            }
            Transition::ListJobs { filter, .. } => {
                state.can_follow = true;
                state.filtered = filter.is_some();
            }
            Transition::NextPage => state.can_follow = true,
            Transition::WalkJobs(_) => state.can_follow = false,
            Transition::Advance(ms) => {
                state.now += ms;
                state.can_follow &= !state.filtered;
            }
            Transition::ListAsync(_)
            | Transition::GetJob { .. }
            | Transition::GetAsyncBad { .. } => {}
        }
        state
    }
}
