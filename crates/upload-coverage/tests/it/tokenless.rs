//! Codecov without a token: a fork's pull request uploads as `owner:branch`, the only
//! branch codecov-api's tokenless check takes (the local server enforces that rule as
//! codecov-api does); codecov-cli, given the branch codecov-action gives it, sends the
//! same upload; a refusal says why; Azure's unexpanded `$(CODECOV_TOKEN)` is never sent.

use std::path::Path;
use std::process::Command as Process;

use custody_test_support::{Recorded, codecov_server};

use crate::codecov::{measured_repository, split};
use crate::{cmd, json_of, stderr_of, stdout_of};

/// A GitHub `pull_request` event from the fork `someone/clkhash`, head `fix` at `sha`.
fn github_fork_event(dir: &Path, sha: &str) -> std::path::PathBuf {
    let event = dir.join("event.json");
    fs_err::write(
        &event,
        format!(
            r#"{{"pull_request": {{"number": 7, "head": {{"ref": "fix", "sha": "{sha}",
            "label": "someone:fix", "repo": {{"full_name": "someone/clkhash",
            "owner": {{"login": "someone"}}}}}}, "base": {{"ref": "main",
            "repo": {{"full_name": "data61/clkhash"}}}}}}}}"#
        ),
    )
    .unwrap();
    event
}

fn github_fork(command: &mut assert_cmd::Command, event: &Path) {
    command
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_REPOSITORY", "data61/clkhash")
        .env("GITHUB_SHA", "0000000000000000000000000000000000000000")
        .env("GITHUB_REF", "refs/pull/7/merge")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_HEAD_REF", "fix")
        .env("GITHUB_EVENT_PATH", event);
}

/// Azure Pipelines building pull request 9 of `data61/clkhash` from `someone`'s
/// repository, head `branch` at `sha`; `fork` is `SYSTEM_PULLREQUEST_ISFORK`.
pub(crate) fn azure_pull_request(
    command: &mut assert_cmd::Command,
    sha: &str,
    branch: &str,
    fork: &str,
) {
    command
        .env("TF_BUILD", "True")
        .env("BUILD_SOURCEBRANCH", "refs/pull/9/merge")
        .env("BUILD_REASON", "PullRequest")
        .env("BUILD_SOURCEVERSION", sha)
        .env("BUILD_REPOSITORY_NAME", "data61/clkhash")
        .env("SYSTEM_PULLREQUEST_PULLREQUESTNUMBER", "9")
        .env("SYSTEM_PULLREQUEST_SOURCEBRANCH", branch)
        .env("SYSTEM_PULLREQUEST_ISFORK", fork)
        .env(
            "SYSTEM_PULLREQUEST_SOURCEREPOSITORYURI",
            "https://github.com/someone/clkhash.git",
        );
}

fn post(requests: &[Recorded]) -> (Recorded, serde_json::Value) {
    let post = requests
        .iter()
        .find(|r| r.method == "POST")
        .expect("a POST")
        .clone();
    let body = serde_json::from_slice(&post.body).unwrap();
    (post, body)
}

#[test]
fn a_fork_pull_request_uploads_as_owner_colon_branch_as_codecov_cli_does() {
    let server = codecov_server();
    let dir = tempfile::tempdir().unwrap();
    let (project, sha) = measured_repository(dir.path());
    let event = github_fork_event(dir.path(), &sha);
    let mut ours = cmd(&project);
    ours.args(["all.xml", "--codecov-url", &server.url(), "--json"]);
    github_fork(&mut ours, &event);
    let output = ours.output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(
        json_of(&output)["codecov"]["uploaded"],
        true,
        "{}",
        stderr_of(&output)
    );
    let our_requests = server.requests();
    let (our_post, our_body, _) = split(&our_requests);
    assert_eq!(our_post.header("Authorization"), None);
    assert_eq!(our_body["branch"], "someone:fix");
    assert_eq!(our_body["commitid"], sha.as_str());

    // codecov-cli as codecov-action runs it for a fork without a token: the branch is
    // the pull request's `head.label`.
    let theirs = Process::new(custody_test_support::venv_bin().join("codecovcli"))
        .args(["--disable-telem", "-u", server.url().trim_end_matches('/')])
        .args(["upload-coverage", "-C", &sha, "-r", "data61/clkhash"])
        .args(["--git-service", "github", "-B", "someone:fix", "-P", "7"])
        .args(["-f", "all.xml", "--disable-search", "--disable-file-fixes"])
        .current_dir(&project)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let their_requests: Vec<Recorded> = server
        .requests()
        .into_iter()
        .skip(our_requests.len())
        .collect();
    assert!(
        their_requests.iter().any(|r| r.method == "PUT"),
        "the server took codecov-cli's upload too:\n{}{}",
        String::from_utf8_lossy(&theirs.stdout),
        String::from_utf8_lossy(&theirs.stderr)
    );
    let (their_post, their_body) = post(&their_requests);
    assert_eq!(our_post.url, their_post.url);
    assert_eq!(their_post.header("Authorization"), None);
    for field in ["branch", "commitid", "pullid", "code"] {
        assert_eq!(our_body[field], their_body[field], "{field}");
    }
}

#[test]
fn with_a_token_a_fork_keeps_its_plain_branch() {
    let server = codecov_server();
    let dir = tempfile::tempdir().unwrap();
    let (project, sha) = measured_repository(dir.path());
    let event = github_fork_event(dir.path(), &sha);
    let mut with_token = cmd(&project);
    with_token.args(["all.xml", "--codecov-url", &server.url()]);
    github_fork(&mut with_token, &event);
    let output = with_token.env("CODECOV_TOKEN", "tok-9").output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let (_, body) = post(&server.requests());
    assert_eq!(body["branch"], "fix", "a token needs no label");
    // An Azure fork's label (from SYSTEM_PULLREQUEST_SOURCEREPOSITORYURI) is checked in
    // codecov.rs, `without_a_token_nothing_is_sent_except_for_fork_pull_requests`.
}

#[test]
fn a_refused_tokenless_upload_says_why_and_what_to_do() {
    let server = codecov_server();
    let dir = tempfile::tempdir().unwrap();
    let (project, sha) = measured_repository(dir.path());
    let run = |extra: &[&str]| {
        cmd(&project)
            .args(["all.xml", "--codecov", "--codecov-url", &server.url()])
            .args([
                "--commit",
                &sha,
                "--slug",
                "data61/clkhash",
                "--branch",
                "main",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let output = run(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("Codecov refused the upload without a token (branch `main`): 401 Not valid tokenless upload"),
        "the server's reason: {stderr}"
    );
    assert!(
        stderr.contains("hint: Codecov takes an upload without a token only from a fork's pull request, with the branch named `owner:branch` (this one: `main`)"),
        "{stderr}"
    );
    let output = run(&["--fail-on-error"]);
    assert_eq!(output.status.code(), Some(4), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains("Not valid tokenless upload"));
    assert!(
        server.requests().iter().all(|r| r.method == "POST"),
        "nothing reached storage"
    );
}

#[test]
fn azure_unexpanded_token_macro_is_never_sent() {
    let server = codecov_server();
    let dir = tempfile::tempdir().unwrap();
    let (project, sha) = measured_repository(dir.path());
    let azure = |fork: &str| {
        let mut command = cmd(&project);
        command.args(["all.xml", "--codecov-url", &server.url()]);
        azure_pull_request(&mut command, &sha, "refs/heads/fix", fork);
        command
            .env("CODECOV_TOKEN", "$(CODECOV_TOKEN)")
            .output()
            .unwrap()
    };
    // Not a fork: no token means no upload, and a warning saying why.
    let output = azure("False");
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(server.requests().is_empty(), "nothing sent");
    // Azure reads its commands from stdout; the hint goes to stderr.
    let all = format!("{}{}", stdout_of(&output), stderr_of(&output));
    assert!(
        all.contains("##vso[task.logissue type=warning]the Codecov token is the unexpanded Azure Pipelines macro `$(CODECOV_TOKEN)`: the variable is not defined for this run%3B not uploading to Codecov"),
        "{all}"
    );
    assert!(
        all.contains("hint: define CODECOV_TOKEN as a secret variable"),
        "{all}"
    );
    // A fork: tokenless, as `owner:branch`.
    let output = azure("True");
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(stdout_of(&output).contains("%3B uploading without a token"));
    let (post, body) = post(&server.requests());
    assert_eq!(post.header("Authorization"), None);
    assert_eq!(body["branch"], "someone:fix");
    assert!(
        server
            .requests()
            .iter()
            .all(|r| !r.body_text().contains("$(CODECOV_TOKEN)")),
        "the macro is never sent"
    );
}
