//! Deliberately broken pollers, to show that each property checker has teeth: each breaks one
//! client rule in one named way. They exist only in this test; the library has no knob for them.

use std::time::Duration;

use jobconform::poll::{End, Outcome, Policy};
use jobconform::transport::{AuthMode, Client, Exchange, aiqum, element};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::check::Api;
use super::fake::{HANDLE, KEY};

/// The ways a poller can be broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broken {
    /// Fixed interval of a third of `min_interval` (CL-NO-HAMMER).
    Hammer,
    /// Starts at `max_interval` and shortens by 20 % per poll while unchanged (CL-NO-HAMMER).
    Shrinking,
    /// Treats an AIQUM `warning` status as the end (UM-WARNING, register U2).
    StopOnWarning,
    /// Polls once more after seeing the job terminal (CL-STOP).
    OneMoreAfterTerminal,
    /// Fixed interval of three times `max_interval` (late detection, early give-up).
    Slow,
}

async fn send(api: Api, client: &Client, base: &str, n: u64) -> Exchange {
    match api {
        Api::Element => {
            let ep = element::Endpoint::parse(&format!("{base}/json-rpc/12.5")).expect("ep");
            let params = json!({"asyncHandle": HANDLE, "keepResult": true});
            let call = element::Call {
                method: "GetAsyncResult",
                params,
                id: json!(n),
                auth: AuthMode::Default,
                version: None,
            };
            element::call(client, &ep, call).await
        }
        Api::Aiqum => {
            let ep = aiqum::Endpoint::parse(&format!("{base}/api")).expect("ep");
            let path = format!("/management-server/jobs/{KEY}");
            aiqum::request(client, &ep, aiqum::Request::get(&path)).await
        }
    }
}

/// The job in an answer, if any.
fn job(api: Api, ex: &Exchange) -> Option<Value> {
    let body = ex.json()?;
    match api {
        Api::Element => body.get("result").cloned(),
        Api::Aiqum => Some(body.clone()),
    }
}

/// Polls like a broken client would, until terminal (as it understands it) or the deadline.
pub async fn run(
    kind: Broken,
    api: Api,
    client: &Client,
    base: &str,
    policy: &Policy,
    observe: &mut (dyn FnMut(&Exchange) + Send),
) -> Outcome {
    let start = Instant::now();
    let deadline = start + policy.deadline;
    let mut interval = match kind {
        Broken::Hammer => policy.min_interval / 3,
        Broken::Shrinking => policy.max_interval,
        Broken::Slow => policy.max_interval * 3,
        _ => policy.min_interval,
    };
    let mut out = Outcome {
        end: End::Deadline,
        last: None,
        requests: 0,
        transient: 0,
        elapsed: Duration::ZERO,
        long_polled: false,
        notes: vec![format!("broken: {kind:?}")],
    };
    for n in 0..5_000u64 {
        let ex = send(api, client, base, n).await;
        out.requests += 1;
        observe(&ex);
        if let Some(j) = job(api, &ex) {
            let terminal = match api {
                Api::Element => j["status"] == "complete",
                Api::Aiqum => jobconform::poll::aiqum_terminal(&j) == Some(true),
            };
            let warning = j["status"] == "warning";
            out.last = Some(j);
            if terminal || (kind == Broken::StopOnWarning && warning) {
                if kind == Broken::OneMoreAfterTerminal {
                    let ex = send(api, client, base, n + 1).await;
                    out.requests += 1;
                    observe(&ex);
                }
                out.end = End::Terminal;
                break;
            }
        } else {
            out.transient += 1;
        }
        if kind == Broken::Shrinking {
            interval = interval.mul_f64(0.8).max(policy.min_interval);
        }
        if Instant::now() + interval > deadline {
            break;
        }
        tokio::time::sleep(interval).await;
    }
    out.elapsed = start.elapsed();
    out
}
