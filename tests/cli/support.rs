//! Helpers for the CLI tests: spawning the binary and `jobconform serve`, HTTP through the
//! crate's client, the control API's state, report validation and a structural XML check.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_jobconform");
/// A password distinctive enough that finding it anywhere means it leaked.
pub const SECRET: &str = "Zq8-jobconform-leak-canary-71x";

pub fn jobconform(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CI")
        // Runs check the committed snapshots only when a test names them (--snapshot-dir).
        .env(
            "INSTA_WORKSPACE_ROOT",
            std::env::temp_dir().join("jobconform-cli-tests-no-snapshots"),
        )
        .stdin(Stdio::null());
    c
}

pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

pub fn wait_bounded(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

pub fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(ok.success(), "kill {sig} {pid}");
}

/// A `jobconform serve` process; stopped with SIGTERM on drop.
pub struct Served {
    pub child: Child,
    pub urls: Value,
}

impl Served {
    pub fn start(extra: &[&str]) -> Served {
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
    pub fn url(&self, k: &str) -> String {
        self.urls[k]
            .as_str()
            .unwrap_or_else(|| panic!("no {k} in {}", self.urls))
            .to_string()
    }
    /// Stops it with SIGTERM and returns its exit status and everything it wrote on stderr.
    pub fn stop_with_stderr(mut self) -> (ExitStatus, String) {
        signal(self.child.id(), "-TERM");
        let status =
            wait_bounded(&mut self.child, Duration::from_secs(10)).expect("serve stops on SIGTERM");
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            e.read_to_string(&mut err).expect("read stderr");
        }
        (status, err)
    }
    pub fn stop(mut self) -> ExitStatus {
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
pub fn http(
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

pub fn live_run(s: &Served, extra: &[&str]) -> Command {
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

pub fn assert_no_secret(what: &str, s: &str) {
    assert!(!s.contains(SECRET), "the password leaked into {what}");
}

/// Every array under a key naming created objects, by key (volumes, accounts, luns), from the
/// control API's state.
pub fn created_objects(state: &Value) -> Vec<(String, Value)> {
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

pub fn state(s: &Served) -> Value {
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

pub fn validate_report(path: &Path) -> Value {
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("report written"))
            .expect("report is JSON");
    let errors = jobconform::contract::validate("report.schema.json", &report)
        .expect("the report schema is embedded");
    assert!(errors.is_empty(), "report does not validate: {errors:#?}");
    report
}

/// Structural XML check: balanced tags, quoted attributes, only the five entities.
pub fn check_xml(xml: &str) -> usize {
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

pub fn check_text(t: &str) {
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

pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

pub fn clone_case() -> String {
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
