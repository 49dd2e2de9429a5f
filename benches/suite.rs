//! Bench: wall time of the whole default suite against the embedded mock (`jobconform run`, the
//! binary cargo built for this bench, build excluded), and the harness's overhead: the same
//! requests (read from the run's `--report-json` transcripts) replayed by a bare reqwest loop
//! against a fresh mock, cases replayed 16 at a time like the runner's default. Goals: suite
//! < 1 s, overhead < 1.5x. Owns nothing but measurement.
//!
//! Knobs (env): `JC_BENCH_SUITE_RUNS` (runs of each side, default 3), `JC_BENCH_DEBUG` (print
//! replayed requests slower than 50 ms).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::served::binary;
use common::{Table, median};
use serde_json::Value;

/// One request of a transcript.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    url: String,
    auth: String,
    body: Option<Value>,
}

/// Every transcript (array of exchanges) in a report, in document order.
fn transcripts(v: &Value, out: &mut Vec<Vec<Recorded>>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "transcript"
                    && let Value::Array(a) = x
                {
                    out.push(a.iter().filter_map(recorded).collect());
                } else {
                    transcripts(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| transcripts(x, out)),
        _ => {}
    }
}

fn recorded(ex: &Value) -> Option<Recorded> {
    let r = ex.get("request")?;
    Some(Recorded {
        method: r.get("method")?.as_str()?.to_string(),
        url: r.get("url")?.as_str()?.to_string(),
        auth: r
            .get("auth")
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string(),
        body: r.get("body").cloned(),
    })
}

/// `{"pass": 127, "fail": 0, ...}` -> `pass 127` (non-zero counts only).
fn summary(v: &Value) -> String {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, n)| n.as_u64().is_some_and(|n| n > 0))
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// `run --list` once (load and compile everything, plan the trials, send nothing); wall time.
fn list_once(bin: &Path) -> Option<Duration> {
    let t = Instant::now();
    let st = Command::new(bin)
        .args(["run", "--list"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    st.success().then(|| t.elapsed())
}

/// Sum of the recorded answer times (`elapsed_ms`) of every exchange in a report, in ms.
fn in_requests_ms(v: &Value) -> u64 {
    match v {
        Value::Object(m) => {
            m.get("elapsed_ms").and_then(Value::as_u64).unwrap_or(0)
                + m.values().map(in_requests_ms).sum::<u64>()
        }
        Value::Array(a) => a.iter().map(in_requests_ms).sum(),
        _ => 0,
    }
}

/// Runs the suite once; wall time, exit code, and the report (if written).
fn run_once(
    bin: &Path,
    report: &Path,
    extra: &[&str],
) -> Result<(Duration, i32, Option<Value>), String> {
    let _ = std::fs::remove_file(report);
    let t = Instant::now();
    let st = Command::new(bin)
        .arg("run")
        .args(extra)
        .arg("--report-json")
        .arg(report)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("start {}: {e}", bin.display()))?;
    let took = t.elapsed();
    let code = st.status.code().unwrap_or(-1);
    if !report.exists() {
        let err = String::from_utf8_lossy(&st.stderr);
        let last = err.lines().rev().take(3).collect::<Vec<_>>().join(" / ");
        return Err(format!(
            "exit {code}, no report written (the binary has no `run` yet?): {last}"
        ));
    }
    let rep = std::fs::read(report)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    Ok((took, code, rep))
}

/// Replays transcripts against a mock at `base` (`http://ADDR`), `par` cases at a time.
async fn replay(cases: &[Vec<Recorded>], base: &str, par: usize) -> (Duration, u64) {
    let t = Instant::now();
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(par));
    jobconform::transport::install_crypto();
    let shared = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(par)
        .build()
        .expect("build a reqwest client");
    let mut tasks = Vec::new();
    for case in cases {
        let c = shared.clone();
        let case = case.clone();
        let base = base.to_string();
        let sem = sem.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await;
            let mut n = 0u64;
            for r in &case {
                let url = rebase(&r.url, &base);
                let method = reqwest::Method::from_bytes(r.method.as_bytes())
                    .unwrap_or(reqwest::Method::GET);
                let mut rb = c.request(method, url);
                rb = match r.auth.as_str() {
                    "none" => rb,
                    "wrong" => rb.basic_auth(common::USER, Some("wrong")),
                    _ => rb.basic_auth(common::USER, Some(common::PASSWORD)),
                };
                if let Some(b) = &r.body {
                    let bytes = match b {
                        Value::String(s) => s.clone().into_bytes(),
                        v => v.to_string().into_bytes(),
                    };
                    rb = rb
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(bytes);
                }
                let t = Instant::now();
                if let Ok(resp) = rb.timeout(Duration::from_secs(5)).send().await {
                    let _ = resp.bytes().await;
                }
                if std::env::var_os("JC_BENCH_DEBUG").is_some()
                    && t.elapsed() > Duration::from_millis(50)
                {
                    eprintln!("slow replay: {:?} {} {}", t.elapsed(), r.method, r.url);
                }
                n += 1;
            }
            n
        }));
    }
    let mut n = 0;
    for t in tasks {
        n += t.await.unwrap_or(0);
    }
    (t.elapsed(), n)
}

/// `http://127.0.0.1:1234/api/x?y` with base `http://127.0.0.1:999` -> `http://127.0.0.1:999/api/x?y`.
fn rebase(url: &str, base: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => {
            let q = u.query().map(|q| format!("?{q}")).unwrap_or_default();
            format!("{base}{}{q}", u.path())
        }
        Err(_) => url.to_string(),
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runs = std::env::var("JC_BENCH_SUITE_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3usize);
    let mut t = Table::new(
        "Suite wall time (embedded mock, build excluded) and harness overhead vs a bare replay",
        &["measure", "median", "runs", "ratio", "goal"],
    );
    let Some(bin) = binary() else {
        t.note("no jobconform binary next to this bench: nothing measured");
        t.print();
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let report = dir.path().join("report.json");
    let rt = common::multi_rt(2);
    let mut walls = Vec::new();
    let mut replays = Vec::new();
    let mut ratios = Vec::new();
    let mut requests = 0u64;
    let mut cases_n = 0usize;
    let mut code = 0;
    let mut verdict = String::new();
    let mut lists = Vec::new();
    let mut req_ms = Vec::new();
    for _ in 0..runs {
        let listed = list_once(&bin);
        let (wall, c, rep) = match run_once(&bin, &report, &[]) {
            Ok(x) => x,
            Err(e) => {
                t.note(format!("`{} run` did not complete: {e}", bin.display()));
                break;
            }
        };
        code = c;
        if let Some(r) = &rep {
            verdict = summary(&r["summary"]);
        }
        walls.push(wall.as_secs_f64());
        if let Some(d) = listed {
            lists.push(d.as_secs_f64());
        }
        let mut cases = Vec::new();
        if let Some(rep) = &rep {
            transcripts(rep, &mut cases);
            req_ms.push(in_requests_ms(rep) as f64);
        }
        cases.retain(|c| !c.is_empty());
        if cases.is_empty() {
            continue;
        }
        cases_n = cases.len();
        // The replay goes to a fresh mock with the run's default time scale (50).
        let (took, n) = rt.block_on(async {
            let config = jobconform::mock::MockConfig {
                time_scale: 50.0,
                ..Default::default()
            };
            let mock = jobconform::mock::spawn(config).await.expect("spawn a mock");
            let base = format!("http://{}", mock.addr);
            let r = replay(&cases, &base, 16).await;
            mock.stop().await;
            r
        });
        requests = n;
        replays.push(took.as_secs_f64());
        ratios.push(wall.as_secs_f64() / took.as_secs_f64().max(1e-9));
    }
    // The same run with the old default concurrency and with a faster mock clock, to show where
    // the time goes.
    let mut var_rows = Vec::new();
    if !walls.is_empty() {
        let variants: [&[&str]; 3] = [
            &["--concurrency", "4"],
            &["--mock-time-scale", "500"],
            &["--mock-time-scale", "500", "--concurrency", "32"],
        ];
        for v in variants {
            let mut w = Vec::new();
            let mut verdicts = Vec::new();
            for _ in 0..runs {
                if let Ok((d, c, rep)) = run_once(&bin, &report, v) {
                    w.push(d.as_secs_f64());
                    let s = rep.as_ref().map(|r| summary(&r["summary"]));
                    verdicts.push(format!("exit {c}, {}", s.unwrap_or_default()));
                }
            }
            if !w.is_empty() {
                verdicts.dedup();
                var_rows.push((v.join(" "), median(&w), w.len(), verdicts.join("; ")));
            }
        }
    }
    if !walls.is_empty() {
        let w = median(&walls);
        t.row(vec![
            format!("`jobconform run` (exit {code}, {verdict})"),
            format!("{w:.3} s"),
            walls.len().to_string(),
            "-".into(),
            format!("< 1 s: {}", if w < 1.0 { "met" } else { "missed" }),
        ]);
    }
    let base_wall = median(&walls);
    for (args, w, n, verdicts) in &var_rows {
        t.row(vec![
            format!("`jobconform run {args}` ({verdicts})"),
            format!("{w:.3} s"),
            n.to_string(),
            format!(
                "{:.2}x of the default run; run/replay {:.2}x",
                w / base_wall.max(1e-9),
                w / median(&replays).max(1e-9)
            ),
            format!("< 1 s: {}", if *w < 1.0 { "met" } else { "missed" }),
        ]);
    }
    if !lists.is_empty() {
        let l = median(&lists);
        t.row(vec![
            "`jobconform run --list` (start-up: load, compile, plan; no request)".into(),
            format!("{l:.3} s"),
            lists.len().to_string(),
            format!("{:.0}% of the run", 100.0 * l / median(&walls).max(1e-9)),
            "-".into(),
        ]);
    }
    if !req_ms.is_empty() {
        t.row(vec![
            "time inside requests, summed over all cases (from the report)".into(),
            format!("{:.3} s", median(&req_ms) / 1000.0),
            req_ms.len().to_string(),
            "-".into(),
            "-".into(),
        ]);
    }
    if !replays.is_empty() {
        let r = median(&ratios);
        t.row(vec![
            format!("bare replay of its {requests} requests ({cases_n} transcripts)"),
            format!("{:.3} s", median(&replays)),
            replays.len().to_string(),
            format!("run/replay {r:.2}x"),
            format!("< 1.5x: {}", if r < 1.5 { "met" } else { "missed" }),
        ]);
    } else if !walls.is_empty() {
        t.note("the report held no transcripts: no replay baseline");
    }
    t.note(format!(
        "Binary: {}. Each run is a fresh process (`run --report-json PATH`, stdout discarded); \
         its wall time includes process start, case loading, the embedded mock (time scale 50) \
         and the target-time waits the cases script. The replay sends the recorded requests \
         (same method, path, auth, body) to a fresh in-process mock without any waits, one shared \
         reqwest client (keep-alive pool), 16 cases at a time, interleaved with the runs.",
        bin.display()
    ));
    t.print();
}
