//! The process environment as a value, so steps and tests read variables the same way
//! and tests never mutate the real environment.

use std::collections::BTreeMap;
use std::ffi::OsString;

/// A snapshot of environment variables.
///
/// Steps receive one from `main` (`Env::from_process`); tests build their own with
/// `Env::from_pairs`. Empty values count as unset, as every CI system documents that
/// unset and empty are the same for its predefined variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// The environment of the running process. Variables whose name or value is not
    /// valid Unicode are skipped: none of the variables we read can be such.
    pub fn from_process() -> Self {
        Self::from_os_pairs(std::env::vars_os())
    }

    fn from_os_pairs(pairs: impl IntoIterator<Item = (OsString, OsString)>) -> Self {
        let vars = pairs
            .into_iter()
            .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
            .collect();
        Self { vars }
    }

    /// An environment made of the given pairs (tests, recorded CI environments).
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        let vars = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Self { vars }
    }

    /// The value of `name`, or `None` when it is unset or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }

    /// The value of `name` as an owned string, or `None` when unset or empty.
    pub fn string(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    /// Whether `name` holds a true value the way CI systems write it (`true`, `True`,
    /// `TRUE`, `1`, `yes`).
    pub fn is_true(&self, name: &str) -> bool {
        self.get(name).is_some_and(|value| {
            matches!(value.to_ascii_lowercase().as_str(), "true" | "1" | "yes")
        })
    }

    /// Sets a variable (tests and recorded environments).
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.vars.insert(name.into(), value.into());
    }

    /// Removes a variable.
    pub fn remove(&mut self, name: &str) {
        self.vars.remove(name);
    }

    /// Every variable, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_counts_as_unset() {
        let env = Env::from_pairs([("A", ""), ("B", "x")]);
        assert_eq!(env.get("A"), None);
        assert_eq!(env.get("B"), Some("x"));
        assert_eq!(env.get("C"), None);
    }

    #[test]
    fn truthy_values() {
        let env = Env::from_pairs([("A", "True"), ("B", "1"), ("C", "false"), ("D", "TRUE")]);
        assert!(env.is_true("A"));
        assert!(env.is_true("B"));
        assert!(!env.is_true("C"));
        assert!(env.is_true("D"));
        assert!(!env.is_true("E"));
    }

    #[cfg(unix)]
    #[test]
    fn non_unicode_variables_are_skipped() {
        use std::os::unix::ffi::OsStringExt;
        let env = Env::from_os_pairs([
            (OsString::from("GOOD"), OsString::from("v")),
            (OsString::from("BAD"), OsString::from_vec(vec![0xff, 0xfe])),
        ]);
        assert_eq!(env.get("GOOD"), Some("v"));
        assert_eq!(env.get("BAD"), None);
    }
}
