//! A zip writer with every field in the test's hands, for the archives no standard tool
//! writes: local headers that disagree with the central directory, lying sizes and
//! CRCs, symlink mode bits, extra fields, zip64 records, bytes before and after.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Compression method numbers of the zip spec.
pub const STORED: u16 = 0;
pub const DEFLATED: u16 = 8;

/// The Unix file types in the high bits of the external attributes.
pub const S_IFREG: u32 = 0o100_000;
pub const S_IFLNK: u32 = 0o120_000;
pub const S_IFDIR: u32 = 0o040_000;

/// One entry: by default the same in its local header and the central directory, with
/// the true CRC and sizes; each knob breaks exactly one thing.
#[derive(Debug, Clone)]
pub struct RawEntry {
    pub name: Vec<u8>,
    /// The local header's name, when it differs from the central directory's.
    pub local_name: Option<Vec<u8>>,
    pub data: Vec<u8>,
    pub method: u16,
    /// The local header's method, when it differs.
    pub local_method: Option<u16>,
    pub flags: u16,
    /// Unix mode (type and permissions); `None` writes an MS-DOS entry.
    pub unix_mode: Option<u32>,
    /// A CRC-32 to declare instead of the true one.
    pub crc: Option<u32>,
    /// An uncompressed size to declare (in both headers) instead of the true one.
    pub size: Option<u64>,
    /// An uncompressed size to declare in the local header only.
    pub local_size: Option<u64>,
    /// Extra fields (id, data), written in both headers.
    pub extra: Vec<(u16, Vec<u8>)>,
    /// Sizes in a zip64 extra field, with 0xFFFFFFFF in the 32-bit fields.
    pub zip64: bool,
}

impl RawEntry {
    /// A deflated regular file, mode 0644.
    pub fn file(name: &str, data: &[u8]) -> Self {
        Self {
            name: name.as_bytes().to_vec(),
            local_name: None,
            data: data.to_vec(),
            method: DEFLATED,
            local_method: None,
            flags: 0x0800,
            unix_mode: Some(S_IFREG | 0o644),
            crc: None,
            size: None,
            local_size: None,
            extra: Vec::new(),
            zip64: false,
        }
    }

    /// A symlink: mode bits `S_IFLNK`, content the target path.
    pub fn symlink(name: &str, target: &str) -> Self {
        Self {
            method: STORED,
            unix_mode: Some(S_IFLNK | 0o777),
            ..Self::file(name, target.as_bytes())
        }
    }

    fn compressed(&self) -> Vec<u8> {
        if self.method == DEFLATED {
            let mut encoder =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(&self.data).expect("deflate in memory");
            encoder.finish().expect("deflate in memory")
        } else {
            self.data.clone()
        }
    }

    fn true_crc(&self) -> u32 {
        let mut crc = flate2::Crc::new();
        crc.update(&self.data);
        crc.sum()
    }
}

/// A whole archive: entries, then the central directory and its end record.
#[derive(Debug, Clone, Default)]
pub struct RawZip {
    pub entries: Vec<RawEntry>,
    /// Bytes written before the first entry.
    pub prefix: Vec<u8>,
    /// Whether the offsets count the prefix (a self-extractor made by `zip -A`), or
    /// point as if it were not there (`cat stub.exe archive.zip`).
    pub adjust_offsets: bool,
    /// Bytes written after the end-of-central-directory record.
    pub suffix: Vec<u8>,
    pub comment: Vec<u8>,
}

impl RawZip {
    /// Deflated regular files, in order.
    pub fn from_files(files: &[(String, Vec<u8>)]) -> Self {
        Self {
            entries: files
                .iter()
                .map(|(name, data)| RawEntry::file(name, data))
                .collect(),
            ..Self::default()
        }
    }

    /// The entry named `name` (panics when there is none: a test bug).
    pub fn entry(&mut self, name: &str) -> &mut RawEntry {
        self.entries
            .iter_mut()
            .find(|e| e.name == name.as_bytes())
            .unwrap_or_else(|| panic!("no entry `{name}`"))
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.prefix.clone();
        let base = if self.adjust_offsets {
            0
        } else {
            self.prefix.len() as u64
        };
        let mut central = Vec::new();
        for entry in &self.entries {
            let offset = out.len() as u64 - base;
            let compressed = entry.compressed();
            write_local(&mut out, entry, &compressed);
            write_central(&mut central, entry, compressed.len() as u64, offset);
        }
        let central_offset = out.len() as u64 - base;
        out.extend_from_slice(&central);
        let count = u16::try_from(self.entries.len()).expect("few entries");
        out.extend_from_slice(b"PK\x05\x06");
        push16(&mut out, 0);
        push16(&mut out, 0);
        push16(&mut out, count);
        push16(&mut out, count);
        push32(
            &mut out,
            u32::try_from(central.len()).expect("small directory"),
        );
        push32(
            &mut out,
            u32::try_from(central_offset).expect("small archive"),
        );
        push16(
            &mut out,
            u16::try_from(self.comment.len()).expect("short comment"),
        );
        out.extend_from_slice(&self.comment);
        out.extend_from_slice(&self.suffix);
        out
    }

    /// Writes the archive as `dir/file_name` and returns its path.
    pub fn write(&self, dir: &Path, file_name: &str) -> PathBuf {
        let path = dir.join(file_name);
        fs_err::write(&path, self.to_bytes()).expect("write zip");
        path
    }
}

fn push16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn push32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

/// The 32-bit size fields and the extra fields of one header.
fn sizes_and_extra(entry: &RawEntry, size: u64, compressed: u64) -> (u32, u32, Vec<u8>) {
    let mut extra = Vec::new();
    let (size32, compressed32) = if entry.zip64 {
        extra.extend_from_slice(&1u16.to_le_bytes());
        extra.extend_from_slice(&16u16.to_le_bytes());
        extra.extend_from_slice(&size.to_le_bytes());
        extra.extend_from_slice(&compressed.to_le_bytes());
        (u32::MAX, u32::MAX)
    } else {
        (
            u32::try_from(size).expect("small entry"),
            u32::try_from(compressed).expect("small entry"),
        )
    };
    for (id, data) in &entry.extra {
        extra.extend_from_slice(&id.to_le_bytes());
        extra.extend_from_slice(
            &u16::try_from(data.len())
                .expect("short field")
                .to_le_bytes(),
        );
        extra.extend_from_slice(data);
    }
    (size32, compressed32, extra)
}

fn write_local(out: &mut Vec<u8>, entry: &RawEntry, compressed: &[u8]) {
    let name = entry.local_name.as_ref().unwrap_or(&entry.name);
    let size = entry
        .local_size
        .or(entry.size)
        .unwrap_or(entry.data.len() as u64);
    let (size32, compressed32, extra) = sizes_and_extra(entry, size, compressed.len() as u64);
    out.extend_from_slice(b"PK\x03\x04");
    push16(out, if entry.zip64 { 45 } else { 20 });
    push16(out, entry.flags);
    push16(out, entry.local_method.unwrap_or(entry.method));
    push16(out, 0); // time
    push16(out, 0x21); // date: 1980-01-01
    push32(out, entry.crc.unwrap_or_else(|| entry.true_crc()));
    push32(out, compressed32);
    push32(out, size32);
    push16(out, u16::try_from(name.len()).expect("short name"));
    push16(out, u16::try_from(extra.len()).expect("short extra"));
    out.extend_from_slice(name);
    out.extend_from_slice(&extra);
    out.extend_from_slice(compressed);
}

fn write_central(out: &mut Vec<u8>, entry: &RawEntry, compressed: u64, offset: u64) {
    let size = entry.size.unwrap_or(entry.data.len() as u64);
    let (size32, compressed32, extra) = sizes_and_extra(entry, size, compressed);
    out.extend_from_slice(b"PK\x01\x02");
    // Made by: Unix (3) when a mode is given, else MS-DOS (0); spec version 4.5.
    push16(
        out,
        if entry.unix_mode.is_some() {
            0x032d
        } else {
            0x002d
        },
    );
    push16(out, if entry.zip64 { 45 } else { 20 });
    push16(out, entry.flags);
    push16(out, entry.method);
    push16(out, 0);
    push16(out, 0x21);
    push32(out, entry.crc.unwrap_or_else(|| entry.true_crc()));
    push32(out, compressed32);
    push32(out, size32);
    push16(out, u16::try_from(entry.name.len()).expect("short name"));
    push16(out, u16::try_from(extra.len()).expect("short extra"));
    push16(out, 0); // comment
    push16(out, 0); // disk
    push16(out, 0); // internal attributes
    let directory = if entry.name.ends_with(b"/") { 0x10 } else { 0 };
    push32(out, (entry.unix_mode.unwrap_or(0) << 16) | directory);
    push32(out, u32::try_from(offset).expect("small archive"));
    out.extend_from_slice(&entry.name);
    out.extend_from_slice(&extra);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_readers_read_what_was_written() {
        let mut zip = RawZip::from_files(&[
            ("a.txt".to_owned(), b"hello".to_vec()),
            ("b/c.txt".to_owned(), vec![7u8; 1000]),
        ]);
        zip.entry("b/c.txt").zip64 = true;
        zip.prefix = b"#!stub\n".to_vec();
        zip.adjust_offsets = true;
        let mut archive =
            zip::ZipArchive::new(std::io::Cursor::new(zip.to_bytes())).expect("readable");
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut archive.by_name("b/c.txt").unwrap(), &mut data).unwrap();
        assert_eq!(data, vec![7u8; 1000]);
        assert_eq!(archive.by_name("a.txt").unwrap().header_start(), 7);
        assert!(archive.clone().validate_header_consistency().is_ok());
    }
}
