//! JUnit XML, read as a stream of events: pytest (xunit1 and xunit2), Maven Surefire,
//! jest-junit, cargo nextest, go-junit-report; `testsuites` roots, bare `testsuite`
//! roots and nested suites. Only bounded state is kept (counts, the slowest tests, a
//! capped list of failures), so a 200 MB report is read in flat memory.

use std::collections::BinaryHeap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use custody_xml::{Events, attribute};
use quick_xml::events::{BytesRef, BytesStart, Event};
use serde::Serialize;
use thiserror::Error;

/// Failures and errors kept for display; the rest are counted.
pub const FAILURES_KEPT: usize = 1000;
/// Text kept per failure (message and traceback), so one huge log cannot grow memory.
const TEXT_KEPT: usize = 16 * 1024;
/// Slowest tests kept.
pub const SLOWEST_KEPT: usize = 10;

/// Why a report cannot be read. Every one is bad input: no report is ever counted as
/// zero tests.
#[derive(Debug, Error)]
pub enum JunitError {
    #[error("cannot read `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is not well-formed XML at line {line}, column {column}")]
    Malformed {
        path: PathBuf,
        line: u64,
        column: u64,
        #[source]
        source: quick_xml::Error,
    },
    #[error("`{path}` ends at line {line} inside <{element}>: the file is truncated")]
    Truncated {
        path: PathBuf,
        line: u64,
        element: String,
    },
    #[error("`{path}` is not a JUnit report: {found}")]
    NotJunit { path: PathBuf, found: Found },
    #[error("`{path}` has no test cases")]
    Empty { path: PathBuf },
}

/// What a file that is not a JUnit report holds instead.
#[derive(Debug)]
pub enum Found {
    /// Another format's root element (`coverage`, `html`).
    Root(String),
    /// No element at all.
    Nothing,
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Root(name) => write!(f, "its root element is <{name}>"),
            Self::Nothing => f.write_str("it holds no element (the file is empty)"),
        }
    }
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

    /// A finished test case: its counts, its time and, if it failed, its failure.
    fn add_case(&mut self, case: Case, suite: Option<&str>, report: &str, pytest: bool) {
        let test = case.test();
        self.totals.count(&case);
        self.record_time(&test, case.time);
        if let Some(outcome) = case.failing()
            && self.failures.len() < FAILURES_KEPT
        {
            let failure = case.into_failure(outcome, test, suite, report, pytest);
            self.failures.push(failure);
        }
    }

    /// A report read to its end.
    fn add_report(&mut self, report: ReadReport) {
        self.totals.duration += report.duration;
        self.reports.push(report.stats);
    }
}

impl Totals {
    fn count(&mut self, case: &Case) {
        self.tests += 1;
        // A case with both a failure and an error counts as both.
        self.failed += u64::from(case.failure);
        self.errors += u64::from(case.error);
        match case.outcome() {
            Outcome::Failed | Outcome::Error => {}
            Outcome::Xfailed => self.xfailed += 1,
            Outcome::Skipped => self.skipped += 1,
            Outcome::Flaky => {
                self.flaky += 1;
                self.passed += 1;
            }
            Outcome::Passed => self.passed += 1,
        }
    }
}

impl ReportStats {
    fn new(path: &str) -> Self {
        Self {
            path: path.to_owned(),
            tests: 0,
            failed: 0,
            errors: 0,
            skipped: 0,
        }
    }

    fn count(&mut self, case: &Case) {
        self.tests += 1;
        self.failed += u64::from(case.failure);
        self.errors += u64::from(case.error);
        self.skipped += u64::from(case.outcome() == Outcome::Skipped);
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

impl Case {
    /// The case a `<testcase>` element opens.
    fn new(start: &BytesStart<'_>, pytest: bool) -> Self {
        let line = attribute(start, "line").and_then(|l| l.trim().parse::<u32>().ok());
        Self {
            name: attribute(start, "name").unwrap_or_default(),
            classname: attribute(start, "classname").unwrap_or_default(),
            file: attribute(start, "file"),
            // pytest writes the 0-based line of the test's `def`.
            line: if pytest { line.map(|l| l + 1) } else { line },
            time: seconds(attribute(start, "time")),
            ..Self::default()
        }
    }

    /// Notes what the child element `name` says about the case; whether its text (the
    /// failure's traceback) is kept.
    fn child(&mut self, name: &str, start: &BytesStart<'_>) -> bool {
        let keep = match name {
            "failure" => {
                self.failure = true;
                true
            }
            "error" => {
                self.error = true;
                true
            }
            "skipped" => {
                if attribute(start, "type").as_deref() == Some("pytest.xfail") {
                    self.xfailed = true;
                } else {
                    self.skipped = true;
                }
                false
            }
            "flakyFailure" | "flakyError" | "rerunFailure" | "rerunError" => {
                self.flaky = true;
                false
            }
            _ => false,
        };
        if keep && self.message.is_empty() {
            self.message = attribute(start, "message").unwrap_or_default();
        }
        keep
    }

    /// `classname.name`, or the name alone.
    fn test(&self) -> String {
        if self.classname.is_empty() {
            self.name.clone()
        } else {
            format!("{}.{}", self.classname, self.name)
        }
    }

    /// How the case ended: a failure or an error outweighs a skip, a skip a rerun.
    fn outcome(&self) -> Outcome {
        if self.failure {
            Outcome::Failed
        } else if self.error {
            Outcome::Error
        } else if self.xfailed {
            Outcome::Xfailed
        } else if self.skipped {
            Outcome::Skipped
        } else if self.flaky {
            Outcome::Flaky
        } else {
            Outcome::Passed
        }
    }

    /// [`Outcome::Failed`] or [`Outcome::Error`] when the case is a failure to report.
    fn failing(&self) -> Option<Outcome> {
        Some(self.outcome()).filter(|o| matches!(o, Outcome::Failed | Outcome::Error))
    }

    fn into_failure(
        self,
        outcome: Outcome,
        test: String,
        suite: Option<&str>,
        report: &str,
        pytest: bool,
    ) -> Failure {
        let (file, line) = location(&self, pytest);
        let message = if self.message.trim().is_empty() {
            // No message attribute: the first line of the text stands in.
            self.text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or_default()
                .to_owned()
        } else {
            self.message
        };
        Failure {
            outcome,
            test,
            suite: suite.unwrap_or_default().to_owned(),
            report: report.to_owned(),
            file,
            line,
            message,
            details: first_lines(&self.text, 12),
            time: self.time,
        }
    }
}

/// Whether the text inside a test case's child element is collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Capture {
    /// Not inside a child of a test case.
    Off,
    /// Inside a child `depth` elements deep; `keep` for failure/error text, not for
    /// anything else (system-out, skipped reasons).
    On { keep: bool, depth: usize },
}

/// The durations a report gives, from the most to the least complete.
#[derive(Debug, Default)]
struct Durations {
    /// The `testsuites` root's own figure (it includes setup).
    root: f64,
    /// The sum of the outermost suites'.
    suites: f64,
    /// The sum of the cases'.
    cases: f64,
}

impl Durations {
    /// The most complete figure the writer gave.
    fn best(&self) -> f64 {
        if self.root > 0.0 {
            self.root
        } else if self.suites > 0.0 {
            self.suites
        } else {
            self.cases
        }
    }
}

/// One report read to its end, before it joins the others.
#[derive(Debug)]
struct ReadReport {
    stats: ReportStats,
    duration: f64,
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

/// The text an entity or character reference stands for; empty when unknown.
fn resolve(reference: &BytesRef<'_>) -> String {
    match reference.resolve_char_ref() {
        Ok(Some(c)) => c.to_string(),
        _ => quick_xml::escape::resolve_predefined_entity(reference)
            .unwrap_or_default()
            .to_owned(),
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
    let mut events = Events::new(path, reader);
    let mut report = Reading::new(shown);
    while let Some(event) = events
        .next_event()
        .map_err(|malformed| JunitError::Malformed {
            path: shown.into(),
            line: malformed.line,
            column: malformed.column,
            source: malformed.source,
        })?
    {
        report.event(&event, results)?;
    }
    if let Some(element) = report.open.pop() {
        return Err(JunitError::Truncated {
            path: shown.into(),
            line: events.line(),
            element,
        });
    }
    results.add_report(report.finish()?);
    Ok(())
}

/// The state of one report as its events stream by: only what is open (elements,
/// suites, the current test case) and the report's own counts.
#[derive(Debug)]
struct Reading<'a> {
    shown: &'a str,
    /// The open elements, innermost last.
    open: Vec<String>,
    /// The names of the open suites, innermost last.
    suites: Vec<String>,
    root_seen: bool,
    /// pytest's line numbers are 0-based.
    pytest: bool,
    case: Option<Case>,
    capture: Capture,
    stats: ReportStats,
    durations: Durations,
}

impl<'a> Reading<'a> {
    fn new(shown: &'a str) -> Self {
        Self {
            shown,
            open: Vec::new(),
            suites: Vec::new(),
            root_seen: false,
            pytest: false,
            case: None,
            capture: Capture::Off,
            stats: ReportStats::new(shown),
            durations: Durations::default(),
        }
    }

    fn event(&mut self, event: &Event<'_>, results: &mut Results) -> Result<(), JunitError> {
        match event {
            Event::Start(start) => self.start(start, false, results)?,
            Event::Empty(start) => self.start(start, true, results)?,
            Event::End(_) => self.end(results),
            Event::Text(text) => self.keep_text(text),
            Event::CData(text) => self.keep_text(text),
            Event::GeneralRef(reference) if self.keeps_text() => {
                self.keep_text(&resolve(reference));
            }
            _ => {}
        }
        Ok(())
    }

    /// An element opens (and, when `empty`, closes at once).
    fn start(
        &mut self,
        start: &BytesStart<'_>,
        empty: bool,
        results: &mut Results,
    ) -> Result<(), JunitError> {
        let name = local_name(start);
        if !self.root_seen {
            self.root(start, &name)?;
        }
        match &mut self.capture {
            Capture::On { depth, .. } => {
                if !empty {
                    *depth += 1;
                }
            }
            Capture::Off => match name.as_str() {
                "testsuite" => self.suite(start, empty),
                "testcase" => {
                    let case = Case::new(start, self.pytest);
                    if empty {
                        self.finish_case(case, results);
                    } else {
                        self.case = Some(case);
                    }
                }
                child => {
                    if let Some(case) = self.case.as_mut() {
                        let keep = case.child(child, start);
                        if !empty {
                            self.capture = Capture::On { keep, depth: 1 };
                        }
                    }
                }
            },
        }
        if !empty {
            self.open.push(name);
        }
        Ok(())
    }

    /// The first element: a JUnit root, or the file is something else.
    fn root(&mut self, start: &BytesStart<'_>, name: &str) -> Result<(), JunitError> {
        if name != "testsuites" && name != "testsuite" {
            return Err(JunitError::NotJunit {
                path: self.shown.into(),
                found: Found::Root(name.to_owned()),
            });
        }
        self.root_seen = true;
        self.pytest = attribute(start, "name").is_some_and(|n| n.starts_with("pytest"));
        if name == "testsuites" {
            self.durations.root = seconds(attribute(start, "time"));
        }
        Ok(())
    }

    fn suite(&mut self, start: &BytesStart<'_>, empty: bool) {
        let suite = attribute(start, "name").unwrap_or_default();
        self.pytest |= suite == "pytest";
        if self.suites.is_empty() {
            self.durations.suites += seconds(attribute(start, "time"));
        }
        if !empty {
            self.suites.push(suite);
        }
    }

    fn end(&mut self, results: &mut Results) {
        let name = self.open.pop().unwrap_or_default();
        match &mut self.capture {
            Capture::On { depth, .. } => {
                *depth -= 1;
                if *depth == 0 {
                    self.capture = Capture::Off;
                }
            }
            Capture::Off => match name.as_str() {
                "testcase" => {
                    if let Some(case) = self.case.take() {
                        self.finish_case(case, results);
                    }
                }
                "testsuite" => {
                    self.suites.pop();
                }
                _ => {}
            },
        }
    }

    fn finish_case(&mut self, case: Case, results: &mut Results) {
        self.stats.count(&case);
        self.durations.cases += case.time;
        results.add_case(
            case,
            self.suites.last().map(String::as_str),
            self.shown,
            self.pytest,
        );
    }

    fn keeps_text(&self) -> bool {
        matches!(self.capture, Capture::On { keep: true, .. })
    }

    /// The failure text being collected, if any.
    fn kept_text(&mut self) -> Option<&mut String> {
        match self.capture {
            Capture::On { keep: true, .. } => self.case.as_mut().map(|case| &mut case.text),
            _ => None,
        }
    }

    fn keep_text(&mut self, text: &str) {
        if let Some(into) = self.kept_text() {
            push_capped(into, text);
        }
    }

    /// The report's counts and duration, once its last event is read.
    fn finish(self) -> Result<ReadReport, JunitError> {
        if !self.root_seen {
            return Err(JunitError::NotJunit {
                path: self.shown.into(),
                found: Found::Nothing,
            });
        }
        if self.stats.tests == 0 {
            return Err(JunitError::Empty {
                path: self.shown.into(),
            });
        }
        Ok(ReadReport {
            stats: self.stats,
            duration: self.durations.best(),
        })
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
    use custody_cli::Diagnose;

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
        for (line, expected) in [
            (
                "tests/test_x.py:12: AssertionError",
                Some(("tests/test_x.py", 12)),
            ),
            (
                "thread 'a' panicked at src/lib.rs:10:5:",
                Some(("src/lib.rs", 10)),
            ),
            ("    foo_test.go:31: want 2", Some(("foo_test.go", 31))),
            (
                "    at Object.<anonymous> (src/sum.test.js:4:17)",
                Some(("src/sum.test.js", 4)),
            ),
            ("no location here: 12", None),
        ] {
            assert_eq!(
                file_and_line(line),
                expected.map(|(file, number)| (file.to_owned(), number)),
                "{line}"
            );
        }
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
    fn errors_name_the_file_keep_their_cause_and_carry_the_hint_apart() {
        let malformed = read("<testsuite><testcase name=\"a\"></testsuite>").unwrap_err();
        assert!(
            malformed
                .to_string()
                .starts_with("`r.xml` is not well-formed XML at line 0, column 0"),
            "{malformed}"
        );
        assert!(std::error::Error::source(&malformed).is_some());
        assert_eq!(
            read("").unwrap_err().to_string(),
            "`r.xml` is not a JUnit report: it holds no element (the file is empty)"
        );
        for xml in [
            "",
            "<html/>",
            "<testsuite/>",
            "<testsuite><testcase name=\"a\">",
            "<testsuite><testcase name=\"a\"></testsuite>",
        ] {
            let error = read(xml).unwrap_err();
            assert!(!error.to_string().contains("hint"), "{error}");
            assert!(error.hint().is_some(), "{error}");
        }
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
