//! What the index already has: the project's page on the simple API, as PEP 691 JSON
//! where the index speaks it, else the PEP 503 HTML page (pypiserver, older indexes).
//! This is what makes re-runs safe: a file present with the same sha256 is "already
//! published", the same name with another hash is a conflict.

use std::collections::BTreeMap;

use custody_cli::Diagnose;
use custody_http::{
    Client, HttpConfig, HttpError, RequestBuilder, Response, Secret, Url, display_url,
    send_with_retry,
};
use custody_output::ExitStatus;

const ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1";

/// The files of one project on the index: file name → sha256 (when the index tells it).
pub(crate) type Published = BTreeMap<String, Option<String>>;

/// The simple index for an upload URL: PyPI's and TestPyPI's are known; any other
/// index (pypiserver, devpi-style roots) serves it under `<URL>/simple/`.
pub(crate) fn default_index_url(upload: &Url) -> Url {
    let host = upload.host_str().unwrap_or_default();
    let known = match host {
        "upload.pypi.org" | "pypi.org" => Some("https://pypi.org/simple/"),
        "test.pypi.org" => Some("https://test.pypi.org/simple/"),
        _ => None,
    };
    if let Some(known) = known {
        return Url::parse(known).expect("a valid constant URL");
    }
    let mut base = upload.clone();
    let path = base
        .path()
        .trim_end_matches('/')
        .trim_end_matches("/legacy")
        .to_owned();
    base.set_path(&format!("{path}/simple/"));
    base.set_query(None);
    base
}

/// The page of a project (PEP 503-normalized name) on the simple index.
pub(crate) fn project_url(index: &Url, normalized_name: &str) -> Url {
    let base = index_root(index);
    base.join(&format!("{normalized_name}/")).unwrap_or(base)
}

/// The index's own URL, with the trailing slash a relative join needs.
pub(crate) fn index_root(index: &Url) -> Url {
    let mut base = index.clone();
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    base
}

/// devpi's simple index for an upload URL (`<user>/<index>/` → `<user>/<index>/+simple/`),
/// tried when the `/simple/` guess is not an index.
pub(crate) fn devpi_index_url(upload: &Url) -> Url {
    let mut base = index_root(upload);
    base.set_query(None);
    base.join("+simple/").unwrap_or(base)
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum IndexError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("`{url}` is not a simple index: {reason}")]
    NotAnIndex { url: String, reason: String },
    #[error("the index page `{url}` answered {status}{detail}")]
    Status {
        url: String,
        status: u16,
        detail: String,
    },
}

impl Diagnose for IndexError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Http(error) => error.exit_status(),
            Self::Status { .. } | Self::NotAnIndex { .. } => ExitStatus::Environment,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::Http(error) => error.hint(),
            Self::NotAnIndex { .. } => Some(NOT_AN_INDEX.to_owned()),
            Self::Status { .. } => Some(
                "check --index-url; it must be the simple index of the repository you upload to"
                    .to_owned(),
            ),
        }
    }
}

const NOT_AN_INDEX: &str = "give the simple index of the repository you upload to with --index-url (devpi: `<upload URL>+simple/`; GitLab: `.../projects/<id>/packages/pypi/simple`; Azure Artifacts: `.../_packaging/<feed>/pypi/simple/`), or --no-index-check to upload without looking (re-runs then fail on files already there)";

/// Whether `index` is known to be a simple index without asking: PyPI's and TestPyPI's
/// (their roots list every project, tens of megabytes).
pub(crate) fn is_well_known(index: &Url) -> bool {
    matches!(index.host_str(), Some("pypi.org" | "test.pypi.org"))
        && index.path().trim_end_matches('/') == "/simple"
}

/// The `Content-Type` of an answer, lower-cased; empty when absent.
fn content_type(response: &Response) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// A GET of a simple-index page, in the formats we read, as `auth` if given.
fn get(client: &Client, url: &Url, auth: Option<(&str, &Secret)>) -> RequestBuilder {
    let request = client.get(url.clone()).header("Accept", ACCEPT);
    match auth {
        Some((user, password)) => request.basic_auth(user, Some(password.expose())),
        None => request,
    }
}

/// Asks the index root once whether it is a simple index (PEP 691 JSON or PEP 503 HTML,
/// answered 200 without a redirect), so a wrong URL cannot pass for "nothing published":
/// every project page of a wrong URL answers 404 too.
pub(crate) fn probe(
    client: &Client,
    config: &HttpConfig,
    index: &Url,
    auth: Option<(&str, &Secret)>,
) -> Result<(), IndexError> {
    let url = index_root(index);
    let response = send_with_retry(config, &url, || get(client, &url, auth), |_, _, _| {})?;
    let status = response.status();
    let not_an_index = |reason: String| IndexError::NotAnIndex {
        url: display_url(&url),
        reason,
    };
    if status.is_redirection() {
        let target = custody_http::redirect_target(&url, &response).unwrap_or_default();
        return Err(not_an_index(format!("it redirects to {target}")));
    }
    if matches!(status.as_u16(), 401 | 403) || status.is_server_error() {
        let body = response.text().unwrap_or_default();
        return Err(IndexError::Status {
            url: display_url(&url),
            status: status.as_u16(),
            detail: short_detail(&body),
        });
    }
    if !status.is_success() {
        return Err(not_an_index(format!("it answered {status}")));
    }
    let content_type = content_type(&response);
    if content_type.starts_with("application/vnd.pypi.simple.v1+json") {
        return Ok(());
    }
    if !content_type.starts_with("text/html")
        && !content_type.starts_with("application/vnd.pypi.simple.v1+html")
    {
        return Err(not_an_index(format!(
            "it answered `{content_type}`, neither PEP 691 JSON nor PEP 503 HTML"
        )));
    }
    // The head of the page is enough to tell a list of projects from another page.
    let mut head = Vec::new();
    let _ = std::io::Read::read_to_end(&mut std::io::Read::take(response, 256 * 1024), &mut head);
    match html_page_kind(&String::from_utf8_lossy(&head)) {
        None => Ok(()),
        Some(reason) => Err(not_an_index(reason.to_owned())),
    }
}

/// Why an HTML page is not a PEP 503 project list, if it is not: a form (a login page)
/// or links to other sites (a welcome page such as pypiserver's root). A simple index
/// links only to its own project pages. A heuristic: PEP 503 gives no marker every
/// index writes (PEP 629's `pypi:repository-version` is optional; pypiserver and devpi
/// omit it).
fn html_page_kind(html: &str) -> Option<&'static str> {
    let lower = html.to_ascii_lowercase();
    if lower.contains("<form") || lower.contains("<input") {
        return Some("it answered a page with a form (a login page?), not a list of projects");
    }
    if lower.contains("href=\"http:")
        || lower.contains("href=\"https:")
        || lower.contains("href='http")
    {
        return Some("it answered a page linking to other sites, not a list of projects");
    }
    None
}

/// A file of the plan whose name the index already has, with other content.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "`{file_name}` is already on the index with sha256 {theirs}, but this file has sha256 {ours}"
)]
pub(crate) struct Conflict {
    pub file_name: String,
    pub theirs: String,
    pub ours: String,
}

impl Diagnose for Conflict {
    fn exit_status(&self) -> ExitStatus {
        ExitStatus::No
    }

    fn hint(&self) -> Option<String> {
        Some("a published file can never be replaced; bump the version (or add a build tag to the wheel) and release again".to_owned())
    }
}

/// How a file stands against what the index has under its name.
#[derive(Debug, Clone)]
pub(crate) enum Presence {
    /// Not there: to be uploaded.
    Absent,
    /// There with the same sha256.
    Same,
    /// There, but the index gives no hash to compare.
    Unhashed,
    /// There with another sha256.
    Different(Conflict),
}

/// Compares the file `file_name` of sha256 `ours` with the index's copy, if any.
pub(crate) fn presence(published: &Published, file_name: &str, ours: &str) -> Presence {
    match published.get(file_name) {
        None => Presence::Absent,
        Some(None) => Presence::Unhashed,
        Some(Some(theirs)) if theirs == ours => Presence::Same,
        Some(Some(theirs)) => Presence::Different(Conflict {
            file_name: file_name.to_owned(),
            theirs: theirs.clone(),
            ours: ours.to_owned(),
        }),
    }
}

/// Looks `normalized_name` up. A 404 means the project is not there yet, and so does a
/// redirect off the index (the client follows only same-host ones): pypiserver's default
/// fallback sends the pages of projects it does not host to PyPI. The target is never
/// fetched; the probe of the root has already shown the URL is an index.
pub(crate) fn lookup(
    client: &Client,
    config: &HttpConfig,
    index: &Url,
    normalized_name: &str,
    auth: Option<(&str, &Secret)>,
    on_retry: &mut dyn FnMut(String),
) -> Result<Published, IndexError> {
    let url = project_url(index, normalized_name);
    let response = send_with_retry(
        config,
        &url,
        || get(client, &url, auth),
        |attempt, reason, delay| {
            on_retry(format!(
                "{}: {reason}; retry {attempt} in {:.1} s",
                display_url(&url),
                delay.as_secs_f32()
            ));
        },
    )?;
    let status = response.status().as_u16();
    if status == 404 || response.status().is_redirection() {
        return Ok(Published::new());
    }
    let content_type = content_type(&response);
    let body = response.text().map_err(|e| HttpError::Connect {
        url: display_url(&url),
        reason: custody_http::describe(&e),
        attempts: custody_http::Attempts(1),
    })?;
    if !(200..300).contains(&status) {
        return Err(IndexError::Status {
            url: display_url(&url),
            status,
            detail: short_detail(&body),
        });
    }
    if content_type.contains("json") {
        Ok(parse_json(&body))
    } else {
        Ok(parse_html(&body))
    }
}

/// What a server said when it refused: `: <status line>: <first line of its body>`, the
/// status left out where the body repeats it (PyPI's `<title>400 File too large</title>`).
pub(crate) fn server_reason(status_line: &str, body: &str) -> String {
    let code = status_line.split(' ').next().unwrap_or_default();
    match short_detail(body) {
        detail if detail.is_empty() => format!(": {status_line}"),
        detail if detail[2..].starts_with(code) => detail,
        detail => format!(": {status_line}{detail}"),
    }
}

/// The first line of a server's answer, trimmed, for error messages.
pub(crate) fn short_detail(body: &str) -> String {
    let text = strip_tags(body);
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    if line.is_empty() {
        String::new()
    } else {
        let shown: String = line.chars().take(200).collect();
        format!(": {shown}")
    }
}

fn strip_tags(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push('\n');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

fn parse_json(body: &str) -> Published {
    let mut published = Published::new();
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
        return published;
    };
    for file in value
        .get("files")
        .and_then(|f| f.as_array())
        .into_iter()
        .flatten()
    {
        let Some(name) = file.get("filename").and_then(|n| n.as_str()) else {
            continue;
        };
        let sha256 = file
            .get("hashes")
            .and_then(|h| h.get("sha256"))
            .and_then(|h| h.as_str())
            .map(str::to_ascii_lowercase);
        published.insert(name.to_owned(), sha256);
    }
    published
}

/// PEP 503: one anchor per file, its text the file name, its `href` ending in
/// `#sha256=<hex>` where the index knows the hash.
fn parse_html(body: &str) -> Published {
    let mut published = Published::new();
    let mut rest = body;
    while let Some(start) = find_ascii_case_insensitive(rest, "<a ") {
        rest = &rest[start + 3..];
        let Some(tag_end) = rest.find('>') else { break };
        let attributes = &rest[..tag_end];
        let after = &rest[tag_end + 1..];
        let Some(close) = find_ascii_case_insensitive(after, "</a>") else {
            break;
        };
        let text = decode_entities(after[..close].trim());
        let href = attribute(attributes, "href")
            .map(|h| decode_entities(&h))
            .unwrap_or_default();
        let sha256 = href
            .split_once("#sha256=")
            .map(|(_, hash)| hash.trim().to_ascii_lowercase());
        let name = if text.is_empty() {
            href.split('#')
                .next()
                .unwrap_or_default()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned()
        } else {
            text
        };
        if !name.is_empty() {
            published.insert(name, sha256);
        }
        rest = &after[close + 4..];
    }
    published
}

fn find_ascii_case_insensitive(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn attribute(attributes: &str, name: &str) -> Option<String> {
    let position = find_ascii_case_insensitive(attributes, &format!("{name}="))?;
    let value = &attributes[position + name.len() + 1..];
    let quote = value.chars().next()?;
    if quote == '"' || quote == '\'' {
        let value = &value[1..];
        Some(value[..value.find(quote)?].to_owned())
    } else {
        Some(
            value
                .split(char::is_whitespace)
                .next()
                .unwrap_or_default()
                .to_owned(),
        )
    }
}

fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_urls_for_known_and_other_repositories() {
        let url = |s: &str| Url::parse(s).unwrap();
        assert_eq!(
            default_index_url(&url("https://upload.pypi.org/legacy/")).as_str(),
            "https://pypi.org/simple/"
        );
        assert_eq!(
            default_index_url(&url("https://test.pypi.org/legacy/")).as_str(),
            "https://test.pypi.org/simple/"
        );
        assert_eq!(
            default_index_url(&url("http://127.0.0.1:8080/")).as_str(),
            "http://127.0.0.1:8080/simple/"
        );
        assert_eq!(
            default_index_url(&url("https://pkgs.example.org/legacy/")).as_str(),
            "https://pkgs.example.org/simple/"
        );
        assert_eq!(
            project_url(&url("http://127.0.0.1:1/simple"), "custody-sample").as_str(),
            "http://127.0.0.1:1/simple/custody-sample/"
        );
    }

    #[test]
    fn a_list_of_projects_is_told_from_other_pages() {
        // pypiserver's and devpi's roots, as they write them.
        assert_eq!(
            html_page_kind(
                "<html><head><title>Simple Index</title></head><body><h1>Simple Index</h1><a href=\"/simple/six/\">six</a></body></html>"
            ),
            None
        );
        assert_eq!(
            html_page_kind(
                "<!DOCTYPE html><html lang=\"en\"><head><title>custody/release: simple list (including inherited indices)</title></head><body><h2>custody/release</h2><a href=\"six/\">six</a></body></html>"
            ),
            None
        );
        let welcome = "<title>Welcome to pypiserver!</title> The complete list of all packages can be found <a href=\"/packages/\">here</a> ... of the <a href=\"https://pypi.org/project/pypiserver/\">pypiserver</a> software.";
        assert!(html_page_kind(welcome).unwrap().contains("other sites"));
        let login = "<html><body><form action=\"/users/sign_in\"><input name=\"password\"></form></body></html>";
        assert!(html_page_kind(login).unwrap().contains("login"));
    }

    #[test]
    fn pep_691_json() {
        let body = r#"{"meta":{"api-version":"1.1"},"name":"six","files":[
            {"filename":"six-1.17.0-py2.py3-none-any.whl","hashes":{"sha256":"AB12"},"url":"x"},
            {"filename":"six-1.17.0.tar.gz","hashes":{},"url":"y"}]}"#;
        let published = parse_json(body);
        assert_eq!(
            published["six-1.17.0-py2.py3-none-any.whl"].as_deref(),
            Some("ab12")
        );
        assert_eq!(published["six-1.17.0.tar.gz"], None);
    }

    #[test]
    fn pep_503_html_as_pypiserver_and_pypi_write_it() {
        let body = "<!DOCTYPE html><html><body><h1>Links for custody-sample</h1>\n\
            <a href=\"/packages/custody_sample-0.18.3-py3-none-any.whl#sha256=f589e8\">custody_sample-0.18.3-py3-none-any.whl</a><br>\n\
            <A HREF='../../packages/custody_sample-0.18.3.tar.gz#sha256=1FDE' data-requires-python=\"&gt;=3.8\">custody_sample-0.18.3.tar.gz</A>\n\
            <a href=\"/packages/old-1.0.zip\">old-1.0.zip</a></body></html>";
        let published = parse_html(body);
        assert_eq!(published.len(), 3);
        assert_eq!(
            published["custody_sample-0.18.3-py3-none-any.whl"].as_deref(),
            Some("f589e8")
        );
        assert_eq!(
            published["custody_sample-0.18.3.tar.gz"].as_deref(),
            Some("1fde")
        );
        assert_eq!(published["old-1.0.zip"], None);
    }

    #[test]
    fn a_file_is_absent_the_same_unhashed_or_a_conflict() {
        let published: Published = [
            ("a.whl".to_owned(), Some("ab12".to_owned())),
            ("b.tar.gz".to_owned(), None),
        ]
        .into_iter()
        .collect();
        assert!(matches!(
            presence(&published, "c.whl", "ab12"),
            Presence::Absent
        ));
        assert!(matches!(
            presence(&published, "a.whl", "ab12"),
            Presence::Same
        ));
        assert!(matches!(
            presence(&published, "b.tar.gz", "ff"),
            Presence::Unhashed
        ));
        let Presence::Different(conflict) = presence(&published, "a.whl", "cd34") else {
            panic!("a conflict");
        };
        assert_eq!(
            conflict.to_string(),
            "`a.whl` is already on the index with sha256 ab12, but this file has sha256 cd34"
        );
        assert_eq!(conflict.exit_status(), ExitStatus::No);
        assert!(conflict.hint().unwrap().contains("bump the version"));
    }

    #[test]
    fn server_details_are_one_trimmed_line() {
        assert_eq!(
            short_detail("<html><head><title>400 File already exists.</title></head><body>..."),
            ": 400 File already exists."
        );
        assert_eq!(short_detail(""), "");
        assert_eq!(
            server_reason(
                "400 Bad Request",
                "<title>400 File too large. Limit for project `x` is 100 MB.</title>"
            ),
            ": 400 File too large. Limit for project `x` is 100 MB."
        );
        assert_eq!(
            server_reason("409 Conflict", "File already exists\n"),
            ": 409 Conflict: File already exists"
        );
        assert_eq!(server_reason("400 Bad Request", "  "), ": 400 Bad Request");
    }
}
