//! Snapshots are reproducible and guarded, through the `jobconform` binary against fresh embedded
//! mocks: two runs write byte-identical snapshot trees (default concurrency, time scale 10; concurrent
//! groups, repeated polls and other cases' jobs all race), no credential reaches them, and a mock
//! in another dialect checked against the committed `mock` label fails naming the member.

#![expect(clippy::unwrap_used, reason = "a test stops at the first surprise")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_jobconform");

fn jobconform(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CI")
        .env_remove("INSTA_UPDATE")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn texts(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Every file under `dir`, by path relative to it.
fn tree(dir: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_path_buf();
                out.insert(rel, std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn committed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots")
}

fn copy_tree(from: &Path, to: &Path) {
    for (rel, text) in tree(from) {
        let p = to.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// The mock's time scale for these runs, as for `cargo test --test conformance`: a debug build
/// running 16 cases at once on a loaded 2-core machine can overrun a job's 20 ms queued phase at
/// the default scale of 50, and a snapshot records which states a job was seen in.
const SCALE: &str = "10";

fn update_into(dir: &Path, extra: &[&str]) {
    let mut args = vec![
        "run",
        "--update",
        "--mock-time-scale",
        SCALE,
        "--snapshot-dir",
        dir.to_str().unwrap(),
        "-q",
    ];
    args.extend_from_slice(extra);
    let o = jobconform(&args);
    assert_eq!(o.status.code(), Some(0), "{}", texts(&o));
}

#[test]
fn two_runs_on_fresh_mocks_write_identical_snapshots() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    update_into(a.path(), &[]);
    update_into(b.path(), &[]);
    let (ta, tb) = (tree(a.path()), tree(b.path()));
    assert!(
        ta.keys().any(|p| p.starts_with("mock")),
        "the embedded mock's label is `mock`: {:?}",
        ta.keys().next()
    );
    assert!(ta.len() > 100, "only {} snapshots were written", ta.len());
    assert_eq!(
        ta.keys().collect::<Vec<_>>(),
        tb.keys().collect::<Vec<_>>(),
        "the same cases are snapshotted"
    );
    for (p, text) in &ta {
        let other = &tb[p];
        if text != other {
            let diff = similar::TextDiff::from_lines(text.as_str(), other.as_str())
                .unified_diff()
                .context_radius(2)
                .to_string();
            panic!("{} differs between two runs:\n{diff}", p.display());
        }
    }
    // The runs equal the committed references (what `cargo test --test conformance` checks).
    let refs = tree(&committed().join("mock"));
    for (p, text) in &ta {
        let rel = p.strip_prefix("mock").unwrap();
        assert_eq!(
            refs.get(rel),
            Some(text),
            "{} differs from snapshots/mock (run `jobconform run --update`)",
            rel.display()
        );
    }
    // No credential: the mock's password only ever appears inside the control API's path.
    let password = jobconform::mock::DEFAULT_PASSWORD;
    for (p, text) in &ta {
        let scrubbed = text.replace("/_jobconform/", "/").replace("\"cases/", "\"");
        let leaked = scrubbed
            .lines()
            .any(|l| l.contains(&format!("\"{password}\"")) || l.contains("Basic "));
        assert!(!leaked, "a credential in {}", p.display());
    }
}

#[test]
fn another_dialect_checked_against_the_mock_label_fails_naming_the_member() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&committed(), dir.path());
    let o = jobconform(&[
        "run",
        "--snapshots",
        "check",
        "--snapshot-dir",
        dir.path().to_str().unwrap(),
        "--label",
        "mock",
        "--mock-element-dialect",
        "doc-literal",
        "element/gar-unknown/",
    ]);
    let out = texts(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("snapshot changed"), "{out}");
    assert!(
        out.contains("first difference at \"/exchanges/"),
        "the mismatch names the member's JSON pointer:\n{out}"
    );
    assert!(
        out.contains("+") && out.contains("xDBNoSuchPath"),
        "the diff shows the renamed error:\n{out}"
    );
    // The committed tree is untouched; the new values wait next to the copies.
    let pending: Vec<_> = tree(dir.path())
        .into_keys()
        .filter(|p| p.to_string_lossy().ends_with(".snap.new"))
        .collect();
    assert!(!pending.is_empty(), "a .snap.new is written for review");
}

#[test]
fn diff_between_the_committed_labels_names_the_renamed_error() {
    let dir = tempfile::tempdir().unwrap();
    let (md, html) = (dir.path().join("d.md"), dir.path().join("d.html"));
    let o = jobconform(&[
        "diff",
        "mock",
        "mock-doc-literal",
        "--root",
        committed().to_str().unwrap(),
        "--markdown",
        md.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", texts(&o));
    let md = std::fs::read_to_string(md).unwrap();
    assert!(
        md.contains("# Conformance diff: `mock` → `mock-doc-literal`"),
        "{md}"
    );
    let section = md
        .split("### `element/gar-unknown/never-issued`")
        .nth(1)
        .unwrap_or_else(|| panic!("the case is listed:\n{md}"));
    let section = section.split("###").next().unwrap();
    assert!(
        section.contains("`/error/name`: error name removed `xAsyncHandleDoesNotExist`")
            && section.contains("`/error/name`: error name added `xDBNoSuchPath`"),
        "{section}"
    );
    let html = std::fs::read_to_string(html).unwrap();
    assert!(html.contains("xDBNoSuchPath") && html.contains("</html>"));
    let o = jobconform(&["diff", "mock", "no-such-label"]);
    assert_eq!(o.status.code(), Some(2), "{}", texts(&o));
    assert!(texts(&o).contains("no-such-label"));
}
