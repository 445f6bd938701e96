//! The Codecov upload, as codecov-cli 11 speaks it by default (`codecovcli
//! upload-coverage`): one `POST {ingest}/upload/{git service}/{encoded slug}/upload-coverage`
//! with the commit, branch, pull request, CI link, flags and name, whose answer is a
//! presigned storage URL; then one `PUT` of the reports themselves (zlib-compressed,
//! base64) with the repository's file list. The token (`Authorization: token …`) is
//! omitted for tokenless uploads and never printed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use custody_ci::{CiContext, Provider};
use custody_http::{
    HttpConfig, RetryReason, Secret, Url, check_transport, display_url, parse_url, send_with_retry,
};
use serde_json::{Value, json};

/// Where Codecov takes uploads unless told otherwise (`--codecov-url`, `CODECOV_URL`).
pub const CODECOV_INGEST_URL: &str = "https://ingest.codecov.io";
const USER_AGENT: &str = concat!("custody-upload-coverage/", env!("CARGO_PKG_VERSION"));

/// What identifies the upload.
#[derive(Debug, Clone)]
pub struct Upload {
    pub url: String,
    pub token: Option<Secret>,
    pub git_service: String,
    pub slug: String,
    pub commit: String,
    pub branch: Option<String>,
    pub pull_request: Option<String>,
    pub ci_service: String,
    pub build_url: Option<String>,
    pub job_code: Option<String>,
    pub flags: Vec<String>,
    pub name: Option<String>,
    pub report_code: String,
}

/// The Codecov names of the CI systems (codecov-cli's `ci_adapters`).
pub fn ci_service(provider: Provider) -> &'static str {
    match provider {
        Provider::GithubActions => "github-actions",
        Provider::AzurePipelines => "azure_pipelines",
        Provider::GitlabCi => "gitlab",
        Provider::None => "local",
    }
}

/// The git service Codecov files the repository under.
pub fn git_service(context: &CiContext, env: &custody_ci::Env) -> String {
    match context.provider {
        Provider::GitlabCi => "gitlab".to_owned(),
        Provider::AzurePipelines => match env.get(custody_ci::vars::BUILD_REPOSITORY_PROVIDER) {
            Some("Bitbucket") => "bitbucket".to_owned(),
            _ => "github".to_owned(),
        },
        _ => "github".to_owned(),
    }
}

/// `owner/subgroup/repo` → `owner:::subgroup::::repo` (codecov-cli's `encode_slug`).
pub fn encode_slug(slug: &str) -> Option<String> {
    let slug = slug.trim().trim_matches('/');
    let (owner, repo) = slug.rsplit_once('/')?;
    if owner.is_empty() || repo.is_empty() || slug.contains(char::is_whitespace) {
        return None;
    }
    Some(format!(
        "{}::::{repo}",
        owner.split('/').collect::<Vec<_>>().join(":::")
    ))
}

/// The repository's files (`git ls-files`), which Codecov uses to map report paths.
pub fn network_files(root: &Path) -> Vec<String> {
    let Ok(output) = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root)
        .output()
    else {
        return Vec::new();
    };
    if !output.status.success() {
        return Vec::new();
    }
    output
        .stdout
        .split(|&b| b == 0)
        .filter(|name| !name.is_empty())
        .map(|name| String::from_utf8_lossy(name).into_owned())
        .collect()
}

/// `base64(zlib(content))`, the `base64+compressed` format, streamed from the file into
/// `out`: the report is never held whole, nor its compressed form copied. zlib's default
/// level 6, as codecov-cli: zlib-rs's fastest level made the 103 MB benchmark report's
/// payload 15.1 MB instead of 9.8 MB, and compressing already overlaps the parsing,
/// which takes longer.
fn compress_into(content: impl std::io::Read, out: &mut Vec<u8>) -> std::io::Result<()> {
    let base64 = base64::write::EncoderWriter::new(out, &base64::engine::general_purpose::STANDARD);
    let mut zlib = flate2::write::ZlibEncoder::new(base64, flate2::Compression::default());
    let mut content = std::io::BufReader::with_capacity(256 * 1024, content);
    std::io::copy(&mut content, &mut zlib)?;
    zlib.finish()?.finish()?;
    Ok(())
}

/// The storage payload: the reports as they are, and the repository's files. Written
/// out directly: the compressed reports are most of it and are not copied again.
pub fn payload(reports: &[PathBuf], network: &[String]) -> std::io::Result<Vec<u8>> {
    let string = |text: &str| serde_json::to_string(text).expect("a string serializes");
    let mut out = Vec::new();
    out.extend_from_slice(
        br#"{"report_fixes": {"format": "legacy", "value": {}}, "network_files": "#,
    );
    out.extend_from_slice(
        serde_json::to_string(network)
            .expect("strings serialize")
            .as_bytes(),
    );
    out.extend_from_slice(br#", "coverage_files": ["#);
    for (index, report) in reports.iter().enumerate() {
        if index > 0 {
            out.extend_from_slice(b", ");
        }
        let content = fs_err::File::open(report)?;
        out.extend_from_slice(br#"{"filename": "#);
        out.extend_from_slice(string(&report.display().to_string()).as_bytes());
        out.extend_from_slice(br#", "format": "base64+compressed", "data": ""#);
        compress_into(content, &mut out)?;
        out.extend_from_slice(br#"", "labels": ""}"#);
    }
    out.extend_from_slice(br#"], "metadata": {}}"#);
    Ok(out)
}

/// The storage payload, being built on another thread.
#[derive(Debug)]
pub struct PendingPayload(std::thread::JoinHandle<std::io::Result<Vec<u8>>>);

impl PendingPayload {
    /// The payload, once built.
    pub fn wait(self) -> Result<Vec<u8>, CodecovError> {
        match self.0.join() {
            Ok(Ok(body)) => Ok(body),
            Ok(Err(error)) => Err(CodecovError::Payload(error)),
            Err(_) => Err(CodecovError::PayloadPanicked),
        }
    }
}

/// Builds the payload on another thread, so compressing the reports overlaps reading
/// them for the totals.
pub fn prepare(reports: Vec<PathBuf>, root: PathBuf) -> PendingPayload {
    PendingPayload(std::thread::spawn(move || {
        payload(&reports, &network_files(&root))
    }))
}

/// What Codecov answered.
#[derive(Debug, Clone)]
pub struct Uploaded {
    /// Where the results will show.
    pub url: Option<String>,
    pub bytes: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum CodecovError {
    #[error("no commit to file the upload under")]
    NoCommit,
    #[error("no repository slug for Codecov")]
    NoSlug,
    #[error("`{0}` is not a repository slug (owner/name)")]
    Slug(String),
    #[error("cannot read a report for the upload")]
    Payload(#[source] std::io::Error),
    #[error("preparing the upload failed")]
    PayloadPanicked,
    #[error("Codecov refused the upload: {status} {message}")]
    Refused { status: u16, message: String },
    /// codecov-api takes an upload without a token only for a public repository, and
    /// (unless its owner waives tokens) only on a fork's `owner:branch`.
    #[error("Codecov refused the upload without a token (branch `{}`): {status} {message}", .branch.as_deref().unwrap_or("none"))]
    TokenlessRefused {
        status: u16,
        message: String,
        branch: Option<String>,
    },
    #[error("Codecov's answer had no storage location: {0}")]
    Answer(String),
    #[error("the upload to Codecov's storage failed: {status}")]
    Storage { status: u16 },
    #[error(transparent)]
    Http(#[from] custody_http::HttpError),
}

impl custody_cli::Diagnose for CodecovError {
    fn exit_status(&self) -> custody_output::ExitStatus {
        match self {
            Self::Http(error) => error.exit_status(),
            _ => custody_output::ExitStatus::Environment,
        }
    }

    fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::NoCommit => "run in a git checkout, or pass --commit SHA",
            Self::NoSlug | Self::Slug(_) => "pass --slug OWNER/NAME",
            Self::TokenlessRefused {
                status: 401 | 403,
                branch,
                ..
            } => {
                return Some(tokenless_hint(branch.as_deref()));
            }
            Self::Refused { status, .. } | Self::TokenlessRefused { status, .. } => {
                refusal_hint(*status)
            }
            Self::Http(error) => return error.hint(),
            Self::Payload(_) | Self::PayloadPanicked | Self::Answer(_) | Self::Storage { .. } => {
                return None;
            }
        };
        Some(hint.to_owned())
    }
}

/// The fix for a refused upload without a token, by the branch it named.
fn tokenless_hint(branch: Option<&str>) -> String {
    match branch {
        Some(branch) if branch.contains(':') => "Codecov takes uploads without a token only for public repositories: set CODECOV_TOKEN (the repository's upload token on Codecov)".to_owned(),
        _ => format!(
            "Codecov takes an upload without a token only from a fork's pull request, with the branch named `owner:branch` (this one: `{}`): pass --branch OWNER:BRANCH, or set CODECOV_TOKEN",
            branch.unwrap_or("none")
        ),
    }
}

/// The fix for a refusal, by status.
fn refusal_hint(status: u16) -> &'static str {
    match status {
        401 | 403 => {
            "check CODECOV_TOKEN (the repository's upload token), or use tokenless uploads only for public fork pull requests"
        }
        404 => "check --slug and --git-service: Codecov does not know this repository",
        429 => "Codecov is rate-limiting tokenless uploads; set CODECOV_TOKEN",
        _ => "Codecov had a problem; re-run the step",
    }
}

/// Sends the reports: the upload's description to Codecov, then the reports to the
/// storage location it answers with. `on_retry` is told about each retry.
pub fn send(
    upload: &Upload,
    body_bytes: Vec<u8>,
    env: &custody_ci::Env,
    on_retry: &mut dyn FnMut(String),
) -> Result<Uploaded, CodecovError> {
    let url = upload_url(upload)?;
    check_transport(&url, upload.token.is_some())?;
    let payload_size = body_bytes.len();
    let config = HttpConfig::from_env(USER_AGENT, env);
    let client = custody_http::client(&config)?;
    let answer = announce(upload, payload_size, &config, &client, &url, on_retry)?;
    // The storage URL is presigned: no credentials go with it.
    let storage = parse_url(&answer.location)?;
    // Shared, not copied, between attempts.
    let body_bytes = bytes::Bytes::from(body_bytes);
    let response = send_with_retry(
        &config,
        &storage,
        || client.put(storage.clone()).body(body_bytes.clone()),
        |attempt, reason, delay| on_retry(retry_line("Codecov storage", attempt, reason, delay)),
    )?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(CodecovError::Storage { status });
    }
    Ok(Uploaded {
        url: answer.url,
        bytes: payload_size,
    })
}

/// `{ingest}/upload/{git service}/{encoded slug}/upload-coverage`.
fn upload_url(upload: &Upload) -> Result<Url, CodecovError> {
    let encoded =
        encode_slug(&upload.slug).ok_or_else(|| CodecovError::Slug(upload.slug.clone()))?;
    let base = parse_url(upload.url.trim_end_matches('/'))?;
    let url = Url::parse(&format!(
        "{}/upload/{}/{encoded}/upload-coverage",
        base.as_str().trim_end_matches('/'),
        upload.git_service
    ))
    .map_err(|_| custody_http::HttpError::BadUrl(display_url(&base)))?;
    Ok(url)
}

fn retry_line(what: &str, attempt: u32, reason: &RetryReason, delay: Duration) -> String {
    format!(
        "{what}: {reason}; retry {attempt} in {:.1} s",
        delay.as_secs_f32()
    )
}

/// Codecov's answer to the upload's description.
struct Answer {
    /// The presigned storage URL the reports go to.
    location: String,
    /// Where the results will show.
    url: Option<String>,
}

/// Describes the upload to Codecov, which answers where to put the reports.
fn announce(
    upload: &Upload,
    payload_size: usize,
    config: &HttpConfig,
    client: &custody_http::Client,
    url: &Url,
    on_retry: &mut dyn FnMut(String),
) -> Result<Answer, CodecovError> {
    let body = description(upload, payload_size).to_string();
    let response = send_with_retry(
        config,
        url,
        || {
            let request = client
                .post(url.clone())
                .header("Content-Type", "application/json")
                .body(body.clone());
            match &upload.token {
                Some(token) => request.header("Authorization", format!("token {}", token.expose())),
                None => request,
            }
        },
        |attempt, reason, delay| on_retry(retry_line("Codecov", attempt, reason, delay)),
    )?;
    let status = response.status().as_u16();
    let text = response.text().unwrap_or_default();
    if !(200..300).contains(&status) {
        let message = refusal_message(&text);
        return Err(match upload.token {
            Some(_) => CodecovError::Refused { status, message },
            None => CodecovError::TokenlessRefused {
                status,
                message,
                branch: upload.branch.clone(),
            },
        });
    }
    let answer: Value = serde_json::from_str(&text)
        .map_err(|_| CodecovError::Answer(text.chars().take(200).collect()))?;
    let location = answer
        .get("raw_upload_location")
        .and_then(Value::as_str)
        .ok_or_else(|| CodecovError::Answer(text.chars().take(200).collect()))?;
    Ok(Answer {
        location: location.to_owned(),
        url: answer.get("url").and_then(Value::as_str).map(str::to_owned),
    })
}

/// The upload's description, as codecov-cli sends it.
fn description(upload: &Upload, payload_size: usize) -> Value {
    json!({
        "ci_service": upload.ci_service,
        "ci_url": upload.build_url,
        "cli_args": {"command": "upload-coverage", "version": concat!("custody-", env!("CARGO_PKG_VERSION"))},
        "env": {},
        "flags": upload.flags,
        "job_code": upload.job_code,
        "name": upload.name,
        "version": concat!("custody-", env!("CARGO_PKG_VERSION")),
        "file_not_found": false,
        "branch": upload.branch,
        "code": upload.report_code,
        "commitid": upload.commit,
        "parent_commit_id": Value::Null,
        "pullid": upload.pull_request,
        "report_payload_bytes": payload_size,
    })
}

/// What a refusal says: its `message` or `detail`, else the start of the body.
fn refusal_message(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| {
            v.get("message")
                .or_else(|| v.get("detail"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| text.chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_encode_as_codecov_cli_does() {
        assert_eq!(
            encode_slug("data61/clkhash").as_deref(),
            Some("data61::::clkhash")
        );
        assert_eq!(
            encode_slug("group/sub/project").as_deref(),
            Some("group:::sub::::project")
        );
        assert_eq!(encode_slug("nope"), None);
    }

    #[test]
    fn payload_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("c.xml");
        fs_err::write(&report, "<coverage/>").unwrap();
        let bytes = payload(&[report], &["a.py".into()]).unwrap();
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        let data = value["coverage_files"][0]["data"].as_str().unwrap();
        let compressed =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, data).unwrap();
        let mut decoded = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::ZlibDecoder::new(&compressed[..]),
            &mut decoded,
        )
        .unwrap();
        assert_eq!(decoded, "<coverage/>");
        assert_eq!(value["network_files"], json!(["a.py"]));
    }
}
