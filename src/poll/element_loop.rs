//! The Element polling loop: GetAsyncResult on one handle until `complete`, the deadline or a
//! failure, with the keepResult policy of [`Keep`]. Owns no judging (every exchange goes to the
//! watcher first, then when the next poll is due) and no interval arithmetic (that is
//! [`super::backoff`]).

use serde_json::{Map, Value, json};

use super::backoff::Schedule;
use super::{
    Answer, End, Event, Keep, Next, Outcome, Policy, REQUEST_CAP, classify_element, take_job,
};
use crate::transport::element::{Call, Endpoint, call};
use crate::transport::{AuthMode, Client};

fn get_async_result(handle: &Value, keep_result: bool, id: u64) -> Call<'static> {
    let mut params = Map::new();
    params.insert("asyncHandle".into(), handle.clone());
    if keep_result {
        params.insert("keepResult".into(), Value::Bool(true));
    }
    Call {
        method: "GetAsyncResult",
        params: Value::Object(params),
        id: json!(id),
        auth: AuthMode::Default,
        version: None,
    }
}

/// What decides "unchanged" for Element: `status` and `details` (absent reads as null). The
/// previous key is that of [`Outcome::last`], which holds the previous job answer.
fn state_key(result: &Value) -> (&Value, &Value) {
    let member = |name| result.get(name).unwrap_or(&Value::Null);
    (member("status"), member("details"))
}

/// Polls one handle; see the module docs of [`super`] for the rules.
pub(super) async fn run(
    client: &Client,
    ep: &Endpoint,
    handle: &Value,
    policy: &Policy,
    keep: Keep,
    watch: &mut (dyn FnMut(Event<'_>) + Send),
) -> Outcome {
    let mut sched = Schedule::start(policy);
    let mut out = Outcome::new();
    let keep_result = matches!(keep, Keep::Keep | Keep::KeepThenRelease);
    let mut id = 0u64;
    loop {
        if out.requests >= REQUEST_CAP {
            out.end = End::Failed {
                reason: format!("finish within {REQUEST_CAP} requests"),
            };
            break;
        }
        id += 1;
        let ex = call(client, ep, get_async_result(handle, keep_result, id)).await;
        out.requests += 1;
        watch(Event::Observed(&ex));
        let changed = match classify_element(&ex) {
            Answer::Transient => {
                out.transient += 1;
                false
            }
            Answer::Failed(reason) => {
                out.end = End::Failed { reason };
                break;
            }
            Answer::Job(at) => {
                let result = take_job(ex, at);
                let changed = out.last.as_ref().map(state_key) != Some(state_key(&result));
                let complete = result.get("status").and_then(Value::as_str) == Some("complete");
                out.last = Some(result);
                if complete {
                    out.end = End::Terminal;
                    out.elapsed = sched.elapsed();
                    if keep == Keep::KeepThenRelease {
                        id += 1;
                        let ex = call(client, ep, get_async_result(handle, false, id)).await;
                        out.requests += 1;
                        watch(Event::Observed(&ex));
                    }
                    return out;
                }
                changed
            }
        };
        let announce = |d| watch(Event::Next(Next::In(d)));
        if !sched.wait(changed, announce).await {
            out.end = End::Deadline;
            break;
        }
    }
    out.elapsed = sched.elapsed();
    out
}
