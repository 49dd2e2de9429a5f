//! The only module that knows libtest-mimic: cases x targets -> trials, run with libtest's
//! command line (filter, `--exact`, `--skip`, `--list`, `--format`, `--test-threads`), then
//! cleanup, reports and the exit code. `jobconform run` and `cargo test --test conformance` both
//! come through [`run`].
//!
//! Order of a run: load cases; build targets (the embedded mock when no target is given);
//! install the Ctrl-C handler; fingerprint every target (unreachable or 401: exit 3, no trial);
//! probe capabilities; announce mutations on live targets; run the trials; clean every target;
//! write the summary and reports.

pub mod cases;
pub mod plan;
pub mod shard;
pub mod signals;
pub mod snapshots;
pub mod targets;
pub mod trials;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::report::{self, TargetRecord, Verdict};

/// Exit codes of `jobconform run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: every MUST rule held (and every SHOULD rule under `--strict`).
    Conformant,
    /// 1: a MUST rule failed (or a SHOULD rule under `--strict`).
    Nonconformant,
    /// 2: harness or configuration error, or nothing ran.
    Harness,
    /// 3: a target was unreachable or refused the credentials.
    Unreachable,
    /// 130: interrupted.
    Interrupted,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Conformant => 0,
            Exit::Nonconformant => 1,
            Exit::Harness => 2,
            Exit::Unreachable => 3,
            Exit::Interrupted => 130,
        }
    }
}

/// `jobconform run` arguments (libtest's own flags included).
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Directory of case files to run instead of the suite built into this binary.
    #[arg(long, value_name = "DIR")]
    pub cases: Option<PathBuf>,
    /// Live Element endpoint (https://MVIP/json-rpc/12.5).
    #[arg(long, value_name = "URL", conflicts_with = "profile")]
    pub element: Option<String>,
    /// Live AIQUM API base (https://HOST/api).
    #[arg(long, value_name = "URL", conflicts_with = "profile")]
    pub aiqum: Option<String>,
    /// User for live targets [default: admin].
    #[arg(long, value_name = "NAME", conflicts_with = "profile")]
    pub user: Option<String>,
    /// Environment variable holding the password (else asked on the terminal; there is no
    /// password flag).
    #[arg(long, value_name = "VAR", conflicts_with = "profile")]
    pub password_env: Option<String>,
    /// Trust only this PEM bundle (a cluster's self-signed certificate).
    #[arg(long, value_name = "PEM", conflicts_with = "profile")]
    pub ca_cert: Option<PathBuf>,
    /// Accept any TLS certificate.
    #[arg(long, conflicts_with = "profile")]
    pub insecure: bool,
    /// Let cases that create objects run on live targets (they are removed afterwards).
    #[arg(long)]
    pub allow_mutations: bool,
    /// Fail on SHOULD findings too.
    #[arg(long)]
    pub strict: bool,
    /// Polling deadline on live targets, in seconds [default: 600].
    #[arg(long, value_name = "SECS")]
    pub deadline: Option<u64>,
    /// Minimum interval between polls on live targets, in milliseconds [default: 500].
    #[arg(long, value_name = "MS")]
    pub min_interval: Option<u64>,
    /// Most cases at once per target [default: 16 on the mock, 2 live].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// TOML file with several named live targets.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// The --element/--aiqum target is a `jobconform serve` mock with this control API
    /// (http://HOST:PORT/_jobconform): scripted cases run on it; give its --time-scale as
    /// --mock-time-scale.
    #[arg(long, value_name = "URL", conflicts_with = "profile", requires_all = ["element", "aiqum"])]
    pub control: Option<String>,
    /// Time scale of the mock (the embedded one, or the one named by --control).
    #[arg(long, value_name = "F", default_value_t = 50.0)]
    pub mock_time_scale: f64,
    /// Check trials against stored snapshots (snapshots/<firmware label>/<case>.snap): auto
    /// checks the stored ones only; check also creates missing ones (fails on them under CI);
    /// update rewrites them; off ignores them.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = snapshots::Mode::Auto)]
    pub snapshots: snapshots::Mode,
    /// Same as --snapshots update.
    #[arg(long, conflicts_with = "snapshots")]
    pub update: bool,
    /// Snapshot label, i.e. the directory snapshots/<LABEL>/ [default: `mock` on the embedded
    /// mock, whatever its dialects; else the profile's `label`, else the fingerprinted firmware].
    /// The committed references are `mock` (default dialects) and `mock-doc-literal`
    /// (--mock-element-dialect doc-literal --mock-aiqum-dialect literal).
    #[arg(long, value_name = "LABEL")]
    pub label: Option<String>,
    /// Element dialect of the embedded mock (register E1, E7); a served mock's is set by
    /// `jobconform serve --element-dialect`.
    #[arg(
        long,
        value_enum,
        value_name = "DIALECT",
        default_value_t = crate::mock::ElementDialect::Current,
        conflicts_with_all = ["element", "aiqum", "profile"]
    )]
    pub mock_element_dialect: crate::mock::ElementDialect,
    /// AIQUM dialect of the embedded mock (register U1, U4); a served mock's is set by
    /// `jobconform serve --aiqum-dialect`.
    #[arg(
        long,
        value_enum,
        value_name = "DIALECT",
        default_value_t = crate::mock::AiqumDialect::Split,
        conflicts_with_all = ["element", "aiqum", "profile"]
    )]
    pub mock_aiqum_dialect: crate::mock::AiqumDialect,
    /// Snapshot directory [default: ./snapshots, or $INSTA_WORKSPACE_ROOT/snapshots].
    #[arg(long, value_name = "DIR")]
    pub snapshot_dir: Option<PathBuf>,
    /// Write the JSON verdict (schemas/report.schema.json) here.
    #[arg(long, value_name = "PATH")]
    pub report_json: Option<PathBuf>,
    /// Write JUnit XML here.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Run only shard K of N (1-based), for a CI matrix: the N shards together run every trial
    /// exactly once (by target with at least N targets, else by trial); put their
    /// --report-json verdicts back together with `jobconform merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// libtest's arguments.
    #[command(flatten)]
    pub test: libtest_mimic::Arguments,
}

/// The runtime every trial, target and embedded mock shares.
pub fn rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .thread_name("jobconform-rt")
            .build()
            .unwrap_or_else(|e| panic!("failed to start the tokio runtime: {e}"))
    })
}

/// `main` of the `conformance` test target: `RunArgs` from the process arguments, with
/// `--snapshots check` unless another mode is given, and `snapshot_root` (the repository's
/// `snapshots/`, which the test target names) unless `--snapshot-dir` is given. The embedded
/// mock's label is `mock`.
pub fn harness_main(snapshot_root: &Path) -> std::process::ExitCode {
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    let mut cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // The suite guards the committed snapshots: every case that asks for one is checked (a missing
    // one is created outside CI and fails under CI), unless a mode is given.
    if cli.run.snapshots == snapshots::Mode::Auto && !cli.run.update {
        cli.run.snapshots = snapshots::Mode::Check;
    }
    // Snapshots record what a job showed at each read; at the default scale of 50 a provisioning
    // job is queued for 20 ms of real time and running for 40 ms, which a debug build running 16
    // cases at once on a loaded 2-core CI machine can overrun. The guard runs the mock 5 times
    // slower (the snapshots do not depend on the scale otherwise).
    if matches.value_source("mock_time_scale") != Some(clap::parser::ValueSource::CommandLine) {
        cli.run.mock_time_scale = GUARD_TIME_SCALE;
    }
    if cli.run.snapshot_dir.is_none() {
        cli.run.snapshot_dir = Some(snapshot_root.to_path_buf());
    }
    std::process::ExitCode::from(run(cli.run).code())
}

/// The embedded mock's time scale when the suite runs as a test target (`harness_main`), unless
/// `--mock-time-scale` is given.
pub const GUARD_TIME_SCALE: f64 = 10.0;

fn harness(msg: impl std::fmt::Display) -> Exit {
    eprintln!("jobconform: failed to {msg}");
    Exit::Harness
}

/// The exit code of a run from its records (already judged, `--strict` applied), the number of
/// trials that ran (passed or failed), and whether it was interrupted.
pub fn exit_of(records: &[report::CaseRecord], ran: u64, interrupted: bool) -> Exit {
    if interrupted {
        Exit::Interrupted
    } else if ran == 0 || records.iter().any(|r| r.outcome == Verdict::Error) {
        Exit::Harness
    } else if records.iter().any(|r| r.outcome == Verdict::Fail) {
        Exit::Nonconformant
    } else {
        Exit::Conformant
    }
}

/// Runs the suite and returns the exit code.
pub fn run(mut args: RunArgs) -> Exit {
    let started = jiff::Timestamp::now();
    crate::transport::install_crypto();
    let rt = rt();
    let shard = match args.shard.as_deref().map(shard::Shard::parse).transpose() {
        Ok(s) => s,
        Err(e) => return harness(e),
    };
    let loaded = match cases::chosen(args.cases.as_deref()) {
        Ok(c) => c,
        Err(e) => return harness(e),
    };
    let mut set = match rt.block_on(targets::build(&args)) {
        Ok(s) => s,
        Err(e) => return harness(e),
    };
    let case_refs: Vec<_> = loaded.into_iter().map(Arc::new).collect();
    let names: Vec<String> = set.targets.iter().map(|c| c.target.name.clone()).collect();
    let share = plan::share(&args.test, shard, &names, &case_refs);
    if shard.is_some() {
        set.targets.retain(|c| share.needs(&c.target.name));
        eprintln!("jobconform: {}", plan::describe(&share));
    }
    let all: Vec<_> = set.targets.iter().map(|c| c.target.clone()).collect();
    if let Err(e) = signals::install(rt, all) {
        return harness(format_args!("install the Ctrl-C handler: {e}"));
    }
    if args.test.test_threads.is_none() {
        let total: usize = set.targets.iter().map(|c| c.concurrency).sum();
        args.test.test_threads = Some(total.clamp(1, 256));
    }
    let listing = args.test.list;
    let prepared = if listing {
        plan::unprobed(&set)
    } else {
        match rt.block_on(plan::prepare(&set)) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("jobconform: failed to {e}");
                set.stop(rt);
                return Exit::Unreachable;
            }
        }
    };
    let records: trials::Records = Arc::new(Mutex::new(Vec::new()));
    let ready: Vec<_> = prepared.iter().map(|p| p.ready.clone()).collect();
    let snapshot_settings = snapshots::Settings {
        mode: if args.update {
            snapshots::Mode::Update
        } else {
            args.snapshots
        },
        root: args
            .snapshot_dir
            .clone()
            .unwrap_or_else(crate::snapshot::default_root),
    };
    let build = trials::BuildConfig {
        strict: args.strict,
        snapshots: snapshot_settings,
        records: records.clone(),
        longest_first: !listing,
    };
    let mut list = trials::build(rt, &ready, &case_refs, &build);
    if shard.is_some() {
        list.retain(|t| share.runs(t.name()));
    }
    if !listing {
        plan::announce_mutations(&args.test, &list, &ready, &case_refs);
    }
    let conclusion = libtest_mimic::run(&args.test, list);
    if listing {
        set.stop(rt);
        return Exit::Conformant;
    }
    let leftovers = rt.block_on(plan::clean_all(&ready));
    let mut records = std::mem::take(&mut *records.lock().unwrap_or_else(|p| p.into_inner()));
    records.sort_by(|a, b| a.trial.cmp(&b.trial));
    let targets: Vec<TargetRecord> = prepared
        .iter()
        .zip(leftovers)
        .map(|(p, left)| plan::target_record(p, left, &records))
        .collect();
    set.stop(rt);
    eprint!("{}", report::text::summary(&targets, &records));
    let ran = conclusion.num_passed + conclusion.num_failed;
    // Read once, so that the exit code and the report agree even if Ctrl-C comes meanwhile.
    let interrupted = signals::interrupted();
    let mut exit = exit_of(&records, ran, interrupted);
    let own = share.sizes[(share.shard.index - 1) as usize];
    if exit == Exit::Harness && ran == 0 && shard.is_some() && own == 0 {
        // An empty share is part of the partition (more shards than units), not an error.
        eprintln!(
            "jobconform: shard {}: no trial falls to this shard",
            share.shard
        );
        exit = Exit::Conformant;
    } else if exit == Exit::Harness && ran == 0 {
        eprintln!("jobconform: nothing ran: every trial was filtered out or skipped");
    }
    let facts = report::json::RunFacts {
        started,
        strict: args.strict,
        exit_code: exit.code(),
        interrupted,
        plan: Some(plan::plan_record(&share, &names, &case_refs)),
    };
    if let Some(path) = &args.report_json {
        let doc = report::json::document(&facts, &targets, &records);
        if let Err(e) = report::json::write(path, &doc) {
            exit = harness(format_args!("write {}: {e}", path.display()));
        }
    }
    if let Some(path) = &args.junit
        && let Err(e) = report::junit::write(path, &targets, &records)
    {
        exit = harness(format_args!("write {}: {e}", path.display()));
    }
    exit
}
