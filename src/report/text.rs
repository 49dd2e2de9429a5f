//! Text for people: the failure text libtest prints under `---- TRIAL ----` (the case, each
//! finding's rule ID and sentence, the request sent, the first JSON pointer that differs,
//! expected and actual, pretty) and the end-of-run summary. Works on redacted records only.

use std::fmt::Write as _;

use serde_json::Value;

use super::{CaseRecord, RatedFinding, TargetRecord, Verdict};

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

fn indent(s: &str, by: &str) -> String {
    s.lines()
        .map(|l| format!("{by}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn finding_text(out: &mut String, r: &CaseRecord, f: &RatedFinding) {
    let x = &f.finding;
    let _ = writeln!(out, "  {} ({}): {}", x.rule, f.level.as_str(), x.message);
    if let Some(t) = &f.rule_text {
        let _ = writeln!(out, "    rule: {t}");
    }
    if let Some(ex) = x.exchange.and_then(|i| r.transcript.get(i)) {
        let _ = writeln!(out, "    request: {} {}", ex.request.method, ex.request.url);
        if let Some(b) = &ex.request.body {
            let _ = writeln!(out, "{}", indent(&pretty(b), "      "));
        }
        match &ex.response {
            Ok(resp) => {
                let _ = writeln!(out, "    answer: HTTP {}", resp.status);
            }
            Err(e) => {
                let _ = writeln!(out, "    answer: none (failed to {e})");
            }
        }
    }
    if let Some(p) = &x.pointer {
        let shown = if p.is_empty() { "(whole body)" } else { p };
        let _ = writeln!(out, "    at: {shown}");
    }
    if let Some(e) = &x.expected {
        let _ = writeln!(out, "    expected:\n{}", indent(&pretty(e), "      "));
    }
    match (&x.actual, &x.expected) {
        (Some(a), _) => {
            let _ = writeln!(out, "    actual:\n{}", indent(&pretty(a), "      "));
        }
        (None, Some(_)) if x.pointer.is_some() => {
            let _ = writeln!(out, "    actual: nothing at this pointer");
        }
        _ => {}
    }
    // Without an actual value, the answer itself is the evidence (cut to stay readable).
    if x.actual.is_none()
        && let Some(body) = x
            .exchange
            .and_then(|i| r.transcript.get(i))
            .and_then(|ex| ex.json())
    {
        let text = pretty(body);
        let mut lines: Vec<&str> = text.lines().take(ANSWER_LINES + 1).collect();
        let cut = lines.len() > ANSWER_LINES;
        lines.truncate(ANSWER_LINES);
        let _ = writeln!(
            out,
            "    answer body:\n{}",
            indent(&lines.join("\n"), "      ")
        );
        if cut {
            let _ = writeln!(out, "      [...]");
        }
    }
}

/// Most lines of an answer body shown in a failure.
const ANSWER_LINES: usize = 30;

/// The failure text of a record (what libtest prints for a failed trial).
pub fn failure(r: &CaseRecord) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "case {} on target {}", r.name, r.target);
    if let Some(reason) = &r.reason {
        let _ = writeln!(out, "  {reason}");
    }
    if !r.findings.is_empty() {
        let _ = writeln!(out, "{} finding(s):", r.findings.len());
    }
    for f in &r.findings {
        finding_text(&mut out, r, f);
    }
    if let Some(s) = r.snapshot.as_ref().filter(|s| s.failed()) {
        let _ = writeln!(out, "snapshot {} ({}):", s.status.as_str(), s.path);
        if let Some(m) = &s.message {
            let _ = writeln!(out, "{}", indent(m, "  "));
        }
    }
    out.trim_end().to_string()
}

/// Counts of verdicts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Passed.
    pub pass: usize,
    /// Passed with SHOULD warnings.
    pub warn: usize,
    /// Failed.
    pub fail: usize,
    /// Skipped.
    pub skipped: usize,
    /// Inconclusive.
    pub inconclusive: usize,
    /// Harness errors.
    pub error: usize,
}

/// Counts the verdicts of records.
pub fn counts(records: &[CaseRecord]) -> Counts {
    let mut c = Counts::default();
    for r in records {
        match r.outcome {
            Verdict::Pass => c.pass += 1,
            Verdict::Warn => c.warn += 1,
            Verdict::Fail => c.fail += 1,
            Verdict::Skipped => c.skipped += 1,
            Verdict::Inconclusive => c.inconclusive += 1,
            Verdict::Error => c.error += 1,
        }
    }
    c
}

/// The end-of-run summary (for stderr).
pub fn summary(targets: &[TargetRecord], records: &[CaseRecord]) -> String {
    let mut out = String::from("\njobconform summary\n");
    for t in targets {
        let _ = writeln!(
            out,
            "  target {} ({}): firmware {}{}, snapshot label {}",
            t.name,
            t.kind.as_str(),
            t.fingerprint
                .element_firmware
                .as_deref()
                .unwrap_or("unknown"),
            t.fingerprint
                .aiqum_version
                .as_ref()
                .map(|v| format!(", AIQUM {v}"))
                .unwrap_or_default(),
            t.fingerprint.label,
        );
    }
    let warned: Vec<_> = records
        .iter()
        .filter(|r| r.outcome == Verdict::Warn)
        .collect();
    if !warned.is_empty() {
        let _ = writeln!(out, "  warnings (SHOULD rules; fail with --strict):");
        for r in warned {
            let mut seen = std::collections::BTreeSet::new();
            for f in &r.findings {
                if seen.insert((&f.finding.rule, &f.finding.message)) {
                    let _ = writeln!(
                        out,
                        "    {} {}: {}",
                        r.trial, f.finding.rule, f.finding.message
                    );
                }
            }
        }
    }
    for (verdict, title) in [
        (Verdict::Inconclusive, "inconclusive"),
        (Verdict::Error, "harness errors"),
    ] {
        let list: Vec<_> = records.iter().filter(|r| r.outcome == verdict).collect();
        if !list.is_empty() {
            let _ = writeln!(out, "  {title}:");
            for r in list {
                let _ = writeln!(
                    out,
                    "    {}: {}",
                    r.trial,
                    r.reason.as_deref().unwrap_or("")
                );
            }
        }
    }
    for t in targets.iter().filter(|t| t.kind == super::TargetKind::Live) {
        let missing = super::coverage::no_verdict(&t.name, records);
        if !missing.is_empty() {
            let _ = writeln!(
                out,
                "  no verdict on {} for {} server rule(s):",
                t.name,
                missing.len()
            );
            for (rule, why) in missing {
                let _ = writeln!(out, "    {rule}: {why}");
            }
        }
    }
    for t in targets.iter().filter(|t| !t.leftovers.is_empty()) {
        let _ = writeln!(out, "  NOT CLEANED UP on {} (remove by hand):", t.name);
        for l in &t.leftovers {
            let _ = writeln!(out, "    {}: {}", l.object, l.error);
        }
    }
    if targets.len() > 1 {
        for t in targets {
            let mine: Vec<CaseRecord> = records
                .iter()
                .filter(|r| r.target == t.name)
                .cloned()
                .collect();
            let _ = writeln!(out, "  {}: {}", t.name, count_line(&counts(&mine)));
        }
    }
    let _ = writeln!(out, "  {}", count_line(&counts(records)));
    out
}

fn count_line(c: &Counts) -> String {
    format!(
        "{} passed, {} warned, {} failed, {} skipped, {} inconclusive, {} harness errors",
        c.pass, c.warn, c.fail, c.skipped, c.inconclusive, c.error
    )
}
