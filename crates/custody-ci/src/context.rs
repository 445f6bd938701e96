//! Detects which CI system runs the step and reads what it says about the build:
//! commit, ref, pull request, build link, job and repository.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::env::Env;
use crate::git_ref::GitRef;
use crate::provider::{Provider, UnknownProvider};
use crate::vars;

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
    /// The owner (user, organization or namespace) of the repository the request comes
    /// from: a fork's owner. Codecov names a fork's branch `owner:branch`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_owner: Option<String>,
}

impl PullRequest {
    /// `owner:branch`, as GitHub labels a request's head (`pull_request.head.label`) and
    /// as Codecov requires a fork's branch for tokenless uploads.
    pub fn head_label(&self) -> Option<String> {
        Some(format!(
            "{}:{}",
            self.head_owner.as_deref()?,
            self.head_branch.as_deref()?
        ))
    }
}

/// What the CI system says about the current build.
///
/// Every field but `provider` is optional: a local run knows little, and each CI
/// system leaves some out. Serialized into manifests with the ref as the `git_ref`,
/// `branch` and `tag` fields manifests have always had (see `context_json.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(
    into = "crate::context_json::CiContextJson",
    try_from = "crate::context_json::CiContextJson"
)]
pub struct CiContext {
    pub provider: Provider,
    /// The commit the build checked out (for a pull request, often a merge commit).
    pub commit: Option<String>,
    /// What the build checked out: a branch, a tag, a pull request's ref, ...
    pub git_ref: GitRef,
    /// The pull or merge request the build runs for. Independent of `git_ref`: GitHub's
    /// `pull_request_target` runs for a request on its base branch.
    pub pull_request: Option<PullRequest>,
    /// Why the build runs, in the CI system's own words (`IndividualCI`, `push`,
    /// `pull_request`, `merge_request_event`, `Manual`, ...).
    pub trigger: Option<String>,
    pub build_id: Option<String>,
    pub build_number: Option<String>,
    /// A link to the run, for people.
    pub build_url: Option<String>,
    pub job: Option<String>,
    /// The repository slug (`owner/name`; GitLab: `group/subgroup/name`).
    pub repository: Option<String>,
    /// The web server of the forge (`https://github.com`, `https://gitlab.com`).
    pub server_url: Option<String>,
    /// Who started the build.
    pub actor: Option<String>,
    /// The repository's default branch, where the CI system tells it.
    pub default_branch: Option<String>,
}

impl CiContext {
    /// Reads the context from `env`. `CUSTODY_CI_PROVIDER` overrides detection (an
    /// unknown value is an error); otherwise the first of Azure (`TF_BUILD`), GitHub
    /// (`GITHUB_ACTIONS`) and GitLab (`GITLAB_CI`) that is set wins. Outside CI the
    /// context is empty but for the provider: call [`CiContext::with_local_git`] to fill
    /// commit and ref from a checkout.
    pub fn detect(env: &Env) -> Result<Self, UnknownProvider> {
        Ok(Self::for_provider(Provider::detect(env)?, env))
    }

    /// Reads what `provider` says about the build from `env`.
    pub fn for_provider(provider: Provider, env: &Env) -> Self {
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

    /// Fills commit and ref (branch or tag) from the git checkout at `dir` (the step's
    /// [`source_dir`]) where the CI system did not say: on CI its own variables win. Quietly leaves them empty when `dir` is no checkout or git is
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
        if !self.git_ref.is_known() {
            if let Some(tag) = git(&["describe", "--tags", "--exact-match", "HEAD"]) {
                self.git_ref = GitRef::Tag(tag);
            } else if let Some(branch) = git(&["symbolic-ref", "-q", "--short", "HEAD"]) {
                self.git_ref = GitRef::Branch(branch);
            }
        }
        self
    }
}

/// The checkout the step describes: `CUSTODY_SOURCE_DIR` (every step's `--source DIR`,
/// which the shell writes into the step's environment) resolved against `cwd`, else
/// `cwd` itself. Steps read git facts (commit, ref, tag) from here, never from `cwd`.
pub fn source_dir(env: &Env, cwd: &Path) -> PathBuf {
    env.get(vars::CUSTODY_SOURCE_DIR)
        .map_or_else(|| cwd.to_owned(), |dir| cwd.join(dir))
}

/// The full ref in `name` (`refs/heads/main`, ...), parsed.
fn full_ref(env: &Env, name: &str) -> GitRef {
    env.get(name).map_or(GitRef::Unknown, GitRef::parse)
}

/// The owner of a repository from its clone URL: `https://github.com/someone/clkhash.git`
/// → `someone` (GitLab: every group before the project's name).
fn owner_of_repository_url(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    // `git@github.com:someone/clkhash.git` names its path after a colon.
    let path = rest.split_once(['/', ':'])?.1;
    let path = path.trim_end_matches('/').trim_end_matches(".git");
    let (owner, name) = path.rsplit_once('/')?;
    (!owner.is_empty() && !name.is_empty()).then(|| owner.to_owned())
}

fn strip_heads(branch: &str) -> String {
    branch
        .strip_prefix("refs/heads/")
        .unwrap_or(branch)
        .to_owned()
}

fn azure(env: &Env) -> CiContext {
    let git_ref = full_ref(env, vars::BUILD_SOURCEBRANCH);
    let trigger = env.string(vars::BUILD_REASON);
    let number = env
        .get(vars::SYSTEM_PULLREQUEST_PULLREQUESTNUMBER)
        .or_else(|| env.get(vars::SYSTEM_PULLREQUEST_PULLREQUESTID))
        .and_then(|n| n.parse().ok())
        .or_else(|| git_ref.pull_request_number());
    let pull_request = number
        .filter(|_| {
            trigger.as_deref() == Some("PullRequest") || matches!(git_ref, GitRef::PullRequest(_))
        })
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
            head_owner: env
                .get(vars::SYSTEM_PULLREQUEST_SOURCEREPOSITORYURI)
                .and_then(owner_of_repository_url),
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

fn github(env: &Env) -> CiContext {
    let mut git_ref = full_ref(env, vars::GITHUB_REF);
    // GITHUB_REF_TYPE is authoritative where the ref is short or missing.
    if matches!(git_ref, GitRef::Other(_) | GitRef::Unknown) {
        match (
            env.get(vars::GITHUB_REF_TYPE),
            env.get(vars::GITHUB_REF_NAME),
        ) {
            (Some("tag"), Some(name)) => git_ref = GitRef::Tag(name.to_owned()),
            (Some("branch"), Some(name)) => git_ref = GitRef::Branch(name.to_owned()),
            _ => {}
        }
    }
    let event = read_event_payload(env);
    let pr_payload = event.as_ref().and_then(|e| e.get("pull_request"));
    let number = pr_payload
        .and_then(|pr| pr.get("number"))
        .and_then(serde_json::Value::as_u64)
        .or_else(|| git_ref.pull_request_number());
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
            // `head.label` is `owner:branch`; the owner's login says the same.
            head_owner: str_at(&["head", "label"])
                .and_then(|label| Some(label.split_once(':')?.0.to_owned()))
                .or_else(|| str_at(&["head", "repo", "owner", "login"])),
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
    // GitLab names the tag or the branch, never both; a tag wins should it ever do.
    let git_ref = match (tag, branch, number) {
        (Some(tag), _, _) => GitRef::Tag(tag),
        (None, Some(branch), _) => GitRef::Branch(branch),
        (None, None, Some(n)) => GitRef::PullRequest(format!("refs/merge-requests/{n}/head")),
        (None, None, None) => GitRef::Unknown,
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
        head_owner: env
            .get(vars::CI_MERGE_REQUEST_SOURCE_PROJECT_PATH)
            .and_then(|path| Some(path.rsplit_once('/')?.0.to_owned())),
    });
    CiContext {
        provider: Provider::GitlabCi,
        commit: env.string(vars::CI_COMMIT_SHA),
        git_ref,
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
        let context = CiContext::detect(&Env::default()).unwrap();
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
        let context = CiContext::detect(&env).unwrap();
        assert_eq!(context.provider, Provider::AzurePipelines);
        assert_eq!(context.git_ref, GitRef::Tag("v0.18.3".into()));
        assert_eq!(context.git_ref.tag(), Some("v0.18.3"));
        assert_eq!(context.git_ref.branch(), None);
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
            (
                "SYSTEM_PULLREQUEST_SOURCEREPOSITORYURI",
                "https://github.com/someone/clkhash.git",
            ),
        ]);
        let context = CiContext::detect(&env).unwrap();
        let pr = context.pull_request.expect("a pull request");
        assert_eq!(pr.head_label().as_deref(), Some("someone:feature"));
        assert_eq!(pr.number, 7);
        assert_eq!(pr.head_branch.as_deref(), Some("feature"));
        assert_eq!(pr.base_branch.as_deref(), Some("master"));
        assert_eq!(pr.head_commit.as_deref(), Some("def456"));
        assert_eq!(pr.from_fork, Some(true));
        assert_eq!(
            context.git_ref,
            GitRef::PullRequest("refs/pull/7/merge".into())
        );
        assert_eq!(context.git_ref.branch(), None);
        assert_eq!(context.git_ref.tag(), None);
    }

    #[test]
    fn github_pull_request_from_payload() {
        let dir = tempfile::tempdir().unwrap();
        let payload = dir.path().join("event.json");
        fs_err::write(
            &payload,
            r#"{"pull_request": {"number": 12, "head": {"sha": "h1", "ref": "f",
                "label": "someone:f", "repo": {"full_name": "someone/clkhash"}},
                "base": {"ref": "main"}},
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
        let context = CiContext::detect(&env).unwrap();
        assert_eq!(
            context.git_ref.branch(),
            None,
            "a PR merge ref is not a branch"
        );
        let pr = context.pull_request.expect("a pull request");
        assert_eq!(pr.number, 12);
        assert_eq!(pr.head_commit.as_deref(), Some("h1"));
        assert_eq!(pr.from_fork, Some(true));
        assert_eq!(pr.head_label().as_deref(), Some("someone:f"));
        assert_eq!(context.default_branch.as_deref(), Some("main"));
        assert_eq!(
            context.build_url.as_deref(),
            Some("https://github.com/data61/clkhash/actions/runs/99")
        );
    }

    #[test]
    fn the_owner_of_a_repository_url() {
        for (url, owner) in [
            ("https://github.com/someone/clkhash.git", Some("someone")),
            ("https://github.com/someone/clkhash", Some("someone")),
            ("git@github.com:someone/clkhash.git", Some("someone")),
            (
                "https://gitlab.com/group/sub/project.git",
                Some("group/sub"),
            ),
            ("https://github.com/clkhash", None),
            ("not a url", None),
        ] {
            assert_eq!(owner_of_repository_url(url).as_deref(), owner, "{url}");
        }
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
        let context = CiContext::detect(&env).unwrap();
        assert_eq!(context.provider, Provider::GitlabCi);
        assert_eq!(context.git_ref.full().as_deref(), Some("refs/tags/v1.2.0"));
        assert_eq!(context.git_ref.tag(), Some("v1.2.0"));
        assert_eq!(context.repository.as_deref(), Some("group/sub/project"));
    }

    #[test]
    fn provider_override_wins() {
        let env = Env::from_pairs([("GITHUB_ACTIONS", "true"), ("CUSTODY_CI_PROVIDER", "none")]);
        assert_eq!(CiContext::detect(&env).unwrap().provider, Provider::None);
    }

    #[test]
    fn an_unknown_provider_override_is_an_error() {
        let env = Env::from_pairs([("TF_BUILD", "True"), ("CUSTODY_CI_PROVIDER", "bogus")]);
        assert_eq!(
            CiContext::detect(&env),
            Err(UnknownProvider {
                value: "bogus".into()
            })
        );
        let env = Env::from_pairs([
            ("CUSTODY_CI_PROVIDER", "Azure"),
            ("BUILD_SOURCEBRANCH", "refs/heads/main"),
        ]);
        let context = CiContext::detect(&env).unwrap();
        assert_eq!(context.provider, Provider::AzurePipelines);
        assert_eq!(context.git_ref, GitRef::Branch("main".into()));
    }

    #[test]
    fn github_ref_type_names_the_ref_where_github_ref_does_not() {
        let env = Env::from_pairs([
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REF_TYPE", "tag"),
            ("GITHUB_REF_NAME", "v1.0"),
        ]);
        assert_eq!(
            CiContext::detect(&env).unwrap().git_ref,
            GitRef::Tag("v1.0".into())
        );
        // The full ref wins where it says more.
        let env = Env::from_pairs([
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REF", "refs/pull/3/merge"),
            ("GITHUB_REF_TYPE", "branch"),
            ("GITHUB_REF_NAME", "3/merge"),
        ]);
        let context = CiContext::detect(&env).unwrap();
        assert_eq!(
            context.git_ref,
            GitRef::PullRequest("refs/pull/3/merge".into())
        );
        assert_eq!(context.pull_request.map(|pr| pr.number), Some(3));
    }

    #[test]
    fn gitlab_merge_request_ref() {
        let env = Env::from_pairs([("GITLAB_CI", "true"), ("CI_MERGE_REQUEST_IID", "3")]);
        let context = CiContext::detect(&env).unwrap();
        assert_eq!(
            context.git_ref,
            GitRef::PullRequest("refs/merge-requests/3/head".into())
        );
        assert_eq!(context.pull_request.map(|pr| pr.number), Some(3));
    }

    #[test]
    fn the_source_dir_is_the_named_checkout_else_the_working_directory() {
        let cwd = Path::new("/work/a");
        assert_eq!(source_dir(&Env::default(), cwd), cwd);
        let env = Env::from_pairs([(vars::CUSTODY_SOURCE_DIR, "../b")]);
        assert_eq!(source_dir(&env, cwd), Path::new("/work/a/../b"));
        let env = Env::from_pairs([(vars::CUSTODY_SOURCE_DIR, "/src/b")]);
        assert_eq!(source_dir(&env, cwd), Path::new("/src/b"));
    }

    #[test]
    fn local_git_fills_only_what_the_ci_system_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let status = Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
                .args(args)
                .current_dir(dir.path())
                .output()
                .unwrap();
            assert!(status.status.success(), "git {args:?}: {status:?}");
            String::from_utf8(status.stdout).unwrap().trim().to_owned()
        };
        git(&["init", "--quiet", "--initial-branch=main"]);
        git(&["commit", "--quiet", "--allow-empty", "-m", "one"]);
        git(&["tag", "v1.0"]);
        let head = git(&["rev-parse", "HEAD"]);
        let local = CiContext::default().with_local_git(dir.path());
        assert_eq!(local.commit.as_deref(), Some(head.as_str()));
        assert_eq!(local.git_ref, GitRef::Tag("v1.0".into()));
        let env = Env::from_pairs([
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SHA", "c1"),
            ("GITHUB_REF", "refs/heads/main"),
        ]);
        let ci = CiContext::detect(&env).unwrap().with_local_git(dir.path());
        assert_eq!(ci.commit.as_deref(), Some("c1"));
        assert_eq!(ci.git_ref, GitRef::Branch("main".into()));
    }

    #[test]
    fn context_round_trips_through_json() {
        let env = Env::from_pairs([("GITLAB_CI", "true"), ("CI_MERGE_REQUEST_IID", "3")]);
        let context = CiContext::detect(&env).unwrap();
        let json = serde_json::to_string(&context).unwrap();
        assert!(json.contains(r#""provider":"gitlab-ci""#), "{json}");
        let back: CiContext = serde_json::from_str(&json).unwrap();
        assert_eq!(back, context);
    }
}
