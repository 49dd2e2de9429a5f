//! The coverage table: for every rule of the registry, whether it gets a verdict on the mock, on a
//! live target read-only, with `--allow-mutations`, and with a failing call (the profile's
//! `aiqum_failing_call`), read from the cases that name it and what they need; and for each rule
//! a live target cannot judge (or judges only in part), why. Pure: cases in, rows out; the
//! reasons are data here, one per rule, so `jobconform rules --coverage`, the README and the
//! end-of-run summary say the same thing.

use serde::Serialize;

use crate::case::{LoadedCase, Needs, Work};
use crate::contract::Level;

/// How far a live run goes: each tier includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tier {
    /// Reads only (the default).
    ReadOnly,
    /// `--allow-mutations` (Element clones, the profile's `aiqum_call`).
    Mutations,
    /// `--allow-mutations` and an `aiqum_failing_call`.
    FailingCall,
}

/// One row of the table.
#[derive(Debug, Clone, Serialize)]
pub struct RuleCoverage {
    /// Rule ID.
    pub id: String,
    /// MUST or SHOULD.
    pub level: Level,
    /// Whether the rule is about a server (else about a client, CL-*).
    pub server: bool,
    /// Judged against the mock.
    pub mock: bool,
    /// The lowest live tier that judges it, if any.
    pub live: Option<Tier>,
    /// Why a live target does not judge it, or judges only part of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_not: Option<&'static str>,
}

/// Why a server rule gets no live verdict, or only part of one, rule by rule.
pub const WHY_NOT_LIVE: &[(&str, &str)] = &[
    (
        "EL-GAR-ASYNC-ERROR",
        "needs an Element asynchronous operation that fails; NetApp documents no safe way to make \
         one fail (StartBulkVolumeRead + UpdateBulkVolumeStatus \"failed\" is inferred and \
         untested, and creates a snapshot on the volume), so the failure halves of EL-GAR-*, \
         EL-KEEP-* and EL-LIST-* are judged on the mock only",
    ),
    (
        "EL-GAR-COMPLETE",
        "live: the success half (a complete clone); the failure half (result and error together) \
         needs a failed Element operation (see EL-GAR-ASYNC-ERROR)",
    ),
    (
        "EL-LIST-FILTER",
        "live: read-only (the listed types); filtering between two types needs jobs of two \
         types, which only the mock's scripted jobs provide safely",
    ),
    (
        "UM-WARNING",
        "needs a job that passes through WARNING and goes on; no documented call makes a target \
         do that on purpose",
    ),
    (
        "UM-LIST-ORDER",
        "live: read-only on the jobs the target already has; new jobs appearing during the run \
         are not waited for",
    ),
];

fn why_not(id: &str) -> Option<&'static str> {
    WHY_NOT_LIVE.iter().find(|(r, _)| *r == id).map(|(_, w)| *w)
}

/// The live tier that runs `case`, if any.
pub fn tier_of(case: &LoadedCase) -> Option<Tier> {
    match case.case.needs {
        Needs::Scripted => None,
        Needs::ReadOnly => Some(Tier::ReadOnly),
        Needs::Mutations if case.case.starts(|w| matches!(w, Work::FailingCall)) => {
            Some(Tier::FailingCall)
        }
        Needs::Mutations => Some(Tier::Mutations),
    }
}

/// The table, one row per rule of the registry, in registry order.
pub fn table(cases: &[LoadedCase]) -> Vec<RuleCoverage> {
    crate::contract::rules()
        .iter()
        .map(|rule| {
            let naming: Vec<&LoadedCase> = cases
                .iter()
                .filter(|c| c.case.rules.contains(&rule.id))
                .collect();
            let live = naming.iter().filter_map(|c| tier_of(c)).min();
            let client = !rule.server;
            RuleCoverage {
                id: rule.id.clone(),
                level: rule.level,
                server: !client,
                mock: !naming.is_empty(),
                live,
                why_not: match (client, live) {
                    (true, _) => Some(
                        "a client rule: judged on jobconform's own poller against the mock's audit",
                    ),
                    (false, _) => why_not(&rule.id),
                },
            }
        })
        .collect()
}

fn mark(on: bool) -> &'static str {
    if on { "yes" } else { "no" }
}

/// The table in Markdown (the README's, between its COVERAGE markers).
pub fn markdown(rows: &[RuleCoverage]) -> String {
    let mut s = String::from(
        "| rule | level | mock | live read-only | live with mutations | live with a failing call | why not (or only in part) |\n|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let at = |t: Tier| mark(r.live.is_some_and(|l| l <= t));
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} |\n",
            r.id,
            r.level.as_str(),
            mark(r.mock),
            at(Tier::ReadOnly),
            at(Tier::Mutations),
            at(Tier::FailingCall),
            r.why_not.unwrap_or("").replace('|', "\\|")
        ));
    }
    s
}

/// Server rules with no live verdict at all, with the reason.
pub fn never_live(rows: &[RuleCoverage]) -> Vec<(&str, &'static str)> {
    rows.iter()
        .filter(|r| r.server && r.live.is_none())
        .map(|r| {
            (
                r.id.as_str(),
                r.why_not.unwrap_or("no case for live targets"),
            )
        })
        .collect()
}

/// The server rules that got no verdict (untested or inconclusive) on `target`, each with a
/// reason: why its cases were skipped or inconclusive there, else why no case runs it live.
pub fn no_verdict(target: &str, records: &[super::CaseRecord]) -> Vec<(String, String)> {
    let mine: Vec<&super::CaseRecord> = records.iter().filter(|r| r.target == target).collect();
    crate::contract::rules()
        .iter()
        .filter(|rule| rule.server)
        .filter(|rule| {
            matches!(
                super::json::rule_on(&rule.id, &mine),
                "untested" | "inconclusive"
            )
        })
        .map(|rule| {
            let naming: Vec<&&super::CaseRecord> =
                mine.iter().filter(|r| r.rules.contains(&rule.id)).collect();
            let said = naming.iter().find_map(|r| r.reason.clone());
            let reason = match (said, why_not(&rule.id)) {
                (_, Some(w)) => w.to_string(),
                (Some(r), None) => r,
                (None, None) if naming.is_empty() => {
                    "only the mock's scripted cases name it (or the run's filter left its cases out)"
                        .to_string()
                }
                (None, None) => "its cases did not run".to_string(),
            };
            (rule.id.clone(), reason)
        })
        .collect()
}
