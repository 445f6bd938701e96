//! The sdist differential suite: every case, real (PyPI, `python -m build`) or crafted
//! (the tar spec's corners: pax and GNU headers, prefixes, links, sparse and unknown
//! types, several gzip members, broken trailers, legacy compressions, zip CRCs), is
//! verified by us AND extracted by the tools that define the truth (Python's `tarfile`
//! with and without `filter='data'`, GNU tar, `zipfile`; one Python process for all).
//! A case passes only if we accept exactly when every tool extracts, without error, the
//! tree we verified (same paths, same bytes, same link targets), and otherwise refuse
//! with the expected problem, for the stated reason: a tool fails or sees another tree,
//! or a documented rule of ours (`Policy`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use custody_dist::Limits;
use custody_dist::sdist::{SdistTree, TreeNode, verify_tree};
use custody_test_support::{
    fixtures_dir, pypi_artifact, pypi_artifact_names, python, sample_sdist, workspace_root,
};

const PKG_INFO: &[u8] = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n";

/// Why a refusal is right.
#[derive(Debug, Clone, Copy)]
enum Truth {
    /// At least one truth tool fails on the file, or the tools extract different trees.
    Tools,
    /// The tools extract without error, but not what the archive's first reading (ours
    /// and the metadata we would record) says: e.g. the last of two copies wins.
    Policy(&'static str),
}

#[derive(Debug, Clone, Copy)]
enum Expect {
    Accept,
    Refuse(&'static str, Truth),
}

struct Case {
    id: String,
    file_name: String,
    bytes: Option<Vec<u8>>,
    source: Option<PathBuf>,
    expect: Expect,
    /// Bombs are not handed to the tools (they would unpack them whole).
    run_tools: bool,
}

fn crafted(id: &str, file_name: &str, bytes: Vec<u8>, expect: Expect) -> Case {
    Case {
        id: id.to_owned(),
        file_name: file_name.to_owned(),
        bytes: Some(bytes),
        source: None,
        expect,
        run_tools: true,
    }
}

fn refuse(code: &'static str) -> Expect {
    Expect::Refuse(code, Truth::Tools)
}

// ---------------------------------------------------------------- a raw tar writer

/// Writes tar headers byte by byte, so that every field can be set to what an
/// attacker would write.
#[derive(Default)]
struct RawTar {
    bytes: Vec<u8>,
}

struct Header<'a> {
    name: &'a [u8],
    kind: u8,
    size: u64,
    link: &'a [u8],
    prefix: &'a [u8],
    magic: &'a [u8; 8],
    base256_size: bool,
}

const USTAR: &[u8; 8] = b"ustar\x0000";
const GNU: &[u8; 8] = b"ustar  \x00";

impl<'a> Header<'a> {
    fn new(name: &'a [u8], kind: u8, size: u64) -> Self {
        Self {
            name,
            kind,
            size,
            link: b"",
            prefix: b"",
            magic: USTAR,
            base256_size: false,
        }
    }

    fn encode(&self) -> [u8; 512] {
        let mut h = [0u8; 512];
        h[..self.name.len()].copy_from_slice(self.name);
        h[100..108].copy_from_slice(b"0000644\0");
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        if self.base256_size {
            h[124] = 0x80;
            h[128..136].copy_from_slice(&self.size.to_be_bytes());
        } else {
            h[124..136].copy_from_slice(format!("{:011o}\0", self.size).as_bytes());
        }
        h[136..148].copy_from_slice(b"14707544000\0");
        h[156] = self.kind;
        h[157..157 + self.link.len()].copy_from_slice(self.link);
        h[257..265].copy_from_slice(self.magic);
        h[345..345 + self.prefix.len()].copy_from_slice(self.prefix);
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        h
    }
}

impl RawTar {
    fn header(mut self, header: &Header<'_>, data: &[u8]) -> Self {
        self.bytes.extend_from_slice(&header.encode());
        self.bytes.extend_from_slice(data);
        self.bytes.resize(self.bytes.len().div_ceil(512) * 512, 0);
        self
    }

    fn file(self, name: &str, data: &[u8]) -> Self {
        self.header(&Header::new(name.as_bytes(), b'0', data.len() as u64), data)
    }

    fn dir(self, name: &str) -> Self {
        self.header(&Header::new(name.as_bytes(), b'5', 0), b"")
    }

    fn link(self, name: &str, kind: u8, target: &str) -> Self {
        let mut header = Header::new(name.as_bytes(), kind, 0);
        header.link = target.as_bytes();
        self.header(&header, b"")
    }

    /// A pax header (`x` local, `g` global) of `records`.
    fn pax(self, kind: u8, records: &[(&str, &str)]) -> Self {
        let mut data = Vec::new();
        for (key, value) in records {
            let body = format!(" {key}={value}\n");
            let mut length = body.len() + 1;
            while format!("{length}{body}").len() != length {
                length += 1;
            }
            data.extend_from_slice(format!("{length}{body}").as_bytes());
        }
        self.header(
            &Header::new(b"././@PaxHeader", kind, data.len() as u64),
            &data,
        )
    }

    /// The start of a good sdist: its top directory and PKG-INFO.
    fn sdist() -> Self {
        Self::default()
            .dir("demo-1.0/")
            .file("demo-1.0/PKG-INFO", PKG_INFO)
    }

    /// The member stream without the end-of-archive marker.
    fn open_ended(self) -> Vec<u8> {
        self.bytes
    }

    /// The archive with its two zero blocks, padded to a 10 KiB record as tar does.
    fn finish(mut self) -> Vec<u8> {
        self.bytes.extend_from_slice(&[0u8; 1024]);
        self.bytes
            .resize(self.bytes.len().div_ceil(10240) * 10240, 0);
        self.bytes
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut writer =
        lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(6)).unwrap();
    writer.write_all(data).unwrap();
    writer.finish().unwrap()
}

// ---------------------------------------------------------------- the cases

/// The real sdists: those of tests/fixtures/pypi-artifacts.txt, the sample project's,
/// and the conformance corpus's (tests/fixtures/pypi-corpus.txt: old and new setuptools,
/// flit, hatchling, poetry-core, pdm, meson-python, scikit-build-core, maturin; `.zip` and
/// `.tar.bz2`) up to 260 kB, which keeps the tools' share of the run to a few seconds.
fn real_cases() -> Vec<Case> {
    const MAX_SIZE: u64 = 260_000;
    let mut paths: Vec<PathBuf> = pypi_artifact_names()
        .iter()
        .filter(|name| !name.ends_with(".whl"))
        .map(|name| pypi_artifact(name))
        .collect();
    paths.push(sample_sdist());
    let corpus_list = workspace_root().join("tests/fixtures/pypi-corpus.txt");
    let corpus = fs_err::read_to_string(&corpus_list).unwrap_or_default();
    for name in corpus
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_whitespace().nth(1))
        .filter(|name| custody_dist::SdistFilename::parse(name).is_ok())
    {
        let path = fixtures_dir().join("corpus").join(name);
        let size = fs_err::metadata(&path)
            .unwrap_or_else(|_| panic!("`{}` is missing: run scripts/test-env.sh", path.display()))
            .len();
        if size <= MAX_SIZE {
            paths.push(path);
        }
    }
    assert!(
        paths
            .iter()
            .any(|p| p.to_string_lossy().ends_with(".tar.bz2"))
            && paths.iter().any(|p| p.to_string_lossy().ends_with(".zip")),
        "the real sdists include no `.tar.bz2` or no `.zip`: {paths:?}"
    );
    paths
        .into_iter()
        .map(|path| Case {
            id: format!("real-{}", path.file_name().unwrap().to_string_lossy()),
            file_name: path.file_name().unwrap().to_string_lossy().into_owned(),
            bytes: None,
            source: Some(path),
            expect: Expect::Accept,
            run_tools: true,
        })
        .collect()
}

/// Good archives in every format and header style: all must be accepted.
#[allow(clippy::too_many_lines)] // a table of cases, one entry each
fn good_cases() -> Vec<Case> {
    let plain = RawTar::sdist()
        .file("demo-1.0/setup.py", b"print('hi')\n")
        .finish();
    let mut prefixed = Header::new(b"mod.py", b'0', 2);
    prefixed.prefix = b"demo-1.0/src/deep";
    let mut base256 = Header::new(b"demo-1.0/big.bin", b'0', 3);
    base256.base256_size = true;
    let long = format!("demo-1.0/{}/file.py", "d".repeat(120));
    let mut gnu_long = Header::new(b"././@LongLink", b'L', long.len() as u64 + 1);
    gnu_long.magic = GNU;
    let two_members = [
        gzip(&RawTar::sdist().open_ended()),
        gzip(
            &RawTar::default()
                .file("demo-1.0/second.py", b"2\n")
                .finish(),
        ),
    ]
    .concat();
    vec![
        crafted("tar-gz", "demo-1.0.tar.gz", gzip(&plain), Expect::Accept),
        crafted("tgz", "demo-1.0.tgz", gzip(&plain), Expect::Accept),
        crafted("tar-bz2", "demo-1.0.tar.bz2", bzip2(&plain), Expect::Accept),
        crafted("tar-xz", "demo-1.0.tar.xz", xz(&plain), Expect::Accept),
        crafted("tar", "demo-1.0.tar", plain.clone(), Expect::Accept),
        crafted(
            "tar-holding-gzip",
            "demo-1.0.tar",
            gzip(&plain),
            Expect::Accept,
        ),
        crafted(
            "gzip-members-both-read",
            "demo-1.0.tar.gz",
            two_members,
            Expect::Accept,
        ),
        crafted(
            "ustar-prefix",
            "demo-1.0.tar.gz",
            gzip(&RawTar::sdist().header(&prefixed, b"x\n").finish()),
            Expect::Accept,
        ),
        crafted(
            "base-256-size",
            "demo-1.0.tar.gz",
            gzip(&RawTar::sdist().header(&base256, b"abc").finish()),
            Expect::Accept,
        ),
        crafted(
            "pax-long-name",
            "demo-1.0.tar.gz",
            gzip(
                &RawTar::sdist()
                    .pax(b'x', &[("path", &long)])
                    .file("demo-1.0/short", b"long\n")
                    .finish(),
            ),
            Expect::Accept,
        ),
        crafted(
            "gnu-long-name",
            "demo-1.0.tar.gz",
            gzip(
                &RawTar::sdist()
                    .header(&gnu_long, format!("{long}\0").as_bytes())
                    .file("demo-1.0/short", b"long\n")
                    .finish(),
            ),
            Expect::Accept,
        ),
        crafted(
            "links-inside",
            "demo-1.0.tar.gz",
            gzip(
                &RawTar::sdist()
                    .link("demo-1.0/README", b'2', "PKG-INFO")
                    .link("demo-1.0/copy", b'1', "demo-1.0/PKG-INFO")
                    .finish(),
            ),
            Expect::Accept,
        ),
        crafted(
            "dot-members-and-slashes",
            "demo-1.0.tar.gz",
            gzip(
                &RawTar::default()
                    .dir(".")
                    .dir("./demo-1.0/")
                    .file("./demo-1.0//PKG-INFO", PKG_INFO)
                    .file("demo-1.0/./a.py", b"a\n")
                    .finish(),
            ),
            Expect::Accept,
        ),
        crafted(
            "git-archive-global-comment",
            "demo-1.0.tar.gz",
            gzip(
                &RawTar::default()
                    .pax(b'g', &[("comment", "0123abcd")])
                    .dir("demo-1.0/")
                    .file("demo-1.0/PKG-INFO", PKG_INFO)
                    .finish(),
            ),
            Expect::Accept,
        ),
        crafted(
            "extra-zero-blocks",
            "demo-1.0.tar.gz",
            gzip(&[RawTar::sdist().finish(), vec![0u8; 20480]].concat()),
            Expect::Accept,
        ),
        crafted(
            "identical-duplicate",
            "demo-1.0.tar.gz",
            gzip(&RawTar::sdist().file("demo-1.0/PKG-INFO", PKG_INFO).finish()),
            Expect::Accept,
        ),
    ]
}

/// Headers that tools read differently, or that hide or break members.
#[allow(clippy::too_many_lines)] // a table of cases, one entry each
fn header_cases() -> Vec<Case> {
    let mut gnu_prefix = Header::new(b"setup.py", b'0', 2);
    gnu_prefix.magic = GNU;
    gnu_prefix.prefix = b"demo-1.0/evil";
    let mut dir_with_data = Header::new(b"demo-1.0/sub/", b'5', 512);
    dir_with_data.magic = USTAR;
    let hidden = RawTar::default()
        .file("demo-1.0/hidden.py", b"import os\n")
        .open_ended();
    vec![
        crafted(
            "gnu-header-with-prefix",
            "demo-1.0.tar.gz",
            gzip(&RawTar::sdist().header(&gnu_prefix, b"x\n").finish()),
            refuse("sdist-tar-header"),
        ),
        crafted(
            "pax-size-disagrees",
            "demo-1.0.tar.gz",
            gzip(
                &RawTar::sdist()
                    .pax(b'x', &[("size", "0")])
                    .file("demo-1.0/a.py", &[b'a'; 600])
                    .finish(),
            ),
            Expect::Refuse(
                "sdist-tar-header",
                Truth::Policy(
                    "the tar crate and tarfile would find the next header at different offsets",
                ),
            ),
        ),
        crafted(
            "directory-with-data",
            "demo-1.0.tar.gz",
            gzip(&RawTar::sdist().header(&dir_with_data, &hidden).finish()),
            Expect::Refuse(
                "sdist-tar-header",
                Truth::Policy(
                    "tarfile reads the data as the next header, the tar crate and GNU tar skip it",
                ),
            ),
        ),
        crafted(
            "unknown-type",
            "demo-1.0.tar.gz",
            gzip(
                &RawTar::sdist()
                    .header(&Header::new(b"demo-1.0/evil.py", b'Z', 3), b"x=1")
                    .finish(),
            ),
            Expect::Refuse(
                "sdist-tar-header",
                Truth::Policy("tarfile and GNU tar extract an unknown type as a plain file"),
            ),
        ),
        crafted(
            "gnu-sparse",
            "demo-1.0.tar.gz",
            gzip(
                &RawTar::sdist()
                    .header(&Header::new(b"demo-1.0/sparse", b'S', 0), b"")
                    .finish(),
            ),
            Expect::Refuse(
                "sdist-tar-header",
                Truth::Policy(
                    "sparse files have no place in an sdist; readers differ on their layouts",
                ),
            ),
        ),
        crafted(
            "global-pax-path",
            "demo-1.0.tar.gz",
            gzip(
                &RawTar::sdist()
                    .pax(b'g', &[("path", "demo-1.0/PKG-INFO")])
                    .file("demo-1.0/a.py", b"6.6.6")
                    .finish(),
            ),
            Expect::Refuse(
                "sdist-tar-header",
                Truth::Policy(
                    "tarfile renames every later member; the tar crate ignores global headers",
                ),
            ),
        ),
        crafted(
            "pax-sparse",
            "demo-1.0.tar.gz",
            gzip(
                &RawTar::sdist()
                    .pax(b'x', &[("GNU.sparse.name", "demo-1.0/x")])
                    .file("demo-1.0/GNUSparseFile.0/x", b"x")
                    .finish(),
            ),
            Expect::Refuse(
                "sdist-tar-header",
                Truth::Policy("tarfile renames the member; the tar crate does not"),
            ),
        ),
        crafted(
            "bad-header-checksum",
            "demo-1.0.tar.gz",
            gzip(&corrupt_second_header()),
            refuse("sdist-corrupt"),
        ),
        crafted(
            "non-utf8-name",
            "demo-1.0.tar.gz",
            gzip(
                &RawTar::sdist()
                    .header(&Header::new(b"demo-1.0/\xff.py", b'0', 0), b"")
                    .finish(),
            ),
            Expect::Refuse(
                "sdist-name-encoding",
                Truth::Policy("pip opens tars with encoding='utf-8'; GNU tar writes the raw bytes"),
            ),
        ),
    ]
}

fn corrupt_second_header() -> Vec<u8> {
    let mut bytes = RawTar::sdist()
        .file("demo-1.0/a.py", b"a\n")
        .file("demo-1.0/b.py", b"b\n")
        .finish();
    // The third header (after the directory, PKG-INFO and its data block, a.py and its).
    bytes[512 * 5] ^= 0x01;
    bytes
}

/// Paths, links and duplicates.
#[allow(clippy::too_many_lines)] // a table of cases, one entry each
fn path_cases() -> Vec<Case> {
    let mut evil_pkg_info = PKG_INFO.to_vec();
    evil_pkg_info.extend_from_slice(b"Summary: 6.6.6\n");
    let second = gzip(
        &RawTar::default()
            .file("demo-1.0/../../evil.sh", b"x")
            .finish(),
    );
    vec![
        crafted(
            "gzip-member-hides-dotdot",
            "demo-1.0.tar.gz",
            [gzip(&RawTar::sdist().open_ended()), second].concat(),
            refuse("path-unsafe"),
        ),
        crafted(
            "bz2-dotdot",
            "demo-1.0.tar.bz2",
            bzip2(
                &RawTar::sdist()
                    .file("demo-1.0/../../evil.sh", b"x")
                    .finish(),
            ),
            refuse("path-unsafe"),
        ),
        crafted(
            "xz-dotdot",
            "demo-1.0.tar.xz",
            xz(&RawTar::sdist()
                .file("demo-1.0/../../evil.sh", b"x")
                .finish()),
            refuse("path-unsafe"),
        ),
        crafted(
            "absolute",
            "demo-1.0.tar.gz",
            gzip(&RawTar::sdist().file("/tmp/custody-evil", b"x").finish()),
            Expect::Refuse(
                "path-unsafe",
                Truth::Policy(
                    "tarfile's data filter and GNU tar strip the `/`; an sdist has no absolute members",
                ),
            ),
        ),
        crafted(
            "duplicate-pkg-info-differs",
            "demo-1.0.tar.gz",
            gzip(
                &RawTar::sdist()
                    .file("demo-1.0/PKG-INFO", &evil_pkg_info)
                    .finish(),
            ),
            Expect::Refuse(
                "sdist-duplicate",
                Truth::Policy(
                    "every extractor keeps the last copy, the metadata read would be the first",
                ),
            ),
        ),
        crafted(
            "symlink-outside",
            "demo-1.0.tar.gz",
            gzip(
                &RawTar::sdist()
                    .link("demo-1.0/passwd", b'2', "../../etc/passwd")
                    .finish(),
            ),
            refuse("sdist-link-escape"),
        ),
        crafted(
            "hardlink-outside",
            "demo-1.0.tar.gz",
            gzip(
                &RawTar::sdist()
                    .link("demo-1.0/shadow", b'1', "etc/shadow")
                    .finish(),
            ),
            refuse("sdist-link-escape"),
        ),
        crafted(
            "hardlink-forward",
            "demo-1.0.tar.gz",
            gzip(
                &RawTar::sdist()
                    .link("demo-1.0/early", b'1', "demo-1.0/late")
                    .file("demo-1.0/late", b"x")
                    .finish(),
            ),
            refuse("sdist-link-target"),
        ),
        crafted(
            "write-through-symlink",
            "demo-1.0.tar.gz",
            gzip(
                &RawTar::sdist()
                    .link("demo-1.0/here", b'2', ".")
                    .file("demo-1.0/here/PKG-INFO", &evil_pkg_info)
                    .finish(),
            ),
            Expect::Refuse(
                "sdist-path-conflict",
                Truth::Policy(
                    "tarfile writes through the link and replaces PKG-INFO; GNU tar refuses",
                ),
            ),
        ),
        crafted(
            "device",
            "demo-1.0.tar.gz",
            gzip(
                &RawTar::sdist()
                    .header(&Header::new(b"demo-1.0/tty", b'3', 0), b"")
                    .finish(),
            ),
            Expect::Refuse(
                "sdist-special-file",
                Truth::Policy("the data filter refuses devices; GNU tar as root creates them"),
            ),
        ),
    ]
}

/// Compressed streams that are damaged, and bombs.
fn stream_cases() -> Vec<Case> {
    let good = gzip(&RawTar::sdist().finish());
    let mut crc = good.clone();
    let n = crc.len();
    crc[n - 8] ^= 0xff;
    let mut isize = good.clone();
    isize[n - 2] ^= 0x01;
    let mut trailing = good.clone();
    trailing.extend_from_slice(b"trailing garbage");
    let zeros = RawTar::sdist()
        .file("demo-1.0/zeros", &vec![0u8; 96 * 1024 * 1024])
        .finish();
    let mut bz2_bomb = crafted(
        "bz2-ratio-bomb",
        "demo-1.0.tar.bz2",
        bzip2(&zeros),
        Expect::Refuse("zip-bomb", Truth::Policy("over 1100:1 and 64 MiB")),
    );
    bz2_bomb.run_tools = false;
    vec![
        crafted("gzip-crc", "demo-1.0.tar.gz", crc, refuse("sdist-corrupt")),
        crafted(
            "gzip-isize",
            "demo-1.0.tar.gz",
            isize,
            refuse("sdist-corrupt"),
        ),
        crafted(
            "gzip-trailing-garbage",
            "demo-1.0.tar.gz",
            trailing,
            refuse("sdist-corrupt"),
        ),
        crafted(
            "not-bzip2",
            "demo-1.0.tar.bz2",
            good.clone(),
            refuse("sdist-not-compressed"),
        ),
        crafted(
            "truncated-xz",
            "demo-1.0.tar.xz",
            xz(&RawTar::sdist().finish())[..100].to_vec(),
            refuse("sdist-corrupt"),
        ),
        bz2_bomb,
    ]
}

// ---------------------------------------------------------------- zip sdists

/// Builds a zip sdist, then patches the CRC or declared size of `demo-1.0/setup.py` in
/// both its local header and its central-directory entry.
fn zip_sdist(patch: Option<(usize, u32)>) -> Vec<u8> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut bytes);
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("demo-1.0/PKG-INFO", options).unwrap();
    zip.write_all(PKG_INFO).unwrap();
    zip.start_file("demo-1.0/setup.py", options).unwrap();
    zip.write_all(&[b'#'; 4000]).unwrap();
    zip.finish().unwrap();
    let mut bytes = bytes.into_inner();
    if let Some((field, value)) = patch {
        let name: &[u8] = b"demo-1.0/setup.py";
        let central = find(&bytes, &[b"PK\x01\x02"])
            .into_iter()
            .find(|at| &bytes[at + 46..at + 46 + name.len()] == name)
            .unwrap();
        let local =
            u32::from_le_bytes(bytes[central + 42..central + 46].try_into().unwrap()) as usize;
        // field: 0 = CRC, 1 = compressed size, 2 = uncompressed size.
        for at in [central + 16 + 4 * field, local + 14 + 4 * field] {
            bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
        }
    }
    bytes
}

fn find(haystack: &[u8], needles: &[&[u8]]) -> Vec<usize> {
    (0..haystack.len())
        .filter(|at| needles.iter().any(|n| haystack[*at..].starts_with(n)))
        .collect()
}

fn zip_cases() -> Vec<Case> {
    vec![
        crafted("zip", "demo-1.0.zip", zip_sdist(None), Expect::Accept),
        crafted(
            "zip-bad-crc",
            "demo-1.0.zip",
            zip_sdist(Some((0, 0x1234_5678))),
            refuse("zip-corrupt"),
        ),
        crafted(
            "zip-inflates-past-size",
            "demo-1.0.zip",
            zip_sdist(Some((2, 100))),
            // zipfile stops at the declared size, then finds the CRC wrong.
            refuse("zip-corrupt"),
        ),
    ]
}

// ---------------------------------------------------------------- the run

/// Our tree, with the directories an extractor creates for every path.
fn with_parents(tree: &SdistTree) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::new();
    for (path, node) in &tree.nodes {
        let mut parent = path.as_str();
        while let Some((up, _)) = parent.rsplit_once('/') {
            out.entry(up.to_owned())
                .or_insert(serde_json::json!(["dir"]));
            parent = up;
        }
        let value = match node {
            TreeNode::File { size, sha256 } => {
                serde_json::json!(["file", size, hex::encode(sha256)])
            }
            TreeNode::Directory => serde_json::json!(["dir"]),
            TreeNode::Symlink { target } => serde_json::json!(["symlink", target]),
        };
        out.insert(path.clone(), value);
    }
    out
}

fn run_tools(cases: &[(Case, PathBuf)]) -> serde_json::Value {
    let input: Vec<serde_json::Value> = cases
        .iter()
        .filter(|(case, _)| case.run_tools)
        .map(|(case, path)| {
            serde_json::json!({"id": case.id, "path": path, "zip": case.file_name.ends_with(".zip"),
                "unfiltered": case.source.is_none()})
        })
        .collect();
    let mut child = Command::new(python())
        .arg("-c")
        .arg(include_str!("differential_sdist.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&input).unwrap().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the truth tools' driver failed");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Checks one case against the tools; returns a failure description, if any.
#[allow(clippy::print_stderr)] // the policy refusals, listed with --nocapture
fn judge(case: &Case, path: &Path, tools: Option<&serde_json::Value>) -> Option<String> {
    let (report, tree) = verify_tree(path, &case.file_name, &Limits::default()).unwrap();
    let errors: Vec<&custody_dist::Problem> =
        report.problems.iter().filter(|p| p.is_error()).collect();
    let ours = tree.as_ref().map(with_parents);
    let results: Vec<(&String, &serde_json::Value)> = tools
        .and_then(|t| t.as_object())
        .map(|t| t.iter().collect())
        .unwrap_or_default();
    let failing = results
        .iter()
        .filter(|(_, r)| r["status"] == "error")
        .count();
    let distinct_trees = results
        .iter()
        .filter(|(_, r)| r["status"] == "ok")
        .map(|(_, r)| r["tree"].to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let trees_equal = |ours: &BTreeMap<String, serde_json::Value>| {
        results
            .iter()
            .filter(|(_, r)| r["status"] == "ok")
            .all(|(_, r)| serde_json::to_value(ours).unwrap() == r["tree"])
    };
    match case.expect {
        Expect::Accept if !errors.is_empty() => Some(format!("refused: {errors:?}")),
        Expect::Accept if failing > 0 || !trees_equal(ours.as_ref().unwrap()) => Some(format!(
            "accepted, but the tools saw otherwise: {results:?}\nours: {ours:?}"
        )),
        Expect::Accept => None,
        Expect::Refuse(code, truth) => {
            let Some(problem) = errors.iter().find(|p| p.code == code) else {
                return Some(format!("expected `{code}`, got {:?}", report.problems));
            };
            if problem.message.is_empty() || problem.message.contains('\n') {
                return Some(format!("message is not one line: {problem:?}"));
            }
            match truth {
                Truth::Tools if failing == 0 && distinct_trees < 2 => Some(format!(
                    "refused as `{code}` but every tool extracts the same tree: {results:?}"
                )),
                Truth::Tools => None,
                Truth::Policy(reason) => {
                    eprintln!("{}: refused as `{code}` by policy: {reason}", case.id);
                    None
                }
            }
        }
    }
}

#[test]
#[allow(clippy::print_stderr)] // where the time goes, shown with --nocapture
fn sdists_are_verified_exactly_as_extractors_extract_them() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let cases: Vec<Case> = [
        real_cases(),
        good_cases(),
        header_cases(),
        path_cases(),
        stream_cases(),
        zip_cases(),
    ]
    .into_iter()
    .flatten()
    .collect();
    assert!(cases.len() >= 45, "{} cases", cases.len());
    let cases: Vec<(Case, PathBuf)> = cases
        .into_iter()
        .map(|case| {
            let path = match (&case.bytes, &case.source) {
                (Some(bytes), _) => {
                    let case_dir = dir.path().join(&case.id);
                    fs_err::create_dir_all(&case_dir).unwrap();
                    let path = case_dir.join(&case.file_name);
                    fs_err::write(&path, bytes).unwrap();
                    path
                }
                (None, source) => source.clone().unwrap(),
            };
            (case, path)
        })
        .collect();
    eprintln!("crafting: {:.1?}", started.elapsed());
    let started = std::time::Instant::now();
    let tools = run_tools(&cases);
    eprintln!("truth tools: {:.1?}", started.elapsed());
    let started = std::time::Instant::now();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(case, path)| {
            judge(case, path, tools.get(&case.id)).map(|why| format!("{}: {why}", case.id))
        })
        .collect();
    eprintln!("our verification: {:.1?}", started.elapsed());
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
