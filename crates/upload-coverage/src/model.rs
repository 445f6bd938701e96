//! Coverage as data, whatever format it came in: per file, per line, hits and the
//! branches leaving that line; and coverage.py's arithmetic on it (`coverage/results.py`:
//! statements and branches counted together, the display precision, the rule that a
//! total is never shown as 0 or 100 unless it is exactly that, and `fail_under`
//! comparing the rounded figure).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// A branch's name: Cobertura's index on its line (`c0`), a destination line (`to:12`,
/// `to:-1` for an exit) as coverage.py's JSON and LCOV give them, or another writer's name.
/// Kept small and off the heap for the common cases: reports have millions of lines.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum BranchId {
    Index(u32),
    To(i64),
    Name(Box<str>),
}

impl From<String> for BranchId {
    fn from(text: String) -> Self {
        if let Some(index) = text.strip_prefix('c').and_then(|n| n.parse().ok()) {
            Self::Index(index)
        } else if let Some(to) = text.strip_prefix("to:").and_then(|n| n.parse().ok()) {
            Self::To(to)
        } else {
            Self::Name(text.into_boxed_str())
        }
    }
}

impl From<&str> for BranchId {
    fn from(text: &str) -> Self {
        Self::from(text.to_owned())
    }
}

/// The branches leaving one line and whether each was taken: a short sorted list (a
/// line has two or a few), allocated only for branch lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Branches(Vec<(BranchId, bool)>);

impl Branches {
    /// Records a branch; taken anywhere means taken.
    pub fn mark(&mut self, id: impl Into<BranchId>, taken: bool) {
        let id = id.into();
        match self.0.binary_search_by(|(existing, _)| existing.cmp(&id)) {
            Ok(position) => self.0[position].1 |= taken,
            Err(position) => self.0.insert(position, (id, taken)),
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn taken(&self) -> usize {
        self.0.iter().filter(|(_, taken)| *taken).count()
    }

    pub fn iter(&self) -> impl Iterator<Item = &(BranchId, bool)> {
        self.0.iter()
    }
}

impl<const N: usize> From<[(&str, bool); N]> for Branches {
    fn from(pairs: [(&str, bool); N]) -> Self {
        let mut branches = Self::default();
        for (id, taken) in pairs {
            branches.mark(id, taken);
        }
        branches
    }
}

/// One coverable line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Line {
    pub hits: u64,
    pub branches: Branches,
}

/// One source file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileCoverage {
    pub lines: BTreeMap<u32, Line>,
}

/// A whole report, or several merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// By normalized path (forward slashes, relative to the project where known).
    pub files: BTreeMap<String, FileCoverage>,
    /// Whether branch coverage was measured (any report said so).
    pub branch: bool,
}

impl FileCoverage {
    /// Adds `other`'s measurements: hits add, a branch taken anywhere is taken.
    pub fn merge(&mut self, other: &FileCoverage) {
        for (number, line) in &other.lines {
            let mine = self.lines.entry(*number).or_default();
            mine.hits = mine.hits.saturating_add(line.hits);
            for (branch, taken) in line.branches.iter() {
                mine.branches.mark(branch.clone(), *taken);
            }
        }
    }

    /// Adds another class of the same file from the same report (Java inner classes):
    /// they share lines, so the most hits win; a branch taken anywhere is taken.
    pub fn overlay(&mut self, other: FileCoverage) {
        for (number, line) in other.lines {
            let mine = self.lines.entry(number).or_default();
            mine.hits = mine.hits.max(line.hits);
            for (branch, taken) in line.branches.iter() {
                mine.branches.mark(branch.clone(), *taken);
            }
        }
    }

    pub fn numbers(&self) -> Numbers {
        let mut numbers = Numbers {
            files: 1,
            ..Numbers::default()
        };
        for line in self.lines.values() {
            numbers.statements += 1;
            if line.hits == 0 {
                numbers.missing += 1;
            }
            let total = line.branches.len() as u64;
            let taken = line.branches.taken() as u64;
            numbers.branches += total;
            numbers.missing_branches += total - taken;
            // coverage.py's "BrPart": missing branches of lines that did run.
            if line.hits > 0 {
                numbers.partial_branches += total - taken;
            }
        }
        numbers
    }

    /// Lines never run, for reports.
    pub fn missing_lines(&self) -> Vec<u32> {
        self.lines
            .iter()
            .filter(|(_, l)| l.hits == 0)
            .map(|(n, _)| *n)
            .collect()
    }
}

impl Coverage {
    /// Adds another report (a matrix job): per file and line, hits add.
    pub fn merge(&mut self, other: &Coverage) {
        self.branch |= other.branch;
        for (path, file) in &other.files {
            self.files.entry(path.clone()).or_default().merge(file);
        }
    }

    /// Like [`Coverage::merge`], taking `other` by value: files only it has are moved,
    /// not copied, so one big report costs its size once.
    pub fn absorb(&mut self, other: Coverage) {
        self.branch |= other.branch;
        for (path, file) in other.files {
            match self.files.entry(path) {
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(file);
                }
                std::collections::btree_map::Entry::Occupied(mut slot) => {
                    slot.get_mut().merge(&file);
                }
            }
        }
    }

    pub fn totals(&self) -> Numbers {
        let mut total = Numbers::default();
        for file in self.files.values() {
            total.add(&file.numbers());
        }
        total
    }
}

/// coverage.py's `Numbers`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Numbers {
    pub files: u64,
    pub statements: u64,
    pub missing: u64,
    pub branches: u64,
    pub partial_branches: u64,
    pub missing_branches: u64,
}

impl Numbers {
    pub fn add(&mut self, other: &Numbers) {
        self.files += other.files;
        self.statements += other.statements;
        self.missing += other.missing;
        self.branches += other.branches;
        self.partial_branches += other.partial_branches;
        self.missing_branches += other.missing_branches;
    }

    pub fn covered_statements(&self) -> u64 {
        self.statements - self.missing
    }

    pub fn covered_branches(&self) -> u64 {
        self.branches - self.missing_branches
    }

    /// `pc_covered`: (executed statements + executed branches) / (statements + branches),
    /// 100 when there is nothing to cover.
    pub fn percent(&self) -> f64 {
        let numerator = self.covered_statements() + self.covered_branches();
        let denominator = self.statements + self.branches;
        if denominator == 0 {
            100.0
        } else {
            100.0 * numerator as f64 / denominator as f64
        }
    }

    /// `pc_covered_str`: the figure `coverage report` prints.
    pub fn display(&self, precision: usize) -> String {
        display_covered(self.percent(), precision)
    }
}

/// coverage.py's `display_covered`: round half to even at `precision` digits, except
/// that a total above 0 never shows as 0 and a total below 100 never shows as 100.
pub fn display_covered(percent: f64, precision: usize) -> String {
    let near0 = 1.0 / 10f64.powi(i32::try_from(precision).unwrap_or(i32::MAX));
    let shown = if 0.0 < percent && percent < near0 {
        near0
    } else if (100.0 - near0) < percent && percent < 100.0 {
        100.0 - near0
    } else {
        percent
    };
    // Rust formats the exact binary value with ties to even, as Python's round and
    // "%.*f" do.
    format!("{shown:.precision$}")
}

/// coverage.py's `should_fail_under`: 100 must be exactly 100; otherwise the total
/// rounded to the display precision is compared.
pub fn fails_under(percent: f64, threshold: f64, precision: usize) -> bool {
    if (threshold - 100.0).abs() < f64::EPSILON {
        // coverage.py compares exactly: only a complete total is 100.
        return percent < 100.0;
    }
    let rounded: f64 = format!("{percent:.precision$}").parse().unwrap_or(percent);
    rounded < threshold
}

/// A branch by its destination line (negative: an exit).
pub fn branch_id_to(to: i64) -> BranchId {
    BranchId::To(to)
}

/// Consecutive lines as (first, last) ranges: for annotations, and for the missing
/// lines of reports.
pub fn line_ranges(lines: &[u32]) -> Vec<(u32, u32)> {
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for &line in lines {
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == line => *end = line,
            _ => ranges.push((line, line)),
        }
    }
    ranges
}

/// A set of changed lines per file, for patch coverage.
pub type Changed = BTreeMap<String, BTreeSet<u32>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_py_display_rules() {
        assert_eq!(
            display_covered(12.5, 0),
            "12",
            "ties round to even, as Python does"
        );
        assert_eq!(display_covered(87.5, 0), "88");
        assert_eq!(display_covered(99.6, 0), "99", "never 100 unless complete");
        assert_eq!(display_covered(0.2, 0), "1", "never 0 unless nothing ran");
        assert_eq!(display_covered(100.0, 0), "100");
        assert_eq!(display_covered(0.0, 0), "0");
        assert_eq!(display_covered(66.666_666, 2), "66.67");
        assert_eq!(display_covered(99.999, 2), "99.99");
    }

    #[test]
    fn ranges_of_consecutive_lines() {
        assert_eq!(
            line_ranges(&[1, 2, 3, 7, 9, 10]),
            vec![(1, 3), (7, 7), (9, 10)]
        );
        assert_eq!(line_ranges(&[]), vec![]);
    }

    #[test]
    fn fail_under_compares_the_rounded_figure() {
        assert!(!fails_under(79.6, 80.0, 0), "shown as 80, passes 80");
        assert!(fails_under(79.4, 80.0, 0));
        assert!(fails_under(99.9, 100.0, 0), "100 means complete");
        assert!(!fails_under(100.0, 100.0, 0));
        assert!(fails_under(79.6, 80.0, 1), "79.6 < 80 at one digit");
    }

    #[test]
    fn statements_and_branches_count_together() {
        let mut file = FileCoverage::default();
        file.lines.insert(
            1,
            Line {
                hits: 1,
                branches: [("to:2", true), ("to:3", false)].into(),
            },
        );
        file.lines.insert(
            2,
            Line {
                hits: 1,
                ..Line::default()
            },
        );
        file.lines.insert(
            3,
            Line {
                hits: 0,
                ..Line::default()
            },
        );
        let numbers = file.numbers();
        assert_eq!(
            (
                numbers.statements,
                numbers.missing,
                numbers.branches,
                numbers.partial_branches
            ),
            (3, 1, 2, 1)
        );
        // (2 + 1) / (3 + 2)
        assert!((numbers.percent() - 60.0).abs() < 1e-9);
    }

    #[test]
    fn merging_adds_hits_and_unions_branches() {
        let mut a = FileCoverage::default();
        a.lines.insert(
            1,
            Line {
                hits: 2,
                branches: [("to:2", true), ("to:3", false)].into(),
            },
        );
        let mut b = FileCoverage::default();
        b.lines.insert(
            1,
            Line {
                hits: 3,
                branches: [("to:2", false), ("to:3", true)].into(),
            },
        );
        b.lines.insert(
            5,
            Line {
                hits: 0,
                ..Line::default()
            },
        );
        a.merge(&b);
        assert_eq!(a.lines[&1].hits, 5);
        assert_eq!(a.lines[&1].branches.taken(), 2);
        assert_eq!(a.numbers().statements, 2);
    }
}
