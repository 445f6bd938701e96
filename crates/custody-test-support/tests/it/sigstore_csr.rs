//! Fulcio's other proof of possession, a PEM PKCS#10 `certificateSigningRequest`:
//! the stack certifies the request's key when its self-signature verifies, and refuses
//! in Fulcio's words a request that does not parse, a key Fulcio would not certify, a
//! signature that does not verify, a key and hash Fulcio's signing algorithms do not
//! pair, and — before Fulcio sees it, as grpc-gateway's protojson decoding does — a
//! body with both proofs or a request that is not base64. With neither proof Fulcio
//! finds no public key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use custody_test_support::sigstore::{
    Claims, Curve, INSECURE_PUBLIC_KEY, INVALID_CSR, INVALID_IDENTITY_TOKEN, INVALID_PUBLIC_KEY,
    INVALID_SIGNATURE, SigningKey, SigstoreStack, certificate_request, pem, pem_decode,
    sigstore_python,
};
use serde_json::{Value, json};
use x509_cert::Certificate;
use x509_cert::der::asn1::{Any, BitString, ObjectIdentifier};
use x509_cert::der::{Decode, Encode};
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// A raw `POST /api/v2/signingCert` of `body`, the token as a bearer token, as
/// sigstore-python sends it.
fn post(stack: &SigstoreStack, token: &str, body: &str) -> (u16, Value) {
    let response = reqwest::blocking::Client::new()
        .post(format!("{}/api/v2/signingCert", stack.fulcio_url()))
        .bearer_auth(token)
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .unwrap();
    (response.status().as_u16(), response.json().unwrap())
}

/// Asks for a certificate with the PEM request `csr`.
fn request_with_csr(stack: &SigstoreStack, token: &str, csr: &str) -> (u16, Value) {
    let body = json!({"certificateSigningRequest": STANDARD.encode(csr)});
    post(stack, token, &body.to_string())
}

fn grpc_error(message: &str) -> (u16, Value) {
    (400, json!({"code": 3, "message": message, "details": []}))
}

/// The public key of the leaf of a successful answer.
fn certified_key(answer: &(u16, Value)) -> Vec<u8> {
    assert_eq!(answer.0, 200, "{}", answer.1);
    let leaf = answer.1["signedCertificateEmbeddedSct"]["chain"]["certificates"][0]
        .as_str()
        .unwrap();
    let (_, der) = pem_decode(leaf).unwrap();
    let certificate = Certificate::from_der(&der).unwrap();
    certificate
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .unwrap()
}

/// A public key of algorithm `oid` with `parameters`, around `point`.
fn spki(oid: &str, parameters: Option<&str>, point: &[u8]) -> Vec<u8> {
    SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: ObjectIdentifier::new_unwrap(oid),
            parameters: parameters.map(|p| Any::from(&ObjectIdentifier::new_unwrap(p))),
        },
        subject_public_key: BitString::from_bytes(point).unwrap(),
    }
    .to_der()
    .unwrap()
}

#[test]
fn a_self_signed_request_is_certified_for_its_key_on_either_curve() {
    let stack = SigstoreStack::start();
    let token = stack.issuer().mint(&Claims::github(
        "octo-org/sample",
        "release.yml",
        "refs/tags/v1.0.0",
    ));
    for curve in [Curve::P256, Curve::P384] {
        let key = SigningKey::generate(curve);
        let answer = request_with_csr(&stack, &token, &certificate_request(&key.spki_der(), &key));
        assert_eq!(certified_key(&answer), key.spki_der(), "{curve:?}");
    }
    assert_eq!(stack.fulcio().issued().len(), 2);
    // A token in the body wins over the header, as in Fulcio.
    let key = SigningKey::generate(Curve::P256);
    let body = json!({
        "credentials": {"oidcIdentityToken": token},
        "certificate_signing_request": STANDARD.encode(certificate_request(&key.spki_der(), &key)),
    });
    let answer = post(&stack, "not-a-jwt", &body.to_string());
    assert_eq!(certified_key(&answer), key.spki_der());
}

#[test]
fn requests_that_do_not_parse_or_prove_nothing_are_refused_in_fulcios_words() {
    let stack = SigstoreStack::start();
    let token = stack.issuer().mint(&Claims::email("releaser@example.com"));
    let key = SigningKey::generate(Curve::P256);
    let good = certificate_request(&key.spki_der(), &key);
    let (_, der) = pem_decode(&good).unwrap();
    let other = SigningKey::generate(Curve::P256);

    let mut flipped = der.clone();
    *flipped.last_mut().unwrap() ^= 1;
    let secp256k1 = spki(
        "1.2.840.10045.2.1",
        Some("1.3.132.0.10"),
        key.public_point(),
    );
    let off_curve = spki("1.2.840.10045.2.1", Some("1.2.840.10045.3.1.7"), &[4; 65]);
    let unknown_algorithm = spki("1.2.3.4", None, key.public_point());
    let cases = [
        ("a certificate", pem("CERTIFICATE", &der), INVALID_CSR),
        ("not PEM", "hello".to_owned(), INVALID_CSR),
        (
            "truncated",
            pem("CERTIFICATE REQUEST", &der[..der.len() - 3]),
            INVALID_CSR,
        ),
        (
            "a curve Go does not know",
            certificate_request(&secp256k1, &key),
            INVALID_CSR,
        ),
        (
            "a point off the curve",
            certificate_request(&off_curve, &key),
            INVALID_CSR,
        ),
        (
            "a key of no known algorithm",
            certificate_request(&unknown_algorithm, &key),
            INSECURE_PUBLIC_KEY,
        ),
        (
            "signed by another key",
            certificate_request(&key.spki_der(), &other),
            INVALID_SIGNATURE,
        ),
        (
            "a signature changed",
            pem("CERTIFICATE REQUEST", &flipped),
            INVALID_SIGNATURE,
        ),
    ];
    for (what, csr, message) in cases {
        assert_eq!(
            request_with_csr(&stack, &token, &csr),
            grpc_error(message),
            "{what}"
        );
    }
    // The token is checked first.
    assert_eq!(
        request_with_csr(&stack, "not-a-jwt", &good),
        grpc_error(INVALID_IDENTITY_TOKEN)
    );
    assert!(stack.fulcio().issued().is_empty());
    assert_eq!(
        certified_key(&request_with_csr(&stack, &token, &good)),
        key.spki_der()
    );
}

/// A PEM request for a fresh key on `curve`, signed with `hash`, made by
/// pyca/cryptography (what sigstore-python builds its requests with).
fn cryptography_request(curve: &str, hash: &str) -> String {
    const SCRIPT: &str = "
import sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
curve = {'P-256': ec.SECP256R1(), 'P-384': ec.SECP384R1()}[sys.argv[1]]
hash = {'SHA-256': hashes.SHA256(), 'SHA-384': hashes.SHA384(), 'SHA-512': hashes.SHA512()}[sys.argv[2]]
key = ec.generate_private_key(curve)
request = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([])).sign(key, hash)
sys.stdout.write(request.public_bytes(serialization.Encoding.PEM).decode())
";
    let output = std::process::Command::new(sigstore_python())
        .args(["-c", SCRIPT, curve, hash])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn a_key_and_hash_fulcios_signing_algorithms_do_not_pair_are_not_permitted() {
    let stack = SigstoreStack::start();
    let token = stack.issuer().mint(&Claims::email("releaser@example.com"));
    for (curve, hash) in [
        ("P-256", "SHA-384"),
        ("P-256", "SHA-512"),
        ("P-384", "SHA-256"),
    ] {
        let answer = request_with_csr(&stack, &token, &cryptography_request(curve, hash));
        let message = format!("signing algorithm not permitted: *ecdsa.PublicKey, {hash}");
        assert_eq!(answer, grpc_error(&message), "{curve} {hash}");
    }
    assert!(stack.fulcio().issued().is_empty());
    for (curve, hash) in [("P-256", "SHA-256"), ("P-384", "SHA-384")] {
        let answer = request_with_csr(&stack, &token, &cryptography_request(curve, hash));
        assert_eq!(answer.0, 200, "{curve} {hash}: {}", answer.1);
    }
}

#[test]
fn both_proofs_are_refused_by_the_gateway_and_neither_leaves_no_public_key() {
    let stack = SigstoreStack::start();
    let claims = Claims::email("releaser@example.com");
    let token = stack.issuer().mint(&claims);
    let key = SigningKey::generate(Curve::P256);
    let csr = STANDARD.encode(certificate_request(&key.spki_der(), &key));
    let public_key_request = json!({
        "publicKey": {"algorithm": "ECDSA", "content": pem("PUBLIC KEY", &key.spki_der())},
        "proofOfPossession": STANDARD.encode(key.sign(claims.get("email").unwrap().as_bytes())),
    });
    // Each proof alone is good.
    let alone = json!({"publicKeyRequest": public_key_request}).to_string();
    assert_eq!(certified_key(&post(&stack, &token, &alone)), key.spki_der());

    // Both: protojson stops at the second member of the oneof, at its line and column,
    // whatever the token.
    let both = format!(
        "{{\"certificateSigningRequest\": \"{csr}\",\n  \"publicKeyRequest\": {public_key_request}}}"
    );
    let oneof = "proto: (line 2:3): error parsing \"publicKeyRequest\", oneof dev.sigstore.fulcio.v2.CreateSigningCertificateRequest.key is already set";
    assert_eq!(post(&stack, &token, &both), grpc_error(oneof));
    assert_eq!(post(&stack, "not-a-jwt", &both), grpc_error(oneof));
    // A `null` member is no member.
    let null = format!("{{\"publicKeyRequest\": null, \"certificateSigningRequest\": \"{csr}\"}}");
    assert_eq!(certified_key(&post(&stack, &token, &null)), key.spki_der());

    // Neither, or an empty request: Fulcio parses an empty public key.
    for body in ["{}", r#"{"certificateSigningRequest": ""}"#] {
        assert_eq!(
            post(&stack, &token, body),
            grpc_error(INVALID_PUBLIC_KEY),
            "{body}"
        );
    }
    let not_base64 = r#"{"certificateSigningRequest": "not base64!"}"#;
    assert_eq!(
        post(&stack, &token, not_base64),
        grpc_error(
            "proto: (line 1:31): invalid value for bytes field certificateSigningRequest: \"not base64!\""
        )
    );
    assert_eq!(stack.fulcio().issued().len(), 2);
}
