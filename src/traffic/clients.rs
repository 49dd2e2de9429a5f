//! Client rules on traffic: every poll seen becomes an entry of the mock's request journal
//! (`mock::journal::Entry`, with the same `op`, `observed`, `terminal` and `released` the mock
//! writes), and the mock's client audit (`mock::audit::audit`) judges CL-STOP, CL-NO-HAMMER,
//! CL-KEEP and, when the clients' deadline is given, CL-DEADLINE, per client and job. Times are
//! the proxy's arrival times (real milliseconds since the first exchange). CL-TRANSIENT and
//! CL-LONG-POLL need the client's intent (was the fault retried within its deadline, did it know
//! the target offers long polling), which traffic does not show: they are "not observed".

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::server::method_of;
use super::{Api, RuleTally, Traffic};
use crate::check::Finding;
use crate::mock::aiqum::handlers::{OP_GET_JOB, OP_LONG_POLL};
use crate::mock::audit::{self, AuditConfig};
use crate::mock::journal::Entry;

/// The client rules this module can judge from traffic.
pub const JUDGED: &[&str] = &["CL-STOP", "CL-NO-HAMMER", "CL-KEEP", "CL-DEADLINE"];

/// The client rules traffic cannot show, and why.
pub const NOT_JUDGED: &[(&str, &str)] = &[
    (
        "CL-TRANSIENT",
        "whether a fault was retried within the client's deadline is the client's intent, not traffic",
    ),
    (
        "CL-LONG-POLL",
        "whether the client knew the target offers long polling is not in the traffic",
    ),
];

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
