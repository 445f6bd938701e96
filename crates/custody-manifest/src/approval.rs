//! The approval record: who decided, when and how, about exactly which manifest. It is
//! written by `approve-gate` and checked by `publish-pypi --approval`, so what was
//! approved is what ships: the record names the manifest by its digest and is sealed
//! with a digest of its own.

use std::fmt;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::Manifest;
use crate::sealed::{self, Refusal, Sealed, write_atomically};

/// The approval format version this code writes and reads.
pub const APPROVAL_VERSION: u32 = 1;

/// What was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approved,
    Rejected,
    /// Nobody decided before the timeout (and `--on-timeout` did not approve).
    TimedOut,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::TimedOut => "timed out",
        })
    }
}

/// One file of the approved manifest, repeated here so the record reads on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ApprovedFile {
    pub file_name: String,
    pub size: u64,
    pub sha256: String,
}

/// A decision about one manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Approval {
    /// Format version; readers refuse versions they do not know.
    pub approval_version: u32,
    /// The tool that wrote it (`approve-gate 0.1.0`).
    pub generator: String,
    /// The `digest` of the manifest decided on: the binding.
    pub manifest_digest: String,
    /// `(project, version)` pairs of the manifest, for readers.
    pub projects: Vec<(String, String)>,
    /// The manifest's files, for readers.
    pub files: Vec<ApprovedFile>,
    pub decision: Decision,
    /// Who decided: user names, or the terminal user; empty on timeout.
    pub decided_by: Vec<String>,
    /// When (RFC 3339, UTC).
    pub decided_at: String,
    /// Where the decision came from: `terminal`, `decision-file`, `github-issue`, `ci-gate`, `timeout`.
    pub source: String,
    /// A link or path to the decision (the issue URL, the decision file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// A free-text reason, if one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `sha256:` of the canonical JSON of every other field.
    pub digest: String,
}

#[derive(Debug, Error)]
pub enum ApprovalError {
    #[error("cannot read approval record `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is not a custody approval record: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "`{path}` is approval record version {found}; this custody reads version {APPROVAL_VERSION}"
    )]
    Version { path: PathBuf, found: u32 },
    #[error(
        "`{path}` was modified after it was written: its content hashes to {actual}, but it records {recorded}"
    )]
    Tampered {
        path: PathBuf,
        recorded: String,
        actual: String,
    },
    #[error("`{path}` does not approve this release: the decision was `{decision}`")]
    NotApproved { path: PathBuf, decision: Decision },
    #[error("`{path}` approves manifest {approved}, but the manifest to publish is {actual}")]
    WrongManifest {
        path: PathBuf,
        approved: String,
        actual: String,
    },
    #[error("cannot write approval record `{path}`")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ApprovalError {
    /// The fix to suggest, where there is one.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                "pass the file `approve-gate --out` wrote"
            }
            Self::Parse { .. } => "pass the file `approve-gate --out` wrote",
            Self::Version { .. } => "use the custody release that wrote it, or a newer one",
            Self::Tampered { .. } => {
                "approval records must not be edited; run `approve-gate` again"
            }
            Self::NotApproved { .. } => {
                "only an approved record allows publishing; run `approve-gate` again for a new decision"
            }
            Self::WrongManifest { .. } => {
                "the artifacts changed after approval; approve the manifest you mean to publish"
            }
            Self::Read { .. } | Self::Write { .. } => return None,
        };
        Some(hint.to_owned())
    }

    /// The same error naming the record as `shown` (a path relative to the working
    /// directory, as people typed it).
    #[must_use]
    pub fn relabel(self, shown: &Path) -> Self {
        let path = shown.to_owned();
        match self {
            Self::Read { source, .. } => Self::Read { path, source },
            Self::Parse { source, .. } => Self::Parse { path, source },
            Self::Version { found, .. } => Self::Version { path, found },
            Self::Tampered {
                recorded, actual, ..
            } => Self::Tampered {
                path,
                recorded,
                actual,
            },
            Self::NotApproved { decision, .. } => Self::NotApproved { path, decision },
            Self::WrongManifest {
                approved, actual, ..
            } => Self::WrongManifest {
                path,
                approved,
                actual,
            },
            Self::Write { source, .. } => Self::Write { path, source },
        }
    }
}

impl Approval {
    /// A sealed record of `decision` about `manifest`, timestamped now.
    pub fn new(
        generator: &str,
        manifest: &Manifest,
        decision: Decision,
        decided_by: Vec<String>,
        source: &str,
        reference: Option<String>,
        reason: Option<String>,
    ) -> Self {
        let mut approval = Self {
            approval_version: APPROVAL_VERSION,
            generator: generator.to_owned(),
            manifest_digest: manifest.digest.clone(),
            projects: manifest.projects(),
            files: manifest
                .artifacts
                .iter()
                .map(|a| ApprovedFile {
                    file_name: a.file_name.clone(),
                    size: a.size,
                    sha256: a.digests.sha256.clone(),
                })
                .collect(),
            decision,
            decided_by,
            decided_at: jiff::Timestamp::now().to_string(),
            source: source.to_owned(),
            reference,
            reason,
            digest: String::new(),
        };
        approval.seal();
        approval
    }

    /// Recomputes and stores the digest.
    pub fn seal(&mut self) {
        self.digest = self.compute_digest();
    }

    pub fn compute_digest(&self) -> String {
        sealed::seal_digest(self)
    }

    /// Reads a record and checks its version and its seal.
    pub fn load(path: &Path) -> Result<Self, ApprovalError> {
        let text = fs_err::read_to_string(path).map_err(|source| ApprovalError::Read {
            path: path.to_owned(),
            source,
        })?;
        let path = path.to_owned();
        sealed::parse(&text).map_err(|refusal| match refusal {
            Refusal::Parse(source) => ApprovalError::Parse { path, source },
            Refusal::Version(found) => ApprovalError::Version { path, found },
            Refusal::Tampered { recorded, actual } => ApprovalError::Tampered {
                path,
                recorded,
                actual,
            },
        })
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        sealed::to_json(self)
    }

    /// Writes the record atomically.
    pub fn write(&self, path: &Path) -> Result<(), ApprovalError> {
        write_atomically(path, self.to_json().as_bytes()).map_err(|source| ApprovalError::Write {
            path: path.to_owned(),
            source,
        })
    }

    /// Succeeds only if this record approves exactly `manifest`. `path` names the record
    /// in messages.
    pub fn check_approves(&self, manifest: &Manifest, path: &Path) -> Result<(), ApprovalError> {
        if self.decision != Decision::Approved {
            return Err(ApprovalError::NotApproved {
                path: path.to_owned(),
                decision: self.decision,
            });
        }
        if self.manifest_digest != manifest.digest {
            return Err(ApprovalError::WrongManifest {
                path: path.to_owned(),
                approved: self.manifest_digest.clone(),
                actual: manifest.digest.clone(),
            });
        }
        Ok(())
    }
}

impl Sealed for Approval {
    const VERSION_FIELD: &'static str = "approval_version";
    const VERSION: u32 = APPROVAL_VERSION;

    fn recorded_digest(&self) -> &str {
        &self.digest
    }
}

/// The JSON Schema of the approval record, as committed in
/// `docs/schemas/approval-v1.schema.json`.
pub fn approval_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Approval)).expect("a schema serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest::new("test", Vec::new(), Vec::new(), None)
    }

    #[test]
    fn an_approval_binds_to_one_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("approval.json");
        let manifest = manifest();
        let approval = Approval::new(
            "test",
            &manifest,
            Decision::Approved,
            vec!["alice".into()],
            "terminal",
            None,
            None,
        );
        approval.write(&path).unwrap();
        let loaded = Approval::load(&path).unwrap();
        assert_eq!(loaded, approval);
        loaded.check_approves(&manifest, &path).unwrap();

        let mut other = manifest.clone();
        other.generator = "someone else".into();
        other.seal();
        let error = loaded.check_approves(&other, &path).unwrap_err();
        assert!(
            matches!(error, ApprovalError::WrongManifest { .. }),
            "{error}"
        );
        assert!(error.to_string().contains(&manifest.digest), "{error}");
    }

    #[test]
    fn a_rejection_or_timeout_never_allows_publishing() {
        let manifest = manifest();
        for decision in [Decision::Rejected, Decision::TimedOut] {
            let approval = Approval::new("t", &manifest, decision, vec![], "timeout", None, None);
            let error = approval
                .check_approves(&manifest, Path::new("a.json"))
                .unwrap_err();
            assert!(
                matches!(error, ApprovalError::NotApproved { .. }),
                "{error}"
            );
        }
    }

    #[test]
    fn an_edited_record_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("approval.json");
        let manifest = manifest();
        Approval::new(
            "t",
            &manifest,
            Decision::Rejected,
            vec![],
            "timeout",
            None,
            None,
        )
        .write(&path)
        .unwrap();
        let text = fs_err::read_to_string(&path)
            .unwrap()
            .replace("\"rejected\"", "\"approved\"");
        fs_err::write(&path, text).unwrap();
        let error = Approval::load(&path).unwrap_err();
        assert!(matches!(error, ApprovalError::Tampered { .. }), "{error}");
    }
}
