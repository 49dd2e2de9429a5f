//! Argument definitions of the `jobconform` binary (clap derive) and the exit-code table its help
//! shows. The `run` arguments live in `jobconform::runner` (they include libtest's).

pub mod diff;
pub mod error;
pub mod judge;
pub mod lists;
pub mod merge;
pub mod proxy;
pub mod serve;

use clap::{Parser, Subcommand, ValueEnum};

use error::CliError;

/// Runs a subcommand's asynchronous body on the shared runtime, after its flags were checked
/// into `config`: a flag or body error is one line `jobconform: failed to ...` and exit 2.
pub fn run_async<C, F>(config: Result<C, CliError>, body: impl FnOnce(C) -> F) -> u8
where
    F: std::future::Future<Output = Result<u8, CliError>>,
{
    let result = config.and_then(|c| {
        jobconform::transport::install_crypto();
        jobconform::runner::rt().block_on(body(c))
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("jobconform: failed to {e}");
            2
        }
    }
}

const EXIT_CODES: &str = "\
Exit codes:
  0    conformant: every MUST rule held (and every SHOULD rule under --strict)
  1    a MUST rule failed (or a SHOULD rule under --strict), or a stored snapshot
       no longer matches (see --snapshots)
  2    harness or configuration error (bad flag, profile, case file, unknown deviation),
       a harness error in a trial, or nothing ran (everything filtered out or skipped)
  3    a target was unreachable (connection refused, TLS, timeout) or refused the
       credentials (HTTP 401) while being fingerprinted; no case ran
  130  interrupted (Ctrl-C); cleanup ran first unless Ctrl-C was pressed twice";

/// Conformance harness for the asynchronous-operation contracts of NetApp Element JSON-RPC
/// (GetAsyncResult, keepResult, ListAsyncResults, CloneVolume) and AIQUM REST jobs.
#[derive(Debug, Parser)]
#[command(name = "jobconform", version, after_long_help = EXIT_CODES, after_help = EXIT_CODES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Output format of the listing commands.
#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum Format {
    /// Aligned columns.
    #[default]
    Table,
    /// JSON.
    Json,
    /// A Markdown table (for the README).
    Markdown,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the conformance cases: against the embedded mock when no target is given, else
    /// against live targets (read-only unless --allow-mutations). Takes libtest's flags too:
    /// FILTER, --exact, --skip, --list, --ignored, --include-ignored, --format
    /// pretty|terse|json, --test-threads.
    #[command(
        help_template = "{about-with-newline}\nUsage: {usage}\n\n{all-args}{after-help}",
        after_help = EXIT_CODES,
        after_long_help = EXIT_CODES
    )]
    Run(Box<jobconform::runner::RunArgs>),
    /// Serve the reference mock (Element JSON-RPC + AIQUM REST + control API) until SIGINT or
    /// SIGTERM; prints one JSON line with its URLs on stdout.
    Serve(Box<serve::ServeArgs>),
    /// Compare two snapshot labels (or two `run --report-json` verdicts): rules fixed and
    /// broken, response shapes changed, cases added and removed. Markdown on stdout (or
    /// --markdown), HTML with --html. Exit 0 when the report was written, 2 on error.
    Diff(Box<diff::DiffArgs>),
    /// Stand between clients and a real Element cluster and/or AIQUM server: forward every
    /// request unchanged, judge the server rules and every client's polling as traffic flows,
    /// and give the verdict on GET /_jobconform/verdict and at SIGINT/SIGTERM (exit 0/1, 2 when
    /// nothing was observed). Prints one JSON line with its URLs on stdout.
    Proxy(Box<proxy::ProxyArgs>),
    /// Judge a recording (`proxy --record FILE`) or a HAR file with the proxy's rules: the same
    /// verdict, report and exit codes as the live proxy.
    Judge(Box<judge::JudgeArgs>),
    /// Merge the JSON verdicts of a split run (`run --shard K/N`) into one run's verdict.
    ///
    /// The per-rule outcomes, summary and exit code are derived again, as a single run would.
    /// Verdicts of different contracts, case sets or splits are refused; a missing or duplicated
    /// shard is exit 2 and nothing is written. Exits as the merged run would (0, 1, 2, 130).
    #[command(after_help = EXIT_CODES, after_long_help = EXIT_CODES)]
    Merge(Box<merge::MergeArgs>),
    /// List the contract's rules; with --coverage, for each rule whether it is judged on the
    /// mock, on a live target read-only, with mutations, and with a failing call, and why not.
    Rules {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Show the coverage table (read from the cases) instead of the rules' sentences.
        #[arg(long)]
        coverage: bool,
        /// The cases directory for --coverage (default: ./cases, else the crate's own).
        #[arg(long, requires = "coverage")]
        cases: Option<std::path::PathBuf>,
    },
    /// List the mock's named deviations.
    Deviations {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}
