//! PEP 740 attestations of the files being published: a `publish/v1` in-toto statement
//! per file, signed with this CI job's Sigstore identity (Fulcio certificate, Rekor
//! entry), kept beside the file as `<file>.publish.attestation` (the JSON
//! `pypi-attestations` writes) and uploaded with it in the `attestations` form field,
//! as the PyPI publishing action and `twine upload --attestations` do.
//!
//! The phase runs after every file is decided and before the first byte is uploaded:
//! all files are signed or none (signing writes to a public log, and nothing is
//! half-published when it fails), and what was signed is verified against the trust
//! root (`--sigstore-trust-root`) with our own verifier first. The index takes the field
//! only under trusted publishing (Warehouse: "Attestations are only supported when using
//! Trusted Publishing"), so a password upload keeps them beside the files and says so.

mod beside;
mod errors;
mod job;

use std::path::{Path, PathBuf};

use custody_attest::{Attestation, Identity, TrustRoot, Verified, sign};
use custody_cli::sigstore::{AmbientIdentity, SigstoreArgs};
use custody_cli::{Failure, OutputError};
use custody_dist::Inspection;
use custody_http::{Client, HttpConfig, Secret, display_url};
use custody_output::{Context, Diagnostic};

use crate::credentials::{DryRunIdentity, Identity as Uploader, Source};
use crate::plan::Disposition;
use crate::report::{FileOutcome, Row};
use crate::{Attestations, UploadArgs};

pub(crate) use errors::ProvenanceError;
use job::Job;

/// Why the index is not sent the attestations: Warehouse's rule.
pub(crate) const NOT_SENT: &str = "the index takes attestations only with trusted publishing (a password upload cannot carry them)";

/// What this run does about attestations, decided with the credentials.
#[derive(Debug)]
pub(crate) enum Run {
    /// None are made.
    Skip(Skipped),
    /// Made (or reused) for every file uploaded; `send` under trusted publishing.
    Make {
        ambient: AmbientIdentity,
        send: bool,
    },
    /// `--dry-run`: a real run would sign.
    WouldMake { send: bool },
}

/// Why no attestations are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Skipped {
    /// `--attestations off`.
    Off,
    /// `auto` without trusted publishing: the index would refuse them.
    NoTrustedPublishing,
    /// `auto` on GitLab CI without the Sigstore token variable.
    NoSigstoreToken,
    /// `on` in a dry run without a Sigstore identity (a real run fails).
    NoIdentity,
}

impl Skipped {
    /// The reason, as the report gives it.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Self::Off => "--attestations off",
            Self::NoTrustedPublishing => {
                "not trusted publishing (--attestations auto makes them only where the index takes them)"
            }
            Self::NoSigstoreToken => "this GitLab job has no Sigstore identity token",
            Self::NoIdentity => "this job has no Sigstore identity",
        }
    }
}

impl Run {
    /// Whether the attestations go to the index.
    pub(crate) fn sends(&self) -> bool {
        matches!(
            self,
            Self::Make { send: true, .. } | Self::WouldMake { send: true }
        )
    }

    /// Why no attestations are made, if none are.
    pub(crate) fn skipped(&self) -> Option<Skipped> {
        match self {
            Self::Skip(skipped) => Some(*skipped),
            _ => None,
        }
    }
}

/// Decides, once the uploader is known, whether attestations are made and sent.
pub(crate) fn decide(
    args: &UploadArgs,
    context: &mut Context,
    uploader: &Uploader,
) -> Result<Run, Failure> {
    let trusted = match uploader {
        Uploader::Upload(credentials) => credentials.source == Source::TrustedPublishing,
        Uploader::DryRun(dry) => matches!(dry, DryRunIdentity::WouldExchange),
    };
    let variable = &args.sigstore.sigstore_id_token_var;
    let ambient = AmbientIdentity::detect(&context.env, variable);
    let make = |ambient, send| {
        if args.dry_run {
            Run::WouldMake { send }
        } else {
            Run::Make { ambient, send }
        }
    };
    let run = match (args.attestations, ambient) {
        (Attestations::Off, _) => Run::Skip(Skipped::Off),
        (Attestations::Auto, _) if !trusted => Run::Skip(Skipped::NoTrustedPublishing),
        (Attestations::Auto, None) => {
            context
                .out
                .info(&format!(
                    "Attestations: not made, this job declares no Sigstore identity token (`id_tokens: {variable}: aud: sigstore`)"
                ))
                .map_err(OutputError::from)?;
            Run::Skip(Skipped::NoSigstoreToken)
        }
        (Attestations::Auto | Attestations::On, Some(ambient)) => make(ambient, trusted),
        (Attestations::On, None) => {
            let missing = AmbientIdentity::missing(context.ci.provider, variable);
            if !args.dry_run {
                return Err(missing.into());
            }
            let mut warning = Diagnostic::new(format!("{missing}; a real run would fail"));
            if let Some(hint) = missing.hint() {
                warning = warning.hint(hint);
            }
            context.out.warning(&warning).map_err(OutputError::from)?;
            Run::Skip(Skipped::NoIdentity)
        }
    };
    Ok(run)
}

/// Where a file's attestation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Signed by this run.
    Made,
    /// Already beside the file, verified for it and this job.
    Reused,
    /// Signed by this run in place of one that did not verify (a stale one).
    Replaced,
    /// A `.slsa.attestation` found beside the file.
    Found,
}

/// One attestation a file goes with.
#[derive(Debug, Clone)]
pub(crate) struct Kept {
    pub predicate_type: String,
    /// The attestation file, as the user sees it.
    pub shown: String,
    pub origin: Origin,
    pub log_index: Option<u64>,
    /// The certificate's identity (the workflow URI or e-mail).
    pub signer: String,
}

/// What becomes of a file's attestations.
#[derive(Debug, Clone)]
pub(crate) enum Attested {
    /// `--dry-run`.
    WouldSign,
    Kept {
        /// The publish attestation first.
        attestations: Vec<Kept>,
        /// The `attestations` form field, when they are sent.
        field: Option<String>,
    },
}

impl Attested {
    /// The form field to upload with the file.
    pub(crate) fn field(&self) -> Option<&str> {
        match self {
            Self::Kept { field, .. } => field.as_deref(),
            Self::WouldSign => None,
        }
    }
}

/// A file to be uploaded, with what its attestations need.
struct Target {
    row: usize,
    path: PathBuf,
    file_name: String,
    sha256: String,
}

fn targets(rows: &[Row<'_>]) -> Vec<Target> {
    let mut targets = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        if let (FileOutcome::NotAttempted, Disposition::Upload(checked)) =
            (&row.outcome, &row.file.disposition)
        {
            let inspection: &Inspection = &checked.inspection;
            targets.push(Target {
                row: index,
                path: row.file.path.clone(),
                file_name: row.file.file_name.clone(),
                sha256: inspection.digests.sha256.clone(),
            });
        }
    }
    targets
}

/// The attestation phase: every file to upload gets its attestations (or, in a dry run,
/// is said to), all signed and verified before the first upload.
pub(crate) fn attest(
    context: &mut Context,
    run: &Run,
    sigstore: &SigstoreArgs,
    http: (&Client, &HttpConfig),
    rows: &mut [Row<'_>],
) -> Result<(), Failure> {
    let targets = targets(rows);
    if targets.is_empty() {
        return Ok(());
    }
    let (ambient, send) = match run {
        Run::Skip(_) => return Ok(()),
        Run::WouldMake { .. } => {
            for target in &targets {
                rows[target.row].attestation = Some(Attested::WouldSign);
            }
            let line = format!(
                "Dry run: would sign {} attestation(s) with this job's Sigstore identity (nothing is signed: signing writes to a public log)",
                targets.len()
            );
            context.out.info(&line).map_err(OutputError::from)?;
            return Ok(());
        }
        Run::Make { ambient, send } => (ambient, *send),
    };
    let root = sigstore.trust_root(&context.cwd)?;
    let token = token(context, ambient, http)?;
    let job = Job::from_token(token.expose()).map_err(ProvenanceError::not_a_job)?;
    let identity = job.identity().map_err(ProvenanceError::not_a_job)?;
    if send && let Some((caller, callee)) = job.reusable_workflow() {
        return Err(ProvenanceError::ReusableWorkflow {
            caller: caller.to_owned(),
            callee: callee.to_owned(),
        }
        .into());
    }
    let judged = judge(context, &targets, &root, &identity, send)?;
    let made = sign_missing(
        context, sigstore, &token, &targets, &judged, &root, &identity,
    )?;
    keep(context, &targets, judged, made, send, rows)
}

/// The job's Sigstore identity token, masked before anything can fail with it.
fn token(
    context: &mut Context,
    ambient: &AmbientIdentity,
    (client, config): (&Client, &HttpConfig),
) -> Result<Secret, Failure> {
    let mut secrets = Vec::new();
    let token = ambient.token(client, config, &mut |secret| {
        secrets.push(secret.to_owned());
    });
    for secret in &secrets {
        context.out.mask(secret).map_err(OutputError::from)?;
    }
    Ok(token?)
}

/// What is beside each file already: the publish attestation to reuse or replace, and
/// (when they are sent) a SLSA provenance to send too.
struct Judged {
    publish: beside::Publish,
    slsa: Option<beside::Found>,
}

fn judge(
    context: &Context,
    targets: &[Target],
    root: &TrustRoot,
    identity: &Identity,
    send: bool,
) -> Result<Vec<Judged>, Failure> {
    let mut judged = Vec::new();
    for target in targets {
        let [publish_path, slsa_path, _] = custody_manifest::attestation_paths(&target.path);
        let expected = beside::Expected {
            file_name: &target.file_name,
            sha256: &target.sha256,
            root,
            identity,
        };
        let publish = beside::publish(&publish_path, expected);
        let slsa = if send {
            beside::slsa(&slsa_path, expected).map_err(|problem| ProvenanceError::Beside {
                shown: context.display(&slsa_path),
                reason: problem.to_string(),
            })?
        } else {
            None
        };
        judged.push(Judged { publish, slsa });
    }
    Ok(judged)
}

/// Signs a publish attestation for every file without a reusable one, in one go, and
/// verifies each against the trust root and this job's identity.
fn sign_missing(
    context: &mut Context,
    sigstore: &SigstoreArgs,
    token: &Secret,
    targets: &[Target],
    judged: &[Judged],
    root: &TrustRoot,
    identity: &Identity,
) -> Result<Vec<Option<(Attestation, Verified)>>, Failure> {
    let missing: Vec<&Target> = targets
        .iter()
        .zip(judged)
        .filter(|(_, judged)| !matches!(judged.publish, beside::Publish::Reuse(_)))
        .map(|(target, _)| target)
        .collect();
    let mut made: Vec<Option<(Attestation, Verified)>> = vec![None; targets.len()];
    if missing.is_empty() {
        return Ok(made);
    }
    context
        .out
        .info(&format!(
            "Signing {} attestation(s) as `{identity}` (Fulcio {}, Rekor {})",
            missing.len(),
            display_url(&sigstore.sigstore_fulcio_url),
            display_url(&sigstore.sigstore_rekor_url),
        ))
        .map_err(OutputError::from)?;
    let subjects: Vec<(String, String)> = missing
        .iter()
        .map(|target| (target.file_name.clone(), target.sha256.clone()))
        .collect();
    let signed = sign(sigstore, token, &subjects)?;
    for (target, attestation) in missing.iter().zip(signed) {
        let verified = custody_attest::verify(
            &target.file_name,
            &target.sha256,
            &attestation,
            root,
            Some(identity),
        )
        .map_err(|source| ProvenanceError::Unverified {
            file_name: target.file_name.clone(),
            root: root.describe(),
            source: Box::new(source),
        })?;
        let slot = targets
            .iter()
            .position(|t| t.row == target.row)
            .expect("a missing target is one of the targets");
        made[slot] = Some((attestation, verified));
    }
    Ok(made)
}

/// Signs the publish statements of `subjects` (file name, sha256) with `token`.
fn sign(
    sigstore: &SigstoreArgs,
    token: &Secret,
    subjects: &[(String, String)],
) -> Result<Vec<Attestation>, ProvenanceError> {
    let failed = |source| ProvenanceError::Sign {
        files: subjects
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join("`, `"),
        source: Box::new(source),
    };
    let services = sigstore.services();
    let token = sign::IdentityToken::new(token.expose()).map_err(failed)?;
    sign::attest_publish(&services, &token, subjects).map_err(failed)
}

/// Writes what was made beside the files and gives every row its attestations.
fn keep(
    context: &mut Context,
    targets: &[Target],
    judged: Vec<Judged>,
    made: Vec<Option<(Attestation, Verified)>>,
    send: bool,
    rows: &mut [Row<'_>],
) -> Result<(), Failure> {
    for ((target, judged), made) in targets.iter().zip(judged).zip(made) {
        let [publish_path, ..] = custody_manifest::attestation_paths(&target.path);
        let (publish, json) = match (judged.publish, made) {
            (beside::Publish::Reuse(found), _) => (
                kept(context, &found.path, &found.verified, Origin::Reused),
                found.json,
            ),
            (before, Some((attestation, verified))) => {
                let json = attestation.to_json();
                write(&publish_path, &json, context)?;
                let origin = match before {
                    beside::Publish::Stale { reason, .. } => {
                        let line = format!(
                            "`{}` was replaced: {reason}",
                            context.display(&publish_path)
                        );
                        context
                            .out
                            .warning(&Diagnostic::new(line))
                            .map_err(OutputError::from)?;
                        Origin::Replaced
                    }
                    _ => Origin::Made,
                };
                (kept(context, &publish_path, &verified, origin), json)
            }
            (_, None) => unreachable!("every file without a reusable attestation was signed"),
        };
        let mut attestations = vec![publish];
        let mut jsons = vec![json];
        if let Some(found) = judged.slsa {
            attestations.push(kept(context, &found.path, &found.verified, Origin::Found));
            jsons.push(found.json);
        }
        let field = send.then(|| format!("[{}]", jsons.join(", ")));
        rows[target.row].attestation = Some(Attested::Kept {
            attestations,
            field,
        });
    }
    announce_signers(context, rows)?;
    if !send {
        context
            .out
            .info(&format!(
                "Attestations are kept beside the files, not sent: {NOT_SENT}"
            ))
            .map_err(OutputError::from)?;
    }
    Ok(())
}

/// Who signed what the files go with, once per signer.
fn announce_signers(context: &mut Context, rows: &[Row<'_>]) -> Result<(), OutputError> {
    let mut signers: Vec<&str> = rows
        .iter()
        .filter_map(|row| match &row.attestation {
            Some(Attested::Kept { attestations, .. }) => Some(attestations),
            _ => None,
        })
        .flatten()
        .map(|kept| kept.signer.as_str())
        .collect();
    signers.sort_unstable();
    signers.dedup();
    for signer in signers {
        context
            .out
            .info(&format!("Attestations signed by `{signer}`"))?;
    }
    Ok(())
}

fn kept(context: &Context, path: &Path, verified: &Verified, origin: Origin) -> Kept {
    Kept {
        predicate_type: verified.predicate_type.clone(),
        shown: context.display(path),
        origin,
        log_index: verified.log_index,
        signer: verified.claims.identity.clone(),
    }
}

fn write(path: &Path, json: &str, context: &Context) -> Result<(), ProvenanceError> {
    fs_err::write(path, json).map_err(|source| ProvenanceError::Write {
        shown: context.display(path),
        source,
    })
}
