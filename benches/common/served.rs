//! `jobconform serve` processes for the fleet benches: the binary beside the bench, one mock
//! process with the URL line it printed (killed on drop), and a profile naming a set of them.
//! Owns only these mechanics.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// Environment variable the profile names for the mocks' password.
pub const PW_ENV: &str = "JC_BENCH_MOCK_PASSWORD";

/// The `jobconform` binary built beside this bench, if any.
pub fn binary() -> Option<PathBuf> {
    if let Some(p) = option_env!("CARGO_BIN_EXE_jobconform") {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    let p = exe.parent()?.parent()?.join("jobconform");
    p.exists().then_some(p)
}

/// A `jobconform serve` process and the URL line it printed.
pub struct Served {
    child: Child,
    /// `{"element", "aiqum", "control"}`.
    pub urls: Value,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `jobconform serve ARGS` (for example `--time-scale 50`) and reads its URL line.
pub fn serve(bin: &Path, args: &[&str]) -> Result<Served, String> {
    let mut child = Command::new(bin)
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("start `serve`: {e}"))?;
    let mut line = String::new();
    let read = match child.stdout.take() {
        Some(out) => BufReader::new(out)
            .read_line(&mut line)
            .map_err(|e| format!("read the URL line: {e}")),
        None => Err("no stdout".to_string()),
    };
    let mut served = Served {
        child,
        urls: Value::Null,
    };
    read?;
    served.urls = serde_json::from_str(line.trim()).map_err(|e| format!("parse {line:?}: {e}"))?;
    Ok(served)
}

/// A profile naming every mock as a live target (`m000`, `m001`, ...; mutations allowed).
pub fn profile(mocks: &[Served]) -> String {
    let mut s = String::new();
    for (i, m) in mocks.iter().enumerate() {
        s.push_str(&format!(
            "[targets.m{i:03}]\nelement = {}\naiqum = {}\npassword_env = \"{PW_ENV}\"\n\
             allow_mutations = true\n\n",
            m.urls["element"], m.urls["aiqum"]
        ));
    }
    s
}
