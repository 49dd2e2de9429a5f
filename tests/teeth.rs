//! Registry invariants that give the contract teeth: every rule a server can break has a mock
//! deviation that breaks it, and every deviation names rules that exist and that a server can
//! break. (The deviation matrix test proves each deviation is actually detected.)

use std::collections::BTreeSet;

use jobconform::contract;
use jobconform::mock::deviation;

#[test]
fn every_server_rule_has_a_deviation() {
    let covered: BTreeSet<&str> = deviation::ALL
        .iter()
        .flat_map(|d| d.rules.iter().copied())
        .collect();
    let missing: Vec<&str> = contract::rules()
        .iter()
        .filter(|r| r.server && !covered.contains(r.id.as_str()))
        .map(|r| r.id.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "server rules with no deviation: {missing:?}"
    );
}

#[test]
fn every_deviation_breaks_known_server_rules() {
    for d in deviation::ALL {
        assert!(!d.rules.is_empty(), "{} names no rule", d.name);
        for r in d.rules {
            let rule = contract::rule(r).unwrap_or_else(|| panic!("{}: unknown rule {r}", d.name));
            assert!(
                rule.server,
                "{}: {r} is a client rule, which a server cannot break",
                d.name
            );
        }
    }
}

#[test]
fn deviation_names_are_unique_and_kebab_case() {
    let mut seen = BTreeSet::new();
    for d in deviation::ALL {
        assert!(seen.insert(d.name), "duplicate deviation {}", d.name);
        assert!(
            d.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{} is not kebab-case",
            d.name
        );
    }
}
