//! Bench: jobconform's mock beside the test doubles a client team would pick instead, each as a
//! separate process on loopback: `jobconform serve`, WireMock standalone (static stubs, plus a
//! scenario for running -> complete) and Prism (`@stoplight/prism-cli mock` of a minimal OpenAPI
//! document of the two endpoints). The same bodies (taken from `serve`'s own answers) for
//! GetAsyncResult running, GetAsyncResult complete with keepResult, and an AIQUM job GET;
//! requests per second and p99 at 1, 16 and 64 keep-alive connections; ratios against `serve`.
//! A double whose runtime (Java, Node) or package is missing is skipped with a note. Never part
//! of `cargo test`; owns nothing but measurement.
//!
//! Set-up of the doubles (outside the repository's tree of sources, in target/):
//! `npm install --prefix target/doubles wiremock@3.13.2 @stoplight/prism-cli@5.16.0`.
//! Knobs (env): `JC_BENCH_DOUBLES_DIR` (default `target/doubles`), `JC_BENCH_ROUND_MS` (default
//! 1000), `JC_BENCH_ROUNDS` (default 3), `JC_BENCH_CONNS` (default `1,16,64`),
//! `JC_BENCH_WARMUP_MS` (untimed load per server and request before measuring, default 3000:
//! the JVM's JIT and Node's optimizer warm up).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{MockUrls, Req, Table, bare_client, fmt_rps, fmt_us, median, percentile};
use serde_json::{Value, json};

const KEY: &str = "06a6148bf9e862df:-2611856e:16e8d47e722:-7f87";

/// A double's process, killed when dropped.
enum Process {
    /// `jobconform serve` (held for its drop, which kills it).
    Served(#[expect(dead_code, reason = "held only to be dropped")] common::served::Served),
    /// WireMock's JVM or Prism's Node.
    Other(Child),
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Process::Other(c) = self {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// One double: its name, and the three requests aimed at it.
struct Double {
    name: String,
    reqs: [Req; 3],
    _proc: Process,
    /// Its files (stubs, OpenAPI document), removed when it is dropped.
    _files: Option<tempfile::TempDir>,
}

const SCENARIOS: [&str; 3] = [
    "GetAsyncResult running",
    "GetAsyncResult complete keepResult",
    "AIQUM job GET",
];

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn gar(url: &str, handle: u64) -> Req {
    let body = json!({"method": "GetAsyncResult",
        "params": {"asyncHandle": handle, "keepResult": true}, "id": 1});
    Req::post(url.to_owned(), &body)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn on_path(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Waits (bounded) until `req` answers 2xx.
async fn ready(req: &Req, within: Duration) -> bool {
    let c = bare_client();
    let end = Instant::now() + within;
    while Instant::now() < end {
        if let Ok((s, _)) = req.send(&c).await
            && (200..300).contains(&s)
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// `jobconform serve` with one running and one finished Element job and one running AIQUM job;
/// the double and the three bodies it answered.
async fn serve() -> (Double, [bytes::Bytes; 3]) {
    let bin = common::served::binary().expect("the jobconform binary beside this bench");
    let served = common::served::serve(&bin, &[]).expect("start jobconform serve");
    let s = |k: &str| served.urls[k].as_str().expect("a URL").to_owned();
    let u = MockUrls {
        element: s("element"),
        aiqum: s("aiqum"),
        control: s("control"),
    };
    let c = bare_client();
    let running = common::element_job(&c, &u, &common::script_running(1_000_000_000)).await;
    let done = common::element_job(&c, &u, &json!({"steps": [], "outcome": "success"})).await;
    let key = common::aiqum_job(&c, &u, &common::script_running(1_000_000_000)).await;
    let reqs = [
        gar(&u.element, running),
        gar(&u.element, done),
        Req::get(format!("{}/management-server/jobs/{key}", u.aiqum)),
    ];
    let mut bodies = Vec::new();
    for r in &reqs {
        let mut rb = c
            .request(r.method.clone(), &r.url)
            .basic_auth(common::USER, Some(common::PASSWORD));
        if let Some(b) = &r.body {
            rb = rb.body(b.clone());
        }
        bodies.push(
            rb.send()
                .await
                .expect("ask serve")
                .bytes()
                .await
                .expect("body"),
        );
    }
    let bodies: [bytes::Bytes; 3] = bodies.try_into().expect("three bodies");
    let d = Double {
        name: "jobconform serve".into(),
        reqs,
        _proc: Process::Served(served),
        _files: None,
    };
    (d, bodies)
}

/// WireMock stubs: handle 1 running, handle 2 complete, handle 3 a scenario (running once, then
/// complete), the AIQUM job; every stub requires the mock's Basic credentials.
fn wiremock_mappings(bodies: &[bytes::Bytes; 3]) -> Value {
    let auth = json!({"username": common::USER, "password": common::PASSWORD});
    let text = |b: &bytes::Bytes| String::from_utf8_lossy(b).into_owned();
    let rpc = |handle: u64| {
        json!({"method": "POST", "url": "/json-rpc/12.5", "basicAuthCredentials": auth,
            "bodyPatterns": [{"matchesJsonPath":
                format!("$[?(@.method == 'GetAsyncResult' && @.params.asyncHandle == {handle})]")}]})
    };
    let answer = |b: &bytes::Bytes| json!({"status": 200, "headers": {"Content-Type": "application/json"}, "body": text(b)});
    json!({"mappings": [
        {"request": rpc(1), "response": answer(&bodies[0])},
        {"request": rpc(2), "response": answer(&bodies[1])},
        {"scenarioName": "clone", "requiredScenarioState": "Started",
         "newScenarioState": "complete", "request": rpc(3), "response": answer(&bodies[0])},
        {"scenarioName": "clone", "requiredScenarioState": "complete",
         "request": rpc(3), "response": answer(&bodies[1])},
        {"request": {"method": "GET", "url": format!("/api/management-server/jobs/{KEY}"),
            "basicAuthCredentials": auth}, "response": answer(&bodies[2])}
    ]})
}

async fn wiremock(dir: &Path, bodies: &[bytes::Bytes; 3]) -> Result<Double, String> {
    if !on_path("java") {
        return Err("java is not on PATH".into());
    }
    let jar = std::fs::read_dir(dir.join("node_modules/wiremock/build"))
        .map_err(|e| format!("no WireMock package under {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "jar"))
        .ok_or("no WireMock standalone jar in the npm package")?;
    let root = tempfile::tempdir().map_err(|e| e.to_string())?;
    std::fs::create_dir_all(root.path().join("mappings")).map_err(|e| e.to_string())?;
    std::fs::write(
        root.path().join("mappings/jobconform.json"),
        wiremock_mappings(bodies).to_string(),
    )
    .map_err(|e| e.to_string())?;
    let port = free_port();
    let child = Command::new("java")
        .arg("-jar")
        .arg(&jar)
        .args(["--port", &port.to_string(), "--bind-address", "127.0.0.1"])
        .args([
            "--disable-banner",
            "--no-request-journal",
            "--disable-request-logging",
        ])
        .arg("--root-dir")
        .arg(root.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("start WireMock: {e}"))?;
    let proc = Process::Other(child);
    let base = format!("http://127.0.0.1:{port}");
    let rpc = format!("{base}/json-rpc/12.5");
    let reqs = [
        gar(&rpc, 1),
        gar(&rpc, 2),
        Req::get(format!("{base}/api/management-server/jobs/{KEY}")),
    ];
    if !ready(&reqs[2], Duration::from_secs(60)).await {
        return Err("WireMock did not answer within 60 s".into());
    }
    // The scenario: running once, then complete (what its state machine can express).
    let c = bare_client();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let r = gar(&rpc, 3);
        let body = r
            .send(&c)
            .await
            .map_err(|e| format!("scenario request: {e}"))?;
        seen.push(body.1);
    }
    if seen != [bodies[0].len(), bodies[1].len(), bodies[1].len()] {
        return Err(format!("the WireMock scenario answered lengths {seen:?}"));
    }
    Ok(Double {
        name: "WireMock (static stubs)".into(),
        reqs,
        _proc: proc,
        _files: Some(root),
    })
}

/// A minimal OpenAPI 3.0 document of the two endpoints, one example per answer (Prism picks an
/// example by the `Prefer: example=NAME` header; it cannot branch on a JSON-RPC body).
fn openapi(bodies: &[bytes::Bytes; 3]) -> Value {
    let v = |b: &bytes::Bytes| serde_json::from_slice::<Value>(b).unwrap_or(Value::Null);
    json!({
        "openapi": "3.0.3",
        "info": {"title": "jobconform doubles", "version": "1"},
        "components": {"securitySchemes": {"basic": {"type": "http", "scheme": "basic"}}},
        "security": [{"basic": []}],
        "paths": {
            "/json-rpc/12.5": {"post": {
                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {"200": {"description": "GetAsyncResult",
                    "content": {"application/json": {"examples": {
                        "running": {"value": v(&bodies[0])},
                        "complete": {"value": v(&bodies[1])}}}}}}}},
            "/api/management-server/jobs/{key}": {"get": {
                "parameters": [{"name": "key", "in": "path", "required": true,
                    "schema": {"type": "string"}}],
                "responses": {"200": {"description": "a job",
                    "content": {"application/json": {"examples": {
                        "job": {"value": v(&bodies[2])}}}}}}}}
        }
    })
}

async fn prism(dir: &Path, bodies: &[bytes::Bytes; 3]) -> Result<Double, String> {
    if !on_path("node") {
        return Err("node is not on PATH".into());
    }
    let bin = dir.join("node_modules/.bin/prism");
    if !bin.exists() {
        return Err(format!("no Prism CLI at {}", bin.display()));
    }
    let files = tempfile::tempdir().map_err(|e| e.to_string())?;
    let spec = files.path().join("jobs.openapi.json");
    std::fs::write(&spec, openapi(bodies).to_string()).map_err(|e| e.to_string())?;
    let port = free_port();
    let child = Command::new(&bin)
        .arg("mock")
        .arg(&spec)
        .args([
            "-p",
            &port.to_string(),
            "-h",
            "127.0.0.1",
            "--errors",
            "false",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("start Prism: {e}"))?;
    let proc = Process::Other(child);
    let base = format!("http://127.0.0.1:{port}");
    let rpc = format!("{base}/json-rpc/12.5");
    let prefer = |mut r: Req, name: &str| {
        r.headers.push(("Prefer", format!("example={name}")));
        r
    };
    let reqs = [
        prefer(gar(&rpc, 1), "running"),
        prefer(gar(&rpc, 2), "complete"),
        Req::get(format!("{base}/api/management-server/jobs/{KEY}")),
    ];
    if !ready(&reqs[2], Duration::from_secs(90)).await {
        return Err("Prism did not answer within 90 s".into());
    }
    Ok(Double {
        name: "Prism (OpenAPI examples)".into(),
        reqs,
        _proc: proc,
        _files: Some(files),
    })
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let round = Duration::from_millis(env_u64("JC_BENCH_ROUND_MS", 1000));
    let rounds = env_u64("JC_BENCH_ROUNDS", 3) as usize;
    let conns: Vec<usize> = std::env::var("JC_BENCH_CONNS")
        .unwrap_or_else(|_| "1,16,64".into())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    let dir = std::env::var_os("JC_BENCH_DOUBLES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/doubles")));
    let rt = common::multi_rt(2);
    let mut notes = Vec::new();
    let doubles = rt.block_on(async {
        let (subject, bodies) = serve().await;
        let mut all = vec![subject];
        match wiremock(&dir, &bodies).await {
            Ok(d) => all.push(d),
            Err(e) => notes.push(format!("WireMock skipped: {e}")),
        }
        match prism(&dir, &bodies).await {
            Ok(d) => all.push(d),
            Err(e) => notes.push(format!("Prism skipped: {e}")),
        }
        all
    });
    let mut t = Table::new(
        "jobconform serve vs WireMock and Prism (same bodies, separate processes, loopback)",
        &[
            "request",
            "server",
            "conns",
            "req/s",
            "p99",
            "vs serve req/s",
        ],
    );
    let warmup = Duration::from_millis(env_u64("JC_BENCH_WARMUP_MS", 3000));
    let warm_clients: Vec<_> = (0..16).map(|_| bare_client()).collect();
    for d in &doubles {
        for r in &d.reqs {
            rt.block_on(common::load(r, &warm_clients, warmup));
        }
    }
    for (i, scenario) in SCENARIOS.iter().enumerate() {
        for &n in &conns {
            let clients: Vec<_> = (0..n).map(|_| bare_client()).collect();
            // Rounds interleave the servers, so that machine noise falls on all of them alike.
            let mut rps = vec![Vec::new(); doubles.len()];
            let mut lat = vec![Vec::new(); doubles.len()];
            for _ in 0..rounds {
                for (k, d) in doubles.iter().enumerate() {
                    let s = rt.block_on(common::load(&d.reqs[i], &clients, round));
                    if s.errors > 0 && s.ok == 0 {
                        notes.push(format!("{}: {scenario}: every request failed", d.name));
                    }
                    rps[k].push(s.rps());
                    lat[k].extend(s.lat_us);
                }
            }
            let base = median(&rps[0]).max(1e-9);
            for (k, d) in doubles.iter().enumerate() {
                let r = median(&rps[k]);
                t.row(vec![
                    (*scenario).into(),
                    d.name.clone(),
                    n.to_string(),
                    fmt_rps(r),
                    fmt_us(percentile(&lat[k], 99.0)),
                    format!("{:.2}x", r / base),
                ]);
            }
        }
    }
    t.note(format!(
        "{rounds} interleaved rounds of {} ms per server and connection count, after {} ms of \
         untimed load per server and request; req/s is the median round; p99 over all rounds. \
         Client and servers share the machine.",
        round.as_millis(),
        warmup.as_millis()
    ));
    t.note(
        "WireMock: --no-request-journal --disable-request-logging, stubs matched by JSONPath on \
         the body; its running -> complete scenario was exercised once before measuring.",
    );
    t.note(
        "Prism: `mock --errors false`; the GetAsyncResult example chosen by `Prefer: example=`.",
    );
    for n in notes {
        t.note(n);
    }
    t.print();
}
