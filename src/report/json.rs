//! The JSON verdict document (`--report-json`), shaped by `schemas/report.schema.json`: the tool,
//! when, every target (fingerprint, dialects, capabilities, leftovers), every case on every target
//! (verdict, findings, redacted transcript, duration) and every rule of the registry with its
//! outcome across targets.

use std::path::Path;

use serde::Serialize;

use super::text::{Counts, counts};
use super::{CaseRecord, TargetRecord, Verdict};
use crate::contract::Level;

/// `$id` of the report schema.
pub const SCHEMA_ID: &str = "https://jobconform.invalid/schemas/report.schema.json";

/// The tool that wrote a report.
#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    /// `jobconform`.
    pub name: &'static str,
    /// Crate version.
    pub version: &'static str,
}

/// A rule's outcome on one target.
#[derive(Debug, Clone, Serialize)]
pub struct RuleOnTarget {
    /// Target name.
    pub target: String,
    /// `pass`, `warn`, `fail`, `inconclusive` or `untested`.
    pub outcome: &'static str,
}

/// A rule and its outcome across targets.
#[derive(Debug, Clone, Serialize)]
pub struct RuleOutcome {
    /// Rule ID.
    pub id: String,
    /// MUST or SHOULD.
    pub level: Level,
    /// Worst outcome across targets.
    pub outcome: &'static str,
    /// Per target.
    pub targets: Vec<RuleOnTarget>,
}

/// Where the judged exchanges came from, when they were not sent by the harness itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// `jobconform proxy`, judging traffic as it flowed.
    Proxy,
    /// `jobconform judge` on a proxy recording (JSON lines).
    Recording,
    /// `jobconform judge` on a HAR file.
    Har,
}

/// The traffic a verdict was judged from (`jobconform proxy` / `jobconform judge`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    /// What produced the traffic.
    pub kind: SourceKind,
    /// The proxy's own URL, or the file judged.
    pub name: String,
    /// Exchanges read.
    pub exchanges: usize,
    /// Exchanges without an answer (upstream unreachable, TLS, timeout): not findings.
    pub transport_faults: usize,
    /// Exchanges (or lines, or entries) that could not be judged, each `where: why`.
    pub unparsed: Vec<String>,
}

/// The whole document.
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    /// The schema it follows.
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    /// The tool.
    pub tool: Tool,
    /// Start of the run (RFC 3339, UTC).
    pub started: jiff::Timestamp,
    /// End of the run.
    pub finished: jiff::Timestamp,
    /// Whether SHOULD findings failed the run.
    pub strict: bool,
    /// The process exit code.
    pub exit_code: u8,
    /// Whether the run was interrupted.
    pub interrupted: bool,
    /// Verdict counts.
    pub summary: Counts,
    /// Targets.
    pub targets: Vec<TargetRecord>,
    /// Cases per target.
    pub cases: Vec<CaseRecord>,
    /// Rules.
    pub rules: Vec<RuleOutcome>,
    /// The traffic judged, for `proxy` and `judge` (absent for `run`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// What the run was asked to do (contract, case set, targets, shard), for `jobconform merge`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<super::plan::Plan>,
}

fn rank(o: &str) -> u8 {
    match o {
        "fail" => 4,
        "warn" => 3,
        "inconclusive" => 2,
        "pass" => 1,
        _ => 0,
    }
}

/// A rule's outcome over some records: `fail`, `warn`, `inconclusive`, `pass` or `untested`.
pub(crate) fn rule_on(id: &str, records: &[&CaseRecord]) -> &'static str {
    let mut out = "untested";
    for r in records {
        let this = if r.findings.iter().any(|f| f.finding.rule == id) {
            if r.outcome == Verdict::Fail {
                "fail"
            } else {
                "warn"
            }
        } else if r.rules.iter().any(|x| x == id) {
            match r.outcome {
                Verdict::Pass | Verdict::Warn | Verdict::Fail => "pass",
                Verdict::Inconclusive => "inconclusive",
                _ => "untested",
            }
        } else {
            "untested"
        };
        if rank(this) > rank(out) {
            out = this;
        }
    }
    out
}

/// Every rule of the registry with its outcome per target and overall.
pub fn rules(targets: &[TargetRecord], records: &[CaseRecord]) -> Vec<RuleOutcome> {
    // Grouped once: a merged fleet verdict has 100 targets of 140 trials each.
    let mut by_target: std::collections::HashMap<&str, Vec<&CaseRecord>> = Default::default();
    for r in records {
        by_target.entry(r.target.as_str()).or_default().push(r);
    }
    crate::contract::rules()
        .iter()
        .map(|rule| {
            let per: Vec<RuleOnTarget> = targets
                .iter()
                .map(|t| {
                    let mine = by_target
                        .get(t.name.as_str())
                        .map_or(&[][..], Vec::as_slice);
                    RuleOnTarget {
                        target: t.name.clone(),
                        outcome: rule_on(&rule.id, mine),
                    }
                })
                .collect();
            let outcome = per
                .iter()
                .map(|p| p.outcome)
                .max_by_key(|o| rank(o))
                .unwrap_or("untested");
            RuleOutcome {
                id: rule.id.clone(),
                level: rule.level,
                outcome,
                targets: per,
            }
        })
        .collect()
}

/// Inputs of a document besides the records.
#[derive(Debug, Clone)]
pub struct RunFacts {
    /// Start.
    pub started: jiff::Timestamp,
    /// `--strict`.
    pub strict: bool,
    /// Exit code.
    pub exit_code: u8,
    /// Interrupted by Ctrl-C.
    pub interrupted: bool,
    /// The report's `plan`.
    pub plan: Option<super::plan::Plan>,
}

/// Builds the document.
pub fn document(facts: &RunFacts, targets: &[TargetRecord], records: &[CaseRecord]) -> Document {
    document_from(facts, targets.to_vec(), records.to_vec())
}

/// [`document`] from owned targets and records (a merged fleet verdict is too large to copy).
pub fn document_from(
    facts: &RunFacts,
    targets: Vec<TargetRecord>,
    records: Vec<CaseRecord>,
) -> Document {
    Document {
        schema: SCHEMA_ID,
        tool: Tool {
            name: "jobconform",
            version: env!("CARGO_PKG_VERSION"),
        },
        started: facts.started,
        finished: jiff::Timestamp::now(),
        strict: facts.strict,
        exit_code: facts.exit_code,
        interrupted: facts.interrupted,
        summary: counts(&records),
        rules: rules(&targets, &records),
        targets,
        cases: records,
        plan: facts.plan.clone(),
        source: None,
    }
}

/// Writes a document as pretty JSON (streamed: a merged fleet verdict is large).
pub fn write(path: &Path, doc: &Document) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    serde_json::to_writer_pretty(&mut w, doc).map_err(std::io::Error::other)?;
    w.write_all(b"\n")?;
    w.flush()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::check::Finding;
    use crate::cleanup::Leftover;
    use crate::ledger::Created;
    use crate::report::{Dialects, RatedFinding};
    use crate::target::fingerprint::Fingerprint;
    use crate::transport::{
        AuthMode, Body, Exchange, RequestRecord, ResponseRecord, TransportError,
    };
    use serde_json::json;

    fn exchange(ok: bool) -> Exchange {
        Exchange {
            request: RequestRecord {
                method: "POST".into(),
                url: "http://127.0.0.1:1/json-rpc/12.5".into(),
                auth: AuthMode::Default,
                body: Some(
                    json!({"method": "GetAsyncResult", "params": {"asyncHandle": 3}, "id": 1}),
                ),
            },
            response: if ok {
                Ok(ResponseRecord {
                    status: 200,
                    content_type: Some("application/json".into()),
                    body: Body::Json(json!({"id": 1, "result": {"status": "running"}})),
                    elapsed_ms: 3,
                })
            } else {
                Err(TransportError::Connect("refused".into()))
            },
        }
    }

    pub(crate) fn sample() -> (Vec<TargetRecord>, Vec<CaseRecord>) {
        let target = TargetRecord {
            name: "lab".into(),
            kind: crate::report::TargetKind::Live,
            element: Some("https://10.0.0.1/json-rpc/12.5".into()),
            aiqum: None,
            fingerprint: Fingerprint {
                element_current_version: Some(json!(12.5)),
                element_firmware: Some("12.5.0.897".into()),
                aiqum_version: None,
                label: "12.5.0.897".into(),
            },
            dialect: Dialects {
                element: Some(crate::check::ElementDialect::Current),
                aiqum: None,
            },
            capabilities: Default::default(),
            leftovers: vec![
                Leftover {
                    object: Created::ElementVolume { id: 9 },
                    error: "DeleteVolume: connect: refused".into(),
                },
                Leftover {
                    object: Created::AiqumObject {
                        method: "DELETE".into(),
                        path: "/storage-provider/luns/k".into(),
                    },
                    error: "HTTP 500".into(),
                },
            ],
        };
        let finding = RatedFinding {
            finding: Finding::new("EL-KEEP-TRUE", "handle purged despite keepResult")
                .at("/error/name")
                .values(
                    Some(json!("complete")),
                    Some(json!("xAsyncHandleDoesNotExist")),
                )
                .in_exchange(0),
            level: Level::Must,
            rule_text: Some("Querying a complete handle with keepResult: true keeps it.".into()),
        };
        let base = CaseRecord {
            trial: "lab/element/keep".into(),
            name: "element/keep".into(),
            target: "lab".into(),
            rules: vec!["EL-KEEP-TRUE".into()],
            outcome: Verdict::Fail,
            reason: None,
            findings: vec![finding],
            notes: vec!["E1: unknown handle named xAsyncHandleDoesNotExist".into()],
            transcript: vec![exchange(true), exchange(false)],
            duration_ms: 12,
            element_dialect: Some(crate::check::ElementDialect::Current),
            snapshot: Some(crate::report::SnapshotCheck {
                status: crate::report::SnapshotStatus::Changed,
                path: "snapshots/12.5.0.897/element/keep.snap".into(),
                message: Some("failed to match snapshot".into()),
            }),
        };
        let skipped = CaseRecord {
            trial: "lab/element/scripted".into(),
            name: "element/scripted".into(),
            outcome: Verdict::Skipped,
            reason: Some("needs the mock's scripted jobs".into()),
            findings: vec![],
            transcript: vec![],
            ..base.clone()
        };
        (vec![target], vec![base, skipped])
    }

    #[test]
    fn a_document_validates_against_the_report_schema() {
        let (targets, records) = sample();
        let doc = Document {
            schema: SCHEMA_ID,
            tool: Tool {
                name: "jobconform",
                version: env!("CARGO_PKG_VERSION"),
            },
            started: jiff::Timestamp::now(),
            finished: jiff::Timestamp::now(),
            strict: false,
            exit_code: 1,
            interrupted: false,
            summary: counts(&records),
            rules: vec![RuleOutcome {
                id: "EL-KEEP-TRUE".into(),
                level: Level::Must,
                outcome: rule_on("EL-KEEP-TRUE", &records.iter().collect::<Vec<_>>()),
                targets: vec![],
            }],
            targets,
            cases: records,
            source: Some(Source {
                kind: SourceKind::Proxy,
                name: "http://127.0.0.1:1".into(),
                exchanges: 2,
                transport_faults: 1,
                unparsed: vec!["line 3: not JSON".into()],
            }),
            plan: None,
        };
        assert_eq!(doc.rules[0].outcome, "fail");
        let instance = serde_json::to_value(&doc).expect("serializes");
        let errors =
            crate::contract::validate("report.schema.json", &instance).expect("schema known");
        assert!(errors.is_empty(), "{errors:#?}");
        // And the schema is not vacuous: a wrong verdict is refused.
        let mut bad = instance.clone();
        bad["cases"][0]["outcome"] = json!("passed");
        let refused = crate::contract::validate("report.schema.json", &bad).expect("schema known");
        assert!(!refused.is_empty());
    }
}
