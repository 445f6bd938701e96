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
    /// A taken branch of a Cobertura line that names only its missing branches
    /// (coverage.py's `missing-branches`): its identity is "not one of those".
    Unnamed(u32),
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

    /// How the branches are known: by name (JSON, LCOV), by their missing names only
    /// (coverage.py's Cobertura), or by counts alone (other Cobertura writers).
    fn knowledge(&self) -> Knowledge {
        if self
            .0
            .iter()
            .any(|(id, _)| matches!(id, BranchId::Index(_)))
        {
            Knowledge::Counts
        } else if self
            .0
            .iter()
            .any(|(id, _)| matches!(id, BranchId::Unnamed(_)))
        {
            Knowledge::Missing
        } else {
            Knowledge::Named
        }
    }

    /// `total` branches of which those in `missing` were not taken: the taken ones
    /// stand unnamed.
    pub fn with_missing(total: u32, missing: impl IntoIterator<Item = BranchId>) -> Self {
        // Sized once: millions of lines may hold branches.
        let mut branches = Self(Vec::with_capacity(total.min(64) as usize));
        for id in missing {
            branches.mark(id, false);
        }
        let named = u32::try_from(branches.len()).unwrap_or(u32::MAX);
        for index in 0..total.saturating_sub(named) {
            branches.mark(BranchId::Unnamed(index), true);
        }
        branches
    }

    /// `total` branches of which `taken` were, nothing more known.
    pub fn counted(total: u32, taken: u32) -> Self {
        let mut branches = Self(Vec::with_capacity(total.min(64) as usize));
        for index in 0..total {
            branches.mark(BranchId::Index(index), index < taken);
        }
        branches
    }

    /// Adds another report's branches of the same line. Named branches unite exactly
    /// (taken anywhere is taken). When only the missing ones are named, a branch is
    /// missing when every report misses it: exact too. When one side gives counts
    /// alone, which branches each took is unknowable: the most taken is kept, a lower
    /// bound, and the merge says so (returns `false`).
    pub fn merge(&mut self, other: &Branches) -> bool {
        if other.is_empty() {
            return true;
        }
        if self.is_empty() {
            self.clone_from(other);
            return true;
        }
        match (self.knowledge(), other.knowledge()) {
            (Knowledge::Named, Knowledge::Named) => {
                for (id, taken) in other.iter() {
                    self.mark(id.clone(), *taken);
                }
                true
            }
            (Knowledge::Counts, _) | (_, Knowledge::Counts) => {
                let total = self.len().max(other.len());
                let (mine, theirs) = (self.taken(), other.taken());
                let exact = mine == 0 || theirs == 0 || mine == self.len() || theirs == other.len();
                *self = Self::counted(
                    u32::try_from(total).unwrap_or(u32::MAX),
                    u32::try_from(mine.max(theirs)).unwrap_or(u32::MAX),
                );
                exact
            }
            _ => {
                let total = self.len().max(other.len());
                let missing: Vec<BranchId> = self
                    .iter()
                    .filter(|(id, taken)| {
                        !taken && other.iter().any(|(theirs, t)| theirs == id && !t)
                    })
                    .map(|(id, _)| id.clone())
                    .collect();
                *self = Self::with_missing(u32::try_from(total).unwrap_or(u32::MAX), missing);
                true
            }
        }
    }
}

/// What a line's branches say about themselves (see [`Branches::merge`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Knowledge {
    Named,
    Missing,
    Counts,
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
    /// The report's own counts for this file where it carries them (coverage.py JSON's
    /// `summary`, LCOV's `LF`/`BRF`/`BRH`). They win over counting the lines: coverage.py
    /// before 7.0 lists non-statements among executed lines and leaves arcs out, and
    /// 7.x leaves out arcs it still counts. A merge cannot add them up (the lines
    /// overlap), so a merged file is counted from its lines.
    pub declared: Option<Numbers>,
}

/// A whole report, or several merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// By normalized path (forward slashes, relative to the project where known).
    pub files: BTreeMap<String, FileCoverage>,
    /// Whether branch coverage was measured (any report said so).
    pub branch: bool,
    /// Lines and files whose merge cannot be exact: branch lines of reports giving
    /// branch counts alone (Cobertura without `missing-branches`) that each took some of
    /// the line's branches (kept: the most taken, a lower bound), and files whose report
    /// counts more than its lines show (coverage.py before 7.0: JSON lists docstrings as
    /// run and 5.x no arcs; 6.x LCOV).
    pub inexact_merges: u64,
}

impl FileCoverage {
    /// Adds `other`'s measurements: hits add, a branch taken anywhere is taken. Returns
    /// how many lines' branches could only be merged as a lower bound.
    pub fn merge(&mut self, other: &FileCoverage) -> u64 {
        if self.lines.is_empty() && self.declared.is_none() {
            self.clone_from(other);
            return 0;
        }
        let mut uncertain = u64::from(self.overcounts() || other.overcounts());
        self.declared = None;
        for (number, line) in &other.lines {
            let mine = self.lines.entry(*number).or_default();
            mine.hits = mine.hits.saturating_add(line.hits);
            if !mine.branches.merge(&line.branches) {
                uncertain += 1;
            }
        }
        uncertain
    }

    /// Adds another class of the same file from the same report (Java inner classes):
    /// they share lines, so the most hits win; a branch taken anywhere is taken.
    pub fn overlay(&mut self, other: FileCoverage) {
        if self.lines.is_empty() {
            self.lines = other.lines;
            return;
        }
        for (number, line) in other.lines {
            let mine = self.lines.entry(number).or_default();
            mine.hits = mine.hits.max(line.hits);
            for (branch, taken) in line.branches.iter() {
                mine.branches.mark(branch.clone(), *taken);
            }
        }
    }

    /// Whether the report's own counts differ from what its lines show.
    fn overcounts(&self) -> bool {
        self.declared.is_some_and(|declared| {
            let counted = self.counted();
            (
                declared.statements,
                declared.missing,
                declared.branches,
                declared.missing_branches,
            ) != (
                counted.statements,
                counted.missing,
                counted.branches,
                counted.missing_branches,
            )
        })
    }

    /// The report's own counts where it gave them, else the lines counted.
    pub fn numbers(&self) -> Numbers {
        self.declared.unwrap_or_else(|| self.counted())
    }

    /// The lines counted as coverage.py counts: statements, the missing ones, branches,
    /// and partial branches (missing branches of lines that ran).
    pub fn counted(&self) -> Numbers {
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
        self.inexact_merges += other.inexact_merges;
        for (path, file) in &other.files {
            self.inexact_merges += self.files.entry(path.clone()).or_default().merge(file);
        }
    }

    /// Like [`Coverage::merge`], taking `other` by value: files only it has are moved,
    /// not copied, so one big report costs its size once.
    pub fn absorb(&mut self, other: Coverage) {
        self.branch |= other.branch;
        self.inexact_merges += other.inexact_merges;
        for (path, file) in other.files {
            match self.files.entry(path) {
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(file);
                }
                std::collections::btree_map::Entry::Occupied(mut slot) => {
                    self.inexact_merges += slot.get_mut().merge(&file);
                }
            }
        }
    }

    /// What identifies the run a report measured, whatever its format: the files, and
    /// in each the statements and which of them did not run. `coverage.xml` and
    /// `coverage.json` of one job have the same; counting both would add nothing to the
    /// lines and, where the formats name branches differently, count branches twice.
    pub fn run_fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.branch.hash(&mut hasher);
        for (path, file) in &self.files {
            path.hash(&mut hasher);
            file.numbers().statements.hash(&mut hasher);
            for (number, line) in &file.lines {
                if line.hits == 0 {
                    number.hash(&mut hasher);
                }
            }
        }
        hasher.finish()
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

/// coverage.py's `_fail_under_precision`: the display precision, or more when the
/// threshold has more decimals (`--fail-under 99.29` compares at two places).
pub fn fail_under_precision(threshold: f64, precision: usize) -> usize {
    if threshold.fract() == 0.0 {
        return precision;
    }
    // Python takes the decimals of `str(threshold)`, the shortest text that reads back
    // as the same float: Rust's `Display` writes that same shortest text.
    let text = threshold.to_string();
    let decimals = text.split_once('.').map_or(0, |(_, digits)| digits.len());
    precision.max(decimals)
}

/// coverage.py 7's `should_fail_under`: 100 must be exactly 100; otherwise the total,
/// rounded to [`fail_under_precision`] places, is compared.
pub fn fails_under(percent: f64, threshold: f64, precision: usize) -> bool {
    #[allow(clippy::float_cmp)] // coverage.py compares exactly: only a complete total is 100
    if threshold == 100.0 && percent != 100.0 {
        return true;
    }
    let places = fail_under_precision(threshold, precision);
    // Python's `round(x, n)` is the exact binary value rounded half to even, as Rust's
    // formatting rounds it; the text reads back as the same float Python returns.
    let rounded: f64 = format!("{percent:.places$}").parse().unwrap_or(percent);
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
        assert!(
            fails_under(99.285, 99.29, 0),
            "the threshold's two decimals, not precision 0"
        );
        assert!(!fails_under(99.286, 99.29, 0));
        assert_eq!(fail_under_precision(99.29, 0), 2);
        assert_eq!(fail_under_precision(80.0, 1), 1);
        assert_eq!(fail_under_precision(0.000_01, 2), 5);
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
