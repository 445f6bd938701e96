//! The approval issue on GitHub: opened through the REST API with the release's file
//! table, decided by `approve`/`deny` comments of `--approvers` (the build's initiator
//! excluded unless allowed), and closed with the outcome. Needs only `GITHUB_TOKEN`
//! with `issues: write`.

use std::collections::BTreeSet;

use custody_ci::{SecretValue, vars};
use custody_cli::Diagnose;
use custody_http::reqwest::Method;
use custody_http::{
    Client, HttpConfig, HttpError, Secret, Url, check_transport, display_url, parse_url,
    send_with_retry,
};
use custody_manifest::{Decision, Manifest};
use custody_output::{Context, ExitStatus};
use serde_json::{Value, json};

use crate::release::{describe, release_name};
use crate::{Channel, Cli, OnTimeout, Outcome};
use custody_cli::OutputError;

const USER_AGENT: &str = concat!("custody-approve-gate/", env!("CARGO_PKG_VERSION"));

/// Why the approval issue could not be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum GithubError {
    #[error("GITHUB_TOKEN is not set")]
    NoToken,
    #[error(
        "GITHUB_TOKEN is `{text}`, an Azure Pipelines variable not defined for this run (not sent)"
    )]
    UnexpandedToken { text: String },
    #[error("GITHUB_REPOSITORY is not set: which repository should hold the approval issue?")]
    NoRepository,
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("{method} `{url}` answered {status}: {message}")]
    Refused {
        method: Method,
        url: String,
        status: u16,
        message: String,
    },
    #[error("GitHub created no issue (no number in its answer)")]
    NoIssue,
    #[error(transparent)]
    Output(#[from] OutputError),
}

impl Diagnose for GithubError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Http(error) => error.exit_status(),
            Self::Output(error) => error.exit_status(),
            Self::NoToken
            | Self::UnexpandedToken { .. }
            | Self::NoRepository
            | Self::Refused { .. }
            | Self::NoIssue => ExitStatus::Environment,
        }
    }

    fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::NoToken => {
                "pass `env: GITHUB_TOKEN: ${{ github.token }}` with `permissions: issues: write`"
            }
            Self::UnexpandedToken { .. } => {
                "define the token as a secret variable of the pipeline and map it into the step's `env:`"
            }
            Self::NoRepository => "run in GitHub Actions, or set GITHUB_REPOSITORY=owner/name",
            Self::Refused { status: 401, .. } => "GITHUB_TOKEN is missing or invalid",
            Self::Refused {
                status: 403 | 404, ..
            } => "the token needs `issues: write` on this repository (permissions: issues: write)",
            Self::Refused { .. } => "GitHub failed; re-run the step",
            Self::Http(error) => return Diagnose::hint(error),
            Self::Output(error) => return Diagnose::hint(error),
            Self::NoIssue => return None,
        };
        Some(hint.to_owned())
    }
}

/// The REST API of one repository, with the token.
struct Repository {
    client: Client,
    config: HttpConfig,
    /// `{api}/repos/{owner}/{name}/`.
    base: Url,
    token: Secret,
}

/// The approval issue once opened.
struct Issue {
    number: u64,
    url: Option<String>,
}

/// What the approvers' comments decided so far.
#[derive(Debug, PartialEq, Eq)]
struct Verdict {
    decision: Decision,
    by: Vec<String>,
}

/// The comments read: the verdict, if any, and whose verdicts did not count.
#[derive(Debug)]
struct Tally {
    verdict: Option<Verdict>,
    ignored: Vec<String>,
}

impl Repository {
    /// The repository of this build (`GITHUB_REPOSITORY`), with `GITHUB_TOKEN`.
    fn from_context(context: &mut Context) -> Result<Self, GithubError> {
        let env = &context.env;
        let token = match env.secret(vars::GITHUB_TOKEN) {
            SecretValue::Set(token) => token,
            SecretValue::Missing => return Err(GithubError::NoToken),
            SecretValue::Unexpanded { text } => return Err(GithubError::UnexpandedToken { text }),
        };
        context.out.mask(&token).map_err(OutputError::from)?;
        let repository = context
            .ci
            .repository
            .clone()
            .or_else(|| env.string(vars::GITHUB_REPOSITORY))
            .ok_or(GithubError::NoRepository)?;
        let api = env
            .get(vars::GITHUB_API_URL)
            .unwrap_or("https://api.github.com");
        let base = parse_url(&format!(
            "{}/repos/{repository}/",
            api.trim_end_matches('/')
        ))?;
        check_transport(&base, true)?;
        let config = HttpConfig::from_env(USER_AGENT, env);
        Ok(Self {
            client: custody_http::client(&config)?,
            config,
            base,
            token: Secret::new(token),
        })
    }

    /// Calls `path` (relative to the repository) and returns the JSON answer.
    fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value, GithubError> {
        let url = parse_url(&format!("{}{path}", self.base))?;
        let body_text = body.map(Value::to_string);
        let response = send_with_retry(
            &self.config,
            &url,
            || {
                let request = self
                    .client
                    .request(method.clone(), url.clone())
                    .header("Authorization", format!("Bearer {}", self.token.expose()))
                    .header("Accept", "application/vnd.github+json")
                    .header("X-GitHub-Api-Version", "2022-11-28");
                match &body_text {
                    Some(text) => request
                        .header("Content-Type", "application/json")
                        .body(text.clone()),
                    None => request,
                }
            },
            |_, _, _| {},
        )?;
        let status = response.status().as_u16();
        let text = response.text().unwrap_or_default();
        if !(200..300).contains(&status) {
            let message: String = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_else(|| text.chars().take(200).collect());
            return Err(GithubError::Refused {
                method,
                url: display_url(&url),
                status,
                message,
            });
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    fn open_issue(&self, title: &str, body: &str) -> Result<Issue, GithubError> {
        let issue = self.call(
            Method::POST,
            "issues",
            Some(&json!({ "title": title, "body": body })),
        )?;
        Ok(Issue {
            number: issue
                .get("number")
                .and_then(Value::as_u64)
                .ok_or(GithubError::NoIssue)?,
            url: issue
                .get("html_url")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }

    fn comments(&self, issue: &Issue) -> Result<Vec<Value>, GithubError> {
        let comments = self.call(
            Method::GET,
            &format!("issues/{}/comments?per_page=100", issue.number),
            None,
        )?;
        Ok(comments.as_array().cloned().unwrap_or_default())
    }

    /// Comments `closing` and closes the issue as `state_reason`.
    fn close(&self, issue: &Issue, closing: &str, state_reason: &str) -> Result<(), GithubError> {
        let path = format!("issues/{}", issue.number);
        self.call(
            Method::POST,
            &format!("{path}/comments"),
            Some(&json!({ "body": closing })),
        )?;
        self.call(
            Method::PATCH,
            &path,
            Some(&json!({ "state": "closed", "state_reason": state_reason })),
        )?;
        Ok(())
    }
}

/// A comment's verdict: its first word.
fn verdict(body: &str) -> Option<Decision> {
    let first = body
        .split_whitespace()
        .next()?
        .trim_end_matches(['.', '!', ',', ':', ';'])
        .to_ascii_lowercase();
    match first.as_str() {
        "approve" | "approved" | "lgtm" | "/approve" => Some(Decision::Approved),
        "deny" | "denied" | "reject" | "rejected" | "/deny" => Some(Decision::Rejected),
        _ => None,
    }
}

/// Reads the comments so far: a deny from an approver rejects; enough distinct
/// approvers approve.
fn tally(comments: &[Value], cli: &Cli, initiator: Option<&str>) -> Tally {
    let approvers: BTreeSet<String> = cli
        .approvers
        .iter()
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    let mut approved_by: Vec<String> = Vec::new();
    let mut ignored: Vec<String> = Vec::new();
    for comment in comments {
        let login = comment
            .pointer("/user/login")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let body = comment
            .get("body")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(decision) = verdict(body) else {
            continue;
        };
        if !approvers.contains(&login.to_ascii_lowercase()) {
            ignored.push(format!("{login} (not an approver)"));
        } else if !cli.allow_initiator && initiator.is_some_and(|i| i.eq_ignore_ascii_case(login)) {
            ignored.push(format!("{login} (started this build)"));
        } else if decision == Decision::Rejected {
            let by = vec![login.to_owned()];
            let verdict = Some(Verdict { decision, by });
            return Tally { verdict, ignored };
        } else if !approved_by.iter().any(|a| a.eq_ignore_ascii_case(login)) {
            approved_by.push(login.to_owned());
        }
    }
    let verdict = (approved_by.len() >= cli.min_approvals).then_some(Verdict {
        decision: Decision::Approved,
        by: approved_by,
    });
    Tally { verdict, ignored }
}

/// The issue's title and body: the release, how to decide, who may.
fn issue_text(cli: &Cli, manifest: &Manifest, context: &Context) -> (String, String) {
    let mut body = describe(manifest, true);
    if let Some(url) = &context.ci.build_url {
        body.push_str(&format!("\n**Waiting run:** {url}\n"));
    }
    body.push_str(&format!(
        "\nComment `approve` or `deny`. Approvers: {}; {} approval(s) needed{}. Times out after {}.\n",
        cli.approvers.iter().map(|a| format!("@{a}")).collect::<Vec<_>>().join(", "),
        cli.min_approvals,
        if cli.allow_initiator { "" } else { "; the user who started the build cannot approve it" },
        crate::humanize(cli.timeout)
    ));
    let title = format!("Release {}: approval needed", release_name(manifest));
    (title, body)
}

/// The comment that closes the issue, and its `state_reason`.
fn closing(verdict: Option<&Verdict>, cli: &Cli) -> (String, &'static str) {
    match verdict {
        Some(Verdict {
            decision: Decision::Approved,
            by,
        }) => (
            format!("Approved by {}. Publishing.", by.join(", ")),
            "completed",
        ),
        Some(Verdict { by, .. }) => (
            format!("Denied by {}. Nothing will be published.", by.join(", ")),
            "not_planned",
        ),
        None => (
            format!(
                "No decision within {}. {}",
                crate::humanize(cli.timeout),
                match cli.on_timeout {
                    OnTimeout::Reject => "Nothing will be published.",
                    OnTimeout::Approve => "Approved by default (--on-timeout approve).",
                }
            ),
            "not_planned",
        ),
    }
}

/// Opens the issue, waits for the approvers' verdict, closes the issue with it.
/// `None`: no verdict before the timeout.
pub(crate) fn wait_for_issue(
    cli: &Cli,
    manifest: &Manifest,
    context: &mut Context,
) -> Result<Option<Outcome>, GithubError> {
    let repository = Repository::from_context(context)?;
    let initiator = context
        .env
        .get(vars::GITHUB_TRIGGERING_ACTOR)
        .or_else(|| context.env.get(vars::GITHUB_ACTOR))
        .map(str::to_owned);
    let (title, body) = issue_text(cli, manifest, context);
    let issue = repository.open_issue(&title, &body)?;
    let shown_issue = issue
        .url
        .clone()
        .unwrap_or_else(|| format!("issue #{}", issue.number));
    context
        .out
        .info(&format!(
            "Waiting up to {} for approval on {shown_issue}",
            crate::humanize(cli.timeout),
        ))
        .map_err(OutputError::from)?;

    let mut ignored = Vec::new();
    let verdict = cli.polling().until(|| {
        let comments = repository.comments(&issue)?;
        let tally = tally(&comments, cli, initiator.as_deref());
        ignored = tally.ignored;
        Ok::<_, GithubError>(tally.verdict)
    })?;
    for note in &ignored {
        context
            .out
            .info(&format!("  ignored the verdict of {note}"))
            .map_err(OutputError::from)?;
    }
    let (closing, state_reason) = closing(verdict.as_ref(), cli);
    repository.close(&issue, &closing, state_reason)?;
    Ok(verdict.map(|Verdict { decision, by }| Outcome {
        decision,
        by,
        channel: Channel::GithubIssue,
        reference: issue.url,
        reason: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_are_first_words() {
        assert_eq!(verdict("approve"), Some(Decision::Approved));
        assert_eq!(verdict("LGTM! ship it"), Some(Decision::Approved));
        assert_eq!(
            verdict("Deny, the changelog is wrong"),
            Some(Decision::Rejected)
        );
        assert_eq!(verdict("I'd approve after lunch"), None);
        assert_eq!(verdict(""), None);
    }
}
