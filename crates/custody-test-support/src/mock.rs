//! A scripted HTTP server on 127.0.0.1 for protocols without an open-source server to
//! run (and for fault injection): each test says how to answer, and afterwards reads
//! every request that arrived, body included.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// An answer: status, headers, body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn json(status: u16, value: &str) -> Self {
        Self::new(status, value).header("Content-Type", "application/json")
    }

    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

type Handler = dyn Fn(&Recorded, usize) -> Reply + Send + Sync;

/// The server; stops when dropped.
pub struct MockServer {
    server: Arc<tiny_http::Server>,
    requests: Arc<Mutex<Vec<Recorded>>>,
    thread: Option<JoinHandle<()>>,
    port: u16,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl MockServer {
    /// Starts a server that answers each request with `handler(request, index)`, where
    /// `index` counts the requests so far (0-based).
    pub fn start(handler: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static) -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1"));
        let port = server.server_addr().to_ip().expect("an IP listener").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let thread = {
            let server = server.clone();
            let requests = requests.clone();
            std::thread::spawn(move || {
                for mut request in server.incoming_requests() {
                    let mut body = Vec::new();
                    let _ = std::io::Read::read_to_end(request.as_reader(), &mut body);
                    let recorded = Recorded {
                        method: request.method().as_str().to_owned(),
                        url: request.url().to_owned(),
                        headers: request
                            .headers()
                            .iter()
                            .map(|h| {
                                (
                                    h.field.as_str().as_str().to_owned(),
                                    h.value.as_str().to_owned(),
                                )
                            })
                            .collect(),
                        body,
                    };
                    let index = {
                        let mut all = requests.lock().unwrap();
                        all.push(recorded.clone());
                        all.len() - 1
                    };
                    let reply = handler(&recorded, index);
                    let mut response =
                        tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
                    for (name, value) in reply.headers {
                        response.add_header(
                            tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes())
                                .unwrap(),
                        );
                    }
                    let _ = request.respond(response);
                }
            })
        };
        Self {
            server,
            requests,
            thread: Some(thread),
            port,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The text fields of a `multipart/form-data` body, in order (file parts give their
/// file name as value), for asserting what an upload sent.
pub fn multipart_fields(content_type: &str, body: &[u8]) -> Vec<(String, String)> {
    let Some(boundary) = content_type.split("boundary=").nth(1) else {
        return Vec::new();
    };
    let boundary = format!("--{}", boundary.trim_matches('"'));
    let text = String::from_utf8_lossy(body);
    let mut fields = Vec::new();
    for part in text.split(boundary.as_str()).skip(1) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let name = head
            .split("name=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_default();
        let file_name = head
            .split("filename=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next());
        let value = value.strip_suffix("\r\n").unwrap_or(value);
        fields.push((
            name.to_owned(),
            file_name.map_or_else(|| value.to_owned(), str::to_owned),
        ));
    }
    fields
}

/// A Codecov that speaks codecov-cli's upload protocol: `POST …/upload-coverage` is
/// answered with a presigned storage location on this same server, which then takes
/// the `PUT` of the reports; anything else is Codecov's JSON 404.
///
/// Authentication as codecov-api decides it (`codecov_auth/authentication/repo_auth.py`)
/// for a public repository whose owner requires tokens: an upload with a token is taken
/// (this server cannot know the repository's token, so any `token …` counts); one
/// without is taken only as `TokenlessAuthentication` takes it, when the body's `branch`
/// contains `:` (a fork's `owner:branch`), and is otherwise refused with its `401` and
/// `{"detail": "Not valid tokenless upload"}`.
pub fn codecov_server() -> MockServer {
    MockServer::start(|request, _| {
        let host = request.header("Host").unwrap_or_default().to_owned();
        match request.method.as_str() {
            "POST"
                if request.url.ends_with("/upload-coverage") && !codecov_authenticates(request) =>
            {
                Reply::json(401, r#"{"detail": "Not valid tokenless upload"}"#)
                    .header("WWW-Authenticate", "Token")
            }
            "POST" if request.url.ends_with("/upload-coverage") => Reply::json(
                200,
                &format!(
                    r#"{{"raw_upload_location": "http://{host}/storage/r1?X-Amz-Signature=abc", "url": "https://app.codecov.io/gh/data61/clkhash/commit/x"}}"#
                ),
            ),
            "PUT" if request.url.starts_with("/storage/") => Reply::new(200, ""),
            _ => Reply::json(404, r#"{"detail": "Not found."}"#),
        }
    })
}

/// Whether codecov-api would take the upload (see [`codecov_server`]).
fn codecov_authenticates(request: &Recorded) -> bool {
    if request.header("Authorization").is_some_and(|value| {
        value
            .strip_prefix("token ")
            .is_some_and(|t| !t.trim().is_empty())
    }) {
        return true;
    }
    serde_json::from_slice::<serde_json::Value>(&request.body)
        .ok()
        .and_then(|body| body.get("branch")?.as_str().map(|b| b.contains(':')))
        .unwrap_or(false)
}
