//! The approval issue, against a local server implementing the REST endpoints used:
//! create an issue, list its comments, comment, close.

use std::sync::{Arc, Mutex};

use custody_test_support::{MockServer, Reply};

use crate::{cmd, record, release, stderr_of, stdout_of};

/// A GitHub whose issue #12 gets `comments` (login, body), revealed one per poll.
fn github(comments: &'static [(&'static str, &'static str)]) -> MockServer {
    let polls = Arc::new(Mutex::new(0usize));
    MockServer::start(move |request, _| {
        if request.header("Authorization") != Some("Bearer ghs_secret_token") {
            return Reply::json(401, r#"{"message": "Bad credentials"}"#);
        }
        let path = request.url.split('?').next().unwrap();
        match (request.method.as_str(), path) {
            ("POST", "/repos/data61/clkhash/issues") => Reply::json(
                201,
                r#"{"number": 12, "html_url": "https://github.com/data61/clkhash/issues/12"}"#,
            ),
            ("GET", "/repos/data61/clkhash/issues/12/comments") => {
                let mut polls = polls.lock().unwrap();
                *polls += 1;
                let shown: Vec<String> = comments
                    .iter()
                    .take(*polls)
                    .map(|(login, body)| {
                        serde_json::json!({"user": {"login": login}, "body": body}).to_string()
                    })
                    .collect();
                Reply::json(200, &format!("[{}]", shown.join(",")))
            }
            ("POST", "/repos/data61/clkhash/issues/12/comments") => Reply::json(201, "{}"),
            ("PATCH", "/repos/data61/clkhash/issues/12") => Reply::json(200, "{}"),
            _ => Reply::json(404, r#"{"message": "Not Found"}"#),
        }
    })
}

fn run(server: &MockServer, dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    run_with_token(server, dir, extra, "ghs_secret_token")
}

fn run_with_token(
    server: &MockServer,
    dir: &std::path::Path,
    extra: &[&str],
    token: &str,
) -> std::process::Output {
    cmd(dir)
        .args([
            "--manifest",
            "release/release.json",
            "--out",
            "approval.json",
            "--github-issue",
        ])
        .args(["--poll-interval", "20ms"])
        .args(extra)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_REPOSITORY", "data61/clkhash")
        .env("GITHUB_ACTOR", "alice")
        .env("GITHUB_API_URL", server.url())
        .env("GITHUB_TOKEN", token)
        .output()
        .unwrap()
}

#[test]
fn approvers_decide_and_the_initiator_does_not() {
    let server = github(&[
        ("alice", "approve"), // started the build
        ("mallory", "LGTM"),  // not an approver
        ("bob", "Approved, thanks!"),
        ("carol", "approve\n::error::injected"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let (_, manifest) = release(dir.path());
    let output = run(
        &server,
        dir.path(),
        &["--approvers", "alice,bob,carol", "--min-approvals", "2"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let approval = record(&dir.path().join("approval.json"));
    assert_eq!(approval["decision"], "approved");
    assert_eq!(approval["decided_by"], serde_json::json!(["bob", "carol"]));
    assert_eq!(approval["source"], "github-issue");
    assert_eq!(
        approval["reference"],
        "https://github.com/data61/clkhash/issues/12"
    );

    let requests = server.requests();
    let created = &requests[0];
    assert_eq!(
        (created.method.as_str(), created.url.as_str()),
        ("POST", "/repos/data61/clkhash/issues")
    );
    let issue: serde_json::Value = serde_json::from_slice(&created.body).unwrap();
    assert_eq!(
        issue["title"],
        "Release custody-sample 0.18.3: approval needed"
    );
    let body = issue["body"].as_str().unwrap();
    assert!(
        body.contains(&manifest.digest) && body.contains(&manifest.artifacts[1].digests.sha256),
        "{body}"
    );
    assert!(
        body.contains("@alice, @bob, @carol; 2 approval(s) needed"),
        "{body}"
    );
    // The outcome is commented and the issue closed.
    let closing = requests
        .iter()
        .find(|r| r.method == "POST" && r.url.ends_with("/comments"))
        .unwrap();
    assert!(
        closing.body_text().contains("Approved by bob, carol"),
        "{}",
        closing.body_text()
    );
    let close = requests.iter().find(|r| r.method == "PATCH").unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&close.body).unwrap()["state"],
        "closed"
    );

    let all = format!("{}{}", stdout_of(&output), stderr_of(&output));
    assert!(
        all.contains("ignored the verdict of alice (started this build)"),
        "{all}"
    );
    assert!(
        all.contains("ignored the verdict of mallory (not an approver)"),
        "{all}"
    );
    assert_eq!(
        all.matches("ghs_secret_token").count(),
        1,
        "only in the mask command: {all}"
    );
    assert!(all.contains("::add-mask::ghs_secret_token"), "{all}");
}

#[test]
fn a_deny_from_an_approver_rejects() {
    let server = github(&[("bob", "deny: the changelog is wrong")]);
    let dir = tempfile::tempdir().unwrap();
    release(dir.path());
    let output = run(
        &server,
        dir.path(),
        &["--approvers", "bob", "--timeout", "20s"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    assert_eq!(
        record(&dir.path().join("approval.json"))["decision"],
        "rejected"
    );
    let close = server
        .requests()
        .into_iter()
        .find(|r| r.method == "PATCH")
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&close.body).unwrap()["state_reason"],
        "not_planned"
    );
}

#[test]
fn no_answer_times_out_and_closes_the_issue() {
    let server = github(&[]);
    let dir = tempfile::tempdir().unwrap();
    release(dir.path());
    let output = run(
        &server,
        dir.path(),
        &["--approvers", "bob", "--timeout", "200ms"],
    );
    assert_eq!(output.status.code(), Some(5), "{}", stderr_of(&output));
    assert_eq!(
        record(&dir.path().join("approval.json"))["decision"],
        "timed_out"
    );
    assert!(server.requests().iter().any(|r| r.method == "PATCH"));
}

#[test]
fn a_bad_token_is_an_environment_error_with_a_hint() {
    let server = github(&[]);
    let dir = tempfile::tempdir().unwrap();
    release(dir.path());
    let output = cmd(dir.path())
        .args([
            "--manifest",
            "release/release.json",
            "--out",
            "approval.json",
            "--github-issue",
            "--approvers",
            "bob",
        ])
        .env("GITHUB_REPOSITORY", "data61/clkhash")
        .env("GITHUB_API_URL", server.url())
        .env("GITHUB_TOKEN", "wrong-token-123")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("answered 401: Bad credentials"), "{stderr}");
    assert!(!stderr.contains("wrong-token-123"), "{stderr}");
    assert!(!dir.path().join("approval.json").exists());
}

#[test]
fn an_unexpanded_azure_macro_is_no_token() {
    let server = github(&[]);
    let dir = tempfile::tempdir().unwrap();
    release(dir.path());
    let output = run_with_token(
        &server,
        dir.path(),
        &["--approvers", "bob"],
        "$(GITHUB_TOKEN)",
    );
    assert_eq!(output.status.code(), Some(4));
    // On GitHub the error is an `::error` command on stdout.
    let stderr = format!("{}{}", stdout_of(&output), stderr_of(&output));
    assert!(
        stderr.contains("GITHUB_TOKEN is `$(GITHUB_TOKEN)`, an Azure Pipelines variable not defined for this run (not sent)"),
        "{stderr}"
    );
    assert!(server.requests().is_empty(), "nothing reaches GitHub");
}
