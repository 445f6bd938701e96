//! The certificates of the local Fulcio: a root and an intermediate CA shaped like
//! sigstore.dev's (P-384, `ecdsa-with-SHA384`, the intermediate limited to code signing),
//! and leaf certificates laid out as Fulcio's `x509.CreateCertificate` writes them (key
//! usage, code-signing EKU, key identifiers, a critical SAN under an empty subject, the
//! Fulcio extensions, then the embedded SCT list).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use x509_cert::certificate::{Certificate, TbsCertificate, Version};
use x509_cert::der::asn1::{BitString, GeneralizedTime, ObjectIdentifier, OctetString, UtcTime};
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};

use super::ct::CtLog;
use super::keys::{Curve, SigningKey};

const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const SUBJECT_KEY_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
const AUTHORITY_KEY_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
const SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
/// `id-kp-codeSigning`.
const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
/// How long Fulcio's certificates live (`ca.MakeX509`).
pub const LEAF_LIFETIME: Duration = Duration::from_secs(600);

/// The stack's certificate authority: a self-signed root and the intermediate that signs
/// the leaves.
pub struct CertificateAuthority {
    root_der: Vec<u8>,
    intermediate_key: SigningKey,
    intermediate_der: Vec<u8>,
    intermediate_name: Name,
    intermediate_key_id: Vec<u8>,
    not_before: SystemTime,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("not_before", &self.not_before)
            .finish_non_exhaustive()
    }
}

/// What one CA certificate says about itself.
struct CaProfile<'a> {
    subject: &'a str,
    path_length: Option<u8>,
    code_signing_only: bool,
}

impl CertificateAuthority {
    /// A new root and intermediate, valid from a day ago for ten years.
    pub fn generate() -> Self {
        let not_before = SystemTime::now() - Duration::from_secs(86_400);
        let not_after = not_before + Duration::from_secs(10 * 365 * 86_400);
        let root_key = SigningKey::generate(Curve::P384);
        let root = CaProfile {
            subject: "CN=sigstore,O=custody-test.invalid",
            path_length: None,
            code_signing_only: false,
        };
        let root_name: Name = root.subject.parse().expect("a name");
        let root_key_id = key_identifier(&root_key.spki_der());
        let root_der = ca_certificate(
            &root,
            &root_key,
            &root_name,
            &root_key_id,
            (not_before, not_after),
            &root_key,
        );
        let intermediate_key = SigningKey::generate(Curve::P384);
        let intermediate = CaProfile {
            subject: "CN=sigstore-intermediate,O=custody-test.invalid",
            path_length: Some(0),
            code_signing_only: true,
        };
        let intermediate_name: Name = intermediate.subject.parse().expect("a name");
        let intermediate_der = ca_certificate(
            &intermediate,
            &intermediate_key,
            &root_name,
            &root_key_id,
            (not_before, not_after),
            &root_key,
        );
        Self {
            root_der,
            intermediate_key_id: key_identifier(&intermediate_key.spki_der()),
            intermediate_key,
            intermediate_der,
            intermediate_name,
            not_before,
        }
    }

    pub fn root_der(&self) -> &[u8] {
        &self.root_der
    }

    pub fn intermediate_der(&self) -> &[u8] {
        &self.intermediate_der
    }

    /// Since when the authority issues (its `validFor.start` in a trusted root).
    pub fn not_before(&self) -> SystemTime {
        self.not_before
    }

    /// Issues a Fulcio leaf for `subject_spki_der` naming `san`, with Fulcio's
    /// `identity_extensions` and an SCT from `ct_log` over the precertificate.
    pub(crate) fn issue(
        &self,
        subject_spki_der: &[u8],
        san: GeneralName,
        identity_extensions: Vec<Extension>,
        ct_log: &CtLog,
    ) -> Vec<u8> {
        let now = SystemTime::now();
        let mut extensions = vec![
            extension(
                KEY_USAGE,
                true,
                &KeyUsage(KeyUsages::DigitalSignature.into()),
            ),
            extension(
                EXTENDED_KEY_USAGE,
                false,
                &ExtendedKeyUsage(vec![CODE_SIGNING]),
            ),
            key_identifier_extension(&key_identifier(subject_spki_der)),
            authority_key_identifier_extension(&self.intermediate_key_id),
            // Critical: the subject is empty (RFC 5280 4.2.1.6).
            extension(SUBJECT_ALT_NAME, true, &SubjectAltName(vec![san])),
        ];
        extensions.extend(identity_extensions);
        let spki = SubjectPublicKeyInfoOwned::from_der(subject_spki_der).expect("a parsed key");
        let mut tbs = TbsCertificate {
            version: Version::V3,
            serial_number: random_serial(),
            signature: algorithm(&self.intermediate_key),
            issuer: self.intermediate_name.clone(),
            validity: Validity {
                not_before: time(now),
                not_after: time(now + LEAF_LIFETIME),
            },
            subject: Name::default(),
            subject_public_key_info: spki,
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: Some(extensions),
        };
        // The precertificate without its poison extension is the certificate without its
        // SCT list: what the CT log signs and what verifiers rebuild.
        let precertificate = tbs.to_der().expect("encode the TBS certificate");
        let sct =
            ct_log.sct_list_extension(&self.intermediate_key.spki_der(), &precertificate, now);
        tbs.extensions
            .as_mut()
            .expect("extensions were set")
            .push(sct);
        sign(tbs, &self.intermediate_key)
    }
}

fn ca_certificate(
    profile: &CaProfile<'_>,
    key: &SigningKey,
    issuer: &Name,
    issuer_key_id: &[u8],
    (not_before, not_after): (SystemTime, SystemTime),
    issuer_key: &SigningKey,
) -> Vec<u8> {
    let spki_der = key.spki_der();
    let mut extensions = vec![extension(
        KEY_USAGE,
        true,
        &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
    )];
    if profile.code_signing_only {
        extensions.push(extension(
            EXTENDED_KEY_USAGE,
            false,
            &ExtendedKeyUsage(vec![CODE_SIGNING]),
        ));
    }
    extensions.extend([
        extension(
            BASIC_CONSTRAINTS,
            true,
            &BasicConstraints {
                ca: true,
                path_len_constraint: profile.path_length,
            },
        ),
        key_identifier_extension(&key_identifier(&spki_der)),
        authority_key_identifier_extension(issuer_key_id),
    ]);
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: random_serial(),
        signature: algorithm(issuer_key),
        issuer: issuer.clone(),
        validity: Validity {
            not_before: time(not_before),
            not_after: time(not_after),
        },
        subject: profile.subject.parse().expect("a name"),
        subject_public_key_info: SubjectPublicKeyInfoOwned::from_der(&spki_der)
            .expect("our own key"),
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    sign(tbs, issuer_key)
}

fn sign(tbs: TbsCertificate, key: &SigningKey) -> Vec<u8> {
    let signature = key.sign(&tbs.to_der().expect("encode the TBS certificate"));
    Certificate {
        signature_algorithm: tbs.signature.clone(),
        tbs_certificate: tbs,
        signature: BitString::from_bytes(&signature).expect("a bit string"),
    }
    .to_der()
    .expect("encode the certificate")
}

fn algorithm(key: &SigningKey) -> AlgorithmIdentifierOwned {
    // RFC 5758: the ECDSA signature algorithms have absent parameters.
    AlgorithmIdentifierOwned {
        oid: key.signature_algorithm(),
        parameters: None,
    }
}

/// An extension whose value is the DER of `value`.
pub(crate) fn extension(oid: ObjectIdentifier, critical: bool, value: &impl Encode) -> Extension {
    raw_extension(oid, critical, value.to_der().expect("encode an extension"))
}

/// An extension whose value is `value` as it stands (Fulcio's deprecated extensions
/// are raw bytes, not DER).
pub(crate) fn raw_extension(oid: ObjectIdentifier, critical: bool, value: Vec<u8>) -> Extension {
    Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value).expect("an extension value"),
    }
}

fn key_identifier_extension(key_id: &[u8]) -> Extension {
    extension(
        SUBJECT_KEY_IDENTIFIER,
        false,
        &SubjectKeyIdentifier(OctetString::new(key_id).expect("a key identifier")),
    )
}

fn authority_key_identifier_extension(key_id: &[u8]) -> Extension {
    extension(
        AUTHORITY_KEY_IDENTIFIER,
        false,
        &AuthorityKeyIdentifier {
            key_identifier: Some(OctetString::new(key_id).expect("a key identifier")),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        },
    )
}

/// The key identifier Go's `x509.CreateCertificate` derives: the SHA-1 of the public
/// key's bit string (RFC 5280 4.2.1.2, method 1).
fn key_identifier(spki_der: &[u8]) -> Vec<u8> {
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der).expect("a public key");
    digest::digest(
        &digest::SHA1_FOR_LEGACY_USE_ONLY,
        spki.subject_public_key.raw_bytes(),
    )
    .as_ref()
    .to_vec()
}

/// A positive serial of 20 random bytes, as `cryptoutils.GenerateSerialNumber` makes.
fn random_serial() -> SerialNumber {
    let mut bytes = [0u8; 20];
    SystemRandom::new().fill(&mut bytes).expect("random bytes");
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    SerialNumber::new(&bytes).expect("a serial number")
}

/// A certificate time: `UTCTime` before 2050, `GeneralizedTime` after (RFC 5280
/// 4.1.2.5), to the second.
pub(crate) fn time(at: SystemTime) -> Time {
    let seconds = Duration::from_secs(at.duration_since(UNIX_EPOCH).expect("after 1970").as_secs());
    UtcTime::from_unix_duration(seconds).map_or_else(
        |_| {
            Time::GeneralTime(
                GeneralizedTime::from_unix_duration(seconds).expect("a certificate time"),
            )
        },
        Time::UtcTime,
    )
}
