//! `collect` and `inspect`: verify every artifact (in parallel), report each problem
//! against its file, and only when all are clean write the sealed manifest.

use std::io;
use std::path::PathBuf;

use custody_cli::Diagnose;
use custody_cli::inputs::{self, InputError};
use custody_cli::manifests::write_manifest;
use custody_dist::{Inspection, Limits, Problem, inspect};
use custody_manifest::{Artifact, Job, Manifest, ManifestError};
use custody_output::{Context, Diagnostic, ExitStatus};
use rayon::prelude::*;
use serde::Serialize;

use crate::report::{announce_manifest, table};
use crate::{CollectArgs, GENERATOR, InspectArgs, pairs_to_map};
use custody_cli::OutputError;
use custody_output::safe::one_line;

/// Why artifacts could not be collected or inspected.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CollectError {
    #[error(transparent)]
    Inputs(#[from] InputError),
    #[error("cannot read `{path}`")]
    Inspect {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Output(#[from] OutputError),
}

impl Diagnose for CollectError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Inputs(error) => error.exit_status(),
            Self::Inspect { .. } => ExitStatus::Input,
            Self::Manifest(error) => error.exit_status(),
            Self::Output(error) => error.exit_status(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::Inputs(error) => Diagnose::hint(error),
            Self::Inspect { .. } => None,
            Self::Manifest(error) => Diagnose::hint(error),
            Self::Output(error) => Diagnose::hint(error),
        }
    }
}

/// Every artifact verified, in input order, with its problems reported.
struct Inspected {
    inspections: Vec<Inspection>,
    /// How many have errors.
    failed: usize,
}

/// Finds the artifacts `inputs` name (but not `exclude`), verifies them and reports
/// their problems.
fn inspect_inputs(
    inputs: &[String],
    exclude: &[PathBuf],
    limits: &Limits,
    context: &mut Context,
) -> Result<Inspected, CollectError> {
    let files = inputs::resolve(inputs, exclude, context)?;
    let inspections = inspect_all(&files, limits, context)?;
    for inspection in &inspections {
        let shown_path = one_line(&context.display(&inspection.path));
        custody_cli::problems::report(
            &mut context.out,
            &one_line(&inspection.file_name),
            &shown_path,
            &inspection.problems,
        )
        .map_err(OutputError::from)?;
    }
    let failed = inspections.iter().filter(|i| !i.is_ok()).count();
    Ok(Inspected {
        inspections,
        failed,
    })
}

/// Verifies `files` in parallel, in input order.
fn inspect_all(
    files: &[PathBuf],
    limits: &Limits,
    context: &Context,
) -> Result<Vec<Inspection>, CollectError> {
    let progress = context.progress.clone();
    let cwd = context.cwd.clone();
    files
        .par_iter()
        .map(|file| {
            inspect(file, limits, progress.as_ref()).map_err(|source| CollectError::Inspect {
                path: file.strip_prefix(&cwd).unwrap_or(file).to_owned(),
                source,
            })
        })
        .collect()
}

/// A problem tied to the artifact it was found in, for `--json`.
#[derive(Debug, Serialize)]
struct FileProblem<'a> {
    file: String,
    #[serde(flatten)]
    problem: &'a Problem,
}

fn problems_json(inspections: &[Inspection], context: &Context) -> Vec<serde_json::Value> {
    inspections
        .iter()
        .flat_map(|i| {
            let file = context.display(&i.path);
            i.problems.iter().map(move |problem| {
                serde_json::to_value(FileProblem {
                    file: file.clone(),
                    problem,
                })
                .unwrap_or_default()
            })
        })
        .collect()
}

/// The closing error line when some artifacts failed: the step's "no". `consequence`
/// says what was not done because of it.
fn refuse(
    inspected: &Inspected,
    consequence: &str,
    context: &mut Context,
) -> Result<ExitStatus, OutputError> {
    context.out.error(&Diagnostic::new(format!(
        "{} of {} artifact(s) failed verification{consequence}",
        inspected.failed,
        inspected.inspections.len()
    )))?;
    Ok(ExitStatus::No)
}

pub(crate) fn collect(
    args: &CollectArgs,
    context: &mut Context,
) -> Result<ExitStatus, CollectError> {
    let out_path = context.resolve(&args.out);
    let inspected = inspect_inputs(
        &args.inputs,
        std::slice::from_ref(&out_path),
        &args.limits.limits(),
        context,
    )?;
    if inspected.failed > 0 {
        if context.out.is_json() {
            let value = serde_json::json!({
                "ok": false,
                "manifest": null,
                "failed": inspected.failed,
                "problems": problems_json(&inspected.inspections, context),
            });
            context.out.json(&value).map_err(OutputError::from)?;
        }
        return Ok(refuse(&inspected, "; no manifest was written", context)?);
    }
    let manifest = job_manifest(&inspected.inspections, args, context);
    write_manifest(context, &manifest, &out_path)?;
    announce_manifest(&manifest, &out_path, "collected", context)?;
    Ok(ExitStatus::Success)
}

/// The sealed manifest of this job's verified artifacts, with its labels and CI context.
fn job_manifest(inspections: &[Inspection], args: &CollectArgs, context: &Context) -> Manifest {
    let job = Job::new(pairs_to_map(&args.labels), context.ci.clone());
    let artifacts: Vec<Artifact> = inspections
        .iter()
        .map(|i| Artifact::from_inspection(i, &job.id))
        .collect();
    Manifest::new(GENERATOR, vec![job], artifacts, None)
}

pub(crate) fn inspect_only(
    args: &InspectArgs,
    context: &mut Context,
) -> Result<ExitStatus, CollectError> {
    let inspected = inspect_inputs(&args.inputs, &[], &args.limits.limits(), context)?;
    let artifacts: Vec<Artifact> = inspected
        .inspections
        .iter()
        .map(|i| Artifact::from_inspection(i, ""))
        .collect();
    if context.out.is_json() {
        let value = serde_json::json!({
            "ok": inspected.failed == 0,
            "artifacts": artifacts,
            "problems": problems_json(&inspected.inspections, context),
        });
        context.out.json(&value).map_err(OutputError::from)?;
    } else {
        // The table is the command's data: stdout, with CI command markers broken.
        let table = context.out.safe_text(&table(&artifacts));
        context.out.data(&table).map_err(OutputError::from)?;
    }
    if inspected.failed > 0 {
        return Ok(refuse(&inspected, "", context)?);
    }
    Ok(ExitStatus::Success)
}
