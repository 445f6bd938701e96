//! `--sign`: in a simulated GitHub Actions or GitLab CI job whose identity token comes
//! from the local Sigstore stack, the approval record is signed through the stack's
//! Fulcio and Rekor; sigstore-python verifies the bundle against the record for the
//! job's workflow and refuses it for another, and publish-pypi accepts it with
//! `--approval-signed-by`. Without an identity, `--sign on` stops before anyone is asked.
//! A record written without one can be signed by a person with sigstore-python
//! (`python -m sigstore sign approval.json`), which publish-pypi accepts for that email.

use std::path::Path;

use custody_test_support::sigstore::{
    Claims, EMAIL_ISSUER, Expected, SigstoreStack, assert_no_identity_token,
};

use crate::{record, record_approval, release, stderr_of, stdout_of};

pub(crate) const SAN: &str =
    "https://github.com/octo/sample/.github/workflows/release.yml@refs/tags/v0.18.3";

pub(crate) fn github_claims() -> Claims {
    Claims::github("octo/sample", "release.yml", "refs/tags/v0.18.3")
}

/// approve-gate recording the CI gate's approval of the sample release in `dir`.
fn approve(dir: &Path) -> assert_cmd::Command {
    let (_, manifest) = release(dir);
    let mut command = record_approval(dir);
    command.args([
        "--approved-by",
        "alice",
        "--manifest-digest",
        &manifest.digest,
    ]);
    command
}

#[test]
fn a_github_job_signs_the_record_and_sigstore_python_verifies_it() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    let outputs = dir.path().join("github-output");
    fs_err::write(&outputs, "").unwrap();
    let mut command = approve(dir.path());
    command.envs(stack.github_job_env(&github_claims()));
    let output = command.env("GITHUB_OUTPUT", &outputs).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_no_identity_token(&output);

    let approval = dir.path().join("approval.json");
    let bundle = dir.path().join("approval.json.sigstore.json");
    assert_eq!(record(&approval)["decision"], "approved");
    // One request to the Actions runtime, for Fulcio's audience; one log entry.
    let requests = stack.issuer().token_requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].audience.as_deref(), Some("sigstore"));
    assert!(requests[0].authorized);
    assert_eq!(stack.log_entry_count(), 1);
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains(&format!(
            "Signed `approval.json` as {SAN}, Rekor log index 0; signature written to `approval.json.sigstore.json`"
        )),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("signed by {SAN}")), "{stderr}");
    assert!(
        fs_err::read_to_string(&outputs)
            .unwrap()
            .contains("approval_signature=approval.json.sigstore.json\n")
    );

    // sigstore-python: the bundle signs exactly these bytes, by this workflow.
    let verdict = stack.python_verdict(
        &bundle,
        &approval,
        Expected::GitHub("octo/sample", "release.yml"),
    );
    assert!(verdict.verified, "{verdict:?}");
    for (repository, workflow) in [("octo/sample", "ci.yml"), ("octo/other", "release.yml")] {
        let verdict =
            stack.python_verdict(&bundle, &approval, Expected::GitHub(repository, workflow));
        assert!(!verdict.verified, "{repository} {workflow}");
    }
    // Nor does it sign another record.
    let other = dir.path().join("other.json");
    let mut text = fs_err::read_to_string(&approval).unwrap();
    text.push('\n');
    fs_err::write(&other, text).unwrap();
    let verdict = stack.python_verdict(
        &bundle,
        &other,
        Expected::GitHub("octo/sample", "release.yml"),
    );
    assert!(!verdict.verified);
}

#[test]
fn a_gitlab_job_signs_with_its_declared_token() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    let claims = Claims::gitlab("group/sample", ".gitlab-ci.yml", "refs/tags/v0.18.3");
    let output = approve(dir.path())
        .envs(stack.gitlab_job_env(&claims))
        .args(["--sign", "on"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_no_identity_token(&output);
    let verdict = stack.python_verdict(
        &dir.path().join("approval.json.sigstore.json"),
        &dir.path().join("approval.json"),
        Expected::GitLab("group/sample", ".gitlab-ci.yml"),
    );
    assert!(verdict.verified, "{verdict:?}");
}

#[test]
fn sign_on_without_an_identity_stops_before_anyone_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let output = approve(dir.path())
        .env("GITHUB_ACTIONS", "true")
        .env("CUSTODY_SIGN_APPROVAL", "on")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4), "{}", stderr_of(&output));
    // On GitHub the error is an annotation (stdout), the hint a line of the log.
    let stderr = format!("{}{}", stdout_of(&output), stderr_of(&output));
    assert!(
        stderr.contains("::error::this job has no Sigstore identity"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: add `permissions: id-token: write` to the publishing job"),
        "{stderr}"
    );
    assert!(!dir.path().join("approval.json").exists());
}

#[test]
fn without_an_identity_auto_writes_the_record_unsigned_and_drops_a_stale_signature() {
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join("approval.json.sigstore.json");
    fs_err::write(&stale, "{}").unwrap();
    let output = approve(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(dir.path().join("approval.json").exists());
    assert!(!stale.exists(), "a signature of an earlier record was left");
    assert!(
        !stderr_of(&output).contains("Signed"),
        "{}",
        stderr_of(&output)
    );

    // With an identity but --sign off, nothing is signed or asked for either.
    let stack = SigstoreStack::start();
    let mut command = approve(dir.path());
    command.envs(stack.github_job_env(&github_claims()));
    let output = command.args(["--sign", "off"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(!stale.exists());
    assert!(stack.issuer().token_requests().is_empty());
}

#[test]
fn a_signature_the_trust_root_does_not_vouch_for_is_not_kept() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    let mut command = approve(dir.path());
    command.envs(stack.github_job_env(&github_claims()));
    // The stack signs, but the record's readers would check with the public-good root.
    let output = command
        .env_remove("CUSTODY_SIGSTORE_TRUST_ROOT")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4), "{}", stderr_of(&output));
    let stderr = format!("{}{}", stdout_of(&output), stderr_of(&output));
    assert!(
        stderr.contains(
            "::error::the signature just made for `approval.json` does not verify with the trust root"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: --sigstore-trust-root must be"),
        "{stderr}"
    );
    assert!(!dir.path().join("approval.json.sigstore.json").exists());
}

#[test]
fn publish_pypi_requires_the_signature_approve_gate_made() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    let mut command = approve(dir.path());
    command.envs(stack.github_job_env(&github_claims()));
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));

    let publish = |signed_by: &str| publish_dry_run(dir.path(), &stack, signed_by);
    let output = publish("github:octo/sample/.github/workflows/release.yml@refs/tags/v*");
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let output = publish("github:octo/sample/.github/workflows/nightly.yml");
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains(&format!("`approval.json` was signed by `{SAN}`")),
        "{}",
        stderr_of(&output)
    );
}

/// publish-pypi's dry run of the release in `dir` with its approval, requiring
/// `signed_by`, under the stack's trust root.
fn publish_dry_run(dir: &Path, stack: &SigstoreStack, signed_by: &str) -> std::process::Output {
    std::process::Command::new(crate::local::publish_pypi())
        .args([
            "--manifest",
            "release/release.json",
            "--approval",
            "approval.json",
        ])
        .args(["--approval-signed-by", signed_by])
        .args(["--dry-run", "--no-index-check"])
        .args(["--repository-url", "http://127.0.0.1:9/legacy/"])
        .current_dir(dir)
        .env_clear()
        .env("NO_COLOR", "1")
        .env("CUSTODY_SIGSTORE_TRUST_ROOT", stack.trust_root_path())
        .output()
        .unwrap()
}

#[test]
fn a_person_signs_the_record_with_sigstore_python_and_publish_pypi_accepts_it() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    // Recorded outside CI, with no identity: the record is written unsigned.
    let output = approve(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let approval = dir.path().join("approval.json");
    let signature = dir.path().join("approval.json.sigstore.json");
    assert!(approval.exists() && !signature.exists());

    // The person signs it as approve-gate's help says: `python -m sigstore sign
    // approval.json`, sigstore-python with their email identity.
    let person = "release-manager@example.com";
    assert_eq!(
        stack.python_sign(&Claims::email(person), &approval),
        signature
    );
    assert_eq!(stack.log_entry_count(), 1);
    let verdict =
        stack.python_verdict(&signature, &approval, Expected::Email(person, EMAIL_ISSUER));
    assert!(verdict.verified, "{verdict:?}");

    let output = publish_dry_run(dir.path(), &stack, &format!("email:{person}"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let output = publish_dry_run(
        dir.path(),
        &stack,
        &format!("email:{person}@{EMAIL_ISSUER}"),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    // Not the workflow, nor another person.
    for other in [
        "github:octo/sample/.github/workflows/release.yml",
        "email:alice@example.com",
    ] {
        let output = publish_dry_run(dir.path(), &stack, other);
        assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
        assert!(
            stderr_of(&output).contains(&format!(
                "`approval.json` was signed by `{person} (issuer {EMAIL_ISSUER})`"
            )),
            "{}",
            stderr_of(&output)
        );
    }
}
