//! Building the targets of a run: a profile's, the flags' (target `live`), a `--control` mock, or
//! an embedded mock started here; and [`TargetsError`], why they could not be built (a harness
//! error: exit 2). Sends nothing to a target (fingerprint and probe are [`super::plan`]'s).

use std::sync::Arc;

use super::RunArgs;
use crate::mock::clock::BadScale;
use crate::mock::{self, MockConfig, RunningMock};
use crate::target::profile::ProfileError;
use crate::target::{self, Configured, TargetConfig, TargetError, profile};
use crate::transport::{Credentials, Secret};

/// Why the targets of a run (or a private copy of the embedded mock) could not be had.
#[derive(Debug, thiserror::Error)]
pub enum TargetsError {
    /// The profile could not be read.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// A target's settings are unusable.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// `--mock-time-scale` is not a positive number.
    #[error(transparent)]
    Scale(#[from] BadScale),
    /// The embedded mock could not start.
    #[error("start the embedded mock: {0}")]
    StartMock(#[source] std::io::Error),
    /// A private copy of the embedded mock (for a case about the whole job list) could not start.
    #[error("start a private copy of the embedded mock: {0}")]
    StartPrivateMock(#[source] std::io::Error),
}

/// Default concurrency on the embedded mock.
const MOCK_CONCURRENCY: usize = 16;

/// The run's targets, and the embedded mock if one was started.
#[derive(Debug)]
pub struct TargetSet {
    /// Targets in order.
    pub targets: Vec<Configured>,
    mock: Option<RunningMock>,
    /// The embedded mock's configuration: a case that needs a whole target runs on a fresh copy
    /// of it instead of locking the shared one.
    pub(super) private: Option<Arc<MockConfig>>,
}

impl TargetSet {
    /// Stops the embedded mock, if any.
    pub fn stop(self, rt: &tokio::runtime::Runtime) {
        if let Some(m) = self.mock {
            rt.block_on(m.stop());
        }
    }
}

fn flag_config(args: &RunArgs) -> TargetConfig {
    TargetConfig {
        element: args.element.clone(),
        aiqum: args.aiqum.clone(),
        user: args.user.clone(),
        password_env: args.password_env.clone(),
        ca_cert: args.ca_cert.clone(),
        insecure: args.insecure,
        ..TargetConfig::default()
    }
}

fn overrides(cfg: &mut TargetConfig, args: &RunArgs) {
    cfg.allow_mutations |= args.allow_mutations;
    if args.deadline.is_some() {
        cfg.deadline_s = args.deadline;
    }
    if args.min_interval.is_some() {
        cfg.min_interval_ms = args.min_interval;
    }
    if args.concurrency.is_some() {
        cfg.concurrency = args.concurrency;
    }
}

/// Builds the targets: a profile's, the flags' (target `live`), or an embedded mock.
pub async fn build(args: &RunArgs) -> Result<TargetSet, TargetsError> {
    let mut configs: Vec<(String, TargetConfig)> = Vec::new();
    if let Some(control) = &args.control {
        return served_mock(args, control);
    }
    if let Some(path) = &args.profile {
        let p = profile::load(path)?;
        configs.extend(p.targets);
    } else if args.element.is_some() || args.aiqum.is_some() {
        configs.push(("live".into(), flag_config(args)));
    }
    if configs.is_empty() {
        return embedded(args).await;
    }
    let mut out = Vec::new();
    for (name, mut cfg) in configs {
        overrides(&mut cfg, args);
        if args.label.is_some() {
            cfg.label = args.label.clone();
        }
        out.push(target::live(&name, &cfg)?);
    }
    Ok(TargetSet {
        targets: out,
        mock: None,
        private: None,
    })
}

/// The snapshot label of the embedded mock: `--label`, else `mock` (a mock's firmware version is
/// made up, and its snapshots must not mix with a real cluster's).
fn mock_label(args: &RunArgs) -> String {
    args.label.clone().unwrap_or_else(|| "mock".into())
}

async fn embedded(args: &RunArgs) -> Result<TargetSet, TargetsError> {
    let scale = mock::clock::checked_scale("--mock-time-scale", args.mock_time_scale)?;
    let config = MockConfig {
        time_scale: scale,
        element_dialect: args.mock_element_dialect,
        aiqum_dialect: args.mock_aiqum_dialect,
        ..MockConfig::default()
    };
    let private = Some(Arc::new(config.clone()));
    let running = mock::spawn(config).await.map_err(TargetsError::StartMock)?;
    let creds = Credentials {
        user: mock::DEFAULT_USER.into(),
        password: Secret::new(mock::DEFAULT_PASSWORD),
    };
    let mut target = target::mock("mock", &running.urls, scale, creds)?;
    target.label = Some(mock_label(args));
    Ok(TargetSet {
        targets: vec![Configured {
            target,
            concurrency: args.concurrency.unwrap_or(MOCK_CONCURRENCY).max(1),
        }],
        mock: Some(running),
        private,
    })
}

/// The `--control` target: a `jobconform serve` mock treated as a mock (scripted cases run).
fn served_mock(args: &RunArgs, control: &str) -> Result<TargetSet, TargetsError> {
    let scale = mock::clock::checked_scale("--mock-time-scale", args.mock_time_scale)?;
    let urls = mock::Urls {
        element: args.element.clone().unwrap_or_default(),
        aiqum: args.aiqum.clone().unwrap_or_default(),
        control: control.trim_end_matches('/').to_string(),
    };
    let user = args
        .user
        .clone()
        .unwrap_or_else(|| mock::DEFAULT_USER.into());
    let password = match &args.password_env {
        Some(_) => target::password("mock", &user, args.password_env.as_deref())?,
        None => Secret::new(mock::DEFAULT_PASSWORD),
    };
    let mut target = target::mock("mock", &urls, scale, Credentials { user, password })?;
    // A served mock may run any dialect or deviation: it is not `mock` unless told so.
    target.label = args.label.clone();
    Ok(TargetSet {
        targets: vec![Configured {
            target,
            concurrency: args.concurrency.unwrap_or(MOCK_CONCURRENCY).max(1),
        }],
        mock: None,
        private: None,
    })
}
