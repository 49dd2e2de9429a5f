//! The contract audit for `tests/mock_aiqum.rs`: runs every AIQUM rule of CONTRACT.md section 4
//! against a fresh mock and returns the IDs of the rules it saw broken (plus `SCHEMA` when, with
//! no deviation, a body fails its `schemas/aiqum/` schema). Judges only; starts its own mock.

use std::collections::BTreeSet;

use jobconform::mock::{AiqumDialect, MockConfig};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::time::{Duration, Instant, sleep};

use super::support::*;

/// Checks one job observation (UM-JOB-SHAPE, UM-JOB-STATUS, UM-JOB-TIMES).
pub fn check_job(j: &Value, key: &str, literal: bool, v: &mut BTreeSet<&'static str>) {
    let shape = j["key"].as_str() == Some(key)
        && j["state"].is_string()
        && (literal || j["status"].is_string())
        && j["_links"]["self"]["href"].is_string();
    if !shape {
        v.insert("UM-JOB-SHAPE");
    }
    if !FOUR.contains(&outcome(j).as_str()) {
        v.insert("UM-JOB-STATUS");
    }
    match ts(&j["submit_time"]) {
        None => {
            v.insert("UM-JOB-TIMES");
        }
        Some(submit) if terminal(j) => {
            if ts(&j["complete_time"]).is_none_or(|c| c < submit) {
                v.insert("UM-JOB-TIMES");
            }
        }
        Some(_) => {}
    }
}

/// Polls with plain GETs every 200 ms until terminal (30 s budget); returns the terminal answer.
/// Checks every observation, UM-POLL-STANDARD and UM-STATE-FORWARD. 404s are skipped.
pub async fn poll(m: &M, key: &str, literal: bool, v: &mut BTreeSet<&'static str>) -> Option<R> {
    let end = Instant::now() + Duration::from_secs(30);
    let mut last_rank = 0;
    while Instant::now() < end {
        let r = m.job(key, "").await;
        if r.elapsed_ms > 50 {
            v.insert("UM-POLL-STANDARD");
        }
        if r.j().get("state").is_some() {
            let j = r.j();
            check_job(j, key, literal, v);
            let rk = rank(&state(j));
            if rk < last_rank {
                v.insert("UM-STATE-FORWARD");
            }
            last_rank = rk;
            if terminal(j) {
                return Some(r);
            }
        }
        sleep(Duration::from_millis(200)).await;
    }
    v.insert("UM-TERMINAL");
    None
}

/// Long-poll check (UM-POLL-LONG): `prev` is the observation before the poll, `ends_at` when the
/// job turns terminal (if known).
pub fn judge_long(
    r: &R,
    prev: &Value,
    timeout_ms: u64,
    ends_in_ms: Option<u64>,
    v: &mut BTreeSet<&'static str>,
) {
    let j = r.j();
    let e = r.elapsed_ms;
    let late = e > timeout_ms + SLACK;
    let changed = state(j) != state(prev) || j.get("status") != prev.get("status");
    let ok = if terminal(j) {
        !late && ends_in_ms.is_none_or(|t| e <= t + SLACK)
    } else if changed {
        !late
    } else {
        !late && e + SLACK >= timeout_ms
    };
    if !ok || r.status != 200 {
        v.insert("UM-POLL-LONG");
    }
}

/// Runs every AIQUM rule against a fresh mock; returns the rules seen broken.
pub async fn audit(config: MockConfig) -> BTreeSet<&'static str> {
    let literal = config.aiqum_dialect == AiqumDialect::Literal;
    let clean = config.deviations.is_empty();
    let m = M::start(config).await;
    let mut v = BTreeSet::new();
    let jobs = "/api/management-server/jobs";

    // UM-AUTH
    let a = m.req(Method::GET, jobs, None, Auth::None).await;
    let b = m.req(Method::GET, jobs, None, Auth::Wrong).await;
    if a.status != 401 || b.status != 401 {
        v.insert("UM-AUTH");
    }

    // A provisioning call: UM-ACCEPT-*, then poll it to the end.
    let acc = m.lun("/api").await;
    let key_given = acc.j()["job"]["key"].as_str().filter(|k| !k.is_empty());
    let href = acc.j()["job"]["_links"]["self"]["href"].as_str();
    if acc.status != 202 || key_given.is_none() {
        v.insert("UM-ACCEPT-202");
    }
    let key = key_given
        .or_else(|| href.and_then(|h| h.rsplit('/').next()))
        .expect("a key or a link")
        .to_string();
    if href.is_some_and(|h| h != format!("/api/management-server/jobs/{key}")) {
        v.insert("UM-ACCEPT-LINK");
    }
    if m.job(&key, "").await.status != 200 {
        v.insert("UM-ACCEPT-READABLE");
    }
    let done = poll(&m, &key, literal, &mut v).await;
    if let Some(d) = &done {
        let j = d.j();
        if outcome(j) == "normal" {
            let results = j["job_results"].as_array();
            let ok = results.is_some_and(|rs| {
                !rs.is_empty()
                    && rs
                        .iter()
                        .all(|r| r["name"].is_string() && r["value"].is_string())
            });
            if !ok {
                v.insert("UM-RESULTS");
            }
        }
        for _ in 0..3 {
            let again = m.job(&key, "").await;
            if state(again.j()) != state(j) || again.j().get("status") != j.get("status") {
                v.insert("UM-TERMINAL-ABSORBING");
            }
        }
    }

    // The key works unescaped (read while the job is fresh).
    let raw = m.get(&format!("{jobs}/{key}")).await;
    if raw.status != 200 || raw.j()["key"].as_str() != Some(key.as_str()) {
        v.insert("UM-KEY-OPAQUE");
    }

    // Failed jobs are read with 200.
    for outcome_name in ["failure", "partial-failures"] {
        let k = m
            .script(json!({"steps": [{"ms": 1000}], "outcome": outcome_name}))
            .await;
        let r = poll(&m, &k, literal, &mut v).await;
        if r.is_some_and(|r| r.status != 200) {
            v.insert("UM-FAILED-IS-200");
        }
    }

    // A mid-run warning does not end the job (UM-WARNING).
    let w = m
        .script(
            json!({"steps": [{"ms": 1000}, {"ms": 1000, "status": "warning"}, {"ms": 1000}],
                       "outcome": "failure"}),
        )
        .await;
    sleep(Duration::from_millis(1500)).await;
    let mid = m.job(&w, "").await;
    if terminal(mid.j()) {
        v.insert("UM-WARNING");
    }
    let r = poll(&m, &w, literal, &mut v).await;
    if r.is_some_and(|r| outcome(r.j()) != "error") {
        v.insert("UM-WARNING");
    }

    // Long polling (register U3).
    let lp = m
        .script(json!({"steps": [{"ms": 4000}], "outcome": "success"}))
        .await;
    let t0 = Instant::now();
    sleep(Duration::from_millis(600)).await;
    let prev = m.job(&lp, "").await;
    if prev.elapsed_ms > 50 {
        v.insert("UM-POLL-STANDARD");
    }
    let r1 = m.job(&lp, "?poll_timeout=1").await;
    check_job(r1.j(), &lp, literal, &mut v);
    let ends = |t0: Instant| 4000u64.saturating_sub(t0.elapsed().as_millis() as u64);
    let before = ends(t0);
    judge_long(&r1, prev.j(), 1000, Some(before), &mut v);
    let before = ends(t0);
    let r2 = m.job(&lp, "?poll_timeout=10").await;
    check_job(r2.j(), &lp, literal, &mut v);
    judge_long(&r2, r1.j(), 10_000, Some(before), &mut v);

    // Keys.
    let unknown = m
        .job("0123456789abcdef:-1a2b3c4d:16e8d47e722:-7f87", "")
        .await;
    if unknown.status != 404 {
        v.insert("UM-KEY-UNKNOWN");
    }
    if done.is_some() {
        sleep(Duration::from_secs(5)).await;
        if m.job(&key, "").await.status != 200 {
            v.insert("UM-KEY-RETAINED");
        }
    }
    let ro = m.script(json!({"steps": [], "outcome": "success"})).await;
    for (method, path) in [
        (Method::POST, jobs.to_string()),
        (Method::PATCH, format!("{jobs}/{}", enc(&ro))),
        (Method::POST, format!("{jobs}/{}", enc(&ro))),
        (Method::DELETE, format!("{jobs}/{}", enc(&ro))),
    ] {
        let r = m.req(method, &path, Some(json!({})), Auth::Good).await;
        if !matches!(r.status, 404 | 405) {
            v.insert("UM-JOBS-READONLY");
        }
    }

    audit_list(&m, &key, &mut v).await;

    // Cross-cutting: error bodies and content types of everything seen.
    for r in m.seen.borrow().iter() {
        if r.status >= 400 && !r.j()["error"]["message"].is_string() {
            v.insert("UM-ERROR-SHAPE");
        }
        if r.job_read && r.status == 200 && !r.ct.starts_with("application/json") {
            v.insert("UM-JSON");
        }
        // Without deviations, every body also satisfies the contract's schemas.
        if let (Some(schema), true) = (r.schema, clean) {
            let errors = jobconform::contract::validate(schema, r.j()).expect("known schema");
            if !errors.is_empty() {
                eprintln!("{schema}: {errors:?} in {}", r.j());
                v.insert("SCHEMA");
            }
        }
    }
    m.mock.stop().await;
    v
}

pub fn check_list(r: &R, v: &mut BTreeSet<&'static str>) -> Vec<Value> {
    let j = r.j();
    let records = j["records"].as_array().cloned().unwrap_or_default();
    let num = j["num_records"].as_u64();
    let shape = r.status == 200
        && j["records"].is_array()
        && num == Some(records.len() as u64)
        && j["total_records"].as_u64().is_some_and(|t| Some(t) >= num)
        && j["_links"].is_object();
    if !shape {
        v.insert("UM-LIST-SHAPE");
    }
    records
}

pub fn keys(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["key"].as_str().unwrap_or("").to_string())
        .collect()
}

pub async fn audit_list(m: &M, lun_key: &str, v: &mut BTreeSet<&'static str>) {
    let jobs = "/api/management-server/jobs";
    let first = m.get(jobs).await;
    let records = check_list(&first, v);
    if records.len() > 20 {
        v.insert("UM-LIST-DEFAULT");
    }
    let times: Vec<String> = records
        .iter()
        .map(|r| r["submit_time"].as_str().unwrap_or("").to_string())
        .collect();
    if times.windows(2).any(|w| w[0] < w[1]) {
        v.insert("UM-LIST-ORDER");
    }
    // Walk pages of 7 following next verbatim; compare with one big page.
    let all = keys(&check_list(
        &m.get(&format!("{jobs}?max_records=1000")).await,
        v,
    ));
    let mut walked: Vec<String> = Vec::new();
    let mut next = Some(format!("{jobs}?max_records=7"));
    let mut pages = 0;
    while let Some(href) = next.take() {
        pages += 1;
        let page = m.get(&href).await;
        let recs = check_list(&page, v);
        if recs.len() > 7 || pages > 100 {
            v.insert("UM-LIST-PAGES");
            break;
        }
        walked.extend(keys(&recs));
        next = page.j()["_links"]["next"]["href"]
            .as_str()
            .map(str::to_string);
    }
    let unique: BTreeSet<&String> = walked.iter().collect();
    let all_set: BTreeSet<&String> = all.iter().collect();
    if unique.len() != walked.len() || unique != all_set {
        v.insert("UM-LIST-PAGES");
    }
    let big = m.get(&format!("{jobs}?max_records=5000")).await;
    if check_list(&big, v).len() > 1000 {
        v.insert("UM-LIST-PAGES");
    }
    // Filters.
    for (q, want) in [("status=error", "error"), ("state=completed", "completed")] {
        let recs = check_list(&m.get(&format!("{jobs}?{q}&max_records=1000")).await, v);
        let field = q.split('=').next().unwrap_or("");
        let bad = recs.iter().any(|r| {
            let got = if field == "status" {
                outcome(r)
            } else {
                state(r).to_ascii_lowercase()
            };
            got != want && !(field == "state" && FOUR.contains(&got.as_str()))
        });
        if bad {
            v.insert("UM-LIST-FILTER");
        }
    }
    let by_key = check_list(&m.get(&format!("{jobs}?key={}", enc(lun_key))).await, v);
    if by_key.iter().any(|r| r["key"].as_str() != Some(lun_key)) {
        v.insert("UM-LIST-FILTER");
    }
}
