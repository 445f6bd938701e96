//! `publish-test-results`: the build pipeline's "publish the test results" step. It reads
//! the JUnit XML of one or several jobs as a stream, and reports totals, the slowest tests
//! and every failure (message, traceback head, file and line) to the terminal, to Azure
//! Pipelines (`results.publish`, `task.logissue`), to GitHub Actions (annotations, a job
//! summary, step outputs) and as JSON.

pub mod junit;
mod report;

use std::io::{BufReader, Read};
use std::sync::Arc;

use clap::{Parser, ValueEnum};
use custody_cli::{Failure, StepResult};
use custody_cli::{GlobalArgs, HasGlobal, after_help, inputs};
use custody_output::{Context, ExitStatus, Progress};

use crate::junit::{JunitError, Results};

/// Summarize JUnit XML test reports and publish them to the CI system.
///
/// Reads pytest's `--junitxml` (xunit1 and xunit2) and the JUnit of Maven Surefire,
/// jest-junit, cargo nextest and go-junit-report; several files (the jobs of a matrix)
/// are merged. A missing file, an empty glob, malformed or truncated XML and a report
/// without test cases are errors: nothing is silently counted as zero tests.
#[derive(Debug, Parser)]
#[command(name = "publish-test-results", version, after_long_help = after_help(EXAMPLES))]
pub struct Cli {
    /// JUnit XML files, directories (searched for *.xml) or glob patterns.
    #[arg(required = true, value_name = "PATH|GLOB")]
    pub inputs: Vec<String>,
    /// The run's title (Azure test run, summary heading). Default: the CI job name, else "Tests".
    #[arg(long, value_name = "TITLE")]
    pub title: Option<String>,
    /// What fails the step: failed or erroring tests (`failures`), erroring tests only
    /// (`errors`), or nothing (`none`).
    #[arg(long, value_enum, default_value_t = FailOn::Failures)]
    pub fail_on: FailOn,
    /// How many of the slowest tests to list.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub slowest: usize,
    /// At most this many failure annotations (GitHub shows 10 per step); the rest are
    /// counted in one notice.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_annotations: usize,
    #[command(flatten)]
    pub global: GlobalArgs,
}

const EXAMPLES: &str = "  # After `pytest --junitxml=test-results.xml`
  publish-test-results test-results.xml --title \"Python 3.7 x86\"

  # The fan-in of a matrix: every job's report, one summary
  publish-test-results 'artifacts/*/test-results.xml'

  # Report, but let a later step decide
  publish-test-results reports/ --fail-on none --json > results.json
";

impl HasGlobal for Cli {
    fn global(&self) -> &GlobalArgs {
        &self.global
    }
}

/// What fails the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Failures,
    Errors,
    None,
}

impl custody_cli::Diagnose for JunitError {
    fn exit_status(&self) -> ExitStatus {
        ExitStatus::Input
    }
}

/// Counts bytes as they are read, for the progress bar.
struct Counting<R> {
    inner: R,
    progress: Arc<dyn Progress>,
    item: String,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buffer)?;
        self.progress.advance(&self.item, n as u64);
        Ok(n)
    }
}

// Every step's entry point takes its parsed arguments by value.
#[allow(clippy::needless_pass_by_value)]
pub fn run(cli: Cli, context: &mut Context) -> StepResult {
    let files = inputs::resolve_reports(&cli.inputs, &[], context)?;
    let files: Vec<_> = files
        .into_iter()
        .filter(|f| {
            // Directories are searched for XML only; explicit files are taken as given.
            cli.inputs
                .iter()
                .any(|i| context.resolve(std::path::Path::new(i)) == *f)
                || f.extension().is_some_and(|e| e.eq_ignore_ascii_case("xml"))
        })
        .collect();
    if files.is_empty() {
        return Err(Failure::input(format!(
            "no JUnit XML (*.xml) found in {}\nhint: point at the file your test runner writes (pytest: --junitxml=FILE)",
            cli.inputs
                .iter()
                .map(|i| format!("`{i}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let mut results = Results::default();
    for file in &files {
        let shown = context.display(file);
        let handle = fs_err::File::open(file).map_err(|source| {
            Failure::from(JunitError::Read {
                path: shown.clone().into(),
                source,
            })
        })?;
        let size = handle.metadata().map(|m| m.len()).ok();
        context.progress.start(&shown, size);
        let reader = BufReader::with_capacity(
            256 * 1024,
            Counting {
                inner: handle,
                progress: context.progress.clone(),
                item: shown.clone(),
            },
        );
        junit::read_report(file, &shown, reader, &mut results)?;
        context.progress.finish(&shown, "ok");
    }
    let title = cli
        .title
        .clone()
        .or_else(|| context.ci.job.clone())
        .unwrap_or_else(|| "Tests".to_owned());
    report::publish(&cli, context, &files, &title, &results)?;
    let totals = &results.totals;
    let failed = match cli.fail_on {
        FailOn::Failures => totals.failed + totals.errors > 0,
        FailOn::Errors => totals.errors > 0,
        FailOn::None => false,
    };
    Ok(if failed {
        ExitStatus::No
    } else {
        ExitStatus::Success
    })
}
