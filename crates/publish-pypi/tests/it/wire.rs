//! The form as twine sends it, differentially: the same real PyPI wheels uploaded by
//! twine and by publish-pypi to a scripted index, field names compared. `license_file`
//! goes only with Metadata-Version 2.4 or later (Warehouse's `packaging` parser rejects
//! it below; setuptools before 77 writes License-File under 2.1).

use std::process::Command;

use custody_test_support::{MockServer, Reply, multipart_fields, pypi_artifact, venv_bin};

use crate::cmd;

/// The (name, value) fields of every upload the server received, in order.
fn uploads(server: &MockServer) -> Vec<Vec<(String, String)>> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .map(|r| multipart_fields(r.header("Content-Type").unwrap(), &r.body))
        .collect()
}

fn values<'a>(fields: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    fields
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn server() -> MockServer {
    MockServer::start(|request, _| match request.method.as_str() {
        "POST" => Reply::new(200, "OK"),
        _ if request.url == "/simple/" => custody_test_support::empty_simple_index(),
        _ => Reply::new(404, "Not Found"),
    })
}

#[test]
fn license_file_is_sent_as_twine_sends_it() {
    // (file, Metadata-Version, its License-File on the wire). Our side of the files
    // under 2.4 is in `form.rs`'s unit tests: the pre-flight refuses them before any
    // upload (`pypi-field-too-new`).
    let cases = [
        ("jaraco.functools-4.1.0-py3-none-any.whl", "2.1", None),
        (
            "MarkupSafe-2.1.5-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "2.1",
            None,
        ),
        ("attrs-25.3.0-py3-none-any.whl", "2.4", Some("LICENSE")),
    ];
    let files: Vec<_> = cases.iter().map(|(name, ..)| pypi_artifact(name)).collect();
    let twines = server();
    let status = Command::new(venv_bin().join("twine"))
        .args(["upload", "--non-interactive", "--disable-progress-bar"])
        .args(["--repository-url", &twines.url(), "-u", "me", "-p", "pw"])
        .args(&files)
        .status()
        .unwrap();
    assert!(status.success(), "twine upload");
    let twines = uploads(&twines);
    assert_eq!(twines.len(), cases.len());
    for ((name, version, license_file), twines) in cases.iter().zip(&twines) {
        assert_eq!(values(twines, "metadata_version"), [*version], "{name}");
        let expected: Vec<&str> = license_file.iter().copied().collect();
        assert_eq!(values(twines, "license_file"), expected, "twine, {name}");
    }

    // The 2.4 wheel passes the pre-flight: ours sends what twine sends.
    let ours = server();
    let dir = tempfile::tempdir().unwrap();
    let output = cmd(dir.path())
        .arg(&files[2])
        .args(["--repository-url", &ours.url(), "-u", "me", "-p", "pw"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", crate::stderr_of(&output));
    let ours = uploads(&ours);
    assert_eq!(values(&ours[0], "license_file"), ["LICENSE"]);
    assert_eq!(
        values(&ours[0], "license_file"),
        values(&twines[2], "license_file")
    );
}
