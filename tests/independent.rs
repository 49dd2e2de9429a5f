//! jobconform live against a second, independent server (`tests/independent/server.py`, Python
//! standard library only, written from NetApp's pages rather than from `src/mock/`): with
//! mutations allowed, three readings of the pages at once (the server's defaults, and the other
//! readings of the points the pages leave open: `--variant`), and no MUST or SHOULD finding on
//! any, well within the run's deadline. A second test serves values nothing can read (a
//! GetAsyncResult status `completed`, a job state `success`) and checks that the harness says so
//! at once instead of polling to its deadline. Loopback only; skipped with a note when
//! `python3` is missing.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_jobconform");
const PASSWORD: &str = "independent-Server-pw-3";
/// The run's polling deadline (profile `deadline_s`): every poll must end well before it.
const DEADLINE_S: u64 = 60;

/// Every reading the server can serve besides its default (all conformant).
const OTHER_READING: &[&str] = &[
    "millis",
    "numbers",
    "upper",
    "queued",
    "nolinks",
    "unused-in-result",
    "busy",
    "utc-offset",
    "charset",
];

/// Readings that exclude the ones above (work done at once; hrefs and times in another form).
const THIRD_READING: &[&str] = &["instant", "abs-links", "local-offset"];

fn server_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/server.py")
}

fn python_available() -> bool {
    Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The server process; killed on drop.
struct Server {
    child: Child,
    port: u16,
    svm_key: String,
}

impl Server {
    fn start(variants: &[&str]) -> Server {
        let mut cmd = Command::new("python3");
        cmd.arg(server_script())
            .args(["--port", "0", "--fast", "--password-env", "JC_INDEP_PW"])
            .env("JC_INDEP_PW", PASSWORD)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for v in variants {
            cmd.args(["--variant", v]);
        }
        let mut child = cmd.spawn().expect("spawn tests/independent/server.py");
        let stdout = child.stdout.take().expect("the server's stdout");
        let (mut port, mut svm_key) = (None, None);
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("read the server's stdout");
            if let Some(k) = line.strip_prefix("SVM_KEY ") {
                svm_key = Some(k.to_string());
            }
            if let Some(p) = line.strip_prefix("PORT ") {
                port = Some(p.parse().expect("a port number"));
                break;
            }
        }
        let (Some(port), Some(svm_key)) = (port, svm_key) else {
            let _ = child.kill();
            panic!("the server ended before printing its port and SVM key");
        };
        Server {
            child,
            port,
            svm_key,
        }
    }

    /// This server as a profile target: mutations allowed, the LUN call and its cleanup.
    fn profile_target(&self, name: &str) -> String {
        let base = format!("http://127.0.0.1:{}", self.port);
        format!(
            r#"
[targets.{name}]
element = "{base}/json-rpc/12.5"
aiqum = "{base}/api"
user = "admin"
password_env = "JC_INDEP_PW"
deadline_s = {DEADLINE_S}
min_interval_ms = 100
max_interval_ms = 1000
allow_mutations = true

[targets.{name}.aiqum_call]
method = "POST"
path = "/storage-provider/luns"
body = {{ name = "jc-scratch", space = {{ size = 1073741824 }}, svm = {{ key = "{svm}" }} }}
[targets.{name}.aiqum_call.cleanup]
method = "DELETE"
path = "/storage-provider/luns/${{result:lunKey}}"
"#,
            svm = self.svm_key
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Run {
    code: Option<i32>,
    report: Value,
    took: Duration,
    stdout: String,
}

/// Runs the whole suite live against `servers` (one profile target each), bounded in time.
fn run_live(servers: &[(&str, &Server)]) -> Run {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let profile = dir.path().join("independent.toml");
    let text: String = servers
        .iter()
        .map(|(name, s)| s.profile_target(name))
        .collect();
    std::fs::write(&profile, text).expect("write the profile");
    let report = dir.path().join("report.json");
    let started = Instant::now();
    let mut child = Command::new(BIN)
        .arg("run")
        .arg("--profile")
        .arg(&profile)
        .arg("--report-json")
        .arg(&report)
        .arg("--snapshot-dir")
        .arg(dir.path().join("snapshots"))
        .current_dir(dir.path())
        .env("JC_INDEP_PW", PASSWORD)
        .env_remove("CI")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn jobconform");
    let limit = Duration::from_secs(DEADLINE_S + 60);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for jobconform") {
            break s;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("jobconform still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = started.elapsed();
    let out = child.wait_with_output().expect("jobconform's output");
    let stdout =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let report = std::fs::read_to_string(&report)
        .unwrap_or_else(|e| panic!("no report ({e}); output:\n{stdout}"));
    Run {
        code: status.code(),
        report: serde_json::from_str(&report).expect("the report is JSON"),
        took,
        stdout,
    }
}

/// Every finding of the run as `target/case RULE (LEVEL): message`.
fn findings(report: &Value) -> Vec<String> {
    let level = |rule: &str| {
        report["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["id"] == rule)
            .and_then(|r| r["level"].as_str())
            .unwrap_or("?")
            .to_string()
    };
    let mut out = Vec::new();
    for case in report["cases"].as_array().into_iter().flatten() {
        for f in case["findings"].as_array().into_iter().flatten() {
            let rule = f["rule"].as_str().unwrap_or("?");
            out.push(format!(
                "{} {rule} ({}): {}",
                case["trial"].as_str().unwrap_or("?"),
                level(rule),
                f["message"].as_str().unwrap_or("")
            ));
        }
    }
    out
}

fn outcomes(report: &Value, outcome: &str) -> Vec<String> {
    report["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["outcome"] == outcome)
        .map(|c| format!("{}: {}", c["trial"], c["reason"]))
        .collect()
}

#[test]
fn an_independent_server_is_conformant_in_every_reading() {
    if !python_available() {
        eprintln!("note: python3 is missing; the independent-server test is skipped");
        return;
    }
    let default = Server::start(&[]);
    let other = Server::start(OTHER_READING);
    let third = Server::start(THIRD_READING);
    let run = run_live(&[
        ("independent", &default),
        ("other_reading", &other),
        ("third_reading", &third),
    ]);
    let found = findings(&run.report);
    assert!(
        found.is_empty(),
        "findings against the independent server:\n{}\n\n{}",
        found.join("\n"),
        run.stdout
    );
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    let summary = &run.report["summary"];
    assert_eq!(summary["fail"], 0, "{summary}");
    assert_eq!(summary["warn"], 0, "{summary}");
    assert_eq!(summary["error"], 0, "{summary}");
    // A case that must see its real work running (a live twin of a scripted case) is
    // inconclusive, never passed or failed, where the work is done at once (the `instant`
    // reading); everywhere else nothing is inconclusive.
    let inconclusive = outcomes(&run.report, "inconclusive");
    let unexpected: Vec<_> = inconclusive
        .iter()
        .filter(|c| !(c.starts_with("\"third_reading/") && c.contains("running")))
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:?}");
    // Every target ran the live suite, mutations included (70 of 140 cases each today).
    let passed = summary["pass"].as_u64().unwrap_or(0);
    assert!(
        passed >= 3 * 60,
        "only {passed} cases passed:\n{}",
        run.stdout
    );
    for t in run.report["targets"].as_array().into_iter().flatten() {
        assert_eq!(t["leftovers"], serde_json::json!([]), "{t}");
    }
    assert!(
        run.took < Duration::from_secs(DEADLINE_S / 2),
        "the run took {:?}, not well within its {DEADLINE_S} s deadline",
        run.took
    );
    eprintln!(
        "independent server: {passed} trials passed in {:?}",
        run.took
    );
}

#[test]
fn values_nothing_can_read_end_the_poll_at_once() {
    if !python_available() {
        eprintln!("note: python3 is missing; the independent-server test is skipped");
        return;
    }
    let server = Server::start(&["bad-gar-status", "bad-job-state"]);
    let run = run_live(&[("unreadable", &server)]);
    assert_eq!(
        run.code,
        Some(1),
        "EL-GAR-STATUS is a MUST:\n{}",
        run.stdout
    );
    let found = findings(&run.report);
    assert!(
        found.iter().any(|f| f.contains("EL-GAR-STATUS")),
        "{}",
        found.join("\n")
    );
    // The job state `success` is not a finding (register U11) but an inconclusive case that
    // names it, at once.
    let inconclusive = outcomes(&run.report, "inconclusive");
    assert!(
        inconclusive.iter().any(|c| c.contains("U11")),
        "{inconclusive:?}\n{}",
        run.stdout
    );
    assert!(
        run.took < Duration::from_secs(DEADLINE_S / 2),
        "the run took {:?}: it waited on a value it cannot read",
        run.took
    );
}
