//! `merge` (the fan-in of a CI matrix) and `select` (the release set), with staging of
//! the selected files (and their recorded attestation files) into a directory or a zip
//! that re-verifies every digest while it copies, and leaves nothing half-staged behind
//! when a file does not match; the `--require-attested-by` gate on the selection; and
//! `--sign`, one signature of the manifest written beside every copy of it.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use custody_cli::Diagnose;
use custody_cli::handoff::{self, BUNDLE_SUFFIX};
use custody_cli::manifests::{load_manifest, write_manifest};
use custody_dist::digest::{DigestSet, first_mismatch, hash_reader};
use custody_manifest::{
    Artifact, AttestationRecord, CombineError, Manifest, ManifestError, candidates, index_dir,
    write_atomically,
};
use custody_output::{Context, ExitStatus};
use sha2::{Digest, Sha256};

use crate::attest::{self, Trust, TrustArgs, TrustError};
use crate::report::announce_manifest;
use crate::sign::{SignError, Signer};
use crate::{GENERATOR, MergeArgs, SelectArgs, pairs_to_map};
use custody_cli::OutputError;

/// Why manifests could not be merged, or a release set selected.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SelectError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Combine(#[from] CombineError),
    #[error(transparent)]
    Stage(#[from] StageError),
    #[error(transparent)]
    Trust(#[from] TrustError),
    #[error(transparent)]
    Gate(#[from] GateError),
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error(transparent)]
    Output(#[from] OutputError),
}

impl SelectError {
    /// Every variant wraps the error that decides the exit status and hint.
    fn wrapped(&self) -> &dyn Diagnose {
        match self {
            Self::Manifest(error) => error,
            Self::Combine(error) => error,
            Self::Stage(error) => error,
            Self::Trust(error) => error,
            Self::Gate(error) => error,
            Self::Sign(error) => error,
            Self::Output(error) => error,
        }
    }
}

/// `--require-attested-by` refused the selection (each file was reported before).
#[derive(Debug, thiserror::Error)]
#[error(
    "{unattested} of {total} selected wheel(s) and sdist(s) are not attested by {signers}, and {failed} recorded attestation file(s) fail; nothing was selected"
)]
pub(crate) struct GateError {
    unattested: usize,
    total: usize,
    failed: usize,
    signers: String,
}

impl Diagnose for GateError {
    fn exit_status(&self) -> ExitStatus {
        ExitStatus::No
    }

    fn hint(&self) -> Option<String> {
        Some("release only files attested by the release workflow; `collect-artifacts verify --require-attested-by` shows what each file has".to_owned())
    }
}

impl Diagnose for SelectError {
    fn exit_status(&self) -> ExitStatus {
        self.wrapped().exit_status()
    }

    fn hint(&self) -> Option<String> {
        self.wrapped().hint()
    }
}

/// Why the selected files could not be staged. Paths are as the user sees them.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StageError {
    #[error("cannot look for the selected files in `{dir}`")]
    Index {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("`{file_name}` is missing under `{dir}`")]
    Missing { file_name: String, dir: PathBuf },
    #[error("cannot read `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("`{path}` is {size} bytes, but the manifest records {recorded}")]
    SizeChanged {
        path: PathBuf,
        size: u64,
        recorded: u64,
    },
    #[error("`{path}` has {digest} {actual}, but the manifest records {recorded}")]
    DigestChanged {
        path: PathBuf,
        digest: &'static str,
        actual: String,
        recorded: String,
    },
    #[error("cannot copy `{path}`")]
    Copy {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write `{path}`")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write the zip `{path}`")]
    Zip {
        path: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },
    #[error(
        "`{file_name}`, an attestation of `{attested}` the manifest records, is not beside it in `{dir}`"
    )]
    AttestationMissing {
        file_name: String,
        attested: String,
        dir: PathBuf,
    },
    #[error("`{path}` has sha256 {actual}, but the manifest records {recorded}")]
    AttestationChanged {
        path: PathBuf,
        actual: String,
        recorded: String,
    },
}

impl Diagnose for StageError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Index { .. } | Self::Read { .. } => ExitStatus::Input,
            Self::Missing { .. }
            | Self::SizeChanged { .. }
            | Self::DigestChanged { .. }
            | Self::AttestationMissing { .. }
            | Self::AttestationChanged { .. } => ExitStatus::No,
            Self::Copy { .. } | Self::Write { .. } | Self::Zip { .. } => ExitStatus::Environment,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::Missing { .. } => {
                Some("pass --from with the directory holding the jobs' artifacts".to_owned())
            }
            Self::SizeChanged { .. } | Self::DigestChanged { .. } => {
                Some("the file changed after it was collected; collect it again".to_owned())
            }
            Self::AttestationMissing { .. } => Some(
                "keep each attestation file beside the file it attests when moving artifacts between jobs".to_owned(),
            ),
            Self::AttestationChanged { .. } => Some(
                "the attestation file changed after it was collected; collect again".to_owned(),
            ),
            Self::Index { .. }
            | Self::Read { .. }
            | Self::Copy { .. }
            | Self::Write { .. }
            | Self::Zip { .. } => None,
        }
    }
}

pub(crate) fn merge(args: &MergeArgs, context: &mut Context) -> Result<ExitStatus, SelectError> {
    let signer = Signer::of(args.sign, &args.sigstore, context)?;
    let mut manifests = Vec::with_capacity(args.manifests.len());
    for path in &args.manifests {
        let (path, manifest) = load_manifest(context, path)?;
        manifests.push((PathBuf::from(context.display(&path)), manifest));
    }
    let merged = custody_manifest::merge(GENERATOR, &manifests)?;
    let out = context.resolve(&args.out);
    // A signature beside the path signs an earlier manifest's bytes.
    handoff::remove_stale(&out, context).map_err(SignError::from)?;
    write_manifest(context, &merged, &out)?;
    if let Some(signer) = &signer {
        signer.sign_file(&out, context)?;
    }
    let verb = format!(
        "merged from {} manifest(s) of {} job(s)",
        manifests.len(),
        merged.jobs.len()
    );
    announce_manifest(&merged, &out, &verb, None, context)?;
    Ok(ExitStatus::Success)
}

/// Where `select` puts the selected files besides the manifest.
#[derive(Debug)]
enum Target {
    /// `--copy-to`: a directory.
    Directory(PathBuf),
    /// `--zip`: a zip archive.
    Zip(PathBuf),
}

impl Target {
    fn path(&self) -> &Path {
        match self {
            Self::Directory(path) | Self::Zip(path) => path,
        }
    }

    /// The status word, the preposition, and the step output naming the target.
    fn wording(&self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Directory(_) => ("Staged", "in", "release_dir"),
            Self::Zip(_) => ("Packed", "into", "release_zip"),
        }
    }
}

pub(crate) fn select(args: &SelectArgs, context: &mut Context) -> Result<ExitStatus, SelectError> {
    let (source_path, source) = load_manifest(context, &args.manifest)?;
    let selected = custody_manifest::select(
        GENERATOR,
        &source,
        &pairs_to_map(&args.criteria),
        &args.kinds,
    )?;
    let signer = Signer::of(args.sign, &args.sigstore, context)?;
    let out = args.out.as_ref().map(|p| context.resolve(p));
    let manifest_name = out.as_ref().and_then(|p| p.file_name()).map_or_else(
        || "release.json".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    let targets: Vec<Target> = (args.copy_to.iter())
        .map(|dir| Target::Directory(context.resolve(dir)))
        .chain(args.zip.iter().map(|zip| Target::Zip(context.resolve(zip))))
        .collect();
    let gated = !args.required_signers.is_empty();
    let mut trust = None;
    let mut sources = Vec::new();
    if !targets.is_empty() || gated {
        let from = match &args.from {
            Some(dir) => context.resolve(dir),
            None => source_path
                .parent()
                .map_or_else(|| context.cwd.clone(), ToOwned::to_owned),
        };
        sources = locate_all(&selected, &from, &source_path, context)?;
        if gated {
            let loaded = trust_args(args).load(context)?;
            loaded.announce(context).map_err(OutputError::from)?;
            gate(&selected, &sources, &loaded, args, context)?;
            trust = Some(loaded);
        }
    }
    // One signature of the manifest's bytes, made once the selection passed its gate and
    // written beside every copy of the manifest.
    let bundle = match &signer {
        Some(signer) => {
            let content = selected.to_json();
            Some(signer.sign_bytes(&manifest_name, content.as_bytes(), context)?)
        }
        None => None,
    };
    for target in &targets {
        let staged = Staged {
            manifest: &selected,
            sources: &sources,
            manifest_name: &manifest_name,
            bundle: bundle.as_deref(),
        };
        stage(&staged, target, context)?;
    }
    let written = match (&out, &args.copy_to) {
        (Some(out), _) => {
            write_out(&selected, out, bundle.as_deref(), context)?;
            out.clone()
        }
        (None, Some(dir)) => context.resolve(dir).join(&manifest_name),
        (None, None) => PathBuf::from(&manifest_name),
    };
    if bundle.is_some() && (out.is_some() || args.copy_to.is_some()) {
        let shown = context.display(&handoff::bundle_path(&written));
        context
            .out
            .set_output("manifest_signature", &shown)
            .map_err(OutputError::from)?;
    }
    announce_manifest(
        &selected,
        &written,
        &selection_verb(args),
        trust.as_ref(),
        context,
    )?;
    Ok(ExitStatus::Success)
}

/// The trust root flags, as the attestation checks take them.
fn trust_args(args: &SelectArgs) -> TrustArgs {
    TrustArgs {
        root: args.sigstore.trust.clone(),
    }
}

/// Writes the selected manifest to `--out`, with its signature beside it or, unsigned,
/// without the signature an earlier run left there.
fn write_out(
    manifest: &Manifest,
    out: &Path,
    bundle: Option<&[u8]>,
    context: &Context,
) -> Result<(), SelectError> {
    let bundle_path = handoff::bundle_path(out);
    if bundle.is_none() {
        handoff::remove_stale(out, context).map_err(SignError::from)?;
    }
    write_manifest(context, manifest, out)?;
    if let Some(bundle) = bundle {
        write_atomically(&bundle_path, bundle).map_err(write_error(&bundle_path, context))?;
    }
    Ok(())
}

/// `--require-attested-by`: every selected wheel and sdist has a recorded attestation,
/// beside one of its copies, unchanged, verifying, signed by one of the signers; and
/// no recorded attestation fails. Each refusal is reported against its file.
fn gate(
    manifest: &Manifest,
    sources: &[Copies],
    trust: &Trust,
    args: &SelectArgs,
    context: &mut Context,
) -> Result<(), SelectError> {
    let signers = &args.required_signers;
    let (mut unattested, mut failed, mut total) = (0, 0, 0);
    for (artifact, copies) in manifest.artifacts.iter().zip(sources) {
        let paths: Vec<&Path> = std::iter::once(copies.first.as_path())
            .chain(copies.others.iter().map(PathBuf::as_path))
            .collect();
        let found = attest::reverify_recorded(
            &artifact.attestations,
            &paths,
            &artifact.file_name,
            &artifact.digests.sha256,
            trust,
        );
        let location = context.display(&copies.first);
        for refusal in &found.refusals {
            failed += 1;
            let diagnostic = attest::refusal_diagnostic(&artifact.file_name, &location, refusal);
            context.out.error(&diagnostic).map_err(OutputError::from)?;
        }
        if !attest::is_distribution(artifact.kind) {
            continue;
        }
        total += 1;
        if !attest::attested_by(&found, signers) {
            unattested += 1;
            let diagnostic =
                attest::unattested_diagnostic(&artifact.file_name, &location, &found, signers);
            context.out.error(&diagnostic).map_err(OutputError::from)?;
        }
    }
    if unattested == 0 && failed == 0 {
        return Ok(());
    }
    Err(GateError {
        unattested,
        total,
        failed,
        signers: signers
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(" or "),
    }
    .into())
}

/// "selected where python=3.7, arch=x86", for the announcement.
fn selection_verb(args: &SelectArgs) -> String {
    let criteria = args
        .criteria
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ");
    if criteria.is_empty() {
        "selected".to_owned()
    } else {
        format!("selected where {criteria}")
    }
}

/// What is staged: the selected files (where their copies are), their manifest under
/// its name, and the manifest's signature, if it is signed.
struct Staged<'a> {
    manifest: &'a Manifest,
    sources: &'a [Copies],
    manifest_name: &'a str,
    bundle: Option<&'a [u8]>,
}

impl Staged<'_> {
    /// The name of the manifest's signature beside it.
    fn bundle_name(&self) -> String {
        format!("{}{BUNDLE_SUFFIX}", self.manifest_name)
    }
}

/// Puts the selected files and their manifest into `target`, and says so.
fn stage(staged: &Staged<'_>, target: &Target, context: &mut Context) -> Result<(), SelectError> {
    let Staged {
        manifest,
        sources,
        manifest_name,
        ..
    } = *staged;
    match target {
        Target::Directory(dir) => copy_verified(staged, dir, context)?,
        Target::Zip(zip) => zip_verified(staged, zip, context)?,
    }
    let (word, preposition, output) = target.wording();
    let shown = context.display(target.path());
    let attestations: usize = manifest
        .artifacts
        .iter()
        .map(|a| {
            let mut names: Vec<&str> = a
                .attestations
                .iter()
                .map(|r| r.file_name.as_str())
                .collect();
            names.dedup();
            names.len()
        })
        .sum();
    let with_attestations = if attestations > 0 {
        format!(", {attestations} attestation file(s)")
    } else {
        String::new()
    };
    let manifest_files = if staged.bundle.is_some() {
        format!(", `{manifest_name}` and `{}`", staged.bundle_name())
    } else {
        format!(" and `{manifest_name}`")
    };
    context
        .out
        .status(
            word,
            &format!(
                "{} file(s){with_attestations}{manifest_files} {preposition} `{shown}`",
                sources.len()
            ),
        )
        .map_err(OutputError::from)?;
    context
        .out
        .set_output(output, &shown)
        .map_err(OutputError::from)?;
    Ok(())
}

/// Every copy of one selected file found under `--from`: at least one.
#[derive(Debug)]
struct Copies {
    first: PathBuf,
    others: Vec<PathBuf>,
}

/// Finds every copy of every selected file under `from`; a missing file stops the step
/// before anything is copied. Which copy is used is decided by its digests.
fn locate_all(
    manifest: &Manifest,
    from: &Path,
    source_manifest: &Path,
    context: &Context,
) -> Result<Vec<Copies>, StageError> {
    let index =
        index_dir(from, &[source_manifest.to_owned()]).map_err(|source| StageError::Index {
            dir: context.display(from).into(),
            source,
        })?;
    manifest
        .artifacts
        .iter()
        .map(|artifact| match candidates(&index, &artifact.file_name) {
            [first, others @ ..] => Ok(Copies {
                first: first.clone(),
                others: others.to_vec(),
            }),
            [] => Err(StageError::Missing {
                file_name: artifact.file_name.clone(),
                dir: context.display(from).into(),
            }),
        })
        .collect()
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
    shown: &Path,
    writer: impl Write,
) -> Result<(), StageError> {
    let set = if artifact.digests.md5.is_some() {
        DigestSet::Upload
    } else {
        DigestSet::Sha256
    };
    let reader = fs_err::File::open(source).map_err(|source| StageError::Read {
        path: shown.to_owned(),
        source,
    })?;
    let (size, digests) = hash_reader(
        Tee { reader, writer },
        set,
        &custody_output::NoProgress,
        &artifact.file_name,
    )
    .map_err(|source| StageError::Copy {
        path: shown.to_owned(),
        source,
    })?;
    if size != artifact.size {
        return Err(StageError::SizeChanged {
            path: shown.to_owned(),
            size,
            recorded: artifact.size,
        });
    }
    if let Some((digest, recorded, actual)) = first_mismatch(&artifact.digests, &digests) {
        return Err(StageError::DigestChanged {
            path: shown.to_owned(),
            digest,
            actual,
            recorded,
        });
    }
    Ok(())
}

/// Tries each copy of a file in turn until one matches the manifest, and returns it;
/// returns the first copy's mismatch when none does. `attempt` checks (or writes) one,
/// given its path and its path as shown.
fn first_matching<'a>(
    copies: &'a Copies,
    context: &Context,
    mut attempt: impl FnMut(&Path, &Path) -> Result<(), StageError>,
) -> Result<&'a Path, StageError> {
    let mut try_copy = |source: &Path| attempt(source, Path::new(&context.display(source)));
    let first_error = match try_copy(&copies.first) {
        Ok(()) => return Ok(&copies.first),
        Err(error) => error,
    };
    for source in &copies.others {
        if try_copy(source).is_ok() {
            return Ok(source);
        }
    }
    Err(first_error)
}

fn same_file(a: &Path, b: &Path) -> bool {
    a.canonicalize().ok() == b.canonicalize().ok()
}

/// The attestation files the manifest records for `artifact`, each once, found beside
/// `chosen` (the copy being staged) or else beside another copy of it.
fn attestation_sources<'a>(
    artifact: &'a Artifact,
    chosen: &Path,
    copies: &Copies,
    context: &Context,
) -> Result<Vec<(&'a AttestationRecord, PathBuf)>, StageError> {
    let paths: Vec<&Path> = [chosen, copies.first.as_path()]
        .into_iter()
        .chain(copies.others.iter().map(PathBuf::as_path))
        .collect();
    let mut sources: Vec<(&AttestationRecord, PathBuf)> = Vec::new();
    for record in &artifact.attestations {
        if sources.iter().any(|(r, _)| r.file_name == record.file_name) {
            continue;
        }
        let path = attest::locate(&record.file_name, &paths).ok_or_else(|| {
            StageError::AttestationMissing {
                file_name: record.file_name.clone(),
                attested: artifact.file_name.clone(),
                dir: chosen
                    .parent()
                    .map(|dir| PathBuf::from(context.display(dir)))
                    .unwrap_or_default(),
            }
        })?;
        sources.push((record, path));
    }
    Ok(sources)
}

/// Copies an attestation file (small: read whole) into `writer` once its sha256 is the
/// one the manifest records. `shown` names the source in messages.
fn copy_attestation(
    record: &AttestationRecord,
    source: &Path,
    shown: &Path,
    mut writer: impl Write,
) -> Result<(), StageError> {
    let bytes = fs_err::read(source).map_err(|source| StageError::Read {
        path: shown.to_owned(),
        source,
    })?;
    let actual = hex::encode(Sha256::digest(&bytes));
    if actual != record.sha256 {
        return Err(StageError::AttestationChanged {
            path: shown.to_owned(),
            actual,
            recorded: record.sha256.clone(),
        });
    }
    writer.write_all(&bytes).map_err(|source| StageError::Copy {
        path: shown.to_owned(),
        source,
    })
}

/// An I/O error while writing `path`.
fn write_error(path: &Path, context: &Context) -> impl FnOnce(io::Error) -> StageError {
    let path = PathBuf::from(context.display(path));
    move |source| StageError::Write { path, source }
}

fn copy_verified(staged: &Staged<'_>, dir: &Path, context: &Context) -> Result<(), StageError> {
    let Staged {
        manifest, sources, ..
    } = *staged;
    fs_err::create_dir_all(dir).map_err(write_error(dir, context))?;
    // Copy everything to temporary names first; only when every file matches are they
    // renamed into place, so a mismatch leaves the directory as it was.
    let mut pending: Vec<(tempfile::NamedTempFile, PathBuf)> = Vec::new();
    for (artifact, copies) in manifest.artifacts.iter().zip(sources) {
        let target = dir.join(&artifact.file_name);
        let mut kept = None;
        let chosen = first_matching(copies, context, |source, shown| {
            if same_file(&target, source) {
                // Staging in place: verify without copying.
                return copy_checked(artifact, source, shown, io::sink());
            }
            let mut temporary =
                tempfile::NamedTempFile::new_in(dir).map_err(write_error(dir, context))?;
            copy_checked(artifact, source, shown, temporary.as_file_mut())?;
            kept = Some(temporary);
            Ok(())
        })?;
        if let Some(temporary) = kept {
            pending.push((temporary, target));
        }
        for (record, source) in attestation_sources(artifact, chosen, copies, context)? {
            let target = dir.join(&record.file_name);
            let shown = PathBuf::from(context.display(&source));
            if same_file(&target, &source) {
                copy_attestation(record, &source, &shown, io::sink())?;
                continue;
            }
            let mut temporary =
                tempfile::NamedTempFile::new_in(dir).map_err(write_error(dir, context))?;
            copy_attestation(record, &source, &shown, temporary.as_file_mut())?;
            pending.push((temporary, target));
        }
    }
    for (temporary, target) in pending {
        temporary
            .persist(&target)
            .map_err(|e| write_error(&target, context)(e.error))?;
    }
    write_manifest_copy(staged, dir, context)
}

/// Writes the manifest, and its signature or else no stale one, into `dir`.
fn write_manifest_copy(
    staged: &Staged<'_>,
    dir: &Path,
    context: &Context,
) -> Result<(), StageError> {
    let manifest_path = dir.join(staged.manifest_name);
    let bundle_path = dir.join(staged.bundle_name());
    if staged.bundle.is_none() {
        match fs_err::remove_file(&bundle_path) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => {
                return Err(write_error(&bundle_path, context)(error));
            }
            _ => {}
        }
    }
    write_atomically(&manifest_path, staged.manifest.to_json().as_bytes())
        .map_err(write_error(&manifest_path, context))?;
    if let Some(bundle) = staged.bundle {
        write_atomically(&bundle_path, bundle).map_err(write_error(&bundle_path, context))?;
    }
    Ok(())
}

fn zip_verified(staged: &Staged<'_>, target: &Path, context: &Context) -> Result<(), StageError> {
    let Staged {
        manifest,
        sources,
        manifest_name,
        bundle,
    } = *staged;
    let dir = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    fs_err::create_dir_all(&dir).map_err(write_error(&dir, context))?;
    let temporary = tempfile::NamedTempFile::new_in(&dir).map_err(write_error(&dir, context))?;
    let file = temporary.reopen().map_err(write_error(target, context))?;
    let zip_error = |source| StageError::Zip {
        path: context.display(target).into(),
        source,
    };
    let mut zip = zip::ZipWriter::new(file);
    // Wheels and sdists are compressed already: store them.
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    for (artifact, copies) in manifest.artifacts.iter().zip(sources) {
        // Find the matching copy first: a zip entry cannot be taken back once started.
        // Packing checks the digests again, so a file changed in between is caught, and
        // the temporary zip is then thrown away.
        let source = first_matching(copies, context, |source, shown| {
            copy_checked(artifact, source, shown, io::sink())
        })?;
        zip.start_file(artifact.file_name.as_str(), options)
            .map_err(zip_error)?;
        let shown = PathBuf::from(context.display(source));
        copy_checked(artifact, source, &shown, &mut zip)?;
        for (record, source) in attestation_sources(artifact, source, copies, context)? {
            zip.start_file(record.file_name.as_str(), options)
                .map_err(zip_error)?;
            let shown = PathBuf::from(context.display(&source));
            copy_attestation(record, &source, &shown, &mut zip)?;
        }
    }
    zip.start_file(
        manifest_name,
        options.compression_method(zip::CompressionMethod::Deflated),
    )
    .map_err(zip_error)?;
    zip.write_all(manifest.to_json().as_bytes())
        .map_err(write_error(target, context))?;
    if let Some(bundle) = bundle {
        zip.start_file(
            staged.bundle_name(),
            options.compression_method(zip::CompressionMethod::Deflated),
        )
        .map_err(zip_error)?;
        zip.write_all(bundle)
            .map_err(write_error(target, context))?;
    }
    zip.finish().map_err(zip_error)?;
    temporary
        .persist(target)
        .map_err(|e| write_error(target, context)(e.error))?;
    Ok(())
}
