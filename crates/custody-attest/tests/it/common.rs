//! What the tests share: the real assets, which trust root each needs, and the
//! `pypi-attestations` command-line tool.

use std::path::{Path, PathBuf};
use std::process::Command;

use custody_attest::{Attestation, TrustRoot};
use custody_test_support::sigstore::{pypi_attestations, tool_verdict};
use sha2::{Digest, Sha256};

/// pypi-attestations' test assets (from its 0.0.30 sdist), prepared by `scripts/test-env.sh`.
pub(crate) fn assets_dir() -> PathBuf {
    let dir = custody_test_support::fixtures_dir().join("attestations/assets");
    assert!(
        dir.is_dir(),
        "`{}` is missing: run `scripts/test-env.sh`",
        dir.display()
    );
    dir
}

/// The same files downloaded from PyPI, sha256-pinned.
pub(crate) fn released_dir() -> PathBuf {
    custody_test_support::fixtures_dir().join("attestations/released")
}

pub(crate) fn asset(name: &str) -> PathBuf {
    assets_dir().join(name)
}

pub(crate) fn read(path: &Path) -> Vec<u8> {
    fs_err::read(path).unwrap()
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub(crate) fn attestation(name: &str) -> Attestation {
    Attestation::from_json(&read(&asset(name))).unwrap()
}

/// Which Sigstore instance signed an asset: pypi-attestations' own tests verify the
/// rfc8785 and spt3g assets with `staging=True`, everything else with production.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Instance {
    Production,
    Staging,
}

impl Instance {
    pub(crate) fn of(file_name: &str) -> Self {
        if file_name.starts_with("rfc8785-") || file_name.starts_with("spt3g-") {
            Self::Staging
        } else {
            Self::Production
        }
    }

    pub(crate) fn root(self) -> TrustRoot {
        match self {
            Self::Production => TrustRoot::public_good(),
            Self::Staging => TrustRoot::staging(),
        }
    }
}

/// Every `*.attestation` asset and the distribution file it is for (its name without
/// the attestation suffix).
pub(crate) fn attestation_assets() -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = fs_err::read_dir(assets_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter_map(|name| {
            let file = [".publish.attestation", ".slsa.attestation", ".attestation"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))?
                .to_owned();
            Some((name, file))
        })
        .collect();
    found.sort();
    found
}

/// The verdict of `pypi-attestations verify attestation --offline [--staging]
/// --identity SAN FILE`, run on copies in a directory of their own: `Ok(())` or the
/// tool's stderr.
pub(crate) fn pypi_attestations_verify(
    file_name: &str,
    file: &[u8],
    attestation_json: &[u8],
    instance: Instance,
    identity: &str,
) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file_name);
    fs_err::write(&path, file).unwrap();
    fs_err::write(
        dir.path().join(format!("{file_name}.publish.attestation")),
        attestation_json,
    )
    .unwrap();
    let mut command = Command::new(pypi_attestations());
    command.args(["verify", "attestation", "--offline", "--identity", identity]);
    if instance == Instance::Staging {
        command.arg("--staging");
    }
    tool_verdict(command.arg(&path)).map(drop)
}
