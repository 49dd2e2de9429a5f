//! The transition strategy of the model test: scripted jobs (step durations on the model's time
//! grid, every outcome, optional payloads), reads of started, history and never-issued handles and
//! keys, list pages and clock advances, weighted towards reads. Pure proptest strategies: no I/O
//! and no knowledge of the mock beyond the control API's `JobScript`.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::json;

use jobconform::mock::script::{JobScript, Outcome, ScriptStep};

use super::reference::{
    Bad, GRID_MS, HandleRef, JobFilter, JobRef, Model, RESULT_TYPES, Transition,
};

const OUTCOMES: [Outcome; 5] = [
    Outcome::Success,
    Outcome::Failure,
    Outcome::Warning,
    Outcome::PartialFailures,
    Outcome::Aborted,
];

/// A duration near the model's grid, plus 0 or 1 ms so that off-grid instants are exercised too.
/// This found a real bug (fixed): `Clock::now_ms` truncated an `f64` of seconds, so after
/// `advance(1001 ms)` it read 1000 and a job scripted for 1001 ms still showed as running
/// (minimal failing sequence `[Advance(1001)]`, caught by the clock invariant).
fn grid(multiples: &'static [u64]) -> BoxedStrategy<u64> {
    let on_grid = select(multiples).prop_map(|m| m * GRID_MS);
    (on_grid, 0u64..=1).prop_map(|(ms, off)| ms + off).boxed()
}

const fn job_filter(field: &'static str, value: &'static str) -> JobFilter {
    JobFilter { field, value }
}

/// Every lifecycle state and outcome status the scripts and history can show.
const JOB_FILTERS: [JobFilter; 8] = [
    job_filter("state", "running"),
    job_filter("state", "queued"),
    job_filter("state", "completed"),
    job_filter("state", "aborted"),
    job_filter("status", "normal"),
    job_filter("status", "warning"),
    job_filter("status", "error"),
    job_filter("status", "partial_failures"),
];

fn element_script() -> impl Strategy<Value = JobScript> {
    (
        prop::collection::vec(grid(&[0, 1, 2, 4, 8, 16, 32]), 0..=3),
        select(&OUTCOMES[..]),
        prop::option::of(select(&RESULT_TYPES[..3])),
        prop::option::of((1u32..1000, 1u32..1000)),
        prop::option::of(1u32..1000),
    )
        .prop_map(|(steps, outcome, rt, result, error)| JobScript {
            steps: steps.into_iter().map(step).collect(),
            outcome,
            result_type: rt.map(str::to_string),
            result: result.map(|(c, v)| {
                json!({"cloneID": c, "volumeID": v, "message": format!("clone {c} of {v}")})
            }),
            error: error.map(|n| {
                json!({"name": "xScriptedFailure", "message": format!("scripted failure {n}"), "volumeID": n})
            }),
            name: None,
            faults: Vec::new(),
        })
}

fn step(ms: u64) -> ScriptStep {
    ScriptStep {
        ms,
        state: None,
        status: None,
        details: None,
    }
}

fn aiqum_script() -> impl Strategy<Value = JobScript> {
    let um_step = (
        grid(&[0, 1, 2, 4, 8, 16, 32]),
        prop::option::of(Just("queued".to_string())),
        prop::option::of(Just("warning".to_string())),
    )
        .prop_map(|(ms, state, status)| ScriptStep {
            ms,
            state,
            status,
            details: None,
        });
    (
        prop::collection::vec(um_step, 0..=3),
        select(&OUTCOMES[..]),
        prop::option::of(1u32..1000),
        prop::option::of(1u32..1000),
    )
        .prop_map(|(steps, outcome, result, name)| JobScript {
            steps,
            outcome,
            result_type: None,
            result: result.map(|n| json!([{"name": "lun_key", "value": format!("lun-{n}")}])),
            error: None,
            name: name.map(|n| format!("model job {n}")),
            faults: Vec::new(),
        })
}

/// Transitions valid from `state`, weighted towards reads and time.
pub fn transitions(state: &Model) -> BoxedStrategy<Transition> {
    let keep = select(&[None, Some(false), Some(true)][..]);
    let handle = if state.handles.is_empty() {
        (0u8..3).prop_map(HandleRef::Never).boxed()
    } else {
        prop_oneof![
            4 => (0..state.handles.len()).prop_map(HandleRef::Issued),
            1 => (0u8..3).prop_map(HandleRef::Never),
        ]
        .boxed()
    };
    let job = if state.jobs.is_empty() {
        prop_oneof![
            (0u8..30).prop_map(JobRef::History),
            (0u8..3).prop_map(JobRef::Unknown)
        ]
        .boxed()
    } else {
        prop_oneof![
            4 => (0..state.jobs.len()).prop_map(JobRef::Started),
            1 => (0u8..30).prop_map(JobRef::History),
            1 => (0u8..3).prop_map(JobRef::Unknown),
        ]
        .boxed()
    };
    let filter = prop::option::of(
        prop::sample::subsequence(&RESULT_TYPES[..], 1..=2)
            .prop_map(|v| v.into_iter().map(str::to_string).collect::<Vec<_>>()),
    );
    let filter_job = prop::option::weighted(0.3, select(&JOB_FILTERS[..]));
    let max = prop::option::of(select(&[1usize, 2, 3, 5, 10, 20, 50][..]));
    prop_oneof![
        3 => element_script().prop_map(Transition::StartElement),
        1 => Just(Transition::StartClone),
        3 => aiqum_script().prop_map(Transition::StartAiqum),
        6 => (handle.clone(), keep).prop_map(|(handle, keep)| Transition::GetAsync { handle, keep }),
        1 => (handle.clone(), select(&[Bad::Missing, Bad::StringHandle, Bad::Fraction, Bad::KeepType][..]))
            .prop_map(|(handle, bad)| Transition::GetAsyncBad { handle, bad }),
        1 => (handle, 2usize..=4, prop::bool::weighted(0.3))
            .prop_map(|(handle, clients, keep)| Transition::GetAsyncRace { handle, clients, keep }),
        2 => filter.prop_map(Transition::ListAsync),
        4 => (job, prop::bool::weighted(0.2))
            .prop_map(|(job, v2)| Transition::GetJob { job, v2 }),
        2 => (prop::bool::weighted(0.2), filter_job, max.clone(), prop::option::of(0usize..60))
            .prop_map(|(v2, filter, max, offset)| Transition::ListJobs { v2, filter, max, offset }),
        2 => Just(Transition::NextPage),
        1 => prop::option::of(select(&[3usize, 7, 20][..])).prop_map(Transition::WalkJobs),
        5 => grid(&[0, 1, 2, 3, 4, 8, 15, 16, 24, 32, 64]).prop_map(Transition::Advance),
    ]
    .boxed()
}
