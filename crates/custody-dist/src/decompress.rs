//! The decompressed byte stream of a tar sdist, as extractors read it: every gzip
//! member, every bzip2 and xz stream (Python's `tarfile` and GNU tar read them all),
//! each checksum trailer verified, through caps on the unpacked size so a bomb costs
//! bounded time and no disk.

use std::io::{self, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use flate2::read::MultiGzDecoder;

use crate::Limits;
use crate::filename::SdistFormat;

/// Memory the xz and lzma decoders may use (KiB): `xz -9` needs 65 MiB; a larger
/// dictionary is refused rather than allocated.
const XZ_MEMORY_LIMIT_KIB: u32 = 70 * 1024;

/// Whatever the limit, no stream may unpack to more than this many times its compressed
/// size (plus [`RATIO_FLOOR`]). Deflate cannot exceed ~1032:1; bzip2 and xz can reach
/// millions to one, and this keeps their bombs as cheap to refuse as a gzip of the same
/// size. Real sdists are far below (source compresses ~3–10:1).
const MAX_RATIO: u64 = 1100;
const RATIO_FLOOR: u64 = 64 * 1024 * 1024;

/// The compression a tar stream is wrapped in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Bzip2,
    Xz,
    /// The legacy `.lzma` ("LZMA alone") format.
    Lzma,
}

impl Compression {
    /// Recognises a compression by its magic bytes.
    fn sniff(head: &[u8]) -> Option<Self> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Self::Gzip)
        } else if head.starts_with(b"BZh") {
            Some(Self::Bzip2)
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Some(Self::Xz)
        } else {
            None
        }
    }
}

/// Why the stream cannot be opened as the file name says.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// The file is not compressed the way its name says (`expected`).
    NotCompressed {
        expected: &'static str,
    },
    Io(io::Error),
}

impl From<io::Error> for OpenError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// Which cap stopped the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exceeded {
    Limit(u64),
    Ratio { compressed: u64 },
}

/// The decompressed stream, capped.
pub(crate) struct Decompressed {
    pub(crate) reader: Capped,
}

/// Opens the file at `path` for an sdist of `format`: `.tar.gz` must be gzip,
/// `.tar.bz2` bzip2, `.tar.xz` xz or lzma; a `.tar` is read the way `tarfile.open(mode
/// "r")` and GNU tar read it, by its magic bytes.
pub(crate) fn open(
    path: &Path,
    format: SdistFormat,
    limits: &Limits,
) -> Result<Decompressed, OpenError> {
    let file = fs_err::File::open(path)?;
    let compressed = file.metadata()?.len();
    let mut head = Vec::with_capacity(6);
    file.take(6).read_to_end(&mut head)?;
    let sniffed = Compression::sniff(&head);
    let compression = match (format, sniffed) {
        (SdistFormat::TarGz, Some(Compression::Gzip)) => Compression::Gzip,
        (SdistFormat::TarBz2, Some(Compression::Bzip2)) => Compression::Bzip2,
        (SdistFormat::TarXz, Some(Compression::Xz)) => Compression::Xz,
        // LZMA alone has no magic; `lzma.open` (FORMAT_AUTO) tries it when xz fails.
        (SdistFormat::TarXz, None) => Compression::Lzma,
        (SdistFormat::Tar, sniffed) => sniffed.unwrap_or(Compression::None),
        (SdistFormat::TarGz, _) => return Err(OpenError::NotCompressed { expected: "gzip" }),
        (SdistFormat::TarBz2, _) => return Err(OpenError::NotCompressed { expected: "bzip2" }),
        (SdistFormat::TarXz | SdistFormat::Zip, _) => {
            return Err(OpenError::NotCompressed { expected: "xz" });
        }
    };
    let buffered = BufReader::with_capacity(64 * 1024, fs_err::File::open(path)?);
    let inner: Box<dyn Read> = match compression {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(MultiGzDecoder::new(buffered)),
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(buffered)),
        Compression::Xz => Box::new(lzma_rust2::XzReader::new_mem_limit(
            buffered,
            true,
            XZ_MEMORY_LIMIT_KIB,
        )),
        Compression::Lzma => Box::new(
            lzma_rust2::LzmaReader::new_mem_limit(buffered, XZ_MEMORY_LIMIT_KIB, None)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?,
        ),
    };
    let ratio_cap = compressed
        .saturating_mul(MAX_RATIO)
        .saturating_add(RATIO_FLOOR);
    Ok(Decompressed {
        reader: Capped {
            inner,
            read: 0,
            limit: limits.max_unpacked_size,
            ratio_cap,
            compressed,
            exceeded: Arc::default(),
        },
    })
}

/// Counts decompressed bytes and fails once they pass a cap; which cap is kept in a
/// flag that outlives the reader (the tar reader owns it).
pub(crate) struct Capped {
    inner: Box<dyn Read>,
    read: u64,
    limit: u64,
    ratio_cap: u64,
    compressed: u64,
    exceeded: Arc<ExceededFlag>,
}

/// Set once a cap is passed.
#[derive(Debug, Default)]
pub(crate) struct ExceededFlag {
    limit: AtomicBool,
    ratio: AtomicBool,
}

impl Capped {
    /// A handle that says, after the reader is gone, whether a cap stopped it.
    pub(crate) fn exceeded(&self) -> CapWatch {
        CapWatch {
            flag: self.exceeded.clone(),
            limit: self.limit,
            compressed: self.compressed,
        }
    }

    /// Reads what is left after the tar end-of-archive marker, to the end of the last
    /// compressed member, so every checksum trailer is verified. Returns how many of the
    /// left bytes are not zero (data no extractor shows).
    pub(crate) fn drain(&mut self) -> io::Result<u64> {
        let mut buffer = vec![0u8; 64 * 1024];
        let mut nonzero = 0u64;
        loop {
            let n = self.read(&mut buffer)?;
            if n == 0 {
                return Ok(nonzero);
            }
            nonzero += buffer[..n].iter().filter(|b| **b != 0).count() as u64;
        }
    }
}

impl Read for Capped {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            self.exceeded.limit.store(true, Ordering::Relaxed);
            return Err(io::Error::other("unpacked size limit exceeded"));
        }
        if self.read > self.ratio_cap {
            self.exceeded.ratio.store(true, Ordering::Relaxed);
            return Err(io::Error::other("compression ratio limit exceeded"));
        }
        Ok(n)
    }
}

/// Says which cap, if any, stopped a [`Capped`] reader.
#[derive(Debug, Clone)]
pub(crate) struct CapWatch {
    flag: Arc<ExceededFlag>,
    limit: u64,
    compressed: u64,
}

impl CapWatch {
    pub(crate) fn get(&self) -> Option<Exceeded> {
        if self.flag.limit.load(Ordering::Relaxed) {
            Some(Exceeded::Limit(self.limit))
        } else if self.flag.ratio.load(Ordering::Relaxed) {
            Some(Exceeded::Ratio {
                compressed: self.compressed,
            })
        } else {
            None
        }
    }
}

/// The message of a bomb refused by [`Exceeded`].
pub(crate) fn exceeded_message(exceeded: Exceeded) -> String {
    match exceeded {
        Exceeded::Limit(limit) => format!("unpacks to more than the limit of {limit} bytes"),
        Exceeded::Ratio { compressed } => format!(
            "unpacks to more than {MAX_RATIO} times its compressed size of {compressed} bytes (a decompression bomb)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn read_all(bytes: &[u8], name: &str, limits: &Limits) -> (io::Result<Vec<u8>>, CapWatch) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        fs_err::write(&path, bytes).unwrap();
        let format = crate::filename::SdistFormat::of(name).unwrap().0;
        let Ok(mut stream) = open(&path, format, limits) else {
            panic!("{name} does not open");
        };
        let watch = stream.reader.exceeded();
        let mut out = Vec::new();
        let result = stream.reader.read_to_end(&mut out).map(|_| out);
        (result, watch)
    }

    #[test]
    fn every_gzip_member_is_read() {
        let mut bytes = gzip(b"first ");
        bytes.extend(gzip(b"second"));
        let (data, _) = read_all(&bytes, "a-1.tar.gz", &Limits::default());
        assert_eq!(data.unwrap(), b"first second");
    }

    #[test]
    fn a_bad_gzip_checksum_fails_the_read() {
        let mut bytes = gzip(b"some content");
        let n = bytes.len();
        bytes[n - 8] ^= 0xff;
        let (data, _) = read_all(&bytes, "a-1.tar.gz", &Limits::default());
        assert!(data.is_err());
        let mut bytes = gzip(b"some content");
        bytes[n - 1] ^= 0x01; // ISIZE
        assert!(
            read_all(&bytes, "a-1.tar.gz", &Limits::default())
                .0
                .is_err()
        );
    }

    #[test]
    fn the_limit_holds_across_gzip_members() {
        let mut bytes = gzip(&[0u8; 600]);
        bytes.extend(gzip(&[0u8; 600]));
        let limits = Limits {
            max_unpacked_size: 1000,
        };
        let (data, watch) = read_all(&bytes, "a-1.tar.gz", &limits);
        assert!(data.is_err());
        assert_eq!(watch.get(), Some(Exceeded::Limit(1000)));
    }

    #[test]
    fn a_plain_tar_is_read_by_its_magic() {
        let (data, _) = read_all(&gzip(b"inside"), "a-1.tar", &Limits::default());
        assert_eq!(data.unwrap(), b"inside");
        let (data, _) = read_all(b"not compressed", "a-1.tar", &Limits::default());
        assert_eq!(data.unwrap(), b"not compressed");
    }

    #[test]
    fn a_name_that_lies_about_the_compression_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a-1.tar.bz2");
        fs_err::write(&path, gzip(b"x")).unwrap();
        assert!(matches!(
            open(&path, SdistFormat::TarBz2, &Limits::default()),
            Err(OpenError::NotCompressed { expected: "bzip2" })
        ));
    }
}
