//! Why a subcommand that serves (`serve`, `proxy`) could not start or stop cleanly: a bad flag,
//! a socket, a certificate, a file. [`super::run_async`] prints one as `jobconform: failed to
//! {error}` and exits 2; conformance verdicts never come through here.

use std::net::SocketAddr;
use std::path::PathBuf;

use jobconform::mock::clock::BadScale;
use jobconform::mock::tls::TlsError;
use jobconform::transport::{ClientError, EndpointError};

/// A harness error of `serve` or `proxy` (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// `--deviation NAME` names no deviation.
    #[error("use deviation {name:?}: unknown; valid names are: {valid}")]
    UnknownDeviation {
        /// The name given.
        name: String,
        /// Every valid name, comma-separated.
        valid: String,
    },
    /// A time scale that is not a positive number.
    #[error(transparent)]
    Scale(#[from] BadScale),
    /// `--faults` outside 0..=1.
    #[error("use --faults {0}: it must be between 0 and 1")]
    Faults(f64),
    /// `--password-env VAR` names an unset variable.
    #[error("read the password: environment variable {0} is not set")]
    PasswordEnv(String),
    /// An upstream URL (`--element-upstream`, `--aiqum-upstream`) that is not an endpoint.
    #[error("use {flag} {source}")]
    Upstream {
        /// The flag.
        flag: &'static str,
        /// What is wrong with the URL.
        source: EndpointError,
    },
    /// A file that could not be read.
    #[error("read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file that could not be written.
    #[error("write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The recording file could not be opened.
    #[error("open {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The listening socket could not be bound.
    #[error("listen on {at}: {source}")]
    Listen {
        /// The address asked for.
        at: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The bound socket's address could not be read.
    #[error("read the listening address: {0}")]
    LocalAddr(#[source] std::io::Error),
    /// SIGINT/SIGTERM handlers could not be installed.
    #[error("install signal handlers: {0}")]
    Signals(#[source] std::io::Error),
    /// The self-signed certificate could not be made.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The proxy's upstream client could not be built.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The audit could not be serialized.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// Serving failed.
    #[error("serve: {0}")]
    Serve(#[source] std::io::Error),
}
