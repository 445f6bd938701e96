//! Signing against the local stack with sigstore-rust's own signer (`sigstore-sign`),
//! then verifying with the tools that define the truth: what the stack issues and logs
//! must be accepted by sigstore-python, pypi-attestations and sigstore-rust under the
//! stack's trusted root — and refused under the public-good root, by another identity,
//! or for other bytes. Its certificates are compared with real Fulcio certificates from
//! PyPI's publish flow.

use std::path::{Path, PathBuf};

use custody_test_support::sigstore::{
    Claims, EMAIL_ISSUER, Expected, GITHUB_ISSUER, PythonVerdicts, Root, Signed, SigstoreStack,
    Subject, python_verify,
};
use custody_test_support::{WheelBuilder, fixtures_dir, sha256_hex};
use sigstore_sign::oidc::IdentityToken;
use sigstore_sign::{SigningContext, SigningServices};
use sigstore_trust_root::TrustedRoot;
use sigstore_types::{Bundle, Sha256Hash};
use sigstore_verify::{VerificationPolicy, Verifier};
use x509_cert::Certificate;
use x509_cert::der::Decode;
use x509_cert::der::asn1::Utf8StringRef;

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// sigstore-sign's signer for `token` against the stack.
pub(crate) fn signer(stack: &SigstoreStack, token: &str) -> sigstore_sign::Signer {
    let services = SigningServices::new(stack.fulcio_url(), stack.rekor_url());
    SigningContext::new(services).signer(IdentityToken::from_jwt(token).expect("a JWT"))
}

/// The statement PyPI's publish flow signs for one file.
fn publish_statement(name: &str, sha256: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": name, "digest": {"sha256": sha256}}],
        "predicateType": "https://docs.pypi.org/attestations/publish/v1",
        "predicate": null,
    }))
    .unwrap()
}

struct Attested {
    wheel: PathBuf,
    name: String,
    sha256: String,
    bundle: Bundle,
    bundle_path: PathBuf,
}

/// Builds a wheel in `dir` and signs its publish statement with `claims`' identity.
fn attest_wheel(stack: &SigstoreStack, dir: &Path, version: &str, claims: &Claims) -> Attested {
    let wheel = WheelBuilder::new("custody-sample", version).build(dir);
    let name = wheel.file_name().unwrap().to_str().unwrap().to_owned();
    let sha256 = sha256_hex(&fs_err::read(&wheel).unwrap());
    let token = stack.issuer().mint(claims);
    let bundle = runtime()
        .block_on(signer(stack, &token).sign_raw_statement(&publish_statement(&name, &sha256)))
        .expect("the stack signs");
    let bundle_path = dir.join(format!("{name}.sigstore.json"));
    fs_err::write(&bundle_path, bundle.to_json().unwrap()).unwrap();
    Attested {
        wheel,
        name,
        sha256,
        bundle,
        bundle_path,
    }
}

fn rust_verifier(root: &Path) -> Verifier {
    Verifier::new(&TrustedRoot::from_file(root).unwrap()).unwrap()
}

fn production_verifier() -> Verifier {
    let root =
        TrustedRoot::from_json(sigstore_trust_root::SIGSTORE_PRODUCTION_TRUSTED_ROOT).unwrap();
    Verifier::new(&root).unwrap()
}

/// Both tools accepted the attestation (sigstore-python's verdict on the bundle and
/// pypi-attestations' on the distribution); the in-toto statement sigstore-python found.
pub(crate) fn accepted_by_both(verdicts: PythonVerdicts) -> serde_json::Value {
    assert!(verdicts.sigstore.verified, "{verdicts:?}");
    assert_eq!(
        verdicts.pypi_attestations.as_ref().map(|v| v.verified),
        Some(true),
        "{verdicts:?}"
    );
    verdicts.statement.expect("a DSSE statement")
}

#[test]
fn a_github_publish_attestation_is_accepted_by_every_verifier_under_the_stack_root_only() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    let claims = Claims::github("octo-org/sample", "release.yml", "refs/tags/v1.0.0");
    let signed = attest_wheel(&stack, dir.path(), "1.0.0", &claims);
    let root = Root::File(stack.trust_root_path());
    let expected = Expected::GitHub("octo-org/sample", "release.yml");
    let bundle = Signed::Bundle(&signed.bundle_path);

    let accepted = python_verify(root, bundle, Subject::File(&signed.wheel), expected);
    let statement = accepted_by_both(accepted);
    assert_eq!(statement["subject"][0]["name"], signed.name.as_str());
    assert_eq!(
        statement["subject"][0]["digest"]["sha256"],
        signed.sha256.as_str()
    );

    let public_good = python_verify(
        Root::PublicGood,
        bundle,
        Subject::File(&signed.wheel),
        expected,
    );
    assert!(!public_good.sigstore.verified, "{public_good:?}");
    let reason = public_good.sigstore.error.unwrap();
    assert!(
        reason.contains("failed to build timestamp certificate chain"),
        "{reason}"
    );
    assert_eq!(
        public_good.pypi_attestations.map(|v| v.verified),
        Some(false)
    );

    let other_workflow = Expected::GitHub("octo-org/sample", "other.yml");
    let refused = python_verify(root, bundle, Subject::File(&signed.wheel), other_workflow);
    assert!(!refused.sigstore.verified);
    let reason = refused.pypi_attestations.unwrap().error.unwrap();
    assert!(
        reason.contains("does not match expected Trusted Publisher"),
        "{reason}"
    );
    let other_file = Subject::Distribution("custody_sample-1.0.1-py3-none-any.whl", &signed.sha256);
    let refused = python_verify(root, bundle, other_file, expected);
    let reason = refused.pypi_attestations.unwrap().error.unwrap();
    assert!(
        reason.contains("subject does not match distribution name"),
        "{reason}"
    );

    let digest = Sha256Hash::from_hex(&signed.sha256).unwrap();
    let policy = VerificationPolicy::any_identity();
    let verified = rust_verifier(stack.trust_root_path())
        .verify(digest, &signed.bundle, &policy)
        .unwrap();
    assert_eq!(verified.issuer(), Some(GITHUB_ISSUER));
    assert!(verified.sct_verified() && verified.tlog_verified());
    assert!(
        production_verifier()
            .verify(digest, &signed.bundle, &policy)
            .is_err()
    );
    assert_eq!(
        (stack.log_entry_count(), stack.fulcio().issued().len()),
        (1, 1)
    );
}

#[test]
fn a_gitlab_publish_attestation_is_accepted_by_pypi_attestations_for_its_project_and_ci_file() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    let claims = Claims::gitlab("group/sub/project", "ci/release.yml", "refs/heads/main");
    let signed = attest_wheel(&stack, dir.path(), "2.0.0", &claims);
    let root = Root::File(stack.trust_root_path());
    let bundle = Signed::Bundle(&signed.bundle_path);
    let file = Subject::File(&signed.wheel);

    let accepted = python_verify(
        root,
        bundle,
        file,
        Expected::GitLab("group/sub/project", "ci/release.yml"),
    );
    assert!(accepted.sigstore.verified, "{accepted:?}");
    assert_eq!(accepted.pypi_attestations.map(|v| v.verified), Some(true));
    let other = python_verify(
        root,
        bundle,
        file,
        Expected::GitLab("group/sub/project", ".gitlab-ci.yml"),
    );
    assert_eq!(other.pypi_attestations.map(|v| v.verified), Some(false));
    let public_good = python_verify(Root::PublicGood, bundle, file, Expected::Any);
    assert!(!public_good.sigstore.verified);
}

/// sigstore-python, under the stack's root, accepts `bundle` as `person`'s message
/// signature of `blob` (no distribution, so no pypi-attestations verdict), and refuses
/// it for another person and for other bytes.
pub(crate) fn assert_python_accepts_only(
    stack: &SigstoreStack,
    bundle: &Path,
    blob: &Path,
    person: &str,
) {
    let me = Expected::Email(person, EMAIL_ISSUER);
    let accepted = python_verify(
        Root::File(stack.trust_root_path()),
        Signed::Bundle(bundle),
        Subject::File(blob),
        me,
    );
    assert!(accepted.sigstore.verified, "{accepted:?}");
    assert_eq!(accepted.pypi_attestations, None);
    let someone_else = Expected::Email("mallory@example.com", EMAIL_ISSUER);
    assert!(!stack.python_verdict(bundle, blob, someone_else).verified);
    let tampered = blob.with_file_name("tampered.json");
    fs_err::write(&tampered, br#"{"approved": "sha256:0124"}"#).unwrap();
    assert!(!stack.python_verdict(bundle, &tampered, me).verified);
}

#[test]
fn a_blob_signed_with_an_email_identity_verifies_as_a_hashedrekord_message_signature() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    let blob = dir.path().join("approval.json");
    fs_err::write(&blob, br#"{"approved": "sha256:0123"}"#).unwrap();
    let token = stack.issuer().mint(&Claims::email("releaser@example.com"));
    let bundle = runtime()
        .block_on(signer(&stack, &token).sign(fs_err::read(&blob).unwrap().as_slice()))
        .expect("the stack signs");
    let bundle_path = dir.path().join("approval.json.sigstore.json");
    fs_err::write(&bundle_path, bundle.to_json().unwrap()).unwrap();
    assert_python_accepts_only(&stack, &bundle_path, &blob, "releaser@example.com");
    let me = Expected::Email("releaser@example.com", EMAIL_ISSUER);
    let signed = Signed::Bundle(&bundle_path);
    assert!(
        !python_verify(Root::PublicGood, signed, Subject::File(&blob), me)
            .sigstore
            .verified
    );

    let bytes = fs_err::read(&blob).unwrap();
    let policy = VerificationPolicy::any_identity()
        .require_identity("releaser@example.com")
        .require_issuer(EMAIL_ISSUER);
    rust_verifier(stack.trust_root_path())
        .verify(bytes.as_slice(), &bundle, &policy)
        .unwrap();
}

#[test]
fn every_entry_of_a_growing_log_keeps_an_inclusion_proof_that_verifies() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    let claims = Claims::github("octo-org/sample", "release.yml", "refs/heads/main");
    let signed: Vec<Attested> = (0..5)
        .map(|i| attest_wheel(&stack, dir.path(), &format!("3.0.{i}"), &claims))
        .collect();
    assert_eq!(stack.log_entry_count(), 5);
    let verifier = rust_verifier(stack.trust_root_path());
    for (index, one) in signed.iter().enumerate() {
        let entry = &one.bundle.verification_material.tlog_entries[0];
        let proof = entry.inclusion_proof.as_ref().unwrap();
        assert_eq!(
            (entry.log_index.get(), proof.tree_size),
            (index as u64, index as u64 + 1)
        );
        let digest = Sha256Hash::from_hex(&one.sha256).unwrap();
        verifier
            .verify(digest, &one.bundle, &VerificationPolicy::any_identity())
            .unwrap();
    }
    // Leaf 3 of a tree of 4 has a two-hash audit path: leaf 2, then the hash of 0 and 1.
    let last = &signed[3].bundle.verification_material.tlog_entries[0];
    assert_eq!(last.inclusion_proof.as_ref().unwrap().hashes.len(), 2);
    let judged = python_verify(
        Root::File(stack.trust_root_path()),
        Signed::Bundle(&signed[4].bundle_path),
        Subject::File(&signed[4].wheel),
        Expected::GitHub("octo-org/sample", "release.yml"),
    );
    assert!(judged.sigstore.verified, "{judged:?}");
}

/// The extensions of a DER certificate: OID, criticality, value.
fn extensions(der: &[u8]) -> Vec<(String, bool, Vec<u8>)> {
    let certificate = Certificate::from_der(der).unwrap();
    certificate
        .tbs_certificate
        .extensions
        .unwrap()
        .iter()
        .map(|e| {
            (
                e.extn_id.to_string(),
                e.critical,
                e.extn_value.as_bytes().to_vec(),
            )
        })
        .collect()
}

fn real_certificate(attestation: &str) -> Vec<u8> {
    use base64::Engine;
    let path = fixtures_dir().join("attestations/assets").join(attestation);
    let json: serde_json::Value = serde_json::from_slice(&fs_err::read(path).unwrap()).unwrap();
    let certificate = json["verification_material"]["certificate"]
        .as_str()
        .unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(certificate)
        .unwrap()
}

fn leaf_of(bundle: &Bundle) -> Vec<u8> {
    let json: serde_json::Value = serde_json::from_str(&bundle.to_json().unwrap()).unwrap();
    let raw = json["verificationMaterial"]["certificate"]["rawBytes"]
        .as_str()
        .unwrap();
    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, raw).unwrap()
}

fn utf8(value: &[u8]) -> String {
    Utf8StringRef::from_der(value).unwrap().as_str().to_owned()
}

#[test]
fn leaves_carry_fulcios_extensions_in_fulcios_order_as_real_pypi_publish_certificates_do() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            Claims::github("octo-org/sample", "release.yml", "refs/tags/v1.0.0"),
            "pypi_attestations-0.0.19.tar.gz.publish.attestation",
        ),
        (
            Claims::gitlab("group/project", ".gitlab-ci.yml", "refs/heads/main"),
            "gitlab_oidc_project-0.0.3.tar.gz.publish.attestation",
        ),
    ];
    for (n, (claims, real)) in cases.iter().enumerate() {
        let signed = attest_wheel(&stack, dir.path(), &format!("4.0.{n}"), claims);
        let ours = extensions(&leaf_of(&signed.bundle));
        let theirs = extensions(&real_certificate(real));
        let shape = |all: &[(String, bool, Vec<u8>)]| -> Vec<(String, bool)> {
            all.iter()
                // `.1.24`, the raw token subject, is newer than these certificates (Fulcio
                // 1.8.6); the SCT differs in value only.
                .filter(|(oid, _, _)| oid != "1.3.6.1.4.1.57264.1.24")
                .map(|(oid, critical, _)| (oid.clone(), *critical))
                .collect()
        };
        assert_eq!(shape(&ours), shape(&theirs), "{real}");
        let value = |oid: &str| {
            ours.iter()
                .find(|(o, _, _)| o == oid)
                .map(|(_, _, v)| v.clone())
                .unwrap()
        };
        let issuer = claims.get("iss").unwrap();
        assert_eq!(value("1.3.6.1.4.1.57264.1.1"), issuer.as_bytes());
        assert_eq!(utf8(&value("1.3.6.1.4.1.57264.1.8")), issuer);
        assert_eq!(
            utf8(&value("1.3.6.1.4.1.57264.1.24")),
            claims.get("sub").unwrap()
        );
    }
    let github = extensions(&stack.fulcio().issued()[0]);
    let value = |oid: &str| utf8(&github.iter().find(|(o, _, _)| o == oid).unwrap().2);
    let workflow =
        "https://github.com/octo-org/sample/.github/workflows/release.yml@refs/tags/v1.0.0";
    assert_eq!(value("1.3.6.1.4.1.57264.1.9"), workflow);
    assert_eq!(value("1.3.6.1.4.1.57264.1.18"), workflow);
    assert_eq!(
        value("1.3.6.1.4.1.57264.1.12"),
        "https://github.com/octo-org/sample"
    );
    assert_eq!(value("1.3.6.1.4.1.57264.1.14"), "refs/tags/v1.0.0");
    assert_eq!(
        value("1.3.6.1.4.1.57264.1.21"),
        "https://github.com/octo-org/sample/actions/runs/9000000001/attempts/1"
    );
    let gitlab = extensions(&stack.fulcio().issued()[1]);
    let value = |oid: &str| utf8(&gitlab.iter().find(|(o, _, _)| o == oid).unwrap().2);
    assert_eq!(
        value("1.3.6.1.4.1.57264.1.18"),
        "https://gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main"
    );
    assert_eq!(value("1.3.6.1.4.1.57264.1.14"), "refs/heads/main");
    let certificate = Certificate::from_der(&stack.fulcio().issued()[0]).unwrap();
    let validity = certificate.tbs_certificate.validity;
    let (not_before, not_after) = (validity.not_before, validity.not_after);
    assert_eq!(
        not_after.to_unix_duration().as_secs() - not_before.to_unix_duration().as_secs(),
        600
    );
    assert!(certificate.tbs_certificate.subject.is_empty());
}

#[test]
fn the_actions_runtime_hands_out_tokens_for_the_audience_asked_for_and_fulcio_takes_them() {
    let stack = SigstoreStack::start();
    let claims = Claims::github("octo-org/sample", "release.yml", "refs/tags/v1.0.0");
    let request_url = stack.github_request_url(&claims);
    let client = reqwest::blocking::Client::new();
    let fetch = |audience: &str, authorization: Option<&str>| {
        let mut request = client.get(format!("{request_url}&audience={audience}"));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        request.send().unwrap()
    };
    let bearer = format!("bearer {}", custody_test_support::oidc::REQUEST_TOKEN);
    let answer: serde_json::Value = fetch("sigstore", Some(&bearer)).json().unwrap();
    let token = answer["value"].as_str().unwrap().to_owned();
    assert_eq!(fetch("sigstore", None).status(), 401);
    assert_eq!(fetch("sigstore", Some("bearer wrong")).status(), 401);
    let pypi_token: serde_json::Value = fetch("pypi", Some(&bearer)).json().unwrap();
    let audiences: Vec<_> = stack
        .issuer()
        .token_requests()
        .into_iter()
        .map(|r| (r.audience, r.authorized))
        .collect();
    let some = |a: &str| Some(a.to_owned());
    assert_eq!(
        audiences,
        [
            (some("sigstore"), true),
            (some("sigstore"), false),
            (some("sigstore"), false),
            (some("pypi"), true)
        ]
    );
    let bundle = runtime()
        .block_on(signer(&stack, &token).sign(b"hello".as_slice()))
        .expect("Fulcio takes the runtime's sigstore token");
    assert_eq!(bundle.verification_material.tlog_entries.len(), 1);
    let refused = runtime()
        .block_on(signer(&stack, pypi_token["value"].as_str().unwrap()).sign(b"hello".as_slice()));
    assert!(refused.is_err(), "a token for PyPI is no token for Fulcio");
}

#[test]
fn a_deployment_environment_is_certified_in_fulcios_extension_23_and_the_subject() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    let claims =
        Claims::github("octo-org/sample", "release.yml", "refs/tags/v5.0.0").environment("pypi");
    let signed = attest_wheel(&stack, dir.path(), "5.0.0", &claims);
    let leaf = extensions(&leaf_of(&signed.bundle));
    let value = |oid: &str| utf8(&leaf.iter().find(|(o, _, _)| o == oid).unwrap().2);
    assert_eq!(value("1.3.6.1.4.1.57264.1.23"), "pypi");
    assert_eq!(
        value("1.3.6.1.4.1.57264.1.24"),
        "repo:octo-org/sample:environment:pypi"
    );
    let without = attest_wheel(
        &stack,
        dir.path(),
        "5.0.1",
        &Claims::github("octo-org/sample", "release.yml", "refs/tags/v5.0.1"),
    );
    let leaf = extensions(&leaf_of(&without.bundle));
    assert!(
        !leaf
            .iter()
            .any(|(oid, _, _)| oid == "1.3.6.1.4.1.57264.1.23")
    );
}
