//! What the streaming XML report readers (`publish-test-results`' JUnit,
//! `upload-coverage`'s Cobertura) share on top of quick-xml: an attribute's value by
//! local name, and the line and column of a parse error for the user's message.

use std::path::Path;

use quick_xml::events::BytesStart;

/// The value of the attribute `name` (matched by local name, so namespaced writers
/// work), unescaped and normalized as XML 1.0 says; `None` when absent or malformed.
pub fn attribute(start: &BytesStart<'_>, name: &str) -> Option<String> {
    start.attributes().flatten().find_map(|attribute| {
        (attribute.key.local_name().as_ref() == name)
            .then(|| {
                attribute
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map(std::borrow::Cow::into_owned)
                    .ok()
            })
            .flatten()
    })
}

/// The 1-based (line, column) of byte `offset` in the file at `path`, for an error
/// message; (0, 0) when the file cannot be read again.
pub fn line_column(path: &Path, offset: u64) -> (u64, u64) {
    let Ok(bytes) = fs_err::read(path) else {
        return (0, 0);
    };
    let end = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    let before = &bytes[..end];
    let line = before.split(|&b| b == b'\n').count() as u64;
    let column = before.iter().rev().take_while(|&&b| b != b'\n').count() as u64 + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use quick_xml::events::Event;

    use super::*;

    #[test]
    fn attributes_by_local_name_unescaped() {
        let mut reader = quick_xml::Reader::from_str(
            r#"<testcase x:name="a &amp; b" time="0.5" bad="&nope;"/>"#,
        );
        let Event::Empty(start) = reader.read_event().unwrap() else {
            panic!("an empty element");
        };
        assert_eq!(attribute(&start, "name").as_deref(), Some("a & b"));
        assert_eq!(attribute(&start, "time").as_deref(), Some("0.5"));
        assert_eq!(attribute(&start, "missing"), None);
        assert_eq!(attribute(&start, "bad"), None);
    }

    #[test]
    fn line_and_column_of_an_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.xml");
        fs_err::write(&path, "<a>\n  <b>\n</a>").unwrap();
        assert_eq!(line_column(&path, 0), (1, 1));
        assert_eq!(line_column(&path, 6), (2, 3));
        assert_eq!(line_column(&path, 1000), (3, 5));
        assert_eq!(line_column(&dir.path().join("gone.xml"), 3), (0, 0));
    }
}
