//! `verify`: check a directory against a manifest, anywhere and offline. The phases:
//! find the directory, check every listed file (and list the unlisted), report each
//! mismatch against its file, then conclude with one verdict.

use std::io;
use std::path::{Path, PathBuf};

use custody_cli::Diagnose;
use custody_cli::manifests::load_manifest;
use custody_manifest::{DirReport, FileCheck, ManifestError, verify_dir};
use custody_output::{Context, Diagnostic, ExitStatus, Level};

use crate::VerifyArgs;
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
    Output(#[from] OutputError),
}

impl Diagnose for VerifyError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Manifest(error) => error.exit_status(),
            Self::NotADirectory { .. } | Self::Scan { .. } => ExitStatus::Input,
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
            Self::Output(error) => Diagnose::hint(error),
        }
    }
}

/// What the check found, in numbers.
#[derive(Debug, Clone, Copy)]
struct Verdict {
    /// Files the manifest lists.
    total: usize,
    /// Listed files missing or not matching.
    failed: usize,
    /// Unlisted files present, when `--strict` makes them fail the check.
    refused_unlisted: usize,
}

impl Verdict {
    fn is_ok(self) -> bool {
        self.failed == 0 && self.refused_unlisted == 0
    }
}

pub(crate) fn verify(args: &VerifyArgs, context: &mut Context) -> Result<ExitStatus, VerifyError> {
    let (manifest_path, manifest) = load_manifest(context, &args.manifest)?;
    let dir = files_dir(args.dir.as_deref(), &manifest_path, context)?;
    let report = verify_dir(
        &manifest,
        &dir,
        std::slice::from_ref(&manifest_path),
        !args.shallow,
        &args.limits.limits(),
        context.progress.as_ref(),
    )
    .map_err(|source| VerifyError::Scan {
        dir: context.display(&dir).into(),
        source,
    })?;
    let verdict = report_findings(&report, args.strict, context)?;
    if context.out.is_json() {
        let value = serde_json::json!({
            "ok": verdict.is_ok(),
            "manifest": context.display(&manifest_path),
            "digest": manifest.digest,
            "dir": context.display(&dir),
            "entries": report.entries,
            "unlisted": report.unlisted.iter().map(|p| context.display(p)).collect::<Vec<_>>(),
        });
        context.out.json(&value).map_err(OutputError::from)?;
    }
    Ok(conclude(verdict, &manifest_path, args.shallow, context)?)
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
    } = verdict;
    if verdict.is_ok() {
        let depth = if shallow {
            "sizes and digests"
        } else {
            "sizes, digests and contents"
        };
        context.out.status(
            "Verified",
            &format!("{total} file(s) against `{shown}` ({depth} match)"),
        )?;
        context.out.set_output("verified", "true")?;
        return Ok(ExitStatus::Success);
    }
    let mut message = format!("{failed} of {total} file(s) do not match `{shown}`");
    if refused_unlisted > 0 {
        message.push_str(&format!(
            ", and {refused_unlisted} unlisted file(s) are present (--strict)"
        ));
    }
    context.out.error(&Diagnostic::new(message))?;
    context.out.set_output("verified", "false")?;
    Ok(ExitStatus::No)
}
