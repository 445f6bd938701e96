//! Who uploads: flags, then the original pipeline's `PYPI_LOGIN`/`PYPI_PASSWORD`, then
//! twine's `TWINE_USERNAME`/`TWINE_PASSWORD`; an API token alone means `__token__`. Without
//! any, where the job can get an OIDC identity token (GitHub Actions with `id-token:
//! write`, GitLab CI with `id_tokens:`), trusted publishing (`crate::trusted`) exchanges
//! it for a short-lived upload token.

use std::fmt;
use std::time::Instant;

use custody_ci::{Env, SecretValue, vars};
use custody_cli::Diagnose;
use custody_http::{Client, HttpConfig, HttpError, Secret, Url, display_url};
use custody_output::ExitStatus;
use thiserror::Error;

use crate::trusted::{self, Provider, Renewal, TrustedError};
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
    /// Trusted publishing: how the short-lived token is replaced before it expires.
    pub renewal: Option<Renewal>,
}

impl Credentials {
    /// Replaces a trusted-publishing token once half its life is spent (call before
    /// each upload); `register` is told the new token, to mask it. Returns whether it
    /// was replaced; other credentials stay as they are.
    pub(crate) fn renew_if_due(
        &mut self,
        client: &Client,
        config: &HttpConfig,
        upload: &Url,
        register: &mut dyn FnMut(&str),
    ) -> Result<bool, CredentialError> {
        let Some(renewal) = self.renewal.as_mut().filter(|r| r.is_due(Instant::now())) else {
            return Ok(false);
        };
        self.password = renewal.renew(client, config, upload, register)?;
        Ok(true)
    }
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
pub(crate) const SET_CREDENTIALS: &str = "set PYPI_LOGIN and PYPI_PASSWORD (or TWINE_USERNAME and TWINE_PASSWORD; for an API token the user is `__token__`), or use trusted publishing (GitHub Actions: `permissions: id-token: write`; GitLab CI: `id_tokens: PYPI_ID_TOKEN: aud: pypi`)";

#[derive(Debug, Error)]
pub(crate) enum CredentialError {
    #[error("no credentials for {url}")]
    Missing { url: String },
    #[error("a user name is set ({origin}) but no password")]
    UserWithoutPassword { origin: Source },
    #[error("a password is set ({origin}) but no user name, and it is not an API token")]
    PasswordWithoutUser { origin: Source },
    /// Azure Pipelines leaves `$(NAME)` in place of a variable it does not define.
    #[error("{name} is `{text}`, an Azure Pipelines variable not defined for this run (not sent)")]
    Unexpanded { name: String, text: String },
    #[error(transparent)]
    Trusted(#[from] TrustedError),
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
            Self::Trusted(error) => error.exit_status(),
            Self::Missing { .. } | Self::Unexpanded { .. } => ExitStatus::Environment,
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
            Self::Unexpanded { .. } => {
                "define the variable as a secret of the pipeline (or its variable group) and map it into the step's `env:`; Azure gives no secrets to builds of pull requests from forks"
            }
            Self::Trusted(error) => return error.hint(),
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
    if let Some(credentials) = configured {
        return Ok(if args.dry_run {
            Identity::DryRun(DryRunIdentity::Configured(credentials))
        } else {
            Identity::Upload(credentials)
        });
    }
    let provider = trusted_provider(args, env)?;
    match (provider, args.dry_run) {
        (Some(_), true) => return Ok(Identity::DryRun(DryRunIdentity::WouldExchange)),
        (None, true) => return Ok(Identity::DryRun(DryRunIdentity::Missing)),
        (Some(provider), false) => {
            return trusted_publishing(client, config, upload_url, &provider, register)
                .map(Identity::Upload);
        }
        (None, false) => {}
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
    let from_env = |name: &'static str| (name, env.get(name));
    let sources = [
        (
            Source::Flags,
            ("--username", args.username.as_deref()),
            ("--password", args.password.as_deref()),
        ),
        (
            Source::Pypi,
            from_env(vars::PYPI_LOGIN),
            from_env(vars::PYPI_PASSWORD),
        ),
        (
            Source::Twine,
            from_env(vars::TWINE_USERNAME),
            from_env(vars::TWINE_PASSWORD),
        ),
    ];
    for (source, username, password) in sources {
        let username = given(username)?;
        let password = given(password)?;
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
            renewal: None,
        }));
    }
    Ok(None)
}

/// A credential as given, `None` when unset or blank; Azure's unexpanded `$(NAME)` is an
/// error, never a value (custody-ci's one detector, [`SecretValue`]).
fn given((name, value): (&str, Option<&str>)) -> Result<Option<String>, CredentialError> {
    match SecretValue::of(value) {
        SecretValue::Unexpanded { text } => Err(CredentialError::Unexpanded {
            name: name.to_owned(),
            text,
        }),
        other => Ok(other.into_value()),
    }
}

/// The identity provider to exchange with when no credentials are configured, if
/// trusted publishing applies: `auto` uses it when the job can get an identity token.
pub(crate) fn trusted_provider(
    args: &UploadArgs,
    env: &Env,
) -> Result<Option<Provider>, CredentialError> {
    let provider = Provider::detect(env, &args.id_token_var);
    match args.trusted_publishing {
        TrustedPublishing::Never => Ok(None),
        TrustedPublishing::Auto => Ok(provider),
        TrustedPublishing::Always => provider.map(Some).ok_or_else(|| {
            CredentialError::Trusted(TrustedError::NoIdentityToken {
                variable: args.id_token_var.clone(),
            })
        }),
    }
}

/// Exchanges the job's identity token for an upload token. `register` is told each
/// secret as it appears, to mask it.
pub(crate) fn trusted_publishing(
    client: &Client,
    config: &HttpConfig,
    upload: &Url,
    provider: &Provider,
    register: &mut dyn FnMut(&str),
) -> Result<Credentials, CredentialError> {
    let minted = trusted::exchange(client, config, upload, provider, register)?;
    Ok(Credentials {
        username: TOKEN_USER.to_owned(),
        renewal: Some(Renewal::new(provider.clone(), &minted)),
        password: minted.token,
        source: Source::TrustedPublishing,
    })
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
    fn trusted_publishing_always_needs_an_identity_token() {
        let mut always = args();
        always.trusted_publishing = TrustedPublishing::Always;
        let error = trusted_provider(&always, &Env::default()).unwrap_err();
        assert!(
            error.to_string().contains("PYPI_ID_TOKEN (GitLab CI)"),
            "{error}"
        );
        assert_eq!(error.exit_status(), ExitStatus::Environment);
        let env = Env::from_pairs([("PYPI_ID_TOKEN", "eyJ.a.b")]);
        assert!(trusted_provider(&always, &env).unwrap().is_some());
        let mut never = args();
        never.trusted_publishing = TrustedPublishing::Never;
        assert!(trusted_provider(&never, &env).unwrap().is_none());
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
}
