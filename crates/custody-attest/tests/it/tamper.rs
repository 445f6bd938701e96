//! The tamper matrix: each case changes one thing of a real attestation (or of the file,
//! the trust root or the expected identity) and must fail with its own problem code.
//! The same cases run through `pypi-attestations` in `differential.rs`.
//!
//! The subjects are the GitHub-published `pypi_attestations-0.0.19.tar.gz` and the
//! GitLab-published `gitlab_oidc_project-0.0.3.tar.gz`, with their publish attestations.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use custody_attest::{AttestError, Attestation, Identity, verify};
use serde_json::Value;

use crate::common::{Instance, asset, read, sha256_hex};

pub(crate) const GITHUB_FILE: &str = "pypi_attestations-0.0.19.tar.gz";
pub(crate) const GITHUB_SAN: &str = "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19";
pub(crate) const GITLAB_FILE: &str = "gitlab_oidc_project-0.0.3.tar.gz";
pub(crate) const GITLAB_SAN: &str =
    "https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main";

/// One verification to run through both verifiers.
pub(crate) struct Case {
    pub(crate) file_name: String,
    pub(crate) file: Vec<u8>,
    pub(crate) attestation: Vec<u8>,
    pub(crate) instance: Instance,
    pub(crate) identity: Identity,
    /// The SAN `pypi-attestations verify attestation --identity` is given for an exact
    /// identity (the genuine certificate's, whatever the case changed).
    pub(crate) san: &'static str,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("file_name", &self.file_name)
            .field("instance", &self.instance)
            .field("identity", &self.identity.to_string())
            .finish_non_exhaustive()
    }
}

impl Case {
    fn genuine(file_name: &str, san: &'static str, identity: &str) -> Self {
        Self {
            file_name: file_name.to_owned(),
            file: read(&asset(file_name)),
            attestation: read(&asset(&format!("{file_name}.publish.attestation"))),
            instance: Instance::of(file_name),
            identity: identity.parse().unwrap(),
            san,
        }
    }

    fn github() -> Self {
        Self::genuine(
            GITHUB_FILE,
            GITHUB_SAN,
            "github:trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v*",
        )
    }

    fn gitlab() -> Self {
        Self::genuine(
            GITLAB_FILE,
            GITLAB_SAN,
            "gitlab:facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main",
        )
    }

    /// The same case, expecting the certificate's exact SAN instead of a CI identity.
    fn exact(mut self) -> Self {
        self.identity = format!("uri:{}", self.san).parse().unwrap();
        self
    }

    fn expecting(mut self, identity: &str) -> Self {
        self.identity = identity.parse().unwrap();
        self
    }

    /// Edits the attestation's JSON.
    fn edit(mut self, change: impl FnOnce(&mut Value)) -> Self {
        let mut json: Value = serde_json::from_slice(&self.attestation).unwrap();
        change(&mut json);
        self.attestation = serde_json::to_vec(&json).unwrap();
        self
    }

    /// Edits the first transparency-log entry.
    fn edit_entry(self, change: impl FnOnce(&mut Value)) -> Self {
        self.edit(|json| change(&mut json["verification_material"]["transparency_entries"][0]))
    }

    /// The verdict of custody-attest: `Ok`, or the problem code followed, for a refusal
    /// of sigstore-verify's, by its own reason (`code: reason`).
    pub(crate) fn ours(&self) -> Result<(), String> {
        let attestation =
            Attestation::from_json(&self.attestation).map_err(|e| e.code().to_owned())?;
        verify(
            &self.file_name,
            &sha256_hex(&self.file),
            &attestation,
            &self.instance.root(),
            Some(&self.identity),
        )
        .map(|_| ())
        .map_err(|error| match &error {
            AttestError::Sigstore { source, .. } => format!("{}: {source}", error.code()),
            AttestError::Identity { source, .. } => format!("{}: {}", error.code(), source.claim),
            _ => error.code().to_owned(),
        })
    }

    /// Whether custody-attest's verdict is `expected`: the same `Ok`, or an error that
    /// starts with the expected code (and reason, where the case gives one).
    pub(crate) fn ours_is(&self, expected: Result<(), &str>) -> bool {
        match (self.ours(), expected) {
            (Ok(()), Ok(())) => true,
            (Err(found), Err(expected)) => found.starts_with(expected),
            _ => false,
        }
    }
}

/// Decodes a base64 field, changes the bytes, and encodes them again.
fn edit_base64(value: &mut Value, change: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = STANDARD.decode(value.as_str().unwrap()).unwrap();
    change(&mut bytes);
    *value = Value::String(STANDARD.encode(bytes));
}

fn flip_a_bit(bytes: &mut [u8]) {
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
}

/// Replaces the first `from` in `bytes` with `to` (same length).
fn replace(bytes: &mut [u8], from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len());
    let at = bytes
        .windows(from.len())
        .position(|window| window == from)
        .unwrap_or_else(|| panic!("`{}` is not there", String::from_utf8_lossy(from)));
    bytes[at..at + to.len()].copy_from_slice(to);
}

/// Every case by name, and the problem code custody-attest must answer.
macro_rules! cases {
    ($($name:ident: $case:expr => $expected:expr;)*) => {
        pub(crate) fn all() -> Vec<(&'static str, fn() -> Case, Result<(), &'static str>)> {
            vec![$((stringify!($name), (|| $case) as fn() -> Case, $expected)),*]
        }

        mod ours {
            use super::*;
            $(
                #[test]
                fn $name() {
                    let case: Case = $case;
                    let expected: Result<(), &str> = $expected;
                    assert!(case.ours_is(expected), "{case:?}: {:?}, expected {expected:?}", case.ours());
                }
            )*
        }

        /// The same cases through `pypi-attestations` (`differential.rs`).
        mod theirs {
            use super::*;
            $(
                #[test]
                fn $name() {
                    let case: Case = $case;
                    crate::differential::agree(stringify!($name), &case);
                }
            )*
        }
    };
}

cases! {
    github_genuine: Case::github() => Ok(());
    github_genuine_exact_san: Case::github().exact() => Ok(());
    github_genuine_without_ref_pattern:
        Case::github().expecting("github:trailofbits/pypi-attestations/release.yml") => Ok(());

    // One byte of the file: the statement no longer names its digest.
    github_file_byte: {
        let mut case = Case::github().exact();
        case.file[1000] ^= 0x01;
        case
    } => Err("attestation-subject-digest");

    // The genuine file under another distribution's name.
    github_file_renamed: {
        let mut case = Case::github().exact();
        case.file_name = "pypi_attestations-0.0.20.tar.gz".into();
        case
    } => Err("attestation-subject-name");

    // The statement re-encoded with another subject name: its bytes are no longer the
    // signed ones, and the signature is checked before the statement is read, so the
    // signature is what fails (the statement's name would fail next).
    github_statement_subject_renamed: {
        let mut case = Case::github().exact();
        case.file_name = "pypi_attestations-0.0.20.tar.gz".into();
        case.edit(|json| edit_base64(&mut json["envelope"]["statement"], |statement| {
            replace(statement, b"0.0.19.tar.gz", b"0.0.20.tar.gz");
        }))
    } => Err("attestation-signature: invalid signature");

    // The statement re-encoded with the tampered file's digest.
    github_statement_digest_changed: {
        let mut case = Case::github().exact();
        case.file[1000] ^= 0x01;
        let digest = sha256_hex(&case.file);
        case.edit(|json| edit_base64(&mut json["envelope"]["statement"], |statement| {
            replace(statement, b"9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3", digest.as_bytes());
        }))
    } => Err("attestation-signature: invalid signature");

    github_signature_bit: Case::github().exact().edit(|json| {
        edit_base64(&mut json["envelope"]["signature"], |signature| flip_a_bit(signature));
    }) => Err("attestation-signature: invalid signature");

    // A letter of the repository in the certificate's SAN: the certificate no longer
    // chains to Fulcio.
    github_certificate_byte: Case::github().exact().edit(|json| {
        edit_base64(&mut json["verification_material"]["certificate"], |der| {
            replace(der, b"trailofbits", b"trailofbitz");
        });
    }) => Err("attestation-certificate: certificate chain is invalid");

    github_inclusion_proof_hash: Case::github().exact().edit_entry(|entry| {
        edit_base64(&mut entry["inclusionProof"]["hashes"][0], |hash| flip_a_bit(hash));
    }) => Err("attestation-transparency-log: invalid inclusion proof");

    // The checkpoint's tree size: its signature no longer verifies.
    github_checkpoint: Case::github().exact().edit_entry(|entry| {
        let envelope = &mut entry["inclusionProof"]["checkpoint"]["envelope"];
        let text = envelope.as_str().unwrap().replace("\n31550402\n", "\n31550403\n");
        *envelope = Value::String(text);
    }) => Err("attestation-transparency-log: invalid checkpoint");

    // The signed entry timestamp covers the body, the integrated time and the log index,
    // and sigstore-verify checks it first (sigstore-python checks the inclusion proof
    // first, which covers the body too).
    github_canonicalized_body: Case::github().exact().edit_entry(|entry| {
        edit_base64(&mut entry["canonicalizedBody"], |body| {
            replace(body, b"\"kind\":\"dsse\"", b"\"kind\":\"DSSE\"");
        });
    }) => Err("attestation-transparency-log: invalid inclusion promise");

    github_signed_entry_timestamp: Case::github().exact().edit_entry(|entry| {
        edit_base64(&mut entry["inclusionPromise"]["signedEntryTimestamp"], |set| flip_a_bit(set));
    }) => Err("attestation-transparency-log: invalid inclusion promise");

    github_integrated_time: Case::github().exact().edit_entry(|entry| {
        entry["integratedTime"] = Value::String("1733354042".into());
    }) => Err("attestation-transparency-log: invalid inclusion promise");

    github_log_index: Case::github().exact().edit_entry(|entry| {
        entry["logIndex"] = Value::String("153454664".into());
    }) => Err("attestation-transparency-log: invalid inclusion promise");

    // A production attestation against the staging root, and a staging one against the
    // production root: the entry's Rekor log is not in the root (sigstore-python fails on
    // the certificate chain instead, which it checks first).
    github_staging_root: {
        let mut case = Case::github().exact();
        case.instance = Instance::Staging;
        case
    } => Err("attestation-trust-root: unknown transparency log");
    staging_asset_production_root: {
        let mut case = Case::genuine(
            "rfc8785-0.1.2-py3-none-any.whl",
            "william@yossarian.net",
            "email:william@yossarian.net",
        );
        case.instance = Instance::Production;
        case
    } => Err("attestation-trust-root: unknown transparency log");

    github_other_repository:
        Case::github().expecting("github:trailofbits/sigstore-python/release.yml")
        => Err("attestation-identity: Source Repository URI");
    github_other_workflow:
        Case::github().expecting("github:trailofbits/pypi-attestations/publish.yml")
        => Err("attestation-identity: Build Config URI");
    github_other_ref:
        Case::github().expecting("github:trailofbits/pypi-attestations/release.yml@refs/heads/*")
        => Err("attestation-identity: Source Repository Ref");
    github_other_issuer: Case::github().expecting(&format!("uri:{GITHUB_SAN}@https://gitlab.com"))
        => Err("attestation-identity: Issuer");
    github_as_gitlab_identity:
        Case::github().expecting("gitlab:trailofbits/pypi-attestations//.github/workflows/release.yml")
        => Err("attestation-identity: Issuer");
    github_other_san:
        Case::github().expecting(&format!("uri:{}", GITHUB_SAN.replace("v0.0.19", "v0.0.18")))
        => Err("attestation-identity: Subject Alternative Name");

    gitlab_genuine: Case::gitlab() => Ok(());
    gitlab_genuine_exact_san: Case::gitlab().exact() => Ok(());
    gitlab_file_byte: {
        let mut case = Case::gitlab().exact();
        case.file[0] ^= 0x01;
        case
    } => Err("attestation-subject-digest");
    gitlab_signature_bit: Case::gitlab().exact().edit(|json| {
        edit_base64(&mut json["envelope"]["signature"], |signature| flip_a_bit(signature));
    }) => Err("attestation-signature: invalid signature");
    gitlab_certificate_byte: Case::gitlab().exact().edit(|json| {
        edit_base64(&mut json["verification_material"]["certificate"], |der| {
            replace(der, b"facutuesca", b"facutuescb");
        });
    }) => Err("attestation-certificate: certificate chain is invalid");
    gitlab_inclusion_proof_hash: Case::gitlab().exact().edit_entry(|entry| {
        edit_base64(&mut entry["inclusionProof"]["hashes"][0], |hash| flip_a_bit(hash));
    }) => Err("attestation-transparency-log: invalid inclusion proof");
    gitlab_other_project:
        Case::gitlab().expecting("gitlab:facutuesca/other-project//.gitlab-ci.yml")
        => Err("attestation-identity: Source Repository URI");
    gitlab_other_config_path:
        Case::gitlab().expecting("gitlab:facutuesca/gitlab-oidc-project//release.gitlab-ci.yml")
        => Err("attestation-identity: Build Config URI");
    gitlab_other_ref:
        Case::gitlab().expecting("gitlab:facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/tags/*")
        => Err("attestation-identity: Source Repository Ref");
    gitlab_as_github_identity:
        Case::gitlab().expecting("github:facutuesca/gitlab-oidc-project/.gitlab-ci.yml")
        => Err("attestation-identity: Issuer");
}

/// The mismatch names the claim that differed, with what was expected and found.
#[test]
fn identity_refusals_name_the_claim() {
    let expect = |case: Case, claim: &str| {
        let attestation = Attestation::from_json(&case.attestation).unwrap();
        let error = verify(
            &case.file_name,
            &sha256_hex(&case.file),
            &attestation,
            &case.instance.root(),
            Some(&case.identity),
        )
        .unwrap_err();
        let custody_attest::AttestError::Identity { source, .. } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(source.claim, claim, "{error:?}");
        source.clone()
    };
    let mismatch = expect(
        Case::github().expecting("github:trailofbits/sigstore-python/release.yml"),
        "Source Repository URI",
    );
    assert_eq!(
        mismatch.to_string(),
        "the certificate's `Source Repository URI` is `https://github.com/trailofbits/pypi-attestations`, expected `https://github.com/trailofbits/sigstore-python`"
    );
    expect(
        Case::github().expecting("github:trailofbits/pypi-attestations/publish.yml"),
        "Build Config URI",
    );
    let mismatch = expect(
        Case::github().expecting("github:trailofbits/pypi-attestations/release.yml@refs/heads/*"),
        "Source Repository Ref",
    );
    assert_eq!(mismatch.found.as_deref(), Some("refs/tags/v0.0.19"));
    expect(
        Case::gitlab().expecting("github:facutuesca/gitlab-oidc-project/.gitlab-ci.yml"),
        "Issuer",
    );
    expect(
        Case::gitlab()
            .expecting("gitlab:facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/tags/*"),
        "Source Repository Ref",
    );
}
