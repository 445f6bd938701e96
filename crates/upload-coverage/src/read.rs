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

use crate::model::{BranchId, Coverage, FileCoverage, Line, branch_id_to};

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
        path.trim_start_matches("./").to_owned()
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
    let mut events = Events::new(path, reader);
    let mut state = Cobertura::default();
    while let Some(event) = events.next_event().map_err(|error| ReadError::Malformed {
        path: shown.to_owned(),
        line: error.line,
        column: error.column,
        source: error.source,
    })? {
        match event {
            Event::Start(ref start) => state.start(start, false, shown)?,
            Event::Empty(ref start) => state.start(start, true, shown)?,
            Event::Text(ref text) if state.in_source => state.source(text),
            Event::End(ref end) => state.end(end.local_name().as_ref()),
            _ => {}
        }
    }
    state.finish(shown, rules)
}

/// What a Cobertura report holds so far, element by element.
#[derive(Default)]
struct Cobertura {
    coverage: Coverage,
    /// The `<source>` roots the class file names are relative to.
    sources: Vec<String>,
    in_source: bool,
    root_seen: bool,
    /// The `<class>` being read. Classes of the same file (Java inner classes) share
    /// lines: within one report the most hits win, across reports they add.
    current: Option<(String, FileCoverage)>,
    classes: Vec<(String, FileCoverage)>,
}

impl Cobertura {
    fn start(&mut self, start: &BytesStart<'_>, empty: bool, shown: &str) -> Result<(), ReadError> {
        let local = start.local_name();
        let name: &str = local.as_ref();
        if !self.root_seen {
            self.root(start, name, shown)?;
        }
        match name {
            "source" => self.in_source = !empty,
            "class" => {
                let filename = attribute(start, "filename").unwrap_or_default();
                self.current = Some((filename, FileCoverage::default()));
                if empty {
                    self.end_class();
                }
            }
            "line" => {
                if let Some((_, file)) = self.current.as_mut()
                    && line_element(start, file)
                {
                    self.coverage.branch = true;
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
            "class" => self.end_class(),
            _ => {}
        }
    }

    fn end_class(&mut self) {
        if let Some(done) = self.current.take() {
            self.classes.push(done);
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

/// Records one `<line>` in `file`; whether it has branches.
fn line_element(start: &BytesStart<'_>, file: &mut FileCoverage) -> bool {
    // One pass over the attributes, no allocation: this is the hot loop.
    let mut number: Option<u32> = None;
    let mut hits = 0u64;
    let mut is_branch = false;
    let mut condition: Option<(u32, u32)> = None;
    for attribute in start.attributes().flatten() {
        let value: &str = &attribute.value;
        match attribute.key.local_name().as_ref() {
            "number" => number = value.trim().parse().ok(),
            // Some writers put huge or fractional numbers here.
            "hits" => hits = value.trim().parse::<f64>().map_or(0, hit_count),
            "branch" => is_branch = value == "true",
            "condition-coverage" => condition = condition_coverage(value),
            _ => {}
        }
    }
    let Some(number) = number else {
        return false;
    };
    let entry = file.lines.entry(number).or_default();
    entry.hits = entry.hits.max(hits);
    let Some((covered, total)) = condition.filter(|_| is_branch) else {
        return false;
    };
    for index in 0..total {
        entry.branches.mark(BranchId::Index(index), index < covered);
    }
    true
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
    let numbers = |file: &serde_json::Value, key: &str| -> Vec<i64> {
        file.get(key)
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_i64)
            .collect()
    };
    for (path, file) in files {
        let mut result = FileCoverage::default();
        for line in numbers(file, "executed_lines") {
            result.lines.insert(
                u32::try_from(line).unwrap_or(0),
                Line {
                    hits: 1,
                    ..Line::default()
                },
            );
        }
        for line in numbers(file, "missing_lines") {
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
        coverage.files.insert(rules.normalize(path), result);
    }
    Ok(coverage)
}

fn lcov(reader: impl BufRead, shown: &str, rules: &PathRules) -> Result<Coverage, ReadError> {
    let mut coverage = Coverage::default();
    let mut current: Option<(String, FileCoverage)> = None;
    for (index, line) in reader.lines().enumerate() {
        let line = line.map_err(|source| ReadError::Read {
            path: shown.to_owned(),
            source,
        })?;
        let line = line.trim();
        let invalid = |reason: &str| ReadError::Invalid {
            path: shown.to_owned(),
            format: "LCOV",
            reason: format!("line {}: {reason}: `{line}`", index + 1),
        };
        if let Some(path) = line.strip_prefix("SF:") {
            current = Some((rules.normalize(path), FileCoverage::default()));
        } else if let Some(rest) = line.strip_prefix("DA:") {
            let (_, file) = current.as_mut().ok_or_else(|| invalid("DA before SF"))?;
            let mut parts = rest.split(',');
            let number: u32 = parts
                .next()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| invalid("bad line number"))?;
            let hits: u64 = parts
                .next()
                .and_then(|h| h.trim().parse::<f64>().ok())
                .map_or(0, hit_count);
            let entry = file.lines.entry(number).or_default();
            entry.hits = entry.hits.max(hits);
        } else if let Some(rest) = line.strip_prefix("BRDA:") {
            let (_, file) = current.as_mut().ok_or_else(|| invalid("BRDA before SF"))?;
            let mut parts = rest.splitn(4, ',');
            let number: u32 = parts
                .next()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| invalid("bad line number"))?;
            let block = parts.next().unwrap_or_default();
            let branch = parts.next().unwrap_or_default();
            let taken = parts
                .next()
                .is_some_and(|t| t != "-" && t.trim().parse::<f64>().is_ok_and(|n| n > 0.0));
            // coverage.py names branches "jump to line N": the same destination as its JSON.
            let id = match branch
                .strip_prefix("jump to line ")
                .and_then(|n| n.parse::<i64>().ok())
            {
                Some(to) => branch_id_to(to),
                None => BranchId::from(format!("{block}:{branch}")),
            };
            coverage.branch = true;
            let entry = file.lines.entry(number).or_default();
            entry.branches.mark(id, taken);
        } else if line == "end_of_record"
            && let Some((path, file)) = current.take()
        {
            coverage.files.entry(path).or_default().merge(&file);
        }
    }
    if let Some((path, file)) = current.take() {
        coverage.files.entry(path).or_default().merge(&file);
    }
    Ok(coverage)
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
    }

    #[test]
    fn condition_coverage_parses() {
        assert_eq!(condition_coverage("50% (1/2)"), Some((1, 2)));
        assert_eq!(condition_coverage("100% (4/4)"), Some((4, 4)));
        assert_eq!(condition_coverage("n/a"), None);
    }
}
