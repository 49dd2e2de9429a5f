//! Argument definitions of the `jobconform` binary (clap derive) and the exit-code table its help
//! shows. The `run` arguments live in `jobconform::runner` (they include libtest's).

pub mod diff;
pub mod lists;
pub mod serve;

use clap::{Parser, Subcommand, ValueEnum};

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
