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
    #[error(
        "`{path}` is not a custody manifest: {source}\nhint: pass the file `collect-artifacts collect --out` wrote"
    )]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "`{path}` is manifest version {found}; this custody reads version {MANIFEST_VERSION}\nhint: use the custody release that wrote it, or a newer one"
    )]
    Version { path: PathBuf, found: u32 },
    #[error(
        "`{path}` was modified after it was written: its content hashes to {actual}, but it records {recorded}\nhint: regenerate it with `collect-artifacts`; manifests must not be edited by hand"
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
    /// A new, sealed manifest. Artifacts are sorted by file name.
    pub fn new(
        generator: &str,
        jobs: Vec<Job>,
        mut artifacts: Vec<Artifact>,
        selection: Option<Selection>,
    ) -> Self {
        artifacts.sort_by(|a, b| a.file_name.cmp(&b.file_name));
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
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|source| ManifestError::Parse {
                path: path.to_owned(),
                source,
            })?;
        if let Some(found) = value
            .get("manifest_version")
            .and_then(serde_json::Value::as_u64)
            && found != u64::from(MANIFEST_VERSION)
        {
            return Err(ManifestError::Version {
                path: path.to_owned(),
                found: u32::try_from(found).unwrap_or(u32::MAX),
            });
        }
        let manifest: Self =
            serde_json::from_value(value).map_err(|source| ManifestError::Parse {
                path: path.to_owned(),
                source,
            })?;
        let actual = manifest.compute_digest();
        if actual != manifest.digest {
            return Err(ManifestError::Tampered {
                path: path.to_owned(),
                recorded: manifest.digest.clone(),
                actual,
            });
        }
        Ok(manifest)
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a manifest always serializes");
        text.push('\n');
        text
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

/// Writes `bytes` to `path` through a temporary file in the same directory.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(&dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The seal of a JSON document: `sha256:` of the canonical JSON of `document` without
/// its top-level `digest` field. Manifests and approval records are sealed this way.
pub fn seal_digest(document: &impl Serialize) -> String {
    let mut value = serde_json::to_value(document).expect("custody documents always serialize");
    if let Some(object) = value.as_object_mut() {
        object.remove("digest");
    }
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(canonical_json(&value)))
    )
}

/// JSON with object keys sorted and no whitespace: the form digests are taken of.
pub fn canonical_json(value: &serde_json::Value) -> Vec<u8> {
    fn write(value: &serde_json::Value, out: &mut Vec<u8>) {
        match value {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push(b'{');
                for (i, key) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend(serde_json::to_vec(key).expect("strings serialize"));
                    out.push(b':');
                    write(&map[*key], out);
                }
                out.push(b'}');
            }
            serde_json::Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write(item, out);
                }
                out.push(b']');
            }
            other => out.extend(serde_json::to_vec(other).expect("scalars serialize")),
        }
    }
    let mut out = Vec::new();
    write(value, &mut out);
    out
}
