//! `jobconform run` on a terminal, through a pseudo-terminal provided by util-linux `script`
//! (`script -qec CMD /dev/null`; no pty crate needed): the interactive password prompt (the typed
//! password authenticates and appears nowhere; a wrong one is exit 3 with one line) and the live
//! progress line with when the next poll is due (absent when `CI` is set); and, without a
//! terminal, that no `--password-env` is exit 2 with nothing sent. Every child is killed after a
//! time limit; servers are on 127.0.0.1. Where util-linux `script` is missing (e.g. macOS's BSD
//! `script`), the pseudo-terminal tests say so on stderr and check nothing.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::support::*;

/// How long any one pty run may take before it is killed and the test fails.
const LIMIT: Duration = Duration::from_secs(60);

/// How long the prompt may take to turn off the terminal's echo once it is shown.
const ECHO_LIMIT: Duration = Duration::from_secs(10);

/// Whether util-linux `script` (the only `script` whose flags these tests use) is installed.
fn have_script() -> bool {
    let found = Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("util-linux"));
    if !found {
        eprintln!("util-linux `script` is not installed: the pseudo-terminal tests check nothing");
    }
    found
}

/// One shell word, single-quoted.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `jobconform ARGS` on a fresh pseudo-terminal (its stdin, stdout, stderr and /dev/tty), with
/// everything the terminal shows collected as it comes.
struct Pty {
    child: Child,
    keys: Option<ChildStdin>,
    screen: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Pty {
    fn spawn(args: &[&str], env: &[(&str, &str)]) -> Pty {
        // `tty` first: the terminal's device, to read its modes with `stty -F`.
        let mut cmd = format!("tty; exec {}", quote(BIN));
        for a in args {
            cmd.push(' ');
            cmd.push_str(&quote(a));
        }
        let mut c = Command::new("script");
        c.args(["-qec", &cmd, "/dev/null"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("CI")
            .env(
                "INSTA_WORKSPACE_ROOT",
                std::env::temp_dir().join("jobconform-cli-tests-no-snapshots"),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            c.env(k, v);
        }
        let mut child = c.spawn().expect("spawn script");
        let mut out = child.stdout.take().expect("stdout");
        let screen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&screen);
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().expect("screen").extend_from_slice(&buf[..n]);
            }
        });
        Pty {
            keys: child.stdin.take(),
            child,
            screen,
            reader: Some(reader),
        }
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().expect("screen")).into_owned()
    }

    /// Waits until the terminal has shown `needle`; panics (after killing the child) if it does
    /// not within [`LIMIT`].
    fn wait_for(&mut self, needle: &str) {
        let start = Instant::now();
        while !self.screen().contains(needle) {
            if start.elapsed() > LIMIT || matches!(self.child.try_wait(), Ok(Some(_))) {
                let _ = self.child.kill();
                panic!("the terminal never showed {needle:?}:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until the terminal no longer echoes what is typed (the prompt has taken it), so that
    /// a password typed now can only appear if jobconform itself prints it.
    fn wait_for_no_echo(&mut self) {
        let screen = self.screen();
        let tty = screen.lines().next().expect("tty line").trim().to_string();
        assert!(tty.starts_with("/dev/"), "not a terminal: {screen}");
        let start = Instant::now();
        loop {
            let modes = Command::new("stty")
                .args(["-a", "-F", &tty])
                .output()
                .expect("run stty");
            let modes = String::from_utf8_lossy(&modes.stdout).replace(';', " ");
            if modes.split_whitespace().any(|w| w == "-echo") {
                return;
            }
            if start.elapsed() > ECHO_LIMIT {
                let _ = self.child.kill();
                panic!("{tty} still echoes: {modes}\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn type_line(&mut self, text: &str) {
        let keys = self.keys.as_mut().expect("stdin open");
        keys.write_all(format!("{text}\n").as_bytes())
            .and_then(|()| keys.flush())
            .expect("type");
    }

    /// Waits for the run to end (killing it after [`LIMIT`]); its exit status and the screen.
    fn finish(mut self) -> (ExitStatus, String) {
        let status = wait_bounded(&mut self.child, LIMIT);
        if status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        drop(self.keys.take());
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        let screen = self.screen();
        let status = status.unwrap_or_else(|| panic!("still running after {LIMIT:?}:\n{screen}"));
        (status, screen)
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn the_typed_password_authenticates_and_appears_nowhere() {
    if !have_script() {
        return;
    }
    let s = Served::start(&["--time-scale", "50"]);
    let dir = tmp();
    let report = dir.path().join("r.json");
    let junit = dir.path().join("j.xml");
    let element = s.url("element");
    let mut pty = Pty::spawn(
        &[
            "run",
            "--element",
            &element,
            "--user",
            "admin",
            "--report-json",
            report.to_str().expect("utf8"),
            "--junit",
            junit.to_str().expect("utf8"),
        ],
        &[],
    );
    pty.wait_for("password for admin on live: ");
    pty.wait_for_no_echo();
    pty.type_line(SECRET);
    let (status, screen) = pty.finish();
    assert_eq!(status.code(), Some(0), "{screen}");
    assert!(screen.contains("0 failed"), "{screen}");
    let doc = validate_report(&report);
    assert_eq!(doc["targets"][0]["kind"], "live");
    assert_eq!(doc["exit_code"], 0);
    let passed = doc["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|c| c["outcome"] == "pass")
        .count();
    assert!(passed > 0, "no case ran: {screen}");
    assert_no_secret("the terminal (stdout and stderr)", &screen);
    assert_no_secret("report", &std::fs::read_to_string(&report).expect("report"));
    assert_no_secret("junit", &std::fs::read_to_string(&junit).expect("junit"));
}

#[test]
fn a_wrong_typed_password_is_exit_3_with_one_clear_line() {
    if !have_script() {
        return;
    }
    let s = Served::start(&[]);
    let element = s.url("element");
    let mut pty = Pty::spawn(&["run", "--element", &element, "--user", "admin"], &[]);
    pty.wait_for("password for admin on live: ");
    pty.wait_for_no_echo();
    let wrong = "wrong-typed-Pw-9k2";
    pty.type_line(wrong);
    let (status, screen) = pty.finish();
    assert_eq!(status.code(), Some(3), "{screen}");
    assert!(
        screen.contains("credentials refused (HTTP 401)") && screen.contains("\"admin\""),
        "{screen}"
    );
    assert!(
        !screen.contains("test result"),
        "no trial may run: {screen}"
    );
    assert!(
        !screen.contains(wrong),
        "the typed password was shown: {screen}"
    );
}

#[test]
fn the_progress_line_says_when_the_next_poll_is_due() {
    if !have_script() {
        return;
    }
    let filter = "get-async-result/scripted-success-observations";
    let (status, screen) = Pty::spawn(&["run", filter], &[]).finish();
    assert_eq!(status.code(), Some(0), "{screen}");
    let lines: Vec<&str> = screen.split("\r\x1b[K").collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("mock: polling ") && l.contains(", next poll in ")),
        "{screen:?}"
    );
    let (status, screen) = Pty::spawn(&["run", "poll-long/poll-to-terminal"], &[]).finish();
    assert_eq!(status.code(), Some(0), "{screen}");
    assert!(
        screen.contains("request(s), long poll ("),
        "an outstanding long poll is shown: {screen:?}"
    );
    let (status, screen) = Pty::spawn(&["run", filter], &[("CI", "true")]).finish();
    assert_eq!(status.code(), Some(0), "{screen}");
    assert!(!screen.contains("polling"), "no progress in CI: {screen:?}");
}

#[test]
fn without_a_terminal_or_password_env_nothing_is_sent_and_it_is_exit_2() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let url = format!("http://127.0.0.1:{port}/json-rpc/12.5");
    let o = jobconform(&["run", "--element", &url, "--user", "admin"])
        .output()
        .expect("run");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}\n{err}");
    assert!(
        err.contains("stdin is not a terminal") && err.contains("--password-env"),
        "{err}"
    );
    listener.set_nonblocking(true).expect("nonblocking");
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "a request was sent without a password"
    );
}
