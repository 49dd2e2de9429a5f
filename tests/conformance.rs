//! The conformance suite as a test target: every case against the embedded mock, through the same
//! runner as `jobconform run` (libtest's flags work: `cargo test --test conformance -- FILTER`), checked against this
//! repository's `snapshots/`.

fn main() -> std::process::ExitCode {
    jobconform::runner::harness_main(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/snapshots"
    )))
}
