//! Wheel verification, down to every RECORD hash and size, which pip, PyPI and twine do
//! not do. The rules follow the binary distribution format spec and packaging's
//! `parse_wheel_filename`; each finding is a [`Problem`] naming the entry.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use zip::ZipArchive;

use crate::filename::WheelFilename;
use crate::metadata::{CoreMetadata, KNOWN_METADATA_VERSIONS, WheelInfoFile};
use crate::name::{normalize, same_version};
use crate::problem::Problem;
use crate::reader::SharedFile;
use crate::record::{self, Algorithm, RecordHasher, encode_digest};
use crate::ziparchive::{self, CheckedZip, Member, quote_list};
use crate::{ArchiveReport, Limits, Project, WheelTags};

/// Dist-info files are small; anything bigger is refused rather than read into memory.
const MAX_METADATA_BYTES: u64 = 16 * 1024 * 1024;
const MAX_RECORD_BYTES: u64 = 64 * 1024 * 1024;

/// Verifies the wheel at `path` whose file name is `file_name`.
pub fn verify(path: &Path, file_name: &str, limits: &Limits) -> std::io::Result<ArchiveReport> {
    let mut report = ArchiveReport::default();
    let filename = match WheelFilename::parse(file_name) {
        Ok(filename) => filename,
        Err(e) => {
            report.problems.push(
                Problem::error("wheel-filename", e.to_string())
                    .hint("wheel names follow `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`; do not rename built wheels"),
            );
            return Ok(report);
        }
    };
    report.wheel = Some(WheelTags {
        python: filename.python.clone(),
        abi: filename.abi.clone(),
        platform: filename.platform.clone(),
        build: filename.build.as_ref().map(ToString::to_string),
    });
    let Some(zip) = ziparchive::open_checked(path, limits, &mut report.problems)? else {
        return Ok(report);
    };
    report.entries = zip.members.iter().filter(|m| !m.is_dir).count();
    report.unpacked_size = zip.unpacked_size;
    check_contents(&filename, zip, limits, &mut report);
    Ok(report)
}

/// The checks of what is inside, in order: the `.dist-info` layout, then `WHEEL`,
/// `METADATA` and `RECORD`, and last every file against its RECORD hash and size.
fn check_contents(
    filename: &WheelFilename,
    zip: CheckedZip,
    limits: &Limits,
    report: &mut ArchiveReport,
) {
    let CheckedZip {
        mut archive,
        members,
        links,
        ..
    } = zip;
    // Installers write symlinks as regular files, so RECORD must account for them too.
    let by_name: BTreeMap<&str, &Member> = members
        .iter()
        .chain(&links)
        .map(|m| (m.name.as_str(), m))
        .collect();
    let Some(dist_info) = find_dist_info(filename, &members, &mut report.problems) else {
        return;
    };
    let files = DistInfoFiles::read(dist_info, &mut archive, &by_name, &mut report.problems);
    match &files.wheel {
        None => report.problems.push(Problem::error(
            "wheel-file-missing",
            format!("has no `{}`", files.wheel_path),
        )),
        Some(bytes) => check_wheel_file(filename, &files.wheel_path, bytes, &mut report.problems),
    }
    check_metadata_file(filename, dist_info, &files, &by_name, report);
    let problems = &mut report.problems;
    let Some(record_bytes) = &files.record else {
        problems.push(Problem::error(
            "record-missing",
            format!("has no `{}`", files.record_path),
        ));
        return;
    };
    let entries = match record::parse(record_bytes) {
        Ok(entries) => entries,
        Err(e) => {
            problems.push(Problem::error(
                "record-invalid",
                format!("`{}` {e}", files.record_path),
            ));
            return;
        }
    };
    let jobs = check_record_listing(dist_info, &files.record_path, &entries, &by_name, problems);
    verify_hashes(&archive, &jobs, limits, problems);
}

/// Finds the one `.dist-info` directory and checks that it, and any `.data` directory,
/// is named like the file.
fn find_dist_info<'a>(
    filename: &WheelFilename,
    members: &'a [Member],
    problems: &mut Vec<Problem>,
) -> Option<&'a str> {
    let top_level: BTreeSet<&str> = members
        .iter()
        .filter_map(|m| m.name.split('/').next().filter(|_| m.name.contains('/')))
        .collect();
    let dist_infos: Vec<&str> = top_level
        .iter()
        .copied()
        .filter(|d| d.ends_with(".dist-info"))
        .collect();
    let dist_info = match dist_infos.as_slice() {
        [one] => *one,
        [] => {
            problems.push(Problem::error(
                "wheel-dist-info-missing",
                "has no `.dist-info` directory",
            ));
            return None;
        }
        many => {
            problems.push(Problem::error(
                "wheel-dist-info-multiple",
                format!(
                    "has {} `.dist-info` directories: {}",
                    many.len(),
                    quote_list(&many.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
                ),
            ));
            return None;
        }
    };
    let stem = dist_info.trim_end_matches(".dist-info");
    match stem.rsplit_once('-') {
        Some((name, version))
            if normalize(name) == filename.normalized_name()
                && same_version(version, &filename.version_text) => {}
        _ => problems.push(Problem::error(
            "wheel-dist-info-name",
            format!(
                "has `{dist_info}`, which does not match the file name's `{}-{}`",
                filename.name, filename.version_text
            ),
        )),
    }
    // Directory names in a wheel are case-sensitive: `.DATA` is not a data directory.
    let data_dirs = top_level.iter().filter(|d| d.ends_with(".data"));
    for data_dir in data_dirs {
        if data_dir.trim_end_matches(".data") != stem {
            problems.push(Problem::error(
                "wheel-data-dir",
                format!("has `{data_dir}`; the only allowed `.data` directory is `{stem}.data`"),
            ));
        }
    }
    Some(dist_info)
}

/// The three files of the `.dist-info` directory that verification reads, each `None`
/// when it is absent or could not be read (a `zip-read` problem then says why).
struct DistInfoFiles {
    wheel_path: String,
    metadata_path: String,
    record_path: String,
    wheel: Option<Vec<u8>>,
    metadata: Option<Vec<u8>>,
    record: Option<Vec<u8>>,
}

impl DistInfoFiles {
    fn read(
        dist_info: &str,
        archive: &mut ZipArchive<SharedFile>,
        by_name: &BTreeMap<&str, &Member>,
        problems: &mut Vec<Problem>,
    ) -> Self {
        let mut read = |name: &str, limit: u64| -> Option<Vec<u8>> {
            let member = by_name.get(name)?;
            match ziparchive::read_member(archive, member.index, limit) {
                Ok(data) => Some(data),
                Err(e) => {
                    problems.push(Problem::error(
                        "zip-read",
                        format!("entry `{name}` cannot be read: {e}"),
                    ));
                    None
                }
            }
        };
        let wheel_path = format!("{dist_info}/WHEEL");
        let metadata_path = format!("{dist_info}/METADATA");
        let record_path = format!("{dist_info}/RECORD");
        let wheel = read(&wheel_path, MAX_METADATA_BYTES);
        let metadata = read(&metadata_path, MAX_METADATA_BYTES);
        let record = read(&record_path, MAX_RECORD_BYTES);
        Self {
            wheel_path,
            metadata_path,
            record_path,
            wheel,
            metadata,
            record,
        }
    }
}

fn check_wheel_file(
    filename: &WheelFilename,
    wheel_path: &str,
    bytes: &[u8],
    problems: &mut Vec<Problem>,
) {
    let wheel = match WheelInfoFile::parse(bytes) {
        Ok(wheel) => wheel,
        Err(e) => {
            problems.push(Problem::error(
                "wheel-file-invalid",
                format!("`{wheel_path}` {e}"),
            ));
            return;
        }
    };
    check_wheel_version(wheel_path, wheel.wheel_version(), problems);
    match wheel.root_is_purelib() {
        Some("true" | "false") => {}
        Some(other) => problems.push(Problem::error(
            "wheel-purelib",
            format!("`{wheel_path}` has `Root-Is-Purelib: {other}`; expected `true` or `false`"),
        )),
        None => problems.push(Problem::error(
            "wheel-purelib",
            format!("`{wheel_path}` has no `Root-Is-Purelib`"),
        )),
    }
    check_tags(filename, wheel_path, &wheel.tags(), problems);
    check_build(filename, wheel_path, wheel.build(), problems);
}

fn check_wheel_version(wheel_path: &str, version: Option<&str>, problems: &mut Vec<Problem>) {
    let Some(version) = version else {
        problems.push(Problem::error(
            "wheel-version",
            format!("`{wheel_path}` has no `Wheel-Version`"),
        ));
        return;
    };
    let mut parts = version.trim().split('.');
    match (parts.next().map(str::parse::<u32>), parts.next().map(str::parse::<u32>)) {
        (Some(Ok(1)), Some(Ok(0)) | None) => {}
        (Some(Ok(1)), Some(Ok(_))) => problems.push(Problem::warning(
            "wheel-version",
            format!("`{wheel_path}` has `Wheel-Version: {version}`, newer than 1.0; installers will warn"),
        )),
        _ => problems.push(
            Problem::error(
                "wheel-version",
                format!("`{wheel_path}` has `Wheel-Version: {version}`; only major version 1 is supported"),
            )
            .hint("installers refuse wheels of another major version"),
        ),
    }
}

/// The tags one `Tag` line stands for: the spec wants one line per tag, but maturin
/// writes the file name's compressed set (`cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64`)
/// on one line. Installers read only the file name's tags, so both forms mean the same.
fn expand_tag_line(line: &str) -> Vec<String> {
    let parts: Vec<&str> = line.trim().split('-').collect();
    let [python, abi, platform] = parts.as_slice() else {
        return vec![line.trim().to_owned()];
    };
    let mut tags = Vec::new();
    for python in python.split('.') {
        for abi in abi.split('.') {
            for platform in platform.split('.') {
                tags.push(format!("{python}-{abi}-{platform}"));
            }
        }
    }
    tags
}

/// `WHEEL`'s tags, expanded, against the file name's: a different set means the file
/// was renamed (an error); the same set written compressed is only a warning.
fn check_tags(
    filename: &WheelFilename,
    wheel_path: &str,
    lines: &[&str],
    problems: &mut Vec<Problem>,
) {
    let declared: BTreeSet<String> = lines.iter().flat_map(|l| expand_tag_line(l)).collect();
    let expected = filename.expanded_tags();
    if declared == expected {
        let compressed: Vec<String> = lines
            .iter()
            .filter(|l| expand_tag_line(l).len() > 1)
            .map(|l| l.trim().to_owned())
            .collect();
        if !compressed.is_empty() {
            problems.push(Problem::warning(
                "wheel-tags-compressed",
                format!(
                    "`{wheel_path}` writes compressed tag sets on one `Tag` line ({}); the spec wants one line per tag, and installers read the file name's tags, which agree",
                    quote_list(&compressed)
                ),
            ));
        }
        return;
    }
    let missing: Vec<String> = expected.difference(&declared).cloned().collect();
    let extra: Vec<String> = declared.difference(&expected).cloned().collect();
    let mut detail = Vec::new();
    if !missing.is_empty() {
        detail.push(format!("missing {}", quote_list(&missing)));
    }
    if !extra.is_empty() {
        detail.push(format!("not in the file name {}", quote_list(&extra)));
    }
    problems.push(
        Problem::error(
            "wheel-tags",
            format!(
                "`{wheel_path}` tags do not match the file name: {}",
                detail.join("; ")
            ),
        )
        .hint("the file was probably renamed after the build; rebuild instead of renaming"),
    );
}

/// `WHEEL`'s `Build` against the file name's build tag. Installers read only the file
/// name's, so a missing `Build` line is a warning; two different values are an error.
fn check_build(
    filename: &WheelFilename,
    wheel_path: &str,
    build: Option<&str>,
    problems: &mut Vec<Problem>,
) {
    let file_build = filename.build.as_ref().map(ToString::to_string);
    let build = build.map(str::trim);
    match (build, file_build.as_deref()) {
        (a, b) if a == b => {}
        (None, Some(file_build)) => problems.push(Problem::warning(
            "wheel-build-missing",
            format!(
                "`{wheel_path}` has no `Build` line for the file name's build tag `{file_build}`; installers read the file name's"
            ),
        )),
        (build, file_build) => problems.push(Problem::error(
            "wheel-build",
            format!(
                "`{wheel_path}` has build tag {}, the file name {}",
                build.map_or_else(|| "none".to_owned(), |b| format!("`{b}`")),
                file_build.map_or_else(|| "none".to_owned(), |b| format!("`{b}`"))
            ),
        )),
    }
}

/// Checks `METADATA` against the file name (and its license files against the wheel),
/// and records the project it names.
fn check_metadata_file(
    filename: &WheelFilename,
    dist_info: &str,
    files: &DistInfoFiles,
    by_name: &BTreeMap<&str, &Member>,
    report: &mut ArchiveReport,
) {
    let metadata_path = &files.metadata_path;
    let Some(bytes) = &files.metadata else {
        report.problems.push(Problem::error(
            "metadata-missing",
            format!("has no `{metadata_path}`"),
        ));
        return;
    };
    check_and_record_metadata(
        metadata_path,
        bytes,
        &filename.name,
        &filename.version_text,
        report,
    );
    if let Some(metadata) = &report.metadata {
        check_license_files(dist_info, metadata, by_name, &mut report.problems);
    }
}

/// Parses a METADATA/PKG-INFO at `path`, checks it against the name and version of its
/// file name, and records it and the project it names in `report`.
pub(crate) fn check_and_record_metadata(
    path: &str,
    bytes: &[u8],
    file_name_name: &str,
    file_name_version: &str,
    report: &mut ArchiveReport,
) {
    match CoreMetadata::parse(bytes) {
        Err(e) => report
            .problems
            .push(Problem::error("metadata-invalid", format!("`{path}` {e}"))),
        Ok(metadata) => {
            check_metadata(
                path,
                &metadata,
                file_name_name,
                file_name_version,
                &mut report.problems,
            );
            report.project = project_of(&metadata);
            report.metadata_version = metadata.metadata_version().map(str::to_owned);
            report.metadata = Some(metadata);
        }
    }
}

/// Checks a parsed METADATA/PKG-INFO against the name and version of its file name.
fn check_metadata(
    path: &str,
    metadata: &CoreMetadata,
    file_name_name: &str,
    file_name_version: &str,
    problems: &mut Vec<Problem>,
) {
    match metadata.metadata_version() {
        None => problems.push(Problem::error(
            "metadata-version",
            format!("`{path}` has no `Metadata-Version`"),
        )),
        Some(version) if KNOWN_METADATA_VERSIONS.contains(&version) => {}
        Some(version) => {
            let major = version
                .split('.')
                .next()
                .and_then(|m| m.parse::<u32>().ok());
            if major == Some(2) {
                problems.push(Problem::warning(
                    "metadata-version",
                    format!(
                        "`{path}` has `Metadata-Version: {version}`, newer than this tool knows"
                    ),
                ));
            } else {
                problems.push(Problem::error(
                    "metadata-version",
                    format!("`{path}` has unknown `Metadata-Version: {version}`"),
                ));
            }
        }
    }
    match metadata.name() {
        None => problems.push(Problem::error(
            "metadata-name",
            format!("`{path}` has no `Name`"),
        )),
        Some(name) if normalize(name) != normalize(file_name_name) => problems.push(
            Problem::error(
                "metadata-name",
                format!("`{path}` says `Name: {name}`, but the file name says `{file_name_name}`"),
            )
            .hint("the archive was renamed or holds another project's metadata; rebuild it"),
        ),
        Some(_) => {}
    }
    match metadata.version() {
        None => problems.push(Problem::error("metadata-version-field", format!("`{path}` has no `Version`"))),
        Some(version) if !same_version(version, file_name_version) => problems.push(
            Problem::error(
                "metadata-version-mismatch",
                format!("`{path}` says `Version: {version}`, but the file name says `{file_name_version}`"),
            )
            .hint("the archive was renamed or built from another version; rebuild it"),
        ),
        Some(_) => {}
    }
}

fn check_license_files(
    dist_info: &str,
    metadata: &CoreMetadata,
    by_name: &BTreeMap<&str, &Member>,
    problems: &mut Vec<Problem>,
) {
    let applies = metadata
        .metadata_version()
        .and_then(|v| crate::name::parse_version(v).ok())
        .is_some_and(|v| v >= crate::name::Version::new([2, 4]));
    if !applies {
        return;
    }
    for license in metadata.values("License-File") {
        let path = format!("{dist_info}/licenses/{license}");
        if !by_name.contains_key(path.as_str()) {
            problems.push(Problem::error(
                "license-file-missing",
                format!(
                    "METADATA lists `License-File: {license}`, but `{path}` is not in the wheel"
                ),
            ));
        }
    }
}

/// Metadata's name and version, as the manifest records them.
fn project_of(metadata: &CoreMetadata) -> Option<Project> {
    let name = metadata.name()?;
    let version = metadata.version()?;
    let normalized_version =
        crate::name::parse_version(version).map_or_else(|_| version.to_owned(), |v| v.to_string());
    Some(Project {
        name: name.to_owned(),
        normalized_name: normalize(name),
        version: normalized_version,
    })
}

/// One entry to hash.
struct HashJob {
    index: usize,
    path: String,
    /// A fresh hasher of the RECORD row's algorithm (only verifiable ones are queued).
    hasher: RecordHasher,
    algorithm_name: String,
    digest: Vec<u8>,
    size: Option<u64>,
    declared: u64,
}

fn is_record_or_signature(dist_info: &str, path: &str) -> bool {
    path.strip_prefix(dist_info)
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|rest| matches!(rest, "RECORD" | "RECORD.jws" | "RECORD.p7s"))
}

/// Checks every RECORD row against the archive and returns the entries to hash; then
/// reports the files RECORD does not list.
fn check_record_listing(
    dist_info: &str,
    record_path: &str,
    entries: &[record::RecordEntry],
    by_name: &BTreeMap<&str, &Member>,
    problems: &mut Vec<Problem>,
) -> Vec<HashJob> {
    let mut jobs = Vec::new();
    let mut seen = BTreeSet::new();
    for entry in entries {
        if !seen.insert(entry.path.as_str()) {
            problems.push(Problem::error(
                "record-duplicate",
                format!(
                    "`{record_path}` lists `{}` twice (row {})",
                    entry.path, entry.row
                ),
            ));
            continue;
        }
        if let Some(job) = check_record_entry(dist_info, record_path, entry, by_name, problems) {
            jobs.push(job);
        }
    }
    check_unlisted(dist_info, record_path, entries, by_name, problems);
    jobs
}

/// Checks one RECORD row: a safe path naming a file of the wheel, with a hash the spec
/// allows. Returns the work of hashing that file, if there is any to do.
fn check_record_entry(
    dist_info: &str,
    record_path: &str,
    entry: &record::RecordEntry,
    by_name: &BTreeMap<&str, &Member>,
    problems: &mut Vec<Problem>,
) -> Option<HashJob> {
    if let Some(reason) = crate::problem::unsafe_member_path(&entry.path) {
        problems.push(Problem::error(
            "path-unsafe",
            format!(
                "`{record_path}` row {} path `{}` {reason}",
                entry.row, entry.path
            ),
        ));
        return None;
    }
    if entry.path == record_path {
        if entry.hash.is_some() || entry.size.is_some() {
            problems.push(Problem::warning(
                "record-self-hash",
                format!("`{record_path}` gives a hash or size for itself; the spec says leave both empty"),
            ));
        }
        return None;
    }
    let Some(member) = by_name.get(entry.path.as_str()).filter(|m| !m.is_dir) else {
        if !is_record_or_signature(dist_info, &entry.path) {
            problems.push(
                Problem::error(
                    "record-missing-file",
                    format!(
                        "`{record_path}` lists `{}`, which is not in the wheel",
                        entry.path
                    ),
                )
                .hint("the wheel was modified after it was built; rebuild it"),
            );
        }
        return None;
    };
    let Some((algorithm_name, digest)) = &entry.hash else {
        if !is_record_or_signature(dist_info, &entry.path) {
            problems.push(Problem::error(
                "record-no-hash",
                format!("`{record_path}` gives no hash for `{}`", entry.path),
            ));
        }
        return None;
    };
    let hasher = verifiable_hasher(record_path, &entry.path, algorithm_name, problems)?;
    if entry.size.is_none() {
        problems.push(Problem::warning(
            "record-no-size",
            format!("`{record_path}` gives no size for `{}`", entry.path),
        ));
    }
    Some(HashJob {
        index: member.index,
        path: entry.path.clone(),
        hasher,
        algorithm_name: algorithm_name.clone(),
        digest: digest.clone(),
        size: entry.size,
        declared: member.size,
    })
}

/// A hasher for the algorithm of a RECORD hash, if this tool verifies it: the spec
/// forbids the weak ones, and the ones it allows but this tool cannot compute are only
/// warned about.
fn verifiable_hasher(
    record_path: &str,
    path: &str,
    algorithm_name: &str,
    problems: &mut Vec<Problem>,
) -> Option<RecordHasher> {
    let algorithm = Algorithm::from_name(algorithm_name);
    match algorithm {
        Algorithm::Forbidden => {
            problems.push(Problem::error(
                "record-weak-hash",
                format!(
                    "`{record_path}` hashes `{path}` with {algorithm_name}, which the spec forbids"
                ),
            ));
            None
        }
        Algorithm::Unverifiable => {
            problems.push(Problem::warning(
                "record-unverified-hash",
                format!(
                    "`{record_path}` hashes `{path}` with {algorithm_name}, which is not checked here"
                ),
            ));
            None
        }
        _ => RecordHasher::new(algorithm),
    }
}

/// Files in the wheel that RECORD does not list (RECORD and its signatures aside).
fn check_unlisted(
    dist_info: &str,
    record_path: &str,
    entries: &[record::RecordEntry],
    by_name: &BTreeMap<&str, &Member>,
    problems: &mut Vec<Problem>,
) {
    let listed: BTreeSet<&str> = entries.iter().map(|e| e.path.as_str()).collect();
    let unlisted: Vec<String> = by_name
        .values()
        .filter(|m| {
            !m.is_dir
                && !listed.contains(m.name.as_str())
                && !is_record_or_signature(dist_info, &m.name)
        })
        .map(|m| m.name.clone())
        .collect();
    if !unlisted.is_empty() {
        problems.push(
            Problem::error(
                "record-unlisted",
                format!(
                    "has {} file(s) not listed in `{record_path}`: {}",
                    unlisted.len(),
                    quote_list(&unlisted)
                ),
            )
            .hint("a file was added to the wheel after it was built; rebuild it"),
        );
    }
}

/// Hashes every listed entry in parallel, each worker with its own cheap clone of the
/// archive, and compares hash and size with RECORD.
fn verify_hashes(
    archive: &ZipArchive<SharedFile>,
    jobs: &[HashJob],
    limits: &Limits,
    problems: &mut Vec<Problem>,
) {
    let total = AtomicU64::new(0);
    // Largest first: one big extension module is a single deflate stream that cannot be
    // split, so starting it early keeps the other workers busy with the small entries.
    let mut order: Vec<&HashJob> = jobs.iter().collect();
    order.sort_by_key(|job| std::cmp::Reverse(job.declared));
    let mut found: Vec<(usize, Vec<Problem>)> = order
        .par_iter()
        .map_init(
            || (archive.clone(), vec![0u8; 64 * 1024]),
            |(archive, buffer), job| (job.index, hash_entry(archive, buffer, job, limits, &total)),
        )
        .collect();
    // Report in archive order, whatever order the work ran in.
    found.sort_by_key(|(index, _)| *index);
    problems.extend(found.into_iter().flat_map(|(_, found)| found));
}

fn hash_entry(
    archive: &mut ZipArchive<SharedFile>,
    buffer: &mut [u8],
    job: &HashJob,
    limits: &Limits,
    total: &AtomicU64,
) -> Vec<Problem> {
    let (size, actual) = match stream_entry(archive, buffer, job, limits, total) {
        Ok(streamed) => streamed,
        Err(problem) => return vec![problem],
    };
    let path = job.path.escape_debug();
    let mut problems = Vec::new();
    if let Some(expected) = job.size
        && expected != size
    {
        problems.push(
            Problem::error(
                "record-size-mismatch",
                format!("`{path}` is {size} bytes, RECORD says {expected}"),
            )
            .hint("the wheel was modified after it was built; rebuild it"),
        );
    }
    if actual != job.digest {
        problems.push(
            Problem::error(
                "record-hash-mismatch",
                format!(
                    "`{path}` has {}={}, RECORD says {}={}",
                    job.algorithm_name,
                    encode_digest(&actual),
                    job.algorithm_name,
                    encode_digest(&job.digest)
                ),
            )
            .hint("the wheel was modified after it was built; rebuild it"),
        );
    }
    problems
}

/// Inflates one entry through the zip crate's reader, which checks its CRC-32 at the
/// end and refuses data past its declared size, and returns its size and digest.
fn stream_entry(
    archive: &mut ZipArchive<SharedFile>,
    buffer: &mut [u8],
    job: &HashJob,
    limits: &Limits,
    total: &AtomicU64,
) -> Result<(u64, Vec<u8>), Problem> {
    let path = job.path.escape_debug();
    let mut entry = archive
        .by_index(job.index)
        .map_err(|e| Problem::error("zip-read", format!("entry `{path}` cannot be read: {e}")))?;
    let mut hasher = job.hasher.clone();
    let mut size = 0u64;
    loop {
        let n = match entry.read(buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                return Err(Problem::error(
                    "zip-corrupt",
                    format!("entry `{path}` is corrupt: {e}"),
                )
                .hint(
                    "the file was damaged in transfer or tampered with; fetch or rebuild it again",
                ));
            }
        };
        hasher.update(&buffer[..n]);
        size += n as u64;
        if size > job.declared {
            return Err(Problem::error(
                "zip-bomb",
                format!(
                    "entry `{path}` unpacks to more than its declared {} bytes",
                    job.declared
                ),
            ));
        }
        if total.fetch_add(n as u64, Ordering::Relaxed) + n as u64 > limits.max_unpacked_size {
            return Err(Problem::error(
                "zip-bomb",
                format!(
                    "unpacks to more than the limit of {} bytes",
                    limits.max_unpacked_size
                ),
            ));
        }
    }
    if size != job.declared {
        // The CRC matched, but readers that trust the declared size see other bytes.
        return Err(Problem::error(
            "zip-corrupt",
            format!(
                "entry `{path}` unpacks to {size} bytes, its header declares {}",
                job.declared
            ),
        )
        .hint("readers disagree on this entry's content (ZIP confusion); rebuild the archive"));
    }
    Ok((size, hasher.finalize()))
}
