//! What the tests of `--approval-signed-by` and `--manifest-signed-by` share: the release
//! workflow's identity, the error and hint publish-pypi prints when it refuses, and the
//! scene (a local Sigstore, a pypiserver, a directory) where a file is signed beside
//! itself by that workflow's job and the staged release is published.

use std::path::Path;

use assert_cmd::Command;
use custody_attest::sign::{IdentityToken, Services, sign_blob};
use custody_test_support::PypiServer;
use custody_test_support::sigstore::{Claims, Expected, SigstoreStack};
use tempfile::TempDir;

use crate::{cmd, stderr_of};

pub(crate) const WORKFLOW: &str = "github:octo/sample/.github/workflows/release.yml";
pub(crate) const SAN: &str =
    "https://github.com/octo/sample/.github/workflows/release.yml@refs/tags/v0.18.3";

pub(crate) fn github_claims() -> Claims {
    Claims::github("octo/sample", "release.yml", "refs/tags/v0.18.3")
}

/// The first line of stderr (the error), and the `hint:` line.
pub(crate) fn error_and_hint(output: &std::process::Output) -> (String, String) {
    let stderr = stderr_of(output);
    let first = stderr.lines().next().unwrap_or_default().to_owned();
    let hint = stderr
        .lines()
        .find(|line| line.trim_start().starts_with("hint:"))
        .unwrap_or_default()
        .to_owned();
    (first, hint)
}

/// What each test here starts from: a local Sigstore, a real pypiserver, and the
/// temporary directory a release is staged in.
pub(crate) struct Scene {
    pub(crate) stack: SigstoreStack,
    pub(crate) server: PypiServer,
    dir: TempDir,
}

impl Scene {
    pub(crate) fn start() -> Self {
        Self {
            stack: SigstoreStack::start(),
            server: PypiServer::start(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Signs `relative` (in the directory) as approve-gate and collect-artifacts do
    /// (sigstore-rust's signer) with the identity a GitHub job running the release
    /// workflow gets from the stack, writing `FILE.sigstore.json`; sigstore-python must
    /// accept the bundle for that workflow before publish-pypi is asked about it.
    pub(crate) fn sign(&self, relative: &str) {
        let services = Services::new(self.stack.fulcio_url(), self.stack.rekor_url());
        self.stack.sign_beside(
            &github_claims(),
            &self.path().join(relative),
            Expected::GitHub("octo/sample", "release.yml"),
            |token, data| sign_blob(&services, &IdentityToken::new(token).unwrap(), data).unwrap(),
        );
    }

    /// publish-pypi of the release staged in `release/` (its manifest
    /// `release/release.json`) to the server, with its credentials.
    pub(crate) fn publish_command(&self) -> Command {
        let mut command = cmd(self.path());
        command
            .args(["--manifest", "release/release.json"])
            .args(["--repository-url", &self.server.url()])
            .env("PYPI_LOGIN", &self.server.username)
            .env("PYPI_PASSWORD", &self.server.password);
        command
    }

    /// [`Scene::publish_command`] trusting the stack's root, with `args` added, run.
    pub(crate) fn publish(&self, args: &[&str]) -> std::process::Output {
        self.publish_command()
            .arg("--sigstore-trust-root")
            .arg(self.stack.trust_root_path())
            .args(args)
            .output()
            .unwrap()
    }

    /// How many files the index holds.
    pub(crate) fn uploaded(&self) -> usize {
        self.server.files().len()
    }

    /// publish-pypi succeeded and both files of the release are on the index.
    pub(crate) fn assert_published(&self, output: &std::process::Output) {
        assert_eq!(output.status.code(), Some(0), "{}", stderr_of(output));
        assert_eq!(self.uploaded(), 2);
    }
}
