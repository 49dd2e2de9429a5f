//! The client audit: judges a client's polling from the mock's request journal alone, per client
//! and per job, against the client rules CL-STOP, CL-NO-HAMMER, CL-KEEP and (when a deadline is
//! configured) CL-DEADLINE, with the `t_ms` of the offending requests as evidence. Pure: entries
//! in, report out; no I/O, no clock, no access to the mock's state. The `--audit` flag and the
//! `/_jobconform/audit` route call [`audit`]; they are wired elsewhere.
//!
//! What the journal must say for the audit to be fair (the mock's side of the bargain):
//! - a poll is an Element `GetAsyncResult` or an AIQUM `GET` of one job (`op` starting with `GET`),
//!   with `job` set; a long poll's `op` contains `long` (or `poll_timeout`);
//! - `observed` carries everything a client may treat as a change (Element: status and details;
//!   AIQUM: state and status), since "unchanged" means "same `observed`". A bare lower-case
//!   lifecycle word (Element `running`, AIQUM split-dialect `running`) is taken as "maybe
//!   changed" and the shrink check is skipped after it; the mocks journal
//!   `running {"percentComplete":50}` (Element) and `running/warning` (AIQUM split) so it bites;
//! - every journaled answer is assumed to have reached the client.
//!
//! Rules as judged here:
//! - CL-STOP: a poll after an answer that showed the job terminal, except one release call (an
//!   Element poll without `keepResult` right after a terminal answer to a `keepResult: true`
//!   poll). Polls after a release are CL-KEEP instead.
//! - CL-KEEP: any poll of a handle after an answer that released it.
//! - CL-NO-HAMMER: a poll less than `min_interval_ms` (beyond `tolerance_ms` of measurement
//!   slack) after the previous poll of the job, or an interval shorter (beyond `tolerance_ms`) than the
//!   one before it while the job was unchanged
//!   (same `observed`, or no observation / a 5xx). Intervals that follow a long poll, and the
//!   release call, are exempt.
//! - CL-DEADLINE (only with `deadline_ms`): a poll later than `deadline_ms` after the client's
//!   first poll of the job. Whether the client reported the last state cannot be seen here.
//! - Not a rule: a job whose last poll showed it non-terminal is noted "abandoned" (a client that
//!   gave up at its deadline, or one that stopped early, e.g. by taking WARNING for the end).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::journal::Entry;

/// Violations of one rule per job shown in the text rendering (the JSON has them all).
pub const TEXT_PER_RULE: usize = 3;

/// What the audit needs to know about the client's promises.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// The minimum interval the client promised (CL-NO-HAMMER), target milliseconds.
    pub min_interval_ms: u64,
    /// Measurement slack, milliseconds: journal times are whole target milliseconds, so one
    /// interval is known to +-1 ms and two compare to +-2 ms (the default). At a time scale above
    /// 1 in real time, raise it to cover network jitter times the scale.
    #[serde(default = "default_tolerance")]
    pub tolerance_ms: u64,
    /// The client's deadline per job, if known (CL-DEADLINE).
    #[serde(default)]
    pub deadline_ms: Option<u64>,
}

fn default_tolerance() -> u64 {
    2
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            min_interval_ms: 500,
            tolerance_ms: default_tolerance(),
            deadline_ms: None,
        }
    }
}

/// One broken rule, with evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Rule ID (`CL-STOP`, `CL-NO-HAMMER`, `CL-KEEP`, `CL-DEADLINE`).
    pub rule: &'static str,
    /// What happened.
    pub what: String,
    /// `t_ms` of the requests involved (the offending one last).
    pub t_ms: Vec<u64>,
}

/// The audit of one client's polling of one job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobAudit {
    /// `element` or `aiqum`.
    pub api: String,
    /// Handle or job key.
    pub job: String,
    /// Polls of the job by the client.
    pub polls: usize,
    /// Whether the client saw the job terminal.
    pub saw_terminal: bool,
    /// Broken rules.
    pub violations: Vec<Violation>,
    /// Remarks that break no rule (e.g. "abandoned before terminal").
    pub notes: Vec<String>,
}

/// The audit of one client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientAudit {
    /// Client identity from the journal.
    pub client: String,
    /// Its jobs, in order of first poll.
    pub jobs: Vec<JobAudit>,
}

impl ClientAudit {
    /// The rule IDs this client broke, sorted, without duplicates.
    pub fn rules_broken(&self) -> Vec<&'static str> {
        let mut r: Vec<&'static str> = self
            .jobs
            .iter()
            .flat_map(|j| j.violations.iter().map(|v| v.rule))
            .collect();
        r.sort_unstable();
        r.dedup();
        r
    }
}

/// The whole audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// The configuration judged against.
    pub config: AuditConfig,
    /// One per client, sorted by identity.
    pub clients: Vec<ClientAudit>,
}

impl AuditReport {
    /// True when no client broke any rule.
    pub fn clean(&self) -> bool {
        self.clients.iter().all(|c| c.rules_broken().is_empty())
    }

    /// The audit of one client.
    pub fn client(&self, name: &str) -> Option<&ClientAudit> {
        self.clients.iter().find(|c| c.client == name)
    }

    /// Human-readable rendering, one line per client, one per violation or note.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "client audit (min interval {} ms{})",
            self.config.min_interval_ms,
            self.config
                .deadline_ms
                .map_or(String::new(), |d| format!(", deadline {d} ms"))
        );
        if self.clients.is_empty() {
            s.push_str("  no polls journaled\n");
        }
        for c in &self.clients {
            let broken = c.rules_broken();
            let verdict = if broken.is_empty() {
                "clean".to_string()
            } else {
                format!("broke {}", broken.join(", "))
            };
            let _ = writeln!(s, "{}: {} job(s), {verdict}", c.client, c.jobs.len());
            for j in &c.jobs {
                let _ = writeln!(s, "  {} {} ({} polls)", j.api, j.job, j.polls);
                let mut shown: BTreeMap<&str, usize> = BTreeMap::new();
                for v in &j.violations {
                    let n = shown.entry(v.rule).or_default();
                    *n += 1;
                    if *n <= TEXT_PER_RULE {
                        let t: Vec<String> = v.t_ms.iter().map(u64::to_string).collect();
                        let _ = writeln!(s, "    {}: {} [t_ms {}]", v.rule, v.what, t.join(", "));
                    }
                }
                for (rule, n) in shown.into_iter().filter(|(_, n)| *n > TEXT_PER_RULE) {
                    let _ = writeln!(s, "    {rule}: {} more (see the JSON)", n - TEXT_PER_RULE);
                }
                for n in &j.notes {
                    let _ = writeln!(s, "    note: {n}");
                }
            }
        }
        s
    }
}

/// Whether an entry is a poll of one job.
fn is_poll(e: &Entry) -> bool {
    e.job.is_some()
        && match e.api {
            "element" => e.op == "GetAsyncResult",
            _ => e.op.starts_with("GET"),
        }
}

fn is_long_poll(e: &Entry) -> bool {
    e.op.contains("long") || e.op.contains("poll_timeout")
}

/// Audits every client's polling in a journal.
pub fn audit(entries: &[Entry], config: &AuditConfig) -> AuditReport {
    let mut by_client: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
    let mut polls: BTreeMap<(&str, &str, &str), Vec<&Entry>> = BTreeMap::new();
    for e in entries.iter().filter(|e| is_poll(e)) {
        let job = e.job.as_deref().unwrap_or("");
        let list = polls.entry((e.client.as_str(), e.api, job)).or_default();
        if list.is_empty() {
            by_client
                .entry(&e.client)
                .or_default()
                .push((e.api.to_string(), job.to_string()));
        }
        list.push(e);
    }
    let clients = by_client
        .into_iter()
        .map(|(client, jobs)| ClientAudit {
            client: client.to_string(),
            jobs: jobs
                .iter()
                .map(|(api, job)| {
                    let list = &polls[&(client, api.as_str(), job.as_str())];
                    audit_job(api, job, list, config)
                })
                .collect(),
        })
        .collect();
    AuditReport {
        config: config.clone(),
        clients,
    }
}

/// Audits one client's polls of one job (in journal order).
fn audit_job(api: &str, job: &str, polls: &[&Entry], cfg: &AuditConfig) -> JobAudit {
    let mut v: Vec<Violation> = Vec::new();
    let first_terminal = polls.iter().position(|e| e.terminal);
    let first_release = polls.iter().position(|e| e.released);
    // The release call: right after a terminal answer to a keepResult:true poll, without it.
    let release = first_terminal.filter(|&t| {
        polls[t].keep_result == Some(true)
            && polls
                .get(t + 1)
                .is_some_and(|e| e.keep_result != Some(true))
    });
    let release = release.map(|t| t + 1);
    for (i, e) in polls.iter().enumerate() {
        if let Some(r) = first_release.filter(|&r| i > r) {
            v.push(Violation {
                rule: "CL-KEEP",
                what: format!(
                    "queried the handle after the answer at {} ms released it",
                    polls[r].t_ms
                ),
                t_ms: vec![polls[r].t_ms, e.t_ms],
            });
        } else if let Some(t) = first_terminal.filter(|&t| i > t && Some(i) != release) {
            v.push(Violation {
                rule: "CL-STOP",
                what: format!(
                    "polled after the answer at {} ms showed the job terminal",
                    polls[t].t_ms
                ),
                t_ms: vec![polls[t].t_ms, e.t_ms],
            });
        }
    }
    hammer(polls, release, cfg, &mut v);
    if let Some(d) = cfg.deadline_ms {
        let start = polls.first().map_or(0, |e| e.t_ms);
        for e in polls.iter().filter(|e| e.t_ms.saturating_sub(start) > d) {
            v.push(Violation {
                rule: "CL-DEADLINE",
                what: format!(
                    "polled {} ms after the first poll (deadline {d} ms)",
                    e.t_ms - start
                ),
                t_ms: vec![start, e.t_ms],
            });
        }
    }
    let mut notes = Vec::new();
    if let (None, Some(last)) = (first_terminal, polls.last()) {
        notes.push(format!(
            "abandoned before terminal: the last poll ({} ms) showed {}; no CL rule is broken \
             unless the client was still before its deadline (a client that takes WARNING for \
             the end looks like this)",
            last.t_ms,
            last.observed.as_deref().unwrap_or("no job")
        ));
    }
    JobAudit {
        api: api.to_string(),
        job: job.to_string(),
        polls: polls.len(),
        saw_terminal: first_terminal.is_some(),
        violations: v,
        notes,
    }
}

/// Whether the answer to `polls[i]` surely left the job unchanged for the client. A bare
/// lower-case lifecycle word (`running`, `queued`) says nothing about Element `details` or AIQUM
/// `status`, so it never counts as surely unchanged.
fn unchanged(polls: &[&Entry], i: usize) -> bool {
    let e = polls[i];
    let Some(seen) = e.observed.as_deref().filter(|_| e.http_status < 500) else {
        return true;
    };
    if seen.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return false;
    }
    polls[..i]
        .iter()
        .rev()
        .find_map(|p| p.observed.as_deref().filter(|_| p.http_status < 500))
        .is_some_and(|p| p == seen)
}

/// CL-NO-HAMMER: minimum interval, and no shrinking while unchanged.
fn hammer(polls: &[&Entry], release: Option<usize>, cfg: &AuditConfig, v: &mut Vec<Violation>) {
    let std = |i: usize| !is_long_poll(polls[i]);
    for i in 1..polls.len() {
        if Some(i) == release || !std(i - 1) {
            continue;
        }
        let gap = polls[i].t_ms.saturating_sub(polls[i - 1].t_ms);
        if gap + cfg.tolerance_ms < cfg.min_interval_ms {
            v.push(Violation {
                rule: "CL-NO-HAMMER",
                what: format!(
                    "polled {gap} ms after the previous poll (minimum {} ms)",
                    cfg.min_interval_ms
                ),
                t_ms: vec![polls[i - 1].t_ms, polls[i].t_ms],
            });
        } else if i >= 2 && std(i - 2) && unchanged(polls, i - 1) {
            let before = polls[i - 1].t_ms.saturating_sub(polls[i - 2].t_ms);
            if gap + cfg.tolerance_ms < before {
                v.push(Violation {
                    rule: "CL-NO-HAMMER",
                    what: format!(
                        "interval shrank from {before} ms to {gap} ms while the job was unchanged"
                    ),
                    t_ms: vec![polls[i - 2].t_ms, polls[i - 1].t_ms, polls[i].t_ms],
                });
            }
        }
    }
}
