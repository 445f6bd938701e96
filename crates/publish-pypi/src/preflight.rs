//! The pre-flight check: what `twine check` checks and what PyPI's upload endpoint
//! rejects (warehouse `forklift/legacy.py` and `forklift/metadata.py`), applied to every
//! file before the first one is uploaded, so a bad file late in the list never leaves a
//! half-published release.

use custody_dist::metadata::CoreMetadata;
use custody_dist::name::parse_version;
use custody_dist::{ArtifactKind, Inspection, Problem, SdistFilename, sdist};

use crate::warehouse;

const SUMMARY_LIMIT: usize = 512;
const PROJECT_URL_LABEL_LIMIT: usize = 32;
const CONTENT_TYPES: [&str; 3] = ["text/plain", "text/x-rst", "text/markdown"];
const MARKDOWN_VARIANTS: [&str; 2] = ["GFM", "CommonMark"];

/// Problems PyPI (or `twine check`) would raise about one inspected wheel or sdist.
pub(crate) fn check(inspection: &Inspection) -> Vec<Problem> {
    let mut problems = Vec::new();
    let Some(metadata) = &inspection.metadata else {
        // Verification has already reported the missing or unreadable metadata.
        return problems;
    };
    check_required(metadata, &mut problems);
    check_version(metadata, &mut problems);
    check_summary(metadata, &mut problems);
    check_description(metadata, &mut problems);
    check_urls(metadata, &mut problems);
    warehouse::check_metadata(metadata, &mut problems);
    match (inspection.kind, metadata.name()) {
        (ArtifactKind::Sdist, _) => {
            check_sdist_name(&inspection.file_name, metadata, &mut problems);
        }
        (ArtifactKind::Wheel, Some(name)) => {
            warehouse::check_wheel_name(&inspection.file_name, name, &mut problems);
        }
        _ => {}
    }
    problems
}

fn check_required(metadata: &CoreMetadata, problems: &mut Vec<Problem>) {
    for (field, value) in [
        ("Metadata-Version", metadata.metadata_version()),
        ("Name", metadata.name()),
        ("Version", metadata.version()),
    ] {
        if value.is_none_or(|v| v.trim().is_empty()) {
            problems.push(
                Problem::error(
                    "pypi-required-field",
                    format!("has no `{field}` in its metadata"),
                )
                .hint("rebuild it with a current build backend"),
            );
        }
    }
}

fn check_version(metadata: &CoreMetadata, problems: &mut Vec<Problem>) {
    let Some(text) = metadata.version() else {
        return;
    };
    match parse_version(text) {
        Err(reason) => problems.push(
            Problem::error(
                "pypi-version",
                format!("has version `{text}`, which is not a PEP 440 version: {reason}"),
            )
            .hint("use a PEP 440 version such as 1.2.3, 1.2.3rc1 or 1.2.3.post1"),
        ),
        Ok(version) if !version.local().is_empty() => problems.push(
            Problem::error(
                "pypi-local-version",
                format!("has the local version `{text}`; PyPI refuses local versions"),
            )
            .hint("drop the `+...` part (local versions are for builds that are never published)"),
        ),
        Ok(_) => {}
    }
}

fn check_summary(metadata: &CoreMetadata, problems: &mut Vec<Problem>) {
    let Some(summary) = metadata.summary() else {
        return;
    };
    if summary.chars().count() > SUMMARY_LIMIT {
        problems.push(
            Problem::error(
                "pypi-summary-length",
                format!(
                    "has a Summary of {} characters; PyPI allows {SUMMARY_LIMIT}",
                    summary.chars().count()
                ),
            )
            .hint("shorten `description` in pyproject.toml (the one-line summary)"),
        );
    }
    if summary.contains('\n') {
        problems.push(
            Problem::error(
                "pypi-summary-lines",
                "has a Summary of several lines; PyPI wants one line",
            )
            .hint("keep the summary to one line"),
        );
    }
}

fn check_description(metadata: &CoreMetadata, problems: &mut Vec<Problem>) {
    if metadata.description().is_none_or(|d| d.trim().is_empty()) {
        problems.push(
            Problem::warning(
                "pypi-description-missing",
                "has no description: the project page on the index will be empty",
            )
            .hint("set `readme` in pyproject.toml"),
        );
    }
    let Some(content_type) = metadata.description_content_type() else {
        return;
    };
    let mut parts = content_type.split(';').map(str::trim);
    let mime = parts.next().unwrap_or_default().to_ascii_lowercase();
    if !CONTENT_TYPES.contains(&mime.as_str()) {
        problems.push(
            Problem::error(
                "pypi-content-type",
                format!(
                    "has Description-Content-Type `{content_type}`; PyPI knows {}",
                    CONTENT_TYPES.join(", ")
                ),
            )
            .hint("use a README ending in .md, .rst or .txt, or set the content type explicitly"),
        );
        return;
    }
    for parameter in parts.filter(|p| !p.is_empty()) {
        let (key, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        let value = value.trim().trim_matches('"');
        match key.trim().to_ascii_lowercase().as_str() {
            "charset" if !value.eq_ignore_ascii_case("utf-8") => problems.push(
                Problem::error(
                    "pypi-content-type",
                    format!(
                        "has Description-Content-Type charset `{value}`; PyPI accepts only UTF-8"
                    ),
                )
                .hint("write the README in UTF-8"),
            ),
            "variant" if mime == "text/markdown" && !MARKDOWN_VARIANTS.contains(&value) => problems
                .push(
                    Problem::error(
                        "pypi-content-type",
                        format!(
                            "has Markdown variant `{value}`; PyPI knows {}",
                            MARKDOWN_VARIANTS.join(", ")
                        ),
                    )
                    .hint("use variant=GFM or variant=CommonMark"),
                ),
            _ => {}
        }
    }
}

fn is_http_url(text: &str) -> bool {
    let lower = text.trim().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && lower.len() > "https://".len()
        && !lower.contains(char::is_whitespace)
}

fn check_urls(metadata: &CoreMetadata, problems: &mut Vec<Problem>) {
    for field in ["Home-page", "Download-URL"] {
        if let Some(url) = metadata.value(field)
            && !url.trim().is_empty()
            && !is_http_url(url)
        {
            problems.push(
                Problem::error(
                    "pypi-url",
                    format!("has {field} `{url}`, which is not an http(s) URL"),
                )
                .hint("use a full https:// URL"),
            );
        }
    }
    for entry in metadata.values("Project-URL") {
        let (label, url) = entry.split_once(',').unwrap_or((entry, ""));
        let label = label.trim();
        if label.chars().count() > PROJECT_URL_LABEL_LIMIT {
            problems.push(
                Problem::error(
                    "pypi-project-url",
                    format!(
                        "has a Project-URL label `{label}` longer than {PROJECT_URL_LABEL_LIMIT} characters"
                    ),
                )
                .hint("shorten the key in [project.urls]"),
            );
        }
        if !is_http_url(url) {
            problems.push(
                Problem::error(
                    "pypi-project-url",
                    format!("has Project-URL `{entry}` without an http(s) URL"),
                )
                .hint("write it as `Label, https://...`"),
            );
        }
    }
}

fn check_sdist_name(file_name: &str, metadata: &CoreMetadata, problems: &mut Vec<Problem>) {
    let Ok(parsed) = SdistFilename::parse(file_name) else {
        // Verification has reported the unparseable name.
        return;
    };
    let Some(name) = metadata.name() else { return };
    if let Some(problem) = sdist::pep625_problem(&parsed, name) {
        problems.push(problem);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(headers: &str) -> Vec<String> {
        let metadata = CoreMetadata::parse(headers.as_bytes()).unwrap();
        let mut problems = Vec::new();
        check_required(&metadata, &mut problems);
        check_version(&metadata, &mut problems);
        check_summary(&metadata, &mut problems);
        check_description(&metadata, &mut problems);
        check_urls(&metadata, &mut problems);
        warehouse::check_metadata(&metadata, &mut problems);
        problems.iter().map(|p| p.code.clone()).collect()
    }

    const GOOD: &str = "Metadata-Version: 2.4\nName: demo\nVersion: 1.0\nSummary: A demo\nDescription-Content-Type: text/markdown; charset=UTF-8; variant=GFM\nProject-URL: Source, https://example.org/src\nRequires-Dist: requests>=2; extra == \"web\"\n\n# Demo\n";

    #[test]
    fn a_good_file_passes() {
        assert_eq!(problems_of(GOOD), Vec::<String>::new());
    }

    #[test]
    fn each_rule_fires() {
        let cases = [
            (
                "Metadata-Version: 2.4\nName: demo\n\nbody",
                "pypi-required-field",
            ),
            (
                "Metadata-Version: 3.0\nName: demo\nVersion: 1\n\nbody",
                "pypi-metadata-version",
            ),
            (
                "Metadata-Version: 2.1\nName: demo\nVersion: 1.0+local\n\nbody",
                "pypi-local-version",
            ),
            (
                "Metadata-Version: 2.1\nName: demo\nVersion: one\n\nbody",
                "pypi-version",
            ),
            (
                "Metadata-Version: 2.1\nName: demo\nVersion: 1\n\n",
                "pypi-description-missing",
            ),
            (
                "Metadata-Version: 2.1\nName: demo\nVersion: 1\nDescription-Content-Type: text/html\n\nbody",
                "pypi-content-type",
            ),
            (
                "Metadata-Version: 2.1\nName: demo\nVersion: 1\nDescription-Content-Type: text/markdown; variant=Wiki\n\nbody",
                "pypi-content-type",
            ),
            (
                "Metadata-Version: 2.4\nName: demo\nVersion: 1\nLicense: MIT\nLicense-Expression: MIT\n\nbody",
                "pypi-license-both",
            ),
            (
                "Metadata-Version: 2.1\nName: demo\nVersion: 1\nHome-page: example.org\n\nbody",
                "pypi-url",
            ),
            (
                "Metadata-Version: 2.1\nName: demo\nVersion: 1\nProject-URL: A label far longer than thirty-two characters, https://x.org\n\nbody",
                "pypi-project-url",
            ),
            (
                "Metadata-Version: 2.1\nName: demo\nVersion: 1\nRequires-Dist: lib @ https://example.org/lib.whl\n\nbody",
                "pypi-direct-reference",
            ),
        ];
        for (headers, code) in cases {
            let found = problems_of(headers);
            assert!(
                found.iter().any(|c| c == code),
                "{code} not in {found:?} for\n{headers}"
            );
        }
        let long_summary = format!(
            "Metadata-Version: 2.1\nName: d\nVersion: 1\nSummary: {}\n\nbody",
            "x".repeat(513)
        );
        assert!(problems_of(&long_summary).contains(&"pypi-summary-length".to_owned()));
    }
}
