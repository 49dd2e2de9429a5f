//! Where a run goes: the embedded mock or live targets (from flags or a `--profile` TOML file),
//! with their clients, polling policy, safety tier, and the ledger of objects created on them.
//! Construction reads the settings (flags or [`profile`]) and the password's environment variable;
//! it never talks to the network ([`fingerprint`] does, once per target, before any case).

pub mod fingerprint;
pub mod profile;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

pub use profile::TargetConfig;

use crate::ledger::Ledger;
use crate::poll::Policy;
use crate::transport::{
    Client, ClientError, Credentials, EndpointError, Limits, Secret, TlsConfig, aiqum, element,
};

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
    /// Live AIQUM call whose job fails, for `work: failing-call`.
    pub aiqum_failing_call: Option<AiqumCall>,
    /// Element account to create scratch volumes in (else a temporary account is created).
    pub element_account: Option<i64>,
    /// Firmware label for snapshots (else the fingerprinted version).
    pub label: Option<String>,
    /// Set on the first Ctrl-C: start nothing new, clean up.
    pub interrupted: Arc<AtomicBool>,
    /// Objects created on this target, removed at the end of the run whatever happens.
    pub ledger: Arc<Ledger>,
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

/// A target and how many of its cases may run at once.
#[derive(Debug, Clone)]
pub struct Configured {
    /// The target.
    pub target: Target,
    /// Most cases running at once on it.
    pub concurrency: usize,
}

/// Errors building a target from its settings.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// Neither an Element nor an AIQUM URL.
    #[error("configure target {0}: give an Element URL, an AIQUM URL, or both")]
    NoEndpoint(String),
    /// A URL that is not an endpoint.
    #[error("configure target {target}: {source}")]
    BadUrl {
        /// Target name.
        target: String,
        /// What is wrong.
        source: EndpointError,
    },
    /// The password variable is unset and there is no terminal to ask on.
    #[error(
        "get a password for target {target}: {why} (use --password-env VAR, or run on a terminal to be asked)"
    )]
    NoPassword {
        /// Target name.
        target: String,
        /// Why.
        why: String,
    },
    /// The CA file could not be read.
    #[error("read CA certificate {path} for target {target}: {source}")]
    CaFile {
        /// Target name.
        target: String,
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP client could not be built.
    #[error("configure target {target}: {source}")]
    Client {
        /// Target name.
        target: String,
        /// Why.
        source: ClientError,
    },
    /// A setting out of range.
    #[error("configure target {target}: {message}")]
    Setting {
        /// Target name.
        target: String,
        /// What is wrong.
        message: String,
    },
}

/// The polling policy for a target whose clock runs `scale` times faster than real time, from
/// target-time settings.
pub fn policy(min_interval_ms: u64, max_interval_ms: u64, deadline_s: u64, scale: f64) -> Policy {
    let real = |ms: u64| Duration::from_secs_f64(ms as f64 / 1000.0 / scale);
    Policy {
        min_interval: real(min_interval_ms),
        max_interval: real(max_interval_ms.max(min_interval_ms)),
        deadline: real(deadline_s.saturating_mul(1000)),
        long_poll: Some(real(30_000)),
        time_scale: scale,
        ..Policy::default()
    }
}

/// A target for a mock at `urls` (embedded or `jobconform serve`), running `time_scale` times
/// faster than real time, with the given credentials.
pub fn mock(
    name: &str,
    urls: &crate::mock::Urls,
    time_scale: f64,
    creds: Credentials,
) -> Result<Target, TargetError> {
    let bad = |source: EndpointError| TargetError::BadUrl {
        target: name.to_string(),
        source,
    };
    let client =
        Client::new(Some(creds), Limits::default(), &TlsConfig::default()).map_err(|source| {
            TargetError::Client {
                target: name.to_string(),
                source,
            }
        })?;
    Ok(Target {
        name: name.to_string(),
        kind: Kind::Mock {
            control: urls.control.clone(),
            time_scale,
        },
        element: Some(element::Endpoint::parse(&urls.element).map_err(bad)?),
        aiqum: Some(aiqum::Endpoint::parse(&urls.aiqum).map_err(bad)?),
        client,
        policy: policy(500, 10_000, 600, time_scale),
        allow_mutations: true,
        aiqum_call: None,
        aiqum_failing_call: None,
        element_account: None,
        label: None,
        interrupted: Arc::new(AtomicBool::new(false)),
        ledger: Arc::new(Ledger::default()),
    })
}

/// A live target from its settings; reads the password from `password_env` or asks for it on the
/// terminal.
pub fn live(name: &str, cfg: &TargetConfig) -> Result<Configured, TargetError> {
    let t = name.to_string();
    if cfg.element.is_none() && cfg.aiqum.is_none() {
        return Err(TargetError::NoEndpoint(t));
    }
    let bad = |source: EndpointError| TargetError::BadUrl {
        target: name.to_string(),
        source,
    };
    let element = cfg
        .element
        .as_deref()
        .map(element::Endpoint::parse)
        .transpose()
        .map_err(bad)?;
    let aiqum = cfg
        .aiqum
        .as_deref()
        .map(aiqum::Endpoint::parse)
        .transpose()
        .map_err(bad)?;
    let concurrency = cfg.concurrency.unwrap_or(2);
    let min = cfg.min_interval_ms.unwrap_or(500);
    let setting = |message: &str| TargetError::Setting {
        target: name.to_string(),
        message: message.to_string(),
    };
    if concurrency == 0 || concurrency > 64 {
        return Err(setting("concurrency must be 1..=64"));
    }
    if min < 100 {
        return Err(setting(
            "min_interval_ms below 100 would hammer a live target (CL-NO-HAMMER)",
        ));
    }
    let ca_cert_pem = match &cfg.ca_cert {
        Some(path) => Some(std::fs::read(path).map_err(|source| TargetError::CaFile {
            target: t.clone(),
            path: path.clone(),
            source,
        })?),
        None => None,
    };
    let user = cfg.user.clone().unwrap_or_else(|| "admin".to_string());
    let password = password(name, &user, cfg.password_env.as_deref())?;
    let tls = TlsConfig {
        ca_cert_pem,
        insecure: cfg.insecure,
    };
    let client = Client::new(
        Some(Credentials { user, password }),
        Limits::default(),
        &tls,
    )
    .map_err(|source| TargetError::Client {
        target: t.clone(),
        source,
    })?;
    let target = Target {
        name: t,
        kind: Kind::Live,
        element,
        aiqum,
        client,
        policy: policy(
            min,
            cfg.max_interval_ms.unwrap_or(10_000),
            cfg.deadline_s.unwrap_or(600),
            1.0,
        ),
        allow_mutations: cfg.allow_mutations,
        aiqum_call: cfg.aiqum_call.clone(),
        aiqum_failing_call: cfg.aiqum_failing_call.clone(),
        element_account: cfg.element_account,
        label: cfg.label.clone(),
        interrupted: Arc::new(AtomicBool::new(false)),
        ledger: Arc::new(Ledger::default()),
    };
    Ok(Configured {
        target,
        concurrency,
    })
}

/// The password of a target: from the named environment variable, else asked on the terminal.
pub fn password(target: &str, user: &str, var: Option<&str>) -> Result<Secret, TargetError> {
    use std::io::IsTerminal;
    let err = |why: String| TargetError::NoPassword {
        target: target.to_string(),
        why,
    };
    if let Some(var) = var {
        return match std::env::var(var) {
            Ok(p) if !p.is_empty() => Ok(Secret::new(p)),
            Ok(_) => Err(err(format!("environment variable {var} is empty"))),
            Err(_) => Err(err(format!("environment variable {var} is not set"))),
        };
    }
    if !std::io::stdin().is_terminal() {
        return Err(err(
            "no --password-env given and stdin is not a terminal".into()
        ));
    }
    rpassword::prompt_password(format!("password for {user} on {target}: "))
        .map(Secret::new)
        .map_err(|e| err(e.to_string()))
}
