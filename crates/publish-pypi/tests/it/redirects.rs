//! A redirected upload is never a success: reqwest would turn a redirected POST into a
//! GET (301/302/303), the target answers 200, and nothing was published. Like twine,
//! an upload answered with any redirect fails, naming where it points.

use custody_test_support::{MockServer, Reply};

use crate::{cmd, sample_release, stderr_of};

#[test]
fn an_upload_answered_with_a_redirect_fails_and_names_the_target() {
    for status in [301, 302, 303, 307, 308] {
        // The target is on the same host and answers 200 to anything, a GET included.
        let server = MockServer::start(move |request, _| {
            match (request.method.as_str(), request.url.as_str()) {
                ("POST", "/legacy/") => Reply::new(status, "").header("Location", "/moved/"),
                ("GET", "/simple/") => custody_test_support::empty_simple_index(),
                ("GET" | "POST", "/moved/") => Reply::new(200, "OK"),
                _ => Reply::new(404, "Not Found"),
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let files = sample_release(&dir.path().join("dist"));
        let output = cmd(dir.path())
            .arg(&files[0])
            .args(["--repository-url", &format!("{}legacy/", server.url())])
            .args(["--index-url", &format!("{}simple/", server.url())])
            .args(["-u", "me", "-p", "pw"])
            .output()
            .unwrap();
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(4), "{status}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "answered the upload of `custody_sample-0.18.3-py3-none-any.whl` with {status}, a redirect to {}moved/; nothing was uploaded",
                server.url()
            )),
            "{stderr}"
        );
        assert!(
            stderr.contains("hint: give the URL the index redirects to as --repository-url"),
            "{stderr}"
        );
        assert!(!stderr.contains("Uploaded"), "{stderr}");
        let moved: Vec<_> = server
            .requests()
            .into_iter()
            .filter(|r| r.url == "/moved/")
            .collect();
        assert!(moved.is_empty(), "{status}: the redirect was followed");
    }
}

#[test]
fn a_refusal_shows_the_status_line_and_the_servers_words() {
    // PyPI's answer to a file over the project's limit: 400, its reason in the body
    // (which repeats the status); and a bare status: the status line.
    let too_large = "<html>\n <head>\n  <title>400 File too large. Limit for project 'custody-sample' is 100 MB. See https://docs.pypi.org/project-management/storage-limits#requesting-a-file-size-limit-increase for more information.</title>\n </head></html>";
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    for (status, body, shown) in [
        (
            400,
            too_large,
            ": 400 File too large. Limit for project 'custody-sample' is 100 MB.",
        ),
        (409, "", ": 409 Conflict\n"),
        (
            400,
            "Invalid distribution file.",
            ": 400 Bad Request: Invalid distribution file.",
        ),
    ] {
        let server = crate::faults::index_server(move |_| Reply::new(status, body));
        let output = cmd(dir.path())
            .arg(&files[0])
            .args(["--repository-url", &server.url(), "-u", "me", "-p", "pw"])
            .output()
            .unwrap();
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(4), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "refused `custody_sample-0.18.3-py3-none-any.whl`{shown}"
            )),
            "{stderr}"
        );
    }
}
