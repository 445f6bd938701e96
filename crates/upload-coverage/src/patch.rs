//! Patch coverage: of the lines changed since a git ref, how many that can be covered
//! are covered — what Codecov computes on its servers and diff-cover in Python, here
//! locally from `git diff`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde::Serialize;

use crate::model::{Changed, Coverage};

/// The changed lines of one file that coverage measures.
#[derive(Debug, Clone, Serialize)]
pub struct PatchFile {
    pub path: String,
    pub coverable: u64,
    pub covered: u64,
    pub uncovered_lines: Vec<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Patch {
    pub base: String,
    pub coverable: u64,
    pub covered: u64,
    pub files: Vec<PatchFile>,
}

impl Patch {
    /// 100 when the change touches no coverable line.
    pub fn percent(&self) -> f64 {
        if self.coverable == 0 {
            100.0
        } else {
            100.0 * self.covered as f64 / self.coverable as f64
        }
    }
}

/// Why the changed lines are unknown.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("cannot run git")]
    Spawn(#[source] std::io::Error),
    #[error("`{base}` is not a commit in this repository")]
    NotACommit { base: String },
    /// git's own message.
    #[error("{stderr}")]
    Git { stderr: String },
}

/// Lines added or changed since `base` (working tree against the ref), by path relative
/// to `dir`.
pub fn changed_lines(dir: &Path, base: &str) -> Result<Changed, DiffError> {
    let git = |args: &[&str]| -> Result<String, DiffError> {
        let output = Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .map_err(DiffError::Spawn)?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(DiffError::Git {
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            })
        }
    };
    git(&[
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{base}^{{commit}}"),
    ])
    .map_err(|_| DiffError::NotACommit {
        base: base.to_owned(),
    })?;
    // `--relative`: paths relative to `dir`, as coverage's are.
    let diff = git(&[
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--unified=0",
        "--relative",
        base,
        "--",
    ])?;
    Ok(parse_diff(&diff))
}

/// Added lines per file from a `--unified=0` diff.
pub fn parse_diff(diff: &str) -> Changed {
    let mut changed: Changed = BTreeMap::new();
    let mut file: Option<String> = None;
    for line in diff.lines() {
        if let Some(path) = line.strip_prefix("+++ ") {
            file = path
                .strip_prefix("b/")
                .map(str::to_owned)
                .filter(|_| path != "/dev/null");
        } else if let Some(hunk) = line.strip_prefix("@@ ")
            && let Some(file) = &file
        {
            // @@ -a,b +c,d @@
            let Some(added) = hunk.split_whitespace().find(|p| p.starts_with('+')) else {
                continue;
            };
            let added = &added[1..];
            let (start, count) = match added.split_once(',') {
                Some((start, count)) => (
                    start.parse::<u32>().unwrap_or(0),
                    count.parse::<u32>().unwrap_or(0),
                ),
                None => (added.parse::<u32>().unwrap_or(0), 1),
            };
            let lines = changed.entry(file.clone()).or_default();
            lines.extend(start..start + count);
        }
    }
    changed.retain(|_, lines| !lines.is_empty());
    changed
}

/// The patch's coverage.
pub fn measure(coverage: &Coverage, changed: &Changed, base: &str) -> Patch {
    let mut patch = Patch {
        base: base.to_owned(),
        coverable: 0,
        covered: 0,
        files: Vec::new(),
    };
    for (path, lines) in changed {
        let Some(file) = coverage.files.get(path) else {
            continue;
        };
        let coverable: BTreeSet<u32> = lines
            .iter()
            .copied()
            .filter(|l| file.lines.contains_key(l))
            .collect();
        if coverable.is_empty() {
            continue;
        }
        let uncovered: Vec<u32> = coverable
            .iter()
            .copied()
            .filter(|l| file.lines[l].hits == 0)
            .collect();
        let entry = PatchFile {
            path: path.clone(),
            coverable: coverable.len() as u64,
            covered: (coverable.len() - uncovered.len()) as u64,
            uncovered_lines: uncovered,
        };
        patch.coverable += entry.coverable;
        patch.covered += entry.covered;
        patch.files.push(entry);
    }
    patch
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_lines_from_a_zero_context_diff() {
        let diff = "diff --git a/calc/x.py b/calc/x.py\n--- a/calc/x.py\n+++ b/calc/x.py\n@@ -3,0 +4,2 @@ def f():\n+    a = 1\n+    b = 2\n@@ -10 +12 @@\n-old\n+new\ndiff --git a/gone.py b/gone.py\n--- a/gone.py\n+++ /dev/null\n@@ -1,3 +0,0 @@\n-x\n";
        let changed = parse_diff(diff);
        assert_eq!(changed.len(), 1);
        assert_eq!(
            changed["calc/x.py"].iter().copied().collect::<Vec<_>>(),
            vec![4, 5, 12]
        );
    }
}
