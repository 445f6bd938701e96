//! Where the results go: the terminal (a readable summary), Azure Pipelines (the
//! `results.publish` command that attaches the run, and `task.logissue` per failure),
//! GitHub Actions (capped annotations, a Markdown job summary within GitHub's size limit,
//! step outputs), and `--json`. Test names and messages are untrusted: everything
//! echoed goes through the shared output, which neutralizes CI command markers.

use std::io;
use std::path::PathBuf;

use anstyle::{AnsiColor, Style};
use custody_ci::Provider;
use custody_output::github::SUMMARY_LIMIT_BYTES;
use custody_output::text::markdown_cell;
use custody_output::{Context, Diagnostic, Level, azure};

use crate::Cli;
use crate::junit::{FAILURES_KEPT, Failure as TestFailure, Outcome, Results, Timed, Totals};

fn seconds(time: f64) -> String {
    if time >= 60.0 {
        format!("{}m {:.0}s", (time / 60.0).floor(), time % 60.0)
    } else {
        format!("{time:.2}s")
    }
}

/// `120 passed, 2 failed, 1 error, 3 skipped, 1 xfailed` (zero counts left out).
fn counts(totals: &Totals) -> String {
    let mut parts = vec![format!("{} passed", totals.passed)];
    for (count, word) in [
        (totals.failed, "failed"),
        (
            totals.errors,
            if totals.errors == 1 {
                "error"
            } else {
                "errors"
            },
        ),
        (totals.skipped, "skipped"),
        (totals.xfailed, "xfailed"),
        (totals.flaky, "flaky"),
    ] {
        if count > 0 {
            parts.push(format!("{count} {word}"));
        }
    }
    parts.join(", ")
}

fn location(failure: &TestFailure) -> String {
    match (&failure.file, failure.line) {
        (Some(file), Some(line)) => format!("{file}:{line}"),
        (Some(file), None) => file.clone(),
        _ => failure.report.clone(),
    }
}

/// The results could not be written out (stdout, the CI's output or summary file).
#[derive(Debug, thiserror::Error)]
#[error("cannot write the test results")]
pub struct PublishError(#[from] std::io::Error);

/// Publishes `results` everywhere the context sends output: JSON, the CI's test run,
/// failure annotations, step outputs, the job summary, the terminal.
pub(crate) fn publish(
    cli: &Cli,
    context: &mut Context,
    files: &[PathBuf],
    title: &str,
    results: &Results,
) -> Result<(), PublishError> {
    let slowest: Vec<_> = results.slowest().into_iter().take(cli.slowest).collect();
    if context.out.is_json() {
        json(context, title, results, &slowest)?;
    }
    if context.out.provider() == Provider::AzurePipelines {
        azure_run(context, files, title)?;
    }
    annotate(context, title, results, cli.max_annotations)?;
    outputs(context, &results.totals)?;
    let markdown = summary_markdown(context, title, results, &slowest);
    context.out.summary("publish-test-results", &markdown)?;
    if !context.out.is_json() {
        terminal_summary(context, title, results, &slowest)?;
    }
    Ok(())
}

fn json(
    context: &mut Context,
    title: &str,
    results: &Results,
    slowest: &[Timed],
) -> io::Result<()> {
    let value = serde_json::json!({
        "title": title,
        "totals": results.totals,
        "reports": results.reports,
        "failures": results.failures,
        "failures_listed": results.failures.len(),
        "slowest": slowest,
    });
    context.out.json(&value)
}

/// Azure: attaches the run to the build.
fn azure_run(context: &mut Context, files: &[PathBuf], title: &str) -> io::Result<()> {
    let result_files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let line = azure::command(
        "results.publish",
        &[
            ("type", "JUnit"),
            ("mergeResults", "true"),
            ("runTitle", title),
            ("publishRunAttachments", "true"),
            ("failTaskOnFailedTests", "false"),
            ("resultFiles", &result_files.join(",")),
        ],
        "",
    );
    context.out.command(&line)
}

/// Failures: annotations in CI (at most `max`, the rest counted in one notice), a
/// readable list on the terminal.
fn annotate(context: &mut Context, title: &str, results: &Results, max: usize) -> io::Result<()> {
    let annotated = results.failures.len().min(max);
    for failure in &results.failures[..annotated] {
        let diagnostic = annotation(context.out.provider(), title, failure);
        context.out.diagnostic(Level::Error, &diagnostic)?;
        if diagnostic.message.ends_with(CUT_MARKER) {
            // The CI keeps only the head of an annotation: the log gets the rest.
            context.out.info(&format!(
                "{}: the whole message:\n{}",
                failure.test, failure.message
            ))?;
        }
    }
    let failing = results.totals.failed + results.totals.errors;
    let rest = failing.saturating_sub(annotated as u64);
    if rest > 0 {
        context.out.diagnostic(
            Level::Notice,
            &Diagnostic::new(format!(
                "{rest} more failing test(s) not annotated (all of them with --json and in the summary)"
            )),
        )?;
    }
    Ok(())
}

/// The characters of an annotation's message the CI keeps: the GitHub runner cuts an
/// issue's message at 4,096 (`_maxIssueMessageLength` in its `ExecutionContext.cs`, in
/// UTF-16 units), the Azure agent, which it was forked from, likewise.
pub(crate) const ANNOTATION_LIMIT: usize = 4096;
/// The characters of an annotation's title kept (the check-run API's limit is 255).
const TITLE_LIMIT: usize = 255;
const CUT_MARKER: &str = " … [cut; the whole message is in the log and the job summary]";

/// `text` within `limit` UTF-16 units (what the CI counts), its cut marked.
fn cut(text: &str, limit: usize, marker: &str) -> String {
    if text.encode_utf16().count() <= limit {
        return text.to_owned();
    }
    let room = limit.saturating_sub(marker.encode_utf16().count());
    let mut units = 0;
    let end = text
        .char_indices()
        .find(|(_, c)| {
            units += c.len_utf16();
            units > room
        })
        .map_or(text.len(), |(at, _)| at);
    format!("{}{marker}", &text[..end])
}

fn annotation(provider: Provider, title: &str, failure: &TestFailure) -> Diagnostic {
    let kind = if failure.outcome == Outcome::Error {
        "error"
    } else {
        "failed"
    };
    let mut message = format!("{} {kind}: {}", failure.test, failure.message);
    let title = cut(&format!("{title}: {}", failure.test), TITLE_LIMIT, "…");
    if provider != Provider::None {
        // Azure's issue carries the title in its message (`title: message`).
        let limit = if provider == Provider::AzurePipelines {
            ANNOTATION_LIMIT - title.encode_utf16().count() - 2
        } else {
            ANNOTATION_LIMIT
        };
        message = cut(&message, limit, CUT_MARKER);
    }
    if provider == Provider::None && !failure.details.is_empty() {
        message.push('\n');
        for line in failure.details.lines() {
            message.push_str("    ");
            message.push_str(line);
            message.push('\n');
        }
    }
    let mut diagnostic = Diagnostic::new(message.trim_end().to_owned());
    // The annotation's title in CI; on a terminal the line says it already.
    if provider != Provider::None {
        diagnostic = diagnostic.title(title);
    }
    if let Some(file) = &failure.file {
        diagnostic = diagnostic.at(file.clone(), failure.line);
    }
    diagnostic
}

/// Outputs for later steps.
fn outputs(context: &mut Context, totals: &Totals) -> io::Result<()> {
    for (name, value) in [
        ("tests", totals.tests),
        ("passed", totals.passed),
        ("failed", totals.failed),
        ("errors", totals.errors),
        ("skipped", totals.skipped),
        ("xfailed", totals.xfailed),
        ("flaky", totals.flaky),
    ] {
        context.out.set_output(name, &value.to_string())?;
    }
    Ok(())
}

/// The slowest tests, then one line of totals, green or red.
fn terminal_summary(
    context: &mut Context,
    title: &str,
    results: &Results,
    slowest: &[Timed],
) -> io::Result<()> {
    if slowest.first().is_some_and(|test| test.time > 0.0) {
        context.out.info("Slowest tests:")?;
        for test in slowest {
            context
                .out
                .info(&format!("  {:>9}  {}", seconds(test.time), test.test))?;
        }
    }
    let totals = &results.totals;
    let color = if totals.failed + totals.errors > 0 {
        AnsiColor::Red
    } else {
        AnsiColor::Green
    };
    let style = Style::new().bold().fg_color(Some(color.into()));
    let line = format!(
        "{title}: {} of {} tests, in {} ({} report(s))",
        counts(totals),
        totals.tests,
        seconds(totals.duration),
        results.reports.len()
    );
    let painted = context.out.paint(style, &context.out.safe_text(&line));
    context.out.info(&painted)
}

/// The job summary: totals, failures (as many as fit), slowest tests.
fn summary_markdown(
    context: &Context,
    title: &str,
    results: &Results,
    slowest: &[Timed],
) -> String {
    let totals = &results.totals;
    let cell = |text: &str| markdown_cell(&context.out.safe_text(text));
    let icon = if totals.failed + totals.errors > 0 {
        "❌"
    } else {
        "✅"
    };
    let mut markdown = format!(
        "### {icon} {}\n\n| Tests | Passed | Failed | Errors | Skipped | xfailed | Duration |\n|---|---|---|---|---|---|---|\n| {} | {} | {} | {} | {} | {} | {} |\n",
        cell(title),
        totals.tests,
        totals.passed,
        totals.failed,
        totals.errors,
        totals.skipped,
        totals.xfailed,
        seconds(totals.duration)
    );
    if !results.failures.is_empty() {
        markdown.push_str("\n#### Failures\n\n");
        // Leave room for the slowest table and the closing note.
        let budget = SUMMARY_LIMIT_BYTES - 8 * 1024;
        let mut listed: u64 = 0;
        for failure in &results.failures {
            let headline = cut(
                failure.message.lines().next().unwrap_or_default(),
                HEADLINE_LIMIT,
                " …",
            );
            let whole = if headline == failure.message {
                failure.details.clone()
            } else {
                format!("{}\n\n{}", failure.message, failure.details)
            };
            let mut entry = format!(
                "<details><summary><code>{}</code> — {} ({})</summary>\n\n```text\n{}\n```\n\n</details>\n",
                html(&cell(&failure.test)),
                html(&cell(&headline)),
                html(&location(failure)),
                context.out.safe_text(whole.trim()).replace("```", "'''")
            );
            if whole.trim().is_empty() {
                entry = format!(
                    "- <code>{}</code> — {} ({})\n",
                    html(&cell(&failure.test)),
                    html(&cell(&headline)),
                    html(&location(failure))
                );
            }
            if markdown.len() + entry.len() > budget {
                break;
            }
            markdown.push_str(&entry);
            listed += 1;
        }
        let total = totals.failed + totals.errors;
        if listed < total {
            markdown.push_str(&format!("\n… and {} more (the summary has a size limit; `--json` lists up to {} failures).\n", total - listed, FAILURES_KEPT));
        }
    }
    if !slowest.is_empty() && slowest[0].time > 0.0 {
        markdown.push_str("\n#### Slowest tests\n\n| Time | Test |\n|---|---|\n");
        for test in slowest {
            markdown.push_str(&format!(
                "| {} | `{}` |\n",
                seconds(test.time),
                cell(&test.test).replace('`', "'")
            ));
        }
    }
    markdown
}

/// Characters of a failure's message shown on its line of the summary; the rest is in
/// its folded block.
const HEADLINE_LIMIT: usize = 300;

fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
