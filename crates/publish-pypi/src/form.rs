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

/// Every text field of the upload form, in twine's order.
pub(crate) fn fields(inspection: &Inspection) -> Vec<(&'static str, String)> {
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
    for (header, field) in METADATA_FIELDS {
        for value in metadata.values(header) {
            fields.push((field, value.to_owned()));
        }
    }
    if let Some(description) = metadata.description() {
        fields.push(("description", description.to_owned()));
    }
    fields.push(("sha256_digest", inspection.digests.sha256.clone()));
    if let Some(md5) = &inspection.digests.md5 {
        fields.push(("md5_digest", md5.clone()));
    }
    if let Some(blake2) = &inspection.digests.blake2b_256 {
        fields.push(("blake2_256_digest", blake2.clone()));
    }
    fields
}
