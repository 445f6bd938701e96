//! `publish-test-results`: see the library for what it does.

use std::process::ExitCode;

fn main() -> ExitCode {
    custody_cli::run(publish_test_results::run)
}
