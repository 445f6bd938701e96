//! `tag-build`: decides what kind of build this is from the CI context (release tag,
//! default branch, pull request, other branch, manual), checks a release tag against the
//! package version after PEP 440 normalization, marks release builds (Azure build tag,
//! GitHub outputs, `--json` everywhere) and answers "should this build run?" for the
//! policy of the original pipeline: builds for the default branch, tags and pull
//! requests, never twice for the same code.

mod kind;
mod version;

use std::path::PathBuf;

use clap::Parser;
use custody_ci::{CiContext, Provider};
use custody_cli::{Diagnose, OutputError, StepResult};
use custody_cli::{GlobalArgs, HasGlobal, after_help};
use custody_dist::name::same_version;
use custody_output::{Context, Diagnostic, ExitStatus, azure};
use serde::Serialize;

pub use kind::{Kind, classify, version_in_tag};
pub use version::{PackageVersion, VersionError, VersionSource, package_version};

/// Classify this build, check a release tag against the package version, and mark
/// release builds.
///
/// On a release build it adds the Azure build tag (`Automated` by default, the tag that
/// triggered the original release pipeline) and sets the outputs `release=true` and
/// `version`; it also answers `should_run` for the double-build policy: pushes to a
/// branch other than the default branch are skipped, since they are built through
/// their pull request.
#[derive(Debug, Parser)]
// `--version` is the package version to check, as the pipeline says it; the tool's own
// version is `-V`/`--tool-version`.
#[command(name = "tag-build", version, disable_version_flag = true, after_long_help = after_help(EXAMPLES))]
// Doc comments are the --help text.
#[allow(clippy::doc_markdown)]
pub struct Cli {
    /// The release manifest whose package version the tag must name.
    #[arg(
        long,
        short = 'm',
        value_name = "FILE",
        conflicts_with = "package_version"
    )]
    pub manifest: Option<PathBuf>,
    /// The package version the tag must name (instead of a manifest).
    #[arg(long = "version", value_name = "VERSION", id = "package_version")]
    pub package_version: Option<String>,
    /// Print tag-build's own version (`--version` is the package version to check).
    #[arg(short = 'V', long = "tool-version", action = clap::ArgAction::Version)]
    pub tool_version: Option<bool>,
    /// Where to read the version when neither is given: a directory with pyproject.toml
    /// (static `version`) or PKG-INFO. Default: the current directory.
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// How release tags look: `{version}` stands for a PEP 440 version. Repeat for
    /// several forms. Default: `v{version}` and `{version}`.
    #[arg(long, value_name = "PATTERN")]
    pub tag_pattern: Vec<String>,
    /// The build tag added on Azure Pipelines for a release build.
    #[arg(long, value_name = "NAME", default_value = "Automated")]
    pub build_tag: String,
    /// The default branch, where the CI system does not say (Azure). Default: the CI's
    /// answer, else `main` or `master`.
    #[arg(long, value_name = "BRANCH")]
    pub default_branch: Option<String>,
    /// Fail (exit 1) unless this is a release build, to gate release-only jobs.
    #[arg(long)]
    pub require_release: bool,
    #[command(flatten)]
    pub global: GlobalArgs,
}

const EXAMPLES: &str =
    "  # In the build pipeline, after collect-artifacts: mark tagged builds for release
  tag-build --manifest release/release.json

  # Gate a release-only job (exit 1 on anything but a release tag)
  tag-build --manifest release.json --require-release

  # Tags like release-1.2.0, version from pyproject.toml
  tag-build --tag-pattern 'release-{version}' --project .
";

impl HasGlobal for Cli {
    fn global(&self) -> &GlobalArgs {
        &self.global
    }
}

/// The decision, as `--json` prints it.
#[derive(Debug, Serialize)]
pub struct Decision {
    pub kind: Kind,
    pub release: bool,
    pub should_run: bool,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<u64>,
    pub provider: Provider,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_tag: Option<String>,
}

impl Decision {
    /// The decision for a build of `kind` under `ci`; `package_version` is the version
    /// read, if any.
    fn new(kind: Kind, package_version: Option<String>, ci: &CiContext, build_tag: &str) -> Self {
        let release = kind.is_release();
        Self {
            release,
            should_run: kind.should_run(),
            reason: kind.reason(),
            tag: ci.git_ref.tag().map(str::to_owned),
            version: kind.release_version().map(str::to_owned),
            package_version,
            branch: ci.git_ref.branch().map(str::to_owned),
            pull_request: ci.pull_request.as_ref().map(|p| p.number),
            provider: ci.provider,
            commit: ci.commit.clone(),
            build_url: ci.build_url.clone(),
            build_tag: release.then(|| build_tag.to_owned()),
            kind,
        }
    }
}

/// A `--tag-pattern` without the place of the version.
#[derive(Debug, thiserror::Error)]
#[error("`--tag-pattern {pattern}` has no `{{version}}`")]
pub struct PatternError {
    pub pattern: String,
}

impl Diagnose for PatternError {
    fn exit_status(&self) -> ExitStatus {
        ExitStatus::Usage
    }

    fn hint(&self) -> Option<String> {
        Some("write where the version goes, e.g. `v{version}` or `release-{version}`".to_owned())
    }
}

/// A release tag held to the package version, and found wanting.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Version(#[from] VersionError),
    #[error(
        "tag `{tag}` names version {tag_version}, but there is no package version to check it against"
    )]
    NothingToCheck { tag: String, tag_version: String },
    #[error(
        "tag `{tag}` names version {tag_version}, but the package is version {} (from {})",
        package.version,
        package.source
    )]
    Mismatch {
        tag: String,
        tag_version: String,
        package: PackageVersion,
    },
}

impl Diagnose for CheckError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Version(error) => error.exit_status(),
            Self::NothingToCheck { .. } => ExitStatus::Input,
            // The step's "no": the tag and the package disagree.
            Self::Mismatch { .. } => ExitStatus::No,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::Version(error) => error.hint(),
            Self::NothingToCheck { .. } => Some(
                "pass --manifest release.json (or --version, or run where pyproject.toml is)"
                    .to_owned(),
            ),
            Self::Mismatch {
                tag_version,
                package,
                ..
            } => Some(format!(
                "tag the commit that builds {expected} (`git tag v{expected}`), or bump the version to {tag_version} before tagging",
                expected = package.version
            )),
        }
    }
}

// Every step's entry point takes its parsed arguments by value.
#[allow(clippy::needless_pass_by_value)]
pub fn run(cli: Cli, context: &mut Context) -> StepResult {
    let patterns = tag_patterns(&cli)?;
    let ci = if context.ci.is_ci() {
        context.ci.clone()
    } else {
        context
            .ci
            .clone()
            .with_local_git(&custody_ci::source_dir(&context.env, &context.cwd))
    };
    let kind = classify(&ci, &patterns, cli.default_branch.as_deref());
    let package_version = check_version(&cli, context, &kind)?;
    let decision = Decision::new(kind, package_version, &ci, &cli.build_tag);
    report(&decision, context)?;
    if cli.require_release && !decision.release {
        let diagnostic =
            Diagnostic::new(format!("this is {}, not a release build", decision.reason))
                .hint("release jobs run only for tags that name the package version (e.g. v1.2.3)");
        context.out.error(&diagnostic).map_err(OutputError::from)?;
        return Ok(ExitStatus::No);
    }
    Ok(ExitStatus::Success)
}

/// `--tag-pattern`, or the default forms `v{version}` and `{version}`.
fn tag_patterns(cli: &Cli) -> Result<Vec<String>, PatternError> {
    if cli.tag_pattern.is_empty() {
        return Ok(vec!["v{version}".to_owned(), "{version}".to_owned()]);
    }
    match cli.tag_pattern.iter().find(|p| !p.contains("{version}")) {
        Some(bad) => Err(PatternError {
            pattern: bad.clone(),
        }),
        None => Ok(cli.tag_pattern.clone()),
    }
}

/// Holds a release tag to the package version and returns that version. Other builds
/// read the version too when one is named, so a broken manifest fails every build, not
/// only the release.
fn check_version(cli: &Cli, context: &Context, kind: &Kind) -> Result<Option<String>, CheckError> {
    let Kind::ReleaseTag { tag, version } = kind else {
        if cli.manifest.is_none() && cli.package_version.is_none() {
            return Ok(None);
        }
        return Ok(package_version(cli, context)?.map(|package| package.version));
    };
    let Some(package) = package_version(cli, context)? else {
        return Err(CheckError::NothingToCheck {
            tag: tag.clone(),
            tag_version: version.clone(),
        });
    };
    if !same_version(version, &package.version) {
        return Err(CheckError::Mismatch {
            tag: tag.clone(),
            tag_version: version.clone(),
            package,
        });
    }
    Ok(Some(package.version))
}

/// Marks the build (Azure build tag), sets the step outputs and prints the decision.
fn report(decision: &Decision, context: &mut Context) -> Result<(), OutputError> {
    let out = &mut context.out;
    if let Some(tag) = &decision.build_tag
        && out.provider() == Provider::AzurePipelines
    {
        out.command(&azure::add_build_tag(tag))?;
    }
    out.set_output("release", if decision.release { "true" } else { "false" })?;
    out.set_output(
        "should_run",
        if decision.should_run { "true" } else { "false" },
    )?;
    out.set_output("kind", decision.kind.id())?;
    if let Some(version) = &decision.version {
        out.set_output("version", version)?;
    }
    if out.is_json() {
        out.json(decision)?;
        return Ok(());
    }
    let word = if decision.release { "Release" } else { "Build" };
    out.status(word, &status_text(decision))?;
    Ok(())
}

/// The status line after `Release`/`Build`.
fn status_text(decision: &Decision) -> String {
    let mut text = decision.reason.clone();
    if let Some(package) = &decision.package_version
        && decision.release
    {
        text.push_str(&format!(" (the package is {package})"));
    }
    if let Some(tag) = &decision.build_tag {
        text.push_str(&format!("; build tagged `{tag}`"));
    }
    if !decision.should_run {
        text.push_str("; should_run=false");
    }
    text
}
