//! The Markdown rendering of a [`DiffReport`], for a pull request or a ticket. Pure text; it must
//! not compute anything the report does not already hold.

use std::fmt::Write;

use super::{DiffReport, RuleChange, ShapeChange};

/// Inline code that survives any content (backticks inside become `'`).
fn code(s: &str) -> String {
    format!("`{}`", s.replace('`', "'"))
}

fn rule_line(out: &mut String, r: &DiffReport, c: &RuleChange) {
    let _ = write!(
        out,
        "- {}: {} → {}",
        code(&c.rule),
        c.from.word(),
        c.to.word()
    );
    let ev = r
        .columns
        .get(1)
        .and_then(|m| m.evidence.get(&c.rule))
        .filter(|_| c.to == super::RuleOutcome::Fail);
    if let Some(ev) = ev {
        let names: Vec<String> = ev.iter().map(|s| code(s)).collect();
        let _ = write!(out, " (findings in {})", names.join(", "));
    }
    out.push('\n');
}

/// One shape change as a line: `` `GET /x` `/status`: type changed `integer` → `string` ``.
pub fn change_line(c: &ShapeChange) -> String {
    let ptr = if c.pointer.is_empty() {
        String::new()
    } else {
        format!(" {}", code(&c.pointer))
    };
    let vals = match (&c.from, &c.to) {
        (Some(f), Some(t)) => format!(" {} → {}", code(f), code(t)),
        (Some(f), None) => format!(" {}", code(f)),
        (None, Some(t)) => format!(" {}", code(t)),
        (None, None) => String::new(),
    };
    format!("{}{ptr}: {}{vals}", code(&c.request), c.kind.words())
}

impl DiffReport {
    /// The report as Markdown: summary, rules broken and fixed, coverage changes, cases added
    /// and removed, status changes, shape changes per case (with JSON pointers), unchanged counts.
    pub fn to_markdown(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "# Conformance diff: {} → {}\n",
            code(&self.a),
            code(&self.b)
        );
        let fails = |i: usize| {
            self.columns.get(i).map_or(0, |m| {
                m.outcomes
                    .values()
                    .filter(|o| **o == super::RuleOutcome::Fail)
                    .count()
            })
        };
        let _ = writeln!(
            o,
            "Rules failing: {} → {}; broken {}, fixed {}, coverage changes {}, unchanged {}.\n",
            fails(0),
            fails(1),
            self.broken.len(),
            self.fixed.len(),
            self.coverage.len(),
            self.unchanged_rules
        );
        for (title, list) in self.rule_lists() {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(o, "## {title} ({})\n", list.len());
            for c in list {
                rule_line(&mut o, self, c);
            }
            o.push('\n');
        }
        for (title, list) in self.case_lists() {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(o, "## {title} ({})\n", list.len());
            for c in list {
                let _ = writeln!(o, "- {}", code(c));
            }
            o.push('\n');
        }
        if !self.status_changes.is_empty() {
            let _ = writeln!(o, "## Status changes ({})\n", self.status_changes.len());
            for (c, f, t) in &self.status_changes {
                let _ = writeln!(o, "- {}: {f} → {t}", code(c));
            }
            o.push('\n');
        }
        if !self.shape_changes.is_empty() {
            let _ = writeln!(o, "## Shape changes ({} cases)\n", self.shape_changes.len());
            for (case, changes) in &self.shape_changes {
                let _ = writeln!(o, "### {}\n", code(case));
                for c in changes {
                    let _ = writeln!(o, "- {}", change_line(c));
                }
                o.push('\n');
            }
        }
        let _ = writeln!(
            o,
            "## Unchanged\n\n{} rules and {} cases unchanged.",
            self.unchanged_rules, self.unchanged_cases
        );
        o
    }
}
