//! Checking files against a manifest: the re-verification every hand-off performs
//! (build → merge → select → approve → publish), and the standalone check of a whole
//! directory that works offline, anywhere.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use custody_dist::digest::{DigestSet, first_mismatch, hash_file};
use custody_dist::{Limits, Problem, inspect};
use custody_progress::Progress;
use rayon::prelude::*;
use serde::Serialize;

use crate::model::{Artifact, Manifest};

/// The outcome of checking one listed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum FileCheck {
    /// Same size and digests (and, when checked deeply, a clean inside).
    Ok,
    /// No file of that name was found.
    Missing,
    SizeChanged {
        recorded: u64,
        actual: u64,
    },
    DigestChanged {
        digest: String,
        recorded: String,
        actual: String,
    },
    /// The digests match, but re-verification inside found errors (possible only when
    /// the verifier became stricter since the manifest was written).
    Invalid {
        problems: Vec<Problem>,
    },
    /// The digests match and the inside is clean, but the manifest says something else
    /// about the file than verifying it finds (a hand-written or re-sealed manifest): a
    /// manifest may only say what `collect` would have written.
    Misdescribed {
        field: String,
        recorded: String,
        actual: String,
    },
}

impl FileCheck {
    pub fn is_ok(&self) -> bool {
        matches!(self, Self::Ok)
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            Self::Ok => "ok".to_owned(),
            Self::Missing => "missing".to_owned(),
            Self::SizeChanged { recorded, actual } => {
                format!("changed: {actual} bytes, the manifest records {recorded}")
            }
            Self::DigestChanged {
                digest,
                recorded,
                actual,
            } => {
                format!("changed: {digest} is {actual}, the manifest records {recorded}")
            }
            Self::Invalid { problems } => format!(
                "fails verification: {}",
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            Self::Misdescribed {
                field,
                recorded,
                actual,
            } => format!(
                "is described wrongly: the manifest records {field} {recorded}, verification finds {actual}"
            ),
        }
    }
}

/// Compares the file at `path` with its manifest entry: size first (cheap), then every
/// digest the manifest records. With `deep`, wheels and sdists are verified inside too.
pub fn check_file(
    artifact: &Artifact,
    path: &Path,
    deep: bool,
    limits: &Limits,
    progress: &dyn Progress,
) -> std::io::Result<FileCheck> {
    let size = fs_err::metadata(path)?.len();
    if size != artifact.size {
        return Ok(FileCheck::SizeChanged {
            recorded: artifact.size,
            actual: size,
        });
    }
    let (digests, problems, found) = if deep {
        let inspection = inspect(path, limits, progress)?;
        let errors: Vec<Problem> = inspection.errors().cloned().collect();
        let found = Artifact::from_inspection(&inspection, "");
        (inspection.digests, errors, Some(found))
    } else {
        let set = if artifact.digests.md5.is_some() || artifact.digests.blake2b_256.is_some() {
            DigestSet::Upload
        } else {
            DigestSet::Sha256
        };
        (hash_file(path, set, progress)?.1, Vec::new(), None)
    };
    if let Some((digest, recorded, actual)) = first_mismatch(&artifact.digests, &digests) {
        return Ok(FileCheck::DigestChanged {
            digest: digest.to_owned(),
            recorded,
            actual,
        });
    }
    if !problems.is_empty() {
        return Ok(FileCheck::Invalid { problems });
    }
    if let Some((field, recorded, actual)) = found.and_then(|f| first_difference(artifact, &f)) {
        return Ok(FileCheck::Misdescribed {
            field: field.to_owned(),
            recorded,
            actual,
        });
    }
    Ok(FileCheck::Ok)
}

/// The first thing `recorded` says about a file that differs from what verifying it
/// `found`: what it is, whose project and version, its tags and format.
fn first_difference(
    recorded: &Artifact,
    found: &Artifact,
) -> Option<(&'static str, String, String)> {
    fn json(value: &impl Serialize) -> serde_json::Value {
        serde_json::to_value(value).unwrap_or_default()
    }
    let pairs: [(&'static str, serde_json::Value, serde_json::Value); 5] = [
        ("kind", json(&recorded.kind), json(&found.kind)),
        ("project", json(&recorded.project), json(&found.project)),
        (
            "metadata_version",
            json(&recorded.metadata_version),
            json(&found.metadata_version),
        ),
        ("wheel", json(&recorded.wheel), json(&found.wheel)),
        (
            "sdist_format",
            json(&recorded.sdist_format),
            json(&found.sdist_format),
        ),
    ];
    pairs
        .into_iter()
        .find(|(_, recorded, found)| recorded != found)
        .map(|(field, recorded, found)| (field, recorded.to_string(), found.to_string()))
}

/// One listed file's result.
#[derive(Debug, Clone, Serialize)]
pub struct EntryReport {
    pub file_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    #[serde(flatten)]
    pub check: FileCheck,
}

/// A directory checked against a manifest.
#[derive(Debug, Clone, Serialize)]
pub struct DirReport {
    pub entries: Vec<EntryReport>,
    /// Files in the directory the manifest does not account for (attestation files
    /// beside a listed artifact are accounted for: see [`Manifest::accounts_for`]).
    pub unlisted: Vec<PathBuf>,
}

impl DirReport {
    pub fn all_ok(&self) -> bool {
        self.entries.iter().all(|e| e.check.is_ok())
    }
}

/// Finds files by name under `dir` (recursively), so a CI system may lay out downloaded
/// artifacts as it likes. `skip` paths (the manifest itself) are ignored.
pub fn index_dir(dir: &Path, skip: &[PathBuf]) -> std::io::Result<BTreeMap<String, Vec<PathBuf>>> {
    let skip: Vec<PathBuf> = skip.iter().filter_map(|p| p.canonicalize().ok()).collect();
    let mut index: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| {
            let path = e.path().map_or_else(|| dir.to_owned(), Path::to_owned);
            std::io::Error::other(format!("cannot read `{}`: {e}", path.display()))
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.path().to_owned();
        if path.canonicalize().is_ok_and(|c| skip.contains(&c)) {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        index.entry(name).or_default().push(path);
    }
    Ok(index)
}

/// Every file named `file_name` in an index of a directory. Several copies are normal
/// (the same pure wheel downloaded from two matrix jobs); each is checked.
pub fn candidates<'a>(index: &'a BTreeMap<String, Vec<PathBuf>>, file_name: &str) -> &'a [PathBuf] {
    index.get(file_name).map_or(&[], Vec::as_slice)
}

/// Checks every listed file under `dir` in parallel (every copy, when a name appears
/// more than once) and lists the unlisted ones.
pub fn verify_dir(
    manifest: &Manifest,
    dir: &Path,
    skip: &[PathBuf],
    deep: bool,
    limits: &Limits,
    progress: &dyn Progress,
) -> std::io::Result<DirReport> {
    let index = index_dir(dir, skip)?;
    let entries: Vec<std::io::Result<EntryReport>> = manifest
        .artifacts
        .par_iter()
        .map(|artifact| {
            let copies = candidates(&index, &artifact.file_name);
            let mut report = EntryReport {
                file_name: artifact.file_name.clone(),
                path: None,
                check: FileCheck::Missing,
            };
            for path in copies {
                let check = check_file(artifact, path, deep, limits, progress)?;
                let first = report.path.is_none();
                if first || (report.check.is_ok() && !check.is_ok()) {
                    report = EntryReport {
                        file_name: artifact.file_name.clone(),
                        path: Some(path.clone()),
                        check,
                    };
                }
            }
            Ok(report)
        })
        .collect();
    let entries = entries.into_iter().collect::<std::io::Result<Vec<_>>>()?;
    let unlisted = index
        .iter()
        .filter(|(name, _)| !manifest.accounts_for(name))
        .flat_map(|(_, paths)| paths.iter().cloned())
        .collect();
    Ok(DirReport { entries, unlisted })
}
