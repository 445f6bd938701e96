//! `approve-gate`: the release pipeline's manual confirmation, bound to the artifacts.
//! It shows the approver exactly what will be published (project, version, every file
//! with size and sha256, the source build), takes a decision — typed on a terminal, a
//! decision file dropped into a directory, or `approve`/`deny` comments on a GitHub
//! issue — and writes an approval record that names the manifest by its digest, which
//! `publish-pypi --approval` requires.

mod github;
mod wait;

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, ValueEnum};
use custody_cli::manifests::load_manifest;
use custody_cli::{Failure, StepResult};
use custody_cli::{GlobalArgs, HasGlobal, after_help};
use custody_manifest::{Approval, Decision, Manifest};
use custody_output::text::{human_size, markdown_cell};
use custody_output::{Context, ExitStatus};

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

/// A decision as a source gives it.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub decision: Decision,
    pub by: Vec<String>,
    pub source: &'static str,
    pub reference: Option<String>,
    pub reason: Option<String>,
}

fn release_name(manifest: &Manifest) -> String {
    let projects = manifest.projects();
    let names: Vec<String> = projects.iter().map(|(n, v)| format!("{n} {v}")).collect();
    if names.is_empty() {
        "(no package)".to_owned()
    } else {
        names.join(", ")
    }
}

/// What is to be released, as lines for people (terminal, issue body).
pub(crate) fn describe(manifest: &Manifest, markdown: bool) -> String {
    let mut text = String::new();
    if markdown {
        text.push_str(&format!(
            "**Release:** {}\n\n**Manifest:** `{}`\n\n",
            release_name(manifest),
            manifest.digest
        ));
        text.push_str("| File | Size | sha256 |\n|---|---|---|\n");
        for artifact in &manifest.artifacts {
            text.push_str(&format!(
                "| `{}` | {} | `{}` |\n",
                markdown_cell(&artifact.file_name),
                human_size(artifact.size),
                artifact.digests.sha256
            ));
        }
    } else {
        text.push_str(&format!("Release to approve: {}\n", release_name(manifest)));
        text.push_str(&format!("  manifest {}\n", manifest.digest));
        for artifact in &manifest.artifacts {
            text.push_str(&format!(
                "  {:<60} {:>10}  sha256:{}\n",
                artifact.file_name,
                human_size(artifact.size),
                artifact.digests.sha256
            ));
        }
    }
    let mut builds: Vec<String> = manifest
        .jobs
        .iter()
        .filter(|job| manifest.artifacts.iter().any(|a| a.jobs.contains(&job.id)))
        .map(|job| {
            let context = &job.context;
            let commit = context.commit.as_deref().unwrap_or("unknown commit");
            match &context.build_url {
                Some(url) => format!("commit {commit}, build {url}"),
                None => format!("commit {commit} ({})", context.provider),
            }
        })
        .collect();
    builds.dedup();
    for build in builds {
        if markdown {
            text.push_str(&format!("\n**Built from:** {build}\n"));
        } else {
            text.push_str(&format!("  built from {build}\n"));
        }
    }
    text
}

const NO_SOURCE: &str = "no way to ask for a decision: this is not a terminal, and no decision source is given\nhint: in CI pass --decision-dir DIR, --github-issue --approvers USERS, or --approved-by NAME after the CI system's own gate";

/// The hand-off re-verification: the files to approve are the files the manifest
/// names, byte for byte, before anyone is asked.
fn check_files(
    cli: &Cli,
    manifest: &Manifest,
    manifest_path: &Path,
    context: &mut Context,
) -> Result<(), Failure> {
    let dir = match &cli.from {
        Some(dir) => context.resolve(dir),
        None => manifest_path
            .parent()
            .map_or_else(|| context.resolve(Path::new(".")), Path::to_path_buf),
    };
    let shown_dir = context.display(&dir);
    if !dir.is_dir() {
        return Err(Failure::input(format!(
            "`{shown_dir}` is not a directory: the release's files must be checked before approval\nhint: pass --from DIR where the release set was downloaded"
        )));
    }
    let report = custody_manifest::verify_dir(
        manifest,
        &dir,
        &[manifest_path.to_path_buf()],
        false,
        &custody_dist::Limits::default(),
        &custody_output::NoProgress,
    )
    .map_err(Failure::input)?;
    let bad: Vec<String> = report
        .entries
        .iter()
        .filter(|entry| !entry.check.is_ok())
        .map(|entry| {
            format!(
                "{}: {}",
                context.out.safe_text(&entry.file_name),
                entry.check.describe()
            )
        })
        .collect();
    if bad.is_empty() {
        return Ok(());
    }
    Err(Failure::no(format!(
        "the files in `{shown_dir}` are not the ones the manifest lists; nobody was asked to approve\n  {}\nhint: download the release set again (`collect-artifacts verify --manifest M --from DIR` shows every file)",
        bad.join("\n  ")
    )))
}

/// `--show`: the release in front of the reviewers of the CI system's own gate.
fn show(manifest: &Manifest, context: &mut Context) -> StepResult {
    let env = Failure::environment;
    context.out.info(&describe(manifest, false)).map_err(env)?;
    context
        .out
        .summary(
            "approve-gate",
            &format!(
                "### Release awaiting approval\n\n{}",
                describe(manifest, true)
            ),
        )
        .map_err(env)?;
    context
        .out
        .set_output("manifest_digest", &manifest.digest)
        .map_err(env)?;
    if context.out.is_json() {
        context
            .out
            .json(&serde_json::json!({
                "manifest_digest": manifest.digest,
                "release": release_name(manifest),
                "files": manifest.artifacts.iter().map(|a| serde_json::json!({
                    "file_name": a.file_name,
                    "size": a.size,
                    "sha256": a.digests.sha256,
                })).collect::<Vec<_>>(),
            }))
            .map_err(env)?;
    }
    Ok(ExitStatus::Success)
}

/// `--approved-by`: the CI system's gate decided; bind its decision to the manifest the
/// reviewers were shown.
fn approved_in_ci(
    name: &str,
    shown_digest: &str,
    manifest: &Manifest,
    shown: &str,
    context: &Context,
) -> Result<Outcome, Failure> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Failure::usage(
            "--approved-by is empty: name who approved in the CI system's gate\nhint: Azure: $(Build.RequestedFor) is who queued the run, not the approver; pass the reviewer's name",
        ));
    }
    let expected = shown_digest.trim();
    let expected = if expected.starts_with("sha256:") {
        expected.to_owned()
    } else {
        format!("sha256:{expected}")
    };
    if expected != manifest.digest {
        return Err(Failure::no(format!(
            "`{shown}` is not the release that was approved: its digest is `{}`, the reviewers were shown `{expected}`\nhint: the artifacts changed after `approve-gate --show`; run the release again so the reviewers see these files",
            manifest.digest
        )));
    }
    Ok(Outcome {
        decision: Decision::Approved,
        by: vec![name.to_owned()],
        source: "ci-gate",
        reference: context.ci.build_url.clone(),
        reason: Some("approved in the CI system's own gate".to_owned()),
    })
}

// Every step's entry point takes its parsed arguments by value.
#[allow(clippy::needless_pass_by_value)]
pub fn run(cli: Cli, context: &mut Context) -> StepResult {
    let (manifest_path, manifest) = load_manifest(context, &cli.manifest)?;
    let shown = context.display(&manifest_path);
    if manifest.artifacts.is_empty() {
        return Err(Failure::input(format!(
            "`{shown}` lists no artifacts: there is nothing to approve\nhint: select the release set with `collect-artifacts select` first"
        )));
    }
    if cli.github_issue && cli.approvers.is_empty() {
        return Err(Failure::usage(
            "--github-issue needs --approvers: whose comments decide\nhint: --approvers alice,bob (GitHub user names)",
        ));
    }
    if cli.min_approvals == 0 {
        return Err(Failure::usage("--min-approvals must be at least 1"));
    }
    check_files(&cli, &manifest, &manifest_path, context)?;
    if cli.show {
        return show(&manifest, context);
    }
    if !cli.github_issue
        && cli.decision_dir.is_none()
        && cli.approved_by.is_none()
        && !context.interactive
    {
        return Err(Failure::usage(NO_SOURCE));
    }
    // clap makes --out required unless --show.
    let out_path = context.resolve(cli.out.as_deref().unwrap_or(Path::new("approval.json")));
    // A gate's decision is checked against what its reviewers saw before anything else.
    let gate = match &cli.approved_by {
        Some(name) => Some(approved_in_ci(
            name,
            cli.manifest_digest.as_deref().unwrap_or_default(),
            &manifest,
            &shown,
            context,
        )?),
        None => None,
    };
    context
        .out
        .info(&describe(&manifest, false))
        .map_err(Failure::environment)?;

    let outcome = if gate.is_some() {
        gate
    } else if cli.github_issue {
        github::wait_for_issue(&cli, &manifest, context)?
    } else if let Some(dir) = &cli.decision_dir {
        wait::decision_file(&cli, &context.resolve(dir), &manifest, context)?
    } else if context.interactive {
        wait::prompt(&manifest, context)?
    } else {
        return Err(Failure::usage(NO_SOURCE));
    };
    let outcome = match (outcome, cli.on_timeout) {
        (Some(outcome), _) => outcome,
        (None, OnTimeout::Reject) => Outcome {
            decision: Decision::TimedOut,
            by: Vec::new(),
            source: "timeout",
            reference: None,
            reason: Some(format!("no decision within {}", humanize(cli.timeout))),
        },
        (None, OnTimeout::Approve) => Outcome {
            decision: Decision::Approved,
            by: Vec::new(),
            source: "timeout",
            reference: None,
            reason: Some(format!(
                "no objection within {} (--on-timeout approve)",
                humanize(cli.timeout)
            )),
        },
    };
    let record = Approval::new(
        GENERATOR,
        &manifest,
        outcome.decision,
        outcome.by.clone(),
        outcome.source,
        outcome.reference.clone(),
        outcome.reason.clone(),
    );
    record.write(&out_path).map_err(Failure::from)?;
    let env = Failure::environment;
    context
        .out
        .set_output("decision", &outcome.decision.to_string())
        .map_err(env)?;
    context
        .out
        .set_output("approval", &context.display(&out_path))
        .map_err(env)?;
    if context.out.is_json() {
        context.out.json(&record).map_err(env)?;
    }
    let who = if outcome.by.is_empty() {
        "nobody".to_owned()
    } else {
        outcome.by.join(", ")
    };
    let text = format!(
        "by {who} ({}); record written to `{}`",
        outcome.source,
        context.display(&out_path)
    );
    Ok(match outcome.decision {
        Decision::Approved => {
            context.out.status("Approved", &text).map_err(env)?;
            ExitStatus::Success
        }
        Decision::Rejected => {
            context.out.status("Rejected", &text).map_err(env)?;
            ExitStatus::No
        }
        Decision::TimedOut => {
            context.out.status("Timed out", &text).map_err(env)?;
            ExitStatus::Timeout
        }
    })
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
