//! `--manifest-signed-by`: the release manifest must carry a Sigstore signature beside it
//! (`release.json.sigstore.json`, as `collect-artifacts select --sign on` writes it) over
//! its exact bytes, chaining to the trust root, by one of the identities named. The
//! signatures are made against the local Sigstore stack with a GitHub workflow's
//! identity and accepted by sigstore-python first; publish-pypi must publish to a real
//! pypiserver with the right signer, and refuse another signer (exit 1) and a missing,
//! broken or edited signature (exit 3) before the first byte: the index stays empty.

use std::path::Path;

use custody_manifest::{Approval, Decision, Manifest};

use crate::signatures::{SAN, Scene, WORKFLOW, error_and_hint};
use crate::{cmd, manifest_of, sample_release, stderr_of};

/// The sample release staged in `dir/release` with its manifest.
fn staged_release(dir: &Path) -> Manifest {
    let release = dir.join("release");
    let files = sample_release(&release);
    manifest_of(&files, &release.join("release.json"))
}

#[test]
fn a_manifest_signed_by_the_release_workflow_is_published() {
    let scene = Scene::start();
    staged_release(scene.path());
    scene.sign("release/release.json");
    // From the environment, comma-separated: any of them may have signed.
    let output = scene
        .publish_command()
        .env("CUSTODY_SIGSTORE_TRUST_ROOT", scene.stack.trust_root_path())
        .env(
            "CUSTODY_MANIFEST_SIGNED_BY",
            format!("email:release-manager@example.com,{WORKFLOW}@refs/tags/v*"),
        )
        .output()
        .unwrap();
    scene.assert_published(&output);
}

#[test]
fn another_signer_is_the_steps_no_before_any_upload() {
    let scene = Scene::start();
    staged_release(scene.path());
    scene.sign("release/release.json");
    let other = "github:octo/sample/.github/workflows/ci.yml";
    let output = scene.publish(&["--manifest-signed-by", other]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    let (error, hint) = error_and_hint(&output);
    assert_eq!(
        error,
        format!("error: `release/release.json` was signed by `{SAN}`, not by `{other}`"),
        "{}",
        stderr_of(&output)
    );
    assert!(hint.contains("--manifest-signed-by"), "{hint}");
    assert!(
        stderr_of(&output).contains("Build Config URI"),
        "{}",
        stderr_of(&output)
    );

    // The right workflow, but a branch where a tag is required.
    let on_a_branch = format!("{WORKFLOW}@refs/heads/*");
    let output = scene.publish(&["--manifest-signed-by", &on_a_branch]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    assert!(scene.uploaded() == 0);
}

#[test]
fn a_missing_broken_or_edited_signature_is_bad_input_before_any_upload() {
    let scene = Scene::start();
    let manifest = staged_release(scene.path());
    let path = scene.path().join("release/release.json");
    let bundle = scene.path().join("release/release.json.sigstore.json");
    let required = ["--manifest-signed-by", WORKFLOW];

    let output = scene.publish(&required);
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
    let (error, hint) = error_and_hint(&output);
    assert_eq!(
        error,
        "error: `release/release.json` is not signed: `release/release.json.sigstore.json` does not exist"
    );
    assert!(
        hint.contains("`collect-artifacts select --sign on`")
            && hint.contains("`python -m sigstore sign release/release.json`"),
        "{hint}"
    );

    fs_err::write(&bundle, "{\"mediaType\": \"nonsense\"}").unwrap();
    let output = scene.publish(&required);
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
    assert_eq!(
        error_and_hint(&output).0,
        "error: `release/release.json.sigstore.json` is not a valid signature of `release/release.json`"
    );

    // Signed, then written again with the same content in another layout: the seal
    // (over canonical JSON) and every file still match, the signed bytes do not.
    scene.sign("release/release.json");
    let text = fs_err::read_to_string(&path).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    fs_err::write(&path, value.to_string()).unwrap();
    assert_eq!(Manifest::load(&path).unwrap().digest, manifest.digest);
    let output = scene.publish(&required);
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
    let (error, hint) = error_and_hint(&output);
    assert!(error.ends_with("is not a valid signature of `release/release.json`"));
    assert!(
        hint.contains("the file changed after it was signed"),
        "{hint}"
    );
    assert!(scene.uploaded() == 0);

    // As signed, it publishes.
    fs_err::write(&path, text).unwrap();
    let output = scene.publish(&required);
    scene.assert_published(&output);
}

#[test]
fn the_manifest_is_checked_before_the_approval_and_both_can_be_required() {
    let scene = Scene::start();
    let manifest = staged_release(scene.path());
    let approval = scene.path().join("approval.json");
    Approval::new(
        "test",
        &manifest,
        Decision::Approved,
        vec!["alice".to_owned()],
        "ci-gate",
        None,
        None,
    )
    .write(&approval)
    .unwrap();
    scene.sign("approval.json");
    let both = [
        "--approval",
        "approval.json",
        "--approval-signed-by",
        WORKFLOW,
        "--manifest-signed-by",
        WORKFLOW,
    ];
    // The approval is signed, the manifest it approves is not.
    let output = scene.publish(&both);
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
    assert!(
        error_and_hint(&output)
            .0
            .contains("`release/release.json` is not signed"),
        "{}",
        stderr_of(&output)
    );
    assert!(scene.uploaded() == 0);

    scene.sign("release/release.json");
    let output = scene.publish(&both);
    scene.assert_published(&output);
}

#[test]
fn requiring_a_manifest_signer_needs_a_manifest_and_a_valid_identity() {
    let dir = tempfile::tempdir().unwrap();
    let output = cmd(dir.path())
        .args(["--manifest-signed-by", WORKFLOW])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains("--manifest <FILE>"),
        "{}",
        stderr_of(&output)
    );

    // Files instead of a manifest: nothing to check the signature of, nothing published.
    sample_release(&dir.path().join("dist"));
    let output = cmd(dir.path())
        .args(["dist/*", "--manifest-signed-by", WORKFLOW])
        .args(["--repository-url", "http://127.0.0.1:9/legacy/"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    assert_eq!(
        error_and_hint(&output),
        (
            "error: `--manifest-signed-by` checks a manifest, but files are given instead of --manifest"
                .to_owned(),
            "hint: publish the release set by its manifest: `publish-pypi --manifest release.json`"
                .to_owned()
        )
    );

    let output = cmd(dir.path())
        .args(["--manifest", "release.json"])
        .args(["--manifest-signed-by", "octo/sample"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains("`octo/sample` is not an identity"),
        "{}",
        stderr_of(&output)
    );
}
