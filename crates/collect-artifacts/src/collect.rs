//! `collect` and `inspect`: verify every artifact (in parallel), report each problem
//! against its file, and only when all are clean write the sealed manifest.

use std::path::{Path, PathBuf};

use custody_cli::{Failure, StepResult};
use custody_dist::{Inspection, Limits, Problem, inspect};
use custody_manifest::{Artifact, Job, Manifest};
use custody_output::{Context, Diagnostic, ExitStatus};
use rayon::prelude::*;
use serde::Serialize;

use custody_cli::inputs;

use crate::{CollectArgs, GENERATOR, InspectArgs, pairs_to_map, report};
use custody_cli::manifests::write_manifest;

/// Verifies `files` in parallel, in input order.
pub(crate) fn inspect_all(
    files: &[PathBuf],
    limits: &Limits,
    context: &Context,
) -> Result<Vec<Inspection>, Failure> {
    let progress = context.progress.clone();
    let cwd = context.cwd.clone();
    files
        .par_iter()
        .map(|file| {
            inspect(file, limits, progress.as_ref()).map_err(|e| {
                let shown = file.strip_prefix(&cwd).unwrap_or(file);
                Failure::input(format!("cannot read `{}`: {e}", shown.display()))
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

/// Reports every problem; returns how many artifacts have errors.
fn report_problems(inspections: &[Inspection], context: &mut Context) -> Result<usize, Failure> {
    for inspection in inspections {
        let shown_path = context.display(&inspection.path);
        custody_cli::problems::report(
            &mut context.out,
            &inspection.file_name,
            &shown_path,
            &inspection.problems,
        )
        .map_err(Failure::environment)?;
    }
    Ok(inspections.iter().filter(|i| !i.is_ok()).count())
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

pub(crate) fn collect(args: &CollectArgs, context: &mut Context) -> StepResult {
    let out_path = context.resolve(&args.out);
    let files = inputs::resolve(&args.inputs, std::slice::from_ref(&out_path), context)?;
    let inspections = inspect_all(&files, &args.limits.limits(), context)?;
    let failed = report_problems(&inspections, context)?;
    if failed > 0 {
        if context.out.is_json() {
            let value = serde_json::json!({
                "ok": false,
                "manifest": null,
                "failed": failed,
                "problems": problems_json(&inspections, context),
            });
            context.out.json(&value).map_err(Failure::environment)?;
        }
        context
            .out
            .error(&Diagnostic::new(format!(
                "{failed} of {} artifact(s) failed verification; no manifest was written",
                inspections.len()
            )))
            .map_err(Failure::environment)?;
        return Ok(ExitStatus::No);
    }

    let job = Job::new(pairs_to_map(&args.labels), context.ci.clone());
    let artifacts: Vec<Artifact> = inspections
        .iter()
        .map(|i| Artifact::from_inspection(i, &job.id))
        .collect();
    let manifest = Manifest::new(GENERATOR, vec![job], artifacts, None);
    write_manifest(context, &manifest, &out_path)?;
    announce_manifest(&manifest, &out_path, "collected", context)?;
    Ok(ExitStatus::Success)
}

/// Prints the table, sets step outputs, writes the job summary and the JSON result for
/// a manifest just written.
pub(crate) fn announce_manifest(
    manifest: &Manifest,
    path: &Path,
    verb: &str,
    context: &mut Context,
) -> Result<(), Failure> {
    let shown_path = context.display(path);
    let out = &mut context.out;
    out.info(&report::artifact_table(manifest))
        .map_err(Failure::environment)?;
    out.status(
        "Wrote",
        &format!(
            "`{shown_path}`: {} artifact(s) {verb}, digest {}",
            manifest.artifacts.len(),
            manifest.digest
        ),
    )
    .map_err(Failure::environment)?;
    out.set_output("manifest", &shown_path)
        .map_err(Failure::environment)?;
    out.set_output("manifest_digest", &manifest.digest)
        .map_err(Failure::environment)?;
    out.set_output("artifact_count", &manifest.artifacts.len().to_string())
        .map_err(Failure::environment)?;
    out.summary(
        "collect-artifacts",
        &report::markdown_summary(manifest, &shown_path, verb),
    )
    .map_err(Failure::environment)?;
    if out.is_json() {
        let value = serde_json::json!({
            "ok": true,
            "manifest": shown_path,
            "digest": manifest.digest,
            "artifacts": manifest.artifacts,
            "jobs": manifest.jobs,
        });
        out.json(&value).map_err(Failure::environment)?;
    }
    Ok(())
}

pub(crate) fn inspect_only(args: &InspectArgs, context: &mut Context) -> StepResult {
    let files = inputs::resolve(&args.inputs, &[], context)?;
    let inspections = inspect_all(&files, &args.limits.limits(), context)?;
    let failed = report_problems(&inspections, context)?;
    let artifacts: Vec<Artifact> = inspections
        .iter()
        .map(|i| Artifact::from_inspection(i, ""))
        .collect();
    context
        .out
        .info(&report::table(&artifacts))
        .map_err(Failure::environment)?;
    if context.out.is_json() {
        let value = serde_json::json!({
            "ok": failed == 0,
            "artifacts": artifacts,
            "problems": problems_json(&inspections, context),
        });
        context.out.json(&value).map_err(Failure::environment)?;
    }
    if failed > 0 {
        context
            .out
            .error(&Diagnostic::new(format!(
                "{failed} of {} artifact(s) failed verification",
                inspections.len()
            )))
            .map_err(Failure::environment)?;
        return Ok(ExitStatus::No);
    }
    Ok(ExitStatus::Success)
}
