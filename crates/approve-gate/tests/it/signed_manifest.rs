//! `--manifest-signed-by`: the release manifest must carry a Sigstore signature beside it
//! (`release.json.sigstore.json`, as `collect-artifacts select --sign on` writes it) over
//! its exact bytes, chaining to the trust root, by one of the identities named; it is
//! checked before anyone is asked. The signatures are made against the local Sigstore
//! stack for a GitHub workflow's identity, and sigstore-python accepts each first. The
//! whole chain runs too: select signs in a GitHub job, approve-gate requires that
//! signature and signs its record, publish-pypi requires both.

use std::path::{Path, PathBuf};

use custody_attest::sign::{IdentityToken, Services, sign_blob};
use custody_test_support::sigstore::{Claims, Expected, SigstoreStack};

use crate::signed::{SAN, github_claims};
use crate::{cmd, record, record_approval, release, stderr_of};
use custody_test_support::assert_refused;

const WORKFLOW: &str = "github:octo/sample/.github/workflows/release.yml";
/// Signs `file` with the identity a GitHub job running `claims`' workflow gets from the
/// stack, writing `FILE.sigstore.json`; sigstore-python must accept the bundle for that
/// workflow before approve-gate is asked about it.
fn sign_as_github_job(stack: &SigstoreStack, claims: &Claims, file: &Path) {
    let services = Services::new(stack.fulcio_url(), stack.rekor_url());
    stack.sign_beside(
        claims,
        file,
        Expected::GitHub("octo/sample", "release.yml"),
        |token, data| sign_blob(&services, &IdentityToken::new(token).unwrap(), data).unwrap(),
    );
}

/// The sample release in `dir/release`, its manifest signed by the release workflow,
/// and an approving decision file waiting in `dir/decisions`: whoever runs approve-gate
/// without the signature check gets an approval at once.
fn signed_release_with_a_decision(dir: &Path, stack: &SigstoreStack) {
    release(dir);
    sign_as_github_job(stack, &github_claims(), &dir.join("release/release.json"));
    fs_err::create_dir_all(dir.join("decisions")).unwrap();
    fs_err::write(
        dir.join("decisions/ok.json"),
        r#"{"decision": "approve", "by": "alice"}"#,
    )
    .unwrap();
}

/// approve-gate taking the waiting decision, requiring `signers` of the manifest.
fn approve(dir: &Path, stack: &SigstoreStack, signers: &[&str]) -> std::process::Output {
    let mut command = record_approval(dir);
    command
        .args(["--decision-dir", "decisions", "--sign", "off"])
        .arg("--sigstore-trust-root")
        .arg(stack.trust_root_path());
    for signer in signers {
        command.args(["--manifest-signed-by", signer]);
    }
    command.output().unwrap()
}

#[test]
fn a_manifest_signed_by_the_release_workflow_is_put_before_the_approver() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    signed_release_with_a_decision(dir.path(), &stack);
    // Any of several identities may have signed: the second one did.
    let output = approve(
        dir.path(),
        &stack,
        &[
            "email:release-manager@example.com",
            &format!("{WORKFLOW}@refs/tags/v*"),
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains(&format!(
            "Verified `release/release.json`: signed by {SAN}, Rekor log index 0 (`release/release.json.sigstore.json`)"
        )),
        "{}",
        stderr_of(&output)
    );
    assert_eq!(
        record(&dir.path().join("approval.json"))["decision"],
        "approved"
    );
}

#[test]
fn another_signer_is_refused_before_anyone_is_asked() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    signed_release_with_a_decision(dir.path(), &stack);
    let other = "github:octo/sample/.github/workflows/ci.yml";
    let output = approve(dir.path(), &stack, &[other]);
    let stderr = assert_refused(
        &output,
        1,
        &format!("error: `release/release.json` was signed by `{SAN}`, not by `{other}`"),
        "hint: only a signature by an identity named with --manifest-signed-by",
    );
    assert!(stderr.contains("Build Config URI"), "{stderr}");
    assert!(!dir.path().join("approval.json").exists());

    // --show puts only a manifest of the required signer in front of the CI gate.
    let output = cmd(dir.path())
        .args(["--manifest", "release/release.json", "--show"])
        .args(["--manifest-signed-by", &format!("{WORKFLOW}@refs/heads/*")])
        .env("CUSTODY_SIGSTORE_TRUST_ROOT", stack.trust_root_path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains("Source Repository Ref"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn a_missing_or_edited_signature_is_bad_input() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    signed_release_with_a_decision(dir.path(), &stack);
    let manifest = dir.path().join("release/release.json");

    // Reformatted after signing: the seal (over canonical JSON) still matches, the
    // signed bytes do not.
    let text = fs_err::read_to_string(&manifest).unwrap();
    let compact: serde_json::Value = serde_json::from_str(&text).unwrap();
    fs_err::write(&manifest, compact.to_string()).unwrap();
    let output = approve(dir.path(), &stack, &[WORKFLOW]);
    assert_refused(
        &output,
        3,
        "error: `release/release.json.sigstore.json` is not a valid signature of `release/release.json`",
        "hint: the file changed after it was signed",
    );
    assert!(!dir.path().join("approval.json").exists());

    fs_err::write(&manifest, &text).unwrap();
    fs_err::remove_file(dir.path().join("release/release.json.sigstore.json")).unwrap();
    let output = approve(dir.path(), &stack, &[WORKFLOW]);
    assert_refused(
        &output,
        3,
        "error: `release/release.json` is not signed: `release/release.json.sigstore.json` does not exist",
        "hint: sign it where it is written (`collect-artifacts select --sign on`",
    );
    assert!(!dir.path().join("approval.json").exists());
}

/// A binary of the workspace, built beside this test by `cargo test --workspace`.
fn workspace_binary(name: &str) -> PathBuf {
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_owned();
    let binary = deps.parent().unwrap().join(name);
    assert!(
        binary.exists(),
        "{} is missing: run the tests with `cargo test --workspace`",
        binary.display()
    );
    binary
}

/// A step in a GitHub Actions job of `claims`' workflow, against the stack.
fn in_github_job(binary: &str, dir: &Path, stack: &SigstoreStack) -> std::process::Command {
    let mut command = std::process::Command::new(workspace_binary(binary));
    command
        .current_dir(dir)
        .env_clear()
        .env("NO_COLOR", "1")
        .envs(stack.github_job_env(&github_claims()));
    command
}

#[test]
fn the_chain_select_signs_approve_gate_requires_publish_pypi_requires_both() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    release(dir.path());
    let output = in_github_job("collect-artifacts", dir.path(), &stack)
        .args(["select", "--manifest", "release/release.json"])
        .args(["--copy-to", "staged", "--sign", "on"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));

    let output = in_github_job("approve-gate", dir.path(), &stack)
        .args([
            "--manifest",
            "staged/release.json",
            "--out",
            "approval.json",
        ])
        .args(["--approved-by", "alice", "--manifest-digest"])
        .arg(manifest_digest(&dir.path().join("staged/release.json")))
        .args(["--manifest-signed-by", WORKFLOW])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(stack.log_entry_count(), 2, "the manifest and the record");

    let output = in_github_job("publish-pypi", dir.path(), &stack)
        .args([
            "--manifest",
            "staged/release.json",
            "--approval",
            "approval.json",
        ])
        .args([
            "--manifest-signed-by",
            WORKFLOW,
            "--approval-signed-by",
            WORKFLOW,
        ])
        .args(["--dry-run", "--no-index-check", "--attestations", "off"])
        .args([
            "--trusted-publishing",
            "never",
            "--username",
            "u",
            "--password",
            "p",
        ])
        .args(["--repository-url", "http://127.0.0.1:9/legacy/"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
}

fn manifest_digest(path: &Path) -> String {
    record(path)["digest"].as_str().unwrap().to_owned()
}
