//! Verifying an attestation against a distribution file, offline: sigstore-verify checks
//! the certificate chain to the pinned root, the SCT, the Rekor inclusion proof,
//! checkpoint and signed entry timestamp, the DSSE signature and that the statement
//! names the file's sha256; then the signer's claims are checked against the expected
//! identity, and the statement against `pypi-attestations`' rules.

use custody_dist::filename::{SdistFilename, WheelFilename};
use custody_dist::name::{Version, normalize};
use sigstore_types::bundle::SignatureContent;
use sigstore_types::{Bundle, Sha256Hash};
use sigstore_verify::{VerificationPolicy, VerificationResult};

use crate::error::{AttestError, SigstoreStage};
use crate::identity::{Claims, Identity};
use crate::model::{Attestation, Statement};
use crate::trust::TrustRoot;
use crate::{PUBLISH_V1, SLSA_PROVENANCE_V1};

/// What a verified attestation establishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub predicate_type: String,
    pub subject_name: String,
    pub sha256: String,
    /// The signer, as the verified certificate states it.
    pub claims: Claims,
    /// The Rekor log index of the entry.
    pub log_index: Option<u64>,
    /// When Rekor logged the signature (RFC 3339), proved by the signed entry timestamp.
    pub integrated_time: Option<String>,
}

/// Verifies `attestation` for the file `file_name` whose sha256 is `sha256_hex`.
///
/// The checks run in this order, so the error is the first that failed: Sigstore
/// (certificate chain, SCT, log entry, signature, the statement naming this digest),
/// the expected identity (when given), then exactly one subject, its name, its digest and
/// a predicate type PyPI knows.
pub fn verify(
    file_name: &str,
    sha256_hex: &str,
    attestation: &Attestation,
    root: &TrustRoot,
    expected: Option<&Identity>,
) -> Result<Verified, AttestError> {
    let file_parts =
        DistributionName::parse(file_name).map_err(|source| AttestError::FileName {
            file: file_name.to_owned(),
            source,
        })?;
    let bundle = attestation.to_bundle()?;
    let result = verify_sigstore(file_name, sha256_hex, &bundle, root)?;
    let claims = claims_of(&result);
    if let Some(expected) = expected {
        expected
            .check(&claims)
            .map_err(|source| AttestError::Identity {
                file: file_name.to_owned(),
                source,
            })?;
    }
    let statement = attestation.statement()?;
    check_statement(file_name, &file_parts, sha256_hex, &statement)?;
    let entry = bundle.verification_material.tlog_entries.first();
    Ok(Verified {
        predicate_type: statement.predicate_type,
        subject_name: statement.subject_name,
        sha256: sha256_hex.to_owned(),
        claims,
        log_index: entry.map(|entry| entry.log_index.get()),
        integrated_time: result.integrated_time().map(|time| time.to_string()),
    })
}

/// Verifies a plain Sigstore bundle (a hashedrekord message signature or a DSSE
/// envelope) over the artifact whose sha256 is `artifact_sha256_hex`, signed by
/// `expected`: what a signed approval record carries.
pub fn verify_bundle(
    artifact_sha256_hex: &str,
    bundle_json: &[u8],
    root: &TrustRoot,
    expected: &Identity,
) -> Result<Claims, AttestError> {
    let label = format!("sha256:{artifact_sha256_hex}");
    let bundle: Bundle =
        serde_json::from_slice(bundle_json).map_err(|source| AttestError::Unreadable {
            what: "Sigstore bundle",
            source,
        })?;
    let result = verify_sigstore(&label, artifact_sha256_hex, &bundle, root)?;
    let claims = claims_of(&result);
    expected
        .check(&claims)
        .map_err(|source| AttestError::Identity {
            file: label,
            source,
        })?;
    Ok(claims)
}

/// sigstore-verify with no identity policy (the identity is checked afterwards, claim by
/// claim) over the digest, never the file's bytes.
fn verify_sigstore(
    file: &str,
    sha256_hex: &str,
    bundle: &Bundle,
    root: &TrustRoot,
) -> Result<VerificationResult, AttestError> {
    let digest = Sha256Hash::from_hex(sha256_hex).map_err(|source| AttestError::Digest {
        value: sha256_hex.to_owned(),
        source,
    })?;
    check_logs_are_trusted(file, bundle, root)?;
    root.verifier()
        .verify(digest, bundle, &VerificationPolicy::any_identity())
        .map_err(|source| match source {
            // sigstore-verify compares the digest only once the signature has verified,
            // so the subject it names is authentic: report it as the statement's.
            sigstore_verify::Error::ArtifactMismatch(_) => AttestError::SubjectDigest {
                file: file.to_owned(),
                expected: sha256_hex.to_owned(),
                found: signed_digest(bundle),
            },
            source => AttestError::Sigstore {
                file: file.to_owned(),
                stage: SigstoreStage::of(&source),
                source,
            },
        })
}

/// An entry from a Rekor log the root does not hold means another Sigstore instance
/// (sigstore-verify reports it as an inclusion promise without a key, indistinguishable
/// from a forged one): say so before verifying.
fn check_logs_are_trusted(
    file: &str,
    bundle: &Bundle,
    root: &TrustRoot,
) -> Result<(), AttestError> {
    let trusted = &root.trusted_root().tlogs;
    let unknown = bundle
        .verification_material
        .tlog_entries
        .iter()
        .find(|entry| {
            !trusted
                .iter()
                .any(|log| log.log_id.key_id == entry.log_id.key_id)
        });
    match unknown {
        Some(entry) => Err(AttestError::Sigstore {
            file: file.to_owned(),
            stage: SigstoreStage::UnknownLog,
            source: sigstore_verify::Error::TransparencyLog(
                sigstore_verify::TransparencyLogError::UnknownLog {
                    log_id: entry.log_id.key_id.to_base64(),
                },
            ),
        }),
        None => Ok(()),
    }
}

fn claims_of(result: &VerificationResult) -> Claims {
    // A keyless policy (`any_identity`) always parses the signing certificate into
    // the result before any check can pass.
    let info = result
        .certificate()
        .expect("a keyless verification result carries its certificate");
    Claims::from_info(info)
}

/// The sha256 a bundle's signed content names: the in-toto statement's first subject,
/// or a message signature's digest.
fn signed_digest(bundle: &Bundle) -> Option<String> {
    match &bundle.content {
        SignatureContent::DsseEnvelope(envelope) => {
            Statement::from_json(envelope.payload.as_bytes())
                .ok()
                .and_then(|statement| statement.subject_sha256)
        }
        SignatureContent::MessageSignature(signature) => signature
            .message_digest
            .as_ref()
            .map(|digest| digest.digest.to_hex()),
        _ => None,
    }
}

/// `pypi-attestations`' statement rules, in its order.
fn check_statement(
    file_name: &str,
    file_parts: &DistributionName,
    sha256_hex: &str,
    statement: &Statement,
) -> Result<(), AttestError> {
    if statement.subjects.len() != 1 {
        return Err(AttestError::Subjects {
            file: file_name.to_owned(),
            count: statement.subjects.len(),
        });
    }
    let name_mismatch = || AttestError::SubjectName {
        file: file_name.to_owned(),
        found: statement.subject_name.clone(),
    };
    let subject_parts =
        DistributionName::parse(&statement.subject_name).map_err(|_| name_mismatch())?;
    if &subject_parts != file_parts {
        return Err(name_mismatch());
    }
    if statement.subject_sha256.as_deref() != Some(sha256_hex) {
        return Err(AttestError::SubjectDigest {
            file: file_name.to_owned(),
            expected: sha256_hex.to_owned(),
            found: statement.subject_sha256.clone(),
        });
    }
    if statement.predicate_type != PUBLISH_V1 && statement.predicate_type != SLSA_PROVENANCE_V1 {
        return Err(AttestError::Predicate {
            file: file_name.to_owned(),
            found: statement.predicate_type.clone(),
        });
    }
    Ok(())
}

/// A distribution file name as `packaging` compares them (`_check_dist_filename` in
/// `pypi-attestations`): wheels by normalized name, version, build tag and the set of
/// expanded tags (lowercased, as `packaging.tags.Tag` stores them); sdists (`.tar.gz`
/// and `.zip` only) by normalized name and version. `1.0` and `1.0.0` are one version,
/// `py2.py3` and `py3.py2` one tag set.
#[derive(Debug, PartialEq, Eq)]
enum DistributionName {
    Wheel {
        name: String,
        version: Version,
        build: Option<(u64, String)>,
        tags: std::collections::BTreeSet<String>,
    },
    Sdist {
        name: String,
        version: Version,
    },
}

impl DistributionName {
    fn parse(file_name: &str) -> Result<Self, custody_dist::filename::FilenameError> {
        if file_name.ends_with(".whl") {
            let wheel = WheelFilename::parse(file_name)?;
            return Ok(Self::Wheel {
                name: normalize(&wheel.name),
                build: wheel
                    .build
                    .as_ref()
                    .map(|build| (build.number, build.suffix.clone())),
                tags: wheel
                    .expanded_tags()
                    .into_iter()
                    .map(|tag| tag.to_ascii_lowercase())
                    .collect(),
                version: wheel.version,
            });
        }
        if !(file_name.ends_with(".tar.gz") || file_name.ends_with(".zip")) {
            return Err(custody_dist::filename::FilenameError::Sdist(
                file_name.to_owned(),
            ));
        }
        let sdist = SdistFilename::parse(file_name)?;
        Ok(Self::Sdist {
            name: normalize(&sdist.name),
            version: sdist.version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &str, b: &str) -> bool {
        DistributionName::parse(a).unwrap() == DistributionName::parse(b).unwrap()
    }

    #[test]
    fn names_compare_as_packaging_parses_them() {
        assert!(same("Foo.Bar-1.0.tar.gz", "foo_bar-1.0.0.tar.gz"));
        assert!(same(
            "a-1.0-py2.py3-none-any.whl",
            "A-1.0-py3.py2-none-ANY.whl"
        ));
        assert!(!same("a-1.0-py3-none-any.whl", "a-1.0-1-py3-none-any.whl"));
        // packaging compares an sdist by name and version only, whatever its ending.
        assert!(same("a-1.0.tar.gz", "a-1.0.zip"));
        assert!(!same("a-1.0.tar.gz", "a-1.1.tar.gz"));
        assert!(!same("a-1.0.tar.gz", "a-1.0-py3-none-any.whl"));
    }

    fn statement(subjects: &str, predicate_type: &str) -> Statement {
        Statement::from_json(
            format!(
                r#"{{"_type":"https://in-toto.io/Statement/v1","subject":{subjects},"predicateType":"{predicate_type}","predicate":null}}"#
            )
            .as_bytes(),
        )
        .unwrap()
    }

    fn check(statement: &Statement) -> Result<(), &'static str> {
        let file = "a-1.0.tar.gz";
        check_statement(
            file,
            &DistributionName::parse(file).unwrap(),
            "ab",
            statement,
        )
        .map_err(|error| error.code())
    }

    #[test]
    fn statements_follow_pypi_attestations_rules() {
        let one = r#"[{"name":"a-1.0.tar.gz","digest":{"sha256":"ab"}}]"#;
        assert_eq!(check(&statement(one, PUBLISH_V1)), Ok(()));
        assert_eq!(check(&statement(one, SLSA_PROVENANCE_V1)), Ok(()));
        // The subject name compares as parsed: `A-1.0.0` is the same distribution.
        let equivalent = r#"[{"name":"A-1.0.0.tar.gz","digest":{"sha256":"ab"}}]"#;
        assert_eq!(check(&statement(equivalent, PUBLISH_V1)), Ok(()));
        assert_eq!(
            check(&statement(
                one,
                "https://in-toto.io/attestation/release/v0.1"
            )),
            Err("attestation-predicate")
        );
        let two = r#"[{"name":"a-1.0.tar.gz","digest":{"sha256":"ab"}},{"name":"b-1.0.tar.gz","digest":{"sha256":"cd"}}]"#;
        assert_eq!(
            check(&statement(two, PUBLISH_V1)),
            Err("attestation-subjects")
        );
        let unnamed = r#"[{"name":null,"digest":{"sha256":"ab"}}]"#;
        assert_eq!(
            check(&statement(unnamed, PUBLISH_V1)),
            Err("attestation-subject-name")
        );
        let not_a_distribution = r#"[{"name":"a-1.0.exe","digest":{"sha256":"ab"}}]"#;
        assert_eq!(
            check(&statement(not_a_distribution, PUBLISH_V1)),
            Err("attestation-subject-name")
        );
        let sha512_only = r#"[{"name":"a-1.0.tar.gz","digest":{"sha512":"ab"}}]"#;
        assert_eq!(
            check(&statement(sha512_only, PUBLISH_V1)),
            Err("attestation-subject-digest")
        );
    }

    #[test]
    fn only_the_sdist_endings_packaging_knows_parse() {
        assert!(DistributionName::parse("a-1.0.tar.bz2").is_err());
        assert!(DistributionName::parse("a-1.0.tgz").is_err());
        assert!(DistributionName::parse("a-1.0.exe").is_err());
        assert!(DistributionName::parse("a-1.0.zip").is_ok());
    }
}
