//! Reports of other runners, as they write them: Maven Surefire, jest-junit, cargo
//! nextest, go-junit-report.

use crate::{cmd, fixture, json_of, stderr_of, totals};

fn run(name: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let output = cmd(dir.path())
        .arg(fixture(name))
        .args(["--json", "--fail-on", "none"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    json_of(&output)
}

fn failure<'a>(result: &'a serde_json::Value, test: &str) -> &'a serde_json::Value {
    result["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["test"] == test)
        .unwrap()
}

#[test]
fn maven_surefire() {
    let result = run("surefire.xml");
    // adds, retries (flaky, passed on rerun) pass; divides fails; connects errors; ignored skips.
    assert_eq!(totals(&result), (5, 2, 1, 1, 1, 0, 1));
    let divides = failure(&result, "com.example.CalculatorTest.divides");
    assert_eq!(divides["message"], "expected: <2> but was: <3>");
    assert_eq!(
        (divides["file"].as_str(), divides["line"].as_u64()),
        (Some("CalculatorTest.java"), Some(21))
    );
    assert_eq!(
        failure(&result, "com.example.CalculatorTest.connects")["outcome"],
        "error"
    );
    assert!((result["totals"]["duration"].as_f64().unwrap() - 0.052).abs() < 1e-9);
}

#[test]
fn jest_junit() {
    let result = run("jest.xml");
    assert_eq!(totals(&result), (4, 2, 1, 0, 1, 0, 0));
    // jest-junit repeats the name as the classname: it is shown once.
    let negatives = failure(&result, "sum adds negatives");
    // No message attribute: the first line of the text stands in.
    assert_eq!(
        negatives["message"],
        "Error: expect(received).toBe(expected) // Object.is equality"
    );
    // The absolute runner path and node_modules frames are not the project's.
    assert_eq!(negatives["file"], serde_json::Value::Null);
    assert_eq!(result["slowest"][0]["test"], "sum is pure");
}

#[test]
fn cargo_nextest() {
    let result = run("nextest.xml");
    assert_eq!(totals(&result), (4, 3, 1, 0, 0, 0, 1));
    let bombs = failure(&result, "custody-dist.wheel::tests::rejects_bombs");
    assert_eq!(
        (bombs["file"].as_str(), bombs["line"].as_u64()),
        (Some("crates/custody-dist/src/wheel.rs"), Some(612))
    );
    assert_eq!(bombs["suite"], "custody-dist");
    assert!((result["totals"]["duration"].as_f64().unwrap() - 0.42).abs() < 1e-9);
}

#[test]
fn go_junit_report() {
    let result = run("go.xml");
    assert_eq!(totals(&result), (3, 1, 1, 0, 1, 0, 0));
    let divide = failure(&result, "example.com/app/calc.TestDivide");
    assert_eq!(divide["message"], "Failed");
    assert_eq!(
        (divide["file"].as_str(), divide["line"].as_u64()),
        (Some("calc_test.go"), Some(14))
    );
}

#[test]
fn all_runners_together() {
    let dir = tempfile::tempdir().unwrap();
    let output = cmd(dir.path())
        .args(
            ["surefire.xml", "jest.xml", "nextest.xml", "go.xml"]
                .map(|n| fixture(n).display().to_string()),
        )
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(totals(&json_of(&output)), (16, 8, 4, 1, 3, 0, 2));
}
