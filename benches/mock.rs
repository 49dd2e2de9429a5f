//! Bench: the mock's throughput and latency under 1, 16 and 64 concurrent keep-alive connections,
//! each figure against a minimal axum handler that returns the same bytes, measured in the same
//! process with baseline and subject runs interleaved (ratio = median of per-round ratios); then
//! the cost of live jobs (10, 10,000, 100,000) per request, to create, and in resident memory.
//! Owns nothing but measurement: never changes the mock.
//!
//! Knobs (env): `JC_BENCH_ROUND_MS` (default 200), `JC_BENCH_ROUNDS` (default 11),
//! `JC_BENCH_MAX_JOBS` (default 100000), `JC_BENCH_ONLY` (`throughput`, `jobs` or `memory`),
//! `JC_BENCH_SCENARIO` (substring of a request name), `JC_BENCH_CONNS` (e.g. `1,16`).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use common::{
    MockUrls, Req, Sample, Table, bare_client, fmt_pct, fmt_rps, fmt_us, median, percentile,
};
use serde_json::json;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A minimal axum server answering `route` with fixed JSON bytes (any method, body consumed).
async fn baseline(route: &str, body: Bytes) -> std::net::SocketAddr {
    let handler = move |_b: Bytes| {
        let body = body.clone();
        async move {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                body,
            )
        }
    };
    let app = axum::Router::new().route(route, axum::routing::any(handler));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the baseline");
    let addr = l.local_addr().expect("baseline address");
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    addr
}

/// One scenario: the request to the mock and the same request shape to its baseline.
struct Scenario {
    name: &'static str,
    subject: Req,
    base: Req,
    bytes: usize,
}

fn rgar(url: String, handle: u64) -> Req {
    let body = json!({"method": "GetAsyncResult",
        "params": {"asyncHandle": handle, "keepResult": true}, "id": 1});
    Req::post(url, &body)
}

async fn scenarios(u: &MockUrls) -> Vec<Scenario> {
    let c = bare_client();
    let running = common::element_job(&c, u, &common::script_running(1_000_000_000)).await;
    let done = common::element_job(&c, u, &json!({"steps": [], "outcome": "success"})).await;
    let key = common::aiqum_job(&c, u, &common::script_running(1_000_000_000)).await;
    let subjects = [
        ("GetAsyncResult running", rgar(u.element.clone(), running)),
        (
            "GetAsyncResult complete keepResult",
            rgar(u.element.clone(), done),
        ),
        (
            "AIQUM job GET",
            Req::get(format!("{}/management-server/jobs/{key}", u.aiqum)),
        ),
        (
            "AIQUM list max_records=20",
            Req::get(format!("{}/management-server/jobs?max_records=20", u.aiqum)),
        ),
    ];
    let mut out = Vec::new();
    for (name, subject) in subjects {
        // The baseline returns exactly the bytes the mock answers, on a route of the same shape.
        let mut rb = c
            .request(subject.method.clone(), &subject.url)
            .basic_auth(common::USER, Some(common::PASSWORD));
        if let Some(b) = &subject.body {
            rb = rb.body(b.clone());
        }
        let resp = rb.send().await.expect("ask the mock");
        assert!(resp.status().is_success(), "{name}: {}", resp.status());
        let body = resp.bytes().await.expect("read the mock's answer");
        let url = reqwest::Url::parse(&subject.url).expect("a URL");
        let (route, rest) = if url.path().starts_with("/json-rpc") {
            ("/json-rpc/{version}", url.path().to_string())
        } else if url.path().ends_with("/jobs") {
            ("/api/management-server/jobs", url.path().to_string())
        } else {
            ("/api/management-server/jobs/{key}", url.path().to_string())
        };
        let addr = baseline(route, body.clone()).await;
        let q = url.query().map(|q| format!("?{q}")).unwrap_or_default();
        let base = Req {
            url: format!("http://{addr}{rest}{q}"),
            ..subject.clone()
        };
        out.push(Scenario {
            name,
            subject,
            base,
            bytes: body.len(),
        });
    }
    out
}

fn throughput(server: &tokio::runtime::Runtime, client: &tokio::runtime::Runtime) {
    let round = Duration::from_millis(env_u64("JC_BENCH_ROUND_MS", 200));
    let rounds = env_u64("JC_BENCH_ROUNDS", 11) as usize;
    let mock = server
        .block_on(jobconform::mock::spawn(Default::default()))
        .expect("spawn the mock");
    let u = MockUrls::of(&mock.urls);
    let scen = server.block_on(async {
        let u = u.clone();
        tokio::spawn(async move { scenarios(&u).await })
            .await
            .expect("set up the scenarios")
    });
    let mut t = Table::new(
        "Mock throughput and latency vs a minimal axum handler (same bytes, same process)",
        &[
            "request",
            "conns",
            "bytes",
            "mock req/s",
            "mock p50",
            "mock p99",
            "base req/s",
            "base p50",
            "base p99",
            "ratio (goal >= 70%)",
        ],
    );
    let pick = std::env::var("JC_BENCH_SCENARIO").unwrap_or_default();
    let conn_list: Vec<usize> = std::env::var("JC_BENCH_CONNS")
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| vec![1, 16, 64]);
    for s in scen.iter().filter(|s| s.name.contains(pick.as_str())) {
        for &conns in &conn_list {
            let clients: Vec<reqwest::Client> = (0..conns).map(|_| bare_client()).collect();
            let (mut subj, mut base, mut ratios) = (Sample::default(), Sample::default(), vec![]);
            let (mut srps, mut brps) = (vec![], vec![]);
            client.block_on(async {
                // Warm the connections of both servers.
                common::load(&s.base, &clients, Duration::from_millis(50)).await;
                common::load(&s.subject, &clients, Duration::from_millis(50)).await;
                for i in 0..rounds {
                    // Alternate which goes first, so drift does not favour either.
                    let (a, b) = if i % 2 == 0 {
                        let b = common::load(&s.base, &clients, round).await;
                        (common::load(&s.subject, &clients, round).await, b)
                    } else {
                        let a = common::load(&s.subject, &clients, round).await;
                        (a, common::load(&s.base, &clients, round).await)
                    };
                    ratios.push(a.rps() / b.rps().max(1e-9));
                    srps.push(a.rps());
                    brps.push(b.rps());
                    subj.errors += a.errors;
                    base.errors += b.errors;
                    subj.lat_us.extend(a.lat_us);
                    base.lat_us.extend(b.lat_us);
                }
            });
            let ratio = median(&ratios);
            let flag = if ratio >= 0.7 { "" } else { " (missed)" };
            t.row(vec![
                s.name.to_string(),
                conns.to_string(),
                s.bytes.to_string(),
                fmt_rps(median(&srps)),
                fmt_us(percentile(&subj.lat_us, 50.0)),
                fmt_us(percentile(&subj.lat_us, 99.0)),
                fmt_rps(median(&brps)),
                fmt_us(percentile(&base.lat_us, 50.0)),
                fmt_us(percentile(&base.lat_us, 99.0)),
                format!("{}{flag}", fmt_pct(ratio)),
            ]);
            if subj.errors + base.errors > 0 {
                t.note(format!(
                    "{} at {conns} conns: {} mock errors, {} baseline errors",
                    s.name, subj.errors, base.errors
                ));
            }
        }
    }
    t.note(format!(
        "{rounds} interleaved rounds of {} ms per cell; req/s = median of rounds; p50/p99 over all \
         requests of all rounds; ratio = median of per-round mock/baseline req/s. Server: \
         multi-thread tokio runtime (2 workers); load generator: another 2-worker runtime in the \
         same process, one reqwest client (one keep-alive connection) per connection.",
        round.as_millis()
    ));
    t.print();
    server.block_on(mock.stop());
}

/// Creates `n` jobs of each API with `conns` concurrent connections; the handle and key made last.
async fn create(u: &MockUrls, n: usize, conns: usize) -> (u64, String) {
    let u = Arc::new(u.clone());
    let per = n.div_ceil(conns);
    let mut tasks = Vec::new();
    for w in 0..conns {
        let count = per.min(n.saturating_sub(w * per));
        let u = u.clone();
        tasks.push(tokio::spawn(async move {
            let c = bare_client();
            let s = common::script_running(1_000_000_000);
            let mut last = (0u64, String::new());
            for _ in 0..count {
                last.0 = last.0.max(common::element_job(&c, &u, &s).await);
                last.1 = common::aiqum_job(&c, &u, &s).await;
            }
            last
        }));
    }
    let mut last = (0u64, String::new());
    for t in tasks {
        let (h, k) = t.await.expect("a creating task");
        if h > last.0 {
            last = (h, k);
        }
    }
    last
}

/// Latencies (serial, one connection, microseconds) of each request, interleaved in chunks of
/// up to 20 (fewer when a request is slow) until `budget` has passed.
async fn costs(reqs: &[&Req], c: &reqwest::Client, budget: Duration) -> Vec<Vec<f64>> {
    let start = Instant::now();
    let mut out: Vec<Vec<f64>> = vec![Vec::new(); reqs.len()];
    let mut chunk = vec![20usize; reqs.len()];
    while start.elapsed() < budget || out.iter().any(|v| v.len() < 5) {
        for (i, r) in reqs.iter().enumerate() {
            let t = Instant::now();
            out[i].extend(common::serial(r, c, chunk[i]).await);
            // Keep each chunk near 20 ms so slow requests do not eat the budget.
            let per = t.elapsed().as_secs_f64() / chunk[i] as f64;
            chunk[i] = ((0.02 / per.max(1e-6)) as usize).clamp(1, 20);
        }
    }
    out
}

fn job_cost(server: &tokio::runtime::Runtime, client: &tokio::runtime::Runtime) {
    let max_jobs = env_u64("JC_BENCH_MAX_JOBS", 100_000) as usize;
    let mock = server
        .block_on(jobconform::mock::spawn(Default::default()))
        .expect("spawn the mock");
    let u = MockUrls::of(&mock.urls);
    let mut t = Table::new(
        "Cost of live jobs (median latency, 1 connection, interleaved with a minimal axum handler; \
         ratio to the 10-job figure, each latency first divided by the gauge's)",
        &[
            "live jobs (each API)",
            "create (s, jobs/s)",
            "VmRSS (MiB)",
            "GetAsyncResult",
            "AIQUM job GET",
            "AIQUM list page",
            "axum baseline (GET, 40 B)",
            "ratio GAR / GET / list",
        ],
    );
    let rss0 = common::status_kib("self", "VmRSS").unwrap_or(0);
    t.note(format!(
        "VmRSS of the bench process with the mock idle, before any job: {:.1} MiB (the figures \
         include the load generator; the mock's journal also keeps one entry per create, \
         capacity 200,000).",
        rss0 as f64 / 1024.0
    ));
    let c = bare_client();
    let base_addr = server.block_on(async {
        let body = Bytes::from_static(br#"{"id":1,"result":{"status":"running"}}"#);
        tokio::spawn(baseline("/base", body))
            .await
            .expect("start the baseline")
    });
    let base = Req::get(format!("http://{base_addr}/base"));
    let mut have = 0usize;
    let mut first: Option<(f64, f64, f64)> = None;
    for n in [10usize, 10_000, 100_000] {
        if n > max_jobs {
            break;
        }
        let t0 = Instant::now();
        let (h, key) = client.block_on(create(&u, n - have, 64.min(n - have)));
        let made = (n - have) as f64;
        let secs = t0.elapsed().as_secs_f64();
        have = n;
        let rss = common::status_kib("self", "VmRSS").unwrap_or(0);
        let gar = rgar(u.element.clone(), h);
        let get = Req::get(format!("{}/management-server/jobs/{key}", u.aiqum));
        let list = Req::get(format!("{}/management-server/jobs?max_records=20", u.aiqum));
        let budget = Duration::from_millis(3000);
        let (a, b, l, z) = client.block_on(async {
            common::serial(&gar, &c, 20).await;
            let m = costs(&[&gar, &get, &list, &base], &c, budget).await;
            (median(&m[0]), median(&m[1]), median(&m[2]), median(&m[3]))
        });
        // Ratios are of latencies relative to the gauge, so machine noise between steps cancels.
        let (ra, rb, rl) = (a / z, b / z, l / z);
        let f = *first.get_or_insert((ra, rb, rl));
        t.row(vec![
            n.to_string(),
            format!("{secs:.2} s, {:.0}/s", 2.0 * made / secs),
            format!("{:.1}", rss as f64 / 1024.0),
            fmt_us(a),
            fmt_us(b),
            fmt_us(l),
            fmt_us(z),
            format!("{:.2}x / {:.2}x / {:.2}x", ra / f.0, rb / f.1, rl / f.2),
        ]);
    }
    t.note(
        "Jobs are created through the control API (an Element and an AIQUM job per step, 64 \
         concurrent connections; jobs/s counts both). Each step adds to the jobs already there. \
         The GET reads the AIQUM job created last; the list page is the first 20 (newest first) \
         of all jobs; the mock also holds its ~24 history jobs. Latencies are medians; the four \
         requests (three to the mock, one to a minimal axum handler answering 40 bytes of JSON, \
         as a noise gauge) are interleaved in chunks of ~20 ms for 3 s per step.",
    );
    t.print();
    server.block_on(mock.stop());
}

/// Memory per job by kind, measured in-process on a mock state that serves nothing: AIQUM jobs
/// pushed directly, journal entries alone, and Element handles started as the control API does
/// (each also journals one entry).
fn memory_per_job() {
    use jobconform::mock::journal::Entry;
    use jobconform::mock::script::JobScript;
    const N: usize = 100_000;
    let state = jobconform::mock::State::new(Default::default());
    let script: JobScript =
        serde_json::from_value(common::script_running(1_000_000_000)).expect("a job script");
    let rss = || common::status_kib("self", "VmRSS").unwrap_or(0) as f64 * 1024.0;
    let mut t = Table::new(
        "Mock memory per job (in-process, 100,000 of each, VmRSS delta / count)",
        &["what", "bytes each", "MiB per 100k"],
    );
    let mut row = |what: &str, before: f64, after: f64| {
        let each = (after - before) / N as f64;
        t.row(vec![
            what.into(),
            format!("{each:.0}"),
            format!("{:.1}", (after - before) / 1048576.0),
        ]);
    };
    let r0 = rss();
    {
        let mut a = state.aiqum.lock().expect("aiqum state");
        for _ in 0..N {
            a.push_job(
                "Scripted job".into(),
                "Scripted job".into(),
                0,
                script.clone(),
                jobconform::mock::aiqum::Origin::Scripted,
                None,
            );
        }
    }
    let r1 = rss();
    row("AIQUM scripted job (control API shape)", r0, r1);
    for i in 0..N {
        state.journal.push(Entry {
            t_ms: 0,
            client: "127.0.0.1".into(),
            api: "element",
            op: "control job".into(),
            job: Some(i.to_string()),
            keep_result: None,
            observed: Some("running".into()),
            terminal: false,
            released: false,
            http_status: 200,
        });
    }
    let r2 = rss();
    row(
        "journal entry (one per create or poll, 200,000 kept)",
        r1,
        r2,
    );
    state.journal.clear();
    let r3 = rss();
    for _ in 0..N {
        jobconform::mock::element::start_scripted(&state, script.clone(), "127.0.0.1");
    }
    let r4 = rss();
    // The journal's freed entries are reused by the first N new ones, so this is the handle alone.
    row("Element scripted handle (journal space reused)", r3, r4);
    t.note(
        "Deltas of VmRSS around each batch (glibc malloc; freed journal memory is reused by the \
         Element batch's journal entries, so that row is the handle alone).",
    );
    t.print();
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let server = common::multi_rt(2);
    let client = common::multi_rt(2);
    let only = std::env::var("JC_BENCH_ONLY").unwrap_or_default();
    if only == "memory" {
        memory_per_job();
        return;
    }
    if only.is_empty() {
        // In a child process, so its allocations start from a clean heap.
        let exe = std::env::current_exe().expect("this bench's path");
        let st = std::process::Command::new(exe)
            .env("JC_BENCH_ONLY", "memory")
            .status();
        if !st.as_ref().is_ok_and(|s| s.success()) {
            println!("(memory per job: the child process failed: {st:?})");
        }
    }
    // Jobs first: its memory figures start from a process that has served nothing yet.
    if only.is_empty() || only == "jobs" {
        job_cost(&server, &client);
    }
    if only.is_empty() || only == "throughput" {
        throughput(&server, &client);
    }
}
