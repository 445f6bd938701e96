//! Making signatures: PEP 740 publish attestations for distribution files and Sigstore
//! bundles for other bytes (an approval record), keyless, through a Sigstore instance's
//! Fulcio and Rekor v1 (sigstore-rust's `sigstore-sign`).
//!
//! Each signature costs what `sigstore-sign` spends on one: an ephemeral P-256 key, one
//! Fulcio request for its 10-minute certificate and one Rekor request for the log entry.
//! `attest_publish` of N files is therefore N certificates and N entries, signed one
//! after the other (the identity token is presented N times; tokens last minutes).
//!
//! The calls block: the signer's futures run on a current-thread tokio runtime made for
//! the call.

use std::fmt;

use sigstore_sign::oidc;
use sigstore_sign::{Error as SigningError, SigningContext, SigningServices};
use thiserror::Error;

use crate::{AttestError, Attestation, publish_statement};

/// The public-good instance's certificate authority.
pub const PUBLIC_GOOD_FULCIO_URL: &str = "https://fulcio.sigstore.dev";
/// The public-good instance's transparency log (Rekor v1).
pub const PUBLIC_GOOD_REKOR_URL: &str = "https://rekor.sigstore.dev";

/// The Sigstore services a signature goes through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Services {
    /// Fulcio, which certifies the identity token's identity for an ephemeral key.
    pub fulcio_url: String,
    /// Rekor (the v1 API), which logs the signature.
    pub rekor_url: String,
}

impl Services {
    /// The services at these base URLs (a trailing `/`, as `Url` writes one, is dropped).
    pub fn new(fulcio_url: impl AsRef<str>, rekor_url: impl AsRef<str>) -> Self {
        Self {
            fulcio_url: fulcio_url.as_ref().trim_end_matches('/').to_owned(),
            rekor_url: rekor_url.as_ref().trim_end_matches('/').to_owned(),
        }
    }

    /// Sigstore's public-good instance (what PyPI's publish flow signs with).
    pub fn public_good() -> Self {
        Self::new(PUBLIC_GOOD_FULCIO_URL, PUBLIC_GOOD_REKOR_URL)
    }

    fn signing_context(&self) -> SigningContext {
        SigningContext::new(SigningServices::new(&self.fulcio_url, &self.rekor_url))
    }
}

/// An OIDC identity token (a JWT) for the audience `sigstore`: a secret, which `Debug`
/// never shows.
#[derive(Clone)]
pub struct IdentityToken(oidc::IdentityToken);

impl IdentityToken {
    /// Takes the JWT, refusing what is not one (its claims are read, not verified:
    /// Fulcio verifies them).
    pub fn new(jwt: &str) -> Result<Self, SignError> {
        oidc::IdentityToken::from_jwt(jwt)
            .map(Self)
            .map_err(|source| SignError::Token { source })
    }

    /// The token's issuer (`iss`), unverified.
    pub fn issuer(&self) -> &str {
        self.0.issuer()
    }

    /// The name Fulcio certifies (the `email` claim, else `sub`), unverified.
    pub fn identity(&self) -> &str {
        self.0.identity()
    }
}

impl fmt::Debug for IdentityToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityToken")
            .field("issuer", &self.issuer())
            .finish_non_exhaustive()
    }
}

/// Why a signature could not be made.
#[derive(Debug, Error)]
pub enum SignError {
    #[error("the Sigstore identity token is not a JWT")]
    Token {
        #[source]
        source: oidc::Error,
    },
    #[error("`{file}`: `{sha256}` is not a sha256 digest (64 lowercase hexadecimal digits)")]
    Digest { file: String, sha256: String },
    #[error("`{url}` refused to certify the token's identity (HTTP {status}): {reason}")]
    FulcioRefused {
        url: String,
        status: u16,
        /// Fulcio's own words (the `message` of its error), verbatim.
        reason: String,
        #[source]
        source: SigningError,
    },
    #[error("`{url}` refused to log the signature (HTTP {status}): {reason}")]
    RekorRefused {
        url: String,
        status: u16,
        /// Rekor's own words (the `message` of its error), verbatim.
        reason: String,
        #[source]
        source: SigningError,
    },
    #[error("`{url}` could not be reached")]
    Unreachable {
        url: String,
        #[source]
        source: SigningError,
    },
    #[error("`{url}` answered with something that is not a {service} response")]
    InvalidResponse {
        url: String,
        service: &'static str,
        #[source]
        source: SigningError,
    },
    #[error("`{what}` could not be signed")]
    Sign {
        what: String,
        #[source]
        source: SigningError,
    },
    #[error("`{file}`: the signed bundle is not a PEP 740 attestation")]
    Convert {
        file: String,
        #[source]
        source: AttestError,
    },
    #[error("the Sigstore bundle of `{what}` cannot be written as JSON")]
    Json {
        what: String,
        #[source]
        source: sigstore_types::Error,
    },
    #[error("cannot start the runtime the Sigstore clients run on")]
    Runtime(#[source] std::io::Error),
}

impl SignError {
    /// The fix, where there is one.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Token { .. } => Some(
                "pass the CI job's OIDC ID token for the audience `sigstore`: three base64url parts joined by dots",
            ),
            Self::FulcioRefused {
                status: 400..=403, ..
            } => Some(
                "Fulcio takes an unexpired token of an issuer it trusts, for the audience `sigstore`: on GitHub Actions give the job `permissions: id-token: write`; on GitLab CI declare `id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore`",
            ),
            Self::FulcioRefused { .. } | Self::RekorRefused { .. } | Self::Unreachable { .. } => {
                Some(
                    "check the service's URL and that it is up, then sign again (a new signature makes a new certificate and log entry)",
                )
            }
            Self::Digest { .. }
            | Self::InvalidResponse { .. }
            | Self::Sign { .. }
            | Self::Convert { .. }
            | Self::Json { .. }
            | Self::Runtime(_) => None,
        }
    }

    /// Whether a service refused or failed (as opposed to bad input).
    pub fn is_service_failure(&self) -> bool {
        matches!(
            self,
            Self::FulcioRefused { .. }
                | Self::RekorRefused { .. }
                | Self::Unreachable { .. }
                | Self::InvalidResponse { .. }
        )
    }
}

/// The `message` of a Fulcio (grpc-gateway) or Rekor JSON error body, else the body.
fn service_reason(message: &str) -> String {
    let body = message.split_once(": ").map_or(message, |(_, body)| body);
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|value| value.get("message")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| body.trim().to_owned())
}

/// Names the service a signing failure came from.
fn classify(services: &Services, what: &str, source: SigningError) -> SignError {
    use sigstore_sign::{fulcio, rekor};
    let fulcio_url = services.fulcio_url.clone();
    let rekor_url = services.rekor_url.clone();
    match &source {
        SigningError::Fulcio(fulcio::Error::Status { status, message }) => {
            SignError::FulcioRefused {
                url: fulcio_url,
                status: *status,
                reason: service_reason(message),
                source,
            }
        }
        SigningError::Rekor(rekor::Error::Status { status, message }) => SignError::RekorRefused {
            url: rekor_url,
            status: *status,
            reason: service_reason(message),
            source,
        },
        SigningError::Fulcio(fulcio::Error::Http(_)) => SignError::Unreachable {
            url: fulcio_url,
            source,
        },
        SigningError::Rekor(rekor::Error::Http(_)) => SignError::Unreachable {
            url: rekor_url,
            source,
        },
        SigningError::Fulcio(_) => SignError::InvalidResponse {
            url: fulcio_url,
            service: "Fulcio",
            source,
        },
        SigningError::Rekor(_) => SignError::InvalidResponse {
            url: rekor_url,
            service: "Rekor",
            source,
        },
        _ => SignError::Sign {
            what: what.to_owned(),
            source,
        },
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, SignError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(SignError::Runtime)
}

fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Signs the PyPI publish statement of each file (its name and lowercase hex sha256)
/// with `token`'s identity, in order: one attestation per file, as PyPI's publish flow
/// makes them (a DSSE envelope over the in-toto statement, logged in Rekor as `dsse`).
pub fn attest_publish<N: AsRef<str>, D: AsRef<str>>(
    services: &Services,
    token: &IdentityToken,
    files: &[(N, D)],
) -> Result<Vec<Attestation>, SignError> {
    for (name, sha256) in files {
        if !is_sha256_hex(sha256.as_ref()) {
            return Err(SignError::Digest {
                file: name.as_ref().to_owned(),
                sha256: sha256.as_ref().to_owned(),
            });
        }
    }
    let signer = services.signing_context().signer(token.0.clone());
    let runtime = runtime()?;
    files
        .iter()
        .map(|(name, sha256)| {
            let (name, sha256) = (name.as_ref(), sha256.as_ref());
            let statement = publish_statement(name, sha256);
            let bundle = runtime
                .block_on(signer.sign_raw_statement(&statement))
                .map_err(|source| classify(services, name, source))?;
            Attestation::from_bundle(&bundle).map_err(|source| SignError::Convert {
                file: name.to_owned(),
                source,
            })
        })
        .collect()
}

/// Signs `bytes` with `token`'s identity: a Sigstore bundle (v0.3 JSON) holding the
/// message signature, the certificate and the `hashedrekord` log entry, which
/// sigstore-python's `verify_artifact` and `cosign verify-blob` check.
pub fn sign_blob(
    services: &Services,
    token: &IdentityToken,
    bytes: &[u8],
) -> Result<String, SignError> {
    let what = format!("{} bytes", bytes.len());
    let signer = services.signing_context().signer(token.0.clone());
    let bundle = runtime()?
        .block_on(signer.sign(bytes))
        .map_err(|source| classify(services, &what, source))?;
    bundle
        .to_json()
        .map_err(|source| SignError::Json { what, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_never_shows_in_debug_output() {
        use base64::Engine;
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"iss":"https://issuer.example","sub":"s","exp":9999999999}"#);
        let jwt = format!("eyJhbGciOiJFUzI1NiJ9.{claims}.c2VjcmV0LXNpZ25hdHVyZQ");
        let token = IdentityToken::new(&jwt).unwrap();
        let shown = format!("{token:?}");
        assert!(
            !shown.contains("c2VjcmV0") && !shown.contains(&claims),
            "{shown}"
        );
        assert!(shown.contains("https://issuer.example"));
        assert!(matches!(
            IdentityToken::new("not-a-jwt"),
            Err(SignError::Token { .. })
        ));
    }

    #[test]
    fn service_errors_keep_the_services_own_words() {
        let body = r#"failed to create signing certificate: {"code":3,"message":"There was an error processing the identity token","details":[]}"#;
        assert_eq!(
            service_reason(body),
            "There was an error processing the identity token"
        );
        assert_eq!(
            service_reason("failed to create entry: plain text\n"),
            "plain text"
        );
    }

    #[test]
    fn digests_are_checked_before_anything_is_signed() {
        let token =
            IdentityToken::new("e30.eyJpc3MiOiJpIiwic3ViIjoicyIsImV4cCI6OTk5OTk5OTk5OX0.c2ln")
                .unwrap();
        // Nothing listens on port 1: reaching a service would be `Unreachable`.
        let services = Services::new("http://127.0.0.1:1/", "http://127.0.0.1:1/");
        let error = attest_publish(&services, &token, &[("a-1.0.tar.gz", "ABC")]).unwrap_err();
        assert!(matches!(error, SignError::Digest { ref file, .. } if file == "a-1.0.tar.gz"));
        let error =
            attest_publish(&services, &token, &[("a-1.0.tar.gz", &"0".repeat(64))]).unwrap_err();
        assert!(
            matches!(error, SignError::Unreachable { ref url, .. } if url == "http://127.0.0.1:1")
        );
    }
}
