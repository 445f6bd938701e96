//! Bad input: a clear error naming the file (and position), exit code 3, never zero tests.

use crate::{cmd, pytest_report, stderr_of};

fn fails_with(dir: &std::path::Path, args: &[&str], first_line: &str) -> String {
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
fn missing_files_and_empty_globs() {
    let dir = tempfile::tempdir().unwrap();
    fails_with(dir.path(), &["nope.xml"], "`nope.xml` does not exist");
    fails_with(
        dir.path(),
        &["reports/*.xml"],
        "`reports/*.xml` matches no file",
    );
}

#[test]
fn truncated_and_malformed_reports_name_file_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let (report, _) = pytest_report(dir.path(), "xunit2", "full.xml");
    let text = fs_err::read_to_string(&report).unwrap();
    // Killed mid-write: the report stops inside a test case.
    let cut = text
        .find("<testcase classname=\"tests.test_outcomes\" name=\"test_skipped\"")
        .unwrap();
    fs_err::write(dir.path().join("cut.xml"), &text[..cut + 20]).unwrap();
    let stderr = fails_with(dir.path(), &["cut.xml"], "`cut.xml` ");
    assert!(
        stderr.contains("truncated") || stderr.contains("not well-formed"),
        "{stderr}"
    );

    let cut_between = text
        .find("<testcase classname=\"tests.test_outcomes\" name=\"test_skipped\"")
        .unwrap();
    fs_err::write(dir.path().join("cut2.xml"), &text[..cut_between]).unwrap();
    let stderr = fails_with(dir.path(), &["cut2.xml"], "`cut2.xml` ends at line ");
    assert!(
        stderr.contains(" inside <testsuite>: the file is truncated"),
        "{stderr}"
    );

    fs_err::write(
        dir.path().join("bad.xml"),
        "<testsuites>\n<testsuite name=\"x\">\n<testcase name=\"a\"></testsuite>\n",
    )
    .unwrap();
    fails_with(
        dir.path(),
        &["bad.xml"],
        "`bad.xml` is not well-formed XML at line 3, column",
    );
}

#[test]
fn reports_without_tests_or_not_junit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    fs_err::write(
        dir.path().join("empty.xml"),
        "<testsuites name=\"pytest tests\"><testsuite name=\"pytest\" tests=\"0\"/></testsuites>",
    )
    .unwrap();
    fails_with(dir.path(), &["empty.xml"], "`empty.xml` has no test cases");
    fs_err::write(
        dir.path().join("coverage.xml"),
        "<?xml version=\"1.0\"?><coverage line-rate=\"1\"></coverage>",
    )
    .unwrap();
    fails_with(
        dir.path(),
        &["coverage.xml"],
        "`coverage.xml` is not a JUnit report: its root element is <coverage>",
    );
    fs_err::write(dir.path().join("zero.xml"), "").unwrap();
    fails_with(
        dir.path(),
        &["zero.xml"],
        "`zero.xml` is not a JUnit report",
    );
}
