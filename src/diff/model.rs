//! The comparison itself: two snapshot sets (or two rule matrices) in, a [`DiffReport`] out.
//! Pure; rendering lives in `markdown` and `html`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{RuleMatrix, RuleOutcome, SnapshotSet};
use crate::snapshot::Shape;

/// A rule whose outcome differs between A and B.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleChange {
    /// Rule ID.
    pub rule: String,
    /// Outcome in A.
    pub from: RuleOutcome,
    /// Outcome in B.
    pub to: RuleOutcome,
}

/// What kind of shape change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// A request kind answered only in B.
    RequestAdded,
    /// A request kind answered only in A.
    RequestRemoved,
    /// An HTTP status code seen only in B.
    StatusAdded,
    /// An HTTP status code seen only in A.
    StatusRemoved,
    /// A member present only in B.
    MemberAdded,
    /// A member present only in A.
    MemberRemoved,
    /// A member whose JSON types differ.
    TypeChanged,
    /// An enum-like value seen only in B.
    ValueAdded,
    /// An enum-like value seen only in A.
    ValueRemoved,
    /// An error name (`.../error/name`) seen only in B.
    ErrorNameAdded,
    /// An error name (`.../error/name`) seen only in A.
    ErrorNameRemoved,
}

impl ChangeKind {
    /// Words for reports (`member added`).
    pub fn words(self) -> &'static str {
        match self {
            ChangeKind::RequestAdded => "request added",
            ChangeKind::RequestRemoved => "request removed",
            ChangeKind::StatusAdded => "status code added",
            ChangeKind::StatusRemoved => "status code removed",
            ChangeKind::MemberAdded => "member added",
            ChangeKind::MemberRemoved => "member removed",
            ChangeKind::TypeChanged => "type changed",
            ChangeKind::ValueAdded => "value added",
            ChangeKind::ValueRemoved => "value removed",
            ChangeKind::ErrorNameAdded => "error name added",
            ChangeKind::ErrorNameRemoved => "error name removed",
        }
    }
}

/// One change in the shape of a case's responses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShapeChange {
    /// What changed.
    pub kind: ChangeKind,
    /// The request kind (`POST /json-rpc/12.5 GetAsyncResult`).
    pub request: String,
    /// JSON pointer in the response body (`*` for array items); `""` for the whole response.
    pub pointer: String,
    /// The value in A (type, enum value, status code, error name), if any.
    pub from: Option<String>,
    /// The value in B, if any.
    pub to: Option<String>,
}

/// Everything that differs between A and B.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffReport {
    /// A's label.
    pub a: String,
    /// B's label.
    pub b: String,
    /// Every rule seen on either side, sorted.
    pub rules: Vec<String>,
    /// The two matrix columns, A then B.
    #[serde(skip)]
    pub columns: Vec<RuleMatrix>,
    /// Rules failing in B that did not fail in A.
    pub broken: Vec<RuleChange>,
    /// Rules failing in A that pass in B.
    pub fixed: Vec<RuleChange>,
    /// Other outcome changes (tested <-> untested).
    pub coverage: Vec<RuleChange>,
    /// Rules with the same outcome on both sides.
    pub unchanged_rules: usize,
    /// Cases only in B.
    pub cases_added: Vec<String>,
    /// Cases only in A.
    pub cases_removed: Vec<String>,
    /// Cases whose status kind changed (case, A, B).
    pub status_changes: Vec<(String, String, String)>,
    /// Cases whose response shape changed, with the changes.
    pub shape_changes: BTreeMap<String, Vec<ShapeChange>>,
    /// Cases on both sides whose snapshot value is identical.
    pub unchanged_cases: usize,
    /// Cases on both sides whose value differs but not in shape, status or findings.
    pub content_only_changes: Vec<String>,
}

/// Compares two rule matrices (no case or shape sections).
pub fn compare_matrices(a: &RuleMatrix, b: &RuleMatrix) -> DiffReport {
    let rules: BTreeSet<&String> = a.outcomes.keys().chain(b.outcomes.keys()).collect();
    let mut r = DiffReport {
        a: a.label.clone(),
        b: b.label.clone(),
        rules: rules.iter().map(|s| s.to_string()).collect(),
        columns: vec![a.clone(), b.clone()],
        broken: vec![],
        fixed: vec![],
        coverage: vec![],
        unchanged_rules: 0,
        cases_added: vec![],
        cases_removed: vec![],
        status_changes: vec![],
        shape_changes: BTreeMap::new(),
        unchanged_cases: 0,
        content_only_changes: vec![],
    };
    for rule in rules {
        let (from, to) = (a.outcome(rule), b.outcome(rule));
        let ch = RuleChange {
            rule: rule.clone(),
            from,
            to,
        };
        match (from, to) {
            _ if from == to => r.unchanged_rules += 1,
            (_, RuleOutcome::Fail) => r.broken.push(ch),
            (RuleOutcome::Fail, RuleOutcome::Pass) => r.fixed.push(ch),
            _ => r.coverage.push(ch),
        }
    }
    r
}

/// Compares two snapshot sets: rules (from the findings and rule lists recorded in each
/// snapshot), cases added and removed, status and shape changes per case.
pub fn compare(a: &SnapshotSet, b: &SnapshotSet) -> DiffReport {
    let mut r = compare_matrices(&a.rule_matrix(), &b.rule_matrix());
    for name in b.cases.keys().filter(|k| !a.cases.contains_key(*k)) {
        r.cases_added.push(name.clone());
    }
    for (name, ca) in &a.cases {
        let Some(cb) = b.cases.get(name) else {
            r.cases_removed.push(name.clone());
            continue;
        };
        if ca.value == cb.value {
            r.unchanged_cases += 1;
            continue;
        }
        if ca.status != cb.status {
            r.status_changes
                .push((name.clone(), ca.status.clone(), cb.status.clone()));
        }
        let changes = shape_changes(&ca.shape, &cb.shape);
        if !changes.is_empty() {
            r.shape_changes.insert(name.clone(), changes);
        } else if ca.status == cb.status && ca.findings == cb.findings {
            r.content_only_changes.push(name.clone());
        }
    }
    r
}

fn ch(
    kind: ChangeKind,
    req: &str,
    ptr: &str,
    from: Option<String>,
    to: Option<String>,
) -> ShapeChange {
    ShapeChange {
        kind,
        request: req.to_string(),
        pointer: ptr.to_string(),
        from,
        to,
    }
}

/// The shape changes between two cases' per-request shapes.
pub fn shape_changes(a: &BTreeMap<String, Shape>, b: &BTreeMap<String, Shape>) -> Vec<ShapeChange> {
    let mut out = Vec::new();
    let empty = Shape::default();
    let reqs: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for req in reqs {
        let (sa, sb) = match (a.get(req), b.get(req)) {
            (Some(x), None) => {
                out.push(ch(
                    ChangeKind::RequestRemoved,
                    req,
                    "",
                    Some(req.clone()),
                    None,
                ));
                (x, &empty)
            }
            (None, Some(y)) => {
                out.push(ch(
                    ChangeKind::RequestAdded,
                    req,
                    "",
                    None,
                    Some(req.clone()),
                ));
                (&empty, y)
            }
            (Some(x), Some(y)) => (x, y),
            (None, None) => continue,
        };
        for c in sa.status_codes.difference(&sb.status_codes) {
            out.push(ch(
                ChangeKind::StatusRemoved,
                req,
                "",
                Some(c.to_string()),
                None,
            ));
        }
        for c in sb.status_codes.difference(&sa.status_codes) {
            out.push(ch(
                ChangeKind::StatusAdded,
                req,
                "",
                None,
                Some(c.to_string()),
            ));
        }
        let ptrs: BTreeSet<&String> = sa.members.keys().chain(sb.members.keys()).collect();
        for p in ptrs {
            match (sa.members.get(p), sb.members.get(p)) {
                (Some(x), None) => {
                    out.push(ch(ChangeKind::MemberRemoved, req, p, Some(x.clone()), None))
                }
                (None, Some(y)) => {
                    out.push(ch(ChangeKind::MemberAdded, req, p, None, Some(y.clone())))
                }
                (Some(x), Some(y)) if x != y => out.push(ch(
                    ChangeKind::TypeChanged,
                    req,
                    p,
                    Some(x.clone()),
                    Some(y.clone()),
                )),
                _ => {}
            }
        }
        let vptrs: BTreeSet<&String> = sa.values.keys().chain(sb.values.keys()).collect();
        let none = BTreeSet::new();
        for p in vptrs {
            let va = sa.values.get(p).unwrap_or(&none);
            let vb = sb.values.get(p).unwrap_or(&none);
            let (removed, added) = if p.ends_with("/error/name") {
                (ChangeKind::ErrorNameRemoved, ChangeKind::ErrorNameAdded)
            } else {
                (ChangeKind::ValueRemoved, ChangeKind::ValueAdded)
            };
            for v in va.difference(vb) {
                out.push(ch(removed, req, p, Some(v.clone()), None));
            }
            for v in vb.difference(va) {
                out.push(ch(added, req, p, None, Some(v.clone())));
            }
        }
    }
    out
}

impl DiffReport {
    /// The rule lists both renderings show, with their titles, in order.
    pub fn rule_lists(&self) -> [(&'static str, &[RuleChange]); 3] {
        [
            ("Rules broken", &self.broken),
            ("Rules fixed", &self.fixed),
            ("Coverage changes", &self.coverage),
        ]
    }

    /// The case lists both renderings show, with their titles, in order.
    pub fn case_lists(&self) -> [(&'static str, &[String]); 3] {
        [
            ("Cases added", &self.cases_added),
            ("Cases removed", &self.cases_removed),
            ("Cases changed in content only", &self.content_only_changes),
        ]
    }
}
