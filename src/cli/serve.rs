//! `jobconform serve`: the reference mock as a process. Prints exactly one JSON line on stdout
//! (`{"element": ..., "aiqum": ..., "control": ..., "ca_cert": ...}`), then serves until SIGINT
//! or SIGTERM and shuts down gracefully; with `--audit`, it then judges every client's polling
//! from its journal (CL-* rules) and exits 1 if a client broke one. The password may be given as a flag because this is a
//! test server; live targets never take one.

use std::collections::BTreeSet;
use std::io::Write;
use std::net::SocketAddr;

use jobconform::mock::{self, AiqumDialect, ElementDialect, MockConfig, deviation};
use jobconform::transport::Secret;

use super::error::CliError;

/// `serve` arguments.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Basic-auth user.
    #[arg(long, default_value = mock::DEFAULT_USER)]
    pub user: String,
    /// Basic-auth password of this TEST server (documented default; see also --password-env).
    #[arg(long, default_value = mock::DEFAULT_PASSWORD)]
    pub password: String,
    /// Read the password from this environment variable instead.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// Target time runs this many times faster than real time.
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Element dialect (register E1, E7).
    #[arg(long, value_enum, default_value_t = ElementDialect::Current)]
    pub element_dialect: ElementDialect,
    /// AIQUM dialect (register U1, U4).
    #[arg(long, value_enum, default_value_t = AiqumDialect::Split)]
    pub aiqum_dialect: AiqumDialect,
    /// Break one rule in a named way (repeatable; see `jobconform deviations`).
    #[arg(long = "deviation", value_name = "NAME")]
    pub deviations: Vec<String>,
    /// Do not offer AIQUM long polling.
    #[arg(long)]
    pub no_long_poll: bool,
    /// Probability (0..1) of a random transient fault per API request (xDBVersionMismatch, 503,
    /// a broken connection, a slow answer), injected before the request is processed.
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub faults: f64,
    /// Seed of the random faults (same seed and request order, same faults).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub faults_seed: u64,
    /// Serve HTTPS with a self-signed certificate (its PEM path is printed as `ca_cert`).
    #[arg(long)]
    pub tls: bool,
    /// At shutdown, audit every client's polling (CL-STOP, CL-NO-HAMMER, CL-KEEP, CL-DEADLINE):
    /// print the audit on stderr and exit 1 if a client broke a rule.
    #[arg(long)]
    pub audit: bool,
    /// The minimum poll interval the audited clients promised, in target milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 500, requires = "audit")]
    pub audit_min_interval: u64,
    /// The audited clients' deadline per job, in target milliseconds (CL-DEADLINE).
    #[arg(long, value_name = "MS", requires = "audit")]
    pub audit_deadline: Option<u64>,
    /// Measurement slack of the audit, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 2, requires = "audit")]
    pub audit_tolerance: u64,
    /// Also write the audit as JSON here.
    #[arg(long, value_name = "PATH", requires = "audit")]
    pub audit_json: Option<std::path::PathBuf>,
}

fn config(a: &ServeArgs) -> Result<MockConfig, CliError> {
    let mut deviations = BTreeSet::new();
    for name in &a.deviations {
        match deviation::find(name) {
            Some(d) => {
                deviations.insert(d.deviation);
            }
            None => {
                let valid: Vec<&str> = deviation::ALL.iter().map(|d| d.name).collect();
                return Err(CliError::UnknownDeviation {
                    name: name.clone(),
                    valid: valid.join(", "),
                });
            }
        }
    }
    jobconform::mock::clock::checked_scale("--time-scale", a.time_scale)?;
    if !(0.0..=1.0).contains(&a.faults) {
        return Err(CliError::Faults(a.faults));
    }
    let password = match &a.password_env {
        Some(var) => std::env::var(var).map_err(|_| CliError::PasswordEnv(var.clone()))?,
        None => a.password.clone(),
    };
    Ok(MockConfig {
        user: a.user.clone(),
        password: Secret::new(password),
        time_scale: a.time_scale,
        element_dialect: a.element_dialect,
        aiqum_dialect: a.aiqum_dialect,
        deviations,
        long_poll: !a.no_long_poll,
        faults: a.faults,
        faults_seed: a.faults_seed,
        ..MockConfig::default()
    })
}

/// Binds the listening socket; the listener and its address.
pub async fn bind(at: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr), CliError> {
    let listener = tokio::net::TcpListener::bind(at)
        .await
        .map_err(|source| CliError::Listen { at, source })?;
    let addr = listener.local_addr().map_err(CliError::LocalAddr)?;
    Ok((listener, addr))
}

/// With `tls`: a self-signed certificate and the path of its PEM, written to the temporary
/// directory as `<prefix>-<pid>-ca.pem` (the caller removes it at shutdown).
pub fn self_signed(
    tls: bool,
    prefix: &str,
) -> Result<(Option<mock::tls::SelfSigned>, Option<std::path::PathBuf>), CliError> {
    if !tls {
        return Ok((None, None));
    }
    let tls = mock::tls::self_signed()?;
    let path = std::env::temp_dir().join(format!("{prefix}-{}-ca.pem", std::process::id()));
    if let Err(source) = std::fs::write(&path, &tls.cert_pem) {
        return Err(CliError::Write { path, source });
    }
    Ok((Some(tls), Some(path)))
}

/// Registers SIGINT and SIGTERM now; the future resolves on the first of them.
pub fn stop_signal() -> Result<impl std::future::Future<Output = ()> + Send + 'static, CliError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt()).map_err(CliError::Signals)?;
        let mut term = signal(SignalKind::terminate()).map_err(CliError::Signals)?;
        Ok(async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// Runs `serve`; returns the exit code.
pub fn main(a: ServeArgs) -> u8 {
    let config = config(&a);
    super::run_async(config, |c| serve(a, c))
}

/// Judges the clients' polling from the journal; the exit code (1 if a rule was broken).
fn audit(a: &ServeArgs, state: &mock::State) -> Result<u8, CliError> {
    let config = mock::audit::AuditConfig {
        min_interval_ms: a.audit_min_interval,
        tolerance_ms: a.audit_tolerance,
        deadline_ms: a.audit_deadline,
    };
    let report = mock::audit::audit(&state.journal.snapshot(), &config);
    eprint!("{}", report.to_text());
    if let Some(path) = &a.audit_json {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, text + "\n").map_err(|source| CliError::Write {
            path: path.clone(),
            source,
        })?;
    }
    Ok(if report.clean() { 0 } else { 1 })
}

async fn serve(a: ServeArgs, config: MockConfig) -> Result<u8, CliError> {
    let (listener, addr) = bind(a.listen).await?;
    // Register the signal handlers before announcing the URLs, so a client may stop us at once.
    let shutdown = stop_signal()?;
    let state = mock::State::new(config);
    let (tls, ca_path) = self_signed(a.tls, "jobconform")?;
    let urls = mock::Urls::new(if a.tls { "https" } else { "http" }, addr);
    let mut line = serde_json::json!({
        "element": urls.element,
        "aiqum": urls.aiqum,
        "control": urls.control,
    });
    if let Some(p) = &ca_path {
        line["ca_cert"] = serde_json::Value::String(p.display().to_string());
    }
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
    let served = match &tls {
        Some(tls) => mock::tls::serve(listener, state.clone(), tls, shutdown).await,
        None => mock::serve(listener, state.clone(), shutdown).await,
    };
    if let Some(p) = ca_path {
        let _ = std::fs::remove_file(p);
    }
    served.map_err(CliError::Serve)?;
    if a.audit { audit(&a, &state) } else { Ok(0) }
}
