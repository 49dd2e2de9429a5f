//! The `jobconform` binary end to end: listings, `serve` (plain and TLS, stops on SIGTERM),
//! `run` against the embedded mock and against a separately started `serve` (read-only, with
//! mutations and cleanup checked through the control API, interrupted mid-poll), every exit code,
//! the JSON report against its schema, JUnit well-formedness, and that the password given through
//! its variable appears nowhere. Every server is started here on 127.0.0.1 port 0.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_jobconform");
/// A password distinctive enough that finding it anywhere means it leaked.
const SECRET: &str = "Zq8-jobconform-leak-canary-71x";

fn jobconform(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CI")
        .stdin(Stdio::null());
    c
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn wait_bounded(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(ok.success(), "kill {sig} {pid}");
}

/// A `jobconform serve` process; stopped with SIGTERM on drop.
struct Served {
    child: Child,
    urls: Value,
}

impl Served {
    fn start(extra: &[&str]) -> Served {
        let mut args = vec!["serve", "--password-env", "JC_SERVE_PW"];
        args.extend_from_slice(extra);
        let mut child = jobconform(&args)
            .env("JC_SERVE_PW", SECRET)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn serve");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the URL line");
        let urls: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("serve printed {line:?}, not JSON: {e}"));
        Served { child, urls }
    }
    fn url(&self, k: &str) -> String {
        self.urls[k]
            .as_str()
            .unwrap_or_else(|| panic!("no {k} in {}", self.urls))
            .to_string()
    }
    fn stop(mut self) -> ExitStatus {
        signal(self.child.id(), "-TERM");
        let s =
            wait_bounded(&mut self.child, Duration::from_secs(10)).expect("serve stops on SIGTERM");
        let _ = self.child.kill();
        s
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            if wait_bounded(&mut self.child, Duration::from_secs(5)).is_none() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
    }
}

/// One request with Basic auth, through the crate's own client.
fn http(
    method: &str,
    url: &str,
    body: Option<Value>,
    password: &str,
    ca: Option<&str>,
) -> (u16, Option<Value>) {
    use jobconform::transport::{
        AuthMode, Client, Credentials, Limits, Secret, SendBody, TlsConfig,
    };
    let tls = TlsConfig {
        ca_cert_pem: ca.map(|p| std::fs::read(p).expect("read CA")),
        insecure: false,
    };
    let creds = Credentials {
        user: "admin".into(),
        password: Secret::new(password),
    };
    let client = Client::new(Some(creds), Limits::default(), &tls).expect("client");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let x = rt.block_on(client.send(
        m,
        url,
        body.map(SendBody::Json),
        AuthMode::Default,
        Duration::ZERO,
    ));
    let r = x
        .response
        .as_ref()
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    (r.status, r.body.json().cloned())
}

fn live_run(s: &Served, extra: &[&str]) -> Command {
    let element = s.url("element");
    let aiqum = s.url("aiqum");
    let mut args = vec![
        "run",
        "--element",
        &element,
        "--aiqum",
        &aiqum,
        "--password-env",
        "JC_RUN_PW",
    ];
    args.extend_from_slice(extra);
    let mut c = jobconform(&args);
    c.env("JC_RUN_PW", SECRET);
    c
}

fn assert_no_secret(what: &str, s: &str) {
    assert!(!s.contains(SECRET), "the password leaked into {what}");
}

/// Every array under a key naming created objects, by key (volumes, accounts, luns), from the
/// control API's state.
fn created_objects(state: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    fn walk(v: &Value, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    let key = k.to_ascii_lowercase();
                    if (key.contains("volume") || key.contains("account") || key.contains("lun"))
                        && (x.is_array() || x.is_object())
                    {
                        out.push((k.clone(), x.clone()));
                    } else {
                        walk(x, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(state, &mut out);
    out
}

fn state(s: &Served) -> Value {
    let (status, body) = http(
        "GET",
        &format!("{}/state", s.url("control")),
        None,
        SECRET,
        None,
    );
    assert_eq!(status, 200, "GET /_jobconform/state");
    body.expect("state is JSON")
}

fn validate_report(path: &Path) -> Value {
    let schema_path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/report.schema.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).expect("schema"))
            .expect("schema JSON");
    let v = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("report written"))
            .expect("report is JSON");
    let errors: Vec<String> = v
        .iter_errors(&report)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "report does not validate: {errors:#?}");
    report
}

/// Structural XML check: balanced tags, quoted attributes, only the five entities.
fn check_xml(xml: &str) -> usize {
    assert!(xml.starts_with("<?xml"), "no XML declaration");
    let mut stack: Vec<String> = Vec::new();
    let mut testcases = 0;
    let mut rest = &xml[xml.find("?>").expect("declaration ends") + 2..];
    while let Some(lt) = rest.find('<') {
        check_text(&rest[..lt]);
        let gt = rest[lt..].find('>').expect("tag closes") + lt;
        let tag = &rest[lt + 1..gt];
        rest = &rest[gt + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.trim()),
                "mismatched </{name}>"
            );
            continue;
        }
        let self_closing = tag.ends_with('/');
        let body = tag.trim_end_matches('/');
        let name = body
            .split_whitespace()
            .next()
            .expect("tag name")
            .to_string();
        assert_eq!(
            body.matches('"').count() % 2,
            0,
            "unbalanced quotes in <{body}>"
        );
        check_text(&body.replace("=\"", " ").replace('"', " "));
        if name == "testcase" {
            testcases += 1;
        }
        if !self_closing {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed tags: {stack:?}");
    testcases
}

fn check_text(t: &str) {
    let mut s = t;
    while let Some(i) = s.find('&') {
        let end = s[i..].find(';').expect("entity ends") + i;
        let ent = &s[i + 1..end];
        assert!(
            ["lt", "gt", "amp", "quot", "apos"].contains(&ent) || ent.starts_with('#'),
            "bad entity &{ent};"
        );
        s = &s[end + 1..];
    }
    assert!(!t.contains('<'));
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

#[test]
fn deviations_lists_the_registry() {
    let o = jobconform(&["deviations", "--format", "json"])
        .output()
        .expect("run");
    assert!(o.status.success());
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let names: Vec<&str> = v
        .as_array()
        .expect("array")
        .iter()
        .map(|d| d["name"].as_str().expect("name"))
        .collect();
    let expected: Vec<&str> = jobconform::mock::deviation::ALL
        .iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, expected);
    let o = jobconform(&["deviations"]).output().expect("run");
    let (out, _) = text(&o);
    assert_eq!(out.lines().count(), expected.len());
    assert!(
        out.lines()
            .any(|l| l.starts_with("purge-despite-keep") && l.contains("EL-KEEP-TRUE"))
    );
}

#[test]
fn rules_lists_the_contract() {
    let o = jobconform(&["rules", "--format", "json"])
        .output()
        .expect("run");
    assert!(o.status.success(), "{:?}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let rules = v["rules"].as_array().expect("rules array");
    assert!(
        v["register"]
            .as_array()
            .is_some_and(|r| r.iter().any(|e| e["id"] == "E1"))
    );
    assert_eq!(rules.len(), jobconform::contract::rules().len());
    assert!(
        rules
            .iter()
            .any(|r| r["id"] == "EL-KEEP-TRUE" && r["level"] == "MUST")
    );
    assert!(
        rules
            .iter()
            .any(|r| r["id"] == "EL-GAR-DETAILS" && r["level"] == "SHOULD")
    );
    let o = jobconform(&["rules"]).output().expect("run");
    let (out, _) = text(&o);
    assert!(
        out.lines()
            .any(|l| l.starts_with("EL-KEEP-TRUE") && l.contains("MUST"))
    );
}

#[test]
fn help_documents_the_exit_codes() {
    let o = jobconform(&["run", "--help"]).output().expect("run");
    let (out, _) = text(&o);
    for code in ["0 ", "1 ", "2 ", "3 ", "130"] {
        assert!(
            out.contains(&format!("\n  {code}")),
            "exit code {code} missing from run --help"
        );
    }
}

#[test]
fn serve_answers_getapi_and_stops_on_sigterm() {
    let s = Served::start(&[]);
    assert!(s.url("element").starts_with("http://127.0.0.1:"));
    assert!(s.urls.get("ca_cert").is_none());
    let (status, body) = http(
        "POST",
        &s.url("element"),
        Some(json!({"method": "GetAPI", "params": {}, "id": 1})),
        SECRET,
        None,
    );
    assert_eq!(status, 200);
    let body = body.expect("JSON");
    assert_eq!(body["id"], 1);
    assert!(body["result"]["supportedVersions"].is_array(), "{body}");
    let (status, _) = http(
        "POST",
        &s.url("element"),
        Some(json!({"method": "GetAPI", "params": {}, "id": 2})),
        "wrong",
        None,
    );
    assert_eq!(status, 401);
    assert!(s.stop().success(), "serve exits 0 on SIGTERM");
}

#[test]
fn serve_tls_uses_the_printed_certificate() {
    let s = Served::start(&["--tls"]);
    let ca = s.url("ca_cert");
    assert!(s.url("element").starts_with("https://127.0.0.1:"));
    let element = s.url("element").replace("127.0.0.1", "localhost");
    let (status, body) = http(
        "POST",
        &element,
        Some(json!({"method": "GetAPI", "params": {}, "id": 7})),
        SECRET,
        Some(&ca),
    );
    assert_eq!(status, 200);
    assert_eq!(body.expect("JSON")["id"], 7);
    assert!(s.stop().success());
    assert!(
        !Path::new(&ca).exists(),
        "the certificate file is removed at shutdown"
    );
}

#[test]
fn serve_refuses_an_unknown_deviation_with_exit_2() {
    let o = jobconform(&["serve", "--deviation", "no-such-deviation"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    let (_, err) = text(&o);
    assert!(
        err.contains("no-such-deviation") && err.contains("purge-despite-keep"),
        "{err}"
    );
}

#[test]
fn run_against_the_embedded_mock_passes_with_reports() {
    let dir = tmp();
    let report = dir.path().join("report.json");
    let junit = dir.path().join("junit.xml");
    let o = jobconform(&[
        "run",
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
    assert_eq!(
        created_objects(&state(&s)),
        before,
        "a read-only run changed the target"
    );
    let doc = validate_report(&report);
    assert_eq!(doc["targets"][0]["kind"], "live");
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

/// A case that clones a volume (needs mutations, Element).
fn clone_case() -> String {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("read cases") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/cases"));
    let mut files = Vec::new();
    walk(root, &mut files);
    files.sort();
    for f in files {
        let mut s = String::new();
        std::fs::File::open(&f)
            .expect("open")
            .read_to_string(&mut s)
            .expect("read");
        let v: Value = serde_json::from_str(&s).expect("case JSON");
        if v["api"] == "element"
            && v["needs"] == "mutations"
            && s.contains("\"clone\"")
            && s.contains("\"poll\"")
        {
            return f
                .strip_prefix(root)
                .expect("under root")
                .with_extension("")
                .to_string_lossy()
                .into_owned();
        }
    }
    panic!("no Element clone case under cases/");
}

#[test]
fn ctrl_c_mid_poll_cleans_up_and_exits_130() {
    // Time scale 1: a clone takes 3 s of real time, so the poll is surely running when we signal.
    let s = Served::start(&["--time-scale", "1"]);
    let before = created_objects(&state(&s));
    let case = clone_case();
    let mut child = live_run(
        &s,
        &[
            "--allow-mutations",
            "--exact",
            &format!("live/{case}"),
            "--min-interval",
            "100",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn run");
    // Wait until the clone's handle is being polled (the journal shows a GetAsyncResult).
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
    signal(child.id(), "-INT");
    let status = wait_bounded(&mut child, Duration::from_secs(30)).expect("run ends after Ctrl-C");
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("read");
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
