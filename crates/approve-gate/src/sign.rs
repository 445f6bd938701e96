//! `--sign`: the approval record signed with this job's Sigstore identity, so
//! `publish-pypi --approval-signed-by` can require that the approving workflow made it,
//! not only that its seal matches (anyone who can write the file can recompute a seal).
//! Whether the job can sign is settled before anyone is asked; the token is requested
//! only after the decision, since an approval may take hours and tokens live minutes.
//! `--manifest-signed-by`, the other way round: the manifest to approve must carry the
//! signature of the workflow that wrote it, checked before anyone is asked.

use std::path::Path;

use clap::ValueEnum;
use custody_cli::handoff::{self, HandoffError, Signature};
use custody_cli::sigstore::{AmbientIdentity, SigstoreTokenError};
use custody_cli::{Diagnose, Failure, OutputError};
use custody_output::{Context, ExitStatus};

use crate::Cli;

/// When to sign the approval record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Sign {
    /// When the job has a Sigstore identity (GitHub Actions with `id-token: write`,
    /// GitLab CI with the --sigstore-id-token-var variable).
    Auto,
    /// Always; fail when the job has no Sigstore identity.
    On,
    /// Never.
    Off,
}

/// The identity this run signs with, if it signs: `--sign on` without one is refused
/// here, before anyone is asked to decide.
pub(crate) fn signer(
    cli: &Cli,
    context: &Context,
) -> Result<Option<AmbientIdentity>, SigstoreTokenError> {
    let token_var = &cli.sigstore.sigstore_id_token_var;
    let identity = AmbientIdentity::detect(&context.env, token_var);
    match (cli.sign, identity) {
        (Sign::Off, _) => Ok(None),
        (Sign::On, None) => Err(AmbientIdentity::missing(context.ci.provider, token_var)),
        (_, identity) => Ok(identity),
    }
}

/// Signs the record at `path` (just written) and says so: who signed, and where in the
/// transparency log the signature is.
pub(crate) fn sign_record(
    path: &Path,
    cli: &Cli,
    identity: &AmbientIdentity,
    context: &mut Context,
) -> Result<Signature, Failure> {
    let signature = handoff::sign(path, &cli.sigstore, identity, context)?;
    let index = signature
        .log_index
        .map_or_else(String::new, |index| format!(", Rekor log index {index}"));
    let text = format!(
        "`{}` as {}{index}; signature written to `{}`",
        context.display(&context.resolve(path)),
        signature.signer(),
        signature.bundle
    );
    context
        .out
        .status("Signed", &text)
        .map_err(OutputError::from)?;
    context
        .out
        .set_output("approval_signature", &signature.bundle)
        .map_err(OutputError::from)?;
    Ok(signature)
}

/// `--manifest-signed-by`: the manifest is signed, over its exact bytes, by one of the
/// identities named; said in one line. Nothing to check without the flag.
pub(crate) fn check_manifest(cli: &Cli, context: &mut Context) -> Result<(), Failure> {
    if cli.manifest_signed_by.is_empty() {
        return Ok(());
    }
    let root = handoff::trust_root(&cli.sigstore, context)?;
    let signature = handoff::verify(&cli.manifest, &root, &cli.manifest_signed_by, context)
        .map_err(ManifestSignatureError)?;
    let index = signature
        .log_index
        .map_or_else(String::new, |index| format!(", Rekor log index {index}"));
    let text = format!(
        "`{}`: signed by {}{index} (`{}`)",
        context.display(&context.resolve(&cli.manifest)),
        signature.signer(),
        signature.bundle
    );
    context
        .out
        .status("Verified", &text)
        .map_err(OutputError::from)?;
    Ok(())
}

/// The manifest is not signed as `--manifest-signed-by` requires: the hand-off's own
/// error, with the fix for a manifest.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct ManifestSignatureError(HandoffError);

impl Diagnose for ManifestSignatureError {
    fn exit_status(&self) -> ExitStatus {
        self.0.exit_status()
    }

    fn hint(&self) -> Option<String> {
        match &self.0 {
            HandoffError::Unsigned { file, .. } => Some(format!(
                "sign it where it is written (`collect-artifacts select --sign on`, in a job with a Sigstore identity), or by hand: `python -m sigstore sign {file}`"
            )),
            HandoffError::WrongSigner { .. } => Some(
                "only a signature by an identity named with --manifest-signed-by is accepted; have the workflow that selects the release set sign its manifest".to_owned(),
            ),
            error => Diagnose::hint(error),
        }
    }
}
