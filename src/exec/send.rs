//! Sending one request of a case with retries (CL-TRANSIENT): each attempt is sent through
//! `transport`, and [`super::retry`] decides whether the answer is a fault worth resending. Returns
//! every attempt, in order, for the run to record; only the last one is an answer to judge.
//! Knows nothing about steps, checks or the transcript.

use serde_json::Value;

use super::retry;
use crate::case::AuthMode;
use crate::target::Target;
use crate::transport::{Exchange, aiqum, element};

/// What sending one request produced.
#[derive(Debug)]
pub struct Sent {
    /// Every attempt, in order; the last one is the answer.
    pub attempts: Vec<Exchange>,
    /// Why each earlier attempt was sent again (`HTTP 503`, `method error xNotPrimary`, ...).
    pub retried: Vec<String>,
}

/// One Element call to send.
#[derive(Debug, Clone)]
pub struct ElCall<'a> {
    /// Method.
    pub method: &'a str,
    /// Params (expanded).
    pub params: Value,
    /// Request id (`None`: a fresh integer per attempt).
    pub id: Option<Value>,
    /// Authentication.
    pub auth: AuthMode,
    /// Version override.
    pub version: Option<&'a str>,
    /// Raw body instead of a request object.
    pub raw: Option<String>,
}

impl<'a> ElCall<'a> {
    /// A plain call with default auth.
    pub fn new(method: &'a str, params: Value) -> ElCall<'a> {
        ElCall {
            method,
            params,
            id: None,
            auth: AuthMode::Default,
            version: None,
            raw: None,
        }
    }
}

/// A fresh retry schedule for a request; `idempotent` as for [`retry::resendable`]. The mock
/// injects its faults before processing, so resending anything is harmless there.
fn schedule(target: &Target, idempotent: bool) -> retry::Retry {
    let pause = target.real(retry::PAUSE_MS);
    retry::Retry::new(retry::ATTEMPTS, pause, 1.0, idempotent || target.is_mock())
}

/// Sends an Element call (or raw body) until it gets an answer to judge; `fresh_id` gives the
/// request id of each attempt when the call has none of its own.
pub async fn element(
    target: &Target,
    ep: &element::Endpoint,
    call: &ElCall<'_>,
    fresh_id: &mut (dyn FnMut() -> Value + Send),
) -> Sent {
    let client = &target.client;
    let retry = schedule(target, retry::element_read_only(call.method));
    until_answer(retry, || {
        // A raw body carries its own id (if any): no fresh id is spent on it.
        let what = match &call.raw {
            Some(raw) => Err(raw.clone()),
            None => Ok(element::Call {
                method: call.method,
                params: call.params.clone(),
                id: call.id.clone().unwrap_or_else(&mut *fresh_id),
                auth: call.auth,
                version: call.version,
            }),
        };
        async move {
            match what {
                Ok(c) => element::call(client, ep, c).await,
                Err(raw) => element::call_raw(client, ep, raw, call.auth, call.version).await,
            }
        }
    })
    .await
}

/// Sends an AIQUM request until it gets an answer to judge (GETs are idempotent).
pub async fn aiqum(target: &Target, ep: &aiqum::Endpoint, r: &aiqum::Request<'_>) -> Sent {
    let retry = schedule(target, r.method == reqwest::Method::GET);
    until_answer(retry, || aiqum::request(&target.client, ep, r.clone())).await
}

/// Sends attempts until `retry` says the last one is the answer, pausing in between.
async fn until_answer<F, Fut>(mut retry: retry::Retry, mut attempt: F) -> Sent
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Exchange>,
{
    let mut sent = Sent {
        attempts: Vec::new(),
        retried: Vec::new(),
    };
    loop {
        let ex = attempt().await;
        let again = retry.after(&ex);
        sent.attempts.push(ex);
        match again {
            Some((why, pause)) => {
                sent.retried.push(why);
                tokio::time::sleep(pause).await;
            }
            None => return sent,
        }
    }
}
