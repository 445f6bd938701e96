//! Source distribution verification: one `{name}-{version}/` top directory holding
//! `PKG-INFO` that agrees with the file name, and nothing an extractor could be tricked
//! with (absolute or `..` paths, links pointing outside, device files, copies of one
//! path that differ), read as a stream with caps on the unpacked size. What it verified
//! is an [`SdistTree`]: the files an extractor creates, with their sha256.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::decompress::{self, OpenError};
use crate::filename::{SdistFilename, SdistFormat};
use crate::name::file_name_form;
use crate::problem::Problem;
use crate::sdist_tar::{self, MAX_PKG_INFO_BYTES};
use crate::wheel::check_and_record_metadata;
use crate::ziparchive::{self, quote_list};
use crate::{ArchiveReport, Limits};

/// Verifies the sdist at `path` whose file name is `file_name`.
pub fn verify(path: &Path, file_name: &str, limits: &Limits) -> io::Result<ArchiveReport> {
    verify_tree(path, file_name, limits).map(|(report, _)| report)
}

/// Verifies the sdist and returns, with the report, the tree it verified: what an
/// extractor creates from it (`None` when the archive could not be read through).
pub fn verify_tree(
    path: &Path,
    file_name: &str,
    limits: &Limits,
) -> io::Result<(ArchiveReport, Option<SdistTree>)> {
    let mut report = ArchiveReport::default();
    let filename = match SdistFilename::parse(file_name) {
        Ok(filename) => filename,
        Err(e) => {
            report
                .problems
                .push(Problem::error("sdist-filename", e.to_string()));
            return Ok((report, None));
        }
    };
    if filename.format != SdistFormat::TarGz {
        report.problems.push(
            Problem::warning(
                "sdist-legacy-format",
                format!(
                    "is a `{}` sdist: pip installs it, but PyPI accepts only `.tar.gz` sdists (PEP 625)",
                    filename.extension
                ),
            )
            .hint("build the sdist with `python -m build --sdist`, which writes `.tar.gz`"),
        );
    }
    let listing = match filename.format {
        SdistFormat::Zip => read_zip(path, limits, &mut report.problems)?,
        _ => read_tar(path, filename.format, limits, &mut report.problems)?,
    };
    let Some(listing) = listing else {
        return Ok((report, None));
    };
    report.entries = listing.files();
    report.unpacked_size = listing.unpacked_size;
    check_layout(&filename, &listing, &mut report);
    Ok((
        report,
        Some(SdistTree {
            nodes: listing.tree,
        }),
    ))
}

/// What an extractor creates from an sdist: normalized relative paths (`a/b`, no `.`
/// or empty components) and what each is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SdistTree {
    pub nodes: BTreeMap<String, TreeNode>,
}

/// One path of an [`SdistTree`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeNode {
    File { size: u64, sha256: [u8; 32] },
    Directory,
    Symlink { target: String },
}

impl TreeNode {
    fn describe(&self) -> &'static str {
        match self {
            Self::File { .. } => "a file",
            Self::Directory => "a directory",
            Self::Symlink { .. } => "a symlink",
        }
    }
}

/// What reading the archive found.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub(crate) tree: BTreeMap<String, TreeNode>,
    pub(crate) unpacked_size: u64,
    /// The bytes of every `{top}/PKG-INFO` file, by path.
    pub(crate) pkg_info: BTreeMap<String, Vec<u8>>,
}

impl Listing {
    pub(crate) fn is_pkg_info(path: &str) -> Option<&str> {
        let (top, rest) = path.split_once('/')?;
        (rest == "PKG-INFO").then_some(top)
    }

    /// Files and links (directories not counted).
    fn files(&self) -> usize {
        self.tree
            .values()
            .filter(|node| **node != TreeNode::Directory)
            .count()
    }

    /// Adds a normalized path the way extraction lays it down, last copy winning; a
    /// copy that differs from an earlier one, or a path under a file or symlink, is
    /// refused, since the tree would not be what the first copy said.
    pub(crate) fn insert(&mut self, path: String, node: TreeNode, problems: &mut Vec<Problem>) {
        let shown = path.escape_debug().to_string();
        let mut parent = path.as_str();
        while let Some((up, _)) = parent.rsplit_once('/') {
            parent = up;
            match self.tree.get(parent) {
                Some(TreeNode::Directory) => break,
                Some(other) => {
                    problems.push(
                        Problem::error(
                            "sdist-path-conflict",
                            format!(
                                "member `{shown}` lies under `{}`, which is {} in the archive",
                                parent.escape_debug(),
                                other.describe()
                            ),
                        )
                        .hint(
                            "extractors would write it through a link or fail; rebuild the sdist",
                        ),
                    );
                    return;
                }
                None => {}
            }
        }
        match self.tree.get(&path) {
            Some(existing) if *existing == node && node != TreeNode::Directory => {
                problems.push(Problem::warning(
                    "sdist-duplicate",
                    format!("stores `{shown}` more than once, with the same content"),
                ));
            }
            Some(existing) if *existing == node => {}
            Some(existing) => {
                let what = if existing.describe() == node.describe() {
                    format!("with different contents ({})", node.describe())
                } else {
                    format!("as {} and then as {}", existing.describe(), node.describe())
                };
                problems.push(
                    Problem::error(
                        "sdist-duplicate",
                        format!("stores `{shown}` more than once, {what}; extraction keeps the last copy"),
                    )
                    .hint("what gets installed would not be what was verified; rebuild the sdist"),
                );
            }
            None => {}
        }
        self.tree.insert(path, node);
    }
}

/// Reads a tar sdist (any compression) through the caps.
fn read_tar(
    path: &Path,
    format: SdistFormat,
    limits: &Limits,
    problems: &mut Vec<Problem>,
) -> io::Result<Option<Listing>> {
    let stream = match decompress::open(path, format, limits) {
        Ok(stream) => stream,
        Err(OpenError::NotCompressed { expected }) => {
            let code = if format == SdistFormat::TarGz {
                "sdist-not-gzip"
            } else {
                "sdist-not-compressed"
            };
            problems.push(Problem::error(
                code,
                format!(
                    "is named `{}` but is not {expected}-compressed",
                    format.extension()
                ),
            ));
            return Ok(None);
        }
        Err(OpenError::Io(e)) if e.kind() == io::ErrorKind::InvalidData => {
            problems.push(corrupt(&e, format));
            return Ok(None);
        }
        Err(OpenError::Io(e)) => return Err(e),
    };
    let watch = stream.reader.exceeded();
    let mut archive = tar::Archive::new(stream.reader);
    let mut listing = Listing::default();
    let listed = sdist_tar::list(&mut archive, &mut listing, problems);
    // Everything after the end-of-archive marker is read too, so every gzip member
    // and checksum trailer is checked, as GNU tar does.
    let drained = listed.and_then(|()| archive.into_inner().drain());
    match drained {
        Ok(0) => Ok(Some(listing)),
        Ok(hidden) => {
            problems.push(Problem::warning(
                "sdist-trailing-data",
                format!("has {hidden} non-zero bytes after the tar end-of-archive marker, which no extractor reads"),
            ));
            Ok(Some(listing))
        }
        Err(e) => {
            problems.push(match watch.get() {
                Some(exceeded) => {
                    Problem::error("zip-bomb", decompress::exceeded_message(exceeded))
                        .hint("raise --max-unpacked-size if this artifact really is that large")
                }
                None => corrupt(&e, format),
            });
            Ok(None)
        }
    }
}

fn corrupt(e: &io::Error, format: SdistFormat) -> Problem {
    Problem::error(
        "sdist-corrupt",
        format!("cannot be read as a {}: {e}", &format.extension()[1..]),
    )
    .hint("the file is truncated or damaged; rebuild it and check the upload/download step")
}

/// Reads a zip sdist: the structural zip checks, then every member decompressed whole
/// (its CRC and declared size checked) and hashed.
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
        let name = member
            .name
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect::<Vec<_>>()
            .join("/");
        if member.is_dir {
            listing.insert(name, TreeNode::Directory, problems);
            continue;
        }
        match read_zip_member(&mut archive, member, Listing::is_pkg_info(&name).is_some()) {
            Ok((node, kept)) => {
                if let Some(kept) = kept {
                    listing.pkg_info.insert(name.clone(), kept);
                }
                listing.insert(name, node, problems);
            }
            Err(problem) => problems.push(problem),
        }
    }
    Ok(Some(listing))
}

/// Decompresses one zip member whole: its size must be the declared one and its CRC
/// right (the zip crate checks it at the end), as `zipfile` checks on extraction.
fn read_zip_member(
    archive: &mut zip::ZipArchive<crate::reader::SharedFile>,
    member: &ziparchive::Member,
    keep: bool,
) -> Result<(TreeNode, Option<Vec<u8>>), Problem> {
    let shown = member.name.escape_debug();
    let corrupt = |e: &dyn std::fmt::Display| {
        Problem::error("zip-corrupt", format!("entry `{shown}` is corrupt: {e}"))
            .hint("the file was damaged in transfer or tampered with; fetch or rebuild it again")
    };
    let mut entry = archive.by_index(member.index).map_err(|e| corrupt(&e))?;
    let file = match read_file(&mut entry, keep, member.size) {
        Ok(file) => file,
        Err(ReadFileError::Io(e)) => return Err(corrupt(&e)),
        Err(ReadFileError::Overrun) => {
            return Err(Problem::error(
                "zip-bomb",
                format!(
                    "entry `{shown}` unpacks to more than its declared {} bytes",
                    member.size
                ),
            ));
        }
    };
    match file.node {
        TreeNode::File { size, .. } if size != member.size => Err(corrupt(&format_args!(
            "it unpacks to {size} bytes, not its declared {}",
            member.size
        ))),
        node => Ok((node, file.kept)),
    }
}

/// A member read whole: its tree node, and its bytes when kept (a `PKG-INFO`).
pub(crate) struct ReadFile {
    pub(crate) node: TreeNode,
    pub(crate) kept: Option<Vec<u8>>,
}

pub(crate) enum ReadFileError {
    Io(io::Error),
    /// More than the most bytes allowed.
    Overrun,
}

/// Reads a member to its end, hashing it; keeps its bytes (up to just past
/// [`MAX_PKG_INFO_BYTES`]) when `keep`; fails past `max` bytes.
pub(crate) fn read_file(
    reader: &mut impl Read,
    keep: bool,
    max: u64,
) -> Result<ReadFile, ReadFileError> {
    let mut hasher = Sha256::new();
    let mut kept = keep.then(Vec::new);
    let mut buffer = [0u8; 16 * 1024];
    let mut size = 0u64;
    loop {
        let n = reader.read(&mut buffer).map_err(ReadFileError::Io)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        if size > max {
            return Err(ReadFileError::Overrun);
        }
        hasher.update(&buffer[..n]);
        if let Some(kept) = kept
            .as_mut()
            .filter(|k| k.len() as u64 <= MAX_PKG_INFO_BYTES)
        {
            kept.extend_from_slice(&buffer[..n]);
        }
    }
    Ok(ReadFile {
        node: TreeNode::File {
            size,
            sha256: hasher.finalize().into(),
        },
        kept,
    })
}

/// The checks of the listing: one top directory named like the file, holding a
/// PKG-INFO that agrees with the file name.
fn check_layout(filename: &SdistFilename, listing: &Listing, report: &mut ArchiveReport) {
    let expected_top = filename.stem.as_str();
    check_top_dirs(expected_top, listing, &mut report.problems);
    let pkg_info_path = format!("{expected_top}/PKG-INFO");
    let Some(bytes) = listing.pkg_info.get(&pkg_info_path) else {
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
    let mut top_dirs = BTreeSet::new();
    let mut top_files = Vec::new();
    for (path, node) in &listing.tree {
        match path.split_once('/') {
            Some((top, _)) => {
                top_dirs.insert(top.to_owned());
            }
            None if *node == TreeNode::Directory => {
                top_dirs.insert(path.clone());
            }
            None => top_files.push(path.clone()),
        }
    }
    if !top_files.is_empty() {
        problems.push(Problem::error(
            "sdist-top-dir",
            format!(
                "has files outside the top directory `{expected_top}/`: {}",
                quote_list(&top_files)
            ),
        ));
    }
    let others: Vec<String> = top_dirs
        .iter()
        .filter(|d| *d != expected_top)
        .cloned()
        .collect();
    if !others.is_empty() || !top_dirs.contains(expected_top) {
        let found = if top_dirs.is_empty() {
            "no top directory".to_owned()
        } else {
            format!(
                "top director{} {}",
                if top_dirs.len() == 1 { "y" } else { "ies" },
                quote_list(&top_dirs.iter().cloned().collect::<Vec<_>>())
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
    let actual = format!("{}{}", filename.stem, filename.extension);
    (actual != expected).then(|| {
        Problem::error(
            "sdist-name-pep625",
            format!("is named `{actual}`; PyPI requires `{expected}` (PEP 625)"),
        )
        .hint("build with a current build backend (setuptools >= 69.3, hatchling, flit-core >= 3.9), which names sdists correctly")
    })
}
