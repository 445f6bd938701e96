//! `upload-coverage`: the build pipeline's "publish the code coverage" step. It reads
//! Cobertura, coverage.py JSON and LCOV reports, merges the jobs of a matrix, computes
//! the total exactly as `coverage report` prints it, checks thresholds, and publishes to
//! Azure Pipelines (`codecoverage.publish`), GitHub (a job summary and outputs), the
//! terminal and `--json`. It needs no Python.

pub mod codecov;
pub mod model;
pub mod patch;
pub mod read;
mod write;

use std::path::PathBuf;

use anstyle::{AnsiColor, Style};
use clap::Parser;
use custody_ci::Provider;
use custody_cli::{Failure, StepResult};
use custody_cli::{GlobalArgs, HasGlobal, after_help, inputs};
use custody_output::github::SUMMARY_LIMIT_BYTES;
use custody_output::text::markdown_code_cell;
use custody_output::{Context, Diagnostic, ExitStatus, azure};
use serde::Serialize;

use crate::model::{Coverage, Numbers, display_covered, fails_under};
use crate::read::{Format, PathRules, ReadError};

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
    /// Codecov upload token. Default: CODECOV_TOKEN. With a token, reports go to Codecov.
    #[arg(long, value_name = "TOKEN", hide_env_values = true)]
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

impl custody_cli::Diagnose for ReadError {
    fn exit_status(&self) -> ExitStatus {
        ExitStatus::Input
    }
}

#[derive(Debug, Serialize)]
struct FileRow {
    path: String,
    #[serde(flatten)]
    numbers: Numbers,
    percent: f64,
    display: String,
    missing_lines: Vec<u32>,
}

#[derive(Debug, Serialize)]
struct ReportInfo {
    path: String,
    format: Format,
    files: usize,
}

fn rows(coverage: &Coverage, precision: usize) -> Vec<FileRow> {
    coverage
        .files
        .iter()
        .map(|(path, file)| {
            let numbers = file.numbers();
            FileRow {
                path: path.clone(),
                numbers,
                percent: numbers.percent(),
                display: numbers.display(precision),
                missing_lines: file.missing_lines(),
            }
        })
        .collect()
}

/// `1-3, 7, 9-10`, as coverage.py's `--show-missing`.
fn ranges(lines: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let start = lines[index];
        let mut end = start;
        while index + 1 < lines.len() && lines[index + 1] == end + 1 {
            index += 1;
            end = lines[index];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        index += 1;
    }
    parts.join(", ")
}

/// Reads and merges every report.
fn read_all(
    cli: &Cli,
    context: &Context,
) -> Result<(Coverage, Vec<ReportInfo>, Vec<PathBuf>), Failure> {
    let files = inputs::resolve_reports(&cli.reports, &[], context)?;
    let rules = PathRules {
        strip_prefixes: cli.strip_prefix.clone(),
        root: context.cwd.clone(),
    };
    let mut merged = Coverage::default();
    let mut infos = Vec::new();
    for file in &files {
        let shown = context.display(file);
        let (format, coverage) = read::read(file, &shown, &rules)?;
        check_paths_exist(&coverage, &shown, context)?;
        infos.push(ReportInfo {
            path: shown,
            format,
            files: coverage.files.len(),
        });
        merged.absorb(coverage);
    }
    Ok((merged, infos, files))
}

/// A report whose files exist nowhere here was made elsewhere and needs its paths
/// mapped; silently reporting it would give numbers nobody can check.
fn check_paths_exist(coverage: &Coverage, shown: &str, context: &Context) -> Result<(), Failure> {
    if coverage
        .files
        .keys()
        .any(|path| context.cwd.join(path).is_file())
    {
        return Ok(());
    }
    let example = coverage.files.keys().next().cloned().unwrap_or_default();
    Err(Failure::input(format!(
        "no file of `{shown}` exists here (for example `{example}`)\nhint: run in the project's checkout, or map the runner's paths with --strip-prefix PREFIX"
    )))
}

// Every step's entry point takes its parsed arguments by value.
#[allow(clippy::needless_pass_by_value)]
pub fn run(cli: Cli, context: &mut Context) -> StepResult {
    if let Some(threshold) = cli.fail_under
        && !(0.0..=100.0).contains(&threshold)
    {
        return Err(Failure::usage(format!(
            "--fail-under {threshold} is not a percentage between 0 and 100"
        )));
    }
    // The Codecov payload is built while the reports are read for the totals.
    let payload = if wants_codecov(&cli, context) {
        let files = inputs::resolve_reports(&cli.reports, &[], context)?;
        Some(codecov::prepare(files, context.cwd.clone()))
    } else {
        None
    };
    let (coverage, infos, inputs) = read_all(&cli, context)?;
    let totals = coverage.totals();
    let display = totals.display(cli.precision);
    let env = Failure::environment;

    if let Some(output) = &cli.output {
        let path = context.resolve(output);
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let xml = write::cobertura(&coverage, &context.cwd.to_string_lossy(), timestamp);
        fs_err::write(&path, xml).map_err(env)?;
    }

    // Azure: attach a Cobertura summary (the merged one when there is more than one input).
    if context.out.provider() == Provider::AzurePipelines {
        let summary = azure_summary_file(&cli, context, &coverage, &infos, &inputs)?;
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
        context.out.command(&line).map_err(env)?;
    }

    let table = rows(&coverage, cli.precision);
    let codecov = match payload {
        Some(payload) => codecov_upload(&cli, context, &inputs, payload)?,
        None => serde_json::Value::Null,
    };
    let patch = match &cli.diff_base {
        Some(base) => {
            let changed = patch::changed_lines(&context.cwd, base).map_err(|reason| {
                Failure::input(format!(
                    "cannot compare with `{base}`: {reason}\nhint: fetch the history the comparison needs (actions/checkout with `fetch-depth: 0`), or pass a ref that exists"
                ))
            })?;
            Some(patch::measure(&coverage, &changed, base))
        }
        None => None,
    };
    if let Some(patch) = &patch {
        annotate_patch(&cli, context, patch)?;
        context
            .out
            .set_output(
                "patch_coverage",
                &display_covered(patch.percent(), cli.precision),
            )
            .map_err(env)?;
    }
    context.out.set_output("coverage", &display).map_err(env)?;
    context
        .out
        .summary(
            "upload-coverage",
            &summary_markdown(&cli, context, &table, &totals, patch.as_ref()),
        )
        .map_err(env)?;

    if context.out.is_json() {
        let value = serde_json::json!({
            "totals": totals,
            "percent": totals.percent(),
            "display": display,
            "precision": cli.precision,
            "branch": coverage.branch,
            "reports": infos,
            "files": table,
            "codecov": codecov,
            "patch": patch.as_ref().map(|p| serde_json::json!({
                "base": p.base,
                "coverable": p.coverable,
                "covered": p.covered,
                "percent": p.percent(),
                "display": display_covered(p.percent(), cli.precision),
                "files": p.files,
            })),
        });
        context.out.json(&value).map_err(env)?;
    } else {
        print_table(&cli, context, &table, &totals, coverage.branch)?;
        if let Some(patch) = &patch {
            context
                .out
                .info(&format!(
                    "Patch coverage since {}: {}% ({} of {} changed coverable lines)",
                    patch.base,
                    display_covered(patch.percent(), cli.precision),
                    patch.covered,
                    patch.coverable
                ))
                .map_err(env)?;
        }
    }

    if let Some(threshold) = cli.fail_under
        && fails_under(totals.percent(), threshold, cli.precision)
    {
        context
            .out
            .error(
                &Diagnostic::new(format!(
                    "total coverage {display}% is under --fail-under {}%",
                    display_covered(threshold, cli.precision)
                ))
                .hint("add tests for the files listed first, or lower the threshold deliberately"),
            )
            .map_err(env)?;
        return Ok(ExitStatus::No);
    }
    if let (Some(threshold), Some(patch)) = (cli.fail_under_patch, &patch)
        && fails_under(patch.percent(), threshold, cli.precision)
    {
        context
            .out
            .error(
                &Diagnostic::new(format!(
                    "patch coverage {}% (since {}) is under --fail-under-patch {}%",
                    display_covered(patch.percent(), cli.precision),
                    patch.base,
                    display_covered(threshold, cli.precision)
                ))
                .hint("add tests for the changed lines listed above"),
            )
            .map_err(env)?;
        return Ok(ExitStatus::No);
    }
    Ok(ExitStatus::Success)
}

/// Uploads to Codecov when a token is given, `--codecov` asks, or the build is a fork's
/// pull request (tokenless). A Codecov outage warns and succeeds unless
/// `--fail-on-error`. Returns what happened, for `--json`.
/// Whether to upload: a token, `--codecov`, or a fork's pull request (tokenless);
/// never with `--no-codecov`.
fn wants_codecov(cli: &Cli, context: &Context) -> bool {
    let fork = context
        .ci
        .pull_request
        .as_ref()
        .is_some_and(|p| p.from_fork == Some(true));
    !cli.no_codecov && (codecov_token(cli, context).is_some() || cli.codecov || fork)
}

fn codecov_token(cli: &Cli, context: &Context) -> Option<String> {
    cli.codecov_token
        .clone()
        .or_else(|| {
            context
                .env
                .get(custody_ci::vars::CODECOV_TOKEN)
                .map(str::to_owned)
        })
        .filter(|t| !t.trim().is_empty())
}

fn codecov_upload(
    cli: &Cli,
    context: &mut Context,
    reports: &[PathBuf],
    payload: std::thread::JoinHandle<std::io::Result<Vec<u8>>>,
) -> Result<serde_json::Value, Failure> {
    let token = codecov_token(cli, context);
    if let Some(token) = &token {
        context.out.mask(token).map_err(Failure::environment)?;
    }
    let ci = context.ci.clone();
    let pull = ci.pull_request.as_ref();
    let commit = cli
        .commit
        .clone()
        .or_else(|| pull.and_then(|p| p.head_commit.clone()))
        .or_else(|| ci.commit.clone())
        .or_else(|| ci.clone().with_local_git(&context.cwd).commit);
    let Some(commit) = commit else {
        return codecov_failed(
            cli,
            context,
            "no commit to file the upload under\nhint: run in a git checkout, or pass --commit SHA"
                .to_owned(),
        );
    };
    let Some(slug) = cli.slug.clone().or_else(|| ci.repository.clone()) else {
        return codecov_failed(
            cli,
            context,
            "no repository slug for Codecov\nhint: pass --slug OWNER/NAME".to_owned(),
        );
    };
    let upload = codecov::Upload {
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
            .or_else(|| pull.and_then(|p| p.head_branch.clone()))
            .or_else(|| ci.branch.clone()),
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
    };
    let body = match payload.join() {
        Ok(Ok(body)) => body,
        Ok(Err(error)) => {
            return codecov_failed(
                cli,
                context,
                format!("cannot read a report for the upload: {error}"),
            );
        }
        Err(_) => return codecov_failed(cli, context, "preparing the upload failed".to_owned()),
    };
    let mut retries = Vec::new();
    let result = codecov::send(&upload, body, &context.env, &mut |line| {
        retries.push(line);
    });
    for line in retries {
        context
            .out
            .warning(&Diagnostic::new(line))
            .map_err(Failure::environment)?;
    }
    match result {
        Ok(uploaded) => {
            let text = match &uploaded.url {
                Some(url) => format!(
                    "{} report(s) ({} bytes) for {}; results at {url}",
                    reports.len(),
                    uploaded.bytes,
                    &upload.commit
                ),
                None => format!(
                    "{} report(s) ({} bytes) for {}",
                    reports.len(),
                    uploaded.bytes,
                    &upload.commit
                ),
            };
            context
                .out
                .status("Codecov", &text)
                .map_err(Failure::environment)?;
            Ok(
                serde_json::json!({"uploaded": true, "url": uploaded.url, "bytes": uploaded.bytes, "commit": upload.commit}),
            )
        }
        Err(error) => codecov_failed(cli, context, error.to_string()),
    }
}

fn codecov_failed(
    cli: &Cli,
    context: &mut Context,
    message: String,
) -> Result<serde_json::Value, Failure> {
    if cli.fail_on_error {
        return Err(Failure::environment(message));
    }
    let mut lines = message.lines();
    let mut diagnostic = Diagnostic::new(format!(
        "{} (not failing the build: pass --fail-on-error for that)",
        lines.next().unwrap_or_default()
    ));
    if let Some(hint) = lines.find_map(|l| l.strip_prefix("hint: ")) {
        diagnostic = diagnostic.hint(hint);
    }
    context
        .out
        .warning(&diagnostic)
        .map_err(Failure::environment)?;
    Ok(serde_json::json!({"uploaded": false, "error": message.lines().next().unwrap_or_default()}))
}

/// Warnings on the uncovered changed lines, capped, with a count of the rest.
fn annotate_patch(cli: &Cli, context: &mut Context, patch: &patch::Patch) -> Result<(), Failure> {
    let mut shown = 0;
    let mut rest = 0;
    for file in &patch.files {
        for (first, last) in patch::line_ranges(&file.uncovered_lines) {
            if shown == cli.max_annotations {
                rest += 1;
                continue;
            }
            let what = if first == last {
                format!("line {first} is")
            } else {
                format!("lines {first}-{last} are")
            };
            let diagnostic = Diagnostic::new(format!(
                "{what} changed since {} but not covered by tests",
                patch.base
            ))
            .at(file.path.clone(), Some(first))
            .title("Uncovered change");
            context
                .out
                .diagnostic(custody_output::Level::Warning, &diagnostic)
                .map_err(Failure::environment)?;
            shown += 1;
        }
    }
    if rest > 0 {
        context
            .out
            .diagnostic(
                custody_output::Level::Notice,
                &Diagnostic::new(format!(
                    "{rest} more uncovered changed range(s) not annotated (all of them with --json)"
                )),
            )
            .map_err(Failure::environment)?;
    }
    Ok(())
}

/// The Cobertura file Azure's coverage tab reads: `--output`, the one Cobertura input,
/// or the merged report written for it.
fn azure_summary_file(
    cli: &Cli,
    context: &Context,
    coverage: &Coverage,
    infos: &[ReportInfo],
    inputs: &[PathBuf],
) -> Result<PathBuf, Failure> {
    if let Some(output) = &cli.output {
        return Ok(context.resolve(output));
    }
    if let ([only], [info]) = (inputs, infos)
        && info.format == Format::Cobertura
    {
        return Ok(only.clone());
    }
    let dir = context
        .env
        .get("AGENT_TEMPDIRECTORY")
        .map_or_else(|| context.cwd.clone(), PathBuf::from);
    let path = dir.join("custody-merged-coverage.xml");
    let xml = write::cobertura(coverage, &context.cwd.to_string_lossy(), 0);
    fs_err::write(&path, xml).map_err(Failure::environment)?;
    Ok(path)
}

fn print_table(
    cli: &Cli,
    context: &mut Context,
    table: &[FileRow],
    totals: &Numbers,
    branch: bool,
) -> Result<(), Failure> {
    let env = Failure::environment;
    let width = table.iter().map(|r| r.path.len()).max().unwrap_or(4).max(5);
    let cover_width = 4 + if cli.precision > 0 {
        cli.precision + 1
    } else {
        0
    };
    let header = if branch {
        format!(
            "{:<width$}  {:>6} {:>6} {:>6} {:>6}  {:>cover_width$}",
            "Name", "Stmts", "Miss", "Branch", "BrPart", "Cover"
        )
    } else {
        format!(
            "{:<width$}  {:>6} {:>6}  {:>cover_width$}",
            "Name", "Stmts", "Miss", "Cover"
        )
    };
    let rule = "-".repeat(header.len());
    context.out.info(&header).map_err(env)?;
    context.out.info(&rule).map_err(env)?;
    let line = |path: &str, numbers: &Numbers, display: &str| {
        if branch {
            format!(
                "{path:<width$}  {:>6} {:>6} {:>6} {:>6}  {:>cover_width$}",
                numbers.statements,
                numbers.missing,
                numbers.branches,
                numbers.partial_branches,
                format!("{display}%")
            )
        } else {
            format!(
                "{path:<width$}  {:>6} {:>6}  {:>cover_width$}",
                numbers.statements,
                numbers.missing,
                format!("{display}%")
            )
        }
    };
    for row in table {
        let mut text = line(&row.path, &row.numbers, &row.display);
        if cli.show_missing && !row.missing_lines.is_empty() {
            text.push_str(&format!("   {}", ranges(&row.missing_lines)));
        }
        context
            .out
            .info(&context.out.safe_text(&text))
            .map_err(env)?;
    }
    context.out.info(&rule).map_err(env)?;
    let total = line("TOTAL", totals, &totals.display(cli.precision));
    let style = Style::new().bold().fg_color(Some(
        if cli
            .fail_under
            .is_some_and(|t| fails_under(totals.percent(), t, cli.precision))
        {
            AnsiColor::Red.into()
        } else {
            AnsiColor::Green.into()
        },
    ));
    let painted = context.out.paint(style, &total);
    context.out.info(&painted).map_err(env)
}

fn summary_markdown(
    cli: &Cli,
    context: &Context,
    table: &[FileRow],
    totals: &Numbers,
    patch: Option<&patch::Patch>,
) -> String {
    let mut table: Vec<&FileRow> = table.iter().collect();
    table.sort_by(|a, b| {
        a.percent
            .total_cmp(&b.percent)
            .then_with(|| a.path.cmp(&b.path))
    });
    let mut markdown = format!(
        "### Coverage: {}%\n\n{} statements, {} missing; {} branches, {} partial.{}\n\n| File | Stmts | Miss | Branch | BrPart | Cover | Missing lines |\n|---|---|---|---|---|---|---|\n",
        totals.display(cli.precision),
        totals.statements,
        totals.missing,
        totals.branches,
        totals.partial_branches,
        cli.fail_under
            .map(|t| format!(" Threshold: {}%.", display_covered(t, cli.precision)))
            .unwrap_or_default()
    );
    let budget = SUMMARY_LIMIT_BYTES - 4 * 1024;
    let mut listed = 0;
    for row in table.iter().take(cli.summary_files) {
        let missing = ranges(&row.missing_lines);
        let missing: String = if missing.len() > 120 {
            format!(
                "{}…",
                &missing[..missing
                    .char_indices()
                    .nth(117)
                    .map_or(missing.len(), |(i, _)| i)]
            )
        } else {
            missing
        };
        let entry = format!(
            "| {} | {} | {} | {} | {} | {}% | {} |\n",
            markdown_code_cell(&context.out.safe_text(&row.path)),
            row.numbers.statements,
            row.numbers.missing,
            row.numbers.branches,
            row.numbers.partial_branches,
            row.display,
            missing
        );
        if markdown.len() + entry.len() > budget {
            break;
        }
        markdown.push_str(&entry);
        listed += 1;
    }
    if let Some(patch) = patch {
        markdown.push_str(&format!(
            "\n#### Patch coverage since `{}`: {}%\n\n{} of {} changed coverable lines covered.\n",
            context.out.safe_text(&patch.base).replace('`', "'"),
            display_covered(patch.percent(), cli.precision),
            patch.covered,
            patch.coverable
        ));
        for file in patch
            .files
            .iter()
            .filter(|f| !f.uncovered_lines.is_empty())
            .take(cli.summary_files)
        {
            markdown.push_str(&format!(
                "- `{}`: {}\n",
                context.out.safe_text(&file.path).replace('`', "'"),
                ranges(&file.uncovered_lines)
            ));
        }
    }
    if listed < table.len() {
        markdown.push_str(&format!(
            "\n… {} more file(s), all better covered (`--json` lists every file).\n",
            table.len() - listed
        ));
    }
    markdown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_lines_as_ranges() {
        assert_eq!(ranges(&[1, 2, 3, 7, 9, 10]), "1-3, 7, 9-10");
        assert_eq!(ranges(&[]), "");
        assert_eq!(ranges(&[4]), "4");
    }
}
