//! Bench: poller efficiency in virtual time (current-thread paused runtime, the mock on the same
//! runtime). For jobs of 1 s to 1 h: requests per job and time from completion to detection, for
//! jobconform's poller (default policy; AIQUM also with long polling) against two fixed-interval
//! loops written here (2 s, like NetApp's Ansible modules, and 1 s). The 2 s loop is the baseline
//! of every ratio. Owns nothing but measurement.
//!
//! Knob (env): `JC_BENCH_REPS` (jobs per cell, default 5).

mod common;

use std::time::Duration;

use common::{MockUrls, Table, median};
use jobconform::poll::{self, End, Keep, Policy};
use jobconform::transport::{AuthMode, Client, aiqum, element};
use serde_json::json;

/// Durations of the jobs, seconds.
const DURATIONS: [u64; 5] = [1, 10, 60, 600, 3600];
/// Deadline for every poller: longer than the longest job (the default 600 s would cut it).
const DEADLINE: Duration = Duration::from_secs(7200);

#[derive(Clone, Copy, PartialEq)]
enum Api {
    Element,
    Aiqum,
}

#[derive(Clone)]
enum Poller {
    Jobconform(Policy),
    Fixed(Duration),
}

/// One observed job: requests sent, detection latency (ms), whether the end was terminal.
struct Seen {
    requests: u32,
    detect_ms: f64,
    terminal: bool,
}

/// A fixed-interval Element loop: GetAsyncResult with keepResult until `status` is `complete`.
async fn fixed_element(c: &Client, ep: &element::Endpoint, h: u64, every: Duration) -> (u32, bool) {
    let start = tokio::time::Instant::now();
    let mut n = 0u32;
    while start.elapsed() < DEADLINE {
        n += 1;
        let call = element::Call {
            method: "GetAsyncResult",
            params: json!({"asyncHandle": h, "keepResult": true}),
            id: json!(n),
            auth: AuthMode::Default,
            version: None,
        };
        let ex = element::call(c, ep, call).await;
        if ex.json().and_then(|v| v["result"]["status"].as_str()) == Some("complete") {
            return (n, true);
        }
        tokio::time::sleep(every).await;
    }
    (n, false)
}

/// A fixed-interval AIQUM loop: GET the job until it is terminal.
async fn fixed_aiqum(c: &Client, ep: &aiqum::Endpoint, key: &str, every: Duration) -> (u32, bool) {
    let start = tokio::time::Instant::now();
    let path = format!("/management-server/jobs/{key}");
    let mut n = 0u32;
    while start.elapsed() < DEADLINE {
        n += 1;
        let r = aiqum::Request::get(&path);
        let ex = aiqum::request(c, ep, r).await;
        if ex.json().and_then(poll::aiqum_terminal) == Some(true) {
            return (n, true);
        }
        tokio::time::sleep(every).await;
    }
    (n, false)
}

/// Runs one job of `ms` (target time) through `poller`.
async fn one(mock: &jobconform::mock::RunningMock, api: Api, poller: &Poller, ms: u64) -> Seen {
    let u = MockUrls::of(&mock.urls);
    let c = common::jc_client();
    let bare = common::bare_client();
    let script = common::script_running(ms);
    let clock = &mock.state.clock;
    let (requests, terminal, complete_ms) = match api {
        Api::Element => {
            let ep = element::Endpoint::parse(&u.element).expect("element endpoint");
            let h = common::element_job(&bare, &u, &script).await;
            let complete = {
                let st = mock.state.element.lock().expect("element state");
                st.handles.get(&h).expect("the handle").complete_ms()
            };
            let (n, term) = match poller {
                Poller::Jobconform(p) => {
                    let o = poll::element(&c, &ep, &json!(h), p, Keep::Keep, &mut |_| {}).await;
                    (o.requests, o.end == End::Terminal)
                }
                Poller::Fixed(d) => fixed_element(&c, &ep, h, *d).await,
            };
            (n, term, complete)
        }
        Api::Aiqum => {
            let ep = aiqum::Endpoint::parse(&u.aiqum).expect("aiqum endpoint");
            let key = common::aiqum_job(&bare, &u, &script).await;
            let complete = {
                let st = mock.state.aiqum.lock().expect("aiqum state");
                let j = st.jobs().iter().find(|j| j.key == key).expect("the job");
                j.submit_ms as u64 + j.script.duration_ms()
            };
            let (n, term) = match poller {
                Poller::Jobconform(p) => {
                    let o = poll::aiqum(&c, &ep, &key, p, &mut |_| {}).await;
                    (o.requests, o.end == End::Terminal)
                }
                Poller::Fixed(d) => fixed_aiqum(&c, &ep, &key, *d).await,
            };
            (n, term, complete)
        }
    };
    let detect_ms = clock.now_ms() as f64 - complete_ms as f64;
    Seen {
        requests,
        detect_ms,
        terminal,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let reps = std::env::var("JC_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5usize);
    let default = Policy {
        deadline: DEADLINE,
        ..Policy::default()
    };
    let long = Policy {
        long_poll: Some(Duration::from_secs(30)),
        ..default.clone()
    };
    let pollers: Vec<(Api, &str, Poller)> = vec![
        (
            Api::Element,
            "fixed 2 s (baseline)",
            Poller::Fixed(Duration::from_secs(2)),
        ),
        (
            Api::Element,
            "fixed 1 s",
            Poller::Fixed(Duration::from_secs(1)),
        ),
        (
            Api::Element,
            "jobconform default",
            Poller::Jobconform(default.clone()),
        ),
        (
            Api::Aiqum,
            "fixed 2 s (baseline)",
            Poller::Fixed(Duration::from_secs(2)),
        ),
        (
            Api::Aiqum,
            "fixed 1 s",
            Poller::Fixed(Duration::from_secs(1)),
        ),
        (
            Api::Aiqum,
            "jobconform default",
            Poller::Jobconform(default.clone()),
        ),
        (
            Api::Aiqum,
            "jobconform long poll 30 s",
            Poller::Jobconform(long),
        ),
    ];
    let rt = common::paused_rt();
    let real = std::time::Instant::now();
    let mut t = Table::new(
        "Poller efficiency in virtual time (median per job; ratios against the fixed 2 s loop)",
        &[
            "API",
            "poller",
            "job",
            "requests/job",
            "ratio",
            "detection (median)",
            "detection (max)",
            "ratio (median)",
            "terminal",
        ],
    );
    rt.block_on(async {
        let mock = jobconform::mock::spawn(Default::default())
            .await
            .expect("spawn the mock");
        for secs in DURATIONS {
            let mut base: Option<(f64, f64)> = None;
            for (api, name, p) in &pollers {
                let mut req = Vec::new();
                let mut det = Vec::new();
                let mut term = 0;
                for rep in 0..reps {
                    // The same jobs for every poller: D + U[0, 2 s), so completions do not line
                    // up with a fixed loop's ticks.
                    let mut rng = fastrand::Rng::with_seed(secs * 1000 + rep as u64);
                    let ms = secs * 1000 + rng.u64(0..2000);
                    let s = one(&mock, *api, p, ms).await;
                    req.push(s.requests as f64);
                    det.push(s.detect_ms);
                    term += usize::from(s.terminal);
                }
                let (r, d) = (median(&req), median(&det));
                if name.starts_with("fixed 2 s") {
                    base = Some((r, d));
                }
                let (br, bd) = base.unwrap_or((r, d));
                let api = if *api == Api::Element {
                    "Element"
                } else {
                    "AIQUM"
                };
                t.row(vec![
                    api.into(),
                    name.to_string(),
                    format!("{secs} s + U[0,2) s"),
                    format!("{r:.0}"),
                    format!("{:.2}x", r / br.max(1e-9)),
                    format!("{:.0} ms", d),
                    format!("{:.0} ms", det.iter().cloned().fold(0.0, f64::max)),
                    if bd > 0.0 {
                        format!("{:.2}x", d / bd)
                    } else {
                        "-".into()
                    },
                    format!("{term}/{reps}"),
                ]);
            }
        }
        mock.stop().await;
    });
    t.note(format!(
        "{reps} jobs per cell, each a scripted job of one running step lasting the duration plus a random 0-2 s (the same \
         jobs for every poller), polled from its creation. \
         Detection = mock clock when the poller returned - the job's completion time (virtual ms). \
         Every poller's deadline is {} s (the default policy's 600 s would cut the 1 h job); the \
         default policy is otherwise Policy::default() (500 ms first interval, x1.5 backoff to \
         10 s, 10% jitter). Real time for the whole table: {:.1} s.",
        DEADLINE.as_secs(),
        real.elapsed().as_secs_f64()
    ));
    t.print();
}
