//! The conformance corpus (`tests/fixtures/pypi-corpus.txt`, docs/conformance-corpus.md):
//! ~100 real wheels and sdists from PyPI across build backends, eras, platforms and
//! formats. Every one pip installs verifies clean here, with exactly the warnings listed
//! below; `twine check` and check-wheel-contents disagree only where the doc's table says.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::OnceLock;

use custody_dist::{ArtifactKind, Inspection, SdistFormat};
use custody_test_support::{fixtures_dir, python, workspace_root};
use rayon::prelude::*;

use crate::check;

/// The warnings real files raise, by file and code: installers behave alike either way,
/// and each says what a publisher may want to know.
const EXPECTED_WARNINGS: &[(&str, &str)] = &[
    ("mock-1.0.1.zip", "sdist-legacy-format"),
    (
        "orjson-3.10.7-cp311-cp311-macosx_10_15_x86_64.macosx_11_0_arm64.macosx_10_15_universal2.whl",
        "wheel-tags-compressed",
    ),
    (
        "orjson-3.10.7-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "wheel-tags-compressed",
    ),
    (
        "pydantic_core-2.23.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "wheel-tags-compressed",
    ),
    (
        "pydicom-1.1.0-1-py2.py3-none-any.whl",
        "wheel-build-missing",
    ),
    ("pyreadline-2.1.zip", "sdist-legacy-format"),
    ("pytz-2014.10.tar.bz2", "sdist-legacy-format"),
    ("pytz-2014.10.zip", "sdist-legacy-format"),
    ("wincertstore-0.2.zip", "sdist-legacy-format"),
];

/// One line of the corpus list.
#[derive(Debug)]
struct Entry {
    sha256: String,
    file: String,
    backend: String,
    metadata_version: String,
}

fn corpus_path(file: &str) -> PathBuf {
    let path = fixtures_dir().join("corpus").join(file);
    assert!(
        path.exists(),
        "`{}` is missing: run `scripts/test-env.sh` before `cargo test`",
        path.display()
    );
    path
}

fn entries() -> Vec<Entry> {
    let list = fs_err::read_to_string(workspace_root().join("tests/fixtures/pypi-corpus.txt"))
        .expect("the corpus list is readable");
    list.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert!(fields.len() >= 7, "short corpus line: {line}");
            Entry {
                sha256: fields[0].to_owned(),
                file: fields[1].to_owned(),
                backend: fields[3].to_owned(),
                metadata_version: fields[5].to_owned(),
            }
        })
        .collect()
}

/// Every corpus file verified once (in parallel) and shared by the tests below.
fn verified() -> &'static [(Entry, Inspection)] {
    static VERIFIED: OnceLock<Vec<(Entry, Inspection)>> = OnceLock::new();
    VERIFIED.get_or_init(|| {
        entries()
            .into_par_iter()
            .map(|entry| {
                let inspection = check(&corpus_path(&entry.file));
                (entry, inspection)
            })
            .collect()
    })
}

#[test]
fn every_corpus_file_verifies_clean_with_only_the_listed_warnings() {
    let verified = verified();
    assert!(verified.len() >= 80, "{} files", verified.len());
    let mut warnings = BTreeSet::new();
    for (entry, inspection) in verified {
        let name = &entry.file;
        assert!(
            inspection.is_ok(),
            "`{name}` is installed by pip but refused: {:#?}",
            inspection.problems
        );
        assert_eq!(inspection.digests.sha256, entry.sha256, "{name}");
        let expected_kind = if name.ends_with(".whl") {
            ArtifactKind::Wheel
        } else {
            ArtifactKind::Sdist
        };
        assert_eq!(inspection.kind, expected_kind, "{name}");
        assert_eq!(
            inspection.metadata_version.as_deref(),
            Some(entry.metadata_version.as_str()),
            "{name}"
        );
        assert!(inspection.project.is_some(), "{name}");
        assert!(inspection.entries.is_some_and(|n| n > 0), "{name}");
        warnings.extend(
            inspection
                .problems
                .iter()
                .map(|p| (name.as_str(), p.code.as_str())),
        );
    }
    let expected: BTreeSet<(&str, &str)> = EXPECTED_WARNINGS.iter().copied().collect();
    assert_eq!(warnings, expected);
}

#[test]
fn the_corpus_covers_backends_eras_platforms_and_formats() {
    let verified = verified();
    let backends: BTreeSet<&str> = verified.iter().map(|(e, _)| e.backend.as_str()).collect();
    for backend in [
        "setuptools-old",
        "setuptools",
        "flit",
        "hatchling",
        "poetry-core",
        "pdm-backend",
        "maturin",
        "scikit-build-core",
        "meson-python",
    ] {
        assert!(backends.contains(backend), "no {backend}: {backends:?}");
    }
    let versions: BTreeSet<&str> = verified
        .iter()
        .filter_map(|(_, i)| i.metadata_version.as_deref())
        .collect();
    assert_eq!(
        versions,
        BTreeSet::from(["1.0", "1.1", "1.2", "2.0", "2.1", "2.2", "2.3", "2.4"])
    );
    let platforms: Vec<&str> = verified
        .iter()
        .filter_map(|(_, i)| i.wheel.as_ref())
        .flat_map(|w| w.platform.iter().map(String::as_str))
        .collect();
    for family in [
        "win32",
        "win_amd64",
        "universal2",
        "macosx_11_0_arm64",
        "manylinux1_",
        "manylinux2014_",
        "manylinux_2_28_",
        "musllinux_",
    ] {
        assert!(
            platforms.iter().any(|p| p.contains(family)),
            "no {family} wheel: {platforms:?}"
        );
    }
    assert!(
        verified
            .iter()
            .any(|(_, i)| i.wheel.as_ref().is_some_and(|w| w.build.is_some())),
        "no wheel with a build tag"
    );
    let formats: Vec<SdistFormat> = verified
        .iter()
        .filter_map(|(_, i)| i.sdist_format)
        .collect();
    for format in [SdistFormat::TarGz, SdistFormat::Zip, SdistFormat::TarBz2] {
        assert!(formats.contains(&format), "no {format:?} sdist");
    }
    let with_data = verified
        .iter()
        .filter(|(e, _)| e.file.ends_with(".whl") && wheel_has_data_dir(&e.file))
        .count();
    assert!(with_data >= 3, "{with_data} wheels with a `.data` dir");
}

fn wheel_has_data_dir(file: &str) -> bool {
    let archive = zip::ZipArchive::new(fs_err::File::open(corpus_path(file)).unwrap()).unwrap();
    archive.file_names().flatten().any(|name| {
        name.split('/')
            .next()
            .is_some_and(|top| top.ends_with(".data"))
    })
}

/// `(file, tool) -> findings`, as the peers report them or as the doc's table lists them.
type Findings = BTreeMap<(String, String), BTreeSet<String>>;

/// One run of `twine check` and of check-wheel-contents over the whole corpus.
fn peer_findings() -> Findings {
    let files: Vec<PathBuf> = entries().iter().map(|e| corpus_path(&e.file)).collect();
    let output = std::process::Command::new(python())
        .arg(workspace_root().join("tests/fixtures/pypi-corpus-peers.py"))
        .args(&files)
        .output()
        .expect("the peers' driver runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: BTreeMap<String, BTreeMap<String, Vec<String>>> =
        serde_json::from_slice(&output.stdout).expect("the driver prints JSON");
    let tool_names = [
        ("twine", "twine check"),
        ("check-wheel-contents", "check-wheel-contents"),
    ];
    let mut findings = Findings::new();
    for (key, tool) in tool_names {
        for (file, list) in &report[key] {
            findings.insert(
                (file.clone(), tool.to_owned()),
                list.iter().cloned().collect(),
            );
        }
    }
    findings
}

/// The table between the `corpus-disagreements` markers of docs/conformance-corpus.md.
fn documented_findings() -> Findings {
    let doc = fs_err::read_to_string(workspace_root().join("docs/conformance-corpus.md")).unwrap();
    let start = doc.find("<!-- corpus-disagreements:start -->").unwrap();
    let end = doc.find("<!-- corpus-disagreements:end -->").unwrap();
    let unquote = |cell: &str| cell.trim().trim_matches('`').to_owned();
    doc[start..end]
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
            assert_eq!(cells.len(), 4, "{line}");
            assert!(!cells[3].trim().is_empty(), "no reason: {line}");
            let findings = cells[2].split(',').map(unquote).collect();
            ((unquote(cells[0]), cells[1].trim().to_owned()), findings)
        })
        .collect()
}

#[test]
fn twine_and_check_wheel_contents_disagree_only_where_documented() {
    let documented = documented_findings();
    assert!(documented.len() > 10, "{documented:?}");
    assert_eq!(peer_findings(), documented);
    // Each row is a disagreement: custody accepts every file the peers flag.
    let accepted: BTreeSet<&str> = verified()
        .iter()
        .filter(|(_, i)| i.is_ok())
        .map(|(e, _)| e.file.as_str())
        .collect();
    for (file, tool) in documented.keys() {
        assert!(accepted.contains(file.as_str()), "{tool}: {file}");
    }
}
