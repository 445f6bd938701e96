//! This job's identity as its Sigstore token names it (unverified: Fulcio verifies the
//! token, and what we sign is verified against the trust root afterwards): the
//! publisher a verifier expects, and what PyPI would refuse before anything is signed.
//!
//! PyPI verifies an uploaded attestation against the trusted publisher that minted the
//! upload token. For GitHub that publisher is matched on the token's `job_workflow_ref`
//! (the workflow the job runs in), while Fulcio writes the token's `workflow_ref` (the
//! workflow that was triggered) into the certificate's Build Config URI. Behind a
//! reusable workflow the two differ, and Warehouse refuses every attestation with
//! "Certificate's Build Config URI (...) does not match expected Trusted Publisher".

use custody_attest::{Identity, RefPattern};
use serde_json::{Map, Value};

use crate::trusted::claims;

/// The claims of this job's Sigstore token that name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Job {
    GitHub {
        /// `owner/repo`.
        repository: String,
        /// `owner/repo/.github/workflows/file.yml@ref`: the triggered workflow.
        workflow_ref: String,
        /// The same for the workflow the job runs in (a reusable one, or the same).
        job_workflow_ref: Option<String>,
        /// `refs/tags/v1`, the ref the workflow runs on.
        git_ref: String,
    },
    GitLab {
        /// `group/project`.
        project: String,
        /// `gitlab.com/group/project//.gitlab-ci.yml@refs/tags/v1`.
        config_ref_uri: String,
        /// `refs/tags/v1`.
        git_ref: String,
    },
}

/// Why a token does not name a job we can sign for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotAJob {
    pub reason: String,
}

fn text<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
}

impl Job {
    /// Reads the token's claims: GitHub's when it has `workflow_ref`, GitLab's when it
    /// has `ci_config_ref_uri`.
    pub(crate) fn from_token(jwt: &str) -> Result<Self, NotAJob> {
        let fail = |reason: &str| NotAJob {
            reason: reason.to_owned(),
        };
        let claims = claims::unverified(jwt).ok_or_else(|| fail("it is not a JWT"))?;
        if let Some(workflow_ref) = text(&claims, "workflow_ref") {
            let repository = text(&claims, "repository")
                .ok_or_else(|| fail("it has `workflow_ref` but no `repository` claim"))?;
            let git_ref = text(&claims, "ref")
                .or_else(|| workflow_ref.split_once('@').map(|(_, r)| r))
                .unwrap_or_default();
            return Ok(Self::GitHub {
                repository: repository.to_owned(),
                workflow_ref: workflow_ref.to_owned(),
                job_workflow_ref: text(&claims, "job_workflow_ref").map(str::to_owned),
                git_ref: git_ref.to_owned(),
            });
        }
        if let Some(config_ref_uri) = text(&claims, "ci_config_ref_uri") {
            let project = text(&claims, "project_path")
                .ok_or_else(|| fail("it has `ci_config_ref_uri` but no `project_path` claim"))?;
            let git_ref = text(&claims, "ref_path")
                .or_else(|| config_ref_uri.rsplit_once('@').map(|(_, r)| r))
                .unwrap_or_default();
            return Ok(Self::GitLab {
                project: project.to_owned(),
                config_ref_uri: config_ref_uri.to_owned(),
                git_ref: git_ref.to_owned(),
            });
        }
        Err(fail(
            "it names neither a GitHub workflow (`workflow_ref`) nor a GitLab pipeline (`ci_config_ref_uri`)",
        ))
    }

    /// The signer a verifier of what this job signs expects: the repository, the
    /// workflow (or CI config) file and this run's ref, exactly.
    pub(crate) fn identity(&self) -> Result<Identity, NotAJob> {
        match self {
            Self::GitHub {
                repository,
                workflow_ref,
                git_ref,
                ..
            } => {
                let path = workflow_ref
                    .split_once('@')
                    .map_or(workflow_ref.as_str(), |(p, _)| p);
                let workflow = path
                    .strip_prefix(&format!("{repository}/.github/workflows/"))
                    .filter(|w| !w.is_empty() && !w.contains('/'))
                    .ok_or_else(|| NotAJob {
                        reason: format!(
                            "its `workflow_ref` `{workflow_ref}` is not a workflow of `{repository}`"
                        ),
                    })?;
                Ok(Identity::GitHub {
                    repository: repository.clone(),
                    workflow: workflow.to_owned(),
                    git_ref: Some(RefPattern::new(git_ref.clone())),
                    environment: None,
                })
            }
            Self::GitLab {
                project,
                config_ref_uri,
                git_ref,
            } => {
                let path = config_ref_uri
                    .rsplit_once('@')
                    .map_or(config_ref_uri.as_str(), |(p, _)| p);
                let config_path = path
                    .split_once("//")
                    .map(|(_, config)| config)
                    .filter(|c| !c.is_empty())
                    .ok_or_else(|| NotAJob {
                        reason: format!(
                            "its `ci_config_ref_uri` `{config_ref_uri}` names no CI config file"
                        ),
                    })?;
                Ok(Identity::GitLab {
                    project: project.clone(),
                    config_path: config_path.to_owned(),
                    git_ref: Some(RefPattern::new(git_ref.clone())),
                })
            }
        }
    }

    /// GitHub behind a reusable workflow: `(caller, callee)`, the workflow the
    /// certificate will name and the one PyPI's trusted publisher is matched on.
    pub(crate) fn reusable_workflow(&self) -> Option<(&str, &str)> {
        let Self::GitHub {
            workflow_ref,
            job_workflow_ref: Some(job_workflow_ref),
            ..
        } = self
        else {
            return None;
        };
        let file = |reference: &str| {
            reference
                .split_once('@')
                .map_or(reference, |(p, _)| p)
                .to_owned()
        };
        (file(workflow_ref) != file(job_workflow_ref))
            .then_some((workflow_ref.as_str(), job_workflow_ref.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    fn jwt(claims: &Value) -> String {
        format!(
            "eyJhbGciOiJSUzI1NiJ9.{}.c2ln",
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    fn github(workflow_ref: &str, job_workflow_ref: &str) -> Job {
        Job::from_token(&jwt(&serde_json::json!({
            "iss": "https://token.actions.githubusercontent.com",
            "repository": "octo/sample",
            "ref": "refs/tags/v1",
            "workflow_ref": workflow_ref,
            "job_workflow_ref": job_workflow_ref,
        })))
        .unwrap()
    }

    #[test]
    fn a_github_job_expects_its_repository_workflow_and_ref() {
        let job = github(
            "octo/sample/.github/workflows/release.yml@refs/tags/v1",
            "octo/sample/.github/workflows/release.yml@refs/tags/v1",
        );
        assert_eq!(
            job.identity().unwrap().to_string(),
            "github:octo/sample/.github/workflows/release.yml@refs/tags/v1"
        );
        assert_eq!(job.reusable_workflow(), None);
    }

    #[test]
    fn a_reusable_workflow_is_told_apart_from_the_triggered_one() {
        let job = github(
            "octo/sample/.github/workflows/release.yml@refs/tags/v1",
            "octo/sample/.github/workflows/publish.yml@refs/tags/v1",
        );
        assert_eq!(
            job.reusable_workflow(),
            Some((
                "octo/sample/.github/workflows/release.yml@refs/tags/v1",
                "octo/sample/.github/workflows/publish.yml@refs/tags/v1"
            ))
        );
        // One in another repository, at another ref.
        let job = github(
            "octo/sample/.github/workflows/release.yml@refs/tags/v1",
            "octo/shared/.github/workflows/release.yml@refs/heads/main",
        );
        assert!(job.reusable_workflow().is_some());
    }

    #[test]
    fn a_gitlab_job_expects_its_project_config_and_ref() {
        let job = Job::from_token(&jwt(&serde_json::json!({
            "iss": "https://gitlab.com",
            "project_path": "group/sub/sample",
            "ci_config_ref_uri": "gitlab.com/group/sub/sample//ci/release.yml@refs/tags/v1",
            "ref_path": "refs/tags/v1",
        })))
        .unwrap();
        assert_eq!(
            job.identity().unwrap().to_string(),
            "gitlab:group/sub/sample//ci/release.yml@refs/tags/v1"
        );
        assert_eq!(job.reusable_workflow(), None);
    }

    #[test]
    fn tokens_that_name_no_job_say_why() {
        for (token, reason) in [
            ("not-a-jwt".to_owned(), "it is not a JWT"),
            (
                jwt(&serde_json::json!({"sub": "someone"})),
                "it names neither a GitHub workflow",
            ),
            (
                jwt(&serde_json::json!({"workflow_ref": "o/r/.github/workflows/w.yml@x"})),
                "no `repository` claim",
            ),
        ] {
            let error = Job::from_token(&token).unwrap_err();
            assert!(error.reason.contains(reason), "{}", error.reason);
        }
        let job = github("other/repo/.github/workflows/w.yml@refs/tags/v1", "x");
        assert!(
            job.identity()
                .unwrap_err()
                .reason
                .contains("not a workflow of `octo/sample`")
        );
    }
}
