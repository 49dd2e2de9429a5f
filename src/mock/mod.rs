//! The reference mock: SolidFire Element JSON-RPC and AIQUM REST on one HTTP server, faithful to
//! CONTRACT.md by default, scriptable through a control API under `/_jobconform/`, and able to
//! break one rule at a time through named [`deviation`]s. Jobs are timelines on a scaled
//! [`clock::Clock`], never threads. The mock never reads `cases/` or `snapshots/`.
//!
//! Start it with [`spawn`] (in-process, on the current tokio runtime, so a paused runtime gives
//! virtual time) or [`serve`] (any listener, until a shutdown future resolves).

pub mod aiqum;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod control;
pub mod deviation;
pub mod element;
pub mod faults;
pub mod journal;
pub mod script;
pub mod service;
pub mod tls;

use std::collections::BTreeSet;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use serde::Serialize;
use tokio::net::TcpListener;

use crate::secret::Secret;
pub use deviation::Deviation;

/// Default user of the mock (`--user`).
pub const DEFAULT_USER: &str = "admin";
/// Default password of the mock (`--password`); documented, for test servers only.
pub const DEFAULT_PASSWORD: &str = "jc-mock-secret";
/// Element API versions the mock serves (those of a 12.5 cluster).
pub const ELEMENT_VERSIONS: &[&str] = &[
    "1.0", "2.0", "3.0", "4.0", "5.0", "5.1", "6.0", "7.0", "7.1", "7.2", "7.3", "7.4", "8.0",
    "8.1", "8.2", "8.3", "8.4", "9.0", "9.1", "9.2", "9.3", "9.4", "9.5", "9.6", "10.0", "10.1",
    "10.2", "10.3", "10.4", "10.5", "10.6", "10.7", "11.0", "11.1", "11.3", "11.5", "11.7", "11.8",
    "12.0", "12.2", "12.3", "12.5",
];
/// The Element version the mock advertises as current.
pub const ELEMENT_CURRENT: &str = "12.5";

/// Element dialect (register E1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ElementDialect {
    /// As a 12.x cluster answers: `xAsyncHandleDoesNotExist`, and a numeric-string `asyncHandle`
    /// converted and looked up (register E7).
    #[default]
    Current,
    /// Exactly the doc examples: `xDBNoSuchPath`, and `asyncHandle` an integer only (a numeric
    /// string is `xInvalidParameterType`, register E7).
    DocLiteral,
}

/// AIQUM dialect (register U1, U4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum AiqumDialect {
    /// Lower-case lifecycle `state` plus outcome `status`, as AIQUM 9.7+ serves.
    #[default]
    Split,
    /// A single upper-case `state` holding NORMAL/WARNING/PARTIAL_FAILURES/ERROR, no `status`.
    Literal,
}

/// Everything that configures a mock.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// Basic-auth user.
    pub user: String,
    /// Basic-auth password.
    pub password: Secret,
    /// Target time runs this many times faster than real time.
    pub time_scale: f64,
    /// Element dialect.
    pub element_dialect: ElementDialect,
    /// AIQUM dialect.
    pub aiqum_dialect: AiqumDialect,
    /// Active deviations.
    pub deviations: BTreeSet<Deviation>,
    /// Whether AIQUM long polling (register U3) is offered.
    pub long_poll: bool,
    /// Largest request body accepted, in bytes.
    pub max_body: usize,
    /// Target milliseconds a CloneVolume takes.
    pub clone_ms: u64,
    /// Target milliseconds an AIQUM provisioning job takes.
    pub aiqum_job_ms: u64,
    /// Probability of a random transient fault per API request (0 = none; see [`faults`]).
    pub faults: f64,
    /// Seed of the random faults.
    pub faults_seed: u64,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            user: DEFAULT_USER.into(),
            password: Secret::new(DEFAULT_PASSWORD),
            time_scale: 1.0,
            element_dialect: ElementDialect::Current,
            aiqum_dialect: AiqumDialect::Split,
            deviations: BTreeSet::new(),
            long_poll: true,
            max_body: 1024 * 1024,
            clone_ms: 3_000,
            aiqum_job_ms: 3_000,
            faults: 0.0,
            faults_seed: 1,
        }
    }
}

impl MockConfig {
    /// Whether a deviation is active.
    pub fn deviates(&self, d: Deviation) -> bool {
        self.deviations.contains(&d)
    }
}

/// Shared state of one mock. No lock is ever held across an `.await`.
#[derive(Debug)]
pub struct State {
    /// Configuration (fixed for the mock's life).
    pub config: MockConfig,
    /// The clock jobs run on.
    pub clock: clock::Clock,
    /// Element objects and asynchronous results.
    pub element: std::sync::Mutex<element::ElementState>,
    /// AIQUM jobs.
    pub aiqum: std::sync::Mutex<aiqum::AiqumState>,
    /// Request journal (for the audit and the control API).
    pub journal: journal::Journal,
    /// Random transient faults, when configured.
    pub faults: Option<faults::Faults>,
}

impl State {
    /// Fresh state for a configuration (with the AIQUM job history a new server has).
    pub fn new(config: MockConfig) -> Arc<State> {
        let clock = clock::Clock::new(config.time_scale);
        Arc::new(State {
            element: std::sync::Mutex::new(element::ElementState::new(&config, &clock)),
            aiqum: std::sync::Mutex::new(aiqum::AiqumState::new(&config, &clock)),
            journal: journal::Journal::default(),
            faults: (config.faults > 0.0)
                .then(|| faults::Faults::new(config.faults, config.faults_seed)),
            config,
            clock,
        })
    }
}

impl State {
    /// Back to a fresh mock: new Element and AIQUM state, empty journal (the clock keeps running).
    pub fn reset(&self) {
        let element = element::ElementState::new(&self.config, &self.clock);
        *self.element.lock().unwrap_or_else(|p| p.into_inner()) = element;
        let aiqum = aiqum::AiqumState::new(&self.config, &self.clock);
        *self.aiqum.lock().unwrap_or_else(|p| p.into_inner()) = aiqum;
        self.journal.clear();
    }
}

/// The mock's HTTP routes for a state.
pub fn router(state: Arc<State>) -> axum::Router {
    axum::Router::new()
        .merge(element::routes())
        .merge(aiqum::routes())
        .merge(control::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            faults::inject,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(state.config.max_body))
        .with_state(state)
}

/// Serves the mock on `listener` until `shutdown` resolves, then shuts down gracefully.
pub async fn serve(
    listener: TcpListener,
    state: Arc<State>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// The URLs clients use for a mock at `addr`.
#[derive(Debug, Clone, Serialize)]
pub struct Urls {
    /// `http://127.0.0.1:PORT/json-rpc/12.5`
    pub element: String,
    /// `http://127.0.0.1:PORT/api`
    pub aiqum: String,
    /// `http://127.0.0.1:PORT/_jobconform`
    pub control: String,
}

impl Urls {
    /// URLs for a scheme and address.
    pub fn new(scheme: &str, addr: SocketAddr) -> Urls {
        Urls {
            element: format!("{scheme}://{addr}/json-rpc/{ELEMENT_CURRENT}"),
            aiqum: format!("{scheme}://{addr}/api"),
            control: format!("{scheme}://{addr}/_jobconform"),
        }
    }
}

/// A mock running on the current tokio runtime; dropping it (or [`RunningMock::stop`]) shuts it
/// down.
#[derive(Debug)]
pub struct RunningMock {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its URLs.
    pub urls: Urls,
    /// Its state (tests may inspect it).
    pub state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl RunningMock {
    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningMock {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Binds `127.0.0.1:0` and serves a mock on the current runtime.
pub async fn spawn(config: MockConfig) -> std::io::Result<RunningMock> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state = State::new(config);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, state.clone(), async {
        let _ = rx.await;
    }));
    Ok(RunningMock {
        addr,
        urls: Urls::new("http", addr),
        state,
        stop: Some(tx),
        task: Some(task),
    })
}
