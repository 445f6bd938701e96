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

#[test]
fn every_bad_report_is_named_and_no_content_is_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let good = "<testsuite><testcase name=\"a\"/></testsuite>";
    fs_err::write(dir.path().join("good.xml"), good).unwrap();
    fs_err::write(dir.path().join("notes.xml"), "token=hunter2\n").unwrap();
    fs_err::write(dir.path().join("data.xml"), "{\"token\": \"hunter2\"}").unwrap();
    fs_err::write(
        dir.path().join("amp.xml"),
        "<testsuite><testcase name=\"a & b\"/></testsuite>",
    )
    .unwrap();
    let stderr = fails_with(
        dir.path(),
        &["good.xml", "notes.xml", "data.xml", "amp.xml"],
        "`amp.xml` is not well-formed XML at line 1, column 36: a malformed attribute",
    );
    for named in [
        "error: `data.xml` is not XML: it does not start with an element (a text or JSON file?)",
        "error: `notes.xml` is not XML",
        "error: 3 of 4 reports cannot be read: `amp.xml`, `data.xml`, `notes.xml`",
    ] {
        assert!(stderr.contains(named), "{named} in {stderr}");
    }
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[test]
fn a_report_without_cases_beside_others_is_a_warning() {
    // JUnit 5's console launcher writes one report per engine, most of them empty.
    let dir = tempfile::tempdir().unwrap();
    fs_err::write(
        dir.path().join("TEST-junit-jupiter.xml"),
        "<testsuite name=\"JUnit Jupiter\" tests=\"1\"><testcase name=\"a()\"/></testsuite>",
    )
    .unwrap();
    fs_err::write(
        dir.path().join("TEST-junit-vintage.xml"),
        "<testsuite name=\"JUnit Vintage\" tests=\"0\"></testsuite>",
    )
    .unwrap();
    let output = cmd(dir.path()).arg(".").output().unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: `TEST-junit-vintage.xml` has no test cases (not counted)"),
        "{stderr}"
    );
    assert!(stderr.contains("1 passed of 1 tests"), "{stderr}");
}
