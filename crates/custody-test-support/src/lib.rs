//! Helpers for custody's tests: where the fixtures and the test Python are (prepared by
//! `scripts/test-env.sh`), and builders that write real wheels and sdists, correct by
//! default and broken on purpose where a test needs a bad archive.
#![allow(clippy::missing_panics_doc)]

mod devpi;
mod mock;
pub mod oidc;
mod pypiserver;
pub mod rawzip;
pub mod sigstore;
pub use devpi::DevpiServer;
pub use mock::{MockServer, Recorded, Reply, codecov_server, multipart_fields};
pub use pypiserver::{
    PypiServer, empty_simple_index, free_port, pip_install_from, python_with_path,
};

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root exists")
}

fn require(path: PathBuf, what: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{what} is missing at `{}`: run `scripts/test-env.sh` (or `scripts/test.sh`, which runs it) before `cargo test`",
        path.display()
    );
    path
}

/// Where `scripts/test-env.sh` put the built and downloaded fixtures.
pub fn fixtures_dir() -> PathBuf {
    std::env::var_os("CUSTODY_TEST_FIXTURES").map_or_else(
        || workspace_root().join("target/test-fixtures"),
        PathBuf::from,
    )
}

/// The Python of the test virtualenv (with build, pytest, pypiserver, twine, ...).
pub fn python() -> PathBuf {
    let path = std::env::var_os("CUSTODY_TEST_PYTHON").map_or_else(
        || workspace_root().join("target/test-venv/bin/python"),
        PathBuf::from,
    );
    require(path, "the test virtualenv's Python")
}

/// The test virtualenv's `bin` directory (pypiserver, twine, ...).
pub fn venv_bin() -> PathBuf {
    python()
        .parent()
        .expect("python lives in a bin directory")
        .to_owned()
}

/// The sample project's wheel, built by `python -m build`.
pub fn sample_wheel() -> PathBuf {
    require(
        fixtures_dir().join("sample-dist/custody_sample-0.18.3-py3-none-any.whl"),
        "the sample wheel",
    )
}

/// The sample project's sdist, built by `python -m build`.
pub fn sample_sdist() -> PathBuf {
    require(
        fixtures_dir().join("sample-dist/custody_sample-0.18.3.tar.gz"),
        "the sample sdist",
    )
}

/// A real artifact downloaded from PyPI (see `tests/fixtures/pypi-artifacts.txt`).
pub fn pypi_artifact(file_name: &str) -> PathBuf {
    require(
        fixtures_dir().join("pypi").join(file_name),
        "a PyPI fixture artifact",
    )
}

/// Every PyPI fixture artifact's file name.
pub fn pypi_artifact_names() -> Vec<String> {
    let list = fs_err::read_to_string(workspace_root().join("tests/fixtures/pypi-artifacts.txt"))
        .expect("artifact list is readable");
    list.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().nth(1).map(str::to_owned))
        .collect()
}

/// Copies a directory tree (a fixture project into a test's temporary directory),
/// leaving out `__pycache__`.
/// A finished command's stdout, for assertions.
pub fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A finished command's stderr, for assertions.
pub fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Panics unless a step refused with exit `code`, its stderr starting with `error` (the
/// first line) and holding `hint`; returns the stderr for further checks.
pub fn assert_refused(output: &std::process::Output, code: i32, error: &str, hint: &str) -> String {
    let stderr = stderr_of(output);
    assert_eq!(output.status.code(), Some(code), "{stderr}");
    assert!(stderr.starts_with(error), "{error}\n{stderr}");
    assert!(stderr.contains(hint), "{hint}\n{stderr}");
    stderr
}

/// A finished command's stdout parsed as JSON; panics with both streams when it is not.
pub fn json_of(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\n{}",
            stdout_of(output),
            stderr_of(output)
        )
    })
}

pub fn copy_dir(from: &Path, to: &Path) {
    fs_err::create_dir_all(to).unwrap();
    for entry in fs_err::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "__pycache__" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            fs_err::copy(entry.path(), target).unwrap();
        }
    }
}

/// The sha256 of `data`, lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    use std::fmt::Write as _;
    Sha256::digest(data)
        .iter()
        .fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// The RECORD hash of `data`.
pub fn record_hash(data: &[u8]) -> String {
    format!("sha256={}", URL_SAFE_NO_PAD.encode(Sha256::digest(data)))
}

/// One member a builder writes.
#[derive(Debug, Clone)]
enum Member {
    File {
        name: String,
        data: Vec<u8>,
        in_record: bool,
    },
    Symlink {
        name: String,
        target: String,
    },
}

/// Writes a wheel: valid by default (WHEEL, METADATA and a RECORD that matches), with
/// knobs to break exactly one rule.
#[derive(Debug, Clone)]
pub struct WheelBuilder {
    name: String,
    version: String,
    file_name: Option<String>,
    tag: String,
    members: Vec<Member>,
    metadata: Option<String>,
    wheel: Option<String>,
    record_override: Option<String>,
    record_rows_extra: Vec<String>,
    tamper: Vec<(String, Vec<u8>)>,
    omit: Vec<String>,
    comment: Option<String>,
}

impl WheelBuilder {
    /// A pure wheel `{name}-{version}-py3-none-any.whl` with one module.
    pub fn new(name: &str, version: &str) -> Self {
        let module = name.replace('-', "_");
        Self {
            name: name.to_owned(),
            version: version.to_owned(),
            file_name: None,
            tag: "py3-none-any".to_owned(),
            members: vec![Member::File {
                name: format!("{module}/__init__.py"),
                data: b"VALUE = 42\n".to_vec(),
                in_record: true,
            }],
            metadata: None,
            wheel: None,
            record_override: None,
            record_rows_extra: Vec::new(),
            tamper: Vec::new(),
            omit: Vec::new(),
            comment: None,
        }
    }

    fn escaped(&self) -> String {
        self.name.replace('-', "_")
    }

    pub fn dist_info(&self) -> String {
        format!("{}-{}.dist-info", self.escaped(), self.version)
    }

    /// The file name the wheel is written under.
    pub fn file_name(&self) -> String {
        self.file_name
            .clone()
            .unwrap_or_else(|| format!("{}-{}-{}.whl", self.escaped(), self.version, self.tag))
    }

    #[must_use]
    pub fn named(mut self, file_name: &str) -> Self {
        self.file_name = Some(file_name.to_owned());
        self
    }

    #[must_use]
    pub fn tag(mut self, tag: &str) -> Self {
        tag.clone_into(&mut self.tag);
        self
    }

    /// Adds a file listed in RECORD.
    #[must_use]
    pub fn file(mut self, name: &str, data: &[u8]) -> Self {
        self.members.push(Member::File {
            name: name.to_owned(),
            data: data.to_vec(),
            in_record: true,
        });
        self
    }

    /// Adds a file RECORD does not list.
    #[must_use]
    pub fn unlisted_file(mut self, name: &str, data: &[u8]) -> Self {
        self.members.push(Member::File {
            name: name.to_owned(),
            data: data.to_vec(),
            in_record: false,
        });
        self
    }

    #[must_use]
    pub fn symlink(mut self, name: &str, target: &str) -> Self {
        self.members.push(Member::Symlink {
            name: name.to_owned(),
            target: target.to_owned(),
        });
        self
    }

    /// Replaces METADATA.
    #[must_use]
    pub fn metadata(mut self, text: &str) -> Self {
        self.metadata = Some(text.to_owned());
        self
    }

    /// Replaces WHEEL.
    #[must_use]
    pub fn wheel_file(mut self, text: &str) -> Self {
        self.wheel = Some(text.to_owned());
        self
    }

    /// Replaces RECORD entirely.
    #[must_use]
    pub fn record(mut self, text: &str) -> Self {
        self.record_override = Some(text.to_owned());
        self
    }

    /// Appends a raw row to the generated RECORD.
    #[must_use]
    pub fn record_row(mut self, row: &str) -> Self {
        self.record_rows_extra.push(row.to_owned());
        self
    }

    /// After RECORD is computed, replaces the content of `name` (RECORD now lies).
    #[must_use]
    pub fn tamper(mut self, name: &str, data: &[u8]) -> Self {
        self.tamper.push((name.to_owned(), data.to_vec()));
        self
    }

    /// Leaves `name` out of the archive while RECORD still lists it.
    #[must_use]
    pub fn omit(mut self, name: &str) -> Self {
        self.omit.push(name.to_owned());
        self
    }

    #[must_use]
    pub fn comment(mut self, comment: &str) -> Self {
        self.comment = Some(comment.to_owned());
        self
    }

    pub fn default_metadata(&self) -> String {
        format!(
            "Metadata-Version: 2.1\nName: {}\nVersion: {}\nSummary: A test package\nDescription-Content-Type: text/markdown\n\n# {}\n\nA test package.\n",
            self.name, self.version, self.name
        )
    }

    pub fn default_wheel(&self) -> String {
        format!(
            "Wheel-Version: 1.0\nGenerator: custody-test-support\nRoot-Is-Purelib: true\nTag: {}\n",
            self.tag
        )
    }

    /// The files the wheel holds, in archive order (RECORD last, tampering and
    /// omissions applied; symlinks left out): the start of a hand-made zip
    /// (`rawzip::RawZip::from_files`).
    pub fn contents(&self) -> Vec<(String, Vec<u8>)> {
        let dist_info = self.dist_info();
        let mut files: Vec<(String, Vec<u8>, bool)> = Vec::new();
        for member in &self.members {
            if let Member::File {
                name,
                data,
                in_record,
            } = member
            {
                files.push((name.clone(), data.clone(), *in_record));
            }
        }
        files.push((
            format!("{dist_info}/METADATA"),
            self.metadata
                .clone()
                .unwrap_or_else(|| self.default_metadata())
                .into_bytes(),
            true,
        ));
        files.push((
            format!("{dist_info}/WHEEL"),
            self.wheel
                .clone()
                .unwrap_or_else(|| self.default_wheel())
                .into_bytes(),
            true,
        ));
        let record = self.record_override.clone().unwrap_or_else(|| {
            let mut record = String::new();
            for (name, data, in_record) in &files {
                if *in_record {
                    record.push_str(&format!("{name},{},{}\n", record_hash(data), data.len()));
                }
            }
            for row in &self.record_rows_extra {
                record.push_str(row);
                record.push('\n');
            }
            record.push_str(&format!("{dist_info}/RECORD,,\n"));
            record
        });
        files.push((format!("{dist_info}/RECORD"), record.into_bytes(), true));
        for (name, data) in &self.tamper {
            let entry = files
                .iter_mut()
                .find(|(n, _, _)| n == name)
                .expect("tampered file exists");
            entry.1.clone_from(data);
        }
        files
            .into_iter()
            .filter(|(n, _, _)| !self.omit.contains(n))
            .map(|(name, data, _)| (name, data))
            .collect()
    }

    /// Writes the wheel into `dir` and returns its path.
    pub fn build(&self, dir: &Path) -> PathBuf {
        let files = self.contents();
        let symlinks = self.members.iter().filter_map(|member| match member {
            Member::Symlink { name, target } => Some((name, target)),
            Member::File { .. } => None,
        });
        let path = dir.join(self.file_name());
        let file = fs_err::File::create(&path).expect("create wheel");
        let mut zip = zip::ZipWriter::new(file);
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in &files {
            zip.start_file(name.as_str(), options).expect("start file");
            zip.write_all(data).expect("write file");
        }
        for (name, target) in symlinks {
            zip.add_symlink(name.as_str(), target.as_str(), options)
                .expect("add symlink");
        }
        if let Some(comment) = &self.comment {
            zip.set_comment(comment.as_str()).expect("set comment");
        }
        zip.finish().expect("finish wheel");
        path
    }
}

#[derive(Debug, Clone)]
enum PkgInfo {
    Default,
    Missing,
    Custom(String),
}

/// Writes a `.tar.gz` sdist: valid by default, with knobs for bad layouts.
#[derive(Debug, Clone)]
pub struct SdistBuilder {
    name: String,
    version: String,
    top: Option<String>,
    file_name: Option<String>,
    pkg_info: PkgInfo,
    extra: Vec<(String, Vec<u8>)>,
    links: Vec<(String, String, tar::EntryType)>,
    raw_paths: Vec<(String, Vec<u8>)>,
    devices: Vec<String>,
}

impl SdistBuilder {
    pub fn new(name: &str, version: &str) -> Self {
        Self {
            name: name.to_owned(),
            version: version.to_owned(),
            top: None,
            file_name: None,
            pkg_info: PkgInfo::Default,
            extra: Vec::new(),
            links: Vec::new(),
            raw_paths: Vec::new(),
            devices: Vec::new(),
        }
    }

    fn stem(&self) -> String {
        format!("{}-{}", self.name.replace('-', "_"), self.version)
    }

    pub fn file_name(&self) -> String {
        self.file_name
            .clone()
            .unwrap_or_else(|| format!("{}.tar.gz", self.stem()))
    }

    /// Uses another top directory than `{name}-{version}`.
    #[must_use]
    pub fn top(mut self, top: &str) -> Self {
        self.top = Some(top.to_owned());
        self
    }

    #[must_use]
    pub fn named(mut self, file_name: &str) -> Self {
        self.file_name = Some(file_name.to_owned());
        self
    }

    /// Replaces PKG-INFO, or leaves it out with `None`.
    #[must_use]
    pub fn pkg_info(mut self, text: Option<&str>) -> Self {
        self.pkg_info = text.map_or(PkgInfo::Missing, |t| PkgInfo::Custom(t.to_owned()));
        self
    }

    /// Adds a file at an archive path (relative to the archive root, not the top dir).
    #[must_use]
    pub fn file(mut self, path: &str, data: &[u8]) -> Self {
        self.extra.push((path.to_owned(), data.to_vec()));
        self
    }

    #[must_use]
    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self.links
            .push((path.to_owned(), target.to_owned(), tar::EntryType::Symlink));
        self
    }

    #[must_use]
    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        self.links
            .push((path.to_owned(), target.to_owned(), tar::EntryType::Link));
        self
    }

    /// Adds a member whose path is written raw into the header (`../x`, `/etc/x`),
    /// bypassing the tar crate's own safety checks.
    #[must_use]
    pub fn raw_path(mut self, path: &str, data: &[u8]) -> Self {
        self.raw_paths.push((path.to_owned(), data.to_vec()));
        self
    }

    #[must_use]
    pub fn device(mut self, path: &str) -> Self {
        self.devices.push(path.to_owned());
        self
    }

    pub fn default_pkg_info(&self) -> String {
        format!(
            "Metadata-Version: 2.1\nName: {}\nVersion: {}\nSummary: A test package\n",
            self.name, self.version
        )
    }

    pub fn build(&self, dir: &Path) -> PathBuf {
        let top = self.top.clone().unwrap_or_else(|| self.stem());
        let path = dir.join(self.file_name());
        let file = fs_err::File::create(&path).expect("create sdist");
        let encoder = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        let mut builder = tar::Builder::new(encoder);
        let add = |builder: &mut tar::Builder<_>, name: &str, data: &[u8]| {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            builder
                .append_data(&mut header, name, data)
                .expect("append");
        };
        let pkg_info = match &self.pkg_info {
            PkgInfo::Default => Some(self.default_pkg_info()),
            PkgInfo::Missing => None,
            PkgInfo::Custom(text) => Some(text.clone()),
        };
        if let Some(pkg_info) = pkg_info {
            add(
                &mut builder,
                &format!("{top}/PKG-INFO"),
                pkg_info.as_bytes(),
            );
        }
        add(
            &mut builder,
            &format!("{top}/pyproject.toml"),
            b"[project]\nname = \"x\"\n",
        );
        for (name, data) in &self.extra {
            add(&mut builder, name, data);
        }
        for (name, target, kind) in &self.links {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_size(0);
            header.set_mode(0o777);
            builder
                .append_link(&mut header, name, target)
                .expect("append link");
        }
        for name in &self.devices {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(tar::EntryType::Char);
            header.set_size(0);
            header.set_mode(0o644);
            builder
                .append_data(&mut header, name, &[][..])
                .expect("append device");
        }
        for (name, data) in &self.raw_paths {
            let mut header = tar::Header::new_old();
            {
                let old = header.as_old_mut();
                old.name[..name.len()].copy_from_slice(name.as_bytes());
            }
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            header.set_cksum();
            builder.append(&header, &data[..]).expect("append raw");
        }
        builder
            .into_inner()
            .expect("finish tar")
            .finish()
            .expect("finish gzip");
        path
    }
}

/// Copies the zip at `src` to `dst`, passing each file's name and content through
/// `edit` (`None` drops the entry). Used to tamper with real wheels.
pub fn rewrite_zip(src: &Path, dst: &Path, mut edit: impl FnMut(&str, Vec<u8>) -> Option<Vec<u8>>) {
    use std::io::Read;
    let mut archive =
        zip::ZipArchive::new(fs_err::File::open(src).expect("open zip")).expect("read zip");
    let mut writer = zip::ZipWriter::new(fs_err::File::create(dst).expect("create zip"));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).expect("entry");
        let name = entry.name().expect("utf-8 name").into_owned();
        if entry.is_dir() {
            writer
                .add_directory(name.as_str(), options)
                .expect("add dir");
            continue;
        }
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("read entry");
        if let Some(data) = edit(&name, data) {
            writer
                .start_file(name.as_str(), options)
                .expect("start file");
            writer.write_all(&data).expect("write file");
        }
    }
    writer.finish().expect("finish zip");
}

/// Copies the `.tar.gz` at `src` to `dst`, passing each regular file through `edit`.
pub fn rewrite_tar_gz(
    src: &Path,
    dst: &Path,
    mut edit: impl FnMut(&str, Vec<u8>) -> Option<Vec<u8>>,
) {
    use std::io::Read;
    let input = flate2::read::GzDecoder::new(fs_err::File::open(src).expect("open sdist"));
    let mut archive = tar::Archive::new(input);
    let output = flate2::write::GzEncoder::new(
        fs_err::File::create(dst).expect("create sdist"),
        flate2::Compression::default(),
    );
    let mut builder = tar::Builder::new(output);
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let name = entry.path().expect("path").to_string_lossy().into_owned();
        let mut header = entry.header().clone();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("read entry");
        if header.entry_type() != tar::EntryType::Regular {
            builder
                .append_data(&mut header, &name, &data[..])
                .expect("append");
            continue;
        }
        if let Some(data) = edit(&name, data) {
            header.set_size(data.len() as u64);
            builder
                .append_data(&mut header, &name, &data[..])
                .expect("append");
        }
    }
    builder
        .into_inner()
        .expect("finish tar")
        .finish()
        .expect("finish gzip");
}

/// A minimal PE32 image header for x86, what a 32-bit PyInstaller `.exe` starts with.
pub fn pe32_x86() -> Vec<u8> {
    let mut image = vec![0u8; 1024];
    image[0..2].copy_from_slice(b"MZ");
    image[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
    image[0x80..0x84].copy_from_slice(b"PE\0\0");
    image[0x84..0x86].copy_from_slice(&0x14cu16.to_le_bytes()); // i386
    image[0x86..0x88].copy_from_slice(&3u16.to_le_bytes()); // sections
    image[0x94..0x96].copy_from_slice(&224u16.to_le_bytes()); // optional header size
    image[0x96..0x98].copy_from_slice(&0x0102u16.to_le_bytes()); // executable, 32-bit
    image[0x98..0x9a].copy_from_slice(&0x10bu16.to_le_bytes()); // PE32
    image
}

/// A PE32 x86 image with a PyInstaller archive cookie appended, like `clkutil.exe`.
pub fn pyinstaller_exe() -> Vec<u8> {
    let mut image = pe32_x86();
    image.extend_from_slice(b"PYZ-00.pyz");
    image.extend_from_slice(&[0x5a; 512]);
    image.extend_from_slice(b"MEI\x0c\x0b\x0a\x0b\x0e");
    image.extend_from_slice(&[0u8; 80]);
    image
}
