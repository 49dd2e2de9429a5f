//! Random transient faults for the whole mock (`serve --faults P`): with probability P a request to
//! either API (never the control API) gets, *before* it is processed, one of: an Element
//! `xDBVersionMismatch` method error with the request's id echoed (HTTP 200), an HTTP 503 with an
//! error body, a connection broken mid-answer, or a slow answer (2 s of target time, then served
//! normally). Faulting before processing means a client never loses track of what it created: a
//! faulted call did nothing and can be retried. Deterministic for a given seed and request order.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State as AxState};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::State;

/// The kinds of fault, chosen uniformly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Transient,
    Unavailable,
    Broken,
    Slow,
}

/// Random fault configuration.
#[derive(Debug)]
pub struct Faults {
    /// Probability per request, 0..=1.
    pub rate: f64,
    rng: std::sync::Mutex<fastrand::Rng>,
}

impl Faults {
    /// Faults at `rate` (clamped to 0..=1) from `seed`.
    pub fn new(rate: f64, seed: u64) -> Faults {
        let rate = if rate.is_finite() {
            rate.clamp(0.0, 1.0)
        } else {
            0.0
        };
        Faults {
            rate,
            rng: std::sync::Mutex::new(fastrand::Rng::with_seed(seed)),
        }
    }

    fn draw(&self) -> Option<Kind> {
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        if self.rate <= 0.0 || rng.f64() >= self.rate {
            return None;
        }
        Some(match rng.u8(0..4) {
            0 => Kind::Transient,
            1 => Kind::Unavailable,
            2 => Kind::Broken,
            _ => Kind::Slow,
        })
    }
}

/// The middleware: passes control-API requests through untouched.
pub async fn inject(AxState(state): AxState<Arc<State>>, req: Request, next: Next) -> Response {
    let Some(faults) = state.faults.as_ref() else {
        return next.run(req).await;
    };
    if req.uri().path().starts_with("/_jobconform") {
        return next.run(req).await;
    }
    let Some(kind) = faults.draw() else {
        return next.run(req).await;
    };
    let element = req.uri().path().starts_with("/json-rpc");
    match kind {
        Kind::Slow => {
            state
                .clock
                .sleep_until_ms(state.clock.now_ms() + 2_000)
                .await;
            next.run(req).await
        }
        Kind::Transient if element => {
            let limit = state.config.max_body;
            let bytes = axum::body::to_bytes(req.into_body(), limit)
                .await
                .unwrap_or_default();
            let id = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v.get("id").cloned())
                .unwrap_or(Value::Null);
            let body = json!({"id": id, "error": {"code": 500, "name": "xDBVersionMismatch",
                "message": "DBVersionMismatch: transient fault injected by the mock; retry"}});
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        Kind::Transient | Kind::Unavailable => {
            let body = json!({"error": {"message": "service unavailable (fault injected by the mock); retry", "code": "503"}});
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
        }
        Kind::Broken => {
            let chunks: Vec<Result<&'static [u8], std::io::Error>> = vec![
                Ok(b"{\"id\": 1, \"res"),
                Err(std::io::Error::other("connection broken by the mock")),
            ];
            let stream = futures_util::stream::iter(chunks);
            Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/json")
                .body(Body::from_stream(stream))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
    }
}
