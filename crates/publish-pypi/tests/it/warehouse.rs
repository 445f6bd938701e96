//! The pre-flight against the truth: for real files (the pinned PyPI artifacts, the
//! conformance corpus, the sample project's builds) and one crafted wheel per rule,
//! `publish-pypi check` must refuse exactly what PyPI would. The truth is
//! `tests/fixtures/publish-pypi/warehouse_verdict.py`: `packaging`'s validating parser
//! over the upload form, Warehouse's `_validate_metadata` rules with the real
//! `email-validator`, `trove-classifiers` and `rfc3986`, the wheel file-name rules and
//! `readme_renderer`, run once over every file.
//!
//! Documented difference: a reStructuredText description that does not render is
//! refused by PyPI, and not by the pre-flight (there is no RST renderer in Rust); the
//! test counts those files and checks that they are the only disagreement.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use custody_test_support::{WheelBuilder, fixtures_dir, python, workspace_root};

use crate::{cmd, json_of, stderr_of};

/// The pre-flight codes that stand for a refusal by PyPI's upload endpoint.
const WAREHOUSE_CODES: [&str; 23] = [
    "pypi-required-field",
    "pypi-metadata-version",
    "pypi-version",
    "pypi-local-version",
    "pypi-summary-length",
    "pypi-summary-lines",
    "pypi-content-type",
    "pypi-url",
    "pypi-project-url",
    "pypi-field-too-new",
    "pypi-dynamic",
    "pypi-name",
    "pypi-extra",
    "pypi-requires-python",
    "pypi-requirement",
    "pypi-direct-reference",
    "pypi-email",
    "pypi-license-expression",
    "pypi-license-both",
    "pypi-classifier",
    "pypi-classifier-deprecated",
    "pypi-wheel-name",
    "pypi-platform-tag",
];

/// What PyPI says about one file.
struct Truth {
    fields: BTreeSet<String>,
    render_failed: bool,
}

/// What the test virtualenv's Python prints, run with `args`.
fn python_output<I, S>(args: I) -> Vec<u8>
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let output = std::process::Command::new(python())
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn truth_of(files: &[PathBuf]) -> BTreeMap<String, Truth> {
    let script = workspace_root().join("tests/fixtures/publish-pypi/warehouse_verdict.py");
    let mut args = vec!["-W".into(), "ignore".into(), script];
    args.extend_from_slice(files);
    let stdout = python_output(args);
    let value: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
    value
        .as_object()
        .unwrap()
        .iter()
        .map(|(file, verdict)| {
            let fields = verdict["fields"].as_array().unwrap().iter();
            let truth = Truth {
                fields: fields.map(|f| f.as_str().unwrap().to_owned()).collect(),
                render_failed: verdict["render_failed"].as_bool().unwrap(),
            };
            (file.clone(), truth)
        })
        .collect()
}

/// The pre-flight's Warehouse refusals per file: (code, message) pairs.
fn ours_of(dir: &Path, files: &[PathBuf]) -> BTreeMap<String, Vec<(String, String)>> {
    let output = cmd(dir)
        .arg("check")
        .arg("--json")
        .args(files)
        .output()
        .unwrap();
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        stderr_of(&output)
    );
    let result = json_of(&output);
    result["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|file| {
            let refusals = file["problems"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| {
                    p["severity"] == "error"
                        && WAREHOUSE_CODES.contains(&p["code"].as_str().unwrap())
                })
                .map(|p| {
                    (
                        p["code"].as_str().unwrap().to_owned(),
                        p["message"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            (file["file_name"].as_str().unwrap().to_owned(), refusals)
        })
        .collect()
}

fn real_files() -> Vec<PathBuf> {
    let fixtures = fixtures_dir();
    let mut files = Vec::new();
    for dir in ["pypi", "sample-dist", "corpus"] {
        for entry in fs_err::read_dir(fixtures.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".whl") || name.ends_with(".tar.gz") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn real_files_get_the_verdict_pypi_gives() {
    let dir = tempfile::tempdir().unwrap();
    let files = real_files();
    let truth = truth_of(&files);
    let ours = ours_of(dir.path(), &files);
    assert_eq!(truth.len(), files.len());
    let (mut refused, mut rst_only) = (0, Vec::new());
    for (file, verdict) in &truth {
        let our_refusals = &ours[file];
        if verdict.fields.is_empty() && verdict.render_failed {
            // The documented difference: PyPI renders RST, we cannot.
            assert!(our_refusals.is_empty(), "{file}: {our_refusals:?}");
            rst_only.push(file.clone());
            continue;
        }
        assert_eq!(
            !verdict.fields.is_empty(),
            !our_refusals.is_empty(),
            "{file}: PyPI refuses {:?}, the pre-flight {our_refusals:?}",
            verdict.fields
        );
        refused += usize::from(!our_refusals.is_empty());
    }
    // The corpus holds both kinds: files PyPI takes today and files it refuses now
    // (Metadata-Version 2.0, unnormalized wheel names, License-Expression under 2.4…).
    assert!(
        refused >= 10 && truth.len() - refused - rst_only.len() >= 40,
        "{refused} refused of {}",
        truth.len()
    );
    assert!(rst_only.len() <= 6, "RST-only refusals grew: {rst_only:?}");
}

/// One crafted wheel per rule: (metadata version, extra headers, our code, the field
/// PyPI names). `None` as code: PyPI takes it and so must we.
const CASES: [(&str, &str, Option<&str>, &str); 39] = [
    ("2.1", "", None, ""),
    ("2.0", "", Some("pypi-metadata-version"), "metadata-version"),
    ("2.6", "", Some("pypi-metadata-version"), "metadata-version"),
    (
        "2.1",
        "License-Expression: MIT\n",
        Some("pypi-field-too-new"),
        "license-expression",
    ),
    (
        "2.1",
        "Dynamic: Classifier\n",
        Some("pypi-field-too-new"),
        "dynamic",
    ),
    (
        "1.0",
        "Classifier: Programming Language :: Python :: 3\n",
        Some("pypi-field-too-new"),
        "classifier",
    ),
    ("2.1", "License-File: LICENSE\n", None, ""),
    ("2.4", "Dynamic: Version\n", Some("pypi-dynamic"), "dynamic"),
    ("2.4", "Dynamic: Dynamic\n", Some("pypi-dynamic"), "dynamic"),
    ("2.4", "Dynamic: Requires-Dist\n", None, ""),
    (
        "2.1",
        "Classifier: Programming Language :: Klingon\n",
        Some("pypi-classifier"),
        "classifier",
    ),
    (
        "2.1",
        "Classifier: License :: OSI Approved :: Intel Open Source License\n",
        Some("pypi-classifier-deprecated"),
        "classifier",
    ),
    (
        "2.1",
        "Classifier: License :: OSI Approved :: MIT License\n",
        None,
        "",
    ),
    ("2.1", "Requires-Python: >=3.9,<4\n", None, ""),
    (
        "2.1",
        "Requires-Python: >= three\n",
        Some("pypi-requires-python"),
        "requires-python",
    ),
    (
        "2.1",
        "Requires-Python: =>3.9\n",
        Some("pypi-requires-python"),
        "requires-python",
    ),
    (
        "2.1",
        "Requires-Dist: requests >=2 ; python_version >= \"3.9\"\n",
        None,
        "",
    ),
    (
        "2.1",
        "Requires-Dist: requests >=>2\n",
        Some("pypi-requirement"),
        "requires-dist",
    ),
    (
        "2.1",
        "Requires-Dist: requests; python_version >> \"3\"\n",
        Some("pypi-requirement"),
        "requires-dist",
    ),
    (
        "2.1",
        "Requires-Dist: lib @ https://example.org/lib-1.0.tar.gz\n",
        Some("pypi-direct-reference"),
        "requires-dist",
    ),
    ("2.1", "Provides-Extra: web_ui\n", None, ""),
    (
        "2.1",
        "Provides-Extra: -web\n",
        Some("pypi-extra"),
        "provides-extra",
    ),
    (
        "2.1",
        "Author-email: Jane Doe <jane@example.org>, Joe <joe@example.org>\n",
        None,
        "",
    ),
    (
        "2.1",
        "Author-email: Jane Doe <jane@localhost>\n",
        Some("pypi-email"),
        "author-email",
    ),
    (
        "2.1",
        "Maintainer-email: jane.example.org\n",
        Some("pypi-email"),
        "maintainer-email",
    ),
    (
        "2.1",
        "Author-email: jane@example..org\n",
        Some("pypi-email"),
        "author-email",
    ),
    (
        "2.4",
        "License-Expression: mit OR (Apache-2.0 WITH LLVM-exception)\n",
        None,
        "",
    ),
    (
        "2.4",
        "License-Expression: MIT OR Use-it-after-midnight\n",
        Some("pypi-license-expression"),
        "license-expression",
    ),
    (
        "2.4",
        "License-Expression: (MIT\n",
        Some("pypi-license-expression"),
        "license-expression",
    ),
    (
        "2.4",
        "License: MIT\nLicense-Expression: MIT\n",
        Some("pypi-license-both"),
        "license",
    ),
    (
        "2.4",
        "License-Expression: GPL-2.0 OR Apache-2.0+\n",
        None,
        "",
    ),
    (
        "1.2",
        "Provides-Extra: web\n",
        Some("pypi-field-too-new"),
        "provides-extra",
    ),
    (
        "2.1",
        "Obsoletes-Dist: old @ https://example.org/old-1.0.tar.gz\n",
        Some("pypi-direct-reference"),
        "obsoletes-dist",
    ),
    (
        "2.1",
        "Classifier: Natural Language :: Ukranian\n",
        Some("pypi-classifier-deprecated"),
        "classifier",
    ),
    (
        "2.1",
        "Author-email: UNKNOWN\n",
        Some("pypi-email"),
        "author-email",
    ),
    (
        "2.1",
        "Author-email: Jos\u{e9} <jos\u{e9}@example.org>\n",
        None,
        "",
    ),
    (
        "2.1",
        "Home-page: example.org\n",
        Some("pypi-url"),
        "home-page",
    ),
    ("2.1", "Home-page: https://example.org/docs\n", None, ""),
    (
        "2.1",
        "Project-URL: A label far longer than thirty-two characters, https://example.org\n",
        Some("pypi-project-url"),
        "project-url",
    ),
];

#[test]
fn each_rule_refuses_what_pypi_refuses_and_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    fs_err::create_dir_all(&dist).unwrap();
    let mut expected = BTreeMap::new();
    for (index, (version, extra, code, field)) in CASES.iter().enumerate() {
        let name = format!("case{index}");
        let metadata = format!(
            "Metadata-Version: {version}\nName: {name}\nVersion: 1.0\nSummary: A case\n{extra}Description-Content-Type: text/markdown\n\n# Case\n"
        );
        let metadata = if matches!(*version, "1.0" | "1.1" | "1.2") {
            metadata.replace("Description-Content-Type: text/markdown\n", "")
        } else {
            metadata
        };
        let wheel = WheelBuilder::new(&name, "1.0")
            .metadata(&metadata)
            .build(&dist);
        expected.insert(
            wheel.file_name().unwrap().to_string_lossy().into_owned(),
            (*code, *field),
        );
    }
    // The file-name rules: a project part that is not normalized (Warehouse lowercases
    // it and folds `.`/`-` to `_` before comparing: accepted), a platform tag outside the
    // allow-list, and a tag on it.
    let unnormalized = WheelBuilder::new("Case.Name", "1.0")
        .named("Case.Name-1.0-py3-none-any.whl")
        .build(&dist);
    expected.insert(
        unnormalized
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned(),
        (None, ""),
    );
    let linux = WheelBuilder::new("case_linux", "1.0")
        .tag("cp311-cp311-linux_x86_64")
        .build(&dist);
    expected.insert(
        linux.file_name().unwrap().to_string_lossy().into_owned(),
        (Some("pypi-platform-tag"), "file name"),
    );
    let musl = WheelBuilder::new("case_musl", "1.0")
        .tag("cp311-cp311-musllinux_1_2_aarch64")
        .build(&dist);
    expected.insert(
        musl.file_name().unwrap().to_string_lossy().into_owned(),
        (None, ""),
    );

    let files: Vec<PathBuf> = expected.keys().map(|name| dist.join(name)).collect();
    let truth = truth_of(&files);
    let ours = ours_of(dir.path(), &files);
    for (file, (code, field)) in &expected {
        let (truth, ours) = (&truth[file], &ours[file]);
        let codes: Vec<&str> = ours.iter().map(|(c, _)| c.as_str()).collect();
        match code {
            None => {
                assert!(
                    truth.fields.is_empty(),
                    "{file}: PyPI refuses {:?}",
                    truth.fields
                );
                assert!(ours.is_empty(), "{file}: the pre-flight refuses {ours:?}");
            }
            Some(code) => {
                assert!(
                    truth.fields.contains(*field),
                    "{file}: PyPI names {:?}, not `{field}`",
                    truth.fields
                );
                assert!(codes.contains(code), "{file}: {code} not in {ours:?}");
                // The message names the field the way PyPI does.
                let (_, message) = ours.iter().find(|(c, _)| c == code).unwrap();
                assert!(
                    message.to_ascii_lowercase().contains(field),
                    "{file}: {message}"
                );
            }
        }
    }
}

#[test]
fn the_vendored_classifiers_are_the_pinned_packages() {
    // The vendoring script is the one writer of the format: run it into a temporary
    // folder and compare.
    let fresh = tempfile::tempdir().unwrap();
    let script = workspace_root().join("scripts/vendor-trove-classifiers.py");
    python_output([script.as_os_str(), fresh.path().as_os_str()]);
    let vendored = workspace_root().join("crates/publish-pypi/src/warehouse");
    for file in ["classifiers.txt", "deprecated-classifiers.txt"] {
        let want = fs_err::read_to_string(fresh.path().join(file)).unwrap();
        let have = fs_err::read_to_string(vendored.join(file)).unwrap();
        let pinned = want.lines().next().unwrap_or_default();
        assert!(
            have == want,
            "{file} differs from the pinned {pinned}: run `target/test-venv/bin/python scripts/vendor-trove-classifiers.py` and commit both files"
        );
    }
}

#[test]
fn every_spdx_identifier_packaging_knows_is_known_here() {
    let script = "from packaging.licenses._spdx import LICENSES, EXCEPTIONS\nprint(' OR '.join(v['id'] for v in LICENSES.values()))\nprint(' OR '.join(f'(MIT WITH {v[\"id\"]})' for v in EXCEPTIONS.values()))\n";
    let stdout = String::from_utf8(python_output(["-c", script])).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    fs_err::create_dir_all(&dist).unwrap();
    let files: Vec<PathBuf> = stdout
        .lines()
        .enumerate()
        .map(|(index, expression)| {
            let name = format!("spdx{index}");
            let metadata = format!("Metadata-Version: 2.4\nName: {name}\nVersion: 1.0\nLicense-Expression: {expression}\n\nAll of them.\n");
            WheelBuilder::new(&name, "1.0").metadata(&metadata).build(&dist)
        })
        .collect();
    assert_eq!(files.len(), 2);
    let truth = truth_of(&files);
    let ours = ours_of(dir.path(), &files);
    for (file, verdict) in &truth {
        assert!(
            verdict.fields.is_empty(),
            "{file}: packaging refuses {:?}",
            verdict.fields
        );
        assert!(ours[file].is_empty(), "{file}: {:?}", ours[file]);
    }
}
