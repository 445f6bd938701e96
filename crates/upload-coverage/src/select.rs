//! Which files are coverage reports. A file named on the command line is meant as one;
//! a directory or a glob may hold anything (HTML reports, JUnit XML, a credentials
//! file), so only files whose content is a report this step reads are taken from it,
//! and the others are named and skipped. The content of a file that is not a report is
//! never quoted: it may be a secret.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use custody_cli::{Diagnose, inputs};
use custody_output::{Context, ExitStatus};
use thiserror::Error;

use crate::read::{Format, detect};

/// How much of a file the sniffing reads: enough for an XML prolog, comments and a
/// doctype before Cobertura's root, and for coverage.py's `meta` at the start of its JSON.
const HEAD: usize = 8 * 1024;

/// At most this many skipped files are named one per line; the rest are counted.
const SKIPPED_SHOWN: usize = 20;

#[derive(Debug, Error)]
pub enum SelectError {
    #[error(transparent)]
    Input(#[from] inputs::InputError),
    /// Deliberately without any of the file's content.
    #[error("`{path}` is not a coverage report this step reads")]
    NotAReport { path: String },
    #[error("no coverage report in {}", inputs::quoted(.inputs))]
    NoReport { inputs: Vec<String> },
    #[error("cannot read `{path}`")]
    Unreadable {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl Diagnose for SelectError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Input(error) => error.exit_status(),
            Self::NotAReport { .. } | Self::NoReport { .. } | Self::Unreadable { .. } => {
                ExitStatus::Input
            }
        }
    }

    fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::Input(error) => return Diagnose::hint(error),
            Self::NotAReport { .. } | Self::NoReport { .. } => {
                "pass Cobertura XML (`coverage xml`, `pytest --cov-report=xml`, gcovr --cobertura, c8/nyc --reporter=cobertura), coverage.py JSON (`coverage json`) or LCOV (`coverage lcov`, lcov.info)"
            }
            Self::Unreadable { .. } => return None,
        };
        Some(hint.to_owned())
    }
}

/// What a file's first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sniffed {
    /// Cobertura XML, coverage.py JSON or LCOV.
    Report,
    /// XML, but some other document: a file named on the command line still goes to the
    /// reader, whose error says what is wrong with its structure.
    Other,
    /// Nothing this step reads.
    Foreign,
}

/// Classifies a file's head (see [`HEAD`]).
pub(crate) fn sniff(head: &[u8]) -> Sniffed {
    let Ok(text) = std::str::from_utf8(head).or_else(|error| {
        // The head may end inside a character.
        std::str::from_utf8(&head[..error.valid_up_to()])
    }) else {
        return Sniffed::Foreign;
    };
    // The format as the reader detects it; then, of XML and JSON, only what this step
    // reads is a report.
    let text = text.trim_start_matches('\u{feff}');
    match detect(text) {
        Some(Format::Cobertura) => match xml_root(text) {
            Some("coverage") => Sniffed::Report,
            _ => Sniffed::Other,
        },
        // coverage.py writes `{"meta": {"format": …, "version": …` first. Other JSON is
        // foreign even when named: a JSON parser's error can quote the file's values.
        Some(Format::CoveragePyJson) if text.contains("\"meta\"") => Sniffed::Report,
        Some(Format::Lcov) => Sniffed::Report,
        Some(Format::CoveragePyJson) | None => Sniffed::Foreign,
    }
}

/// The name of the first element, past the prolog, comments, doctype and processing
/// instructions.
fn xml_root(mut text: &str) -> Option<&str> {
    loop {
        text = text.trim_start();
        let rest = text.strip_prefix('<')?;
        if rest.starts_with("!--") {
            text = &rest[rest.find("-->")? + 3..];
        } else if rest.starts_with('?') || rest.starts_with('!') {
            text = &rest[rest.find('>')? + 1..];
        } else {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
                .unwrap_or(rest.len());
            return Some(&rest[..end]);
        }
    }
}

fn sniff_file(path: &Path, shown: &str) -> Result<Sniffed, SelectError> {
    let unreadable = |source| SelectError::Unreadable {
        path: shown.to_owned(),
        source,
    };
    let mut head = Vec::with_capacity(HEAD);
    fs_err::File::open(path)
        .map_err(unreadable)?
        .take(HEAD as u64)
        .read_to_end(&mut head)
        .map_err(unreadable)?;
    Ok(sniff(&head))
}

/// The reports the arguments name: files as given (a file that is no report at all is
/// an error), and from directories and globs only the files that are reports, the
/// others named on one line each and skipped.
pub fn reports(arguments: &[String], context: &mut Context) -> Result<Vec<PathBuf>, SelectError> {
    let mut reports = Vec::new();
    let mut skipped = Vec::new();
    for argument in arguments {
        let files = inputs::resolve_reports(std::slice::from_ref(argument), &[], context)?;
        let named = files.len() == 1 && context.resolve(Path::new(argument)).is_file();
        for file in files {
            let shown = context.display(&file);
            match (sniff_file(&file, &shown)?, named) {
                (Sniffed::Report, _) | (Sniffed::Other, true) => reports.push(file),
                (Sniffed::Foreign, true) => return Err(SelectError::NotAReport { path: shown }),
                (_, false) => skipped.push(shown),
            }
        }
    }
    say_skipped(context, &skipped)?;
    reports.sort();
    reports.dedup();
    if reports.is_empty() {
        return Err(SelectError::NoReport {
            inputs: arguments.to_vec(),
        });
    }
    Ok(reports)
}

fn say_skipped(context: &mut Context, skipped: &[String]) -> Result<(), SelectError> {
    let io = |source| SelectError::Unreadable {
        path: "the step's output".to_owned(),
        source,
    };
    for shown in skipped.iter().take(SKIPPED_SHOWN) {
        context
            .out
            .status("Skipping", &format!("`{shown}`: not a coverage report"))
            .map_err(io)?;
    }
    if skipped.len() > SKIPPED_SHOWN {
        let more = skipped.len() - SKIPPED_SHOWN;
        context
            .out
            .status(
                "Skipping",
                &format!("{more} more files that are not coverage reports"),
            )
            .map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_told_by_content() {
        let cases: [(&[u8], Sniffed); 12] = [
            (b"<?xml version=\"1.0\" ?>\n<!-- x -->\n<!DOCTYPE coverage SYSTEM 'x'>\n<coverage line-rate=\"1\">", Sniffed::Report),
            (b"\xef\xbb\xbf<coverage>", Sniffed::Report),
            (b"<?xml version=\"1.0\"?><testsuites>", Sniffed::Other),
            (b"<html><body>", Sniffed::Other),
            (b"{\"meta\": {\"format\": 3, \"version\": \"7.6.1\"}, \"files\": {}", Sniffed::Report),
            (b"{\"token\": \"s3cr3t\"}", Sniffed::Foreign),
            (b"TN:\nSF:/a.c\n", Sniffed::Report),
            (b"SF:src/a.js\nDA:1,1\n", Sniffed::Report),
            (b"[default]\naws_secret_access_key = abc\n", Sniffed::Foreign),
            (b"\xff\xfe\x00binary", Sniffed::Foreign),
            (b"", Sniffed::Foreign),
            (b"TOTAL 10 2 80%\n", Sniffed::Foreign),
        ];
        for (head, expected) in cases {
            assert_eq!(sniff(head), expected, "{}", String::from_utf8_lossy(head));
        }
    }

    #[test]
    fn a_head_cut_inside_a_character_still_reads() {
        let mut head = b"SF:caf\xc3\xa9.c\n".to_vec();
        head.truncate(head.len() - 3);
        assert_eq!(sniff(&head), Sniffed::Report);
    }

    #[test]
    fn the_error_never_holds_content() {
        let error = SelectError::NotAReport {
            path: "creds.txt".into(),
        };
        assert_eq!(
            error.to_string(),
            "`creds.txt` is not a coverage report this step reads"
        );
        assert!(error.hint().unwrap().contains("lcov.info"));
    }
}
