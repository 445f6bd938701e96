//! The two flows: `check` (the plan and its pre-flight, nothing more) and `publish`
//! (plan, credentials, what the index already has, then one upload per missing file),
//! and how their results are reported on the terminal, to CI and as JSON.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use custody_ci::vars;
use custody_cli::{Failure, StepResult};
use custody_dist::{ArtifactKind, Problem};
use custody_http::reqwest::blocking::multipart::{Form, Part};
use custody_http::{
    Client, HttpConfig, Url, check_transport, display_url, parse_url, send_with_retry,
};
use custody_output::text::markdown_cell;
use custody_output::{Context, Diagnostic, ExitStatus, Progress};
use serde::Serialize;

use crate::credentials::{self, Credentials};
use crate::index::{self, Published};
use crate::plan::{self, Plan, Planned};
use crate::{PYPI_UPLOAD_URL, Selection, UploadArgs, form};

const USER_AGENT: &str = concat!("custody-publish-pypi/", env!("CARGO_PKG_VERSION"));

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    /// `check`: passed the pre-flight.
    Checked,
    Uploaded,
    AlreadyPublished,
    /// `--dry-run`: would be uploaded.
    WouldUpload,
    /// An executable or other file: indexes take wheels and sdists only.
    NotUploadable,
    Failed,
    /// An earlier failure stopped the run before this file.
    NotAttempted,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Self::Checked => "checked",
            Self::Uploaded => "uploaded",
            Self::AlreadyPublished => "already published",
            Self::WouldUpload => "would upload",
            Self::NotUploadable => "skipped",
            Self::Failed => "failed",
            Self::NotAttempted => "not attempted",
        }
    }
}

#[derive(Debug, Serialize)]
struct FileResult {
    file_name: String,
    path: String,
    kind: ArtifactKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    project: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    problems: Vec<Problem>,
}

impl FileResult {
    fn of(planned: &Planned, status: Status) -> Self {
        let inspection = planned.inspection.as_ref();
        let project = inspection.and_then(|i| i.project.as_ref());
        Self {
            file_name: planned.file_name.clone(),
            path: planned.shown.clone(),
            kind: planned.kind,
            project: project.map(|p| p.name.clone()),
            version: project.map(|p| p.version.clone()),
            size: inspection.map(|i| i.size),
            sha256: inspection.map(|i| i.digests.sha256.clone()),
            status,
            url: None,
            message: None,
            problems: planned.problems.clone(),
        }
    }
}

/// Prints every problem of every file, errors and warnings, against its file.
fn report_problems(plan: &Plan, context: &mut Context) -> Result<(), Failure> {
    for file in &plan.files {
        custody_cli::problems::report(
            &mut context.out,
            &file.file_name,
            &file.shown,
            &file.problems,
        )
        .map_err(Failure::environment)?;
    }
    Ok(())
}

/// `publish-pypi check`.
pub(crate) fn check(selection: &Selection, context: &mut Context) -> StepResult {
    let plan = plan::build(selection, None, context)?;
    report_problems(&plan, context)?;
    let results: Vec<FileResult> = plan
        .files
        .iter()
        .map(|f| {
            let status = if !f.is_uploadable() {
                Status::NotUploadable
            } else if f.has_errors() {
                Status::Failed
            } else {
                Status::Checked
            };
            FileResult::of(f, status)
        })
        .collect();
    let failed = plan.failed();
    if context.out.is_json() {
        let value = serde_json::json!({ "ok": failed == 0, "files": results });
        context.out.json(&value).map_err(Failure::environment)?;
    } else {
        for result in &results {
            status_line(context, result)?;
        }
    }
    if failed > 0 {
        context
            .out
            .error(&Diagnostic::new(format!(
                "{failed} of {} file(s) would be rejected; fix them before publishing",
                plan.uploadable().count()
            )))
            .map_err(Failure::environment)?;
        return Ok(ExitStatus::No);
    }
    context
        .out
        .status(
            "Checked",
            &format!("{} file(s): ready to publish", plan.uploadable().count()),
        )
        .map_err(Failure::environment)?;
    Ok(ExitStatus::Success)
}

fn status_line(context: &mut Context, result: &FileResult) -> Result<(), Failure> {
    let mut line = format!("`{}`", result.file_name);
    if let Some(url) = &result.url {
        line.push_str(&format!(" → {url}"));
    }
    match (&result.message, result.status) {
        (Some(message), _) => line.push_str(&format!(" ({message})")),
        (None, Status::AlreadyPublished) => line.push_str(" (already published, same sha256)"),
        (None, Status::NotUploadable) => {
            line.push_str(
                " (not uploadable to a package index: indexes take wheels and sdists only)",
            );
        }
        _ => {}
    }
    let word = match result.status {
        Status::Uploaded => "Uploaded",
        Status::WouldUpload => "Would upload",
        Status::Checked => "Checked",
        Status::AlreadyPublished | Status::NotUploadable | Status::NotAttempted => "Skipped",
        Status::Failed => "Failed",
    };
    context
        .out
        .status(word, &line)
        .map_err(Failure::environment)
}

/// The upload URL: flag, then `TWINE_REPOSITORY_URL`, then PyPI.
fn repository_url(args: &UploadArgs, context: &Context) -> Result<Url, Failure> {
    let text = args
        .repository_url
        .clone()
        .or_else(|| {
            context
                .env
                .get(vars::TWINE_REPOSITORY_URL)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| PYPI_UPLOAD_URL.to_owned());
    let url = parse_url(&text).map_err(Failure::usage)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Failure::usage(format!(
            "`{}` is not an http(s) URL\nhint: PyPI's is https://upload.pypi.org/legacy/",
            display_url(&url)
        )));
    }
    Ok(url)
}

/// Where people see the release: the project page on PyPI and TestPyPI, the simple
/// index page elsewhere.
fn release_url(index: &Url, upload: &Url, name: &str, version: &str) -> String {
    match upload.host_str() {
        Some("upload.pypi.org" | "pypi.org") => {
            format!("https://pypi.org/project/{name}/{version}/")
        }
        Some("test.pypi.org") => format!("https://test.pypi.org/project/{name}/{version}/"),
        _ => index::project_url(index, name).to_string(),
    }
}

/// The outcome of the whole run, for the exit code.
struct Outcome {
    status: ExitStatus,
    error: Option<String>,
}

/// `publish-pypi` (no subcommand).
pub(crate) fn publish(args: &UploadArgs, context: &mut Context) -> StepResult {
    let upload_url = repository_url(args, context)?;
    let plan = plan::build(&args.selection, args.approval.as_deref(), context)?;
    if let Some((path, manifest)) = &plan.manifest {
        let shown = context.display(path);
        let approved = if args.approval.is_some() {
            ", approved"
        } else {
            ""
        };
        context
            .out
            .info(&format!(
                "Release set: `{shown}` ({}{approved})",
                manifest.digest
            ))
            .map_err(Failure::environment)?;
    }
    report_problems(&plan, context)?;
    let mut results: Vec<FileResult> = plan
        .files
        .iter()
        .map(|f| {
            FileResult::of(
                f,
                if f.is_uploadable() {
                    Status::NotAttempted
                } else {
                    Status::NotUploadable
                },
            )
        })
        .collect();
    if plan.failed() > 0 {
        for (result, file) in results.iter_mut().zip(&plan.files) {
            if file.has_errors() {
                result.status = Status::Failed;
            }
        }
        let message = format!(
            "{} of {} file(s) failed the pre-flight check; nothing was uploaded",
            plan.failed(),
            plan.uploadable().count()
        );
        return finish(
            context,
            args,
            &upload_url,
            &plan,
            &results,
            &Outcome {
                status: ExitStatus::No,
                error: Some(message),
            },
        );
    }
    if plan.uploadable().count() == 0 {
        return Err(Failure::input(
            "nothing to publish: no wheel or sdist among the files\nhint: indexes take wheels (.whl) and sdists (.tar.gz); build them first",
        ));
    }

    let config = HttpConfig::from_env(USER_AGENT, &context.env);
    let client = custody_http::client(&config)?;
    let credentials = resolve_credentials(args, context, &client, &config, &upload_url)?;
    if let Some(credentials) = &credentials {
        check_transport(&upload_url, true)?;
        context
            .out
            .mask(credentials.password.expose())
            .map_err(Failure::environment)?;
    }

    // What the index has already, per project.
    let index_url = match &args.index_url {
        Some(text) => parse_url(text).map_err(Failure::usage)?,
        None => index::default_index_url(&upload_url),
    };
    let index_auth = credentials
        .clone()
        .filter(|_| same_origin(&index_url, &upload_url));
    let index_auth = index_auth.as_ref();
    let mut published: BTreeMap<String, Published> = BTreeMap::new();
    for file in plan.uploadable() {
        let Some(project) = file.inspection.as_ref().and_then(|i| i.project.as_ref()) else {
            continue;
        };
        if published.contains_key(&project.normalized_name) {
            continue;
        }
        let found = lookup(
            context,
            &client,
            &config,
            &index_url,
            &project.normalized_name,
            index_auth,
        )?;
        published.insert(project.normalized_name.clone(), found);
    }

    // Decide every file before uploading any: a conflict anywhere stops the release.
    let mut conflicts = 0;
    for (result, file) in results.iter_mut().zip(&plan.files) {
        let Some(inspection) = file.inspection.as_ref() else {
            continue;
        };
        let Some(project) = inspection.project.as_ref() else {
            continue;
        };
        result.url = Some(release_url(
            &index_url,
            &upload_url,
            &project.normalized_name,
            &project.version,
        ));
        match published
            .get(&project.normalized_name)
            .and_then(|p| p.get(&file.file_name))
        {
            None => {
                result.status = if args.dry_run {
                    Status::WouldUpload
                } else {
                    Status::NotAttempted
                }
            }
            Some(Some(sha256)) if *sha256 == inspection.digests.sha256 => {
                result.status = Status::AlreadyPublished;
            }
            Some(Some(sha256)) => {
                conflicts += 1;
                result.status = Status::Failed;
                let message = format!(
                    "`{}` is already on the index with sha256 {sha256}, but this file has sha256 {}",
                    file.file_name, inspection.digests.sha256
                );
                result.message = Some(message.clone());
                context
                    .out
                    .error(
                        &Diagnostic::new(message)
                            .at(file.shown.clone(), None)
                            .hint("a published file can never be replaced; bump the version (or add a build tag to the wheel) and release again"),
                    )
                    .map_err(Failure::environment)?;
            }
            Some(None) => {
                result.status = Status::AlreadyPublished;
                result.message =
                    Some("on the index already; the index gives no hash to compare".to_owned());
            }
        }
    }
    if conflicts > 0 {
        let message =
            format!("{conflicts} file(s) conflict with what the index has; nothing was uploaded");
        return finish(
            context,
            args,
            &upload_url,
            &plan,
            &results,
            &Outcome {
                status: ExitStatus::No,
                error: Some(message),
            },
        );
    }
    if args.dry_run {
        return finish(
            context,
            args,
            &upload_url,
            &plan,
            &results,
            &Outcome {
                status: ExitStatus::Success,
                error: None,
            },
        );
    }
    let Some(credentials) = credentials else {
        // Unreachable: resolve_credentials fails without credentials unless --dry-run.
        return Err(Failure::environment("no credentials"));
    };

    let mut outcome = Outcome {
        status: ExitStatus::Success,
        error: None,
    };
    for (result, file) in results.iter_mut().zip(&plan.files) {
        if result.status != Status::NotAttempted {
            if result.status == Status::AlreadyPublished {
                status_line(context, result)?;
            }
            continue;
        }
        if outcome.error.is_some() {
            continue;
        }
        let project = file.inspection.as_ref().and_then(|i| i.project.clone());
        match upload_one(context, &client, &config, &upload_url, &credentials, file) {
            Ok(()) => {
                result.status = Status::Uploaded;
                status_line(context, result)?;
            }
            Err(UploadFailure::Duplicate { status, detail }) => {
                // The index says it has the file: look again to tell a re-run from a conflict.
                let name = project.map(|p| p.normalized_name).unwrap_or_default();
                let found = lookup(context, &client, &config, &index_url, &name, index_auth)?;
                let sha256 = file
                    .inspection
                    .as_ref()
                    .map(|i| i.digests.sha256.clone())
                    .unwrap_or_default();
                match found.get(&file.file_name) {
                    Some(Some(theirs)) if *theirs == sha256 => {
                        result.status = Status::AlreadyPublished;
                        status_line(context, result)?;
                    }
                    Some(Some(theirs)) => {
                        result.status = Status::Failed;
                        let message = format!(
                            "`{}` is already on the index with sha256 {theirs}, but this file has sha256 {sha256}",
                            file.file_name
                        );
                        result.message = Some(message.clone());
                        outcome = Outcome {
                            status: ExitStatus::No,
                            error: Some(message),
                        };
                    }
                    _ => {
                        result.status = Status::Failed;
                        let hint = if status == 403 {
                            format!(
                                "the credentials ({}) were not accepted, or this user may not upload to the project",
                                credentials.source
                            )
                        } else {
                            "fix what the index names, then re-run: files already uploaded are skipped".to_owned()
                        };
                        let message = format!(
                            "the index refused `{}`{detail}\nhint: {hint}",
                            file.file_name
                        );
                        result.message = Some(first_line(&message));
                        outcome = Outcome {
                            status: ExitStatus::Environment,
                            error: Some(message),
                        };
                    }
                }
            }
            Err(UploadFailure::Other { status, message }) => {
                result.status = Status::Failed;
                result.message = Some(first_line(&message));
                outcome = Outcome {
                    status,
                    error: Some(message),
                };
            }
        }
        context
            .progress
            .finish(&file.file_name, result.status.word());
    }
    finish(context, args, &upload_url, &plan, &results, &outcome)
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_owned()
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

fn lookup(
    context: &mut Context,
    client: &Client,
    config: &HttpConfig,
    index_url: &Url,
    name: &str,
    auth: Option<&Credentials>,
) -> Result<Published, Failure> {
    if auth.is_some() {
        check_transport(index_url, true)?;
    }
    let mut retries = Vec::new();
    let found = index::lookup(
        client,
        config,
        index_url,
        name,
        auth.map(|c| (c.username.as_str(), &c.password)),
        &mut |line| retries.push(line),
    );
    for line in retries {
        context
            .out
            .warning(&Diagnostic::new(line))
            .map_err(Failure::environment)?;
    }
    found.map_err(|e| match e {
        index::IndexError::Http(error) => Failure::from(error),
        other @ index::IndexError::Status { .. } => Failure::environment(other),
    })
}

fn resolve_credentials(
    args: &UploadArgs,
    context: &mut Context,
    client: &Client,
    config: &HttpConfig,
    upload_url: &Url,
) -> Result<Option<Credentials>, Failure> {
    if let Some(credentials) = credentials::configured(args, &context.env)? {
        return Ok(Some(credentials));
    }
    if credentials::wants_trusted_publishing(args.trusted_publishing, &context.env) {
        if args.dry_run {
            context
                .out
                .info("Dry run: would exchange this job's OIDC token for an upload token (trusted publishing)")
                .map_err(Failure::environment)?;
            return Ok(None);
        }
        let env = context.env.clone();
        let mut secrets = Vec::new();
        let result =
            credentials::trusted_publishing(client, config, upload_url, &env, &mut |secret| {
                secrets.push(secret.to_owned());
            });
        for secret in secrets {
            context.out.mask(&secret).map_err(Failure::environment)?;
        }
        return Ok(Some(result?));
    }
    if args.dry_run {
        context
            .out
            .warning(&Diagnostic::new("no credentials are set; a real run would fail").hint(
                "set PYPI_LOGIN and PYPI_PASSWORD (or TWINE_USERNAME/TWINE_PASSWORD), or use trusted publishing",
            ))
            .map_err(Failure::environment)?;
        return Ok(None);
    }
    Err(credentials::CredentialError::Missing {
        url: display_url(upload_url),
    }
    .into())
}

enum UploadFailure {
    /// 400/403/409 that may mean "already there"; `detail` is the server's words.
    Duplicate {
        status: u16,
        detail: String,
    },
    Other {
        status: ExitStatus,
        message: String,
    },
}

/// Streams the file as the `content` part, reporting progress as it goes.
struct ProgressReader {
    inner: fs_err::File,
    progress: Arc<dyn Progress>,
    item: String,
}

impl Read for ProgressReader {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buffer)?;
        self.progress.advance(&self.item, n as u64);
        Ok(n)
    }
}

fn upload_one(
    context: &mut Context,
    client: &Client,
    config: &HttpConfig,
    url: &Url,
    credentials: &Credentials,
    file: &Planned,
) -> Result<(), UploadFailure> {
    let Some(inspection) = file.inspection.as_ref() else {
        return Ok(());
    };
    let fields = form::fields(inspection);
    let size = inspection.size;
    // Uploads get time in proportion to their size: a minute, plus a second per 256 KiB.
    let timeout = config.timeout + Duration::from_secs(size / (256 * 1024));
    let progress = context.progress.clone();
    let mut open_error = None;
    let mut retry_lines = Vec::new();
    let response = send_with_retry(
        config,
        url,
        || {
            progress.start(&file.file_name, Some(size));
            let mut form = Form::new();
            for (name, value) in &fields {
                form = form.text(*name, value.clone());
            }
            match fs_err::File::open(&file.path) {
                Ok(handle) => {
                    let reader = ProgressReader {
                        inner: handle,
                        progress: progress.clone(),
                        item: file.file_name.clone(),
                    };
                    let part = Part::reader_with_length(reader, size)
                        .file_name(file.file_name.clone())
                        .mime_str("application/octet-stream")
                        .expect("a valid MIME type");
                    form = form.part("content", part);
                }
                Err(error) => open_error = Some(error.to_string()),
            }
            client
                .post(url.clone())
                .basic_auth(&credentials.username, Some(credentials.password.expose()))
                .timeout(timeout)
                .multipart(form)
        },
        |attempt, reason, delay| {
            retry_lines.push(format!(
                "uploading `{}`: {reason}; retry {attempt} in {:.1} s",
                file.file_name,
                delay.as_secs_f32()
            ));
        },
    );
    for line in retry_lines {
        let _ = context.out.warning(&Diagnostic::new(line));
    }
    if let Some(error) = open_error {
        return Err(UploadFailure::Other {
            status: ExitStatus::Input,
            message: format!("cannot read `{}`: {error}", file.shown),
        });
    }
    let response = response.map_err(|error| UploadFailure::Other {
        status: custody_cli::Diagnose::exit_status(&error),
        message: format!("uploading `{}`: {error}", file.file_name),
    })?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(());
    }
    if let Some(error) = custody_http::refused_redirect(url, &response) {
        return Err(UploadFailure::Other {
            status: ExitStatus::Environment,
            message: error.to_string(),
        });
    }
    let reason = response
        .status()
        .canonical_reason()
        .unwrap_or_default()
        .to_owned();
    let body = response.text().unwrap_or_default();
    let detail = {
        let detail = index::short_detail(&body);
        if detail.is_empty() {
            format!(": {status} {reason}")
        } else {
            detail
        }
    };
    let lower = body.to_ascii_lowercase();
    let message = |hint: &str| {
        format!(
            "{} refused `{}`{detail}\nhint: {hint}",
            display_url(url),
            file.file_name
        )
    };
    match status {
        401 => Err(UploadFailure::Other {
            status: ExitStatus::Environment,
            message: message(&format!(
                "the user name or password ({}) is wrong for this index",
                credentials.source
            )),
        }),
        403 if lower.contains("username/password")
            || lower.contains("api token")
            || lower.contains("token") && credentials.username != credentials::TOKEN_USER =>
        {
            Err(UploadFailure::Other {
                status: ExitStatus::Environment,
                message: message(
                    "this index accepts API tokens only: set the user to `__token__` and the password to a `pypi-...` token (or use trusted publishing)",
                ),
            })
        }
        403 if lower.contains("invalid or non-existent authentication")
            || lower.contains("invalid api token") =>
        {
            Err(UploadFailure::Other {
                status: ExitStatus::Environment,
                message: message(&format!(
                    "the credentials ({}) were not accepted; check them",
                    credentials.source
                )),
            })
        }
        400 | 403 | 409 => Err(UploadFailure::Duplicate { status, detail }),
        413 => Err(UploadFailure::Other {
            status: ExitStatus::No,
            message: message(
                "the file is larger than the index allows; ask the index for a size limit increase",
            ),
        }),
        _ => Err(UploadFailure::Other {
            status: ExitStatus::Environment,
            message: message(
                "the index failed; re-run the step later: files already uploaded will be skipped",
            ),
        }),
    }
}

/// Reports the results everywhere they go and picks the exit code.
fn finish(
    context: &mut Context,
    args: &UploadArgs,
    upload_url: &Url,
    plan: &Plan,
    results: &[FileResult],
    outcome: &Outcome,
) -> StepResult {
    let manifest_digest = plan.manifest.as_ref().map(|(_, m)| m.digest.clone());
    let count = |status: Status| results.iter().filter(|r| r.status == status).count();
    let uploaded = count(Status::Uploaded);
    let already = count(Status::AlreadyPublished);
    let would = count(Status::WouldUpload);
    let failed = count(Status::Failed);
    if context.out.is_json() {
        let value = serde_json::json!({
            "ok": outcome.error.is_none(),
            "dry_run": args.dry_run,
            "repository_url": display_url(upload_url),
            "manifest_digest": manifest_digest,
            "uploaded": uploaded,
            "already_published": already,
            "failed": failed,
            "files": results,
        });
        context.out.json(&value).map_err(Failure::environment)?;
    } else {
        for result in results
            .iter()
            .filter(|r| matches!(r.status, Status::WouldUpload | Status::NotUploadable))
        {
            status_line(context, result)?;
        }
    }
    context
        .out
        .set_output("uploaded", &uploaded.to_string())
        .map_err(Failure::environment)?;
    context
        .out
        .set_output("already_published", &already.to_string())
        .map_err(Failure::environment)?;
    let mut summary = format!(
        "### publish-pypi{}\n\n| File | Result | Where |\n|---|---|---|\n",
        if args.dry_run { " (dry run)" } else { "" }
    );
    for result in results {
        let name = markdown_cell(&context.out.safe_text(&result.file_name));
        let url = result
            .url
            .as_deref()
            .map(|u| format!("<{u}>"))
            .unwrap_or_default();
        summary.push_str(&format!(
            "| `{name}` | {} | {url} |\n",
            result.status.word()
        ));
    }
    context
        .out
        .summary("publish-pypi", &summary)
        .map_err(Failure::environment)?;
    if let Some(error) = &outcome.error {
        let mut lines = error.lines();
        let mut diagnostic = Diagnostic::new(lines.next().unwrap_or_default());
        if let Some(hint) = lines.find_map(|l| l.strip_prefix("hint: ")) {
            diagnostic = diagnostic.hint(hint);
        }
        context
            .out
            .error(&diagnostic)
            .map_err(Failure::environment)?;
        return Ok(outcome.status);
    }
    let text = if args.dry_run {
        format!(
            "{would} file(s) would be uploaded to {}, {already} already published (dry run: nothing was sent)",
            display_url(upload_url)
        )
    } else {
        format!(
            "{uploaded} file(s) uploaded to {}, {already} already published",
            display_url(upload_url)
        )
    };
    context
        .out
        .status("Finished", &text)
        .map_err(Failure::environment)?;
    Ok(ExitStatus::Success)
}
