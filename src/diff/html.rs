//! The HTML rendering of a [`DiffReport`]: one self-contained page (inline CSS, no script, no
//! external asset) with the conformance matrix (rules x labels, coloured pass/fail/untested cells)
//! at the top and the evidence one click away in `<details>` elements. Pure text; it must not
//! compute anything the report does not already hold.

use std::fmt::Write;

use super::markdown::change_line;
use super::{DiffReport, RuleOutcome};

const CSS: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}\
table.matrix{border-collapse:collapse}\
.matrix th,.matrix td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}\
.matrix thead th{background:#f3f3f3}\
td.pass{background:#d8f5d0}td.fail{background:#f9d0d0}td.untested{background:#eee;color:#777}\
tr.changed th{border-left:4px solid #d08000}\
code{background:#f5f5f5;padding:0 .2em}\
details{margin:.3em 0}summary{cursor:pointer}\
.legend span{display:inline-block;padding:0 .6em;margin-right:.5em}";

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Markdown-ish inline code (`` `x` ``) to `<code>x</code>`, escaping everything.
fn md_inline(s: &str) -> String {
    let mut o = String::new();
    for (i, part) in s.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(o, "<code>{}</code>", escape(part));
        } else {
            o.push_str(&escape(part));
        }
    }
    o
}

impl DiffReport {
    /// The report as a self-contained HTML page; the matrix is `<table id="matrix">`.
    pub fn to_html(&self) -> String {
        let mut o = String::new();
        let title = format!("Conformance diff: {} → {}", self.a, self.b);
        let _ = write!(
            o,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>{t}</title><style>{CSS}</style></head><body>\n<h1>{t}</h1>\n",
            t = escape(&title)
        );
        let _ = writeln!(
            o,
            "<p>Broken {}, fixed {}, coverage changes {}, unchanged rules {}; cases added {}, \
             removed {}, shape changed {}, unchanged {}.</p>",
            self.broken.len(),
            self.fixed.len(),
            self.coverage.len(),
            self.unchanged_rules,
            self.cases_added.len(),
            self.cases_removed.len(),
            self.shape_changes.len(),
            self.unchanged_cases
        );
        o.push_str(
            "<p class=\"legend\"><span class=\"pass\" style=\"background:#d8f5d0\">pass</span>\
             <span style=\"background:#f9d0d0\">fail</span>\
             <span style=\"background:#eee\">untested</span>rows marked on the left changed.</p>\n",
        );
        self.matrix(&mut o);
        self.rule_sections(&mut o);
        self.case_sections(&mut o);
        o.push_str("</body></html>\n");
        o
    }

    fn matrix(&self, o: &mut String) {
        o.push_str("<h2>Conformance matrix</h2>\n<table id=\"matrix\" class=\"matrix\">\n<thead><tr><th>rule</th>");
        for c in &self.columns {
            let _ = write!(o, "<th>{}</th>", escape(&c.label));
        }
        o.push_str("</tr></thead>\n<tbody>\n");
        for rule in &self.rules {
            let changed = self
                .columns
                .windows(2)
                .any(|w| w[0].outcome(rule) != w[1].outcome(rule));
            let _ = write!(
                o,
                "<tr id=\"rule-{id}\"{cls}><th><code>{id}</code></th>",
                id = escape(rule),
                cls = if changed { " class=\"changed\"" } else { "" }
            );
            for c in &self.columns {
                let out = c.outcome(rule);
                let _ = write!(o, "<td class=\"{}\">", out.word());
                match (out, c.evidence.get(rule)) {
                    (RuleOutcome::Fail, Some(ev)) if !ev.is_empty() => {
                        let _ = write!(o, "<details><summary>fail ({})</summary><ul>", ev.len());
                        for e in ev {
                            let _ = write!(o, "<li><code>{}</code></li>", escape(e));
                        }
                        o.push_str("</ul></details>");
                    }
                    _ => o.push_str(out.word()),
                }
                o.push_str("</td>");
            }
            o.push_str("</tr>\n");
        }
        o.push_str("</tbody></table>\n");
    }

    fn rule_sections(&self, o: &mut String) {
        for (title, list) in self.rule_lists() {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(o, "<h2>{title} ({})</h2>\n<ul>", list.len());
            for c in list {
                let _ = writeln!(
                    o,
                    "<li><a href=\"#rule-{id}\"><code>{id}</code></a>: {} → {}</li>",
                    c.from.word(),
                    c.to.word(),
                    id = escape(&c.rule)
                );
            }
            o.push_str("</ul>\n");
        }
    }

    fn case_sections(&self, o: &mut String) {
        for (title, list) in self.case_lists() {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(o, "<h2>{title} ({})</h2>\n<ul>", list.len());
            for c in list {
                let _ = writeln!(o, "<li><code>{}</code></li>", escape(c));
            }
            o.push_str("</ul>\n");
        }
        if !self.status_changes.is_empty() {
            o.push_str("<h2>Status changes</h2>\n<ul>\n");
            for (c, f, t) in &self.status_changes {
                let _ = writeln!(
                    o,
                    "<li><code>{}</code>: {} → {}</li>",
                    escape(c),
                    escape(f),
                    escape(t)
                );
            }
            o.push_str("</ul>\n");
        }
        if !self.shape_changes.is_empty() {
            let _ = writeln!(
                o,
                "<h2>Shape changes ({} cases)</h2>",
                self.shape_changes.len()
            );
            for (case, changes) in &self.shape_changes {
                let _ = write!(
                    o,
                    "<details id=\"case-{c}\" open><summary><code>{c}</code> ({n})</summary><ul>",
                    c = escape(case),
                    n = changes.len()
                );
                for ch in changes {
                    let _ = write!(o, "<li>{}</li>", md_inline(&change_line(ch)));
                }
                o.push_str("</ul></details>\n");
            }
        }
    }
}
