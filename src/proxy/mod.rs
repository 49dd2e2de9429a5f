//! `jobconform proxy`: stands between clients and a real Element cluster and/or AIQUM server,
//! forwards every request and answer unchanged ([`forward`]), keeps what it saw (bounded, see
//! [`KEEP_EXCHANGES`] and [`KEEP_BYTES`]) and appends it to the recording, and gives the verdict
//! of `traffic::verdict` on `GET /_jobconform/verdict` at any time. It judges nothing itself and
//! never stores a credential: bodies are redacted with the request's own Basic credentials before
//! they are kept or written.

pub mod forward;

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State as AxState};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::report::json::SourceKind;
use crate::traffic::record::Recorder;
use crate::traffic::{Observed, Traffic, verdict};
use crate::transport::{ClientError, Limits, TlsConfig};

/// Most exchanges kept in memory for the live verdict (the oldest go first; the recording keeps
/// everything).
pub const KEEP_EXCHANGES: usize = 200_000;

/// Most body bytes kept in memory for the live verdict.
pub const KEEP_BYTES: usize = 512 * 1024 * 1024;

/// The verdict route.
pub const VERDICT_PATH: &str = "/_jobconform/verdict";

/// How the proxy runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Element upstream (`https://MVIP/json-rpc/12.5`).
    pub element: Option<String>,
    /// AIQUM upstream (`https://HOST/api`).
    pub aiqum: Option<String>,
    /// TLS toward the upstream.
    pub tls: TlsConfig,
    /// Connect timeout, total time per request (a long poll adds its `poll_timeout`), and the
    /// body cap: a larger answer is streamed on and recorded as too large.
    pub limits: Limits,
    /// How the verdict is judged.
    pub judge: verdict::Config,
}

#[derive(Debug, Default)]
struct Seen {
    exchanges: VecDeque<(Observed, usize)>,
    bytes: usize,
    dropped: usize,
    faults: usize,
}

/// The proxy's shared state.
#[derive(Debug)]
pub struct State {
    /// Configuration.
    pub config: Config,
    http: reqwest::Client,
    seq: std::sync::atomic::AtomicU64,
    seen: Mutex<Seen>,
    recorder: Option<Mutex<Recorder>>,
    /// When the proxy started.
    pub started: jiff::Timestamp,
    /// The proxy's own base URL (names the verdict's source).
    pub name: String,
}

impl State {
    /// A proxy state; `recorder` is the open recording, if any.
    pub fn new(
        config: Config,
        recorder: Option<Recorder>,
        name: String,
    ) -> Result<Arc<State>, ClientError> {
        let http = crate::transport::http_client(&config.limits, &config.tls)?;
        Ok(Arc::new(State {
            config,
            http,
            seq: std::sync::atomic::AtomicU64::new(0),
            seen: Mutex::new(Seen::default()),
            recorder: recorder.map(Mutex::new),
            started: jiff::Timestamp::now(),
            name,
        }))
    }

    /// The next arrival number.
    fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// Keeps one exchange (`size`: its body bytes) and appends it to the recording.
    fn observe(&self, o: Observed, size: usize) {
        if let Some(r) = &self.recorder {
            let mut r = r.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(e) = r.append(&o) {
                eprintln!("jobconform proxy: failed to append to the recording: {e}");
            }
        }
        let mut s = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if o.exchange.response.is_err() {
            s.faults += 1;
        }
        s.bytes += size;
        s.exchanges.push_back((o, size));
        while s.exchanges.len() > KEEP_EXCHANGES || s.bytes > KEEP_BYTES {
            let Some((_, n)) = s.exchanges.pop_front() else {
                break;
            };
            s.bytes -= n;
            s.dropped += 1;
        }
    }

    /// Everything kept so far, as traffic to judge.
    pub fn traffic(&self) -> Traffic {
        let s = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let mut unparsed = Vec::new();
        if s.dropped > 0 {
            unparsed.push(crate::traffic::Unparsed {
                at: "memory".into(),
                why: format!(
                    "the {} oldest exchange(s) were dropped from memory (the recording has them)",
                    s.dropped
                ),
            });
        }
        Traffic {
            element: self.config.element.clone(),
            aiqum: self.config.aiqum.clone(),
            exchanges: s.exchanges.iter().map(|(o, _)| o.clone()).collect(),
            unparsed,
        }
    }

    /// The verdict on everything kept so far.
    pub fn verdict(&self) -> verdict::Verdict {
        verdict::judge(
            &self.traffic(),
            &self.config.judge,
            SourceKind::Proxy,
            &self.name,
        )
    }
}

/// The proxy's routes: the verdict, and everything else forwarded.
pub fn router(state: Arc<State>) -> axum::Router {
    axum::Router::new()
        .route(VERDICT_PATH, axum::routing::get(verdict_route))
        .fallback(forward::handle)
        .with_state(state)
}

/// Output format of the verdict route.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Format {
    #[default]
    Json,
    Junit,
    Text,
}

#[derive(Debug, Deserialize)]
struct VerdictQuery {
    #[serde(default)]
    format: Format,
}

async fn verdict_route(
    AxState(st): AxState<Arc<State>>,
    Query(q): Query<VerdictQuery>,
) -> Response {
    let format = q.format;
    let st2 = st.clone();
    let Ok(v) = tokio::task::spawn_blocking(move || st2.verdict()).await else {
        return (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "the verdict could not be judged",
        )
            .into_response();
    };
    match format {
        Format::Json => {
            axum::Json(verdict::document(&v, st.started, st.config.judge.strict)).into_response()
        }
        Format::Junit => match crate::report::junit::render(&v.targets, &v.records) {
            Ok(x) => ([(axum::http::header::CONTENT_TYPE, "application/xml")], x).into_response(),
            Err(e) => {
                (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()
            }
        },
        Format::Text => verdict::text(&v).into_response(),
    }
}

/// How long open exchanges get to finish after shutdown is asked for, before the verdict.
pub const DRAIN: Duration = Duration::from_secs(2);

/// Serves the proxy on `listener` (over TLS with `tls`) until `shutdown` resolves; exchanges
/// still open then get [`DRAIN`] to finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<State>,
    tls: Option<&crate::mock::tls::SelfSigned>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let served = async move {
        match tls {
            Some(tls) => {
                crate::mock::tls::serve_router(listener, app, tls, async {
                    let _ = stop_rx.await;
                })
                .await
            }
            None => {
                // The answer's head and body go out as separate writes: without TCP_NODELAY,
                // Nagle's algorithm and the client's delayed ACK add 40 ms to every exchange.
                let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                    let _ = tcp.set_nodelay(true);
                });
                axum::serve(
                    listener,
                    app.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                })
                .await
            }
        }
    };
    tokio::pin!(served);
    tokio::select! {
        r = &mut served => return r,
        _ = shutdown => {}
    }
    let _ = stop_tx.send(());
    match tokio::time::timeout(DRAIN, served).await {
        Ok(r) => r,
        Err(_) => Ok(()),
    }
}
