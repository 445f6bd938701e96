//! `publish-pypi check`: the pre-flight alone, and its place before any upload.

use custody_test_support::{MockServer, Reply, SdistBuilder, WheelBuilder};

use crate::{cmd, json_of, sample_release, stderr_of, stdout_of};

#[test]
fn the_sample_release_is_ready() {
    let dir = tempfile::tempdir().unwrap();
    sample_release(&dir.path().join("dist"));
    let output = cmd(dir.path()).args(["check", "dist/"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains("2 file(s): ready to publish"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn what_pypi_would_reject_is_named_with_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    fs_err::create_dir_all(&dist).unwrap();
    let local = WheelBuilder::new("demo", "1.0+local").build(&dist);
    let both_licenses = WheelBuilder::new("other", "1.0")
        .metadata("Metadata-Version: 2.4\nName: other\nVersion: 1.0\nLicense: MIT\nLicense-Expression: MIT\n\nBody\n")
        .build(&dist);
    // A legacy sdist name: PyPI wants `my_pkg-1.0.tar.gz` now.
    let legacy = SdistBuilder::new("My.Pkg", "1.0").build(&dist);
    let output = cmd(dir.path())
        .args(["check", "dist/", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let result = json_of(&output);
    let codes = |file: &std::path::Path| -> Vec<String> {
        let name = file.file_name().unwrap().to_str().unwrap();
        result["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["file_name"] == name)
            .unwrap()["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["code"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(
        codes(&local).contains(&"pypi-local-version".to_owned()),
        "{result}"
    );
    assert!(
        codes(&both_licenses).contains(&"pypi-license-both".to_owned()),
        "{result}"
    );
    assert!(
        codes(&legacy).contains(&"sdist-name-pep625".to_owned()),
        "{result}"
    );
    assert!(
        stderr_of(&output).contains("3 of 3 file(s) would be rejected"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn a_bad_file_late_in_the_list_stops_the_release_before_the_first_byte() {
    let server = MockServer::start(|_, _| Reply::new(200, "OK"));
    let dir = tempfile::tempdir().unwrap();
    let mut files = sample_release(&dir.path().join("dist"));
    files.push(
        WheelBuilder::new("zzz-broken", "1.0")
            .tamper("zzz_broken/__init__.py", b"print('not what RECORD says')\n")
            .build(&dir.path().join("dist")),
    );
    let output = cmd(dir.path())
        .args(files.iter().map(|f| f.to_str().unwrap()))
        .args(["--repository-url", &server.url(), "-u", "me", "-p", "pw"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("`zzz_broken-1.0-py3-none-any.whl`"),
        "{stderr}"
    );
    assert!(stderr.contains("[record-hash-mismatch]"), "{stderr}");
    assert!(
        stderr.contains("1 of 3 file(s) failed the pre-flight check; nothing was uploaded"),
        "{stderr}"
    );
    assert!(server.requests().is_empty(), "nothing may reach the index");
}

#[test]
fn untrusted_file_names_cannot_start_ci_commands() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    fs_err::create_dir_all(&dist).unwrap();
    let wheel = WheelBuilder::new("demo", "1.0").build(&dist);
    fs_err::rename(
        &wheel,
        dist.join("##vso[task.complete result=Succeeded]x.whl"),
    )
    .unwrap();
    let github = cmd(dir.path())
        .args(["check", "dist/"])
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    let azure = cmd(dir.path())
        .args(["check", "dist/"])
        .env("TF_BUILD", "True")
        .output()
        .unwrap();
    for output in [github, azure] {
        assert_eq!(output.status.code(), Some(1));
        let text = format!("{}{}", stdout_of(&output), stderr_of(&output));
        assert!(
            text.contains("task.complete"),
            "the name is reported: {text}"
        );
        for line in text.lines() {
            // Azure's agent finds `##vso[` anywhere in a line; GitHub's runner `::` at its start.
            assert!(!line.contains("##vso[task.complete"), "{line}");
            assert!(
                !line.starts_with("::")
                    || line.starts_with("::error ")
                    || line.starts_with("::error::")
                    || line.starts_with("::warning "),
                "{line}"
            );
        }
    }
}

#[test]
fn nothing_to_publish_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = cmd(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).starts_with("error: nothing to publish"),
        "{}",
        stderr_of(&output)
    );
    let output = cmd(dir.path()).arg("dist/*.whl").output().unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stderr_of(&output).starts_with("error: `dist/*.whl` matches no file"),
        "{}",
        stderr_of(&output)
    );
}
