//! Streaming file digests: sha256 for every artifact, plus the md5 and blake2b-256 that
//! the PyPI upload form carries for wheels and sdists. Files are read in fixed chunks,
//! so memory stays flat whatever their size.

use std::io::{self, Read};
use std::path::Path;

use blake2::Blake2b256;
use md5::Md5;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use custody_output::Progress;

/// Read size for hashing: large enough to keep the SHA extensions busy, small enough to
/// stay in cache and keep memory flat.
pub const CHUNK_SIZE: usize = 256 * 1024;

/// The digests of one file, lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Digests {
    pub sha256: String,
    /// Present for kinds an index accepts (wheel, sdist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blake2b_256: Option<String>,
}

/// Which digests to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestSet {
    /// sha256 only: executables and other files, at the full speed of one hash.
    Sha256,
    /// sha256, md5 and blake2b-256: what an upload to a package index needs.
    Upload,
}

/// Hashes everything `reader` yields. Returns the byte count and digests.
pub fn hash_reader(
    mut reader: impl Read,
    set: DigestSet,
    progress: &dyn Progress,
    item: &str,
) -> io::Result<(u64, Digests)> {
    let mut sha256 = Sha256::new();
    let mut extra = match set {
        DigestSet::Sha256 => None,
        DigestSet::Upload => Some((Md5::new(), Blake2b256::new())),
    };
    let mut buffer = vec![0u8; CHUNK_SIZE];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buffer[..n];
        sha256.update(chunk);
        if let Some((md5, blake2)) = &mut extra {
            md5.update(chunk);
            blake2.update(chunk);
        }
        size += n as u64;
        progress.advance(item, n as u64);
    }
    let (md5, blake2b_256) = match extra {
        Some((md5, blake2)) => (
            Some(hex::encode(md5.finalize())),
            Some(hex::encode(blake2.finalize())),
        ),
        None => (None, None),
    };
    Ok((
        size,
        Digests {
            sha256: hex::encode(sha256.finalize()),
            md5,
            blake2b_256,
        },
    ))
}

/// Hashes the file at `path`.
pub fn hash_file(
    path: &Path,
    set: DigestSet,
    progress: &dyn Progress,
) -> io::Result<(u64, Digests)> {
    let file = fs_err::File::open(path)?;
    let item = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    hash_reader(file, set, progress, &item)
}

/// The first mismatch between recorded and actual digests, as (digest name, recorded,
/// actual). Digests absent from `expected` are not compared.
pub fn first_mismatch(
    expected: &Digests,
    actual: &Digests,
) -> Option<(&'static str, String, String)> {
    if expected.sha256 != actual.sha256 {
        return Some(("sha256", expected.sha256.clone(), actual.sha256.clone()));
    }
    let pairs = [
        ("md5", &expected.md5, &actual.md5),
        ("blake2b_256", &expected.blake2b_256, &actual.blake2b_256),
    ];
    for (name, want, have) in pairs {
        if let (Some(want), Some(have)) = (want, have)
            && want != have
        {
            return Some((name, want.clone(), have.clone()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use custody_output::NoProgress;

    #[test]
    fn known_vectors() {
        let (size, digests) =
            hash_reader(&b"abc"[..], DigestSet::Upload, &NoProgress, "abc").unwrap();
        assert_eq!(size, 3);
        assert_eq!(
            digests.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            digests.md5.as_deref(),
            Some("900150983cd24fb0d6963f7d28e17f72")
        );
        assert_eq!(
            digests.blake2b_256.as_deref(),
            Some("bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319")
        );
    }

    #[test]
    fn sha256_only_leaves_upload_digests_out() {
        let (_, digests) = hash_reader(&b""[..], DigestSet::Sha256, &NoProgress, "").unwrap();
        assert_eq!(
            digests.sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(digests.md5, None);
    }

    #[test]
    fn chunk_boundaries_do_not_change_the_digest() {
        let data: Vec<u8> = (0..CHUNK_SIZE * 2 + 17)
            .map(|i| u8::try_from(i % 251).unwrap())
            .collect();
        let (_, whole) = hash_reader(&data[..], DigestSet::Upload, &NoProgress, "").unwrap();
        let expected = hex::encode(Sha256::digest(&data));
        assert_eq!(whole.sha256, expected);
    }

    #[test]
    fn mismatch_names_the_digest() {
        let a = Digests {
            sha256: "aa".into(),
            md5: Some("1".into()),
            blake2b_256: None,
        };
        let mut b = a.clone();
        assert_eq!(first_mismatch(&a, &b), None);
        b.md5 = Some("2".into());
        assert_eq!(
            first_mismatch(&a, &b),
            Some(("md5", "1".into(), "2".into()))
        );
    }
}
