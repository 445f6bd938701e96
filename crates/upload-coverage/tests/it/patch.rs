//! Patch coverage against a real git history and a real coverage.py run.

use std::process::Command as Process;

use crate::{cmd, json_of, measure, project, stderr_of, stdout_of};

fn git(dir: &std::path::Path, args: &[&str]) {
    let output = Process::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn changed_lines_are_measured_and_the_uncovered_ones_annotated() {
    let dir = tempfile::tempdir().unwrap();
    let project = project(dir.path());
    git(&project, &["init", "-q", "-b", "main"]);
    git(&project, &["add", "-A"]);
    git(&project, &["commit", "-q", "-m", "base"]);
    // The change: two new functions, one of them tested.
    let source = project.join("calc/__init__.py");
    let mut text = fs_err::read_to_string(&source).unwrap();
    let first_new = text.lines().count() as u64 + 3;
    text.push_str("\n\ndef double(x):\n    return 2 * x\n\n\ndef triple(x):\n    if x:\n        return 3 * x\n    return 0\n");
    fs_err::write(&source, text).unwrap();
    fs_err::write(
        project.join("tests/test_c.py"),
        "from calc import double\n\n\ndef test_double():\n    assert double(2) == 4\n",
    )
    .unwrap();
    measure(&project, ".coverage", true, &["tests"], "all");

    let outputs = dir.path().join("outputs");
    let output = cmd(&project)
        .args(["all.xml", "--diff-base", "main", "--json"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &outputs)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let result = json_of(&output);
    let patch = &result["patch"];
    // def double, its return, def triple, if x, return 3 * x, return 0: 6 coverable, 3 covered.
    assert_eq!(
        (patch["coverable"].as_u64(), patch["covered"].as_u64()),
        (Some(6), Some(3)),
        "{patch}"
    );
    assert_eq!(patch["display"], "50");
    let uncovered: Vec<u64> = patch["files"][0]["uncovered_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_u64().unwrap())
        .collect();
    assert_eq!(uncovered, vec![first_new + 5, first_new + 6, first_new + 7]);
    // One annotation for the uncovered range (commands go to stderr with --json).
    let annotations: Vec<String> = stderr_of(&output)
        .lines()
        .filter(|l| l.starts_with("::warning "))
        .map(str::to_owned)
        .collect();
    assert_eq!(annotations.len(), 1, "{annotations:?}");
    assert!(
        annotations[0].starts_with(&format!("::warning file=calc/__init__.py,line={},title=Uncovered change::lines {}-{} are changed since main", first_new + 5, first_new + 5, first_new + 7)),
        "{}",
        annotations[0]
    );
    assert!(
        fs_err::read_to_string(&outputs)
            .unwrap()
            .contains("patch_coverage=50\n")
    );

    let failing = cmd(&project)
        .args(["all.xml", "--diff-base", "main", "--fail-under-patch", "80"])
        .output()
        .unwrap();
    assert_eq!(failing.status.code(), Some(1));
    assert!(
        stderr_of(&failing)
            .contains("error: patch coverage 50% (since main) is under --fail-under-patch 80%"),
        "{}",
        stderr_of(&failing)
    );
    assert!(
        stderr_of(&failing)
            .contains("Patch coverage since main: 50% (3 of 6 changed coverable lines)"),
        "{}{}",
        stdout_of(&failing),
        stderr_of(&failing)
    );

    let unknown = cmd(&project)
        .args(["all.xml", "--diff-base", "origin/nope"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(3));
    assert!(stderr_of(&unknown).starts_with("error: cannot compare with `origin/nope`: `origin/nope` is not a commit in this repository"), "{}", stderr_of(&unknown));
    assert!(stderr_of(&unknown).contains("fetch-depth: 0"));
}
