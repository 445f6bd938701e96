//! How every step that verifies artifacts shows what verification found: custody-dist
//! returns [`Problem`]s as data; this draws them as diagnostics, one way for all steps.

use std::io;

use custody_dist::Problem;
use custody_output::{Diagnostic, Level, Output};

/// At most this many problems per file are printed; `--json` carries them all.
pub const PROBLEMS_SHOWN: usize = 20;

/// Prints the problems of one file (`file_name`, shown at `shown_path`) as diagnostics:
/// errors and warnings with their code and hint, at most [`PROBLEMS_SHOWN`] of them.
pub fn report(
    out: &mut Output,
    file_name: &str,
    shown_path: &str,
    problems: &[Problem],
) -> io::Result<()> {
    for problem in problems.iter().take(PROBLEMS_SHOWN) {
        let level = if problem.is_error() {
            Level::Error
        } else {
            Level::Warning
        };
        let mut diagnostic = Diagnostic::new(format!(
            "`{file_name}` {} [{}]",
            problem.message, problem.code
        ))
        .at(shown_path, None);
        if let Some(hint) = &problem.hint {
            diagnostic = diagnostic.hint(hint.clone());
        }
        out.diagnostic(level, &diagnostic)?;
    }
    if problems.len() > PROBLEMS_SHOWN {
        let more = problems.len() - PROBLEMS_SHOWN;
        out.info(&format!(
            "  ... and {more} more problem(s) in `{file_name}` (all of them with --json)"
        ))?;
    }
    Ok(())
}
