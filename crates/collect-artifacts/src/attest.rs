//! PEP 740 attestations kept beside artifacts, as every subcommand sees them: which
//! trust root and which signers the user pins, finding the attestation files of a file,
//! verifying each against the file it attests (custody-attest does the cryptography and
//! PyPI's rules), and turning the outcome into manifest records, problems and lines.

use std::io;
use std::path::{Path, PathBuf};

use custody_attest::trust::TrustSource;
use custody_attest::{
    AttestError, Attestation, Claims, Identity, IdentityMismatch, Provenance, TrustRoot, Verified,
};
use custody_cli::Diagnose;
use custody_cli::sigstore::{TrustRootArgs, TrustRootError};
use custody_dist::Problem;
use custody_manifest::{AttestationRecord, attestation_paths, attested_file_name};
use custody_output::safe::one_line;
use custody_output::{Context, Diagnostic, ExitStatus};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Which Sigstore trust root verifies attestations: the flags every step shares
/// (`--sigstore-trust-root`, `--sigstore-staging`, `CUSTODY_SIGSTORE_TRUST_ROOT`).
#[derive(Debug, Clone, clap::Args)]
pub struct TrustArgs {
    #[command(flatten)]
    pub root: TrustRootArgs,
}

impl TrustArgs {
    /// Loads the chosen root.
    pub(crate) fn load(&self, context: &Context) -> Result<Trust, TrustError> {
        let root = self.root.load(&context.cwd).map_err(TrustError)?;
        let (name, description) = match root.source() {
            TrustSource::PublicGood => ("public-good".to_owned(), root.describe()),
            TrustSource::Staging => ("staging".to_owned(), root.describe()),
            TrustSource::File(path) => {
                let shown = one_line(&context.display(path));
                (shown.clone(), format!("trusted root file `{shown}`"))
            }
            TrustSource::Refreshed(url) => (url.clone(), root.describe()),
        };
        Ok(Trust {
            root,
            name,
            description,
        })
    }
}

/// A loaded trust root and how to name it.
#[derive(Debug)]
pub(crate) struct Trust {
    pub(crate) root: TrustRoot,
    /// For `--json`: `public-good`, `staging`, or the root file as shown.
    pub(crate) name: String,
    /// For people: `Sigstore public-good (embedded, sigstore-trust-root 0.15.1)`.
    pub(crate) description: String,
}

impl Trust {
    /// Says which root verifies, once per run.
    pub(crate) fn announce(&self, context: &mut Context) -> io::Result<()> {
        context.out.status(
            "Trusting",
            &format!("{} for attestations", self.description),
        )
    }
}

/// The trust root named by `--sigstore-trust-root` could not be used.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub(crate) struct TrustError(TrustRootError);

impl Diagnose for TrustError {
    fn exit_status(&self) -> ExitStatus {
        self.0.exit_status()
    }

    fn hint(&self) -> Option<String> {
        Diagnose::hint(&self.0).or_else(|| {
            Some("pass a Sigstore `trusted_root.json` (as `sigstore` or `cosign` fetch it), or leave --sigstore-trust-root out to use the shipped public-good root".to_owned())
        })
    }
}

/// Whether a file is a Python distribution: the files PEP 740 attestations are made
/// for, and so the ones `--require-attestations` and `--require-attested-by` demand
/// them of.
pub(crate) fn is_distribution(kind: custody_dist::ArtifactKind) -> bool {
    matches!(
        kind,
        custody_dist::ArtifactKind::Wheel | custody_dist::ArtifactKind::Sdist
    )
}

/// Whether `path` names an attestation file (`<file>.publish.attestation`, …).
pub(crate) fn is_attestation_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| attested_file_name(name).is_some())
}

/// Where the attestations of `file` would be, in the order they are checked.
pub(crate) fn expected_paths(file: &Path) -> Vec<PathBuf> {
    attestation_paths(file).to_vec()
}

/// The attestation files that exist beside `file`.
pub(crate) fn beside(file: &Path) -> Vec<PathBuf> {
    expected_paths(file)
        .into_iter()
        .filter(|path| path.is_file())
        .collect()
}

/// One verified attestation: the manifest's record of it and the signer's full claims.
#[derive(Debug, Clone)]
pub(crate) struct Attested {
    pub(crate) record: AttestationRecord,
    pub(crate) claims: Claims,
}

/// Why an attestation file did not verify for its file.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refusal {
    #[error("cannot read `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("`{file_name}` is missing")]
    Missing { file_name: String },
    #[error("`{file_name}` changed: its sha256 is {actual}, the manifest records {recorded}")]
    Changed {
        file_name: String,
        actual: String,
        recorded: String,
    },
    #[error("`{file_name}` does not verify")]
    Refused {
        file_name: String,
        #[source]
        source: AttestError,
    },
    #[error("`{file_name}` is not signed by {}", expected(.mismatches))]
    Identity {
        file_name: String,
        /// Each expected identity and the claim that differed from it.
        mismatches: Vec<(Identity, IdentityMismatch)>,
    },
    #[error(
        "`{file_name}` verifies, but the manifest records it differently ({field} {recorded}, verification finds {actual})"
    )]
    Misrecorded {
        file_name: String,
        field: String,
        recorded: String,
        actual: String,
    },
}

/// `` `github:o/r/…` (its `Build Config URI` is `…`, expected `…`) or `…` ``.
fn expected(mismatches: &[(Identity, IdentityMismatch)]) -> String {
    mismatches
        .iter()
        .map(|(identity, mismatch)| format!("`{identity}` ({mismatch})"))
        .collect::<Vec<_>>()
        .join(" or ")
}

impl Refusal {
    /// The attestation file's name.
    pub(crate) fn attestation(&self) -> String {
        match self {
            Self::Read { path, .. } => name_of(path),
            Self::Missing { file_name }
            | Self::Changed { file_name, .. }
            | Self::Refused { file_name, .. }
            | Self::Identity { file_name, .. }
            | Self::Misrecorded { file_name, .. } => file_name.clone(),
        }
    }

    /// The stable problem code: custody-attest's for what it refused.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Self::Read { .. } => "attestation-unreadable",
            Self::Missing { .. } => "attestation-missing",
            Self::Changed { .. } => "attestation-changed",
            Self::Refused { source, .. } => source.code(),
            Self::Identity { .. } => "attestation-identity",
            Self::Misrecorded { .. } => "attestation-misrecorded",
        }
    }

    pub(crate) fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Read { .. } => None,
            Self::Missing { .. } => Some(
                "keep the attestation files beside the artifacts they attest, as `collect` found them",
            ),
            Self::Changed { .. } => {
                Some("the attestation file was replaced after it was collected; collect again")
            }
            Self::Refused { source, .. } => source.hint(),
            Self::Identity { .. } => Some(
                "compare the expected identity with the signer's claims; a release from another workflow, ref or repository is not the one you pinned",
            ),
            Self::Misrecorded { .. } => Some(
                "a manifest may only say what `collect-artifacts collect` finds: collect the files again",
            ),
        }
    }

    /// The message and its causes on one line, safe to show: attestations are untrusted.
    pub(crate) fn message(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(error) = cause {
            let line = error.to_string();
            if !text.contains(&line) {
                text.push_str(": ");
                text.push_str(&line);
            }
            cause = error.source();
        }
        one_line(&text)
    }

    /// The refusal as a problem of the attested file.
    pub(crate) fn problem(&self) -> Problem {
        let problem = Problem::error(self.code(), format!("attestation {}", self.message()));
        match self.hint() {
            Some(hint) => problem.hint(hint),
            None => problem,
        }
    }
}

/// Reads the attestation file at `path`: its bytes and their sha256.
fn read(path: &Path) -> Result<(Vec<u8>, String), Refusal> {
    let bytes = fs_err::read(path).map_err(|source| Refusal::Read {
        path: path.to_owned(),
        source,
    })?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    Ok((bytes, sha256))
}

fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Verifies every attestation in the file at `path` (one, or a provenance's several)
/// for the file named `file_name` with `sha256`, signed by any of `identities` (any
/// signer when empty).
pub(crate) fn verify_file(
    path: &Path,
    file_name: &str,
    sha256: &str,
    trust: &Trust,
    identities: &[Identity],
) -> Result<Vec<Attested>, Refusal> {
    let (bytes, file_sha256) = read(path)?;
    let attestation_name = name_of(path);
    let refused = |source| Refusal::Refused {
        file_name: attestation_name.clone(),
        source,
    };
    let attestations = if attestation_name.ends_with(".provenance") {
        let provenance = Provenance::from_json(&bytes).map_err(refused)?;
        provenance.attestations().cloned().collect()
    } else {
        vec![Attestation::from_json(&bytes).map_err(refused)?]
    };
    let mut attested = Vec::with_capacity(attestations.len());
    for attestation in &attestations {
        let verified = custody_attest::verify(file_name, sha256, attestation, &trust.root, None)
            .map_err(refused)?;
        check_identities(&attestation_name, &verified.claims, identities)?;
        attested.push(Attested {
            record: record(&attestation_name, &file_sha256, &verified),
            claims: verified.claims,
        });
    }
    Ok(attested)
}

/// Passes when `identities` is empty or any of them matches the signer's claims.
pub(crate) fn check_identities(
    attestation_name: &str,
    claims: &Claims,
    identities: &[Identity],
) -> Result<(), Refusal> {
    let mut mismatches = Vec::with_capacity(identities.len());
    for identity in identities {
        match identity.check(claims) {
            Ok(()) => return Ok(()),
            Err(mismatch) => mismatches.push((identity.clone(), mismatch)),
        }
    }
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(Refusal::Identity {
            file_name: attestation_name.to_owned(),
            mismatches,
        })
    }
}

/// The manifest's record of a verified attestation kept in `attestation_name`.
fn record(attestation_name: &str, file_sha256: &str, verified: &Verified) -> AttestationRecord {
    let claims = &verified.claims;
    AttestationRecord {
        file_name: attestation_name.to_owned(),
        sha256: file_sha256.to_owned(),
        predicate_type: verified.predicate_type.clone(),
        identity: claims.identity.clone(),
        issuer: claims.issuer.clone(),
        source_repository: claims.source_repository.clone(),
        build_config: claims.build_config.clone(),
        source_ref: claims.source_ref.clone(),
        source_digest: claims.source_digest.clone(),
        log_index: verified.log_index,
        integrated_time: verified.integrated_time.clone(),
    }
}

/// What checking the attestations beside one collected file found.
#[derive(Debug, Default)]
pub(crate) struct FileAttestations {
    pub(crate) attested: Vec<Attested>,
    pub(crate) refusals: Vec<Refusal>,
    /// Attestation files found (verified or not).
    pub(crate) found: usize,
}

/// Verifies every attestation file beside `path` for that file.
pub(crate) fn verify_beside(
    path: &Path,
    file_name: &str,
    sha256: &str,
    trust: &Trust,
    identities: &[Identity],
) -> FileAttestations {
    let mut result = FileAttestations::default();
    for attestation in beside(path) {
        result.found += 1;
        match verify_file(&attestation, file_name, sha256, trust, identities) {
            Ok(attested) => result.attested.extend(attested),
            Err(refusal) => result.refusals.push(refusal),
        }
    }
    result
}

/// Re-verifies the attestations a manifest records for a file found at `path`: each
/// recorded attestation file must be beside it (or beside another `copies` of it),
/// unchanged, still verify, and say what the manifest records.
pub(crate) fn reverify_recorded(
    records: &[AttestationRecord],
    copies: &[&Path],
    file_name: &str,
    sha256: &str,
    trust: &Trust,
) -> FileAttestations {
    let mut result = FileAttestations::default();
    let mut names: Vec<&str> = records.iter().map(|r| r.file_name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        result.found += 1;
        let recorded: Vec<&AttestationRecord> =
            records.iter().filter(|r| r.file_name == name).collect();
        match reverify_one(&recorded, name, copies, file_name, sha256, trust) {
            Ok(attested) => result.attested.extend(attested),
            Err(refusal) => result.refusals.push(refusal),
        }
    }
    result
}

/// The attestation file `name` beside the first copy of the attested file that has it.
pub(crate) fn locate(name: &str, copies: &[&Path]) -> Option<PathBuf> {
    copies
        .iter()
        .filter_map(|copy| copy.parent())
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

fn reverify_one(
    recorded: &[&AttestationRecord],
    name: &str,
    copies: &[&Path],
    file_name: &str,
    sha256: &str,
    trust: &Trust,
) -> Result<Vec<Attested>, Refusal> {
    let missing = || Refusal::Missing {
        file_name: name.to_owned(),
    };
    let path = locate(name, copies).ok_or_else(missing)?;
    let first = recorded.first().ok_or_else(missing)?;
    let (_, actual) = read(&path)?;
    if actual != first.sha256 {
        return Err(Refusal::Changed {
            file_name: name.to_owned(),
            actual,
            recorded: first.sha256.clone(),
        });
    }
    let attested = verify_file(&path, file_name, sha256, trust, &[])?;
    // A provenance file's attestations are recorded in log order, not file order.
    let order = |r: &&AttestationRecord| (r.log_index, r.predicate_type.clone());
    let mut found: Vec<&AttestationRecord> = attested.iter().map(|a| &a.record).collect();
    found.sort_by_key(order);
    let mut recorded = recorded.to_vec();
    recorded.sort_by_key(order);
    if let Some((field, recorded, actual)) = first_difference(&recorded, &found) {
        return Err(Refusal::Misrecorded {
            file_name: name.to_owned(),
            field,
            recorded,
            actual,
        });
    }
    Ok(attested)
}

/// The first thing the recorded attestations of one file say that verifying it does not:
/// a manifest may only record what verification finds.
fn first_difference(
    recorded: &[&AttestationRecord],
    found: &[&AttestationRecord],
) -> Option<(String, String, String)> {
    if recorded.len() != found.len() {
        return Some((
            "attestations".to_owned(),
            recorded.len().to_string(),
            found.len().to_string(),
        ));
    }
    recorded.iter().zip(found).find_map(|(recorded, found)| {
        let recorded = serde_json::to_value(recorded).unwrap_or_default();
        let found = serde_json::to_value(found).unwrap_or_default();
        let (serde_json::Value::Object(recorded), serde_json::Value::Object(found)) =
            (&recorded, &found)
        else {
            return None;
        };
        let mut fields: Vec<&String> = recorded.keys().chain(found.keys()).collect();
        fields.sort();
        fields.dedup();
        fields.into_iter().find_map(|field| {
            let (a, b) = (recorded.get(field), found.get(field));
            (a != b).then(|| {
                let show = |v: Option<&serde_json::Value>| {
                    v.map_or_else(|| "(absent)".to_owned(), ToString::to_string)
                };
                (field.clone(), show(a), show(b))
            })
        })
    })
}

/// The last path segment of a predicate type (`publish/v1`, `provenance/v1`), for lines.
pub(crate) fn short_predicate(predicate_type: &str) -> String {
    let mut parts = predicate_type.trim_end_matches('/').rsplit('/');
    match (parts.next(), parts.next()) {
        (Some(version), Some(kind)) => one_line(&format!("{kind}/{version}")),
        _ => one_line(predicate_type),
    }
}

/// One line for a verified attestation: `publish/v1 by `SAN`, Rekor log index N`.
pub(crate) fn describe(record: &AttestationRecord) -> String {
    let index = record
        .log_index
        .map_or_else(|| "unknown".to_owned(), |index| index.to_string());
    format!(
        "{} signed by `{}`, Rekor log index {index}",
        short_predicate(&record.predicate_type),
        one_line(&record.identity),
    )
}

/// Every attestation of a file for `--json`: `{"ok": true, <record>}` for each verified
/// one, `{"ok": false, "error": {attestation, code, message, hint}}` for each refused.
pub(crate) fn found_json(found: &FileAttestations, context: &Context) -> Vec<serde_json::Value> {
    let verified = found.attested.iter().map(|attested| {
        let mut value = serde_json::to_value(&attested.record).unwrap_or_default();
        value["ok"] = true.into();
        value
    });
    let refused = found.refusals.iter().map(
        |refusal| serde_json::json!({ "ok": false, "error": RefusalJson::of(refusal, context) }),
    );
    verified.chain(refused).collect()
}

/// A refusal for `--json`: code, message and hint, every text made one safe line.
#[derive(Debug, Serialize)]
struct RefusalJson {
    /// The attestation file.
    attestation: String,
    code: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'static str>,
}

impl RefusalJson {
    fn of(refusal: &Refusal, context: &Context) -> Self {
        Self {
            attestation: context.out.safe_text(&one_line(&refusal.attestation())),
            code: refusal.code(),
            message: context.out.safe_text(&refusal.message()),
            hint: refusal.hint(),
        }
    }
}

/// Whether a verified attestation by any of `signers` vouches for the file.
pub(crate) fn attested_by(found: &FileAttestations, signers: &[Identity]) -> bool {
    found
        .attested
        .iter()
        .any(|a| check_identities("", &a.claims, signers).is_ok())
}

/// The error for a file no verified attestation by any of `signers` vouches for,
/// naming the signers that were found; `location` is where the file is, as shown.
pub(crate) fn unattested_diagnostic(
    file_name: &str,
    location: &str,
    found: &FileAttestations,
    signers: &[Identity],
) -> Diagnostic {
    let wanted = signers
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(" or ");
    let mut signed_by: Vec<String> = found
        .attested
        .iter()
        .map(|a| format!("`{}`", one_line(&a.claims.identity)))
        .collect();
    signed_by.dedup();
    let signed = if signed_by.is_empty() {
        "it has no verified attestation".to_owned()
    } else {
        format!("its attestations are signed by {}", signed_by.join(", "))
    };
    Diagnostic::new(format!(
        "`{}` is not attested by {wanted}: {signed}",
        one_line(file_name)
    ))
    .at(one_line(location), None)
    .hint("publish the file from that workflow with attestations on, and keep its attestation files beside it from `collect` on")
}

/// The error for a recorded attestation that failed, against the file it attests.
pub(crate) fn refusal_diagnostic(file_name: &str, location: &str, refusal: &Refusal) -> Diagnostic {
    let diagnostic = Diagnostic::new(format!(
        "`{}` attestation {} [{}]",
        one_line(file_name),
        refusal.message(),
        refusal.code()
    ))
    .at(one_line(location), None);
    match refusal.hint() {
        Some(hint) => diagnostic.hint(hint),
        None => diagnostic,
    }
}
