//! Source distribution verification: one `{name}-{version}/` top directory holding
//! `PKG-INFO` that agrees with the file name, and nothing an extractor could be tricked
//! with (absolute or `..` paths, links pointing outside, device files), read as a
//! stream with a cap on the unpacked size.

use std::collections::BTreeSet;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use flate2::read::GzDecoder;
use tar::EntryType;

use crate::filename::{SdistFilename, SdistFormat};
use crate::name::file_name_form;
use crate::problem::{Problem, link_stays_inside, unsafe_member_path};
use crate::wheel::check_and_record_metadata;
use crate::ziparchive::{self, quote_list};
use crate::{ArchiveReport, Limits};

const MAX_PKG_INFO_BYTES: u64 = 16 * 1024 * 1024;

/// Verifies the sdist at `path` whose file name is `file_name`.
pub fn verify(path: &Path, file_name: &str, limits: &Limits) -> io::Result<ArchiveReport> {
    let mut report = ArchiveReport::default();
    let filename = match SdistFilename::parse(file_name) {
        Ok(filename) => filename,
        Err(e) => {
            report
                .problems
                .push(Problem::error("sdist-filename", e.to_string()));
            return Ok(report);
        }
    };
    let listing = match filename.format {
        SdistFormat::TarGz => read_tar_gz(path, limits, &mut report.problems)?,
        SdistFormat::Zip => read_zip(path, limits, &mut report.problems)?,
    };
    let Some(listing) = listing else {
        return Ok(report);
    };
    report.entries = listing.files;
    report.unpacked_size = listing.unpacked_size;
    check_layout(&filename, &listing, &mut report);
    Ok(report)
}

/// What reading the archive found.
#[derive(Debug, Default)]
struct Listing {
    top_dirs: BTreeSet<String>,
    top_files: Vec<String>,
    files: usize,
    unpacked_size: u64,
    /// The PKG-INFO candidates directly under a top directory, by top directory.
    pkg_info_by_top: Vec<(String, Vec<u8>)>,
}

impl Listing {
    /// Records one member path (already checked for safety).
    fn add(&mut self, path: &str, is_dir: bool) {
        let path = path.trim_end_matches('/');
        match path.split_once('/') {
            Some((top, _)) => {
                self.top_dirs.insert(top.to_owned());
            }
            None if is_dir => {
                self.top_dirs.insert(path.to_owned());
            }
            None => self.top_files.push(path.to_owned()),
        }
        if !is_dir {
            self.files += 1;
        }
    }

    fn is_pkg_info(path: &str) -> Option<&str> {
        let (top, rest) = path.split_once('/')?;
        (rest == "PKG-INFO").then_some(top)
    }
}

/// Strips a leading `./`, which some tar writers put before every member.
fn clean(path: &str) -> &str {
    let mut path = path;
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    path
}

/// Counts decompressed bytes and fails once they pass the cap, so a gzip bomb costs a
/// bounded amount of work and no disk.
struct Capped<R> {
    inner: R,
    read: u64,
    limit: u64,
    exceeded: Arc<AtomicBool>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            self.exceeded.store(true, Ordering::Relaxed);
            return Err(io::Error::other("unpacked size limit exceeded"));
        }
        Ok(n)
    }
}

/// Reads a `.tar.gz` as a stream, through a cap on the unpacked size.
fn read_tar_gz(
    path: &Path,
    limits: &Limits,
    problems: &mut Vec<Problem>,
) -> io::Result<Option<Listing>> {
    if !starts_with_gzip_magic(path)? {
        problems.push(Problem::error(
            "sdist-not-gzip",
            "is named `.tar.gz` but is not gzip-compressed",
        ));
        return Ok(None);
    }
    let file = fs_err::File::open(path)?;
    let exceeded = Arc::new(AtomicBool::new(false));
    let capped = Capped {
        inner: GzDecoder::new(BufReader::with_capacity(64 * 1024, file)),
        read: 0,
        limit: limits.max_unpacked_size,
        exceeded: exceeded.clone(),
    };
    match list_tar(&mut tar::Archive::new(capped), problems) {
        Ok(listing) => Ok(Some(listing)),
        Err(_) if exceeded.load(Ordering::Relaxed) => {
            problems.push(
                Problem::error(
                    "zip-bomb",
                    format!(
                        "unpacks to more than the limit of {} bytes",
                        limits.max_unpacked_size
                    ),
                )
                .hint("raise --max-unpacked-size if this artifact really is that large"),
            );
            Ok(None)
        }
        Err(e) => {
            problems.push(
                Problem::error("sdist-corrupt", format!("cannot be read as a tar.gz: {e}"))
                    .hint("the file is truncated or damaged; rebuild it and check the upload/download step"),
            );
            Ok(None)
        }
    }
}

/// Whether the file starts like gzip (an unreadable start counts as not gzip).
fn starts_with_gzip_magic(path: &Path) -> io::Result<bool> {
    let mut file = fs_err::File::open(path)?;
    let mut magic = [0u8; 2];
    Ok(file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b])
}

/// Lists every member of the tar stream; an error means the stream cannot be read on
/// (damaged, or over the unpacked size cap).
fn list_tar<R: Read>(
    archive: &mut tar::Archive<R>,
    problems: &mut Vec<Problem>,
) -> io::Result<Listing> {
    let mut listing = Listing::default();
    let mut seen = BTreeSet::new();
    for entry in archive.entries()? {
        list_tar_member(&mut entry?, &mut listing, &mut seen, problems)?;
    }
    Ok(listing)
}

/// Checks one tar member and adds it to the listing (reading it if it is a PKG-INFO).
fn list_tar_member<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    listing: &mut Listing,
    seen: &mut BTreeSet<String>,
    problems: &mut Vec<Problem>,
) -> io::Result<()> {
    let raw = entry.path_bytes().into_owned();
    let Ok(name) = String::from_utf8(raw) else {
        problems.push(Problem::error(
            "sdist-name-encoding",
            "has a member name that is not UTF-8",
        ));
        return Ok(());
    };
    let name = clean(&name).to_owned();
    if name.is_empty() {
        return Ok(());
    }
    if let Some(reason) = unsafe_member_path(&name) {
        problems.push(
            Problem::error("path-unsafe", format!("member `{name}` {reason}"))
                .hint("an extractor could write outside its target directory; rebuild the sdist"),
        );
        return Ok(());
    }
    let kind = entry.header().entry_type();
    match kind {
        EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
            if !seen.insert(name.clone()) {
                problems.push(Problem::warning(
                    "sdist-duplicate",
                    format!("stores `{name}` more than once"),
                ));
            }
            listing.add(&name, false);
            listing.unpacked_size += entry.size();
            if let Some(top) = Listing::is_pkg_info(&name) {
                let mut data = Vec::new();
                entry.take(MAX_PKG_INFO_BYTES + 1).read_to_end(&mut data)?;
                listing.pkg_info_by_top.push((top.to_owned(), data));
            }
        }
        EntryType::Directory => listing.add(&name, true),
        EntryType::Symlink | EntryType::Link => {
            let target = entry
                .link_name_bytes()
                .map(|t| String::from_utf8_lossy(&t).into_owned())
                .unwrap_or_default();
            check_tar_link(&name, kind == EntryType::Symlink, &target, problems);
            listing.add(&name, false);
        }
        EntryType::Char | EntryType::Block | EntryType::Fifo => problems.push(Problem::error(
            "sdist-special-file",
            format!("member `{name}` is a device or FIFO, which has no place in an sdist"),
        )),
        // PAX and GNU long-name headers are applied by the tar reader itself.
        _ => {}
    }
    Ok(())
}

/// A symlink or hard link must point inside the member's own top directory.
fn check_tar_link(name: &str, is_symlink: bool, target: &str, problems: &mut Vec<Problem>) {
    let top = name.split('/').next().unwrap_or_default();
    let inside = if is_symlink {
        link_stays_inside(name, target, top)
    } else {
        // A hard link names another member by its archive path.
        let target = clean(target);
        unsafe_member_path(target).is_none() && target.starts_with(&format!("{top}/"))
    };
    if !inside {
        let what = if is_symlink { "symlink" } else { "hard link" };
        problems.push(
            Problem::error("sdist-link-escape", format!("member `{name}` is a {what} to `{target}`, outside the sdist"))
                .hint("an extractor could be made to write or read outside its target directory; rebuild the sdist"),
        );
    }
}

fn read_zip(
    path: &Path,
    limits: &Limits,
    problems: &mut Vec<Problem>,
) -> io::Result<Option<Listing>> {
    let Some(zip) = ziparchive::open_checked(path, limits, problems)? else {
        return Ok(None);
    };
    let mut archive = zip.archive;
    let mut listing = Listing {
        unpacked_size: zip.unpacked_size,
        ..Listing::default()
    };
    for member in &zip.members {
        let name = clean(&member.name).to_owned();
        listing.add(&name, member.is_dir);
        if member.is_dir {
            continue;
        }
        if let Some(top) = Listing::is_pkg_info(&name) {
            match ziparchive::read_member(&mut archive, member.index, MAX_PKG_INFO_BYTES) {
                Ok(data) => listing.pkg_info_by_top.push((top.to_owned(), data)),
                Err(e) => problems.push(Problem::error(
                    "zip-read",
                    format!("member `{name}` cannot be read: {e}"),
                )),
            }
        }
    }
    Ok(Some(listing))
}

/// The checks of the listing: one top directory named like the file, holding a
/// PKG-INFO that agrees with the file name.
fn check_layout(filename: &SdistFilename, listing: &Listing, report: &mut ArchiveReport) {
    let expected_top = filename.stem.as_str();
    check_top_dirs(expected_top, listing, &mut report.problems);
    let pkg_info_path = format!("{expected_top}/PKG-INFO");
    let Some((_, bytes)) = listing
        .pkg_info_by_top
        .iter()
        .find(|(top, _)| top == expected_top)
    else {
        report.problems.push(
            Problem::error(
                "sdist-pkg-info-missing",
                format!("has no `{pkg_info_path}`"),
            )
            .hint("build sdists with `python -m build --sdist`, which writes PKG-INFO"),
        );
        return;
    };
    if bytes.len() as u64 > MAX_PKG_INFO_BYTES {
        report.problems.push(Problem::error(
            "metadata-invalid",
            format!("`{pkg_info_path}` is larger than {MAX_PKG_INFO_BYTES} bytes"),
        ));
        return;
    }
    check_and_record_metadata(
        &pkg_info_path,
        bytes,
        &filename.name,
        &filename.version_text,
        report,
    );
}

/// Everything must sit in exactly one top directory, `{expected_top}/`.
fn check_top_dirs(expected_top: &str, listing: &Listing, problems: &mut Vec<Problem>) {
    if !listing.top_files.is_empty() {
        problems.push(Problem::error(
            "sdist-top-dir",
            format!(
                "has files outside the top directory `{expected_top}/`: {}",
                quote_list(&listing.top_files)
            ),
        ));
    }
    let others: Vec<String> = listing
        .top_dirs
        .iter()
        .filter(|d| *d != expected_top)
        .cloned()
        .collect();
    if !others.is_empty() || !listing.top_dirs.contains(expected_top) {
        let found = if listing.top_dirs.is_empty() {
            "no top directory".to_owned()
        } else {
            format!(
                "top director{} {}",
                if listing.top_dirs.len() == 1 {
                    "y"
                } else {
                    "ies"
                },
                quote_list(&listing.top_dirs.iter().cloned().collect::<Vec<_>>())
            )
        };
        problems.push(
            Problem::error(
                "sdist-top-dir",
                format!("has {found}; expected exactly `{expected_top}/`"),
            )
            .hint(
                "an sdist must unpack into one `{name}-{version}/` directory named like the file",
            ),
        );
    }
}

/// PEP 625 and PyPI's rule for new uploads: `{normalized_name_with_underscores}-{canonical
/// version}.tar.gz`. Legacy sdists break it and still install, so `collect` does not
/// call this; `publish-pypi check` does, since PyPI rejects them.
pub fn pep625_problem(filename: &SdistFilename, metadata_name: &str) -> Option<Problem> {
    let expected = format!(
        "{}-{}.tar.gz",
        file_name_form(metadata_name),
        filename.version
    );
    let actual = format!("{}{}", filename.stem, filename.format.extension());
    (actual != expected).then(|| {
        Problem::error(
            "sdist-name-pep625",
            format!("is named `{actual}`; PyPI requires `{expected}` (PEP 625)"),
        )
        .hint("build with a current build backend (setuptools >= 69.3, hatchling, flit-core >= 3.9), which names sdists correctly")
    })
}
