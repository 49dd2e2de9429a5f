//! Bench: what `jobconform proxy` costs. The latency it adds (p50/p99) and its throughput against
//! going direct to the mock, at 1 and 16 concurrent keep-alive connections, on a GetAsyncResult
//! of a running handle (proxy and mock in this process, rounds of direct and proxied load
//! interleaved, medians); then `traffic::verdict::judge` on 100,000 recorded exchanges (1,000
//! handles polled 100 times each by 10 clients). Owns nothing but measurement.
//!
//! Knobs (env): `JC_BENCH_ROUND_MS` (default 200), `JC_BENCH_ROUNDS` (default 5),
//! `JC_BENCH_CONNS` (default `1,16`), `JC_BENCH_JUDGE_N` (default 100000), `JC_BENCH_ONLY`
//! (`proxy` or `judge`).

mod common;

use std::time::{Duration, Instant};

use common::{MockUrls, Req, Table, bare_client, fmt_pct, fmt_rps, fmt_us, median, percentile};
use jobconform::traffic::{Observed, Traffic, verdict};
use jobconform::transport::{
    AuthMode, Body, Exchange, Limits, RequestRecord, ResponseRecord, TlsConfig,
};
use serde_json::json;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn start_proxy(u: &MockUrls) -> String {
    let config = jobconform::proxy::Config {
        element: Some(u.element.clone()),
        aiqum: Some(u.aiqum.clone()),
        tls: TlsConfig::default(),
        limits: Limits::default(),
        judge: verdict::Config::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state =
        jobconform::proxy::State::new(config, None, format!("http://{addr}")).expect("proxy state");
    tokio::spawn(jobconform::proxy::serve(
        listener,
        state,
        None,
        std::future::pending(),
    ));
    format!("http://{addr}/json-rpc/12.5")
}

async fn proxy_bench() {
    let m = jobconform::mock::spawn(jobconform::mock::MockConfig::default())
        .await
        .expect("mock");
    let u = MockUrls::of(&m.urls);
    let c = bare_client();
    let h = common::element_job(&c, &u, &common::script_running(1_000_000_000)).await;
    let proxied = start_proxy(&u).await;
    let body = json!({"method": "GetAsyncResult", "params": {"asyncHandle": h, "keepResult": true}, "id": 1});
    let direct = Req::post(u.element.clone(), &body);
    let through = Req::post(proxied, &body);
    let round = Duration::from_millis(env_u64("JC_BENCH_ROUND_MS", 200));
    let rounds = env_u64("JC_BENCH_ROUNDS", 5);
    let conns: Vec<usize> = std::env::var("JC_BENCH_CONNS")
        .unwrap_or_else(|_| "1,16".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let mut t = Table::new(
        "proxy vs direct: GetAsyncResult (running, keepResult)",
        &[
            "conns",
            "direct req/s",
            "proxy req/s",
            "proxy/direct",
            "direct p50",
            "proxy p50",
            "added p50",
            "direct p99",
            "proxy p99",
            "added p99",
        ],
    );
    for n in conns {
        let clients: Vec<reqwest::Client> = (0..n).map(|_| bare_client()).collect();
        let (mut ratio, mut d_rps, mut p_rps) = (Vec::new(), Vec::new(), Vec::new());
        let (mut d50, mut p50, mut d99, mut p99) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let _ = common::load(&through, &clients, round / 4).await;
        for _ in 0..rounds {
            let d = common::load(&direct, &clients, round).await;
            let p = common::load(&through, &clients, round).await;
            ratio.push(p.rps() / d.rps().max(1e-9));
            d_rps.push(d.rps());
            p_rps.push(p.rps());
            d50.push(percentile(&d.lat_us, 50.0));
            p50.push(percentile(&p.lat_us, 50.0));
            d99.push(percentile(&d.lat_us, 99.0));
            p99.push(percentile(&p.lat_us, 99.0));
        }
        let (d50, p50, d99, p99) = (median(&d50), median(&p50), median(&d99), median(&p99));
        t.row(vec![
            n.to_string(),
            fmt_rps(median(&d_rps)),
            fmt_rps(median(&p_rps)),
            fmt_pct(median(&ratio)),
            fmt_us(d50),
            fmt_us(p50),
            fmt_us(p50 - d50),
            fmt_us(d99),
            fmt_us(p99),
            fmt_us(p99 - d99),
        ]);
    }
    t.note(format!(
        "{rounds} rounds of {} ms each, direct and proxied interleaved; medians",
        round.as_millis()
    ));
    t.print();
    m.stop().await;
}

/// `n` exchanges: 1,000 handles, each polled by one of 10 clients every 500 ms, running then
/// complete, with keepResult.
fn traffic(n: usize) -> Traffic {
    let mut exchanges = Vec::with_capacity(n);
    let per = 100usize;
    for i in 0..n {
        let (handle, k) = (i / per, i % per);
        let done = k + 1 == per;
        let nested = if done {
            json!({"status": "complete", "resultType": "Clone", "createTime": "2026-01-01T00:00:00Z", "lastUpdateTime": "2026-01-01T00:01:00Z", "result": {"cloneID": handle, "volumeID": handle}})
        } else {
            json!({"status": "running", "resultType": "Clone", "createTime": "2026-01-01T00:00:00Z", "lastUpdateTime": "2026-01-01T00:00:00Z", "details": {"percentComplete": k}})
        };
        exchanges.push(Observed {
            seq: i as u64,
            at_ms: 1_700_000_000_000 + (handle as u64) * 60_000 + (k as u64) * 500,
            client: format!("client-{}", handle % 10),
            exchange: Exchange {
                request: RequestRecord {
                    method: "POST".into(),
                    url: "https://10.0.0.1/json-rpc/12.5".into(),
                    auth: AuthMode::Default,
                    body: Some(json!({"method": "GetAsyncResult", "params": {"asyncHandle": handle, "keepResult": true}, "id": i})),
                },
                response: Ok(ResponseRecord {
                    status: 200,
                    content_type: Some("application/json".into()),
                    body: Body::Json(json!({"id": i, "result": nested})),
                    elapsed_ms: 2,
                }),
            },
        });
    }
    Traffic {
        exchanges,
        ..Traffic::default()
    }
}

fn judge_bench() {
    let n = env_u64("JC_BENCH_JUDGE_N", 100_000) as usize;
    let t = traffic(n);
    let mut times = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let v = verdict::judge(
            &t,
            &verdict::Config::default(),
            jobconform::report::json::SourceKind::Recording,
            "bench",
        );
        times.push(start.elapsed().as_secs_f64());
        assert!(!v.records.is_empty());
    }
    let mut table = Table::new(
        "judge on recorded exchanges",
        &["exchanges", "judge (median of 3)"],
    );
    table.row(vec![n.to_string(), format!("{:.2} s", median(&times))]);
    table.print();
}

fn main() {
    println!("{}", common::machine());
    let only = std::env::var("JC_BENCH_ONLY").unwrap_or_default();
    if only.is_empty() || only == "proxy" {
        common::multi_rt(2).block_on(proxy_bench());
    }
    if only.is_empty() || only == "judge" {
        judge_bench();
    }
}
