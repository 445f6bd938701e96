//! The HTTP rules every custody step that talks to a server follows, in one place:
//!
//! - timeouts on connect and on each request;
//! - bounded retries with exponential backoff for connection errors, timeouts, 429 and
//!   5xx (honouring `Retry-After`), and never for any other 4xx;
//! - redirects followed only on the same host and never from HTTPS down to HTTP, so
//!   credentials cannot be carried elsewhere;
//! - credentials refused over plain HTTP except to a loopback address;
//! - secrets in a [`Secret`] that prints as `***`, and URLs shown without user info.

use std::fmt;
use std::net::IpAddr;
use std::thread;
use std::time::Duration;

use custody_ci::Env;
use thiserror::Error;

pub use reqwest;
pub use reqwest::Url;
pub use reqwest::blocking::{Client, RequestBuilder, Response};

/// Environment knobs, for slow networks and for tests.
pub const CUSTODY_HTTP_RETRIES: &str = "CUSTODY_HTTP_RETRIES";
pub const CUSTODY_HTTP_BACKOFF_MS: &str = "CUSTODY_HTTP_BACKOFF_MS";
pub const CUSTODY_HTTP_TIMEOUT: &str = "CUSTODY_HTTP_TIMEOUT";

/// A credential. It cannot be printed or logged by accident: `Debug` and `Display`
/// show `***`; [`Secret::expose`] is the one way to the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How patient to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Retries after the first attempt.
    pub retries: u32,
    /// First backoff; doubles on every retry.
    pub backoff: Duration,
    /// Upper bound on one backoff (and on an honoured `Retry-After`).
    pub max_backoff: Duration,
    pub connect_timeout: Duration,
    /// Whole-request timeout for ordinary requests. Uploads set their own.
    pub timeout: Duration,
    pub user_agent: String,
}

impl HttpConfig {
    /// Defaults: 3 retries from 1 s, 10 s to connect, 60 s per request.
    pub fn new(user_agent: &str) -> Self {
        Self {
            retries: 3,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            user_agent: user_agent.to_owned(),
        }
    }

    /// The defaults, overridden by `CUSTODY_HTTP_RETRIES`, `CUSTODY_HTTP_BACKOFF_MS` and
    /// `CUSTODY_HTTP_TIMEOUT` (seconds).
    pub fn from_env(user_agent: &str, env: &Env) -> Self {
        let mut config = Self::new(user_agent);
        if let Some(retries) = env.get(CUSTODY_HTTP_RETRIES).and_then(|v| v.parse().ok()) {
            config.retries = retries;
        }
        if let Some(ms) = env
            .get(CUSTODY_HTTP_BACKOFF_MS)
            .and_then(|v| v.parse().ok())
        {
            config.backoff = Duration::from_millis(ms);
        }
        if let Some(seconds) = env.get(CUSTODY_HTTP_TIMEOUT).and_then(|v| v.parse().ok()) {
            config.timeout = Duration::from_secs(seconds);
        }
        config
    }

    /// The backoff before retry number `retry` (0-based).
    pub fn backoff_for(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(16));
        self.backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

#[derive(Debug, Error)]
pub enum HttpError {
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    #[error("cannot start the HTTP runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// `reason` is the innermost cause as text (see [`describe`]): a reqwest error
    /// quotes the URL, user info included, so the error value itself is not kept.
    #[error("cannot connect to {url}: {reason}{attempts}")]
    Connect {
        url: String,
        reason: String,
        attempts: Attempts,
    },
    #[error("{url} did not answer in time{attempts}")]
    Timeout { url: String, attempts: Attempts },
    #[error("{url} answered {status}{attempts}")]
    Status {
        url: String,
        status: u16,
        attempts: Attempts,
    },
    #[error("refusing to send credentials to {url} over plain HTTP")]
    InsecureTransport { url: String },
    #[error(
        "{url} redirected to {location}, on another host or from HTTPS to HTTP; not following with credentials"
    )]
    UnsafeRedirect { url: String, location: String },
    #[error("`{0}` is not a valid URL")]
    BadUrl(String),
}

impl HttpError {
    /// The fix to suggest, where there is one.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::Connect { .. } => {
                "check the URL and that the server is up and reachable from this machine"
            }
            Self::Timeout { .. } => {
                "the server is slow or unreachable; retry later, or raise CUSTODY_HTTP_TIMEOUT"
            }
            Self::InsecureTransport { .. } => {
                "use an https:// URL (plain http:// is allowed only for loopback addresses such as 127.0.0.1)"
            }
            Self::UnsafeRedirect { .. } => "use the final URL directly",
            Self::Client(_) | Self::Runtime(_) | Self::Status { .. } | Self::BadUrl(_) => {
                return None;
            }
        };
        Some(hint.to_owned())
    }
}

/// `" (after 4 attempts)"`, or nothing for a single attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempts(pub u32);

impl fmt::Display for Attempts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 > 1 {
            write!(f, " (after {} attempts)", self.0)
        } else {
            Ok(())
        }
    }
}

/// The URL as text without user info (`https://user:pass@host/` → `https://host/`).
pub fn display_url(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.to_string()
}

/// Parses a URL, with an error that names it (without user info).
pub fn parse_url(text: &str) -> Result<Url, HttpError> {
    Url::parse(text).map_err(|_| {
        let shown = Url::parse(text).map_or_else(
            |_| text.split('@').next_back().unwrap_or(text).to_owned(),
            |u| display_url(&u),
        );
        HttpError::BadUrl(shown)
    })
}

/// Whether `url` points at this machine (`localhost`, 127.0.0.0/8, `::1`).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Refuses plain HTTP when credentials would be sent, except to loopback.
pub fn check_transport(url: &Url, sends_credentials: bool) -> Result<(), HttpError> {
    if sends_credentials && url.scheme() == "http" && !is_loopback(url) {
        return Err(HttpError::InsecureTransport {
            url: display_url(url),
        });
    }
    Ok(())
}

/// A client with custody's timeouts, user agent and redirect rule (same host, never
/// HTTPS → HTTP; a refused redirect is returned as the 3xx response for the caller to
/// report with [`HttpError::UnsafeRedirect`]).
pub fn client(config: &HttpConfig) -> Result<Client, HttpError> {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        let Some(first) = attempt.previous().first().cloned() else {
            return attempt.follow();
        };
        if attempt.previous().len() > 5 {
            return attempt.error("more than 5 redirects");
        }
        let next = attempt.url();
        let same_host = next.host_str() == first.host_str()
            && next.port_or_known_default() == first.port_or_known_default();
        let downgrade = first.scheme() == "https" && next.scheme() != "https";
        if same_host && !downgrade {
            attempt.follow()
        } else {
            attempt.stop()
        }
    });
    Client::builder()
        .user_agent(config.user_agent.clone())
        .connect_timeout(config.connect_timeout)
        .timeout(config.timeout)
        .redirect(policy)
        .build()
        .map_err(|e| HttpError::Client(e.without_url()))
}

/// A client that follows no redirect at all, for uploads: a redirected POST becomes a
/// GET at 301/302/303 (the target answers 200 and nothing was published), and a 307/308
/// cannot replay a streamed body. Like twine, an upload answered with a redirect fails
/// (see [`redirect_target`]); the caller names the target so the user can upload there.
pub fn upload_client(config: &HttpConfig) -> Result<Client, HttpError> {
    Client::builder()
        .user_agent(config.user_agent.clone())
        .connect_timeout(config.connect_timeout)
        .timeout(config.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| HttpError::Client(e.without_url()))
}

/// The client for streamed uploads, driven from a one-thread runtime of its own.
///
/// The blocking client feeds a streamed body to its runtime thread in 8 KiB pieces
/// through a channel (reqwest's `blocking/body.rs`): for a 200 MB file that is 25,000
/// thread hand-offs and as many socket writes. This client takes the body as a stream
/// of large chunks instead ([`file_chunks`]); it follows no redirect (see
/// [`upload_client`]).
#[derive(Debug)]
pub struct StreamingClient {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl StreamingClient {
    pub fn new(config: &HttpConfig) -> Result<Self, HttpError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(HttpError::Runtime)?;
        let client = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| HttpError::Client(e.without_url()))?;
        Ok(Self { runtime, client })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Runs `future` (a request, or the reading of an answer) to its end.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Sends the request `build` makes, retrying as [`send_with_retry`] does.
    pub fn send_with_retry(
        &self,
        config: &HttpConfig,
        url: &Url,
        mut build: impl FnMut() -> reqwest::RequestBuilder,
        on_retry: impl FnMut(u32, &RetryReason, Duration),
    ) -> Result<reqwest::Response, HttpError> {
        retry(
            config,
            url,
            || {
                // Built and sent inside the runtime: the request's timeout is a timer of it.
                let request = build();
                self.block_on(async move { request.send().await })
            },
            |response| (response.status(), response.headers()),
            on_retry,
        )
    }
}

/// The size of each chunk [`file_chunks`] reads.
pub const CHUNK: usize = 1024 * 1024;

/// `reader` as a body of [`CHUNK`]-sized chunks, for [`StreamingClient`]; `on_chunk` is
/// told the size of each. Memory stays at one chunk in flight, whatever the file's size.
pub fn file_chunks<R: std::io::Read + Send + 'static>(
    mut reader: R,
    mut on_chunk: impl FnMut(usize) + Send + 'static,
) -> reqwest::Body {
    let chunks = std::iter::from_fn(move || {
        let chunk = read_chunk(&mut reader, CHUNK);
        if let Some(Ok(bytes)) = &chunk {
            on_chunk(bytes.len());
        }
        chunk
    });
    reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))
}

/// The next `size` bytes of `reader` (fewer only at its end), `None` at its end.
fn read_chunk(
    reader: &mut impl std::io::Read,
    size: usize,
) -> Option<std::io::Result<bytes::Bytes>> {
    let mut buffer = vec![0u8; size];
    let mut filled = 0;
    while filled < size {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Some(Err(error)),
        }
    }
    if filled == 0 {
        return None;
    }
    buffer.truncate(filled);
    Some(Ok(bytes::Bytes::from(buffer)))
}

/// Where a redirect points (without user info), if `response` is one; `None` for a 3xx
/// without a usable `Location` too, so callers check the status first.
pub fn redirect_target(url: &Url, response: &Response) -> Option<String> {
    redirect_location(url, response.headers())
}

/// [`redirect_target`] from a response's headers.
pub fn redirect_location(url: &Url, headers: &reqwest::header::HeaderMap) -> Option<String> {
    let location = headers.get(reqwest::header::LOCATION)?.to_str().ok()?;
    url.join(location).ok().map(|target| display_url(&target))
}

/// Why an attempt will be retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryReason {
    Connect(String),
    Timeout,
    Status(u16),
}

impl fmt::Display for RetryReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect(reason) => write!(f, "connection failed ({reason})"),
            Self::Timeout => f.write_str("timed out"),
            Self::Status(status) => write!(f, "server answered {status}"),
        }
    }
}

/// Whether a status is worth retrying: 429 and the 5xx family a proxy or an overloaded
/// server sends. Other 4xx are final.
pub fn is_retryable_status(status: u16) -> bool {
    status == 429 || (500..=599).contains(&status) && status != 501
}

/// Sends the request `build` makes, retrying as [`HttpConfig`] says. `build` is called
/// once per attempt (a streamed body cannot be replayed, so it is rebuilt). Returns the
/// response of the final attempt, whatever its status (the caller decides what a 4xx
/// means); errors only when no response came. `on_retry(attempt, reason, delay)` is told
/// before each wait.
pub fn send_with_retry(
    config: &HttpConfig,
    url: &Url,
    mut build: impl FnMut() -> RequestBuilder,
    on_retry: impl FnMut(u32, &RetryReason, Duration),
) -> Result<Response, HttpError> {
    retry(
        config,
        url,
        || build().send(),
        |response| (response.status(), response.headers()),
        on_retry,
    )
}

/// The retry loop of [`send_with_retry`], for either client's responses: `attempt` sends
/// once, `head` reads a response's status and headers.
fn retry<R>(
    config: &HttpConfig,
    url: &Url,
    mut attempt_once: impl FnMut() -> Result<R, reqwest::Error>,
    head: impl Fn(&R) -> (reqwest::StatusCode, &reqwest::header::HeaderMap),
    mut on_retry: impl FnMut(u32, &RetryReason, Duration),
) -> Result<R, HttpError> {
    let shown = display_url(url);
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let result = attempt_once();
        let (reason, retry_after) = match result {
            Ok(response) => {
                let (status, headers) = head(&response);
                let status = status.as_u16();
                if !is_retryable_status(status) || attempt > config.retries {
                    return Ok(response);
                }
                let retry_after = headers
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                (RetryReason::Status(status), retry_after)
            }
            Err(error) => {
                let reason = if error.is_timeout() {
                    RetryReason::Timeout
                } else {
                    RetryReason::Connect(describe(&error))
                };
                if attempt > config.retries {
                    return Err(match reason {
                        RetryReason::Timeout => HttpError::Timeout {
                            url: shown,
                            attempts: Attempts(attempt),
                        },
                        RetryReason::Connect(reason) => HttpError::Connect {
                            url: shown,
                            reason,
                            attempts: Attempts(attempt),
                        },
                        RetryReason::Status(status) => HttpError::Connect {
                            url: shown,
                            reason: format!("server answered {status}"),
                            attempts: Attempts(attempt),
                        },
                    });
                }
                (reason, None)
            }
        };
        let delay = retry_after.map_or_else(
            || config.backoff_for(attempt - 1),
            |d| d.min(config.max_backoff),
        );
        on_retry(attempt, &reason, delay);
        thread::sleep(delay);
    }
}

/// The innermost cause of a reqwest error, without any URL in it.
pub fn describe(error: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    let mut text = String::new();
    while let Some(cause) = source {
        text = cause.to_string();
        source = cause.source();
    }
    if text.is_empty() {
        // A reqwest error without a source; strip its URL.
        let mut error_text = error.to_string();
        if let Some(url) = error.url() {
            error_text = error_text.replace(url.as_str(), &display_url(url));
        }
        error_text
    } else {
        text
    }
}

/// A redirect the client refused to follow, if `response` is one.
pub fn refused_redirect(url: &Url, response: &Response) -> Option<HttpError> {
    if !response.status().is_redirection() {
        return None;
    }
    Some(HttpError::UnsafeRedirect {
        url: display_url(url),
        location: redirect_target(url, response)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most 1000 bytes a call, as a pipe or socket may.
    struct Trickle(std::io::Cursor<Vec<u8>>);

    impl std::io::Read for Trickle {
        fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
            let end = buffer.len().min(1000);
            self.0.read(&mut buffer[..end])
        }
    }

    #[test]
    fn chunks_are_full_whatever_the_reads_and_keep_every_byte() {
        let data: Vec<u8> = (0..25_000u32).map(|i| (i % 251) as u8).collect();
        let mut reader = Trickle(std::io::Cursor::new(data.clone()));
        let mut sizes = Vec::new();
        let mut joined = Vec::new();
        while let Some(chunk) = read_chunk(&mut reader, 10_000) {
            let chunk = chunk.unwrap();
            sizes.push(chunk.len());
            joined.extend_from_slice(&chunk);
        }
        assert_eq!(sizes, [10_000, 10_000, 5_000]);
        assert_eq!(joined, data);
    }

    #[test]
    fn secrets_never_print() {
        let secret = Secret::new("pypi-AgEIcHlwaS5vcmc");
        assert_eq!(format!("{secret}"), "***");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(secret.expose(), "pypi-AgEIcHlwaS5vcmc");
    }

    #[test]
    fn urls_are_shown_without_user_info() {
        let url = Url::parse("https://__token__:pypi-x@upload.pypi.org/legacy/").unwrap();
        assert_eq!(display_url(&url), "https://upload.pypi.org/legacy/");
        let error = parse_url("ht!tp://user:pw@bad").unwrap_err();
        assert!(!error.to_string().contains("pw"), "{error}");
    }

    #[test]
    fn plain_http_with_credentials_only_to_loopback() {
        for ok in [
            "http://127.0.0.1:8080/",
            "http://localhost/",
            "http://[::1]:1/",
            "https://pypi.org/",
            "http://127.3.2.1/",
        ] {
            assert!(
                check_transport(&Url::parse(ok).unwrap(), true).is_ok(),
                "{ok}"
            );
        }
        let error =
            check_transport(&Url::parse("http://pypi.example.org/").unwrap(), true).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("refusing to send credentials to http://pypi.example.org/")
        );
        assert_eq!(
            error.hint().as_deref(),
            Some(
                "use an https:// URL (plain http:// is allowed only for loopback addresses such as 127.0.0.1)"
            )
        );
        assert!(check_transport(&Url::parse("http://pypi.example.org/").unwrap(), false).is_ok());
    }

    #[test]
    fn retryable_statuses() {
        for status in [429, 500, 502, 503, 504] {
            assert!(is_retryable_status(status), "{status}");
        }
        for status in [200, 301, 400, 401, 403, 404, 409, 413, 501] {
            assert!(!is_retryable_status(status), "{status}");
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = HttpConfig::new("test");
        assert_eq!(config.backoff_for(0), Duration::from_secs(1));
        assert_eq!(config.backoff_for(1), Duration::from_secs(2));
        assert_eq!(config.backoff_for(3), Duration::from_secs(8));
        assert_eq!(config.backoff_for(10), Duration::from_secs(30));
    }

    #[test]
    fn config_reads_its_environment() {
        let env = Env::from_pairs([
            ("CUSTODY_HTTP_RETRIES", "1"),
            ("CUSTODY_HTTP_BACKOFF_MS", "5"),
            ("CUSTODY_HTTP_TIMEOUT", "2"),
        ]);
        let config = HttpConfig::from_env("t", &env);
        assert_eq!(config.retries, 1);
        assert_eq!(config.backoff, Duration::from_millis(5));
        assert_eq!(config.timeout, Duration::from_secs(2));
    }

    #[test]
    fn connection_refused_is_retried_then_reported() {
        // A port nobody listens on: bind, read the port, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        let mut config = HttpConfig::new("test");
        config.retries = 2;
        config.backoff = Duration::from_millis(1);
        let client = client(&config).unwrap();
        let mut retries = Vec::new();
        let error = send_with_retry(
            &config,
            &url,
            || client.get(url.clone()),
            |attempt, reason, _| {
                retries.push((attempt, reason.clone()));
            },
        )
        .unwrap_err();
        assert_eq!(retries.len(), 2);
        assert!(
            matches!(
                error,
                HttpError::Connect {
                    attempts: Attempts(3),
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.to_string().contains("(after 3 attempts)"), "{error}");
        // The hint is data, never part of the message.
        assert!(!error.to_string().contains("hint"), "{error}");
        assert_eq!(
            error.hint().as_deref(),
            Some("check the URL and that the server is up and reachable from this machine")
        );
    }
}
