//! The shape of the header block, as `packaging.metadata` parses it: the metadata
//! versions Warehouse supports, fields newer than the declared version, unknown and
//! repeated fields, and the `Dynamic` field's allowed values.

use custody_dist::Problem;
use custody_dist::metadata::{CoreMetadata, MULTI_USE_FIELDS};

use super::refusal;

/// `packaging.metadata._VALID_METADATA_VERSIONS`, oldest first: a field's age is its
/// index here.
const PACKAGING_VERSIONS: [&str; 9] = [
    "1.0", "1.1", "1.2", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6",
];
/// `warehouse/forklift/metadata.py` `SUPPORTED_METADATA_VERSIONS`: no 2.0 (never a
/// real version, though pip installs it) and not yet 2.6.
pub(super) const SUPPORTED_VERSIONS: [&str; 8] =
    ["1.0", "1.1", "1.2", "2.1", "2.2", "2.3", "2.4", "2.5"];

/// Every field `packaging` knows, with the metadata version that introduced it.
const FIELDS: [(&str, &str); 32] = [
    ("Metadata-Version", "1.0"),
    ("Name", "1.0"),
    ("Version", "1.0"),
    ("Dynamic", "2.2"),
    ("Platform", "1.0"),
    ("Supported-Platform", "1.1"),
    ("Summary", "1.0"),
    ("Description", "1.0"),
    ("Description-Content-Type", "2.1"),
    ("Keywords", "1.0"),
    ("Home-page", "1.0"),
    ("Download-URL", "1.1"),
    ("Author", "1.0"),
    ("Author-email", "1.0"),
    ("Maintainer", "1.2"),
    ("Maintainer-email", "1.2"),
    ("License", "1.0"),
    ("License-Expression", "2.4"),
    ("License-File", "2.4"),
    ("Classifier", "1.1"),
    ("Requires-Dist", "1.2"),
    ("Requires-Python", "1.2"),
    ("Requires-External", "1.2"),
    ("Project-URL", "1.2"),
    ("Provides-Extra", "2.1"),
    ("Provides-Dist", "1.2"),
    ("Obsoletes-Dist", "1.2"),
    ("Import-Name", "2.5"),
    ("Import-Namespace", "2.5"),
    ("Requires", "1.1"),
    ("Provides", "1.1"),
    ("Obsoletes", "1.1"),
];

/// Fields Warehouse refuses in `Dynamic` (`DYNAMIC_FIELDS` is every other field).
const NEVER_DYNAMIC: [&str; 4] = ["name", "version", "metadata-version", "dynamic"];

fn age(version: &str) -> Option<usize> {
    PACKAGING_VERSIONS.iter().position(|v| *v == version)
}

pub(super) fn check(metadata: &CoreMetadata, problems: &mut Vec<Problem>) {
    let declared = metadata.metadata_version();
    let declared_age = declared.and_then(age);
    if let Some(version) = declared
        && !SUPPORTED_VERSIONS.contains(&version)
    {
        problems.push(
            refusal(
                "pypi-metadata-version",
                "Metadata-Version",
                format!(
                    "`{version}` is not a metadata version PyPI accepts ({})",
                    SUPPORTED_VERSIONS.join(", ")
                ),
            )
            .hint("rebuild with a current build backend (setuptools >= 77, hatchling, flit, poetry-core, maturin) so it writes 2.1 or newer; 2.0 was never a valid version"),
        );
    }
    check_fields(metadata, declared.zip(declared_age), problems);
    check_dynamic(metadata, problems);
}

fn check_fields(
    metadata: &CoreMetadata,
    declared: Option<(&str, usize)>,
    problems: &mut Vec<Problem>,
) {
    let headers = metadata.headers();
    let mut seen: Vec<String> = Vec::new();
    for (name, _) in headers.fields() {
        let lower = name.to_ascii_lowercase();
        if seen.contains(&lower) {
            continue;
        }
        seen.push(lower);
        let Some((field, added)) = FIELDS.iter().find(|(f, _)| f.eq_ignore_ascii_case(name)) else {
            // Not sent in the upload form, so PyPI never sees it: a warning.
            problems.push(
                Problem::warning(
                    "pypi-field-unknown",
                    format!("field `{name}`: is not a core metadata field; it is not uploaded"),
                )
                .hint("remove the header, or rebuild with a current build backend"),
            );
            continue;
        };
        let repeated = headers.count(field) > 1
            || (*field == "Description"
                && metadata
                    .headers()
                    .body()
                    .is_some_and(|b| !b.trim().is_empty()));
        if repeated
            && !MULTI_USE_FIELDS
                .iter()
                .any(|f| f.eq_ignore_ascii_case(field))
        {
            // The form carries one value, so PyPI does not refuse it: a warning.
            problems.push(
                Problem::warning("pypi-field-repeated", format!("field `{field}`: appears more than once; only the first value is uploaded"))
                    .hint("keep one value (a description goes either in the `Description` header or in the body, not both)"),
            );
        }
        if let Some((version, declared_age)) = declared
            && age(added).is_some_and(|a| a > declared_age)
        {
            if *field == "License-File" {
                // The upload form leaves it out below 2.4 (as twine does), so PyPI
                // never sees it.
                problems.push(
                    Problem::warning("pypi-field-too-new", format!("field `License-File`: was introduced in metadata version 2.4, the file declares {version}; it is left out of the upload"))
                        .hint("upgrade setuptools to 77 or newer: it writes Metadata-Version 2.4 with License-File"),
                );
                continue;
            }
            problems.push(
                refusal(
                    "pypi-field-too-new",
                    field,
                    format!("was introduced in metadata version {added}, but the file declares Metadata-Version {version}"),
                )
                .hint(format!("rebuild with a build backend that writes Metadata-Version {added} or newer (it is the one that writes `{field}`), or drop `{field}`"))
            );
        }
    }
}

fn check_dynamic(metadata: &CoreMetadata, problems: &mut Vec<Problem>) {
    for value in metadata.values("Dynamic") {
        let lower = value.trim().to_ascii_lowercase();
        let known = FIELDS.iter().any(|(f, _)| f.eq_ignore_ascii_case(&lower));
        if !known || NEVER_DYNAMIC.contains(&lower.as_str()) {
            problems.push(
                refusal(
                    "pypi-dynamic",
                    "Dynamic",
                    format!("`{value}` cannot be dynamic (a core metadata field other than Name, Version and Metadata-Version)"),
                )
                .hint("list in `Dynamic` only fields an sdist's build may still change"),
            );
        }
    }
}
