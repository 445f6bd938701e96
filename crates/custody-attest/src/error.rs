//! Why an attestation, a bundle or a trust root was refused. Every variant has a stable
//! problem code ([`AttestError::code`]) and, where there is a fix, a hint
//! ([`AttestError::hint`]); the message's first line names the value in backticks and the
//! cause stays a `#[source]`.

use std::path::PathBuf;

use crate::identity::IdentityMismatch;

#[derive(Debug, thiserror::Error)]
pub enum AttestError {
    /// Not JSON, or JSON of the wrong shape.
    #[error("the `{what}` is not the JSON PEP 740 defines")]
    Unreadable {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },

    /// A binary field is not base64.
    #[error("`{field}` is not base64")]
    Base64 {
        field: &'static str,
        #[source]
        source: base64::DecodeError,
    },

    /// Well-formed JSON that breaks a rule of the format.
    #[error("the attestation is invalid: {reason}")]
    Invalid { reason: String },

    /// The signing certificate is not an X.509 certificate sigstore-rust can read.
    #[error("the attestation's `certificate` cannot be read")]
    Certificate {
        #[source]
        source: sigstore_verify::crypto::Error,
    },

    /// A hex sha256 was expected.
    #[error("`{value}` is not a hex sha256 digest")]
    Digest {
        value: String,
        #[source]
        source: sigstore_types::Error,
    },

    /// sigstore-verify refused the signature, certificate, log entry or timestamps.
    #[error("`{file}`: the Sigstore verification failed ({stage})")]
    Sigstore {
        file: String,
        stage: SigstoreStage,
        #[source]
        source: sigstore_verify::Error,
    },

    /// The signer is not the expected one.
    #[error("`{file}`: the attestation was not signed by the expected identity")]
    Identity {
        file: String,
        #[source]
        source: IdentityMismatch,
    },

    /// The statement does not have exactly one subject.
    #[error("`{file}`: the statement has {count} subjects, PEP 740 allows exactly one")]
    Subjects { file: String, count: usize },

    /// The subject's name is not the file's (as parsed distribution file names).
    #[error("`{file}`: the attestation's subject is `{found}`, not this file")]
    SubjectName { file: String, found: String },

    /// The subject's sha256 is not the file's.
    #[error(
        "`{file}`: the attestation's subject has sha256 `{}`, the file has `{expected}`",
        found.as_deref().unwrap_or("(none)")
    )]
    SubjectDigest {
        file: String,
        expected: String,
        found: Option<String>,
    },

    /// The predicate type is not one PyPI knows.
    #[error("`{file}`: unknown attestation predicate type `{found}`")]
    Predicate { file: String, found: String },

    /// The attested file's own name is not a distribution file name (`.whl`, `.tar.gz`
    /// or `.zip`, as `packaging` parses them).
    #[error("`{file}` is not a distribution file name")]
    FileName {
        file: String,
        #[source]
        source: custody_dist::filename::FilenameError,
    },

    /// A trust root file could not be read.
    #[error("cannot read the trust root `{}`", path.display())]
    TrustRootUnreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A trust root could not be refreshed through its TUF repository: unreachable, or
    /// metadata or target that does not verify against the pinned TUF root.
    #[error("cannot refresh the trust root from `{url}`")]
    TrustRootRefresh {
        url: String,
        #[source]
        source: sigstore_trust_root::Error,
    },

    /// The runtime for a network call could not be made.
    #[error("cannot start the `async runtime` for a network call")]
    Runtime {
        #[source]
        source: std::io::Error,
    },

    /// A trust root is not a usable Sigstore trusted root.
    #[error("`{name}` is not a usable Sigstore trusted root")]
    TrustRootInvalid {
        name: String,
        #[source]
        source: sigstore_verify::Error,
    },
}

/// Which part of sigstore-verify's checks refused an attestation, read from its error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigstoreStage {
    /// The DSSE (or message) signature does not verify with the certificate's key.
    Signature,
    /// The certificate does not chain to the trusted Fulcio roots, lacks a valid SCT,
    /// or was not valid when the entry was logged.
    Certificate,
    /// The Rekor entry: inclusion proof, checkpoint, signed entry timestamp, body.
    TransparencyLog,
    /// The entry names a Rekor log the trust root does not hold: the attestation was
    /// made under another Sigstore instance (staging, or a private one).
    UnknownLog,
    /// No trusted signing time (integrated time or RFC 3161 timestamps).
    Timestamp,
    /// The bundle is malformed or of a kind sigstore-verify does not take.
    Bundle,
}

impl SigstoreStage {
    pub(crate) fn of(error: &sigstore_verify::Error) -> Self {
        use sigstore_verify::Error as E;
        match error {
            E::SignatureInvalid(_) | E::IdentityMismatch { .. } | E::IssuerMismatch { .. } => {
                Self::Signature
            }
            E::Certificate(_) => Self::Certificate,
            E::TransparencyLog(sigstore_verify::TransparencyLogError::UnknownLog { .. }) => {
                Self::UnknownLog
            }
            E::TransparencyLog(_) => Self::TransparencyLog,
            E::Timestamp(_) => Self::Timestamp,
            _ => Self::Bundle,
        }
    }

    /// The stable problem code of this stage.
    pub fn code(self) -> &'static str {
        match self {
            Self::Signature => "attestation-signature",
            Self::Certificate => "attestation-certificate",
            Self::TransparencyLog => "attestation-transparency-log",
            Self::UnknownLog => "attestation-trust-root",
            Self::Timestamp => "attestation-timestamp",
            Self::Bundle => "attestation-bundle",
        }
    }
}

impl std::fmt::Display for SigstoreStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Signature => "signature",
            Self::Certificate => "signing certificate",
            Self::TransparencyLog => "transparency log entry",
            Self::UnknownLog => "the transparency log is not in the trust root",
            Self::Timestamp => "signing time",
            Self::Bundle => "bundle",
        })
    }
}

impl AttestError {
    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        Self::Invalid {
            reason: reason.into(),
        }
    }

    /// The stable problem code, for reports and manifests.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unreadable { .. } => "attestation-unreadable",
            Self::Base64 { .. }
            | Self::Invalid { .. }
            | Self::Certificate { .. }
            | Self::Digest { .. } => "attestation-invalid",
            Self::Sigstore { stage, .. } => stage.code(),
            Self::Identity { .. } => "attestation-identity",
            Self::Subjects { .. } => "attestation-subjects",
            Self::SubjectName { .. } => "attestation-subject-name",
            Self::FileName { .. } => "distribution-file-name",
            Self::SubjectDigest { .. } => "attestation-subject-digest",
            Self::Predicate { .. } => "attestation-predicate",
            Self::TrustRootUnreadable { .. } => "trust-root-unreadable",
            Self::TrustRootInvalid { .. } => "trust-root-invalid",
            Self::TrustRootRefresh { .. } | Self::Runtime { .. } => "trust-root-refresh",
        }
    }

    /// The fix, where there is one.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Sigstore {
                stage: SigstoreStage::UnknownLog | SigstoreStage::Certificate,
                ..
            } => Some(
                "an attestation made on Sigstore's staging instance verifies only with the staging trust root, one from a private Sigstore only with that instance's trusted root",
            ),
            Self::Sigstore { .. } => Some(
                "the attestation was altered after it was signed, or was signed under another Sigstore instance",
            ),
            Self::Identity { .. } => Some(
                "compare the expected identity with the signer's claims; a release from another workflow, ref or repository is not the one you pinned",
            ),
            Self::SubjectDigest { .. } => Some(
                "the file changed after it was attested, or the attestation belongs to another build of the same file name",
            ),
            Self::SubjectName { .. } => {
                Some("keep each attestation beside the file it was made for")
            }
            Self::Predicate { .. } => {
                Some("PyPI knows the publish/v1 and SLSA provenance v1 predicate types only")
            }
            Self::TrustRootRefresh { .. } => Some(
                "verification needs no network: keep using the shipped root, or a trusted root file refreshed elsewhere",
            ),
            _ => None,
        }
    }

    /// What a failed refresh ([`crate::refresh()`]) means; `None` for any other error.
    pub fn refresh_failure(&self) -> Option<RefreshFailure> {
        match self {
            Self::Runtime { .. } => Some(RefreshFailure::Unreachable),
            Self::TrustRootRefresh { source, .. } => {
                Some(if source.to_string().contains("transport error: ") {
                    RefreshFailure::Unreachable
                } else {
                    RefreshFailure::Refused
                })
            }
            Self::TrustRootInvalid { .. } => Some(RefreshFailure::Refused),
            _ => None,
        }
    }
}

/// Why a refresh through TUF failed, for deciding what it means: the repository was
/// not there, or what it served is not to be trusted. sigstore-trust-root keeps only
/// the text of sigstore-tuf's error, in which the repository's failures to answer
/// (`Error::Transport`: connection, HTTP status, a file it does not serve, an answer
/// over its size limit) read `transport error: …`; everything else is verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshFailure {
    /// The repository could not be reached or did not serve what its metadata names.
    Unreachable,
    /// The repository answered, and what it served does not verify against the pinned
    /// TUF root (signatures, thresholds, expiry, versions, hashes, lengths), or is not
    /// a usable trusted root.
    Refused,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refresh_error(text: &str) -> AttestError {
        AttestError::TrustRootRefresh {
            url: "http://127.0.0.1:1/".to_owned(),
            source: sigstore_trust_root::Error::Tuf(text.to_owned()),
        }
    }

    #[test]
    fn a_repository_that_does_not_answer_is_unreachable_and_a_bad_answer_refused() {
        // The texts sigstore-trust-root 0.15.1 makes of sigstore-tuf's errors (tuf.rs,
        // `TUF repository load failed: {error chain}`).
        let unreachable = refresh_error(
            "TUF repository load failed: transport error: fetching root.json: connection refused",
        );
        assert_eq!(
            unreachable.refresh_failure(),
            Some(RefreshFailure::Unreachable)
        );
        let refused = refresh_error(
            "TUF repository load failed: signature threshold not met for role root: 0/1 valid signatures",
        );
        assert_eq!(refused.refresh_failure(), Some(RefreshFailure::Refused));
        let other = AttestError::Invalid {
            reason: "not a refresh".to_owned(),
        };
        assert_eq!(other.refresh_failure(), None);
    }
}
