//! Turning `PATH|GLOB...` arguments into the list of artifact files: files as given,
//! directories walked, globs expanded here so they work on Windows shells too. Shared by
//! every step that takes artifacts on its command line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use custody_output::{Context, ExitStatus};

use crate::Diagnose;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum InputError {
    #[error("`{0}` does not exist\nhint: check the path, or run the build step first")]
    Missing(String),
    #[error("`{0}` matches no file\nhint: check the pattern, or run the build step first")]
    EmptyGlob(String),
    #[error("`{pattern}` is not a valid glob pattern: {reason}")]
    BadGlob { pattern: String, reason: String },
    #[error(
        "no artifacts found in {0}\nhint: run the build step first, or point at the directory it writes (usually `dist/`)"
    )]
    Empty(String),
    #[error(
        "two artifacts are named `{name}`: `{first}` and `{second}`\nhint: a manifest identifies files by name; collect one of them, or rename the directory layout so names are unique"
    )]
    DuplicateName {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("cannot read `{path}`: {reason}")]
    Unreadable { path: PathBuf, reason: String },
}

impl Diagnose for InputError {
    fn exit_status(&self) -> ExitStatus {
        ExitStatus::Input
    }
}

fn is_glob(text: &str) -> bool {
    text.contains(['*', '?', '['])
}

fn is_hidden(name: &str) -> bool {
    name.starts_with('.')
}

/// A custody manifest (found while walking a directory) is not an artifact.
fn is_manifest(path: &Path) -> bool {
    if path.extension().and_then(|e| e.to_str()) != Some("json") {
        return false;
    }
    let Ok(file) = fs_err::File::open(path) else {
        return false;
    };
    let mut head = String::new();
    let _ = std::io::Read::read_to_string(&mut std::io::Read::take(file, 4096), &mut head);
    head.contains("\"manifest_version\"") || head.contains("\"approval_version\"")
}

/// Expands the arguments into artifact files. `exclude` paths (the manifest being
/// written) are skipped. File names must be unique: they identify artifacts.
pub fn resolve(
    inputs: &[String],
    exclude: &[PathBuf],
    context: &Context,
) -> Result<Vec<PathBuf>, InputError> {
    let files = resolve_reports(inputs, exclude, context)?;
    let mut by_name: BTreeMap<String, PathBuf> = BTreeMap::new();
    for file in &files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(first) = by_name.insert(name.clone(), file.clone()) {
            return Err(InputError::DuplicateName {
                name,
                first,
                second: file.clone(),
            });
        }
    }
    Ok(files)
}

/// Expands the arguments into files, where the same name in different directories is
/// expected (the `coverage.xml` or `junit.xml` of every job of a matrix).
pub fn resolve_reports(
    inputs: &[String],
    exclude: &[PathBuf],
    context: &Context,
) -> Result<Vec<PathBuf>, InputError> {
    let exclude: Vec<PathBuf> = exclude
        .iter()
        .filter_map(|p| p.canonicalize().ok())
        .collect();
    let excluded = |path: &Path| path.canonicalize().is_ok_and(|c| exclude.contains(&c));
    let mut files: Vec<PathBuf> = Vec::new();
    for input in inputs {
        let path = context.resolve(Path::new(input));
        if path.is_file() {
            files.push(path);
        } else if path.is_dir() {
            let before = files.len();
            let walker = walkdir::WalkDir::new(&path)
                .follow_links(true)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| e.depth() == 0 || !is_hidden(&e.file_name().to_string_lossy()));
            for entry in walker {
                let entry = entry.map_err(|e| InputError::Unreadable {
                    path: e.path().map_or_else(|| path.clone(), Path::to_owned),
                    reason: e.to_string(),
                })?;
                if entry.file_type().is_file()
                    && !excluded(entry.path())
                    && !is_manifest(entry.path())
                {
                    files.push(entry.into_path());
                }
            }
            if files.len() == before {
                return Err(InputError::Empty(format!("`{input}`")));
            }
        } else if is_glob(input) {
            let pattern = path.to_string_lossy().into_owned();
            let matches = glob::glob(&pattern).map_err(|e| InputError::BadGlob {
                pattern: input.clone(),
                reason: e.msg.to_owned(),
            })?;
            let before = files.len();
            for entry in matches {
                let entry = entry.map_err(|e| InputError::Unreadable {
                    path: e.path().to_owned(),
                    reason: e.error().to_string(),
                })?;
                if entry.is_file() && !excluded(&entry) {
                    files.push(entry);
                }
            }
            if files.len() == before {
                return Err(InputError::EmptyGlob(input.clone()));
            }
        } else {
            return Err(InputError::Missing(input.clone()));
        }
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        return Err(InputError::Empty(
            inputs
                .iter()
                .map(|i| format!("`{i}`"))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    Ok(files)
}
