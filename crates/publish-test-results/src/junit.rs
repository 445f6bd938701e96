//! JUnit XML, read as a stream of events: pytest (xunit1 and xunit2), Maven Surefire,
//! jest-junit, cargo nextest, go-junit-report; `testsuites` roots, bare `testsuite`
//! roots and nested suites. Only bounded state is kept (counts, the slowest tests, a
//! capped list of failures), so a 200 MB report is read in flat memory.

use std::collections::BinaryHeap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use custody_xml::{attribute, line_column};
use quick_xml::events::{BytesStart, Event};
use serde::Serialize;
use thiserror::Error;

/// Failures and errors kept for display; the rest are counted.
pub const FAILURES_KEPT: usize = 1000;
/// Text kept per failure (message and traceback), so one huge log cannot grow memory.
const TEXT_KEPT: usize = 16 * 1024;
/// Slowest tests kept.
pub const SLOWEST_KEPT: usize = 10;

#[derive(Debug, Error)]
pub enum JunitError {
    #[error("cannot read `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "`{path}` is not well-formed XML at line {line}, column {column}: {reason}\nhint: the file is damaged; re-run the tests to write it again"
    )]
    Malformed {
        path: PathBuf,
        line: u64,
        column: u64,
        reason: String,
    },
    #[error(
        "`{path}` ends at line {line} inside <{element}>: the file is truncated\nhint: the test run was probably killed while writing it (timeout, out of memory); re-run the tests"
    )]
    Truncated {
        path: PathBuf,
        line: u64,
        element: String,
    },
    #[error(
        "`{path}` is not a JUnit report: its root element is <{root}>\nhint: pass the XML written by `pytest --junitxml=FILE` (or your runner's JUnit reporter)"
    )]
    NotJunit { path: PathBuf, root: String },
    #[error(
        "`{path}` has no test cases\nhint: no test ran or none was collected; check the test command and its paths (an empty report is never counted as success)"
    )]
    Empty { path: PathBuf },
}

/// How one test case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed,
    Error,
    Skipped,
    /// Expected to fail, and did (pytest `xfail`).
    Xfailed,
    /// Passed after a rerun (Surefire `flakyFailure`, nextest retries).
    Flaky,
}

/// A failed or erroring test, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub outcome: Outcome,
    /// `classname.name`, or the name alone.
    pub test: String,
    pub suite: String,
    pub report: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub message: String,
    /// The first lines of the traceback or output.
    pub details: String,
    pub time: f64,
}

/// A test and its duration, for the slowest list.
#[derive(Debug, Clone, Serialize)]
pub struct Timed {
    pub test: String,
    pub time: f64,
}

/// Min-heap entry by time.
#[derive(Debug)]
struct ByTime(f64, String);

impl PartialEq for ByTime {
    fn eq(&self, other: &Self) -> bool {
        self.0.total_cmp(&other.0).is_eq()
    }
}
impl Eq for ByTime {}
impl PartialOrd for ByTime {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ByTime {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Reversed: the heap's top is the fastest of the kept, the one to evict.
        other.0.total_cmp(&self.0)
    }
}

/// Totals over every report read.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Totals {
    pub tests: u64,
    pub passed: u64,
    pub failed: u64,
    pub errors: u64,
    pub skipped: u64,
    pub xfailed: u64,
    pub flaky: u64,
    /// Seconds, as the reports give them.
    pub duration: f64,
}

/// What all reports say together.
#[derive(Debug, Default)]
pub struct Results {
    pub totals: Totals,
    pub reports: Vec<ReportStats>,
    /// Failures and errors, at most [`FAILURES_KEPT`].
    pub failures: Vec<Failure>,
    slowest: BinaryHeap<ByTime>,
}

/// One report file's own counts.
#[derive(Debug, Clone, Serialize)]
pub struct ReportStats {
    pub path: String,
    pub tests: u64,
    pub failed: u64,
    pub errors: u64,
    pub skipped: u64,
}

impl Results {
    /// The slowest tests, slowest first.
    pub fn slowest(&self) -> Vec<Timed> {
        let mut all: Vec<Timed> = self
            .slowest
            .iter()
            .map(|ByTime(time, test)| Timed {
                test: test.clone(),
                time: *time,
            })
            .collect();
        all.sort_by(|a, b| b.time.total_cmp(&a.time));
        all
    }

    fn record_time(&mut self, test: &str, time: f64) {
        if self.slowest.len() < SLOWEST_KEPT {
            self.slowest.push(ByTime(time, test.to_owned()));
        } else if self.slowest.peek().is_some_and(|fastest| time > fastest.0) {
            self.slowest.pop();
            self.slowest.push(ByTime(time, test.to_owned()));
        }
    }
}

/// A test case being read.
// One flag per child element a JUnit test case can carry.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Default)]
struct Case {
    name: String,
    classname: String,
    file: Option<String>,
    line: Option<u32>,
    time: f64,
    failure: bool,
    error: bool,
    skipped: bool,
    xfailed: bool,
    flaky: bool,
    message: String,
    text: String,
}

/// Which child of a test case is open, collecting text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Capture {
    None,
    /// failure/error text: kept.
    Keep,
    /// anything else (system-out, skipped reasons): skipped.
    Skip,
}

fn local_name(start: &BytesStart<'_>) -> String {
    start.local_name().as_ref().to_owned()
}

fn seconds(text: Option<String>) -> f64 {
    // Some writers use a comma decimal separator or thousands separators.
    text.and_then(|t| t.trim().replace(',', "").parse::<f64>().ok())
        .filter(|t| t.is_finite() && *t >= 0.0)
        .unwrap_or(0.0)
}

fn push_capped(into: &mut String, text: &str) {
    if into.len() >= TEXT_KEPT {
        return;
    }
    let room = TEXT_KEPT - into.len();
    if text.len() <= room {
        into.push_str(text);
    } else {
        let mut end = room;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        into.push_str(&text[..end]);
    }
}

/// Reads one report from `reader` into `results`. `path` names it; `shown` is how the
/// user sees it.
pub fn read_report(
    path: &Path,
    shown: &str,
    reader: impl BufRead,
    results: &mut Results,
) -> Result<(), JunitError> {
    let shown_path = PathBuf::from(shown);
    let mut xml = quick_xml::Reader::from_reader(reader);
    xml.config_mut().trim_text(false);
    let mut buffer = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut suites: Vec<String> = Vec::new();
    let mut root: Option<String> = None;
    let mut pytest = false;
    let mut case: Option<Case> = None;
    let mut capture = Capture::None;
    let mut capture_depth = 0usize;
    let mut stats = ReportStats {
        path: shown.to_owned(),
        tests: 0,
        failed: 0,
        errors: 0,
        skipped: 0,
    };
    let mut top_level_time = 0.0;
    let mut root_time = 0.0;
    let mut case_time = 0.0;
    loop {
        let event = xml.read_event_into(&mut buffer).map_err(|error| {
            let (line, column) = line_column(path, xml.error_position());
            JunitError::Malformed {
                path: shown_path.clone(),
                line,
                column,
                reason: error.to_string(),
            }
        })?;
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                let empty = matches!(event, Event::Empty(_));
                let name = local_name(start);
                if root.is_none() {
                    if name != "testsuites" && name != "testsuite" {
                        return Err(JunitError::NotJunit {
                            path: shown_path,
                            root: name,
                        });
                    }
                    root = Some(name.clone());
                    let root_name = attribute(start, "name").unwrap_or_default();
                    pytest = root_name.starts_with("pytest");
                    if name == "testsuites" {
                        root_time = seconds(attribute(start, "time"));
                    }
                }
                if capture != Capture::None {
                    if !empty {
                        capture_depth += 1;
                        stack.push(name);
                    }
                    continue;
                }
                match name.as_str() {
                    "testsuite" => {
                        let suite = attribute(start, "name").unwrap_or_default();
                        pytest |= suite == "pytest";
                        if suites.is_empty() {
                            top_level_time += seconds(attribute(start, "time"));
                        }
                        if !empty {
                            suites.push(suite);
                        }
                    }
                    "testcase" => {
                        let mut new = Case {
                            name: attribute(start, "name").unwrap_or_default(),
                            classname: attribute(start, "classname").unwrap_or_default(),
                            file: attribute(start, "file"),
                            line: attribute(start, "line").and_then(|l| l.trim().parse().ok()),
                            time: seconds(attribute(start, "time")),
                            ..Case::default()
                        };
                        // pytest writes the 0-based line of the test's `def`.
                        if pytest {
                            new.line = new.line.map(|l| l + 1);
                        }
                        if empty {
                            finish_case(
                                &new,
                                &suites,
                                shown,
                                pytest,
                                results,
                                &mut stats,
                                &mut case_time,
                            );
                        } else {
                            case = Some(new);
                        }
                    }
                    child if case.is_some() => {
                        let current = case.as_mut().expect("checked just above");
                        let keep = match child {
                            "failure" => {
                                current.failure = true;
                                true
                            }
                            "error" => {
                                current.error = true;
                                true
                            }
                            "skipped" => {
                                if attribute(start, "type").as_deref() == Some("pytest.xfail") {
                                    current.xfailed = true;
                                } else {
                                    current.skipped = true;
                                }
                                false
                            }
                            "flakyFailure" | "flakyError" | "rerunFailure" | "rerunError" => {
                                current.flaky = true;
                                false
                            }
                            _ => false,
                        };
                        if keep && current.message.is_empty() {
                            current.message = attribute(start, "message").unwrap_or_default();
                        }
                        if !empty {
                            capture = if keep { Capture::Keep } else { Capture::Skip };
                            capture_depth = 1;
                            stack.push(name);
                        }
                        continue;
                    }
                    _ => {}
                }
                if !empty {
                    stack.push(name);
                }
            }
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                if capture != Capture::None {
                    capture_depth -= 1;
                    if capture_depth == 0 {
                        capture = Capture::None;
                    }
                    continue;
                }
                match name.as_str() {
                    "testcase" => {
                        if let Some(done) = case.take() {
                            finish_case(
                                &done,
                                &suites,
                                shown,
                                pytest,
                                results,
                                &mut stats,
                                &mut case_time,
                            );
                        }
                    }
                    "testsuite" => {
                        suites.pop();
                    }
                    _ => {}
                }
            }
            Event::Text(ref text) if capture == Capture::Keep => {
                if let Some(current) = case.as_mut() {
                    push_capped(&mut current.text, text);
                }
            }
            Event::CData(ref text) if capture == Capture::Keep => {
                if let Some(current) = case.as_mut() {
                    push_capped(&mut current.text, text);
                }
            }
            Event::GeneralRef(ref reference) if capture == Capture::Keep => {
                if let Some(current) = case.as_mut() {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => quick_xml::escape::resolve_predefined_entity(reference)
                            .unwrap_or_default()
                            .to_owned(),
                    };
                    push_capped(&mut current.text, &resolved);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    if let Some(open) = stack.last() {
        let (line, _) = line_column(path, xml.buffer_position());
        return Err(JunitError::Truncated {
            path: shown_path,
            line,
            element: open.clone(),
        });
    }
    if root.is_none() {
        return Err(JunitError::NotJunit {
            path: shown_path,
            root: "(none: the file is empty)".to_owned(),
        });
    }
    if stats.tests == 0 {
        return Err(JunitError::Empty { path: shown_path });
    }
    // The run's own figure where the writer gives one (it includes setup), else the
    // suites', else the sum of the cases'.
    results.totals.duration += if root_time > 0.0 {
        root_time
    } else if top_level_time > 0.0 {
        top_level_time
    } else {
        case_time
    };
    results.reports.push(stats);
    Ok(())
}

fn finish_case(
    case: &Case,
    suites: &[String],
    report: &str,
    pytest: bool,
    results: &mut Results,
    stats: &mut ReportStats,
    case_time: &mut f64,
) {
    let test = if case.classname.is_empty() {
        case.name.clone()
    } else {
        format!("{}.{}", case.classname, case.name)
    };
    let totals = &mut results.totals;
    totals.tests += 1;
    stats.tests += 1;
    *case_time += case.time;
    if case.failure {
        totals.failed += 1;
        stats.failed += 1;
    }
    if case.error {
        totals.errors += 1;
        stats.errors += 1;
    }
    if !case.failure && !case.error {
        if case.xfailed {
            totals.xfailed += 1;
        } else if case.skipped {
            totals.skipped += 1;
            stats.skipped += 1;
        } else if case.flaky {
            totals.flaky += 1;
            totals.passed += 1;
        } else {
            totals.passed += 1;
        }
    }
    results.record_time(&test, case.time);
    if (case.failure || case.error) && results.failures.len() < FAILURES_KEPT {
        let (file, line) = location(case, pytest);
        let message = if case.message.trim().is_empty() {
            case.text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or_default()
                .to_owned()
        } else {
            case.message.clone()
        };
        results.failures.push(Failure {
            outcome: if case.failure {
                Outcome::Failed
            } else {
                Outcome::Error
            },
            test,
            suite: suites.last().cloned().unwrap_or_default(),
            report: report.to_owned(),
            file,
            line,
            message,
            details: first_lines(&case.text, 12),
            time: case.time,
        });
    }
}

fn first_lines(text: &str, count: usize) -> String {
    let trimmed = text.trim_matches('\n');
    trimmed.lines().take(count).collect::<Vec<_>>().join("\n")
}

/// Where a failure happened: the innermost `file:line` in its traceback that is in the
/// project (not an absolute path or an installed package), else the test's own
/// `file`/`line` attributes.
fn location(case: &Case, pytest: bool) -> (Option<String>, Option<u32>) {
    let mut found = None;
    for line in case.text.lines() {
        if let Some((file, number)) = file_and_line(line)
            && !file.starts_with('/')
            && !file.contains("site-packages")
            && !file.starts_with('<')
        {
            found = Some((file, number));
        }
    }
    if let Some((file, number)) = found {
        // Prefer a traceback line in the test's own file when the report names it.
        if case.file.as_deref().is_none_or(|f| same_file(f, &file)) || pytest {
            return (Some(file), Some(number));
        }
    }
    (case.file.clone(), case.line)
}

fn same_file(a: &str, b: &str) -> bool {
    let a = a.replace('\\', "/");
    let b = b.replace('\\', "/");
    a.ends_with(&b) || b.ends_with(&a)
}

/// `path/to/file.ext:LINE` anywhere in a line (pytest `tests/t.py:12: AssertionError`,
/// Rust `panicked at src/lib.rs:10:5`, Go `foo_test.go:12: ...`, JS `(src/a.test.js:4:7)`).
fn file_and_line(line: &str) -> Option<(String, u32)> {
    const EXTENSIONS: [&str; 12] = [
        ".py", ".rs", ".go", ".js", ".ts", ".jsx", ".tsx", ".java", ".kt", ".rb", ".cs", ".cpp",
    ];
    for token in
        line.split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == '"' || c == '\'')
    {
        for extension in EXTENSIONS {
            let Some(position) = token.find(&format!("{extension}:")) else {
                continue;
            };
            let file = &token[..position + extension.len()];
            let digits: String = token[position + extension.len() + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(number) = digits.parse::<u32>()
                && !file.is_empty()
            {
                let file = file.trim_start_matches("file://").trim_start_matches("./");
                return Some((file.to_owned(), number));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(xml: &str) -> Result<Results, JunitError> {
        let mut results = Results::default();
        read_report(
            Path::new("/nonexistent"),
            "r.xml",
            xml.as_bytes(),
            &mut results,
        )?;
        Ok(results)
    }

    #[test]
    fn locations_in_tracebacks() {
        assert_eq!(
            file_and_line("tests/test_x.py:12: AssertionError"),
            Some(("tests/test_x.py".into(), 12))
        );
        assert_eq!(
            file_and_line("thread 'a' panicked at src/lib.rs:10:5:"),
            Some(("src/lib.rs".into(), 10))
        );
        assert_eq!(
            file_and_line("    foo_test.go:31: want 2"),
            Some(("foo_test.go".into(), 31))
        );
        assert_eq!(
            file_and_line("    at Object.<anonymous> (src/sum.test.js:4:17)"),
            Some(("src/sum.test.js".into(), 4))
        );
        assert_eq!(file_and_line("no location here: 12"), None);
    }

    #[test]
    fn a_bare_testsuite_with_nested_suites() {
        let results = read(
            r#"<testsuite name="outer" time="2.5"><testsuite name="inner"><testcase name="a" time="1"/><testcase name="b" time="0.5"><failure>boom at src/x.rs:3:1</failure></testcase></testsuite><testcase name="c"><skipped/></testcase></testsuite>"#,
        )
        .unwrap();
        let totals = &results.totals;
        assert_eq!(
            (totals.tests, totals.passed, totals.failed, totals.skipped),
            (3, 1, 1, 1)
        );
        assert!((totals.duration - 2.5).abs() < 1e-9);
        assert_eq!(results.failures[0].suite, "inner");
        assert_eq!(results.failures[0].message, "boom at src/x.rs:3:1");
        assert_eq!(results.failures[0].file.as_deref(), Some("src/x.rs"));
        assert_eq!(results.slowest()[0].test, "a");
    }

    #[test]
    fn surefire_reruns_count_as_flaky_passes() {
        let results = read(
            r#"<testsuite name="s"><testcase name="t" classname="C"><flakyFailure message="first try"><stackTrace>x</stackTrace></flakyFailure></testcase><testcase name="u" classname="C"><rerunFailure message="1"/><failure message="2"/></testcase></testsuite>"#,
        )
        .unwrap();
        assert_eq!(
            (
                results.totals.passed,
                results.totals.flaky,
                results.totals.failed
            ),
            (1, 1, 1)
        );
        assert_eq!(results.failures[0].test, "C.u");
    }

    #[test]
    fn entities_and_cdata_in_failure_text() {
        let results = read(
            "<testsuites><testsuite name=\"s\"><testcase name=\"t\"><failure message=\"a &lt; b\">x &amp; y &#65;<![CDATA[ <raw> ]]></failure></testcase></testsuite></testsuites>",
        )
        .unwrap();
        assert_eq!(results.failures[0].message, "a < b");
        assert_eq!(results.failures[0].details, "x & y A <raw> ");
    }

    #[test]
    fn bad_reports_are_errors_not_zero_tests() {
        assert!(matches!(
            read("<html></html>"),
            Err(JunitError::NotJunit { .. })
        ));
        assert!(matches!(read(""), Err(JunitError::NotJunit { .. })));
        assert!(matches!(
            read("<testsuites><testsuite name=\"x\"/></testsuites>"),
            Err(JunitError::Empty { .. })
        ));
        assert!(matches!(
            read("<testsuite><testcase name=\"a\">"),
            Err(JunitError::Truncated { .. })
        ));
        assert!(matches!(
            read("<testsuite><testcase name=\"a\"></testsuite>"),
            Err(JunitError::Malformed { .. })
        ));
    }

    #[test]
    fn the_slowest_are_kept_in_bounded_memory() {
        let mut xml = String::from("<testsuite>");
        for i in 0..100 {
            xml.push_str(&format!("<testcase name=\"t{i}\" time=\"{i}\"/>"));
        }
        xml.push_str("</testsuite>");
        let results = read(&xml).unwrap();
        let slowest = results.slowest();
        assert_eq!(slowest.len(), SLOWEST_KEPT);
        assert_eq!(slowest[0].test, "t99");
        assert_eq!(slowest[9].test, "t90");
    }
}
