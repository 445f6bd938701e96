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
    assert!(
        stderr_of(&output)
            .contains("error: `dist/manifest.json`: 1 unlisted file(s) are present (--strict)")
    );
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

/// Re-seals `dist/manifest.json` after `edit`: what anyone can do by hand, as the seal
/// is a digest, not a signature.
fn forge_manifest(dist: &std::path::Path, edit: impl FnOnce(&mut custody_manifest::Manifest)) {
    let path = dist.join("manifest.json");
    let mut manifest = custody_manifest::Manifest::load(&path).unwrap();
    edit(&mut manifest);
    manifest.seal();
    manifest.write(&path).unwrap();
}

/// Runs a deep `verify` of `dist/manifest.json`, which must fail; returns its stderr.
fn verify_refuses(dir: &std::path::Path) -> String {
    let output = cmd(dir)
        .args(["verify", "--manifest", "dist/manifest.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    stderr_of(&output)
}

#[test]
fn a_hand_written_manifest_cannot_smuggle_a_file_collect_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let dist = collected(dir.path());
    // The same name, with code RECORD does not list: `collect` refuses this wheel.
    let wheel = custody_test_support::WheelBuilder::new("clkhash", "0.18.3")
        .tag("cp37-cp37m-win32")
        .unlisted_file("clkhash/_smuggled.py", b"import os\n")
        .build(&dist);
    let name = wheel.file_name().unwrap().to_str().unwrap().to_owned();
    let output = cmd(dir.path())
        .args(["collect", "dist", "--out", "refused.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    forge_manifest(&dist, |manifest| {
        let artifact = manifest
            .artifacts
            .iter_mut()
            .find(|a| a.file_name == name)
            .unwrap();
        artifact.size = fs_err::metadata(&wheel).unwrap().len();
        artifact.digests.sha256 = crate::sha256_of(&wheel);
        artifact.digests.md5 = None;
        artifact.digests.blake2b_256 = None;
    });
    let stderr = verify_refuses(dir.path());
    assert!(
        stderr.contains(&format!(
            "error: dist/{name}: `{name}` fails verification: "
        )),
        "{stderr}"
    );
    assert!(stderr.contains("`clkhash/_smuggled.py`"), "{stderr}");
    assert!(stderr.contains("[record-unlisted]"), "{stderr}");
    // --shallow trusts the manifest's digests by design: it says so when it passes.
    let output = cmd(dir.path())
        .args(["verify", "--manifest", "dist/manifest.json", "--shallow"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains("(sizes and digests match)"));
}

#[test]
fn a_manifest_must_describe_its_files_as_collect_would() {
    let dir = tempfile::tempdir().unwrap();
    collected(dir.path());
    let dist = dir.path().join("dist");
    // The files are untouched; the manifest shows an approver another version.
    forge_manifest(&dist, |manifest| {
        for artifact in &mut manifest.artifacts {
            if let Some(project) = &mut artifact.project {
                project.version = "9.9.9".to_owned();
            }
        }
    });
    let stderr = verify_refuses(dir.path());
    assert!(
        stderr.contains(
            "error: dist/clkhash-0.18.3.tar.gz: `clkhash-0.18.3.tar.gz` is described wrongly: the manifest records project {\"name\":\"clkhash\",\"normalized_name\":\"clkhash\",\"version\":\"9.9.9\"}, verification finds {\"name\":\"clkhash\",\"normalized_name\":\"clkhash\",\"version\":\"0.18.3\"}"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: a manifest may only say what `collect-artifacts collect` finds"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: 2 of 3 file(s) do not match `dist/manifest.json`"),
        "{stderr}"
    );
}
