//! The legacy upload form, field for field as twine sends it (`twine/package.py`
//! `metadata_dictionary` and `twine/repository.py` `_upload`): the action and protocol
//! version, identity and digests, then every core-metadata field present, multi-use
//! fields repeated. The file itself is the `content` part, added by the uploader.

use custody_dist::{ArtifactKind, Inspection};

/// Core-metadata headers and the form field each one is sent as.
const METADATA_FIELDS: [(&str, &str); 27] = [
    ("Metadata-Version", "metadata_version"),
    ("Summary", "summary"),
    ("Home-page", "home_page"),
    ("Author", "author"),
    ("Author-email", "author_email"),
    ("Maintainer", "maintainer"),
    ("Maintainer-email", "maintainer_email"),
    ("License", "license"),
    ("License-Expression", "license_expression"),
    ("License-File", "license_file"),
    ("Keywords", "keywords"),
    ("Platform", "platform"),
    ("Classifier", "classifiers"),
    ("Download-URL", "download_url"),
    ("Supported-Platform", "supported_platform"),
    ("Provides", "provides"),
    ("Requires", "requires"),
    ("Obsoletes", "obsoletes"),
    ("Project-URL", "project_urls"),
    ("Provides-Dist", "provides_dist"),
    ("Obsoletes-Dist", "obsoletes_dist"),
    ("Requires-Dist", "requires_dist"),
    ("Requires-External", "requires_external"),
    ("Requires-Python", "requires_python"),
    ("Provides-Extra", "provides_extra"),
    ("Description-Content-Type", "description_content_type"),
    ("Dynamic", "dynamic"),
];

/// Whether a Metadata-Version (`major.minor`) is 2.4 or later.
fn at_least_2_4(version: &str) -> bool {
    let mut parts = version
        .trim()
        .split('.')
        .map(|part| part.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten().unwrap_or(0)) {
        (Some(major), minor) => (major, minor) >= (2, 4),
        (None, _) => false,
    }
}

/// `filetype` of the form.
pub(crate) fn filetype(kind: ArtifactKind) -> &'static str {
    match kind {
        ArtifactKind::Wheel => "bdist_wheel",
        _ => "sdist",
    }
}

/// `pyversion`: the wheel's python tag (`py3`, `cp311`, `py2.py3`), `source` for sdists.
pub(crate) fn pyversion(inspection: &Inspection) -> String {
    match (&inspection.kind, &inspection.wheel) {
        (ArtifactKind::Wheel, Some(tags)) => tags.python.join("."),
        _ => "source".to_owned(),
    }
}

/// Every text field of the upload form, in twine's order; `attestations` is the JSON
/// list of PEP 740 attestations (twine's `--attestations`), after the sha256 digest.
pub(crate) fn fields(
    inspection: &Inspection,
    attestations: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut fields: Vec<(&'static str, String)> = vec![
        (":action", "file_upload".to_owned()),
        ("protocol_version", "1".to_owned()),
    ];
    let Some(metadata) = &inspection.metadata else {
        return fields;
    };
    // The name and version as the metadata writes them; the index normalizes.
    fields.push(("name", metadata.name().unwrap_or_default().to_owned()));
    fields.push(("version", metadata.version().unwrap_or_default().to_owned()));
    fields.push(("filetype", filetype(inspection.kind).to_owned()));
    fields.push(("pyversion", pyversion(inspection)));
    // License-File exists from Metadata-Version 2.4; below it, Warehouse's validating
    // parser (`packaging`'s `Metadata.from_raw`) rejects the field, so twine drops it,
    // and older setuptools writes exactly that combination.
    let license_files = metadata
        .values("Metadata-Version")
        .first()
        .is_some_and(|version| at_least_2_4(version));
    for (header, field) in METADATA_FIELDS {
        if header == "License-File" && !license_files {
            continue;
        }
        for value in metadata.values(header) {
            fields.push((field, value.to_owned()));
        }
    }
    if let Some(description) = metadata.description() {
        fields.push(("description", description.to_owned()));
    }
    fields.push(("sha256_digest", inspection.digests.sha256.clone()));
    if let Some(attestations) = attestations {
        fields.push(("attestations", attestations.to_owned()));
    }
    if let Some(md5) = &inspection.digests.md5 {
        fields.push(("md5_digest", md5.clone()));
    }
    if let Some(blake2) = &inspection.digests.blake2b_256 {
        fields.push(("blake2_256_digest", blake2.clone()));
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::{at_least_2_4, fields};

    /// Real wheels from PyPI (pinned in tests/fixtures/pypi-artifacts.txt): setuptools
    /// wrote License-File under 2.1 in the first two, which twine leaves out of the form
    /// (compared with twine in tests/it/wire.rs).
    #[test]
    fn license_file_goes_only_with_metadata_2_4() {
        for (name, expected) in [
            ("jaraco.functools-4.1.0-py3-none-any.whl", vec![]),
            (
                "MarkupSafe-2.1.5-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                vec![],
            ),
            ("attrs-25.3.0-py3-none-any.whl", vec!["LICENSE"]),
        ] {
            let path = custody_test_support::pypi_artifact(name);
            let inspection = custody_dist::inspect(
                &path,
                &custody_dist::Limits::default(),
                &custody_output::NoProgress,
            )
            .unwrap();
            let metadata = inspection.metadata.as_ref().unwrap();
            assert!(!metadata.values("License-File").is_empty(), "{name}");
            let sent: Vec<String> = fields(&inspection, None)
                .into_iter()
                .filter(|(field, _)| *field == "license_file")
                .map(|(_, value)| value)
                .collect();
            assert_eq!(sent, expected, "{name}");
        }
    }

    #[test]
    fn license_file_is_a_field_from_metadata_2_4() {
        for (version, expected) in [
            ("2.1", false),
            ("2.2", false),
            ("2.3", false),
            ("2.4", true),
            ("2.5", true),
            ("3.0", true),
            ("1.2", false),
            ("x", false),
        ] {
            assert_eq!(at_least_2_4(version), expected, "{version}");
        }
    }
}
