//! scripts/package-release.sh and scripts/install.sh: release assets served on
//! 127.0.0.1, checked against their sha256 before anything is installed.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use custody_test_support::{MockServer, Reply};

use crate::{STEPS, bin_dir, env, run, script};

/// The host's release asset, packaged once per test run from the debug binaries:
/// `<dir>/v0.1.0/custody-<target>.tar.gz` (+ `.sha256`, `SHA256SUMS`).
pub(crate) fn assets() -> &'static Path {
    static ASSETS: OnceLock<PathBuf> = OnceLock::new();
    ASSETS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-release-assets");
        let _ = fs_err::remove_dir_all(&dir);
        let version_dir = dir.join(format!("v{}", env!("CARGO_PKG_VERSION")));
        let bins = bin_dir();
        let packaged = run(
            &script("package-release.sh"),
            &[
                "--target",
                &target(),
                "--bin-dir",
                &bins.to_string_lossy(),
                "--out",
                &version_dir.to_string_lossy(),
            ],
            dir.parent().unwrap(),
            &env(&[]),
        )
        .expect(0);
        assert!(
            packaged.stdout.trim().ends_with(".tar.gz"),
            "{}",
            packaged.stdout
        );
        dir
    })
}

/// The Rust target triple install.sh detects on this machine.
fn target() -> String {
    let arch = if cfg!(target_arch = "aarch64") {
        "aarch64"
    } else {
        "x86_64"
    };
    let os = if cfg!(target_os = "macos") {
        "apple-darwin"
    } else {
        "unknown-linux-gnu"
    };
    format!("{arch}-{os}")
}

pub(crate) fn asset_name() -> String {
    format!("custody-{}.tar.gz", target())
}

/// Serves the files under `dir` by URL path; `edit` may change a file's bytes on the way.
pub(crate) fn asset_server(dir: &'static Path, edit: fn(&str, Vec<u8>) -> Vec<u8>) -> MockServer {
    MockServer::start(move |request, _| {
        let path = dir.join(request.url.trim_start_matches('/'));
        match fs_err::read(&path) {
            Ok(bytes) if request.method == "GET" => Reply::new(200, edit(&request.url, bytes)),
            _ => Reply::new(404, "Not Found"),
        }
    })
}

fn unchanged(_: &str, bytes: Vec<u8>) -> Vec<u8> {
    bytes
}

/// PATH without cargo: what a runner without Rust has.
fn path_without_cargo() -> String {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let kept: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|dir| !dir.join("cargo").exists())
        .collect();
    std::env::join_paths(kept)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn a_release_asset_is_verified_and_installed() {
    let server = asset_server(assets(), unchanged);
    let work = tempfile::tempdir().unwrap();
    let to = work.path().join("bin");
    let installed = run(
        &script("install.sh"),
        &["--method", "release", "--to", &to.to_string_lossy()],
        work.path(),
        &env(&[("CUSTODY_DOWNLOAD_URL", server.url().trim_end_matches('/'))]),
    )
    .expect(0);
    assert_eq!(installed.stdout.trim(), to.to_string_lossy());
    let asset = asset_name();
    let sha256 = custody_test_support::sha256_hex(
        &fs_err::read(assets().join("v0.1.0").join(&asset)).unwrap(),
    );
    assert!(
        installed.stderr.contains(&format!("sha256 {sha256}) into")),
        "{}",
        installed.stderr
    );
    // All six, runnable.
    for step in STEPS {
        let help = run(&to.join(step), &["--help"], work.path(), &env(&[])).expect(0);
        assert!(help.stdout.contains("Usage:"), "{step}: {}", help.stdout);
    }
    let fetched: Vec<String> = server.requests().iter().map(|r| r.url.clone()).collect();
    assert_eq!(
        fetched,
        [
            format!("/v0.1.0/{asset}"),
            format!("/v0.1.0/{asset}.sha256")
        ]
    );
}

#[test]
fn a_tampered_asset_is_refused_and_nothing_is_installed() {
    fn flip_a_byte(url: &str, mut bytes: Vec<u8>) -> Vec<u8> {
        if url.ends_with(".tar.gz") {
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x01;
        }
        bytes
    }
    let server = asset_server(assets(), flip_a_byte);
    let work = tempfile::tempdir().unwrap();
    let to = work.path().join("bin");
    let refused = run(
        &script("install.sh"),
        &["--method", "auto", "--to", &to.to_string_lossy()],
        work.path(),
        &env(&[("CUSTODY_DOWNLOAD_URL", server.url().trim_end_matches('/'))]),
    )
    .expect(1);
    let asset = asset_name();
    assert!(
        refused
            .stderr
            .contains(&format!("install.sh: `{asset}` has sha256 ")),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains("hint: the download was corrupted or tampered with")
    );
    // Not even the fallback: a bad asset is an alarm, not a miss.
    assert!(
        !refused.stderr.contains("falling back"),
        "{}",
        refused.stderr
    );
    assert!(!to.exists());

    // A pinned sha256 that differs from the published one is refused the same way.
    let server = asset_server(assets(), unchanged);
    let pinned = "0".repeat(64);
    run(
        &script("install.sh"),
        &[
            "--method",
            "release",
            "--sha256",
            &pinned,
            "--to",
            &to.to_string_lossy(),
        ],
        work.path(),
        &env(&[("CUSTODY_DOWNLOAD_URL", server.url().trim_end_matches('/'))]),
    )
    .expect(1);
    assert!(!to.exists());
}

#[test]
fn a_missing_release_falls_back_to_source_or_says_why_not() {
    let server = asset_server(assets(), unchanged);
    let work = tempfile::tempdir().unwrap();
    let to = work.path().join("bin");
    let base = server.url();
    let base = base.trim_end_matches('/');
    // --method release: no fallback.
    let missing = run(
        &script("install.sh"),
        &[
            "--version",
            "9.9.9",
            "--method",
            "release",
            "--to",
            &to.to_string_lossy(),
        ],
        work.path(),
        &env(&[("CUSTODY_DOWNLOAD_URL", base)]),
    )
    .expect(4);
    assert!(
        missing.stderr.contains(&format!(
            "could not download `{base}/v9.9.9/{}`",
            asset_name()
        )),
        "{}",
        missing.stderr
    );
    // --method auto on a machine without Rust: the fallback is tried and says what it needs.
    let mut no_rust = env(&[("CUSTODY_DOWNLOAD_URL", base)]);
    no_rust.insert("PATH".into(), path_without_cargo());
    let output = std::process::Command::new("bash")
        .arg(script("install.sh"))
        .args(["--version", "9.9.9", "--to", &to.to_string_lossy()])
        .env_clear()
        .envs(&no_rust)
        .env("HOME", work.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("falling back to building from source"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cargo is not installed\nhint: install Rust"),
        "{stderr}"
    );
    assert!(!to.exists());
}
