//! JUnit XML, read as a stream of events: pytest (xunit1 and xunit2, xdist, reruns),
//! Maven Surefire, JUnit 5, jest-junit, mocha-junit-reporter, vitest, cargo nextest,
//! go-junit-report; `testsuites` roots, bare `testsuite` roots and nested suites. Only
//! bounded state is kept (counts, the slowest tests, a capped list of failures, and for
//! pytest one hash per test to recognise reruns), so a 200 MB report is read in flat
//! memory. What is not well-formed XML is refused, in whatever encoding it is declared.

use std::collections::{BinaryHeap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::BufRead;
use std::path::{Path, PathBuf};

use custody_xml::{EncodingError, Events, Utf8, Violation, WellFormed, attribute};
use quick_xml::events::{BytesRef, BytesStart, Event};
use serde::Serialize;
use thiserror::Error;

/// Failures and errors kept for display; the rest are counted.
pub const FAILURES_KEPT: usize = 1000;
/// Text kept per failure (its message, and its traceback), so one huge log cannot grow
/// memory; what is cut is marked.
pub const TEXT_KEPT: usize = 16 * 1024;
/// Slowest tests kept.
pub const SLOWEST_KEPT: usize = 10;
/// How a test without a name or class is shown.
const UNNAMED: &str = "(unnamed)";

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
    #[error("`{path}` cannot be read as text")]
    Encoding {
        path: PathBuf,
        #[source]
        source: EncodingError,
    },
    #[error("`{path}` is not XML: it does not start with an element (a text or JSON file?)")]
    NotXml { path: PathBuf },
    #[error("`{path}` is not well-formed XML at line {line}, column {column}")]
    Malformed {
        path: PathBuf,
        line: u64,
        column: u64,
        #[source]
        source: quick_xml::Error,
    },
    #[error("`{path}` is not well-formed XML at line {line}, column {column}: {violation}")]
    NotWellFormed {
        path: PathBuf,
        line: u64,
        column: u64,
        violation: Violation,
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

impl JunitError {
    /// The report the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::Read { path, .. }
            | Self::Encoding { path, .. }
            | Self::NotXml { path }
            | Self::Malformed { path, .. }
            | Self::NotWellFormed { path, .. }
            | Self::Truncated { path, .. }
            | Self::NotJunit { path, .. }
            | Self::Empty { path } => path,
        }
    }
}

/// What a file that is not a JUnit report holds instead.
#[derive(Debug)]
pub enum Found {
    /// Another format's root element (`coverage`, `html`).
    Root(String),
    /// No element at all: nothing, white space, or only a declaration and comments.
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

/// How one test case ended. A case holding several results has the outcome of the
/// weightiest (error over failure over skip over a passed rerun), as the peers count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed,
    Error,
    Skipped,
    /// Expected to fail, and did (pytest `xfail`).
    Xfailed,
    /// Passed after a rerun (Surefire `flakyFailure`, nextest retries, pytest reruns).
    Flaky,
}

impl Outcome {
    /// Which result of a case wins: the higher.
    fn weight(self) -> u8 {
        match self {
            Self::Passed => 0,
            Self::Flaky => 1,
            Self::Skipped | Self::Xfailed => 2,
            Self::Failed => 3,
            Self::Error => 4,
        }
    }

    fn failing(self) -> bool {
        matches!(self, Self::Failed | Self::Error)
    }
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
    /// At most [`TEXT_KEPT`] bytes, a cut marked at its end.
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

/// Test cases by outcome: `passed + failed + errors + skipped + xfailed` is `tests`.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Counts {
    pub tests: u64,
    /// Flaky tests (passed on a rerun) included.
    pub passed: u64,
    pub failed: u64,
    pub errors: u64,
    pub skipped: u64,
    pub xfailed: u64,
}

impl Counts {
    /// Adds a case of `outcome` (or, `add` false, takes one back).
    fn tally(&mut self, outcome: Outcome, add: bool) {
        step(&mut self.tests, add);
        let count = match outcome {
            Outcome::Failed => &mut self.failed,
            Outcome::Error => &mut self.errors,
            Outcome::Xfailed => &mut self.xfailed,
            Outcome::Skipped => &mut self.skipped,
            Outcome::Passed | Outcome::Flaky => &mut self.passed,
        };
        step(count, add);
    }
}

/// Totals over every report read.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Totals {
    #[serde(flatten)]
    pub counts: Counts,
    /// Of the passed, those that passed on a rerun.
    pub flaky: u64,
    /// Seconds, as the reports give them.
    pub duration: f64,
}

impl std::ops::Deref for Totals {
    type Target = Counts;

    fn deref(&self) -> &Counts {
        &self.counts
    }
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
    #[serde(flatten)]
    pub counts: Counts,
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
    fn add_case(&mut self, case: Case, suite: Option<&str>, report: &str) {
        let test = case.test();
        self.totals.tally(case.outcome, true);
        self.record_time(&test, case.time);
        if case.outcome.failing() && self.failures.len() < FAILURES_KEPT {
            let failure = case.into_failure(test, suite, report);
            self.failures.push(failure);
        }
    }

    /// Takes back an earlier attempt of a test that ran again: its count, and its
    /// failure if it was listed.
    fn take_back(&mut self, previous: Outcome, test: &str, report: &str) {
        self.totals.tally(previous, false);
        if previous.failing()
            && let Some(at) = self
                .failures
                .iter()
                .rposition(|f| f.test == test && f.report == report)
        {
            self.failures.remove(at);
        }
    }

    /// A report read to its end.
    fn add_report(&mut self, report: ReadReport) {
        self.totals.duration += report.duration;
        self.reports.push(report.stats);
    }
}

/// Adds one (or, `add` false, takes one back) to `count`.
fn step(count: &mut u64, add: bool) {
    *count = if add {
        count.saturating_add(1)
    } else {
        count.saturating_sub(1)
    };
}

impl Totals {
    fn tally(&mut self, outcome: Outcome, add: bool) {
        self.counts.tally(outcome, add);
        if outcome == Outcome::Flaky {
            step(&mut self.flaky, add);
        }
    }
}

/// Text kept up to [`TEXT_KEPT`] bytes, with the count of what was left out.
#[derive(Debug, Default)]
struct Kept {
    text: String,
    left_out: u64,
}

impl Kept {
    fn push(&mut self, text: &str) {
        let room = TEXT_KEPT.saturating_sub(self.text.len());
        if text.len() <= room {
            self.text.push_str(text);
            return;
        }
        let mut end = room;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        self.text.push_str(&text[..end]);
        self.left_out += (text.len() - end) as u64;
    }

    fn clear(&mut self) {
        self.text.clear();
        self.left_out = 0;
    }

    /// The text, its cut marked.
    fn into_marked(self) -> String {
        if self.left_out == 0 {
            return self.text;
        }
        format!(
            "{} … [cut: {} more bytes in the report]",
            self.text, self.left_out
        )
    }
}

/// A test case being read.
#[derive(Debug)]
struct Case {
    name: String,
    classname: String,
    file: Option<String>,
    line: Option<u32>,
    time: f64,
    /// The weightiest result so far.
    outcome: Outcome,
    /// The message and text of the result that decides the outcome, never a mix of two.
    message: Kept,
    text: Kept,
}

impl Case {
    /// The case a `<testcase>` element opens.
    fn new(start: &BytesStart<'_>, pytest: bool) -> Self {
        let line = attribute(start, "line").and_then(|l| l.trim().parse::<u32>().ok());
        // Writers of C++ and .NET results mark a test that never ran by its status.
        let status = attribute(start, "status").unwrap_or_default();
        let outcome = if matches!(status.as_str(), "disabled" | "skipped" | "notrun") {
            Outcome::Skipped
        } else {
            Outcome::Passed
        };
        Self {
            name: attribute(start, "name").unwrap_or_default(),
            classname: attribute(start, "classname").unwrap_or_default(),
            file: attribute(start, "file").filter(|f| !f.trim().is_empty()),
            // pytest writes the 0-based line of the test's `def`.
            line: if pytest { line.map(|l| l + 1) } else { line },
            time: seconds(attribute(start, "time")),
            outcome,
            message: Kept::default(),
            text: Kept::default(),
        }
    }

    /// Notes what the child element `name` says about the case; whether its text (the
    /// failure's traceback) is kept: only a result that outweighs those before it.
    fn child(&mut self, name: &str, start: &BytesStart<'_>) -> bool {
        let outcome = match name {
            "failure" => Outcome::Failed,
            "error" => Outcome::Error,
            "skipped" if attribute(start, "type").as_deref() == Some("pytest.xfail") => {
                Outcome::Xfailed
            }
            "skipped" => Outcome::Skipped,
            "flakyFailure" | "flakyError" | "rerunFailure" | "rerunError" => Outcome::Flaky,
            _ => return false,
        };
        if outcome.weight() <= self.outcome.weight() {
            return false;
        }
        self.outcome = outcome;
        self.message.clear();
        self.text.clear();
        if outcome.failing() {
            self.message
                .push(&attribute(start, "message").unwrap_or_default());
        }
        outcome.failing()
    }

    /// `classname.name`; the one that is given when the other is empty or the same;
    /// the file, or `(unnamed)`, when neither is.
    fn test(&self) -> String {
        let name = self.name.trim();
        let classname = self.classname.trim();
        match (classname.is_empty(), name.is_empty()) {
            (false, false) if classname != name => format!("{classname}.{name}"),
            (_, false) => name.to_owned(),
            (false, true) => classname.to_owned(),
            (true, true) => self.file.clone().unwrap_or_else(|| UNNAMED.to_owned()),
        }
    }

    /// Which test this is, for recognising its reruns.
    fn key(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        (&self.classname, &self.name, &self.file).hash(&mut hasher);
        hasher.finish()
    }

    fn into_failure(self, test: String, suite: Option<&str>, report: &str) -> Failure {
        let (file, line) = location(&self);
        let details = first_lines(&self.text.text, 12);
        let message = if self.message.text.trim().is_empty() {
            // No message attribute: the first line of the text stands in.
            self.text
                .text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or_default()
                .to_owned()
        } else {
            self.message.into_marked()
        };
        // The kept text shown whole, but not all of the report's: say so.
        let details = if self.text.left_out > 0 && details.len() >= self.text.text.trim().len() {
            format!(
                "{details}\n… [cut: {} more bytes in the report]",
                self.text.left_out
            )
        } else {
            details
        };
        Failure {
            outcome: self.outcome,
            test,
            suite: suite.unwrap_or_default().to_owned(),
            report: report.to_owned(),
            file,
            line,
            message,
            details,
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

/// Seconds as writers give them: `1.5`; `1,5` from a writer in a decimal-comma locale
/// (one comma and no point); `1,234.5` with thousands separators. Anything else is 0.
fn seconds(text: Option<String>) -> f64 {
    let Some(text) = text else { return 0.0 };
    let text = text.trim();
    let normal = if text.matches(',').count() == 1 && !text.contains('.') {
        text.replace(',', ".")
    } else {
        text.replace(',', "")
    };
    normal
        .parse::<f64>()
        .ok()
        .filter(|t| t.is_finite() && *t >= 0.0)
        .unwrap_or(0.0)
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
/// user sees it. UTF-16 and other declared encodings are transcoded first.
pub fn read_report(
    path: &Path,
    shown: &str,
    reader: impl BufRead,
    results: &mut Results,
) -> Result<(), JunitError> {
    let reader = Utf8::new(reader).map_err(|source| JunitError::Encoding {
        path: shown.into(),
        source,
    })?;
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
        let violation = report.checks.check(&event).err();
        if violation.is_none() {
            report.event(&event, results)?;
        }
        if let Some(violation) = violation {
            return Err(report.violation(violation, events.position()));
        }
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
    checks: WellFormed,
    /// The open elements, innermost last.
    open: Vec<String>,
    /// The names of the open suites, innermost last.
    suites: Vec<String>,
    root_seen: bool,
    /// pytest's line numbers are 0-based, and a test it runs again (pytest-rerunfailures)
    /// is written once per attempt.
    pytest: bool,
    /// pytest only: each test's outcome so far, by [`Case::key`].
    attempts: HashMap<u64, Outcome>,
    case: Option<Case>,
    capture: Capture,
    stats: ReportStats,
    durations: Durations,
}

impl<'a> Reading<'a> {
    fn new(shown: &'a str) -> Self {
        Self {
            shown,
            checks: WellFormed::default(),
            open: Vec::new(),
            suites: Vec::new(),
            root_seen: false,
            pytest: false,
            attempts: HashMap::new(),
            case: None,
            capture: Capture::Off,
            stats: ReportStats {
                path: shown.to_owned(),
                counts: Counts::default(),
            },
            durations: Durations::default(),
        }
    }

    /// The error for what [`WellFormed`] found at `(line, column)`.
    fn violation(&self, violation: Violation, (line, column): (u64, u64)) -> JunitError {
        if violation == Violation::TextBeforeRoot {
            return JunitError::NotXml {
                path: self.shown.into(),
            };
        }
        JunitError::NotWellFormed {
            path: self.shown.into(),
            line,
            column,
            violation,
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

    /// A case read to its end. In a pytest report, a test seen before is a rerun: its
    /// last attempt is its outcome, a pass after a failed attempt a flaky pass.
    fn finish_case(&mut self, mut case: Case, results: &mut Results) {
        if self.pytest {
            let previous = self.attempts.insert(case.key(), case.outcome);
            if let Some(previous) = previous {
                results.take_back(previous, &case.test(), self.shown);
                self.stats.counts.tally(previous, false);
                if case.outcome == Outcome::Passed {
                    case.outcome = Outcome::Flaky;
                }
            }
        }
        self.stats.counts.tally(case.outcome, true);
        self.durations.cases += case.time;
        results.add_case(case, self.suites.last().map(String::as_str), self.shown);
    }

    fn keeps_text(&self) -> bool {
        matches!(self.capture, Capture::On { keep: true, .. })
    }

    fn keep_text(&mut self, text: &str) {
        if let Capture::On { keep: true, .. } = self.capture
            && let Some(case) = self.case.as_mut()
        {
            case.text.push(text);
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
        if self.stats.counts.tests == 0 {
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

/// Where a failure happened: the case's own `file` when the report gives it, at the
/// innermost line of that file in the traceback (else the case's `line`); otherwise the
/// innermost frame of the traceback that is in the project (not an absolute path or an
/// installed package): in the file named like the case's class when there is one (a
/// JVM stack trace), else the last (Python) frame; else the case's `line` alone.
fn location(case: &Case) -> (Option<String>, Option<u32>) {
    let frames: Vec<(String, u32)> = case
        .text
        .text
        .lines()
        .filter_map(file_and_line)
        .filter(|(file, _)| {
            !file.starts_with('/') && !file.contains("site-packages") && !file.starts_with('<')
        })
        .collect();
    if let Some(own) = &case.file {
        let line = frames
            .iter()
            .rfind(|(file, _)| same_file(own, file))
            .map(|(_, line)| *line)
            .or(case.line);
        return (Some(own.clone()), line);
    }
    // A JVM trace lists the innermost frame first, and the test's class is its file.
    let class = case.classname.rsplit('.').next().unwrap_or_default();
    let of_class = frames.iter().find(|(file, _)| {
        !class.is_empty()
            && file
                .rsplit(['/', '\\'])
                .next()
                .and_then(|f| f.split('.').next())
                == Some(class)
    });
    match of_class.or(frames.last()) {
        Some((file, line)) => (Some(file.clone()), Some(*line)),
        None => (None, case.line),
    }
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

    fn counts(results: &Results) -> [u64; 7] {
        let t = &results.totals;
        [
            t.tests, t.passed, t.failed, t.errors, t.skipped, t.xfailed, t.flaky,
        ]
    }

    #[test]
    fn a_case_with_several_results_is_one_test_with_the_weightiest() {
        let results = read(
            r#"<testsuite><testcase name="e"><skipped/><failure message="f">tests/a.py:3: F</failure><error message="teardown">tests/a.py:9: E</error></testcase><testcase name="f"><skipped/><failure message="first">tests/a.py:4: one</failure><failure message="second">tests/a.py:7: two</failure></testcase><testcase name="s"><skipped/></testcase><testcase name="p"/></testsuite>"#,
        )
        .unwrap();
        assert_eq!(counts(&results), [4, 1, 1, 1, 1, 0, 0]);
        let [error, failure] = &results.failures[..] else {
            panic!("two failures: {:?}", results.failures);
        };
        // Message and line come from the same result: the one that decides the outcome.
        assert_eq!((error.message.as_str(), error.line), ("teardown", Some(9)));
        assert_eq!((failure.message.as_str(), failure.line), ("first", Some(4)));
        assert_eq!(results.reports[0].counts.passed, 1);
    }

    #[test]
    fn disabled_cases_are_skipped_and_the_parts_add_up() {
        let results = read(
            r#"<testsuites disabled="2"><testsuite disabled="2"><testcase name="a" status="disabled"/><testcase name="b" status="disabled"></testcase><testcase name="c" status="passed"/><testcase name="x"><skipped type="pytest.xfail"/></testcase></testsuite></testsuites>"#,
        )
        .unwrap();
        let [tests, passed, failed, errors, skipped, xfailed, _] = counts(&results);
        assert_eq!((skipped, xfailed, passed), (2, 1, 1));
        assert_eq!(tests, passed + failed + errors + skipped + xfailed);
    }

    #[test]
    fn times_with_a_decimal_comma_or_thousands_separators() {
        for (text, expected) in [
            ("1,5", 1.5),
            ("1.5", 1.5),
            ("1,234.5", 1234.5),
            (" 2 ", 2.0),
            ("-1", 0.0),
            ("NaN", 0.0),
            ("abc", 0.0),
        ] {
            let got = seconds(Some(text.to_owned()));
            assert!((got - expected).abs() < 1e-9, "{text}: {got}");
        }
    }

    #[test]
    fn tests_without_names_are_named_by_class_file_or_unnamed() {
        let results = read(
            r#"<testsuite><testcase classname="C"><failure/></testcase><testcase file="t/x.py"><failure/></testcase><testcase><failure/></testcase><testcase name="same" classname="same"><failure/></testcase></testsuite>"#,
        )
        .unwrap();
        let names: Vec<&str> = results.failures.iter().map(|f| f.test.as_str()).collect();
        assert_eq!(names, ["C", "t/x.py", "(unnamed)", "same"]);
    }

    #[test]
    fn the_cases_own_file_comes_before_the_traceback() {
        let results = read(
            r#"<testsuite name="pytest"><testcase name="t" file="tests/test_a.py" line="9"><failure message="m">src/helper.py:40: in f
tests/test_a.py:12: in test_t
src/helper.py:3: AssertionError</failure></testcase><testcase name="u" file="tests/test_b.py" line="4"><failure message="m">src/helper.py:3: boom</failure></testcase></testsuite>"#,
        )
        .unwrap();
        let at: Vec<_> = results
            .failures
            .iter()
            .map(|f| (f.file.as_deref().unwrap(), f.line))
            .collect();
        assert_eq!(
            at,
            [("tests/test_a.py", Some(12)), ("tests/test_b.py", Some(5))]
        );
    }

    #[test]
    fn huge_messages_and_texts_are_kept_cut_and_marked() {
        let huge = "x".repeat(3 * TEXT_KEPT);
        let results = read(&format!(
            r#"<testsuite><testcase name="t"><failure message="{huge}">{huge}</failure></testcase></testsuite>"#
        ))
        .unwrap();
        let failure = &results.failures[0];
        assert!(failure.message.len() < TEXT_KEPT + 100);
        assert!(
            failure.message.ends_with(&format!(
                "… [cut: {} more bytes in the report]",
                2 * TEXT_KEPT
            )),
            "{}",
            &failure.message[TEXT_KEPT - 10..]
        );
        assert!(failure.details.ends_with("more bytes in the report]"));
    }

    #[test]
    fn what_is_not_well_formed_is_refused_with_its_place() {
        for (xml, line, column) in [
            (
                "<testsuite>\n<testcase name=\"fish & chips\"/></testsuite>",
                2,
                32,
            ),
            (
                "<testsuite><testcase name=\"a\"/></testsuite>\ntrailing text",
                2,
                14,
            ),
            (
                "<testsuite><testcase name=\"a\"/></testsuite><testsuite/>",
                1,
                56,
            ),
            (
                "<testsuite><testcase name=\"a\">\0</testcase></testsuite>",
                1,
                32,
            ),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("r.xml");
            fs_err::write(&path, xml).unwrap();
            let error =
                read_report(&path, "r.xml", xml.as_bytes(), &mut Results::default()).unwrap_err();
            let JunitError::NotWellFormed {
                line: l, column: c, ..
            } = &error
            else {
                panic!("{xml:?}: {error}");
            };
            assert_eq!((*l, *c), (line, column), "{xml:?}: {error}");
            assert!(
                error
                    .to_string()
                    .starts_with("`r.xml` is not well-formed XML at line")
            );
        }
        // An unescaped `&` in text is quick-xml's own refusal.
        assert!(matches!(
            read("<testsuite><testcase name=\"a\"><failure>a & b</failure></testcase></testsuite>"),
            Err(JunitError::Malformed { .. })
        ));
    }

    #[test]
    fn utf16_and_latin1_reports_declared_in_the_prolog_are_read() {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<testsuite><testcase name=\"café\"><failure message=\"naïve\"/></testcase></testsuite>";
        let utf16: Vec<u8> = std::iter::once(0xFEFF_u16)
            .chain(text.encode_utf16())
            .flat_map(u16::to_le_bytes)
            .collect();
        let mut results = Results::default();
        read_report(Path::new("/nonexistent"), "r.xml", &utf16[..], &mut results).unwrap();
        assert_eq!(results.failures[0].test, "café");
        assert_eq!(results.failures[0].message, "naïve");

        let latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><testsuite><testcase name=\"caf\xe9\"/></testsuite>";
        let mut results = Results::default();
        read_report(
            Path::new("/nonexistent"),
            "r.xml",
            &latin1[..],
            &mut results,
        )
        .unwrap();
        assert_eq!(results.slowest()[0].test, "café");
    }

    #[test]
    fn text_and_json_are_not_xml_and_their_content_is_not_quoted() {
        for content in ["{\"secret\": \"hunter2\"}", "hunter2 plain text\n"] {
            let error = read(content).unwrap_err();
            assert!(matches!(error, JunitError::NotXml { .. }), "{error}");
            assert!(!error.to_string().contains("hunter2"), "{error}");
            assert!(!error.to_string().contains("empty"), "{error}");
        }
        assert_eq!(
            read("  \n").unwrap_err().to_string(),
            "`r.xml` is not a JUnit report: it holds no element (the file is empty)"
        );
    }

    #[test]
    fn pytest_reruns_count_once_with_the_last_attempt() {
        let results = read(
            r#"<testsuites name="pytest tests"><testsuite name="pytest"><testcase classname="t" name="flaky"/><testcase classname="t" name="fails"/><testcase classname="t" name="flaky"/><testcase classname="t" name="fails"><failure message="x"/></testcase></testsuite></testsuites>"#,
        )
        .unwrap();
        assert_eq!(counts(&results), [2, 1, 1, 0, 0, 0, 1]);
        assert_eq!(results.reports[0].counts.tests, 2);
        assert_eq!(results.failures.len(), 1);
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
