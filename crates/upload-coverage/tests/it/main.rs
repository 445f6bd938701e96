//! `upload-coverage` as a real binary on reports written by a real coverage.py run of
//! a fixture project (in all three formats, with and without branches), checked
//! against what `coverage report` and `coverage combine` print.

mod codecov;
mod field;
mod inputs;
mod other_tools;
mod patch;
mod selection;
mod tokenless;
mod totals;

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
pub(crate) use custody_test_support::{json_of, stderr_of, stdout_of};

pub(crate) fn cmd(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("upload-coverage").unwrap();
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1");
    command
}

/// The fixture project, copied into `dir`.
pub(crate) fn project(dir: &Path) -> PathBuf {
    let project = dir.join("project");
    custody_test_support::copy_dir(
        &custody_test_support::workspace_root().join("tests/fixtures/upload-coverage/project"),
        &project,
    );
    project
}

/// Runs `python -m coverage ARGS` in `project` with data file `data`; returns stdout.
pub(crate) fn coverage(project: &Path, data: &str, args: &[&str]) -> String {
    let output = Process::new(custody_test_support::python())
        .args(["-m", "coverage"])
        .args(args)
        .env("COVERAGE_FILE", project.join(data))
        .current_dir(project)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "coverage {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Measures `tests` (with or without branches) into data file `data` and exports the
/// three formats as `{stem}.xml`, `{stem}.json`, `{stem}.lcov`.
pub(crate) fn measure(project: &Path, data: &str, branch: bool, tests: &[&str], stem: &str) {
    let mut run = vec!["run"];
    if branch {
        run.push("--branch");
    }
    run.extend([
        "--source=calc",
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
    ]);
    run.extend(tests);
    coverage(project, data, &run);
    coverage(project, data, &["xml", "-q", "-o", &format!("{stem}.xml")]);
    coverage(
        project,
        data,
        &["json", "-q", "-o", &format!("{stem}.json")],
    );
    coverage(
        project,
        data,
        &["lcov", "-q", "-o", &format!("{stem}.lcov")],
    );
}

/// The TOTAL line of `coverage report`: (statements, missing, branches, partial, cover).
pub(crate) fn total_line(report: &str) -> (u64, u64, Option<(u64, u64)>, String) {
    let line = report
        .lines()
        .find(|l| l.starts_with("TOTAL"))
        .expect("a TOTAL line");
    let fields: Vec<&str> = line.split_whitespace().collect();
    let n = |i: usize| fields[i].parse::<u64>().unwrap();
    let cover = fields.last().unwrap().trim_end_matches('%').to_owned();
    if fields.len() == 6 {
        (n(1), n(2), Some((n(3), n(4))), cover)
    } else {
        (n(1), n(2), None, cover)
    }
}
