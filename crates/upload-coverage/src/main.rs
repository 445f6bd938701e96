//! `upload-coverage`: see the library for what it does.

use std::process::ExitCode;

fn main() -> ExitCode {
    custody_cli::run(upload_coverage::run)
}
