//! Conformance from the field: JUnit reports written by real runners (made once by
//! scripts/test-env.sh, tests/fixtures/publish-test-results/make-reports.sh), each
//! checked against the runner's own summary line. Every difference is deliberate and
//! documented in docs/publish-test-results.md.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::{cmd, json_of, stderr_of, totals};

/// Where scripts/test-env.sh wrote the runners' reports.
fn runner_reports() -> PathBuf {
    custody_test_support::fixtures_dir().join("junit-runners")
}

/// `N word` pairs of the runner's summary line(s) in `NAME.out` (`3 failed`, `2 pending`,
/// `[ 5 tests found ]`), picked by each runner's own format.
fn summary_of(name: &str) -> HashMap<String, u64> {
    let out = without_ansi(
        &fs_err::read_to_string(runner_reports().join(format!("{name}.out"))).unwrap(),
    );
    let lines: Vec<&str> = match name {
        n if n.starts_with("pytest") => out
            .lines()
            .rev()
            .find(|l| l.starts_with('=') && l.contains(" in "))
            .into_iter()
            .collect(),
        "jest" => out.lines().filter(|l| l.starts_with("Tests:")).collect(),
        "vitest" => out
            .lines()
            .filter(|l| l.trim_start().starts_with("Tests "))
            .collect(),
        "mocha" => out
            .lines()
            .filter(|l| {
                ["passing", "pending", "failing"]
                    .iter()
                    .any(|w| l.split_whitespace().nth(1) == Some(w))
            })
            .collect(),
        "junit5" => out
            .lines()
            .filter(|l| l.starts_with('[') && l.contains(" tests "))
            .collect(),
        other => panic!("no summary format for {other}"),
    };
    assert!(!lines.is_empty(), "{name} printed no summary:\n{out}");
    let mut counts = HashMap::new();
    for line in lines {
        let words: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || ",|=[]()".contains(c))
            .filter(|w| !w.is_empty() && *w != "tests")
            .collect();
        for pair in words.windows(2) {
            if let Ok(count) = pair[0].parse::<u64>() {
                counts.insert(pair[1].to_owned(), count);
            }
        }
    }
    counts
}

/// `text` without ANSI colour sequences (`ESC [ … m`), which some runners print even to a
/// file when they believe they run on CI.
fn without_ansi(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

/// (tests, passed, failed, errors, skipped, xfailed, flaky), as `--json` gives them.
type Counts = (u64, u64, u64, u64, u64, u64, u64);

/// Our `--json` result and totals for the runner's report.
fn ours(name: &str) -> (serde_json::Value, Counts) {
    let dir = tempfile::tempdir().unwrap();
    let output = cmd(dir.path())
        .arg(runner_reports().join(format!("{name}.xml")))
        .args(["--json", "--fail-on", "none"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let result = json_of(&output);
    let counts = totals(&result);
    (result, counts)
}

fn count(summary: &HashMap<String, u64>, word: &str) -> u64 {
    summary.get(word).copied().unwrap_or(0)
}

/// pytest's summary as [passed, failed, errors, skipped, xfailed]: a non-strict XPASS is
/// written as a plain passed case.
fn pytests(summary: &HashMap<String, u64>) -> [u64; 5] {
    [
        count(summary, "passed") + count(summary, "xpassed"),
        count(summary, "failed"),
        count(summary, "error"),
        count(summary, "skipped"),
        count(summary, "xfailed"),
    ]
}

#[test]
fn pytest_in_both_families_and_in_parallel_equals_its_summary() {
    for name in ["pytest-xunit2", "pytest-xunit1", "pytest-xdist"] {
        let summary = summary_of(name);
        let (_, (tests, passed, failed, errors, skipped, xfailed, flaky)) = ours(name);
        assert_eq!(
            [passed, failed, errors, skipped, xfailed],
            pytests(&summary),
            "{name}: {summary:?}"
        );
        assert_eq!((tests, flaky), (10, 0), "{name}");
    }
}

#[test]
fn pytest_reruns_count_each_test_once_with_its_last_attempt() {
    for (name, strict) in [("pytest-plugins", false), ("pytest-plugins-strict", true)] {
        let summary = summary_of(name);
        let (result, (tests, passed, failed, errors, skipped, xfailed, flaky)) = ours(name);
        assert_eq!(count(&summary, "rerun"), 2, "{name}: {summary:?}");
        // The report holds 13 cases: the two rerun tests once per attempt.
        let written = fs_err::read_to_string(runner_reports().join(format!("{name}.xml")))
            .unwrap()
            .matches("<testcase ")
            .count();
        assert_eq!(written, 13, "{name}");
        assert_eq!(
            [passed, failed, errors, skipped, xfailed],
            pytests(&summary),
            "{name}: {summary:?}"
        );
        assert_eq!(tests, passed + failed + errors + skipped + xfailed);
        assert_eq!(tests, 11, "{name}");
        assert_eq!(
            flaky, 1,
            "test_passes_on_its_rerun passed on its second attempt"
        );
        let failing: Vec<&str> = result["failures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["test"].as_str().unwrap())
            .collect();
        assert_eq!(failing.len() as u64, failed, "{failing:?}");
        assert!(failing.contains(&"tests.test_plugins.test_fails_every_rerun"));
        assert_eq!(
            failing.contains(&"tests.test_plugins.test_xpasses"),
            strict,
            "xfail_strict turns an XPASS into a failure: {failing:?}"
        );
    }
}

#[test]
fn jest_junit_equals_jests_summary_but_for_todo() {
    let summary = summary_of("jest");
    let (result, (tests, passed, failed, errors, skipped, ..)) = ours("jest");
    assert_eq!(tests, count(&summary, "total"), "{summary:?}");
    assert_eq!((failed, errors), (count(&summary, "failed"), 0));
    assert_eq!(skipped, count(&summary, "skipped"));
    // jest-junit writes a `test.todo` as a case without any result: it reads as passed.
    assert_eq!(passed, count(&summary, "passed") + count(&summary, "todo"));
    let names: Vec<&str> = result["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["test"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["sum adds negatives", "sum throws outside an assertion"]
    );
}

#[test]
fn mocha_junit_reporter_equals_mochas_summary() {
    let summary = summary_of("mocha");
    let (result, (tests, passed, failed, errors, skipped, ..)) = ours("mocha");
    assert_eq!(
        (passed, failed + errors, skipped),
        (
            count(&summary, "passing"),
            count(&summary, "failing"),
            count(&summary, "pending")
        ),
        "{summary:?}"
    );
    assert_eq!(tests, 6);
    // A failing `before all` hook is written as a case of its own, as mocha counts it.
    assert!(
        result["failures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["message"] == "database unavailable"),
        "{result}"
    );
}

#[test]
fn vitest_equals_its_summary() {
    let summary = summary_of("vitest");
    let (_, (tests, passed, failed, errors, skipped, ..)) = ours("vitest");
    // vitest's junit reporter writes a `test.todo` as skipped; `test.fails` that fails passes.
    assert_eq!(
        (passed, failed, errors, skipped),
        (
            count(&summary, "passed"),
            count(&summary, "failed"),
            0,
            count(&summary, "skipped") + count(&summary, "todo")
        ),
        "{summary:?}"
    );
    assert_eq!(tests, 6);
}

#[test]
fn junit5_console_launcher_equals_its_summary() {
    let summary = summary_of("junit5");
    let (result, (tests, passed, failed, errors, skipped, ..)) = ours("junit5");
    assert_eq!(
        (tests, passed, failed + errors, skipped),
        (
            count(&summary, "found"),
            count(&summary, "successful"),
            count(&summary, "failed"),
            // Disabled tests are "skipped", failed assumptions "aborted": both <skipped>.
            count(&summary, "skipped") + count(&summary, "aborted")
        ),
        "{summary:?}"
    );
    let negatives = result["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["test"] == "com.example.OutcomesTest.addsNegatives()")
        .unwrap();
    assert_eq!(
        (negatives["file"].as_str(), negatives["line"].as_u64()),
        (Some("OutcomesTest.java"), Some(18))
    );
}
