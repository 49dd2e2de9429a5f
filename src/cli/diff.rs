//! `jobconform diff A B`: loads two sides (snapshot labels or verdict files), compares them with
//! `jobconform::diff` and writes Markdown (stdout or `--markdown`) and HTML (`--html`). Owns only
//! the arguments and exit codes; the comparison and renderings are the library's.

use std::path::PathBuf;

use jobconform::diff::{self, DiffError, Side};
use jobconform::report::read::VerdictFile;

/// `jobconform diff` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct DiffArgs {
    /// First side: a snapshot label under the root (e.g. `mock`), or a JSON verdict file written
    /// by `run --report-json`.
    #[arg(value_name = "A")]
    pub a: String,
    /// Second side, as A.
    #[arg(value_name = "B")]
    pub b: String,
    /// Snapshot root [default: ./snapshots, or $INSTA_WORKSPACE_ROOT/snapshots].
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Write the Markdown report here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Also write a self-contained HTML page here.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

fn side(root: &std::path::Path, arg: &str) -> Result<Side, DiffError> {
    diff::load_side(root, arg, VerdictFile::matrix)
}

/// Runs `diff`: 0 when the report was written (whatever it says), 2 on any error.
pub fn main(args: DiffArgs) -> u8 {
    let root = args
        .root
        .clone()
        .unwrap_or_else(jobconform::snapshot::default_root);
    let sides = side(&root, &args.a).and_then(|a| Ok((a, side(&root, &args.b)?)));
    let (a, b) = match sides {
        Ok(s) => s,
        Err(e) => {
            eprintln!("jobconform: failed to {e}");
            return 2;
        }
    };
    let report = diff::compare_sides(&a, &b);
    let md = report.to_markdown();
    let written = match &args.markdown {
        Some(p) => std::fs::write(p, &md).map_err(|e| (p.clone(), e)),
        None => {
            print!("{md}");
            Ok(())
        }
    };
    let written = written.and_then(|()| match &args.html {
        Some(p) => std::fs::write(p, report.to_html()).map_err(|e| (p.clone(), e)),
        None => Ok(()),
    });
    match written {
        Ok(()) => 0,
        Err((p, e)) => {
            eprintln!("jobconform: failed to write {}: {e}", p.display());
            2
        }
    }
}
