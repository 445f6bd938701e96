//! The stack refuses what the real services refuse, in their words: Fulcio a token for
//! another audience, an expired one, a forged one, one from an issuer it does not know,
//! one missing a claim its template needs, and a proof of possession that does not
//! verify; Rekor an entry whose signature its verifier does not make, a dsse entry
//! proposing the fields it computes itself, and the same entry twice.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use custody_test_support::sigstore::{
    Claims, Curve, INVALID_IDENTITY_TOKEN, INVALID_PUBLIC_KEY, INVALID_SIGNATURE, SigningKey,
    SigstoreStack, pem,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::sigstore_stack::{runtime, signer};

/// Signs a blob with `token` through sigstore-sign; the Fulcio refusal's status and body.
fn fulcio_refusal(stack: &SigstoreStack, token: &str) -> (u16, Value) {
    let error = runtime()
        .block_on(signer(stack, token).sign(b"payload".as_slice()))
        .expect_err("Fulcio refuses");
    let sigstore_sign::Error::Fulcio(sigstore_sign::fulcio::Error::Status { status, message }) =
        &error
    else {
        panic!("not a Fulcio refusal: {error:?}");
    };
    let body = message
        .strip_prefix("failed to create signing certificate: ")
        .unwrap_or_else(|| panic!("{message}"));
    (*status, serde_json::from_str(body).unwrap())
}

fn grpc_error(message: &str) -> Value {
    json!({"code": 3, "message": message, "details": []})
}

#[test]
fn fulcio_refuses_tokens_that_go_oidc_would_not_verify_for_it() {
    let stack = SigstoreStack::start();
    let claims = Claims::github("octo-org/sample", "release.yml", "refs/tags/v1.0.0");
    let issuer = stack.issuer();
    let refused = [
        (
            "another audience",
            issuer.mint(&claims.clone().audience("pypi")),
        ),
        ("expired", issuer.mint(&claims.clone().expires_in(-1))),
        (
            "not yet valid",
            issuer.mint(&claims.clone().set("nbf", json!(4_000_000_000_i64))),
        ),
        ("forged", issuer.mint_with_unpublished_key(&claims)),
        (
            "unknown issuer",
            issuer.mint(&claims.clone().set("iss", json!("https://issuer.invalid"))),
        ),
    ];
    for (what, token) in refused {
        assert_eq!(
            fulcio_refusal(&stack, &token),
            (400, grpc_error(INVALID_IDENTITY_TOKEN)),
            "{what}"
        );
    }
    assert_eq!(stack.fulcio().issued().len(), 0);
    assert_eq!(stack.log_entry_count(), 0);
    // The same claims, signed by the issuer's key, for Fulcio's audience, go through.
    let token = issuer.mint(&claims);
    runtime()
        .block_on(signer(&stack, &token).sign(b"payload".as_slice()))
        .unwrap();
    assert_eq!(
        (stack.fulcio().issued().len(), stack.log_entry_count()),
        (1, 1)
    );
}

#[test]
fn fulcio_refuses_identities_its_issuer_types_cannot_derive() {
    let stack = SigstoreStack::start();
    let issuer = stack.issuer();
    let github = Claims::github("octo-org/sample", "release.yml", "refs/tags/v1.0.0");
    let (status, body) = fulcio_refusal(
        &stack,
        &issuer.mint(&github.clone().without("job_workflow_sha")),
    );
    assert_eq!(status, 400);
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("value <job_workflow_sha> not present in either claims or defaults."),
        "{message}"
    );
    let (_, body) = fulcio_refusal(&stack, &issuer.mint(&github.without("run_id")));
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("map has no entry for key \"run_id\"")
    );
    let unverified = Claims::email("releaser@example.com").set("email_verified", json!(false));
    assert_eq!(
        fulcio_refusal(&stack, &issuer.mint(&unverified)),
        (400, grpc_error(INVALID_IDENTITY_TOKEN))
    );
}

/// A raw `POST /api/v2/signingCert`.
fn request_certificate(
    stack: &SigstoreStack,
    token: &str,
    key: &str,
    proof: &[u8],
) -> (u16, Value) {
    let body = json!({
        "credentials": {"oidcIdentityToken": token},
        "publicKeyRequest": {
            "publicKey": {"algorithm": "", "content": key},
            "proofOfPossession": STANDARD.encode(proof),
        },
    });
    let response = reqwest::blocking::Client::new()
        .post(format!("{}/api/v2/signingCert", stack.fulcio_url()))
        .json(&body)
        .send()
        .unwrap();
    (response.status().as_u16(), response.json().unwrap())
}

#[test]
fn fulcio_wants_a_proof_of_possession_over_the_principal_name_with_a_usable_key() {
    let stack = SigstoreStack::start();
    let claims = Claims::github("octo-org/sample", "release.yml", "refs/tags/v1.0.0");
    let token = stack.issuer().mint(&claims);
    let subject = claims.get("sub").unwrap();
    let key = SigningKey::generate(Curve::P256);
    let public = pem("PUBLIC KEY", &key.spki_der());

    let wrong_name = request_certificate(&stack, &token, &public, &key.sign(b"someone else"));
    assert_eq!(wrong_name, (400, grpc_error(INVALID_SIGNATURE)));
    let other_key = SigningKey::generate(Curve::P256);
    let wrong_key =
        request_certificate(&stack, &token, &public, &other_key.sign(subject.as_bytes()));
    assert_eq!(wrong_key, (400, grpc_error(INVALID_SIGNATURE)));
    let garbage = request_certificate(&stack, &token, "not a key", &key.sign(subject.as_bytes()));
    assert_eq!(garbage, (400, grpc_error(INVALID_PUBLIC_KEY)));
    let not_a_token = request_certificate(&stack, "not-a-jwt", &public, &key.sign(b"not-a-jwt"));
    assert_eq!(not_a_token, (400, grpc_error(INVALID_IDENTITY_TOKEN)));
    let not_a_key = pem("PUBLIC KEY", &[0x30, 0x03, 0x02, 0x01, 0x00]);
    let refused = request_certificate(&stack, &token, &not_a_key, &key.sign(subject.as_bytes()));
    assert_eq!(refused, (400, grpc_error(INVALID_PUBLIC_KEY)));

    let (status, body) =
        request_certificate(&stack, &token, &public, &key.sign(subject.as_bytes()));
    assert_eq!(status, 200, "{body}");
    let chain = body["signedCertificateEmbeddedSct"]["chain"]["certificates"]
        .as_array()
        .unwrap();
    assert_eq!(chain.len(), 3, "leaf, intermediate, root");
    assert!(chain.iter().all(|c| {
        c.as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----\n")
    }));
}

/// A raw `POST /api/v1/log/entries`.
fn propose(stack: &SigstoreStack, entry: &Value) -> (u16, Value) {
    let response = reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/log/entries", stack.rekor_url()))
        .json(entry)
        .send()
        .unwrap();
    (response.status().as_u16(), response.json().unwrap())
}

fn hashedrekord(digest: &[u8], signature: &[u8], key: &SigningKey) -> Value {
    json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": hex::encode(digest)}},
            "signature": {
                "content": STANDARD.encode(signature),
                "publicKey": {"content": STANDARD.encode(pem("PUBLIC KEY", &key.spki_der()))},
            },
        },
    })
}

#[test]
fn rekor_logs_only_entries_whose_signatures_verify_and_each_only_once() {
    let stack = SigstoreStack::start();
    let key = SigningKey::generate(Curve::P256);
    let artifact = b"artifact";
    let digest = Sha256::digest(artifact);
    let signature = key.sign(artifact);

    let (status, body) = propose(
        &stack,
        &hashedrekord(&Sha256::digest(b"other"), &signature, &key),
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("error processing entry: verifying signature")
    );
    let other_key = SigningKey::generate(Curve::P256);
    let (status, _) = propose(&stack, &hashedrekord(&digest, &signature, &other_key));
    assert_eq!(status, 400);
    assert_eq!(stack.log_entry_count(), 0);

    let entry = hashedrekord(&digest, &signature, &key);
    let (status, body) = propose(&stack, &entry);
    assert_eq!(status, 201, "{body}");
    let (uuid, logged) = body.as_object().unwrap().iter().next().unwrap();
    assert_eq!(logged["logIndex"], 0);
    let canonical: Value =
        serde_json::from_slice(&STANDARD.decode(logged["body"].as_str().unwrap()).unwrap())
            .unwrap();
    assert_eq!(
        canonical["spec"]["data"]["hash"]["value"],
        hex::encode(digest)
    );

    let fetched: Value = reqwest::blocking::get(format!(
        "{}/api/v1/log/entries?logIndex=0",
        stack.rekor_url()
    ))
    .unwrap()
    .json()
    .unwrap();
    assert_eq!(fetched[uuid]["body"], logged["body"]);
    let by_uuid = format!("{}/api/v1/log/entries/{uuid}", stack.rekor_url());
    let fetched: Value = reqwest::blocking::get(by_uuid).unwrap().json().unwrap();
    assert_eq!(fetched[uuid]["integratedTime"], logged["integratedTime"]);

    let (status, body) = propose(&stack, &entry);
    assert_eq!(status, 409);
    let message = body["message"].as_str().unwrap();
    assert_eq!(
        message,
        format!("an equivalent entry already exists in the transparency log with UUID {uuid}")
    );
    assert_eq!(stack.log_entry_count(), 1);
}

#[test]
fn rekor_refuses_a_dsse_envelope_its_verifier_did_not_sign() {
    let stack = SigstoreStack::start();
    let key = SigningKey::generate(Curve::P256);
    let other = SigningKey::generate(Curve::P256);
    let payload = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
    let payload_type = "application/vnd.in-toto+json";
    let mut pae = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    pae.extend_from_slice(payload);
    let entry = |signer: &SigningKey| {
        let envelope = json!({
            "payload": STANDARD.encode(payload),
            "payloadType": payload_type,
            "signatures": [{"keyid": "", "sig": STANDARD.encode(signer.sign(&pae))}],
        });
        json!({
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {"proposedContent": {
                "envelope": envelope.to_string(),
                "verifiers": [STANDARD.encode(pem("PUBLIC KEY", &key.spki_der()))],
            }},
        })
    };
    let (status, body) = propose(&stack, &entry(&other));
    assert_eq!(
        (status, body["message"].as_str().unwrap()),
        (
            400,
            "error processing entry: all signatures must have a key that verifies it"
        )
    );
    // The server computes the hashes and signatures: a client proposing them too is
    // refused, one sending them as `null` (sigstore-python) is not.
    let mut both = entry(&key);
    both["spec"]["payloadHash"] =
        json!({"algorithm": "sha256", "value": hex::encode(Sha256::digest(payload))});
    let (status, body) = propose(&stack, &both);
    assert_eq!(
        (status, body["message"].as_str().unwrap()),
        (
            400,
            "error processing entry: either proposedContent or envelopeHash, payloadHash, and signatures must be present but not both"
        )
    );
    let mut nulls = entry(&key);
    for field in ["envelopeHash", "payloadHash", "signatures"] {
        nulls["spec"][field] = Value::Null;
    }
    let (status, body) = propose(&stack, &nulls);
    assert_eq!(status, 201, "{body}");
    let logged = body.as_object().unwrap().values().next().unwrap();
    let canonical: Value =
        serde_json::from_slice(&STANDARD.decode(logged["body"].as_str().unwrap()).unwrap())
            .unwrap();
    assert_eq!(
        canonical["spec"]["payloadHash"]["value"],
        hex::encode(Sha256::digest(payload))
    );
}
