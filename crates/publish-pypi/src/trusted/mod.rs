//! Trusted publishing: the CI job's OIDC identity token exchanged for a short-lived
//! upload token. GitHub Actions hands the token out on request
//! (`ACTIONS_ID_TOKEN_REQUEST_URL` with the index's audience); GitLab CI puts it in the
//! variable the job declares (`id_tokens: PYPI_ID_TOKEN: aud: pypi`). The endpoints
//! live on the index's API host: `GET /_/oidc/audience`, `POST /_/oidc/mint-token`.

pub(crate) mod claims;
mod mint;

use std::time::{Duration, Instant};

use custody_cli::Diagnose;
use custody_cli::sigstore::SigstoreTokenError;
use custody_http::{Client, HttpConfig, HttpError, Secret, Url, display_url, send_with_retry};
use custody_output::ExitStatus;
use thiserror::Error;

pub(crate) use mint::Minted;

/// The variable GitLab CI jobs declare for PyPI's identity token, by default.
pub(crate) const GITLAB_ID_TOKEN_VAR: &str = "PYPI_ID_TOKEN";

/// Upload hosts whose OIDC endpoints live on another host. Any other index serves them
/// from its upload host (TestPyPI uploads to `test.pypi.org` itself).
const API_HOSTS: [(&str, &str); 1] = [("upload.pypi.org", "pypi.org")];

/// Where the job's identity token comes from: the one home of that is
/// `custody_cli::sigstore::AmbientIdentity` (GitHub's token endpoint, or the variable a
/// GitLab job declares), asked here for the index's audience.
pub(crate) use custody_cli::sigstore::AmbientIdentity as Provider;

#[derive(Debug, Error)]
pub(crate) enum TrustedError {
    #[error(
        "trusted publishing needs an identity token: neither ACTIONS_ID_TOKEN_REQUEST_URL (GitHub Actions) nor {variable} (GitLab CI) is set"
    )]
    NoIdentityToken { variable: String },
    #[error("trusted publishing is not enabled on this index ({url} answered {status}{reason})")]
    NotEnabled {
        url: String,
        status: u16,
        reason: String,
    },
    #[error("the index does not support trusted publishing ({url} answered {status})")]
    Unsupported { url: String, status: u16 },
    #[error("the index gave no OIDC audience (from {url})")]
    NoAudience { url: String },
    #[error(transparent)]
    IdentityToken(#[from] SigstoreTokenError),
    #[error("trusted publishing failed: the index refused the identity token {}", refusal.describe())]
    Refused { url: String, refusal: mint::Refusal },
    #[error(
        "trusted publishing failed: the mint request to {url} was sent but its answer was lost ({reason}); it is not re-sent, the identity token may already be used"
    )]
    MintAnswerLost { url: String, reason: String },
    #[error(transparent)]
    Http(#[from] HttpError),
}

impl Diagnose for TrustedError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Http(error) | Self::IdentityToken(SigstoreTokenError::Http(error)) => {
                error.exit_status()
            }
            Self::MintAnswerLost { .. } => ExitStatus::Timeout,
            _ => ExitStatus::Environment,
        }
    }

    fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::NoIdentityToken { .. } => {
                "on GitHub add `permissions: id-token: write` to the job; on GitLab declare `id_tokens: PYPI_ID_TOKEN: aud: pypi` (another name: --id-token-var); or give credentials (PYPI_LOGIN/PYPI_PASSWORD)"
            }
            Self::NotEnabled { .. } => {
                "the index has trusted publishing turned off (the URL is right): publish with an API token (PYPI_LOGIN=__token__, PYPI_PASSWORD=pypi-...)"
            }
            Self::Unsupported { .. } | Self::NoAudience { .. } => {
                "this index has no trusted publishing: use an API token (PYPI_LOGIN=__token__, PYPI_PASSWORD=pypi-...), or check --repository-url"
            }
            Self::IdentityToken(SigstoreTokenError::Http(error)) | Self::Http(error) => {
                return error.hint();
            }
            Self::IdentityToken(_) => "the job needs `permissions: id-token: write`",
            Self::Refused { refusal, .. } => mint::hint_for(refusal.code()),
            Self::MintAnswerLost { .. } => mint::hint_for(Some("invalid-reuse-token")),
        };
        Some(hint.to_owned())
    }
}

/// Where an index serves its OIDC endpoints: the upload URL's own host, except where
/// [`API_HOSTS`] says otherwise.
pub(crate) fn oidc_base(upload: &Url) -> Url {
    let mut base = upload.clone();
    if let Some(host) = upload.host_str()
        && let Some((_, api)) = API_HOSTS
            .iter()
            .find(|(upload_host, _)| host.eq_ignore_ascii_case(upload_host))
    {
        let _ = base.set_host(Some(api));
    }
    base.set_path("/");
    base.set_query(None);
    base.set_fragment(None);
    base
}

/// The whole exchange: the index's audience (GitHub only), the job's identity token,
/// the upload token. `register` is told each secret as it appears, to mask it.
pub(crate) fn exchange(
    client: &Client,
    config: &HttpConfig,
    upload: &Url,
    provider: &Provider,
    register: &mut dyn FnMut(&str),
) -> Result<Minted, TrustedError> {
    let base = oidc_base(upload);
    // Only GitHub's token is asked for with the index's audience; GitLab's was declared
    // by the job with it.
    let audience = if provider.renewable() {
        audience(client, config, &base)?
    } else {
        String::new()
    };
    let identity = provider.token_for(client, config, &audience, register)?;
    let minted = mint::mint(client, config, &base, &identity)?;
    register(minted.token.expose());
    Ok(minted)
}

/// A minted token's renewal: once half its life is spent, the next file gets a fresh
/// one, from a fresh identity token (an exchanged one cannot be used again). Only
/// GitHub hands out fresh identity tokens; GitLab's is the one the job declared, so a
/// GitLab token is never renewed (the index then refuses uploads past its 15 minutes).
#[derive(Debug, Clone)]
pub(crate) struct Renewal {
    provider: Provider,
    minted_at: Instant,
    lifetime: Duration,
}

impl Renewal {
    pub(crate) fn new(provider: Provider, minted: &Minted) -> Self {
        Self {
            provider,
            minted_at: Instant::now(),
            lifetime: minted.lifetime,
        }
    }

    /// Whether the token should be replaced before the next upload.
    pub(crate) fn is_due(&self, now: Instant) -> bool {
        self.provider.renewable()
            && now.saturating_duration_since(self.minted_at) * 2 >= self.lifetime
    }

    /// A fresh upload token, through the whole exchange again.
    pub(crate) fn renew(
        &mut self,
        client: &Client,
        config: &HttpConfig,
        upload: &Url,
        register: &mut dyn FnMut(&str),
    ) -> Result<Secret, TrustedError> {
        let minted = exchange(client, config, upload, &self.provider, register)?;
        *self = Self::new(self.provider.clone(), &minted);
        Ok(minted.token)
    }
}

/// The audience the index wants in the identity token. Warehouse answers 403 when
/// trusted publishing is turned off: the URL is right, the feature is not there.
fn audience(client: &Client, config: &HttpConfig, base: &Url) -> Result<String, TrustedError> {
    let audience_url = base.join("_/oidc/audience").expect("a valid relative URL");
    let response = send_with_retry(
        config,
        &audience_url,
        || client.get(audience_url.clone()),
        |_, _, _| {},
    )?;
    let url = display_url(&audience_url);
    let status = response.status().as_u16();
    let answer = json_of(response);
    match status {
        403 => {
            let reason = answer
                .as_ref()
                .and_then(|v| v.get("message").and_then(|m| m.as_str()))
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            return Err(TrustedError::NotEnabled {
                url,
                status,
                reason,
            });
        }
        200..=299 => {}
        _ => return Err(TrustedError::Unsupported { url, status }),
    }
    answer
        .and_then(|v| {
            v.get("audience")
                .and_then(|a| a.as_str())
                .map(str::to_owned)
        })
        .ok_or(TrustedError::NoAudience { url })
}

fn json_of(response: custody_http::Response) -> Option<serde_json::Value> {
    response
        .text()
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oidc_endpoints_live_on_the_upload_urls_own_host_except_pypis() {
        for (upload, base) in [
            ("https://upload.pypi.org/legacy/", "https://pypi.org/"),
            ("https://UPLOAD.PYPI.ORG/legacy/", "https://pypi.org/"),
            ("https://test.pypi.org/legacy/", "https://test.pypi.org/"),
            (
                "https://upload.example.org/legacy/?x=1",
                "https://upload.example.org/",
            ),
            ("http://127.0.0.1:9/legacy/", "http://127.0.0.1:9/"),
        ] {
            assert_eq!(oidc_base(&Url::parse(upload).unwrap()).as_str(), base);
        }
    }

    #[test]
    fn a_token_is_renewed_once_half_its_life_is_spent_and_only_on_github() {
        let minted = Minted {
            token: Secret::new("pypi-x"),
            lifetime: Duration::from_secs(900),
        };
        let github = Provider::GitHub {
            request_url: "http://127.0.0.1:9/t".into(),
            request_token: Secret::new("r"),
        };
        let renewal = Renewal::new(github, &minted);
        let start = renewal.minted_at;
        assert!(!renewal.is_due(start + Duration::from_secs(449)));
        assert!(renewal.is_due(start + Duration::from_secs(450)));
        let gitlab = Provider::GitLab {
            variable: GITLAB_ID_TOKEN_VAR.into(),
            token: Secret::new("eyJ"),
        };
        let renewal = Renewal::new(gitlab, &minted);
        assert!(!renewal.is_due(start + Duration::from_secs(3600)));
    }

    #[test]
    fn audience_403_is_not_enabled_not_a_wrong_url() {
        let error = TrustedError::NotEnabled {
            url: "https://pypi.org/_/oidc/audience".into(),
            status: 403,
            reason: ": Trusted publishing functionality not enabled".into(),
        };
        assert!(
            error
                .to_string()
                .starts_with("trusted publishing is not enabled on this index")
        );
        assert!(error.hint().unwrap().contains("the URL is right"));
    }
}
