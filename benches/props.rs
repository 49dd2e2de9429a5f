//! Bench: property-test throughput. Random job timelines (fastrand, fixed seed) are polled by
//! jobconform's poller against the mock in virtual time, and every timeline is checked for two
//! properties: polling ends iff the job was seen terminal or the deadline passed, and nothing is
//! polled after the terminal observation (KeepThenRelease: exactly one release call). Reported:
//! timelines/s and requests/s in real time; baseline: the same timelines polled by a bare 1 s loop
//! (no checks), batches interleaved. Owns nothing but measurement.
//!
//! The mock is served in process by default (`mock::service::in_process`, requests handed to its
//! router by `Client::in_process`: no socket, the same exchanges as over HTTP), as the property
//! tests run it; jobs are started and the mock reset through its control API on the same client.
//!
//! Knobs (env): `JC_BENCH_PROPS_SECS` (real seconds per side, default 3);
//! `JC_BENCH_PROPS_TRANSPORT=http` (the mock over loopback HTTP instead, for comparison).

mod common;

use std::time::{Duration, Instant};

use common::{Table, median};
use jobconform::mock::{self, Urls};
use jobconform::poll::{self, End, Keep, Policy};
use jobconform::transport::{AuthMode, Client, Exchange, SendBody, aiqum, element};
use serde_json::{Value, json};

/// One random timeline and how it is polled.
#[derive(Clone, Debug)]
struct Case {
    aiqum: bool,
    script: Value,
    duration_ms: u64,
    keep: Keep,
    deadline: Duration,
}

fn random_case(rng: &mut fastrand::Rng) -> Case {
    let outcomes = [
        "success",
        "failure",
        "warning",
        "partial-failures",
        "aborted",
    ];
    let steps: Vec<Value> = (0..rng.usize(0..4))
        .map(|_| json!({"ms": rng.u64(0..20_000)}))
        .collect();
    let duration_ms = steps.iter().filter_map(|s| s["ms"].as_u64()).sum();
    let keep = [Keep::Keep, Keep::KeepThenRelease, Keep::Absent][rng.usize(0..3)];
    Case {
        aiqum: rng.bool(),
        script: json!({"steps": steps, "outcome": outcomes[rng.usize(0..outcomes.len())]}),
        duration_ms,
        keep,
        deadline: Duration::from_millis(rng.u64(1_000..60_000)),
    }
}

fn element_terminal(ex: &Exchange) -> bool {
    ex.json().and_then(|v| v["result"]["status"].as_str()) == Some("complete")
}

fn aiqum_terminal(ex: &Exchange) -> bool {
    ex.json().and_then(poll::aiqum_terminal) == Some(true)
}

/// The endpoints of the mock, parsed once.
struct Endpoints {
    element: element::Endpoint,
    aiqum: aiqum::Endpoint,
}

/// Polls one case with jobconform's poller and checks the properties; requests and failures.
async fn checked(c: &Client, u: &Urls, ep: &Endpoints, case: &Case) -> (u32, Vec<String>) {
    // What the properties read of each observation: whether it showed the job terminal.
    let mut seen: Vec<bool> = Vec::new();
    let policy = Policy {
        deadline: case.deadline,
        ..Policy::default()
    };
    let started = tokio::time::Instant::now();
    let o = if case.aiqum {
        let key = start_job(c, u, "aiqum/jobs", &case.script).await;
        let key = key.as_str().expect("a key");
        poll::aiqum(c, &ep.aiqum, key, &policy, &mut |e| {
            seen.push(aiqum_terminal(e))
        })
        .await
    } else {
        let h = start_job(c, u, "element/jobs", &case.script).await;
        poll::element(c, &ep.element, &h, &policy, case.keep, &mut |e| {
            seen.push(element_terminal(e))
        })
        .await
    };
    let took = started.elapsed();
    let early = policy.max_interval.mul_f64(1.0 + policy.jitter);
    let mut bad = Vec::new();
    let first_terminal = seen.iter().position(|&t| t);
    match (&o.end, first_terminal) {
        (End::Terminal, Some(_)) if took >= Duration::from_millis(case.duration_ms) => {}
        (End::Terminal, Some(_)) => {
            bad.push(format!("terminal after {took:?}, before the job ends"))
        }
        (End::Terminal, None) => bad.push("ended terminal without a terminal observation".into()),
        // The poller never polls early: it gives up when the next (capped, jittered) interval
        // would start past the deadline, so it may end up to one such interval before it.
        (End::Deadline, None) if took + early >= case.deadline => {}
        (End::Deadline, None) => bad.push(format!(
            "deadline after {took:?}, more than {early:?} before {:?}",
            case.deadline
        )),
        (End::Deadline, Some(_)) => bad.push("deadline after a terminal observation".into()),
        (End::Failed { reason }, _) => bad.push(format!("failed: {reason}")),
    }
    if let Some(i) = first_terminal {
        let allowed = usize::from(!case.aiqum && case.keep == Keep::KeepThenRelease);
        if seen.len() - 1 - i > allowed {
            bad.push(format!(
                "{} polls after the terminal one",
                seen.len() - 1 - i - allowed
            ));
        }
    }
    if o.requests as usize != seen.len() {
        bad.push(format!(
            "requests {} != observed {}",
            o.requests,
            seen.len()
        ));
    }
    (o.requests, bad)
}

/// Starts a scripted job through the control API (`path` under it); the handle or key.
async fn start_job(c: &Client, u: &Urls, path: &str, script: &Value) -> Value {
    let ex = control(c, u, path, Some(script.clone())).await;
    let field = if path.starts_with("aiqum") {
        "key"
    } else {
        "asyncHandle"
    };
    ex.json().expect("a control answer")[field].clone()
}

/// A POST to the control API.
async fn control(c: &Client, u: &Urls, path: &str, body: Option<Value>) -> Exchange {
    c.send(
        reqwest::Method::POST,
        &format!("{}/{path}", u.control),
        body.map(SendBody::Json),
        AuthMode::Default,
        Duration::ZERO,
    )
    .await
}

/// The same case through a bare 1 s loop (no checks); requests.
async fn bare_loop(c: &Client, u: &Urls, ep: &Endpoints, case: &Case) -> u32 {
    let start = tokio::time::Instant::now();
    let mut n = 0;
    if case.aiqum {
        let key = start_job(c, u, "aiqum/jobs", &case.script).await;
        let path = format!("/management-server/jobs/{}", key.as_str().expect("a key"));
        while start.elapsed() < case.deadline {
            n += 1;
            let r = aiqum::Request::get(&path);
            if aiqum_terminal(&aiqum::request(c, &ep.aiqum, r).await) {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    } else {
        let h = start_job(c, u, "element/jobs", &case.script).await;
        while start.elapsed() < case.deadline {
            n += 1;
            let call = element::Call {
                method: "GetAsyncResult",
                params: json!({"asyncHandle": h, "keepResult": true}),
                id: json!(n),
                auth: AuthMode::Default,
                version: None,
            };
            if element_terminal(&element::call(c, &ep.element, call).await) {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    n
}

/// The mock the bench polls: in process, or over loopback HTTP.
enum Served {
    InProcess,
    Http(mock::RunningMock),
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let secs = std::env::var("JC_BENCH_PROPS_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3.0f64);
    let http = std::env::var("JC_BENCH_PROPS_TRANSPORT").is_ok_and(|v| v == "http");
    // In process nothing does I/O: a runtime with only the (paused) timer parks without epoll.
    let rt = if http {
        common::paused_rt()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("build a paused tokio runtime")
    };
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let (mut tl, mut tl_base, mut reqs, mut reqs_base) = (0usize, 0usize, 0u64, 0u64);
    let (mut t_subj, mut t_base) = (Duration::ZERO, Duration::ZERO);
    let (mut rps_ratio, mut failures) = (Vec::new(), Vec::<String>::new());
    rt.block_on(async {
        let (served, u, c) = if http {
            let m = mock::spawn(Default::default())
                .await
                .expect("spawn the mock");
            let u = m.urls.clone();
            (Served::Http(m), u, common::jc_client())
        } else {
            let m = mock::service::in_process(Default::default());
            let creds = common::jc_client().credentials().cloned();
            let c = Client::in_process(creds, Default::default(), m.service.clone());
            (Served::InProcess, m.urls, c.expect("an in-process client"))
        };
        let ep = Endpoints {
            element: element::Endpoint::parse(&u.element).expect("element endpoint"),
            aiqum: aiqum::Endpoint::parse(&u.aiqum).expect("aiqum endpoint"),
        };
        while t_subj.as_secs_f64() < secs {
            let batch: Vec<Case> = (0..25).map(|_| random_case(&mut rng)).collect();
            control(&c, &u, "reset", None).await;
            let t = Instant::now();
            let mut r = 0u64;
            for case in &batch {
                let (n, bad) = checked(&c, &u, &ep, case).await;
                r += u64::from(n);
                failures.extend(bad.into_iter().map(|b| format!("{case:?}: {b}")));
            }
            let ds = t.elapsed();
            control(&c, &u, "reset", None).await;
            let t = Instant::now();
            let mut rb = 0u64;
            for case in &batch {
                rb += u64::from(bare_loop(&c, &u, &ep, case).await);
            }
            let db = t.elapsed();
            rps_ratio.push((r as f64 / ds.as_secs_f64()) / (rb as f64 / db.as_secs_f64()));
            tl += batch.len();
            tl_base += batch.len();
            reqs += r;
            reqs_base += rb;
            t_subj += ds;
            t_base += db;
        }
        if let Served::Http(m) = served {
            m.stop().await;
        }
    });
    let mut t = Table::new(
        if http {
            "Property-test throughput (random timelines polled in virtual time, checked; mock over loopback HTTP)"
        } else {
            "Property-test throughput (random timelines polled in virtual time, checked; mock in process)"
        },
        &[
            "runner",
            "timelines",
            "property failures",
            "timelines/s",
            "requests",
            "requests/s",
            "ratio req/s (median of batches)",
        ],
    );
    t.row(vec![
        "jobconform poller + 2 properties".into(),
        tl.to_string(),
        failures.len().to_string(),
        format!("{:.0}", tl as f64 / t_subj.as_secs_f64()),
        reqs.to_string(),
        format!("{:.0}", reqs as f64 / t_subj.as_secs_f64()),
        format!("{:.2}x", median(&rps_ratio)),
    ]);
    t.row(vec![
        "bare 1 s loop, no checks (baseline)".into(),
        tl_base.to_string(),
        "-".into(),
        format!("{:.0}", tl_base as f64 / t_base.as_secs_f64()),
        reqs_base.to_string(),
        format!("{:.0}", reqs_base as f64 / t_base.as_secs_f64()),
        "1.00x".into(),
    ]);
    t.note(
        "Timelines: 0-3 running steps of 0-20 s, random outcome, API and keepResult policy, \
         deadline 1-60 s (so some end by deadline; a deadline end may come up to one capped, jittered interval = 11 s early, as the poller never polls early); default policy otherwise. Batches of 25, \
         interleaved with the baseline over the same 25; the mock is reset between batches. Real \
         time excludes nothing (job creation through the control API is included on both sides).",
    );
    for f in failures.iter().take(5) {
        t.note(format!("failure: {f}"));
    }
    t.print();
}
