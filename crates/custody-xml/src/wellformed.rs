//! What XML 1.0 requires of a document that quick-xml's event reader does not check: one
//! root element, nothing but markup and white space outside it, no character XML
//! forbids (NUL and the other C0 controls), attribute values without a bare `&` or `<`.
//! A reader that must refuse what is not XML feeds every event through [`WellFormed`].

use quick_xml::events::{BytesStart, Event};
use thiserror::Error;

/// How a document breaks a rule [`WellFormed`] checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Violation {
    /// Text before any element: the file is not XML at all (plain text, JSON).
    #[error("text before the first element")]
    TextBeforeRoot,
    #[error("text after the root element")]
    TextAfterRoot,
    #[error("a second root element")]
    SecondRoot,
    #[error("a character XML forbids (NUL or another control character)")]
    ForbiddenCharacter,
    #[error("a malformed attribute (an unescaped `&` or `<`, or a repeated name)")]
    Attribute,
}

/// The state of the checks: how deep the reader is, and whether the root was closed.
#[derive(Debug, Default)]
pub struct WellFormed {
    depth: usize,
    root_seen: bool,
}

impl WellFormed {
    /// Checks the next event of the document.
    pub fn check(&mut self, event: &Event<'_>) -> Result<(), Violation> {
        match event {
            Event::Start(start) | Event::Empty(start) => {
                if self.depth == 0 && self.root_seen {
                    return Err(Violation::SecondRoot);
                }
                self.root_seen = true;
                if matches!(event, Event::Start(_)) {
                    self.depth += 1;
                }
                allowed(start.as_bytes()).and_then(|()| attributes(start))
            }
            Event::End(_) => {
                self.depth = self.depth.saturating_sub(1);
                Ok(())
            }
            Event::Text(text) => self.text(text.as_bytes(), text.trim_ascii().is_empty()),
            Event::CData(text) => self.text(text.as_bytes(), false),
            Event::GeneralRef(_) => self.text(&[], false),
            Event::Comment(text) => allowed(text.as_bytes()),
            _ => Ok(()),
        }
    }

    fn text(&self, bytes: &[u8], blank: bool) -> Result<(), Violation> {
        if self.depth == 0 && !blank {
            return Err(if self.root_seen {
                Violation::TextAfterRoot
            } else {
                Violation::TextBeforeRoot
            });
        }
        allowed(bytes)
    }
}

// The bitwise forms are branch-free, which is what lets the scan vectorize.
#[allow(clippy::needless_bitwise_bool)]
/// No byte of `bytes` is a C0 control XML 1.0 forbids (all but tab, LF, CR). UTF-8
/// continuation bytes are all ≥ 0x80, so a byte scan is exact.
fn allowed(bytes: &[u8]) -> Result<(), Violation> {
    // Branch-free over fixed chunks, so the compiler vectorizes it: reports are mostly
    // text, and every byte of it passes here.
    let forbidden = |b: u8| (b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r');
    if bytes
        .chunks(64)
        .any(|chunk| chunk.iter().fold(false, |found, &b| found | forbidden(b)))
    {
        Err(Violation::ForbiddenCharacter)
    } else {
        Ok(())
    }
}

/// Every attribute of `start` parses, unescapes and is named once.
fn attributes(start: &BytesStart<'_>) -> Result<(), Violation> {
    for attribute in start.attributes().with_checks(true) {
        let attribute = attribute.map_err(|_| Violation::Attribute)?;
        if attribute.value.contains('<') {
            return Err(Violation::Attribute);
        }
        attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|_| Violation::Attribute)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(xml: &str) -> Result<(), Violation> {
        let mut reader = quick_xml::Reader::from_str(xml);
        let mut checks = WellFormed::default();
        loop {
            match reader.read_event() {
                Ok(Event::Eof) => return Ok(()),
                Ok(event) => checks.check(&event)?,
                Err(error) => panic!("quick-xml refused {xml:?} itself: {error}"),
            }
        }
    }

    #[test]
    fn documents_xml_allows() {
        for xml in [
            "<?xml version=\"1.0\"?>\n<!-- a comment -->\n<a x=\"1 &amp; 2\">t\t&lt;<b/><![CDATA[&]]></a>\n",
            "<a/>",
            "  \n<a>\r\n</a>  \n<!-- after -->\n",
        ] {
            assert_eq!(check(xml), Ok(()), "{xml}");
        }
    }

    #[test]
    fn what_xml_forbids_and_quick_xml_passes() {
        for (xml, violation) in [
            ("{\"tests\": 3}", Violation::TextBeforeRoot),
            ("plain text", Violation::TextBeforeRoot),
            ("<a/>trailing", Violation::TextAfterRoot),
            ("<a/><b/>", Violation::SecondRoot),
            ("<a></a><a></a>", Violation::SecondRoot),
            ("<a>nul\0</a>", Violation::ForbiddenCharacter),
            ("<a x=\"\u{1}\"/>", Violation::ForbiddenCharacter),
            ("<a x=\"fish & chips\"/>", Violation::Attribute),
            ("<a x=\"1 < 2\"/>", Violation::Attribute),
            ("<a x=\"1\" x=\"2\"/>", Violation::Attribute),
        ] {
            assert_eq!(check(xml), Err(violation), "{xml:?}");
        }
    }
}
