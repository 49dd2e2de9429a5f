//! `rules.json` against the repository's CONTRACT.md: the committed file is exactly
//! `jobconform rules --format markdown`, and its tables carry every rule (ID, order, level,
//! section, text) and the register; metadata consistency; the table and JSON renderings.

use std::collections::BTreeSet;

use jobconform::contract::{self, Evidence, Level, RuleApi};

use crate::CONTRACT_MD;

struct MdRule {
    section: String,
    id: String,
    level: String,
    evidence: String,
    text: String,
}

#[test]
fn contract_md_is_generated_from_rules_json() {
    let rendered = contract::render_markdown();
    if std::env::var_os("JOBCONFORM_BLESS").is_some() {
        std::fs::write(CONTRACT_MD, &rendered).expect("write CONTRACT.md");
    }
    let committed = std::fs::read_to_string(CONTRACT_MD).expect("read CONTRACT.md");
    assert!(
        committed == rendered,
        "CONTRACT.md differs from `jobconform rules --format markdown`; regenerate it with \
         `cargo run -- rules --format markdown > CONTRACT.md` (or JOBCONFORM_BLESS=1 cargo test \
         --test contract)"
    );
}

#[test]
fn every_section_has_its_rules_and_every_rule_a_section() {
    let titles: Vec<&str> = contract::sections()
        .iter()
        .map(|s| s.title.as_str())
        .collect();
    for r in contract::rules() {
        assert!(
            titles.contains(&r.section.as_str()),
            "{}: section {}",
            r.id,
            r.section
        );
    }
    for t in &titles {
        assert!(
            contract::rules().iter().any(|r| r.section == *t),
            "{t} has no rule"
        );
    }
    assert!(!contract::preamble().is_empty());
}

/// The rule rows and register rows of CONTRACT.md, in order.
fn contract_md() -> (Vec<MdRule>, Vec<[String; 3]>) {
    let md = std::fs::read_to_string(CONTRACT_MD).expect("read CONTRACT.md");
    let (mut rules, mut register) = (Vec::new(), Vec::new());
    let mut section = String::new();
    for line in md.lines() {
        if let Some(s) = line.strip_prefix("## ") {
            section = s.to_owned();
            continue;
        }
        if !line.starts_with("| ") || line.starts_with("| ID ") {
            continue;
        }
        let cells: Vec<String> = line
            .trim()
            .trim_matches('|')
            .split(" | ")
            .map(|c| c.trim().replace("\\|", "|"))
            .collect();
        if section.ends_with("Ambiguity register") {
            assert_eq!(cells.len(), 3, "unexpected register row: {line}");
            register.push([cells[0].clone(), cells[1].clone(), cells[2].clone()]);
        } else {
            assert_eq!(cells.len(), 4, "unexpected rule row: {line}");
            rules.push(MdRule {
                section: section.clone(),
                id: cells[0].clone(),
                level: cells[1].clone(),
                evidence: cells[2].clone(),
                text: cells[3].clone(),
            });
        }
    }
    (rules, register)
}

#[test]
fn rules_json_equals_contract_md_in_ids_levels_sections_and_text() {
    let (md, _) = contract_md();
    assert!(md.len() > 50, "parsed only {} rules", md.len());
    let ours: Vec<_> = contract::rules().iter().map(|r| r.id.as_str()).collect();
    let theirs: Vec<_> = md.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ours, theirs,
        "rule IDs or their order differ from CONTRACT.md"
    );
    for (r, m) in contract::rules().iter().zip(&md) {
        let level = match r.level {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
        };
        assert_eq!(level, m.level, "{}: level", r.id);
        assert_eq!(r.section, m.section, "{}: section", r.id);
        let evidence = serde_json::to_value(r.evidence).expect("evidence serializes");
        assert_eq!(evidence, m.evidence.as_str(), "{}: evidence", r.id);
        assert_eq!(r.text, m.text, "{}: text", r.id);
    }
}

#[test]
fn register_equals_contract_md() {
    let (_, md) = contract_md();
    let ours: Vec<[String; 3]> = contract::register()
        .iter()
        .map(|e| [e.id.clone(), e.ambiguity.clone(), e.decision.clone()])
        .collect();
    assert_eq!(ours, md);
}

#[test]
fn rule_metadata_is_consistent() {
    let register: BTreeSet<&str> = contract::register().iter().map(|e| e.id.as_str()).collect();
    let mut ids = BTreeSet::new();
    let mut used = BTreeSet::new();
    for r in contract::rules() {
        assert!(ids.insert(r.id.as_str()), "duplicate {}", r.id);
        let (prefix, api) = r.id.split_once('-').expect("prefix");
        let want = match prefix {
            "EL" => RuleApi::Element,
            "UM" => RuleApi::Aiqum,
            "CL" => RuleApi::Client,
            other => panic!("{}: prefix {other}", r.id),
        };
        assert!(!api.is_empty());
        assert_eq!(r.api, want, "{}: api", r.id);
        assert_eq!(r.server, want != RuleApi::Client, "{}: server", r.id);
        let section_api = match r.section.as_bytes()[0] {
            b'1'..=b'3' => RuleApi::Element,
            b'4' => RuleApi::Aiqum,
            _ => RuleApi::Client,
        };
        assert_eq!(r.api, section_api, "{}: section {}", r.id, r.section);
        for e in &r.register {
            assert!(
                register.contains(e.as_str()),
                "{}: unknown register {e}",
                r.id
            );
            used.insert(e.as_str());
        }
        // Server MUST rules come from the vendor docs (CONTRACT.md's definition of MUST).
        if r.server && r.level == Level::Must {
            assert_eq!(r.evidence, Evidence::Doc, "{}", r.id);
        }
    }
    assert_eq!(used, register, "every register entry applies to some rule");
    assert_eq!(
        contract::rule("EL-GAR-UNKNOWN").expect("rule").register,
        ["E1"]
    );
    assert!(contract::rule("EL-NOPE").is_none());
}

#[test]
fn table_and_json_cover_every_rule() {
    let table = contract::render_table();
    let lines: Vec<&str> = table.lines().collect();
    // Header, one line per rule, summary.
    assert_eq!(lines.len(), contract::rules().len() + 2, "{table}");
    for (line, r) in lines[1..].iter().zip(contract::rules()) {
        assert!(line.starts_with(&r.id), "{line}");
        assert!(line.chars().count() <= 130, "line too wide: {line}");
    }
    // Columns are aligned: the level column starts at the same offset on every rule line.
    let col = lines[1].find("MUST").expect("level column");
    for line in &lines[1..=contract::rules().len()] {
        let at = line
            .find("MUST")
            .or_else(|| line.find("SHOULD"))
            .expect("level");
        assert_eq!(at, col, "{line}");
    }
    let j = contract::to_json();
    assert_eq!(
        j["rules"].as_array().expect("rules").len(),
        contract::rules().len()
    );
    assert_eq!(
        j["register"].as_array().expect("register").len(),
        contract::register().len()
    );
    assert_eq!(j["rules"][0]["level"], "MUST");
    assert_eq!(j["rules"][0]["evidence"], "doc");
}
