//! `approve-gate` as a real binary: the prompt through a real pseudo-terminal, decision
//! files dropped while it waits, the GitHub issue flow against a local server that
//! implements the REST endpoints used, timeouts, and the approval → publish binding.

mod ci_gate;
mod github;
mod local;
mod signed;
mod signed_manifest;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use custody_ci::CiContext;
use custody_dist::{Limits, inspect};
use custody_manifest::{Artifact, Job, Manifest};
use custody_output::NoProgress;
pub(crate) use custody_test_support::{stderr_of, stdout_of};

pub(crate) fn cmd(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("approve-gate").unwrap();
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("CUSTODY_HTTP_BACKOFF_MS", "1");
    command
}

/// approve-gate recording its decision on the sample release (`release/release.json`)
/// in `approval.json`.
pub(crate) fn record_approval(dir: &Path) -> Command {
    let mut command = cmd(dir);
    command.args([
        "--manifest",
        "release/release.json",
        "--out",
        "approval.json",
    ]);
    command
}

/// The sample release (wheel + sdist) staged in `dir/release` with its manifest, built
/// by a (recorded) Azure job.
pub(crate) fn release(dir: &Path) -> (PathBuf, Manifest) {
    let release = dir.join("release");
    fs_err::create_dir_all(&release).unwrap();
    let mut artifacts = Vec::new();
    let context = CiContext {
        provider: custody_ci::Provider::AzurePipelines,
        commit: Some("4f2a9c1d0e".into()),
        build_url: Some("https://dev.azure.com/data61/Anonlink/_build/results?buildId=1234".into()),
        ..CiContext::default()
    };
    let job = Job::new(
        [("python".to_owned(), "3.7".to_owned())]
            .into_iter()
            .collect(),
        context,
    );
    for source in [
        custody_test_support::sample_wheel(),
        custody_test_support::sample_sdist(),
    ] {
        let target = release.join(source.file_name().unwrap());
        fs_err::copy(&source, &target).unwrap();
        let inspection = inspect(&target, &Limits::default(), &NoProgress).unwrap();
        artifacts.push(Artifact::from_inspection(&inspection, &job.id));
    }
    let manifest = Manifest::new("test", vec![job], artifacts, None);
    let path = release.join("release.json");
    manifest.write(&path).unwrap();
    (path, manifest)
}

pub(crate) fn record(path: &Path) -> serde_json::Value {
    serde_json::from_str(&fs_err::read_to_string(path).unwrap()).unwrap()
}
