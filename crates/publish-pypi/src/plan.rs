//! What will be published, checked before anything leaves: the files of the manifest
//! (or the command line), each re-hashed and compared with the manifest, verified inside
//! and run through the pre-flight check. Only a plan without errors is uploaded.
//! The hand-offs are checked first: with --manifest-signed-by, the manifest's Sigstore
//! signature and who made it; then an approval record's seal, that it approves this
//! manifest, and, with --approval-signed-by, its signature and who made it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use custody_attest::Identity;
use custody_cli::Diagnose;
use custody_cli::handoff::{self, Handoff, HandoffError};
use custody_cli::inputs::{self, InputError};
use custody_cli::manifests::{load_approval, load_manifest};
use custody_dist::digest::first_mismatch;
use custody_dist::{ArtifactKind, Inspection, Limits, Problem, inspect};
use custody_http::{HttpError, Url, display_url, parse_url};
use custody_manifest::{ApprovalError, Artifact, Manifest, ManifestError, candidates, index_dir};
use custody_output::{Context, ExitStatus};
use rayon::prelude::*;
use thiserror::Error;

use crate::{PYPI_UPLOAD_URL, Selection, UploadArgs, preflight};

/// Why there is no plan to publish: the selection, the manifest or the approval is
/// wrong, or a file cannot be read.
#[derive(Debug, Error)]
pub(crate) enum PrepareError {
    #[error("nothing to publish: give files (PATH|GLOB...) or --manifest FILE")]
    NothingSelected,
    #[error("nothing to publish: no wheel or sdist among the files")]
    NoDistribution,
    #[error("`{flag}` checks a manifest, but files are given instead of --manifest")]
    HandoffWithoutManifest { flag: &'static str },
    #[error("the manifest lists no artifacts")]
    EmptyManifest { dir: String },
    #[error("`{file_name}` is listed in the manifest but not in `{dir}`")]
    NotStaged { file_name: String, dir: String },
    #[error("cannot read `{shown}`")]
    Unreadable {
        shown: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{0}` is not an http(s) URL")]
    NotHttp(String),
    #[error(transparent)]
    Url(#[from] HttpError),
    #[error(transparent)]
    Inputs(#[from] InputError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Approval(#[from] ApprovalError),
    /// `--manifest-signed-by` or `--approval-signed-by`: the hand-off is not signed, or
    /// not by whom it must be.
    #[error(transparent)]
    Signature(#[from] HandoffError),
}

impl Diagnose for PrepareError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::NothingSelected | Self::NotHttp(_) | Self::HandoffWithoutManifest { .. } => {
                ExitStatus::Usage
            }
            Self::NoDistribution
            | Self::EmptyManifest { .. }
            | Self::NotStaged { .. }
            | Self::Unreadable { .. } => ExitStatus::Input,
            Self::Url(error) => error.exit_status(),
            Self::Inputs(error) => error.exit_status(),
            Self::Manifest(error) => error.exit_status(),
            Self::Approval(error) => error.exit_status(),
            Self::Signature(error) => error.exit_status(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::NothingSelected => {
                Some("`publish-pypi --manifest release.json` or `publish-pypi dist/*`".to_owned())
            }
            Self::NoDistribution => {
                Some("indexes take wheels (.whl) and sdists (.tar.gz); build them first".to_owned())
            }
            Self::HandoffWithoutManifest { .. } => Some(
                "publish the release set by its manifest: `publish-pypi --manifest release.json`"
                    .to_owned(),
            ),
            Self::EmptyManifest { dir } => Some(format!(
                "select the release set with `collect-artifacts select` first (looked in `{dir}`)"
            )),
            Self::NotStaged { .. } => {
                Some("pass the directory the release set was staged in with --from".to_owned())
            }
            Self::NotHttp(_) => Some(format!("PyPI's is {PYPI_UPLOAD_URL}")),
            Self::Unreadable { .. } => None,
            Self::Url(error) => error.hint(),
            Self::Inputs(error) => error.hint(),
            Self::Manifest(error) => error.hint(),
            Self::Approval(error) => error.hint(),
            Self::Signature(error) => Diagnose::hint(error),
        }
    }
}

/// Parses an upload or index URL given on the command line or in the environment.
pub(crate) fn http_url(text: &str) -> Result<Url, PrepareError> {
    let url = parse_url(text)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(PrepareError::NotHttp(display_url(&url)));
    }
    Ok(url)
}

/// Why a file of the release set stays behind: indexes take wheels and sdists only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotUploadable {
    /// An executable or other file.
    pub kind: ArtifactKind,
}

impl std::fmt::Display for NotUploadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not uploadable to a package index: indexes take wheels and sdists only")
    }
}

/// A wheel or sdist of the plan: inspected, and checked against the manifest and what
/// the index would reject.
#[derive(Debug)]
pub(crate) struct Checked {
    pub inspection: Inspection,
    pub problems: Vec<Problem>,
}

/// What becomes of a file: an uploadable one always carries its inspection, one that
/// stays behind carries why.
#[derive(Debug)]
pub(crate) enum Disposition {
    Upload(Box<Checked>),
    Skip(NotUploadable),
}

/// One file of the plan.
#[derive(Debug)]
pub(crate) struct Planned {
    pub path: PathBuf,
    /// The path as the user sees it.
    pub shown: String,
    pub file_name: String,
    pub disposition: Disposition,
}

impl Planned {
    pub(crate) fn kind(&self) -> ArtifactKind {
        match &self.disposition {
            Disposition::Upload(checked) => checked.inspection.kind,
            Disposition::Skip(reason) => reason.kind,
        }
    }

    pub(crate) fn checked(&self) -> Option<&Checked> {
        match &self.disposition {
            Disposition::Upload(checked) => Some(checked),
            Disposition::Skip(_) => None,
        }
    }

    pub(crate) fn problems(&self) -> &[Problem] {
        self.checked().map_or(&[], |checked| &checked.problems)
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.problems().iter().any(Problem::is_error)
    }
}

#[derive(Debug)]
pub(crate) struct Plan {
    pub manifest: Option<(PathBuf, Manifest)>,
    pub files: Vec<Planned>,
}

impl Plan {
    pub(crate) fn failed(&self) -> usize {
        self.files.iter().filter(|f| f.has_errors()).count()
    }

    /// The wheels and sdists, with what was found checking them.
    pub(crate) fn uploadable(&self) -> impl Iterator<Item = (&Planned, &Checked)> {
        self.files
            .iter()
            .filter_map(|file| file.checked().map(|checked| (file, checked)))
    }
}

/// What the hand-offs must be before the manifest's files are read: the manifest's
/// signer (`--manifest-signed-by`), and the approval record (`--approval`,
/// `--approval-signed-by`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ApprovalCheck<'a> {
    /// The approval record, if one is required.
    pub path: Option<&'a Path>,
    /// Who may have signed it (any of them); empty: no signature is required.
    pub signed_by: &'a [Identity],
    /// Who may have signed the manifest (any of them); empty: no signature is required.
    pub manifest_signed_by: &'a [Identity],
    /// The trust root the signatures must chain to.
    pub sigstore: &'a custody_cli::sigstore::SigstoreArgs,
}

impl<'a> ApprovalCheck<'a> {
    /// The checks `args` ask for, if they ask for any.
    pub(crate) fn of(args: &'a UploadArgs) -> Option<Self> {
        let path = args.approval.as_deref();
        if path.is_none() && args.manifest_signed_by.is_empty() {
            return None;
        }
        Some(Self {
            path,
            signed_by: &args.approval_signed_by,
            manifest_signed_by: &args.manifest_signed_by,
            sigstore: &args.sigstore,
        })
    }

    /// The manifest's signature and signer (`manifest_path` as given); then the
    /// record's seal, that it approves `manifest`, and its signature and signer.
    fn check(
        &self,
        manifest_path: &Path,
        manifest: &Manifest,
        context: &Context,
    ) -> Result<(), PrepareError> {
        let signed = !self.manifest_signed_by.is_empty() || !self.signed_by.is_empty();
        let root = if signed {
            Some(handoff::trust_root(self.sigstore, context)?)
        } else {
            None
        };
        if let Some(root) = root
            .as_ref()
            .filter(|_| !self.manifest_signed_by.is_empty())
        {
            handoff::verify(
                Handoff::Manifest,
                manifest_path,
                root,
                self.manifest_signed_by,
                context,
            )?;
        }
        let Some(path) = self.path else {
            return Ok(());
        };
        let (approval_path, record) = load_approval(context, path)?;
        record.check_approves(manifest, Path::new(&context.display(&approval_path)))?;
        if let Some(root) = root.as_ref().filter(|_| !self.signed_by.is_empty()) {
            handoff::verify(Handoff::Approval, path, root, self.signed_by, context)?;
        }
        Ok(())
    }
}

/// Builds and checks the plan. `approval` is checked against the manifest first, so a
/// release that was not approved is refused before any file is read.
pub(crate) fn build(
    selection: &Selection,
    approval: Option<&ApprovalCheck<'_>>,
    context: &Context,
) -> Result<Plan, PrepareError> {
    let (manifest, entries) = if let Some(path) = &selection.manifest {
        let (resolved, manifest) = load_manifest(context, path)?;
        if let Some(approval) = approval {
            approval.check(path, &manifest, context)?;
        }
        let dir = match &selection.from {
            Some(dir) => context.resolve(dir),
            None => resolved
                .parent()
                .map_or_else(|| context.cwd.clone(), Path::to_owned),
        };
        let entries = manifest_entries(&manifest, &dir, &resolved, context)?;
        (Some((resolved, manifest)), entries)
    } else {
        // clap lets files stand in for the --manifest these flags require: refuse here,
        // rather than publish what nobody checked.
        if let Some(approval) = approval {
            let flag = if approval.path.is_some() {
                "--approval"
            } else {
                "--manifest-signed-by"
            };
            return Err(PrepareError::HandoffWithoutManifest { flag });
        }
        if selection.files.is_empty() {
            return Err(PrepareError::NothingSelected);
        }
        let files = inputs::resolve(&selection.files, &[], context)?;
        (None, files.into_iter().map(|path| (path, None)).collect())
    };
    let limits = Limits::default();
    let progress = context.progress.clone();
    let cwd = context.cwd.clone();
    let max_size = selection.max_file_size.saturating_mul(1024 * 1024);
    let files: Vec<Planned> = entries
        .into_par_iter()
        .map(|(path, expected)| {
            let planned = plan_one(&path, expected.as_ref(), &limits, progress.as_ref(), &cwd);
            planned.map(|planned| check_size(planned, max_size))
        })
        .collect::<Result<_, _>>()?;
    let mut plan = Plan { manifest, files };
    check_one_sdist_per_release(&mut plan);
    Ok(plan)
}

/// The manifest's artifacts and where their files are: found by name anywhere below
/// `dir`, as approve-gate finds them (`custody_manifest::index_dir`), so a CI system may
/// lay out downloaded artifacts as it likes. Of several copies the first is published
/// (each is checked against the manifest all the same).
fn manifest_entries(
    manifest: &Manifest,
    dir: &Path,
    manifest_path: &Path,
    context: &Context,
) -> Result<Vec<(PathBuf, Option<Artifact>)>, PrepareError> {
    if manifest.artifacts.is_empty() {
        return Err(PrepareError::EmptyManifest {
            dir: context.display(dir),
        });
    }
    let found =
        index_dir(dir, &[manifest_path.to_owned()]).map_err(|source| PrepareError::Unreadable {
            shown: context.display(dir),
            source,
        })?;
    let mut entries = Vec::new();
    for artifact in &manifest.artifacts {
        let path = match candidates(&found, &artifact.file_name).first() {
            Some(path) => path.clone(),
            None if artifact.kind.is_uploadable() => {
                return Err(PrepareError::NotStaged {
                    file_name: artifact.file_name.clone(),
                    dir: context.display(dir),
                });
            }
            None => dir.join(&artifact.file_name),
        };
        entries.push((path, Some(artifact.clone())));
    }
    Ok(entries)
}

fn plan_one(
    path: &Path,
    expected: Option<&Artifact>,
    limits: &Limits,
    progress: &dyn custody_output::Progress,
    cwd: &Path,
) -> Result<Planned, PrepareError> {
    let shown = path.strip_prefix(cwd).unwrap_or(path).display().to_string();
    let planned = |disposition| Planned {
        path: path.to_owned(),
        shown: shown.clone(),
        file_name: custody_dist::file_name_of(path),
        disposition,
    };
    // An executable in the manifest is not read at all: it is not going anywhere.
    if let Some(artifact) = expected
        && !artifact.kind.is_uploadable()
    {
        let kind = artifact.kind;
        return Ok(planned(Disposition::Skip(NotUploadable { kind })));
    }
    let inspection =
        inspect(path, limits, progress).map_err(|source| PrepareError::Unreadable {
            shown: shown.clone(),
            source,
        })?;
    let kind = inspection.kind;
    if !kind.is_uploadable() {
        return Ok(planned(Disposition::Skip(NotUploadable { kind })));
    }
    let mut problems: Vec<Problem> = expected
        .and_then(|artifact| manifest_mismatch(artifact, &inspection))
        .into_iter()
        .collect();
    problems.extend(inspection.problems.iter().cloned());
    problems.extend(preflight::check(&inspection));
    Ok(planned(Disposition::Upload(Box::new(Checked {
        inspection,
        problems,
    }))))
}

/// The first way the file differs from what the manifest recorded, if it does.
fn manifest_mismatch(artifact: &Artifact, inspection: &Inspection) -> Option<Problem> {
    const CHANGED: &str =
        "the file changed after it was collected; publish only what was verified and approved";
    if inspection.size != artifact.size {
        return Some(
            Problem::error(
                "manifest-size",
                format!(
                    "is {} bytes, but the manifest records {}",
                    inspection.size, artifact.size
                ),
            )
            .hint(CHANGED),
        );
    }
    let (digest, recorded, actual) = first_mismatch(&artifact.digests, &inspection.digests)?;
    Some(
        Problem::error(
            "manifest-digest",
            format!("has {digest} {actual}, but the manifest records {recorded}"),
        )
        .hint(CHANGED),
    )
}

/// PyPI refuses files over the project's limit (100 MiB unless raised) with
/// `400 File too large`, after the whole file was sent.
fn check_size(mut planned: Planned, max_size: u64) -> Planned {
    if let Disposition::Upload(checked) = &mut planned.disposition
        && checked.inspection.size > max_size
    {
        let mib = max_size / (1024 * 1024);
        checked.problems.push(
            Problem::error(
                "pypi-file-size",
                format!(
                    "is {} bytes, over the index's limit of {mib} MiB per file (PyPI answers `400 File too large`)",
                    checked.inspection.size
                ),
            )
            .hint("make the file smaller, or ask PyPI to raise the project's limit (https://docs.pypi.org/project-management/storage-limits/) and pass --max-file-size MIB"),
        );
    }
    planned
}

/// PyPI takes one sdist per release.
fn check_one_sdist_per_release(plan: &mut Plan) {
    let mut sdists: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (index, file) in plan.files.iter().enumerate() {
        if let Some(checked) = file.checked()
            && checked.inspection.kind == ArtifactKind::Sdist
            && let Some(project) = &checked.inspection.project
        {
            sdists
                .entry((project.normalized_name.clone(), project.version.clone()))
                .or_default()
                .push(index);
        }
    }
    for ((name, version), indexes) in sdists {
        if indexes.len() < 2 {
            continue;
        }
        let names: Vec<String> = indexes
            .iter()
            .map(|&i| format!("`{}`", plan.files[i].file_name))
            .collect();
        for &index in &indexes[1..] {
            let Disposition::Upload(checked) = &mut plan.files[index].disposition else {
                continue;
            };
            checked.problems.push(
                Problem::error(
                    "pypi-sdist-count",
                    format!(
                        "is one of {} sdists of {name} {version} ({}); PyPI takes one per release",
                        indexes.len(),
                        names.join(", ")
                    ),
                )
                .hint("publish a single sdist (.tar.gz)"),
            );
        }
    }
}
