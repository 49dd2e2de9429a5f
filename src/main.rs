//! The `jobconform` command line: parse arguments, call the library, map outcomes to exit codes.
//! No conformance logic lives here (see `jobconform::runner` and `jobconform::mock`).

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let code = match args.command {
        cli::Command::Run(run) => jobconform::runner::run(*run).code(),
        cli::Command::Serve(serve) => cli::serve::main(*serve),
        cli::Command::Diff(diff) => cli::diff::main(*diff),
        cli::Command::Proxy(proxy) => cli::proxy::main(*proxy),
        cli::Command::Judge(judge) => cli::judge::main(*judge),
        cli::Command::Merge(merge) => cli::merge::main(*merge),
        cli::Command::Rules {
            format,
            coverage: false,
            ..
        } => cli::lists::rules(format),
        cli::Command::Rules { format, cases, .. } => cli::lists::coverage(format, cases.as_deref()),
        cli::Command::Deviations { format } => cli::lists::deviations(format),
    };
    ExitCode::from(code)
}
