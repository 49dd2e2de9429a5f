//! `jobconform run`: against the embedded mock and a served one, exit codes, reports, cleanup,
//! Ctrl-C, TLS.

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::support::*;

#[test]
fn run_against_the_embedded_mock_passes_with_reports() {
    let dir = tmp();
    let report = dir.path().join("report.json");
    let junit = dir.path().join("junit.xml");
    // Time scale 10, as in `cargo test --test conformance`: the run checks the stored snapshots,
    // which record what each job was seen in, and this is a debug build on a shared machine.
    let o = jobconform(&[
        "run",
        "--mock-time-scale",
        "10",
        "--report-json",
        report.to_str().expect("utf8"),
        "--junit",
        junit.to_str().expect("utf8"),
    ])
    .output()
    .expect("run");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "stdout:\n{out}\nstderr:\n{err}");
    let doc = validate_report(&report);
    let cases = doc["cases"].as_array().expect("cases");
    assert!(!cases.is_empty());
    assert!(
        cases
            .iter()
            .all(|c| c["trial"].as_str().expect("trial").starts_with("mock/"))
    );
    assert_eq!(doc["targets"][0]["kind"], "mock");
    assert_eq!(doc["exit_code"], 0);
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert_eq!(check_xml(&xml), cases.len(), "one testcase per trial");
    assert_list_cases_ran_on_private_mocks(cases);
}

/// The host:port every exchange of a case went to.
fn hosts_of(case: &Value) -> std::collections::BTreeSet<String> {
    let transcript = case["transcript"].as_array().expect("transcript");
    transcript
        .iter()
        .filter_map(|x| x["request"]["url"].as_str())
        .filter_map(|u| u.split('/').nth(2).map(str::to_string))
        .collect()
}

/// On the embedded mock, each case about the whole job list (`*-LIST-*` rules) runs on its own
/// fresh copy of the mock (no exclusive lock on the shared one): its exchanges go to one host,
/// never the shared mock's (a port of a stopped copy may be reused by a later one).
fn assert_list_cases_ran_on_private_mocks(cases: &[Value]) {
    let is_list = |c: &Value| {
        c["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .any(|r| r.as_str().expect("rule").contains("-LIST-"))
    };
    let shared: std::collections::BTreeSet<String> = cases
        .iter()
        .filter(|c| !is_list(c))
        .flat_map(hosts_of)
        .collect();
    assert_eq!(
        shared.len(),
        1,
        "the other cases share one mock: {shared:?}"
    );
    let list_cases: Vec<&Value> = cases.iter().filter(|c| is_list(c)).collect();
    assert!(list_cases.len() >= 10, "{} list cases", list_cases.len());
    for c in list_cases {
        let hosts = hosts_of(c);
        assert_eq!(hosts.len(), 1, "{}: {hosts:?}", c["name"]);
        assert!(
            hosts.is_disjoint(&shared),
            "{} ran on the shared mock",
            c["name"]
        );
    }
}

#[test]
fn run_exits_2_when_everything_is_filtered_out() {
    let o = jobconform(&["run", "no-trial-has-this-name"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
    assert!(text(&o).1.contains("nothing ran"));
}

#[test]
fn run_exits_2_on_a_bad_profile_with_line_and_column() {
    let dir = tmp();
    let p = dir.path().join("p.toml");
    std::fs::write(
        &p,
        "[targets.lab]\nelement = \"https://h/json-rpc/12.5\"\npasword_env = \"X\"\n",
    )
    .expect("write");
    let o = jobconform(&["run", "--profile", p.to_str().expect("utf8")])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    let (_, err) = text(&o);
    assert!(err.contains("line 3") && err.contains("column"), "{err}");
}

#[test]
fn run_exits_3_when_the_target_is_unreachable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{port}/json-rpc/12.5");
    let o = jobconform(&["run", "--element", &url, "--password-env", "JC_RUN_PW"])
        .env("JC_RUN_PW", SECRET)
        .output()
        .expect("run");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out}\n{err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(!out.contains("test result"), "no trial may run");
}

#[test]
fn run_exits_3_when_the_password_is_refused() {
    let s = Served::start(&[]);
    let o = live_run(&s, &[])
        .env("JC_RUN_PW", "not-the-password")
        .output()
        .expect("run");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out}\n{err}");
    assert!(err.contains("401"), "{err}");
    assert_no_secret("stderr", &err);
}

#[test]
fn run_exits_1_against_a_deviating_mock() {
    let s = Served::start(&["--deviation", "purge-despite-keep", "--time-scale", "50"]);
    let control = s.url("control");
    let o = live_run(&s, &["--control", &control, "--mock-time-scale", "50"])
        .output()
        .expect("run");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(
        out.contains("EL-KEEP-TRUE"),
        "the failure names the rule:\n{out}"
    );
}

#[test]
fn live_runs_are_read_only_then_clean_up_what_they_create() {
    let s = Served::start(&["--time-scale", "50"]);
    let before = created_objects(&state(&s));
    let dir = tmp();
    let report = dir.path().join("r.json");
    let junit = dir.path().join("j.xml");
    let o = live_run(
        &s,
        &[
            "--report-json",
            report.to_str().expect("utf8"),
            "--junit",
            junit.to_str().expect("utf8"),
            "--min-interval",
            "100",
        ],
    )
    .output()
    .expect("run");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(
        out.contains("--allow-mutations"),
        "mutating cases are ignored with a reason:\n{out}"
    );
    assert!(
        err.contains("no verdict on live for") && err.contains("EL-KEEP-RUNNING"),
        "the summary names the server rules without a verdict:\n{err}"
    );
    assert_eq!(
        created_objects(&state(&s)),
        before,
        "a read-only run changed the target"
    );
    let doc = validate_report(&report);
    assert_eq!(doc["targets"][0]["kind"], "live");
    let caps = &doc["targets"][0]["capabilities"];
    assert_eq!(caps["long_poll_probed"], false, "{caps}");
    assert!(
        caps["notes"]
            .to_string()
            .contains("long polling not probed"),
        "without mutations and a running job, long polling is not probed (not \"not offered\"): {caps}"
    );
    for (what, body) in [
        ("stdout", out),
        ("stderr", err),
        ("report", std::fs::read_to_string(&report).expect("report")),
        ("junit", std::fs::read_to_string(&junit).expect("junit")),
    ] {
        assert_no_secret(what, &body);
    }

    let o = live_run(
        &s,
        &[
            "--allow-mutations",
            "--report-json",
            report.to_str().expect("utf8"),
            "--min-interval",
            "100",
        ],
    )
    .output()
    .expect("run");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(
        err.contains("WILL BE CHANGED"),
        "mutations are announced:\n{err}"
    );
    let doc = validate_report(&report);
    assert_eq!(doc["targets"][0]["leftovers"], json!([]));
    assert_eq!(
        created_objects(&state(&s)),
        before,
        "objects left on the target"
    );
    assert_no_secret("stdout", &out);
    assert_no_secret("stderr", &err);
    assert_no_secret("report", &std::fs::read_to_string(&report).expect("report"));
}

/// Starts a read-write run of one clone case on `s` and returns once its handle is being polled
/// (the journal shows a GetAsyncResult).
fn clone_run_polling(s: &Served) -> std::process::Child {
    let case = clone_case();
    let mut child = live_run(
        s,
        &[
            "--allow-mutations",
            "--exact",
            &format!("live/{case}"),
            "--min-interval",
            "100",
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn run");
    let journal = format!("{}/journal", s.url("control"));
    let polling = || {
        let (_, body) = http("GET", &journal, None, SECRET, None);
        body.and_then(|b| b.as_array().cloned())
            .is_some_and(|a| a.iter().any(|e| e["op"] == "GetAsyncResult"))
    };
    let start = Instant::now();
    while !polling() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the case never polled"
        );
        assert!(
            child.try_wait().expect("poll child").is_none(),
            "run ended before polling"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn stderr_of(child: &mut std::process::Child) -> String {
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("read");
    err
}

#[test]
fn ctrl_c_mid_poll_cleans_up_and_exits_130() {
    // Time scale 1: a clone takes 3 s of real time, so the poll is surely running when we signal.
    let s = Served::start(&["--time-scale", "1"]);
    let before = created_objects(&state(&s));
    let mut child = clone_run_polling(&s);
    signal(child.id(), "-INT");
    let status = wait_bounded(&mut child, Duration::from_secs(30)).expect("run ends after Ctrl-C");
    let err = stderr_of(&mut child);
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert_eq!(
        created_objects(&state(&s)),
        before,
        "objects left after Ctrl-C:\n{err}"
    );
    assert_no_secret("stderr", &err);
}

#[test]
fn a_second_ctrl_c_aborts_at_once_and_lists_what_is_left() {
    // Time scale 0.2: the clone takes 15 s, so the first Ctrl-C's wait is surely still going.
    let s = Served::start(&["--time-scale", "0.2"]);
    let mut child = clone_run_polling(&s);
    signal(child.id(), "-INT");
    std::thread::sleep(Duration::from_millis(200));
    signal(child.id(), "-INT");
    let status = wait_bounded(&mut child, Duration::from_secs(5)).expect("run aborts at once");
    let err = stderr_of(&mut child);
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("aborted"), "{err}");
    assert!(
        err.contains("NOT CLEANED UP on live: Element volume"),
        "what is left is listed:\n{err}"
    );
}

#[test]
fn run_over_tls_needs_the_certificate() {
    let s = Served::start(&["--tls", "--time-scale", "50"]);
    let ca = s.url("ca_cert");
    let element = s.url("element").replace("127.0.0.1", "localhost");
    let aiqum = s.url("aiqum").replace("127.0.0.1", "localhost");
    let base = [
        "run",
        "--element",
        &element,
        "--aiqum",
        &aiqum,
        "--password-env",
        "JC_RUN_PW",
    ];
    let o = jobconform(&base)
        .env("JC_RUN_PW", SECRET)
        .output()
        .expect("run");
    let (out, err) = text(&o);
    assert_eq!(
        o.status.code(),
        Some(3),
        "untrusted certificate:\n{out}\n{err}"
    );
    let mut args = base.to_vec();
    args.extend(["--ca-cert", &ca, "--min-interval", "100"]);
    let o = jobconform(&args)
        .env("JC_RUN_PW", SECRET)
        .output()
        .expect("run");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
}

#[test]
fn a_profile_runs_several_targets_with_results_kept_apart() {
    let a = Served::start(&["--time-scale", "50"]);
    let b = Served::start(&["--time-scale", "50"]);
    let before_b = created_objects(&state(&b));
    let dir = tmp();
    let profile = dir.path().join("targets.toml");
    let report = dir.path().join("r.json");
    std::fs::write(
        &profile,
        format!(
            "[targets.alpha]\nelement = \"{}\"\naiqum = \"{}\"\npassword_env = \"JC_RUN_PW\"\nmin_interval_ms = 100\nconcurrency = 2\nlabel = \"fw-alpha\"\n\n\
             [targets.beta]\nelement = \"{}\"\npassword_env = \"JC_RUN_PW\"\nmin_interval_ms = 100\nallow_mutations = true\n",
            a.url("element"),
            a.url("aiqum"),
            b.url("element"),
        ),
    )
    .expect("write profile");
    let o = jobconform(&[
        "run",
        "--profile",
        profile.to_str().expect("utf8"),
        "--report-json",
        report.to_str().expect("utf8"),
    ])
    .env("JC_RUN_PW", SECRET)
    .output()
    .expect("run");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    let doc = validate_report(&report);
    let names: Vec<&str> = doc["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["alpha", "beta"]);
    assert_eq!(doc["targets"][0]["fingerprint"]["label"], "fw-alpha");
    let cases = doc["cases"].as_array().expect("cases");
    let on = |t: &str| {
        cases
            .iter()
            .filter(|c| c["target"] == t)
            .collect::<Vec<_>>()
    };
    let (alpha, beta) = (on("alpha"), on("beta"));
    assert_eq!(alpha.len(), beta.len(), "every case on every target");
    assert!(
        alpha
            .iter()
            .all(|c| c["trial"].as_str().expect("trial").starts_with("alpha/"))
    );
    // beta has no AIQUM endpoint: its AIQUM cases are skipped with that reason, never dropped.
    assert!(beta.iter().any(|c| {
        c["outcome"] == "skipped"
            && c["reason"]
                .as_str()
                .is_some_and(|r| r.contains("no AIQUM endpoint"))
    }));
    // beta allows mutations and alpha does not: only beta ran the clone cases.
    let ran = |cs: &[&Value], name: &str| {
        cs.iter()
            .any(|c| c["name"] == name && c["outcome"] != "skipped")
    };
    let clone = clone_case();
    assert!(ran(&beta, &clone) && !ran(&alpha, &clone));
    assert!(err.contains("target beta WILL BE CHANGED"), "{err}");
    assert!(!err.contains("target alpha WILL BE CHANGED"), "{err}");
    assert_eq!(
        created_objects(&state(&b)),
        before_b,
        "objects left on beta"
    );
}

#[test]
fn run_exits_2_on_a_broken_case_file_naming_it() {
    let dir = tmp();
    std::fs::create_dir_all(dir.path().join("element")).expect("mkdir");
    std::fs::write(
        dir.path().join("element/broken.json"),
        r#"{"description": "d", "api": "element", "rules": [], "steps": [], "surprise": 1}"#,
    )
    .expect("write");
    let o = jobconform(&["run", "--cases", dir.path().to_str().expect("utf8")])
        .output()
        .expect("run");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}\n{err}");
    assert!(err.contains("broken.json"), "{err}");
    assert!(!out.contains("test result"), "no trial may run");
}

#[test]
fn should_findings_warn_and_fail_only_under_strict() {
    // EL-GAR-DETAILS is a SHOULD rule.
    let s = Served::start(&[
        "--deviation",
        "running-without-details",
        "--time-scale",
        "50",
    ]);
    let control = s.url("control");
    let base = ["--control", control.as_str(), "--mock-time-scale", "50"];
    let o = live_run(&s, &base).output().expect("run");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(
        err.contains("warnings") && err.contains("EL-GAR-DETAILS"),
        "{err}"
    );
    let mut strict = base.to_vec();
    strict.push("--strict");
    let o = live_run(&s, &strict).output().expect("run");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(out.contains("EL-GAR-DETAILS (SHOULD)"), "{out}");
}

/// Nothing lost under faults: a live run with `--allow-mutations` against a mock that injects
/// random transient faults (xDBVersionMismatch, 503, broken connections, slow answers) on 15% of
/// requests still removes every object it created, as the mock's own state shows.
#[test]
fn mutations_are_cleaned_up_even_when_the_target_faults() {
    let s = Served::start(&[
        "--time-scale",
        "50",
        "--faults",
        "0.15",
        "--faults-seed",
        "3",
    ]);
    let before = created_objects(&state(&s));
    let dir = tmp();
    let report = dir.path().join("r.json");
    let o = live_run(
        &s,
        &[
            "--allow-mutations",
            "--min-interval",
            "100",
            "--report-json",
            report.to_str().expect("utf8"),
        ],
    )
    .output()
    .expect("run");
    let (out, err) = text(&o);
    // Faults may make cases inconclusive or fail; what must hold is the cleanup.
    assert!(
        matches!(o.status.code(), Some(0..=2)),
        "the run finished: {:?}\n{out}\n{err}",
        o.status
    );
    assert!(
        err.contains("WILL BE CHANGED"),
        "mutations were announced:\n{err}"
    );
    let doc = validate_report(&report);
    let mutated = doc["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|c| c["outcome"] != "skipped")
        .count();
    assert!(mutated > 0, "cases ran");
    assert_eq!(doc["targets"][0]["leftovers"], json!([]), "{err}");
    assert_eq!(
        created_objects(&state(&s)),
        before,
        "objects left on the faulting target:\n{err}"
    );
    assert_no_secret("stderr", &err);
}

/// Copies the committed `snapshots/` into `to` (so a check never writes into the repository).
fn copy_committed_snapshots(to: &std::path::Path) {
    fn walk(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for e in std::fs::read_dir(from).expect("read snapshots") {
            let p = e.expect("entry").path();
            let dest = to.join(p.file_name().expect("name"));
            if p.is_dir() {
                walk(&p, &dest);
            } else {
                std::fs::copy(&p, &dest).expect("copy");
            }
        }
    }
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"),
        to,
    );
}

#[test]
fn a_renamed_error_fails_the_snapshot_check_naming_the_member() {
    let s = Served::start(&[
        "--deviation",
        "unknown-handle-wrong-code",
        "--time-scale",
        "50",
    ]);
    let control = s.url("control");
    let dir = tmp();
    copy_committed_snapshots(dir.path());
    let o = live_run(
        &s,
        &[
            "--control",
            &control,
            "--mock-time-scale",
            "50",
            "--label",
            "mock",
            "--snapshots",
            "check",
            "--snapshot-dir",
            dir.path().to_str().expect("utf8"),
            "element/keep-result/",
        ],
    )
    .output()
    .expect("run");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    // keep-result cases check no EL-GAR-UNKNOWN finding: they fail on the snapshot alone.
    assert!(!out.contains("EL-GAR-UNKNOWN"), "{out}");
    assert!(out.contains("snapshot changed"), "{out}");
    assert!(
        out.contains("first difference at \"/exchanges/") && out.contains("/error/"),
        "the mismatch names the member's JSON pointer:\n{out}"
    );
    assert!(
        out.contains("xNotFound"),
        "the diff shows the new name:\n{out}"
    );
    assert_no_secret("stdout", &out);
    assert_no_secret("stderr", &err);
    for e in walkdir(dir.path()) {
        let text = std::fs::read_to_string(&e).expect("read");
        assert_no_secret(&e.display().to_string(), &text);
    }
}

fn walkdir(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            out.extend(walkdir(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn the_binary_alone_runs_the_whole_suite_from_an_empty_folder() {
    // What an operator gets who copies the release binary to a jump host: no cases/, no
    // snapshots/, no source tree. The suite is inside the binary.
    let dir = tmp();
    let bin = dir.path().join("jobconform");
    std::fs::copy(BIN, &bin).expect("copy the binary");
    let o = std::process::Command::new(&bin)
        .args([
            "run",
            "--mock-time-scale",
            "10",
            "--report-json",
            "report.json",
        ])
        .current_dir(dir.path())
        .env_remove("CI")
        .env_remove("INSTA_WORKSPACE_ROOT")
        .stdin(Stdio::null())
        .output()
        .expect("run the copied binary");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "stdout:\n{out}\nstderr:\n{err}");
    let doc = validate_report(&dir.path().join("report.json"));
    let cases = doc["cases"].as_array().expect("cases");
    let on_disk = walkdir(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/cases"
    )))
    .into_iter()
    .filter(|p| p.extension().is_some_and(|e| e == "json"))
    .count();
    assert_eq!(cases.len(), on_disk, "every case of cases/ ran");
    assert!(cases.iter().all(|c| c["outcome"] == "pass"), "{out}");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left.len(), 2, "only the binary and the report: {left:?}");
}
