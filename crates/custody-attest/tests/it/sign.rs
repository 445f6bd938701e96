//! `custody_attest::sign` against the local Sigstore stack: the attestations and bundles
//! it makes verify with our own `verify`/`verify_bundle` and with the tools that define
//! the truth (pypi-attestations, sigstore-python) under the stack's trusted root, and
//! under no other; what a service refuses comes back in its own words.

use std::path::{Path, PathBuf};

use custody_attest::sign::{IdentityToken, Services, SignError, attest_publish, sign_blob};
use custody_attest::{Identity, TrustRoot, verify, verify_bundle};
use custody_test_support::sigstore::{
    Claims, EMAIL_ISSUER, Expected, INVALID_IDENTITY_TOKEN, Root, Signed, SigstoreStack, Subject,
    python_verify,
};
use custody_test_support::{SdistBuilder, WheelBuilder, sha256_hex};

fn services(stack: &SigstoreStack) -> Services {
    Services::new(stack.fulcio_url(), stack.rekor_url())
}

fn token(stack: &SigstoreStack, claims: &Claims) -> IdentityToken {
    IdentityToken::new(&stack.issuer().mint(claims)).unwrap()
}

/// A wheel and an sdist in `dir`, with their names and sha256s.
fn distributions(dir: &Path) -> Vec<(PathBuf, String, String)> {
    [
        WheelBuilder::new("custody-sample", "1.2.0").build(dir),
        SdistBuilder::new("custody-sample", "1.2.0").build(dir),
    ]
    .into_iter()
    .map(|path| {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let sha256 = sha256_hex(&fs_err::read(&path).unwrap());
        (path, name, sha256)
    })
    .collect()
}

fn github(repository: &str, workflow: &str) -> Identity {
    Identity::GitHub {
        repository: repository.to_owned(),
        workflow: workflow.to_owned(),
        git_ref: None,
        environment: None,
    }
}

#[test]
fn publish_attestations_verify_with_custody_pypi_attestations_and_sigstore_python() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    let files = distributions(dir.path());
    let subjects: Vec<(String, String)> = files
        .iter()
        .map(|(_, name, sha)| (name.clone(), sha.clone()))
        .collect();
    let claims = Claims::github("octo-org/sample", "release.yml", "refs/tags/v1.2.0");
    let made = attest_publish(&services(&stack), &token(&stack, &claims), &subjects).unwrap();

    assert_eq!(made.len(), 2);
    // One certificate and one log entry per file.
    let fulcio_calls = stack.fulcio().requests().len();
    assert_eq!((fulcio_calls, stack.rekor().requests().len()), (2, 2));
    let root = TrustRoot::from_file(stack.trust_root_path()).unwrap();
    let expected = github("octo-org/sample", "release.yml");
    for ((path, name, sha256), attestation) in files.iter().zip(&made) {
        let verified = verify(name, sha256, attestation, &root, Some(&expected)).unwrap();
        assert_eq!(verified.predicate_type, custody_attest::PUBLISH_V1);
        let other = github("octo-org/sample", "other.yml");
        assert!(verify(name, sha256, attestation, &root, Some(&other)).is_err());
        let public_good = TrustRoot::public_good();
        assert!(verify(name, sha256, attestation, &public_good, None).is_err());

        let attestation_path = dir.path().join(format!("{name}.publish.attestation"));
        fs_err::write(&attestation_path, attestation.to_json()).unwrap();
        let signed = Signed::Attestation(&attestation_path);
        let publisher = Expected::GitHub("octo-org/sample", "release.yml");
        let judged = python_verify(
            Root::File(stack.trust_root_path()),
            signed,
            Subject::File(path),
            publisher,
        );
        assert!(judged.sigstore.verified, "{judged:?}");
        assert_eq!(
            judged.pypi_attestations.map(|v| v.verified),
            Some(true),
            "{name}"
        );
        let judged = python_verify(Root::PublicGood, signed, Subject::File(path), publisher);
        assert_eq!(
            judged.pypi_attestations.map(|v| v.verified),
            Some(false),
            "{name}"
        );
    }
}

#[test]
fn a_gitlab_pipeline_attests_as_its_project_and_ci_file() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    let (path, name, sha256) = distributions(dir.path()).remove(1);
    let claims = Claims::gitlab("group/project", ".gitlab-ci.yml", "refs/tags/v1.2.0");
    let made = attest_publish(
        &services(&stack),
        &token(&stack, &claims),
        &[(&name, &sha256)],
    )
    .unwrap();
    let root = TrustRoot::from_file(stack.trust_root_path()).unwrap();
    let expected = Identity::GitLab {
        project: "group/project".to_owned(),
        config_path: ".gitlab-ci.yml".to_owned(),
        git_ref: None,
    };
    verify(&name, &sha256, &made[0], &root, Some(&expected)).unwrap();
    let attestation_path = dir.path().join(format!("{name}.publish.attestation"));
    fs_err::write(&attestation_path, made[0].to_json()).unwrap();
    let judged = python_verify(
        Root::File(stack.trust_root_path()),
        Signed::Attestation(&attestation_path),
        Subject::File(&path),
        Expected::GitLab("group/project", ".gitlab-ci.yml"),
    );
    assert_eq!(
        judged.pypi_attestations.map(|v| v.verified),
        Some(true),
        "{:?}",
        judged.sigstore
    );
}

#[test]
fn a_signed_blob_verifies_as_the_person_who_signed_it() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    let approval = br#"{"manifest": "sha256:5e3c", "approved_by": "releaser"}"#;
    let claims = Claims::email("releaser@example.com");
    let bundle = sign_blob(&services(&stack), &token(&stack, &claims), approval).unwrap();

    let root = TrustRoot::from_file(stack.trust_root_path()).unwrap();
    let me = Identity::Exact {
        identity: "releaser@example.com".to_owned(),
        issuer: Some(EMAIL_ISSUER.to_owned()),
    };
    let sha256 = sha256_hex(approval);
    let claims = verify_bundle(&sha256, bundle.as_bytes(), &root, &me).unwrap();
    assert_eq!(claims.identity, "releaser@example.com");
    let someone_else = Identity::Exact {
        identity: "mallory@example.com".to_owned(),
        issuer: None,
    };
    assert!(verify_bundle(&sha256, bundle.as_bytes(), &root, &someone_else).is_err());
    let other_bytes = sha256_hex(b"another approval");
    assert!(verify_bundle(&other_bytes, bundle.as_bytes(), &root, &me).is_err());

    let bundle_path = dir.path().join("approval.json.sigstore.json");
    let blob_path = dir.path().join("approval.json");
    fs_err::write(&bundle_path, &bundle).unwrap();
    fs_err::write(&blob_path, approval).unwrap();
    let judged = python_verify(
        Root::File(stack.trust_root_path()),
        Signed::Bundle(&bundle_path),
        Subject::File(&blob_path),
        Expected::Email("releaser@example.com", EMAIL_ISSUER),
    );
    assert!(judged.sigstore.verified, "{judged:?}");
}

#[test]
fn a_refused_token_comes_back_in_fulcios_words_with_a_hint_and_without_the_token() {
    let stack = SigstoreStack::start();
    let expired =
        Claims::github("octo-org/sample", "release.yml", "refs/tags/v1.2.0").expires_in(-60);
    let jwt = stack.issuer().mint(&expired);
    let token = IdentityToken::new(&jwt).unwrap();
    let error = attest_publish(
        &services(&stack),
        &token,
        &[("a-1.0.tar.gz", &"0".repeat(64))],
    )
    .unwrap_err();
    let SignError::FulcioRefused {
        url,
        status,
        reason,
        ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(
        (url.as_str(), *status, reason.as_str()),
        (stack.fulcio_url().as_str(), 400, INVALID_IDENTITY_TOKEN)
    );
    assert!(
        error
            .to_string()
            .starts_with(&format!("`{}`", stack.fulcio_url()))
    );
    assert!(error.hint().unwrap().contains("id-token: write"));
    let mut chain = format!("{error:?}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    let signature = jwt.rsplit('.').next().unwrap();
    assert!(!chain.contains(signature), "the token leaked: {chain}");
    assert_eq!(stack.log_entry_count(), 0);
}

#[test]
fn a_log_that_cannot_be_reached_is_named() {
    let stack = SigstoreStack::start();
    let claims = Claims::github("octo-org/sample", "release.yml", "refs/tags/v1.2.0");
    let services = Services::new(stack.fulcio_url(), "http://127.0.0.1:1");
    let error = sign_blob(&services, &token(&stack, &claims), b"bytes").unwrap_err();
    assert!(
        matches!(&error, SignError::Unreachable { url, .. } if url == "http://127.0.0.1:1"),
        "{error:?}"
    );
    assert_eq!(
        stack.fulcio().issued().len(),
        1,
        "the certificate came before the log"
    );
}
