//! `tag-build`: decides what kind of build this is from the CI context (release tag,
//! default branch, pull request, other branch, manual), checks a release tag against the
//! package version after PEP 440 normalization, marks release builds (Azure build tag,
//! GitHub outputs, `--json` everywhere) and answers "should this build run?" for the
//! policy of the original pipeline: builds for the default branch, tags and pull
//! requests, never twice for the same code.

use std::path::{Path, PathBuf};

use clap::Parser;
use custody_ci::{CiContext, Provider};
use custody_cli::manifests::load_manifest;
use custody_cli::{Failure, StepResult};
use custody_cli::{GlobalArgs, HasGlobal, after_help};
use custody_dist::name::{parse_version, same_version};
use custody_output::{Context, Diagnostic, ExitStatus, azure};
use serde::Serialize;

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
// version is in `--help`.
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

/// What kind of build this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A tag that names a version: the build to release.
    ReleaseTag,
    /// A tag that does not look like a release (`nightly`, `docs-1`).
    OtherTag,
    DefaultBranch,
    PullRequest,
    OtherBranch,
    /// Started by hand (Azure `Manual`, GitHub `workflow_dispatch`, GitLab `web`).
    Manual,
    /// Nothing to tell from (no CI, no git).
    Unknown,
}

impl Kind {
    /// The name in outputs and JSON (`release-tag`, `pull-request`, ...).
    pub fn id(self) -> &'static str {
        match self {
            Self::ReleaseTag => "release-tag",
            Self::OtherTag => "other-tag",
            Self::DefaultBranch => "default-branch",
            Self::PullRequest => "pull-request",
            Self::OtherBranch => "other-branch",
            Self::Manual => "manual",
            Self::Unknown => "unknown",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::ReleaseTag => "a release tag",
            Self::OtherTag => "a tag that is not a release",
            Self::DefaultBranch => "the default branch",
            Self::PullRequest => "a pull request",
            Self::OtherBranch => "a branch other than the default",
            Self::Manual => "a manual run",
            Self::Unknown => "an unknown build",
        }
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

/// The version a tag names under one of `patterns` (`{version}` = a PEP 440 version).
pub fn version_in_tag(tag: &str, patterns: &[String]) -> Option<String> {
    patterns.iter().find_map(|pattern| {
        let (prefix, suffix) = pattern.split_once("{version}")?;
        let middle = tag.strip_prefix(prefix)?.strip_suffix(suffix)?;
        parse_version(middle).ok().map(|_| middle.to_owned())
    })
}

fn is_manual(trigger: Option<&str>) -> bool {
    matches!(
        trigger,
        Some("Manual" | "workflow_dispatch" | "web" | "api" | "trigger")
    )
}

fn is_pull_request(context: &CiContext) -> bool {
    context.pull_request.is_some()
        || matches!(
            context.trigger.as_deref(),
            Some("PullRequest" | "pull_request" | "pull_request_target" | "merge_request_event")
        )
        || context
            .git_ref
            .as_deref()
            .is_some_and(|r| r.starts_with("refs/pull/") || r.starts_with("refs/merge-requests/"))
}

/// Classifies the build. `default_branch` is the flag's value, if given.
pub fn classify(
    context: &CiContext,
    patterns: &[String],
    default_branch: Option<&str>,
) -> (Kind, Option<String>) {
    if let Some(tag) = &context.tag {
        return match version_in_tag(tag, patterns) {
            Some(version) => (Kind::ReleaseTag, Some(version)),
            None => (Kind::OtherTag, None),
        };
    }
    if is_pull_request(context) {
        return (Kind::PullRequest, None);
    }
    if is_manual(context.trigger.as_deref()) {
        return (Kind::Manual, None);
    }
    let Some(branch) = &context.branch else {
        return (Kind::Unknown, None);
    };
    let is_default = match default_branch.or(context.default_branch.as_deref()) {
        Some(default) => branch == default,
        None => branch == "main" || branch == "master",
    };
    (
        if is_default {
            Kind::DefaultBranch
        } else {
            Kind::OtherBranch
        },
        None,
    )
}

/// The package version to hold the tag to: `--version`, the manifest's, or the project's.
fn package_version(cli: &Cli, context: &Context) -> Result<Option<(String, String)>, Failure> {
    if let Some(version) = &cli.package_version {
        return Ok(Some((version.clone(), "--version".to_owned())));
    }
    if let Some(path) = &cli.manifest {
        let (resolved, manifest) = load_manifest(context, path)?;
        let shown = context.display(&resolved);
        let versions = manifest.versions();
        return match versions.as_slice() {
            [] => Err(Failure::input(format!(
                "`{shown}` lists no wheel or sdist, so it names no package version\nhint: pass the release manifest (with the wheel and sdist), or --version"
            ))),
            [version] => Ok(Some((version.clone(), format!("`{shown}`")))),
            _ => Err(Failure::input(format!(
                "`{shown}` holds several versions ({}); a tag names one\nhint: select one release set with `collect-artifacts select`",
                versions.join(", ")
            ))),
        };
    }
    let dir = context.resolve(cli.project.as_deref().unwrap_or(Path::new(".")));
    Ok(project_version(&dir)
        .map(|(version, file)| (version, format!("`{}`", context.display(&file)))))
}

/// A static `version` in pyproject.toml's `[project]` table, or `Version:` in PKG-INFO.
fn project_version(dir: &Path) -> Option<(String, PathBuf)> {
    let pyproject = dir.join("pyproject.toml");
    if let Ok(text) = fs_err::read_to_string(&pyproject) {
        let mut in_project = false;
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                in_project = line == "[project]";
            } else if in_project
                && let Some(value) = line.strip_prefix("version").map(str::trim_start)
                && let Some(value) = value.strip_prefix('=')
            {
                let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
                return Some((value.to_owned(), pyproject));
            }
        }
    }
    let pkg_info = dir.join("PKG-INFO");
    let text = fs_err::read_to_string(&pkg_info).ok()?;
    let version = text
        .lines()
        .find_map(|l| l.strip_prefix("Version:"))?
        .trim()
        .to_owned();
    Some((version, pkg_info))
}

// Every step's entry point takes its parsed arguments by value.
#[allow(clippy::needless_pass_by_value)]
pub fn run(cli: Cli, context: &mut Context) -> StepResult {
    let patterns = if cli.tag_pattern.is_empty() {
        vec!["v{version}".to_owned(), "{version}".to_owned()]
    } else {
        cli.tag_pattern.clone()
    };
    if let Some(bad) = patterns.iter().find(|p| !p.contains("{version}")) {
        return Err(Failure::usage(format!(
            "`--tag-pattern {bad}` has no `{{version}}`\nhint: write where the version goes, e.g. `v{{version}}` or `release-{{version}}`"
        )));
    }
    let ci = if context.ci.is_ci() {
        context.ci.clone()
    } else {
        context.ci.clone().with_local_git(&context.cwd)
    };
    let (kind, version) = classify(&ci, &patterns, cli.default_branch.as_deref());

    let mut package = None;
    if kind == Kind::ReleaseTag {
        let tag_version = version.clone().expect("a release tag names a version");
        let Some((expected, source)) = package_version(&cli, context)? else {
            return Err(Failure::input(format!(
                "tag `{}` names version {tag_version}, but there is no package version to check it against\nhint: pass --manifest release.json (or --version, or run where pyproject.toml is)",
                ci.tag.clone().unwrap_or_default()
            )));
        };
        if !same_version(&tag_version, &expected) {
            let message = format!(
                "tag `{}` names version {tag_version}, but the package is version {expected} (from {source})\nhint: tag the commit that builds {expected} (`git tag v{expected}`), or bump the version to {tag_version} before tagging",
                ci.tag.clone().unwrap_or_default()
            );
            return Err(Failure::no(message));
        }
        package = Some(expected);
    } else if cli.manifest.is_some() || cli.package_version.is_some() {
        // Read it anyway, so a broken manifest fails every build, not only the release.
        package = package_version(&cli, context)?.map(|(v, _)| v);
    }

    let release = kind == Kind::ReleaseTag;
    let should_run = kind != Kind::OtherBranch;
    let reason = match kind {
        Kind::ReleaseTag => format!(
            "tag `{}` names version {}",
            ci.tag.clone().unwrap_or_default(),
            version.clone().unwrap_or_default()
        ),
        Kind::OtherBranch => format!(
            "{} (`{}`): built through its pull request, not on push",
            kind.describe(),
            ci.branch.clone().unwrap_or_default()
        ),
        Kind::OtherTag => format!(
            "{} (`{}`)",
            kind.describe(),
            ci.tag.clone().unwrap_or_default()
        ),
        _ => kind.describe().to_owned(),
    };
    let decision = Decision {
        kind,
        release,
        should_run,
        reason,
        tag: ci.tag.clone(),
        version: version.clone(),
        package_version: package,
        branch: ci.branch.clone(),
        pull_request: ci.pull_request.as_ref().map(|p| p.number),
        provider: ci.provider,
        commit: ci.commit.clone(),
        build_url: ci.build_url.clone(),
        build_tag: release.then(|| cli.build_tag.clone()),
    };
    report(&decision, context)?;
    if cli.require_release && !release {
        context
            .out
            .error(
                &Diagnostic::new(format!("this is {}, not a release build", decision.reason)).hint(
                    "release jobs run only for tags that name the package version (e.g. v1.2.3)",
                ),
            )
            .map_err(Failure::environment)?;
        return Ok(ExitStatus::No);
    }
    Ok(ExitStatus::Success)
}

fn report(decision: &Decision, context: &mut Context) -> Result<(), Failure> {
    let env = Failure::environment;
    if let Some(tag) = &decision.build_tag
        && context.out.provider() == Provider::AzurePipelines
    {
        context
            .out
            .command(&azure::add_build_tag(tag))
            .map_err(env)?;
    }
    context
        .out
        .set_output("release", if decision.release { "true" } else { "false" })
        .map_err(env)?;
    context
        .out
        .set_output(
            "should_run",
            if decision.should_run { "true" } else { "false" },
        )
        .map_err(env)?;
    context
        .out
        .set_output("kind", decision.kind.id())
        .map_err(env)?;
    if let Some(version) = &decision.version {
        context.out.set_output("version", version).map_err(env)?;
    }
    if context.out.is_json() {
        context.out.json(decision).map_err(env)?;
        return Ok(());
    }
    let word = if decision.release { "Release" } else { "Build" };
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
    context.out.status(word, &text).map_err(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns() -> Vec<String> {
        vec!["v{version}".into(), "{version}".into()]
    }

    #[test]
    fn versions_in_tags() {
        assert_eq!(
            version_in_tag("v0.18.3", &patterns()).as_deref(),
            Some("0.18.3")
        );
        assert_eq!(
            version_in_tag("0.18.3rc1", &patterns()).as_deref(),
            Some("0.18.3rc1")
        );
        assert_eq!(version_in_tag("nightly", &patterns()), None);
        assert_eq!(
            version_in_tag("release-2.0", &["release-{version}".into()]).as_deref(),
            Some("2.0")
        );
        assert_eq!(version_in_tag("v2.0", &["release-{version}".into()]), None);
    }

    #[test]
    fn classification() {
        let tag = CiContext {
            tag: Some("v1.0".into()),
            ..CiContext::default()
        };
        assert_eq!(
            classify(&tag, &patterns(), None),
            (Kind::ReleaseTag, Some("1.0".into()))
        );
        let main = CiContext {
            branch: Some("master".into()),
            trigger: Some("IndividualCI".into()),
            ..CiContext::default()
        };
        assert_eq!(classify(&main, &patterns(), None).0, Kind::DefaultBranch);
        assert_eq!(
            classify(&main, &patterns(), Some("develop")).0,
            Kind::OtherBranch
        );
        let manual = CiContext {
            branch: Some("master".into()),
            trigger: Some("Manual".into()),
            ..CiContext::default()
        };
        assert_eq!(classify(&manual, &patterns(), None).0, Kind::Manual);
        assert_eq!(
            classify(&CiContext::default(), &patterns(), None).0,
            Kind::Unknown
        );
    }

    #[test]
    fn versions_from_pyproject() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(
            dir.path().join("pyproject.toml"),
            "[build-system]\nversion = \"9\"\n[project]\nname = \"x\"\nversion = \"0.18.3\"\n",
        )
        .unwrap();
        assert_eq!(project_version(dir.path()).unwrap().0, "0.18.3");
    }
}
