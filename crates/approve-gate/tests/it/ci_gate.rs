//! Behind the CI system's own gate: `--show` before it, `--approved-by` after it, bound
//! to the digest the reviewers saw; and the files re-hashed before anyone is asked.

use crate::{cmd, record, record_approval, release, stderr_of, stdout_of};

#[test]
fn show_puts_the_release_in_front_of_the_reviewers() {
    let dir = tempfile::tempdir().unwrap();
    let (_, manifest) = release(dir.path());
    let output_file = dir.path().join("github-output");
    let summary_file = dir.path().join("github-summary");
    let output = cmd(dir.path())
        .args(["--manifest", "release/release.json", "--show", "--json"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &output_file)
        .env("GITHUB_STEP_SUMMARY", &summary_file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let shown: serde_json::Value = serde_json::from_str(&stdout_of(&output)).unwrap();
    assert_eq!(shown["manifest_digest"], manifest.digest.as_str());
    assert_eq!(shown["files"].as_array().unwrap().len(), 2);
    assert_eq!(
        fs_err::read_to_string(&output_file).unwrap(),
        format!("manifest_digest={}\n", manifest.digest)
    );
    let summary = fs_err::read_to_string(&summary_file).unwrap();
    assert!(
        summary.contains("### Release awaiting approval"),
        "{summary}"
    );
    assert!(
        summary.contains(&manifest.artifacts[0].digests.sha256),
        "{summary}"
    );
    // Nothing was decided.
    assert!(!dir.path().join("approval.json").exists());
}

#[test]
fn approved_by_records_the_gate_decision_for_the_digest_shown() {
    let dir = tempfile::tempdir().unwrap();
    let (_, manifest) = release(dir.path());
    let output = record_approval(dir.path())
        .args([
            "--approved-by",
            "alice",
            "--manifest-digest",
            &manifest.digest,
        ])
        .env("TF_BUILD", "True")
        .env("SYSTEM_COLLECTIONURI", "https://dev.azure.com/data61/")
        .env("SYSTEM_TEAMPROJECT", "Anonlink")
        .env("BUILD_BUILDID", "77")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let approval = record(&dir.path().join("approval.json"));
    assert_eq!(approval["decision"], "approved");
    assert_eq!(approval["decided_by"], serde_json::json!(["alice"]));
    assert_eq!(approval["source"], "ci-gate");
    assert_eq!(approval["manifest_digest"], manifest.digest.as_str());
    assert_eq!(
        approval["reference"],
        "https://dev.azure.com/data61/Anonlink/_build/results?buildId=77"
    );
    assert!(
        stdout_of(&output)
            .contains("##vso[task.setvariable variable=decision;isoutput=true]approved"),
        "{}",
        stdout_of(&output)
    );
}

#[test]
fn approved_by_refuses_a_manifest_other_than_the_one_shown() {
    let dir = tempfile::tempdir().unwrap();
    release(dir.path());
    let shown = format!("sha256:{}", "ab".repeat(32));
    let output = record_approval(dir.path())
        .args(["--approved-by", "alice", "--manifest-digest", &shown])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert!(
        stderr.starts_with("error: `release/release.json` is not the release that was approved"),
        "{stderr}"
    );
    assert!(stderr.contains(&shown), "{stderr}");
    // The fix is a hint line of its own, not a cause.
    assert!(
        stderr.contains("\nhint: the artifacts changed after `approve-gate --show`"),
        "{stderr}"
    );
    assert!(!stderr.contains("caused by: hint"), "{stderr}");
    assert!(!dir.path().join("approval.json").exists());
    // --approved-by alone is a usage error: the binding is the point.
    let output = record_approval(dir.path())
        .args(["--approved-by", "alice"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
}

#[test]
fn files_changed_after_selection_are_refused_before_anyone_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let (_, manifest) = release(dir.path());
    let wheel = &manifest.artifacts[0].file_name;
    // Same size, other bytes: only a digest can tell.
    let path = dir.path().join("release").join(wheel);
    let mut bytes = fs_err::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fs_err::write(&path, bytes).unwrap();
    let decisions = dir.path().join("decisions");
    fs_err::create_dir_all(&decisions).unwrap();
    fs_err::write(
        decisions.join("ok.json"),
        r#"{"decision": "approve", "by": "alice"}"#,
    )
    .unwrap();
    let output = record_approval(dir.path())
        .args(["--decision-dir", "decisions", "--timeout", "2s"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert!(
        stderr.starts_with("error: the files in `release` are not the ones the manifest lists; nobody was asked to approve"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{wheel}: changed: sha256 is")),
        "{stderr}"
    );
    assert!(
        stderr.contains("\nhint: download the release set again"),
        "{stderr}"
    );
    assert!(!dir.path().join("approval.json").exists());
    // A missing file is refused the same way, also with --from.
    fs_err::remove_file(&path).unwrap();
    let output = cmd(dir.path())
        .args([
            "--manifest",
            "release/release.json",
            "--show",
            "--from",
            "release",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains(&format!("{wheel}: missing")),
        "{}",
        stderr_of(&output)
    );
}
