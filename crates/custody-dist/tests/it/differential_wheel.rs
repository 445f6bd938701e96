//! The differential suite for wheels: every case (real wheels from PyPI and hand-made
//! zips that break the zip spec on purpose) goes through our verification AND the real
//! installers, pip and uv, into throwaway targets (`install_wheels.py`, one Python
//! process for all cases). A case passes only if we accept exactly when both installed
//! trees equal what RECORD lists (same names, same bytes), and otherwise refuse with
//! the expected problem naming the entry. Where the installers install exactly what
//! RECORD lists and we still refuse, the case must say why (`stricter`).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use custody_dist::record;
use custody_test_support::rawzip::{RawEntry, RawZip, S_IFDIR, STORED};
use custody_test_support::{WheelBuilder, pypi_artifact, pypi_artifact_names, record_hash};

use crate::check;

/// One wheel and what we must say about it.
struct Case {
    name: String,
    path: PathBuf,
    /// The problem we must refuse with; `None`: we must accept.
    refuse: Option<&'static str>,
    /// Text our message must contain (the entry it names).
    names: String,
    /// Why we refuse although pip and uv install exactly what RECORD lists.
    stricter: Option<&'static str>,
}

/// What one installer did with a wheel.
#[derive(Debug, serde::Deserialize)]
struct Installed {
    ok: bool,
    #[serde(default)]
    files: BTreeMap<String, String>,
    #[serde(default)]
    error: String,
}

#[derive(Debug, serde::Deserialize)]
struct Truth {
    pip: Installed,
    uv: Installed,
}

/// Collects the cases of one temporary directory.
struct Cases {
    dir: PathBuf,
    cases: Vec<Case>,
}

impl Cases {
    fn add(&mut self, name: &str, zip: &RawZip, refuse: Option<&'static str>, names: &str) {
        self.add_stricter(name, zip, refuse, names, None);
    }

    fn add_stricter(
        &mut self,
        name: &str,
        zip: &RawZip,
        refuse: Option<&'static str>,
        names: &str,
        stricter: Option<&'static str>,
    ) {
        let dir = self.dir.join(name);
        fs_err::create_dir_all(&dir).unwrap();
        let path = zip.write(&dir, &demo().file_name());
        self.cases.push(Case {
            name: name.to_owned(),
            path,
            refuse,
            names: names.to_owned(),
            stricter,
        });
    }
}

fn demo() -> WheelBuilder {
    WheelBuilder::new("demo", "1.0")
}

fn raw(builder: &WheelBuilder) -> RawZip {
    RawZip::from_files(&builder.contents())
}

/// Archives every installer and reader agrees on: we must accept them.
fn good_cases(cases: &mut Cases) {
    cases.add("raw-writer", &raw(&demo()), None, "");
    let mut zip = raw(&demo());
    zip.entries.iter_mut().for_each(|e| e.zip64 = true);
    cases.add("zip64-extra-fields", &zip, None, "");
    let mut zip = raw(&demo());
    for entry in &mut zip.entries {
        entry.extra = vec![(0xcafe, Vec::new()), (0x5455, vec![1, 0, 0, 0, 0])];
    }
    cases.add("unknown-extra-fields", &zip, None, "");
    let mut zip = raw(&demo());
    zip.entries.iter_mut().for_each(|e| e.unix_mode = None);
    cases.add("ms-dos-entries", &zip, None, "");
    let mut zip = raw(&demo());
    zip.entries.iter_mut().for_each(|e| e.method = STORED);
    cases.add("stored-entries", &zip, None, "");
    let mut zip = raw(&demo());
    let mut directory = RawEntry::file("demo/", b"");
    directory.unix_mode = Some(S_IFDIR | 0o755);
    zip.entries.insert(0, directory.clone());
    cases.add("directory-entries", &zip, None, "");
    // pip and uv skip directory entries, whatever they hold.
    directory.data = b"import os\n".to_vec();
    zip.entries[0] = directory;
    cases.add("directory-entry-with-data", &zip, None, "");
    let builder = demo().file("demo-1.0.data/purelib/demo_extra.py", b"X = 1\n");
    cases.add("data-purelib", &raw(&builder), None, "");
    let mut zip =
        raw(&demo().record_row(&format!("demo/alias.py,{},11", record_hash(b"__init__.py"))));
    zip.entries
        .insert(1, RawEntry::symlink("demo/alias.py", "__init__.py"));
    cases.add("symlink-listed-in-record", &zip, None, "");
    let mut zip = raw(&demo());
    zip.comment = b"built by hand".to_vec();
    cases.add("archive-comment", &zip, None, "");
}

/// Bytes outside the archive, and headers that disagree.
fn structure_cases(cases: &mut Cases) {
    const PREFIX: &str = "readers disagree on where the archive starts; the prefix can hold a second archive (PyPI's `zipfile` checks reject it)";
    const LOCAL: &str = "Python's zipfile trusts the central directory and PyPI rejects the mismatch; streaming readers (uv when it downloads) trust the local header";
    let mut zip = raw(&demo());
    zip.suffix = b"PK\x03\x04 appended".to_vec();
    // uv refuses trailing data too; PyPI rejects it.
    cases.add(
        "trailing-bytes",
        &zip,
        Some("zip-trailing"),
        "bytes of data after",
    );
    for (name, adjust) in [("prefix-unadjusted", false), ("prefix-adjusted", true)] {
        let mut zip = raw(&demo());
        zip.prefix = b"#!/bin/sh\necho hidden\nexit 0\n".to_vec();
        zip.adjust_offsets = adjust;
        // uv refuses the unadjusted one; pip (Python's zipfile) reads both.
        let stricter = adjust.then_some(PREFIX);
        cases.add_stricter(
            name,
            &zip,
            Some("zip-prefix"),
            "before the first entry",
            stricter,
        );
    }
    let mut zip = raw(&demo());
    let mut copy = RawEntry::file("demo/__init__.py", b"import os; os.system('id')\n");
    copy.method = STORED;
    zip.entries.push(copy);
    cases.add(
        "duplicate-name",
        &zip,
        Some("zip-duplicate"),
        "`demo/__init__.py`",
    );
    let mut zip = raw(&demo());
    zip.entry("demo/__init__.py").local_name = Some(b"demo/evil.py".to_vec());
    cases.add("local-name-mismatch", &zip, Some("zip-inconsistent"), "");
    let mut zip = raw(&demo());
    zip.entry("demo/__init__.py").local_size = Some(5);
    cases.add("local-size-mismatch", &zip, Some("zip-inconsistent"), ""); // uv refuses
    let mut zip = raw(&demo());
    zip.entry("demo/__init__.py").local_method = Some(STORED);
    cases.add_stricter(
        "local-method-mismatch",
        &zip,
        Some("zip-inconsistent"),
        "",
        Some(LOCAL),
    );
    let mut zip = raw(&demo());
    zip.entry("demo/__init__.py").flags |= 1;
    cases.add(
        "encrypted-flag",
        &zip,
        Some("zip-encrypted"),
        "`demo/__init__.py`",
    );
}

/// Content that is not what its headers say.
fn content_cases(cases: &mut Cases) {
    let mut zip = raw(&demo());
    zip.entry("demo/__init__.py").crc = Some(0xdead_beef);
    cases.add("bad-crc", &zip, Some("zip-corrupt"), "`demo/__init__.py`");
    let mut zip = raw(&demo());
    zip.entry("demo/__init__.py").size = Some(4);
    cases.add(
        "inflates-past-declared-size",
        &zip,
        Some("zip-corrupt"),
        "`demo/__init__.py`",
    );
    // The CRC and RECORD both describe the first 4 bytes: Python reads exactly those.
    let data = b"VALUE = 42\n";
    let builder = demo()
        .unlisted_file("demo/cut.py", data)
        .record_row(&format!("demo/cut.py,{},4", record_hash(&data[..4])));
    let mut zip = raw(&builder);
    let mut crc = flate2::Crc::new();
    crc.update(&data[..4]);
    let entry = zip.entry("demo/cut.py");
    (entry.size, entry.crc) = (Some(4), Some(crc.sum()));
    // uv refuses both: "Bad uncompressed size".
    cases.add(
        "inflates-past-size-and-crc",
        &zip,
        Some("zip-corrupt"),
        "`demo/cut.py`",
    );
    let mut zip = raw(&demo());
    zip.entry("demo/__init__.py").size = Some(100);
    cases.add(
        "shorter-than-declared",
        &zip,
        Some("zip-corrupt"),
        "`demo/__init__.py`",
    );
    let mut zip = raw(&demo());
    zip.entries
        .insert(1, RawEntry::symlink("demo/alias.py", "__init__.py"));
    cases.add(
        "symlink-not-in-record",
        &zip,
        Some("record-unlisted"),
        "`demo/alias.py`",
    );
    let mut zip = raw(&demo());
    zip.entries
        .insert(1, RawEntry::symlink("demo/passwd", "../../etc/passwd"));
    cases.add(
        "symlink-escaping",
        &zip,
        Some("symlink-escape"),
        "`demo/passwd`",
    );
}

/// Names that readers, installers or file systems see differently.
fn name_cases(cases: &mut Cases) {
    const FOLDED: &str = "installed on macOS or Windows (case- and normalization-insensitive), one file replaces the other";
    let builder = demo().file("demo\\evil.py", b"import os\n");
    cases.add_stricter(
        "backslash-name",
        &raw(&builder),
        Some("path-unsafe"),
        "demo\\\\evil.py",
        Some("installed on Windows, the entry lands at `demo/evil.py`"),
    );
    let builder = demo().file("demo/../../evil.py", b"import os\n");
    cases.add("dot-dot-name", &raw(&builder), Some("path-unsafe"), "`..`");
    let outside = cases.dir.join("escaped/evil.py");
    let builder = demo().file(&outside.to_string_lossy(), b"import os\n");
    cases.add(
        "absolute-name",
        &raw(&builder),
        Some("path-unsafe"),
        "is absolute",
    );
    let builder = demo()
        .file("demo/caf\u{e9}.py", b"A = 1\n")
        .file("demo/cafe\u{301}.py", b"A = 2\n");
    cases.add_stricter(
        "nfc-nfd-twins",
        &raw(&builder),
        Some("zip-name-collision"),
        "Unicode normalization",
        Some(FOLDED),
    );
    let builder = demo()
        .file("demo/Evil.py", b"A = 1\n")
        .file("demo/evil.py", b"A = 2\n");
    cases.add_stricter(
        "case-twins",
        &raw(&builder),
        Some("zip-name-collision"),
        "differ only in case",
        Some(FOLDED),
    );
    // The header says `demo/evil.py`; a Unicode path field renames it to the file RECORD
    // lists. Python 3.11's zipfile (pip here) reads the header's name.
    let mut zip = raw(&demo());
    let entry = zip.entry("demo/__init__.py");
    entry.name = b"demo/evil.py".to_vec();
    let mut crc = flate2::Crc::new();
    crc.update(b"demo/evil.py");
    let mut field = vec![1u8];
    field.extend_from_slice(&crc.sum().to_le_bytes());
    field.extend_from_slice(b"demo/__init__.py");
    entry.extra.push((0x7075, field));
    cases.add(
        "unicode-path-field",
        &zip,
        Some("zip-name-ambiguous"),
        "`demo/evil.py`",
    );
}

/// Real wheels that install on this machine (Linux `x86_64`, `CPython` 3.11).
fn real_cases(cases: &mut Cases) {
    for name in pypi_artifact_names() {
        if name.ends_with(".whl") && !name.contains("win") && !name.contains("macosx") {
            cases.cases.push(Case {
                path: pypi_artifact(&name),
                name,
                refuse: None,
                names: String::new(),
                stricter: None,
            });
        }
    }
    cases.cases.push(Case {
        name: "sample-wheel".to_owned(),
        path: custody_test_support::sample_wheel(),
        refuse: None,
        names: String::new(),
        stricter: None,
    });
}

/// Where an installer puts a RECORD path under `--target`, and whether its bytes are
/// compared (`None`: not installed in a comparable place). Scripts are rewritten
/// (`#!python` shebangs), so only their names count; headers land in installer-specific
/// places.
fn installed_path(path: &str) -> Option<(String, bool)> {
    let Some((_, rest)) = path
        .split_once('/')
        .filter(|(top, _)| top.ends_with(".data"))
    else {
        return Some((path.to_owned(), true));
    };
    let (scheme, rest) = rest.split_once('/')?;
    match scheme {
        "purelib" | "platlib" | "data" => Some((rest.to_owned(), true)),
        "scripts" => Some((format!("bin/{rest}"), false)),
        _ => None,
    }
}

/// What RECORD says an installer will write: path to `sha256=…` (`None`: name only).
fn record_tree(wheel: &Path) -> Option<BTreeMap<String, Option<String>>> {
    let mut archive = zip::ZipArchive::new(fs_err::File::open(wheel).ok()?).ok()?;
    let name = archive
        .file_names()
        .flatten()
        .find(|n| n.ends_with(".dist-info/RECORD") && n.matches('/').count() == 1)?
        .into_owned();
    let mut bytes = Vec::new();
    archive.by_name(&name).ok()?.read_to_end(&mut bytes).ok()?;
    let mut tree = BTreeMap::new();
    for entry in record::parse(&bytes).ok()? {
        let Some((algorithm, digest)) = entry.hash else {
            continue; // RECORD itself, and its signatures
        };
        let Some((path, compared)) = installed_path(&entry.path) else {
            continue;
        };
        let hash = format!("{algorithm}={}", record::encode_digest(&digest));
        tree.insert(path, compared.then_some(hash));
    }
    Some(tree)
}

/// Whether an installed tree is exactly RECORD's (console scripts the installer
/// generates from `entry_points.txt` aside).
fn same_tree(
    expected: &BTreeMap<String, Option<String>>,
    installed: &BTreeMap<String, String>,
) -> bool {
    let generated = |path: &String| path.starts_with("bin/") && !expected.contains_key(path);
    installed.keys().filter(|p| !generated(p)).count() == expected.len()
        && expected
            .iter()
            .all(|(path, hash)| match (installed.get(path), hash) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(got), Some(want)) => got == want,
            })
}

/// Runs the real installers over every case, in one Python process.
fn install_all(cases: &[Case], work: &Path) -> Vec<Truth> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/install_wheels.py");
    let output = std::process::Command::new(custody_test_support::python())
        .arg(script)
        .arg(work)
        .args(cases.iter().map(|c| &c.path))
        .output()
        .expect("the test Python runs");
    assert!(
        output.status.success(),
        "install_wheels.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("install_wheels.py prints JSON")
}

/// The verdict of one case: `Err` says what is wrong.
fn judge(case: &Case, truth: &Truth) -> Result<(), String> {
    let inspection = check(&case.path);
    let expected = record_tree(&case.path);
    let agrees = |installed: &Installed| {
        installed.ok
            && expected
                .as_ref()
                .is_some_and(|tree| same_tree(tree, &installed.files))
    };
    let (pip, uv) = (agrees(&truth.pip), agrees(&truth.uv));
    let errors: Vec<String> = inspection.errors().map(|p| format!("{p}")).collect();
    match (case.refuse, inspection.is_ok()) {
        (None, true) if pip && uv => Ok(()),
        (None, true) => Err(format!(
            "accepted, but the installers differ: pip {:?} / uv {:?}",
            truth.pip, truth.uv
        )),
        (None, false) => Err(format!("refused a good wheel: {errors:?}")),
        (Some(code), true) => Err(format!(
            "accepted; expected `{code}` (pip agrees with RECORD: {pip}, uv: {uv})"
        )),
        (Some(code), false) => {
            let Some(problem) = inspection.errors().find(|p| p.code == code) else {
                return Err(format!("refused, but not with `{code}`: {errors:?}"));
            };
            if !problem.message.contains(&case.names) {
                return Err(format!(
                    "`{code}` does not name `{}`: {}",
                    case.names, problem.message
                ));
            }
            match (pip && uv, case.stricter) {
                (true, None) => Err(format!(
                    "refused, but pip and uv install exactly RECORD's files; document why (`stricter`): {errors:?}"
                )),
                (false, Some(_)) => Err(format!(
                    "marked stricter, but an installer disagrees with RECORD: pip {:?} / uv {:?}",
                    truth.pip.error, truth.uv.error
                )),
                _ => Ok(()),
            }
        }
    }
}

#[test]
fn we_accept_exactly_what_pip_and_uv_install_as_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let mut cases = Cases {
        dir: dir.path().join("cases"),
        cases: Vec::new(),
    };
    good_cases(&mut cases);
    structure_cases(&mut cases);
    content_cases(&mut cases);
    name_cases(&mut cases);
    real_cases(&mut cases);
    let work = dir.path().join("installed");
    fs_err::create_dir_all(&work).unwrap();
    let truths = install_all(&cases.cases, &work);
    assert!(
        !dir.path().join("cases/escaped").exists(),
        "an installer wrote outside its target"
    );
    let failures: Vec<String> = cases
        .cases
        .iter()
        .zip(&truths)
        .filter_map(|(case, truth)| {
            judge(case, truth)
                .err()
                .map(|e| format!("{}: {e}", case.name))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree with the installers:\n{}",
        failures.len(),
        cases.cases.len(),
        failures.join("\n")
    );
}
