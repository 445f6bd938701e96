//! Trusted publishing against a local index that answers as Warehouse does
//! (`custody_test_support::oidc`): GitHub and GitLab identities, every mint-token error
//! code with its hint, the token's claims on refusal, no re-sent mint, and no secret in
//! any output. The index serves no simple API (`--no-index-check`): what it already has
//! is not the point here.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use custody_test_support::oidc::{self, OidcServer, Warehouse};

use super::{all_output, cmd, sample_release, stderr_of};

fn publisher(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The first sample file to upload on GitLab CI with `token` in `PYPI_ID_TOKEN`.
fn gitlab_cmd(server: &OidcServer, dir: &Path, token: &str) -> Command {
    let files = sample_release(&dir.join("dist"));
    let mut command = cmd(dir);
    command
        .arg(&files[0])
        .args(["--repository-url", &server.url(), "--no-index-check"])
        .env("GITLAB_CI", "true")
        .env("PYPI_ID_TOKEN", token);
    command
}

fn gitlab_run(server: &OidcServer, dir: &Path, token: &str) -> std::process::Output {
    gitlab_cmd(server, dir, token).output().unwrap()
}

/// `count` sample files to upload from a GitHub Actions job with `id-token: write`,
/// without attestations (those are `attestations.rs`'s, against a Sigstore stack).
fn github_cmd(server: &OidcServer, dir: &Path, count: usize) -> Command {
    let files = sample_release(&dir.join("dist"));
    let mut command = cmd(dir);
    command
        .args(&files[..count])
        .args(["--repository-url", &server.url(), "--no-index-check"])
        .args(["--attestations", "off"])
        .env("ACTIONS_ID_TOKEN_REQUEST_URL", server.github_request_url())
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", oidc::REQUEST_TOKEN);
    command
}

/// No secret appears in the output, except in GitHub's own mask commands.
fn assert_no_secret(output: &std::process::Output, secrets: &[&str]) {
    let text: String = all_output(output)
        .lines()
        .filter(|line| !line.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n");
    for secret in secrets {
        assert!(!text.contains(secret), "a secret leaked: {text}");
    }
    assert!(
        !text.contains("pypi-minted-"),
        "a minted token leaked: {text}"
    );
}

#[test]
fn github_identity_is_exchanged_with_the_indexs_audience_and_uploads() {
    let server = OidcServer::start(Warehouse {
        audience: "custody-audience".into(),
        publisher: publisher(&[("repository", "octo/sample")]),
        ..Warehouse::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let output = github_cmd(&server, dir.path(), 1)
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", all_output(&output));
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.url.starts_with("/github-token")
                && r.url.contains("audience=custody-audience"))
    );
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.url == "/" && r.method == "POST")
            .count(),
        1
    );
    assert_no_secret(&output, &[oidc::REQUEST_TOKEN, "eyJ"]);
}

#[test]
fn gitlab_identity_comes_from_the_declared_variable() {
    let server = OidcServer::start(Warehouse {
        publisher: publisher(&[("project_path", "group/sample")]),
        ..Warehouse::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let token = oidc::gitlab_jwt("pypi", "group/sample", "gl-1");
    let output = gitlab_run(&server, dir.path(), &token);
    assert!(output.status.success(), "{}", all_output(&output));
    let mint = server
        .requests()
        .into_iter()
        .find(|r| r.url == "/_/oidc/mint-token")
        .expect("a mint request");
    let body: serde_json::Value = serde_json::from_slice(&mint.body).unwrap();
    assert_eq!(body, serde_json::json!({"token": token}));
    assert_no_secret(&output, &[&token]);
    // The same token again: Warehouse refuses a reused identity, and we say why.
    let again = gitlab_run(&server, dir.path(), &token);
    assert_eq!(again.status.code(), Some(4), "{}", all_output(&again));
    let text = all_output(&again);
    assert!(
        text.contains("invalid-reuse-token: invalid token: already used"),
        "{text}"
    );
    assert!(
        text.contains("hint: this identity token was already exchanged"),
        "{text}"
    );
    assert_no_secret(&again, &[&token]);
    // Another variable name, given by flag.
    let files = sample_release(&dir.path().join("dist"));
    let other = cmd(dir.path())
        .arg(&files[1])
        .args(["--repository-url", &server.url(), "--no-index-check"])
        .args(["--id-token-var", "MY_ID"])
        .env("GITLAB_CI", "true")
        .env("MY_ID", oidc::gitlab_jwt("pypi", "group/sample", "gl-2"))
        .output()
        .unwrap();
    assert!(other.status.success(), "{}", all_output(&other));
}

#[test]
fn every_warehouse_error_code_is_shown_with_its_hint() {
    let unknown = oidc::jwt(&serde_json::json!({"iss": "https://ci.example.org"}), "x");
    let wrong_audience = oidc::gitlab_jwt("testpypi", "group/sample", "a");
    let good = oidc::gitlab_jwt("pypi", "group/sample", "b");
    let cases: Vec<(Warehouse, &str, &str, &str)> = vec![
        (
            Warehouse::default(),
            "not-a-jwt",
            "invalid-payload: malformed JWT",
            "id_tokens: PYPI_ID_TOKEN",
        ),
        (
            Warehouse::default(),
            &unknown,
            "invalid-payload: unknown trusted publishing issuer",
            "id_tokens",
        ),
        (
            Warehouse {
                disabled_issuers: vec![oidc::GITLAB_ISSUER.into()],
                ..Warehouse::default()
            },
            &good,
            "not-enabled: GitLab trusted publishing functionality not enabled",
            "turned trusted publishing off",
        ),
        (
            Warehouse::default(),
            &wrong_audience,
            "invalid-token: malformed or invalid token",
            "audience",
        ),
        (
            Warehouse {
                pending_for_existing_project: Some(publisher(&[("project_path", "group/sample")])),
                ..Warehouse::default()
            },
            &good,
            "invalid-pending-publisher: valid token, but project already exists",
            "already exists",
        ),
        (
            Warehouse {
                publisher: publisher(&[("project_path", "group/other")]),
                ..Warehouse::default()
            },
            &good,
            "invalid-publisher: valid token, but no corresponding publisher",
            "register this repository and workflow as a trusted publisher",
        ),
    ];
    for (config, token, reason, hint) in cases {
        let server = OidcServer::start(config);
        let dir = tempfile::tempdir().unwrap();
        let output = gitlab_run(&server, dir.path(), token);
        let text = all_output(&output);
        assert_eq!(output.status.code(), Some(4), "{text}");
        let error_line = stderr_of(&output)
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_default()
            .to_owned();
        assert!(
            error_line.starts_with("error: trusted publishing failed"),
            "{text}"
        );
        assert!(error_line.contains(reason), "{text}");
        let hint_line = text
            .lines()
            .find(|l| l.starts_with("hint: "))
            .unwrap_or_default();
        assert!(hint_line.contains(hint), "{reason}: {text}");
        assert!(
            !server.requests().iter().any(|r| r.url == "/"),
            "nothing uploaded"
        );
        assert_no_secret(&output, &[token]);
    }
}

#[test]
fn a_refused_identity_shows_its_claims() {
    let server = OidcServer::start(Warehouse {
        publisher: publisher(&[("repository", "octo/elsewhere")]),
        ..Warehouse::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let output = github_cmd(&server, dir.path(), 1).output().unwrap();
    assert_eq!(output.status.code(), Some(4));
    let text = stderr_of(&output);
    for claim in [
        "  sub: repo:octo/sample:environment:pypi",
        "  repository: octo/sample",
        "  workflow_ref: octo/sample/.github/workflows/release.yml@refs/tags/v1",
        "  ref: refs/tags/v1",
        "  environment: pypi",
    ] {
        assert!(text.contains(claim), "{claim} missing: {text}");
    }
    assert!(!text.contains("jti"), "{text}");
    assert_no_secret(&output, &[oidc::REQUEST_TOKEN, "eyJ"]);
}

#[test]
fn audience_403_means_not_enabled_not_a_wrong_url() {
    let server = OidcServer::start(Warehouse {
        enabled: false,
        ..Warehouse::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let output = github_cmd(&server, dir.path(), 1).output().unwrap();
    assert_eq!(output.status.code(), Some(4));
    let text = stderr_of(&output);
    assert!(
        text.starts_with("error: trusted publishing is not enabled on this index")
            && text.contains("Trusted publishing functionality not enabled"),
        "{text}"
    );
    assert!(text.contains("hint: the index has trusted publishing turned off (the URL is right)"));
}

#[test]
fn a_lost_mint_answer_is_not_re_sent() {
    let server = OidcServer::start(Warehouse {
        publisher: publisher(&[("project_path", "group/sample")]),
        delay_mint_answer: Some(Duration::from_secs(3)),
        ..Warehouse::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let token = oidc::gitlab_jwt("pypi", "group/sample", "lost");
    let output = gitlab_cmd(&server, dir.path(), &token)
        .env("CUSTODY_HTTP_TIMEOUT", "1")
        .output()
        .unwrap();
    let text = all_output(&output);
    assert_eq!(output.status.code(), Some(5), "{text}");
    assert!(text.contains("was sent but its answer was lost"), "{text}");
    assert!(
        text.contains("hint: this identity token was already exchanged"),
        "{text}"
    );
    let mints = server
        .requests()
        .iter()
        .filter(|r| r.url == "/_/oidc/mint-token")
        .count();
    assert_eq!(mints, 1, "the mint request was re-sent");
    assert_no_secret(&output, &[&token]);
}

#[test]
fn a_token_that_would_expire_is_renewed_between_files() {
    // Tokens live 1 s; each upload answer takes 1.2 s, so the second file would arrive
    // with an expired token (refused, 403) unless a fresh one is minted first.
    let server = OidcServer::start(Warehouse {
        publisher: publisher(&[("repository", "octo/sample")]),
        token_lifetime: Duration::from_secs(1),
        delay_upload_answer: Some(Duration::from_millis(1200)),
        ..Warehouse::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let output = github_cmd(&server, dir.path(), 2)
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    let text = all_output(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("renewed the upload token before it expires"),
        "{text}"
    );
    let requests = server.requests();
    let count = |path: &str| requests.iter().filter(|r| r.url.starts_with(path)).count();
    assert_eq!(
        count("/github-token"),
        2,
        "a fresh identity token for the renewal"
    );
    assert_eq!(count("/_/oidc/mint-token"), 2);
    let auths: Vec<_> = requests
        .iter()
        .filter(|r| r.method == "POST" && r.url == "/")
        .map(|r| r.header("Authorization").unwrap().to_owned())
        .collect();
    assert_eq!(auths.len(), 2);
    assert_ne!(
        auths[0], auths[1],
        "the second file went with the new token"
    );
    assert_no_secret(&output, &[oidc::REQUEST_TOKEN, "eyJ"]);
}
