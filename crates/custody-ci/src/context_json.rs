//! The CI context as manifests hold it. The shape predates [`GitRef`]: the ref is three
//! optional fields (`git_ref`, `branch`, `tag`). Manifests are sealed with a digest of
//! their JSON, so reading and writing must give back exactly what was read: only the
//! shapes a [`GitRef`] writes are accepted, anything else (a tag and a branch at once) is
//! an error rather than a quiet rewrite that would break the seal.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::context::{CiContext, PullRequest};
use crate::git_ref::GitRef;
use crate::provider::Provider;

/// What the CI system says about the current build.
///
/// Every field but `provider` is optional: a local run knows little, and each CI
/// system leaves some out. Serialized into manifests, so field names are stable.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
#[schemars(rename = "CiContext")]
pub(crate) struct CiContextJson {
    provider: Provider,
    /// The commit the build checked out (for a pull request, often a merge commit).
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<String>,
    /// The full git ref: `refs/heads/main`, `refs/tags/v1.0`, `refs/pull/7/merge`.
    #[serde(skip_serializing_if = "Option::is_none")]
    git_ref: Option<String>,
    /// The branch name when the build is for a branch (not for a tag).
    #[serde(skip_serializing_if = "Option::is_none")]
    branch: Option<String>,
    /// The tag name when the build is for a tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pull_request: Option<PullRequest>,
    /// Why the build runs, in the CI system's own words (`IndividualCI`, `push`,
    /// `pull_request`, `merge_request_event`, `Manual`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    trigger: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    build_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    build_number: Option<String>,
    /// A link to the run, for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    build_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    job: Option<String>,
    /// The repository slug (`owner/name`; GitLab: `group/subgroup/name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    repository: Option<String>,
    /// The web server of the forge (`https://github.com`, `https://gitlab.com`).
    #[serde(skip_serializing_if = "Option::is_none")]
    server_url: Option<String>,
    /// Who started the build.
    #[serde(skip_serializing_if = "Option::is_none")]
    actor: Option<String>,
    /// The repository's default branch, where the CI system tells it.
    #[serde(skip_serializing_if = "Option::is_none")]
    default_branch: Option<String>,
}

/// The three ref fields as written: (`git_ref`, `branch`, `tag`).
type RefFields = (Option<String>, Option<String>, Option<String>);

fn ref_fields(git_ref: &GitRef) -> RefFields {
    (
        git_ref.full(),
        git_ref.branch().map(str::to_owned),
        git_ref.tag().map(str::to_owned),
    )
}

/// The ref the three fields describe, if they describe it the way [`ref_fields`] writes
/// it: `git_ref` in full, and `branch` or `tag` exactly when it names one.
fn parse_ref_fields(fields: RefFields) -> Result<GitRef, InconsistentRef> {
    let git_ref = fields.0.as_deref().map_or(GitRef::Unknown, GitRef::parse);
    if ref_fields(&git_ref) == fields {
        Ok(git_ref)
    } else {
        Err(InconsistentRef(fields))
    }
}

/// `git_ref`, `branch` and `tag` that name no single ref, e.g. a tag and a branch.
#[derive(Debug)]
pub(crate) struct InconsistentRef(RefFields);

impl fmt::Display for InconsistentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |value: &Option<String>| match value {
            Some(value) => Cow::Owned(format!("`{value}`")),
            None => Cow::Borrowed("none"),
        };
        let (git_ref, branch, tag) = &self.0;
        write!(
            f,
            "the CI context's `git_ref` ({}), `branch` ({}) and `tag` ({}) do not name one ref: a build is for a branch, a tag or another ref, with `git_ref` in full",
            shown(git_ref),
            shown(branch),
            shown(tag)
        )
    }
}

impl From<CiContext> for CiContextJson {
    fn from(context: CiContext) -> Self {
        let (git_ref, branch, tag) = ref_fields(&context.git_ref);
        Self {
            provider: context.provider,
            commit: context.commit,
            git_ref,
            branch,
            tag,
            pull_request: context.pull_request,
            trigger: context.trigger,
            build_id: context.build_id,
            build_number: context.build_number,
            build_url: context.build_url,
            job: context.job,
            repository: context.repository,
            server_url: context.server_url,
            actor: context.actor,
            default_branch: context.default_branch,
        }
    }
}

impl TryFrom<CiContextJson> for CiContext {
    type Error = InconsistentRef;

    fn try_from(json: CiContextJson) -> Result<Self, Self::Error> {
        Ok(Self {
            provider: json.provider,
            commit: json.commit,
            git_ref: parse_ref_fields((json.git_ref, json.branch, json.tag))?,
            pull_request: json.pull_request,
            trigger: json.trigger,
            build_id: json.build_id,
            build_number: json.build_number,
            build_url: json.build_url,
            job: json.job,
            repository: json.repository,
            server_url: json.server_url,
            actor: json.actor,
            default_branch: json.default_branch,
        })
    }
}

/// The schema is the JSON form's: manifests document that shape.
impl schemars::JsonSchema for CiContext {
    fn schema_name() -> Cow<'static, str> {
        CiContextJson::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        CiContextJson::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        CiContextJson::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(json: &str) -> Result<String, serde_json::Error> {
        let context: CiContext = serde_json::from_str(json)?;
        Ok(serde_json::to_string(&context).expect("a context serializes"))
    }

    #[test]
    fn every_shape_written_before_reads_back_byte_for_byte() {
        for json in [
            r#"{"provider":"none"}"#,
            r#"{"provider":"azure-pipelines","commit":"abc","git_ref":"refs/tags/v0.18.3","tag":"v0.18.3","trigger":"IndividualCI","build_id":"42"}"#,
            r#"{"provider":"github-actions","git_ref":"refs/heads/main","branch":"main","pull_request":{"number":7,"head_branch":"fix"}}"#,
            r#"{"provider":"github-actions","git_ref":"refs/pull/12/merge","pull_request":{"number":12,"from_fork":true}}"#,
            r#"{"provider":"gitlab-ci","git_ref":"refs/merge-requests/3/head","pull_request":{"number":3}}"#,
            r#"{"provider":"azure-pipelines","git_ref":"refs/remotes/x"}"#,
            r#"{"provider":"none","commit":"c","git_ref":"refs/heads/feature/x","branch":"feature/x","actor":"me","default_branch":"main"}"#,
        ] {
            assert_eq!(round_trip(json).unwrap(), json);
        }
    }

    #[test]
    fn the_ref_reads_into_one_value() {
        let context: CiContext =
            serde_json::from_str(r#"{"git_ref":"refs/tags/v1","tag":"v1"}"#).unwrap();
        assert_eq!(context.git_ref, GitRef::Tag("v1".into()));
        let context: CiContext =
            serde_json::from_str(r#"{"git_ref":"refs/pull/7/merge"}"#).unwrap();
        assert_eq!(
            context.git_ref,
            GitRef::PullRequest("refs/pull/7/merge".into())
        );
    }

    #[test]
    fn a_tag_and_a_branch_at_once_do_not_read() {
        for json in [
            r#"{"git_ref":"refs/tags/v1","tag":"v1","branch":"main"}"#,
            r#"{"tag":"v1","branch":"main"}"#,
            r#"{"tag":"v1"}"#,
            r#"{"git_ref":"refs/heads/main","tag":"main"}"#,
            r#"{"git_ref":"refs/heads/main","branch":"dev"}"#,
            r#"{"git_ref":"refs/heads/main"}"#,
        ] {
            let error = serde_json::from_str::<CiContext>(json).unwrap_err();
            assert!(
                error.to_string().contains("do not name one ref"),
                "{json}: {error}"
            );
        }
    }
}
