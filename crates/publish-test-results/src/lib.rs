//! `publish-test-results`: the build pipeline's "publish the test results" step. It reads
//! the JUnit XML of one or several jobs as a stream, and reports totals, the slowest tests
//! and every failure (message, traceback head, file and line) to the terminal, to Azure
//! Pipelines (`results.publish`, `task.logissue`), to GitHub Actions (annotations, a job
//! summary, step outputs) and as JSON.

pub mod junit;
mod report;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Parser, ValueEnum};
use custody_cli::inputs::{self, InputError};
use custody_cli::{Diagnose, Failure, GlobalArgs, HasGlobal, StepResult, after_help};
use custody_output::{Context, Diagnostic, ExitStatus, Progress};
use thiserror::Error;

use crate::junit::{JunitError, Results, Totals};
pub use crate::report::PublishError;

/// Summarize JUnit XML test reports and publish them to the CI system.
///
/// Reads pytest's `--junitxml` (xunit1 and xunit2, xdist, reruns) and the JUnit of Maven
/// Surefire, JUnit 5, jest-junit, mocha-junit-reporter, vitest, cargo nextest and
/// go-junit-report, in UTF-8, UTF-16 or the encoding its prolog declares; several files
/// (the jobs of a matrix) are merged. A test case with several results counts once
/// (error over failure over skipped). A missing file, an empty glob, a file that is not
/// XML, malformed or truncated XML and no report with a test case are errors, every bad
/// file named: nothing is silently counted as zero tests.
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

/// Why the step found no report to read.
#[derive(Debug, Error)]
pub enum FindError {
    #[error(transparent)]
    Inputs(#[from] InputError),
    #[error("no JUnit XML (*.xml) found in {}", inputs::quoted(.inputs))]
    NoReports { inputs: Vec<String> },
}

impl Diagnose for FindError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Inputs(error) => error.exit_status(),
            Self::NoReports { .. } => ExitStatus::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::Inputs(error) => error.hint(),
            Self::NoReports { .. } => Some(
                "point at the file your test runner writes (pytest: --junitxml=FILE)".to_owned(),
            ),
        }
    }
}

impl Diagnose for JunitError {
    fn exit_status(&self) -> ExitStatus {
        ExitStatus::Input
    }

    fn hint(&self) -> Option<String> {
        let hint = match self {
            JunitError::Read { .. } => return None,
            JunitError::Encoding { .. } => {
                "write the report in UTF-8, or declare its encoding in the XML prolog (UTF-16 and ISO-8859-1 are read)"
            }
            JunitError::NotXml { .. } => {
                "pass the JUnit XML your runner writes (pytest: --junitxml=FILE); text and JSON reports are not read"
            }
            JunitError::Malformed { .. } | JunitError::NotWellFormed { .. } => {
                "the file is damaged or its writer does not escape XML (`&` must be `&amp;`); re-run the tests to write it again, or report the writer's bug"
            }
            JunitError::Truncated { .. } => {
                "the test run was probably killed while writing it (timeout, out of memory); re-run the tests"
            }
            JunitError::NotJunit { .. } => {
                "pass the XML written by `pytest --junitxml=FILE` (or your runner's JUnit reporter)"
            }
            JunitError::Empty { .. } => {
                "no test ran or none was collected; check the test command and its paths (an empty report is never counted as success)"
            }
        };
        Some(hint.to_owned())
    }
}

impl Diagnose for PublishError {
    fn exit_status(&self) -> ExitStatus {
        ExitStatus::Environment
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
    let files = report_files(&cli.inputs, context)?;
    let results = read_reports(&files, context)?;
    let title = cli
        .title
        .clone()
        .or_else(|| context.ci.job.clone())
        .unwrap_or_else(|| "Tests".to_owned());
    report::publish(&cli, context, &files, &title, &results)?;
    Ok(verdict(cli.fail_on, &results.totals))
}

/// The report files the arguments name: explicit files as given, directories searched
/// for XML only.
fn report_files(inputs: &[String], context: &Context) -> Result<Vec<PathBuf>, FindError> {
    let files: Vec<PathBuf> = inputs::resolve_reports(inputs, &[], context)?
        .into_iter()
        .filter(|file| {
            inputs
                .iter()
                .any(|input| context.resolve(Path::new(input)) == *file)
                || file
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("xml"))
        })
        .collect();
    if files.is_empty() {
        return Err(FindError::NoReports {
            inputs: inputs.to_vec(),
        });
    }
    Ok(files)
}

/// Reports that cannot be read: every one is named, not only the first.
#[derive(Debug, Error)]
#[error("{} of {total} reports cannot be read: {}", .errors.len(), names(.errors))]
pub struct ReadError {
    /// Each bad report's own error, in the order given.
    pub errors: Vec<JunitError>,
    pub total: usize,
}

fn names(errors: &[JunitError]) -> String {
    let names: Vec<String> = errors
        .iter()
        .map(|e| format!("`{}`", e.path().display()))
        .collect();
    names.join(", ")
}

impl Diagnose for ReadError {
    fn exit_status(&self) -> ExitStatus {
        ExitStatus::Input
    }

    fn hint(&self) -> Option<String> {
        Some("each is named above with its reason; fix or leave out those files".to_owned())
    }
}

/// Every report, read as a stream into one set of results. A bad report does not stop
/// the others from being read, so that every bad one is named. A report without test
/// cases is only a warning when others have some (JUnit 5 writes one per engine).
fn read_reports(files: &[PathBuf], context: &mut Context) -> Result<Results, Failure> {
    let mut results = Results::default();
    let mut errors = Vec::new();
    let mut empty = Vec::new();
    for file in files {
        let shown = context.display(file);
        let read = open_report(file, &shown, context)
            .and_then(|reader| junit::read_report(file, &shown, reader, &mut results));
        match read {
            Ok(()) => context.progress.finish(&shown, "ok"),
            Err(error @ JunitError::Empty { .. }) => empty.push(error),
            Err(error) => errors.push(error),
        }
    }
    if results.totals.tests == 0 {
        errors.append(&mut empty);
    }
    for error in &empty {
        context
            .out
            .warning(&Diagnostic::new(format!("{error} (not counted)")))
            .map_err(PublishError::from)?;
    }
    if errors.len() == 1 {
        return Err(errors.remove(0).into());
    }
    if !errors.is_empty() {
        for error in &errors {
            context
                .out
                .report_error(error, error.hint().as_deref())
                .map_err(PublishError::from)?;
        }
        return Err(ReadError {
            errors,
            total: files.len(),
        }
        .into());
    }
    Ok(results)
}

/// The report at `file`, buffered, its progress started.
fn open_report(file: &Path, shown: &str, context: &Context) -> Result<impl BufRead, JunitError> {
    let handle = fs_err::File::open(file).map_err(|source| JunitError::Read {
        path: shown.into(),
        source,
    })?;
    let size = handle.metadata().map(|m| m.len()).ok();
    context.progress.start(shown, size);
    Ok(BufReader::with_capacity(
        256 * 1024,
        Counting {
            inner: handle,
            progress: context.progress.clone(),
            item: shown.to_owned(),
        },
    ))
}

/// The step's "no" when the tests failed as `fail_on` counts failing.
fn verdict(fail_on: FailOn, totals: &Totals) -> ExitStatus {
    let failed = match fail_on {
        FailOn::Failures => totals.failed + totals.errors > 0,
        FailOn::Errors => totals.errors > 0,
        FailOn::None => false,
    };
    if failed {
        ExitStatus::No
    } else {
        ExitStatus::Success
    }
}
