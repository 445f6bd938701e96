//! The release to approve: the manifest, loaded and checked, and the files it names,
//! re-hashed before anyone is asked (the hand-off re-verification). Also how the
//! release is put in front of people: the terminal text, the Markdown, and
//! `--show` for the reviewers of the CI system's own gate.

use std::io;
use std::path::{Path, PathBuf};

use custody_ci::CiContext;
use custody_cli::Diagnose;
use custody_cli::manifests::load_manifest;
use custody_manifest::{Manifest, ManifestError};
use custody_output::text::{human_size, markdown_cell};
use custody_output::{Context, ExitStatus};

use custody_cli::OutputError;

/// Why the release cannot be put in front of an approver.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReleaseError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("`{path}` lists no artifacts: there is nothing to approve")]
    Empty { path: PathBuf },
    #[error("`{dir}` is not a directory: the release's files must be checked before approval")]
    NotADirectory { dir: PathBuf },
    #[error("cannot check the release's files in `{dir}`")]
    Scan {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "the files in `{dir}` are not the ones the manifest lists; nobody was asked to approve\n{}",
        mismatches.join("\n")
    )]
    Changed {
        dir: PathBuf,
        /// `file: what is wrong`, one per file that does not match.
        mismatches: Vec<String>,
    },
}

impl Diagnose for ReleaseError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Manifest(error) => error.exit_status(),
            Self::Empty { .. } | Self::NotADirectory { .. } | Self::Scan { .. } => {
                ExitStatus::Input
            }
            Self::Changed { .. } => ExitStatus::No,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::Manifest(error) => Diagnose::hint(error),
            Self::Empty { .. } => {
                Some("select the release set with `collect-artifacts select` first".to_owned())
            }
            Self::NotADirectory { .. } => {
                Some("pass --from DIR where the release set was downloaded".to_owned())
            }
            Self::Scan { .. } => None,
            Self::Changed { .. } => Some(
                "download the release set again (`collect-artifacts verify --manifest M --from DIR` shows every file)"
                    .to_owned(),
            ),
        }
    }
}

/// A loaded manifest that lists something to approve.
#[derive(Debug)]
pub(crate) struct Release {
    pub path: PathBuf,
    /// The manifest's path as the user sees it.
    pub shown: String,
    pub manifest: Manifest,
}

impl Release {
    pub(crate) fn load(path: &Path, context: &Context) -> Result<Self, ReleaseError> {
        let (path, manifest) = load_manifest(context, path)?;
        let shown = context.display(&path);
        if manifest.artifacts.is_empty() {
            return Err(ReleaseError::Empty { path: shown.into() });
        }
        Ok(Self {
            path,
            shown,
            manifest,
        })
    }

    /// The files to approve are the files the manifest names, byte for byte. `from` is
    /// where they are (default: the manifest's directory).
    pub(crate) fn check_files(
        &self,
        from: Option<&Path>,
        context: &Context,
    ) -> Result<(), ReleaseError> {
        let dir = match from {
            Some(dir) => context.resolve(dir),
            None => self
                .path
                .parent()
                .map_or_else(|| context.resolve(Path::new(".")), Path::to_path_buf),
        };
        let shown_dir = PathBuf::from(context.display(&dir));
        if !dir.is_dir() {
            return Err(ReleaseError::NotADirectory { dir: shown_dir });
        }
        let report = custody_manifest::verify_dir(
            &self.manifest,
            &dir,
            std::slice::from_ref(&self.path),
            false,
            &custody_dist::Limits::default(),
            &custody_output::NoProgress,
        )
        .map_err(|source| ReleaseError::Scan {
            dir: shown_dir.clone(),
            source,
        })?;
        let mismatches: Vec<String> = report
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
        if mismatches.is_empty() {
            Ok(())
        } else {
            Err(ReleaseError::Changed {
                dir: shown_dir,
                mismatches,
            })
        }
    }
}

/// The projects and versions released, for titles and headings.
pub(crate) fn release_name(manifest: &Manifest) -> String {
    let names: Vec<String> = manifest
        .projects()
        .iter()
        .map(|(name, version)| format!("{name} {version}"))
        .collect();
    if names.is_empty() {
        "(no package)".to_owned()
    } else {
        names.join(", ")
    }
}

/// Where a build came from, in words: its commit and run, as far as they are known.
fn origin(context: &CiContext) -> String {
    match (&context.commit, &context.build_url) {
        (Some(commit), Some(url)) => format!("commit {commit}, build {url}"),
        (Some(commit), None) => format!("commit {commit} ({})", context.provider),
        (None, Some(url)) => format!("an unknown commit, build {url}"),
        (None, None) => format!("an unknown commit ({})", context.provider),
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
        .map(|job| origin(&job.context))
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

/// `--show`: the release in front of the reviewers of the CI system's own gate.
pub(crate) fn show(manifest: &Manifest, context: &mut Context) -> Result<(), OutputError> {
    context.out.info(&describe(manifest, false))?;
    context.out.summary(
        "approve-gate",
        &format!(
            "### Release awaiting approval\n\n{}",
            describe(manifest, true)
        ),
    )?;
    context
        .out
        .set_output("manifest_digest", &manifest.digest)?;
    if context.out.is_json() {
        context.out.json(&serde_json::json!({
            "manifest_digest": manifest.digest,
            "release": release_name(manifest),
            "files": manifest.artifacts.iter().map(|a| serde_json::json!({
                "file_name": a.file_name,
                "size": a.size,
                "sha256": a.digests.sha256,
            })).collect::<Vec<_>>(),
        }))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use custody_ci::Provider;
    use custody_manifest::{Artifact, Job};

    use super::*;

    /// A one-file manifest built by a job with `commit` and `build_url`.
    fn built_by(commit: Option<&str>, build_url: Option<&str>) -> Manifest {
        let context = CiContext {
            provider: Provider::AzurePipelines,
            commit: commit.map(str::to_owned),
            build_url: build_url.map(str::to_owned),
            ..CiContext::default()
        };
        let job = Job::new(std::collections::BTreeMap::new(), context);
        let artifact: Artifact = serde_json::from_value(serde_json::json!({
            "file_name": "demo-1.0-py3-none-any.whl",
            "kind": "wheel",
            "size": 1024,
            "digests": {"sha256": "ab".repeat(32)},
            "jobs": [job.id],
        }))
        .unwrap();
        Manifest::new("test", vec![job], vec![artifact], None)
    }

    #[test]
    fn the_build_is_named_by_its_commit_and_run() {
        let manifest = built_by(Some("4f2a9c1d0e"), Some("https://ci.example/run/7"));
        let text = describe(&manifest, false);
        assert!(
            text.contains("  built from commit 4f2a9c1d0e, build https://ci.example/run/7\n"),
            "{text}"
        );
        let manifest = built_by(Some("4f2a9c1d0e"), None);
        assert!(
            describe(&manifest, true)
                .contains("**Built from:** commit 4f2a9c1d0e (Azure Pipelines)\n"),
            "{}",
            describe(&manifest, true)
        );
    }

    #[test]
    fn an_unknown_commit_is_said_in_words() {
        let manifest = built_by(None, Some("https://ci.example/run/7"));
        let text = describe(&manifest, false);
        assert!(
            text.contains("  built from an unknown commit, build https://ci.example/run/7\n"),
            "{text}"
        );
        assert!(!text.contains("commit unknown commit"), "{text}");
        let manifest = built_by(None, None);
        let text = describe(&manifest, true);
        assert!(
            text.contains("**Built from:** an unknown commit (Azure Pipelines)\n"),
            "{text}"
        );
        assert!(!text.contains("commit unknown commit"), "{text}");
    }
}
