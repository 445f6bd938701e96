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

mod ct;
mod fulcio;
mod issuer;
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

pub use ct::CtLog;
pub use fulcio::{
    Fulcio, INSECURE_PUBLIC_KEY, INVALID_IDENTITY_TOKEN, INVALID_PUBLIC_KEY, INVALID_SIGNATURE,
};
pub use issuer::{
    Claims, EMAIL_ISSUER, GITHUB_ISSUER, GITLAB_ISSUER, OidcIssuer, Provider, ProviderKind,
    SIGSTORE_AUDIENCE, TokenRequest,
};
pub use keys::{Curve, SigningKey, pem, pem_decode};
pub use python::{
    Expected, PythonVerdicts, Root, Signed, Subject, Verdict, python_verify, sigstore_python,
    verify_script,
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
    _dir: tempfile::TempDir,
}

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
        Self {
            issuer,
            fulcio,
            rekor,
            ct_log,
            trust_root,
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

/// The DER `SubjectPublicKeyInfo` of a DER certificate.
pub(crate) fn spki_of_certificate(der: &[u8]) -> Option<Vec<u8>> {
    let certificate = x509_cert::Certificate::from_der(der).ok()?;
    certificate
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .ok()
}
