//! `publish-pypi` run as a real binary against a real pypiserver (and, for faults and
//! trusted publishing, a scripted local server), then `pip install` of what it uploaded.

mod attestations;
mod check;
mod faults;
mod indexes;
mod layout;
mod limits;
mod redirects;
mod secrets;
mod signatures;
mod signed_approval;
mod signed_manifest;
mod trusted;
mod upload;
mod warehouse;
mod wire;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use custody_ci::CiContext;
use custody_dist::{Limits, inspect};
use custody_manifest::{Artifact, Job, Manifest};
use custody_output::NoProgress;
pub(crate) use custody_test_support::{json_of, stderr_of, stdout_of};

/// The binary with a clean environment (no CI variables or credentials from the machine),
/// fast retries, no colour.
pub(crate) fn cmd(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("publish-pypi").unwrap();
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("CUSTODY_HTTP_BACKOFF_MS", "1")
        .env("CUSTODY_HTTP_TIMEOUT", "20");
    command
}

/// Copies the sample project's wheel and sdist (built by the test setup) into `dir`.
pub(crate) fn sample_release(dir: &Path) -> Vec<PathBuf> {
    fs_err::create_dir_all(dir).unwrap();
    [
        custody_test_support::sample_wheel(),
        custody_test_support::sample_sdist(),
    ]
    .iter()
    .map(|source| {
        let target = dir.join(source.file_name().unwrap());
        fs_err::copy(source, &target).unwrap();
        target
    })
    .collect()
}

/// Writes a manifest of `files` (as `collect-artifacts` would) next to them.
pub(crate) fn manifest_of(files: &[PathBuf], path: &Path) -> Manifest {
    let job = Job::new(
        [("python".to_owned(), "3.7".to_owned())]
            .into_iter()
            .collect(),
        CiContext::default(),
    );
    let artifacts: Vec<Artifact> = files
        .iter()
        .map(|file| {
            let inspection = inspect(file, &Limits::default(), &NoProgress).unwrap();
            assert!(
                inspection.is_ok(),
                "{}: {:?}",
                file.display(),
                inspection.problems
            );
            Artifact::from_inspection(&inspection, &job.id)
        })
        .collect();
    let manifest = Manifest::new("test", vec![job], artifacts, None);
    manifest.write(path).unwrap();
    manifest
}

/// Statuses of the `files` of a `--json` result, by file name.
pub(crate) fn statuses(value: &serde_json::Value) -> Vec<(String, String)> {
    value["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file_name"].as_str().unwrap().to_owned(),
                f["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Everything the process wrote, for "the secret never appears" checks.
pub(crate) fn all_output(output: &std::process::Output) -> String {
    format!("{}{}", stdout_of(output), stderr_of(output))
}
