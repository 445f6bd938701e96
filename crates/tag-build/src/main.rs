//! `tag-build`: see the library for what it does.

use std::process::ExitCode;

fn main() -> ExitCode {
    custody_cli::run(tag_build::run)
}
