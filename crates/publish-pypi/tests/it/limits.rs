//! PyPI's file size limit (100 MiB unless raised for the project), caught before the
//! upload: PyPI would take the whole file, then answer `400 File too large`.

use custody_test_support::WheelBuilder;

use crate::{cmd, stderr_of};

#[test]
fn a_file_over_the_limit_is_refused_before_upload_and_the_limit_can_be_raised() {
    let dir = tempfile::tempdir().unwrap();
    // 1.5 MiB that deflate cannot shrink (xorshift noise), so the wheel is over 1 MiB.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..3 * 512 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    let wheel = WheelBuilder::new("custody-big", "1.0")
        .file("custody_big/blob.bin", &noise)
        .build(dir.path());
    let size = fs_err::metadata(&wheel).unwrap().len();
    assert!(size > 1024 * 1024, "{size}");

    let refused = cmd(dir.path())
        .args(["check", "--max-file-size", "1"])
        .arg(&wheel)
        .output()
        .unwrap();
    let stderr = stderr_of(&refused);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "is {size} bytes, over the index's limit of 1 MiB per file (PyPI answers `400 File too large`) [pypi-file-size]"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("--max-file-size MIB"), "{stderr}");

    for raised in [&["--max-file-size", "2"][..], &[]] {
        let output = cmd(dir.path())
            .arg("check")
            .args(raised)
            .arg(&wheel)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr_of(&output));
    }
}
