//! The PEP 740 formats as PyPI and `pypi-attestations` write them: the attestation a
//! publisher uploads beside each file, the in-toto statement inside it, and the
//! provenance object PyPI's integrity API serves. Parsing follows the pydantic models of
//! `pypi-attestations` (unknown fields are ignored, as pydantic's default does; the
//! version must be 1; there must be at least one transparency-log entry; the binary
//! fields must be base64).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sigstore_types::bundle::{CertificateContent, SignatureContent, VerificationMaterialContent};
use sigstore_types::{
    Bundle, DerCertificate, DsseEnvelope, DsseSignature, KeyId, MediaType, PayloadBytes,
    SignatureBytes, TransparencyLogEntry,
};

use crate::error::AttestError;
use crate::{IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_V1, PUBLISH_V1};

/// A PEP 740 attestation: one DSSE-signed in-toto statement with the Sigstore material
/// (Fulcio certificate, Rekor entries) that proves who signed it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    /// The format's version, always 1.
    pub version: u32,
    pub verification_material: VerificationMaterial,
    pub envelope: Envelope,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationMaterial {
    /// The signing certificate, `base64(DER)`.
    pub certificate: String,
    /// Rekor entries in the Sigstore bundle's JSON form; the first one is verified.
    /// Written with their fields in the protobuf order sigstore-python writes them in.
    #[serde(serialize_with = "entries_in_protobuf_order")]
    pub transparency_entries: Vec<Value>,
}

/// The field order of Sigstore's `TransparencyLogEntry` and `InclusionProof` messages,
/// which sigstore-python's `to_dict` (and so `pypi-attestations`) writes entries in;
/// `serde_json`'s maps would sort them.
const ENTRY_FIELDS: &[&str] = &[
    "logIndex",
    "logId",
    "kindVersion",
    "integratedTime",
    "inclusionPromise",
    "inclusionProof",
    "canonicalizedBody",
];
const INCLUSION_PROOF_FIELDS: &[&str] =
    &["logIndex", "rootHash", "treeSize", "hashes", "checkpoint"];

fn entries_in_protobuf_order<S: serde::Serializer>(
    entries: &[Value],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(entries.iter().map(|entry| InFieldOrder {
        value: entry,
        fields: ENTRY_FIELDS,
    }))
}

/// A JSON value whose object keys are written in `fields` order first, then sorted.
struct InFieldOrder<'a> {
    value: &'a Value,
    fields: &'static [&'static str],
}

impl Serialize for InFieldOrder<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let Value::Object(object) = self.value else {
            return self.value.serialize(serializer);
        };
        let known = self
            .fields
            .iter()
            .filter_map(|field| object.get_key_value(*field));
        let others = object
            .iter()
            .filter(|(key, _)| !self.fields.contains(&key.as_str()));
        let mut map = serializer.serialize_map(Some(object.len()))?;
        for (key, value) in known.chain(others) {
            let fields = if key == "inclusionProof" {
                INCLUSION_PROOF_FIELDS
            } else {
                &[]
            };
            map.serialize_entry(key, &InFieldOrder { value, fields })?;
        }
        map.end()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The in-toto statement's exact bytes, base64: the signature covers these bytes,
    /// so they are never re-serialized.
    pub statement: String,
    /// The DSSE signature over the statement's PAE, base64.
    pub signature: String,
}

/// One subject of an in-toto statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub name: Option<String>,
    /// Algorithm name to hex digest, as written.
    pub digests: Vec<(String, String)>,
}

/// The in-toto v1 statement inside an attestation's envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The first subject's name (`""` when it has none).
    pub subject_name: String,
    /// The first subject's sha256, as written.
    pub subject_sha256: Option<String>,
    /// Every subject; PEP 740 allows exactly one.
    pub subjects: Vec<Subject>,
    pub predicate_type: String,
    /// `null` for PyPI's publish attestation, an object for SLSA provenance.
    pub predicate: Value,
}

impl Attestation {
    /// Parses an attestation file (`<file>.publish.attestation`).
    pub fn from_json(bytes: &[u8]) -> Result<Self, AttestError> {
        let attestation: Self =
            serde_json::from_slice(bytes).map_err(|source| AttestError::Unreadable {
                what: "attestation",
                source,
            })?;
        attestation.validate()?;
        Ok(attestation)
    }

    /// The JSON `pypi-attestations` writes: compact, fields in the model's order.
    pub fn to_json(&self) -> String {
        // Serializing plain strings, integers and JSON values cannot fail.
        serde_json::to_string(self).expect("an attestation always serializes")
    }

    fn validate(&self) -> Result<(), AttestError> {
        if self.version != 1 {
            return Err(AttestError::invalid(format!(
                "version `{}` is not 1",
                self.version
            )));
        }
        if self.verification_material.transparency_entries.is_empty() {
            return Err(AttestError::invalid(
                "`verification_material.transparency_entries` is empty",
            ));
        }
        self.certificate_der()?;
        self.statement_bytes()?;
        self.signature_bytes()?;
        Ok(())
    }

    /// The signing certificate's DER bytes.
    pub fn certificate_der(&self) -> Result<Vec<u8>, AttestError> {
        decode_base64(
            "verification_material.certificate",
            &self.verification_material.certificate,
        )
    }

    /// The statement's exact signed bytes.
    pub fn statement_bytes(&self) -> Result<Vec<u8>, AttestError> {
        decode_base64("envelope.statement", &self.envelope.statement)
    }

    fn signature_bytes(&self) -> Result<Vec<u8>, AttestError> {
        decode_base64("envelope.signature", &self.envelope.signature)
    }

    /// The in-toto statement (not yet verified: call [`crate::verify`] for that).
    pub fn statement(&self) -> Result<Statement, AttestError> {
        Statement::from_json(&self.statement_bytes()?)
    }

    /// The Sigstore bundle (v0.3, DSSE) this attestation is a re-encoding of, as
    /// `pypi-attestations`' `Attestation.to_bundle` builds it: the certificate, the
    /// first transparency-log entry, and the envelope.
    pub fn to_bundle(&self) -> Result<Bundle, AttestError> {
        let entry = self
            .verification_material
            .transparency_entries
            .first()
            .ok_or_else(|| {
                AttestError::invalid("`verification_material.transparency_entries` is empty")
            })?;
        let entry: TransparencyLogEntry =
            serde_json::from_value(entry.clone()).map_err(|source| AttestError::Unreadable {
                what: "transparency log entry",
                source,
            })?;
        let envelope = DsseEnvelope::new(
            IN_TOTO_PAYLOAD_TYPE.to_owned(),
            PayloadBytes::new(self.statement_bytes()?),
            DsseSignature::new(
                SignatureBytes::new(self.signature_bytes()?),
                KeyId::default(),
            ),
        );
        let material =
            sigstore_types::VerificationMaterial::new(VerificationMaterialContent::Certificate(
                CertificateContent::new(DerCertificate::new(self.certificate_der()?)),
            ))
            .with_tlog_entries(vec![entry]);
        Ok(Bundle::new(
            MediaType::Bundle0_3,
            material,
            SignatureContent::DsseEnvelope(envelope),
        ))
    }

    /// The attestation a DSSE Sigstore bundle with at least one transparency-log entry
    /// makes (sigstore-types already refuses envelopes without exactly one signature) (`pypi-attestations`' `Attestation.from_bundle`):
    /// what a signer produces, re-encoded for PyPI.
    pub fn from_bundle(bundle: &Bundle) -> Result<Self, AttestError> {
        let certificate = bundle
            .signing_certificate()
            .ok_or_else(|| AttestError::invalid("the bundle holds no signing certificate"))?;
        let SignatureContent::DsseEnvelope(envelope) = &bundle.content else {
            return Err(AttestError::invalid(
                "the bundle does not contain a DSSE envelope",
            ));
        };
        let entry = bundle
            .verification_material
            .tlog_entries
            .first()
            .ok_or_else(|| AttestError::invalid("the bundle holds no transparency log entry"))?;
        let entry = serde_json::to_value(entry).map_err(|source| AttestError::Unreadable {
            what: "transparency log entry",
            source,
        })?;
        Ok(Self {
            version: 1,
            verification_material: VerificationMaterial {
                certificate: STANDARD.encode(certificate.as_bytes()),
                transparency_entries: vec![entry],
            },
            envelope: Envelope {
                statement: STANDARD.encode(envelope.payload.as_bytes()),
                signature: STANDARD.encode(envelope.signature.sig.as_bytes()),
            },
        })
    }
}

fn decode_base64(field: &'static str, text: &str) -> Result<Vec<u8>, AttestError> {
    STANDARD
        .decode(text)
        .map_err(|source| AttestError::Base64 { field, source })
}

impl Statement {
    /// Parses an in-toto v1 statement as sigstore-python's `_Statement` model does:
    /// `_type` must be the v1 type, at least one subject, a string `predicateType`, and a
    /// `predicate` that is an object or `null`.
    pub fn from_json(bytes: &[u8]) -> Result<Self, AttestError> {
        let raw: RawStatement =
            serde_json::from_slice(bytes).map_err(|source| AttestError::Unreadable {
                what: "in-toto statement",
                source,
            })?;
        if raw.statement_type != IN_TOTO_STATEMENT_V1 {
            return Err(AttestError::invalid(format!(
                "statement `_type` is `{}`, expected `{IN_TOTO_STATEMENT_V1}`",
                raw.statement_type
            )));
        }
        if raw.subject.is_empty() {
            return Err(AttestError::invalid("the statement has no subject"));
        }
        if !(raw.predicate.is_null() || raw.predicate.is_object()) {
            return Err(AttestError::invalid(
                "the statement's `predicate` is neither an object nor null",
            ));
        }
        let subjects: Vec<Subject> = raw
            .subject
            .into_iter()
            .map(|subject| Subject {
                name: subject.name,
                digests: subject.digest.into_iter().collect(),
            })
            .collect();
        let first = &subjects[0];
        Ok(Self {
            subject_name: first.name.clone().unwrap_or_default(),
            subject_sha256: first.sha256().map(str::to_owned),
            predicate_type: raw.predicate_type,
            predicate: raw.predicate,
            subjects,
        })
    }
}

impl Subject {
    pub fn sha256(&self) -> Option<&str> {
        self.digests
            .iter()
            .find(|(algorithm, _)| algorithm == "sha256")
            .map(|(_, digest)| digest.as_str())
    }
}

#[derive(Deserialize)]
struct RawStatement {
    #[serde(rename = "_type")]
    statement_type: String,
    subject: Vec<RawSubject>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    #[serde(default)]
    predicate: Value,
}

#[derive(Deserialize)]
struct RawSubject {
    name: Option<String>,
    digest: std::collections::BTreeMap<String, String>,
}

/// The in-toto statement PyPI's publish flow signs for one file: one subject (the file
/// name and its sha256), predicate type publish/v1 and a `null` predicate, serialized
/// compactly in the field order of sigstore-python's `StatementBuilder`, which is what
/// `pypi-attestations sign` and the PyPI publishing action produce.
pub fn publish_statement(file_name: &str, sha256_hex: &str) -> Vec<u8> {
    // serde_json's maps are sorted; the in-toto field order is written out instead, with
    // each string escaped by serde_json as pydantic's compact JSON does.
    let string = |text: &str| serde_json::to_string(text).expect("a string serializes");
    format!(
        r#"{{"_type":"{IN_TOTO_STATEMENT_V1}","subject":[{{"name":{},"digest":{{"sha256":{}}}}}],"predicateType":"{PUBLISH_V1}","predicate":null}}"#,
        string(file_name),
        string(sha256_hex),
    )
    .into_bytes()
}

/// Who published a file, as PyPI records it for a trusted publisher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum Publisher {
    GitHub {
        repository: String,
        workflow: String,
        #[serde(default)]
        environment: Option<String>,
    },
    GitLab {
        repository: String,
        workflow_filepath: String,
        #[serde(default)]
        environment: Option<String>,
    },
    Google {
        email: String,
    },
    CircleCI {
        project_id: String,
        pipeline_definition_id: String,
        #[serde(default)]
        vcs_origin: Option<String>,
        #[serde(default)]
        vcs_ref: Option<String>,
    },
}

/// A publisher's attestations for one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestationBundle {
    pub publisher: Publisher,
    pub attestations: Vec<Attestation>,
}

/// PyPI's provenance object for one file (the integrity API's answer, PEP 740).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub version: u32,
    pub attestation_bundles: Vec<AttestationBundle>,
}

impl Provenance {
    pub fn from_json(bytes: &[u8]) -> Result<Self, AttestError> {
        let provenance: Self =
            serde_json::from_slice(bytes).map_err(|source| AttestError::Unreadable {
                what: "provenance",
                source,
            })?;
        if provenance.version != 1 {
            return Err(AttestError::invalid(format!(
                "provenance version `{}` is not 1",
                provenance.version
            )));
        }
        for attestation in provenance.attestations() {
            attestation.validate()?;
        }
        Ok(provenance)
    }

    /// Every attestation of every publisher.
    pub fn attestations(&self) -> impl Iterator<Item = &Attestation> {
        self.attestation_bundles
            .iter()
            .flat_map(|bundle| bundle.attestations.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_statement_is_what_sigstore_python_serializes() {
        let statement = publish_statement("a-1.0.tar.gz", "ab");
        assert_eq!(
            String::from_utf8(statement).unwrap(),
            r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a-1.0.tar.gz","digest":{"sha256":"ab"}}],"predicateType":"https://docs.pypi.org/attestations/publish/v1","predicate":null}"#
        );
    }

    #[test]
    fn publish_statement_escapes_the_name_as_json() {
        let statement = publish_statement("a\"b-1.0.tar.gz", "ab");
        let parsed = Statement::from_json(&statement).unwrap();
        assert_eq!(parsed.subject_name, "a\"b-1.0.tar.gz");
        assert_eq!(parsed.subject_sha256.as_deref(), Some("ab"));
        assert_eq!(parsed.predicate, Value::Null);
    }

    fn attestation_json(version: u32, entries: &str, certificate: &str) -> String {
        format!(
            r#"{{"version":{version},"verification_material":{{"certificate":"{certificate}","transparency_entries":{entries}}},"envelope":{{"statement":"e30=","signature":"AA=="}},"extra":true}}"#
        )
    }

    #[test]
    fn attestations_are_checked_as_pydantic_checks_them() {
        let good = attestation_json(1, r#"[{"logIndex":"1"}]"#, "AA==");
        // Unknown fields are ignored, as pydantic's default `extra="ignore"` does.
        let parsed = Attestation::from_json(good.as_bytes()).unwrap();
        assert_eq!(parsed.envelope.statement, "e30=");
        let refused = [
            (attestation_json(2, "[{}]", "AA=="), "attestation-invalid"),
            (attestation_json(1, "[]", "AA=="), "attestation-invalid"),
            (
                attestation_json(1, "[{}]", "not base64!"),
                "attestation-invalid",
            ),
            ("{\"version\":1}".to_owned(), "attestation-unreadable"),
        ];
        for (json, code) in refused {
            let error = Attestation::from_json(json.as_bytes()).unwrap_err();
            assert_eq!(error.code(), code, "{json}: {error}");
        }
    }

    #[test]
    fn entries_are_written_in_protobuf_field_order() {
        let json = attestation_json(
            1,
            r#"[{"canonicalizedBody":"b","inclusionProof":{"checkpoint":{"envelope":"e"},"logIndex":"2","rootHash":"r","treeSize":"3","hashes":[]},"logIndex":"1","zz":0}]"#,
            "AA==",
        );
        let written = Attestation::from_json(json.as_bytes()).unwrap().to_json();
        assert!(
            written.contains(r#"[{"logIndex":"1","inclusionProof":{"logIndex":"2","rootHash":"r","treeSize":"3","hashes":[],"checkpoint":{"envelope":"e"}},"canonicalizedBody":"b","zz":0}]"#),
            "{written}"
        );
    }

    #[test]
    fn statements_need_the_v1_type_and_a_subject() {
        let wrong_type =
            br#"{"_type":"x","subject":[{"name":"a","digest":{}}],"predicateType":"p"}"#;
        assert_eq!(
            Statement::from_json(wrong_type).unwrap_err().code(),
            "attestation-invalid"
        );
        let no_subject =
            br#"{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"p"}"#;
        assert_eq!(
            Statement::from_json(no_subject).unwrap_err().code(),
            "attestation-invalid"
        );
    }
}
