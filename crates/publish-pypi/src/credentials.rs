//! Who uploads: flags, then the original pipeline's `PYPI_LOGIN`/`PYPI_PASSWORD`, then
//! twine's `TWINE_USERNAME`/`TWINE_PASSWORD`; an API token alone means `__token__`. Without
//! any, on GitHub Actions with `id-token: write`, trusted publishing exchanges the job's
//! OIDC token for a short-lived upload token (`/_/oidc/audience`, `/_/oidc/mint-token`).

use std::fmt;

use custody_ci::{Env, vars};
use custody_cli::Diagnose;
use custody_http::{Client, HttpConfig, HttpError, Secret, Url, display_url, send_with_retry};
use custody_output::ExitStatus;
use thiserror::Error;

use crate::{TrustedPublishing, UploadArgs};

/// The user name PyPI expects with an API token.
pub(crate) const TOKEN_USER: &str = "__token__";

/// Where credentials came from, as messages name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Flags,
    Pypi,
    Twine,
    TrustedPublishing,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flags => f.write_str("--username/--password"),
            Self::Pypi => write!(f, "{}/{}", vars::PYPI_LOGIN, vars::PYPI_PASSWORD),
            Self::Twine => write!(f, "{}/{}", vars::TWINE_USERNAME, vars::TWINE_PASSWORD),
            Self::TrustedPublishing => f.write_str("trusted publishing"),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Credentials {
    pub username: String,
    pub password: Secret,
    pub source: Source,
}

/// Who a run acts as. A real run always has credentials; only a dry run may go on
/// without them, saying what a real run would do.
#[derive(Debug)]
pub(crate) enum Identity {
    Upload(Credentials),
    DryRun(DryRunIdentity),
}

#[derive(Debug)]
pub(crate) enum DryRunIdentity {
    Configured(Credentials),
    /// Trusted publishing: the exchange is left to the real run.
    WouldExchange,
    /// No credentials: a real run would fail.
    Missing,
}

impl Identity {
    pub(crate) fn credentials(&self) -> Option<&Credentials> {
        match self {
            Self::Upload(credentials) | Self::DryRun(DryRunIdentity::Configured(credentials)) => {
                Some(credentials)
            }
            Self::DryRun(DryRunIdentity::WouldExchange | DryRunIdentity::Missing) => None,
        }
    }
}

/// The fix for missing credentials, shown by a failed run and warned by a dry run.
pub(crate) const SET_CREDENTIALS: &str = "set PYPI_LOGIN and PYPI_PASSWORD (or TWINE_USERNAME and TWINE_PASSWORD; for an API token the user is `__token__`), or use trusted publishing on GitHub Actions with `permissions: id-token: write`";

#[derive(Debug, Error)]
pub(crate) enum CredentialError {
    #[error("no credentials for {url}")]
    Missing { url: String },
    #[error("a user name is set ({origin}) but no password")]
    UserWithoutPassword { origin: Source },
    #[error("a password is set ({origin}) but no user name, and it is not an API token")]
    PasswordWithoutUser { origin: Source },
    #[error(
        "trusted publishing needs a GitHub Actions job with `permissions: id-token: write`; ACTIONS_ID_TOKEN_REQUEST_URL is not set"
    )]
    NoIdentityToken,
    #[error("trusted publishing failed: {step}{detail}")]
    Exchange {
        step: &'static str,
        detail: String,
        hint: &'static str,
    },
    #[error(transparent)]
    Http(#[from] HttpError),
}

impl Diagnose for CredentialError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::UserWithoutPassword { .. } | Self::PasswordWithoutUser { .. } => {
                ExitStatus::Usage
            }
            Self::Http(error) => error.exit_status(),
            Self::Missing { .. } | Self::NoIdentityToken | Self::Exchange { .. } => {
                ExitStatus::Environment
            }
        }
    }

    fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::Missing { .. } => SET_CREDENTIALS,
            Self::UserWithoutPassword { .. } => {
                "set the matching password variable, or pass --password"
            }
            Self::PasswordWithoutUser { .. } => {
                "set the user name too (PYPI_LOGIN or TWINE_USERNAME); API tokens start with `pypi-` and use the user `__token__`"
            }
            Self::NoIdentityToken => {
                "add `permissions: id-token: write` to the job, or give credentials (PYPI_LOGIN/PYPI_PASSWORD)"
            }
            Self::Exchange { hint, .. } => hint,
            Self::Http(error) => return error.hint(),
        };
        Some(hint.to_owned())
    }
}

/// The credentials phase: flags or environment first, then trusted publishing where it
/// applies. `register` is told each secret as it appears, to mask it, also when the
/// exchange fails halfway.
pub(crate) fn resolve(
    args: &UploadArgs,
    env: &Env,
    client: &Client,
    config: &HttpConfig,
    upload_url: &Url,
    register: &mut dyn FnMut(&str),
) -> Result<Identity, CredentialError> {
    let configured = configured(args, env)?;
    let trusted = wants_trusted_publishing(args.trusted_publishing, env);
    if args.dry_run {
        return Ok(Identity::DryRun(match configured {
            Some(credentials) => DryRunIdentity::Configured(credentials),
            None if trusted => DryRunIdentity::WouldExchange,
            None => DryRunIdentity::Missing,
        }));
    }
    if let Some(credentials) = configured {
        return Ok(Identity::Upload(credentials));
    }
    if trusted {
        return trusted_publishing(client, config, upload_url, env, register).map(Identity::Upload);
    }
    Err(CredentialError::Missing {
        url: display_url(upload_url),
    })
}

/// Credentials given by flag or environment, if any.
pub(crate) fn configured(
    args: &UploadArgs,
    env: &Env,
) -> Result<Option<Credentials>, CredentialError> {
    let sources = [
        (Source::Flags, args.username.clone(), args.password.clone()),
        (
            Source::Pypi,
            env.get(vars::PYPI_LOGIN).map(str::to_owned),
            env.get(vars::PYPI_PASSWORD).map(str::to_owned),
        ),
        (
            Source::Twine,
            env.get(vars::TWINE_USERNAME).map(str::to_owned),
            env.get(vars::TWINE_PASSWORD).map(str::to_owned),
        ),
    ];
    for (source, username, password) in sources {
        let username = username.filter(|u| !u.trim().is_empty());
        let password = password.filter(|p| !p.is_empty());
        let username = match (username, password.as_deref()) {
            (None, None) => continue,
            (Some(username), Some(_)) => username.trim().to_owned(),
            (None, Some(token)) if token.starts_with("pypi-") => TOKEN_USER.to_owned(),
            (None, Some(_)) => return Err(CredentialError::PasswordWithoutUser { origin: source }),
            (Some(_), None) => return Err(CredentialError::UserWithoutPassword { origin: source }),
        };
        return Ok(password.map(|password| Credentials {
            username,
            password: Secret::new(password),
            source,
        }));
    }
    Ok(None)
}

/// Whether trusted publishing should be tried when no credentials are configured.
pub(crate) fn wants_trusted_publishing(mode: TrustedPublishing, env: &Env) -> bool {
    match mode {
        TrustedPublishing::Never => false,
        TrustedPublishing::Always => true,
        TrustedPublishing::Auto => env.get(vars::ACTIONS_ID_TOKEN_REQUEST_URL).is_some(),
    }
}

/// Where an index serves its OIDC endpoints: PyPI's upload host is `upload.pypi.org`,
/// its API `pypi.org`; other indexes serve both from one origin.
pub(crate) fn oidc_base(upload: &Url) -> Url {
    let mut base = upload.clone();
    if let Some(host) = upload.host_str()
        && let Some(api_host) = host.strip_prefix("upload.")
    {
        let _ = base.set_host(Some(api_host));
    }
    base.set_path("/");
    base.set_query(None);
    base
}

/// Exchanges the GitHub Actions OIDC token for an upload token. `register` is told each
/// secret as it appears, to mask it.
pub(crate) fn trusted_publishing(
    client: &Client,
    config: &HttpConfig,
    upload: &Url,
    env: &Env,
    register: &mut dyn FnMut(&str),
) -> Result<Credentials, CredentialError> {
    let request_url = env
        .get(vars::ACTIONS_ID_TOKEN_REQUEST_URL)
        .ok_or(CredentialError::NoIdentityToken)?;
    let request_token = Secret::new(
        env.get(vars::ACTIONS_ID_TOKEN_REQUEST_TOKEN)
            .unwrap_or_default(),
    );
    register(request_token.expose());
    let base = oidc_base(upload);
    let audience = audience(client, config, &base)?;
    let identity = identity_token(client, config, request_url, &request_token, &audience)?;
    register(identity.expose());
    let token = mint_token(client, config, &base, &identity)?;
    register(token.expose());
    Ok(Credentials {
        username: TOKEN_USER.to_owned(),
        password: token,
        source: Source::TrustedPublishing,
    })
}

/// 1. The audience the index wants in the identity token.
fn audience(client: &Client, config: &HttpConfig, base: &Url) -> Result<String, CredentialError> {
    let audience_url = base.join("_/oidc/audience").expect("a valid relative URL");
    let response = send_with_retry(
        config,
        &audience_url,
        || client.get(audience_url.clone()),
        |_, _, _| {},
    )?;
    if response.status().as_u16() == 404 {
        return Err(CredentialError::Exchange {
            step: "the index does not support trusted publishing",
            detail: format!(" ({} answered 404)", display_url(&audience_url)),
            hint: "use an API token instead (PYPI_LOGIN=__token__, PYPI_PASSWORD=pypi-...)",
        });
    }
    json_of(response)
        .and_then(|v| {
            v.get("audience")
                .and_then(|a| a.as_str())
                .map(str::to_owned)
        })
        .ok_or(CredentialError::Exchange {
            step: "the index gave no OIDC audience",
            detail: format!(" (from {})", display_url(&audience_url)),
            hint: "check --repository-url",
        })
}

/// 2. The job's identity token, from the Actions runtime.
fn identity_token(
    client: &Client,
    config: &HttpConfig,
    request_url: &str,
    request_token: &Secret,
    audience: &str,
) -> Result<Secret, CredentialError> {
    let mut token_url = Url::parse(request_url).map_err(|_| CredentialError::NoIdentityToken)?;
    token_url
        .query_pairs_mut()
        .append_pair("audience", audience);
    let response = send_with_retry(
        config,
        &token_url,
        || {
            client.get(token_url.clone()).header(
                "Authorization",
                format!("bearer {}", request_token.expose()),
            )
        },
        |_, _, _| {},
    )?;
    let status = response.status().as_u16();
    json_of(response)
        .and_then(|v| v.get("value").and_then(|a| a.as_str()).map(Secret::new))
        .ok_or(CredentialError::Exchange {
            step: "GitHub did not issue an identity token",
            detail: format!(" (status {status})"),
            hint: "the job needs `permissions: id-token: write`",
        })
}

/// 3. The identity token for a short-lived upload token.
fn mint_token(
    client: &Client,
    config: &HttpConfig,
    base: &Url,
    identity: &Secret,
) -> Result<Secret, CredentialError> {
    let mint_url = base
        .join("_/oidc/mint-token")
        .expect("a valid relative URL");
    let body = serde_json::json!({ "token": identity.expose() }).to_string();
    let response = send_with_retry(
        config,
        &mint_url,
        || {
            client
                .post(mint_url.clone())
                .header("Content-Type", "application/json")
                .body(body.clone())
        },
        |_, _, _| {},
    )?;
    let status = response.status().as_u16();
    let answer = json_of(response).unwrap_or_default();
    if let Some(token) = answer
        .get("token")
        .and_then(|t| t.as_str())
        .filter(|_| (200..300).contains(&status))
    {
        return Ok(Secret::new(token));
    }
    Err(CredentialError::Exchange {
        step: "the index refused the identity token",
        detail: format!(" (status {status}) {}", refusal_reasons(&answer))
            .trim_end()
            .to_owned(),
        hint: "register this repository and workflow as a trusted publisher of the project on the index",
    })
}

/// The index's `message` and `errors` (`code: description`) of a refused mint request.
fn refusal_reasons(answer: &serde_json::Value) -> String {
    let reasons: Vec<String> = answer
        .get("errors")
        .and_then(|e| e.as_array())
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let code = e.get("code").and_then(|c| c.as_str()).unwrap_or_default();
            let description = e
                .get("description")
                .and_then(|d| d.as_str())
                .unwrap_or_default();
            (!code.is_empty() || !description.is_empty()).then(|| format!("{code}: {description}"))
        })
        .collect();
    let message = answer
        .get("message")
        .and_then(|m| m.as_str())
        .unwrap_or_default();
    format!("{message} {}", reasons.join("; "))
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

    fn args() -> UploadArgs {
        use clap::Parser;
        crate::Cli::parse_from(["publish-pypi", "dist/x.whl"]).upload
    }

    #[test]
    fn the_original_pipelines_variables_come_first_after_flags() {
        let env = Env::from_pairs([
            ("PYPI_LOGIN", "clk"),
            ("PYPI_PASSWORD", "pw1"),
            ("TWINE_USERNAME", "other"),
            ("TWINE_PASSWORD", "pw2"),
        ]);
        let credentials = configured(&args(), &env).unwrap().unwrap();
        assert_eq!(credentials.username, "clk");
        assert_eq!(credentials.password.expose(), "pw1");
        let mut with_flags = args();
        with_flags.username = Some("flag".into());
        with_flags.password = Some("pw0".into());
        assert_eq!(
            configured(&with_flags, &env).unwrap().unwrap().username,
            "flag"
        );
    }

    #[test]
    fn a_token_alone_means_the_token_user() {
        let env = Env::from_pairs([("TWINE_PASSWORD", "pypi-AgEIcHlwaS5vcmc")]);
        let credentials = configured(&args(), &env).unwrap().unwrap();
        assert_eq!(credentials.username, TOKEN_USER);
        let env = Env::from_pairs([("PYPI_PASSWORD", "hunter2")]);
        let error = configured(&args(), &env).unwrap_err();
        assert!(matches!(error, CredentialError::PasswordWithoutUser { .. }));
        assert!(!error.to_string().contains("hunter2"));
        let env = Env::from_pairs([("PYPI_LOGIN", "me")]);
        assert!(matches!(
            configured(&args(), &env).unwrap_err(),
            CredentialError::UserWithoutPassword { .. }
        ));
        assert!(configured(&args(), &Env::default()).unwrap().is_none());
    }

    #[test]
    fn hints_are_data_not_message_text() {
        let error = CredentialError::Missing {
            url: "https://upload.pypi.org/legacy/".to_owned(),
        };
        assert_eq!(
            error.to_string(),
            "no credentials for https://upload.pypi.org/legacy/"
        );
        assert!(
            error
                .hint()
                .unwrap()
                .contains("PYPI_LOGIN and PYPI_PASSWORD")
        );
        let error = CredentialError::PasswordWithoutUser {
            origin: Source::Twine,
        };
        assert_eq!(
            error.to_string(),
            "a password is set (TWINE_USERNAME/TWINE_PASSWORD) but no user name, and it is not an API token"
        );
        assert_eq!(error.exit_status(), ExitStatus::Usage);
    }

    #[test]
    fn oidc_endpoints_live_on_the_api_host() {
        let base = oidc_base(&Url::parse("https://upload.pypi.org/legacy/").unwrap());
        assert_eq!(base.as_str(), "https://pypi.org/");
        let base = oidc_base(&Url::parse("http://127.0.0.1:9/legacy/").unwrap());
        assert_eq!(base.as_str(), "http://127.0.0.1:9/");
    }
}
