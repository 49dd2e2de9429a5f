//! Where a run goes: the embedded mock or live targets (from flags or a `--profile` TOML file),
//! with their clients, polling policy, safety tier, and the ledger of objects created on them.
//! (Construction from flags/profile TO BE WRITTEN by the runner work; the struct is the agreed
//! interface between `runner` and `exec`.)

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::poll::Policy;
use crate::transport::{Client, aiqum, element};

/// What kind of target.
#[derive(Debug, Clone)]
pub enum Kind {
    /// The mock (embedded or `jobconform serve`): scripted jobs available through the control API.
    Mock {
        /// Control API base (`http://127.0.0.1:PORT/_jobconform`).
        control: String,
        /// Target time runs this many times faster than real time.
        time_scale: f64,
    },
    /// A real cluster or AIQUM server.
    Live,
}

/// AIQUM asynchronous call used by `start: {"work": "call"}` on a live target, and its cleanup.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AiqumCall {
    /// HTTP method (`POST`).
    pub method: String,
    /// Path under the API base (`/storage-provider/luns`).
    pub path: String,
    /// JSON body.
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    /// How to undo it: method and path, where `${result:NAME}` is the job_results value NAME.
    #[serde(default)]
    pub cleanup: Option<AiqumCleanup>,
}

/// The call that removes what an [`AiqumCall`] created.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AiqumCleanup {
    /// HTTP method (`DELETE`).
    pub method: String,
    /// Path, e.g. `/storage-provider/luns/${result:lunKey}`.
    pub path: String,
}

/// One target of a run.
#[derive(Debug, Clone)]
pub struct Target {
    /// Name used in trial names and reports (`mock`, or the profile's target name).
    pub name: String,
    /// Mock or live.
    pub kind: Kind,
    /// Element endpoint, if the target has one.
    pub element: Option<element::Endpoint>,
    /// AIQUM endpoint, if the target has one.
    pub aiqum: Option<aiqum::Endpoint>,
    /// The HTTP client (credentials, TLS, timeouts).
    pub client: Client,
    /// Polling policy (real time).
    pub policy: Policy,
    /// Whether cases that create objects may run (always true on the mock).
    pub allow_mutations: bool,
    /// Live AIQUM asynchronous call for `work: call`.
    pub aiqum_call: Option<AiqumCall>,
    /// Element account to create scratch volumes in (else a temporary account is created).
    pub element_account: Option<i64>,
    /// Firmware label for snapshots (else the fingerprinted version).
    pub label: Option<String>,
    /// Set on the first Ctrl-C: start nothing new, clean up.
    pub interrupted: Arc<AtomicBool>,
    /// Objects created on this target, removed at the end of the run whatever happens.
    pub ledger: Arc<crate::cleanup::Ledger>,
}

impl Target {
    /// The mock's time scale (1.0 for live targets).
    pub fn time_scale(&self) -> f64 {
        match self.kind {
            Kind::Mock { time_scale, .. } => time_scale,
            Kind::Live => 1.0,
        }
    }
    /// Real duration for `ms` of target time.
    pub fn real(&self, ms: u64) -> std::time::Duration {
        std::time::Duration::from_secs_f64(ms as f64 / 1000.0 / self.time_scale())
    }
    /// Whether this is a mock.
    pub fn is_mock(&self) -> bool {
        matches!(self.kind, Kind::Mock { .. })
    }
}
