//! `--sign`: the approval record signed with this job's Sigstore identity, so
//! `publish-pypi --approval-signed-by` can require that the approving workflow made it,
//! not only that its seal matches (anyone who can write the file can recompute a seal).
//! Whether the job can sign is settled before anyone is asked; the token is requested
//! only after the decision, since an approval may take hours and tokens live minutes.
//! `--manifest-signed-by`, the other way round: the manifest to approve must carry the
//! signature of the workflow that wrote it, checked before anyone is asked.

use std::path::Path;

use clap::ValueEnum;
use custody_cli::handoff::{self, Handoff, Signature};
use custody_cli::sigstore::{AmbientIdentity, SigstoreTokenError};
use custody_cli::{Failure, OutputError};
use custody_output::Context;

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
    let said = format!(
        " as {}; signature written to `{}`",
        signature.signer_and_entry(),
        signature.bundle
    );
    say(context, "Signed", path, &said)?;
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
    let signature = handoff::verify(
        Handoff::Manifest,
        &cli.manifest,
        &root,
        &cli.manifest_signed_by,
        context,
    )?;
    let said = format!(
        ": signed by {} (`{}`)",
        signature.signer_and_entry(),
        signature.bundle
    );
    say(context, "Verified", &cli.manifest, &said)
}

/// The status line "`FILE`…": `file` as the user sees it, then `rest`.
fn say(context: &mut Context, verb: &str, file: &Path, rest: &str) -> Result<(), Failure> {
    let shown = context.display(&context.resolve(file));
    context
        .out
        .status(verb, &format!("`{shown}`{rest}"))
        .map_err(OutputError::from)?;
    Ok(())
}
