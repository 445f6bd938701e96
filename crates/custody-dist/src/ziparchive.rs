//! The checks every zip we accept must pass before its content means anything (wheels
//! and zip sdists alike): a readable central directory that agrees with the local
//! headers, UTF-8 names, safe paths, no duplicates, no encryption, stored or deflated
//! entries only, and a cap on the declared unpacked size.

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

/// An opened, checked zip.
#[derive(Debug)]
pub(crate) struct CheckedZip {
    pub(crate) archive: ZipArchive<SharedFile>,
    /// Regular files and directories, in central-directory order. Symlinks are reported
    /// and left out.
    pub(crate) members: Vec<Member>,
    pub(crate) unpacked_size: u64,
}

/// What one central-directory entry turned out to be.
enum EntryOutcome {
    /// Left out: unreadable header, or refused (its problem is recorded).
    Refused,
    /// A symlink: its size counts towards the unpacked size, but it is not a member.
    Link {
        size: u64,
    },
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
    check_structure(&archive, problems);
    let mut members = Vec::with_capacity(archive.len());
    let mut declared = 0u64;
    for index in 0..archive.len() {
        match check_entry(&archive, index, problems) {
            EntryOutcome::Refused => {}
            EntryOutcome::Link { size } => declared = declared.saturating_add(size),
            EntryOutcome::Member(member) => {
                declared = declared.saturating_add(member.size);
                members.push(member);
            }
        }
    }
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
/// agree with the central directory, nothing before the first entry, no comment.
fn check_structure(archive: &ZipArchive<SharedFile>, problems: &mut Vec<Problem>) {
    if archive.has_duplicate_names() {
        let names = duplicate_names(archive);
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
    if archive.offset() > 0 {
        problems.push(Problem::warning(
            "zip-prefix",
            format!(
                "has {} bytes of data before the first entry",
                archive.offset()
            ),
        ));
    }
    if !archive.comment().is_empty() {
        problems.push(Problem::warning(
            "zip-comment",
            "has an archive comment (PyPI rejects these)",
        ));
    }
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
    if let Some(reason) = unsafe_member_path(&name) {
        problems.push(
            Problem::error("path-unsafe", format!("entry `{name}` {reason}"))
                .hint("an installer could write outside its target directory; rebuild the archive"),
        );
        return EntryOutcome::Refused;
    }
    if entry.encrypted() {
        problems.push(Problem::error(
            "zip-encrypted",
            format!("entry `{name}` is encrypted"),
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
                "entry `{name}` uses compression {:?}; only stored and deflated are allowed",
                entry.compression()
            ),
        ));
        return EntryOutcome::Refused;
    }
    if entry.is_symlink() {
        check_symlink(archive, index, &name, problems);
        return EntryOutcome::Link { size: entry.size() };
    }
    EntryOutcome::Member(Member {
        index,
        name,
        size: entry.size(),
        is_dir: entry.is_dir(),
    })
}

/// Installers do not recreate symlinks, so one inside the archive is only a warning;
/// one pointing outside is an error.
fn check_symlink(
    archive: &ZipArchive<SharedFile>,
    index: usize,
    name: &str,
    problems: &mut Vec<Problem>,
) {
    let target = read_member(&mut archive.clone(), index, 4096).unwrap_or_default();
    let target = String::from_utf8_lossy(&target).into_owned();
    if link_stays_inside(name, &target, "") {
        problems.push(Problem::warning(
            "zip-symlink",
            format!(
                "entry `{name}` is a symlink to `{target}`; installers do not recreate symlinks"
            ),
        ));
    } else {
        problems.push(Problem::error(
            "symlink-escape",
            format!("entry `{name}` is a symlink to `{target}`, outside the archive"),
        ));
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

/// Names stored more than once, found by walking the raw central directory (the zip
/// crate keeps only one entry per name).
fn duplicate_names(archive: &ZipArchive<SharedFile>) -> Vec<String> {
    let mut file = archive.clone().into_inner();
    let mut counts: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    let start = archive.central_directory_start();
    let mut position = start;
    let mut header = [0u8; 46];
    loop {
        if std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(position)).is_err()
            || file.read_exact(&mut header).is_err()
            || header[..4] != [0x50, 0x4b, 0x01, 0x02]
        {
            break;
        }
        let name_len = u64::from(u16::from_le_bytes([header[28], header[29]]));
        let extra_len = u64::from(u16::from_le_bytes([header[30], header[31]]));
        let comment_len = u64::from(u16::from_le_bytes([header[32], header[33]]));
        let Ok(name_len_usize) = usize::try_from(name_len) else {
            break;
        };
        let mut name = vec![0u8; name_len_usize];
        if file.read_exact(&mut name).is_err() {
            break;
        }
        *counts.entry(name).or_default() += 1;
        position += 46 + name_len + extra_len + comment_len;
    }
    counts
        .into_iter()
        .filter(|(_, count)| *count > 1)
        .map(|(name, _)| String::from_utf8_lossy(&name).into_owned())
        .collect()
}

pub(crate) fn quote_list(items: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = items
        .iter()
        .take(SHOWN)
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        text.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    text
}
