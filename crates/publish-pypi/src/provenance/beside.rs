//! Attestation files already beside a file being published, judged before anything is
//! signed. `<file>.publish.attestation` is ours to make: one that verifies for this file
//! and this job is reused as it is (a TestPyPI run followed by PyPI's in one job finds
//! the first run's), anything else there is replaced. `<file>.slsa.attestation` is
//! someone else's (a build step's provenance): it is uploaded too, so it must verify for
//! this file and this job as the index will check it, and be SLSA provenance, so that no
//! predicate type goes twice.

use std::path::{Path, PathBuf};

use custody_attest::{AttestError, Attestation, Identity, SLSA_PROVENANCE_V1, TrustRoot, Verified};

/// An attestation file read and verified.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub path: PathBuf,
    /// The file's JSON as it is, for the form field.
    pub json: String,
    pub verified: Verified,
}

/// The publish attestation beside a file.
#[derive(Debug)]
pub(crate) enum Publish {
    Absent,
    /// Verifies for this file and this job.
    Reuse(Box<Found>),
    /// Something else is there: a stale one (another digest), another signer's, a broken
    /// one. Why, on one line.
    Stale {
        reason: String,
    },
}

/// Why an attestation file beside a file cannot be used.
#[derive(Debug)]
pub(crate) enum Unusable {
    Unreadable(std::io::Error),
    Invalid(AttestError),
    /// It holds another predicate type (a second publish attestation, say).
    Predicate(String),
}

/// What an attestation beside a file must verify for: the file as it is, the trust root,
/// and this job's identity.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected<'a> {
    pub file_name: &'a str,
    pub sha256: &'a str,
    pub root: &'a TrustRoot,
    pub identity: &'a Identity,
}

/// What one attestation file holds, verified as `expected`.
fn read(path: &Path, expected: Expected<'_>) -> Result<Option<Found>, Unusable> {
    let bytes = match fs_err::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(Unusable::Unreadable(error)),
    };
    let attestation = Attestation::from_json(&bytes).map_err(Unusable::Invalid)?;
    let verified = custody_attest::verify(
        expected.file_name,
        expected.sha256,
        &attestation,
        expected.root,
        Some(expected.identity),
    )
    .map_err(Unusable::Invalid)?;
    Ok(Some(Found {
        path: path.to_owned(),
        json: String::from_utf8_lossy(&bytes).trim().to_owned(),
        verified,
    }))
}

/// Judges `<file>.publish.attestation`.
pub(crate) fn publish(path: &Path, expected: Expected<'_>) -> Publish {
    let stale = |reason: String| Publish::Stale { reason };
    match read(path, expected) {
        Ok(None) => Publish::Absent,
        Ok(Some(found)) if found.verified.predicate_type == custody_attest::PUBLISH_V1 => {
            Publish::Reuse(Box::new(found))
        }
        Ok(Some(found)) => stale(format!(
            "it holds a `{}` attestation, not a publish attestation",
            found.verified.predicate_type
        )),
        Err(Unusable::Invalid(AttestError::SubjectDigest { found, .. })) => stale(format!(
            "it attests another build of the file (sha256 `{}`)",
            found.as_deref().unwrap_or("(none)")
        )),
        Err(Unusable::Invalid(AttestError::Identity { source, .. })) => {
            stale(format!("another job signed it ({source})"))
        }
        Err(problem) => stale(problem.to_string()),
    }
}

/// Judges `<file>.slsa.attestation`: none, one to upload, or why it cannot go.
pub(crate) fn slsa(path: &Path, expected: Expected<'_>) -> Result<Option<Found>, Unusable> {
    let found = read(path, expected)?;
    match found {
        Some(found) if found.verified.predicate_type != SLSA_PROVENANCE_V1 => {
            Err(Unusable::Predicate(found.verified.predicate_type.clone()))
        }
        found => Ok(found),
    }
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreadable(error) => write!(f, "{error}"),
            Self::Invalid(error) => f.write_str(&crate::report::one_line(error)),
            Self::Predicate(found) => write!(
                f,
                "it holds a `{found}` attestation, not SLSA provenance, and the index takes one attestation per predicate type"
            ),
        }
    }
}
