//! Reports from a real pytest run: numbers, failures, CI output.

use crate::{cmd, json_of, pytest_count, pytest_report, stderr_of, stdout_of, totals};

#[test]
fn the_numbers_are_pytests_own_in_both_junit_families() {
    let dir = tempfile::tempdir().unwrap();
    for family in ["xunit2", "xunit1"] {
        let (report, summary) = pytest_report(dir.path(), family, &format!("{family}.xml"));
        let output = cmd(dir.path()).arg(&report).arg("--json").output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(1),
            "tests failed: {}",
            stderr_of(&output)
        );
        let result = json_of(&output);
        let (tests, passed, failed, errors, skipped, xfailed, flaky) = totals(&result);
        // JUnit does not mark a non-strict XPASS: it is a passed test case there.
        let (p_failed, p_passed, p_skipped, p_xfailed, p_xpassed, p_error) = (
            pytest_count(&summary, "failed"),
            pytest_count(&summary, "passed"),
            pytest_count(&summary, "skipped"),
            pytest_count(&summary, "xfailed"),
            pytest_count(&summary, "xpassed"),
            pytest_count(&summary, "error"),
        );
        assert_eq!(
            (failed, errors, skipped, xfailed, flaky),
            (p_failed, p_error, p_skipped, p_xfailed, 0),
            "{summary}"
        );
        assert_eq!(passed, p_passed + p_xpassed, "{summary}");
        assert_eq!(
            tests,
            p_failed + p_passed + p_skipped + p_xfailed + p_xpassed + p_error
        );
        assert_eq!(
            (tests, passed, failed, errors, skipped, xfailed),
            (10, 3, 4, 1, 1, 1),
            "{family}"
        );

        let failures = result["failures"].as_array().unwrap();
        assert_eq!(failures.len(), 5);
        let fails = failures
            .iter()
            .find(|f| f["test"] == "tests.test_outcomes.test_fails")
            .unwrap();
        assert_eq!(fails["outcome"], "failed");
        assert_eq!(fails["message"], "assert (1 + 1) == 3");
        // The line of the failing assert, from the traceback, not the `def`.
        assert_eq!(
            (fails["file"].as_str(), fails["line"].as_u64()),
            (Some("tests/test_outcomes.py"), Some(17))
        );
        assert!(
            fails["details"]
                .as_str()
                .unwrap()
                .contains("E       assert (1 + 1) == 3")
        );
        let setup = failures
            .iter()
            .find(|f| f["test"] == "tests.test_outcomes.test_errors_in_setup")
            .unwrap();
        assert_eq!(setup["outcome"], "error");
        assert_eq!(
            setup["message"],
            "failed on setup with \"RuntimeError: database unavailable\""
        );
        assert_eq!(setup["line"], 22);
        let strict = failures
            .iter()
            .find(|f| f["test"] == "tests.test_outcomes.test_xpasses_strictly")
            .unwrap();
        assert_eq!(strict["message"], "[XPASS(strict)] must fail");
        let slowest = result["slowest"].as_array().unwrap();
        assert_eq!(slowest[0]["test"], "tests.test_outcomes.test_slow_passes");
    }
}

#[test]
fn the_terminal_summary_reads_like_pytests() {
    let dir = tempfile::tempdir().unwrap();
    let (report, _) = pytest_report(dir.path(), "xunit2", "r.xml");
    let output = cmd(dir.path())
        .arg(&report)
        .args(["--title", "Python 3.7 x86"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains(
            "Python 3.7 x86: 3 passed, 4 failed, 1 error, 1 skipped, 1 xfailed of 10 tests"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: tests/test_outcomes.py:17: tests.test_outcomes.test_fails failed: assert (1 + 1) == 3"),
        "{stderr}"
    );
    assert!(
        stderr.contains("    tests/test_outcomes.py:17: AssertionError"),
        "{stderr}"
    );
    assert!(stderr.contains("Slowest tests:"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "NO_COLOR is honoured");
}

#[test]
fn github_gets_capped_annotations_a_summary_and_outputs_and_no_injection() {
    let dir = tempfile::tempdir().unwrap();
    let (report, _) = pytest_report(dir.path(), "xunit1", "r.xml");
    let outputs = dir.path().join("out");
    let summary = dir.path().join("summary.md");
    let output = cmd(dir.path())
        .arg(&report)
        .args(["--max-annotations", "2", "--title", "py37"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = stdout_of(&output);
    let errors: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert_eq!(errors.len(), 2, "{stdout}");
    assert!(errors[0].starts_with("::error file=tests/test_outcomes.py,line=17,title=py37%3A tests.test_outcomes.test_fails::"), "{}", errors[0]);
    assert!(
        stdout.contains("::notice::3 more failing test(s) not annotated"),
        "{stdout}"
    );
    let outputs = fs_err::read_to_string(&outputs).unwrap();
    // The parts add up to `tests`.
    for line in [
        "tests=10",
        "passed=3",
        "failed=4",
        "errors=1",
        "skipped=1",
        "xfailed=1",
        "flaky=0",
    ] {
        assert!(
            outputs.contains(&format!("{line}\n")),
            "{line} in {outputs}"
        );
    }
    let summary = fs_err::read_to_string(&summary).unwrap();
    assert!(summary.contains("| 10 | 3 | 4 | 1 | 1 | 1 |"), "{summary}");
    assert!(
        summary.contains("<code>tests.test_outcomes.test_fails</code>"),
        "{summary}"
    );

    // Test names that try to start workflow commands are shown, but cannot act.
    let all = format!("{stdout}{}", stderr_of(&output));
    for line in all.lines() {
        assert!(!line.starts_with("::error::injected"), "{line}");
        assert!(!line.contains("##vso[task.complete"), "{line}");
    }
    assert!(summary.contains("injected"), "the test is listed");
    assert!(!summary.lines().any(|l| l.starts_with("::")), "{summary}");
}

#[test]
fn azure_gets_the_run_and_an_issue_per_failure() {
    let dir = tempfile::tempdir().unwrap();
    let (report, _) = pytest_report(dir.path(), "xunit2", "r.xml");
    let output = cmd(dir.path())
        .arg("r.xml")
        .args(["--title", "Python 3.7; x86"])
        .env("TF_BUILD", "True")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = stdout_of(&output);
    let publish = format!(
        "##vso[results.publish type=JUnit;mergeResults=true;runTitle=Python 3.7%3B x86;publishRunAttachments=true;failTaskOnFailedTests=false;resultFiles={}]",
        report.display()
    );
    assert!(stdout.lines().any(|l| l == publish), "{stdout}");
    let issues = stdout
        .lines()
        .filter(|l| l.starts_with("##vso[task.logissue type=error"))
        .count();
    assert_eq!(issues, 5, "{stdout}");
    assert!(!stdout.contains("##vso[task.complete"), "{stdout}");
}

#[test]
fn fail_on_decides_what_fails_the_step() {
    let dir = tempfile::tempdir().unwrap();
    let (report, _) = pytest_report(dir.path(), "xunit2", "r.xml");
    let code = |fail_on: &str| {
        cmd(dir.path())
            .arg(&report)
            .args(["--fail-on", fail_on, "-q"])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(code("failures"), Some(1));
    assert_eq!(code("errors"), Some(1), "one test errors in setup");
    assert_eq!(code("none"), Some(0));
}

#[test]
fn the_reports_of_a_matrix_merge() {
    let dir = tempfile::tempdir().unwrap();
    // Every job writes the same file name; the fan-in downloads them side by side.
    fs_err::create_dir_all(dir.path().join("jobs/py37")).unwrap();
    fs_err::create_dir_all(dir.path().join("jobs/py311")).unwrap();
    pytest_report(dir.path(), "xunit2", "jobs/py37/junit.xml");
    pytest_report(dir.path(), "xunit1", "jobs/py311/junit.xml");
    let output = cmd(dir.path())
        .args(["jobs/*/junit.xml", "--json", "--fail-on", "none"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let result = json_of(&output);
    assert_eq!(totals(&result), (20, 6, 8, 2, 2, 2, 0));
    assert_eq!(result["reports"].as_array().unwrap().len(), 2);
}

#[test]
fn a_huge_message_is_cut_for_the_ci_and_kept_in_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "boom ".repeat(200_000);
    let names = ["first", "second"];
    let mut cases = String::new();
    for n in names {
        cases.push_str(&format!(
            "<testcase classname=\"t\" name=\"{n}\"><failure message=\"{huge}\">{huge}</failure></testcase>"
        ));
    }
    fs_err::write(
        dir.path().join("r.xml"),
        format!("<testsuite>{cases}</testsuite>"),
    )
    .unwrap();
    let summary = dir.path().join("summary.md");
    let output = cmd(dir.path())
        .arg("r.xml")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    let stdout = stdout_of(&output);
    let errors: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert_eq!(errors.len(), 2);
    for error in &errors {
        let message = error
            .split_once("::")
            .unwrap()
            .1
            .split_once("::")
            .unwrap()
            .1;
        assert!(message.chars().count() <= 4096, "{}", message.len());
        assert!(message.ends_with("[cut; the whole message is in the log and the job summary]"));
    }
    let summary = fs_err::read_to_string(&summary).unwrap();
    assert!(summary.len() < 1024 * 1024, "{}", summary.len());
    for name in names {
        assert!(
            summary.contains(&format!("<code>t.{name}</code>")),
            "{name}"
        );
    }
    assert!(summary.contains("more bytes in the report]"));

    let output = cmd(dir.path())
        .arg("r.xml")
        .env("TF_BUILD", "True")
        .output()
        .unwrap();
    let stdout = stdout_of(&output);
    let issue = stdout
        .lines()
        .find(|l| l.starts_with("##vso[task.logissue type=error"))
        .unwrap();
    // The agent decodes the message before it cuts it.
    let text = issue
        .split_once(']')
        .unwrap()
        .1
        .replace("%3B", ";")
        .replace("%5D", "]")
        .replace("%AZP25", "%");
    assert!(text.chars().count() <= 4096, "{}", text.len());
    assert!(
        text.starts_with("Tests: t.first: t.first failed: boom boom"),
        "{text:.80}"
    );
    assert!(text.ends_with("[cut; the whole message is in the log and the job summary]"));
}
