//! The keys of the local Sigstore stack (the CA, the CT log, Rekor, the OIDC issuers) and
//! the signature checks the services make on what clients send: ECDSA over P-256 and
//! P-384, the curves Fulcio and Rekor take from sigstore clients.

use aws_lc_rs::digest;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use x509_cert::der::Decode;
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::spki::SubjectPublicKeyInfoRef;

/// `id-ecPublicKey`.
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// `prime256v1` (NIST P-256).
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// `secp384r1` (NIST P-384).
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
/// `ecdsa-with-SHA256`.
pub(crate) const ECDSA_WITH_SHA256: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
/// `ecdsa-with-SHA384`.
pub(crate) const ECDSA_WITH_SHA384: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");

/// A private key of the stack.
pub struct SigningKey {
    pair: EcdsaKeyPair,
    curve: Curve,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("curve", &self.curve)
            .finish_non_exhaustive()
    }
}

/// The curves the stack signs and verifies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
}

impl Curve {
    fn of_spki(spki: &SubjectPublicKeyInfoRef<'_>) -> Option<Self> {
        if spki.algorithm.oid != EC_PUBLIC_KEY {
            return None;
        }
        let parameters = spki.algorithm.parameters_oid().ok()?;
        match parameters {
            P256 => Some(Self::P256),
            P384 => Some(Self::P384),
            _ => None,
        }
    }

    /// The hash sigstore pairs with the curve (`LoadDefaultVerifier`, Rekor's allow list).
    pub(crate) fn digest(self) -> &'static digest::Algorithm {
        match self {
            Self::P256 => &digest::SHA256,
            Self::P384 => &digest::SHA384,
        }
    }

    /// The name Go gives the curve's hash (`crypto.Hash.String`), as Fulcio's
    /// messages say it.
    pub(crate) fn hash_name(self) -> &'static str {
        match self {
            Self::P256 => "SHA-256",
            Self::P384 => "SHA-384",
        }
    }

    fn verification(self) -> &'static signature::EcdsaVerificationAlgorithm {
        match self {
            Self::P256 => &signature::ECDSA_P256_SHA256_ASN1,
            Self::P384 => &signature::ECDSA_P384_SHA384_ASN1,
        }
    }
}

impl SigningKey {
    /// A fresh key on `curve` that signs ASN.1 DER signatures (X.509, SCTs, Rekor).
    pub fn generate(curve: Curve) -> Self {
        let algorithm = match curve {
            Curve::P256 => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            Curve::P384 => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
        };
        Self {
            pair: EcdsaKeyPair::generate(algorithm).expect("generate an ECDSA key"),
            curve,
        }
    }

    /// A fresh P-256 key that signs JWS `ES256` signatures (`r || s`, RFC 7518).
    pub fn generate_es256() -> Self {
        Self {
            pair: EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
                .expect("generate an ES256 key"),
            curve: Curve::P256,
        }
    }

    pub fn curve(&self) -> Curve {
        self.curve
    }

    /// The uncompressed public point (`04 || x || y`).
    pub fn public_point(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    /// The public key as a DER `SubjectPublicKeyInfo`.
    pub fn spki_der(&self) -> Vec<u8> {
        self.pair
            .public_key()
            .as_der()
            .expect("encode the public key")
            .as_ref()
            .to_vec()
    }

    /// The sha256 of the DER public key: a transparency log's ID and key ID.
    pub fn key_id(&self) -> [u8; 32] {
        Sha256::digest(self.spki_der()).into()
    }

    /// Signs `message` (hashed with the curve's hash).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair
            .sign(&SystemRandom::new(), message)
            .expect("sign")
            .as_ref()
            .to_vec()
    }

    /// The X.509 signature algorithm of this key's signatures.
    pub(crate) fn signature_algorithm(&self) -> ObjectIdentifier {
        match self.curve {
            Curve::P256 => ECDSA_WITH_SHA256,
            Curve::P384 => ECDSA_WITH_SHA384,
        }
    }
}

/// A public key a client sent, parsed from its DER `SubjectPublicKeyInfo`.
#[derive(Debug, Clone)]
pub(crate) struct PublicKey {
    pub(crate) spki_der: Vec<u8>,
    pub(crate) curve: Curve,
    point: Vec<u8>,
}

impl PublicKey {
    /// Parses a DER `SubjectPublicKeyInfo`; `None` when it is not an ECDSA key on a
    /// curve the stack takes.
    pub(crate) fn from_spki_der(der: &[u8]) -> Option<Self> {
        let spki = SubjectPublicKeyInfoRef::from_der(der).ok()?;
        let curve = Curve::of_spki(&spki)?;
        let point = spki.subject_public_key.as_bytes()?.to_vec();
        // The point must be on the curve: aws-lc checks it when parsing.
        UnparsedPublicKey::new(curve.verification(), &point)
            .parse()
            .ok()?;
        Some(Self {
            spki_der: der.to_vec(),
            curve,
            point,
        })
    }

    /// The uncompressed public point.
    pub(crate) fn point(&self) -> &[u8] {
        &self.point
    }

    /// Checks an ASN.1 DER ECDSA `signature` over `message` hashed with the curve's hash.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(self.curve.verification(), &self.point)
            .verify(message, signature)
            .is_ok()
    }

    /// Checks an ASN.1 DER ECDSA `signature` over an already computed `digest` made with
    /// `algorithm`; only the curve's own hash is taken.
    pub(crate) fn verify_digest(
        &self,
        algorithm: &'static digest::Algorithm,
        digest: &[u8],
        signature: &[u8],
    ) -> bool {
        if algorithm != self.curve.digest() {
            return false;
        }
        let Ok(digest) = digest::Digest::import_less_safe(digest, algorithm) else {
            return false;
        };
        UnparsedPublicKey::new(self.curve.verification(), &self.point)
            .verify_digest(&digest, signature)
            .is_ok()
    }
}

/// `der` as PEM with `label`, wrapped at 64 columns as Go's `pem.Encode` and
/// Python's `cryptography` write it.
pub fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut text = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        text.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        text.push('\n');
    }
    text.push_str(&format!("-----END {label}-----\n"));
    text
}

/// The first PEM block of `text`: its label and DER bytes.
pub fn pem_decode(text: &str) -> Option<(String, Vec<u8>)> {
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start + "-----BEGIN ".len()..];
    let (label, rest) = rest.split_once("-----")?;
    let end = rest.find(&format!("-----END {label}-----"))?;
    let body: String = rest[..end].split_whitespace().collect();
    Some((label.to_owned(), STANDARD.decode(body).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_with_the_parsed_public_key_and_fail_when_changed() {
        for curve in [Curve::P256, Curve::P384] {
            let key = SigningKey::generate(curve);
            let public = PublicKey::from_spki_der(&key.spki_der()).unwrap();
            assert_eq!(public.curve, curve);
            let signature = key.sign(b"message");
            assert!(public.verify(b"message", &signature));
            assert!(!public.verify(b"messagE", &signature));
            let digest = digest::digest(curve.digest(), b"message");
            assert!(public.verify_digest(curve.digest(), digest.as_ref(), &signature));
            assert!(!public.verify_digest(&digest::SHA512, digest.as_ref(), &signature));
        }
    }

    #[test]
    fn pem_round_trips_and_wraps_at_64_columns() {
        let der = vec![7u8; 100];
        let text = pem("CERTIFICATE", &der);
        assert!(text.lines().all(|line| line.len() <= 64));
        assert_eq!(
            pem_decode(&text),
            Some(("CERTIFICATE".to_owned(), der.clone()))
        );
    }
}
