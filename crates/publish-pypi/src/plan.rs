//! What will be published, checked before anything leaves: the files of the manifest
//! (or the command line), each re-hashed and compared with the manifest, verified inside
//! and run through the pre-flight check. Only a plan without errors is uploaded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use custody_cli::Failure;
use custody_cli::inputs;
use custody_cli::manifests::{load_approval, load_manifest};
use custody_dist::digest::first_mismatch;
use custody_dist::{ArtifactKind, Inspection, Limits, Problem, inspect};
use custody_manifest::{Artifact, Manifest};
use custody_output::Context;
use rayon::prelude::*;

use crate::{Selection, preflight};

/// One file of the plan.
#[derive(Debug)]
pub(crate) struct Planned {
    pub path: PathBuf,
    /// The path as the user sees it.
    pub shown: String,
    pub file_name: String,
    pub kind: ArtifactKind,
    /// `None` for kinds an index does not take (executables, other files).
    pub inspection: Option<Inspection>,
    pub problems: Vec<Problem>,
}

impl Planned {
    pub(crate) fn is_uploadable(&self) -> bool {
        self.kind.is_uploadable()
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
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

    pub(crate) fn uploadable(&self) -> impl Iterator<Item = &Planned> {
        self.files.iter().filter(|f| f.is_uploadable())
    }
}

/// Builds and checks the plan. `approval` is checked against the manifest first, so a
/// release that was not approved is refused before any file is read.
pub(crate) fn build(
    selection: &Selection,
    approval: Option<&Path>,
    context: &Context,
) -> Result<Plan, Failure> {
    let (manifest, entries) = if let Some(path) = &selection.manifest {
        let (resolved, manifest) = load_manifest(context, path)?;
        if let Some(approval) = approval {
            let (approval_path, record) = load_approval(context, approval)?;
            record.check_approves(&manifest, Path::new(&context.display(&approval_path)))?;
        }
        let dir = match &selection.from {
            Some(dir) => context.resolve(dir),
            None => resolved
                .parent()
                .map_or_else(|| context.cwd.clone(), Path::to_owned),
        };
        let entries = manifest_entries(&manifest, &dir, context)?;
        (Some((resolved, manifest)), entries)
    } else {
        if selection.files.is_empty() {
            return Err(Failure::usage(
                "nothing to publish: give files (PATH|GLOB...) or --manifest FILE\nhint: `publish-pypi --manifest release.json` or `publish-pypi dist/*`",
            ));
        }
        let files = inputs::resolve(&selection.files, &[], context)?;
        (None, files.into_iter().map(|path| (path, None)).collect())
    };
    let limits = Limits::default();
    let progress = context.progress.clone();
    let cwd = context.cwd.clone();
    let files: Vec<Planned> = entries
        .into_par_iter()
        .map(|(path, expected)| {
            plan_one(&path, expected.as_ref(), &limits, progress.as_ref(), &cwd)
        })
        .collect::<Result<_, _>>()?;
    let mut plan = Plan { manifest, files };
    check_one_sdist_per_release(&mut plan);
    Ok(plan)
}

/// The manifest's artifacts and where their files are.
fn manifest_entries(
    manifest: &Manifest,
    dir: &Path,
    context: &Context,
) -> Result<Vec<(PathBuf, Option<Artifact>)>, Failure> {
    if manifest.artifacts.is_empty() {
        return Err(Failure::input(format!(
            "the manifest lists no artifacts\nhint: select the release set with `collect-artifacts select` first (looked in `{}`)",
            context.display(dir)
        )));
    }
    let mut entries = Vec::new();
    for artifact in &manifest.artifacts {
        let path = dir.join(&artifact.file_name);
        if !path.is_file() && artifact.kind.is_uploadable() {
            return Err(Failure::input(format!(
                "`{}` is listed in the manifest but not in `{}`\nhint: pass the directory the release set was staged in with --from",
                artifact.file_name,
                context.display(dir)
            )));
        }
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
) -> Result<Planned, Failure> {
    let shown = path.strip_prefix(cwd).unwrap_or(path).display().to_string();
    let file_name = custody_dist::file_name_of(path);
    // An executable in the manifest is not read at all: it is not going anywhere.
    if let Some(artifact) = expected
        && !artifact.kind.is_uploadable()
    {
        return Ok(Planned {
            path: path.to_owned(),
            shown,
            file_name,
            kind: artifact.kind,
            inspection: None,
            problems: Vec::new(),
        });
    }
    let inspection = inspect(path, limits, progress)
        .map_err(|e| Failure::input(format!("cannot read `{shown}`: {e}")))?;
    let kind = inspection.kind;
    if !kind.is_uploadable() {
        return Ok(Planned {
            path: path.to_owned(),
            shown,
            file_name,
            kind,
            inspection: None,
            problems: Vec::new(),
        });
    }
    let mut problems = Vec::new();
    if let Some(artifact) = expected {
        if inspection.size != artifact.size {
            problems.push(
                Problem::error(
                    "manifest-size",
                    format!("is {} bytes, but the manifest records {}", inspection.size, artifact.size),
                )
                .hint("the file changed after it was collected; publish only what was verified and approved"),
            );
        } else if let Some((digest, recorded, actual)) =
            first_mismatch(&artifact.digests, &inspection.digests)
        {
            problems.push(
                Problem::error(
                    "manifest-digest",
                    format!("has {digest} {actual}, but the manifest records {recorded}"),
                )
                .hint("the file changed after it was collected; publish only what was verified and approved"),
            );
        }
    }
    problems.extend(inspection.problems.iter().cloned());
    problems.extend(preflight::check(&inspection));
    Ok(Planned {
        path: path.to_owned(),
        shown,
        file_name,
        kind,
        inspection: Some(inspection),
        problems,
    })
}

/// PyPI takes one sdist per release.
fn check_one_sdist_per_release(plan: &mut Plan) {
    let mut sdists: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (index, file) in plan.files.iter().enumerate() {
        if file.kind == ArtifactKind::Sdist
            && let Some(project) = file.inspection.as_ref().and_then(|i| i.project.as_ref())
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
            plan.files[index].problems.push(
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
