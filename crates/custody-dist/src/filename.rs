//! Distribution file names: the wheel grammar (`packaging.utils.parse_wheel_filename`)
//! with its compressed tag sets, and sdist names (`{name}-{version}.tar.gz`, and the
//! legacy endings pip still installs).

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::name::{Version, VersionParseError, normalize, parse_version};

#[derive(Debug, Error, PartialEq, Eq)]
pub enum FilenameError {
    #[error("`{0}` is not a wheel file name: it must end in `.whl`")]
    NotWheel(String),
    #[error(
        "`{0}` is not a valid wheel file name: expected `{{name}}-{{version}}(-{{build}})?-{{python}}-{{abi}}-{{platform}}.whl` (4 or 5 dashes)"
    )]
    WheelParts(String),
    #[error(
        "`{file}` has an invalid project name `{name}` (letters, digits, `.` and `_` only, no `__`)"
    )]
    WheelName { file: String, name: String },
    #[error("`{file}` has an invalid version `{version}`: {source}")]
    Version {
        file: String,
        version: String,
        #[source]
        source: VersionParseError,
    },
    #[error("`{file}` has an invalid build tag `{build}`: it must start with a digit")]
    Build { file: String, build: String },
    #[error("`{file}` has an empty tag part in `{tags}`")]
    Tags { file: String, tags: String },
    #[error(
        "`{0}` is not an sdist file name: expected `{{name}}-{{version}}.tar.gz` (or a legacy `.zip`, `.tar.bz2`, `.tar.xz`, `.tgz`, `.tar`)"
    )]
    Sdist(String),
}

/// A wheel build tag: a number, then an optional string (`1`, `2b`).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct BuildTag {
    pub number: u64,
    pub suffix: String,
}

impl fmt::Display for BuildTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.number, self.suffix)
    }
}

/// A parsed wheel file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelFilename {
    /// The name as written in the file name (escaped form).
    pub name: String,
    pub version: Version,
    /// The version as written in the file name.
    pub version_text: String,
    pub build: Option<BuildTag>,
    pub python: Vec<String>,
    pub abi: Vec<String>,
    pub platform: Vec<String>,
}

impl WheelFilename {
    pub fn parse(file_name: &str) -> Result<Self, FilenameError> {
        let stem = file_name
            .strip_suffix(".whl")
            .ok_or_else(|| FilenameError::NotWheel(file_name.to_owned()))?;
        let dashes = stem.matches('-').count();
        if dashes != 4 && dashes != 5 {
            return Err(FilenameError::WheelParts(file_name.to_owned()));
        }
        let parts: Vec<&str> = stem.split('-').collect();
        let name = parts[0];
        let name_ok = !name.is_empty()
            && !name.contains("__")
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
        if !name_ok {
            return Err(FilenameError::WheelName {
                file: file_name.to_owned(),
                name: name.to_owned(),
            });
        }
        let version_text = parts[1];
        let version = parse_version(version_text).map_err(|source| FilenameError::Version {
            file: file_name.to_owned(),
            version: version_text.to_owned(),
            source,
        })?;
        let build = if dashes == 5 {
            let text = parts[2];
            let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
            let number = digits.parse().map_err(|_| FilenameError::Build {
                file: file_name.to_owned(),
                build: text.to_owned(),
            })?;
            Some(BuildTag {
                number,
                suffix: text[digits.len()..].to_owned(),
            })
        } else {
            None
        };
        let n = parts.len();
        let split = |part: &str| -> Result<Vec<String>, FilenameError> {
            let items: Vec<String> = part.split('.').map(str::to_owned).collect();
            if items.iter().any(String::is_empty) {
                return Err(FilenameError::Tags {
                    file: file_name.to_owned(),
                    tags: part.to_owned(),
                });
            }
            Ok(items)
        };
        Ok(Self {
            name: name.to_owned(),
            version,
            version_text: version_text.to_owned(),
            build,
            python: split(parts[n - 3])?,
            abi: split(parts[n - 2])?,
            platform: split(parts[n - 1])?,
        })
    }

    /// The normalized project name.
    pub fn normalized_name(&self) -> String {
        normalize(&self.name)
    }

    /// Every `{python}-{abi}-{platform}` tag the compressed sets expand to, sorted.
    pub fn expanded_tags(&self) -> BTreeSet<String> {
        let mut tags = BTreeSet::new();
        for python in &self.python {
            for abi in &self.abi {
                for platform in &self.platform {
                    tags.insert(format!("{python}-{abi}-{platform}"));
                }
            }
        }
        tags
    }

    /// The upload form's `pyversion` (the python tag part as written, e.g. `py2.py3`).
    pub fn python_tag(&self) -> String {
        self.python.join(".")
    }
}

/// The sdist archive formats pip installs (`pip._internal.utils.filetypes`): tar with
/// gzip, bzip2, xz/lzma or no compression, and zip. PyPI accepts only `.tar.gz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SdistFormat {
    TarGz,
    Zip,
    TarBz2,
    // xz, or the legacy `.lzma` format (`.tlz`, `.tar.lzma`), which pip opens alike.
    TarXz,
    // An uncompressed `.tar` (pip and GNU tar detect a compression by its magic bytes).
    Tar,
}

impl SdistFormat {
    /// Every file name ending pip installs as an sdist, longest first, with its format.
    /// `.tar.lz` (lzip) is left out: pip opens it as xz and fails.
    pub const EXTENSIONS: [(&'static str, Self); 9] = [
        (".tar.lzma", Self::TarXz),
        (".tar.bz2", Self::TarBz2),
        (".tar.gz", Self::TarGz),
        (".tar.xz", Self::TarXz),
        (".tar", Self::Tar),
        (".tbz", Self::TarBz2),
        (".tgz", Self::TarGz),
        (".txz", Self::TarXz),
        (".tlz", Self::TarXz),
    ];

    /// The usual file name ending of the format.
    pub fn extension(self) -> &'static str {
        match self {
            Self::TarGz => ".tar.gz",
            Self::Zip => ".zip",
            Self::TarBz2 => ".tar.bz2",
            Self::TarXz => ".tar.xz",
            Self::Tar => ".tar",
        }
    }

    /// The format `file_name` ends with, and the ending as written.
    pub fn of(file_name: &str) -> Option<(Self, &'static str)> {
        if file_name.ends_with(".zip") {
            return Some((Self::Zip, ".zip"));
        }
        Self::EXTENSIONS
            .into_iter()
            .find(|(extension, _)| file_name.ends_with(extension))
            .map(|(extension, format)| (format, extension))
    }
}

/// A parsed sdist file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdistFilename {
    /// The file name without its extension, which must also be the top directory.
    pub stem: String,
    /// The name part as written (legacy sdists may contain `-`).
    pub name: String,
    pub version: Version,
    pub version_text: String,
    pub format: SdistFormat,
    /// The file name ending as written (`.tar.gz`, `.tgz`, `.zip`, …).
    pub extension: &'static str,
}

impl SdistFilename {
    /// Parses `{name}-{version}` and one of the endings of [`SdistFormat::EXTENSIONS`]
    /// or `.zip`. The version is everything after the last `-`, which also handles legacy
    /// names with dashes (`python-dateutil-2.8.2`).
    pub fn parse(file_name: &str) -> Result<Self, FilenameError> {
        let err = || FilenameError::Sdist(file_name.to_owned());
        let (format, extension) = SdistFormat::of(file_name).ok_or_else(err)?;
        let stem = &file_name[..file_name.len() - extension.len()];
        let (name, version_text) = stem.rsplit_once('-').ok_or_else(err)?;
        if name.is_empty() {
            return Err(err());
        }
        let version = parse_version(version_text).map_err(|source| FilenameError::Version {
            file: file_name.to_owned(),
            version: version_text.to_owned(),
            source,
        })?;
        Ok(Self {
            stem: stem.to_owned(),
            name: name.to_owned(),
            version,
            version_text: version_text.to_owned(),
            format,
            extension,
        })
    }

    pub fn normalized_name(&self) -> String {
        normalize(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pure_wheel() {
        let wheel = WheelFilename::parse("clkhash-0.18.3-py2.py3-none-any.whl").unwrap();
        assert_eq!(wheel.name, "clkhash");
        assert_eq!(wheel.version.to_string(), "0.18.3");
        assert_eq!(wheel.build, None);
        assert_eq!(wheel.python_tag(), "py2.py3");
        assert_eq!(
            wheel.expanded_tags().into_iter().collect::<Vec<_>>(),
            vec!["py2-none-any", "py3-none-any"]
        );
    }

    #[test]
    fn manylinux_wheel_with_build_tag() {
        let wheel = WheelFilename::parse(
            "numpy-2.1.0-1b-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        )
        .unwrap();
        assert_eq!(
            wheel.build,
            Some(BuildTag {
                number: 1,
                suffix: "b".into()
            })
        );
        assert_eq!(wheel.expanded_tags().len(), 2);
    }

    #[test]
    fn bad_wheel_names() {
        assert!(matches!(
            WheelFilename::parse("a-1.0-py3-none.whl"),
            Err(FilenameError::WheelParts(_))
        ));
        assert!(matches!(
            WheelFilename::parse("a__b-1.0-py3-none-any.whl"),
            Err(FilenameError::WheelName { .. })
        ));
        let error = WheelFilename::parse("a-one-py3-none-any.whl").unwrap_err();
        assert!(matches!(error, FilenameError::Version { .. }), "{error}");
        // The cause is kept as a value and quoted in the message.
        let cause = std::error::Error::source(&error).expect("a version error has a cause");
        assert!(error.to_string().ends_with(&cause.to_string()), "{error}");
        assert!(matches!(
            WheelFilename::parse("a-1.0-x1-py3-none-any.whl"),
            Err(FilenameError::Build { .. })
        ));
        assert!(matches!(
            WheelFilename::parse("a-1.0.tar.gz"),
            Err(FilenameError::NotWheel(_))
        ));
        assert!(matches!(
            WheelFilename::parse("a-1.0-py3..-none-any.whl"),
            Err(FilenameError::Tags { .. })
        ));
    }

    #[test]
    fn sdist_names() {
        let sdist = SdistFilename::parse("python-dateutil-2.8.2.tar.gz").unwrap();
        assert_eq!(sdist.name, "python-dateutil");
        assert_eq!(sdist.version_text, "2.8.2");
        assert_eq!(sdist.stem, "python-dateutil-2.8.2");
        let sdist = SdistFilename::parse("clkhash-0.18.3.zip").unwrap();
        assert_eq!(sdist.format, SdistFormat::Zip);
        assert!(SdistFilename::parse("clkhash.tar.gz").is_err());
        assert!(SdistFilename::parse("clkhash-latest.tar.gz").is_err());
        let sdist = SdistFilename::parse("clkhash-1.0.tar.bz2").unwrap();
        assert_eq!(
            (sdist.format, sdist.stem.as_str()),
            (SdistFormat::TarBz2, "clkhash-1.0")
        );
        let sdist = SdistFilename::parse("clkhash-1.0.tgz").unwrap();
        assert_eq!(
            (sdist.format, sdist.extension),
            (SdistFormat::TarGz, ".tgz")
        );
        let sdist = SdistFilename::parse("clkhash-1.0.tar.lzma").unwrap();
        assert_eq!(
            (sdist.format, sdist.stem.as_str()),
            (SdistFormat::TarXz, "clkhash-1.0")
        );
        assert_eq!(
            SdistFilename::parse("clkhash-1.0.tar").unwrap().format,
            SdistFormat::Tar
        );
        assert!(SdistFilename::parse("clkhash-1.0.tar.lz").is_err());
        assert!(SdistFilename::parse("clkhash-1.0.tar.zst").is_err());
    }
}
