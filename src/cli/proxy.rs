//! `jobconform proxy`: the proxy as a process. Checks its flags, prints exactly one JSON line on
//! stdout (`{"element": ..., "aiqum": ..., "verdict": ..., "ca_cert": ...}`: the proxy's own URLs),
//! forwards until SIGINT or SIGTERM, then writes the verdict as `judge` does and exits with its
//! code (0 conformant, 1 a rule failed, 2 bad flags or nothing observed).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use jobconform::proxy::{self, Config};
use jobconform::traffic::record::{self, Recorder};
use jobconform::traffic::verdict;
use jobconform::transport::{Limits, TlsConfig, aiqum, element};

use super::error::CliError;
use super::judge::VerdictArgs;

/// `proxy` arguments.
#[derive(Debug, clap::Args)]
pub struct ProxyArgs {
    /// The Element cluster to forward `/json-rpc/...` to (https://MVIP/json-rpc/12.5).
    #[arg(long, value_name = "URL", required_unless_present = "aiqum_upstream")]
    pub element_upstream: Option<String>,
    /// The AIQUM server to forward `/api/...` to (https://HOST/api).
    #[arg(long, value_name = "URL")]
    pub aiqum_upstream: Option<String>,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Serve HTTPS to the clients with a self-signed certificate (its PEM path is printed as
    /// `ca_cert`, and removed at shutdown).
    #[arg(long)]
    pub tls: bool,
    /// Trust only this CA toward the upstream (a cluster's self-signed certificate).
    #[arg(long, value_name = "PEM", conflicts_with = "insecure")]
    pub ca_cert: Option<PathBuf>,
    /// Accept any certificate from the upstream.
    #[arg(long)]
    pub insecure: bool,
    /// Append every exchange (credentials redacted) to this file as it completes.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Time allowed per request toward the upstream, in seconds; a long poll adds its
    /// `poll_timeout`.
    #[arg(long, value_name = "S", default_value_t = 300)]
    pub upstream_timeout: u64,
    /// Largest answer body kept for judging (larger ones are streamed on and recorded as too
    /// large), and largest request body accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_body: usize,
    /// How to judge and where to write the verdict at shutdown.
    #[command(flatten)]
    pub verdict: VerdictArgs,
}

/// `--element-upstream`'s URL error.
fn element_upstream(source: jobconform::transport::EndpointError) -> CliError {
    CliError::Upstream {
        flag: "--element-upstream",
        source,
    }
}

fn config(a: &ProxyArgs) -> Result<Config, CliError> {
    if let Some(u) = &a.element_upstream {
        element::Endpoint::parse(u).map_err(element_upstream)?;
    }
    if let Some(u) = &a.aiqum_upstream {
        aiqum::Endpoint::parse(u).map_err(|source| CliError::Upstream {
            flag: "--aiqum-upstream",
            source,
        })?;
    }
    let ca_cert_pem = match &a.ca_cert {
        Some(p) => Some(std::fs::read(p).map_err(|source| CliError::Read {
            path: p.clone(),
            source,
        })?),
        None => None,
    };
    Ok(Config {
        element: a.element_upstream.clone(),
        aiqum: a.aiqum_upstream.clone(),
        tls: TlsConfig {
            ca_cert_pem,
            insecure: a.insecure,
        },
        limits: Limits {
            request_timeout: Duration::from_secs(a.upstream_timeout.max(1)),
            max_body: a.max_body.max(1),
            ..Limits::default()
        },
        judge: a.verdict.config(),
    })
}

/// Runs `proxy`; returns the exit code.
pub fn main(a: ProxyArgs) -> u8 {
    let config = config(&a);
    super::run_async(config, |c| run(a, c))
}

async fn run(a: ProxyArgs, config: Config) -> Result<u8, CliError> {
    let (listener, addr) = super::serve::bind(a.listen).await?;
    let shutdown = super::serve::stop_signal()?;
    let recorder = match &a.record {
        Some(path) => {
            let header = record::Header {
                jobconform_recording: record::FORMAT,
                started: jiff::Timestamp::now(),
                element: config.element.clone(),
                aiqum: config.aiqum.clone(),
            };
            Some(
                Recorder::open(path, &header).map_err(|source| CliError::Open {
                    path: path.clone(),
                    source,
                })?,
            )
        }
        None => None,
    };
    let (tls, ca_path) = super::serve::self_signed(a.tls, "jobconform-proxy")?;
    let base = format!("{}://{addr}", if a.tls { "https" } else { "http" });
    let mut line = serde_json::json!({"verdict": format!("{base}{}", proxy::VERDICT_PATH)});
    if let Some(u) = &config.element {
        let ep = element::Endpoint::parse(u).map_err(element_upstream)?;
        line["element"] = format!("{base}/json-rpc/{}", ep.version).into();
    }
    if let Some(u) = &config.aiqum {
        let path = reqwest::Url::parse(u)
            .map(|u| u.path().trim_end_matches('/').to_string())
            .unwrap_or_default();
        line["aiqum"] = format!("{base}{path}").into();
    }
    if let Some(p) = &ca_path {
        line["ca_cert"] = p.display().to_string().into();
    }
    let strict = config.judge.strict;
    let state = proxy::State::new(config, recorder, base)?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
    let served = proxy::serve(listener, state.clone(), tls.as_ref(), shutdown).await;
    if let Some(p) = ca_path {
        let _ = std::fs::remove_file(p);
    }
    served.map_err(CliError::Serve)?;
    let v = state.verdict();
    Ok(verdict::write(
        &v,
        &a.verdict.outputs(),
        state.started,
        strict,
    ))
}
