//! `verify-attestations`: the standalone, offline check of the PEP 740 attestations
//! beside some files, with no manifest — what `pypi-attestations verify attestation`
//! does, with custody's identity forms, trust roots and output. Every file must have at
//! least one attestation beside it; each must verify for the file.

use std::io;
use std::path::PathBuf;

use custody_cli::{Diagnose, OutputError};
use custody_dist::digest::{DigestSet, hash_file};
use custody_output::safe::one_line;
use custody_output::{Context, Diagnostic, ExitStatus};

use crate::VerifyAttestationsArgs;
use crate::attest::{self, FileAttestations, TrustError, describe};

/// Why the files could not be checked at all.
#[derive(Debug, thiserror::Error)]
pub(crate) enum VerifyAttestationsError {
    #[error(transparent)]
    Trust(#[from] TrustError),
    #[error("`{path}` is not a file")]
    NotAFile { path: PathBuf },
    #[error("`{path}` has no attestation beside it: looked for {}", quoted(.expected))]
    NoAttestation {
        path: PathBuf,
        expected: Vec<PathBuf>,
    },
    #[error("cannot read `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Output(#[from] OutputError),
}

fn quoted(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| format!("`{}`", one_line(&p.display().to_string())))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Diagnose for VerifyAttestationsError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Trust(error) => error.exit_status(),
            Self::NotAFile { .. } | Self::NoAttestation { .. } | Self::Read { .. } => {
                ExitStatus::Input
            }
            Self::Output(error) => error.exit_status(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::Trust(error) => Diagnose::hint(error),
            Self::NoAttestation { .. } => Some(
                "download the attestations beside the file (`<file>.publish.attestation` as `pypi-attestations` writes them, or PyPI's integrity API answer as `<file>.provenance`)".to_owned(),
            ),
            Self::NotAFile { .. } => Some("pass the attested files themselves, not their attestations".to_owned()),
            Self::Read { .. } => None,
            Self::Output(error) => Diagnose::hint(error),
        }
    }
}

/// One file and what its attestations proved.
struct Checked {
    path: PathBuf,
    file_name: String,
    sha256: String,
    found: FileAttestations,
}

pub(crate) fn run(
    args: &VerifyAttestationsArgs,
    context: &mut Context,
) -> Result<ExitStatus, VerifyAttestationsError> {
    let trust = args.trust.load(context)?;
    let files = attested_files(&args.files, context)?;
    trust.announce(context).map_err(OutputError::from)?;
    let mut checked = Vec::with_capacity(files.len());
    for path in files {
        let (_, digests) =
            hash_file(&path, DigestSet::Sha256, context.progress.as_ref()).map_err(|source| {
                VerifyAttestationsError::Read {
                    path: context.display(&path).into(),
                    source,
                }
            })?;
        let file_name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let found =
            attest::verify_beside(&path, &file_name, &digests.sha256, &trust, &args.identities);
        checked.push(Checked {
            path,
            file_name,
            sha256: digests.sha256,
            found,
        });
    }
    let (verified, failed) = report(&checked, context)?;
    if context.out.is_json() {
        let value = serde_json::json!({
            "ok": failed == 0,
            "trust_root": trust.name,
            "identities": args.identities.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "files": checked.iter().map(|c| file_json(c, context)).collect::<Vec<_>>(),
        });
        context.out.json(&value).map_err(OutputError::from)?;
    }
    conclude(verified, failed, checked.len(), context).map_err(OutputError::from)?;
    Ok(if failed == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::No
    })
}

/// The files as paths, each with at least one attestation beside it; the first that
/// has none stops the command before anything is verified, as `pypi-attestations` does.
fn attested_files(
    files: &[PathBuf],
    context: &Context,
) -> Result<Vec<PathBuf>, VerifyAttestationsError> {
    let mut paths = Vec::with_capacity(files.len());
    for file in files {
        let path = context.resolve(file);
        if !path.is_file() {
            return Err(VerifyAttestationsError::NotAFile {
                path: context.display(&path).into(),
            });
        }
        if attest::beside(&path).is_empty() {
            return Err(VerifyAttestationsError::NoAttestation {
                path: context.display(&path).into(),
                expected: attest::expected_paths(&path)
                    .iter()
                    .map(|p| PathBuf::from(context.display(p)))
                    .collect(),
            });
        }
        paths.push(path);
    }
    Ok(paths)
}

/// One line per verified attestation, one error per refused one; returns how many of
/// each.
fn report(checked: &[Checked], context: &mut Context) -> Result<(usize, usize), OutputError> {
    let (mut verified, mut failed) = (0, 0);
    for file in checked {
        for attested in &file.found.attested {
            verified += 1;
            let record = &attested.record;
            context.out.status(
                "Verified",
                &format!("`{}`: {}", one_line(&record.file_name), describe(record)),
            )?;
        }
        let shown = one_line(&context.display(&file.path));
        for refusal in &file.found.refusals {
            failed += 1;
            let diagnostic = attest::refusal_diagnostic(&file.file_name, &shown, refusal);
            context.out.error(&diagnostic)?;
        }
    }
    Ok((verified, failed))
}

/// A file and its attestations, for `--json`.
fn file_json(file: &Checked, context: &Context) -> serde_json::Value {
    serde_json::json!({
        "file": context.display(&file.path),
        "file_name": file.file_name,
        "sha256": file.sha256,
        "attestations": attest::found_json(&file.found, context),
    })
}

/// The closing line.
fn conclude(verified: usize, failed: usize, files: usize, context: &mut Context) -> io::Result<()> {
    if failed == 0 {
        context.out.status(
            "Verified",
            &format!("{verified} attestation(s) of {files} file(s)"),
        )?;
        context.out.set_output("verified", "true")
    } else {
        context.out.error(&Diagnostic::new(format!(
            "{failed} of {} attestation(s) of {files} file(s) failed verification",
            verified + failed
        )))?;
        context.out.set_output("verified", "false")
    }
}
