//! The package version a release tag is held to, and where it was read: `--version`,
//! the release manifest, or the project (pyproject.toml's static `version`, PKG-INFO).

use std::fmt;
use std::path::{Path, PathBuf};

use custody_cli::Diagnose;
use custody_cli::manifests::load_manifest;
use custody_manifest::ManifestError;
use custody_output::{Context, ExitStatus};

use crate::Cli;

/// A package version and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageVersion {
    pub version: String,
    pub source: VersionSource,
}

/// Where a package version was read. Paths are as the user should see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSource {
    /// `--version`.
    Flag,
    /// The release manifest's wheels and sdists.
    Manifest(PathBuf),
    /// `pyproject.toml` or `PKG-INFO` in the project directory.
    Project(PathBuf),
}

impl fmt::Display for VersionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flag => f.write_str("--version"),
            Self::Manifest(path) | Self::Project(path) => write!(f, "`{}`", path.display()),
        }
    }
}

/// The package version could not be read.
#[derive(Debug, thiserror::Error)]
pub enum VersionError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("`{}` lists no wheel or sdist, so it names no package version", manifest.display())]
    NoVersion { manifest: PathBuf },
    #[error("`{}` holds several versions ({}); a tag names one", manifest.display(), versions.join(", "))]
    SeveralVersions {
        manifest: PathBuf,
        versions: Vec<String>,
    },
}

impl Diagnose for VersionError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Manifest(error) => error.exit_status(),
            Self::NoVersion { .. } | Self::SeveralVersions { .. } => ExitStatus::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::Manifest(error) => error.hint(),
            Self::NoVersion { .. } => Some(
                "pass the release manifest (with the wheel and sdist), or --version".to_owned(),
            ),
            Self::SeveralVersions { .. } => {
                Some("select one release set with `collect-artifacts select`".to_owned())
            }
        }
    }
}

/// The package version to hold the tag to: `--version`, the manifest's, or the
/// project's. `None` when there is none of them.
pub fn package_version(
    cli: &Cli,
    context: &Context,
) -> Result<Option<PackageVersion>, VersionError> {
    if let Some(version) = &cli.package_version {
        return Ok(Some(PackageVersion {
            version: version.clone(),
            source: VersionSource::Flag,
        }));
    }
    if let Some(path) = &cli.manifest {
        return manifest_version(context, path).map(Some);
    }
    let dir = context.resolve(cli.project.as_deref().unwrap_or(Path::new(".")));
    Ok(project_version(&dir).map(|(version, file)| PackageVersion {
        version,
        source: VersionSource::Project(PathBuf::from(context.display(&file))),
    }))
}

/// The one version the manifest's files carry.
fn manifest_version(context: &Context, path: &Path) -> Result<PackageVersion, VersionError> {
    let (resolved, manifest) = load_manifest(context, path)?;
    let shown = PathBuf::from(context.display(&resolved));
    let mut versions = manifest.versions();
    match versions.len() {
        0 => Err(VersionError::NoVersion { manifest: shown }),
        1 => Ok(PackageVersion {
            version: versions.remove(0),
            source: VersionSource::Manifest(shown),
        }),
        _ => Err(VersionError::SeveralVersions {
            manifest: shown,
            versions,
        }),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn versions_from_pkg_info() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(
            dir.path().join("PKG-INFO"),
            "Metadata-Version: 2.1\nName: x\nVersion: 1.2.3\n",
        )
        .unwrap();
        assert_eq!(
            project_version(dir.path()),
            Some(("1.2.3".to_owned(), dir.path().join("PKG-INFO")))
        );
    }

    #[test]
    fn the_source_is_shown_the_way_messages_quote_it() {
        assert_eq!(VersionSource::Flag.to_string(), "--version");
        assert_eq!(
            VersionSource::Project(PathBuf::from("pyproject.toml")).to_string(),
            "`pyproject.toml`"
        );
    }

    #[test]
    fn manifest_errors_carry_their_hint_as_data() {
        let error = VersionError::SeveralVersions {
            manifest: PathBuf::from("release.json"),
            versions: vec!["1.0".into(), "1.1".into()],
        };
        assert_eq!(
            error.to_string(),
            "`release.json` holds several versions (1.0, 1.1); a tag names one"
        );
        assert_eq!(error.exit_status(), ExitStatus::Input);
        assert!(error.hint().unwrap().contains("collect-artifacts select"));
    }
}
