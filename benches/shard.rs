//! Bench: a fleet of `jobconform serve` targets run as 4 shards (`run --shard K/4`, 4 processes
//! at once, as a CI matrix would on 4 machines) against one unsplit run of the same profile: the
//! wall time of the slowest shard as a ratio of the unsplit run's (rounds interleave the two); and
//! `jobconform merge` of 100 verdicts of 140 cases each (the verdict of one run against the
//! embedded mock, renamed to 100 targets and numbered as shards 1..100 of a split run), in
//! process and through the binary. Owns nothing but measurement; stops every process it started
//! (by its own handle).
//!
//! This machine is shared (2 cores, other builds running): 4 processes on 2 cores cannot run 4
//! times faster, so the ratio here says what the split costs and saves on a busy machine; on 4
//! machines each shard has its cores to itself.
//!
//! Knobs (env): `JC_BENCH_SHARD_TARGETS` (fleet size, default 100; 0: merge only), `JC_BENCH_SHARD_ROUNDS`
//! (default 2), `JC_BENCH_SHARD_VERDICTS` (verdicts merged, default 100; 0: no merge).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::served::{PW_ENV, binary, profile, serve};
use common::{Table, knob, median};
use serde_json::{Value, json};

fn spawn(bin: &Path, args: &[&str]) -> Result<std::process::Child, String> {
    Command::new(bin)
        .args(args)
        .env(PW_ENV, common::PASSWORD)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("start `{}`: {e}", args.join(" ")))
}

/// Runs the given `run` argument lists as processes at once; wall time until the last ends, and
/// the exit codes.
fn at_once(bin: &Path, runs: &[Vec<String>]) -> Result<(Duration, Vec<i32>), String> {
    let t = Instant::now();
    let mut children = Vec::new();
    for r in runs {
        let args: Vec<&str> = r.iter().map(String::as_str).collect();
        children.push(spawn(bin, &args)?);
    }
    let mut codes = Vec::new();
    for mut c in children {
        loop {
            match c.try_wait() {
                Ok(Some(st)) => {
                    codes.push(st.code().unwrap_or(-1));
                    break;
                }
                Ok(None) if t.elapsed() > Duration::from_secs(600) => {
                    let _ = c.kill();
                    let _ = c.wait();
                    return Err("a run took more than 600 s; killed".into());
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => return Err(format!("wait for a run: {e}")),
            }
        }
    }
    Ok((t.elapsed(), codes))
}

fn fleet(bin: &Path, t: &mut Table, targets: usize, rounds: usize) {
    let mut mocks = Vec::new();
    for _ in 0..targets {
        match serve(bin, &["--time-scale", "50"]) {
            Ok(s) => mocks.push(s),
            Err(e) => {
                t.note(format!("`serve` failed: {e}"));
                return;
            }
        }
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let p = dir.path().join("fleet.toml");
    std::fs::write(&p, profile(&mocks)).expect("write a profile");
    let p = p.display().to_string();
    let whole = vec![vec!["run".into(), "--profile".into(), p.clone()]];
    let shards: Vec<Vec<String>> = (1..=4)
        .map(|k| {
            ["run", "--profile", &p, "--shard", &format!("{k}/4")]
                .map(String::from)
                .to_vec()
        })
        .collect();
    let (mut walls, mut split, mut ratios, mut codes) = (vec![], vec![], vec![], vec![]);
    for _ in 0..rounds {
        match (at_once(bin, &whole), at_once(bin, &shards)) {
            (Ok((w, c1)), Ok((s, c4))) => {
                walls.push(w.as_secs_f64());
                split.push(s.as_secs_f64());
                ratios.push(s.as_secs_f64() / w.as_secs_f64());
                codes.push((c1, c4));
            }
            (Err(e), _) | (_, Err(e)) => t.note(e),
        }
    }
    if walls.is_empty() {
        return;
    }
    t.row(vec![
        format!("{targets} targets"),
        format!("{:.2} s", median(&walls)),
        format!("{:.2} s", median(&split)),
        format!("{:.2}x", median(&ratios)),
        format!("{codes:?}"),
    ]);
    t.note(format!(
        "{rounds} round(s), unsplit then 4 shards in each; ratio = median of per-round \
         (4 shards at once, until the last ends) / (one unsplit run)"
    ));
}

/// 100 verdicts of one 140-case run, renamed as shards 1..n of an n-target split run.
fn verdicts(dir: &Path, base: &Value, n: usize) -> Vec<PathBuf> {
    let names: Vec<String> = (1..=n).map(|i| format!("t{i:03}")).collect();
    let cases = base["cases"].as_array().map_or(0, Vec::len);
    (1..=n)
        .map(|k| {
            let name = &names[k - 1];
            let mut v = base.clone();
            v["targets"][0]["name"] = json!(name);
            for c in v["cases"].as_array_mut().into_iter().flatten() {
                let case = c["name"].as_str().unwrap_or_default().to_string();
                c["target"] = json!(name);
                c["trial"] = json!(format!("{name}/{case}"));
            }
            v["plan"]["targets"] = json!(names);
            v["plan"]["trials"] = json!(n * cases);
            v["plan"]["shard"] =
                json!({"index": k, "count": n, "by": "target", "sizes": vec![cases; n]});
            let p = dir.join(format!("v{k:03}.json"));
            std::fs::write(&p, v.to_string()).expect("write a verdict");
            p
        })
        .collect()
}

fn merges(bin: &Path, t: &mut Table, n: usize) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let base = dir.path().join("base.json");
    let b = base.display().to_string();
    if let Err(e) = at_once(
        bin,
        &[["run", "--mock-time-scale", "10", "--report-json", &b]
            .map(String::from)
            .to_vec()],
    ) {
        t.note(e);
        return;
    }
    let Ok(v) = std::fs::read_to_string(&base).map(|s| serde_json::from_str::<Value>(&s)) else {
        t.note("the embedded run wrote no verdict");
        return;
    };
    let Ok(v) = v else {
        t.note("the embedded run's verdict is not JSON");
        return;
    };
    let cases = v["cases"].as_array().map_or(0, Vec::len);
    let paths = verdicts(dir.path(), &v, n);
    let t0 = Instant::now();
    let merged = jobconform::merge::read_all(&paths).and_then(jobconform::merge::merge);
    let lib = t0.elapsed();
    let out = dir.path().join("all.json").display().to_string();
    let mut args: Vec<String> = vec!["merge".into()];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    args.extend(["-o".into(), out]);
    let cli = at_once(bin, &[args]);
    match (merged, cli) {
        (Ok(m), Ok((d, codes))) => t.row(vec![
            format!("merge {n} verdicts x {cases} cases"),
            format!("{:.3} s in process", lib.as_secs_f64()),
            format!("{:.3} s via the binary", d.as_secs_f64()),
            format!("{} trials", m.document.cases.len()),
            format!("{codes:?}"),
        ]),
        (Err(e), _) => t.note(format!("merge failed: {e}")),
        (_, Err(e)) => t.note(e),
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mut t = Table::new(
        "Shards: 4 `run --shard K/4` processes vs one run; merge of many verdicts",
        &[
            "what",
            "unsplit / in process",
            "4 shards / binary",
            "ratio / trials",
            "exit codes",
        ],
    );
    let Some(bin) = binary() else {
        t.note("no jobconform binary next to this bench: nothing measured");
        t.print();
        return;
    };
    let targets = knob("JC_BENCH_SHARD_TARGETS", 100);
    let rounds = knob("JC_BENCH_SHARD_ROUNDS", 2);
    let n = knob("JC_BENCH_SHARD_VERDICTS", 100);
    if targets > 0 {
        fleet(&bin, &mut t, targets, rounds);
    }
    if n > 0 {
        merges(&bin, &mut t, n);
    }
    t.print();
}
