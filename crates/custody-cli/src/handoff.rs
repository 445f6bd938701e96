//! Signed hand-offs: a file one step writes for another (the approval record, a
//! manifest) with a Sigstore bundle beside it, `<file>.sigstore.json` — the name
//! `python -m sigstore sign FILE` writes, so a person may sign with any Sigstore client
//! instead of a CI job. The one home of "sign a hand-off file" and "verify who signed
//! a hand-off file": the bundle is a standard message signature (hashedrekord) over the
//! file's exact bytes, verifiable by `sigstore verify identity` and `cosign verify-blob`.
//!
//! A seal (the sha256 of a record's canonical JSON) proves integrity only: anyone who
//! can write the file can recompute it. The signature adds who: a Fulcio certificate
//! for a CI workflow or a person's email, logged in Rekor.

use std::path::{Path, PathBuf};

use custody_attest::sign::{IdentityToken, SignError};
use custody_attest::{AttestError, Claims, Identity, IdentityMismatch, TrustRoot};
use custody_dist::digest::{DigestSet, hash_reader};
use custody_http::HttpConfig;
use custody_output::{Context, ExitStatus, NoProgress};
use thiserror::Error;

use crate::Diagnose;
use crate::sigstore::{AmbientIdentity, SigstoreArgs, SigstoreTokenError, TrustRootError};

/// What follows a file's name in the name of its signature bundle.
pub const BUNDLE_SUFFIX: &str = ".sigstore.json";

/// The user agent of the requests signing makes.
const USER_AGENT: &str = concat!("custody/", env!("CARGO_PKG_VERSION"));

/// Where the signature of `file` is: `<file>.sigstore.json` beside it.
pub fn bundle_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(BUNDLE_SUFFIX);
    PathBuf::from(name)
}

/// Which hand-off a file is: it decides the flag that demands its signature and where
/// it is signed, so a hint names the right ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handoff {
    /// The approval record `approve-gate` writes.
    Approval,
    /// The release manifest `collect-artifacts merge` or `select` writes.
    Manifest,
}

impl Handoff {
    /// The flag that names who must have signed it.
    pub fn signed_by_flag(self) -> &'static str {
        match self {
            Self::Approval => "--approval-signed-by",
            Self::Manifest => "--manifest-signed-by",
        }
    }

    /// The step (and flag) that signs it where it is written.
    fn signed_where(self) -> &'static str {
        match self {
            Self::Approval => "`approve-gate --sign on`",
            Self::Manifest => "`collect-artifacts select --sign on` or `merge --sign on`",
        }
    }

    /// Who should sign it, in words.
    fn signer(self) -> &'static str {
        match self {
            Self::Approval => "have the approving workflow or person sign the record",
            Self::Manifest => "have the workflow that writes the release set sign its manifest",
        }
    }
}

/// A verified signature of a hand-off file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The bundle, as the user sees its path.
    pub bundle: String,
    /// Who signed, as the verified certificate states it.
    pub claims: Claims,
    /// The signature's entry in the transparency log.
    pub log_index: Option<u64>,
}

impl Signature {
    /// The signer in words: the certificate's identity and, for a person, the issuer
    /// that vouched for it.
    pub fn signer(&self) -> String {
        describe_signer(&self.claims)
    }

    /// The signer and where in the transparency log the signature is:
    /// "`SIGNER`, Rekor log index N".
    pub fn signer_and_entry(&self) -> String {
        match self.log_index {
            Some(index) => format!("{}, Rekor log index {index}", self.signer()),
            None => self.signer(),
        }
    }
}

fn describe_signer(claims: &Claims) -> String {
    if claims.identity.contains("://") {
        claims.identity.clone()
    } else {
        format!("{} (issuer {})", claims.identity, claims.issuer)
    }
}

/// Why a hand-off file is not signed as required, or could not be signed. Paths are as
/// the user sees them. No message ever carries a token.
#[derive(Debug, Error)]
pub enum HandoffError {
    #[error("cannot read `{path}`")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{file}` is not signed: `{bundle}` does not exist")]
    Unsigned {
        handoff: Handoff,
        file: String,
        bundle: String,
    },
    #[error("`{bundle}` is not a valid signature of `{file}`")]
    Invalid {
        file: String,
        bundle: String,
        #[source]
        source: Box<AttestError>,
    },
    #[error("`{file}` was signed by `{signer}`, not by {expected}")]
    WrongSigner {
        handoff: Handoff,
        file: String,
        signer: String,
        /// The identities asked for, in words.
        expected: String,
        /// Why the first identity asked for did not match.
        #[source]
        source: Box<IdentityMismatch>,
    },
    #[error("the Sigstore trust root cannot be loaded")]
    TrustRoot(#[source] Box<TrustRootError>),
    #[error(transparent)]
    Token(#[from] SigstoreTokenError),
    #[error("cannot sign `{file}` with Sigstore")]
    Sign {
        file: String,
        #[source]
        source: Box<SignError>,
    },
    #[error("the signature just made for `{file}` does not verify with the trust root")]
    SelfCheck {
        file: String,
        #[source]
        source: Box<AttestError>,
    },
    #[error("cannot write `{path}`")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl HandoffError {
    /// The fix, as data.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Unsigned { handoff, file, .. } => Some(format!(
                "sign it where it is written ({}, in a job with a Sigstore identity), or by hand: `python -m sigstore sign {file}`",
                handoff.signed_where()
            )),
            Self::Invalid { source, .. } => Some(
                source
                    .hint()
                    .filter(|_| !matches!(**source, AttestError::SubjectDigest { .. }))
                    .unwrap_or(
                        "the file changed after it was signed, or the bundle belongs to another file: sign the file as it is now",
                    )
                    .to_owned(),
            ),
            Self::WrongSigner { handoff, .. } => Some(format!(
                "only a signature by an identity named with {} is accepted; {}",
                handoff.signed_by_flag(),
                handoff.signer()
            )),
            Self::TrustRoot(source) => Diagnose::hint(&**source),
            Self::Token(error) => error.hint(),
            Self::Sign { source, .. } => source.hint().map(str::to_owned),
            Self::SelfCheck { .. } => Some(
                "--sigstore-trust-root must be the root of the Fulcio and Rekor that sign (--sigstore-fulcio-url, --sigstore-rekor-url)".to_owned(),
            ),
            Self::Read { .. } | Self::Write { .. } => None,
        }
    }
}

impl Diagnose for HandoffError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::WrongSigner { .. } => ExitStatus::No,
            Self::Read { .. } | Self::Unsigned { .. } | Self::Invalid { .. } => ExitStatus::Input,
            Self::TrustRoot(source) => source.exit_status(),
            Self::Token(error) => error.exit_status(),
            Self::Sign { .. } | Self::SelfCheck { .. } | Self::Write { .. } => {
                ExitStatus::Environment
            }
        }
    }

    fn hint(&self) -> Option<String> {
        HandoffError::hint(self)
    }
}

/// The trust root `--sigstore-trust-root` names (resolved against the working
/// directory), else Sigstore's public-good root as shipped.
pub fn trust_root(sigstore: &SigstoreArgs, context: &Context) -> Result<TrustRoot, HandoffError> {
    sigstore
        .trust
        .load(&context.cwd)
        .map_err(|error| HandoffError::TrustRoot(Box::new(error)))
}

/// Verifies that `file` (as given), the `handoff`, carries a signature beside it, over
/// its exact bytes, that chains to `root` and was made by one of `expected` (any may
/// match).
pub fn verify(
    handoff: Handoff,
    file: &Path,
    root: &TrustRoot,
    expected: &[Identity],
    context: &Context,
) -> Result<Signature, HandoffError> {
    let resolved = context.resolve(file);
    let shown = context.display(&resolved);
    let bundle_file = bundle_path(&resolved);
    let bundle = context.display(&bundle_file);
    let content = fs_err::read(&resolved).map_err(|source| HandoffError::Read {
        path: shown.clone(),
        source,
    })?;
    let bundle_json = match fs_err::read(&bundle_file) {
        Ok(json) => json,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(HandoffError::Unsigned {
                handoff,
                file: shown,
                bundle,
            });
        }
        Err(source) => {
            return Err(HandoffError::Read {
                path: bundle,
                source,
            });
        }
    };
    let sha256 = sha256_hex(&content);
    let invalid = |source| HandoffError::Invalid {
        file: shown.clone(),
        bundle: bundle.clone(),
        source: Box::new(source),
    };
    let Some((first, others)) = expected.split_first() else {
        // No identity asked for: a valid signature by anyone is accepted.
        let claims = verified_claims(&sha256, &bundle_json, root).map_err(invalid)?;
        return Ok(signature(bundle, claims, &bundle_json));
    };
    let mismatch = match custody_attest::verify_bundle(&sha256, &bundle_json, root, first) {
        Ok(claims) => return Ok(signature(bundle, claims, &bundle_json)),
        Err(AttestError::Identity { source, .. }) => Box::new(source),
        Err(error) => return Err(invalid(error)),
    };
    // The signature verified (identities are checked after it): the certificate's
    // claims are authentic, and the other identities are checked against them.
    let claims = signer_claims(&bundle_json).map_err(invalid)?;
    if others
        .iter()
        .any(|identity| identity.check(&claims).is_ok())
    {
        return Ok(signature(bundle, claims, &bundle_json));
    }
    Err(HandoffError::WrongSigner {
        handoff,
        file: shown,
        signer: describe_signer(&claims),
        expected: expected
            .iter()
            .map(|identity| format!("`{identity}`"))
            .collect::<Vec<_>>()
            .join(" or "),
        source: mismatch,
    })
}

/// Signs `file` (as given) with this job's ambient identity through the Fulcio and Rekor
/// `sigstore` names, checks the bundle against the trust root readers will use, and
/// writes it beside the file. The identity token is masked before it can appear.
pub fn sign(
    file: &Path,
    sigstore: &SigstoreArgs,
    identity: &AmbientIdentity,
    context: &mut Context,
) -> Result<Signature, HandoffError> {
    let resolved = context.resolve(file);
    let shown = context.display(&resolved);
    let content = fs_err::read(&resolved).map_err(|source| HandoffError::Read {
        path: shown.clone(),
        source,
    })?;
    let (claims, bundle_json) = sign_content(&content, &shown, sigstore, identity, context)?;
    let bundle_file = bundle_path(&resolved);
    let bundle = context.display(&bundle_file);
    custody_manifest::write_atomically(&bundle_file, bundle_json.as_bytes()).map_err(|source| {
        HandoffError::Write {
            path: bundle.clone(),
            source,
        }
    })?;
    Ok(signature(bundle, claims, bundle_json.as_bytes()))
}

/// Signs `content`, the bytes of the hand-off `name` (as the user sees it) before it is
/// written, as [`sign`] signs a file; errors name `name`. Returns the signature (its
/// bundle named `<name>.sigstore.json`) and the bundle's JSON, for the caller to write
/// beside each copy of the file.
pub fn sign_bytes(
    content: &[u8],
    name: &str,
    sigstore: &SigstoreArgs,
    identity: &AmbientIdentity,
    context: &mut Context,
) -> Result<(Signature, String), HandoffError> {
    let (claims, bundle_json) = sign_content(content, name, sigstore, identity, context)?;
    let signature = signature(
        format!("{name}{BUNDLE_SUFFIX}"),
        claims,
        bundle_json.as_bytes(),
    );
    Ok((signature, bundle_json))
}

/// Signs `content` (of the file `shown`) and checks the bundle against the trust root:
/// the signer's verified claims and the bundle's JSON.
fn sign_content(
    content: &[u8],
    shown: &str,
    sigstore: &SigstoreArgs,
    identity: &AmbientIdentity,
    context: &mut Context,
) -> Result<(Claims, String), HandoffError> {
    let root = trust_root(sigstore, context)?;
    let config = HttpConfig::from_env(USER_AGENT, &context.env);
    let client = custody_http::client(&config).map_err(SigstoreTokenError::Http)?;
    let out = &mut context.out;
    let token = identity.token(&client, &config, &mut |secret| {
        // A mask that cannot be written leaves the secret unregistered in the CI log
        // only; this step never prints the token.
        let _ = out.mask(secret);
    })?;
    let services = sigstore.services();
    let failed = |source| HandoffError::Sign {
        file: shown.to_owned(),
        source: Box::new(source),
    };
    let token = IdentityToken::new(token.expose()).map_err(failed)?;
    let bundle_json =
        custody_attest::sign::sign_blob(&services, &token, content).map_err(failed)?;
    let claims =
        verified_claims(&sha256_hex(content), bundle_json.as_bytes(), &root).map_err(|source| {
            HandoffError::SelfCheck {
                file: shown.to_owned(),
                source: Box::new(source),
            }
        })?;
    Ok((claims, bundle_json))
}

/// Removes a signature left beside `file` by an earlier run: it signs other bytes.
pub fn remove_stale(file: &Path, context: &Context) -> Result<(), HandoffError> {
    let bundle_file = bundle_path(&context.resolve(file));
    match fs_err::remove_file(&bundle_file) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(HandoffError::Write {
            path: context.display(&bundle_file),
            source: error,
        }),
        _ => Ok(()),
    }
}

fn sha256_hex(content: &[u8]) -> String {
    // Reading from memory cannot fail.
    let (_, digests) = hash_reader(content, DigestSet::Sha256, &NoProgress, "")
        .expect("hashing bytes in memory cannot fail");
    digests.sha256
}

/// The signer's claims, read from the bundle's certificate (unverified by themselves).
fn signer_claims(bundle_json: &[u8]) -> Result<Claims, AttestError> {
    let value: serde_json::Value =
        serde_json::from_slice(bundle_json).map_err(|source| AttestError::Unreadable {
            what: "Sigstore bundle",
            source,
        })?;
    let material = &value["verificationMaterial"];
    let raw = material["certificate"]["rawBytes"]
        .as_str()
        .or_else(|| material["x509CertificateChain"]["certificates"][0]["rawBytes"].as_str())
        .ok_or_else(|| AttestError::Invalid {
            reason: "the Sigstore bundle carries no signing certificate".to_owned(),
        })?;
    let der = base64_decode(raw)?;
    Claims::from_certificate_der(&der)
}

fn base64_decode(text: &str) -> Result<Vec<u8>, AttestError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|source| AttestError::Base64 {
            field: "certificate.rawBytes",
            source,
        })
}

/// Verifies the bundle over `sha256` against `root` whoever signed it, and returns the
/// signer's claims: the identity checked is the one the certificate itself names.
fn verified_claims(
    sha256: &str,
    bundle_json: &[u8],
    root: &TrustRoot,
) -> Result<Claims, AttestError> {
    let claims = signer_claims(bundle_json)?;
    let named = Identity::Exact {
        identity: claims.identity.clone(),
        issuer: Some(claims.issuer.clone()),
    };
    custody_attest::verify_bundle(sha256, bundle_json, root, &named)
}

fn signature(bundle: String, claims: Claims, bundle_json: &[u8]) -> Signature {
    let value: serde_json::Value = serde_json::from_slice(bundle_json).unwrap_or_default();
    let entry = &value["verificationMaterial"]["tlogEntries"][0]["logIndex"];
    // The bundle format writes int64 as a JSON string.
    let log_index = entry
        .as_str()
        .and_then(|index| index.parse().ok())
        .or_else(|| entry.as_u64());
    Signature {
        bundle,
        claims,
        log_index,
    }
}

#[cfg(test)]
mod tests {
    use custody_ci::Env;

    use super::*;

    /// A real hand-off signed on Sigstore's public-good instance: the sdist of
    /// pypi-attestation-models 0.0.4a2 and the bundle its release workflow made for it
    /// (pypi-attestations' test assets).
    const MODELS: &str = "pypi_attestation_models-0.0.4a2.tar.gz";
    const RELEASE: &str =
        "github:trailofbits/pypi-attestation-models/.github/workflows/release.yml";
    const SAN: &str = "https://github.com/trailofbits/pypi-attestation-models/.github/workflows/release.yml@refs/tags/v0.0.4a2";

    /// The file and its bundle, named as a hand-off and its signature are.
    fn staged() -> (tempfile::TempDir, Context) {
        let assets = custody_test_support::fixtures_dir().join("attestations/assets");
        let dir = tempfile::tempdir().unwrap();
        fs_err::copy(assets.join(MODELS), dir.path().join(MODELS)).unwrap();
        fs_err::copy(
            assets.join(format!("{MODELS}.sigstore")),
            dir.path().join(format!("{MODELS}.sigstore.json")),
        )
        .unwrap();
        let (context, _) = Context::for_test(Env::default(), dir.path());
        (dir, context)
    }

    fn identities(texts: &[&str]) -> Vec<Identity> {
        texts.iter().map(|text| text.parse().unwrap()).collect()
    }

    fn check(context: &Context, expected: &[&str]) -> Result<Signature, HandoffError> {
        check_as(
            Handoff::Approval,
            &TrustRoot::public_good(),
            context,
            expected,
        )
    }

    fn check_as(
        handoff: Handoff,
        root: &TrustRoot,
        context: &Context,
        expected: &[&str],
    ) -> Result<Signature, HandoffError> {
        verify(
            handoff,
            Path::new(MODELS),
            root,
            &identities(expected),
            context,
        )
    }

    #[test]
    fn the_bundle_is_named_as_sigstore_python_names_it() {
        assert_eq!(
            bundle_path(Path::new("out/approval.json")),
            Path::new("out/approval.json.sigstore.json")
        );
    }

    #[test]
    fn a_real_signature_verifies_for_the_workflow_that_made_it() {
        let (_dir, context) = staged();
        let signature = check(&context, &[&format!("{RELEASE}@refs/tags/v*")]).unwrap();
        assert_eq!(signature.claims.identity, SAN);
        assert_eq!(signature.signer(), SAN);
        assert_eq!(signature.log_index, Some(101_487_427));
        assert_eq!(
            signature.signer_and_entry(),
            format!("{SAN}, Rekor log index 101487427")
        );
        assert_eq!(signature.bundle, format!("{MODELS}.sigstore.json"));
        // Any of several identities may have signed.
        let signature = check(&context, &["email:someone@example.com", RELEASE]).unwrap();
        assert_eq!(signature.claims.identity, SAN);
    }

    #[test]
    fn another_signer_is_the_steps_no() {
        let (_dir, context) = staged();
        let other = "github:trailofbits/pypi-attestations/.github/workflows/release.yml";
        let error = check(&context, &[other, "email:someone@example.com"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "`{MODELS}` was signed by `{SAN}`, not by `{other}` or `email:someone@example.com`"
            )
        );
        assert_eq!(error.exit_status(), ExitStatus::No);
        let cause = std::error::Error::source(&error).unwrap().to_string();
        assert!(cause.contains("`Source Repository URI`"), "{cause}");
        assert!(
            Diagnose::hint(&error)
                .unwrap()
                .contains("--approval-signed-by")
        );
        // A ref the signature was not made on.
        let error = check(&context, &[&format!("{RELEASE}@refs/heads/main")]).unwrap_err();
        assert!(matches!(error, HandoffError::WrongSigner { .. }), "{error}");
    }

    #[test]
    fn one_changed_byte_or_another_root_breaks_the_signature() {
        let (dir, context) = staged();
        let path = dir.path().join(MODELS);
        let mut bytes = fs_err::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs_err::write(&path, &bytes).unwrap();
        let error = check(&context, &[RELEASE]).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("`{MODELS}.sigstore.json` is not a valid signature of `{MODELS}`")
        );
        assert_eq!(error.exit_status(), ExitStatus::Input);
        assert!(
            Diagnose::hint(&error)
                .unwrap()
                .starts_with("the file changed after it was signed"),
            "{error:?}"
        );

        let (_dir, context) = staged();
        let error = check_as(
            Handoff::Approval,
            &TrustRoot::staging(),
            &context,
            &[RELEASE],
        )
        .unwrap_err();
        assert!(matches!(error, HandoffError::Invalid { .. }), "{error}");
        assert_eq!(error.exit_status(), ExitStatus::Input);
    }

    #[test]
    fn a_missing_signature_names_both_files_and_how_to_sign() {
        let (dir, context) = staged();
        fs_err::remove_file(dir.path().join(format!("{MODELS}.sigstore.json"))).unwrap();
        let error = check(&context, &[RELEASE]).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("`{MODELS}` is not signed: `{MODELS}.sigstore.json` does not exist")
        );
        assert_eq!(error.exit_status(), ExitStatus::Input);
        assert!(
            Diagnose::hint(&error)
                .unwrap()
                .ends_with(&format!("`python -m sigstore sign {MODELS}`"))
        );
        let error = check(&context, &[]).unwrap_err();
        assert!(matches!(error, HandoffError::Unsigned { .. }), "{error}");
    }

    #[test]
    fn a_manifests_hints_name_the_manifests_flag_and_signer() {
        let (dir, context) = staged();
        let manifest = |expected: &[&str]| {
            check_as(
                Handoff::Manifest,
                &TrustRoot::public_good(),
                &context,
                expected,
            )
            .unwrap_err()
        };
        let hint = Diagnose::hint(&manifest(&["email:someone@example.com"])).unwrap();
        assert!(
            hint.starts_with("only a signature by an identity named with --manifest-signed-by"),
            "{hint}"
        );
        assert!(hint.ends_with("sign its manifest"), "{hint}");
        fs_err::remove_file(dir.path().join(format!("{MODELS}.sigstore.json"))).unwrap();
        let hint = Diagnose::hint(&manifest(&[RELEASE])).unwrap();
        assert!(
            hint.starts_with("sign it where it is written (`collect-artifacts select --sign on`"),
            "{hint}"
        );
        assert!(!hint.contains("approve-gate"), "{hint}");
    }

    #[test]
    fn a_stale_signature_is_removed_and_a_missing_one_is_fine() {
        let (dir, context) = staged();
        let bundle = dir.path().join(format!("{MODELS}.sigstore.json"));
        remove_stale(Path::new(MODELS), &context).unwrap();
        assert!(!bundle.exists());
        remove_stale(Path::new(MODELS), &context).unwrap();
    }
}
