//! `approve-gate`: the release pipeline's manual confirmation, bound to the artifacts.
//! It shows the approver exactly what will be published (project, version, every file
//! with size and sha256, the source build), takes a decision — typed on a terminal, a
//! decision file dropped into a directory, or `approve`/`deny` comments on a GitHub
//! issue — and writes an approval record that names the manifest by its digest, which
//! `publish-pypi --approval` requires. Where the job has a Sigstore identity, the record
//! is signed too (`<record>.sigstore.json`), for `publish-pypi --approval-signed-by`.

mod github;
mod plan;
mod poll;
mod release;
mod sign;
mod wait;

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, ValueEnum};
use custody_cli::handoff::{self, Signature};
use custody_cli::sigstore::SigstoreArgs;
use custody_cli::{Diagnose, GlobalArgs, HasGlobal, OutputError, StepResult, after_help};
use custody_manifest::{Approval, Decision, Manifest};
use custody_output::{Context, ExitStatus};

use crate::github::GithubError;
use crate::plan::{Plan, Source};
use crate::poll::Polling;
use crate::release::{Release, describe};
use crate::wait::WaitError;

pub use crate::sign::Sign;

/// The variable `--sign` reads.
pub const CUSTODY_SIGN_APPROVAL: &str = "CUSTODY_SIGN_APPROVAL";

/// The `generator` recorded in approval records.
pub const GENERATOR: &str = concat!("approve-gate ", env!("CARGO_PKG_VERSION"));

/// Ask for a confirmation of exactly this release and record the decision.
///
/// On a terminal the approver types the version to approve (anything else rejects).
/// In CI, a decision comes from a file dropped into --decision-dir, or from comments on
/// a GitHub issue (--github-issue) by --approvers; --timeout bounds the wait and
/// --on-timeout decides what silence means. The record written to --out names the
/// manifest's digest: publish-pypi --approval refuses anything else.
///
/// Where the CI system has its own gate (a GitHub environment's required reviewers,
/// Azure's ManualValidation task or environment approvals), --show puts the release in
/// front of the reviewers before that gate, and --approved-by records its decision
/// afterwards, refusing a manifest other than the one --show displayed.
///
/// In a job with a Sigstore identity (GitHub Actions with `id-token: write`, GitLab CI
/// with SIGSTORE_ID_TOKEN) the record is signed: --out's file plus `.sigstore.json`, a
/// Sigstore bundle over its exact bytes, which publish-pypi --approval-signed-by
/// requires. A person can sign a record with any Sigstore client instead:
/// `python -m sigstore sign approval.json` writes approval.json.sigstore.json.
#[derive(Debug, Parser)]
#[command(name = "approve-gate", version, after_long_help = after_help(EXAMPLES))]
// Doc comments are the --help text.
#[allow(clippy::doc_markdown)]
pub struct Cli {
    /// The release manifest to approve (from `collect-artifacts select`).
    #[arg(long, short = 'm', value_name = "FILE")]
    pub manifest: PathBuf,
    /// Where the release's files are (searched recursively); they are re-hashed against
    /// the manifest before anyone is asked. Default: the manifest's directory.
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
    /// Where to write the approval record (JSON).
    #[arg(
        long,
        short = 'o',
        value_name = "FILE",
        required_unless_present = "show"
    )]
    pub out: Option<PathBuf>,
    /// Only show what is to be released (terminal, job summary) and set the
    /// `manifest_digest` output for the CI system's own approval gate; decide nothing.
    #[arg(long, conflicts_with_all = ["out", "decision_dir", "github_issue", "approved_by"])]
    pub show: bool,
    /// Record an approval already given in the CI system's own gate by NAME (needs
    /// --manifest-digest: the digest the reviewers were shown by --show).
    #[arg(long, value_name = "NAME", requires = "manifest_digest",
          conflicts_with_all = ["decision_dir", "github_issue"])]
    pub approved_by: Option<String>,
    /// The manifest digest the reviewers approved (`sha256:…`, from --show's
    /// `manifest_digest` output); any other manifest is refused.
    #[arg(long, value_name = "DIGEST", requires = "approved_by")]
    pub manifest_digest: Option<String>,
    /// Wait for a decision file (JSON: {"decision": "approve"|"reject", "by": NAME}) in DIR.
    #[arg(long, value_name = "DIR")]
    pub decision_dir: Option<PathBuf>,
    /// Open a GitHub issue with the release's files and wait for `approve`/`deny` comments
    /// (needs GITHUB_TOKEN with issues: write, and --approvers).
    #[arg(long)]
    pub github_issue: bool,
    /// GitHub users whose comments count (comma-separated or repeated).
    #[arg(long, value_name = "USERS", value_delimiter = ',')]
    pub approvers: Vec<String>,
    /// How many approvers must approve.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub min_approvals: usize,
    /// Let the user who started the build approve it too.
    #[arg(long)]
    pub allow_initiator: bool,
    /// How long to wait for a decision: `90s`, `30m`, `2h`.
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration)]
    pub timeout: Duration,
    /// How often to look for a decision.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub poll_interval: Duration,
    /// What silence means when the timeout passes.
    #[arg(long, value_enum, default_value_t = OnTimeout::Reject)]
    pub on_timeout: OnTimeout,
    /// Require the manifest to be signed (`<manifest>.sigstore.json` beside it, a
    /// Sigstore bundle over its exact bytes, verified with --sigstore-trust-root) by ID,
    /// checked before anyone is asked: `github:OWNER/REPO/.github/workflows/FILE.yml[@REF]`,
    /// `gitlab:GROUP/PROJECT//PATH` or `email:ADDRESS[@ISSUER]`. Repeat for several; any
    /// one may have signed. `collect-artifacts select --sign on` writes the bundle.
    #[arg(long, value_name = "ID")]
    pub manifest_signed_by: Vec<custody_attest::Identity>,
    /// Sign the record with this job's Sigstore identity (`<out>.sigstore.json`, logged
    /// in Rekor): auto signs when the job has an identity, on fails without one.
    #[arg(long, value_enum, env = CUSTODY_SIGN_APPROVAL, default_value_t = Sign::Auto)]
    pub sign: Sign,
    #[command(flatten)]
    pub sigstore: SigstoreArgs,
    #[command(flatten)]
    pub global: GlobalArgs,
}

const EXAMPLES: &str = "  # On a terminal: type the version to approve
  approve-gate --manifest release/release.json --out approval.json

  # In CI: wait up to 2 hours for a decision file from the release manager
  approve-gate --manifest release.json --out approval.json --decision-dir /shared/decisions --timeout 2h

  # On GitHub: an issue with the release's files; two of three maintainers approve
  approve-gate --manifest release.json --out approval.json --github-issue \\
      --approvers alice,bob,carol --min-approvals 2 --timeout 24h

  # Behind the CI system's own gate (Azure ManualValidation, GitHub environment):
  # show the release before the gate, record the reviewers' decision after it
  approve-gate --manifest release.json --show
  approve-gate --manifest release.json --out approval.json \\
      --approved-by \"$APPROVER\" --manifest-digest \"$DIGEST_SHOWN\"

  # Only a release set whose manifest the release workflow signed
  # (`collect-artifacts select --sign on`) is put in front of the approvers
  approve-gate --manifest release.json --out approval.json --decision-dir /shared/decisions \\
      --manifest-signed-by github:OWNER/REPO/.github/workflows/release.yml

  # A person signs a record with their own identity (any Sigstore client)
  python -m sigstore sign approval.json      # writes approval.json.sigstore.json
";

impl HasGlobal for Cli {
    fn global(&self) -> &GlobalArgs {
        &self.global
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnTimeout {
    Reject,
    Approve,
}

/// `90`, `90s`, `30m`, `2h`, `500ms`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; write 90s, 30m or 2h"))?;
    Ok(match unit {
        "" | "s" => Duration::from_secs(number),
        "ms" => Duration::from_millis(number),
        "m" => Duration::from_secs(number * 60),
        "h" => Duration::from_secs(number * 3600),
        _ => return Err(format!("`{text}` has an unknown unit; use ms, s, m or h")),
    })
}

/// Where a decision came from, as the approval record names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    CiGate,
    Terminal,
    DecisionFile,
    GithubIssue,
    /// Nobody decided: `--on-timeout` did.
    Timeout,
}

impl Channel {
    fn as_str(self) -> &'static str {
        match self {
            Self::CiGate => "ci-gate",
            Self::Terminal => "terminal",
            Self::DecisionFile => "decision-file",
            Self::GithubIssue => "github-issue",
            Self::Timeout => "timeout",
        }
    }
}

/// A decision as a source gives it.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub decision: Decision,
    pub by: Vec<String>,
    pub channel: Channel,
    pub reference: Option<String>,
    pub reason: Option<String>,
}

impl Outcome {
    /// What silence until `timeout` means, by `--on-timeout`.
    fn silence(on_timeout: OnTimeout, timeout: Duration) -> Self {
        let (decision, reason) = match on_timeout {
            OnTimeout::Reject => (
                Decision::TimedOut,
                format!("no decision within {}", humanize(timeout)),
            ),
            OnTimeout::Approve => (
                Decision::Approved,
                format!(
                    "no objection within {} (--on-timeout approve)",
                    humanize(timeout)
                ),
            ),
        };
        Self {
            decision,
            by: Vec::new(),
            channel: Channel::Timeout,
            reference: None,
            reason: Some(reason),
        }
    }

    /// The approval record of this outcome for `manifest`.
    fn record(&self, manifest: &Manifest) -> Approval {
        Approval::new(
            GENERATOR,
            manifest,
            self.decision,
            self.by.clone(),
            self.channel.as_str(),
            self.reference.clone(),
            self.reason.clone(),
        )
    }
}

impl Cli {
    fn polling(&self) -> Polling {
        Polling {
            timeout: self.timeout,
            interval: self.poll_interval,
        }
    }
}

/// Load and re-hash the release, show it, decide, write the record, report.
// Every step's entry point takes its parsed arguments by value.
#[allow(clippy::needless_pass_by_value)]
pub fn run(cli: Cli, context: &mut Context) -> StepResult {
    let release = Release::load(&cli.manifest, context)?;
    plan::check_options(&cli)?;
    sign::check_manifest(&cli, context)?;
    release.check_files(cli.from.as_deref(), context)?;
    let (source, out_path) = match plan::plan(&cli, &release, context)? {
        Plan::Show => {
            release::show(&release.manifest, context)?;
            return Ok(ExitStatus::Success);
        }
        Plan::Decide { source, out } => (source, out),
    };
    let signer = sign::signer(&cli, context)?;
    context
        .out
        .info(&describe(&release.manifest, false))
        .map_err(OutputError::from)?;
    let outcome = decide(source, &cli, &release.manifest, context)?
        .unwrap_or_else(|| Outcome::silence(cli.on_timeout, cli.timeout));
    let record = outcome.record(&release.manifest);
    // A signature beside the path signs an earlier record's bytes.
    handoff::remove_stale(&out_path, context)?;
    record.write(&out_path)?;
    let signature = match &signer {
        Some(identity) => Some(sign::sign_record(&out_path, &cli, identity, context)?),
        None => None,
    };
    Ok(report(
        &outcome,
        &record,
        &out_path,
        signature.as_ref(),
        context,
    )?)
}

/// Why no decision could be taken: the source that failed says.
#[derive(Debug, thiserror::Error)]
enum DecideError {
    #[error(transparent)]
    Wait(#[from] WaitError),
    #[error(transparent)]
    Github(#[from] GithubError),
}

impl DecideError {
    fn wrapped(&self) -> &dyn Diagnose {
        match self {
            Self::Wait(error) => error,
            Self::Github(error) => error,
        }
    }
}

impl Diagnose for DecideError {
    fn exit_status(&self) -> ExitStatus {
        self.wrapped().exit_status()
    }

    fn hint(&self) -> Option<String> {
        self.wrapped().hint()
    }
}

/// Takes the decision from `source`; `None` when none came before the timeout.
fn decide(
    source: Source,
    cli: &Cli,
    manifest: &Manifest,
    context: &mut Context,
) -> Result<Option<Outcome>, DecideError> {
    Ok(match source {
        Source::Gate(outcome) => Some(outcome),
        Source::GithubIssue => github::wait_for_issue(cli, manifest, context)?,
        Source::DecisionDir(dir) => wait::decision_file(&dir, cli.polling(), manifest, context)?,
        Source::Terminal => Some(wait::prompt(manifest, context)?),
    })
}

/// Step outputs, the JSON record, and the status line; the exit status of the decision.
fn report(
    outcome: &Outcome,
    record: &Approval,
    path: &Path,
    signature: Option<&Signature>,
    context: &mut Context,
) -> Result<ExitStatus, OutputError> {
    let shown = context.display(path);
    context
        .out
        .set_output("decision", &outcome.decision.to_string())?;
    context.out.set_output("approval", &shown)?;
    if context.out.is_json() {
        context.out.json(record)?;
    }
    let who = if outcome.by.is_empty() {
        "nobody".to_owned()
    } else {
        outcome.by.join(", ")
    };
    let signed = signature.map_or_else(String::new, |s| format!(", signed by {}", s.signer()));
    let text = format!(
        "by {who} ({}); record written to `{shown}`{signed}",
        outcome.channel.as_str()
    );
    let (word, status) = match outcome.decision {
        Decision::Approved => ("Approved", ExitStatus::Success),
        Decision::Rejected => ("Rejected", ExitStatus::No),
        Decision::TimedOut => ("Timed out", ExitStatus::Timeout),
    };
    context.out.status(word, &text)?;
    Ok(status)
}

pub(crate) fn humanize(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds >= 3600 && seconds.is_multiple_of(3600) {
        format!("{}h", seconds / 3600)
    } else if seconds >= 60 && seconds.is_multiple_of(60) {
        format!("{}m", seconds / 60)
    } else if seconds > 0 {
        format!("{seconds}s")
    } else {
        format!("{}ms", duration.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3d").is_err());
        assert_eq!(humanize(Duration::from_secs(7200)), "2h");
        assert_eq!(humanize(Duration::from_millis(300)), "300ms");
    }
}
