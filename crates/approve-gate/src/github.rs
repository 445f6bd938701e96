//! The approval issue on GitHub: opened through the REST API with the release's file
//! table, decided by `approve`/`deny` comments of `--approvers` (the build's initiator
//! excluded unless allowed), and closed with the outcome. Needs only `GITHUB_TOKEN`
//! with `issues: write`.

use std::collections::BTreeSet;
use std::time::Instant;

use custody_ci::vars;
use custody_cli::Failure;
use custody_http::{
    Client, HttpConfig, Secret, Url, check_transport, display_url, parse_url, send_with_retry,
};
use custody_manifest::{Decision, Manifest};
use custody_output::Context;
use serde_json::{Value, json};

use crate::{Cli, Outcome, describe, release_name};

const USER_AGENT: &str = concat!("custody-approve-gate/", env!("CARGO_PKG_VERSION"));

struct Api {
    client: Client,
    config: HttpConfig,
    base: Url,
    token: Secret,
}

impl Api {
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, Failure> {
        let url = self
            .base
            .join(path.trim_start_matches('/'))
            .map_err(Failure::usage)?;
        let body_text = body.map(Value::to_string);
        let response = send_with_retry(
            &self.config,
            &url,
            || {
                let request = match method {
                    "POST" => self.client.post(url.clone()),
                    "PATCH" => self.client.patch(url.clone()),
                    _ => self.client.get(url.clone()),
                };
                let request = request
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
            let hint = match status {
                401 => "GITHUB_TOKEN is missing or invalid",
                403 | 404 => {
                    "the token needs `issues: write` on this repository (permissions: issues: write)"
                }
                _ => "GitHub failed; re-run the step",
            };
            return Err(Failure::environment(format!(
                "{method} {} answered {status}: {message}\nhint: {hint}",
                display_url(&url)
            )));
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
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
fn tally(
    comments: &[Value],
    cli: &Cli,
    initiator: Option<&str>,
) -> (Option<Decision>, Vec<String>, Vec<String>) {
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
        let Some(verdict) = verdict(body) else {
            continue;
        };
        let lower = login.to_ascii_lowercase();
        if !approvers.contains(&lower) {
            ignored.push(format!("{login} (not an approver)"));
            continue;
        }
        if !cli.allow_initiator && initiator.is_some_and(|i| i.eq_ignore_ascii_case(login)) {
            ignored.push(format!("{login} (started this build)"));
            continue;
        }
        match verdict {
            Decision::Rejected => {
                return (Some(Decision::Rejected), vec![login.to_owned()], ignored);
            }
            _ => {
                if !approved_by.iter().any(|a| a.eq_ignore_ascii_case(login)) {
                    approved_by.push(login.to_owned());
                }
            }
        }
    }
    if approved_by.len() >= cli.min_approvals {
        (Some(Decision::Approved), approved_by, ignored)
    } else {
        (None, approved_by, ignored)
    }
}

pub(crate) fn wait_for_issue(
    cli: &Cli,
    manifest: &Manifest,
    context: &mut Context,
) -> Result<Option<Outcome>, Failure> {
    let env = context.env.clone();
    let token = env.get(vars::GITHUB_TOKEN).filter(|t| !t.is_empty()).ok_or_else(|| {
        Failure::environment(
            "GITHUB_TOKEN is not set\nhint: pass `env: GITHUB_TOKEN: ${{ github.token }}` with `permissions: issues: write`",
        )
    })?;
    context.out.mask(token).map_err(Failure::environment)?;
    let repository = context.ci.repository.clone().or_else(|| env.string(vars::GITHUB_REPOSITORY)).ok_or_else(|| {
        Failure::environment("GITHUB_REPOSITORY is not set: which repository should hold the approval issue?\nhint: run in GitHub Actions, or set GITHUB_REPOSITORY=owner/name")
    })?;
    let api_text = env
        .get(vars::GITHUB_API_URL)
        .unwrap_or("https://api.github.com");
    let mut base = parse_url(api_text).map_err(Failure::usage)?;
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    check_transport(&base, true)?;
    let config = HttpConfig::from_env(USER_AGENT, &env);
    let api = Api {
        client: custody_http::client(&config)?,
        config,
        base,
        token: Secret::new(token),
    };
    let initiator = env
        .get(vars::GITHUB_TRIGGERING_ACTOR)
        .or_else(|| env.get(vars::GITHUB_ACTOR))
        .map(str::to_owned);

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
    let issue = api.call(
        "POST",
        &format!("repos/{repository}/issues"),
        Some(&json!({ "title": format!("Release {}: approval needed", release_name(manifest)), "body": body })),
    )?;
    let number = issue
        .get("number")
        .and_then(Value::as_u64)
        .ok_or_else(|| Failure::environment("GitHub created no issue (no number in its answer)"))?;
    let issue_url = issue
        .get("html_url")
        .and_then(Value::as_str)
        .map(str::to_owned);
    context
        .out
        .info(&format!(
            "Waiting up to {} for approval on {}",
            crate::humanize(cli.timeout),
            issue_url
                .clone()
                .unwrap_or_else(|| format!("issue #{number}"))
        ))
        .map_err(Failure::environment)?;

    let deadline = Instant::now() + cli.timeout;
    let (decision, by, ignored) = loop {
        let comments = api.call(
            "GET",
            &format!("repos/{repository}/issues/{number}/comments?per_page=100"),
            None,
        )?;
        let comments = comments.as_array().cloned().unwrap_or_default();
        let (decision, by, ignored) = tally(&comments, cli, initiator.as_deref());
        if decision.is_some() {
            break (decision, by, ignored);
        }
        let now = Instant::now();
        if now >= deadline {
            break (None, by, ignored);
        }
        std::thread::sleep(cli.poll_interval.min(deadline - now));
    };
    for note in &ignored {
        context
            .out
            .info(&format!("  ignored the verdict of {note}"))
            .map_err(Failure::environment)?;
    }
    let (closing, reason) = match decision {
        Some(Decision::Approved) => (
            format!("Approved by {}. Publishing.", by.join(", ")),
            "completed",
        ),
        Some(Decision::Rejected) => (
            format!("Denied by {}. Nothing will be published.", by.join(", ")),
            "not_planned",
        ),
        _ => (
            format!(
                "No decision within {}. {}",
                crate::humanize(cli.timeout),
                match cli.on_timeout {
                    crate::OnTimeout::Reject => "Nothing will be published.",
                    crate::OnTimeout::Approve => "Approved by default (--on-timeout approve).",
                }
            ),
            "not_planned",
        ),
    };
    api.call(
        "POST",
        &format!("repos/{repository}/issues/{number}/comments"),
        Some(&json!({ "body": closing })),
    )?;
    api.call(
        "PATCH",
        &format!("repos/{repository}/issues/{number}"),
        Some(&json!({ "state": "closed", "state_reason": reason })),
    )?;
    Ok(decision.map(|decision| Outcome {
        decision,
        by,
        source: "github-issue",
        reference: issue_url,
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
