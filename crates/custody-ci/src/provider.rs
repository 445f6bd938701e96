//! Which CI system runs the step: detected from the variables each system sets, or named
//! by `CUSTODY_CI_PROVIDER`, whose value is parsed here so a typo fails loudly instead of
//! quietly meaning "no CI".

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::env::Env;
use crate::vars;

/// The CI system a step runs under.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Provider {
    AzurePipelines,
    GithubActions,
    GitlabCi,
    /// A terminal or a CI system we do not know.
    #[default]
    None,
}

impl Provider {
    /// Every provider, in the order detection tries them.
    pub const ALL: [Self; 4] = [
        Self::AzurePipelines,
        Self::GithubActions,
        Self::GitlabCi,
        Self::None,
    ];

    /// The name used in `--json` and manifests (`azure-pipelines`, ...).
    pub fn id(self) -> &'static str {
        match self {
            Self::AzurePipelines => "azure-pipelines",
            Self::GithubActions => "github-actions",
            Self::GitlabCi => "gitlab-ci",
            Self::None => "none",
        }
    }

    /// The short name `CUSTODY_CI_PROVIDER` also accepts (`azure`, `github`, ...).
    pub fn short_name(self) -> &'static str {
        match self {
            Self::AzurePipelines => "azure",
            Self::GithubActions => "github",
            Self::GitlabCi => "gitlab",
            Self::None => "none",
        }
    }

    /// The provider the CI system's own variables name: the first of Azure
    /// (`TF_BUILD`), GitHub (`GITHUB_ACTIONS`) and GitLab (`GITLAB_CI`) that is set.
    /// Ignores `CUSTODY_CI_PROVIDER`; [`crate::CiContext::detect`] honours it.
    pub fn from_variables(env: &Env) -> Self {
        if env.is_true(vars::TF_BUILD) {
            Self::AzurePipelines
        } else if env.is_true(vars::GITHUB_ACTIONS) {
            Self::GithubActions
        } else if env.is_true(vars::GITLAB_CI) {
            Self::GitlabCi
        } else {
            Self::None
        }
    }

    /// The provider `CUSTODY_CI_PROVIDER` names, or what the variables say when it is
    /// unset.
    pub fn detect(env: &Env) -> Result<Self, UnknownProvider> {
        match env.get(vars::CUSTODY_CI_PROVIDER) {
            Some(value) => value.parse(),
            None => Ok(Self::from_variables(env)),
        }
    }
}

/// Accepts the short and the long name of each provider, in any case (`azure`,
/// `Azure-Pipelines`, `github`, `github-actions`, `gitlab`, `gitlab-ci`, `none`).
impl FromStr for Provider {
    type Err = UnknownProvider;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let wanted = value.trim();
        Self::ALL
            .into_iter()
            .find(|provider| {
                wanted.eq_ignore_ascii_case(provider.id())
                    || wanted.eq_ignore_ascii_case(provider.short_name())
            })
            .ok_or_else(|| UnknownProvider {
                value: value.to_owned(),
            })
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AzurePipelines => "Azure Pipelines",
            Self::GithubActions => "GitHub Actions",
            Self::GitlabCi => "GitLab CI",
            Self::None => "no CI",
        })
    }
}

/// `CUSTODY_CI_PROVIDER` holds a value that names no provider. Wrong usage: the step
/// would otherwise run as if outside CI and write none of its CI outputs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{name}={value}` names no CI system: expected one of {accepted}",
    name = vars::CUSTODY_CI_PROVIDER,
    accepted = short_names()
)]
pub struct UnknownProvider {
    /// The value as it was set.
    pub value: String,
}

impl UnknownProvider {
    /// The fix, for the `hint:` line.
    pub fn hint(&self) -> String {
        format!(
            "the long names {} work too; unset `{}` to detect the CI system from its own variables",
            long_names(),
            vars::CUSTODY_CI_PROVIDER,
        )
    }
}

/// `` `azure`, `github`, `gitlab`, `none` ``.
fn short_names() -> String {
    quoted(Provider::ALL.into_iter().map(Provider::short_name))
}

/// The long names that differ from the short ones: `` `azure-pipelines`, ... ``.
fn long_names() -> String {
    quoted(
        Provider::ALL
            .into_iter()
            .filter(|provider| provider.id() != provider.short_name())
            .map(Provider::id),
    )
}

fn quoted(names: impl Iterator<Item = &'static str>) -> String {
    names
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_names_in_any_case() {
        for (value, provider) in [
            ("azure", Provider::AzurePipelines),
            ("azure-pipelines", Provider::AzurePipelines),
            ("Azure", Provider::AzurePipelines),
            ("AZURE-PIPELINES", Provider::AzurePipelines),
            ("github", Provider::GithubActions),
            ("GitHub-Actions", Provider::GithubActions),
            ("gitlab", Provider::GitlabCi),
            ("gitlab-ci", Provider::GitlabCi),
            ("GitLab", Provider::GitlabCi),
            ("none", Provider::None),
            ("None", Provider::None),
        ] {
            assert_eq!(value.parse::<Provider>(), Ok(provider), "{value}");
        }
    }

    #[test]
    fn an_unknown_name_is_an_error_naming_the_accepted_ones() {
        let error = "bogus".parse::<Provider>().unwrap_err();
        assert_eq!(
            error,
            UnknownProvider {
                value: "bogus".to_owned()
            }
        );
        assert_eq!(
            error.to_string(),
            "`CUSTODY_CI_PROVIDER=bogus` names no CI system: expected one of `azure`, `github`, `gitlab`, `none`"
        );
        let hint = error.hint();
        for name in ["azure-pipelines", "github-actions", "gitlab-ci"] {
            assert!(hint.contains(&format!("`{name}`")), "{hint}");
        }
        assert!(!error.to_string().contains("hint"), "the hint is data");
    }

    #[test]
    fn the_override_wins_over_the_variables() {
        let env = Env::from_pairs([("GITHUB_ACTIONS", "true"), ("CUSTODY_CI_PROVIDER", "azure")]);
        assert_eq!(Provider::detect(&env), Ok(Provider::AzurePipelines));
        assert_eq!(Provider::from_variables(&env), Provider::GithubActions);
        let env = Env::from_pairs([("GITHUB_ACTIONS", "true"), ("CUSTODY_CI_PROVIDER", "")]);
        assert_eq!(
            Provider::detect(&env),
            Ok(Provider::GithubActions),
            "empty counts as unset"
        );
        let env = Env::from_pairs([("TF_BUILD", "True"), ("CUSTODY_CI_PROVIDER", "travis")]);
        assert_eq!(
            Provider::detect(&env),
            Err(UnknownProvider {
                value: "travis".to_owned()
            })
        );
    }
}
