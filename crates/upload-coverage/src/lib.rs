//! `upload-coverage`: the build pipeline's "publish the code coverage" step. It reads
//! Cobertura, coverage.py JSON and LCOV reports, merges the jobs of a matrix, computes
//! the total exactly as `coverage report` prints it, checks thresholds, and publishes to
//! Azure Pipelines (`codecoverage.publish`), GitHub (a job summary and outputs), the
//! terminal and `--json`. It needs no Python.

pub mod codecov;
pub mod model;
pub mod patch;
pub mod read;
mod render;
pub mod select;
mod write;

use std::path::PathBuf;

use clap::Parser;
use custody_ci::Provider;
use custody_cli::{Diagnose, Failure, GlobalArgs, HasGlobal, StepResult, after_help};
use custody_output::{Context, Diagnostic, ExitStatus, azure};
use thiserror::Error;

use crate::codecov::{CodecovError, PendingPayload, Upload, Uploaded};
use crate::model::{Coverage, display_covered, fail_under_precision, fails_under};
use crate::patch::{DiffError, Patch};
use crate::read::{Format, PathRules, ReadError};
use crate::render::{ReportInfo, Totals};

/// Report code coverage: the totals coverage.py prints, merged across a CI matrix,
/// published to Azure Pipelines and GitHub, checked against a threshold.
///
/// Reads Cobertura XML (`coverage xml`, pytest-cov and other tools), coverage.py JSON
/// (`coverage json`) and LCOV (`coverage lcov` and others), told apart by content.
/// Several reports merge: per file and line, hits add, and a line covered anywhere is
/// covered.
#[derive(Debug, Parser)]
#[command(name = "upload-coverage", version, after_long_help = after_help(EXAMPLES))]
// Doc comments are the --help text; the flags are independent switches.
#[allow(clippy::doc_markdown, clippy::struct_excessive_bools)]
pub struct Cli {
    /// Coverage reports: files, directories or glob patterns.
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<String>,
    /// Fail (exit 1) when the total, at the display precision, is under PCT (100 means complete).
    #[arg(long, value_name = "PCT")]
    pub fail_under: Option<f64>,
    /// Digits after the decimal point, as coverage.py's `[report] precision` (default 0).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub precision: usize,
    /// Remove this prefix from report paths (a runner's checkout directory). Repeatable.
    #[arg(long, value_name = "PREFIX")]
    pub strip_prefix: Vec<String>,
    /// Write the merged report as Cobertura XML.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// An HTML report directory to attach on Azure Pipelines (`coverage html -d DIR`).
    #[arg(long, value_name = "DIR")]
    pub html_dir: Option<PathBuf>,
    /// Patch coverage: measure the lines changed since this git ref (`origin/main`, a tag).
    #[arg(long, value_name = "REF")]
    pub diff_base: Option<String>,
    /// Fail (exit 1) when patch coverage is under PCT (needs --diff-base).
    #[arg(long, value_name = "PCT", requires = "diff_base")]
    pub fail_under_patch: Option<f64>,
    /// At most this many annotations on uncovered changed lines (GitHub shows 10 per step).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_annotations: usize,
    /// Codecov upload token. With a token, reports go to Codecov.
    #[arg(
        long,
        value_name = "TOKEN",
        env = custody_ci::vars::CODECOV_TOKEN,
        hide_env_values = true
    )]
    pub codecov_token: Option<String>,
    /// Upload to Codecov without a token (public repositories; fork pull requests do so
    /// by default).
    #[arg(long, conflicts_with = "no_codecov")]
    pub codecov: bool,
    /// Never upload to Codecov, even with a token.
    #[arg(long)]
    pub no_codecov: bool,
    /// Codecov's upload host (self-hosted Codecov). Default: CODECOV_URL, else https://ingest.codecov.io.
    #[arg(long, value_name = "URL")]
    pub codecov_url: Option<String>,
    /// Repository slug for Codecov (owner/name). Default: from the CI context.
    #[arg(long, value_name = "OWNER/NAME")]
    pub slug: Option<String>,
    /// Git service for Codecov (github, gitlab, bitbucket). Default: from the CI context.
    #[arg(long, value_name = "SERVICE")]
    pub git_service: Option<String>,
    /// Commit for Codecov. Default: the pull request's head, else the CI's commit, else git's.
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,
    /// Branch for Codecov. Default: from the CI context.
    #[arg(long, value_name = "BRANCH")]
    pub branch: Option<String>,
    /// Pull request number for Codecov. Default: from the CI context.
    #[arg(long, value_name = "N")]
    pub pr: Option<String>,
    /// Codecov flags (e.g. the matrix cell: py37-x86). Repeatable.
    #[arg(long = "flag", value_name = "FLAG")]
    pub flags: Vec<String>,
    /// The upload's name on Codecov. Default: the CI job name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Fail the step when Codecov cannot take the upload (default: warn and succeed).
    #[arg(long)]
    pub fail_on_error: bool,
    /// List the missing line numbers on the terminal.
    #[arg(long)]
    pub show_missing: bool,
    /// How many files the job summary lists, worst first.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub summary_files: usize,
    #[command(flatten)]
    pub global: GlobalArgs,
}

const EXAMPLES: &str = "  # After `pytest --cov=clkhash --cov-report=xml:coverage.xml`
  upload-coverage coverage.xml --fail-under 80

  # The fan-in of a matrix, paths from Windows and Linux runners merged
  upload-coverage 'jobs/*/coverage.xml' --strip-prefix 'D:\\a\\clkhash\\clkhash' --output merged.xml

  # Any format, as JSON for a script
  upload-coverage coverage.json coverage.lcov --json
";

impl HasGlobal for Cli {
    fn global(&self) -> &GlobalArgs {
        &self.global
    }
}

/// Arguments clap cannot check.
#[derive(Debug, Error)]
pub enum ArgumentError {
    #[error("--fail-under {0} is not a percentage between 0 and 100")]
    NotAPercentage(f64),
}

impl Diagnose for ArgumentError {
    fn exit_status(&self) -> ExitStatus {
        ExitStatus::Usage
    }
}

/// Reading the reports.
#[derive(Debug, Error)]
pub enum ReportsError {
    #[error(transparent)]
    Read(#[from] ReadError),
}

impl Diagnose for ReportsError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Read(error) => error.exit_status(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::Read(error) => error.hint(),
        }
    }
}

/// Measuring patch coverage: the lines changed since `--diff-base` are unknown.
#[derive(Debug, Error)]
#[error("cannot compare with `{base}`: {source}")]
pub struct PatchError {
    base: String,
    #[source]
    source: DiffError,
}

impl Diagnose for PatchError {
    fn exit_status(&self) -> ExitStatus {
        ExitStatus::Input
    }

    fn hint(&self) -> Option<String> {
        Some("fetch the history the comparison needs (actions/checkout with `fetch-depth: 0`), or pass a ref that exists".to_owned())
    }
}

/// Writing the results: a file, or the terminal and the CI's commands and outputs.
#[derive(Debug, Error)]
pub enum OutputError {
    /// fs-err's message names the file.
    #[error(transparent)]
    File(std::io::Error),
    #[error("cannot write the step's output")]
    Channel(#[from] std::io::Error),
}

impl Diagnose for OutputError {
    fn exit_status(&self) -> ExitStatus {
        ExitStatus::Environment
    }
}

/// The reports as read and merged.
#[derive(Debug)]
pub(crate) struct Reports {
    coverage: Coverage,
    infos: Vec<ReportInfo>,
    files: Vec<PathBuf>,
    /// What the reading found that the user should know, shown once read.
    warnings: Vec<Diagnostic>,
}

/// What became of the Codecov upload, for `--json`.
#[derive(Debug)]
pub(crate) enum CodecovOutcome {
    NotAsked,
    Uploaded {
        uploaded: Uploaded,
        commit: String,
    },
    /// Codecov could not take it, and the step goes on (no `--fail-on-error`).
    Failed {
        error: String,
    },
}

impl CodecovOutcome {
    fn json(&self) -> serde_json::Value {
        match self {
            Self::NotAsked => serde_json::Value::Null,
            Self::Uploaded { uploaded, commit } => serde_json::json!({
                "uploaded": true,
                "url": uploaded.url,
                "bytes": uploaded.bytes,
                "commit": commit,
            }),
            Self::Failed { error } => serde_json::json!({"uploaded": false, "error": error}),
        }
    }
}

// Every step's entry point takes its parsed arguments by value.
#[allow(clippy::needless_pass_by_value)]
pub fn run(cli: Cli, context: &mut Context) -> StepResult {
    check_arguments(&cli)?;
    let files = select::reports(&cli.reports, context)?;
    let token = codecov_token(&cli, context)?;
    // The Codecov payload is built while the reports are read for the totals.
    let payload = wants_codecov(&cli, context, token.is_some())
        .then(|| codecov::prepare(files.clone(), context.cwd.clone()));
    let reports = read_reports(&cli, context, files)?;
    for warning in &reports.warnings {
        context.out.warning(warning).map_err(OutputError::from)?;
    }
    let totals = Totals::of(&reports.coverage, cli.precision);
    write_merged(&cli, context, &reports.coverage)?;
    if context.out.provider() == Provider::AzurePipelines {
        publish_to_azure(&cli, context, &reports)?;
    }
    let codecov = match payload {
        Some(payload) => upload_to_codecov(&cli, context, token, reports.files.len(), payload)?,
        None => CodecovOutcome::NotAsked,
    };
    let patch = measure_patch(&cli, context, &reports.coverage)?;
    publish(&cli, context, &reports, &totals, patch.as_ref(), &codecov)?;
    Ok(verdict(&cli, context, &totals, patch.as_ref())?)
}

fn check_arguments(cli: &Cli) -> Result<(), ArgumentError> {
    match cli.fail_under {
        Some(threshold) if !(0.0..=100.0).contains(&threshold) => {
            Err(ArgumentError::NotAPercentage(threshold))
        }
        _ => Ok(()),
    }
}

/// Reads every report and merges them.
fn read_reports(
    cli: &Cli,
    context: &Context,
    files: Vec<PathBuf>,
) -> Result<Reports, ReportsError> {
    let rules = PathRules {
        strip_prefixes: cli.strip_prefix.clone(),
        root: context.cwd.clone(),
    };
    let mut coverage = Coverage::default();
    let mut infos: Vec<ReportInfo> = Vec::new();
    let mut runs: Vec<u64> = Vec::new();
    let mut warnings = Vec::new();
    for file in &files {
        let shown = context.display(file);
        let (format, report) = read::read(file, &shown, &rules)?;
        warnings.extend(sources_warning(&report, &shown, context));
        let run = report.run_fingerprint();
        if let Some(same) = infos
            .iter()
            .zip(&runs)
            .find(|(info, earlier)| info.format != format && **earlier == run)
        {
            warnings.push(Diagnostic::new(format!(
                "`{shown}` is the run of `{}` in another format: counted once",
                same.0.path
            )));
            continue;
        }
        infos.push(ReportInfo {
            path: shown,
            format,
            files: report.files.len(),
        });
        runs.push(run);
        coverage.absorb(report);
    }
    if coverage.inexact_merges > 0 {
        warnings.push(Diagnostic::new(format!(
            "{} line(s) or file(s) could not be merged exactly: their reports give counts their lines do not show (Cobertura branch counts alone, coverage.py before 7.0)",
            coverage.inexact_merges
        )).hint("merge coverage.py's Cobertura XML or 7.x JSON/LCOV (they name each branch), or `coverage combine` the data files"));
    }
    Ok(Reports {
        coverage,
        infos,
        files,
        warnings,
    })
}

/// A report none of whose files exists here still has its totals; only Codecov's path
/// mapping and patch coverage need the sources, so this warns.
fn sources_warning(coverage: &Coverage, shown: &str, context: &Context) -> Option<Diagnostic> {
    if coverage
        .files
        .keys()
        .any(|path| context.cwd.join(path).is_file())
    {
        return None;
    }
    let example = coverage.files.keys().next().cloned().unwrap_or_default();
    Some(
        Diagnostic::new(format!(
            "no file of `{shown}` exists here (for example `{example}`): its totals stand, but Codecov and patch coverage cannot match its paths to the sources"
        ))
        .hint("run in the project's checkout, or map the runner's paths with --strip-prefix PREFIX"),
    )
}

/// `--output`: the merged report as Cobertura XML.
fn write_merged(cli: &Cli, context: &Context, coverage: &Coverage) -> Result<(), OutputError> {
    let Some(output) = &cli.output else {
        return Ok(());
    };
    let path = context.resolve(output);
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let xml = write::cobertura(coverage, &context.cwd.to_string_lossy(), timestamp);
    fs_err::write(&path, xml).map_err(OutputError::File)
}

/// Azure's coverage tab: a Cobertura summary (the merged one when there is more than
/// one input) and the HTML report.
fn publish_to_azure(
    cli: &Cli,
    context: &mut Context,
    reports: &Reports,
) -> Result<(), OutputError> {
    let summary = azure_summary_file(cli, context, reports)?;
    let html = cli
        .html_dir
        .as_ref()
        .map(|d| context.resolve(d).display().to_string())
        .unwrap_or_default();
    let line = azure::command(
        "codecoverage.publish",
        &[
            ("codecoveragetool", "Cobertura"),
            ("summaryfile", &summary.display().to_string()),
            ("reportdirectory", &html),
        ],
        "",
    );
    context.out.command(&line)?;
    Ok(())
}

/// The Cobertura file Azure's coverage tab reads: `--output`, the one Cobertura input,
/// or the merged report written for it.
fn azure_summary_file(
    cli: &Cli,
    context: &Context,
    reports: &Reports,
) -> Result<PathBuf, OutputError> {
    if let Some(output) = &cli.output {
        return Ok(context.resolve(output));
    }
    if let ([only], [info]) = (reports.files.as_slice(), reports.infos.as_slice())
        && info.format == Format::Cobertura
    {
        return Ok(only.clone());
    }
    let dir = context
        .env
        .get("AGENT_TEMPDIRECTORY")
        .map_or_else(|| context.cwd.clone(), PathBuf::from);
    let path = dir.join("custody-merged-coverage.xml");
    let xml = write::cobertura(&reports.coverage, &context.cwd.to_string_lossy(), 0);
    fs_err::write(&path, xml).map_err(OutputError::File)?;
    Ok(path)
}

/// Patch coverage since `--diff-base`, when asked.
fn measure_patch(
    cli: &Cli,
    context: &Context,
    coverage: &Coverage,
) -> Result<Option<Patch>, PatchError> {
    let Some(base) = &cli.diff_base else {
        return Ok(None);
    };
    let changed = patch::changed_lines(&context.cwd, base).map_err(|source| PatchError {
        base: base.clone(),
        source,
    })?;
    Ok(Some(patch::measure(coverage, &changed, base)))
}

/// The results, everywhere they go: annotations and step outputs, the job summary,
/// then `--json` or the terminal's table.
fn publish(
    cli: &Cli,
    context: &mut Context,
    reports: &Reports,
    totals: &Totals,
    patch: Option<&Patch>,
    codecov: &CodecovOutcome,
) -> Result<(), OutputError> {
    if let Some(patch) = patch {
        render::annotate_patch(context, patch, cli.max_annotations)?;
        context.out.set_output(
            "patch_coverage",
            &display_covered(patch.percent(), cli.precision),
        )?;
    }
    context.out.set_output("coverage", &totals.display)?;
    let markdown = render::summary_markdown(cli, context, totals, patch);
    context.out.summary("upload-coverage", &markdown)?;
    if context.out.is_json() {
        let value = render::json(cli, reports, totals, patch, codecov);
        context.out.json(&value)?;
    } else {
        render::print_table(cli, context, totals, reports.coverage.branch, patch)?;
    }
    Ok(())
}

/// The step's answer: no when the total or the patch is under its threshold.
fn verdict(
    cli: &Cli,
    context: &mut Context,
    totals: &Totals,
    patch: Option<&Patch>,
) -> Result<ExitStatus, OutputError> {
    match shortfall(cli, totals, patch) {
        Some(diagnostic) => {
            context.out.error(&diagnostic)?;
            Ok(ExitStatus::No)
        }
        None => Ok(ExitStatus::Success),
    }
}

/// The threshold missed, if any: the total's first.
fn shortfall(cli: &Cli, totals: &Totals, patch: Option<&Patch>) -> Option<Diagnostic> {
    if let Some(threshold) = cli.fail_under
        && fails_under(totals.numbers.percent(), threshold, cli.precision)
    {
        return Some(
            Diagnostic::new({
                // Shown at the places compared, as coverage.py's message does.
                let places = fail_under_precision(threshold, cli.precision);
                format!(
                    "total coverage {}% is under --fail-under {threshold:.places$}%",
                    display_covered(totals.numbers.percent(), places)
                )
            })
            .hint("add tests for the files listed first, or lower the threshold deliberately"),
        );
    }
    if let (Some(threshold), Some(patch)) = (cli.fail_under_patch, patch)
        && fails_under(patch.percent(), threshold, cli.precision)
    {
        return Some(
            Diagnostic::new(format!(
                "patch coverage {}% (since {}) is under --fail-under-patch {}%",
                display_covered(patch.percent(), cli.precision),
                patch.base,
                display_covered(threshold, cli.precision)
            ))
            .hint("add tests for the changed lines listed above"),
        );
    }
    None
}

/// Whether to upload to Codecov: a token, `--codecov`, or a fork's pull request
/// (tokenless); never with `--no-codecov`.
fn wants_codecov(cli: &Cli, context: &Context, token: bool) -> bool {
    !cli.no_codecov && (token || cli.codecov || from_fork(context))
}

fn from_fork(context: &Context) -> bool {
    context
        .ci
        .pull_request
        .as_ref()
        .is_some_and(|p| p.from_fork == Some(true))
}

/// `--codecov-token`, else `CODECOV_TOKEN` (clap reads it); blank means none, and so does
/// Azure's unexpanded `$(CODECOV_TOKEN)`, with a warning: it is never sent.
fn codecov_token(cli: &Cli, context: &mut Context) -> Result<Option<String>, OutputError> {
    let secret = custody_ci::SecretValue::of(cli.codecov_token.as_deref());
    if let custody_ci::SecretValue::Unexpanded { text } = &secret
        && !cli.no_codecov
    {
        let then = if from_fork(context) || cli.codecov {
            "uploading without a token"
        } else {
            "not uploading to Codecov"
        };
        context.out.warning(
            &Diagnostic::new(format!(
                "the Codecov token is the unexpanded Azure Pipelines macro `{text}`: the variable is not defined for this run; {then}"
            ))
            .hint("define CODECOV_TOKEN as a secret variable of the pipeline (Azure withholds secrets from fork pull requests, which upload without one)"),
        )?;
    }
    Ok(secret.into_value())
}

/// Uploads to Codecov. A Codecov outage warns and succeeds unless `--fail-on-error`.
fn upload_to_codecov(
    cli: &Cli,
    context: &mut Context,
    token: Option<String>,
    reports: usize,
    payload: PendingPayload,
) -> Result<CodecovOutcome, Failure> {
    if let Some(token) = &token {
        context.out.mask(token).map_err(OutputError::from)?;
    }
    let mut retries = Vec::new();
    let result = codecov_upload(cli, context, token).and_then(|upload| {
        let body = payload.wait()?;
        let uploaded = codecov::send(&upload, body, &context.env, &mut |line| {
            retries.push(line);
        })?;
        Ok((uploaded, upload.commit))
    });
    for line in retries {
        context
            .out
            .warning(&Diagnostic::new(line))
            .map_err(OutputError::from)?;
    }
    match result {
        Ok((uploaded, commit)) => {
            let mut text = format!(
                "{reports} report(s) ({} bytes) for {commit}",
                uploaded.bytes
            );
            if let Some(url) = &uploaded.url {
                text.push_str(&format!("; results at {url}"));
            }
            context
                .out
                .status("Codecov", &text)
                .map_err(OutputError::from)?;
            Ok(CodecovOutcome::Uploaded { uploaded, commit })
        }
        Err(error) if cli.fail_on_error => Err(error.into()),
        Err(error) => Ok(codecov_failed(context, &error)?),
    }
}

/// A failed upload that does not fail the build: a warning, and the outcome for `--json`.
fn codecov_failed(
    context: &mut Context,
    error: &CodecovError,
) -> Result<CodecovOutcome, OutputError> {
    let message = one_line(error);
    let mut diagnostic = Diagnostic::new(format!(
        "{message} (not failing the build: pass --fail-on-error for that)"
    ));
    if let Some(hint) = error.hint() {
        diagnostic = diagnostic.hint(hint);
    }
    context.out.warning(&diagnostic)?;
    Ok(CodecovOutcome::Failed { error: message })
}

/// An error and its causes on one line (the first line of each, without repeats), for a
/// warning.
fn one_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = String::new();
    let mut current = Some(error);
    while let Some(error) = current {
        let message = error.to_string();
        let first = message.lines().next().unwrap_or_default();
        if !first.is_empty() && !text.contains(first) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(first);
        }
        current = error.source();
    }
    text
}

/// What identifies the upload: the flags, else the CI context, else git.
fn codecov_upload(
    cli: &Cli,
    context: &Context,
    token: Option<String>,
) -> Result<Upload, CodecovError> {
    let tokenless = token.is_none();
    let ci = context.ci.clone();
    let pull = ci.pull_request.as_ref();
    let commit = cli
        .commit
        .clone()
        .or_else(|| pull.and_then(|p| p.head_commit.clone()))
        .or_else(|| ci.commit.clone())
        .or_else(|| {
            let source = custody_ci::source_dir(&context.env, &context.cwd);
            ci.clone().with_local_git(&source).commit
        })
        .ok_or(CodecovError::NoCommit)?;
    let slug = cli
        .slug
        .clone()
        .or_else(|| ci.repository.clone())
        .ok_or(CodecovError::NoSlug)?;
    Ok(Upload {
        url: cli
            .codecov_url
            .clone()
            .or_else(|| context.env.get("CODECOV_URL").map(str::to_owned))
            .unwrap_or_else(|| codecov::CODECOV_INGEST_URL.to_owned()),
        token: token.map(custody_http::Secret::new),
        git_service: cli
            .git_service
            .clone()
            .unwrap_or_else(|| codecov::git_service(&ci, &context.env)),
        slug,
        commit,
        branch: cli
            .branch
            .clone()
            .or_else(|| codecov_branch(&ci, tokenless)),
        pull_request: cli
            .pr
            .clone()
            .or_else(|| pull.map(|p| p.number.to_string())),
        ci_service: codecov::ci_service(ci.provider).to_owned(),
        build_url: ci.build_url.clone(),
        job_code: ci.build_id.clone(),
        flags: cli.flags.clone(),
        name: cli.name.clone().or_else(|| ci.job.clone()),
        report_code: "default".to_owned(),
    })
}

/// The branch Codecov files the upload under: a pull request's head branch, else the
/// build's branch. Without a token, a fork's branch is `owner:branch` (GitHub's
/// `head.label`), the only branch codecov-api's tokenless check accepts, as
/// codecov-action sends it.
fn codecov_branch(ci: &custody_ci::CiContext, tokenless: bool) -> Option<String> {
    let pull = ci.pull_request.as_ref();
    pull.filter(|p| tokenless && p.from_fork == Some(true))
        .and_then(custody_ci::PullRequest::head_label)
        .or_else(|| pull.and_then(|p| p.head_branch.clone()))
        .or_else(|| ci.git_ref.branch().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warning_carries_the_causes_on_one_line() {
        let error = CodecovError::Payload(std::io::Error::other("disk on fire"));
        assert_eq!(
            one_line(&error),
            "cannot read a report for the upload: disk on fire"
        );
    }

    #[test]
    fn hints_are_data_not_text() {
        let error = CodecovError::Refused {
            status: 404,
            message: "Not found".to_owned(),
        };
        assert_eq!(
            error.to_string(),
            "Codecov refused the upload: 404 Not found"
        );
        assert!(error.hint().unwrap().contains("--slug"));
        let error = ReportsError::Read(ReadError::Empty {
            path: "linux.xml".to_owned(),
        });
        assert!(!error.to_string().contains("hint"));
        assert!(error.hint().unwrap().contains("--cov=PACKAGE"));
    }
}
