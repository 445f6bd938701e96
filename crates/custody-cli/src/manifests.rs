//! Reading and writing the manifest and approval files named on a step's command line,
//! once for every step: paths resolve against the step's working directory, and errors
//! name the file the way the user wrote it.

use std::path::{Path, PathBuf};

use custody_manifest::{Approval, ApprovalError, Manifest, ManifestError};
use custody_output::Context;

/// Loads the manifest at `path` (as given); returns where it is and what it holds.
pub fn load_manifest(context: &Context, path: &Path) -> Result<(PathBuf, Manifest), ManifestError> {
    let resolved = context.resolve(path);
    let manifest = Manifest::load(&resolved)
        .map_err(|error| error.relabel(Path::new(&context.display(&resolved))))?;
    Ok((resolved, manifest))
}

/// Loads the approval record at `path` (as given); returns where it is and what it holds.
pub fn load_approval(context: &Context, path: &Path) -> Result<(PathBuf, Approval), ApprovalError> {
    let resolved = context.resolve(path);
    let approval = Approval::load(&resolved)
        .map_err(|error| error.relabel(Path::new(&context.display(&resolved))))?;
    Ok((resolved, approval))
}

/// Writes `manifest` to `path` (resolved), creating its directory.
pub fn write_manifest(
    context: &Context,
    manifest: &Manifest,
    path: &Path,
) -> Result<(), ManifestError> {
    let resolved = context.resolve(path);
    let shown = || PathBuf::from(context.display(&resolved));
    if let Some(parent) = resolved.parent() {
        fs_err::create_dir_all(parent).map_err(|source| ManifestError::Write {
            path: shown(),
            source,
        })?;
    }
    manifest
        .write(&resolved)
        .map_err(|error| error.relabel(&shown()))
}
