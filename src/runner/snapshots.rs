//! Snapshots from the runner's side: whether a trial's outcome is checked against its stored
//! snapshot (`snapshots/<label>/<case>.snap`), in which mode, and what the report says about it.
//! Normalization, redaction and the store are `snapshot`'s; this file only decides when to call it.

use std::path::PathBuf;

use crate::case::LoadedCase;
use crate::exec::{CaseOutcome, Status};
use crate::report::{SnapshotCheck, SnapshotStatus};
use crate::snapshot::{self, Context, Stored, Update, Volatile};
use crate::target::Target;

/// `--snapshots`: when trials are checked against stored snapshots.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Check cases whose snapshot is stored (INSTA_UPDATE / CI decide what happens to a changed
    /// one); never create missing ones.
    #[default]
    Auto,
    /// Check every case that asks for a snapshot: outside CI a missing one is created, under CI
    /// (or INSTA_UPDATE=no) a missing one fails.
    Check,
    /// Write every snapshot in place.
    Update,
    /// Do not look at snapshots.
    Off,
}

/// Where snapshots live and how they are checked.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The mode.
    pub mode: Mode,
    /// The snapshot root (`snapshots/`).
    pub root: PathBuf,
}

fn host_port(url: &str) -> Option<String> {
    let u = reqwest::Url::parse(url).ok()?;
    Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?))
}

/// Checks a trial's outcome against its snapshot, if the settings and the case ask for it.
pub fn check(
    settings: &Settings,
    label: &str,
    case: &LoadedCase,
    outcome: &CaseOutcome,
    target: &Target,
) -> Option<SnapshotCheck> {
    if settings.mode == Mode::Off || !case.case.snapshot || outcome.status != Status::Ran {
        return None;
    }
    let path = snapshot::snapshot_file(&settings.root, label, &case.name);
    let update = match settings.mode {
        Mode::Update => Update::Always,
        Mode::Auto if !path.exists() => return None,
        _ => Update::from_env(),
    };
    let hosts = [
        target.element.as_ref().map(|e| e.url(None)),
        target.aiqum.as_ref().map(|a| a.base.clone()),
    ]
    .into_iter()
    .flatten()
    .filter_map(|u| host_port(&u))
    .collect();
    let ctx = Context {
        rules: case.case.rules.clone(),
        volatile: Volatile {
            hosts,
            ..Volatile::default()
        },
    };
    let shown = path.display().to_string();
    let result = snapshot::check_case(&settings.root, label, &case.name, outcome, &ctx, update);
    Some(match result {
        Ok(Stored::Matched) => SnapshotCheck {
            status: SnapshotStatus::Matched,
            path: shown,
            message: None,
        },
        Ok(Stored::Created(_)) => SnapshotCheck {
            status: SnapshotStatus::Created,
            path: shown,
            message: None,
        },
        Ok(Stored::Updated(_)) => SnapshotCheck {
            status: SnapshotStatus::Updated,
            path: shown,
            message: None,
        },
        Err(e) => SnapshotCheck {
            status: match e {
                snapshot::SnapshotMismatch::Changed { .. } => SnapshotStatus::Changed,
                snapshot::SnapshotMismatch::Missing { .. } => SnapshotStatus::Missing,
                snapshot::SnapshotMismatch::Io { .. } => SnapshotStatus::Error,
            },
            path: shown,
            message: Some(format!("failed to {e}")),
        },
    })
}
