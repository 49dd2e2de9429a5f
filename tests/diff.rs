//! `diff` between two snapshot sets written to a temporary directory through the snapshot
//! pipeline (hand-built outcomes -> `snapshot_value` -> `write_snapshot`): one set renames an error
//! and breaks a rule. Markdown and HTML are checked as text; the HTML is also rendered by headless
//! Chromium when `/usr/bin/chromium` exists (skipped with a message otherwise).

#![expect(clippy::unwrap_used, reason = "a test stops at the first surprise")]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use jobconform::check::Finding;
use jobconform::diff::{
    self, ChangeKind, RuleMatrix, RuleOutcome, RuleVerdicts, Side, SnapshotSet, compare,
};
use jobconform::exec::{CaseOutcome, Status};
use jobconform::snapshot::{Context, snapshot_file, snapshot_value, write_snapshot};
use jobconform::transport::{AuthMode, Body, Exchange, RequestRecord, ResponseRecord};
use serde_json::{Value, json};

fn rpc(method: &str, params: Value, resp: Value) -> Exchange {
    Exchange {
        request: RequestRecord {
            method: "POST".into(),
            url: "https://127.0.0.1:4443/json-rpc/12.5".into(),
            auth: AuthMode::Default,
            body: Some(json!({"method": method, "params": params, "id": 1})),
        },
        response: Ok(ResponseRecord {
            status: 200,
            content_type: Some("application/json".into()),
            body: Body::Json(resp),
            elapsed_ms: 1,
        }),
    }
}

fn case(
    rules: &[&str],
    findings: &[&str],
    transcript: Vec<Exchange>,
) -> (Vec<String>, CaseOutcome) {
    let outcome = CaseOutcome {
        status: Status::Ran,
        findings: findings
            .iter()
            .map(|r| Finding::new(*r, "broken"))
            .collect(),
        transcript,
        notes: vec![],
        duration: Duration::from_millis(5),
        observed: Vec::new(),
        concurrent: Vec::new(),
        shared_setup: Vec::new(),
        expected: Vec::new(),
        element_dialect: None,
    };
    (rules.iter().map(|s| s.to_string()).collect(), outcome)
}

fn unknown_handle(name: &str) -> Exchange {
    rpc(
        "GetAsyncResult",
        json!({"asyncHandle": 424242}),
        json!({"id": 1, "error": {"code": 500, "name": name, "message": "no such handle"}}),
    )
}

fn keep_default() -> Vec<Exchange> {
    let done = json!({"id": 1, "result": {"status": "complete", "resultType": "Clone", "result": {"cloneID": 3}}});
    vec![
        rpc("GetAsyncResult", json!({"asyncHandle": 7}), done.clone()),
        rpc("GetAsyncResult", json!({"asyncHandle": 7}), done),
    ]
}

fn write_set(root: &Path, label: &str, cases: Vec<(&str, (Vec<String>, CaseOutcome))>) {
    for (name, (rules, outcome)) in cases {
        let ctx = Context {
            rules,
            ..Context::default()
        };
        let v = snapshot_value(name, &outcome, &ctx);
        write_snapshot(&snapshot_file(root, label, name), label, name, &v).unwrap();
    }
}

/// `mock`: everything conforms except UM-JOB-STATUS; `mock-doc-literal`: the unknown-handle error
/// is renamed (shape change, still conformant), EL-KEEP-DEFAULT breaks, UM-JOB-STATUS is fixed.
fn two_sets(root: &Path) {
    let job = |status: &str| {
        vec![Exchange {
            request: RequestRecord {
                method: "GET".into(),
                url: "https://127.0.0.1:4443/api/management-server/jobs/ab:-1:2:-3".into(),
                auth: AuthMode::Default,
                body: None,
            },
            response: Ok(ResponseRecord {
                status: 200,
                content_type: Some("application/json".into()),
                body: Body::Json(
                    json!({"key": "ab:-1:2:-3", "state": "completed", "status": status}),
                ),
                elapsed_ms: 1,
            }),
        }]
    };
    write_set(
        root,
        "mock",
        vec![
            (
                "element/gar/unknown-handle",
                case(
                    &["EL-GAR-UNKNOWN"],
                    &[],
                    vec![unknown_handle("xAsyncHandleDoesNotExist")],
                ),
            ),
            (
                "element/keep/default",
                case(&["EL-KEEP-DEFAULT"], &[], keep_default()),
            ),
            (
                "aiqum/job/status",
                case(&["UM-JOB-STATUS"], &["UM-JOB-STATUS"], job("FINE")),
            ),
            (
                "aiqum/job/same",
                case(&["UM-JOB-SHAPE"], &[], job("NORMAL")),
            ),
            ("element/only-in-a", case(&["EL-RPC-AUTH"], &[], vec![])),
        ],
    );
    write_set(
        root,
        "mock-doc-literal",
        vec![
            (
                "element/gar/unknown-handle",
                case(
                    &["EL-GAR-UNKNOWN"],
                    &[],
                    vec![unknown_handle("xDBNoSuchPath")],
                ),
            ),
            (
                "element/keep/default",
                case(&["EL-KEEP-DEFAULT"], &["EL-KEEP-DEFAULT"], keep_default()),
            ),
            (
                "aiqum/job/status",
                case(&["UM-JOB-STATUS"], &[], job("NORMAL")),
            ),
            (
                "aiqum/job/same",
                case(&["UM-JOB-SHAPE"], &[], job("NORMAL")),
            ),
            ("element/only-in-b", case(&["EL-VER-GETAPI"], &[], vec![])),
        ],
    );
    // a pending file from `cargo insta review` is not part of a set
    std::fs::write(root.join("mock/element/keep/default.snap.new"), "garbage").unwrap();
}

fn report(root: &Path) -> diff::DiffReport {
    let a = SnapshotSet::load(root, "mock").unwrap();
    let b = SnapshotSet::load(root, "mock-doc-literal").unwrap();
    assert_eq!(a.cases.len(), 5);
    compare(&a, &b)
}

#[test]
fn report_lists_broken_fixed_and_shape_changes() {
    let dir = tempfile::tempdir().unwrap();
    two_sets(dir.path());
    let r = report(dir.path());
    let broken: Vec<&str> = r.broken.iter().map(|c| c.rule.as_str()).collect();
    let fixed: Vec<&str> = r.fixed.iter().map(|c| c.rule.as_str()).collect();
    assert_eq!(broken, ["EL-KEEP-DEFAULT"]);
    assert_eq!(fixed, ["UM-JOB-STATUS"]);
    assert_eq!(r.cases_added, ["element/only-in-b"]);
    assert_eq!(r.cases_removed, ["element/only-in-a"]);
    assert_eq!(r.unchanged_cases, 1);
    // EL-GAR-UNKNOWN and UM-JOB-SHAPE unchanged (pass), EL-RPC-AUTH and EL-VER-GETAPI change coverage
    assert_eq!(r.unchanged_rules, 2);
    assert_eq!(r.coverage.len(), 2);
    let changes = &r.shape_changes["element/gar/unknown-handle"];
    assert!(
        changes
            .iter()
            .any(|c| c.kind == ChangeKind::ErrorNameRemoved
                && c.pointer == "/error/name"
                && c.from.as_deref() == Some("xAsyncHandleDoesNotExist"))
    );
    assert!(
        changes
            .iter()
            .any(|c| c.kind == ChangeKind::ErrorNameAdded
                && c.to.as_deref() == Some("xDBNoSuchPath"))
    );
    assert_eq!(changes.len(), 2, "{changes:?}");
    let status = &r.shape_changes["aiqum/job/status"];
    assert!(
        status
            .iter()
            .any(|c| c.pointer == "/status" && c.to.as_deref() == Some("NORMAL"))
    );
    // a case whose findings changed but whose shape did not is not a shape change
    assert!(!r.shape_changes.contains_key("element/keep/default"));

    let md = r.to_markdown();
    assert!(
        md.contains("# Conformance diff: `mock` → `mock-doc-literal`"),
        "{md}"
    );
    assert!(md.contains("## Rules broken (1)\n\n- `EL-KEEP-DEFAULT`: pass → fail (findings in `element/keep/default`)"), "{md}");
    assert!(
        md.contains("## Rules fixed (1)\n\n- `UM-JOB-STATUS`: fail → pass"),
        "{md}"
    );
    assert!(md.contains("### `element/gar/unknown-handle`"), "{md}");
    assert!(md.contains("- `POST /json-rpc/12.5 GetAsyncResult` `/error/name`: error name removed `xAsyncHandleDoesNotExist`"), "{md}");
    assert!(md.contains("error name added `xDBNoSuchPath`"), "{md}");
    assert!(
        md.contains("## Cases added (1)\n\n- `element/only-in-b`"),
        "{md}"
    );
    assert!(md.contains("2 rules and 1 cases unchanged."), "{md}");
}

#[test]
fn html_is_self_contained_with_the_matrix() {
    let dir = tempfile::tempdir().unwrap();
    two_sets(dir.path());
    let r = report(dir.path());
    let html = r.to_html();
    // for looking at the page by hand: DIFF_OUT=/tmp/x cargo test --test diff
    if let Some(out) = std::env::var_os("DIFF_OUT") {
        std::fs::write(Path::new(&out).join("diff.html"), &html).unwrap();
        std::fs::write(Path::new(&out).join("diff.md"), r.to_markdown()).unwrap();
    }
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<table id=\"matrix\" class=\"matrix\">"));
    assert!(html.contains("<th>mock</th><th>mock-doc-literal</th>"));
    let row = html
        .lines()
        .find(|l| l.contains("<tr id=\"rule-EL-KEEP-DEFAULT\""))
        .expect("row for the broken rule");
    assert!(row.contains("class=\"changed\""), "{row}");
    assert!(row.contains("<td class=\"pass\">pass</td><td class=\"fail\"><details><summary>fail (1)</summary><ul><li><code>element/keep/default</code></li></ul></details></td>"), "{row}");
    let row = html
        .lines()
        .find(|l| l.contains("rule-EL-VER-GETAPI"))
        .unwrap();
    assert!(
        row.contains("<td class=\"untested\">untested</td><td class=\"pass\">pass</td>"),
        "{row}"
    );
    for external in ["<script", "<link", "src=", "http://", "https://", "@import"] {
        assert!(!html.contains(external), "{external} in page");
    }
    assert!(html.contains("<details id=\"case-element/gar/unknown-handle\" open>"));
}

#[test]
fn loading_a_missing_label_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let err = SnapshotSet::load(dir.path(), "nope").unwrap_err();
    assert!(
        err.to_string().starts_with("find snapshot label \"nope\""),
        "{err}"
    );
}

struct Verdict(BTreeMap<String, BTreeMap<String, RuleOutcome>>);

impl RuleVerdicts for Verdict {
    fn label(&self) -> String {
        "verdict.json".into()
    }
    fn outcomes(&self) -> BTreeMap<String, BTreeMap<String, RuleOutcome>> {
        self.0.clone()
    }
}

#[test]
fn a_verdict_compares_with_a_snapshot_set_on_rules() {
    let dir = tempfile::tempdir().unwrap();
    two_sets(dir.path());
    let target = |o: RuleOutcome| BTreeMap::from([("EL-KEEP-DEFAULT".to_string(), o)]);
    let v = Verdict(BTreeMap::from([
        ("mock".to_string(), target(RuleOutcome::Pass)),
        ("cluster-a".to_string(), target(RuleOutcome::Fail)),
    ]));
    let m = RuleMatrix::from_verdicts(&v);
    assert_eq!(m.outcome("EL-KEEP-DEFAULT"), RuleOutcome::Fail);
    assert_eq!(m.evidence["EL-KEEP-DEFAULT"], ["cluster-a"]);
    let b = SnapshotSet::load(dir.path(), "mock").unwrap();
    let r = diff::compare_sides(&Side::Verdicts(m), &Side::Snapshots(b));
    assert_eq!(r.fixed.len(), 1);
    assert!(r.shape_changes.is_empty());
}

#[test]
fn command_line_sides_are_labels_or_verdict_files() {
    let dir = tempfile::tempdir().unwrap();
    two_sets(dir.path());
    let file = dir.path().join("verdict.json");
    std::fs::write(&file, r#"{"EL-KEEP-DEFAULT": "fail"}"#).unwrap();
    let read = |p: &Path| -> Result<RuleMatrix, diff::DiffError> {
        let text = std::fs::read_to_string(p).unwrap();
        let rules: BTreeMap<String, String> = serde_json::from_str(&text).unwrap();
        let outcomes = rules
            .into_iter()
            .map(|(r, o)| {
                (
                    r,
                    if o == "fail" {
                        RuleOutcome::Fail
                    } else {
                        RuleOutcome::Pass
                    },
                )
            })
            .collect();
        Ok(RuleMatrix {
            label: "verdict.json".into(),
            outcomes,
            evidence: BTreeMap::new(),
        })
    };
    let a = diff::load_side(dir.path(), "mock", read).unwrap();
    assert!(matches!(&a, Side::Snapshots(s) if s.cases.len() == 5));
    let b = diff::load_side(dir.path(), file.to_str().unwrap(), read).unwrap();
    let r = diff::compare_sides(&a, &b);
    assert_eq!(r.broken.len(), 1);
    assert_eq!(r.broken[0].rule, "EL-KEEP-DEFAULT");
    assert!(diff::load_side(dir.path(), "absent", read).is_err());
}

/// Renders the page in headless Chromium and checks the matrix is in the DOM.
#[test]
fn html_renders_in_headless_chromium() {
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        println!("skipped: /usr/bin/chromium is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    two_sets(dir.path());
    let page = dir.path().join("diff.html");
    std::fs::write(&page, report(dir.path()).to_html()).unwrap();
    let profile = dir.path().join("profile");
    let out = dir.path().join("dom.html");
    let mut child = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "chromium exited with {status}");
    let dom = std::fs::read_to_string(&out).unwrap();
    assert!(
        dom.contains("<table id=\"matrix\" class=\"matrix\">"),
        "{dom}"
    );
    assert!(
        dom.contains("<tr id=\"rule-EL-KEEP-DEFAULT\" class=\"changed\">"),
        "{dom}"
    );
    assert!(dom.contains("<summary>fail (1)</summary>"), "{dom}");
}

#[test]
fn an_expected_failure_still_fails_its_rule_in_the_matrix() {
    let v = json!({"status": {"kind": "ran"}, "rules": ["UM-LIST-DEFAULT", "UM-LIST-SHAPE"],
        "findings": [], "expected_findings": ["UM-LIST-DEFAULT"]});
    let set = SnapshotSet::from_values("live", [("aiqum/list/default".to_string(), v)]);
    let m = set.rule_matrix();
    assert_eq!(m.outcome("UM-LIST-DEFAULT"), RuleOutcome::Fail);
    assert_eq!(m.outcome("UM-LIST-SHAPE"), RuleOutcome::Pass);
    assert_eq!(m.evidence["UM-LIST-DEFAULT"], ["aiqum/list/default"]);
}
