//! Where the manifest's files are: anywhere below its directory (or --from), found as
//! approve-gate finds them, since CI systems download each job's artifacts into a
//! folder of its own.

use crate::{cmd, manifest_of, sample_release, stderr_of};

#[test]
fn the_files_are_found_below_the_manifests_directory_as_approve_gate_finds_them() {
    let dir = tempfile::tempdir().unwrap();
    let release = dir.path().join("release");
    let files = sample_release(&release.join("wheels-py3.11"));
    // The sdist in another job's folder.
    let sdist = release
        .join("sdist/job-2")
        .join(files[1].file_name().unwrap());
    fs_err::create_dir_all(sdist.parent().unwrap()).unwrap();
    fs_err::rename(&files[1], &sdist).unwrap();
    manifest_of(&[files[0].clone(), sdist], &release.join("release.json"));

    let output = cmd(dir.path())
        .args(["check", "--manifest", "release/release.json"])
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("2 file(s): ready to publish"), "{stderr}");

    // --from elsewhere: not there.
    fs_err::create_dir_all(dir.path().join("empty")).unwrap();
    let output = cmd(dir.path())
        .args([
            "check",
            "--manifest",
            "release/release.json",
            "--from",
            "empty",
        ])
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("is listed in the manifest but not in `empty`"),
        "{stderr}"
    );
}
