//! `--approval-signed-by`: the approval record must carry a Sigstore signature beside it
//! (`approval.json.sigstore.json`) over its exact bytes, chaining to the trust root, by
//! one of the identities named. The signatures are made against the local Sigstore
//! stack, for a GitHub workflow's token (sigstore-rust, as approve-gate signs) and by a
//! person with sigstore-python (`python -m sigstore sign approval.json`, an email
//! token), and each is first accepted by sigstore-python; publish-pypi must accept them
//! and refuse, before any upload, a missing, broken or edited signature, a signature
//! under another root, and another signer.

use std::path::Path;

use custody_attest::{Identity, TrustRoot, verify_bundle};
use custody_manifest::{Approval, Decision, Manifest};
use custody_test_support::sha256_hex;
use custody_test_support::sigstore::{Claims, EMAIL_ISSUER, Expected};

use crate::signatures::{SAN, Scene, WORKFLOW, error_and_hint};
use crate::{cmd, manifest_of, sample_release, stderr_of};

/// A staged release with its manifest and an approval of it at `dir/approval.json`.
fn approved_release(dir: &Path) -> Manifest {
    let release = dir.join("release");
    let files = sample_release(&release);
    let manifest = manifest_of(&files, &release.join("release.json"));
    approval(&manifest, "alice")
        .write(&dir.join("approval.json"))
        .unwrap();
    manifest
}

fn approval(manifest: &Manifest, by: &str) -> Approval {
    Approval::new(
        "test",
        manifest,
        Decision::Approved,
        vec![by.to_owned()],
        "ci-gate",
        None,
        None,
    )
}

/// publish-pypi of the release with `approval.json` and the stack's trust root,
/// requiring `signed_by`.
fn publish(scene: &Scene, signed_by: &[&str]) -> std::process::Output {
    let mut args = vec!["--approval", "approval.json"];
    for identity in signed_by {
        args.extend(["--approval-signed-by", identity]);
    }
    scene.publish(&args)
}

#[test]
fn an_approval_signed_by_the_approving_workflow_is_published() {
    let scene = Scene::start();
    approved_release(scene.path());
    scene.sign("approval.json");

    // Any of several identities may have signed: the second one did.
    let output = publish(
        &scene,
        &[
            "email:release-manager@example.com",
            &format!("{WORKFLOW}@refs/tags/v*"),
        ],
    );
    scene.assert_published(&output);
}

#[test]
fn another_signer_is_the_steps_no_before_any_upload() {
    let scene = Scene::start();
    approved_release(scene.path());
    scene.sign("approval.json");

    let output = publish(&scene, &["github:octo/sample/.github/workflows/ci.yml"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    let (error, hint) = error_and_hint(&output);
    assert!(
        error.contains(&format!(
            "`approval.json` was signed by `{SAN}`, not by `github:octo/sample/.github/workflows/ci.yml`"
        )),
        "{}",
        stderr_of(&output)
    );
    assert!(hint.contains("--approval-signed-by"), "{hint}");
    // Which claim differed is the cause.
    assert!(
        stderr_of(&output).contains("Build Config URI"),
        "{}",
        stderr_of(&output)
    );

    // The same workflow on a branch instead of a tag, from the environment.
    let output = scene
        .publish_command()
        .args(["--approval", "approval.json"])
        .arg("--sigstore-trust-root")
        .arg(scene.stack.trust_root_path())
        .env(
            "CUSTODY_APPROVAL_SIGNED_BY",
            format!("{WORKFLOW}@refs/heads/main"),
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains("Source Repository Ref"),
        "{}",
        stderr_of(&output)
    );
    assert!(scene.uploaded() == 0);
}

#[test]
fn an_approval_edited_after_signing_is_refused() {
    let scene = Scene::start();
    let manifest = approved_release(scene.path());
    let path = scene.path().join("approval.json");
    scene.sign("approval.json");
    let identity = format!("{WORKFLOW}@refs/tags/v0.18.3");

    // Re-sealed with another approver: the seal and the manifest digest match, the
    // signature does not.
    approval(&manifest, "mallory").write(&path).unwrap();
    let output = publish(&scene, &[&identity]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
    let (error, hint) = error_and_hint(&output);
    assert_eq!(
        error,
        "error: `approval.json.sigstore.json` is not a valid signature of `approval.json`",
        "{}",
        stderr_of(&output)
    );
    assert!(
        hint.contains("the file changed after it was signed"),
        "{hint}"
    );

    // Only reformatted: the seal (over canonical JSON) still matches, the bytes do not.
    fs_err::remove_file(&path).unwrap();
    approval(&manifest, "alice").write(&path).unwrap();
    scene.sign("approval.json");
    let text = fs_err::read_to_string(&path).unwrap();
    let compact: serde_json::Value = serde_json::from_str(&text).unwrap();
    fs_err::write(&path, compact.to_string()).unwrap();
    let output = publish(&scene, &[&identity]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));

    // As signed, it publishes.
    fs_err::write(&path, text).unwrap();
    let output = publish(&scene, &[&identity]);
    scene.assert_published(&output);
}

#[test]
fn a_missing_or_broken_signature_is_bad_input() {
    let scene = Scene::start();
    approved_release(scene.path());

    let output = publish(&scene, &[WORKFLOW]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
    let (error, hint) = error_and_hint(&output);
    assert_eq!(
        error,
        "error: `approval.json` is not signed: `approval.json.sigstore.json` does not exist"
    );
    assert!(
        hint.contains("python -m sigstore sign approval.json"),
        "{hint}"
    );

    let bundle = scene.path().join("approval.json.sigstore.json");
    fs_err::write(&bundle, "{\"mediaType\": \"nonsense\"}").unwrap();
    let output = publish(&scene, &[WORKFLOW]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
    assert!(
        error_and_hint(&output)
            .0
            .contains("is not a valid signature of `approval.json`"),
        "{}",
        stderr_of(&output)
    );

    // A real signature, checked against another root (the public-good one, by default).
    scene.sign("approval.json");
    let output = scene
        .publish_command()
        .args(["--approval", "approval.json"])
        .args(["--approval-signed-by", WORKFLOW])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("is not a valid signature of `approval.json`")
            && stderr.contains("the Sigstore verification failed"),
        "{stderr}"
    );
    assert!(scene.uploaded() == 0);
}

#[test]
fn a_person_signs_the_approval_with_their_own_sigstore_client() {
    let scene = Scene::start();
    approved_release(scene.path());
    let person = "release-manager@example.com";
    // The documented way: `python -m sigstore sign approval.json`, here sigstore-python
    // with the stack's trust configuration and the person's email token.
    let approval = scene.path().join("approval.json");
    let bundle = scene.stack.python_sign(&Claims::email(person), &approval);
    assert_eq!(bundle, scene.path().join("approval.json.sigstore.json"));
    let verdict =
        scene
            .stack
            .python_verdict(&bundle, &approval, Expected::Email(person, EMAIL_ISSUER));
    assert!(verdict.verified, "{verdict:?}");
    // What publish-pypi calls, on the same bytes: the person, by their issuer.
    let root = TrustRoot::from_file(scene.stack.trust_root_path()).unwrap();
    let sha256 = sha256_hex(&fs_err::read(&approval).unwrap());
    let bundle_json = fs_err::read(&bundle).unwrap();
    let expected: Identity = format!("email:{person}@{EMAIL_ISSUER}").parse().unwrap();
    let claims = verify_bundle(&sha256, &bundle_json, &root, &expected).unwrap();
    assert_eq!(
        (claims.identity.as_str(), claims.issuer.as_str()),
        (person, EMAIL_ISSUER)
    );
    let someone_else: Identity = "email:someone-else@example.com".parse().unwrap();
    assert!(verify_bundle(&sha256, &bundle_json, &root, &someone_else).is_err());

    let output = publish(&scene, &["email:someone-else@example.com"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    assert!(
        error_and_hint(&output).0.contains(&format!(
            "was signed by `{person} (issuer https://accounts.google.com)`"
        )),
        "{}",
        stderr_of(&output)
    );
    // The issuer can be pinned too: another one is refused.
    let output = publish(&scene, &[&format!("email:{person}@https://gitlab.com")]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    assert!(scene.uploaded() == 0);

    let output = publish(
        &scene,
        &[&format!("email:{person}@https://accounts.google.com")],
    );
    scene.assert_published(&output);
}

#[test]
fn requiring_a_signer_needs_an_approval_and_a_valid_identity() {
    let dir = tempfile::tempdir().unwrap();
    let output = cmd(dir.path())
        .args([
            "--manifest",
            "release.json",
            "--approval-signed-by",
            WORKFLOW,
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains("--approval <FILE>"),
        "{}",
        stderr_of(&output)
    );

    let output = cmd(dir.path())
        .args(["--manifest", "release.json", "--approval", "approval.json"])
        .args(["--approval-signed-by", "octo/sample"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains("`octo/sample` is not an identity"),
        "{}",
        stderr_of(&output)
    );
}
