//! `jobconform merge A.json B.json ... -o all.json [--junit all.xml]`: reads the verdicts of a
//! split run, merges them with `jobconform::merge`, writes the merged verdict (and JUnit), prints
//! the summary, and exits as the single run would have. Owns only the arguments, the messages and
//! the exit codes.

use std::path::PathBuf;

use jobconform::merge::{self, MergeError};
use jobconform::report;

/// `jobconform merge` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct MergeArgs {
    /// JSON verdicts written by `run --shard K/N --report-json` (every shard once).
    #[arg(value_name = "VERDICT", required = true)]
    pub inputs: Vec<PathBuf>,
    /// Write the merged JSON verdict here.
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub output: PathBuf,
    /// Also write the merged JUnit XML here.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
}

/// Runs `merge`: the merged run's exit code (0, 1, 2 or 130), or 2 when the verdicts cannot be
/// merged (then nothing is written).
pub fn main(args: MergeArgs) -> u8 {
    let merged = merge::read_all(&args.inputs).and_then(merge::merge);
    let merged = match merged {
        Ok(m) => m,
        Err(MergeError::Gaps(gaps)) => {
            for g in &gaps {
                eprintln!("jobconform: {g}");
            }
            eprintln!(
                "jobconform: failed to merge: {} shard(s) or trial set(s) missing or duplicated; nothing written",
                gaps.len()
            );
            return 2;
        }
        Err(e) => {
            eprintln!("jobconform: failed to {e}");
            return 2;
        }
    };
    eprint!(
        "{}",
        report::text::summary(&merged.document.targets, &merged.document.cases)
    );
    if let Err(e) = report::json::write(&args.output, &merged.document) {
        eprintln!("jobconform: failed to write {}: {e}", args.output.display());
        return 2;
    }
    if let Some(path) = &args.junit
        && let Err(e) = report::junit::write(path, &merged.document.targets, &merged.document.cases)
    {
        eprintln!("jobconform: failed to write {}: {e}", path.display());
        return 2;
    }
    merged.exit.code()
}
