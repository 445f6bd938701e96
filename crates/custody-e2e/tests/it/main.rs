//! The pipelines as users compose them: the build and release pipelines in shell under
//! simulated Azure and GitHub runners (checked by what the CI would see: `##vso` lines,
//! `$GITHUB_OUTPUT`, summaries) against a real pypiserver and a Codecov that speaks the
//! protocol; `action.yml` through a composite-action runner; `scripts/install.sh`
//! against release assets served on 127.0.0.1.

mod action;
mod ci_yaml;
mod install;
mod pipeline;
mod self_release;
mod shape;
mod shells;
mod source;
mod source_dir;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where `cargo test --workspace` built the six step binaries.
pub(crate) fn bin_dir() -> PathBuf {
    let dir = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_owned();
    for step in STEPS {
        assert!(
            dir.join(step).exists(),
            "{} is missing: run the tests with `cargo test --workspace`",
            dir.join(step).display()
        );
    }
    dir
}

pub(crate) const STEPS: [&str; 6] = [
    "collect-artifacts",
    "publish-test-results",
    "upload-coverage",
    "tag-build",
    "approve-gate",
    "publish-pypi",
];

pub(crate) fn script(name: &str) -> PathBuf {
    custody_test_support::workspace_root()
        .join("scripts")
        .join(name)
}

/// What a command did.
#[derive(Debug)]
pub(crate) struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    pub(crate) fn both(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Panics with everything the command printed unless it exited with `code`.
    pub(crate) fn expect(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs `program` in `dir` with only `env` (plus `PATH`, `HOME` and `NO_COLOR`): nothing from
/// the machine running the tests leaks into the simulated CI.
pub(crate) fn run(
    program: &Path,
    args: &[&str],
    dir: &Path,
    env: &BTreeMap<String, String>,
) -> Ran {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("NO_COLOR", "1")
        .envs(env)
        .output()
        .unwrap();
    Ran {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "user.name=ci", "-c", "user.email=ci@example.org"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// The sample project checked out at a commit tagged `v0.18.3`; returns the commit.
pub(crate) fn tagged_checkout(dir: &Path) -> String {
    custody_test_support::copy_dir(
        &custody_test_support::workspace_root().join("tests/fixtures/sample-project"),
        dir,
    );
    git(dir, &["init", "--quiet", "--initial-branch=main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "--quiet", "-m", "custody-sample 0.18.3"]);
    git(dir, &["tag", "v0.18.3"]);
    git(dir, &["rev-parse", "HEAD"])
}

pub(crate) fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

pub(crate) fn read(path: &Path) -> String {
    fs_err::read_to_string(path).unwrap()
}

pub(crate) fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&read(path)).unwrap()
}
