//! sigstore-python signs against the stack as it signs against sigstore.dev: with the
//! stack's client trust configuration it sends Fulcio a PKCS#10 certificate signing
//! request, logs a hashedrekord (`sign`) or dsse (`attest`) entry in Rekor, and checks
//! the SCT itself. What it makes must then verify — with sigstore-python and
//! pypi-attestations, and with sigstore-rust's verifier — for the signer's identity
//! only, and the bytes it signed only.

use custody_test_support::sigstore::{
    Claims, EMAIL_ISSUER, Expected, GITHUB_ISSUER, Root, SLSA_PROVENANCE_V1, Signed, SigstoreStack,
    Subject, python_verify, sigstore_cli,
};
use custody_test_support::{WheelBuilder, sha256_hex};
use serde_json::Value;
use sigstore_trust_root::TrustedRoot;
use sigstore_types::{Bundle, Sha256Hash};
use sigstore_verify::{VerificationPolicy, Verifier};

use crate::sigstore_stack::{accepted_by_both, assert_python_accepts_only};

fn bundle_of(path: &std::path::Path) -> Bundle {
    Bundle::from_json(&fs_err::read_to_string(path).unwrap()).unwrap()
}

fn rust_verifier(stack: &SigstoreStack) -> Verifier {
    Verifier::new(&TrustedRoot::from_file(stack.trust_root_path()).unwrap()).unwrap()
}

/// The body of the one request Fulcio was sent.
fn fulcio_request(stack: &SigstoreStack) -> Value {
    let requests = stack.fulcio().requests();
    let signing: Vec<_> = requests
        .iter()
        .filter(|r| r.url == "/api/v2/signingCert")
        .collect();
    assert_eq!(signing.len(), 1, "{requests:?}");
    serde_json::from_slice(&signing[0].body).unwrap()
}

#[test]
fn sigstore_python_signs_a_blob_for_an_email_identity_with_a_certificate_request() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    let blob = dir.path().join("approval.json");
    fs_err::write(&blob, br#"{"approved": "sha256:0123"}"#).unwrap();
    let person = "releaser@example.com";
    let bundle_path = stack.python_sign(&Claims::email(person), &blob);

    // The proof of possession was a PEM PKCS#10 request, the token a bearer header.
    let request = fulcio_request(&stack);
    assert!(request.get("publicKeyRequest").is_none(), "{request}");
    let csr = request["certificateSigningRequest"].as_str().unwrap();
    let pem = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, csr).unwrap();
    assert!(pem.starts_with(b"-----BEGIN CERTIFICATE REQUEST-----\n"));
    assert_eq!(
        (stack.fulcio().issued().len(), stack.log_entry_count()),
        (1, 1)
    );
    let bundle = bundle_of(&bundle_path);
    let body = bundle.verification_material.tlog_entries[0]
        .canonicalized_body
        .clone();
    let body: Value = serde_json::from_slice(body.as_bytes()).unwrap();
    assert_eq!(body["kind"], "hashedrekord");

    assert_python_accepts_only(&stack, &bundle_path, &blob, person);

    let policy = VerificationPolicy::any_identity()
        .require_identity(person)
        .require_issuer(EMAIL_ISSUER);
    let bytes = fs_err::read(&blob).unwrap();
    rust_verifier(&stack)
        .verify(bytes.as_slice(), &bundle, &policy)
        .unwrap();
    let other = VerificationPolicy::any_identity().require_identity("mallory@example.com");
    assert!(
        rust_verifier(&stack)
            .verify(bytes.as_slice(), &bundle, &other)
            .is_err()
    );
}

#[test]
fn sigstore_python_signs_for_a_github_workflow_and_attests_a_wheel_pypi_attestations_accepts() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    let claims = Claims::github("octo-org/sample", "release.yml", "refs/tags/v1.0.0");
    let wheel = WheelBuilder::new("custody-sample", "1.0.0").build(dir.path());
    let name = wheel.file_name().unwrap().to_str().unwrap().to_owned();
    let sha256 = sha256_hex(&fs_err::read(&wheel).unwrap());
    let predicate = dir.path().join("provenance.json");
    fs_err::write(
        &predicate,
        serde_json::to_vec(&serde_json::json!({
            "buildDefinition": {
                "buildType": "https://actions.github.io/buildtypes/workflow/v1",
                "externalParameters": {"workflow": {"path": ".github/workflows/release.yml"}},
            },
            "runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"}},
        }))
        .unwrap(),
    )
    .unwrap();
    let bundle_path = stack.python_attest(&claims, &wheel, &predicate);
    let bundle = bundle_of(&bundle_path);

    let root = Root::File(stack.trust_root_path());
    let signed = Signed::Bundle(&bundle_path);
    let publisher = Expected::GitHub("octo-org/sample", "release.yml");
    let statement = accepted_by_both(python_verify(
        root,
        signed,
        Subject::File(&wheel),
        publisher,
    ));
    assert_eq!(statement["predicateType"], SLSA_PROVENANCE_V1);
    assert_eq!(statement["subject"][0]["name"], name.as_str());
    assert_eq!(statement["subject"][0]["digest"]["sha256"], sha256.as_str());
    let other_workflow = Expected::GitHub("octo-org/sample", "nightly.yml");
    let refused = python_verify(root, signed, Subject::File(&wheel), other_workflow);
    assert_eq!(refused.pypi_attestations.map(|v| v.verified), Some(false));

    let verified = rust_verifier(&stack)
        .verify(
            Sha256Hash::from_hex(&sha256).unwrap(),
            &bundle,
            &VerificationPolicy::any_identity(),
        )
        .unwrap();
    assert_eq!(verified.issuer(), Some(GITHUB_ISSUER));
    assert!(verified.sct_verified() && verified.tlog_verified());
    let other_file = sha256_hex(b"another wheel");
    assert!(
        rust_verifier(&stack)
            .verify(
                Sha256Hash::from_hex(&other_file).unwrap(),
                &bundle,
                &VerificationPolicy::any_identity()
            )
            .is_err()
    );

    // A message signature by the same workflow: the SAN is the workflow's URI.
    let blob = dir.path().join("approval.json");
    fs_err::write(&blob, b"{}").unwrap();
    let signed = stack.python_sign(&claims, &blob);
    let judged = python_verify(
        root,
        Signed::Bundle(&signed),
        Subject::File(&blob),
        publisher,
    );
    assert!(judged.sigstore.verified, "{judged:?}");
    assert_eq!(stack.log_entry_count(), 2);
}

#[test]
fn sigstore_python_stops_when_fulcio_refuses_its_token_and_nothing_is_logged() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    let blob = dir.path().join("approval.json");
    fs_err::write(&blob, b"{}").unwrap();
    // Signed by a key the issuer never published: sigstore-python cannot tell, Fulcio
    // can.
    let claims = Claims::email("releaser@example.com");
    let forged = stack.issuer().mint_with_unpublished_key(&claims);
    let output = sigstore_cli(stack.client_trust_config_path(), &forged)
        .args(["sign"])
        .arg(&blob)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("FulcioClientError"), "{stderr}");
    assert!(!stderr.contains(&forged), "the token was printed: {stderr}");
    assert_eq!(
        (stack.fulcio().issued().len(), stack.log_entry_count()),
        (0, 0)
    );
    assert!(!dir.path().join("approval.json.sigstore.json").exists());
}
