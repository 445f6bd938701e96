//! Sealed JSON documents (the manifest and the approval record), read and written one
//! way: the format version is checked before anything else, so a newer file is named as
//! such rather than as malformed, and a seal over the canonical JSON catches any edit.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

/// A JSON document carrying its format version and its own seal (see [`seal_digest`]).
pub(crate) trait Sealed: Serialize + DeserializeOwned {
    /// The field holding the format version (`manifest_version`).
    const VERSION_FIELD: &'static str;
    /// The format version this code reads and writes.
    const VERSION: u32;

    /// The seal the document records.
    fn recorded_digest(&self) -> &str;
}

/// Why a document's text was refused; each document names it in its own error.
#[derive(Debug)]
pub(crate) enum Refusal {
    Parse(serde_json::Error),
    Version(u32),
    Tampered { recorded: String, actual: String },
}

/// Parses a sealed document and checks its version and its seal.
pub(crate) fn parse<T: Sealed>(text: &str) -> Result<T, Refusal> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(Refusal::Parse)?;
    if let Some(found) = value
        .get(T::VERSION_FIELD)
        .and_then(serde_json::Value::as_u64)
        && found != u64::from(T::VERSION)
    {
        return Err(Refusal::Version(u32::try_from(found).unwrap_or(u32::MAX)));
    }
    let document: T = serde_json::from_value(value).map_err(Refusal::Parse)?;
    let actual = seal_digest(&document);
    if actual != document.recorded_digest() {
        return Err(Refusal::Tampered {
            recorded: document.recorded_digest().to_owned(),
            actual,
        });
    }
    Ok(document)
}

/// Pretty JSON with a trailing newline.
pub(crate) fn to_json(document: &impl Serialize) -> String {
    // Invariant: custody documents are plain data with string keys.
    let mut text =
        serde_json::to_string_pretty(document).expect("custody documents always serialize");
    text.push('\n');
    text
}

/// Writes `bytes` to `path` through a temporary file in the same directory.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(&dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The seal of a JSON document: `sha256:` of the canonical JSON of `document` without
/// its top-level `digest` field. Manifests and approval records are sealed this way.
pub fn seal_digest(document: &impl Serialize) -> String {
    let mut value = serde_json::to_value(document).expect("custody documents always serialize");
    if let Some(object) = value.as_object_mut() {
        object.remove("digest");
    }
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(canonical_json(&value)))
    )
}

/// JSON with object keys sorted and no whitespace: the form digests are taken of.
pub fn canonical_json(value: &serde_json::Value) -> Vec<u8> {
    fn write(value: &serde_json::Value, out: &mut Vec<u8>) {
        match value {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push(b'{');
                for (i, key) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend(serde_json::to_vec(key).expect("strings serialize"));
                    out.push(b':');
                    write(&map[*key], out);
                }
                out.push(b'}');
            }
            serde_json::Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write(item, out);
                }
                out.push(b']');
            }
            other => out.extend(serde_json::to_vec(other).expect("scalars serialize")),
        }
    }
    let mut out = Vec::new();
    write(value, &mut out);
    out
}
