//! Bad input and foreign paths: clear errors naming the file, never a silent 0 %.

use crate::{cmd, json_of, stderr_of};

fn fails(dir: &std::path::Path, args: &[&str], first_line: &str) -> String {
    let output = cmd(dir).args(args).output().unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert!(
        stderr.starts_with(&format!("error: {first_line}")),
        "{stderr}"
    );
    assert!(stderr.contains("hint: "), "{stderr}");
    stderr
}

#[test]
fn unknown_malformed_and_empty_reports() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    fs_err::write(path.join("notes.txt"), "coverage was fine\n").unwrap();
    fails(
        path,
        &["notes.txt"],
        "`notes.txt` is not a coverage report this step reads",
    );
    fs_err::write(
        path.join("bad.xml"),
        "<?xml version=\"1.0\"?>\n<coverage>\n<packages><package></packages>\n",
    )
    .unwrap();
    fails(
        path,
        &["bad.xml"],
        "`bad.xml` is not well-formed XML at line 3, column",
    );
    fs_err::write(
        path.join("junit.xml"),
        "<testsuites><testsuite/></testsuites>",
    )
    .unwrap();
    fails(
        path,
        &["junit.xml"],
        "`junit.xml` is not a valid Cobertura report: the root element is <testsuites>",
    );
    fs_err::write(
        path.join("empty.xml"),
        "<?xml version=\"1.0\"?><coverage lines-valid=\"0\"><sources/><packages/></coverage>",
    )
    .unwrap();
    fails(path, &["empty.xml"], "`empty.xml` covers no files");
    fs_err::write(
        path.join("broken.json"),
        "{\"meta\": {}, \"files\": [1, 2]}",
    )
    .unwrap();
    fails(
        path,
        &["broken.json"],
        "`broken.json` is not a valid coverage.py JSON report: it has no `files` object",
    );
    fails(path, &["missing.xml"], "`missing.xml` does not exist");
}

#[test]
fn paths_from_another_machine_need_mapping_to_merge() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    fs_err::create_dir_all(path.join("calc")).unwrap();
    fs_err::write(path.join("calc/core.py"), "x = 1\n").unwrap();
    // A Windows runner's report: absolute paths with backslashes.
    let windows = "<?xml version=\"1.0\" ?>\n<coverage lines-valid=\"2\" lines-covered=\"1\" line-rate=\"0.5\" branches-valid=\"0\" branches-covered=\"0\" branch-rate=\"0\" complexity=\"0\">\n<sources><source>D:\\a\\proj\\proj</source></sources>\n<packages><package name=\"calc\"><classes><class name=\"core.py\" filename=\"calc\\core.py\"><lines><line number=\"1\" hits=\"1\"/><line number=\"2\" hits=\"0\"/></lines></class></classes></package></packages></coverage>\n";
    fs_err::write(path.join("windows.xml"), windows).unwrap();
    // A Linux runner's report of the same file.
    let linux = "<?xml version=\"1.0\" ?>\n<coverage lines-valid=\"2\" lines-covered=\"1\" line-rate=\"0.5\" branches-valid=\"0\" branches-covered=\"0\" branch-rate=\"0\" complexity=\"0\">\n<sources><source>/home/runner/work/proj/proj</source></sources>\n<packages><package name=\"calc\"><classes><class name=\"core.py\" filename=\"/home/runner/work/proj/proj/calc/core.py\"><lines><line number=\"1\" hits=\"0\"/><line number=\"2\" hits=\"3\"/></lines></class></classes></package></packages></coverage>\n";
    fs_err::write(path.join("linux.xml"), linux).unwrap();

    // Its totals need no sources: they stand, with a warning that Codecov and patch
    // coverage cannot match its paths.
    let output = cmd(path).args(["linux.xml", "--json"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("warning: no file of `linux.xml` exists here (for example `/home/runner/work/proj/proj/calc/core.py`)"),
        "{stderr}"
    );
    assert!(stderr.contains("--strip-prefix"), "{stderr}");
    assert_eq!(json_of(&output)["display"], "50");

    let output = cmd(path)
        .args([
            "windows.xml",
            "linux.xml",
            "--strip-prefix",
            "/home/runner/work/proj/proj",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let result = json_of(&output);
    // One file, both lines covered somewhere: 100 %.
    assert_eq!(result["files"].as_array().unwrap().len(), 1, "{result}");
    assert_eq!(result["files"][0]["path"], "calc/core.py");
    assert_eq!(result["display"], "100");
}
