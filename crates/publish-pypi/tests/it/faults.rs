//! What the wire carries and how faults are handled, against a scripted local server:
//! the exact upload form, retries on 503 but never on 400, refused redirects and plain
//! HTTP, the token hint, and trusted publishing's token exchange.

use custody_test_support::{MockServer, Reply, empty_simple_index, multipart_fields};

use crate::{all_output, cmd, sample_release, stderr_of, stdout_of};

/// A server that has no project pages and answers uploads with `upload(index)`, where
/// index counts upload attempts.
pub(crate) fn index_server(upload: impl Fn(usize) -> Reply + Send + Sync + 'static) -> MockServer {
    let uploads = std::sync::atomic::AtomicUsize::new(0);
    MockServer::start(move |request, _| {
        if request.method == "POST" {
            upload(uploads.fetch_add(1, std::sync::atomic::Ordering::SeqCst))
        } else if request.url == "/simple/" {
            empty_simple_index()
        } else {
            Reply::new(404, "Not Found")
        }
    })
}

fn posts(server: &MockServer) -> Vec<custody_test_support::Recorded> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect()
}

#[test]
#[allow(clippy::too_many_lines)] // a scenario read top to bottom, as its user lives it
fn the_upload_form_is_twines_and_503_is_retried() {
    let server = index_server(|attempt| {
        if attempt == 0 {
            Reply::new(503, "busy")
        } else {
            Reply::new(200, "OK")
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    let output = cmd(dir.path())
        .arg(&files[0])
        .args([
            "--repository-url",
            &server.url(),
            "-u",
            "__token__",
            "-p",
            "pypi-secret-token",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains("server answered 503; retry 1"),
        "{}",
        stderr_of(&output)
    );

    let posts = posts(&server);
    assert_eq!(posts.len(), 2);
    let upload = &posts[1];
    // HTTP Basic with the token user.
    let expected_auth = format!("Basic {}", base64_of("__token__:pypi-secret-token"));
    assert_eq!(upload.header("Authorization"), Some(expected_auth.as_str()));
    let fields = multipart_fields(upload.header("Content-Type").unwrap(), &upload.body);
    let value = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(value(":action"), Some("file_upload"));
    assert_eq!(value("protocol_version"), Some("1"));
    assert_eq!(value("name"), Some("custody-sample"));
    assert_eq!(value("version"), Some("0.18.3"));
    assert_eq!(value("filetype"), Some("bdist_wheel"));
    assert_eq!(value("pyversion"), Some("py3"));
    assert_eq!(value("metadata_version"), Some("2.4"));
    assert_eq!(value("license_expression"), Some("Apache-2.0"));
    assert_eq!(value("description_content_type"), Some("text/markdown"));
    assert!(value("description").unwrap().contains("custody-sample"));
    let wheel = fs_err::read(&files[0]).unwrap();
    assert_eq!(
        value("sha256_digest"),
        Some(custody_test_support::sha256_hex(&wheel).as_str())
    );
    assert_eq!(value("md5_digest").map(str::len), Some(32));
    assert_eq!(value("blake2_256_digest").map(str::len), Some(64));
    assert_eq!(
        value("content"),
        Some("custody_sample-0.18.3-py3-none-any.whl")
    );
    // Multi-use fields are repeated, one value each.
    let classifiers: Vec<&str> = fields
        .iter()
        .filter(|(n, _)| n == "classifiers")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        classifiers,
        [
            "Programming Language :: Python :: 3",
            "Operating System :: OS Independent"
        ]
    );
    let urls: Vec<&str> = fields
        .iter()
        .filter(|(n, _)| n == "project_urls")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        urls,
        [
            "Homepage, https://example.org/custody-sample",
            "Source, https://example.org/custody-sample/src"
        ]
    );
    // The file is sent whole.
    let body = &upload.body;
    assert!(body.windows(wheel.len()).any(|w| w == wheel.as_slice()));
    assert!(!all_output(&output).contains("pypi-secret-token"));
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[test]
fn a_400_is_final_and_shows_the_servers_words() {
    let server = index_server(|_| {
        Reply::new(
            400,
            "<html><title>400 Invalid value for classifiers.</title></html>",
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    let output = cmd(dir.path())
        .arg(&files[0])
        .args(["--repository-url", &server.url(), "-u", "me", "-p", "pw"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4));
    assert_eq!(posts(&server).len(), 1, "a 400 is never retried");
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("400 Invalid value for classifiers."),
        "{stderr}"
    );
}

#[test]
fn a_password_where_a_token_is_required_gets_the_token_hint() {
    let server = index_server(|_| {
        Reply::new(
            403,
            "403 Username/Password authentication is no longer supported. Migrate to API Tokens or Trusted Publishers instead.",
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    let output = cmd(dir.path())
        .arg(&files[0])
        .args(["--repository-url", &server.url()])
        .env("PYPI_LOGIN", "clkhash-maintainer")
        .env("PYPI_PASSWORD", "correct horse battery")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("hint: this index accepts API tokens only"),
        "{stderr}"
    );
    assert!(!all_output(&output).contains("correct horse battery"));
}

#[test]
fn redirects_to_another_host_are_not_followed() {
    let target = MockServer::start(|_, _| Reply::new(200, "OK"));
    let location = target.url();
    let server = index_server(move |_| Reply::new(307, "").header("Location", &location));
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    let output = cmd(dir.path())
        .arg(&files[0])
        .args([
            "--repository-url",
            &server.url().replace("127.0.0.1", "localhost"),
            "-u",
            "me",
            "-p",
            "pw",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains(&format!(
            "answered the upload of `custody_sample-0.18.3-py3-none-any.whl` with 307, a redirect to {}",
            target.url()
        )),
        "{}",
        stderr_of(&output)
    );
    assert!(
        target.requests().is_empty(),
        "credentials went to another host"
    );
}

#[test]
fn credentials_never_go_over_plain_http_to_another_machine() {
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    let output = cmd(dir.path())
        .arg(&files[0])
        .args([
            "--repository-url",
            "http://pypi.example.org/legacy/",
            "-u",
            "me",
            "-p",
            "pw",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).starts_with(
        "error: refusing to send credentials to http://pypi.example.org/legacy/ over plain HTTP"
    ));
}

#[test]
fn trusted_publishing_exchanges_the_jobs_identity_for_an_upload_token() {
    let server = MockServer::start(|request, _| {
        match (
            request.method.as_str(),
            request.url.split('?').next().unwrap(),
        ) {
            ("GET", "/_/oidc/audience") => Reply::json(200, r#"{"audience": "custody-test"}"#),
            ("GET", "/actions-token") => {
                if request.header("Authorization") == Some("bearer runtime-request-secret")
                    && request.url.contains("audience=custody-test")
                {
                    Reply::json(200, r#"{"value": "eyJ.identity.jwt"}"#)
                } else {
                    Reply::new(401, "no")
                }
            }
            ("POST", "/_/oidc/mint-token") => {
                if request.body_text().contains("eyJ.identity.jwt") {
                    Reply::json(
                        200,
                        r#"{"success": true, "token": "pypi-minted-upload-token"}"#,
                    )
                } else {
                    Reply::json(
                        422,
                        r#"{"message": "Token request failed", "errors": [{"code": "invalid-publisher", "description": "no match"}]}"#,
                    )
                }
            }
            ("POST", "/") => Reply::new(200, "OK"),
            ("GET", "/simple/") => empty_simple_index(),
            _ => Reply::new(404, "Not Found"),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    let output = cmd(dir.path())
        .arg(&files[0])
        .args(["--repository-url", &server.url()])
        // Attestations are `attestations.rs`'s, against a Sigstore stack.
        .args(["--attestations", "off"])
        .env("GITHUB_ACTIONS", "true")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            format!("{}actions-token?api-version=2.0", server.url()),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runtime-request-secret")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let upload = server
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.url == "/")
        .expect("an upload");
    let expected = format!("Basic {}", base64_of("__token__:pypi-minted-upload-token"));
    assert_eq!(upload.header("Authorization"), Some(expected.as_str()));
    // Every secret of the exchange is masked, and appears only in its mask command.
    let stdout = stdout_of(&output);
    for secret in [
        "runtime-request-secret",
        "eyJ.identity.jwt",
        "pypi-minted-upload-token",
    ] {
        assert!(
            stdout.contains(&format!("::add-mask::{secret}\n")),
            "{stdout}"
        );
        assert_eq!(
            all_output(&output).matches(secret).count(),
            1,
            "{secret} leaked"
        );
    }
}

#[test]
fn a_refused_identity_names_the_indexs_reason() {
    let server = MockServer::start(|request, _| match request.url.split('?').next().unwrap() {
        "/_/oidc/audience" => Reply::json(200, r#"{"audience": "pypi"}"#),
        "/actions-token" => Reply::json(200, r#"{"value": "eyJ.jwt"}"#),
        "/_/oidc/mint-token" => Reply::json(
            422,
            r#"{"message": "Token request failed", "errors": [{"code": "invalid-publisher", "description": "valid token, but no corresponding publisher"}]}"#,
        ),
        _ => Reply::new(404, "Not Found"),
    });
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    let output = cmd(dir.path())
        .arg(&files[0])
        .args(["--repository-url", &server.url()])
        // Attestations are `attestations.rs`'s, against a Sigstore stack.
        .args(["--attestations", "off"])
        .env("GITHUB_ACTIONS", "true")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            format!("{}actions-token?api-version=2.0", server.url()),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runtime-request-token")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4));
    // On GitHub the error is an annotation (stdout), its hint on stderr.
    let stderr = all_output(&output);
    assert!(
        stderr.contains("invalid-publisher: valid token, but no corresponding publisher"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: register this repository and workflow as a trusted publisher"),
        "{stderr}"
    );
    assert!(
        !server
            .requests()
            .iter()
            .any(|r| r.method == "POST" && r.url == "/")
    );
}

#[test]
fn without_credentials_it_says_which_variables_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    let output = cmd(dir.path())
        .arg(&files[0])
        .args(["--repository-url", "https://upload.pypi.org/legacy/"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4));
    let stderr = stderr_of(&output);
    assert!(
        stderr.starts_with("error: no credentials for https://upload.pypi.org/legacy/\n"),
        "{stderr}"
    );
    assert!(stderr.contains("PYPI_LOGIN and PYPI_PASSWORD"), "{stderr}");
}
