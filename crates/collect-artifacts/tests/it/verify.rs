//! `verify`: a directory checked against its manifest, offline.

use crate::{cmd, job_dist, stderr_of};

fn collected(dir: &std::path::Path) -> std::path::PathBuf {
    let dist = job_dist(dir, "cp37-cp37m");
    let output = cmd(dir)
        .args(["collect", "dist", "--out", "dist/manifest.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    dist
}

#[test]
fn an_untouched_directory_verifies() {
    let dir = tempfile::tempdir().unwrap();
    collected(dir.path());
    let output = cmd(dir.path())
        .args(["verify", "--manifest", "dist/manifest.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains(
        "Verified 3 file(s) against `dist/manifest.json` (sizes, digests and contents match)"
    ));
}

#[test]
fn files_are_found_wherever_the_ci_system_put_them() {
    let dir = tempfile::tempdir().unwrap();
    let dist = collected(dir.path());
    // A release pipeline downloads artifacts into its own layout.
    let download = dir.path().join("download/drop/nested");
    fs_err::create_dir_all(&download).unwrap();
    for entry in fs_err::read_dir(&dist).unwrap() {
        let entry = entry.unwrap();
        fs_err::rename(entry.path(), download.join(entry.file_name())).unwrap();
    }
    let output = cmd(dir.path())
        .args([
            "verify",
            "--manifest",
            "download/drop/nested/manifest.json",
            "download",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
}

#[test]
fn changed_and_missing_files_fail() {
    let dir = tempfile::tempdir().unwrap();
    let dist = collected(dir.path());
    let exe = dist.join("clkutil.exe");
    let mut bytes = fs_err::read(&exe).unwrap();
    bytes[600] ^= 0xff;
    fs_err::write(&exe, bytes).unwrap();
    fs_err::remove_file(dist.join("clkhash-0.18.3.tar.gz")).unwrap();
    let output = cmd(dir.path())
        .args(["verify", "--manifest", "dist/manifest.json", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("error: dist/clkutil.exe: `clkutil.exe` changed: sha256 is "),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: clkhash-0.18.3.tar.gz: `clkhash-0.18.3.tar.gz` missing"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: 2 of 3 file(s) do not match `dist/manifest.json`"),
        "{stderr}"
    );
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["ok"], false);
    let statuses: Vec<&str> = result["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["ok", "missing", "digest-changed"]);
}

#[test]
fn unlisted_files_warn_and_fail_only_when_strict() {
    let dir = tempfile::tempdir().unwrap();
    let dist = collected(dir.path());
    fs_err::write(dist.join("smuggled-1.0-py3-none-any.whl"), b"x").unwrap();
    let output = cmd(dir.path())
        .args(["verify", "--manifest", "dist/manifest.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stderr_of(&output).contains(
            "warning: `dist/smuggled-1.0-py3-none-any.whl` is not listed in the manifest"
        )
    );
    let output = cmd(dir.path())
        .args(["verify", "--manifest", "dist/manifest.json", "--strict"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr_of(&output).contains("and 1 unlisted file(s) are present (--strict)"));
}

#[test]
fn an_edited_manifest_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let dist = collected(dir.path());
    let path = dist.join("manifest.json");
    let text = fs_err::read_to_string(&path)
        .unwrap()
        .replace("clkhash-0.18.3.tar.gz", "clkhash-0.18.4.tar.gz");
    fs_err::write(&path, text).unwrap();
    let output = cmd(dir.path())
        .args(["verify", "--manifest", "dist/manifest.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(stderr.starts_with("error: `dist/manifest.json` was modified after it was written: its content hashes to sha256:"), "{stderr}");
    assert!(
        stderr.contains("hint: regenerate it with `collect-artifacts`"),
        "{stderr}"
    );
}

#[test]
fn a_manifest_that_is_not_one_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    fs_err::write(dir.path().join("m.json"), b"{\"hello\": 1}").unwrap();
    let output = cmd(dir.path())
        .args(["verify", "--manifest", "m.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(stderr_of(&output).contains("is not a custody manifest"));
    let output = cmd(dir.path())
        .args(["verify", "--manifest", "missing.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(stderr_of(&output).starts_with("error: cannot read manifest `"));
}

#[test]
fn shallow_verification_skips_the_inside() {
    let dir = tempfile::tempdir().unwrap();
    collected(dir.path());
    let output = cmd(dir.path())
        .args(["verify", "--manifest", "dist/manifest.json", "--shallow"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(stderr_of(&output).contains("(sizes and digests match)"));
}
