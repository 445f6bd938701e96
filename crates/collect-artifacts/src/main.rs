//! `collect-artifacts`: see the library for what each subcommand does.

use std::process::ExitCode;

fn main() -> ExitCode {
    custody_cli::run(collect_artifacts::run)
}
