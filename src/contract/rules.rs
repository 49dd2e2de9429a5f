//! The rule registry: `rules.json` (embedded) parsed once, looked up by ID, rendered as a terminal
//! table or as JSON (the Markdown document is `markdown.rs`). Must not judge anything.

use std::fmt::Write as _;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{RegisterEntry, Rule};

const RULES_JSON: &str = include_str!("rules.json");

/// Longest rule text shown by [`render_table`] before it is cut with `…`.
const TEXT_WIDTH: usize = 90;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Registry {
    preamble: Vec<String>,
    sections: Vec<Section>,
    rules: Vec<Rule>,
    register: Vec<RegisterEntry>,
}

/// A section of the contract document: its title (the rules' `section`) and the prose around its
/// rule table, one Markdown line per string.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// `2. Element GetAsyncResult`.
    pub title: String,
    /// Lines before the rule table.
    pub intro: Vec<String>,
    /// Lines after it.
    pub outro: Vec<String>,
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        // The file is compiled in and checked by tests/contract.rs; a parse failure is a build bug.
        serde_json::from_str(RULES_JSON)
            .unwrap_or_else(|e| panic!("src/contract/rules.json is not a valid registry: {e}"))
    })
}

/// Every rule, in CONTRACT.md order.
pub fn rules() -> &'static [Rule] {
    &registry().rules
}

/// The contract document's opening lines (Markdown).
pub fn preamble() -> &'static [String] {
    &registry().preamble
}

/// The sections of the contract, in order.
pub fn sections() -> &'static [Section] {
    &registry().sections
}

/// A rule by ID.
pub fn rule(id: &str) -> Option<&'static Rule> {
    rules().iter().find(|r| r.id == id)
}

/// The ambiguity register (`E*` for Element, `U*` for AIQUM), in CONTRACT.md order.
pub fn register() -> &'static [RegisterEntry] {
    &registry().register
}

/// The registry as JSON: `{"rules": [...], "register": [...]}`.
pub fn to_json() -> Value {
    json!({ "rules": rules(), "register": register() })
}

/// An aligned terminal table: ID, level, API, and the rule's text cut to a readable width.
pub fn render_table() -> String {
    let id_w = rules().iter().map(|r| r.id.len()).max().unwrap_or(2).max(2);
    let mut out = String::new();
    let _ = writeln!(out, "{:<id_w$}  {:<6}  {:<7}  RULE", "ID", "LEVEL", "API");
    for r in rules() {
        let level = r.level.as_str();
        let api = serde_plain(&r.api);
        let text = truncate(&r.text, TEXT_WIDTH);
        let _ = writeln!(out, "{:<id_w$}  {level:<6}  {api:<7}  {text}", r.id);
    }
    let _ = writeln!(
        out,
        "{} rules ({} MUST, {} SHOULD); register: {}",
        rules().len(),
        rules()
            .iter()
            .filter(|r| r.level == super::Level::Must)
            .count(),
        rules()
            .iter()
            .filter(|r| r.level == super::Level::Should)
            .count(),
        register()
            .iter()
            .map(|e| e.id.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    );
    out
}

/// The serde name of a unit enum value (`MUST`, `element`).
fn serde_plain<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

/// `text` cut at a word boundary to at most `width` characters, with `…` when cut.
fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let cut: String = text.chars().take(width.saturating_sub(1)).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > width / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end_matches([',', ';', ':', ' ']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_keeps_short_text_and_cuts_long_text_at_a_word() {
        assert_eq!(truncate("short", 10), "short");
        let t = truncate("one two three four five six", 12);
        assert!(t.ends_with('…'), "{t}");
        assert!(t.chars().count() <= 12, "{t}");
        assert_eq!(t, "one two…");
    }
}
