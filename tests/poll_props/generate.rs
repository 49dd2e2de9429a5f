//! Generators for the poller's property tests: job timelines (steps, WARNING mid-run and at the
//! end, failure, aborted), transient faults at random requests and on the terminal answer, long
//! polling on/off (and asked of a server without it), Element keepResult policies, and poll
//! policies. Generates only; runs nothing.

use std::time::Duration;

use jobconform::poll::{Keep, Policy};
use proptest::prelude::*;

use super::check::{Api, Scenario};
use super::fake::{End as ScriptEnd, Fault, Script, Step};

pub fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        Just(Fault::Unavailable),
        Just(Fault::Reset),
        Just(Fault::VersionMismatch)
    ]
}

pub fn script_end() -> impl Strategy<Value = ScriptEnd> {
    prop_oneof![
        Just(ScriptEnd::Success),
        Just(ScriptEnd::Failure),
        Just(ScriptEnd::Warning),
        Just(ScriptEnd::PartialFailures),
        Just(ScriptEnd::Aborted),
    ]
}

pub fn policy() -> impl Strategy<Value = Policy> {
    (
        100u64..1_500,
        1u32..8,
        1.0f64..2.5,
        0.0f64..0.3,
        prop_oneof![500u64..3_000, 3_000u64..40_000],
    )
        .prop_map(|(min, mult, backoff, jitter, deadline)| Policy {
            min_interval: Duration::from_millis(min),
            max_interval: Duration::from_millis(min * u64::from(mult)),
            backoff,
            jitter,
            deadline: Duration::from_millis(deadline),
            long_poll: None,
            time_scale: 1.0,
        })
}

/// Scenarios for one API; `keeps` are the Element keepResult policies to draw from.
pub fn scenario(api: Api, keeps: Vec<Keep>) -> impl Strategy<Value = Scenario> {
    let steps = prop::collection::vec(
        ((0u64..=80).prop_map(|x| x * 100), 0u8..4).prop_map(|(ms, show)| Step { ms, show }),
        0..5,
    );
    let faults = prop::collection::btree_map(0usize..30, fault(), 0..4);
    let long = prop::option::weighted(0.5, 1u64..10);
    (
        steps,
        script_end(),
        faults,
        prop::option::weighted(0.3, fault()),
        policy(),
        long,
        prop::bool::weighted(0.75),
        prop::sample::select(keeps),
    )
        .prop_map(
            move |(steps, end, faults, fault_on_terminal, mut policy, long, capable, keep)| {
                if api == Api::Aiqum {
                    policy.long_poll = long.map(Duration::from_secs);
                }
                Scenario {
                    api,
                    script: Script {
                        steps,
                        end,
                        faults,
                        fault_on_terminal,
                        long_poll: capable,
                    },
                    policy,
                    keep,
                }
            },
        )
}

pub fn any_scenario() -> impl Strategy<Value = Scenario> {
    let keeps = vec![Keep::Keep, Keep::KeepThenRelease];
    prop_oneof![
        scenario(Api::Element, keeps.clone()),
        scenario(Api::Aiqum, keeps)
    ]
}

/// AIQUM scenarios whose job shows WARNING mid-run before ending.
pub fn warning_mid_run() -> impl Strategy<Value = Scenario> {
    scenario(Api::Aiqum, vec![Keep::Keep]).prop_map(|mut sc| {
        sc.script.steps.insert(0, Step { ms: 2_000, show: 1 });
        sc.policy.deadline = Duration::from_secs(60);
        sc
    })
}
