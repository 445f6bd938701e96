//! A local Sigstore, all on 127.0.0.1 and started by the test itself: OIDC providers
//! ([`OidcIssuer`]: GitHub Actions, GitLab CI, an email provider, and the Actions
//! runtime's token endpoint), a Fulcio ([`Fulcio`]) with its CA and CT log, and a Rekor
//! v1 log ([`Rekor`]), each speaking the real request and response formats and refusing
//! what the real service refuses; plus the stack's own `trusted_root.json` (the v0.1
//! trusted root format) for verifiers. Signing against it with sigstore clients and
//! verifying with sigstore-python, pypi-attestations or sigstore-rust is a signing run
//! end to end, with a root of trust no one else has.
//!
//! ```no_run
//! use custody_test_support::sigstore::{Claims, SigstoreStack};
//! let stack = SigstoreStack::start();
//! let token = stack.issuer().mint(&Claims::github("octo/sample", "release.yml", "refs/tags/v1.0.0"));
//! // sign with `stack.fulcio_url()`, `stack.rekor_url()` and `token`, then verify with
//! // `stack.trust_root_path()`.
//! ```
//!
//! sigstore-python signs against it too, with the stack's client trust configuration:
//! [`SigstoreStack::python_sign`] runs `python -m sigstore --trust-config FILE sign`.

mod csr;
mod ct;
mod fulcio;
mod gateway;
mod issuer;
mod job;
mod keys;
mod merkle;
mod python;
mod rekor;
mod templates;
mod x509;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use x509_cert::der::{Decode, Encode};

pub use csr::certificate_request;
pub use ct::CtLog;
pub use fulcio::{
    Fulcio, INSECURE_PUBLIC_KEY, INVALID_CSR, INVALID_IDENTITY_TOKEN, INVALID_PUBLIC_KEY,
    INVALID_SIGNATURE,
};
pub use issuer::{
    Claims, EMAIL_ISSUER, GITHUB_ISSUER, GITLAB_ISSUER, OidcIssuer, Provider, ProviderKind,
    SIGSTORE_AUDIENCE, TokenRequest,
};
pub use job::{JobEnv, assert_no_identity_token};
pub use keys::{Curve, SigningKey, pem, pem_decode};
pub use python::{
    Expected, PythonVerdicts, Root, Signed, Subject, Verdict, pypi_attestations, python_verify,
    run_tool, sigstore_cli, sigstore_python, sigstore_venv, tool_verdict, verify_script,
};
pub use rekor::{HOSTNAME as REKOR_HOSTNAME, Rekor};
pub use x509::{CertificateAuthority, LEAF_LIFETIME};

/// The whole stack; every service stops when it is dropped.
#[derive(Debug)]
pub struct SigstoreStack {
    issuer: OidcIssuer,
    fulcio: Fulcio,
    rekor: Rekor,
    ct_log: Arc<CtLog>,
    trust_root: PathBuf,
    trust_config: PathBuf,
    _dir: tempfile::TempDir,
}

/// The predicate type `python -m sigstore attest` takes for SLSA provenance v1, one of
/// the two PEP 740 admits.
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";

impl SigstoreStack {
    /// Starts the providers, Fulcio (with a new CA and CT log) and Rekor, and writes
    /// their trusted root.
    pub fn start() -> Self {
        let issuer = OidcIssuer::start();
        let ca = Arc::new(CertificateAuthority::generate());
        let ct_log = Arc::new(CtLog::generate());
        let fulcio = Fulcio::start(&issuer, ca, ct_log.clone());
        let rekor = Rekor::start();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let trust_root = dir.path().join("trusted_root.json");
        let document = trusted_root(&fulcio, &rekor, &ct_log);
        fs_err::write(
            &trust_root,
            serde_json::to_vec_pretty(&document).expect("JSON"),
        )
        .expect("write the trusted root");
        let trust_config = dir.path().join("trust_config.json");
        let config = json!({
            "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
            "trustedRoot": document,
            "signingConfig": signing_config(&fulcio, &rekor),
        });
        fs_err::write(
            &trust_config,
            serde_json::to_vec_pretty(&config).expect("JSON"),
        )
        .expect("write the client trust config");
        Self {
            issuer,
            fulcio,
            rekor,
            ct_log,
            trust_root,
            trust_config,
            _dir: dir,
        }
    }

    /// Fulcio's base URL (no trailing slash).
    pub fn fulcio_url(&self) -> String {
        self.fulcio.url()
    }

    /// Rekor's base URL (no trailing slash).
    pub fn rekor_url(&self) -> String {
        self.rekor.url()
    }

    pub fn issuer(&self) -> &OidcIssuer {
        &self.issuer
    }

    pub fn fulcio(&self) -> &Fulcio {
        &self.fulcio
    }

    pub fn rekor(&self) -> &Rekor {
        &self.rekor
    }

    pub fn ct_log(&self) -> &CtLog {
        &self.ct_log
    }

    /// The stack's `trusted_root.json`.
    pub fn trust_root_path(&self) -> &Path {
        &self.trust_root
    }

    /// The stack's client trust configuration (v0.1): its trusted root and a signing
    /// configuration naming its Fulcio and Rekor, what sigstore-python signs with
    /// (`python -m sigstore --trust-config FILE sign …`, see [`sigstore_cli`]).
    pub fn client_trust_config_path(&self) -> &Path {
        &self.trust_config
    }

    /// Signs `file` as a person does, with sigstore-python and a token of `claims`:
    /// `python -m sigstore sign FILE` (a certificate signing request to Fulcio, a
    /// hashedrekord entry in Rekor); returns `FILE.sigstore.json`, the bundle it wrote.
    /// Panics with the tool's output when it fails.
    pub fn python_sign(&self, claims: &Claims, file: &Path) -> PathBuf {
        let mut command = sigstore_cli(&self.trust_config, &self.issuer.mint(claims));
        command.args(["sign", "--overwrite"]).arg(file);
        python::run_signing(command, file)
    }

    /// Attests `file` with sigstore-python and a token of `claims`: `python -m sigstore
    /// attest --predicate-type https://slsa.dev/provenance/v1 --predicate PREDICATE
    /// FILE`, a DSSE envelope over an in-toto statement naming the file by its name and
    /// sha256 (a dsse entry in Rekor); returns `FILE.sigstore.json`. Panics with the
    /// tool's output when it fails.
    pub fn python_attest(&self, claims: &Claims, file: &Path, predicate: &Path) -> PathBuf {
        let mut command = sigstore_cli(&self.trust_config, &self.issuer.mint(claims));
        command
            .args([
                "attest",
                "--overwrite",
                "--predicate-type",
                SLSA_PROVENANCE_V1,
            ])
            .arg("--predicate")
            .arg(predicate)
            .arg(file);
        python::run_signing(command, file)
    }

    /// An `ACTIONS_ID_TOKEN_REQUEST_URL` handing out tokens with `claims` (see
    /// [`OidcIssuer::github_request_url`]).
    pub fn github_request_url(&self, claims: &Claims) -> String {
        self.issuer.github_request_url(claims)
    }

    /// How many entries Rekor has logged.
    pub fn log_entry_count(&self) -> usize {
        self.rekor.entry_count()
    }
}

fn rfc3339(at: SystemTime) -> String {
    let seconds = at.duration_since(UNIX_EPOCH).expect("after 1970").as_secs();
    jiff::Timestamp::from_second(i64::try_from(seconds).expect("seconds fit"))
        .expect("a timestamp")
        .to_string()
}

/// The v0.1 trusted root of the stack: Fulcio's chain (intermediate first), Rekor's key
/// and the CT log's key, each valid since the CA was made.
fn trusted_root(fulcio: &Fulcio, rekor: &Rekor, ct_log: &CtLog) -> serde_json::Value {
    let start = rfc3339(fulcio.authority().not_before());
    let log = |key: &SigningKey, url: String| {
        json!({
            "baseUrl": url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": STANDARD.encode(key.spki_der()),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": {"start": start},
            },
            "logId": {"keyId": STANDARD.encode(key.key_id())},
        })
    };
    json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [log(rekor.key(), rekor.url())],
        "certificateAuthorities": [{
            "subject": {"organization": "custody-test.invalid", "commonName": "sigstore"},
            "uri": fulcio.url(),
            "certChain": {"certificates": [
                {"rawBytes": STANDARD.encode(fulcio.authority().intermediate_der())},
                {"rawBytes": STANDARD.encode(fulcio.authority().root_der())},
            ]},
            "validFor": {"start": start},
        }],
        "ctlogs": [log(ct_log.key(), format!("{}/ct", fulcio.url()))],
        "timestampAuthorities": [],
    })
}

/// The v0.2 signing configuration of the stack, as sigstore-python 4.5.1 reads it: its
/// Fulcio (CA API v1) and its Rekor as a v1 log (4.5.1 prefers a v2 log when one is
/// offered; the stack's is v1), each valid since the CA was made; no timestamp
/// authority, which 4.5.1 does not require (a v1 log's integrated time dates the
/// signature), and no OIDC provider (tests hand sigstore-python its token).
fn signing_config(fulcio: &Fulcio, rekor: &Rekor) -> serde_json::Value {
    let service = |url: String| {
        json!({
            "url": url,
            "majorApiVersion": 1,
            "validFor": {"start": rfc3339(fulcio.authority().not_before())},
            "operator": "custody-test.invalid",
        })
    };
    json!({
        "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
        "caUrls": [service(fulcio.url())],
        "oidcUrls": [],
        "rekorTlogUrls": [service(rekor.url())],
        "rekorTlogConfig": {"selector": "ANY"},
        "tsaUrls": [],
        "tsaConfig": {"selector": "ANY"},
    })
}

/// The DER `SubjectPublicKeyInfo` of a DER certificate.
pub(crate) fn spki_of_certificate(der: &[u8]) -> Option<Vec<u8>> {
    let certificate = x509_cert::Certificate::from_der(der).ok()?;
    certificate
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .ok()
}
