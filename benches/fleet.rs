//! Bench: one `jobconform run` against 1, 10 and 100 mock targets (separate `jobconform serve`
//! processes on loopback, named in a `--profile` TOML file): wall time as a ratio against the
//! single-target run, and the run process's peak memory (VmHWM, sampled from /proc while it
//! runs). Rounds interleave the fleet sizes. Owns nothing but measurement; stops every process it
//! started (by its own handle).
//!
//! A second table: one live run with mutations and a failing call against `serve --time-scale 1`
//! (clones and AIQUM jobs of 3 s, real time), at the live default concurrency, against the
//! conformant mock and against deviating ones: wall time, and how much longer than conformant.
//! Goals: conformant < 60 s; a deviating server no more than 30 s longer.
//!
//! Knobs (env): `JC_BENCH_FLEET_ROUNDS` (default 2), `JC_BENCH_FLEET_MAX` (default 100; 0 skips
//! the fleet table), `JC_BENCH_LIVE` (comma-separated deviations for the live table, `none` for
//! the conformant mock; default `none,status-completed,standard-poll-blocks`; empty skips it).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::served::{PW_ENV, Served, binary, profile, serve};
use common::{Table, knob, median};

/// Runs the suite against a profile; wall time, exit code, peak VmHWM (KiB).
fn run(bin: &Path, profile: &Path, extra: &[&str]) -> Result<(Duration, i32, u64), String> {
    let t = Instant::now();
    let mut child = Command::new(bin)
        .arg("run")
        .args(extra)
        .arg("--profile")
        .arg(profile)
        .env(PW_ENV, common::PASSWORD)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("start `run`: {e}"))?;
    let pid = child.id().to_string();
    let mut hwm = 0;
    let status = loop {
        if let Some(k) = common::status_kib(&pid, "VmHWM") {
            hwm = hwm.max(k);
        }
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("wait for `run`: {e}")),
        }
        if t.elapsed() > Duration::from_secs(300) {
            let _ = child.kill();
            let _ = child.wait();
            return Err("`run` took more than 300 s; killed".into());
        }
    };
    Ok((t.elapsed(), status.code().unwrap_or(-1), hwm))
}

/// A profile for one live target on `m`, with mutations, the mock's LUN create as the call and
/// one larger than its aggregates as the failing call (deadline 60 s).
fn live_profile(m: &Served) -> String {
    let call = |name: &str, size: u64| {
        format!(
            "[targets.lab.{name}]\nmethod = \"POST\"\npath = \"/storage-provider/luns\"\n\
             body = {{ name = \"jc-bench\", space = {{ size = {size} }}, svm = {{ key = \"svm-1\" }} }}\n\
             [targets.lab.{name}.cleanup]\nmethod = \"DELETE\"\n\
             path = \"/storage-provider/luns/${{result:lunKey}}\"\n"
        )
    };
    format!(
        "[targets.lab]\nelement = {}\naiqum = {}\npassword_env = \"{PW_ENV}\"\n\
         allow_mutations = true\ndeadline_s = 60\n{}{}",
        m.urls["element"],
        m.urls["aiqum"],
        call("aiqum_call", 1 << 30),
        call(
            "aiqum_failing_call",
            jobconform::mock::aiqum::AGGREGATE_BYTES + 1
        )
    )
}

/// The live table: one run per deviation (or `none`) of `JC_BENCH_LIVE`.
fn live(bin: &Path) {
    let list = std::env::var("JC_BENCH_LIVE")
        .unwrap_or_else(|_| "none,status-completed,standard-poll-blocks".into());
    let mut t = Table::new(
        "Live run with mutations and a failing call against `serve --time-scale 1` (concurrency 2)",
        &["server", "wall", "vs conformant", "exit code", "goal"],
    );
    let mut conformant = None;
    for d in list.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let mut args = vec!["--time-scale", "1"];
        if d != "none" {
            args.extend(["--deviation", d]);
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let p = dir.path().join("live.toml");
        let res = serve(bin, &args).and_then(|m| {
            std::fs::write(&p, live_profile(&m)).map_err(|e| format!("write a profile: {e}"))?;
            run(bin, &p, &["--snapshots", "off"])
        });
        match res {
            Ok((wall, code, _)) => {
                let w = wall.as_secs_f64();
                let base = *conformant.get_or_insert(w);
                let (more, goal) = match d {
                    "none" => ("-".to_string(), "< 60 s"),
                    _ => (format!("{:+.1} s", w - base), "<= +30 s"),
                };
                t.row(vec![
                    d.to_string(),
                    format!("{w:.1} s"),
                    more,
                    code.to_string(),
                    goal.into(),
                ]);
            }
            Err(e) => t.note(format!("{d}: {e}")),
        }
    }
    t.print();
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if let Some(bin) = binary() {
        live(&bin);
    }
    let rounds = knob("JC_BENCH_FLEET_ROUNDS", 2);
    let max = knob("JC_BENCH_FLEET_MAX", 100);
    if max == 0 {
        return;
    }
    let mut t = Table::new(
        "Fleet: one run against N mock targets (`serve` processes, --profile)",
        &[
            "targets",
            "wall (median)",
            "ratio to 1 target",
            "per target",
            "run VmHWM (MiB, max)",
            "exit codes",
        ],
    );
    let Some(bin) = binary() else {
        t.note("no jobconform binary next to this bench: nothing measured");
        t.print();
        return;
    };
    let sizes: Vec<usize> = [1usize, 10, 100]
        .into_iter()
        .filter(|n| *n <= max)
        .collect();
    let want = sizes.iter().copied().max().unwrap_or(1);
    let t0 = Instant::now();
    let mut mocks = Vec::new();
    for _ in 0..want {
        match serve(&bin, &["--time-scale", "50"]) {
            Ok(s) => mocks.push(s),
            Err(e) => {
                t.note(format!("`{} serve` failed: {e}", bin.display()));
                break;
            }
        }
    }
    let started = t0.elapsed();
    if mocks.len() < want {
        t.print();
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut paths = Vec::new();
    for n in &sizes {
        let p = dir.path().join(format!("fleet-{n}.toml"));
        std::fs::write(&p, profile(&mocks[..*n])).expect("write a profile");
        paths.push(p);
    }
    // The largest fleet again with --test-threads 200: by default the runner caps libtest's
    // threads at 32, which bounds a large fleet.
    let mut extras: Vec<&[&str]> = vec![&[]; sizes.len()];
    let mut sizes = sizes;
    if want >= 100 {
        sizes.push(want);
        paths.push(paths[paths.len() - 1].clone());
        extras.push(&["--test-threads", "200"]);
    }
    let mut walls: Vec<Vec<f64>> = vec![Vec::new(); sizes.len()];
    let mut hwms: Vec<u64> = vec![0; sizes.len()];
    let mut codes: Vec<Vec<i32>> = vec![Vec::new(); sizes.len()];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); sizes.len()];
    for _ in 0..rounds {
        let mut one = None;
        for (i, p) in paths.iter().enumerate() {
            match run(&bin, p, extras[i]) {
                Ok((d, code, hwm)) => {
                    let s = d.as_secs_f64();
                    walls[i].push(s);
                    hwms[i] = hwms[i].max(hwm);
                    codes[i].push(code);
                    let base = *one.get_or_insert(s);
                    ratios[i].push(s / base);
                }
                Err(e) => t.note(format!("{} targets: {e}", sizes[i])),
            }
        }
    }
    for (i, n) in sizes.iter().enumerate() {
        if walls[i].is_empty() {
            continue;
        }
        let w = median(&walls[i]);
        t.row(vec![
            format!("{n} {}", extras[i].join(" ")).trim().to_string(),
            format!("{w:.2} s"),
            format!("{:.2}x", median(&ratios[i])),
            format!("{:.3} s", w / *n as f64),
            format!("{:.1}", hwms[i] as f64 / 1024.0),
            format!("{:?}", codes[i]),
        ]);
    }
    t.note(format!(
        "{rounds} rounds, sizes interleaved within each; ratio = median of per-round ratios to \
         that round's 1-target run. The {want} `serve` processes (time scale 50) started in \
         {:.2} s and serve every size (the first N). Profile targets are live targets to the \
         runner (allow_mutations = true, no control API), so scripted cases are skipped there.",
        started.as_secs_f64()
    ));
    t.print();
    drop(mocks);
}
