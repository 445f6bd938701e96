//! `verify`: check a directory against a manifest, anywhere and offline. The phases:
//! check the manifest's own signature when `--manifest-signed-by` demands one, find the
//! directory, check every listed file (and list the unlisted), re-verify the
//! attestations the manifest records, check the signers `--require-attested-by` demands,
//! report each mismatch against its file, then conclude with one verdict.

use std::io;
use std::path::{Path, PathBuf};

use custody_attest::Identity;
use custody_cli::Diagnose;
use custody_cli::handoff::{self, Handoff, HandoffError, Signature};
use custody_cli::manifests::load_manifest;
use custody_manifest::{Artifact, DirReport, FileCheck, Manifest, ManifestError, verify_dir};
use custody_output::{Context, Diagnostic, ExitStatus, Level};

use crate::VerifyArgs;
use crate::attest::{self, FileAttestations, Trust, TrustError};
use custody_cli::OutputError;
use custody_output::safe::one_line;

/// Why a directory could not be checked against its manifest.
#[derive(Debug, thiserror::Error)]
pub(crate) enum VerifyError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("`{dir}` is not a directory")]
    NotADirectory { dir: PathBuf },
    #[error("cannot check the files in `{dir}`")]
    Scan {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// `--manifest-signed-by`: the manifest is not signed, or not by whom it must be.
    #[error(transparent)]
    ManifestSignature(HandoffError),
    #[error(transparent)]
    Output(#[from] OutputError),
}

impl Diagnose for VerifyError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Manifest(error) => error.exit_status(),
            Self::NotADirectory { .. } | Self::Scan { .. } => ExitStatus::Input,
            Self::Trust(error) => error.exit_status(),
            Self::ManifestSignature(error) => error.exit_status(),
            Self::Output(error) => error.exit_status(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::Manifest(error) => Diagnose::hint(error),
            Self::NotADirectory { .. } => {
                Some("pass the directory holding the artifacts".to_owned())
            }
            Self::Scan { .. } => None,
            Self::Trust(error) => Diagnose::hint(error),
            Self::ManifestSignature(error) => Diagnose::hint(error),
            Self::Output(error) => Diagnose::hint(error),
        }
    }
}

/// What the check found, in numbers.
#[derive(Debug, Clone, Copy, Default)]
struct Verdict {
    /// Files the manifest lists.
    total: usize,
    /// Listed files missing or not matching.
    failed: usize,
    /// Unlisted files present, when `--strict` makes them fail the check.
    refused_unlisted: usize,
    /// Recorded attestation files checked.
    attestations: usize,
    /// Recorded attestation files missing, changed or no longer verifying.
    failed_attestations: usize,
    /// Wheels and sdists without a verified attestation by a `--require-attested-by`.
    unattested: usize,
}

impl Verdict {
    fn is_ok(self) -> bool {
        self.failed == 0
            && self.refused_unlisted == 0
            && self.failed_attestations == 0
            && self.unattested == 0
    }
}

pub(crate) fn verify(args: &VerifyArgs, context: &mut Context) -> Result<ExitStatus, VerifyError> {
    let (manifest_path, manifest) = load_manifest(context, &args.manifest)?;
    let records = manifest
        .artifacts
        .iter()
        .any(|a| !a.attestations.is_empty());
    let attested = records || !args.required_signers.is_empty();
    let trust = if attested || !args.manifest_signers.is_empty() {
        Some(args.trust.load(context)?)
    } else {
        None
    };
    let signature = match &trust {
        Some(trust) if !args.manifest_signers.is_empty() => Some(manifest_signature(
            &args.manifest,
            trust,
            &args.manifest_signers,
            context,
        )?),
        _ => None,
    };
    let dir = files_dir(args.dir.as_deref(), &manifest_path, context)?;
    // The manifest's signature lies beside it and is not one of the files.
    let skipped = [manifest_path.clone(), handoff::bundle_path(&manifest_path)];
    let report = verify_dir(
        &manifest,
        &dir,
        &skipped,
        !args.shallow,
        &args.limits.limits(),
        context.progress.as_ref(),
    )
    .map_err(|source| VerifyError::Scan {
        dir: context.display(&dir).into(),
        source,
    })?;
    let mut verdict = report_findings(&report, args.strict, context)?;
    let trust = trust.filter(|_| attested);
    if let Some(trust) = &trust {
        trust.announce(context).map_err(OutputError::from)?;
    }
    let checks = trust
        .as_ref()
        .map(|trust| reverify_all(&manifest, &report, trust))
        .unwrap_or_default();
    report_attestations(&checks, &mut verdict, context)?;
    let unattested = unattested(&checks, &args.required_signers);
    verdict.unattested = unattested.len();
    report_unattested(&unattested, &args.required_signers, context)?;
    if context.out.is_json() {
        let value = serde_json::json!({
            "ok": verdict.is_ok(),
            "manifest": context.display(&manifest_path),
            "digest": manifest.digest,
            "dir": context.display(&dir),
            "entries": report.entries,
            "unlisted": report.unlisted.iter().map(|p| context.display(p)).collect::<Vec<_>>(),
            "trust_root": trust.as_ref().map(|t| &t.name),
            "attestations": attestations_json(&checks, context),
            "required_signers": args.required_signers.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "unattested": unattested.iter().map(|c| &c.artifact.file_name).collect::<Vec<_>>(),
            "manifest_signers": args.manifest_signers.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "manifest_signature": signature.as_ref().map(signature_json),
        });
        context.out.json(&value).map_err(OutputError::from)?;
    }
    Ok(conclude(verdict, &manifest_path, args.shallow, context)?)
}

/// `--manifest-signed-by`: the manifest `path` (as given) is signed over its exact bytes
/// by one of `signers`; said in one line.
fn manifest_signature(
    path: &Path,
    trust: &Trust,
    signers: &[Identity],
    context: &mut Context,
) -> Result<Signature, VerifyError> {
    let signature = handoff::verify(Handoff::Manifest, path, &trust.root, signers, context)
        .map_err(VerifyError::ManifestSignature)?;
    let shown = context.display(&context.resolve(path));
    context
        .out
        .status(
            "Verified",
            &format!(
                "`{}`: signed by {} (`{}`)",
                one_line(&shown),
                one_line(&signature.signer_and_entry()),
                signature.bundle
            ),
        )
        .map_err(OutputError::from)?;
    Ok(signature)
}

/// A verified manifest signature, for `--json`.
fn signature_json(signature: &Signature) -> serde_json::Value {
    serde_json::json!({
        "bundle": signature.bundle,
        "identity": signature.claims.identity,
        "issuer": signature.claims.issuer,
        "log_index": signature.log_index,
    })
}

/// The recorded attestations of one listed file, re-verified.
#[derive(Debug)]
struct AttestationCheck<'a> {
    artifact: &'a Artifact,
    /// Where the file was found; `None` when it was missing or did not match, and its
    /// attestations were then not checked.
    path: Option<PathBuf>,
    found: FileAttestations,
}

/// Re-verifies the recorded attestations of every listed file that matched, in
/// parallel: beside the file, unchanged, still verifying for it, as recorded.
fn reverify_all<'a>(
    manifest: &'a Manifest,
    report: &DirReport,
    trust: &Trust,
) -> Vec<AttestationCheck<'a>> {
    use rayon::prelude::*;
    manifest
        .artifacts
        .par_iter()
        .zip(&report.entries)
        .map(|(artifact, entry)| {
            let path = entry.path.clone().filter(|_| entry.check.is_ok());
            let found = path
                .as_deref()
                .map_or_else(FileAttestations::default, |path| {
                    attest::reverify_recorded(
                        &artifact.attestations,
                        &[path],
                        &artifact.file_name,
                        &artifact.digests.sha256,
                        trust,
                    )
                });
            AttestationCheck {
                artifact,
                path,
                found,
            }
        })
        .collect()
}

/// One error per recorded attestation that failed, counted into `verdict`.
fn report_attestations(
    checks: &[AttestationCheck<'_>],
    verdict: &mut Verdict,
    context: &mut Context,
) -> Result<(), OutputError> {
    for check in checks {
        verdict.attestations += check.found.found;
        verdict.failed_attestations += check.found.refusals.len();
        let location = check.location(context);
        for refusal in &check.found.refusals {
            let diagnostic =
                attest::refusal_diagnostic(&check.artifact.file_name, &location, refusal);
            context.out.error(&diagnostic)?;
        }
    }
    Ok(())
}

impl AttestationCheck<'_> {
    /// Where the file is, as shown (its name when it was not found).
    fn location(&self, context: &Context) -> String {
        self.path
            .as_ref()
            .map_or_else(|| self.artifact.file_name.clone(), |p| context.display(p))
    }
}

/// The wheels and sdists no verified attestation by any of `signers` vouches for (none
/// when no signer is required).
fn unattested<'c, 'a>(
    checks: &'c [AttestationCheck<'a>],
    signers: &[Identity],
) -> Vec<&'c AttestationCheck<'a>> {
    if signers.is_empty() {
        return Vec::new();
    }
    checks
        .iter()
        .filter(|check| attest::is_distribution(check.artifact.kind))
        .filter(|check| !attest::attested_by(&check.found, signers))
        .collect()
}

/// One error per file `--require-attested-by` refuses, naming the signers found.
fn report_unattested(
    unattested: &[&AttestationCheck<'_>],
    signers: &[Identity],
    context: &mut Context,
) -> Result<(), OutputError> {
    for check in unattested {
        let diagnostic = attest::unattested_diagnostic(
            &check.artifact.file_name,
            &check.location(context),
            &check.found,
            signers,
        );
        context.out.error(&diagnostic)?;
    }
    Ok(())
}

/// Every recorded attestation checked, for `--json`, each naming its `artifact`.
fn attestations_json(checks: &[AttestationCheck<'_>], context: &Context) -> Vec<serde_json::Value> {
    checks
        .iter()
        .flat_map(|check| {
            attest::found_json(&check.found, context)
                .into_iter()
                .map(|mut value| {
                    value["artifact"] = check.artifact.file_name.clone().into();
                    value
                })
        })
        .collect()
}

/// Where the files are: `dir` as given, or the manifest's directory.
fn files_dir(
    dir: Option<&Path>,
    manifest_path: &Path,
    context: &Context,
) -> Result<PathBuf, VerifyError> {
    let dir = match dir {
        Some(dir) => context.resolve(dir),
        None => manifest_path
            .parent()
            .map_or_else(|| context.cwd.clone(), ToOwned::to_owned),
    };
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(VerifyError::NotADirectory {
            dir: context.display(&dir).into(),
        })
    }
}

/// One error per file that does not match, one diagnostic per unlisted file (an error
/// with `strict`, else a warning).
fn report_findings(
    report: &DirReport,
    strict: bool,
    context: &mut Context,
) -> Result<Verdict, OutputError> {
    let mut failed = 0;
    for entry in report.entries.iter().filter(|entry| !entry.check.is_ok()) {
        failed += 1;
        let location = entry
            .path
            .as_ref()
            .map_or_else(|| entry.file_name.clone(), |p| context.display(p));
        let mut diagnostic = Diagnostic::new(format!(
            "`{}` {}",
            one_line(&entry.file_name),
            entry.check.describe()
        ))
        .at(one_line(&location), None);
        if matches!(entry.check, FileCheck::Misdescribed { .. }) {
            diagnostic = diagnostic.hint(
                "a manifest may only say what `collect-artifacts collect` finds: collect the files again",
            );
        }
        context.out.error(&diagnostic)?;
    }
    let level = if strict { Level::Error } else { Level::Warning };
    for path in &report.unlisted {
        let diagnostic = Diagnostic::new(format!(
            "`{}` is not listed in the manifest",
            one_line(&context.display(path))
        ));
        context.out.diagnostic(level, &diagnostic)?;
    }
    Ok(Verdict {
        total: report.entries.len(),
        failed,
        refused_unlisted: if strict { report.unlisted.len() } else { 0 },
        ..Verdict::default()
    })
}

/// The closing line and the `verified` output; the step's "no" when anything failed.
fn conclude(
    verdict: Verdict,
    manifest_path: &Path,
    shallow: bool,
    context: &mut Context,
) -> Result<ExitStatus, OutputError> {
    let shown = context.display(manifest_path);
    let Verdict {
        total,
        failed,
        refused_unlisted,
        attestations,
        failed_attestations,
        unattested,
    } = verdict;
    if verdict.is_ok() {
        let depth = if shallow {
            "sizes and digests"
        } else {
            "sizes, digests and contents"
        };
        let attested = if attestations > 0 {
            format!(" and {attestations} attestation file(s)")
        } else {
            String::new()
        };
        context.out.status(
            "Verified",
            &format!("{total} file(s){attested} against `{shown}` ({depth} match)"),
        )?;
        context.out.set_output("verified", "true")?;
        return Ok(ExitStatus::Success);
    }
    let mut findings = Vec::new();
    if failed > 0 {
        findings.push(format!(
            "{failed} of {total} file(s) do not match `{shown}`"
        ));
    }
    if failed_attestations > 0 {
        findings.push(format!(
            "{failed_attestations} of {attestations} recorded attestation file(s) fail"
        ));
    }
    if unattested > 0 {
        findings.push(format!(
            "{unattested} file(s) are not attested by the required signer (--require-attested-by)"
        ));
    }
    if refused_unlisted > 0 {
        let and = if findings.is_empty() { "" } else { "and " };
        findings.push(format!(
            "{and}{refused_unlisted} unlisted file(s) are present (--strict)"
        ));
    }
    let mut message = findings.join(", ");
    if failed == 0 {
        message = format!("`{shown}`: {message}");
    }
    context.out.error(&Diagnostic::new(message))?;
    context.out.set_output("verified", "false")?;
    Ok(ExitStatus::No)
}
