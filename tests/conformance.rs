//! The conformance suite as a test target: every case against the embedded mock, through the same
//! runner as `jobconform run` (libtest's flags work: `cargo test --test conformance -- FILTER`).

fn main() -> std::process::ExitCode {
    jobconform::runner::harness_main()
}
