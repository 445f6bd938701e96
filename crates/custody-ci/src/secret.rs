//! Secrets read from the environment, in one place for every step that reads one: an
//! unset secret is easy to see, but on Azure Pipelines an undefined secret mapped into
//! `env:` arrives as the literal text of its macro (`$(CODECOV_TOKEN)`), which must never
//! be sent anywhere as if it were the secret.

use crate::env::Env;

/// What the environment holds for a secret.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretValue {
    /// A value (never printed: `Debug` hides it).
    Set(String),
    /// Unset, empty or blank.
    Missing,
    /// The unexpanded Azure Pipelines macro `$(NAME)`: the pipeline maps a variable that
    /// is not defined for this run (secrets are withheld from fork pull requests, too).
    Unexpanded {
        /// The macro as it arrived, `$(CODECOV_TOKEN)`.
        text: String,
    },
}

impl SecretValue {
    /// Classifies a value however it arrived (an environment variable, a flag).
    pub fn of(value: Option<&str>) -> Self {
        match value {
            None => Self::Missing,
            Some(value) if value.trim().is_empty() => Self::Missing,
            Some(value) if unexpanded_macro(value).is_some() => Self::Unexpanded {
                text: value.trim().to_owned(),
            },
            Some(value) => Self::Set(value.to_owned()),
        }
    }

    /// The secret, when there is a usable one.
    pub fn value(&self) -> Option<&str> {
        match self {
            Self::Set(value) => Some(value),
            Self::Missing | Self::Unexpanded { .. } => None,
        }
    }

    /// The secret, when there is a usable one.
    pub fn into_value(self) -> Option<String> {
        match self {
            Self::Set(value) => Some(value),
            Self::Missing | Self::Unexpanded { .. } => None,
        }
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Set(_) => f.write_str("Set(****)"),
            Self::Missing => f.write_str("Missing"),
            Self::Unexpanded { text } => f.debug_struct("Unexpanded").field("text", text).finish(),
        }
    }
}

/// The variable name when `value` is exactly an Azure Pipelines macro, `$(NAME)` (blanks
/// around it aside): what Azure leaves in place of a variable that is not defined.
/// Azure's names are letters, digits, `.`, `_` and `-`.
pub fn unexpanded_macro(value: &str) -> Option<&str> {
    let name = value.trim().strip_prefix("$(")?.strip_suffix(')')?;
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    valid.then_some(name)
}

impl Env {
    /// The secret in `name`, told apart from an unset one and from Azure's unexpanded
    /// macro (see [`SecretValue`]).
    pub fn secret(&self, name: &str) -> SecretValue {
        SecretValue::of(self.get(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unexpanded_azure_macro_is_no_secret() {
        let env = Env::from_pairs([
            ("CODECOV_TOKEN", "$(CODECOV_TOKEN)"),
            ("PYPI_PASSWORD", " $(secrets.pypi-token) "),
            ("TWINE_PASSWORD", "pypi-AgEIcHlwaS5vcmc"),
            ("BLANK", "  "),
        ]);
        assert_eq!(
            env.secret("CODECOV_TOKEN"),
            SecretValue::Unexpanded {
                text: "$(CODECOV_TOKEN)".into()
            }
        );
        assert_eq!(env.secret("CODECOV_TOKEN").value(), None);
        assert_eq!(env.secret("PYPI_PASSWORD").value(), None);
        assert_eq!(
            env.secret("TWINE_PASSWORD").value(),
            Some("pypi-AgEIcHlwaS5vcmc")
        );
        assert_eq!(env.secret("BLANK"), SecretValue::Missing);
        assert_eq!(env.secret("UNSET"), SecretValue::Missing);
    }

    #[test]
    fn only_a_whole_macro_counts() {
        assert_eq!(unexpanded_macro("$(CODECOV_TOKEN)"), Some("CODECOV_TOKEN"));
        assert_eq!(unexpanded_macro("$(a.b-c_1)"), Some("a.b-c_1"));
        for value in ["abc$(X)", "$(X)abc", "$()", "$(a b)", "$X", "${X}", "$(X"] {
            assert_eq!(unexpanded_macro(value), None, "{value}");
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let shown = format!("{:?}", SecretValue::of(Some("hunter2")));
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
