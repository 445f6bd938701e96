//! The certificate transparency log Fulcio submits precertificates to: it signs an RFC
//! 6962 signed certificate timestamp over the precertificate's TBS and its issuer's key
//! hash, and Fulcio embeds the SCT list in the final certificate (what sigstore
//! verifiers check against the trusted root's `ctlogs` key).

use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use x509_cert::der::asn1::{ObjectIdentifier, OctetString};
use x509_cert::ext::Extension;

use super::keys::{Curve, SigningKey};
use super::x509::extension;

/// `1.3.6.1.4.1.11129.2.4.2`, the embedded SCT list.
const SCT_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");
/// RFC 5246 `HashAlgorithm.sha256` and `SignatureAlgorithm.ecdsa`.
const SHA256: u8 = 4;
const ECDSA: u8 = 3;

/// The CT log: one P-256 key.
#[derive(Debug)]
pub struct CtLog {
    key: SigningKey,
}

impl CtLog {
    pub fn generate() -> Self {
        Self {
            key: SigningKey::generate(Curve::P256),
        }
    }

    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// The SCT list extension for a precertificate whose TBS (without poison) is
    /// `tbs_der`, issued by the key `issuer_spki_der`, logged `at`.
    pub(crate) fn sct_list_extension(
        &self,
        issuer_spki_der: &[u8],
        tbs_der: &[u8],
        at: SystemTime,
    ) -> Extension {
        let timestamp = u64::try_from(
            at.duration_since(UNIX_EPOCH)
                .expect("after 1970")
                .as_millis(),
        )
        .expect("milliseconds fit");
        // RFC 6962 3.2: the `digitally-signed` struct of a precert entry.
        let mut signed = vec![0u8, 0u8]; // v1, certificate_timestamp
        signed.extend_from_slice(&timestamp.to_be_bytes());
        signed.extend_from_slice(&1u16.to_be_bytes()); // precert_entry
        signed.extend_from_slice(&Sha256::digest(issuer_spki_der));
        push_u24_prefixed(&mut signed, tbs_der);
        signed.extend_from_slice(&0u16.to_be_bytes()); // no extensions
        let signature = self.key.sign(&signed);
        // RFC 6962 3.2: `SignedCertificateTimestamp`.
        let mut sct = vec![0u8]; // v1
        sct.extend_from_slice(&self.key.key_id());
        sct.extend_from_slice(&timestamp.to_be_bytes());
        sct.extend_from_slice(&0u16.to_be_bytes());
        sct.extend_from_slice(&[SHA256, ECDSA]);
        push_u16_prefixed(&mut sct, &signature);
        // RFC 6962 3.3: a `SignedCertificateTimestampList` of one, in an OCTET STRING.
        let mut entry = Vec::new();
        push_u16_prefixed(&mut entry, &sct);
        let mut list = Vec::new();
        push_u16_prefixed(&mut list, &entry);
        extension(
            SCT_LIST,
            false,
            &OctetString::new(list).expect("an SCT list"),
        )
    }
}

fn push_u16_prefixed(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(&u16::try_from(data.len()).expect("fits u16").to_be_bytes());
    out.extend_from_slice(data);
}

fn push_u24_prefixed(out: &mut Vec<u8>, data: &[u8]) {
    let length = u32::try_from(data.len()).expect("fits u24");
    assert!(length < 1 << 24, "a TBS certificate under 16 MiB");
    out.extend_from_slice(&length.to_be_bytes()[1..]);
    out.extend_from_slice(data);
}
