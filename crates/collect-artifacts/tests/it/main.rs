//! `collect-artifacts` run as a real binary in its own temporary directory, with a
//! controlled environment: exit code, stdout, stderr and files checked together.

mod attestations;
mod ci;
mod collect;
mod merge_select;
mod signed_manifest;
mod trust_root;
mod verify;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
pub(crate) use custody_test_support::{stderr_of, stdout_of};
use sha2::{Digest, Sha256};

/// The binary with a clean environment: no CI variables leak in from the machine
/// running the tests, no colour.
pub(crate) fn cmd(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("collect-artifacts").unwrap();
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1");
    command
}

pub(crate) fn sha256_of(path: &Path) -> String {
    hex::encode(Sha256::digest(fs_err::read(path).unwrap()))
}

pub(crate) fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&fs_err::read_to_string(path).unwrap()).unwrap()
}

/// A `dist/` like one matrix job of the original pipeline produces: a wheel, an sdist
/// and the PyInstaller `.exe`.
pub(crate) fn job_dist(dir: &Path, python_tag: &str) -> PathBuf {
    let dist = dir.join("dist");
    fs_err::create_dir_all(&dist).unwrap();
    custody_test_support::WheelBuilder::new("clkhash", "0.18.3")
        .tag(&format!("{python_tag}-win32"))
        .build(&dist);
    custody_test_support::SdistBuilder::new("clkhash", "0.18.3").build(&dist);
    fs_err::write(
        dist.join("clkutil.exe"),
        custody_test_support::pyinstaller_exe(),
    )
    .unwrap();
    dist
}
