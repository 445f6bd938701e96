//! PKCS#10 certificate signing requests, the other proof of possession Fulcio takes
//! (`certificateSigningRequest`, what sigstore-python sends): the checks
//! `CreateSigningCertificate` makes in `pkg/server/grpc_server.go` — parse the PEM
//! request as sigstore's `cryptoutils.ParseCSR` and Go's `x509.ParseCertificateRequest`
//! do, vet the key (`goodkey.ValidatePubKey`), verify the request's self-signature
//! (`CheckSignature`), and allow only the key and hash pairs of Fulcio's default
//! `--client-signing-algorithms`. Fulcio ignores the subject and attributes; so does
//! this, beyond their shape. Like the `publicKeyRequest` path, only ECDSA P-256 and
//! P-384 keys are usable here: an RSA, Ed25519 or P-521 key, which Fulcio would take and
//! no sigstore client here sends, is refused as insecure.

use aws_lc_rs::signature::{self, UnparsedPublicKey};
use x509_cert::der::asn1::{AnyRef, BitString, BitStringRef, ObjectIdentifier, SetOfVec};
use x509_cert::der::{Decode, Encode, Reader, SliceReader, Tag, TagNumber, Tagged};
use x509_cert::name::Name;
use x509_cert::request::{CertReq, CertReqInfo, Version};
use x509_cert::spki::{AlgorithmIdentifierOwned, AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

use super::keys::{ECDSA_WITH_SHA256, ECDSA_WITH_SHA384, PublicKey, SigningKey, pem, pem_decode};

/// `id-ecPublicKey`.
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// The named curves Go's `x509` parses: P-224, P-256, P-384, P-521.
const GO_CURVES: [ObjectIdentifier; 4] = [
    ObjectIdentifier::new_unwrap("1.3.132.0.33"),
    ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7"),
    ObjectIdentifier::new_unwrap("1.3.132.0.34"),
    ObjectIdentifier::new_unwrap("1.3.132.0.35"),
];
/// `ecdsa-with-SHA512`.
const ECDSA_WITH_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");

/// Why Fulcio refuses a request, by the message it answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CsrRefusal {
    /// `invalidCSR`: not a PEM `CERTIFICATE REQUEST`, or not a PKCS#10 request Go parses.
    Unparsable,
    /// `insecurePublicKey`.
    Insecure,
    /// `invalidSignature`: the self-signature does not verify.
    Signature,
    /// Fulcio's algorithm registry does not pair the key with the hash; Fulcio answers
    /// with the error's own text (`err.Error()`).
    NotPermitted(String),
}

/// The parts of a request Fulcio looks at: the signed bytes, the key, the signature.
struct Parsed<'a> {
    signed: &'a [u8],
    spki: SubjectPublicKeyInfoRef<'a>,
    spki_der: &'a [u8],
    algorithm: ObjectIdentifier,
    signature: &'a [u8],
}

/// The key a PEM request proves possession of, or Fulcio's reason to refuse it.
pub(crate) fn proven_key(pem_bytes: &[u8]) -> Result<PublicKey, CsrRefusal> {
    let text = String::from_utf8_lossy(pem_bytes);
    // `cryptoutils.ParseCSR`: the first PEM block, of one of two labels.
    let der = match pem_decode(&text) {
        Some((label, der))
            if !der.is_empty()
                && (label == "CERTIFICATE REQUEST" || label == "NEW CERTIFICATE REQUEST") =>
        {
            der
        }
        _ => return Err(CsrRefusal::Unparsable),
    };
    let parsed = parse(&der).map_err(|_| CsrRefusal::Unparsable)?;
    let key = usable_key(&parsed)?;
    let hash = verify_signature(&parsed, &key)?;
    // The registry of `--client-signing-algorithms`: each curve with its own hash.
    if hash != key.curve.hash_name() {
        return Err(CsrRefusal::NotPermitted(format!(
            "signing algorithm not permitted: *ecdsa.PublicKey, {hash}"
        )));
    }
    Ok(key)
}

/// `CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm,
/// signature BIT STRING }`, with nothing after it.
fn parse(der: &[u8]) -> x509_cert::der::Result<Parsed<'_>> {
    let request = AnyRef::from_der(der)?;
    request.tag().assert_eq(Tag::Sequence)?;
    let mut reader = SliceReader::new(request.value())?;
    let signed = reader.tlv_bytes()?;
    let algorithm: AlgorithmIdentifierRef<'_> = reader.decode()?;
    let signature: BitStringRef<'_> = reader.decode()?;
    reader.finish(())?;
    // `CertificationRequestInfo ::= SEQUENCE { version INTEGER, subject Name,
    // subjectPKInfo, attributes [0] }`.
    let info = AnyRef::from_der(signed)?;
    info.tag().assert_eq(Tag::Sequence)?;
    let mut reader = SliceReader::new(info.value())?;
    reader
        .decode::<AnyRef<'_>>()?
        .tag()
        .assert_eq(Tag::Integer)?;
    reader
        .decode::<AnyRef<'_>>()?
        .tag()
        .assert_eq(Tag::Sequence)?;
    let spki_der = reader.tlv_bytes()?;
    let attributes: AnyRef<'_> = reader.decode()?;
    attributes.tag().assert_eq(Tag::ContextSpecific {
        constructed: true,
        number: TagNumber::N0,
    })?;
    reader.finish(())?;
    Ok(Parsed {
        signed,
        spki: SubjectPublicKeyInfoRef::from_der(spki_der)?,
        spki_der,
        algorithm: algorithm.oid,
        signature: signature.raw_bytes(),
    })
}

/// Go parses an EC key only on a curve it knows and with its point on the curve;
/// `goodkey` then wants P-256, P-384 or P-521.
fn usable_key(parsed: &Parsed<'_>) -> Result<PublicKey, CsrRefusal> {
    if parsed.spki.algorithm.oid != EC_PUBLIC_KEY {
        return Err(CsrRefusal::Insecure);
    }
    let curve = parsed
        .spki
        .algorithm
        .parameters_oid()
        .map_err(|_| CsrRefusal::Unparsable)?;
    if !GO_CURVES.contains(&curve) {
        return Err(CsrRefusal::Unparsable);
    }
    match PublicKey::from_spki_der(parsed.spki_der) {
        Some(key) => Ok(key),
        // P-224 is parsed and then refused; P-521 is taken by Fulcio (see above).
        None if curve == GO_CURVES[0] || curve == GO_CURVES[3] => Err(CsrRefusal::Insecure),
        None => Err(CsrRefusal::Unparsable),
    }
}

/// `CertificateRequest.CheckSignature`, then `getHashFuncForSignatureAlgorithm`: the
/// name of the hash the request was signed with.
fn verify_signature(parsed: &Parsed<'_>, key: &PublicKey) -> Result<&'static str, CsrRefusal> {
    use super::keys::Curve::{P256, P384};
    let (algorithm, hash): (&'static signature::EcdsaVerificationAlgorithm, _) =
        match (parsed.algorithm, key.curve) {
            (ECDSA_WITH_SHA256, P256) => (&signature::ECDSA_P256_SHA256_ASN1, "SHA-256"),
            (ECDSA_WITH_SHA256, P384) => (&signature::ECDSA_P384_SHA256_ASN1, "SHA-256"),
            (ECDSA_WITH_SHA384, P256) => (&signature::ECDSA_P256_SHA384_ASN1, "SHA-384"),
            (ECDSA_WITH_SHA384, P384) => (&signature::ECDSA_P384_SHA384_ASN1, "SHA-384"),
            (ECDSA_WITH_SHA512, P256) => (&signature::ECDSA_P256_SHA512_ASN1, "SHA-512"),
            (ECDSA_WITH_SHA512, P384) => (&signature::ECDSA_P384_SHA512_ASN1, "SHA-512"),
            // Another algorithm, or one for another kind of key, does not verify. So
            // too ECDSA with SHA-1, which Fulcio would verify and then refuse as an
            // unrecognized algorithm, and which no client here can make
            // (pyca/cryptography refuses to).
            _ => return Err(CsrRefusal::Signature),
        };
    UnparsedPublicKey::new(algorithm, key.point())
        .verify(parsed.signed, parsed.signature)
        .map_err(|_| CsrRefusal::Signature)?;
    Ok(hash)
}

/// A PEM PKCS#10 request for the public key `subject_spki_der` (DER
/// `SubjectPublicKeyInfo`), self-signed by `signer` with the curve's hash, with an
/// empty subject and no attributes: what a sigstore client sends Fulcio when `signer`
/// holds that key, and a request whose signature does not verify when it does not.
pub fn certificate_request(subject_spki_der: &[u8], signer: &SigningKey) -> String {
    let info = CertReqInfo {
        version: Version::V1,
        subject: Name::default(),
        public_key: x509_cert::spki::SubjectPublicKeyInfoOwned::from_der(subject_spki_der)
            .expect("a DER SubjectPublicKeyInfo"),
        attributes: SetOfVec::new(),
    };
    let signature = signer.sign(&info.to_der().expect("encode the request info"));
    let request = CertReq {
        info,
        algorithm: AlgorithmIdentifierOwned {
            oid: signer.signature_algorithm(),
            parameters: None,
        },
        signature: BitString::from_bytes(&signature).expect("a bit string"),
    };
    pem(
        "CERTIFICATE REQUEST",
        &request.to_der().expect("encode the request"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigstore::keys::Curve;

    #[test]
    fn a_self_signed_request_proves_its_key_and_a_foreign_signature_does_not() {
        for curve in [Curve::P256, Curve::P384] {
            let key = SigningKey::generate(curve);
            let request = certificate_request(&key.spki_der(), &key);
            let proven = proven_key(request.as_bytes()).unwrap();
            assert_eq!(proven.spki_der, key.spki_der());
            let other = SigningKey::generate(curve);
            let foreign = certificate_request(&key.spki_der(), &other);
            assert_eq!(
                proven_key(foreign.as_bytes()).unwrap_err(),
                CsrRefusal::Signature
            );
        }
    }

    #[test]
    fn only_the_two_request_labels_and_whole_requests_parse() {
        let key = SigningKey::generate(Curve::P256);
        let request = certificate_request(&key.spki_der(), &key);
        let (_, der) = pem_decode(&request).unwrap();
        let relabelled = pem("NEW CERTIFICATE REQUEST", &der);
        assert!(proven_key(relabelled.as_bytes()).is_ok());
        for refused in [
            pem("CERTIFICATE", &der),
            pem("CERTIFICATE REQUEST", &der[..der.len() - 1]),
            pem("CERTIFICATE REQUEST", &[der.as_slice(), &[0]].concat()),
            "not PEM".to_owned(),
        ] {
            assert_eq!(
                proven_key(refused.as_bytes()).unwrap_err(),
                CsrRefusal::Unparsable,
                "{refused}"
            );
        }
    }
}
