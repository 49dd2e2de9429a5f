//! The mock shares no judging or encoding code with the harness it is tested by: nothing under
//! `src/mock/` names the harness's `transport`, `poll`, `check` or `case` modules (or the modules
//! built on them), neither through `crate::` nor through a `super::` chain that climbs out of the
//! mock. A bug in a shared encoder or terminal predicate would otherwise be invisible to every
//! test. What both genuinely need comes from `contract` (rule IDs) or the leaf `secret`.

use std::path::{Path, PathBuf};

/// Top-level modules the mock may name through `crate::`.
const ALLOWED: &[&str] = &["mock", "contract", "secret"];

/// Harness modules the mock must never reach, by any path.
const FORBIDDEN: &[&str] = &[
    "transport",
    "poll",
    "check",
    "case",
    "exec",
    "runner",
    "snapshot",
    "report",
    "target",
    "cleanup",
    "diff",
    "cli",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src/mock") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The first path segments named after each `crate::` (a `crate::{a, b::c}` group gives `a`, `b`).
fn crate_roots(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in src.match_indices("crate::") {
        let rest = src[i + "crate::".len()..].trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or("");
            out.extend(inner.split(',').filter_map(|item| {
                let seg = item.trim().split("::").next()?.trim();
                (!seg.is_empty()).then(|| seg.to_string())
            }));
        } else {
            let seg: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push(seg);
        }
    }
    out
}

/// The segment named right after each run of `super::` (`super::super::poll` gives `poll`).
fn after_super(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(i) = rest.find("super::") {
        let mut tail = &rest[i..];
        while let Some(t) = tail.strip_prefix("super::") {
            tail = t.trim_start();
        }
        let seg: String = tail
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        out.push(seg);
        rest = tail;
    }
    out
}

/// Every way `src` reaches outside the mock's allowed dependencies.
fn violations(src: &str) -> Vec<String> {
    let mut out: Vec<String> = crate_roots(src)
        .into_iter()
        .filter(|seg| !ALLOWED.contains(&seg.as_str()))
        .map(|seg| format!("crate::{seg}"))
        .collect();
    out.extend(
        after_super(src)
            .into_iter()
            .filter(|seg| FORBIDDEN.contains(&seg.as_str()))
            .map(|seg| format!("super::…::{seg}")),
    );
    if src.contains("jobconform::") {
        out.push("jobconform::".into());
    }
    out
}

#[test]
fn src_mock_names_nothing_of_the_harness() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/mock");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files.sort();
    assert!(
        files.len() > 20,
        "found only {} files under src/mock",
        files.len()
    );
    let mut found = Vec::new();
    for f in &files {
        let src = std::fs::read_to_string(f).expect("read a mock source file");
        for v in violations(&src) {
            found.push(format!("{}: {v}", f.display()));
        }
    }
    assert!(
        found.is_empty(),
        "src/mock reaches into the harness (it must keep its own encoding and terminal logic; \
         share only contract or a leaf module):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scan_finds_every_form_of_import() {
    let caught = [
        "pub use crate::transport::aiqum::encode;",
        "note.terminal = crate::poll::aiqum_terminal(&body);",
        "use crate::{contract, check::Finding};",
        "use crate::\n    case::Case;",
        "use super::super::super::poll::Policy;",
        "use jobconform::transport::Secret;",
    ];
    for src in caught {
        assert!(!violations(src).is_empty(), "not caught: {src}");
    }
    let allowed = [
        "use crate::mock::script::JobScript;",
        "use crate::secret::Secret;",
        "use crate::{contract, mock::MockConfig};",
        "crate::contract::rule(r)",
        "use super::super::script::{JobScript, Outcome};",
        "use super::jobs::{self, Render};",
    ];
    for src in allowed {
        assert_eq!(violations(src), Vec::<String>::new(), "{src}");
    }
}
