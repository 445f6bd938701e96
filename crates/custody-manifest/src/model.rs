//! The manifest document: what it holds, its canonical digest, and reading and writing
//! it so that a manifest edited by hand or damaged in transit is caught on load.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use custody_ci::CiContext;
use custody_dist::{
    ArtifactKind, Digests, ExecutableInfo, Inspection, Problem, Project, SdistFormat, WheelTags,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::sealed::{self, Refusal, Sealed, canonical_json, seal_digest, write_atomically};

/// The manifest format version this code writes and reads.
pub const MANIFEST_VERSION: u32 = 1;

/// A set of verified artifacts and where they came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Manifest {
    /// Format version; readers refuse versions they do not know.
    pub manifest_version: u32,
    /// The tool that wrote it (`collect-artifacts 0.1.0`).
    pub generator: String,
    /// When it was written (RFC 3339, UTC).
    pub created: String,
    /// The CI jobs the artifacts were collected in, with their labels and context.
    pub jobs: Vec<Job>,
    /// The artifacts, sorted by file name (which is unique).
    pub artifacts: Vec<Artifact>,
    /// How this manifest was selected from another, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<Selection>,
    /// `sha256:` of the canonical JSON of every other field (see [`Manifest::compute_digest`]).
    pub digest: String,
}

/// One CI job (or local run) that collected artifacts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Job {
    /// Derived from labels and context, so the same job merged twice is one job.
    pub id: String,
    /// `--label KEY=VALUE` given to `collect` (e.g. python=3.7, os=windows, arch=x86).
    pub labels: BTreeMap<String, String>,
    pub context: CiContext,
}

impl Job {
    pub fn new(labels: BTreeMap<String, String>, context: CiContext) -> Self {
        let canonical =
            canonical_json(&serde_json::json!({ "labels": labels, "context": context }));
        let id = hex::encode(Sha256::digest(canonical))[..12].to_owned();
        Self {
            id,
            labels,
            context,
        }
    }

    /// Whether every `key=value` pair matches this job's labels.
    pub fn matches(&self, criteria: &BTreeMap<String, String>) -> bool {
        criteria
            .iter()
            .all(|(key, value)| self.labels.get(key) == Some(value))
    }
}

/// One artifact: its identity (name, size, digests) and what verification learned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Artifact {
    /// The file name; unique within a manifest.
    pub file_name: String,
    pub kind: ArtifactKind,
    pub size: u64,
    pub digests: Digests,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<Project>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wheel: Option<WheelTags>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdist_format: Option<SdistFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executable: Option<ExecutableInfo>,
    /// Files inside, for archives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entries: Option<usize>,
    /// Warnings verification raised (errors never reach a manifest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Problem>,
    /// Ids of the jobs that produced this exact file.
    pub jobs: Vec<String>,
    /// The PEP 740 attestations found beside the file and verified against it when it
    /// was collected, sorted by file name. Absent in manifests that record none (and in
    /// every manifest written before attestations were recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attestations: Vec<AttestationRecord>,
}

/// Where PEP 740 attestations of a file are kept beside it: `<file><suffix>`.
/// `pypi-attestations` writes the first two; the last is PyPI's integrity-API answer
/// (the provenance object, holding every publisher's attestations).
pub const ATTESTATION_SUFFIXES: [&str; 3] =
    [".publish.attestation", ".slsa.attestation", ".provenance"];

/// Where the attestations of `file` are kept, in [`ATTESTATION_SUFFIXES`]' order:
/// `<file>.publish.attestation`, `<file>.slsa.attestation`, `<file>.provenance`.
pub fn attestation_paths(file: &Path) -> [PathBuf; 3] {
    ATTESTATION_SUFFIXES.map(|suffix| {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    })
}

/// If `file_name` names an attestation file, the name of the file it attests.
pub fn attested_file_name(file_name: &str) -> Option<&str> {
    ATTESTATION_SUFFIXES.iter().find_map(|suffix| {
        file_name
            .strip_suffix(suffix)
            .filter(|attested| !attested.is_empty())
    })
}

/// One PEP 740 attestation of an artifact: the file it is kept in, and what verifying it
/// (signature, certificate chain to the Sigstore trust root, transparency-log inclusion,
/// subject name and sha256 equal to the artifact's) established about who signed it.
/// A provenance file holds several attestations: each is one record, all naming it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AttestationRecord {
    /// The attestation file, beside the artifact (`<file>.publish.attestation`,
    /// `<file>.slsa.attestation` or `<file>.provenance`).
    pub file_name: String,
    /// The sha256 of the attestation file (hex).
    pub sha256: String,
    /// The in-toto predicate type (`https://docs.pypi.org/attestations/publish/v1`,
    /// `https://slsa.dev/provenance/v1`).
    pub predicate_type: String,
    /// The signer: the signing certificate's subject alternative name (a workflow URI
    /// for CI identities, an email address for people).
    pub identity: String,
    /// The OIDC issuer that vouched for the signer.
    pub issuer: String,
    /// The certificate's Source Repository URI, for CI identities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_repository: Option<String>,
    /// The certificate's Build Config URI (the workflow file at a ref), for CI identities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_config: Option<String>,
    /// The certificate's Source Repository Ref (`refs/tags/v1.0`), for CI identities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ref: Option<String>,
    /// The certificate's Source Repository Digest (the commit built), for CI identities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_digest: Option<String>,
    /// The entry's index in the transparency log (Rekor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
    /// When the transparency log integrated the entry (RFC 3339, UTC), as its signed
    /// entry timestamp proves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrated_time: Option<String>,
}

impl Artifact {
    /// The manifest entry for a verified artifact.
    pub fn from_inspection(inspection: &Inspection, job: &str) -> Self {
        Self {
            file_name: inspection.file_name.clone(),
            kind: inspection.kind,
            size: inspection.size,
            digests: inspection.digests.clone(),
            project: inspection.project.clone(),
            metadata_version: inspection.metadata_version.clone(),
            wheel: inspection.wheel.clone(),
            sdist_format: inspection.sdist_format,
            executable: inspection.executable.clone(),
            entries: inspection.entries,
            warnings: inspection
                .problems
                .iter()
                .filter(|p| !p.is_error())
                .cloned()
                .collect(),
            jobs: vec![job.to_owned()],
            attestations: Vec::new(),
        }
    }
}

/// How a manifest was selected from another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Selection {
    /// The `--where KEY=VALUE` criteria.
    pub criteria: BTreeMap<String, String>,
    /// The `--kind` filter; empty means every kind.
    pub kinds: Vec<ArtifactKind>,
    /// The digest of the manifest selected from.
    pub source_digest: String,
}

#[derive(Debug, Error)]
pub enum ManifestError {
    #[error("cannot read manifest `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is not a custody manifest: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("`{path}` is manifest version {found}; this custody reads version {MANIFEST_VERSION}")]
    Version { path: PathBuf, found: u32 },
    #[error(
        "`{path}` was modified after it was written: its content hashes to {actual}, but it records {recorded}"
    )]
    Tampered {
        path: PathBuf,
        recorded: String,
        actual: String,
    },
    #[error("cannot write manifest `{path}`")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ManifestError {
    /// The fix to suggest, where there is one.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                "pass the file `collect-artifacts collect --out` wrote"
            }
            Self::Parse { .. } => "pass the file `collect-artifacts collect --out` wrote",
            Self::Version { .. } => "use the custody release that wrote it, or a newer one",
            Self::Tampered { .. } => {
                "regenerate it with `collect-artifacts`; manifests must not be edited by hand"
            }
            Self::Read { .. } | Self::Write { .. } => return None,
        };
        Some(hint.to_owned())
    }

    /// The same error naming the manifest as `shown` (a path relative to the working
    /// directory, as people typed it).
    #[must_use]
    pub fn relabel(self, shown: &Path) -> Self {
        let shown = shown.to_owned();
        match self {
            Self::Read { source, .. } => Self::Read {
                path: shown,
                source,
            },
            Self::Parse { source, .. } => Self::Parse {
                path: shown,
                source,
            },
            Self::Version { found, .. } => Self::Version { path: shown, found },
            Self::Tampered {
                recorded, actual, ..
            } => Self::Tampered {
                path: shown,
                recorded,
                actual,
            },
            Self::Write { source, .. } => Self::Write {
                path: shown,
                source,
            },
        }
    }
}

impl Manifest {
    /// A new, sealed manifest. Artifacts are sorted by file name, and so are the
    /// attestations of each (then by log index: a provenance file holds several).
    pub fn new(
        generator: &str,
        jobs: Vec<Job>,
        mut artifacts: Vec<Artifact>,
        selection: Option<Selection>,
    ) -> Self {
        artifacts.sort_by(|a, b| a.file_name.cmp(&b.file_name));
        for artifact in &mut artifacts {
            artifact
                .attestations
                .sort_by(|a, b| (&a.file_name, a.log_index).cmp(&(&b.file_name, b.log_index)));
        }
        let mut manifest = Self {
            manifest_version: MANIFEST_VERSION,
            generator: generator.to_owned(),
            created: jiff::Timestamp::now().to_string(),
            jobs,
            artifacts,
            selection,
            digest: String::new(),
        };
        manifest.seal();
        manifest
    }

    /// Recomputes and stores the digest.
    pub fn seal(&mut self) {
        self.digest = self.compute_digest();
    }

    /// `sha256:` of the canonical JSON (sorted keys, no whitespace) of the manifest
    /// without its `digest` field. Stable across key order, whitespace and platforms.
    pub fn compute_digest(&self) -> String {
        seal_digest(self)
    }

    /// Reads a manifest and checks its version and its digest.
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        let text = fs_err::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_json(&text, path)
    }

    /// Parses manifest text (`path` is for messages).
    pub fn from_json(text: &str, path: &Path) -> Result<Self, ManifestError> {
        let path = path.to_owned();
        sealed::parse(text).map_err(|refusal| match refusal {
            Refusal::Parse(source) => ManifestError::Parse { path, source },
            Refusal::Version(found) => ManifestError::Version { path, found },
            Refusal::Tampered { recorded, actual } => ManifestError::Tampered {
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

    /// Writes the manifest atomically (a temporary file renamed into place), so a
    /// crash never leaves half a manifest behind.
    pub fn write(&self, path: &Path) -> Result<(), ManifestError> {
        write_atomically(path, self.to_json().as_bytes()).map_err(|source| ManifestError::Write {
            path: path.to_owned(),
            source,
        })
    }

    pub fn artifact(&self, file_name: &str) -> Option<&Artifact> {
        self.artifacts.iter().find(|a| a.file_name == file_name)
    }

    /// Whether a file of this name belongs to the manifest: an artifact it lists, or an
    /// attestation file of one (recorded, or only lying beside it).
    pub fn accounts_for(&self, file_name: &str) -> bool {
        self.artifact(file_name).is_some()
            || attested_file_name(file_name).is_some_and(|a| self.artifact(a).is_some())
            || self
                .artifacts
                .iter()
                .any(|a| a.attestations.iter().any(|r| r.file_name == file_name))
    }

    pub fn job(&self, id: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.id == id)
    }

    /// The distinct versions of the artifacts' projects, sorted.
    pub fn versions(&self) -> Vec<String> {
        let versions: std::collections::BTreeSet<String> = self
            .artifacts
            .iter()
            .filter_map(|a| a.project.as_ref())
            .map(|p| p.version.clone())
            .collect();
        versions.into_iter().collect()
    }

    /// The one version this manifest releases, if its artifacts agree on one.
    pub fn release_version(&self) -> Option<String> {
        match self.versions().as_slice() {
            [version] => Some(version.clone()),
            _ => None,
        }
    }

    /// The distinct projects (normalized name, version) of the artifacts.
    pub fn projects(&self) -> Vec<(String, String)> {
        let mut projects: Vec<(String, String)> = self
            .artifacts
            .iter()
            .filter_map(|a| a.project.as_ref())
            .map(|p| (p.normalized_name.clone(), p.version.clone()))
            .collect();
        projects.sort();
        projects.dedup();
        projects
    }
}

impl Sealed for Manifest {
    const VERSION_FIELD: &'static str = "manifest_version";
    const VERSION: u32 = MANIFEST_VERSION;

    fn recorded_digest(&self) -> &str {
        &self.digest
    }
}
