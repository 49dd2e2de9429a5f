//! JUnit XML (`--junit`): one test suite per target, one test case per trial; failures carry the
//! failure text, skipped and inconclusive trials their reason, SHOULD warnings go to system-out.

use std::path::Path;

use quick_junit::{NonSuccessKind, Report, SerializeError, TestCase, TestCaseStatus, TestSuite};

use super::{CaseRecord, TargetRecord, Verdict, text};

fn case(r: &CaseRecord) -> TestCase {
    let status = match r.outcome {
        Verdict::Pass | Verdict::Warn => TestCaseStatus::success(),
        Verdict::Fail | Verdict::Error => {
            let kind = if r.outcome == Verdict::Fail {
                NonSuccessKind::Failure
            } else {
                NonSuccessKind::Error
            };
            let full = text::failure(r);
            let first = r
                .findings
                .first()
                .map(|f| format!("{}: {}", f.finding.rule, f.finding.message))
                .or_else(|| r.reason.clone())
                .unwrap_or_else(|| "failed".into());
            let mut s = TestCaseStatus::non_success(kind);
            s.set_message(first).set_description(full);
            s
        }
        Verdict::Skipped | Verdict::Inconclusive => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(r.reason.clone().unwrap_or_default());
            s
        }
    };
    let mut tc = TestCase::new(r.name.clone(), status);
    tc.set_classname(r.target.clone())
        .set_time(std::time::Duration::from_millis(r.duration_ms));
    if r.outcome == Verdict::Warn {
        let warnings: Vec<String> = r
            .findings
            .iter()
            .map(|f| format!("warning {}: {}", f.finding.rule, f.finding.message))
            .collect();
        tc.set_system_out(warnings.join("\n"));
    }
    tc
}

/// The JUnit document as a string.
pub fn render(targets: &[TargetRecord], records: &[CaseRecord]) -> Result<String, SerializeError> {
    let mut report = Report::new("jobconform");
    for t in targets {
        let mut suite = TestSuite::new(t.name.clone());
        suite.add_test_cases(records.iter().filter(|r| r.target == t.name).map(case));
        report.add_test_suite(suite);
    }
    report.to_string()
}

/// Writes the JUnit document.
pub fn write(path: &Path, targets: &[TargetRecord], records: &[CaseRecord]) -> std::io::Result<()> {
    let xml = render(targets, records).map_err(std::io::Error::other)?;
    std::fs::write(path, xml)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_carry_the_finding_and_xml_is_escaped() {
        let (targets, mut records) = crate::report::json::tests::sample();
        records[0].findings[0].finding.message = "a <b> & \"c\"".into();
        let xml = render(&targets, &records).expect("renders");
        assert!(xml.starts_with("<?xml"));
        assert!(xml.contains("<testsuite name=\"lab\""));
        assert!(xml.contains("EL-KEEP-TRUE: a &lt;b&gt; &amp;"));
        assert!(xml.contains("<skipped"));
        assert!(!xml.contains("<b>"));
    }
}
