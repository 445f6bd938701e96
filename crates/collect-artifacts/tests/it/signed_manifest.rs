//! `--sign on` and `verify --manifest-signed-by`: in a simulated GitHub Actions or GitLab
//! CI job whose identity token comes from the local Sigstore stack, `merge` and `select`
//! sign the manifest they write through the stack's Fulcio and Rekor, one signature
//! beside every copy (--out, the staged directory, the zip); sigstore-python verifies it
//! for the job's workflow and against those exact bytes only; `verify` requires it of
//! the right signer, and refuses another signer (exit 1) and a missing or edited
//! signature (exit 3). Without an identity, `--sign on` writes nothing.

use std::io::Read;
use std::path::Path;

use custody_test_support::assert_refused;
use custody_test_support::sigstore::{Claims, Expected, SigstoreStack, assert_no_identity_token};

use crate::{cmd, job_dist, read_json, stderr_of, stdout_of};

const WORKFLOW: &str = "github:octo/sample/.github/workflows/release.yml";
const SAN: &str = "https://github.com/octo/sample/.github/workflows/release.yml@refs/tags/v0.18.3";

fn github_claims() -> Claims {
    Claims::github("octo/sample", "release.yml", "refs/tags/v0.18.3")
}

/// One matrix job's `dist/` in `root/job37`, collected into `job37/dist/manifest.json`.
fn collected(root: &Path) {
    let job = root.join("job37");
    job_dist(&job, "cp37-cp37m");
    let output = cmd(&job)
        .args(["collect", "dist", "--out", "dist/manifest.json"])
        .args(["--label", "python=3.7"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
}

/// `verify --manifest release/release.json` requiring `signers`, with the stack's root.
fn verify(dir: &Path, stack: &SigstoreStack, signers: &[&str]) -> std::process::Output {
    let mut command = cmd(dir);
    command.args(["verify", "--manifest", "release/release.json", "--strict"]);
    for signer in signers {
        command.args(["--manifest-signed-by", signer]);
    }
    command
        .arg("--sigstore-trust-root")
        .arg(stack.trust_root_path())
        .output()
        .unwrap()
}

/// A release set signed by `select --sign on` in `dir/release` (and `--out`).
fn signed_release(dir: &Path, stack: &SigstoreStack) {
    collected(dir);
    let mut command = cmd(dir);
    command.args([
        "select",
        "--manifest",
        "job37/dist/manifest.json",
        "--copy-to",
        "release",
        "--sign",
        "on",
    ]);
    command.envs(stack.github_job_env(&github_claims()));
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
}

#[test]
#[allow(clippy::too_many_lines)] // a scenario read top to bottom, as its user lives it
fn merge_and_select_sign_every_copy_and_sigstore_python_verifies_them() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    collected(dir.path());
    let outputs = dir.path().join("github-output");
    fs_err::write(&outputs, "").unwrap();

    let mut command = cmd(dir.path());
    command.args(["merge", "job37/dist/manifest.json", "--out", "all.json"]);
    command.envs(stack.github_job_env(&github_claims()));
    let output = command
        .env("CUSTODY_SIGN_MANIFEST", "on")
        .env("GITHUB_OUTPUT", &outputs)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_no_identity_token(&output);
    assert!(
        stderr_of(&output).contains(&format!(
            "Signed `all.json` as {SAN}, Rekor log index 0; signature written to `all.json.sigstore.json`"
        )),
        "{}",
        stderr_of(&output)
    );
    assert!(
        fs_err::read_to_string(&outputs)
            .unwrap()
            .contains("manifest_signature=all.json.sigstore.json\n")
    );
    let requests = stack.issuer().token_requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].audience.as_deref(), Some("sigstore"));
    let all = dir.path().join("all.json");
    let all_bundle = dir.path().join("all.json.sigstore.json");
    let github = Expected::GitHub("octo/sample", "release.yml");
    assert!(stack.python_verdict(&all_bundle, &all, github).verified);
    let other = Expected::GitHub("octo/sample", "ci.yml");
    assert!(!stack.python_verdict(&all_bundle, &all, other).verified);

    // select: one more signature, beside --out, in the staged directory and in the zip.
    let mut command = cmd(dir.path());
    command
        .args(["select", "--manifest", "all.json", "--from", "job37"])
        .args(["--out", "release.json", "--copy-to", "release"])
        .args(["--zip", "release.zip", "--sign", "on"]);
    command.envs(stack.github_job_env(&github_claims()));
    let output = command.env("GITHUB_OUTPUT", &outputs).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_no_identity_token(&output);
    assert_eq!(stack.log_entry_count(), 2);
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains(&format!(
            "Signed `release.json` as {SAN}, Rekor log index 1"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("3 file(s), `release.json` and `release.json.sigstore.json` in `release`"),
        "{stderr}"
    );
    assert!(
        fs_err::read_to_string(&outputs)
            .unwrap()
            .contains("manifest_signature=release.json.sigstore.json\n")
    );
    let out = dir.path().join("release.json");
    let bundle = fs_err::read(dir.path().join("release.json.sigstore.json")).unwrap();
    let staged = dir.path().join("release/release.json");
    let staged_bundle = dir.path().join("release/release.json.sigstore.json");
    assert_eq!(fs_err::read(&staged).unwrap(), fs_err::read(&out).unwrap());
    assert_eq!(fs_err::read(&staged_bundle).unwrap(), bundle);
    assert!(
        stack
            .python_verdict(&staged_bundle, &staged, github)
            .verified
    );
    // It signs these bytes only: not the merged manifest.
    assert!(!stack.python_verdict(&staged_bundle, &all, github).verified);

    let mut zip =
        zip::ZipArchive::new(fs_err::File::open(dir.path().join("release.zip")).unwrap()).unwrap();
    let mut zipped_bundle = Vec::new();
    zip.by_name("release.json.sigstore.json")
        .unwrap()
        .read_to_end(&mut zipped_bundle)
        .unwrap();
    assert_eq!(zipped_bundle, bundle);
    let mut zipped_manifest = Vec::new();
    zip.by_name("release.json")
        .unwrap()
        .read_to_end(&mut zipped_manifest)
        .unwrap();
    assert_eq!(zipped_manifest, fs_err::read(&out).unwrap());

    // verify: the right signer passes, and the signature is not an unlisted file.
    let output = verify(dir.path(), &stack, &[&format!("{WORKFLOW}@refs/tags/v*")]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains(&format!(
            "Verified `release/release.json`: signed by {SAN}, Rekor log index 1 (`release/release.json.sigstore.json`)"
        )),
        "{}",
        stderr_of(&output)
    );
    let output = cmd(dir.path())
        .args(["verify", "--manifest", "release/release.json", "--json"])
        .args(["--manifest-signed-by", "email:someone@example.com"])
        .args(["--manifest-signed-by", WORKFLOW])
        .env("CUSTODY_SIGSTORE_TRUST_ROOT", stack.trust_root_path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let value: serde_json::Value = serde_json::from_str(&stdout_of(&output)).unwrap();
    assert_eq!(value["manifest_signature"]["identity"], SAN);
    assert_eq!(value["manifest_signature"]["log_index"], 1);
    assert_eq!(
        value["manifest_signers"],
        serde_json::json!(["email:someone@example.com", WORKFLOW])
    );
}

#[test]
fn verify_refuses_another_signer_and_a_missing_or_edited_signature() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    signed_release(dir.path(), &stack);
    let manifest = dir.path().join("release/release.json");

    // Another workflow of the same repository, and the same one on a branch.
    for (identity, claim) in [
        (
            "github:octo/sample/.github/workflows/ci.yml",
            "Build Config URI",
        ),
        (
            format!("{WORKFLOW}@refs/heads/main").as_str(),
            "Source Repository Ref",
        ),
    ] {
        let output = verify(dir.path(), &stack, &[identity]);
        let stderr = assert_refused(
            &output,
            1,
            &format!("error: `release/release.json` was signed by `{SAN}`, not by `{identity}`"),
            "hint: only a signature by an identity named with --manifest-signed-by",
        );
        assert!(stderr.contains(claim), "{stderr}");
        assert!(!stderr.contains("Verified"), "{stderr}");
    }

    // Edited after signing, with the seal still matching: only reformatted.
    let text = fs_err::read_to_string(&manifest).unwrap();
    let compact: serde_json::Value = serde_json::from_str(&text).unwrap();
    fs_err::write(&manifest, compact.to_string()).unwrap();
    let output = cmd(dir.path())
        .args(["verify", "--manifest", "release/release.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "the seal still matches");
    let output = verify(dir.path(), &stack, &[WORKFLOW]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).starts_with(
            "error: `release/release.json.sigstore.json` is not a valid signature of `release/release.json`"
        ),
        "{}",
        stderr_of(&output)
    );
    fs_err::write(&manifest, &text).unwrap();
    let output = verify(dir.path(), &stack, &[WORKFLOW]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));

    // Under another root (the shipped public-good one) it does not verify at all.
    let output = cmd(dir.path())
        .args(["verify", "--manifest", "release/release.json"])
        .args(["--manifest-signed-by", WORKFLOW])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));

    // Missing.
    fs_err::remove_file(dir.path().join("release/release.json.sigstore.json")).unwrap();
    let output = verify(dir.path(), &stack, &[WORKFLOW]);
    assert_refused(
        &output,
        3,
        "error: `release/release.json` is not signed: `release/release.json.sigstore.json` does not exist",
        "hint: sign it where it is written (`collect-artifacts select --sign on`",
    );
}

#[test]
fn a_gitlab_job_signs_a_zip_only_release_with_its_declared_token() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    collected(dir.path());
    let claims = Claims::gitlab("group/sample", ".gitlab-ci.yml", "refs/tags/v0.18.3");
    let mut command = cmd(dir.path());
    command.args([
        "select",
        "--manifest",
        "job37/dist/manifest.json",
        "--zip",
        "release.zip",
        "--sign",
        "on",
    ]);
    let output = command
        .envs(stack.gitlab_job_env(&claims))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_no_identity_token(&output);
    assert_eq!(stack.log_entry_count(), 1);
    // Only the zip was written; the manifest and its signature are inside it.
    let mut written: Vec<String> = fs_err::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written, ["job37", "release.zip"]);
    let unpacked = dir.path().join("unpacked");
    zip::ZipArchive::new(fs_err::File::open(dir.path().join("release.zip")).unwrap())
        .unwrap()
        .extract(&unpacked)
        .unwrap();
    let manifest = unpacked.join("release.json");
    let bundle = unpacked.join("release.json.sigstore.json");
    let gitlab = Expected::GitLab("group/sample", ".gitlab-ci.yml");
    assert!(stack.python_verdict(&bundle, &manifest, gitlab).verified);
    let output = cmd(&unpacked)
        .args(["verify", "--manifest", "release.json", "--strict"])
        .args([
            "--manifest-signed-by",
            "gitlab:group/sample//.gitlab-ci.yml",
        ])
        .env("CUSTODY_SIGSTORE_TRUST_ROOT", stack.trust_root_path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
}

#[test]
fn sign_on_without_an_identity_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    collected(dir.path());
    let output = cmd(dir.path())
        .args(["merge", "job37/dist/manifest.json", "--out", "all.json"])
        .args(["--sign", "on"])
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4), "{}", stderr_of(&output));
    let both = format!("{}{}", stdout_of(&output), stderr_of(&output));
    assert!(
        both.contains("::error::this job has no Sigstore identity"),
        "{both}"
    );
    assert!(
        both.contains("hint: add `permissions: id-token: write` to the publishing job"),
        "{both}"
    );
    assert!(!dir.path().join("all.json").exists());

    let output = cmd(dir.path())
        .args(["select", "--manifest", "job37/dist/manifest.json"])
        .args(["--out", "release.json", "--copy-to", "release"])
        .args(["--zip", "release.zip"])
        .env("CUSTODY_SIGN_MANIFEST", "on")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4), "{}", stderr_of(&output));
    for written in ["release.json", "release", "release.zip"] {
        assert!(!dir.path().join(written).exists(), "{written}");
    }
}

#[test]
fn by_default_nothing_is_signed_and_a_stale_signature_is_dropped() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    collected(dir.path());
    let stale = [
        dir.path().join("release.json.sigstore.json"),
        dir.path().join("release/release.json.sigstore.json"),
    ];
    fs_err::create_dir_all(dir.path().join("release")).unwrap();
    for path in &stale {
        fs_err::write(path, "{}").unwrap();
    }
    // A job with an identity: the default is off all the same (a public log entry).
    let mut command = cmd(dir.path());
    command
        .args(["select", "--manifest", "job37/dist/manifest.json"])
        .args(["--out", "release.json", "--copy-to", "release"]);
    command.envs(stack.github_job_env(&github_claims()));
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    for path in &stale {
        assert!(!path.exists(), "{} was left", path.display());
    }
    assert!(stack.issuer().token_requests().is_empty());
    assert_eq!(stack.log_entry_count(), 0);
    assert!(
        !stderr_of(&output).contains("Signed"),
        "{}",
        stderr_of(&output)
    );
    assert_eq!(
        read_json(&dir.path().join("release.json"))["artifacts"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn another_sigstore_without_its_trust_root_is_refused_before_anything_is_signed() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    collected(dir.path());
    let mut command = cmd(dir.path());
    command
        .args(["merge", "job37/dist/manifest.json", "--out", "all.json"])
        .args(["--sign", "on"]);
    command.envs(stack.github_job_env(&github_claims()));
    // What the stack signs would be checked against the shipped public-good root.
    let output = command
        .env_remove("CUSTODY_SIGSTORE_TRUST_ROOT")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    let both = format!("{}{}", stdout_of(&output), stderr_of(&output));
    assert!(
        both.contains("no trust root for the Sigstore instance at"),
        "{both}"
    );
    assert!(both.contains("--sigstore-trust-root"), "{both}");
    assert!(!dir.path().join("all.json").exists());
    assert!(stack.issuer().token_requests().is_empty());
    assert_eq!(stack.log_entry_count(), 0);
}
