//! `verify_bundle`: a plain Sigstore bundle over an artifact's digest, from a known
//! signer (what a signed approval record carries). The real bundles are sigstore-python's
//! DSSE bundles among pypi-attestations' assets.

use custody_attest::{Identity, TrustRoot, verify_bundle};

use crate::common::{asset, read, sha256_hex};

const MODELS: &str = "pypi_attestation_models-0.0.4a2.tar.gz";
const MODELS_SIGNER: &str = "github:trailofbits/pypi-attestation-models/release.yml@refs/tags/v*";

fn verify_models(sha256: &str, bundle: &[u8], identity: &str) -> Result<(), String> {
    let identity: Identity = identity.parse().unwrap();
    verify_bundle(sha256, bundle, &TrustRoot::public_good(), &identity)
        .map(|claims| {
            assert_eq!(
                claims.source_repository.as_deref(),
                Some("https://github.com/trailofbits/pypi-attestation-models")
            );
        })
        .map_err(|error| error.code().to_owned())
}

#[test]
fn a_real_bundle_verifies_for_its_signer() {
    let sha256 = sha256_hex(&read(&asset(MODELS)));
    let bundle = read(&asset(&format!("{MODELS}.sigstore")));
    assert_eq!(verify_models(&sha256, &bundle, MODELS_SIGNER), Ok(()));

    let rfc8785 = "rfc8785-0.1.2-py3-none-any.whl";
    let claims = verify_bundle(
        &sha256_hex(&read(&asset(rfc8785))),
        &read(&asset(&format!("{rfc8785}.sigstore"))),
        &TrustRoot::staging(),
        &"email:william@yossarian.net@https://github.com/login/oauth"
            .parse()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims.identity, "william@yossarian.net");
}

#[test]
fn a_bundle_over_another_digest_or_from_another_signer_is_refused() {
    let bundle = read(&asset(&format!("{MODELS}.sigstore")));
    let mut file = read(&asset(MODELS));
    file[0] ^= 0x01;
    assert_eq!(
        verify_models(&sha256_hex(&file), &bundle, MODELS_SIGNER),
        Err("attestation-subject-digest".into())
    );
    let sha256 = sha256_hex(&read(&asset(MODELS)));
    assert_eq!(
        verify_models(
            &sha256,
            &bundle,
            "github:trailofbits/pypi-attestation-models/ci.yml"
        ),
        Err("attestation-identity".into())
    );
    assert_eq!(
        verify_bundle(
            &sha256,
            &bundle,
            &TrustRoot::staging(),
            &MODELS_SIGNER.parse().unwrap()
        )
        .unwrap_err()
        .code(),
        "attestation-trust-root"
    );
}

#[test]
fn malformed_input_is_named() {
    let sha256 = sha256_hex(&read(&asset(MODELS)));
    assert_eq!(
        verify_models(&sha256, b"{\"mediaType\": 1}", MODELS_SIGNER),
        Err("attestation-unreadable".into())
    );
    let bundle = read(&asset(&format!("{MODELS}.sigstore")));
    assert_eq!(
        verify_models("not-hex", &bundle, MODELS_SIGNER),
        Err("attestation-invalid".into())
    );
}
