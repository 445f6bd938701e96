//! Core metadata (`METADATA`, `PKG-INFO`, versions 1.0 to 2.5) and the `WHEEL` file:
//! both are RFC 822-style headers, optionally followed by a body (the description).

use thiserror::Error;

/// Metadata versions the specification defines. 2.5 is the newest PyPI accepts today.
pub const KNOWN_METADATA_VERSIONS: [&str; 9] = [
    "1.0", "1.1", "1.2", "2.0", "2.1", "2.2", "2.3", "2.4", "2.5",
];

/// Fields that may appear more than once (core metadata specification).
pub const MULTI_USE_FIELDS: [&str; 16] = [
    "Dynamic",
    "Platform",
    "Supported-Platform",
    "Classifier",
    "Requires-Dist",
    "Requires-External",
    "Project-URL",
    "Provides-Extra",
    "Provides-Dist",
    "Obsoletes-Dist",
    "License-File",
    "Import-Name",
    "Import-Namespace",
    "Requires",
    "Provides",
    "Obsoletes",
];

#[derive(Debug, Error, PartialEq, Eq)]
pub enum MetadataError {
    #[error("is not valid UTF-8 (byte {offset})")]
    NotUtf8 { offset: usize },
    #[error("line {line} is not a `Name: value` header: `{text}`")]
    BadHeader { line: usize, text: String },
    #[error("has no headers")]
    Empty,
}

/// Parsed headers plus the optional body, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Headers {
    fields: Vec<(String, String)>,
    body: Option<String>,
}

impl Headers {
    /// Parses header text. Continuation lines (starting with a space or tab) fold into
    /// the previous value joined by a newline and dedented the way setuptools reads
    /// them back, so a multi-line `Description:` header comes out as written.
    pub fn parse(bytes: &[u8]) -> Result<Self, MetadataError> {
        let text = std::str::from_utf8(bytes).map_err(|e| MetadataError::NotUtf8 {
            offset: e.valid_up_to(),
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut fields: Vec<(String, Vec<String>)> = Vec::new();
        let mut body = None;
        let mut lines = text.split_inclusive('\n').enumerate();
        while let Some((index, raw)) = lines.next() {
            let line = raw.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                let rest: String = lines.map(|(_, l)| l).collect();
                body = Some(rest);
                break;
            }
            if line.starts_with([' ', '\t']) {
                match fields.last_mut() {
                    Some((_, parts)) => parts.push(line.to_owned()),
                    None => {
                        return Err(MetadataError::BadHeader {
                            line: index + 1,
                            text: line.to_owned(),
                        });
                    }
                }
                continue;
            }
            let Some((name, value)) = line.split_once(':') else {
                return Err(MetadataError::BadHeader {
                    line: index + 1,
                    text: line.to_owned(),
                });
            };
            if name.is_empty() || name.contains(' ') {
                return Err(MetadataError::BadHeader {
                    line: index + 1,
                    text: line.to_owned(),
                });
            }
            fields.push((name.to_owned(), vec![value.trim_start().to_owned()]));
        }
        if fields.is_empty() {
            return Err(MetadataError::Empty);
        }
        let fields = fields
            .into_iter()
            .map(|(name, parts)| (name, unfold(&parts)))
            .collect();
        Ok(Self { fields, body })
    }

    /// The first value of a field (names compare case-insensitively).
    pub fn value(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Every value of a field, in order.
    pub fn values(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// How many times a field appears.
    pub fn count(&self, name: &str) -> usize {
        self.fields
            .iter()
            .filter(|(field, _)| field.eq_ignore_ascii_case(name))
            .count()
    }

    /// All fields, in file order.
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// The body after the blank line, if any.
    pub fn body(&self) -> Option<&str> {
        self.body.as_deref()
    }
}

/// Joins a folded value: the first line as is, continuation lines dedented by their
/// common indentation (setuptools' `rfc822_unescape`).
fn unfold(parts: &[String]) -> String {
    if parts.len() == 1 {
        return parts[0].trim_end().to_owned();
    }
    let indent = parts[1..]
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    let mut value = parts[0].trim_end().to_owned();
    for part in &parts[1..] {
        value.push('\n');
        value.push_str(part.get(indent..).unwrap_or("").trim_end());
    }
    value
}

/// Core metadata of a distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreMetadata {
    headers: Headers,
}

impl CoreMetadata {
    pub fn parse(bytes: &[u8]) -> Result<Self, MetadataError> {
        Headers::parse(bytes).map(|headers| Self { headers })
    }

    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    pub fn metadata_version(&self) -> Option<&str> {
        self.headers.value("Metadata-Version")
    }

    pub fn name(&self) -> Option<&str> {
        self.headers.value("Name")
    }

    pub fn version(&self) -> Option<&str> {
        self.headers.value("Version")
    }

    pub fn summary(&self) -> Option<&str> {
        self.headers.value("Summary")
    }

    /// The long description: the body (metadata 2.1+) or the `Description` header.
    pub fn description(&self) -> Option<&str> {
        self.headers
            .body()
            .filter(|body| !body.trim().is_empty())
            .or_else(|| self.headers.value("Description"))
    }

    pub fn description_content_type(&self) -> Option<&str> {
        self.headers.value("Description-Content-Type")
    }

    /// The value of any field (first occurrence).
    pub fn value(&self, name: &str) -> Option<&str> {
        self.headers.value(name)
    }

    /// Every value of a field.
    pub fn values(&self, name: &str) -> Vec<&str> {
        self.headers.values(name)
    }
}

/// The `WHEEL` file of a wheel's `.dist-info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelInfoFile {
    headers: Headers,
}

impl WheelInfoFile {
    pub fn parse(bytes: &[u8]) -> Result<Self, MetadataError> {
        Headers::parse(bytes).map(|headers| Self { headers })
    }

    pub fn wheel_version(&self) -> Option<&str> {
        self.headers.value("Wheel-Version")
    }

    pub fn root_is_purelib(&self) -> Option<&str> {
        self.headers.value("Root-Is-Purelib")
    }

    pub fn tags(&self) -> Vec<&str> {
        self.headers.values("Tag")
    }

    pub fn build(&self) -> Option<&str> {
        self.headers.value("Build")
    }

    pub fn generator(&self) -> Option<&str> {
        self.headers.value("Generator")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modern_metadata_with_body() {
        let text = "Metadata-Version: 2.4\nName: clkhash\nVersion: 0.18.3\nClassifier: A\nClassifier: B\nLicense-Expression: Apache-2.0\nDescription-Content-Type: text/markdown\n\n# clkhash\n\nHashing.\n";
        let metadata = CoreMetadata::parse(text.as_bytes()).unwrap();
        assert_eq!(metadata.metadata_version(), Some("2.4"));
        assert_eq!(metadata.name(), Some("clkhash"));
        assert_eq!(metadata.values("classifier"), vec!["A", "B"]);
        assert_eq!(metadata.description(), Some("# clkhash\n\nHashing.\n"));
        assert_eq!(metadata.description_content_type(), Some("text/markdown"));
    }

    #[test]
    fn legacy_description_header_is_unfolded() {
        let text = "Metadata-Version: 1.1\r\nName: old\r\nVersion: 1.0\r\nDescription: First line\r\n        second line\r\n        \r\n          indented\r\nPlatform: UNKNOWN\r\n";
        let metadata = CoreMetadata::parse(text.as_bytes()).unwrap();
        assert_eq!(
            metadata.description(),
            Some("First line\nsecond line\n\n  indented")
        );
        assert_eq!(metadata.value("Platform"), Some("UNKNOWN"));
    }

    #[test]
    fn bad_input_is_named() {
        assert_eq!(
            CoreMetadata::parse(b"Name clkhash\n"),
            Err(MetadataError::BadHeader {
                line: 1,
                text: "Name clkhash".into()
            })
        );
        assert_eq!(
            CoreMetadata::parse(b"Name: a\xff\n"),
            Err(MetadataError::NotUtf8 { offset: 7 })
        );
        assert_eq!(CoreMetadata::parse(b"\n\nbody"), Err(MetadataError::Empty));
    }

    #[test]
    fn wheel_file() {
        let text = "Wheel-Version: 1.0\nGenerator: bdist_wheel (0.42.0)\nRoot-Is-Purelib: true\nTag: py2-none-any\nTag: py3-none-any\n";
        let wheel = WheelInfoFile::parse(text.as_bytes()).unwrap();
        assert_eq!(wheel.wheel_version(), Some("1.0"));
        assert_eq!(wheel.root_is_purelib(), Some("true"));
        assert_eq!(wheel.tags(), vec!["py2-none-any", "py3-none-any"]);
        assert_eq!(wheel.build(), None);
    }
}
