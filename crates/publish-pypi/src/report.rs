//! One report of a run, wherever it goes: a status line per file on the terminal, the
//! `--json` document, the step outputs and summary table on Azure and GitHub. Every flow
//! ends here, with one typed outcome per file.

use custody_cli::OutputError;
use custody_dist::{ArtifactKind, Problem};
use custody_http::{Url, display_url};
use custody_output::Context;
use custody_output::text::markdown_cell;
use serde::Serialize;

use crate::index::Conflict;
use crate::plan::{NotUploadable, Plan, Planned};
use crate::provenance::{Attested, Kept, Origin};

/// What happened to one file.
#[derive(Debug, Clone)]
pub(crate) enum FileOutcome {
    /// `check`: passed the pre-flight.
    Checked,
    /// Failed the pre-flight; its problems say why.
    Rejected,
    Uploaded,
    AlreadyPublished(Evidence),
    /// `--dry-run`: would be uploaded.
    WouldUpload,
    Skipped(NotUploadable),
    /// The index has another file under this name.
    Conflict(Conflict),
    /// The upload failed (the error, on one line); the run stopped there.
    Failed(String),
    /// An earlier failure stopped the run before this file.
    NotAttempted,
}

/// How a file is known to be on the index already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Evidence {
    SameSha256,
    /// The index gives no hash to compare.
    NameOnly,
}

/// The outcome as the JSON report and the summary name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    Checked,
    Uploaded,
    AlreadyPublished,
    WouldUpload,
    NotUploadable,
    Failed,
    NotAttempted,
}

impl FileOutcome {
    fn status(&self) -> Status {
        match self {
            Self::Checked => Status::Checked,
            Self::Uploaded => Status::Uploaded,
            Self::AlreadyPublished(_) => Status::AlreadyPublished,
            Self::WouldUpload => Status::WouldUpload,
            Self::Skipped(_) => Status::NotUploadable,
            Self::Rejected | Self::Conflict(_) | Self::Failed(_) => Status::Failed,
            Self::NotAttempted => Status::NotAttempted,
        }
    }

    /// The word of the summary table and the progress line.
    pub(crate) fn word(&self) -> &'static str {
        match self.status() {
            Status::Checked => "checked",
            Status::Uploaded => "uploaded",
            Status::AlreadyPublished => "already published",
            Status::WouldUpload => "would upload",
            Status::NotUploadable => "skipped",
            Status::Failed => "failed",
            Status::NotAttempted => "not attempted",
        }
    }

    /// The word of the terminal's status line.
    fn verb(&self) -> &'static str {
        match self.status() {
            Status::Uploaded => "Uploaded",
            Status::WouldUpload => "Would upload",
            Status::Checked => "Checked",
            Status::AlreadyPublished | Status::NotUploadable | Status::NotAttempted => "Skipped",
            Status::Failed => "Failed",
        }
    }

    /// Why, where the status alone does not say it (the JSON `message`).
    fn message(&self) -> Option<String> {
        match self {
            Self::AlreadyPublished(Evidence::NameOnly) => {
                Some("on the index already; the index gives no hash to compare".to_owned())
            }
            Self::Conflict(conflict) => Some(conflict.to_string()),
            Self::Failed(message) => Some(message.clone()),
            _ => None,
        }
    }

    /// What the status line adds after the file name.
    fn note(&self) -> Option<String> {
        self.message().or_else(|| match self {
            Self::AlreadyPublished(Evidence::SameSha256) => {
                Some("already published, same sha256".to_owned())
            }
            Self::Skipped(reason) => Some(reason.to_string()),
            _ => None,
        })
    }
}

/// One file and what became of it.
#[derive(Debug)]
pub(crate) struct Row<'a> {
    pub file: &'a Planned,
    pub outcome: FileOutcome,
    /// Where people see the release.
    pub url: Option<String>,
    /// Its PEP 740 attestations, when this run makes them.
    pub attestation: Option<Attested>,
}

impl<'a> Row<'a> {
    pub(crate) fn new(file: &'a Planned, outcome: FileOutcome) -> Self {
        Self {
            file,
            outcome,
            url: None,
            attestation: None,
        }
    }

    /// What the status line says of the attestations: `attestation made, Rekor log
    /// index 12` (or reused, replaced; not sent; would sign).
    fn attestation_note(&self) -> Option<String> {
        let (attestations, sent) = match self.attestation.as_ref()? {
            Attested::WouldSign => return Some("would sign an attestation".to_owned()),
            Attested::Kept {
                attestations,
                field,
            } => (attestations, field.is_some()),
        };
        let parts: Vec<String> = attestations
            .iter()
            .map(|kept| {
                let mut part = format!("{} {}", kind_word(kept), origin_word(kept.origin));
                if let Some(index) = kept.log_index {
                    part.push_str(&format!(", Rekor log index {index}"));
                }
                part
            })
            .collect();
        let mut note = parts.join("; ");
        if !sent {
            note.push_str(", not sent");
        }
        Some(note)
    }
}

fn kind_word(kept: &Kept) -> &'static str {
    if kept.predicate_type == custody_attest::SLSA_PROVENANCE_V1 {
        "SLSA provenance"
    } else {
        "attestation"
    }
}

fn origin_word(origin: Origin) -> &'static str {
    match origin {
        Origin::Made => "made",
        Origin::Reused => "reused",
        Origin::Replaced => "made anew (the one beside it was stale)",
        Origin::Found => "found beside it",
    }
}

/// An attestation in the `--json` report.
#[derive(Debug, Serialize)]
struct AttestationResult<'a> {
    predicate_type: &'a str,
    /// `made`, `reused`, `replaced`, `found`, or `would_sign`.
    origin: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    sent: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_index: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signer: Option<&'a str>,
}

fn attestation_results(attested: Option<&Attested>) -> Vec<AttestationResult<'_>> {
    match attested {
        None => Vec::new(),
        Some(Attested::WouldSign) => vec![AttestationResult {
            predicate_type: custody_attest::PUBLISH_V1,
            origin: "would_sign",
            path: None,
            sent: false,
            log_index: None,
            signer: None,
        }],
        Some(Attested::Kept {
            attestations,
            field,
        }) => attestations
            .iter()
            .map(|kept| AttestationResult {
                predicate_type: &kept.predicate_type,
                origin: match kept.origin {
                    Origin::Made => "made",
                    Origin::Reused => "reused",
                    Origin::Replaced => "replaced",
                    Origin::Found => "found",
                },
                path: Some(&kept.shown),
                sent: field.is_some(),
                log_index: kept.log_index,
                signer: Some(&kept.signer),
            })
            .collect(),
    }
}

/// A file in the `--json` report.
#[derive(Debug, Serialize)]
struct FileResult<'a> {
    file_name: &'a str,
    path: &'a str,
    kind: ArtifactKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    project: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<&'a str>,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    problems: &'a [Problem],
    /// PEP 740 attestations: none when this run makes none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attestations: Vec<AttestationResult<'a>>,
}

impl<'a> FileResult<'a> {
    fn of(row: &'a Row<'_>) -> Self {
        let inspection = row.file.checked().map(|checked| &checked.inspection);
        let project = inspection.and_then(|i| i.project.as_ref());
        Self {
            file_name: &row.file.file_name,
            path: &row.file.shown,
            kind: row.file.kind(),
            project: project.map(|p| p.name.as_str()),
            version: project.map(|p| p.version.as_str()),
            size: inspection.map(|i| i.size),
            sha256: inspection.map(|i| i.digests.sha256.as_str()),
            status: row.outcome.status(),
            url: row.url.as_deref(),
            message: row.outcome.message(),
            problems: row.file.problems(),
            attestations: attestation_results(row.attestation.as_ref()),
        }
    }
}

fn results<'a>(rows: &'a [Row<'_>]) -> Vec<FileResult<'a>> {
    rows.iter().map(FileResult::of).collect()
}

/// Prints every problem of every file, errors and warnings, against its file.
pub(crate) fn problems(plan: &Plan, context: &mut Context) -> Result<(), OutputError> {
    for file in &plan.files {
        custody_cli::problems::report(
            &mut context.out,
            &file.file_name,
            &file.shown,
            file.problems(),
        )?;
    }
    Ok(())
}

/// The line of one file: `Uploaded `x.whl` → URL (note)`.
pub(crate) fn status_line(context: &mut Context, row: &Row<'_>) -> Result<(), OutputError> {
    let mut line = format!("`{}`", row.file.file_name);
    if let Some(url) = &row.url {
        line.push_str(&format!(" → {url}"));
    }
    let notes: Vec<String> = [row.outcome.note(), row.attestation_note()]
        .into_iter()
        .flatten()
        .collect();
    if !notes.is_empty() {
        line.push_str(&format!(" ({})", notes.join("; ")));
    }
    Ok(context.out.status(row.outcome.verb(), &line)?)
}

/// `publish-pypi check`: every file's line, or the JSON document.
pub(crate) fn check(context: &mut Context, rows: &[Row<'_>], ok: bool) -> Result<(), OutputError> {
    if context.out.is_json() {
        let value = serde_json::json!({ "ok": ok, "files": results(rows) });
        context.out.json(&value)?;
    } else {
        for row in rows {
            status_line(context, row)?;
        }
    }
    Ok(())
}

/// What a publish run was about, for its report.
#[derive(Debug)]
pub(crate) struct Publishing<'a> {
    pub dry_run: bool,
    pub upload_url: &'a Url,
    pub manifest_digest: Option<&'a str>,
    /// What the run does about attestations, once decided.
    pub attestations: Option<AttestationRun>,
}

/// What a run did about attestations, for the `--json` report.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct AttestationRun {
    /// `auto`, `on` or `off`.
    pub mode: &'static str,
    /// Whether attestations are made (or, in a dry run, would be).
    pub made: bool,
    /// Whether they go to the index.
    pub sent: bool,
    /// Why they are not made or not sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

/// The results of a publish run, everywhere they go; `ok` is whether it ends well.
pub(crate) fn publish(
    context: &mut Context,
    run: &Publishing<'_>,
    rows: &[Row<'_>],
    ok: bool,
) -> Result<(), OutputError> {
    let count = |status: Status| rows.iter().filter(|r| r.outcome.status() == status).count();
    let uploaded = count(Status::Uploaded);
    let already = count(Status::AlreadyPublished);
    if context.out.is_json() {
        let value = serde_json::json!({
            "ok": ok,
            "dry_run": run.dry_run,
            "repository_url": display_url(run.upload_url),
            "manifest_digest": run.manifest_digest,
            "uploaded": uploaded,
            "already_published": already,
            "failed": count(Status::Failed),
            "attestations": run.attestations,
            "files": results(rows),
        });
        context.out.json(&value)?;
    } else {
        for row in rows.iter().filter(|r| {
            matches!(
                r.outcome,
                FileOutcome::WouldUpload | FileOutcome::Skipped(_)
            )
        }) {
            status_line(context, row)?;
        }
    }
    context.out.set_output("uploaded", &uploaded.to_string())?;
    context
        .out
        .set_output("already_published", &already.to_string())?;
    summary(context, run, rows)?;
    if ok {
        let text = if run.dry_run {
            format!(
                "{} file(s) would be uploaded to {}, {already} already published (dry run: nothing was sent)",
                count(Status::WouldUpload),
                display_url(run.upload_url)
            )
        } else {
            format!(
                "{uploaded} file(s) uploaded to {}, {already} already published",
                display_url(run.upload_url)
            )
        };
        context.out.status("Finished", &text)?;
    }
    Ok(())
}

/// The step summary: a table of the files, their results and where they are.
fn summary(
    context: &mut Context,
    run: &Publishing<'_>,
    rows: &[Row<'_>],
) -> Result<(), OutputError> {
    let attested = rows.iter().any(|row| row.attestation.is_some());
    let mut summary = format!(
        "### publish-pypi{}\n\n| File | Result | Where |{}\n|---|---|---|{}\n",
        if run.dry_run { " (dry run)" } else { "" },
        if attested { " Attestation |" } else { "" },
        if attested { "---|" } else { "" },
    );
    for row in rows {
        let name = markdown_cell(&context.out.safe_text(&row.file.file_name));
        let url = row
            .url
            .as_deref()
            .map(|u| format!("<{u}>"))
            .unwrap_or_default();
        summary.push_str(&format!("| `{name}` | {} | {url} |", row.outcome.word()));
        if attested {
            let note = row.attestation_note().unwrap_or_default();
            summary.push_str(&format!(" {} |", markdown_cell(&note)));
        }
        summary.push('\n');
    }
    context.out.summary("publish-pypi", &summary)?;
    Ok(())
}

/// An error and its causes on one line, for a file's row.
pub(crate) fn one_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(error) = current {
        let line = error.to_string();
        let line = line.lines().next().unwrap_or_default();
        if !line.is_empty() && !parts.iter().any(|p| p.contains(line)) {
            parts.push(line.to_owned());
        }
        current = error.source();
    }
    parts.join(": ")
}
