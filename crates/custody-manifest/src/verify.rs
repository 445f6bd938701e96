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
    let (digests, problems) = if deep {
        let inspection = inspect(path, limits, progress)?;
        let errors: Vec<Problem> = inspection.errors().cloned().collect();
        (inspection.digests, errors)
    } else {
        let set = if artifact.digests.md5.is_some() || artifact.digests.blake2b_256.is_some() {
            DigestSet::Upload
        } else {
            DigestSet::Sha256
        };
        (hash_file(path, set, progress)?.1, Vec::new())
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
    Ok(FileCheck::Ok)
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
    /// Files in the directory the manifest does not list.
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
        .filter(|(name, _)| manifest.artifact(name).is_none())
        .flat_map(|(_, paths)| paths.iter().cloned())
        .collect();
    Ok(DirReport { entries, unlisted })
}
