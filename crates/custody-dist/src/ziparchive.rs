//! The checks every zip we accept must pass before its content means anything (wheels
//! and zip sdists alike): a readable central directory that agrees with the local
//! headers, nothing before the first entry or after the end record, UTF-8 names that
//! every reader and file system sees alike (no backslashes, no Unicode path fields that
//! rename an entry, no two names one file on macOS or Windows), safe paths, no
//! duplicates, no encryption, stored or deflated entries only, and a cap on the
//! declared unpacked size.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use zip::{CompressionMethod, ZipArchive};

use crate::Limits;
use crate::problem::{Problem, link_stays_inside, unsafe_member_path};
use crate::reader::SharedFile;

/// One member of the archive, after the checks.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub(crate) index: usize,
    pub(crate) name: String,
    pub(crate) size: u64,
    pub(crate) is_dir: bool,
}

/// Whether two names are one file on a case-insensitive, normalization-insensitive
/// file system (macOS's APFS and HFS+, Windows' NTFS): the same after NFC and lowercasing.
fn folded(name: &str) -> String {
    icu_normalizer::ComposingNormalizerBorrowed::new_nfc()
        .normalize(name)
        .to_lowercase()
}

/// An opened, checked zip.
#[derive(Debug)]
pub(crate) struct CheckedZip {
    pub(crate) archive: ZipArchive<SharedFile>,
    /// Regular files and directories, in central-directory order. Symlinks are reported
    /// and left out.
    pub(crate) members: Vec<Member>,
    /// Entries with symlink mode bits that stay inside the archive. Installers of wheels
    /// write them as regular files holding the target path, so a wheel's RECORD must list
    /// them like any file.
    pub(crate) links: Vec<Member>,
    pub(crate) unpacked_size: u64,
}

/// What one central-directory entry turned out to be.
enum EntryOutcome {
    /// Left out: unreadable header, or refused (its problem is recorded).
    Refused,
    /// A symlink inside the archive: its size counts towards the unpacked size, but it
    /// is not a member.
    Link(Member),
    Member(Member),
}

/// Opens `path` as a zip and runs the structural checks. Returns `None` when the zip
/// cannot be read at all (the problem says why).
pub(crate) fn open_checked(
    path: &Path,
    limits: &Limits,
    problems: &mut Vec<Problem>,
) -> std::io::Result<Option<CheckedZip>> {
    let Some(archive) = open_archive(path, problems)? else {
        return Ok(None);
    };
    check_structure(&archive, problems)?;
    let mut members = Vec::with_capacity(archive.len());
    let mut links = Vec::new();
    let mut declared = 0u64;
    for index in 0..archive.len() {
        match check_entry(&archive, index, problems) {
            EntryOutcome::Refused => {}
            EntryOutcome::Link(link) => {
                declared = declared.saturating_add(link.size);
                links.push(link);
            }
            EntryOutcome::Member(member) => {
                declared = declared.saturating_add(member.size);
                members.push(member);
            }
        }
    }
    check_collisions(members.iter().chain(&links), problems);
    if declared > limits.max_unpacked_size {
        problems.push(
            Problem::error(
                "zip-bomb",
                format!(
                    "declares {declared} bytes unpacked, over the limit of {} bytes",
                    limits.max_unpacked_size
                ),
            )
            .hint("raise --max-unpacked-size if this artifact really is that large"),
        );
        return Ok(None);
    }
    Ok(Some(CheckedZip {
        archive,
        members,
        links,
        unpacked_size: declared,
    }))
}

/// Reads the central directory; `None` (with a problem) when there is none to read.
fn open_archive(
    path: &Path,
    problems: &mut Vec<Problem>,
) -> std::io::Result<Option<ZipArchive<SharedFile>>> {
    let file = SharedFile::new(fs_err::File::open(path)?.into_parts().0)?;
    match ZipArchive::new(file) {
        Ok(archive) => Ok(Some(archive)),
        Err(e) => {
            problems.push(
                Problem::error("zip-invalid", format!("is not a readable zip archive: {e}"))
                    .hint("the file is truncated or not a zip; rebuild it and check the upload/download step"),
            );
            Ok(None)
        }
    }
}

/// The checks of the archive as a whole: one copy of each name, local headers that
/// agree with the central directory, nothing before the first entry or after the end
/// record, no comment.
fn check_structure(
    archive: &ZipArchive<SharedFile>,
    problems: &mut Vec<Problem>,
) -> std::io::Result<()> {
    let central = CentralRecord::read_all(archive);
    if archive.has_duplicate_names() {
        let names = duplicate_names(&central);
        problems.push(
            Problem::error(
                "zip-duplicate",
                format!(
                    "stores the same path more than once: {}",
                    quote_list(&names)
                ),
            )
            .hint("installers disagree on which copy wins; rebuild the archive"),
        );
    } else if let Err(e) = archive.clone().validate_header_consistency() {
        problems.push(
            Problem::error("zip-inconsistent", format!("has local headers that disagree with its central directory: {e}"))
                .hint("tools would see different files in this archive (ZIP confusion); rebuild it with a standard tool"),
        );
    }
    check_renamed_entries(&central, problems);
    check_outside_bytes(archive, problems)?;
    if !archive.comment().is_empty() {
        problems.push(Problem::warning(
            "zip-comment",
            "has an archive comment (PyPI rejects these)",
        ));
    }
    Ok(())
}

/// Bytes before the first entry (whether or not the offsets were adjusted to them) or
/// after the end-of-central-directory record: readers disagree on where such an archive
/// starts, the extra bytes can hold a second archive, and PyPI rejects trailing data.
fn check_outside_bytes(
    archive: &ZipArchive<SharedFile>,
    problems: &mut Vec<Problem>,
) -> std::io::Result<()> {
    let metadata = archive.metadata();
    let first_header = (0..metadata.len())
        .filter_map(|index| metadata.entry(index).ok().map(|e| e.header_start()))
        .min()
        .unwrap_or_else(|| archive.central_directory_start());
    let before = archive.offset().max(first_header);
    if before > 0 {
        problems.push(
            Problem::error(
                "zip-prefix",
                format!("has {before} bytes of data before the first entry"),
            )
            .hint(
                "readers disagree on where such an archive starts; rebuild it with a standard tool",
            ),
        );
    }
    let after = trailing_bytes(archive)?;
    if after > 0 {
        problems.push(
            Problem::error(
                "zip-trailing",
                format!("has {after} bytes of data after the end of its central directory"),
            )
            .hint("PyPI rejects archives with trailing data; rebuild it with a standard tool"),
        );
    }
    Ok(())
}

/// How many bytes follow the end-of-central-directory record the zip crate read (the
/// last `PK\x05\x06` whose comment is the archive's comment).
fn trailing_bytes(archive: &ZipArchive<SharedFile>) -> std::io::Result<u64> {
    const EOCD_SIZE: u64 = 22;
    let mut file = archive.clone().into_inner();
    let len = std::io::Seek::seek(&mut file, std::io::SeekFrom::End(0))?;
    let comment = archive.comment();
    // The record is 22 bytes plus a comment of at most 64 KiB; trailing data beyond that
    // window is reported as the whole window.
    let window = len.min(EOCD_SIZE + u64::from(u16::MAX) + 64 * 1024);
    let mut tail = vec![0u8; usize::try_from(window).unwrap_or(usize::MAX)];
    std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(len - window))?;
    file.read_exact(&mut tail)?;
    let found = (0..tail.len().saturating_sub(21)).rev().find(|&at| {
        let record = &tail[at..];
        record.starts_with(b"PK\x05\x06")
            && usize::from(u16::from_le_bytes([record[20], record[21]])) == comment.len()
            && record[22..].starts_with(comment)
    });
    Ok(found.map_or(window, |at| (tail.len() - at - 22 - comment.len()) as u64))
}

/// The checks of one entry: a UTF-8, safe name; no encryption; stored or deflated; and
/// for a symlink, a target inside the archive.
fn check_entry(
    archive: &ZipArchive<SharedFile>,
    index: usize,
    problems: &mut Vec<Problem>,
) -> EntryOutcome {
    let metadata = archive.metadata();
    let Ok(entry) = metadata.entry(index) else {
        return EntryOutcome::Refused;
    };
    let Ok(name) = std::str::from_utf8(entry.name_raw()).map(str::to_owned) else {
        problems.push(Problem::error(
            "zip-name-encoding",
            format!(
                "entry {index} has a name that is not UTF-8: {:?}",
                String::from_utf8_lossy(entry.name_raw())
            ),
        ));
        return EntryOutcome::Refused;
    };
    if name.contains('\\') {
        problems.push(
            Problem::error(
                "path-unsafe",
                format!("entry `{}` contains a backslash", name.escape_debug()),
            )
            .hint("Windows installers read a backslash as a directory separator, others as part of the name; rebuild the archive"),
        );
        return EntryOutcome::Refused;
    }
    if let Some(reason) = unsafe_member_path(&name) {
        problems.push(
            Problem::error(
                "path-unsafe",
                format!("entry `{}` {reason}", name.escape_debug()),
            )
            .hint("an installer could write outside its target directory; rebuild the archive"),
        );
        return EntryOutcome::Refused;
    }
    if entry.encrypted() {
        problems.push(Problem::error(
            "zip-encrypted",
            format!("entry `{}` is encrypted", name.escape_debug()),
        ));
        return EntryOutcome::Refused;
    }
    if !matches!(
        entry.compression(),
        CompressionMethod::Stored | CompressionMethod::Deflated
    ) {
        problems.push(Problem::error(
            "zip-compression",
            format!(
                "entry `{}` uses compression {:?}; only stored and deflated are allowed",
                name.escape_debug(),
                entry.compression()
            ),
        ));
        return EntryOutcome::Refused;
    }
    let member = Member {
        index,
        name,
        size: entry.size(),
        is_dir: entry.is_dir(),
    };
    if entry.is_symlink() {
        if check_symlink(archive, index, &member.name, problems) {
            return EntryOutcome::Link(member);
        }
        return EntryOutcome::Refused;
    }
    EntryOutcome::Member(member)
}

/// Installers do not recreate symlinks (pip and uv write a regular file holding the
/// target path), so one inside the archive is a warning and is verified like a file;
/// one pointing outside is an error. Returns whether the link stays inside.
fn check_symlink(
    archive: &ZipArchive<SharedFile>,
    index: usize,
    name: &str,
    problems: &mut Vec<Problem>,
) -> bool {
    let target = read_member(&mut archive.clone(), index, 4096).unwrap_or_default();
    let target = String::from_utf8_lossy(&target).into_owned();
    let inside = link_stays_inside(name, &target, "");
    let (name, shown) = (name.escape_debug(), target.escape_debug());
    if inside {
        problems.push(Problem::warning(
            "zip-symlink",
            format!(
                "entry `{name}` is a symlink to `{shown}`; installers write it as a regular file holding that path"
            ),
        ));
        true
    } else {
        problems.push(Problem::error(
            "symlink-escape",
            format!("entry `{name}` is a symlink to `{shown}`, outside the archive"),
        ));
        false
    }
}

/// Why a member could not be read whole.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadMemberError {
    #[error(transparent)]
    Zip(#[from] zip::result::ZipError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("is larger than {limit} bytes")]
    TooLarge { limit: u64 },
}

/// Reads a whole member, refusing more than `limit` bytes.
pub(crate) fn read_member(
    archive: &mut ZipArchive<SharedFile>,
    index: usize,
    limit: u64,
) -> Result<Vec<u8>, ReadMemberError> {
    let entry = archive.by_index(index)?;
    let mut data = Vec::new();
    entry.take(limit + 1).read_to_end(&mut data)?;
    if data.len() as u64 > limit {
        return Err(ReadMemberError::TooLarge { limit });
    }
    Ok(data)
}

/// One central-directory record as stored, before the zip crate interprets it (the
/// crate keeps one entry per name, and lets a Unicode path extra field replace the name).
struct CentralRecord {
    name: Vec<u8>,
    extra: Vec<u8>,
}

impl CentralRecord {
    /// Every record from the start of the central directory, until one does not parse.
    fn read_all(archive: &ZipArchive<SharedFile>) -> Vec<Self> {
        let mut file = archive.clone().into_inner();
        let mut records = Vec::new();
        let mut position = archive.central_directory_start();
        let mut header = [0u8; 46];
        while std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(position)).is_ok()
            && file.read_exact(&mut header).is_ok()
            && header[..4] == [0x50, 0x4b, 0x01, 0x02]
        {
            let field = |at: usize| usize::from(u16::from_le_bytes([header[at], header[at + 1]]));
            let (name_len, extra_len, comment_len) = (field(28), field(30), field(32));
            let mut name = vec![0u8; name_len];
            let mut extra = vec![0u8; extra_len];
            if file.read_exact(&mut name).is_err() || file.read_exact(&mut extra).is_err() {
                break;
            }
            records.push(Self { name, extra });
            position += (46 + name_len + extra_len + comment_len) as u64;
        }
        records
    }

    /// The name of an Info-ZIP Unicode path extra field (0x7075), if there is one.
    fn unicode_path(&self) -> Option<&[u8]> {
        let mut rest = self.extra.as_slice();
        while rest.len() >= 4 {
            let id = u16::from_le_bytes([rest[0], rest[1]]);
            let len = usize::from(u16::from_le_bytes([rest[2], rest[3]]));
            let data = rest.get(4..4 + len)?;
            // version (1 byte), CRC-32 of the header name (4 bytes), then the name.
            if id == 0x7075 && data.len() >= 5 {
                return Some(&data[5..]);
            }
            rest = &rest[4 + len..];
        }
        None
    }
}

/// Names stored more than once.
fn duplicate_names(central: &[CentralRecord]) -> Vec<String> {
    let mut counts: BTreeMap<&[u8], usize> = BTreeMap::new();
    for record in central {
        *counts.entry(&record.name).or_default() += 1;
    }
    counts
        .into_iter()
        .filter(|(_, count)| *count > 1)
        .map(|(name, _)| String::from_utf8_lossy(name).into_owned())
        .collect()
}

/// A Unicode path extra field naming an entry otherwise than its header: the zip crate
/// reads that name; Python 3.11's zipfile (pip in the test environment) reads the header's.
fn check_renamed_entries(central: &[CentralRecord], problems: &mut Vec<Problem>) {
    for record in central {
        if let Some(unicode) = record.unicode_path()
            && unicode != record.name.as_slice()
        {
            problems.push(
                Problem::error(
                    "zip-name-ambiguous",
                    format!(
                        "entry `{}` carries a Unicode path field naming it `{}`",
                        String::from_utf8_lossy(&record.name).escape_debug(),
                        String::from_utf8_lossy(unicode).escape_debug()
                    ),
                )
                .hint("readers disagree on this entry's name (ZIP confusion); rebuild the archive with a standard tool"),
            );
        }
    }
}

/// Two different names that are one file on macOS or Windows (same after Unicode NFC
/// normalization and lowercasing): installed there, one silently replaces the other.
fn check_collisions<'a>(members: impl Iterator<Item = &'a Member>, problems: &mut Vec<Problem>) {
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for member in members {
        let name = member.name.trim_end_matches('/');
        match seen.get(&folded(name)) {
            Some(first) if *first != name => {
                let how = if first.to_lowercase() == name.to_lowercase() {
                    "differ only in case"
                } else {
                    "are the same after Unicode normalization"
                };
                problems.push(
                    Problem::error(
                        "zip-name-collision",
                        format!(
                            "entries `{}` and `{}` {how}: one file on macOS and Windows",
                            first.escape_debug(),
                            name.escape_debug()
                        ),
                    )
                    .hint("installed on a case- or normalization-insensitive file system, one replaces the other; rename one and rebuild"),
                );
            }
            Some(_) => {}
            None => {
                seen.insert(folded(name), name);
            }
        }
    }
}

pub(crate) fn quote_list(items: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = items
        .iter()
        .take(SHOWN)
        .map(|i| format!("`{}`", i.escape_debug()))
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        text.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_matches_names_one_file_system_would_merge() {
        assert_eq!(folded("pkg/Caf\u{e9}.py"), folded("pkg/cafe\u{301}.py"));
        assert_eq!(folded("PKG/x.py"), folded("pkg/X.PY"));
        assert_ne!(folded("pkg/a.py"), folded("pkg/b.py"));
    }

    #[test]
    fn unicode_path_fields_are_found_among_others() {
        let mut extra = vec![0xfe, 0xca, 0, 0];
        extra.extend_from_slice(&[0x75, 0x70, 7, 0, 1, 0, 0, 0, 0]);
        extra.extend_from_slice(b"ab");
        let record = CentralRecord {
            name: b"x".to_vec(),
            extra,
        };
        assert_eq!(record.unicode_path(), Some(&b"ab"[..]));
        let truncated = CentralRecord {
            name: b"x".to_vec(),
            extra: vec![0x75, 0x70, 9, 0, 1],
        };
        assert_eq!(truncated.unicode_path(), None);
    }

    #[test]
    fn quoted_names_are_escaped() {
        assert_eq!(
            quote_list(&["a\nb".to_owned(), "c".to_owned()]),
            "`a\\nb`, `c`"
        );
    }
}
