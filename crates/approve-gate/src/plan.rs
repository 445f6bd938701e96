//! How this run decides, from its options: only show the release, take the decision of
//! the CI system's own gate, or ask (GitHub issue, decision files, terminal). The
//! options clap cannot check, and the gate's binding to the digest its reviewers were
//! shown, are checked here, before anyone is asked.

use std::path::PathBuf;

use custody_cli::Diagnose;
use custody_manifest::Decision;
use custody_output::{Context, ExitStatus};

use crate::release::Release;
use crate::{Channel, Cli, Outcome};

/// Why this run cannot decide with the options given.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PlanError {
    #[error("--github-issue needs --approvers: whose comments decide")]
    IssueWithoutApprovers,
    #[error("--min-approvals must be at least 1")]
    NoApprovalsNeeded,
    #[error(
        "no way to ask for a decision: this is not a terminal, and no decision source is given"
    )]
    NoSource,
    #[error("--approved-by is empty: name who approved in the CI system's gate")]
    NoApprover,
    #[error(
        "`{path}` is not the release that was approved: its digest is `{digest}`, the reviewers were shown `{shown}`"
    )]
    NotTheReleaseShown {
        path: PathBuf,
        digest: String,
        shown: String,
    },
}

impl Diagnose for PlanError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::NotTheReleaseShown { .. } => ExitStatus::No,
            Self::IssueWithoutApprovers
            | Self::NoApprovalsNeeded
            | Self::NoSource
            | Self::NoApprover => ExitStatus::Usage,
        }
    }

    fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::IssueWithoutApprovers => "--approvers alice,bob (GitHub user names)",
            Self::NoApprovalsNeeded => return None,
            Self::NoSource => {
                "in CI pass --decision-dir DIR, --github-issue --approvers USERS, or --approved-by NAME after the CI system's own gate"
            }
            Self::NoApprover => {
                "Azure: $(Build.RequestedFor) is who queued the run, not the approver; pass the reviewer's name"
            }
            Self::NotTheReleaseShown { .. } => {
                "the artifacts changed after `approve-gate --show`; run the release again so the reviewers see these files"
            }
        };
        Some(hint.to_owned())
    }
}

/// What this run does.
#[derive(Debug)]
pub(crate) enum Plan {
    /// `--show`: put the release in front of the CI gate's reviewers; decide nothing.
    Show,
    /// Take a decision from `source` and record it at `out`.
    Decide { source: Source, out: PathBuf },
}

/// Where the decision comes from.
#[derive(Debug)]
pub(crate) enum Source {
    /// The CI system's own gate decided already; bound to the digest it was shown.
    Gate(Outcome),
    GithubIssue,
    DecisionDir(PathBuf),
    Terminal,
}

/// The options clap cannot check, checked before the release's files are read.
pub(crate) fn check_options(cli: &Cli) -> Result<(), PlanError> {
    if cli.github_issue && cli.approvers.is_empty() {
        return Err(PlanError::IssueWithoutApprovers);
    }
    if cli.min_approvals == 0 {
        return Err(PlanError::NoApprovalsNeeded);
    }
    Ok(())
}

/// Chooses what to do; a CI gate's decision is checked against what its reviewers saw.
pub(crate) fn plan(cli: &Cli, release: &Release, context: &Context) -> Result<Plan, PlanError> {
    // clap requires --out unless --show, and refuses both.
    let Some(out) = &cli.out else {
        return Ok(Plan::Show);
    };
    let source = if let (Some(name), Some(digest)) = (&cli.approved_by, &cli.manifest_digest) {
        Source::Gate(approved_in_ci(name, digest, release, context)?)
    } else if cli.github_issue {
        Source::GithubIssue
    } else if let Some(dir) = &cli.decision_dir {
        Source::DecisionDir(context.resolve(dir))
    } else if context.interactive {
        Source::Terminal
    } else {
        return Err(PlanError::NoSource);
    };
    Ok(Plan::Decide {
        source,
        out: context.resolve(out),
    })
}

/// `--approved-by`: the CI system's gate decided; bind its decision to the manifest the
/// reviewers were shown.
fn approved_in_ci(
    name: &str,
    shown_digest: &str,
    release: &Release,
    context: &Context,
) -> Result<Outcome, PlanError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(PlanError::NoApprover);
    }
    let shown = shown_digest.trim();
    let shown = if shown.starts_with("sha256:") {
        shown.to_owned()
    } else {
        format!("sha256:{shown}")
    };
    if shown != release.manifest.digest {
        return Err(PlanError::NotTheReleaseShown {
            path: PathBuf::from(&release.shown),
            digest: release.manifest.digest.clone(),
            shown,
        });
    }
    Ok(Outcome {
        decision: Decision::Approved,
        by: vec![name.to_owned()],
        channel: Channel::CiGate,
        reference: context.ci.build_url.clone(),
        reason: Some("approved in the CI system's own gate".to_owned()),
    })
}
