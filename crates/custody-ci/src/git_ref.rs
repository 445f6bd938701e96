//! What a build checked out, as one value: a branch, a tag, a pull or merge request's
//! ref, another ref, or nothing known. One enum, so a build for a tag and a branch at
//! once cannot be written down.

/// The git ref a build runs for, parsed from the full ref the CI system names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum GitRef {
    /// `refs/heads/<name>`: a push to a branch, or a run started on one.
    Branch(String),
    /// `refs/tags/<name>`.
    Tag(String),
    /// A pull or merge request's own ref, in full: `refs/pull/7/merge`,
    /// `refs/merge-requests/3/head`. What the request is lives in
    /// [`crate::CiContext::pull_request`].
    PullRequest(String),
    /// Any other ref, in full as the CI system wrote it.
    Other(String),
    /// The CI system names no ref (a local run outside git, an event without one).
    #[default]
    Unknown,
}

impl GitRef {
    const HEADS: &'static str = "refs/heads/";
    const TAGS: &'static str = "refs/tags/";
    const REQUEST_PREFIXES: [&'static str; 2] = ["refs/pull/", "refs/merge-requests/"];

    /// Parses a full ref (`refs/heads/main`, `refs/tags/v1.0`, `refs/pull/7/merge`).
    pub fn parse(full: &str) -> Self {
        if let Some(branch) = full.strip_prefix(Self::HEADS) {
            Self::Branch(branch.to_owned())
        } else if let Some(tag) = full.strip_prefix(Self::TAGS) {
            Self::Tag(tag.to_owned())
        } else if Self::REQUEST_PREFIXES
            .iter()
            .any(|prefix| full.starts_with(prefix))
        {
            Self::PullRequest(full.to_owned())
        } else {
            Self::Other(full.to_owned())
        }
    }

    /// The full ref: `refs/heads/<branch>`, `refs/tags/<tag>`, or the ref as given.
    pub fn full(&self) -> Option<String> {
        match self {
            Self::Branch(name) => Some(format!("{}{name}", Self::HEADS)),
            Self::Tag(name) => Some(format!("{}{name}", Self::TAGS)),
            Self::PullRequest(full) | Self::Other(full) => Some(full.clone()),
            Self::Unknown => None,
        }
    }

    /// The branch name when the build is for a branch.
    pub fn branch(&self) -> Option<&str> {
        match self {
            Self::Branch(name) => Some(name),
            _ => None,
        }
    }

    /// The tag name when the build is for a tag.
    pub fn tag(&self) -> Option<&str> {
        match self {
            Self::Tag(name) => Some(name),
            _ => None,
        }
    }

    pub fn is_known(&self) -> bool {
        *self != Self::Unknown
    }

    /// The pull or merge request number in the ref: `refs/pull/12/merge` → 12.
    pub fn pull_request_number(&self) -> Option<u64> {
        let Self::PullRequest(full) = self else {
            return None;
        };
        let rest = Self::REQUEST_PREFIXES
            .iter()
            .find_map(|prefix| full.strip_prefix(prefix))?;
        rest.split('/').next()?.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_refs_parse_into_what_they_name() {
        for (full, expected) in [
            ("refs/heads/main", GitRef::Branch("main".into())),
            ("refs/heads/feature/x", GitRef::Branch("feature/x".into())),
            ("refs/tags/v1.0", GitRef::Tag("v1.0".into())),
            (
                "refs/pull/7/merge",
                GitRef::PullRequest("refs/pull/7/merge".into()),
            ),
            (
                "refs/merge-requests/3/head",
                GitRef::PullRequest("refs/merge-requests/3/head".into()),
            ),
            (
                "refs/remotes/origin/x",
                GitRef::Other("refs/remotes/origin/x".into()),
            ),
            ("main", GitRef::Other("main".into())),
        ] {
            let parsed = GitRef::parse(full);
            assert_eq!(parsed, expected, "{full}");
            assert_eq!(parsed.full().as_deref(), Some(full), "{full} round-trips");
        }
        assert_eq!(GitRef::Unknown.full(), None);
    }

    #[test]
    fn names_and_numbers() {
        assert_eq!(GitRef::parse("refs/heads/main").branch(), Some("main"));
        assert_eq!(GitRef::parse("refs/heads/main").tag(), None);
        assert_eq!(GitRef::parse("refs/tags/v1").tag(), Some("v1"));
        assert_eq!(GitRef::parse("refs/tags/v1").branch(), None);
        assert_eq!(
            GitRef::parse("refs/pull/12/merge").pull_request_number(),
            Some(12)
        );
        assert_eq!(
            GitRef::parse("refs/merge-requests/3/head").pull_request_number(),
            Some(3)
        );
        assert_eq!(GitRef::parse("refs/heads/12").pull_request_number(), None);
        assert!(!GitRef::Unknown.is_known());
    }
}
