//! The one home of "this CI job's Sigstore identity": the flags that say which Sigstore
//! instance signs and which trust root checks what it signed, and the job's ambient
//! OIDC identity token with the audience Fulcio wants (`sigstore`). GitHub Actions hands
//! a token out on request (`ACTIONS_ID_TOKEN_REQUEST_URL` with `audience=sigstore`, a
//! request of its own beside trusted publishing's); GitLab CI puts it in the variable the
//! job declares (`id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore`), as sigstore-python's
//! `detect_credential` reads them.
//!
//! A step flattens [`SigstoreArgs`] into its parser, asks [`AmbientIdentity::detect`]
//! whether the job has an identity at all, and [`AmbientIdentity::token`] for the token
//! itself, just before it signs (tokens live minutes). Every secret met on the way is
//! handed to the caller's `register` first, to be masked. [`SigstoreArgs::services`] and
//! [`SigstoreArgs::trust_root`] are where to sign and what to verify with.

use std::path::{Path, PathBuf};

use custody_attest::sign::Services;
use custody_attest::{AttestError, TrustRoot};
use custody_ci::{Env, Provider, vars};
use custody_http::{Client, HttpConfig, HttpError, Secret, Url, send_with_retry};
use custody_output::ExitStatus;
use thiserror::Error;

use crate::Diagnose;

/// The Fulcio URL the flag or this variable names (tests and the action point it at a stack).
pub const CUSTODY_SIGSTORE_FULCIO_URL: &str = "CUSTODY_SIGSTORE_FULCIO_URL";
/// The Rekor URL the flag or this variable names.
pub const CUSTODY_SIGSTORE_REKOR_URL: &str = "CUSTODY_SIGSTORE_REKOR_URL";
/// A Sigstore `trusted_root.json` to verify with instead of the public-good instance's.
pub const CUSTODY_SIGSTORE_TRUST_ROOT: &str = "CUSTODY_SIGSTORE_TRUST_ROOT";
/// The variable GitLab CI jobs declare for the Sigstore identity token, by default (the
/// name sigstore-python reads).
pub const GITLAB_SIGSTORE_TOKEN_VAR: &str = "SIGSTORE_ID_TOKEN";
/// The audience Fulcio accepts.
pub const SIGSTORE_AUDIENCE: &str = "sigstore";
/// The public-good instance's certificate authority.
pub const PUBLIC_GOOD_FULCIO_URL: &str = "https://fulcio.sigstore.dev";
/// The public-good instance's transparency log.
pub const PUBLIC_GOOD_REKOR_URL: &str = "https://rekor.sigstore.dev";
/// The staging instance's certificate authority.
pub const STAGING_FULCIO_URL: &str = "https://fulcio.sigstage.dev";
/// The staging instance's transparency log.
pub const STAGING_REKOR_URL: &str = "https://rekor.sigstage.dev";

/// Which Sigstore instance signs, and what verifies its signatures. Flatten into a
/// step's parser with `#[command(flatten)] sigstore: SigstoreArgs`.
// Doc comments are the --help text: plain words and URLs, not Markdown.
#[allow(clippy::doc_markdown)]
#[derive(Debug, Clone, clap::Args)]
pub struct SigstoreArgs {
    /// The Sigstore certificate authority (Fulcio) that certifies this job's identity.
    #[arg(
        long,
        value_name = "URL",
        env = CUSTODY_SIGSTORE_FULCIO_URL,
        default_value = PUBLIC_GOOD_FULCIO_URL
    )]
    pub sigstore_fulcio_url: Url,
    /// The Sigstore transparency log (Rekor) every signature is recorded in.
    #[arg(
        long,
        value_name = "URL",
        env = CUSTODY_SIGSTORE_REKOR_URL,
        default_value = PUBLIC_GOOD_REKOR_URL
    )]
    pub sigstore_rekor_url: Url,
    #[command(flatten)]
    pub trust: TrustRootArgs,
    /// GitLab CI: the variable holding the job's Sigstore identity token, declared in the
    /// job as `id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore`.
    #[arg(long, value_name = "VAR", default_value = GITLAB_SIGSTORE_TOKEN_VAR)]
    pub sigstore_id_token_var: String,
}

/// Which Sigstore trust root verifies signatures. Part of [`SigstoreArgs`]; a step that
/// only verifies flattens it alone (`#[command(flatten)] trust: TrustRootArgs`).
// Doc comments are the --help text: plain words and file names, not Markdown.
#[allow(clippy::doc_markdown)]
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TrustRootArgs {
    /// The Sigstore trusted root (trusted_root.json) signatures are verified against: a
    /// refreshed public-good root, or a private instance's. Default: the public-good
    /// instance's, shipped with custody.
    #[arg(long, value_name = "FILE", env = CUSTODY_SIGSTORE_TRUST_ROOT)]
    pub sigstore_trust_root: Option<PathBuf>,
    /// Use Sigstore's staging instance: its root (shipped with custody) verifies, and its
    /// Fulcio and Rekor sign unless --sigstore-fulcio-url / --sigstore-rekor-url say
    /// otherwise.
    #[arg(long)]
    pub sigstore_staging: bool,
}

impl TrustRootArgs {
    /// The root chosen: the file given (relative to `cwd`), the staging root, or the
    /// public-good root. A file and staging together are a usage error, whichever of
    /// them came from the environment.
    pub fn load(&self, cwd: &Path) -> Result<TrustRoot, TrustRootError> {
        match (&self.sigstore_trust_root, self.sigstore_staging) {
            (Some(path), true) => Err(TrustRootError::Both {
                file: path.display().to_string(),
            }),
            (Some(path), false) => TrustRoot::from_file(&cwd.join(path))
                .map_err(|error| TrustRootError::Unusable(Box::new(error))),
            (None, true) => Ok(TrustRoot::staging()),
            (None, false) => Ok(TrustRoot::public_good()),
        }
    }
}

impl SigstoreArgs {
    /// The Fulcio and Rekor to sign with (without a trailing slash: the clients append
    /// their paths); staging's when `--sigstore-staging` leaves them at their defaults.
    pub fn services(&self) -> Services {
        let pick = |url: &Url, default: &str, staging: &str| {
            let url = url.as_str().trim_end_matches('/');
            if self.trust.sigstore_staging && url == default {
                staging.to_owned()
            } else {
                url.to_owned()
            }
        };
        Services::new(
            pick(
                &self.sigstore_fulcio_url,
                PUBLIC_GOOD_FULCIO_URL,
                STAGING_FULCIO_URL,
            ),
            pick(
                &self.sigstore_rekor_url,
                PUBLIC_GOOD_REKOR_URL,
                STAGING_REKOR_URL,
            ),
        )
    }

    /// The trust root signatures are verified against: the file given (relative to
    /// `cwd`), else the public-good root, which is refused when another Fulcio signs
    /// (nothing it signs would verify).
    pub fn trust_root(&self, cwd: &Path) -> Result<TrustRoot, TrustRootError> {
        let default_fulcio =
            self.sigstore_fulcio_url.as_str().trim_end_matches('/') == PUBLIC_GOOD_FULCIO_URL;
        if self.trust.sigstore_trust_root.is_none() && !default_fulcio {
            return Err(TrustRootError::Missing {
                fulcio: custody_http::display_url(&self.sigstore_fulcio_url),
            });
        }
        self.trust.load(cwd)
    }
}

/// Why there is no trust root to verify with.
#[derive(Debug, Error)]
pub enum TrustRootError {
    #[error(transparent)]
    Unusable(Box<AttestError>),
    #[error(
        "no trust root for the Sigstore instance at `{fulcio}`: what it signs cannot be verified"
    )]
    Missing { fulcio: String },
    #[error("both a trust root file (`{file}`) and --sigstore-staging are given")]
    Both { file: String },
}

impl Diagnose for TrustRootError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Unusable(error) => error.exit_status(),
            Self::Missing { .. } | Self::Both { .. } => ExitStatus::Usage,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::Unusable(error) => Diagnose::hint(&**error),
            Self::Missing { .. } => Some(format!(
                "pass that instance's trusted_root.json with --sigstore-trust-root (or {CUSTODY_SIGSTORE_TRUST_ROOT})"
            )),
            Self::Both { .. } => Some(format!(
                "give one of them; {CUSTODY_SIGSTORE_TRUST_ROOT} may be set in the job's environment"
            )),
        }
    }
}

/// Where this job's Sigstore identity token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmbientIdentity {
    /// Requested from the Actions runtime with the `sigstore` audience.
    GitHub {
        request_url: String,
        request_token: Secret,
    },
    /// Given by the job in a variable (its audience fixed by the job's `id_tokens:`).
    GitLab { variable: String, token: Secret },
}

impl AmbientIdentity {
    /// The identity this job can get a Sigstore token from, if any: GitHub's token
    /// endpoint first, then GitLab's `token_var` (blank counts as unset).
    pub fn detect(env: &Env, token_var: &str) -> Option<Self> {
        if let Some(request_url) = env.get(vars::ACTIONS_ID_TOKEN_REQUEST_URL) {
            return Some(Self::GitHub {
                request_url: request_url.to_owned(),
                request_token: Secret::new(
                    env.get(vars::ACTIONS_ID_TOKEN_REQUEST_TOKEN)
                        .unwrap_or_default(),
                ),
            });
        }
        env.get(token_var)
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .map(|token| Self::GitLab {
                variable: token_var.to_owned(),
                token: Secret::new(token),
            })
    }

    /// The error for a job without an identity, with the fix for the CI it runs on.
    pub fn missing(provider: Provider, token_var: &str) -> SigstoreTokenError {
        SigstoreTokenError::NoIdentity {
            provider,
            variable: token_var.to_owned(),
        }
    }

    /// The identity token, fresh from the Actions runtime on GitHub, from the variable
    /// on GitLab. `register` is told each secret as it appears (the runtime's request
    /// token, then the identity token), before anything can fail with it in scope.
    pub fn token(
        &self,
        client: &Client,
        config: &HttpConfig,
        register: &mut dyn FnMut(&str),
    ) -> Result<Secret, SigstoreTokenError> {
        self.token_for(client, config, SIGSTORE_AUDIENCE, register)
    }

    /// The identity token with `audience` (on GitHub; GitLab's has the audience the job
    /// declared): the one request every OIDC use of the job makes — trusted publishing
    /// asks for the index's audience, signing for `sigstore`.
    pub fn token_for(
        &self,
        client: &Client,
        config: &HttpConfig,
        audience: &str,
        register: &mut dyn FnMut(&str),
    ) -> Result<Secret, SigstoreTokenError> {
        let token = match self {
            Self::GitHub {
                request_url,
                request_token,
            } => {
                register(request_token.expose());
                github_token(client, config, request_url, request_token, audience)?
            }
            Self::GitLab { token, .. } => token.clone(),
        };
        register(token.expose());
        Ok(token)
    }

    /// Whether a fresh token can be asked for at any time (GitHub), or the job's one is
    /// all there is (GitLab).
    pub fn renewable(&self) -> bool {
        matches!(self, Self::GitHub { .. })
    }
}

/// Why there is no Sigstore identity token. No message ever carries a token.
#[derive(Debug, Error)]
pub enum SigstoreTokenError {
    #[error(
        "this job has no Sigstore identity: neither `ACTIONS_ID_TOKEN_REQUEST_URL` (GitHub Actions) nor `{variable}` (GitLab CI) is set"
    )]
    NoIdentity {
        provider: Provider,
        variable: String,
    },
    #[error("`ACTIONS_ID_TOKEN_REQUEST_URL` is not a URL")]
    BadRequestUrl,
    #[error(
        "`ACTIONS_ID_TOKEN_REQUEST_URL` did not issue an identity token for audience `{audience}` (status {status}{reason})"
    )]
    Refused {
        audience: String,
        status: u16,
        reason: String,
    },
    #[error("cannot request an identity token from `ACTIONS_ID_TOKEN_REQUEST_URL`")]
    Http(#[source] HttpError),
}

/// The fix on GitHub Actions.
const GITHUB_FIX: &str = "add `permissions: id-token: write` to the publishing job";

impl SigstoreTokenError {
    /// The fix, as data.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::NoIdentity { provider, variable } => Some(match provider {
                Provider::GithubActions => GITHUB_FIX.to_owned(),
                Provider::GitlabCi => {
                    format!("declare the token in the job: `id_tokens: {variable}: aud: sigstore`")
                }
                Provider::AzurePipelines | Provider::None => format!(
                    "Sigstore signing needs a CI identity: GitHub Actions with `permissions: id-token: write`, or GitLab CI with `id_tokens: {variable}: aud: sigstore`"
                ),
            }),
            Self::BadRequestUrl | Self::Refused { .. } => Some(GITHUB_FIX.to_owned()),
            Self::Http(error) => error.hint(),
        }
    }
}

impl Diagnose for SigstoreTokenError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Http(error) => error.exit_status(),
            _ => ExitStatus::Environment,
        }
    }

    fn hint(&self) -> Option<String> {
        SigstoreTokenError::hint(self)
    }
}

/// The job's identity token for `audience`, from the Actions runtime.
fn github_token(
    client: &Client,
    config: &HttpConfig,
    request_url: &str,
    request_token: &Secret,
    audience: &str,
) -> Result<Secret, SigstoreTokenError> {
    let mut url = Url::parse(request_url).map_err(|_| SigstoreTokenError::BadRequestUrl)?;
    url.query_pairs_mut().append_pair("audience", audience);
    let response = send_with_retry(
        config,
        &url,
        || {
            client.get(url.clone()).header(
                "Authorization",
                format!("bearer {}", request_token.expose()),
            )
        },
        |_, _, _| {},
    )
    .map_err(SigstoreTokenError::Http)?;
    let status = response.status().as_u16();
    let body = response.text().unwrap_or_default();
    let value = serde_json::from_str::<serde_json::Value>(&body).ok();
    if let Some(token) = value
        .as_ref()
        .and_then(|v| v.get("value"))
        .and_then(|v| v.as_str())
        .filter(|token| !token.is_empty())
    {
        return Ok(Secret::new(token));
    }
    let message = value
        .as_ref()
        .and_then(|v| v.get("message"))
        .and_then(|m| m.as_str())
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    Err(SigstoreTokenError::Refused {
        audience: audience.to_owned(),
        status,
        reason: message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_wins_then_the_declared_gitlab_variable() {
        let env = Env::from_pairs([("SIGSTORE_ID_TOKEN", " eyJ.x.y \n")]);
        assert_eq!(
            AmbientIdentity::detect(&env, GITLAB_SIGSTORE_TOKEN_VAR),
            Some(AmbientIdentity::GitLab {
                variable: "SIGSTORE_ID_TOKEN".into(),
                token: Secret::new("eyJ.x.y"),
            })
        );
        assert_eq!(AmbientIdentity::detect(&env, "OTHER"), None);
        let env = Env::from_pairs([
            ("SIGSTORE_ID_TOKEN", "eyJ.x.y"),
            ("ACTIONS_ID_TOKEN_REQUEST_URL", "http://127.0.0.1:9/t"),
        ]);
        assert!(matches!(
            AmbientIdentity::detect(&env, GITLAB_SIGSTORE_TOKEN_VAR),
            Some(AmbientIdentity::GitHub { .. })
        ));
        let env = Env::from_pairs([("SIGSTORE_ID_TOKEN", "  ")]);
        assert_eq!(
            AmbientIdentity::detect(&env, GITLAB_SIGSTORE_TOKEN_VAR),
            None
        );
    }

    #[test]
    fn a_missing_identity_names_the_fix_for_the_ci_it_runs_on() {
        let hint = |provider| {
            AmbientIdentity::missing(provider, "SIGSTORE_ID_TOKEN")
                .hint()
                .unwrap()
        };
        assert_eq!(
            hint(Provider::GithubActions),
            "add `permissions: id-token: write` to the publishing job"
        );
        assert_eq!(
            hint(Provider::GitlabCi),
            "declare the token in the job: `id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore`"
        );
        assert!(hint(Provider::None).contains("GitHub Actions"));
        let error = AmbientIdentity::missing(Provider::GitlabCi, "MY_TOKEN");
        assert!(
            error.to_string().contains("`MY_TOKEN` (GitLab CI)"),
            "{error}"
        );
        assert_eq!(error.exit_status(), ExitStatus::Environment);
    }

    fn args(extra: &[&str]) -> SigstoreArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            sigstore: SigstoreArgs,
        }
        let mut argv = vec!["step"];
        argv.extend_from_slice(extra);
        Cli::parse_from(argv).sigstore
    }

    #[test]
    fn a_private_fulcio_needs_its_trust_root() {
        let cwd = Path::new(env!("CARGO_MANIFEST_DIR"));
        let default = args(&[]);
        assert_eq!(default.services(), Services::public_good());
        assert!(default.trust_root(cwd).is_ok());
        let private = args(&["--sigstore-fulcio-url", "http://127.0.0.1:9/"]);
        assert_eq!(private.services().fulcio_url, "http://127.0.0.1:9");
        let error = private.trust_root(cwd).unwrap_err();
        assert_eq!(
            error.to_string(),
            "no trust root for the Sigstore instance at `http://127.0.0.1:9/`: what it signs cannot be verified"
        );
        assert_eq!(error.exit_status(), ExitStatus::Usage);
        let missing = args(&["--sigstore-trust-root", "no-such-root.json"]);
        let error = missing.trust_root(cwd).unwrap_err();
        assert!(matches!(error, TrustRootError::Unusable(_)), "{error}");
        assert_eq!(error.exit_status(), ExitStatus::Input);
    }

    #[test]
    fn staging_picks_its_root_and_services_and_excludes_a_root_file() {
        let cwd = Path::new(env!("CARGO_MANIFEST_DIR"));
        let staging = args(&["--sigstore-staging"]);
        assert_eq!(
            staging.services(),
            Services::new(STAGING_FULCIO_URL, STAGING_REKOR_URL)
        );
        let root = staging.trust_root(cwd).unwrap();
        assert_eq!(root.source(), &custody_attest::TrustSource::Staging);
        let both = args(&["--sigstore-staging", "--sigstore-trust-root", "root.json"]);
        let error = both.trust_root(cwd).unwrap_err();
        assert!(matches!(error, TrustRootError::Both { .. }), "{error}");
        assert_eq!(error.exit_status(), ExitStatus::Usage);
        let private = args(&[
            "--sigstore-staging",
            "--sigstore-fulcio-url",
            "http://127.0.0.1:9",
        ]);
        assert_eq!(private.services().fulcio_url, "http://127.0.0.1:9");
        assert_eq!(private.services().rekor_url, STAGING_REKOR_URL);
    }

    #[test]
    fn a_gitlab_token_is_registered_before_it_is_returned() {
        let identity = AmbientIdentity::GitLab {
            variable: "SIGSTORE_ID_TOKEN".into(),
            token: Secret::new("eyJ.secret.sig"),
        };
        let config = HttpConfig::new("test");
        let client = custody_http::client(&config).unwrap();
        let mut seen = Vec::new();
        let token = identity
            .token(&client, &config, &mut |s| seen.push(s.to_owned()))
            .unwrap();
        assert_eq!(token.expose(), "eyJ.secret.sig");
        assert_eq!(seen, ["eyJ.secret.sig"]);
    }

    #[test]
    fn an_unreachable_actions_runtime_is_an_environment_failure_without_the_token() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let identity = AmbientIdentity::GitHub {
            request_url: format!("http://127.0.0.1:{port}/token?api-version=2.0"),
            request_token: Secret::new("runtime-request-token"),
        };
        let mut config = HttpConfig::new("test");
        config.retries = 0;
        let client = custody_http::client(&config).unwrap();
        let mut seen = Vec::new();
        let error = identity
            .token(&client, &config, &mut |s| seen.push(s.to_owned()))
            .unwrap_err();
        assert_eq!(seen, ["runtime-request-token"]);
        assert!(matches!(error, SigstoreTokenError::Http(_)), "{error:?}");
        assert_eq!(error.exit_status(), ExitStatus::Environment);
        let chain = format!("{error} {:?}", std::error::Error::source(&error));
        assert!(!chain.contains("runtime-request-token"), "{chain}");
    }
}
