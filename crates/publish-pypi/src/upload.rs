//! The two flows: `check` (the plan and its pre-flight, nothing more) and `publish`, in
//! named phases: prepare (the plan, checked) → credentials → what the index already
//! has → attestations of every file to upload → one upload per missing file, each with
//! a typed outcome → one report.

use std::collections::BTreeMap;

use custody_ci::vars;
use custody_cli::{Diagnose, Failure, StepResult};
use custody_dist::Inspection;
use custody_http::{Client, HttpConfig, Url, check_transport, parse_url};
use custody_output::{Context, Diagnostic, ExitStatus};
use thiserror::Error;

use crate::credentials::{self, Credentials, DryRunIdentity, Identity};
use crate::index::{self, IndexError, Presence, Published};
use crate::plan::{self, Disposition, Plan, Planned, PrepareError};
use crate::provenance::{self, Run};
use crate::report::{self, AttestationRun, Evidence, FileOutcome, Row};
use crate::send::{self, Answer, Refusal, SendError, Upload};
use crate::{Attestations, PYPI_UPLOAD_URL, Selection, UploadArgs};
use custody_cli::OutputError;

const USER_AGENT: &str = concat!("custody-publish-pypi/", env!("CARGO_PKG_VERSION"));

/// Why a run ends without publishing everything, reported after the results.
#[derive(Debug, Error)]
pub(crate) enum PublishError {
    #[error("{failed} of {total} file(s) would be rejected; fix them before publishing")]
    WouldBeRejected { failed: usize, total: usize },
    #[error("{failed} of {total} file(s) failed the pre-flight check; nothing was uploaded")]
    Preflight { failed: usize, total: usize },
    #[error("{0} file(s) conflict with what the index has; nothing was uploaded")]
    Conflicts(usize),
    #[error(transparent)]
    Send(#[from] SendError),
}

impl Diagnose for PublishError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::WouldBeRejected { .. } | Self::Preflight { .. } | Self::Conflicts(_) => {
                ExitStatus::No
            }
            Self::Send(error) => error.exit_status(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            // Each file's problems and conflicts came with their own hints.
            Self::WouldBeRejected { .. } | Self::Preflight { .. } | Self::Conflicts(_) => None,
            Self::Send(error) => error.hint(),
        }
    }
}

/// `publish-pypi check`.
pub(crate) fn check(selection: &Selection, context: &mut Context) -> StepResult {
    let plan = plan::build(selection, None, context)?;
    report::problems(&plan, context)?;
    let rows = preflight_rows(&plan, &FileOutcome::Checked);
    let failed = plan.failed();
    let total = plan.uploadable().count();
    report::check(context, &rows, failed == 0)?;
    if failed > 0 {
        return Err(PublishError::WouldBeRejected { failed, total }.into());
    }
    context
        .out
        .status("Checked", &format!("{total} file(s): ready to publish"))
        .map_err(OutputError::from)?;
    Ok(ExitStatus::Success)
}

/// Each file as the pre-flight left it: rejected, skipped, or `passed`.
fn preflight_rows<'a>(plan: &'a Plan, passed: &FileOutcome) -> Vec<Row<'a>> {
    let rows = plan.files.iter().map(|file| {
        let outcome = match &file.disposition {
            Disposition::Skip(reason) => FileOutcome::Skipped(*reason),
            Disposition::Upload(_) if file.has_errors() => FileOutcome::Rejected,
            Disposition::Upload(_) => passed.clone(),
        };
        Row::new(file, outcome)
    });
    rows.collect()
}

/// `publish-pypi` (no subcommand).
pub(crate) fn publish(args: &UploadArgs, context: &mut Context) -> StepResult {
    // Prepare: where to, and the plan with its pre-flight.
    let upload_url = repository_url(args, context)?;
    let approval = plan::ApprovalCheck::of(args);
    let plan = plan::build(&args.selection, approval.as_ref(), context)?;
    announce(args, &plan, context)?;
    let mut run = report::Publishing {
        dry_run: args.dry_run,
        upload_url: &upload_url,
        manifest_digest: plan.manifest.as_ref().map(|(_, m)| m.digest.as_str()),
        attestations: None,
    };
    let failed = plan.failed();
    if failed > 0 {
        let rows = preflight_rows(&plan, &FileOutcome::NotAttempted);
        let total = plan.uploadable().count();
        return conclude(
            context,
            &run,
            &rows,
            Err(PublishError::Preflight { failed, total }),
        );
    }
    if plan.uploadable().next().is_none() {
        return Err(PrepareError::NoDistribution.into());
    }

    // Credentials, then what the index has already: every file is decided before any
    // is uploaded, so a conflict anywhere stops the release.
    let config = HttpConfig::from_env(USER_AGENT, &context.env);
    let client = custody_http::client(&config)?;
    let identity = identity(args, context, &client, &config, &upload_url)?;
    let attesting = provenance::decide(args, context, &identity)?;
    run.attestations = Some(attestation_run(args.attestations, &attesting));
    let mut index = Index::new(args, &upload_url, identity.credentials(), &client, &config)?;
    index.probe(context, &upload_url)?;
    let published = index.lookup_projects(context, &plan)?;
    let mut rows = decide(context, &plan, &index, &upload_url, &published)?;
    let conflicts = rows
        .iter()
        .filter(|row| matches!(row.outcome, FileOutcome::Conflict(_)))
        .count();
    if conflicts > 0 {
        return conclude(
            context,
            &run,
            &rows,
            Err(PublishError::Conflicts(conflicts)),
        );
    }

    // Attestations of every file to upload, all signed before the first is uploaded.
    provenance::attest(
        context,
        &attesting,
        &args.sigstore,
        (&client, &config),
        &mut rows,
    )?;

    // One upload per missing file.
    let verdict = match &identity {
        Identity::DryRun(_) => {
            for row in &mut rows {
                if matches!(row.outcome, FileOutcome::NotAttempted) {
                    row.outcome = FileOutcome::WouldUpload;
                }
            }
            Ok(())
        }
        Identity::Upload(credentials) => {
            let upload_client = custody_http::upload_client(&config)?;
            let streaming = custody_http::StreamingClient::new(&config)?;
            let upload = Upload {
                client: &upload_client,
                streaming: &streaming,
                config: &config,
                url: &upload_url,
                credentials,
            };
            match upload_all(context, &upload, &index, &mut rows)? {
                Some(error) => Err(PublishError::Send(error)),
                None => Ok(()),
            }
        }
    };
    conclude(context, &run, &rows, verdict)
}

/// What the report says of the attestations of a run.
fn attestation_run(mode: Attestations, run: &Run) -> AttestationRun {
    let skipped = run.skipped();
    AttestationRun {
        mode: match mode {
            Attestations::Auto => "auto",
            Attestations::On => "on",
            Attestations::Off => "off",
        },
        made: skipped.is_none(),
        sent: run.sends(),
        reason: match skipped {
            Some(skipped) => Some(skipped.reason()),
            None if !run.sends() => Some(provenance::NOT_SENT),
            None => None,
        },
    }
}

/// The one end of every publish run: the report, then the verdict as the exit status.
fn conclude(
    context: &mut Context,
    run: &report::Publishing<'_>,
    rows: &[Row<'_>],
    verdict: Result<(), PublishError>,
) -> StepResult {
    report::publish(context, run, rows, verdict.is_ok())?;
    verdict?;
    Ok(ExitStatus::Success)
}

/// The release set being published, and every problem the pre-flight found.
fn announce(args: &UploadArgs, plan: &Plan, context: &mut Context) -> Result<(), OutputError> {
    if let Some((path, manifest)) = &plan.manifest {
        let shown = context.display(path);
        let approved = if args.approval.is_some() {
            ", approved"
        } else {
            ""
        };
        context.out.info(&format!(
            "Release set: `{shown}` ({}{approved})",
            manifest.digest
        ))?;
    }
    report::problems(plan, context)
}

/// The upload URL: flag, then `TWINE_REPOSITORY_URL`, then PyPI.
fn repository_url(args: &UploadArgs, context: &Context) -> Result<Url, PrepareError> {
    let text = args
        .repository_url
        .as_deref()
        .or_else(|| context.env.get(vars::TWINE_REPOSITORY_URL))
        .unwrap_or(PYPI_UPLOAD_URL);
    plan::http_url(text)
}

/// The credentials phase: who uploads. Every secret met on the way is masked, also
/// when the exchange fails halfway; a dry run says what a real run would do.
fn identity(
    args: &UploadArgs,
    context: &mut Context,
    client: &Client,
    config: &HttpConfig,
    upload_url: &Url,
) -> Result<Identity, Failure> {
    let mut secrets = Vec::new();
    let resolved = credentials::resolve(
        args,
        &context.env,
        client,
        config,
        upload_url,
        &mut |secret| {
            secrets.push(secret.to_owned());
        },
    );
    for secret in &secrets {
        context.out.mask(secret).map_err(OutputError::from)?;
    }
    let identity = resolved?;
    match &identity {
        Identity::DryRun(DryRunIdentity::WouldExchange) => context
            .out
            .info("Dry run: would exchange this job's OIDC token for an upload token (trusted publishing)")
            .map_err(OutputError::from)?,
        Identity::DryRun(DryRunIdentity::Missing) => context
            .out
            .warning(
                &Diagnostic::new("no credentials are set; a real run would fail")
                    .hint(credentials::SET_CREDENTIALS),
            )
            .map_err(OutputError::from)?,
        Identity::Upload(_) | Identity::DryRun(DryRunIdentity::Configured(_)) => {}
    }
    if let Some(credentials) = identity.credentials() {
        check_transport(upload_url, true)?;
        context
            .out
            .mask(credentials.password.expose())
            .map_err(OutputError::from)?;
    }
    Ok(identity)
}

/// The simple index that says what is published, and how to reach it.
struct Index<'a> {
    url: Url,
    /// Not derived from the upload URL: given with --index-url.
    given: bool,
    /// False with --no-index-check: nothing is looked up.
    enabled: bool,
    /// The upload's credentials, when the index is on the same origin.
    auth: Option<Credentials>,
    client: &'a Client,
    config: &'a HttpConfig,
}

impl<'a> Index<'a> {
    fn new(
        args: &UploadArgs,
        upload_url: &Url,
        credentials: Option<&Credentials>,
        client: &'a Client,
        config: &'a HttpConfig,
    ) -> Result<Self, PrepareError> {
        let url = match &args.index_url {
            Some(text) => parse_url(text)?,
            None => index::default_index_url(upload_url),
        };
        let auth = credentials
            .filter(|_| same_origin(&url, upload_url))
            .cloned();
        Ok(Self {
            url,
            given: args.index_url.is_some(),
            enabled: !args.no_index_check,
            auth,
            client,
            config,
        })
    }

    fn auth(&self) -> Option<(&str, &custody_http::Secret)> {
        self.auth
            .as_ref()
            .map(|c| (c.username.as_str(), &c.password))
    }

    /// Makes sure the URL is a simple index before any 404 is read as "not published"
    /// (trying devpi's `+simple/` where the `/simple/` guess is not one), and says which
    /// URL answers for the index.
    fn probe(&mut self, context: &mut Context, upload_url: &Url) -> Result<(), Failure> {
        if !self.enabled {
            context
                .out
                .info("Not looking at the index (--no-index-check): a file it already has fails")
                .map_err(OutputError::from)?;
            return Ok(());
        }
        if self.auth.is_some() {
            check_transport(&self.url, true)?;
        }
        if !index::is_well_known(&self.url) {
            match index::probe(self.client, self.config, &self.url, self.auth()) {
                Ok(()) => {}
                Err(error @ IndexError::NotAnIndex { .. }) if !self.given => {
                    let devpi = index::devpi_index_url(upload_url);
                    if index::probe(self.client, self.config, &devpi, self.auth()).is_err() {
                        return Err(error.into());
                    }
                    self.url = devpi;
                }
                Err(error) => return Err(error.into()),
            }
        }
        context
            .out
            .info(&format!(
                "Index: `{}`",
                custody_http::display_url(&self.url)
            ))
            .map_err(OutputError::from)?;
        Ok(())
    }

    /// The files of project `name` on the index; warns of each retry.
    fn lookup(&self, context: &mut Context, name: &str) -> Result<Published, IndexError> {
        if self.auth.is_some() {
            check_transport(&self.url, true)?;
        }
        let mut retries = Vec::new();
        let found = index::lookup(
            self.client,
            self.config,
            &self.url,
            name,
            self.auth(),
            &mut |line| retries.push(line),
        );
        // A warning that cannot be written does not stop the run; the report will fail.
        for line in retries {
            let _ = context.out.warning(&Diagnostic::new(line));
        }
        found
    }

    /// What the index has of every project of the plan.
    fn lookup_projects(
        &self,
        context: &mut Context,
        plan: &Plan,
    ) -> Result<BTreeMap<String, Published>, IndexError> {
        let mut published = BTreeMap::new();
        if !self.enabled {
            return Ok(published);
        }
        for (_, checked) in plan.uploadable() {
            let Some(project) = &checked.inspection.project else {
                continue;
            };
            if !published.contains_key(&project.normalized_name) {
                let found = self.lookup(context, &project.normalized_name)?;
                published.insert(project.normalized_name.clone(), found);
            }
        }
        Ok(published)
    }
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
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

/// Decides every file against what the index has: to upload, already there, or a
/// conflict (reported against its file as it is found).
fn decide<'a>(
    context: &mut Context,
    plan: &'a Plan,
    index: &Index<'_>,
    upload_url: &Url,
    published: &BTreeMap<String, Published>,
) -> Result<Vec<Row<'a>>, OutputError> {
    let mut rows = Vec::new();
    for file in &plan.files {
        let checked = match &file.disposition {
            Disposition::Skip(reason) => {
                rows.push(Row::new(file, FileOutcome::Skipped(*reason)));
                continue;
            }
            Disposition::Upload(checked) => checked,
        };
        let mut row = Row::new(file, FileOutcome::NotAttempted);
        if let Some(project) = &checked.inspection.project {
            row.url = Some(release_url(
                &index.url,
                upload_url,
                &project.normalized_name,
                &project.version,
            ));
            let presence =
                published
                    .get(&project.normalized_name)
                    .map_or(Presence::Absent, |published| {
                        index::presence(
                            published,
                            &file.file_name,
                            &checked.inspection.digests.sha256,
                        )
                    });
            row.outcome = match presence {
                Presence::Absent => FileOutcome::NotAttempted,
                Presence::Same => FileOutcome::AlreadyPublished(Evidence::SameSha256),
                Presence::Unhashed => FileOutcome::AlreadyPublished(Evidence::NameOnly),
                Presence::Different(conflict) => {
                    let mut diagnostic =
                        Diagnostic::new(conflict.to_string()).at(file.shown.clone(), None);
                    if let Some(hint) = conflict.hint() {
                        diagnostic = diagnostic.hint(hint);
                    }
                    context.out.error(&diagnostic)?;
                    FileOutcome::Conflict(conflict)
                }
            };
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Uploads every file still to do, in order. The first failure stops the uploads and
/// is returned; files already on the index are still listed as skipped.
fn upload_all(
    context: &mut Context,
    upload: &Upload<'_>,
    index: &Index<'_>,
    rows: &mut [Row<'_>],
) -> Result<Option<SendError>, OutputError> {
    let mut stopped = None;
    // Trusted publishing's token is replaced when half its life is spent.
    let mut current = upload.credentials.clone();
    for row in rows.iter_mut() {
        let checked = match (&row.outcome, &row.file.disposition) {
            (FileOutcome::AlreadyPublished(_), _) => {
                report::status_line(context, row)?;
                continue;
            }
            (FileOutcome::NotAttempted, Disposition::Upload(checked)) if stopped.is_none() => {
                checked
            }
            _ => continue,
        };
        let renewed = renew_if_due(context, upload, &mut current)?;
        let upload = Upload {
            credentials: &current,
            ..*upload
        };
        let attestations = row
            .attestation
            .as_ref()
            .and_then(provenance::Attested::field);
        match renewed.and_then(|()| {
            upload_file(
                context,
                &upload,
                index,
                row.file,
                &checked.inspection,
                attestations,
            )
        }) {
            Ok(outcome) => {
                row.outcome = outcome;
                report::status_line(context, row)?;
            }
            Err(error) => {
                row.outcome = FileOutcome::Failed(report::one_line(&error));
                stopped = Some(error);
            }
        }
        context
            .progress
            .finish(&row.file.file_name, row.outcome.word());
    }
    Ok(stopped)
}

/// Trusted publishing: a fresh upload token before the current one runs out, masked
/// (also when the renewal fails halfway).
fn renew_if_due(
    context: &mut Context,
    upload: &Upload<'_>,
    credentials: &mut Credentials,
) -> Result<Result<(), SendError>, OutputError> {
    let mut secrets = Vec::new();
    let renewed = credentials.renew_if_due(upload.client, upload.config, upload.url, &mut |s| {
        secrets.push(s.to_owned());
    });
    for secret in &secrets {
        context.out.mask(secret)?;
    }
    match renewed {
        Ok(true) => context
            .out
            .info("Trusted publishing: renewed the upload token before it expires")?,
        Ok(false) => {}
        Err(error) => return Ok(Err(error.into())),
    }
    Ok(Ok(()))
}

/// The per-file work: upload, and where the index answers as it does for a file it
/// has, look again to tell a re-run from a refusal.
fn upload_file(
    context: &mut Context,
    upload: &Upload<'_>,
    index: &Index<'_>,
    file: &Planned,
    inspection: &Inspection,
    attestations: Option<&str>,
) -> Result<FileOutcome, SendError> {
    let (status, detail) = match send::send(context, upload, file, inspection, attestations)? {
        Answer::Accepted => return Ok(FileOutcome::Uploaded),
        Answer::MaybePresent { status, detail } => (status, detail),
    };
    if !index.enabled {
        let refusal = Refusal::invalid(&detail);
        return Err(send::refused(upload, file, detail, refusal));
    }
    let name = inspection
        .project
        .as_ref()
        .map(|p| p.normalized_name.as_str())
        .unwrap_or_default();
    let published = index.lookup(context, name)?;
    match index::presence(&published, &file.file_name, &inspection.digests.sha256) {
        Presence::Same => Ok(FileOutcome::AlreadyPublished(Evidence::SameSha256)),
        Presence::Different(conflict) => Err(conflict.into()),
        Presence::Absent | Presence::Unhashed => {
            let refusal = if status == 403 {
                Refusal::Forbidden
            } else {
                Refusal::invalid(&detail)
            };
            Err(send::refused(upload, file, detail, refusal))
        }
    }
}
