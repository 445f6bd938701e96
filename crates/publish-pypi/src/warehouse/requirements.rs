//! Names and dependency syntax: `Name` and `Provides-Extra` (PEP 508 names),
//! `Requires-Python` (PEP 440 specifiers), `Requires-Dist`, `Provides-Dist` and
//! `Obsoletes-Dist` (PEP 508 requirements, no direct URL references on PyPI).

use std::str::FromStr;

use custody_dist::Problem;
use custody_dist::metadata::CoreMetadata;
use custody_dist::name::is_valid_name;
use pep508_rs::pep440_rs::VersionSpecifiers;
use pep508_rs::{Requirement, VersionOrUrl};

use super::refusal;

pub(super) fn check(metadata: &CoreMetadata, problems: &mut Vec<Problem>) {
    if let Some(name) = metadata.name()
        && !name.is_empty()
        && !is_valid_name(name)
    {
        problems.push(
            refusal("pypi-name", "Name", format!("`{name}` is not a valid project name"))
                .hint("use ASCII letters, digits, `.`, `_` and `-`, starting and ending with a letter or digit"),
        );
    }
    for extra in metadata.values("Provides-Extra") {
        if !is_valid_name(extra) {
            problems.push(
                refusal(
                    "pypi-extra",
                    "Provides-Extra",
                    format!("`{extra}` is not a valid extra name"),
                )
                .hint("name extras like projects (PEP 685): letters, digits, `.`, `_`, `-`"),
            );
        }
    }
    if let Some(text) = metadata.value("Requires-Python")
        && let Err(error) = VersionSpecifiers::from_str(text)
    {
        problems.push(
            refusal("pypi-requires-python", "Requires-Python", format!("`{text}` is not a PEP 440 specifier set: {}", first_line(&error.to_string())))
                .hint("write `requires-python` in pyproject.toml as specifiers such as `>=3.9` or `>=3.9,<4`"),
        );
    }
    for field in ["Requires-Dist", "Provides-Dist", "Obsoletes-Dist"] {
        for text in metadata.values(field) {
            check_requirement(field, text, problems);
        }
    }
}

fn check_requirement(field: &str, text: &str, problems: &mut Vec<Problem>) {
    match Requirement::<pep508_rs::VerbatimUrl>::from_str(text) {
        Err(error) => problems.push(
            refusal(
                "pypi-requirement",
                field,
                format!("`{text}` is not a PEP 508 requirement: {}", first_line(&error.message.to_string())),
            )
            .hint("write dependencies as `name[extras] specifiers ; marker`, e.g. `requests>=2.31 ; python_version >= \"3.9\"`"),
        ),
        Ok(requirement) if matches!(requirement.version_or_url, Some(VersionOrUrl::Url(_))) => problems.push(
            refusal(
                "pypi-direct-reference",
                field,
                format!("`{text}` is a direct URL reference; PyPI refuses them"),
            )
            .hint("depend on a release published on the index instead of a URL"),
        ),
        Ok(_) => {}
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}
