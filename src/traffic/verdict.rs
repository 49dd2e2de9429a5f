//! A verdict on traffic, in the forms `run` writes: one record per rule judged (`server/<RULE>`)
//! and per client and client rule (`client/<client>/<RULE>`) on one target named [`TARGET`], rated
//! and judged by `report` (MUST fails, SHOULD warns unless strict), then the JSON document (with
//! its `source`), JUnit and the terminal summary. A rule at stake nowhere in the traffic is a
//! skipped record whose reason starts with "not observed"; never a pass. Pure but for
//! [`write`], which writes the files it is given.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::clients::{self, ClientJudged};
use super::{RuleTally, Traffic, keep, server};
use crate::exec::{Capabilities, Status};
use crate::mock::audit::AuditConfig;
use crate::report::json::{Document, RunFacts, Source, SourceKind};
use crate::report::{self, CaseRecord, Dialects, TargetRecord, Verdict as Outcome};
use crate::target::fingerprint::Fingerprint;

/// The target name of a traffic verdict.
pub const TARGET: &str = "traffic";

/// Findings kept per record (the count of the rest is noted).
pub const FINDINGS_PER_RECORD: usize = 50;

/// The server rules judged from traffic, in report order.
pub const SERVER_RULES: &[&str] = &[
    "EL-RPC-ENVELOPE",
    "EL-RPC-ERROR-SHAPE",
    "EL-RPC-ERROR-HTTP",
    "EL-RPC-AUTH",
    "EL-VER-GETAPI",
    "EL-GAR-PARAMS",
    "EL-GAR-STATUS",
    "EL-GAR-RUNNING",
    "EL-GAR-DETAILS",
    "EL-GAR-COMPLETE",
    "EL-GAR-ASYNC-ERROR",
    "EL-GAR-TIMES",
    "EL-GAR-STABLE",
    "EL-GAR-UNKNOWN",
    "EL-KEEP-RUNNING",
    "EL-KEEP-TRUE",
    "EL-KEEP-DEFAULT",
    "EL-KEEP-FALSE",
    "EL-KEEP-FAILED-CALL",
    "EL-KEEP-ONCE",
    "EL-HANDLE-UNIQUE",
    "EL-LIST-SHAPE",
    "EL-LIST-FILTER",
    "EL-LIST-NO-PURGE",
    "EL-CLONE-START",
    "UM-AUTH",
    "UM-JSON",
    "UM-ERROR-SHAPE",
    "UM-ACCEPT-202",
    "UM-ACCEPT-LINK",
    "UM-ACCEPT-READABLE",
    "UM-JOB-SHAPE",
    "UM-JOB-STATUS",
    "UM-JOB-TIMES",
    "UM-TERMINAL-ABSORBING",
    "UM-STATE-FORWARD",
    "UM-FAILED-IS-200",
    "UM-KEY-RETAINED",
    "UM-JOBS-READONLY",
    "UM-LIST-SHAPE",
    "UM-LIST-ORDER",
    "UM-LIST-DEFAULT",
    "UM-LIST-FILTER",
];

/// How to judge.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The clients' promises (minimum interval, deadline) and the measurement slack.
    pub audit: AuditConfig,
    /// SHOULD findings fail.
    pub strict: bool,
}

/// A judged verdict: the target, the records, and the source facts.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The one target (the upstream(s) judged).
    pub targets: Vec<TargetRecord>,
    /// Records, server rules first, then clients by name.
    pub records: Vec<CaseRecord>,
    /// Where the exchanges came from.
    pub source: Source,
}

/// The order exchanges are judged in: arrival time, then sequence number.
pub fn order(traffic: &Traffic) -> Vec<usize> {
    let mut order: Vec<usize> = (0..traffic.exchanges.len()).collect();
    order.sort_by_key(|&i| (traffic.exchanges[i].at_ms, traffic.exchanges[i].seq));
    order
}

/// Judges traffic. `kind` and `name` say where it came from.
pub fn judge(traffic: &Traffic, cfg: &Config, kind: SourceKind, name: &str) -> Verdict {
    let order = order(traffic);
    let mut judged = server::judge(traffic, &order);
    keep::judge(traffic, &order, &mut judged.tally);
    let mut records: Vec<CaseRecord> = SERVER_RULES
        .iter()
        .map(|rule| {
            let t = judged.tally.remove(rule).unwrap_or_default();
            // Register notes go to the rules of their API (E* to EL-*, U* to UM-*).
            let notes = if rule.starts_with("EL-") {
                &judged.element_notes
            } else {
                &judged.aiqum_notes
            };
            record(
                traffic,
                format!("server/{rule}"),
                rule,
                t,
                notes,
                cfg.strict,
            )
        })
        .collect();
    for c in clients::judge(traffic, &order, &cfg.audit) {
        records.extend(client_records(traffic, c, cfg));
    }
    let source = Source {
        kind,
        name: name.to_string(),
        exchanges: traffic.exchanges.len(),
        transport_faults: judged.faults,
        unparsed: judged
            .unparsed
            .iter()
            .map(|u| format!("{}: {}", u.at, u.why))
            .collect(),
    };
    let target = TargetRecord {
        name: TARGET.into(),
        kind: report::TargetKind::Live,
        element: traffic.element.clone(),
        aiqum: traffic.aiqum.clone(),
        fingerprint: Fingerprint {
            element_current_version: None,
            element_firmware: None,
            aiqum_version: None,
            label: TARGET.into(),
        },
        dialect: Dialects {
            element: judged.element_dialect,
            aiqum: judged.aiqum_dialect,
        },
        capabilities: Capabilities {
            long_poll: false,
            // Traffic is watched, never probed: CL-LONG-POLL says what the traffic showed.
            long_poll_probed: false,
            aiqum_dialect: None,
            notes: vec![format!(
                "judged from {} exchange(s) of traffic; {} transport fault(s) (not findings); {} unparsed",
                source.exchanges,
                source.transport_faults,
                source.unparsed.len()
            )],
        },
        leftovers: Vec::new(),
    };
    Verdict {
        targets: vec![target],
        records,
        source,
    }
}

fn client_records(traffic: &Traffic, c: ClientJudged, cfg: &Config) -> Vec<CaseRecord> {
    let mut tally = c.tally;
    let mut out: Vec<CaseRecord> = clients::JUDGED
        .iter()
        .map(|rule| {
            let mut t = tally.remove(rule).unwrap_or_default();
            if *rule == "CL-DEADLINE" && cfg.audit.deadline_ms.is_none() {
                t.observed = 0;
            }
            record(
                traffic,
                format!("client/{}/{rule}", c.client),
                rule,
                t,
                &c.notes,
                cfg.strict,
            )
        })
        .collect();
    for (rule, why) in clients::NOT_JUDGED {
        out.push(skipped(
            format!("client/{}/{rule}", c.client),
            rule,
            format!("not observed: {why}"),
        ));
    }
    out
}

fn skipped(name: String, rule: &str, reason: String) -> CaseRecord {
    CaseRecord {
        trial: format!("{TARGET}/{name}"),
        name,
        target: TARGET.into(),
        rules: vec![rule.to_string()],
        outcome: Outcome::Skipped,
        reason: Some(reason),
        findings: Vec::new(),
        notes: Vec::new(),
        transcript: Vec::new(),
        duration_ms: 0,
        element_dialect: None,
        snapshot: None,
    }
}

/// The record of one rule: its findings (at most [`FINDINGS_PER_RECORD`]) with the exchanges that
/// show them as its transcript, or "not observed".
fn record(
    traffic: &Traffic,
    name: String,
    rule: &str,
    t: RuleTally,
    notes: &[String],
    strict: bool,
) -> CaseRecord {
    if t.observed == 0 && t.findings.is_empty() {
        let why = if rule == "CL-DEADLINE" {
            "not observed: the clients' deadline was not given (--deadline-ms)".to_string()
        } else if rule == "CL-LONG-POLL" {
            "not observed: the traffic does not show the target holding a long poll, or no \
             AIQUM job was polled twice"
                .to_string()
        } else {
            format!("not observed: nothing in the traffic put {rule} at stake")
        };
        return skipped(name, rule, why);
    }
    let total = t.findings.len();
    let mut transcript = Vec::new();
    let mut renumber: BTreeMap<usize, usize> = BTreeMap::new();
    let mut findings = t.findings;
    findings.truncate(FINDINGS_PER_RECORD);
    for f in &mut findings {
        f.exchange = f.exchange.and_then(|i| {
            let ex = &traffic.exchanges.get(i)?.exchange;
            Some(*renumber.entry(i).or_insert_with(|| {
                transcript.push(ex.clone());
                transcript.len() - 1
            }))
        });
    }
    let findings = report::rate(findings);
    let (outcome, reason) = report::judge(&Status::Ran, &findings, strict);
    let mut record_notes = vec![format!(
        "{rule} was at stake {} time(s) in the traffic",
        t.observed
    )];
    if total > FINDINGS_PER_RECORD {
        record_notes.push(format!(
            "{} more finding(s) of {rule} not listed",
            total - FINDINGS_PER_RECORD
        ));
    }
    record_notes.extend(notes.iter().cloned());
    CaseRecord {
        trial: format!("{TARGET}/{name}"),
        name,
        target: TARGET.into(),
        rules: vec![rule.to_string()],
        outcome,
        reason,
        findings,
        notes: record_notes,
        transcript,
        duration_ms: 0,
        element_dialect: None,
        snapshot: None,
    }
}

/// The exit code of a verdict: 1 on a failure, 2 when nothing was observed, else 0.
pub fn exit_code(v: &Verdict) -> u8 {
    let ran = v
        .records
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Pass | Outcome::Warn | Outcome::Fail))
        .count() as u64;
    crate::runner::exit_of(&v.records, ran, false).code()
}

/// The JSON document of a verdict.
pub fn document(v: &Verdict, started: jiff::Timestamp, strict: bool) -> Document {
    let facts = RunFacts {
        started,
        strict,
        exit_code: exit_code(v),
        interrupted: false,
        plan: None,
    };
    let mut doc = report::json::document(&facts, &v.targets, &v.records);
    doc.source = Some(v.source.clone());
    doc
}

/// The terminal text of a verdict: the failure text of each failed record, then the summary.
pub fn text(v: &Verdict) -> String {
    let mut out = String::new();
    for r in v.records.iter().filter(|r| r.outcome == Outcome::Fail) {
        out.push_str(&format!(
            "---- {} ----\n{}\n",
            r.trial,
            report::text::failure(r)
        ));
    }
    let observed: Vec<&str> = v
        .records
        .iter()
        .filter(|r| r.outcome == Outcome::Skipped)
        .map(|r| r.name.as_str())
        .collect();
    if !observed.is_empty() {
        out.push_str(&format!(
            "\nnot observed ({}): {}\n",
            observed.len(),
            observed.join(", ")
        ));
    }
    if !v.source.unparsed.is_empty() {
        out.push_str(&format!("unparsed ({}):\n", v.source.unparsed.len()));
        for u in v.source.unparsed.iter().take(20) {
            out.push_str(&format!("  {u}\n"));
        }
    }
    out.push_str(&report::text::summary(&v.targets, &v.records));
    out
}

/// Where to write a verdict.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    /// `--report-json`.
    pub report_json: Option<PathBuf>,
    /// `--junit`.
    pub junit: Option<PathBuf>,
}

/// Prints the terminal text on stderr and writes the files; returns the exit code (2 when a
/// file could not be written).
pub fn write(v: &Verdict, out: &Outputs, started: jiff::Timestamp, strict: bool) -> u8 {
    eprint!("{}", text(v));
    let mut code = exit_code(v);
    if code == 2 {
        eprintln!("jobconform: nothing observed: no exchange put any rule at stake");
    }
    if let Some(path) = &out.report_json
        && let Err(e) = report::json::write(path, &document(v, started, strict))
    {
        eprintln!("jobconform: failed to write {}: {e}", path.display());
        code = 2;
    }
    if let Some(path) = &out.junit
        && let Err(e) = report::junit::write(path, &v.targets, &v.records)
    {
        eprintln!("jobconform: failed to write {}: {e}", path.display());
        code = 2;
    }
    code
}
