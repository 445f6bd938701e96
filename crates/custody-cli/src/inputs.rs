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
    #[error("`{0}` does not exist")]
    Missing(String),
    #[error("`{0}` matches no file")]
    EmptyGlob(String),
    #[error("`{pattern}` is not a valid glob pattern: {}", .source.msg)]
    BadGlob {
        pattern: String,
        #[source]
        source: glob::PatternError,
    },
    /// The inputs, as given, hold no file.
    #[error("no artifacts found in {}", quoted(.inputs))]
    Empty { inputs: Vec<String> },
    #[error("two artifacts are named `{name}`: `{first}` and `{second}`")]
    DuplicateName {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("cannot read `{path}`")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl InputError {
    /// The fix to suggest, where there is one.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::Missing(_) => "check the path, or run the build step first",
            Self::EmptyGlob(_) => "check the pattern, or run the build step first",
            Self::Empty { .. } => {
                "run the build step first, or point at the directory it writes (usually `dist/`)"
            }
            Self::DuplicateName { .. } => {
                "a manifest identifies files by name; collect one of them, or rename the directory layout so names are unique"
            }
            Self::BadGlob { .. } | Self::Unreadable { .. } => return None,
        };
        Some(hint.to_owned())
    }
}

impl Diagnose for InputError {
    fn exit_status(&self) -> ExitStatus {
        ExitStatus::Input
    }

    fn hint(&self) -> Option<String> {
        InputError::hint(self)
    }
}

/// `` `a`, `b` ``: the inputs as the user wrote them.
pub fn quoted(inputs: &[String]) -> String {
    inputs
        .iter()
        .map(|input| format!("`{input}`"))
        .collect::<Vec<_>>()
        .join(", ")
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
            let found = walk_dir(&path, &excluded)?;
            if found.is_empty() {
                return Err(InputError::Empty {
                    inputs: vec![input.clone()],
                });
            }
            files.extend(found);
        } else if is_glob(input) {
            let found = expand_glob(input, &path, &excluded)?;
            if found.is_empty() {
                return Err(InputError::EmptyGlob(input.clone()));
            }
            files.extend(found);
        } else {
            return Err(InputError::Missing(input.clone()));
        }
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        return Err(InputError::Empty {
            inputs: inputs.to_vec(),
        });
    }
    Ok(files)
}

/// The files under `dir`, hidden entries, manifests and `excluded` files left out.
fn walk_dir(dir: &Path, excluded: &dyn Fn(&Path) -> bool) -> Result<Vec<PathBuf>, InputError> {
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_hidden(&e.file_name().to_string_lossy()));
    let mut files = Vec::new();
    for entry in walker {
        let entry = entry.map_err(|error| InputError::Unreadable {
            path: error.path().map_or_else(|| dir.to_owned(), Path::to_owned),
            source: error.into(),
        })?;
        if entry.file_type().is_file() && !excluded(entry.path()) && !is_manifest(entry.path()) {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}

/// The files `input` (a glob, resolved to `pattern`) matches, `excluded` files left out.
fn expand_glob(
    input: &str,
    pattern: &Path,
    excluded: &dyn Fn(&Path) -> bool,
) -> Result<Vec<PathBuf>, InputError> {
    let matches = glob::glob(&pattern.to_string_lossy()).map_err(|source| InputError::BadGlob {
        pattern: input.to_owned(),
        source,
    })?;
    let mut files = Vec::new();
    for entry in matches {
        let entry = entry.map_err(|error| InputError::Unreadable {
            path: error.path().to_owned(),
            source: error.into(),
        })?;
        if entry.is_file() && !excluded(&entry) {
            files.push(entry);
        }
    }
    Ok(files)
}
