//! The wheel `RECORD` file: CSV rows of `path,algorithm=urlsafe-b64-digest,size`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::Digest;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum RecordError {
    #[error("row {row} cannot be read as CSV: {source}")]
    Csv {
        row: usize,
        #[source]
        source: csv::Error,
    },
    #[error("row {row} cannot be read as CSV: not UTF-8")]
    NotUtf8 {
        row: usize,
        #[source]
        source: std::string::FromUtf8Error,
    },
    #[error("row {row} has {fields} fields; expected 3 (`path,hash,size`)")]
    Fields { row: usize, fields: usize },
    #[error("row {row} (`{path}`) has hash `{hash}`, not `algorithm=digest`")]
    Hash {
        row: usize,
        path: String,
        hash: String,
    },
    #[error("row {row} (`{path}`) has size `{size}`, not a number")]
    Size {
        row: usize,
        path: String,
        size: String,
    },
}

/// One RECORD row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordEntry {
    pub path: String,
    /// `(algorithm, digest bytes)`; `None` when the hash column is empty.
    pub hash: Option<(String, Vec<u8>)>,
    pub size: Option<u64>,
    /// 1-based row number, for messages.
    pub row: usize,
}

/// Parses RECORD content.
pub fn parse(bytes: &[u8]) -> Result<Vec<RecordEntry>, RecordError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut entries = Vec::new();
    for (index, result) in reader.byte_records().enumerate() {
        let row = index + 1;
        let record = result.map_err(|source| RecordError::Csv { row, source })?;
        if record.len() == 1 && record.get(0).is_some_and(<[u8]>::is_empty) {
            continue;
        }
        if record.len() != 3 {
            return Err(RecordError::Fields {
                row,
                fields: record.len(),
            });
        }
        let text = |i: usize| -> Result<String, RecordError> {
            String::from_utf8(record[i].to_vec())
                .map_err(|source| RecordError::NotUtf8 { row, source })
        };
        let path = text(0)?;
        let hash_text = text(1)?;
        let size_text = text(2)?;
        let hash = if hash_text.is_empty() {
            None
        } else {
            let (algorithm, encoded) =
                hash_text.split_once('=').ok_or_else(|| RecordError::Hash {
                    row,
                    path: path.clone(),
                    hash: hash_text.clone(),
                })?;
            // Some writers pad; the spec says no padding. Accept both on read.
            let digest = URL_SAFE_NO_PAD
                .decode(encoded.trim_end_matches('='))
                .map_err(|_| RecordError::Hash {
                    row,
                    path: path.clone(),
                    hash: hash_text.clone(),
                })?;
            Some((algorithm.to_ascii_lowercase(), digest))
        };
        let size = if size_text.is_empty() {
            None
        } else {
            Some(size_text.parse().map_err(|_| RecordError::Size {
                row,
                path: path.clone(),
                size: size_text.clone(),
            })?)
        };
        entries.push(RecordEntry {
            path,
            hash,
            size,
            row,
        });
    }
    Ok(entries)
}

/// How strong a RECORD hash algorithm is, per the spec: md5 and sha1 are forbidden;
/// the sha2 family we verify; anything else in `hashlib.algorithms_guaranteed` is
/// allowed but not checked here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Forbidden,
    Unverifiable,
}

impl Algorithm {
    pub fn from_name(name: &str) -> Self {
        match name {
            "sha224" => Self::Sha224,
            "sha256" => Self::Sha256,
            "sha384" => Self::Sha384,
            "sha512" => Self::Sha512,
            "md5" | "sha1" => Self::Forbidden,
            _ => Self::Unverifiable,
        }
    }
}

/// A running hash for one of the algorithms we verify.
#[derive(Debug, Clone)]
pub enum RecordHasher {
    Sha224(sha2::Sha224),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl RecordHasher {
    pub fn new(algorithm: Algorithm) -> Option<Self> {
        Some(match algorithm {
            Algorithm::Sha224 => Self::Sha224(sha2::Sha224::new()),
            Algorithm::Sha256 => Self::Sha256(sha2::Sha256::new()),
            Algorithm::Sha384 => Self::Sha384(sha2::Sha384::new()),
            Algorithm::Sha512 => Self::Sha512(sha2::Sha512::new()),
            Algorithm::Forbidden | Algorithm::Unverifiable => return None,
        })
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Self::Sha224(h) => h.update(data),
            Self::Sha256(h) => h.update(data),
            Self::Sha384(h) => h.update(data),
            Self::Sha512(h) => h.update(data),
        }
    }

    pub fn finalize(self) -> Vec<u8> {
        match self {
            Self::Sha224(h) => h.finalize().to_vec(),
            Self::Sha256(h) => h.finalize().to_vec(),
            Self::Sha384(h) => h.finalize().to_vec(),
            Self::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

/// The RECORD form of a digest: urlsafe base64 without padding.
pub fn encode_digest(digest: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_with_quoting_and_empty_record_row() {
        let text = "pkg/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n\"pkg/a,b.py\",sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\npkg-1.0.dist-info/RECORD,,\n";
        let entries = parse(text.as_bytes()).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[1].path, "pkg/a,b.py");
        assert_eq!(entries[0].hash.as_ref().unwrap().0, "sha256");
        assert_eq!(
            encode_digest(&entries[0].hash.as_ref().unwrap().1),
            "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
        );
        assert_eq!(entries[2].hash, None);
        assert_eq!(entries[2].size, None);
        assert_eq!(entries[2].row, 3);
    }

    #[test]
    fn bad_rows_are_named() {
        assert!(matches!(
            parse(b"a.py,sha256=x\n"),
            Err(RecordError::Fields { row: 1, fields: 2 })
        ));
        assert!(matches!(
            parse(b"a.py,nohash,1\n"),
            Err(RecordError::Hash { row: 1, .. })
        ));
        assert!(matches!(
            parse(b"a.py,sha256=AAAA,big\n"),
            Err(RecordError::Size { row: 1, .. })
        ));
        assert!(matches!(
            parse(b"a.py,sha256=!!!,1\n"),
            Err(RecordError::Hash { .. })
        ));
        let error = parse(b"a\xff.py,sha256=AAAA,1\n").unwrap_err();
        assert!(
            matches!(error, RecordError::NotUtf8 { row: 1, .. }),
            "{error}"
        );
        assert_eq!(error.to_string(), "row 1 cannot be read as CSV: not UTF-8");
        assert!(std::error::Error::source(&error).is_some());
    }

    #[test]
    fn algorithm_strength() {
        assert_eq!(Algorithm::from_name("md5"), Algorithm::Forbidden);
        assert_eq!(Algorithm::from_name("sha1"), Algorithm::Forbidden);
        assert_eq!(Algorithm::from_name("sha256"), Algorithm::Sha256);
        assert_eq!(Algorithm::from_name("blake2b"), Algorithm::Unverifiable);
    }
}
