//! `merge` (the fan-in of a CI matrix) and `select` (the release set), with staging of
//! the selected files into a directory or a zip that re-verifies every digest while it
//! copies, and leaves nothing half-staged behind when a file does not match.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use custody_cli::{Failure, StepResult};
use custody_dist::digest::{DigestSet, first_mismatch, hash_reader};
use custody_manifest::{Artifact, Manifest, candidates, index_dir, write_atomically};
use custody_output::{Context, ExitStatus};

use crate::collect::announce_manifest;
use crate::{GENERATOR, MergeArgs, SelectArgs, pairs_to_map};
use custody_cli::manifests::{load_manifest, write_manifest};

pub(crate) fn merge(args: &MergeArgs, context: &mut Context) -> StepResult {
    let mut manifests = Vec::with_capacity(args.manifests.len());
    for path in &args.manifests {
        let (path, manifest) = load_manifest(context, path)?;
        manifests.push((PathBuf::from(context.display(&path)), manifest));
    }
    let merged = custody_manifest::merge(GENERATOR, &manifests)?;
    let out = context.resolve(&args.out);
    write_manifest(context, &merged, &out)?;
    let verb = format!(
        "merged from {} manifest(s) of {} job(s)",
        manifests.len(),
        merged.jobs.len()
    );
    announce_manifest(&merged, &out, &verb, context)?;
    Ok(ExitStatus::Success)
}

pub(crate) fn select(args: &SelectArgs, context: &mut Context) -> StepResult {
    let (source_path, source) = load_manifest(context, &args.manifest)?;
    let selected = custody_manifest::select(
        GENERATOR,
        &source,
        &pairs_to_map(&args.criteria),
        &args.kinds,
    )?;
    let from = match &args.from {
        Some(dir) => context.resolve(dir),
        None => source_path
            .parent()
            .map_or_else(|| context.cwd.clone(), ToOwned::to_owned),
    };
    let out = args.out.as_ref().map(|p| context.resolve(p));
    let manifest_name = out.as_ref().and_then(|p| p.file_name()).map_or_else(
        || "release.json".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );

    if args.copy_to.is_some() || args.zip.is_some() {
        let sources = locate_all(&selected, &from, &source_path, context)?;
        if let Some(dir) = &args.copy_to {
            let dir = context.resolve(dir);
            copy_verified(&selected, &sources, &dir, &manifest_name, context)?;
            context
                .out
                .status(
                    "Staged",
                    &format!(
                        "{} file(s) and `{manifest_name}` in `{}`",
                        sources.len(),
                        context.display(&dir)
                    ),
                )
                .map_err(Failure::environment)?;
            context
                .out
                .set_output("release_dir", &context.display(&dir))
                .map_err(Failure::environment)?;
        }
        if let Some(zip) = &args.zip {
            let zip = context.resolve(zip);
            zip_verified(&selected, &sources, &zip, &manifest_name, context)?;
            context
                .out
                .status(
                    "Packed",
                    &format!(
                        "{} file(s) and `{manifest_name}` into `{}`",
                        sources.len(),
                        context.display(&zip)
                    ),
                )
                .map_err(Failure::environment)?;
            context
                .out
                .set_output("release_zip", &context.display(&zip))
                .map_err(Failure::environment)?;
        }
    }
    let written = match (&out, &args.copy_to) {
        (Some(out), _) => {
            write_manifest(context, &selected, out)?;
            out.clone()
        }
        (None, Some(dir)) => context.resolve(dir).join(&manifest_name),
        (None, None) => PathBuf::from(&manifest_name),
    };
    let criteria = args
        .criteria
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let verb = if criteria.is_empty() {
        "selected".to_owned()
    } else {
        format!("selected where {criteria}")
    };
    announce_manifest(&selected, &written, &verb, context)?;
    Ok(ExitStatus::Success)
}

/// Finds every copy of every selected file under `from`; a missing file stops the step
/// before anything is copied. Which copy is used is decided by its digests.
fn locate_all(
    manifest: &Manifest,
    from: &Path,
    source_manifest: &Path,
    context: &Context,
) -> Result<Vec<Vec<PathBuf>>, Failure> {
    let index = index_dir(from, &[source_manifest.to_owned()]).map_err(Failure::input)?;
    let mut found = Vec::with_capacity(manifest.artifacts.len());
    for artifact in &manifest.artifacts {
        let copies = candidates(&index, &artifact.file_name);
        if copies.is_empty() {
            return Err(Failure::no(format!(
                "`{}` is missing under `{}`\nhint: pass --from with the directory holding the jobs' artifacts",
                artifact.file_name,
                context.display(from)
            )));
        }
        found.push(copies.to_vec());
    }
    Ok(found)
}

/// Passes everything read through to a writer: hash and copy in one read.
struct Tee<R, W> {
    reader: R,
    writer: W,
}

impl<R: Read, W: Write> Read for Tee<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.reader.read(buf)?;
        self.writer.write_all(&buf[..n])?;
        Ok(n)
    }
}

/// Copies `source` into `writer` while hashing it, and checks the copy against the
/// manifest entry. `shown` names the source in messages.
fn copy_checked(
    artifact: &Artifact,
    source: &Path,
    shown: &str,
    writer: impl Write,
) -> Result<(), Failure> {
    let set = if artifact.digests.md5.is_some() {
        DigestSet::Upload
    } else {
        DigestSet::Sha256
    };
    let reader = fs_err::File::open(source).map_err(Failure::input)?;
    let (size, digests) = hash_reader(
        Tee { reader, writer },
        set,
        &custody_output::NoProgress,
        &artifact.file_name,
    )
    .map_err(Failure::environment)?;
    if size != artifact.size {
        return Err(Failure::no(format!(
            "`{shown}` is {size} bytes, but the manifest records {}\nhint: the file changed after it was collected; collect it again",
            artifact.size
        )));
    }
    if let Some((digest, recorded, actual)) = first_mismatch(&artifact.digests, &digests) {
        return Err(Failure::no(format!(
            "`{shown}` has {digest} {actual}, but the manifest records {recorded}\nhint: the file changed after it was collected; collect it again"
        )));
    }
    Ok(())
}

/// Tries each copy of a file in turn until one matches the manifest, and returns it;
/// returns the first copy's mismatch when none does. `attempt` checks (or writes) one.
fn first_matching<'a>(
    artifact: &Artifact,
    copies: &'a [PathBuf],
    context: &Context,
    mut attempt: impl FnMut(&Path, &str) -> Result<(), Failure>,
) -> Result<&'a Path, Failure> {
    let mut first_error = None;
    for source in copies {
        match attempt(source, &context.display(source)) {
            Ok(()) => return Ok(source),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| Failure::no(format!("`{}` is missing", artifact.file_name))))
}

fn copy_verified(
    manifest: &Manifest,
    sources: &[Vec<PathBuf>],
    dir: &Path,
    manifest_name: &str,
    context: &Context,
) -> Result<(), Failure> {
    fs_err::create_dir_all(dir).map_err(Failure::environment)?;
    // Copy everything to temporary names first; only when every file matches are they
    // renamed into place, so a mismatch leaves the directory as it was.
    let mut staged: Vec<(tempfile::NamedTempFile, PathBuf)> = Vec::new();
    for (artifact, copies) in manifest.artifacts.iter().zip(sources) {
        let target = dir.join(&artifact.file_name);
        let mut kept = None;
        first_matching(artifact, copies, context, |source, shown| {
            if target.canonicalize().ok() == source.canonicalize().ok() {
                // Staging in place: verify without copying.
                return copy_checked(artifact, source, shown, io::sink());
            }
            let mut temporary =
                tempfile::NamedTempFile::new_in(dir).map_err(Failure::environment)?;
            copy_checked(artifact, source, shown, temporary.as_file_mut())?;
            kept = Some(temporary);
            Ok(())
        })?;
        if let Some(temporary) = kept {
            staged.push((temporary, target));
        }
    }
    for (temporary, target) in staged {
        temporary
            .persist(&target)
            .map_err(|e| Failure::environment(e.error))?;
    }
    write_atomically(&dir.join(manifest_name), manifest.to_json().as_bytes())
        .map_err(Failure::environment)?;
    Ok(())
}

fn zip_verified(
    manifest: &Manifest,
    sources: &[Vec<PathBuf>],
    target: &Path,
    manifest_name: &str,
    context: &Context,
) -> Result<(), Failure> {
    let dir = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    fs_err::create_dir_all(&dir).map_err(Failure::environment)?;
    let temporary = tempfile::NamedTempFile::new_in(&dir).map_err(Failure::environment)?;
    let mut zip = zip::ZipWriter::new(temporary.reopen().map_err(Failure::environment)?);
    // Wheels and sdists are compressed already: store them.
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    for (artifact, copies) in manifest.artifacts.iter().zip(sources) {
        // Find the matching copy first: a zip entry cannot be taken back once started.
        // Packing checks the digests again, so a file changed in between is caught, and
        // the temporary zip is then thrown away.
        let source = first_matching(artifact, copies, context, |source, shown| {
            copy_checked(artifact, source, shown, io::sink())
        })?;
        zip.start_file(artifact.file_name.as_str(), options)
            .map_err(Failure::environment)?;
        copy_checked(artifact, source, &context.display(source), &mut zip)?;
    }
    zip.start_file(
        manifest_name,
        options.compression_method(zip::CompressionMethod::Deflated),
    )
    .map_err(Failure::environment)?;
    zip.write_all(manifest.to_json().as_bytes())
        .map_err(Failure::environment)?;
    zip.finish().map_err(Failure::environment)?;
    temporary
        .persist(target)
        .map_err(|e| Failure::environment(e.error))?;
    Ok(())
}
