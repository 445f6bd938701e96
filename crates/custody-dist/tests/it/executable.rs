//! Executables: recognized by magic bytes, with a sane header for their format.

use custody_dist::{ArtifactKind, ExecutableFormat};

use custody_test_support::pe32_x86;

use crate::{assert_clean, assert_error, check};

#[test]
fn pe_is_recognized_with_its_architecture() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clkutil.exe");
    fs_err::write(&path, pe32_x86()).unwrap();
    let inspection = check(&path);
    assert_clean(&inspection);
    assert_eq!(inspection.kind, ArtifactKind::Executable);
    let info = inspection.executable.unwrap();
    assert_eq!(info.format, ExecutableFormat::Pe);
    assert_eq!(info.arch, "x86");
    assert_eq!(info.bits, 32);
    assert_eq!(info.bundle, None);
}

#[test]
fn pyinstaller_bundle_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clkutil.exe");
    let mut image = pe32_x86();
    image.extend_from_slice(b"PYZ-00.pyz...");
    image.extend_from_slice(b"MEI\x0c\x0b\x0a\x0b\x0e");
    image.extend_from_slice(&[0u8; 80]);
    fs_err::write(&path, image).unwrap();
    assert_eq!(
        check(&path).executable.unwrap().bundle.as_deref(),
        Some("pyinstaller")
    );
}

#[test]
fn elf_is_recognized_whatever_its_name() {
    // The test binary itself is an ELF executable on Linux.
    let exe = std::env::current_exe().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tool");
    fs_err::copy(&exe, &path).unwrap();
    let inspection = check(&path);
    if cfg!(target_os = "linux") {
        assert_clean(&inspection);
        let info = inspection.executable.unwrap();
        assert_eq!(info.format, ExecutableFormat::Elf);
        assert_eq!(info.arch, std::env::consts::ARCH);
    }
}

#[test]
fn mach_o_is_recognized() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tool");
    let mut header = vec![0u8; 64];
    header[0..4].copy_from_slice(&[0xcf, 0xfa, 0xed, 0xfe]);
    header[4..8].copy_from_slice(&0x0100_000cu32.to_le_bytes()); // arm64
    header[12..16].copy_from_slice(&2u32.to_le_bytes()); // MH_EXECUTE
    header[16..20].copy_from_slice(&12u32.to_le_bytes()); // load commands
    fs_err::write(&path, header).unwrap();
    let info = check(&path).executable.unwrap();
    assert_eq!(info.format, ExecutableFormat::MachO);
    assert_eq!(info.arch, "arm64");
}

#[test]
fn exe_without_a_pe_header_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clkutil.exe");
    fs_err::write(&path, b"<html>404 Not Found</html>").unwrap();
    let inspection = check(&path);
    assert_eq!(inspection.kind, ArtifactKind::Executable);
    assert!(assert_error(&inspection, "exe-header").contains("no executable header"));
}

#[test]
fn truncated_pe_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clkutil.exe");
    fs_err::write(&path, &pe32_x86()[..0x82]).unwrap();
    let message = assert_error(&check(&path), "exe-header");
    assert!(message.contains("outside the file"), "{message}");
}

#[test]
fn dos_program_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.exe");
    let mut image = pe32_x86();
    image[0x80..0x84].copy_from_slice(b"NE\0\0");
    fs_err::write(&path, image).unwrap();
    assert!(assert_error(&check(&path), "exe-header").contains("no `PE\\0\\0` signature"));
}

#[test]
fn anything_else_is_a_plain_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    fs_err::write(&path, b"release notes").unwrap();
    let inspection = check(&path);
    assert_eq!(inspection.kind, ArtifactKind::File);
    assert_clean(&inspection);
    assert!(inspection.digests.md5.is_none());
}
