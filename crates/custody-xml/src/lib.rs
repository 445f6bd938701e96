//! What the streaming XML report readers (`publish-test-results`' JUnit,
//! `upload-coverage`'s Cobertura) share on top of quick-xml: the events of a file with
//! the line and column of a parse error for the user's message, an attribute's value
//! by local name, the well-formedness checks quick-xml leaves out ([`WellFormed`]), and
//! reports in UTF-16 or another declared encoding read as UTF-8 ([`Utf8`]).

mod encoding;
mod wellformed;

use std::io::BufRead;
use std::path::{Path, PathBuf};

use quick_xml::events::{BytesStart, Event};

pub use crate::encoding::{EncodingError, Utf8};
pub use crate::wellformed::{Violation, WellFormed};

/// The events of one XML file, read as a stream through a reused buffer: memory stays
/// flat however large the file is.
#[derive(Debug)]
pub struct Events<R> {
    /// The file on disk, read again only to place an error.
    path: PathBuf,
    xml: quick_xml::Reader<R>,
    buffer: Vec<u8>,
}

/// Where and why a file is not well-formed XML.
#[derive(Debug)]
pub struct Malformed {
    /// 1-based; 0 when the file cannot be read again.
    pub line: u64,
    pub column: u64,
    pub source: quick_xml::Error,
}

impl<R: BufRead> Events<R> {
    /// The events `reader` holds; `path` is the file it reads, for error positions.
    /// Text is kept as written (not trimmed).
    pub fn new(path: &Path, reader: R) -> Self {
        let mut xml = quick_xml::Reader::from_reader(reader);
        xml.config_mut().trim_text(false);
        Self {
            path: path.to_owned(),
            xml,
            buffer: Vec::new(),
        }
    }

    /// The same events without the text that is only whitespace (the indentation
    /// between elements), and other text trimmed of XML whitespace at both ends: for
    /// readers that use no text but trimmed values, it saves an event per element.
    #[must_use]
    pub fn skip_whitespace(mut self) -> Self {
        self.xml.config_mut().trim_text(true);
        self
    }

    /// The next event, `None` at the end of the file.
    pub fn next_event(&mut self) -> Result<Option<Event<'_>>, Malformed> {
        self.buffer.clear();
        match self.xml.read_event_into(&mut self.buffer) {
            Ok(Event::Eof) => Ok(None),
            Ok(event) => Ok(Some(event)),
            Err(source) => {
                let (line, column) = line_column(&self.path, self.xml.error_position());
                Err(Malformed {
                    line,
                    column,
                    source,
                })
            }
        }
    }

    /// The 1-based line read up to (where a truncated file ends); 0 when the file cannot
    /// be read again.
    pub fn line(&self) -> u64 {
        self.position().0
    }

    /// The 1-based (line, column) just after the last event read, to place an error a
    /// caller finds in it; (0, 0) when the file cannot be read again.
    pub fn position(&self) -> (u64, u64) {
        line_column(&self.path, self.xml.buffer_position())
    }
}

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
    fn events_to_the_end_or_to_the_position_of_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let events_of = |name: &str, text: &'static str| {
            let path = dir.path().join(name);
            fs_err::write(&path, text).unwrap();
            Events::new(&path, text.as_bytes())
        };

        let mut truncated = events_of("cut.xml", "<a>\n<b>");
        while truncated.next_event().unwrap().is_some() {}
        assert_eq!(truncated.line(), 2, "where the file ends");

        let mut bad = events_of("bad.xml", "<a>\n  <b></c>\n</a>");
        assert!(matches!(bad.next_event(), Ok(Some(Event::Start(_)))));
        assert!(matches!(bad.next_event(), Ok(Some(Event::Text(_)))));
        assert!(matches!(bad.next_event(), Ok(Some(Event::Start(_)))));
        let error = bad.next_event().unwrap_err();
        assert_eq!((error.line, error.column), (2, 6));
        assert!(
            matches!(error.source, quick_xml::Error::IllFormed(_)),
            "{}",
            error.source
        );
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
