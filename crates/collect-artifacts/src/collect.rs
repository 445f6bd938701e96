//! `collect` and `inspect`: verify every artifact (in parallel) and, for `collect`, the
//! PEP 740 attestations beside it; report each problem against its file, and only when
//! all are clean write the sealed manifest.

use std::io;
use std::path::{Path, PathBuf};

use custody_cli::Diagnose;
use custody_cli::inputs::{self, InputError};
use custody_cli::manifests::write_manifest;
use custody_dist::{Inspection, Limits, Problem, inspect};
use custody_manifest::{Artifact, AttestationRecord, Job, Manifest, ManifestError};
use custody_output::{Context, Diagnostic, ExitStatus};
use rayon::prelude::*;
use serde::Serialize;

use crate::attest::{self, FileAttestations, Trust, TrustError};
use crate::report::{announce_manifest, table};
use crate::{CollectArgs, GENERATOR, InspectArgs, pairs_to_map};
use custody_attest::Identity;
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
    Trust(#[from] TrustError),
    #[error(transparent)]
    Output(#[from] OutputError),
}

impl Diagnose for CollectError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Inputs(error) => error.exit_status(),
            Self::Inspect { .. } => ExitStatus::Input,
            Self::Manifest(error) => error.exit_status(),
            Self::Trust(error) => error.exit_status(),
            Self::Output(error) => error.exit_status(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::Inputs(error) => Diagnose::hint(error),
            Self::Inspect { .. } => None,
            Self::Manifest(error) => Diagnose::hint(error),
            Self::Trust(error) => Diagnose::hint(error),
            Self::Output(error) => Diagnose::hint(error),
        }
    }
}

/// What `collect` asks of the attestations beside the artifacts.
struct Attesting<'a> {
    trust: &'a Trust,
    /// Any of them must have signed every attestation (none: any signer).
    identities: &'a [Identity],
    /// Every wheel and sdist must have one.
    required: bool,
}

/// Every artifact verified, in input order, with its problems reported.
struct Inspected {
    inspections: Vec<Inspection>,
    /// The verified attestations of each artifact (empty when not asked for).
    attestations: Vec<Vec<AttestationRecord>>,
    /// How many have errors.
    failed: usize,
    /// How many of those have errors in (or for want of) their attestations.
    failed_attestations: usize,
}

impl Inspected {
    /// Failed attestations are bad input (exit 3); anything else failed is the step's "no".
    fn failure_status(&self) -> ExitStatus {
        if self.failed_attestations > 0 {
            ExitStatus::Input
        } else {
            ExitStatus::No
        }
    }
}

/// Finds the artifacts `inputs` name (but not `exclude`), verifies them (and, when
/// `attesting`, their attestations) and reports their problems.
fn inspect_inputs(
    inputs: &[String],
    exclude: &[PathBuf],
    limits: &Limits,
    attesting: Option<&Attesting<'_>>,
    context: &mut Context,
) -> Result<Inspected, CollectError> {
    let files = inputs::resolve(inputs, exclude, context)?;
    let files = without_attestation_files(files, context)?;
    let mut inspections = inspect_all(&files, limits, context)?;
    let mut attestations = vec![Vec::new(); inspections.len()];
    let mut failed_attestations = 0;
    if let Some(attesting) = attesting {
        let found = attest_all(&inspections, attesting);
        if attesting.required || found.iter().any(|f| f.found > 0) {
            attesting
                .trust
                .announce(context)
                .map_err(OutputError::from)?;
        }
        for ((inspection, found), records) in
            inspections.iter_mut().zip(found).zip(&mut attestations)
        {
            let problems = attestation_problems(inspection, &found, attesting.required);
            failed_attestations += usize::from(!problems.is_empty());
            inspection.problems.extend(problems);
            *records = found.attested.into_iter().map(|a| a.record).collect();
        }
    }
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
        attestations,
        failed,
        failed_attestations,
    })
}

/// The artifacts among `files`: attestation files are not artifacts but belong to the
/// file they attest, which must be collected beside them (else they are left out, with
/// a warning, as nothing would record them).
fn without_attestation_files(
    files: Vec<PathBuf>,
    context: &mut Context,
) -> Result<Vec<PathBuf>, OutputError> {
    let (attestation_files, artifacts): (Vec<PathBuf>, Vec<PathBuf>) = files
        .into_iter()
        .partition(|f| attest::is_attestation_file(f));
    for path in attestation_files {
        let attests_one = artifacts
            .iter()
            .any(|artifact| attest::expected_paths(artifact).contains(&path));
        if !attests_one {
            let shown = one_line(&context.display(&path));
            context.out.warning(
                &Diagnostic::new(format!(
                    "`{shown}` is an attestation file, but the file it attests is not collected beside it; it is not recorded"
                ))
                .at(shown.clone(), None),
            )?;
        }
    }
    Ok(artifacts)
}

/// Verifies the attestations beside every artifact, in parallel, in input order.
fn attest_all(inspections: &[Inspection], attesting: &Attesting<'_>) -> Vec<FileAttestations> {
    inspections
        .par_iter()
        .map(|inspection| {
            attest::verify_beside(
                &inspection.path,
                &inspection.file_name,
                &inspection.digests.sha256,
                attesting.trust,
                attesting.identities,
            )
        })
        .collect()
}

/// The problems of one artifact's attestations: each refusal, and the want of any when
/// they are required of a wheel or sdist.
fn attestation_problems(
    inspection: &Inspection,
    found: &FileAttestations,
    required: bool,
) -> Vec<Problem> {
    let mut problems: Vec<Problem> = found
        .refusals
        .iter()
        .map(attest::Refusal::problem)
        .collect();
    if required && found.found == 0 && attest::is_distribution(inspection.kind) {
        let expected = attest::expected_paths(Path::new(&inspection.file_name))
            .iter()
            .map(|p| format!("`{}`", one_line(&p.to_string_lossy())))
            .collect::<Vec<_>>()
            .join(", ");
        problems.push(
            Problem::error(
                "attestation-missing",
                format!("has no attestation beside it (--require-attestations): expected one of {expected}"),
            )
            .hint("download each file's attestations beside it (`pypi-attestations`, or PyPI's integrity API for `<file>.provenance`), or publish with trusted publishing, which makes them"),
        );
    }
    problems
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

/// The closing error line when some artifacts failed: the step's "no", or bad input
/// when attestations failed. `consequence` says what was not done because of it.
fn refuse(
    inspected: &Inspected,
    consequence: &str,
    context: &mut Context,
) -> Result<ExitStatus, OutputError> {
    let attestations = if inspected.failed_attestations > 0 {
        format!(
            " ({} for their attestations)",
            inspected.failed_attestations
        )
    } else {
        String::new()
    };
    context.out.error(&Diagnostic::new(format!(
        "{} of {} artifact(s) failed verification{attestations}{consequence}",
        inspected.failed,
        inspected.inspections.len()
    )))?;
    Ok(inspected.failure_status())
}

pub(crate) fn collect(
    args: &CollectArgs,
    context: &mut Context,
) -> Result<ExitStatus, CollectError> {
    let out_path = context.resolve(&args.out);
    let trust = args.trust.load(context)?;
    let attesting = Attesting {
        trust: &trust,
        identities: &args.identities,
        required: args.require_attestations,
    };
    let inspected = inspect_inputs(
        &args.inputs,
        std::slice::from_ref(&out_path),
        &args.limits.limits(),
        Some(&attesting),
        context,
    )?;
    if inspected.failed > 0 {
        if context.out.is_json() {
            let value = serde_json::json!({
                "ok": false,
                "manifest": null,
                "failed": inspected.failed,
                "trust_root": trust.name,
                "problems": problems_json(&inspected.inspections, context),
            });
            context.out.json(&value).map_err(OutputError::from)?;
        }
        return Ok(refuse(&inspected, "; no manifest was written", context)?);
    }
    let manifest = job_manifest(&inspected, args, context);
    write_manifest(context, &manifest, &out_path)?;
    announce_manifest(&manifest, &out_path, "collected", Some(&trust), context)?;
    Ok(ExitStatus::Success)
}

/// The sealed manifest of this job's verified artifacts, with their attestations, its
/// labels and CI context.
fn job_manifest(inspected: &Inspected, args: &CollectArgs, context: &Context) -> Manifest {
    let job = Job::new(pairs_to_map(&args.labels), context.ci.clone());
    let artifacts: Vec<Artifact> = inspected
        .inspections
        .iter()
        .zip(&inspected.attestations)
        .map(|(inspection, attestations)| {
            let mut artifact = Artifact::from_inspection(inspection, &job.id);
            artifact.attestations.clone_from(attestations);
            artifact
        })
        .collect();
    Manifest::new(GENERATOR, vec![job], artifacts, None)
}

pub(crate) fn inspect_only(
    args: &InspectArgs,
    context: &mut Context,
) -> Result<ExitStatus, CollectError> {
    let inspected = inspect_inputs(&args.inputs, &[], &args.limits.limits(), None, context)?;
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
