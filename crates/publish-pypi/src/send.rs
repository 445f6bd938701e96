//! The upload of one file: the legacy upload form with the file streamed as its
//! `content` part, retried where the index may recover, and the index's answer read
//! into what it means: accepted, maybe a file it already has, or refused and why.

use std::sync::Arc;
use std::time::Duration;

use custody_cli::Diagnose;
use custody_dist::Inspection;
use custody_http::reqwest::multipart::{Form, Part};
use custody_http::{Client, HttpConfig, HttpError, StreamingClient, Url, display_url, file_chunks};
use custody_output::{Context, Diagnostic, ExitStatus, Progress};
use thiserror::Error;

use crate::credentials::{self, Credentials, Source};
use crate::form;
use crate::index::{self, Conflict, IndexError};
use crate::plan::Planned;

/// Why the upload of a file failed. The server's own words stay in the message; the fix
/// is the hint.
#[derive(Debug, Error)]
pub(crate) enum SendError {
    #[error("cannot read `{shown}`")]
    Read {
        shown: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot upload `{file_name}`")]
    Transport {
        file_name: String,
        #[source]
        source: HttpError,
    },
    /// Uploads follow no redirect: a redirected POST arrives as a GET, or not at all.
    #[error(
        "{url} answered the upload of `{file_name}` with {status}, a redirect{target}; nothing was uploaded"
    )]
    Redirected {
        url: String,
        file_name: String,
        status: u16,
        /// ` to <URL>`, or nothing without a `Location`.
        target: String,
    },
    #[error("{url} refused `{file_name}`{detail}")]
    Refused {
        url: String,
        file_name: String,
        /// `: ` and the first line of the server's answer, or its status.
        detail: String,
        refusal: Refusal,
        credentials: Source,
    },
    #[error(transparent)]
    Conflict(#[from] Conflict),
    #[error(transparent)]
    Lookup(#[from] IndexError),
    /// Trusted publishing: the short-lived token could not be renewed.
    #[error(transparent)]
    Renewal(#[from] credentials::CredentialError),
}

/// What a refusal means, by status and the server's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// 401.
    WrongCredentials,
    /// 403 naming API tokens: a password where the index takes tokens only.
    TokensOnly,
    /// 403 naming invalid authentication.
    CredentialsRejected,
    /// 403 for a file the index does not have.
    Forbidden,
    /// 400 or 409 for a file the index does not have: the index names what is wrong.
    Invalid,
    /// Warehouse's 400 "Invalid attestations supplied during upload".
    Attestations(AttestationRefusal),
    /// 413.
    TooLarge,
    /// Anything else: the index failed.
    IndexFailed,
}

/// What Warehouse refused about the attestations (`IntegrityService.parse_attestations`),
/// by its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttestationRefusal {
    /// "Attestations are only supported when using Trusted Publishing".
    NotTrustedPublishing,
    /// "Attestations are not currently supported with ... publishers".
    PublisherKind,
    /// "... does not match expected Trusted Publisher": the signer is not the publisher.
    NotThePublisher,
    /// "A maximum of 2 attestations per file" or "Multiple attestations for the same
    /// file with the same predicate type".
    TooMany,
    /// Anything else: malformed, or failed verification.
    Unverified,
}

impl AttestationRefusal {
    /// The refusal the index's words describe, if they are about attestations.
    pub(crate) fn of(detail: &str) -> Option<Self> {
        if !detail.contains("Invalid attestations supplied during upload") {
            return None;
        }
        Some(
            if detail.contains("only supported when using Trusted Publishing") {
                Self::NotTrustedPublishing
            } else if detail.contains("are not currently supported with") {
                Self::PublisherKind
            } else if detail.contains("does not match expected Trusted Publisher") {
                Self::NotThePublisher
            } else if detail.contains("A maximum of") || detail.contains("Multiple attestations") {
                Self::TooMany
            } else {
                Self::Unverified
            },
        )
    }

    fn hint(self) -> &'static str {
        match self {
            Self::NotTrustedPublishing => {
                "the index takes attestations only with trusted publishing: publish with it, or pass --attestations off"
            }
            Self::PublisherKind => {
                "the index takes no attestations from this kind of trusted publisher: pass --attestations off"
            }
            Self::NotThePublisher => {
                "the attestation's signer is not the trusted publisher the index knows (a reusable workflow signs as its caller): move the publish job into the workflow that is triggered, or pass --attestations off"
            }
            Self::TooMany => {
                "the index takes one attestation per predicate type: remove the extra `<file>.slsa.attestation`"
            }
            Self::Unverified => {
                "check the attestation with `pypi-attestations verify attestation --identity <publisher> <file>`, or pass --attestations off; files already uploaded are skipped on a re-run"
            }
        }
    }
}

impl Diagnose for SendError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Read { .. } => ExitStatus::Input,
            Self::Transport { source, .. } => source.exit_status(),
            Self::Refused {
                refusal: Refusal::TooLarge,
                ..
            } => ExitStatus::No,
            Self::Redirected { .. } | Self::Refused { .. } => ExitStatus::Environment,
            Self::Conflict(conflict) => conflict.exit_status(),
            Self::Lookup(error) => error.exit_status(),
            Self::Renewal(error) => error.exit_status(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::Read { .. } => None,
            Self::Transport { source, .. } => source.hint(),
            Self::Redirected { .. } => Some(
                "give the URL the index redirects to as --repository-url: uploads never follow redirects (as twine), since a redirected upload publishes nothing"
                    .to_owned(),
            ),
            Self::Refused {
                refusal,
                credentials,
                ..
            } => Some(refusal.hint(*credentials)),
            Self::Conflict(conflict) => conflict.hint(),
            Self::Lookup(error) => error.hint(),
            Self::Renewal(error) => error.hint(),
        }
    }
}

impl Refusal {
    /// A 400 for a file the index does not have: about its attestations, or not.
    pub(crate) fn invalid(detail: &str) -> Self {
        AttestationRefusal::of(detail).map_or(Self::Invalid, Self::Attestations)
    }

    fn hint(self, credentials: Source) -> String {
        match self {
            Self::Attestations(refusal) => refusal.hint().to_owned(),
            Self::WrongCredentials => {
                format!("the user name or password ({credentials}) is wrong for this index")
            }
            Self::TokensOnly => "this index accepts API tokens only: set the user to `__token__` and the password to a `pypi-...` token (or use trusted publishing)".to_owned(),
            Self::CredentialsRejected => {
                format!("the credentials ({credentials}) were not accepted; check them")
            }
            Self::Forbidden => format!(
                "the credentials ({credentials}) were not accepted, or this user may not upload to the project"
            ),
            Self::Invalid => {
                "fix what the index names, then re-run: files already uploaded are skipped"
                    .to_owned()
            }
            Self::TooLarge => "the file is larger than the index allows; ask the index for a size limit increase".to_owned(),
            Self::IndexFailed => "the index failed; re-run the step later: files already uploaded will be skipped".to_owned(),
        }
    }
}

/// What the index answered to an upload.
#[derive(Debug)]
pub(crate) enum Answer {
    Accepted,
    /// 400, 403 or 409, which indexes also answer for a file they already have: only a
    /// look at the index tells a re-run from a refusal.
    MaybePresent {
        status: u16,
        detail: String,
    },
}

/// Where files go, and as whom.
#[derive(Debug)]
pub(crate) struct Upload<'a> {
    /// For the token renewal of trusted publishing.
    pub client: &'a Client,
    /// For the files: their bodies stream in large chunks.
    pub streaming: &'a StreamingClient,
    pub config: &'a HttpConfig,
    pub url: &'a Url,
    pub credentials: &'a Credentials,
}

/// Uploads `file`, retrying where the index may recover; warns of each retry.
pub(crate) fn send(
    context: &mut Context,
    upload: &Upload<'_>,
    file: &Planned,
    inspection: &Inspection,
    attestations: Option<&str>,
) -> Result<Answer, SendError> {
    let fields = form::fields(inspection, attestations);
    let size = inspection.size;
    // Uploads get time in proportion to their size: a minute, plus a second per 256 KiB.
    let timeout = upload.config.timeout + Duration::from_secs(size / (256 * 1024));
    let progress = context.progress.clone();
    let mut open_error = None;
    let mut retry_lines = Vec::new();
    let response = upload.streaming.send_with_retry(
        upload.config,
        upload.url,
        || {
            progress.start(&file.file_name, Some(size));
            let mut form = Form::new();
            for (name, value) in &fields {
                form = form.text(*name, value.clone());
            }
            match content(file, size, &progress) {
                Ok(part) => form = form.part("content", part),
                Err(error) => open_error = Some(error),
            }
            upload
                .streaming
                .client()
                .post(upload.url.clone())
                .basic_auth(
                    &upload.credentials.username,
                    Some(upload.credentials.password.expose()),
                )
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
    // A warning that cannot be written does not stop the upload; the report will fail.
    for line in retry_lines {
        let _ = context.out.warning(&Diagnostic::new(line));
    }
    if let Some(source) = open_error {
        return Err(SendError::Read {
            shown: file.shown.clone(),
            source,
        });
    }
    let response = response.map_err(|source| SendError::Transport {
        file_name: file.file_name.clone(),
        source,
    })?;
    answer(upload, file, response)
}

/// The file as the form's `content` part, streamed in large chunks, reporting progress
/// as it goes.
fn content(file: &Planned, size: u64, progress: &Arc<dyn Progress>) -> std::io::Result<Part> {
    let reader = fs_err::File::open(&file.path)?;
    let progress = progress.clone();
    let item = file.file_name.clone();
    let body = file_chunks(reader, move |n| progress.advance(&item, n as u64));
    Ok(Part::stream_with_length(body, size)
        .file_name(file.file_name.clone())
        .mime_str("application/octet-stream")
        .expect("a valid MIME type"))
}

/// Reads the index's answer: success, a possible duplicate, or a refusal and why.
fn answer(
    upload: &Upload<'_>,
    file: &Planned,
    response: custody_http::reqwest::Response,
) -> Result<Answer, SendError> {
    let status = response.status().as_u16();
    if response.status().is_redirection() {
        let target = custody_http::redirect_location(upload.url, response.headers())
            .map(|target| format!(" to {target}"))
            .unwrap_or_default();
        return Err(SendError::Redirected {
            url: display_url(upload.url),
            file_name: file.file_name.clone(),
            status,
            target,
        });
    }
    if (200..300).contains(&status) {
        return Ok(Answer::Accepted);
    }
    let reason = response.status().canonical_reason().unwrap_or_default();
    let reason = format!("{status} {reason}");
    let body = upload
        .streaming
        .block_on(response.text())
        .unwrap_or_default();
    let detail =
        attestation_reason(status, &body).unwrap_or_else(|| index::server_reason(&reason, &body));
    let lower = body.to_ascii_lowercase();
    let refusal = match status {
        401 => Refusal::WrongCredentials,
        403 if lower.contains("username/password")
            || lower.contains("api token")
            || lower.contains("token")
                && upload.credentials.username != credentials::TOKEN_USER =>
        {
            Refusal::TokensOnly
        }
        403 if lower.contains("invalid or non-existent authentication")
            || lower.contains("invalid api token") =>
        {
            Refusal::CredentialsRejected
        }
        400 | 403 | 409 => return Ok(Answer::MaybePresent { status, detail }),
        413 => Refusal::TooLarge,
        _ => Refusal::IndexFailed,
    };
    Err(refused(upload, file, detail, refusal))
}

/// The refusal of `file`, in the server's words.
pub(crate) fn refused(
    upload: &Upload<'_>,
    file: &Planned,
    detail: String,
    refusal: Refusal,
) -> SendError {
    SendError::Refused {
        url: display_url(upload.url),
        file_name: file.file_name.clone(),
        detail,
        refusal,
        credentials: upload.credentials.source,
    }
}

/// Warehouse's whole reason for refusing attestations, which names the certificate's
/// claims and runs long: the status line Pyramid repeats in the body (HTML `<title>`,
/// plain text's first line, JSON's `code`), not cut short, and kept as sent (its
/// `<Extension(...)>` is no HTML).
fn attestation_reason(status: u16, body: &str) -> Option<String> {
    const MARK: &str = "Invalid attestations supplied during upload";
    let text = match serde_json::from_str::<serde_json::Value>(body) {
        Ok(value) => value.get("code")?.as_str()?.to_owned(),
        Err(_) => body.to_owned(),
    };
    let rest = &text[text.find(MARK)?..];
    let end = [rest.find("</title>"), rest.find('\n')]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(rest.len());
    Some(format!(": {status} {}", rest[..end].trim_end()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REASON: &str = "Invalid attestations supplied during upload: Could not verify the uploaded artifact using the included attestation: Verification failed: Certificate's Build Config URI (<Extension(oid=<ObjectIdentifier(oid=1.3.6.1.4.1.57264.1.18, name=Unknown OID)>, critical=False, value=<UnrecognizedExtension(oid=<ObjectIdentifier(oid=1.3.6.1.4.1.57264.1.18, name=Unknown OID)>, value=b'\\x0cMhttps://github.com/astral-sh/uv/.github/workflows/release.yml@refs/heads/main')>)>) does not match expected Trusted Publisher (publish-pypi.yml @ astral-sh/uv)";

    /// Pyramid's three renderings of `_exc_with_message(HTTPBadRequest, REASON)`.
    #[test]
    fn the_whole_attestation_reason_is_read_from_every_rendering() {
        let explanation = "The server could not comply with the request since it is either malformed or otherwise incorrect.";
        let html = format!(
            "<html>\n <head>\n  <title>400 {REASON}</title>\n </head>\n <body>\n  <h1>400 {REASON}</h1>\n  {explanation}<br/><br/>\n{}\n\n\n </body>\n</html>",
            REASON.replace('<', "&lt;").replace('>', "&gt;")
        );
        let plain = format!("400 {REASON}\n\n{explanation}\n\n\n{REASON}\n\n");
        let json = serde_json::json!({
            "message": format!("{explanation}\n\n\n{REASON}\n\n"),
            "code": format!("400 {REASON}"),
            "title": "Bad Request",
        })
        .to_string();
        for body in [html, plain, json] {
            let detail = attestation_reason(400, &body).unwrap();
            assert_eq!(detail, format!(": 400 {REASON}"), "{body}");
            assert_eq!(
                Refusal::invalid(&detail),
                Refusal::Attestations(AttestationRefusal::NotThePublisher)
            );
        }
        assert_eq!(attestation_reason(400, "400 File already exists"), None);
        assert_eq!(
            Refusal::invalid(": 400 File already exists"),
            Refusal::Invalid
        );
    }

    #[test]
    fn each_attestation_refusal_of_warehouse_has_its_hint() {
        let cases = [
            (
                "Attestations are only supported when using Trusted Publishing",
                AttestationRefusal::NotTrustedPublishing,
            ),
            (
                "Attestations are not currently supported with Google publishers",
                AttestationRefusal::PublisherKind,
            ),
            (
                "A maximum of 2 attestations per file are supported",
                AttestationRefusal::TooMany,
            ),
            (
                "Multiple attestations for the same file with the same predicate type (https://docs.pypi.org/attestations/publish/v1) are not supported",
                AttestationRefusal::TooMany,
            ),
            (
                "Malformed attestations: an empty attestation set is not permitted",
                AttestationRefusal::Unverified,
            ),
        ];
        let mut hints = std::collections::BTreeSet::new();
        for (reason, expected) in cases {
            let detail = format!(": Invalid attestations supplied during upload: {reason}");
            assert_eq!(AttestationRefusal::of(&detail), Some(expected), "{reason}");
            hints.insert(expected.hint());
        }
        hints.insert(AttestationRefusal::NotThePublisher.hint());
        assert_eq!(hints.len(), 5);
    }
}
