//! The Codecov upload against a local server that implements codecov-cli's protocol,
//! and a cross-check: codecov-cli itself (from PyPI) and upload-coverage send the same
//! requests to the same server.

use std::io::Read as _;
use std::process::Command as Process;

use custody_test_support::{MockServer, Recorded, Reply, codecov_server};
use serde_json::Value;

use crate::{cmd, json_of, measure, project, stderr_of, stdout_of};

pub(crate) fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let output = Process::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// The fixture project under git with a measured report; returns (project, head sha).
pub(crate) fn measured_repository(dir: &std::path::Path) -> (std::path::PathBuf, String) {
    let project = project(dir);
    git(&project, &["init", "-q", "-b", "main"]);
    git(&project, &["add", "calc", "tests"]);
    git(&project, &["commit", "-q", "-m", "x"]);
    measure(&project, ".coverage", true, &["tests"], "all");
    let sha = git(&project, &["rev-parse", "HEAD"]);
    (project, sha)
}

fn decode(data: &str) -> String {
    use base64::Engine;
    let compressed = base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap();
    let mut text = String::new();
    flate2::read::ZlibDecoder::new(&compressed[..])
        .read_to_string(&mut text)
        .unwrap();
    text
}

pub(crate) fn split(requests: &[Recorded]) -> (Recorded, Value, Value) {
    let post = requests
        .iter()
        .find(|r| r.method == "POST")
        .expect("a POST")
        .clone();
    let put = requests.iter().find(|r| r.method == "PUT").expect("a PUT");
    let body: Value = serde_json::from_slice(&post.body).unwrap();
    let payload: Value = serde_json::from_slice(&put.body).unwrap();
    (post, body, payload)
}

#[test]
#[allow(clippy::too_many_lines)] // a scenario read top to bottom, as its user lives it
fn a_pull_request_on_github_uploads_under_its_head_commit() {
    let server = codecov_server();
    let dir = tempfile::tempdir().unwrap();
    let (project, sha) = measured_repository(dir.path());
    let event = dir.path().join("event.json");
    fs_err::write(&event, format!(r#"{{"pull_request": {{"number": 7, "head": {{"ref": "fix", "sha": "{sha}", "repo": {{"full_name": "data61/clkhash"}}}}, "base": {{"ref": "main"}}}}}}"#)).unwrap();
    let output = cmd(&project)
        .args([
            "all.xml",
            "--codecov-url",
            &server.url(),
            "--flag",
            "py37-x86",
            "--json",
        ])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_REPOSITORY", "data61/clkhash")
        .env("GITHUB_SHA", "0000000000000000000000000000000000000000")
        .env("GITHUB_REF", "refs/pull/7/merge")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_HEAD_REF", "fix")
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_RUN_ID", "99")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("CODECOV_TOKEN", "codecov-secret-token")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let (post, body, payload) = split(&server.requests());
    assert_eq!(post.url, "/upload/github/data61::::clkhash/upload-coverage");
    assert_eq!(
        post.header("Authorization"),
        Some("token codecov-secret-token")
    );
    assert_eq!(
        body["commitid"],
        sha.as_str(),
        "the PR's head, not the merge commit"
    );
    assert_eq!(
        (body["branch"].as_str(), body["pullid"].as_str()),
        (Some("fix"), Some("7"))
    );
    assert_eq!(
        (body["ci_service"].as_str(), body["code"].as_str()),
        (Some("github-actions"), Some("default"))
    );
    assert_eq!(
        body["ci_url"],
        "https://github.com/data61/clkhash/actions/runs/99"
    );
    assert_eq!(body["flags"], serde_json::json!(["py37-x86"]));
    let file = &payload["coverage_files"][0];
    assert_eq!(file["format"], "base64+compressed");
    assert_eq!(
        decode(file["data"].as_str().unwrap()),
        fs_err::read_to_string(project.join("all.xml")).unwrap()
    );
    assert!(
        payload["network_files"]
            .as_array()
            .unwrap()
            .contains(&Value::from("calc/__init__.py"))
    );
    assert_eq!(
        body["report_payload_bytes"].as_u64(),
        Some(
            server
                .requests()
                .iter()
                .find(|r| r.method == "PUT")
                .unwrap()
                .body
                .len() as u64
        )
    );
    assert_eq!(json_of(&output)["codecov"]["uploaded"], true);
    let all = format!("{}{}", stdout_of(&output), stderr_of(&output));
    assert_eq!(
        all.matches("codecov-secret-token").count(),
        1,
        "only in the mask command: {all}"
    );
}

#[test]
#[allow(clippy::too_many_lines)] // a scenario read top to bottom, as its user lives it
fn codecov_cli_and_upload_coverage_send_the_same_upload() {
    let server = codecov_server();
    let dir = tempfile::tempdir().unwrap();
    let (project, sha) = measured_repository(dir.path());
    let theirs = Process::new(custody_test_support::venv_bin().join("codecovcli"))
        .args([
            "--disable-telem",
            "-u",
            server.url().trim_end_matches('/'),
            "upload-coverage",
            "-t",
            "tok-123",
            "-C",
            &sha,
        ])
        .args([
            "-r",
            "data61/clkhash",
            "--git-service",
            "github",
            "-B",
            "main",
            "-f",
            "all.xml",
        ])
        .args([
            "--disable-search",
            "--disable-file-fixes",
            "-F",
            "unit",
            "-n",
            "py37",
        ])
        .current_dir(&project)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert!(
        theirs.status.success(),
        "{}{}",
        String::from_utf8_lossy(&theirs.stdout),
        String::from_utf8_lossy(&theirs.stderr)
    );
    let their_requests = server.requests();
    let ours = cmd(&project)
        .args([
            "all.xml",
            "--codecov-url",
            &server.url(),
            "--codecov-token",
            "tok-123",
            "--commit",
            &sha,
        ])
        .args([
            "--slug",
            "data61/clkhash",
            "--git-service",
            "github",
            "--branch",
            "main",
            "--flag",
            "unit",
            "--name",
            "py37",
        ])
        .output()
        .unwrap();
    assert!(ours.status.success(), "{}", stderr_of(&ours));
    let our_requests: Vec<Recorded> = server
        .requests()
        .into_iter()
        .skip(their_requests.len())
        .collect();
    let (their_post, their_body, their_payload) = split(&their_requests);
    let (our_post, our_body, our_payload) = split(&our_requests);

    assert_eq!(our_post.url, their_post.url);
    assert_eq!(
        our_post.header("Authorization"),
        their_post.header("Authorization")
    );
    assert_eq!(
        our_post.header("Content-Type"),
        their_post.header("Content-Type")
    );
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&our_body), keys(&their_body), "the same fields");
    for field in [
        "ci_service",
        "ci_url",
        "env",
        "flags",
        "job_code",
        "name",
        "file_not_found",
        "branch",
        "code",
        "commitid",
        "parent_commit_id",
        "pullid",
    ] {
        assert_eq!(our_body[field], their_body[field], "{field}");
    }
    // The storage payload: same shape, same reports, same repository files.
    assert_eq!(keys(&our_payload), keys(&their_payload));
    assert_eq!(our_payload["report_fixes"], their_payload["report_fixes"]);
    assert_eq!(our_payload["metadata"], their_payload["metadata"]);
    let sorted = |v: &Value| {
        // codecov-cli splits `git ls-files -z` output and keeps the empty name after
        // the last NUL; that entry names no file.
        let mut files: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_owned())
            .filter(|f| !f.is_empty())
            .collect();
        files.sort();
        files
    };
    assert_eq!(
        sorted(&our_payload["network_files"]),
        sorted(&their_payload["network_files"])
    );
    let (our_file, their_file) = (
        &our_payload["coverage_files"][0],
        &their_payload["coverage_files"][0],
    );
    for field in ["filename", "format", "labels"] {
        assert_eq!(our_file[field], their_file[field], "{field}");
    }
    assert_eq!(
        decode(our_file["data"].as_str().unwrap()),
        decode(their_file["data"].as_str().unwrap())
    );
}

#[test]
fn an_outage_warns_unless_told_to_fail() {
    let server = MockServer::start(|_, _| Reply::json(503, r#"{"detail": "Service unavailable"}"#));
    let dir = tempfile::tempdir().unwrap();
    let (project, sha) = measured_repository(dir.path());
    let run = |extra: &[&str]| {
        cmd(&project)
            .args([
                "all.xml",
                "--codecov-url",
                &server.url(),
                "--codecov-token",
                "t0ken-abc",
                "--commit",
                &sha,
                "--slug",
                "data61/clkhash",
            ])
            .args(extra)
            .env("CUSTODY_HTTP_RETRIES", "2")
            .env("CUSTODY_HTTP_BACKOFF_MS", "1")
            .output()
            .unwrap()
    };
    let output = run(&["--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(server.requests().len(), 3, "one try and two retries");
    assert_eq!(json_of(&output)["codecov"]["uploaded"], false);
    assert!(
        stderr_of(&output).contains("(not failing the build: pass --fail-on-error for that)"),
        "{}",
        stderr_of(&output)
    );
    let output = run(&["--fail-on-error"]);
    assert_eq!(output.status.code(), Some(4));
    assert!(!format!("{}{}", stdout_of(&output), stderr_of(&output)).contains("t0ken-abc"));
}

#[test]
fn without_a_token_nothing_is_sent_except_for_fork_pull_requests() {
    let server = codecov_server();
    let dir = tempfile::tempdir().unwrap();
    let (project, sha) = measured_repository(dir.path());
    let output = cmd(&project)
        .args(["all.xml", "--codecov-url", &server.url()])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(server.requests().is_empty());
    // A fork's pull request on Azure: tokenless.
    let mut command = cmd(&project);
    command.args(["all.xml", "--codecov-url", &server.url()]);
    crate::tokenless::azure_pull_request(&mut command, &sha, "someone-fix", "True");
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let (post, body, _) = split(&server.requests());
    assert_eq!(post.header("Authorization"), None);
    assert_eq!(body["branch"], "someone:someone-fix");
    assert_eq!(
        (body["ci_service"].as_str(), body["pullid"].as_str()),
        (Some("azure_pipelines"), Some("9"))
    );
}
