//! `jobconform judge FILE`: judges a recording (the proxy's JSON lines) or a HAR file offline with
//! the rules the proxy applies live, and writes the verdict as `run` does (terminal text, and
//! `--report-json` / `--junit`). Exit 0 conformant, 1 a rule failed (SHOULD only with
//! `--strict`), 2 unreadable input or nothing observed. Also owns the judging flags `proxy`
//! shares ([`VerdictArgs`]).

use std::path::PathBuf;

use jobconform::mock::audit::AuditConfig;
use jobconform::report::json::SourceKind;
use jobconform::traffic::{record, verdict};

/// How traffic is judged and where the verdict goes (shared by `judge` and `proxy`).
#[derive(Debug, Clone, clap::Args)]
pub struct VerdictArgs {
    /// The minimum poll interval the clients promise, in milliseconds (CL-NO-HAMMER).
    #[arg(long, value_name = "MS", default_value_t = 500)]
    pub min_interval_ms: u64,
    /// Measurement slack of the client rules, in milliseconds (arrival times at the proxy jitter
    /// by the network and the machine's load).
    #[arg(long, value_name = "MS", default_value_t = 20)]
    pub tolerance_ms: u64,
    /// The clients' deadline per job, in milliseconds (CL-DEADLINE; not observed without it).
    #[arg(long, value_name = "MS")]
    pub deadline_ms: Option<u64>,
    /// SHOULD findings fail the verdict (exit 1).
    #[arg(long)]
    pub strict: bool,
    /// Write the JSON verdict (schemas/report.schema.json) here.
    #[arg(long, value_name = "PATH")]
    pub report_json: Option<PathBuf>,
    /// Write JUnit XML here.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
}

impl VerdictArgs {
    /// The judging configuration.
    pub fn config(&self) -> verdict::Config {
        verdict::Config {
            audit: AuditConfig {
                min_interval_ms: self.min_interval_ms,
                tolerance_ms: self.tolerance_ms,
                deadline_ms: self.deadline_ms,
            },
            strict: self.strict,
        }
    }
    /// Where the verdict goes.
    pub fn outputs(&self) -> verdict::Outputs {
        verdict::Outputs {
            report_json: self.report_json.clone(),
            junit: self.junit.clone(),
        }
    }
}

/// `judge` arguments.
#[derive(Debug, clap::Args)]
pub struct JudgeArgs {
    /// A recording written by `jobconform proxy --record`, or a HAR file.
    pub file: PathBuf,
    /// How to judge and where to write.
    #[command(flatten)]
    pub verdict: VerdictArgs,
}

/// Runs `judge`; returns the exit code.
pub fn main(a: JudgeArgs) -> u8 {
    let started = jiff::Timestamp::now();
    let (kind, traffic) = match record::read(&a.file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("jobconform: failed to {e}");
            return 2;
        }
    };
    let kind = match kind {
        record::FileKind::Recording => SourceKind::Recording,
        record::FileKind::Har => SourceKind::Har,
    };
    let v = verdict::judge(
        &traffic,
        &a.verdict.config(),
        kind,
        &a.file.display().to_string(),
    );
    verdict::write(&v, &a.verdict.outputs(), started, a.verdict.strict)
}
