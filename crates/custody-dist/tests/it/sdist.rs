//! Each sdist rule, broken once.

use std::io::Write;

use custody_dist::{ArtifactKind, Limits};
use custody_test_support::SdistBuilder;

use crate::{assert_clean, assert_error, check, check_with};

#[test]
fn built_sdist_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    let sdist = SdistBuilder::new("demo-pkg", "1.0").build(dir.path());
    let inspection = check(&sdist);
    assert_clean(&inspection);
    assert_eq!(inspection.kind, ArtifactKind::Sdist);
    assert_eq!(inspection.project.unwrap().normalized_name, "demo-pkg");
}

#[test]
fn top_directory_must_match_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let sdist = SdistBuilder::new("demo", "1.0")
        .top("demo-1.0-dev")
        .build(dir.path());
    let message = assert_error(&check(&sdist), "sdist-top-dir");
    assert!(
        message.contains("`demo-1.0-dev`") && message.contains("expected exactly `demo-1.0/`"),
        "{message}"
    );
}

#[test]
fn files_outside_the_top_directory_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sdist = SdistBuilder::new("demo", "1.0")
        .file("setup.py", b"")
        .build(dir.path());
    let message = assert_error(&check(&sdist), "sdist-top-dir");
    assert!(message.contains("`setup.py`"), "{message}");
}

#[test]
fn pkg_info_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let sdist = SdistBuilder::new("demo", "1.0")
        .pkg_info(None)
        .build(dir.path());
    let message = assert_error(&check(&sdist), "sdist-pkg-info-missing");
    assert_eq!(message, "has no `demo-1.0/PKG-INFO`");
}

#[test]
fn pkg_info_must_agree_with_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let sdist = SdistBuilder::new("demo", "1.0")
        .pkg_info(Some("Metadata-Version: 2.1\nName: demo\nVersion: 1.0.1\n"))
        .build(dir.path());
    assert_error(&check(&sdist), "metadata-version-mismatch");
    let dir = tempfile::tempdir().unwrap();
    let sdist = SdistBuilder::new("demo", "1.0")
        .pkg_info(Some("Metadata-Version: 2.1\nName: other\nVersion: 1.0\n"))
        .build(dir.path());
    assert_error(&check(&sdist), "metadata-name");
}

#[test]
fn path_traversal_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sdist = SdistBuilder::new("demo", "1.0")
        .raw_path("demo-1.0/../../evil.sh", b"x")
        .build(dir.path());
    let message = assert_error(&check(&sdist), "path-unsafe");
    assert!(message.contains("`demo-1.0/../../evil.sh`"), "{message}");
    let dir = tempfile::tempdir().unwrap();
    let sdist = SdistBuilder::new("demo", "1.0")
        .raw_path("/tmp/evil.sh", b"x")
        .build(dir.path());
    assert!(assert_error(&check(&sdist), "path-unsafe").contains("is absolute"));
}

#[test]
fn links_pointing_outside_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sdist = SdistBuilder::new("demo", "1.0")
        .symlink("demo-1.0/passwd", "../../etc/passwd")
        .build(dir.path());
    let message = assert_error(&check(&sdist), "sdist-link-escape");
    assert!(
        message.contains("symlink to `../../etc/passwd`"),
        "{message}"
    );

    let dir = tempfile::tempdir().unwrap();
    let sdist = SdistBuilder::new("demo", "1.0")
        .hardlink("demo-1.0/shadow", "etc/shadow")
        .build(dir.path());
    assert!(assert_error(&check(&sdist), "sdist-link-escape").contains("hard link"));
}

#[test]
fn links_inside_are_fine() {
    let dir = tempfile::tempdir().unwrap();
    let sdist = SdistBuilder::new("demo", "1.0")
        .symlink("demo-1.0/README", "PKG-INFO")
        .build(dir.path());
    assert_clean(&check(&sdist));
}

#[test]
fn device_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sdist = SdistBuilder::new("demo", "1.0")
        .device("demo-1.0/tty")
        .build(dir.path());
    assert_error(&check(&sdist), "sdist-special-file");
}

#[test]
fn not_gzip_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo-1.0.tar.gz");
    fs_err::write(&path, b"plain text, not gzip").unwrap();
    assert_error(&check(&path), "sdist-not-gzip");
}

#[test]
fn truncated_sdist_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sdist = SdistBuilder::new("demo", "1.0")
        .file("demo-1.0/data.txt", &vec![7u8; 200_000])
        .build(dir.path());
    let bytes = fs_err::read(&sdist).unwrap();
    fs_err::write(&sdist, &bytes[..bytes.len() / 2]).unwrap();
    let message = assert_error(&check(&sdist), "sdist-corrupt");
    assert!(
        message.starts_with("cannot be read as a tar.gz"),
        "{message}"
    );
}

#[test]
fn gzip_bomb_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sdist = SdistBuilder::new("demo", "1.0")
        .file("demo-1.0/zeros", &vec![0u8; 8 * 1024 * 1024])
        .build(dir.path());
    assert!(fs_err::metadata(&sdist).unwrap().len() < 64 * 1024);
    let message = assert_error(
        &check_with(
            &sdist,
            &Limits {
                max_unpacked_size: 1024 * 1024,
            },
        ),
        "zip-bomb",
    );
    assert!(message.contains("1048576"), "{message}");
}

#[test]
fn zip_sdist_is_recognised_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo-1.0.zip");
    let mut zip = zip::ZipWriter::new(fs_err::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("demo-1.0/PKG-INFO", options).unwrap();
    zip.write_all(b"Metadata-Version: 1.0\nName: demo\nVersion: 1.0\n")
        .unwrap();
    zip.start_file("demo-1.0/setup.py", options).unwrap();
    zip.write_all(b"").unwrap();
    zip.finish().unwrap();
    let inspection = check(&path);
    assert_eq!(inspection.kind, ArtifactKind::Sdist);
    assert_clean(&inspection);
}

#[test]
fn a_zip_without_pkg_info_is_a_plain_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("docs-1.0.zip");
    let mut zip = zip::ZipWriter::new(fs_err::File::create(&path).unwrap());
    zip.start_file("index.html", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.finish().unwrap();
    assert_eq!(check(&path).kind, ArtifactKind::File);
}
