//! Client rules on traffic: every poll seen becomes an entry of the mock's request journal
//! (`mock::journal::Entry`, with the same `op`, `observed`, `terminal` and `released` the mock
//! writes), and the mock's client audit (`mock::audit::audit`) judges CL-STOP, CL-NO-HAMMER,
//! CL-KEEP and, when the clients' deadline is given, CL-DEADLINE, per client and job. Times are
//! the proxy's arrival times (real milliseconds since the first exchange).
//!
//! CL-LONG-POLL is judged here, beside the audit: once the traffic shows the target holding a
//! long poll (a `poll_timeout` read answered 2xx with a job still running after at least 90% of
//! the timeout, real time), a client that polled an AIQUM job at least twice without ever
//! long-polling it broke the rule. Without such evidence it is "not observed". CL-TRANSIENT needs
//! the client's intent (was the fault retried within its deadline), which traffic does not show:
//! it is always "not observed".

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::server::method_of;
use super::{Api, RuleTally, Traffic};
use crate::check::Finding;
use crate::mock::aiqum::handlers::{OP_GET_JOB, OP_LONG_POLL};
use crate::mock::audit::{self, AuditConfig};
use crate::mock::journal::Entry;

/// The client rules this module can judge from traffic.
pub const JUDGED: &[&str] = &[
    "CL-STOP",
    "CL-NO-HAMMER",
    "CL-KEEP",
    "CL-DEADLINE",
    "CL-LONG-POLL",
];

/// The client rules traffic cannot show, and why.
pub const NOT_JUDGED: &[(&str, &str)] = &[(
    "CL-TRANSIENT",
    "whether a fault was retried within the client's deadline is the client's intent, not traffic",
)];

/// One client's tallies per CL rule, and the audit's notes about it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientJudged {
    /// Client identity.
    pub client: String,
    /// Per judged rule.
    pub tally: BTreeMap<&'static str, RuleTally>,
    /// Remarks that break no rule (a job abandoned before terminal).
    pub notes: Vec<String>,
}

/// The journal entry of one poll, if the exchange is one.
pub fn entry(o: &super::Observed, t0: u64) -> Option<Entry> {
    let ex = &o.exchange;
    let status = match &ex.response {
        Ok(r) => r.status,
        Err(_) => 502,
    };
    let body = ex.json();
    let api = o.api()?;
    let mut e = Entry {
        t_ms: o.at_ms.saturating_sub(t0),
        client: o.client.clone(),
        api: api.as_str(),
        op: String::new(),
        job: None,
        keep_result: None,
        observed: None,
        terminal: false,
        released: false,
        http_status: status,
    };
    match api {
        Api::Element => {
            if method_of(ex) != Some("GetAsyncResult") {
                return None;
            }
            let params = ex.request.body.as_ref()?.get("params");
            let handle = params.and_then(|p| p.get("asyncHandle"))?;
            e.op = "GetAsyncResult".into();
            e.job = Some(crate::case::template::text_of(handle));
            e.keep_result = params
                .and_then(|p| p.get("keepResult"))
                .and_then(Value::as_bool);
            let r = body.and_then(|b| b.get("result"));
            let error = body
                .and_then(|b| b.pointer("/error/name"))
                .and_then(Value::as_str);
            match (
                r.and_then(|r| r.get("status")).and_then(Value::as_str),
                error,
            ) {
                (Some("running"), _) => {
                    let details = r
                        .and_then(|r| r.get("details"))
                        .cloned()
                        .unwrap_or(Value::Null);
                    e.observed = Some(format!("running {details}"));
                }
                (Some("complete"), _) => {
                    e.observed = Some("complete".into());
                    e.terminal = true;
                    e.released = e.keep_result != Some(true);
                }
                (_, Some(name)) if crate::poll::ELEMENT_TRANSIENT.contains(&name) => {
                    e.observed = Some(format!("fault {name}"));
                }
                (_, Some(_)) => e.observed = Some("unknown".into()),
                _ => {}
            }
        }
        Api::Aiqum => {
            if ex.request.method != "GET" {
                return None;
            }
            e.job = Some(crate::exec::run::job_key_of(&ex.request.url)?);
            let long = crate::check::query_of(&ex.request.url)
                .iter()
                .any(|(k, _)| k == "poll_timeout");
            e.op = if long { OP_LONG_POLL } else { OP_GET_JOB }.into();
            if let Some(job) = body.filter(|b| crate::check::aiqum::is_job(b)) {
                e.observed = job.get("state").and_then(Value::as_str).map(|st| {
                    match job.get("status").and_then(Value::as_str) {
                        Some(s) => format!("{st}/{s}"),
                        None => st.to_string(),
                    }
                });
                e.terminal = crate::poll::aiqum_terminal(job).unwrap_or(false);
            } else if status >= 500 {
                e.observed = Some(format!("fault {status}"));
            }
        }
    }
    Some(e)
}

/// Judges every client's polling in `traffic` (exchanges visited in `order`).
pub fn judge(traffic: &Traffic, order: &[usize], config: &AuditConfig) -> Vec<ClientJudged> {
    let t0 = order.first().map_or(0, |&i| traffic.exchanges[i].at_ms);
    let mut entries = Vec::new();
    let mut index_of: BTreeMap<(String, &'static str, String, u64), usize> = BTreeMap::new();
    for &i in order {
        if let Some(e) = entry(&traffic.exchanges[i], t0) {
            index_of
                .entry((
                    e.client.clone(),
                    e.api,
                    e.job.clone().unwrap_or_default(),
                    e.t_ms,
                ))
                .or_insert(i);
            entries.push(e);
        }
    }
    let offers = offers_long_poll(traffic, order);
    let long_polled: std::collections::BTreeSet<(&str, &str)> = entries
        .iter()
        .filter(|e| e.op == OP_LONG_POLL)
        .map(|e| (e.client.as_str(), e.job.as_deref().unwrap_or("")))
        .collect();
    let report = audit::audit(&entries, config);
    report
        .clients
        .iter()
        .map(|c| {
            let mut out = ClientJudged {
                client: c.client.clone(),
                ..ClientJudged::default()
            };
            for rule in JUDGED {
                out.tally.insert(rule, RuleTally::default());
            }
            for job in &c.jobs {
                let mut at_stake = Vec::new();
                if job.polls >= 2 {
                    at_stake.push("CL-NO-HAMMER");
                }
                if job.saw_terminal {
                    at_stake.push("CL-STOP");
                    if job.api == "element" {
                        at_stake.push("CL-KEEP");
                    }
                }
                if config.deadline_ms.is_some() {
                    at_stake.push("CL-DEADLINE");
                }
                if offers && job.api == "aiqum" && job.polls >= 2 {
                    at_stake.push("CL-LONG-POLL");
                    if !long_polled.contains(&(c.client.as_str(), job.job.as_str())) {
                        out.tally.entry("CL-LONG-POLL").or_default().findings.push(
                            Finding::new(
                                "CL-LONG-POLL",
                                format!(
                                    "aiqum {}: polled {} times without a long poll, though the \
                                     target holds long polls",
                                    job.job, job.polls
                                ),
                            )
                            .values(Some("poll_timeout".into()), Some(job.polls.into())),
                        );
                    }
                }
                for rule in at_stake {
                    if let Some(t) = out.tally.get_mut(rule) {
                        t.observed += 1;
                    }
                }
                for v in &job.violations {
                    let api: &'static str = if job.api == "element" {
                        "element"
                    } else {
                        "aiqum"
                    };
                    let at = v.t_ms.last().copied().unwrap_or(0);
                    let mut f =
                        Finding::new(v.rule, format!("{} {}: {}", job.api, job.job, v.what))
                            .values(None, Some(json!({"t_ms": v.t_ms})));
                    f.exchange = index_of
                        .get(&(c.client.clone(), api, job.job.clone(), at))
                        .copied();
                    let t = out.tally.entry(v.rule).or_default();
                    t.observed += 1;
                    t.findings.push(f);
                }
                for n in &job.notes {
                    out.notes.push(format!("{} {}: {n}", job.api, job.job));
                }
            }
            out
        })
        .collect()
}

/// Whether the traffic shows the target holding a long poll: a `poll_timeout` read answered 2xx
/// with a job still running after at least 90% of the timeout asked for.
fn offers_long_poll(traffic: &Traffic, order: &[usize]) -> bool {
    order.iter().any(|&i| {
        let ex = &traffic.exchanges[i].exchange;
        let Ok(r) = &ex.response else { return false };
        let asked = crate::check::query_of(&ex.request.url)
            .into_iter()
            .find(|(k, _)| k == "poll_timeout")
            .and_then(|(_, v)| v.parse::<u64>().ok());
        let running = r
            .body
            .json()
            .is_some_and(|j| crate::poll::aiqum_terminal(j) == Some(false));
        asked.is_some_and(|s| {
            (200..300).contains(&r.status) && running && r.elapsed_ms * 10 >= s * 9000
        })
    })
}
