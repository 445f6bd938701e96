//! `--sign`: the manifest `merge` or `select` writes, signed with this job's Sigstore
//! identity (`<manifest>.sigstore.json`, through custody-cli's hand-off signing), so a
//! later step can require with `--manifest-signed-by` that the release workflow wrote
//! it: a manifest's digest proves only integrity, since anyone who can write the file
//! can recompute it. Off by default: every signature is a public entry in Rekor.

use std::path::Path;

use clap::ValueEnum;
use custody_cli::OutputError;
use custody_cli::handoff::{self, HandoffError, Signature};
use custody_cli::sigstore::{AmbientIdentity, SigstoreArgs};
use custody_output::Context;

/// Whether to sign the manifest written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Sign {
    /// Sign; fail (before anything is written) when the job has no Sigstore identity.
    On,
    /// Do not sign.
    Off,
}

/// How this run signs: the job's identity and the Sigstore services and trust root.
#[derive(Debug)]
pub(crate) struct Signer<'a> {
    identity: AmbientIdentity,
    sigstore: &'a SigstoreArgs,
}

impl<'a> Signer<'a> {
    /// The signer `--sign` asks for, if any. `on` without an identity, or without a trust
    /// root to check the signature with, is refused here, before anything is written.
    pub(crate) fn of(
        sign: Sign,
        sigstore: &'a SigstoreArgs,
        context: &Context,
    ) -> Result<Option<Self>, SignError> {
        if sign == Sign::Off {
            return Ok(None);
        }
        let token_var = &sigstore.sigstore_id_token_var;
        let identity = AmbientIdentity::detect(&context.env, token_var)
            .ok_or_else(|| AmbientIdentity::missing(context.ci.provider, token_var))
            .map_err(HandoffError::from)?;
        sigstore
            .trust_root(&context.cwd)
            .map_err(|error| HandoffError::TrustRoot(Box::new(error)))?;
        Ok(Some(Self { identity, sigstore }))
    }

    /// Signs the manifest just written at `path` and says so.
    pub(crate) fn sign_file(
        &self,
        path: &Path,
        context: &mut Context,
    ) -> Result<Signature, SignError> {
        let signature = handoff::sign(path, self.sigstore, &self.identity, context)?;
        let shown = context.display(&context.resolve(path));
        announce(&shown, Some(&signature.bundle), &signature, context)?;
        context
            .out
            .set_output("manifest_signature", &signature.bundle)
            .map_err(OutputError::from)?;
        Ok(signature)
    }

    /// Signs `content`, the manifest `name` about to be written, and returns the bundle
    /// to write beside each copy of it: the copies are written only once everything is
    /// staged.
    pub(crate) fn sign_bytes(
        &self,
        name: &str,
        content: &[u8],
        context: &mut Context,
    ) -> Result<Vec<u8>, SignError> {
        let (signature, bundle) =
            handoff::sign_bytes(content, name, self.sigstore, &self.identity, context)?;
        announce(name, None, &signature, context)?;
        Ok(bundle.into_bytes())
    }
}

/// "Signed `all.json` as the workflow's identity, Rekor log index 7; signature written
/// to `all.json.sigstore.json`".
fn announce(
    shown: &str,
    bundle: Option<&str>,
    signature: &Signature,
    context: &mut Context,
) -> Result<(), OutputError> {
    let written = bundle.map_or_else(String::new, |bundle| {
        format!("; signature written to `{bundle}`")
    });
    context.out.status(
        "Signed",
        &format!("`{shown}` as {}{written}", signature.signer_and_entry()),
    )?;
    Ok(())
}

/// Why the manifest could not be signed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SignError {
    #[error(transparent)]
    Handoff(#[from] HandoffError),
    #[error(transparent)]
    Output(#[from] OutputError),
}

impl custody_cli::Diagnose for SignError {
    fn exit_status(&self) -> custody_output::ExitStatus {
        match self {
            Self::Handoff(error) => error.exit_status(),
            Self::Output(error) => error.exit_status(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::Handoff(error) => custody_cli::Diagnose::hint(error),
            Self::Output(_) => None,
        }
    }
}
