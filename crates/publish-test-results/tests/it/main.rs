//! `publish-test-results` run as a real binary on reports written by a real pytest run
//! of the fixture project (every outcome pytest has), and on hand-made reports of the
//! other runners; every number is checked.

mod conformance;
mod inputs;
mod pytest;
mod runners;

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
pub(crate) use custody_test_support::{json_of, stderr_of, stdout_of};

pub(crate) fn cmd(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("publish-test-results").unwrap();
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1");
    command
}

pub(crate) fn fixture(name: &str) -> PathBuf {
    custody_test_support::workspace_root()
        .join("tests/fixtures/publish-test-results")
        .join(name)
}

/// Runs pytest on the fixture project with `junit_family` into `dir/name`; returns the
/// report and pytest's own summary line (`4 failed, 2 passed, ...`).
pub(crate) fn pytest_report(dir: &Path, family: &str, name: &str) -> (PathBuf, String) {
    let project = dir.join("project");
    if !project.exists() {
        custody_test_support::copy_dir(&fixture("project"), &project);
    }
    let report = dir.join(name);
    let output = Process::new(custody_test_support::python())
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-o"])
        .arg(format!("junit_family={family}"))
        .arg(format!("--junitxml={}", report.display()))
        .arg("tests")
        .current_dir(&project)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let summary = stdout
        .lines()
        .rev()
        .find(|l| l.contains(" in ") && l.contains("passed"))
        .unwrap_or_else(|| panic!("pytest printed no summary:\n{stdout}"))
        .to_owned();
    assert!(report.is_file(), "pytest wrote no report:\n{stdout}");
    (report, summary)
}

/// The count pytest's summary gives for `word` (`failed`, `passed`, `error`...), or 0.
pub(crate) fn pytest_count(summary: &str, word: &str) -> u64 {
    summary
        .split(',')
        .map(str::trim)
        .find_map(|part| {
            let mut words = part.split_whitespace();
            let count = words.next()?.parse().ok()?;
            (words.next()? == word).then_some(count)
        })
        .unwrap_or(0)
}

/// The totals of a `--json` result as (tests, passed, failed, errors, skipped, xfailed, flaky).
pub(crate) fn totals(value: &serde_json::Value) -> (u64, u64, u64, u64, u64, u64, u64) {
    let t = &value["totals"];
    let n = |k: &str| t[k].as_u64().unwrap();
    (
        n("tests"),
        n("passed"),
        n("failed"),
        n("errors"),
        n("skipped"),
        n("xfailed"),
        n("flaky"),
    )
}
