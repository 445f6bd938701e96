//! Who uploads: flags, then the original pipeline's `PYPI_LOGIN`/`PYPI_PASSWORD`, then
//! twine's `TWINE_USERNAME`/`TWINE_PASSWORD`; an API token alone means `__token__`. Without
//! any, on GitHub Actions with `id-token: write`, trusted publishing exchanges the job's
//! OIDC token for a short-lived upload token (`/_/oidc/audience`, `/_/oidc/mint-token`).

use custody_ci::{Env, vars};
use custody_cli::Diagnose;
use custody_http::{Client, HttpConfig, HttpError, Secret, Url, display_url, send_with_retry};
use custody_output::ExitStatus;
use thiserror::Error;

use crate::{TrustedPublishing, UploadArgs};

/// The user name PyPI expects with an API token.
pub(crate) const TOKEN_USER: &str = "__token__";

#[derive(Debug, Clone)]
pub(crate) struct Credentials {
    pub username: String,
    pub password: Secret,
    /// Where they came from, for messages (`PYPI_LOGIN/PYPI_PASSWORD`, `trusted publishing`).
    pub source: String,
}

#[derive(Debug, Error)]
pub(crate) enum CredentialError {
    #[error(
        "no credentials for {url}\nhint: set PYPI_LOGIN and PYPI_PASSWORD (or TWINE_USERNAME and TWINE_PASSWORD; for an API token the user is `__token__`), or use trusted publishing on GitHub Actions with `permissions: id-token: write`"
    )]
    Missing { url: String },
    #[error(
        "a user name is set ({origin}) but no password\nhint: set the matching password variable, or pass --password"
    )]
    UserWithoutPassword { origin: String },
    #[error(
        "a password is set ({origin}) but no user name, and it is not an API token\nhint: set the user name too (PYPI_LOGIN or TWINE_USERNAME); API tokens start with `pypi-` and use the user `__token__`"
    )]
    PasswordWithoutUser { origin: String },
    #[error(
        "trusted publishing needs a GitHub Actions job with `permissions: id-token: write`; ACTIONS_ID_TOKEN_REQUEST_URL is not set\nhint: add `permissions: id-token: write` to the job, or give credentials (PYPI_LOGIN/PYPI_PASSWORD)"
    )]
    NoIdentityToken,
    #[error("trusted publishing failed: {step}{detail}\nhint: {hint}")]
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
}

/// Credentials given by flag or environment, if any.
pub(crate) fn configured(
    args: &UploadArgs,
    env: &Env,
) -> Result<Option<Credentials>, CredentialError> {
    let sources = [
        (
            "--username/--password",
            args.username.clone(),
            args.password.clone(),
        ),
        (
            "PYPI_LOGIN/PYPI_PASSWORD",
            env.get(vars::PYPI_LOGIN).map(str::to_owned),
            env.get(vars::PYPI_PASSWORD).map(str::to_owned),
        ),
        (
            "TWINE_USERNAME/TWINE_PASSWORD",
            env.get(vars::TWINE_USERNAME).map(str::to_owned),
            env.get(vars::TWINE_PASSWORD).map(str::to_owned),
        ),
    ];
    for (source, username, password) in sources {
        let username = username.filter(|u| !u.trim().is_empty());
        let password = password.filter(|p| !p.is_empty());
        match (username, password) {
            (None, None) => {}
            (Some(username), Some(password)) => {
                return Ok(Some(Credentials {
                    username: username.trim().to_owned(),
                    password: Secret::new(password),
                    source: source.to_owned(),
                }));
            }
            (None, Some(password)) if password.starts_with("pypi-") => {
                return Ok(Some(Credentials {
                    username: TOKEN_USER.to_owned(),
                    password: Secret::new(password),
                    source: source.to_owned(),
                }));
            }
            (None, Some(_)) => {
                return Err(CredentialError::PasswordWithoutUser {
                    origin: source.to_owned(),
                });
            }
            (Some(_), None) => {
                return Err(CredentialError::UserWithoutPassword {
                    origin: source.to_owned(),
                });
            }
        }
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

    // 1. The audience the index wants in the identity token.
    let audience_url = base.join("_/oidc/audience").expect("a valid relative URL");
    let response = send_with_retry(
        config,
        &audience_url,
        || client.get(audience_url.clone()),
        |_, _, _| {},
    )?;
    let status = response.status().as_u16();
    if status == 404 {
        return Err(CredentialError::Exchange {
            step: "the index does not support trusted publishing",
            detail: format!(" ({} answered 404)", display_url(&audience_url)),
            hint: "use an API token instead (PYPI_LOGIN=__token__, PYPI_PASSWORD=pypi-...)",
        });
    }
    let audience = json_of(response)
        .and_then(|v| {
            v.get("audience")
                .and_then(|a| a.as_str())
                .map(str::to_owned)
        })
        .ok_or(CredentialError::Exchange {
            step: "the index gave no OIDC audience",
            detail: format!(" (from {})", display_url(&audience_url)),
            hint: "check --repository-url",
        })?;

    // 2. The job's identity token, from the Actions runtime.
    let mut token_url = Url::parse(request_url).map_err(|_| CredentialError::NoIdentityToken)?;
    token_url
        .query_pairs_mut()
        .append_pair("audience", &audience);
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
    let identity = json_of(response)
        .and_then(|v| v.get("value").and_then(|a| a.as_str()).map(str::to_owned))
        .ok_or(CredentialError::Exchange {
            step: "GitHub did not issue an identity token",
            detail: format!(" (status {status})"),
            hint: "the job needs `permissions: id-token: write`",
        })?;
    let identity = Secret::new(identity);
    register(identity.expose());

    // 3. The identity token for a short-lived upload token.
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
        register(token);
        return Ok(Credentials {
            username: TOKEN_USER.to_owned(),
            password: Secret::new(token),
            source: "trusted publishing".to_owned(),
        });
    }
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
    Err(CredentialError::Exchange {
        step: "the index refused the identity token",
        detail: format!(" (status {status}) {message} {}", reasons.join("; "))
            .trim_end()
            .to_owned(),
        hint: "register this repository and workflow as a trusted publisher of the project on the index",
    })
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
    fn oidc_endpoints_live_on_the_api_host() {
        let base = oidc_base(&Url::parse("https://upload.pypi.org/legacy/").unwrap());
        assert_eq!(base.as_str(), "https://pypi.org/");
        let base = oidc_base(&Url::parse("http://127.0.0.1:9/legacy/").unwrap());
        assert_eq!(base.as_str(), "http://127.0.0.1:9/");
    }
}
