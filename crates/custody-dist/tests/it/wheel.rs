//! Each wheel rule, broken once.

use custody_dist::{ArtifactKind, Limits};
use custody_test_support::{WheelBuilder, record_hash};

use crate::{assert_clean, assert_error, assert_warning, check, check_with};

#[test]
fn built_wheel_is_clean_and_described() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo-pkg", "1.0").build(dir.path());
    let inspection = check(&wheel);
    assert_clean(&inspection);
    assert_eq!(inspection.kind, ArtifactKind::Wheel);
    let project = inspection.project.unwrap();
    assert_eq!(project.normalized_name, "demo-pkg");
    assert_eq!(project.version, "1.0");
    assert_eq!(inspection.metadata_version.as_deref(), Some("2.1"));
    assert_eq!(inspection.entries, Some(4));
    assert!(inspection.digests.md5.is_some() && inspection.digests.blake2b_256.is_some());
}

#[test]
fn file_name_grammar() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0")
        .named("demo-1.0-py3.whl")
        .build(dir.path());
    let message = assert_error(&check(&wheel), "wheel-filename");
    assert!(message.contains("demo-1.0-py3.whl"), "{message}");
}

#[test]
fn metadata_name_must_match_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let builder = WheelBuilder::new("demo", "1.0");
    let wheel = builder
        .clone()
        .metadata("Metadata-Version: 2.1\nName: other\nVersion: 1.0\n")
        .build(dir.path());
    let message = assert_error(&check(&wheel), "metadata-name");
    assert!(
        message.contains("`Name: other`") && message.contains("`demo`"),
        "{message}"
    );
}

#[test]
fn metadata_version_must_match_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0")
        .metadata("Metadata-Version: 2.1\nName: demo\nVersion: 1.1\n")
        .build(dir.path());
    let message = assert_error(&check(&wheel), "metadata-version-mismatch");
    assert!(
        message.contains("1.1") && message.contains("1.0"),
        "{message}"
    );
}

#[test]
fn normalized_names_and_versions_agree() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("Demo.Pkg", "1.0.0")
        .named("demo_pkg-1.0-py3-none-any.whl")
        .metadata("Metadata-Version: 2.1\nName: Demo.Pkg\nVersion: 1.0.0\n")
        .build(dir.path());
    // The dist-info is `Demo.Pkg-1.0.0.dist-info`: same name and version once normalized.
    assert_clean(&check(&wheel));
}

#[test]
fn wheel_file_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let builder = WheelBuilder::new("demo", "1.0");
    let omit = format!("{}/WHEEL", builder.dist_info());
    let wheel = builder.omit(&omit).build(dir.path());
    let inspection = check(&wheel);
    assert_error(&inspection, "wheel-file-missing");
    // RECORD still lists it, which is its own error.
    assert_error(&inspection, "record-missing-file");
}

#[test]
fn wheel_version_major_must_be_one() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0")
        .wheel_file("Wheel-Version: 2.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        .build(dir.path());
    assert_error(&check(&wheel), "wheel-version");
}

#[test]
fn newer_wheel_minor_version_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0")
        .wheel_file("Wheel-Version: 1.9\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        .build(dir.path());
    let inspection = check(&wheel);
    assert!(inspection.is_ok());
    assert!(
        inspection
            .problems
            .iter()
            .any(|p| p.code == "wheel-version"),
        "{:?}",
        inspection.problems
    );
}

#[test]
fn wheel_tags_must_match_file_name() {
    let dir = tempfile::tempdir().unwrap();
    // Built as pure, then renamed to claim a CPython 3.11 Linux wheel.
    let wheel = WheelBuilder::new("demo", "1.0")
        .named("demo-1.0-cp311-cp311-linux_x86_64.whl")
        .build(dir.path());
    let message = assert_error(&check(&wheel), "wheel-tags");
    assert!(
        message.contains("cp311-cp311-linux_x86_64") && message.contains("py3-none-any"),
        "{message}"
    );
}

#[test]
fn build_tag_must_match_wheel_file() {
    let dir = tempfile::tempdir().unwrap();
    let builder = WheelBuilder::new("demo", "1.0").named("demo-1.0-1-py3-none-any.whl");
    let with_build = |build: &str| {
        format!("Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\nBuild: {build}\n")
    };
    let wheel = builder
        .clone()
        .wheel_file(&with_build("1"))
        .build(dir.path());
    assert_clean(&check(&wheel));
    let wheel = builder.wheel_file(&with_build("2")).build(dir.path());
    let message = assert_error(&check(&wheel), "wheel-build");
    assert!(
        message.contains("`2`") && message.contains("`1`"),
        "{message}"
    );
}

#[test]
fn build_tag_without_a_build_line_is_a_warning() {
    // Installers read only the file name's build tag.
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0")
        .named("demo-1.0-1-py3-none-any.whl")
        .build(dir.path());
    let inspection = check(&wheel);
    assert_clean(&inspection);
    assert_warning(&inspection, "wheel-build-missing");
}

#[test]
fn compressed_tag_line_is_a_warning() {
    // What maturin writes: the file name's compressed set on one `Tag` line.
    let dir = tempfile::tempdir().unwrap();
    let tag = "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64";
    let builder = WheelBuilder::new("demo", "1.0").tag(tag);
    let wheel = builder
        .clone()
        .wheel_file(&format!(
            "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: {tag}\n"
        ))
        .build(dir.path());
    let inspection = check(&wheel);
    assert_clean(&inspection);
    let message = assert_warning(&inspection, "wheel-tags-compressed");
    assert!(message.contains(&format!("`{tag}`")), "{message}");
    // A compressed line that claims another set is still a renamed wheel.
    let wheel = builder
        .wheel_file("Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-manylinux_2_17_x86_64.musllinux_1_2_x86_64\n")
        .build(dir.path());
    let message = assert_error(&check(&wheel), "wheel-tags");
    assert!(
        message.contains("missing `cp311-cp311-manylinux2014_x86_64`")
            && message.contains("not in the file name `cp311-cp311-musllinux_1_2_x86_64`"),
        "{message}"
    );
}

#[test]
fn root_is_purelib_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0")
        .wheel_file("Wheel-Version: 1.0\nTag: py3-none-any\n")
        .build(dir.path());
    assert_error(&check(&wheel), "wheel-purelib");
}

#[test]
fn record_hash_mismatch_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0")
        .tamper("demo/__init__.py", b"VALUE = 43\n")
        .build(dir.path());
    let message = assert_error(&check(&wheel), "record-hash-mismatch");
    assert!(
        message.starts_with("`demo/__init__.py` has sha256="),
        "{message}"
    );
    assert!(
        message.contains(&format!("RECORD says {}", record_hash(b"VALUE = 42\n"))),
        "{message}"
    );
}

#[test]
fn record_size_mismatch_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let builder = WheelBuilder::new("demo", "1.0");
    let data = b"X = 1\n";
    let wheel = builder
        .unlisted_file("demo/extra.py", data)
        .record_row(&format!(
            "demo/extra.py,{},{}",
            record_hash(data),
            data.len() + 1
        ))
        .build(dir.path());
    let message = assert_error(&check(&wheel), "record-size-mismatch");
    assert_eq!(message, "`demo/extra.py` is 6 bytes, RECORD says 7");
}

#[test]
fn unlisted_files_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0")
        .unlisted_file("demo/backdoor.py", b"import os\n")
        .build(dir.path());
    let message = assert_error(&check(&wheel), "record-unlisted");
    assert!(message.contains("`demo/backdoor.py`"), "{message}");
}

#[test]
fn listed_but_missing_files_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0")
        .omit("demo/__init__.py")
        .build(dir.path());
    let message = assert_error(&check(&wheel), "record-missing-file");
    assert!(message.contains("`demo/__init__.py`"), "{message}");
}

#[test]
fn record_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let builder = WheelBuilder::new("demo", "1.0");
    let record = format!("{}/RECORD", builder.dist_info());
    let wheel = builder.omit(&record).build(dir.path());
    assert_error(&check(&wheel), "record-missing");
}

#[test]
fn record_rows_need_a_hash() {
    let dir = tempfile::tempdir().unwrap();
    let builder = WheelBuilder::new("demo", "1.0");
    let wheel = builder
        .unlisted_file("demo/a.py", b"")
        .record_row("demo/a.py,,0")
        .build(dir.path());
    assert_error(&check(&wheel), "record-no-hash");
}

#[test]
fn md5_and_sha1_hashes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0")
        .unlisted_file("demo/a.py", b"")
        .record_row("demo/a.py,md5=1B2M2Y8AsgTpgAmY7PhCfg,0")
        .build(dir.path());
    assert_error(&check(&wheel), "record-weak-hash");
}

#[test]
fn malformed_record_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0")
        .record("demo/__init__.py,sha256=abc\n")
        .build(dir.path());
    let message = assert_error(&check(&wheel), "record-invalid");
    assert!(message.contains("RECORD` row 1"), "{message}");
}

#[test]
fn duplicate_record_rows_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    let data = b"VALUE = 42\n";
    let wheel = WheelBuilder::new("demo", "1.0")
        .record_row(&format!(
            "demo/__init__.py,{},{}",
            record_hash(data),
            data.len()
        ))
        .build(dir.path());
    assert_error(&check(&wheel), "record-duplicate");
}

#[test]
fn absolute_paths_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0")
        .file("/etc/cron.d/evil", b"x")
        .build(dir.path());
    let message = assert_error(&check(&wheel), "path-unsafe");
    assert!(
        message.contains("`/etc/cron.d/evil` is absolute"),
        "{message}"
    );
}

#[test]
fn parent_components_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0")
        .file("demo/../../outside.py", b"x")
        .build(dir.path());
    let message = assert_error(&check(&wheel), "path-unsafe");
    assert!(message.contains("`..`"), "{message}");
}

#[test]
fn symlinks_escaping_the_archive_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0")
        .symlink("demo/passwd", "../../etc/passwd")
        .build(dir.path());
    let message = assert_error(&check(&wheel), "symlink-escape");
    assert!(message.contains("`../../etc/passwd`"), "{message}");
}

#[test]
fn symlinks_inside_listed_in_record_are_only_a_warning() {
    // pip and uv write a symlink entry as a regular file holding the target path, so
    // RECORD must list that content like any file's.
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0")
        .symlink("demo/alias.py", "__init__.py")
        .record_row(&format!("demo/alias.py,{},11", record_hash(b"__init__.py")))
        .build(dir.path());
    let inspection = check(&wheel);
    assert_clean(&inspection);
    let message = assert_warning(&inspection, "zip-symlink");
    assert!(
        message.contains("installers write it as a regular file"),
        "{message}"
    );
}

#[test]
fn symlinks_not_in_record_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0")
        .symlink("demo/alias.py", "__init__.py")
        .build(dir.path());
    let message = assert_error(&check(&wheel), "record-unlisted");
    assert!(message.contains("`demo/alias.py`"), "{message}");
}

#[test]
fn duplicate_entries_are_refused() {
    // The zip crate refuses to write duplicates; Python's zipfile only warns.
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0").build(dir.path());
    let status = std::process::Command::new(custody_test_support::python())
        .args(["-W", "ignore", "-c", "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'a') as z: z.writestr('demo/__init__.py', 'VALUE = 666\\n')"])
        .arg(&wheel)
        .status()
        .unwrap();
    assert!(status.success());
    let message = assert_error(&check(&wheel), "zip-duplicate");
    assert!(message.contains("`demo/__init__.py`"), "{message}");
}

#[test]
fn unpacked_size_over_the_cap_is_a_bomb() {
    let dir = tempfile::tempdir().unwrap();
    let zeros = vec![0u8; 4 * 1024 * 1024];
    let wheel = WheelBuilder::new("demo", "1.0")
        .file("demo/zeros.bin", &zeros)
        .build(dir.path());
    assert!(
        fs_err::metadata(&wheel).unwrap().len() < 64 * 1024,
        "compresses well"
    );
    let inspection = check_with(
        &wheel,
        &Limits {
            max_unpacked_size: 1024 * 1024,
        },
    );
    let message = assert_error(&inspection, "zip-bomb");
    assert!(
        message.contains("over the limit of 1048576 bytes"),
        "{message}"
    );
    assert_clean(&check(&wheel));
}

#[test]
fn a_single_dist_info_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let builder = WheelBuilder::new("demo", "1.0");
    let wheel = builder
        .clone()
        .file("other-1.0.dist-info/METADATA", b"Name: other\n")
        .build(dir.path());
    assert_error(&check(&wheel), "wheel-dist-info-multiple");

    let dir = tempfile::tempdir().unwrap();
    let wheel = builder
        .clone()
        .omit(&format!("{}/METADATA", builder.dist_info()))
        .omit(&format!("{}/WHEEL", builder.dist_info()))
        .omit(&format!("{}/RECORD", builder.dist_info()))
        .build(dir.path());
    assert_error(&check(&wheel), "wheel-dist-info-missing");
}

#[test]
fn dist_info_name_must_match() {
    let dir = tempfile::tempdir().unwrap();
    // A wheel of `demo` 1.0 renamed to claim version 2.0 (METADATA still says 1.0).
    let wheel = WheelBuilder::new("demo", "1.0")
        .named("demo-2.0-py3-none-any.whl")
        .build(dir.path());
    let inspection = check(&wheel);
    assert_error(&inspection, "wheel-dist-info-name");
    assert_error(&inspection, "metadata-version-mismatch");
}

#[test]
fn other_data_directories_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0")
        .file("other-1.0.data/scripts/x", b"#!/bin/sh\n")
        .build(dir.path());
    assert_error(&check(&wheel), "wheel-data-dir");
}

#[test]
fn license_files_of_metadata_2_4_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let metadata = "Metadata-Version: 2.4\nName: demo\nVersion: 1.0\nLicense-Expression: MIT\nLicense-File: LICENSE\n";
    let builder = WheelBuilder::new("demo", "1.0").metadata(metadata);
    let wheel = builder.clone().build(dir.path());
    let message = assert_error(&check(&wheel), "license-file-missing");
    assert!(
        message.contains("demo-1.0.dist-info/licenses/LICENSE"),
        "{message}"
    );

    let dir = tempfile::tempdir().unwrap();
    let license = format!("{}/licenses/LICENSE", builder.dist_info());
    assert_clean(&check(&builder.file(&license, b"MIT").build(dir.path())));
}

#[test]
fn corrupt_compressed_data_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let text = "print('hello')\n".repeat(200);
    let wheel = WheelBuilder::new("demo", "1.0")
        .file("demo/big.py", text.as_bytes())
        .build(dir.path());
    let mut bytes = fs_err::read(&wheel).unwrap();
    // Flip a byte inside the first entry's compressed data (after its 30-byte local
    // header and name).
    let offset = 30 + "demo/__init__.py".len() + 2;
    bytes[offset] ^= 0xff;
    fs_err::write(&wheel, &bytes).unwrap();
    let inspection = check(&wheel);
    assert!(!inspection.is_ok());
    let codes = crate::error_codes(&inspection);
    assert!(
        codes
            .iter()
            .any(|c| c == "zip-corrupt" || c == "record-hash-mismatch" || c == "zip-inconsistent"),
        "{codes:?}"
    );
}

#[test]
fn truncated_wheel_is_not_a_zip() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0").build(dir.path());
    let bytes = fs_err::read(&wheel).unwrap();
    fs_err::write(&wheel, &bytes[..bytes.len() / 2]).unwrap();
    let message = assert_error(&check(&wheel), "zip-invalid");
    assert!(
        message.starts_with("is not a readable zip archive"),
        "{message}"
    );
}

#[test]
fn archive_comment_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0")
        .comment("hello")
        .build(dir.path());
    let inspection = check(&wheel);
    assert!(inspection.is_ok());
    assert!(inspection.problems.iter().any(|p| p.code == "zip-comment"));
}
