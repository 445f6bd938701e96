//! Python distribution formats as custody needs them: wheel and sdist file names,
//! `WHEEL`, core metadata 1.0–2.5, `RECORD`, PEP 440 versions and PEP 503 names, file
//! digests, and [`inspect`], which classifies an artifact and verifies it inside.

mod decompress;
pub mod digest;
pub mod executable;
pub mod filename;
pub mod metadata;
pub mod name;
pub mod problem;
mod reader;
pub mod record;
pub mod sdist;
mod sdist_tar;
pub mod wheel;
mod ziparchive;

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use custody_progress::Progress;

pub use digest::{DigestSet, Digests};
pub use executable::{ExecutableFormat, ExecutableInfo};
pub use filename::{SdistFilename, SdistFormat, WheelFilename};
pub use metadata::CoreMetadata;
pub use problem::{Problem, Severity};

/// Bounds on the work verification may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Total bytes an archive may unpack to; past it, the archive is refused as a bomb.
    pub max_unpacked_size: u64,
}

impl Limits {
    /// 8 GiB: above the largest real wheels (CUDA builds of `PyTorch` unpack to ~5 GiB).
    pub const DEFAULT_MAX_UNPACKED_SIZE: u64 = 8 * 1024 * 1024 * 1024;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_unpacked_size: Self::DEFAULT_MAX_UNPACKED_SIZE,
        }
    }
}

/// What an artifact is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactKind {
    Wheel,
    Sdist,
    Executable,
    File,
}

impl ArtifactKind {
    pub const ALL: [Self; 4] = [Self::Wheel, Self::Sdist, Self::Executable, Self::File];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wheel => "wheel",
            Self::Sdist => "sdist",
            Self::Executable => "executable",
            Self::File => "file",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// Whether a package index accepts this kind (PEP 527: wheels and sdists only).
    pub fn is_uploadable(self) -> bool {
        matches!(self, Self::Wheel | Self::Sdist)
    }
}

impl std::fmt::Display for ArtifactKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Project name and version as the artifact's own metadata states them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Project {
    pub name: String,
    pub normalized_name: String,
    /// PEP 440-normalized.
    pub version: String,
}

/// The tag sets of a wheel file name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WheelTags {
    pub python: Vec<String>,
    pub abi: Vec<String>,
    pub platform: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<String>,
}

/// What verifying an archive's content found.
#[derive(Debug, Clone, Default)]
pub struct ArchiveReport {
    pub project: Option<Project>,
    pub metadata: Option<CoreMetadata>,
    pub metadata_version: Option<String>,
    pub wheel: Option<WheelTags>,
    /// Files in the archive (directories not counted).
    pub entries: usize,
    pub unpacked_size: u64,
    pub problems: Vec<Problem>,
}

/// Everything known about one artifact after [`inspect`].
#[derive(Debug, Clone)]
pub struct Inspection {
    pub path: PathBuf,
    pub file_name: String,
    pub kind: ArtifactKind,
    pub size: u64,
    pub digests: Digests,
    pub project: Option<Project>,
    pub metadata_version: Option<String>,
    pub metadata: Option<CoreMetadata>,
    pub wheel: Option<WheelTags>,
    pub sdist_format: Option<SdistFormat>,
    pub executable: Option<ExecutableInfo>,
    /// Files inside, for archives.
    pub entries: Option<usize>,
    pub problems: Vec<Problem>,
}

impl Inspection {
    /// Whether verification found no error (warnings allowed).
    pub fn is_ok(&self) -> bool {
        !self.problems.iter().any(Problem::is_error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| p.is_error())
    }
}

/// Decides what an artifact is from its name and first bytes.
pub fn classify(path: &Path) -> io::Result<ArtifactKind> {
    let name = file_name_of(path);
    let mut head = [0u8; 8];
    let n = executable::read_up_to(&mut fs_err::File::open(path)?, &mut head)?;
    let head = &head[..n];
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".whl") {
        return Ok(ArtifactKind::Wheel);
    }
    // Every tar ending pip installs (`.tar.gz`, and the legacy `.tar.bz2`, `.tar.xz`,
    // `.tgz`, `.tar`, …), which verification then flags as not uploadable.
    if SdistFilename::parse(&name).is_ok_and(|sdist| sdist.format != SdistFormat::Zip) {
        return Ok(ArtifactKind::Sdist);
    }
    if lower.ends_with(".zip") && SdistFilename::parse(&name).is_ok() && zip_has_pkg_info(path) {
        return Ok(ArtifactKind::Sdist);
    }
    if executable::sniff(head).is_some() || lower.ends_with(".exe") {
        return Ok(ArtifactKind::Executable);
    }
    Ok(ArtifactKind::File)
}

/// A `.zip` is an sdist when it holds `{top}/PKG-INFO`; otherwise it is a plain file.
fn zip_has_pkg_info(path: &Path) -> bool {
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let Ok(archive) = zip::ZipArchive::new(file) else {
        return false;
    };
    archive.file_names().flatten().any(|name| {
        name.split_once('/')
            .is_some_and(|(_, rest)| rest == "PKG-INFO")
    })
}

/// The file name of `path` as text (lossy for non-UTF-8 names, which verification
/// then reports).
pub fn file_name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Classifies, hashes and verifies one artifact. Hashing and content verification run
/// in parallel. I/O errors (unreadable file) are returned as errors; everything wrong
/// *with* the artifact is in [`Inspection::problems`].
pub fn inspect(path: &Path, limits: &Limits, progress: &dyn Progress) -> io::Result<Inspection> {
    let file_name = file_name_of(path);
    let kind = classify(path)?;
    let set = if kind.is_uploadable() {
        DigestSet::Upload
    } else {
        DigestSet::Sha256
    };
    progress.start(&file_name, fs_err::metadata(path).ok().map(|m| m.len()));
    let (hashed, verified) = rayon::join(
        || digest::hash_file(path, set, progress),
        || verify_content(path, &file_name, kind, limits),
    );
    let (size, digests) = hashed?;
    let mut inspection = Inspection {
        path: path.to_owned(),
        file_name: file_name.clone(),
        kind,
        size,
        digests,
        project: None,
        metadata_version: None,
        metadata: None,
        wheel: None,
        sdist_format: None,
        executable: None,
        entries: None,
        problems: Vec::new(),
    };
    if std::str::from_utf8(
        path.file_name()
            .map(std::ffi::OsStr::as_encoded_bytes)
            .unwrap_or_default(),
    )
    .is_err()
    {
        inspection.problems.push(Problem::error(
            "file-name-encoding",
            "has a file name that is not UTF-8",
        ));
    }
    match verified? {
        Content::Archive(report) => {
            inspection.project = report.project;
            inspection.metadata_version = report.metadata_version;
            inspection.metadata = report.metadata;
            inspection.wheel = report.wheel;
            inspection.entries = Some(report.entries);
            inspection.problems.extend(report.problems);
            if kind == ArtifactKind::Sdist {
                inspection.sdist_format = SdistFilename::parse(&file_name).ok().map(|f| f.format);
            }
        }
        Content::Executable(result) => match result {
            Ok(info) => inspection.executable = Some(info),
            Err(problem) => inspection.problems.push(problem),
        },
        Content::Plain => {}
    }
    progress.finish(&file_name, if inspection.is_ok() { "ok" } else { "failed" });
    Ok(inspection)
}

enum Content {
    Archive(ArchiveReport),
    Executable(Result<ExecutableInfo, Problem>),
    Plain,
}

fn verify_content(
    path: &Path,
    file_name: &str,
    kind: ArtifactKind,
    limits: &Limits,
) -> io::Result<Content> {
    Ok(match kind {
        ArtifactKind::Wheel => Content::Archive(wheel::verify(path, file_name, limits)?),
        ArtifactKind::Sdist => Content::Archive(sdist::verify(path, file_name, limits)?),
        ArtifactKind::Executable => Content::Executable(executable::inspect(path)?),
        ArtifactKind::File => Content::Plain,
    })
}
