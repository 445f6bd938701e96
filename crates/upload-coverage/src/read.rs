//! Reading reports: Cobertura XML (coverage.py, pytest-cov and other tools), coverage.py
//! JSON and LCOV, told apart by their content, not their names. Paths are normalized
//! (Cobertura `<source>` roots, `--strip-prefix`, Windows separators) so the same file
//! from different runners merges.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use custody_xml::{Events, attribute};
use quick_xml::events::{BytesStart, Event};
use serde::Serialize;
use thiserror::Error;

use crate::model::{BranchId, Branches, Coverage, FileCoverage, Line, Numbers, branch_id_to};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Cobertura,
    CoveragePyJson,
    Lcov,
}

#[derive(Debug, Error)]
pub enum ReadError {
    #[error("cannot read `{path}`")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is not a coverage report this step reads (it starts with `{start}`)")]
    Unknown { path: String, start: String },
    #[error("`{path}` is not well-formed XML at line {line}, column {column}: {source}")]
    Malformed {
        path: String,
        line: u64,
        column: u64,
        #[source]
        source: quick_xml::Error,
    },
    #[error("`{path}` is not a valid {format} report: {reason}")]
    Invalid {
        path: String,
        format: &'static str,
        reason: String,
    },
    #[error("`{path}` is not a valid coverage.py JSON report: {source}")]
    Json {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("`{path}` covers no files")]
    Empty { path: String },
    #[error("`{path}` is coverage.py JSON format {found}; this step reads formats up to {known}")]
    JsonFormat {
        path: String,
        found: u64,
        known: u64,
    },
    #[error("`{path}` line {line}: `<line {attribute}=\"{value}\">` is not {expected}")]
    BadLine {
        path: String,
        line: u64,
        attribute: &'static str,
        value: String,
        expected: &'static str,
    },
}

impl custody_cli::Diagnose for ReadError {
    fn exit_status(&self) -> custody_output::ExitStatus {
        custody_output::ExitStatus::Input
    }

    fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::Read { .. } => return None,
            Self::Unknown { .. } => {
                "pass Cobertura XML (`coverage xml`, `pytest --cov-report=xml`), coverage.py JSON (`coverage json`) or LCOV (`coverage lcov`)"
            }
            Self::Malformed { .. } => "the report is damaged; write it again",
            Self::Invalid { .. } | Self::Json { .. } => "write it again with the tool that made it",
            Self::JsonFormat { .. } => {
                "write the report with a coverage.py this step knows (up to 7.x), or upgrade custody"
            }
            Self::BadLine { .. } => {
                "the report is damaged or not Cobertura; write it again with the tool that made it"
            }
            Self::Empty { .. } => {
                "the tests ran without measuring the code (check `--cov=PACKAGE` or `[tool.coverage.run] source`); an empty report is never 0 %"
            }
        };
        Some(hint.to_owned())
    }
}

/// How paths in reports become project paths.
#[derive(Debug, Clone, Default)]
pub struct PathRules {
    /// Prefixes removed from every path (after separators are normalized).
    pub strip_prefixes: Vec<String>,
    /// The project root, to make absolute paths relative.
    pub root: PathBuf,
}

impl PathRules {
    pub fn normalize(&self, path: &str) -> String {
        let mut path = path.replace('\\', "/");
        for prefix in &self.strip_prefixes {
            let prefix = prefix.replace('\\', "/");
            let prefix = prefix.trim_end_matches('/');
            if let Some(rest) = path.strip_prefix(prefix) {
                path = rest.trim_start_matches('/').to_owned();
            }
        }
        let root = self.root.to_string_lossy().replace('\\', "/");
        let root = root.trim_end_matches('/');
        if !root.is_empty()
            && let Some(rest) = path.strip_prefix(root)
            && rest.starts_with('/')
        {
            path = rest.trim_start_matches('/').to_owned();
        }
        lexical(path.trim_start_matches("./"))
    }
}

/// `a/./b/../c` as `a/c`, without asking the file system (the report may come from
/// another machine). A path that leaves its root keeps its leading `..`: it names a file
/// outside the project, counted under that name as `coverage report` lists it.
fn lexical(path: &str) -> String {
    if !path.contains("/.") && !path.starts_with('.') {
        return path.to_owned();
    }
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|last| *last != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

/// Detects the format from the first bytes.
pub fn detect(head: &str) -> Option<Format> {
    let trimmed = head.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('<') {
        return Some(Format::Cobertura);
    }
    if trimmed.starts_with('{') {
        return Some(Format::CoveragePyJson);
    }
    let first = trimmed.lines().next().unwrap_or_default();
    if ["TN:", "SF:"].iter().any(|p| first.starts_with(p)) {
        return Some(Format::Lcov);
    }
    None
}

/// Reads one report.
pub fn read(path: &Path, shown: &str, rules: &PathRules) -> Result<(Format, Coverage), ReadError> {
    let open = || {
        fs_err::File::open(path).map_err(|source| ReadError::Read {
            path: shown.to_owned(),
            source,
        })
    };
    let mut head_bytes = Vec::with_capacity(512);
    std::io::Read::read_to_end(&mut std::io::Read::take(open()?, 512), &mut head_bytes).map_err(
        |source| ReadError::Read {
            path: shown.to_owned(),
            source,
        },
    )?;
    let head = String::from_utf8_lossy(&head_bytes).into_owned();
    let format = detect(&head).ok_or_else(|| ReadError::Unknown {
        path: shown.to_owned(),
        start: head
            .trim()
            .lines()
            .next()
            .unwrap_or("(empty)")
            .chars()
            .take(40)
            .collect(),
    })?;
    // Streamed: a report is never held in memory whole.
    let reader = std::io::BufReader::with_capacity(256 * 1024, open()?);
    let coverage = match format {
        Format::Cobertura => cobertura(reader, path, shown, rules)?,
        Format::CoveragePyJson => coverage_json(reader, shown, rules)?,
        Format::Lcov => lcov(reader, shown, rules)?,
    };
    if coverage.files.is_empty() {
        return Err(ReadError::Empty {
            path: shown.to_owned(),
        });
    }
    Ok((format, coverage))
}

/// A hit count as a writer gives it (some write fractions or huge numbers): positive
/// means run.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // clamped to 0..=1e18 first
fn hit_count(hits: f64) -> u64 {
    if hits > 0.0 {
        hits.min(1e18).ceil() as u64
    } else {
        0
    }
}

/// `50% (1/2)` → (1, 2).
fn condition_coverage(text: &str) -> Option<(u32, u32)> {
    let inside = text.split_once('(')?.1.split_once(')')?.0;
    let (covered, total) = inside.split_once('/')?;
    Some((covered.trim().parse().ok()?, total.trim().parse().ok()?))
}

fn cobertura(
    reader: impl BufRead,
    path: &Path,
    shown: &str,
    rules: &PathRules,
) -> Result<Coverage, ReadError> {
    // Only `<source>` text is read, trimmed: the indentation is skipped.
    let mut events = Events::new(path, reader).skip_whitespace();
    let mut state = Cobertura::default();
    loop {
        let event = events.next_event().map_err(|error| ReadError::Malformed {
            path: shown.to_owned(),
            line: error.line,
            column: error.column,
            source: error.source,
        })?;
        let result = match event {
            None => break,
            Some(Event::Start(ref start)) => state.start(start, false, shown),
            Some(Event::Empty(ref start)) => state.start(start, true, shown),
            Some(Event::Text(ref text)) if state.in_source => {
                state.source(text);
                Ok(())
            }
            Some(Event::End(ref end)) => {
                state.end(end.local_name().as_ref());
                Ok(())
            }
            Some(_) => Ok(()),
        };
        // The position is found (the file read again) only for the error.
        result.map_err(|bad| bad.at(shown, events.line()))?;
    }
    state.finish(shown, rules)
}

/// A `<line>` attribute that is not what Cobertura says, before its place is known.
#[derive(Debug)]
enum Bad {
    Read(ReadError),
    Line {
        attribute: &'static str,
        value: String,
        expected: &'static str,
    },
}

impl Bad {
    fn at(self, shown: &str, line: u64) -> ReadError {
        match self {
            Self::Read(error) => error,
            Self::Line {
                attribute,
                value,
                expected,
            } => ReadError::BadLine {
                path: shown.to_owned(),
                line,
                attribute,
                value,
                expected,
            },
        }
    }
}

/// What a Cobertura report holds so far, element by element.
#[derive(Default)]
struct Cobertura {
    coverage: Coverage,
    /// The `<source>` roots the class file names are relative to.
    sources: Vec<String>,
    in_source: bool,
    root_seen: bool,
    /// Inside `<method>`: its `<line>`s repeat lines of the class (istanbul writes the
    /// function's declaration line there), so they are not counted again.
    method_depth: usize,
    /// The `<class>` being read. Classes of the same file (Java inner classes) share
    /// lines: within one report the most hits win, across reports they add.
    current: Option<(String, Vec<ClassLine>)>,
    classes: Vec<(String, FileCoverage)>,
}

impl Cobertura {
    fn start(&mut self, start: &BytesStart<'_>, empty: bool, shown: &str) -> Result<(), Bad> {
        let local = start.local_name();
        let name: &str = local.as_ref();
        if !self.root_seen {
            self.root(start, name, shown).map_err(Bad::Read)?;
        }
        match name {
            "source" => self.in_source = !empty,
            "class" => {
                let filename = attribute(start, "filename").unwrap_or_default();
                self.current = Some((filename, Vec::new()));
                if empty {
                    self.end_class();
                }
            }
            "method" if !empty => self.method_depth += 1,
            "line" if self.method_depth == 0 => {
                if let Some((_, lines)) = self.current.as_mut()
                    && let Some(line) = line_element(start)?
                {
                    self.coverage.branch |= line.branches.is_some();
                    lines.push(line);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The first element: it must be `<coverage>`, whose attributes say whether branches
    /// were measured.
    fn root(&mut self, start: &BytesStart<'_>, name: &str, shown: &str) -> Result<(), ReadError> {
        self.root_seen = true;
        if name != "coverage" {
            return Err(ReadError::Invalid {
                path: shown.to_owned(),
                format: "Cobertura",
                reason: format!("the root element is <{name}>, not <coverage>"),
            });
        }
        let branches_valid = attribute(start, "branches-valid")
            .and_then(|b| b.parse::<u64>().ok())
            .unwrap_or(0);
        self.coverage.branch = branches_valid > 0;
        Ok(())
    }

    fn source(&mut self, text: &str) {
        let text = text.trim();
        if !text.is_empty() {
            self.sources.push(text.to_owned());
        }
    }

    fn end(&mut self, name: &str) {
        match name {
            "source" => self.in_source = false,
            "method" => self.method_depth = self.method_depth.saturating_sub(1),
            "class" => self.end_class(),
            _ => {}
        }
    }

    fn end_class(&mut self) {
        if let Some((filename, lines)) = self.current.take() {
            self.classes.push((filename, class_lines(lines)));
        }
    }

    /// The classes under their project paths, once every `<source>` root is known.
    fn finish(mut self, shown: &str, rules: &PathRules) -> Result<Coverage, ReadError> {
        if !self.root_seen {
            return Err(ReadError::Unknown {
                path: shown.to_owned(),
                start: "(no element)".to_owned(),
            });
        }
        for (filename, file) in self.classes {
            let path = resolve_with_sources(&filename, &self.sources, rules);
            self.coverage.files.entry(path).or_default().overlay(file);
        }
        Ok(self.coverage)
    }
}

/// One `<line>` of a class as read, before the class is complete.
struct ClassLine {
    number: u32,
    hits: u64,
    /// `Some` when the line is a branch line with a `condition-coverage`.
    branches: Option<Branches>,
}

/// A class's lines as one file's: in line order (a bulk-built map, its nodes full),
/// a line given twice keeping the most hits and its last branches.
fn class_lines(mut lines: Vec<ClassLine>) -> FileCoverage {
    if !lines.is_sorted_by_key(|line| line.number) {
        lines.sort_by_key(|line| line.number);
    }
    lines.dedup_by(|later, kept| {
        if later.number != kept.number {
            return false;
        }
        kept.hits = kept.hits.max(later.hits);
        if later.branches.is_some() {
            kept.branches = later.branches.take();
        }
        true
    });
    FileCoverage {
        lines: lines
            .into_iter()
            .map(|line| {
                let branches = line.branches.unwrap_or_default();
                (
                    line.number,
                    Line {
                        hits: line.hits,
                        branches,
                    },
                )
            })
            .collect(),
        declared: None,
    }
}

/// Reads one `<line>`: `None` when it has no number.
fn line_element(start: &BytesStart<'_>) -> Result<Option<ClassLine>, Bad> {
    // One pass over the attributes, no allocation: this is the hot loop. The duplicate
    // check quick-xml makes allocates for every element; it is made here on the names
    // read instead, the first of a repeated attribute winning as before.
    let mut seen = 0u8;
    let mut number: Option<u32> = None;
    let mut hits = 0u64;
    let mut is_branch = false;
    let mut condition: Option<(u32, u32)> = None;
    let mut missing: Option<Vec<BranchId>> = None;
    let bad = |attribute, value: &str, expected| Bad::Line {
        attribute,
        value: value.chars().take(40).collect(),
        expected,
    };
    for attribute in start.attributes().with_checks(false).flatten() {
        let value: &str = &attribute.value;
        let (bit, name) = match attribute.key.local_name().as_ref() {
            "number" => (1, "number"),
            "hits" => (2, "hits"),
            "branch" => (4, "branch"),
            "condition-coverage" => (8, "condition-coverage"),
            "missing-branches" => (16, "missing-branches"),
            _ => continue,
        };
        if seen & bit != 0 {
            continue;
        }
        seen |= bit;
        match name {
            "number" => {
                number = Some(
                    value
                        .trim()
                        .parse()
                        .map_err(|_| bad("number", value, "a line number"))?,
                );
            }
            // Some writers put huge or fractional numbers here; never negative.
            "hits" => {
                hits =
                    line_hits(value).ok_or_else(|| bad("hits", value, "a count of 0 or more"))?;
            }
            "branch" => is_branch = value == "true",
            "condition-coverage" => condition = condition_coverage(value),
            _ => missing = Some(missing_branches(value)),
        }
    }
    let Some(number) = number else {
        return Ok(None);
    };
    let branches = condition
        .filter(|_| is_branch)
        .map(|(covered, total)| match missing {
            // coverage.py names the missing branches: merges can then be exact.
            Some(missing) if missing.len() as u64 == u64::from(total.saturating_sub(covered)) => {
                Branches::with_missing(total, missing)
            }
            _ => Branches::counted(total, covered),
        });
    Ok(Some(ClassLine {
        number,
        hits,
        branches,
    }))
}

/// A `<line hits>`: digits read directly (what every writer writes), else as a
/// number (some write fractions or huge numbers); `None` when negative or not a number.
fn line_hits(value: &str) -> Option<u64> {
    let trimmed = value.trim();
    if !trimmed.is_empty() && trimmed.len() <= 18 && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return trimmed.parse().ok();
    }
    trimmed
        .parse::<f64>()
        .ok()
        .filter(|h| *h >= 0.0)
        .map(hit_count)
}

/// coverage.py's `missing-branches="49,exit,exit"`: destination lines, `exit` for
/// leaving the code object (numbered when a line has several).
fn missing_branches(text: &str) -> Vec<BranchId> {
    let mut exits = 0;
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            if let Ok(to) = t.parse::<i64>() {
                BranchId::To(to)
            } else {
                exits += 1;
                BranchId::Name(format!("{t}#{exits}").into_boxed_str())
            }
        })
        .collect()
}

/// A Cobertura file name is relative to one of the `<source>` roots: prefer the root
/// under which the file exists, else keep the name as written.
fn resolve_with_sources(filename: &str, sources: &[String], rules: &PathRules) -> String {
    let normalized = filename.replace('\\', "/");
    if Path::new(&normalized).is_absolute() {
        return rules.normalize(&normalized);
    }
    for source in sources {
        let joined = format!(
            "{}/{normalized}",
            source.replace('\\', "/").trim_end_matches('/')
        );
        let candidate = rules.normalize(&joined);
        if rules.root.join(&candidate).is_file() && candidate != joined {
            return candidate;
        }
    }
    rules.normalize(&normalized)
}

/// The newest coverage.py JSON `meta.format` this reads (7.x writes 3; before 7.0 there
/// was none).
const JSON_FORMAT: u64 = 3;

fn coverage_json(
    reader: impl BufRead,
    shown: &str,
    rules: &PathRules,
) -> Result<Coverage, ReadError> {
    let value: serde_json::Value =
        serde_json::from_reader(reader).map_err(|source| ReadError::Json {
            path: shown.to_owned(),
            source,
        })?;
    if let Some(found) = value
        .pointer("/meta/format")
        .and_then(serde_json::Value::as_u64)
        && found > JSON_FORMAT
    {
        return Err(ReadError::JsonFormat {
            path: shown.to_owned(),
            found,
            known: JSON_FORMAT,
        });
    }
    let files = value
        .get("files")
        .and_then(|f| f.as_object())
        .ok_or_else(|| ReadError::Invalid {
            path: shown.to_owned(),
            format: "coverage.py JSON",
            reason: "it has no `files` object".to_owned(),
        })?;
    let mut coverage = Coverage {
        branch: value
            .pointer("/meta/branch_coverage")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false),
        ..Coverage::default()
    };
    for (path, file) in files {
        coverage
            .files
            .insert(rules.normalize(path), json_file(file));
    }
    Ok(coverage)
}

/// One file of a coverage.py JSON report: its lines and arcs, and its own `summary`.
fn json_file(file: &serde_json::Value) -> FileCoverage {
    let numbers = |key: &str| -> Vec<i64> {
        file.get(key)
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_i64)
            .collect()
    };
    let mut result = FileCoverage {
        declared: json_summary(file.get("summary")),
        ..FileCoverage::default()
    };
    for line in numbers("executed_lines") {
        result.lines.insert(
            u32::try_from(line).unwrap_or(0),
            Line {
                hits: 1,
                ..Line::default()
            },
        );
    }
    for line in numbers("missing_lines") {
        result
            .lines
            .entry(u32::try_from(line).unwrap_or(0))
            .or_default();
    }
    for (key, taken) in [("executed_branches", true), ("missing_branches", false)] {
        for arc in file
            .get(key)
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            let (Some(from), Some(to)) = (
                arc.get(0).and_then(serde_json::Value::as_i64),
                arc.get(1).and_then(serde_json::Value::as_i64),
            ) else {
                continue;
            };
            let line = result
                .lines
                .entry(u32::try_from(from).unwrap_or(0))
                .or_default();
            line.branches.mark(branch_id_to(to), taken);
        }
    }
    result
}

/// A file's `summary` as coverage.py counted it (every release since 5.0 writes one).
fn json_summary(summary: Option<&serde_json::Value>) -> Option<Numbers> {
    let summary = summary?;
    let count = |key: &str| summary.get(key).and_then(serde_json::Value::as_u64);
    Some(Numbers {
        files: 1,
        statements: count("num_statements")?,
        missing: count("missing_lines")?,
        branches: count("num_branches").unwrap_or(0),
        partial_branches: count("num_partial_branches").unwrap_or(0),
        missing_branches: count("missing_branches").unwrap_or(0),
    })
}

fn lcov(reader: impl BufRead, shown: &str, rules: &PathRules) -> Result<Coverage, ReadError> {
    let mut coverage = Coverage::default();
    let mut current: Option<LcovRecord> = None;
    for (index, line) in reader.lines().enumerate() {
        let line = line.map_err(|source| ReadError::Read {
            path: shown.to_owned(),
            source,
        })?;
        let line = line.trim();
        let invalid = |reason: &str| ReadError::Invalid {
            path: shown.to_owned(),
            format: "LCOV",
            reason: format!("line {}: {reason}: `{}`", index + 1, truncated(line)),
        };
        if let Some(path) = line.strip_prefix("SF:") {
            if current.is_some() {
                return Err(invalid("a new record starts before `end_of_record`"));
            }
            if path.trim().is_empty() {
                return Err(invalid("the record names no source file"));
            }
            current = Some(LcovRecord::new(rules.normalize(path.trim())));
        } else if line == "end_of_record" {
            let record = current
                .take()
                .ok_or_else(|| invalid("`end_of_record` outside a record"))?;
            let (path, file) = record.finish();
            coverage.files.entry(path).or_default().merge(&file);
        } else if let Some((key, value)) = line.split_once(':') {
            let Some(record) = current.as_mut() else {
                if ["DA", "BRDA", "LF", "LH", "BRF", "BRH"].contains(&key) {
                    return Err(invalid("data before `SF:`"));
                }
                continue;
            };
            if record.take(key, value).is_none() {
                return Err(invalid("not a valid value"));
            }
            coverage.branch |= key == "BRDA" || key == "BRF";
        }
    }
    if current.is_some() {
        return Err(ReadError::Invalid {
            path: shown.to_owned(),
            format: "LCOV",
            reason: "the last record has no `end_of_record` (is the file cut short?)".to_owned(),
        });
    }
    Ok(coverage)
}

fn truncated(text: &str) -> String {
    text.chars().take(80).collect()
}

/// One LCOV record (`SF:` to `end_of_record`) as read so far.
struct LcovRecord {
    path: String,
    file: FileCoverage,
    /// Branches by line: kept apart so a branch on a line without `DA:` adds no statement.
    branches: Vec<(u32, BranchId, bool)>,
    /// The record's own counts: `LF`, `BRF`, `BRH`.
    found: Option<u64>,
    branches_found: Option<u64>,
    branches_hit: Option<u64>,
}

impl LcovRecord {
    fn new(path: String) -> Self {
        Self {
            path,
            file: FileCoverage::default(),
            branches: Vec::new(),
            found: None,
            branches_found: None,
            branches_hit: None,
        }
    }

    /// Records one `KEY:value` line; `None` when the value is not valid.
    fn take(&mut self, key: &str, value: &str) -> Option<()> {
        let count = || value.trim().parse::<u64>().ok();
        match key {
            "DA" => {
                let mut parts = value.split(',');
                let number: u32 = parts.next()?.trim().parse().ok()?;
                let hits = parts.next()?.trim().parse::<f64>().ok().map(hit_count)?;
                // Line 0 is no line of the source (some writers put a file's header there).
                if number > 0 {
                    let entry = self.file.lines.entry(number).or_default();
                    entry.hits = entry.hits.max(hits);
                }
            }
            "BRDA" => {
                let mut parts = value.splitn(4, ',');
                let number: u32 = parts.next()?.trim().parse().ok()?;
                let block = parts.next()?;
                let branch = parts.next()?;
                let taken = parts.next()?.trim();
                let taken = taken != "-" && taken.parse::<f64>().ok()? > 0.0;
                // coverage.py names branches "jump to line N": its JSON's destination.
                let id = match branch
                    .strip_prefix("jump to line ")
                    .and_then(|n| n.parse::<i64>().ok())
                {
                    Some(to) => branch_id_to(to),
                    None => BranchId::from(format!("{block}:{branch}")),
                };
                if number > 0 {
                    self.branches.push((number, id, taken));
                }
            }
            "LF" => self.found = Some(count()?),
            "BRF" => self.branches_found = Some(count()?),
            "BRH" => self.branches_hit = Some(count()?),
            _ => {}
        }
        Some(())
    }

    /// The file, with the record's own counts where it gave `LF`.
    fn finish(mut self) -> (String, FileCoverage) {
        for (number, id, taken) in self.branches {
            if let Some(line) = self.file.lines.get_mut(&number) {
                line.branches.mark(id, taken);
            }
        }
        let counted = self.file.counted();
        // `LH` is not used: coverage.py 6.x counts non-statements in it; the statements
        // not run are the `DA:n,0` lines in every writer.
        self.file.declared = self.found.map(|statements| {
            let branches = self.branches_found.unwrap_or(counted.branches);
            let hit = self.branches_hit.unwrap_or(counted.covered_branches());
            Numbers {
                files: 1,
                statements,
                missing: counted.missing,
                branches,
                partial_branches: counted.partial_branches,
                missing_branches: branches.saturating_sub(hit),
            }
        });
        (self.path, self.file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_content() {
        assert_eq!(
            detect("<?xml version=\"1.0\" ?>\n<coverage"),
            Some(Format::Cobertura)
        );
        assert_eq!(detect("{\"meta\": {}}"), Some(Format::CoveragePyJson));
        assert_eq!(detect("TN:\nSF:a.py"), Some(Format::Lcov));
        assert_eq!(detect("SF:a.py\nDA:1,1"), Some(Format::Lcov));
        assert_eq!(detect("hello"), None);
    }

    #[test]
    fn paths_normalize_across_runners() {
        let rules = PathRules {
            strip_prefixes: vec!["D:\\a\\clkhash\\clkhash".into()],
            root: PathBuf::from("/home/runner/work/clkhash"),
        };
        assert_eq!(
            rules.normalize("D:\\a\\clkhash\\clkhash\\clkhash\\bloomfilter.py"),
            "clkhash/bloomfilter.py"
        );
        assert_eq!(
            rules.normalize("/home/runner/work/clkhash/clkhash/bloomfilter.py"),
            "clkhash/bloomfilter.py"
        );
        assert_eq!(
            rules.normalize("./clkhash/bloomfilter.py"),
            "clkhash/bloomfilter.py"
        );
        assert_eq!(
            rules.normalize("clkhash/../clkhash/./bloomfilter.py"),
            "clkhash/bloomfilter.py",
            "the same file however a runner spelled it"
        );
        assert_eq!(rules.normalize("../other/x.py"), "../other/x.py");
        assert_eq!(rules.normalize("/a/b/../../../c.py"), "/c.py");
    }

    #[test]
    fn condition_coverage_parses() {
        assert_eq!(condition_coverage("50% (1/2)"), Some((1, 2)));
        assert_eq!(condition_coverage("100% (4/4)"), Some((4, 4)));
        assert_eq!(condition_coverage("n/a"), None);
    }

    /// Reads `text` as a report file named `name`.
    fn read_text(name: &str, text: &str) -> Result<Coverage, ReadError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        fs_err::write(&path, text).unwrap();
        let rules = PathRules {
            strip_prefixes: Vec::new(),
            root: dir.path().to_owned(),
        };
        read(&path, name, &rules).map(|(_, coverage)| coverage)
    }

    #[test]
    fn lcov_records_must_be_whole() {
        let error = read_text(
            "a.lcov",
            "SF:a.py\nDA:1,1\nSF:b.py\nDA:1,0\nend_of_record\n",
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("line 3: a new record starts before `end_of_record`"),
            "{error}"
        );
        let error = read_text("a.lcov", "SF:\nDA:1,1\nend_of_record\n").unwrap_err();
        assert!(
            error.to_string().contains("names no source file"),
            "{error}"
        );
        let error = read_text("a.lcov", "SF:a.py\nDA:1,1\n").unwrap_err();
        assert!(error.to_string().contains("no `end_of_record`"), "{error}");
        let error = read_text("a.lcov", "SF:a.py\nDA:x,1\nend_of_record\n").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("`a.lcov` is not a valid LCOV report: line 2"),
            "{error}"
        );
    }

    #[test]
    fn lcov_line_zero_and_branch_only_lines_are_no_statements() {
        let coverage = read_text(
            "a.lcov",
            "SF:a.js\nDA:0,1\nDA:1,1\nDA:2,0\nBRDA:0,0,0,1\nBRDA:5,0,0,1\nBRDA:5,0,1,0\nBRDA:1,1,0,1\nBRDA:1,1,1,-\nend_of_record\n",
        )
        .unwrap();
        let numbers = coverage.files["a.js"].numbers();
        assert_eq!((numbers.statements, numbers.missing), (2, 1));
        assert_eq!((numbers.branches, numbers.missing_branches), (2, 1));
        // The record's own counts win where it gives them (branch-only lines included).
        let coverage = read_text(
            "a.lcov",
            "SF:a.js\nDA:1,1\nDA:2,0\nLF:2\nLH:1\nBRF:4\nBRH:3\nend_of_record\n",
        )
        .unwrap();
        let numbers = coverage.files["a.js"].numbers();
        assert_eq!(
            (
                numbers.statements,
                numbers.missing,
                numbers.branches,
                numbers.missing_branches
            ),
            (2, 1, 4, 1)
        );
    }

    #[test]
    fn cobertura_line_attributes_are_checked() {
        let report = |line: &str| {
            format!(
                "<?xml version=\"1.0\"?>\n<coverage branches-valid=\"0\">\n<packages><package><classes><class filename=\"a.py\"><lines>\n{line}\n</lines></class></classes></package></packages></coverage>\n"
            )
        };
        let error = read_text("c.xml", &report("<line number=\"abc\" hits=\"1\"/>")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`c.xml` line 4: `<line number=\"abc\">` is not a line number"
        );
        let error = read_text("c.xml", &report("<line number=\"3\" hits=\"-5\"/>")).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("`<line hits=\"-5\">` is not a count of 0 or more"),
            "{error}"
        );
        assert!(read_text("c.xml", &report("<line number=\"3\" hits=\"2.5\"/>")).is_ok());
    }

    #[test]
    fn cobertura_lines_out_of_order_repeated_or_in_two_classes() {
        let xml = "<?xml version=\"1.0\"?>\n<coverage branches-valid=\"1\"><packages><package><classes>\
            <class filename=\"a.py\"><lines>\
            <line number=\"9\" hits=\"0\"/><line number=\"2\" hits=\"4\"/>\
            <line number=\"9\" hits=\"3\" branch=\"true\" condition-coverage=\"50% (1/2)\"/>\
            <line number=\"2\" hits=\"0\"/>\
            <line number=\"5\" hits=\"0\" hits=\"7\" number=\"6\"/></lines></class>\
            <class filename=\"a.py\"><lines><line number=\"5\" hits=\"1\"/><line number=\"11\" hits=\"0\"/></lines></class>\
            </classes></package></packages></coverage>\n";
        let coverage = read_text("c.xml", xml).unwrap();
        let lines = &coverage.files["a.py"].lines;
        let hits: Vec<(u32, u64)> = lines.iter().map(|(n, line)| (*n, line.hits)).collect();
        // Most hits win; a repeated attribute's first value counts.
        assert_eq!(hits, [(2, 4), (5, 1), (9, 3), (11, 0)]);
        assert_eq!(
            (lines[&9].branches.len(), lines[&9].branches.taken()),
            (2, 1)
        );
        assert!(coverage.branch);
    }

    #[test]
    fn line_hits_as_written() {
        assert_eq!(line_hits("12"), Some(12));
        assert_eq!(line_hits(" 3 "), Some(3));
        assert_eq!(line_hits("2.5"), Some(3));
        assert_eq!(
            line_hits("123456789012345678901"),
            Some(1_000_000_000_000_000_000)
        );
        assert_eq!(line_hits("-1"), None);
        assert_eq!(line_hits("x"), None);
        assert_eq!(line_hits(""), None);
    }

    #[test]
    fn cobertura_method_lines_are_not_counted_again() {
        // istanbul lists each function's declaration line under <methods>.
        let xml = "<?xml version=\"1.0\"?>\n<coverage><packages><package><classes><class filename=\"a.js\"><methods><method name=\"f\"><lines><line number=\"1\" hits=\"1\"/></lines></method></methods><lines><line number=\"2\" hits=\"1\"/><line number=\"3\" hits=\"0\"/></lines></class></classes></package></packages></coverage>\n";
        let numbers = read_text("c.xml", xml).unwrap().files["a.js"].numbers();
        assert_eq!((numbers.statements, numbers.missing), (2, 1));
    }

    #[test]
    fn json_of_an_unknown_format_is_refused() {
        let error = read_text("c.json", "{\"meta\": {\"format\": 4}, \"files\": {}}").unwrap_err();
        assert_eq!(
            error.to_string(),
            "`c.json` is coverage.py JSON format 4; this step reads formats up to 3"
        );
        assert!(
            custody_cli::Diagnose::hint(&error)
                .unwrap()
                .contains("upgrade")
        );
    }

    #[test]
    fn json_summaries_win_over_lines() {
        // coverage.py 5.x: a docstring among the executed lines, no arcs.
        let json = "{\"meta\": {\"version\": \"5.5\", \"branch_coverage\": true}, \"files\": {\"a.py\": {\"executed_lines\": [1, 2, 3], \"missing_lines\": [4], \"summary\": {\"covered_lines\": 2, \"num_statements\": 3, \"missing_lines\": 1, \"num_branches\": 2, \"num_partial_branches\": 1, \"covered_branches\": 1, \"missing_branches\": 1}}}}";
        let coverage = read_text("c.json", json).unwrap();
        let numbers = coverage.totals();
        assert_eq!(
            (
                numbers.statements,
                numbers.missing,
                numbers.branches,
                numbers.missing_branches
            ),
            (3, 1, 2, 1)
        );
    }

    #[test]
    fn cobertura_missing_branches_merge_exactly() {
        let report = |missing: &str| {
            format!(
                "<?xml version=\"1.0\"?>\n<coverage branches-valid=\"2\"><packages><package><classes><class filename=\"a.py\"><lines><line number=\"1\" hits=\"1\" branch=\"true\" condition-coverage=\"50% (1/2)\"{missing}/></lines></class></classes></package></packages></coverage>\n"
            )
        };
        // Job A missed the jump to 5, job B the jump to 3: together both were taken.
        let mut merged = read_text("a.xml", &report(" missing-branches=\"5\"")).unwrap();
        merged.merge(&read_text("b.xml", &report(" missing-branches=\"3\"")).unwrap());
        assert_eq!(merged.totals().missing_branches, 0);
        assert_eq!(merged.inexact_merges, 0);
        // The same branch missed by both stays missed.
        let mut merged = read_text("a.xml", &report(" missing-branches=\"5\"")).unwrap();
        merged.merge(&read_text("b.xml", &report(" missing-branches=\"5\"")).unwrap());
        assert_eq!(
            (merged.totals().branches, merged.totals().missing_branches),
            (2, 1)
        );
        // Counts alone: which branch each took is unknowable; a lower bound, said so.
        let mut merged = read_text("a.xml", &report("")).unwrap();
        merged.merge(&read_text("b.xml", &report("")).unwrap());
        assert_eq!(
            (merged.totals().branches, merged.totals().missing_branches),
            (2, 1)
        );
        assert_eq!(merged.inexact_merges, 1);
    }
}
