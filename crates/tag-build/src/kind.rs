//! What kind of build this is, told from the CI context alone: a release tag (with the
//! version it names), another tag, the default branch, a pull request, another branch,
//! a manual run, or nothing to tell from.

use custody_ci::{CiContext, GitRef};
use custody_dist::name::parse_version;
use serde::{Serialize, Serializer};

/// What kind of build this is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A tag that names a version: the build to release.
    ReleaseTag {
        tag: String,
        version: String,
    },
    /// A tag that does not look like a release (`nightly`, `docs-1`).
    OtherTag {
        tag: String,
    },
    DefaultBranch,
    PullRequest,
    /// A push to a branch other than the default: built through its pull request.
    OtherBranch {
        branch: String,
    },
    /// Started by hand (Azure `Manual`, GitHub `workflow_dispatch`, GitLab `web`).
    Manual,
    /// Nothing to tell from (no CI, no git).
    Unknown,
}

impl Kind {
    /// The name in outputs and JSON (`release-tag`, `pull-request`, ...).
    pub fn id(&self) -> &'static str {
        match self {
            Self::ReleaseTag { .. } => "release-tag",
            Self::OtherTag { .. } => "other-tag",
            Self::DefaultBranch => "default-branch",
            Self::PullRequest => "pull-request",
            Self::OtherBranch { .. } => "other-branch",
            Self::Manual => "manual",
            Self::Unknown => "unknown",
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Self::ReleaseTag { .. } => "a release tag",
            Self::OtherTag { .. } => "a tag that is not a release",
            Self::DefaultBranch => "the default branch",
            Self::PullRequest => "a pull request",
            Self::OtherBranch { .. } => "a branch other than the default",
            Self::Manual => "a manual run",
            Self::Unknown => "an unknown build",
        }
    }

    /// The version a release tag names; `None` for every other kind.
    pub fn release_version(&self) -> Option<&str> {
        match self {
            Self::ReleaseTag { version, .. } => Some(version),
            _ => None,
        }
    }

    pub fn is_release(&self) -> bool {
        matches!(self, Self::ReleaseTag { .. })
    }

    /// Whether the build should run under the double-build policy: a push to a branch
    /// other than the default is built through its pull request instead.
    pub fn should_run(&self) -> bool {
        !matches!(self, Self::OtherBranch { .. })
    }

    /// Why the build is what it is, for people (`tag `v1.0` names version 1.0`).
    pub fn reason(&self) -> String {
        match self {
            Self::ReleaseTag { tag, version } => format!("tag `{tag}` names version {version}"),
            Self::OtherBranch { branch } => format!(
                "{} (`{branch}`): built through its pull request, not on push",
                self.describe()
            ),
            Self::OtherTag { tag } => format!("{} (`{tag}`)", self.describe()),
            _ => self.describe().to_owned(),
        }
    }
}

/// In JSON a kind is its [`Kind::id`]; the tag and version have fields of their own.
impl Serialize for Kind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

/// The version a tag names under one of `patterns` (`{version}` = a PEP 440 version).
pub fn version_in_tag(tag: &str, patterns: &[String]) -> Option<String> {
    patterns.iter().find_map(|pattern| {
        let (prefix, suffix) = pattern.split_once("{version}")?;
        let middle = tag.strip_prefix(prefix)?.strip_suffix(suffix)?;
        parse_version(middle).ok().map(|_| middle.to_owned())
    })
}

fn is_manual(trigger: Option<&str>) -> bool {
    matches!(
        trigger,
        Some("Manual" | "workflow_dispatch" | "web" | "api" | "trigger")
    )
}

fn is_pull_request(context: &CiContext) -> bool {
    context.pull_request.is_some()
        || matches!(
            context.trigger.as_deref(),
            Some("PullRequest" | "pull_request" | "pull_request_target" | "merge_request_event")
        )
        || matches!(context.git_ref, GitRef::PullRequest(_))
}

/// Classifies the build. `default_branch` is the flag's value, if given.
pub fn classify(context: &CiContext, patterns: &[String], default_branch: Option<&str>) -> Kind {
    if let Some(tag) = context.git_ref.tag() {
        return match version_in_tag(tag, patterns) {
            Some(version) => Kind::ReleaseTag {
                tag: tag.to_owned(),
                version,
            },
            None => Kind::OtherTag {
                tag: tag.to_owned(),
            },
        };
    }
    if is_pull_request(context) {
        return Kind::PullRequest;
    }
    if is_manual(context.trigger.as_deref()) {
        return Kind::Manual;
    }
    let Some(branch) = context.git_ref.branch() else {
        return Kind::Unknown;
    };
    let is_default = match default_branch.or(context.default_branch.as_deref()) {
        Some(default) => branch == default,
        None => branch == "main" || branch == "master",
    };
    if is_default {
        Kind::DefaultBranch
    } else {
        Kind::OtherBranch {
            branch: branch.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns() -> Vec<String> {
        vec!["v{version}".into(), "{version}".into()]
    }

    fn on(git_ref: &str, trigger: &str) -> CiContext {
        CiContext {
            git_ref: GitRef::parse(git_ref),
            trigger: Some(trigger.into()),
            ..CiContext::default()
        }
    }

    #[test]
    fn versions_in_tags() {
        assert_eq!(
            version_in_tag("v0.18.3", &patterns()).as_deref(),
            Some("0.18.3")
        );
        assert_eq!(
            version_in_tag("0.18.3rc1", &patterns()).as_deref(),
            Some("0.18.3rc1")
        );
        assert_eq!(version_in_tag("nightly", &patterns()), None);
        assert_eq!(
            version_in_tag("release-2.0", &["release-{version}".into()]).as_deref(),
            Some("2.0")
        );
        assert_eq!(version_in_tag("v2.0", &["release-{version}".into()]), None);
    }

    #[test]
    fn classification() {
        let tag = CiContext {
            git_ref: GitRef::Tag("v1.0".into()),
            ..CiContext::default()
        };
        assert_eq!(
            classify(&tag, &patterns(), None),
            Kind::ReleaseTag {
                tag: "v1.0".into(),
                version: "1.0".into()
            }
        );
        let main = on("refs/heads/master", "IndividualCI");
        assert_eq!(classify(&main, &patterns(), None), Kind::DefaultBranch);
        assert_eq!(
            classify(&main, &patterns(), Some("develop")),
            Kind::OtherBranch {
                branch: "master".into()
            }
        );
        let manual = on("refs/heads/master", "Manual");
        assert_eq!(classify(&manual, &patterns(), None), Kind::Manual);
        assert_eq!(
            classify(&CiContext::default(), &patterns(), None),
            Kind::Unknown
        );
    }

    #[test]
    fn tags_that_name_no_version_and_pull_request_refs() {
        let nightly = on("refs/tags/nightly", "Schedule");
        assert_eq!(
            classify(&nightly, &patterns(), None),
            Kind::OtherTag {
                tag: "nightly".into()
            }
        );
        let merge_request = on("refs/merge-requests/3/head", "push");
        assert_eq!(
            classify(&merge_request, &patterns(), None),
            Kind::PullRequest
        );
    }

    #[test]
    fn reasons_name_the_ref() {
        let release = Kind::ReleaseTag {
            tag: "v1.0".into(),
            version: "1.0".into(),
        };
        assert_eq!(release.reason(), "tag `v1.0` names version 1.0");
        assert_eq!(release.release_version(), Some("1.0"));
        assert!(release.should_run());
        let other = Kind::OtherBranch {
            branch: "wip".into(),
        };
        assert_eq!(
            other.reason(),
            "a branch other than the default (`wip`): built through its pull request, not on push"
        );
        assert!(!other.should_run());
        assert_eq!(
            serde_json::to_value(&other).unwrap(),
            serde_json::json!("other-branch")
        );
    }
}
