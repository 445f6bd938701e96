//! Streaming file digests: sha256 for every artifact, plus the md5 and blake2b-256 that
//! the PyPI upload form carries for wheels and sdists. Files are read in fixed chunks,
//! so memory stays flat whatever their size.

use std::io::{self, Read};
use std::path::Path;
use std::sync::mpsc;
use std::thread;

use blake2::Blake2b256;
use md5::Md5;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use custody_progress::Progress;

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

/// The hashers of one [`DigestSet`], fed chunk by chunk.
struct Hashers {
    sha256: Sha256,
    extra: Option<(Md5, Blake2b256)>,
    size: u64,
}

impl Hashers {
    fn new(set: DigestSet) -> Self {
        Self {
            sha256: Sha256::new(),
            extra: match set {
                DigestSet::Sha256 => None,
                DigestSet::Upload => Some((Md5::new(), Blake2b256::new())),
            },
            size: 0,
        }
    }

    fn update(&mut self, chunk: &[u8]) {
        self.sha256.update(chunk);
        if let Some((md5, blake2)) = &mut self.extra {
            md5.update(chunk);
            blake2.update(chunk);
        }
        self.size += chunk.len() as u64;
    }

    fn finish(self) -> (u64, Digests) {
        let (md5, blake2b_256) = match self.extra {
            Some((md5, blake2)) => (
                Some(hex::encode(md5.finalize())),
                Some(hex::encode(blake2.finalize())),
            ),
            None => (None, None),
        };
        (
            self.size,
            Digests {
                sha256: hex::encode(self.sha256.finalize()),
                md5,
                blake2b_256,
            },
        )
    }
}

/// Reads into `buffer`, retrying on `Interrupted`; 0 at the end.
fn read_some(reader: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buffer) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

/// Hashes everything `reader` yields. Returns the byte count and digests.
pub fn hash_reader(
    mut reader: impl Read,
    set: DigestSet,
    progress: &dyn Progress,
    item: &str,
) -> io::Result<(u64, Digests)> {
    let mut hashers = Hashers::new(set);
    let mut buffer = vec![0u8; CHUNK_SIZE];
    loop {
        let n = read_some(&mut reader, &mut buffer)?;
        if n == 0 {
            break;
        }
        hashers.update(&buffer[..n]);
        progress.advance(item, n as u64);
    }
    Ok(hashers.finish())
}

/// Buffers in flight between the reading thread and the hashing one: enough to keep
/// both busy, few enough to keep memory flat (`BUFFERS` × [`CHUNK_SIZE`]).
const BUFFERS: usize = 4;

/// Hashes a file. A second thread reads ahead while this one hashes, so copying from
/// the page cache overlaps hashing and the hash runs at the CPU's full SHA-256 speed.
pub fn hash_file(
    path: &Path,
    set: DigestSet,
    progress: &dyn Progress,
) -> io::Result<(u64, Digests)> {
    let mut file = fs_err::File::open(path)?;
    let item = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (full_sender, full) = mpsc::sync_channel::<io::Result<(Vec<u8>, usize)>>(BUFFERS);
    let (empty_sender, empty) = mpsc::sync_channel::<Vec<u8>>(BUFFERS);
    for _ in 0..BUFFERS {
        // The channel has room for exactly BUFFERS buffers, and nobody has taken any yet.
        empty_sender
            .send(vec![0u8; CHUNK_SIZE])
            .expect("channel has room");
    }
    thread::scope(|scope| {
        scope.spawn(move || {
            // Ends when the file ends, on a read error, or when the hasher hangs up.
            while let Ok(mut buffer) = empty.recv() {
                let result = read_some(&mut file, &mut buffer);
                let done = !matches!(result, Ok(n) if n > 0);
                if full_sender.send(result.map(|n| (buffer, n))).is_err() || done {
                    break;
                }
            }
        });
        let mut hashers = Hashers::new(set);
        while let Ok(message) = full.recv() {
            let (buffer, n) = message?;
            if n == 0 {
                break;
            }
            hashers.update(&buffer[..n]);
            progress.advance(&item, n as u64);
            // The reader may have finished already; then the buffer is simply dropped.
            let _ = empty_sender.send(buffer);
        }
        Ok(hashers.finish())
    })
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
    use custody_progress::NoProgress;

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
    fn reading_ahead_gives_the_same_digests() {
        let dir = tempfile::tempdir().unwrap();
        // Empty, one partial chunk, exactly one chunk, and more chunks than buffers.
        for len in [0, 5, CHUNK_SIZE, CHUNK_SIZE * (BUFFERS + 3) + 1] {
            let data: Vec<u8> = (0..len).map(|i| u8::try_from(i % 253).unwrap()).collect();
            let path = dir.path().join(format!("f{len}"));
            fs_err::write(&path, &data).unwrap();
            let from_file = hash_file(&path, DigestSet::Upload, &NoProgress).unwrap();
            let from_memory = hash_reader(&data[..], DigestSet::Upload, &NoProgress, "").unwrap();
            assert_eq!(from_file, from_memory, "{len} bytes");
            assert_eq!(from_file.0, len as u64);
        }
        let missing = hash_file(&dir.path().join("missing"), DigestSet::Sha256, &NoProgress);
        assert!(missing.unwrap_err().to_string().contains("missing"));
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
