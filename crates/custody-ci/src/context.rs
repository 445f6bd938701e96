//! Detects which CI system runs the step and reads what it says about the build:
//! commit, ref, pull request, build link, job and repository.

use std::fmt;
use std::path::Path;
use std::process::Command;

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
    /// The name used in `--json` and manifests (`azure-pipelines`, ...).
    pub fn id(self) -> &'static str {
        match self {
            Self::AzurePipelines => "azure-pipelines",
            Self::GithubActions => "github-actions",
            Self::GitlabCi => "gitlab-ci",
            Self::None => "none",
        }
    }

    fn from_id(id: &str) -> Option<Self> {
        [
            Self::AzurePipelines,
            Self::GithubActions,
            Self::GitlabCi,
            Self::None,
        ]
        .into_iter()
        .find(|provider| provider.id() == id)
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

/// The pull or merge request a build runs for.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct PullRequest {
    pub number: u64,
    /// The branch the request comes from (`feature/x`, without `refs/heads/`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_branch: Option<String>,
    /// The branch the request targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_branch: Option<String>,
    /// The request's head commit (the build itself may run on a merge commit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_commit: Option<String>,
    /// Whether the request comes from a fork, when the CI system says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_fork: Option<bool>,
}

/// What the CI system says about the current build.
///
/// Every field but `provider` is optional: a local run knows little, and each CI
/// system leaves some out. Serialized into manifests, so field names are stable.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct CiContext {
    pub provider: Provider,
    /// The commit the build checked out (for a pull request, often a merge commit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The full git ref: `refs/heads/main`, `refs/tags/v1.0`, `refs/pull/7/merge`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
    /// The branch name when the build is for a branch (not for a tag).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The tag name when the build is for a tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<PullRequest>,
    /// Why the build runs, in the CI system's own words (`IndividualCI`, `push`,
    /// `pull_request`, `merge_request_event`, `Manual`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_number: Option<String>,
    /// A link to the run, for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// The repository slug (`owner/name`; GitLab: `group/subgroup/name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The web server of the forge (`https://github.com`, `https://gitlab.com`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_url: Option<String>,
    /// Who started the build.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The repository's default branch, where the CI system tells it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_branch: Option<String>,
}

impl CiContext {
    /// Reads the context from `env`. `CUSTODY_CI_PROVIDER` overrides detection; otherwise
    /// the first of Azure (`TF_BUILD`), GitHub (`GITHUB_ACTIONS`) and GitLab (`GITLAB_CI`)
    /// that is set wins. Outside CI the context is empty but for the provider: call
    /// [`CiContext::with_local_git`] to fill commit and ref from a checkout.
    pub fn detect(env: &Env) -> Self {
        let provider = env
            .get(vars::CUSTODY_CI_PROVIDER)
            .and_then(Provider::from_id)
            .unwrap_or_else(|| detect_provider(env));
        match provider {
            Provider::AzurePipelines => azure(env),
            Provider::GithubActions => github(env),
            Provider::GitlabCi => gitlab(env),
            Provider::None => Self::default(),
        }
    }

    /// Whether this runs under a CI system we know.
    pub fn is_ci(&self) -> bool {
        self.provider != Provider::None
    }

    /// Fills commit, ref, branch and tag from the git checkout at `dir` where the CI
    /// system did not say. Quietly leaves them empty when `dir` is no checkout or git is
    /// missing: a local run without git is still a valid run.
    #[must_use]
    pub fn with_local_git(mut self, dir: &Path) -> Self {
        let git = |args: &[&str]| -> Option<String> {
            let output = Command::new("git")
                .args(args)
                .current_dir(dir)
                .output()
                .ok()?;
            if !output.status.success() {
                return None;
            }
            let text = String::from_utf8(output.stdout).ok()?;
            let text = text.trim();
            (!text.is_empty()).then(|| text.to_owned())
        };
        if self.commit.is_none() {
            self.commit = git(&["rev-parse", "--verify", "-q", "HEAD"]);
        }
        if self.git_ref.is_none() {
            if let Some(tag) = git(&["describe", "--tags", "--exact-match", "HEAD"]) {
                self.git_ref = Some(format!("refs/tags/{tag}"));
                self.tag = Some(tag);
            } else if let Some(branch) = git(&["symbolic-ref", "-q", "--short", "HEAD"]) {
                self.git_ref = Some(format!("refs/heads/{branch}"));
                self.branch = Some(branch);
            }
        }
        self
    }
}

fn detect_provider(env: &Env) -> Provider {
    if env.is_true(vars::TF_BUILD) {
        Provider::AzurePipelines
    } else if env.is_true(vars::GITHUB_ACTIONS) {
        Provider::GithubActions
    } else if env.is_true(vars::GITLAB_CI) {
        Provider::GitlabCi
    } else {
        Provider::None
    }
}

/// Splits a full ref into (branch, tag). A pull-request ref is neither.
fn branch_and_tag(git_ref: Option<&str>) -> (Option<String>, Option<String>) {
    match git_ref {
        Some(r) => {
            if let Some(tag) = r.strip_prefix("refs/tags/") {
                (None, Some(tag.to_owned()))
            } else if let Some(branch) = r.strip_prefix("refs/heads/") {
                (Some(branch.to_owned()), None)
            } else {
                (None, None)
            }
        }
        None => (None, None),
    }
}

fn strip_heads(branch: &str) -> String {
    branch
        .strip_prefix("refs/heads/")
        .unwrap_or(branch)
        .to_owned()
}

/// `refs/pull/12/merge` or `refs/pull/12/head` → 12.
fn pull_number_from_ref(git_ref: &str) -> Option<u64> {
    let rest = git_ref.strip_prefix("refs/pull/")?;
    rest.split('/').next()?.parse().ok()
}

fn azure(env: &Env) -> CiContext {
    let git_ref = env.string(vars::BUILD_SOURCEBRANCH);
    let (branch, tag) = branch_and_tag(git_ref.as_deref());
    let trigger = env.string(vars::BUILD_REASON);
    let number = env
        .get(vars::SYSTEM_PULLREQUEST_PULLREQUESTNUMBER)
        .or_else(|| env.get(vars::SYSTEM_PULLREQUEST_PULLREQUESTID))
        .and_then(|n| n.parse().ok())
        .or_else(|| git_ref.as_deref().and_then(pull_number_from_ref));
    let pull_request = number
        .filter(|_| trigger.as_deref() == Some("PullRequest") || git_ref_is_pull(git_ref.as_ref()))
        .map(|number| PullRequest {
            number,
            head_branch: env
                .get(vars::SYSTEM_PULLREQUEST_SOURCEBRANCH)
                .map(strip_heads),
            base_branch: env
                .get(vars::SYSTEM_PULLREQUEST_TARGETBRANCH)
                .map(strip_heads),
            head_commit: env.string(vars::SYSTEM_PULLREQUEST_SOURCECOMMITID),
            from_fork: env
                .get(vars::SYSTEM_PULLREQUEST_ISFORK)
                .map(|_| env.is_true(vars::SYSTEM_PULLREQUEST_ISFORK)),
        });
    let collection = env
        .get(vars::SYSTEM_COLLECTIONURI)
        .or_else(|| env.get(vars::SYSTEM_TEAMFOUNDATIONCOLLECTIONURI));
    let build_id = env.string(vars::BUILD_BUILDID);
    let build_url = match (collection, env.get(vars::SYSTEM_TEAMPROJECT), &build_id) {
        (Some(collection), Some(project), Some(id)) => Some(format!(
            "{}/{}/_build/results?buildId={id}",
            collection.trim_end_matches('/'),
            project.replace(' ', "%20"),
        )),
        _ => None,
    };
    CiContext {
        provider: Provider::AzurePipelines,
        commit: env.string(vars::BUILD_SOURCEVERSION),
        git_ref,
        branch,
        tag,
        pull_request,
        trigger,
        build_id,
        build_number: env.string(vars::BUILD_BUILDNUMBER),
        build_url,
        job: env
            .string(vars::SYSTEM_JOBDISPLAYNAME)
            .or_else(|| env.string(vars::AGENT_JOBNAME)),
        repository: env.string(vars::BUILD_REPOSITORY_NAME),
        server_url: collection.map(|c| c.trim_end_matches('/').to_owned()),
        actor: env.string(vars::BUILD_REQUESTEDFOR),
        default_branch: None,
    }
}

fn git_ref_is_pull(git_ref: Option<&String>) -> bool {
    git_ref.is_some_and(|r| r.starts_with("refs/pull/"))
}

fn github(env: &Env) -> CiContext {
    let git_ref = env.string(vars::GITHUB_REF);
    let (mut branch, mut tag) = branch_and_tag(git_ref.as_deref());
    // GITHUB_REF_TYPE is authoritative where the ref is short or missing.
    match (
        env.get(vars::GITHUB_REF_TYPE),
        env.get(vars::GITHUB_REF_NAME),
    ) {
        (Some("tag"), Some(name)) if tag.is_none() => tag = Some(name.to_owned()),
        (Some("branch"), Some(name)) if branch.is_none() && !git_ref_is_pull(git_ref.as_ref()) => {
            branch = Some(name.to_owned());
        }
        _ => {}
    }
    let event = read_event_payload(env);
    let pr_payload = event.as_ref().and_then(|e| e.get("pull_request"));
    let number = pr_payload
        .and_then(|pr| pr.get("number"))
        .and_then(serde_json::Value::as_u64)
        .or_else(|| git_ref.as_deref().and_then(pull_number_from_ref));
    let repository = env.string(vars::GITHUB_REPOSITORY);
    let pull_request = number.map(|number| {
        let str_at = |path: &[&str]| -> Option<String> {
            let mut value = pr_payload?;
            for key in path {
                value = value.get(key)?;
            }
            value.as_str().map(str::to_owned)
        };
        let head_repo = str_at(&["head", "repo", "full_name"]);
        PullRequest {
            number,
            head_branch: env
                .string(vars::GITHUB_HEAD_REF)
                .or_else(|| str_at(&["head", "ref"])),
            base_branch: env
                .string(vars::GITHUB_BASE_REF)
                .or_else(|| str_at(&["base", "ref"])),
            head_commit: str_at(&["head", "sha"]),
            from_fork: head_repo.map(|head| Some(&head) != repository.as_ref()),
        }
    });
    let server_url = env.string(vars::GITHUB_SERVER_URL);
    let build_id = env.string(vars::GITHUB_RUN_ID);
    let build_url = match (&server_url, &repository, &build_id) {
        (Some(server), Some(repo), Some(id)) => Some(format!(
            "{}/{repo}/actions/runs/{id}",
            server.trim_end_matches('/')
        )),
        _ => None,
    };
    let default_branch = event
        .as_ref()
        .and_then(|e| e.pointer("/repository/default_branch"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    CiContext {
        provider: Provider::GithubActions,
        commit: env.string(vars::GITHUB_SHA),
        git_ref,
        branch,
        tag,
        pull_request,
        trigger: env.string(vars::GITHUB_EVENT_NAME),
        build_id,
        build_number: env.string(vars::GITHUB_RUN_NUMBER),
        build_url,
        job: env.string(vars::GITHUB_JOB),
        repository,
        server_url,
        actor: env
            .string(vars::GITHUB_TRIGGERING_ACTOR)
            .or_else(|| env.string(vars::GITHUB_ACTOR)),
        default_branch,
    }
}

/// The webhook payload GitHub writes for the run. A missing or unreadable payload is
/// not an error: the variables alone still describe the build.
fn read_event_payload(env: &Env) -> Option<serde_json::Value> {
    let path = env.get(vars::GITHUB_EVENT_PATH)?;
    let text = fs_err::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

fn gitlab(env: &Env) -> CiContext {
    let tag = env.string(vars::CI_COMMIT_TAG);
    let branch = env.string(vars::CI_COMMIT_BRANCH);
    let number = env
        .get(vars::CI_MERGE_REQUEST_IID)
        .and_then(|n| n.parse().ok());
    let git_ref = match (&tag, &branch, number) {
        (Some(tag), _, _) => Some(format!("refs/tags/{tag}")),
        (None, Some(branch), _) => Some(format!("refs/heads/{branch}")),
        (None, None, Some(n)) => Some(format!("refs/merge-requests/{n}/head")),
        (None, None, None) => None,
    };
    let pull_request = number.map(|number| PullRequest {
        number,
        head_branch: env.string(vars::CI_MERGE_REQUEST_SOURCE_BRANCH_NAME),
        base_branch: env.string(vars::CI_MERGE_REQUEST_TARGET_BRANCH_NAME),
        head_commit: env.string(vars::CI_MERGE_REQUEST_SOURCE_BRANCH_SHA),
        from_fork: match (
            env.get(vars::CI_MERGE_REQUEST_SOURCE_PROJECT_ID),
            env.get(vars::CI_MERGE_REQUEST_PROJECT_ID),
        ) {
            (Some(source), Some(target)) => Some(source != target),
            _ => None,
        },
    });
    CiContext {
        provider: Provider::GitlabCi,
        commit: env.string(vars::CI_COMMIT_SHA),
        git_ref,
        branch,
        tag,
        pull_request,
        trigger: env.string(vars::CI_PIPELINE_SOURCE),
        build_id: env.string(vars::CI_PIPELINE_ID),
        build_number: env.string(vars::CI_JOB_ID),
        build_url: env.string(vars::CI_PIPELINE_URL),
        job: env.string(vars::CI_JOB_NAME),
        repository: env.string(vars::CI_PROJECT_PATH),
        server_url: env.string(vars::CI_SERVER_URL),
        actor: env.string(vars::GITLAB_USER_LOGIN),
        default_branch: env.string(vars::CI_DEFAULT_BRANCH),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_set_is_no_ci() {
        let context = CiContext::detect(&Env::default());
        assert_eq!(context, CiContext::default());
        assert!(!context.is_ci());
    }

    #[test]
    fn azure_tag_build() {
        let env = Env::from_pairs([
            ("TF_BUILD", "True"),
            ("BUILD_SOURCEBRANCH", "refs/tags/v0.18.3"),
            ("BUILD_SOURCEVERSION", "abc123"),
            ("BUILD_REASON", "IndividualCI"),
            ("BUILD_BUILDID", "42"),
            ("SYSTEM_COLLECTIONURI", "https://dev.azure.com/data61/"),
            ("SYSTEM_TEAMPROJECT", "Anonlink Project"),
            ("SYSTEM_JOBDISPLAYNAME", "Build Python37 x86"),
            ("BUILD_REPOSITORY_NAME", "data61/clkhash"),
        ]);
        let context = CiContext::detect(&env);
        assert_eq!(context.provider, Provider::AzurePipelines);
        assert_eq!(context.tag.as_deref(), Some("v0.18.3"));
        assert_eq!(context.branch, None);
        assert_eq!(context.commit.as_deref(), Some("abc123"));
        assert_eq!(
            context.build_url.as_deref(),
            Some("https://dev.azure.com/data61/Anonlink%20Project/_build/results?buildId=42")
        );
        assert_eq!(context.job.as_deref(), Some("Build Python37 x86"));
        assert_eq!(context.pull_request, None);
    }

    #[test]
    fn azure_fork_pull_request() {
        let env = Env::from_pairs([
            ("TF_BUILD", "True"),
            ("BUILD_SOURCEBRANCH", "refs/pull/7/merge"),
            ("BUILD_REASON", "PullRequest"),
            ("SYSTEM_PULLREQUEST_PULLREQUESTNUMBER", "7"),
            ("SYSTEM_PULLREQUEST_SOURCEBRANCH", "refs/heads/feature"),
            ("SYSTEM_PULLREQUEST_TARGETBRANCH", "master"),
            ("SYSTEM_PULLREQUEST_SOURCECOMMITID", "def456"),
            ("SYSTEM_PULLREQUEST_ISFORK", "True"),
        ]);
        let context = CiContext::detect(&env);
        let pr = context.pull_request.expect("a pull request");
        assert_eq!(pr.number, 7);
        assert_eq!(pr.head_branch.as_deref(), Some("feature"));
        assert_eq!(pr.base_branch.as_deref(), Some("master"));
        assert_eq!(pr.head_commit.as_deref(), Some("def456"));
        assert_eq!(pr.from_fork, Some(true));
        assert_eq!(context.branch, None);
        assert_eq!(context.tag, None);
    }

    #[test]
    fn github_pull_request_from_payload() {
        let dir = tempfile::tempdir().unwrap();
        let payload = dir.path().join("event.json");
        fs_err::write(
            &payload,
            r#"{"pull_request": {"number": 12, "head": {"sha": "h1", "ref": "f",
                "repo": {"full_name": "someone/clkhash"}}, "base": {"ref": "main"}},
                "repository": {"default_branch": "main"}}"#,
        )
        .unwrap();
        let env = Env::from_pairs([
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REF", "refs/pull/12/merge"),
            ("GITHUB_REF_NAME", "12/merge"),
            ("GITHUB_REF_TYPE", "branch"),
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_EVENT_PATH", payload.to_str().unwrap()),
            ("GITHUB_REPOSITORY", "data61/clkhash"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_RUN_ID", "99"),
            ("GITHUB_SHA", "merge1"),
        ]);
        let context = CiContext::detect(&env);
        assert_eq!(context.branch, None, "a PR merge ref is not a branch");
        let pr = context.pull_request.expect("a pull request");
        assert_eq!(pr.number, 12);
        assert_eq!(pr.head_commit.as_deref(), Some("h1"));
        assert_eq!(pr.from_fork, Some(true));
        assert_eq!(context.default_branch.as_deref(), Some("main"));
        assert_eq!(
            context.build_url.as_deref(),
            Some("https://github.com/data61/clkhash/actions/runs/99")
        );
    }

    #[test]
    fn gitlab_tag_pipeline() {
        let env = Env::from_pairs([
            ("GITLAB_CI", "true"),
            ("CI_COMMIT_TAG", "v1.2.0"),
            ("CI_COMMIT_SHA", "c0ffee"),
            ("CI_PIPELINE_SOURCE", "push"),
            ("CI_PROJECT_PATH", "group/sub/project"),
            ("CI_DEFAULT_BRANCH", "main"),
        ]);
        let context = CiContext::detect(&env);
        assert_eq!(context.provider, Provider::GitlabCi);
        assert_eq!(context.git_ref.as_deref(), Some("refs/tags/v1.2.0"));
        assert_eq!(context.tag.as_deref(), Some("v1.2.0"));
        assert_eq!(context.repository.as_deref(), Some("group/sub/project"));
    }

    #[test]
    fn provider_override_wins() {
        let env = Env::from_pairs([("GITHUB_ACTIONS", "true"), ("CUSTODY_CI_PROVIDER", "none")]);
        assert_eq!(CiContext::detect(&env).provider, Provider::None);
    }

    #[test]
    fn context_round_trips_through_json() {
        let env = Env::from_pairs([("GITLAB_CI", "true"), ("CI_MERGE_REQUEST_IID", "3")]);
        let context = CiContext::detect(&env);
        let json = serde_json::to_string(&context).unwrap();
        assert!(json.contains(r#""provider":"gitlab-ci""#), "{json}");
        let back: CiContext = serde_json::from_str(&json).unwrap();
        assert_eq!(back, context);
    }
}
