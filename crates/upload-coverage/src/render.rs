//! How the results look wherever they go: the terminal table (coverage.py's `coverage
//! report`), the job summary's Markdown, the `--json` document, and the annotations on
//! uncovered changed lines. Nothing here decides anything; it shows what was computed.

use anstyle::{AnsiColor, Style};
use custody_output::github::SUMMARY_LIMIT_BYTES;
use custody_output::text::markdown_code_cell;
use custody_output::{Context, Diagnostic, Level};
use serde::Serialize;

use crate::model::{Coverage, Numbers, display_covered, fails_under, line_ranges};
use crate::patch::Patch;
use crate::read::Format;
use crate::{Cli, CodecovOutcome, OutputError, Reports};

/// One file's line in the table, the summary and `--json`.
#[derive(Debug, Serialize)]
pub(crate) struct FileRow {
    path: String,
    #[serde(flatten)]
    numbers: Numbers,
    percent: f64,
    display: String,
    missing_lines: Vec<u32>,
}

/// One report as read, for `--json`.
#[derive(Debug, Serialize)]
pub(crate) struct ReportInfo {
    pub(crate) path: String,
    pub(crate) format: Format,
    pub(crate) files: usize,
}

/// The totals and the per-file rows, at the display precision.
#[derive(Debug)]
pub(crate) struct Totals {
    pub(crate) numbers: Numbers,
    /// The total as `coverage report` prints it.
    pub(crate) display: String,
    rows: Vec<FileRow>,
}

impl Totals {
    pub(crate) fn of(coverage: &Coverage, precision: usize) -> Self {
        let numbers = coverage.totals();
        let rows = coverage
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
            .collect();
        Self {
            numbers,
            display: numbers.display(precision),
            rows,
        }
    }
}

/// `1-3, 7, 9-10`, as coverage.py's `--show-missing`.
fn ranges(lines: &[u32]) -> String {
    line_ranges(lines)
        .into_iter()
        .map(|(first, last)| {
            if first == last {
                first.to_string()
            } else {
                format!("{first}-{last}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `--json` document.
pub(crate) fn json(
    cli: &Cli,
    reports: &Reports,
    totals: &Totals,
    patch: Option<&Patch>,
    codecov: &CodecovOutcome,
) -> serde_json::Value {
    serde_json::json!({
        "totals": totals.numbers,
        "percent": totals.numbers.percent(),
        "display": totals.display,
        "precision": cli.precision,
        "branch": reports.coverage.branch,
        "reports": reports.infos,
        "files": totals.rows,
        "codecov": codecov.json(),
        "patch": patch.map(|p| serde_json::json!({
            "base": p.base,
            "coverable": p.coverable,
            "covered": p.covered,
            "percent": p.percent(),
            "display": display_covered(p.percent(), cli.precision),
            "files": p.files,
        })),
    })
}

/// Warnings on the uncovered changed lines, at most `limit`, with a count of the rest.
pub(crate) fn annotate_patch(
    context: &mut Context,
    patch: &Patch,
    limit: usize,
) -> Result<(), OutputError> {
    let mut shown = 0;
    let mut rest = 0;
    for file in &patch.files {
        for (first, last) in line_ranges(&file.uncovered_lines) {
            if shown == limit {
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
            context.out.diagnostic(Level::Warning, &diagnostic)?;
            shown += 1;
        }
    }
    if rest > 0 {
        context.out.diagnostic(
            Level::Notice,
            &Diagnostic::new(format!(
                "{rest} more uncovered changed range(s) not annotated (all of them with --json)"
            )),
        )?;
    }
    Ok(())
}

/// The terminal's table, as `coverage report` prints it, then the patch's line.
pub(crate) fn print_table(
    cli: &Cli,
    context: &mut Context,
    totals: &Totals,
    branch: bool,
    patch: Option<&Patch>,
) -> Result<(), OutputError> {
    let width = totals
        .rows
        .iter()
        .map(|r| r.path.len())
        .max()
        .unwrap_or(4)
        .max(5);
    let layout = Layout {
        width,
        cover_width: 4 + if cli.precision > 0 {
            cli.precision + 1
        } else {
            0
        },
        branch,
    };
    let header = layout.header();
    let rule = "-".repeat(header.len());
    context.out.info(&header)?;
    context.out.info(&rule)?;
    for row in &totals.rows {
        let mut text = layout.line(&row.path, &row.numbers, &row.display);
        if cli.show_missing && !row.missing_lines.is_empty() {
            text.push_str(&format!("   {}", ranges(&row.missing_lines)));
        }
        context.out.info(&context.out.safe_text(&text))?;
    }
    context.out.info(&rule)?;
    let total = layout.line("TOTAL", &totals.numbers, &totals.display);
    let failing = cli
        .fail_under
        .is_some_and(|t| fails_under(totals.numbers.percent(), t, cli.precision));
    let colour = if failing {
        AnsiColor::Red
    } else {
        AnsiColor::Green
    };
    let painted = context
        .out
        .paint(Style::new().bold().fg_color(Some(colour.into())), &total);
    context.out.info(&painted)?;
    if let Some(patch) = patch {
        context.out.info(&format!(
            "Patch coverage since {}: {}% ({} of {} changed coverable lines)",
            patch.base,
            display_covered(patch.percent(), cli.precision),
            patch.covered,
            patch.coverable
        ))?;
    }
    Ok(())
}

/// The columns of the terminal's table.
struct Layout {
    width: usize,
    cover_width: usize,
    branch: bool,
}

impl Layout {
    fn header(&self) -> String {
        let Self {
            width, cover_width, ..
        } = *self;
        if self.branch {
            format!(
                "{:<width$}  {:>6} {:>6} {:>6} {:>6}  {:>cover_width$}",
                "Name", "Stmts", "Miss", "Branch", "BrPart", "Cover"
            )
        } else {
            format!(
                "{:<width$}  {:>6} {:>6}  {:>cover_width$}",
                "Name", "Stmts", "Miss", "Cover"
            )
        }
    }

    fn line(&self, path: &str, numbers: &Numbers, display: &str) -> String {
        let Self {
            width, cover_width, ..
        } = *self;
        if self.branch {
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
    }
}

/// The job summary: the totals, the worst-covered files first (within GitHub's size
/// limit), and the patch's uncovered lines.
pub(crate) fn summary_markdown(
    cli: &Cli,
    context: &Context,
    totals: &Totals,
    patch: Option<&Patch>,
) -> String {
    let numbers = &totals.numbers;
    let mut markdown = format!(
        "### Coverage: {}%\n\n{} statements, {} missing; {} branches, {} partial.{}\n\n| File | Stmts | Miss | Branch | BrPart | Cover | Missing lines |\n|---|---|---|---|---|---|---|\n",
        totals.display,
        numbers.statements,
        numbers.missing,
        numbers.branches,
        numbers.partial_branches,
        cli.fail_under
            .map(|t| format!(" Threshold: {}%.", display_covered(t, cli.precision)))
            .unwrap_or_default()
    );
    let listed = summary_files(cli, context, totals, &mut markdown);
    if let Some(patch) = patch {
        summary_patch(cli, context, patch, &mut markdown);
    }
    if listed < totals.rows.len() {
        markdown.push_str(&format!(
            "\n… {} more file(s), all better covered (`--json` lists every file).\n",
            totals.rows.len() - listed
        ));
    }
    markdown
}

/// The summary's table rows, worst first, as many as `--summary-files` and the size
/// budget allow; how many were listed.
fn summary_files(cli: &Cli, context: &Context, totals: &Totals, markdown: &mut String) -> usize {
    let mut rows: Vec<&FileRow> = totals.rows.iter().collect();
    rows.sort_by(|a, b| {
        a.percent
            .total_cmp(&b.percent)
            .then_with(|| a.path.cmp(&b.path))
    });
    let budget = SUMMARY_LIMIT_BYTES - 4 * 1024;
    let mut listed = 0;
    for row in rows.iter().take(cli.summary_files) {
        let entry = format!(
            "| {} | {} | {} | {} | {} | {}% | {} |\n",
            markdown_code_cell(&context.out.safe_text(&row.path)),
            row.numbers.statements,
            row.numbers.missing,
            row.numbers.branches,
            row.numbers.partial_branches,
            row.display,
            shortened(ranges(&row.missing_lines))
        );
        if markdown.len() + entry.len() > budget {
            break;
        }
        markdown.push_str(&entry);
        listed += 1;
    }
    listed
}

/// At most 120 characters: the first 117 and an ellipsis.
fn shortened(text: String) -> String {
    if text.len() > 120 {
        let end = text.char_indices().nth(117).map_or(text.len(), |(i, _)| i);
        format!("{}…", &text[..end])
    } else {
        text
    }
}

fn summary_patch(cli: &Cli, context: &Context, patch: &Patch, markdown: &mut String) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_lines_as_ranges() {
        assert_eq!(ranges(&[1, 2, 3, 7, 9, 10]), "1-3, 7, 9-10");
        assert_eq!(ranges(&[]), "");
        assert_eq!(ranges(&[4]), "4");
    }

    #[test]
    fn long_missing_lines_are_shortened() {
        assert_eq!(shortened("1, 2".to_owned()), "1, 2");
        let long = "9".repeat(130);
        assert_eq!(shortened(long), format!("{}…", "9".repeat(117)));
    }
}
