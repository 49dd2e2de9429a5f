//! The contract as one Markdown document, committed as the repository's `CONTRACT.md` and printed
//! by `jobconform rules --format markdown`: the preamble, each section's prose around its rule
//! table (ID, level, evidence, sentence), then the ambiguity register. Everything comes from
//! `rules.json`; a test keeps the committed file equal to this output. Renders only.

use std::fmt::Write as _;

use super::{Evidence, register, rules, sections};

/// The whole contract document.
pub fn render_markdown() -> String {
    let mut out = String::from("# The contract jobconform checks\n\n");
    push_lines(&mut out, super::preamble());
    for section in sections() {
        let _ = writeln!(out, "## {}\n", section.title);
        push_lines(&mut out, &section.intro);
        out.push_str("| ID | Level | Evidence | Rule |\n|---|---|---|---|\n");
        for r in rules().iter().filter(|r| r.section == section.title) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                r.id,
                r.level.as_str(),
                evidence(r.evidence),
                cell(&r.text)
            );
        }
        out.push('\n');
        push_lines(&mut out, &section.outro);
    }
    let n = sections().len() + 1;
    let _ = writeln!(out, "## {n}. Ambiguity register\n");
    out.push_str("| ID | Ambiguity | Decision |\n|---|---|---|\n");
    for e in register() {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            e.id,
            cell(&e.ambiguity),
            cell(&e.decision)
        );
    }
    out
}

/// Lines as a paragraph block followed by a blank line (nothing for no lines).
fn push_lines(out: &mut String, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    for l in lines {
        out.push_str(l);
        out.push('\n');
    }
    out.push('\n');
}

/// A table cell: `|` escaped.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn evidence(e: Evidence) -> &'static str {
    match e {
        Evidence::Doc => "doc",
        Evidence::Sdk => "sdk",
        Evidence::Client => "client",
        Evidence::Inferred => "inferred",
    }
}
