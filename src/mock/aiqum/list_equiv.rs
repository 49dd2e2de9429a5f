//! Differential test of the list answer: the bytes the route serves ([`super::answer_bytes`],
//! memo and table walk included) against the implementation they replaced (which rendered every job before filtering and paging), over jobs with scripted
//! states and statuses, both dialects, the deviations that shape the list, every filter and
//! ordering and several pages, at instants forwards and back, on both prefixes; and the memo
//! forgetting a job that is changed. Test-only; owns nothing the mock serves.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::super::super::clock::Clock;
use super::super::super::script::{JobScript, Outcome, ScriptStep};
use super::super::super::{AiqumDialect, MockConfig};
use super::super::jobs::{self, Render};
use super::super::{AiqumState, Job, Origin};
use super::*;
use crate::mock::Deviation;

const HISTORY: usize = super::super::HISTORY_JOBS;

fn old_field<'a>(record: &'a Value, name: &str) -> &'a str {
    let v = record.get(name).and_then(Value::as_str);
    match (v, name) {
        (None, "status") => record.get("state").and_then(Value::as_str).unwrap_or(""),
        (v, _) => v.unwrap_or(""),
    }
}

/// The answer as it was computed before rendering moved to the page (every job rendered).
fn old_answer(
    s: &AiqumState,
    config: &MockConfig,
    prefix: &str,
    self_href: &str,
    pairs: &[(String, String)],
    now: i64,
) -> Result<Value, BadQuery> {
    let q = parse(pairs)?;
    let render = Render {
        config,
        prefix,
        wall0: s.wall0(),
        flap: false,
    };
    let ignore = config.deviates(Deviation::ListIgnoresFilters);
    let mut rows: Vec<(&Job, Value)> = s
        .jobs()
        .iter()
        .filter(|j| jobs::listed(j, config, now))
        .filter_map(|j| {
            let seg = jobs::segment_at(j, config, now)?;
            Some((j, jobs::render(j, &seg, &render)))
        })
        .filter(|(_, r)| {
            q.filters
                .iter()
                .all(|(f, pat)| (ignore && f != "name") || matches(pat, old_field(r, f)))
        })
        .collect();
    let by_submit = |a: &(&Job, Value), b: &(&Job, Value)| {
        (a.0.submit_ms, a.0.seq).cmp(&(b.0.submit_ms, b.0.seq))
    };
    match &q.order {
        None if config.deviates(Deviation::ListOldestFirst) => rows.sort_by(by_submit),
        None => rows.sort_by(|a, b| by_submit(b, a)),
        Some((f, desc)) => rows.sort_by(|a, b| {
            let o = if f == "submit_time" {
                by_submit(a, b)
            } else {
                old_field(&a.1, f)
                    .cmp(old_field(&b.1, f))
                    .then(a.0.seq.cmp(&b.0.seq))
            };
            if *desc { o.reverse() } else { o }
        }),
    }
    let total = rows.len();
    let limit = match q.max {
        Some(n) => n,
        None if config.deviates(Deviation::ListDefaultAll) => total.max(1),
        None => DEFAULT_MAX,
    };
    let start = q.offset.min(total);
    let page: Vec<Value> = rows
        .into_iter()
        .skip(start)
        .take(limit)
        .map(|(_, r)| r)
        .collect();
    let n = page.len();
    let mut links = json!({"self": {"href": self_href}});
    if start + n < total {
        let next = if config.deviates(Deviation::PagesOverlap) && n >= 2 {
            start + n - 1
        } else {
            start + n
        };
        let mut href = format!("{prefix}/management-server/jobs?max_records={limit}&offset={next}");
        if let Some((f, desc)) = &q.order {
            let dir = if *desc { "desc" } else { "asc" };
            href.push_str(&format!("&order_by={}", encode(&format!("{f} {dir}"))));
        }
        for (f, v) in &q.filters {
            href.push_str(&format!("&{f}={}", encode(v)));
        }
        links["next"] = json!({"href": href});
    }
    let num = if config.deviates(Deviation::ListNumRecordsWrong) {
        n + 1
    } else {
        n
    };
    Ok(json!({
        "records": page,
        "num_records": num,
        "total_records": total,
        "_links": links,
    }))
}

fn step(ms: u64, state: Option<&str>, status: Option<&str>) -> ScriptStep {
    ScriptStep {
        ms,
        state: state.map(str::to_string),
        status: status.map(str::to_string),
        details: None,
    }
}

fn script(steps: Vec<ScriptStep>, outcome: Outcome) -> JobScript {
    JobScript {
        steps,
        outcome,
        result_type: None,
        result: Some(json!([{"name": "k", "value": "v"}])),
        error: None,
        name: None,
        faults: Vec::new(),
    }
}

/// The history and 30 jobs; `shuffled`: submitted out of creation order (as concurrent
/// creations can be), else in it.
fn state(config: &MockConfig, shuffled: bool) -> AiqumState {
    let mut s = AiqumState::new(config, &Clock::new(1.0));
    let outcomes = [
        Outcome::Success,
        Outcome::Failure,
        Outcome::Warning,
        Outcome::PartialFailures,
        Outcome::Aborted,
    ];
    for i in 0..30u64 {
        let steps = match i % 4 {
            0 => vec![step(100, Some("queued"), None), step(900, None, None)],
            1 => vec![
                step(400, None, Some("warning")),
                step(300, Some("RUNNING"), None),
            ],
            2 => Vec::new(),
            _ => vec![step(2_000, Some("running"), Some("partial_failures"))],
        };
        let names = [
            "Create LUN",
            "create lun b",
            "Delete file share",
            "Acquire cluster",
        ];
        let origin = if i % 3 == 0 {
            Origin::Call
        } else {
            Origin::Scripted
        };
        // Ties in submit time, and jobs submitted after some of the instants looked at.
        let slot = if shuffled { (i * 7) % 30 } else { i };
        let submit = (slot as i64 / 3) * 250 - 500;
        s.push_job(
            names[i as usize % names.len()].to_string(),
            format!("job {i}"),
            submit,
            script(steps, outcomes[i as usize % outcomes.len()]),
            origin,
            None,
        );
    }
    s
}

fn queries() -> Vec<Vec<(String, String)>> {
    let mut out: Vec<Vec<(&str, String)>> = vec![
        vec![],
        vec![("max_records", "7".into())],
        vec![("max_records", "7".into()), ("offset", "5".into())],
        vec![("offset", "100".into())],
        vec![("max_records", "1000".into())],
        vec![("state", "completed|normal".into())],
        vec![("state", "warning".into()), ("max_records", "3".into())],
        vec![("status", "normal|success".into())],
        vec![("status", "*fail*".into())],
        vec![("status", "error".into()), ("state", "*".into())],
        vec![("name", "create*".into())],
        vec![("name", "*LUN*|acquire cluster".into())],
        vec![("key", "*-7f*".into())],
        vec![("state", "queued|running|WARNING".into())],
    ];
    for f in ORDER_FIELDS {
        for dir in ["", " asc", " desc"] {
            out.push(vec![
                ("order_by", format!("{f}{dir}")),
                ("max_records", "9".into()),
            ]);
            out.push(vec![
                ("order_by", format!("{f}{dir}")),
                ("status", "normal|warning|success".into()),
                ("offset", "2".into()),
            ]);
        }
    }
    out.into_iter()
        .map(|q| q.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
        .collect()
}

#[test]
fn the_answer_equals_rendering_every_job_first() {
    let sets: &[&[&'static str]] = &[
        &[],
        &["status-success"],
        &["warning-terminal", "complete-before-submit"],
        &["state-backwards", "list-oldest-first"],
        &["forget-finished", "list-default-all", "pages-overlap"],
        &[
            "job-never-ends",
            "list-ignores-filters",
            "list-num-records-wrong",
        ],
        &[
            "job-without-links",
            "no-job-results",
            "status-success",
            "warning-terminal",
        ],
    ];
    let mut compared = 0;
    for dialect in [AiqumDialect::Split, AiqumDialect::Literal] {
        for (n, set) in sets.iter().enumerate() {
            let config = MockConfig {
                aiqum_dialect: dialect,
                deviations: set
                    .iter()
                    .map(|n| n.parse().expect("a deviation's name"))
                    .collect::<BTreeSet<Deviation>>(),
                long_poll: n % 2 == 0,
                ..MockConfig::default()
            };
            let mut s = state(&config, n % 2 == 1);
            // Time forwards, then back (the memo must follow either way), on both prefixes.
            let instants = [-600, 0, 450, 1_000, 2_500, 5_000, 60_000, 700, -600];
            for (k, now) in instants.into_iter().enumerate() {
                for (j, q) in queries().into_iter().enumerate() {
                    let prefix = ["/api", "/api/v2"][(k + j) % 2];
                    let href = "/api/management-server/jobs?x=\"1\"";
                    let old = old_answer(&s, &config, prefix, href, &q, now);
                    let bytes = answer_bytes(&mut s, prefix, href, &q, now);
                    let old_bytes = old.map(|v| serde_json::to_vec(&v).unwrap_or_default());
                    assert_eq!(bytes, old_bytes, "{dialect:?} {set:?} now={now} {q:?}");
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 1_000);
}

#[test]
fn a_job_changed_in_place_is_listed_as_it_is_now() {
    let config = MockConfig::default();
    let mut s = state(&config, false);
    let q = vec![("max_records".to_string(), "1000".to_string())];
    let list = |s: &mut AiqumState| answer_bytes(s, "/api", "/x", &q, 3_000);
    let before = list(&mut s);
    let key = s.jobs()[HISTORY].key.clone();
    if let Some(j) = s.job_mut(&key) {
        j.name = "Renamed \"job\"".into();
        j.submit_ms += 1;
    }
    let after = list(&mut s);
    assert_ne!(before, after);
    let old = |s: &AiqumState| old_answer(s, &config, "/api", "/x", &q, 3_000);
    let bytes = |v: Result<Value, BadQuery>| v.map(|v| serde_json::to_vec(&v).unwrap_or_default());
    assert_eq!(after, bytes(old(&s)));
    // Two jobs tied in (submit time, sequence): the table order decides between them.
    let (first, second) = (
        s.jobs()[HISTORY + 3].clone(),
        s.jobs()[HISTORY + 4].key.clone(),
    );
    if let Some(j) = s.job_mut(&second) {
        (j.submit_ms, j.seq) = (first.submit_ms, first.seq);
    }
    assert_eq!(list(&mut s), bytes(old(&s)));
}

#[test]
fn jobs_removed_and_added_between_lists_are_listed_as_they_are() {
    let config = MockConfig::default();
    let mut s = state(&config, true);
    let q = vec![("max_records".to_string(), "1000".to_string())];
    let old = |s: &AiqumState| {
        let v = old_answer(s, &config, "/api", "/x", &q, 900);
        v.map(|v| serde_json::to_vec(&v).unwrap_or_default())
    };
    assert_eq!(answer_bytes(&mut s, "/api", "/x", &q, 900), old(&s));
    for n in 0..3 {
        let key = s.jobs()[HISTORY + 2 * n].key.clone();
        assert!(s.remove_job(&key));
        let script = script(vec![step(300, None, None)], Outcome::Success);
        s.push_job(
            "Added".into(),
            "added".into(),
            -(n as i64),
            script,
            Origin::Scripted,
            None,
        );
        assert_eq!(answer_bytes(&mut s, "/api", "/x", &q, 900), old(&s), "{n}");
    }
    // Removed and added again before the list looks.
    let key = s.jobs()[HISTORY].key.clone();
    assert!(s.remove_job(&key));
    let script = script(Vec::new(), Outcome::Failure);
    s.push_job(
        "Late".into(),
        "late".into(),
        100,
        script,
        Origin::Scripted,
        None,
    );
    assert_eq!(answer_bytes(&mut s, "/api", "/x", &q, 900), old(&s));
}
