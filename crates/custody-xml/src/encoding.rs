//! Reports in any encoding XML allows, read as UTF-8: the byte-order mark or the XML
//! declaration names the encoding (UTF-16 writers, ISO-8859-1 from older JVMs), and a
//! report that is not UTF-8 is transcoded as a stream. quick-xml's own parser only reads
//! ASCII-compatible bytes, so UTF-16 must be transcoded before it.

use std::io::{self, BufRead, BufReader, Read};

use encoding_rs::Encoding;
use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};
use thiserror::Error;

/// Bytes looked at for a byte-order mark and the XML declaration.
const SNIFFED: usize = 1024;

/// Why a report cannot be read as text.
#[derive(Debug, Error)]
pub enum EncodingError {
    #[error("the XML declaration names the encoding `{0}`, which this reader does not know")]
    Unknown(String),
    #[error("cannot read the start of the file")]
    Read(#[source] io::Error),
}

/// A report read as UTF-8: as it is when it is UTF-8, transcoded otherwise.
pub enum Utf8<R: BufRead> {
    Plain(R),
    Transcoded(BufReader<DecodeReaderBytes<R, Vec<u8>>>),
}

impl<R: BufRead> std::fmt::Debug for Utf8<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Plain(_) => "Utf8::Plain",
            Self::Transcoded(_) => "Utf8::Transcoded",
        })
    }
}

impl<R: BufRead> Utf8<R> {
    /// `reader` as UTF-8, by its byte-order mark or its declaration's `encoding`.
    pub fn new(mut reader: R) -> Result<Self, EncodingError> {
        let start = reader.fill_buf().map_err(EncodingError::Read)?;
        let start = &start[..start.len().min(SNIFFED)];
        match encoding_of(start)? {
            None => Ok(Self::Plain(reader)),
            Some(encoding) => Ok(Self::Transcoded(BufReader::with_capacity(
                64 * 1024,
                DecodeReaderBytesBuilder::new()
                    .encoding(Some(encoding))
                    .strip_bom(true)
                    .build(reader),
            ))),
        }
    }

    /// Whether the report is being transcoded (its byte offsets are not the file's).
    pub fn transcoded(&self) -> bool {
        matches!(self, Self::Transcoded(_))
    }
}

impl<R: BufRead> Read for Utf8<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(reader) => reader.read(buffer),
            Self::Transcoded(reader) => reader.read(buffer),
        }
    }
}

impl<R: BufRead> BufRead for Utf8<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self {
            Self::Plain(reader) => reader.fill_buf(),
            Self::Transcoded(reader) => reader.fill_buf(),
        }
    }

    fn consume(&mut self, amount: usize) {
        match self {
            Self::Plain(reader) => reader.consume(amount),
            Self::Transcoded(reader) => reader.consume(amount),
        }
    }
}

/// The encoding `start` (the file's first bytes) is in when it is not UTF-8; `None` for
/// UTF-8 (with or without its byte-order mark) and for a file that declares nothing.
fn encoding_of(start: &[u8]) -> Result<Option<&'static Encoding>, EncodingError> {
    if let Some((encoding, _)) = Encoding::for_bom(start) {
        return Ok((encoding != encoding_rs::UTF_8).then_some(encoding));
    }
    // UTF-16 without a byte-order mark: `<?` as two 16-bit units.
    if start.starts_with(&[b'<', 0, b'?', 0]) {
        return Ok(Some(encoding_rs::UTF_16LE));
    }
    if start.starts_with(&[0, b'<', 0, b'?']) {
        return Ok(Some(encoding_rs::UTF_16BE));
    }
    let Some(label) = declared(start) else {
        return Ok(None);
    };
    match Encoding::for_label(label) {
        // A UTF-16 label on bytes that are not UTF-16 (checked above) is a writer's slip:
        // the bytes are what is read.
        Some(encoding)
            if encoding == encoding_rs::UTF_8
                || encoding == encoding_rs::UTF_16LE
                || encoding == encoding_rs::UTF_16BE =>
        {
            Ok(None)
        }
        Some(encoding) => Ok(Some(encoding)),
        None => Err(EncodingError::Unknown(
            String::from_utf8_lossy(label).chars().take(40).collect(),
        )),
    }
}

/// The `encoding` the XML declaration at the start of `start` names.
fn declared(start: &[u8]) -> Option<&[u8]> {
    let declaration = start.strip_prefix(b"<?xml")?;
    let end = declaration.windows(2).position(|w| w == b"?>")?;
    let declaration = &declaration[..end];
    let at = declaration.windows(8).position(|w| w == b"encoding")?;
    let rest = declaration[at + 8..]
        .trim_ascii_start()
        .strip_prefix(b"=")?;
    let rest = rest.trim_ascii_start();
    let quote = *rest.first().filter(|q| **q == b'"' || **q == b'\'')?;
    let value = &rest[1..];
    let close = value.iter().position(|&b| b == quote)?;
    Some(&value[..close])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Result<String, EncodingError> {
        let mut text = String::new();
        Utf8::new(bytes)?.read_to_string(&mut text).unwrap();
        Ok(text)
    }

    fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let mut bytes = Vec::new();
        let units = bom.then_some(0xFEFF).into_iter().chain(text.encode_utf16());
        for unit in units {
            bytes.extend(if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        bytes
    }

    #[test]
    fn utf16_with_and_without_a_byte_order_mark() {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>é</a>";
        for (big_endian, bom) in [(false, true), (true, true), (false, false), (true, false)] {
            assert_eq!(read(&utf16(xml, big_endian, bom)).unwrap(), xml);
        }
    }

    #[test]
    fn latin1_by_its_declaration_and_utf8_as_it_is() {
        let latin1 = b"<?xml version='1.0' encoding = 'ISO-8859-1'?><a>\xe9</a>";
        assert_eq!(
            read(latin1).unwrap(),
            "<?xml version='1.0' encoding = 'ISO-8859-1'?><a>é</a>"
        );
        let utf8 = "<?xml version=\"1.0\" encoding=\"utf-8\"?><a>é</a>";
        assert!(!Utf8::new(utf8.as_bytes()).unwrap().transcoded());
        assert_eq!(read(utf8.as_bytes()).unwrap(), utf8);
        assert!(!Utf8::new(&b"<a/>"[..]).unwrap().transcoded());
        assert!(!Utf8::new(&b""[..]).unwrap().transcoded());
    }

    #[test]
    fn an_unknown_encoding_is_named() {
        let error = read(b"<?xml version=\"1.0\" encoding=\"x-klingon\"?><a/>").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the XML declaration names the encoding `x-klingon`, which this reader does not know"
        );
    }
}
