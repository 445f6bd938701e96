//! The CI YAML we ship calls the steps with flags they have: every custody invocation
//! in action-using workflows and Azure templates is checked against the step's `--help`.

use std::path::Path;

use crate::{bin_dir, env, run};

fn check(dir: &Path, files: &[&str]) -> Vec<String> {
    let root = custody_test_support::workspace_root();
    let script = root.join("tests/fixtures/pipelines/check_invocations.py");
    let bins = bin_dir();
    let mut args = vec![
        script.to_string_lossy().into_owned(),
        bins.to_string_lossy().into_owned(),
    ];
    args.extend(files.iter().map(|f| (*f).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let checked = run(&custody_test_support::python(), &args, dir, &env(&[])).expect(0);
    checked.stdout.lines().map(str::to_owned).collect()
}

#[test]
fn shipped_workflows_and_templates_use_real_flags() {
    let root = custody_test_support::workspace_root();
    let lines = check(
        &root,
        &[
            "examples/github/pipeline.yml",
            "templates/azure/build.yml",
            "templates/azure/release.yml",
        ],
    );
    let wrong: Vec<&String> = lines.iter().filter(|l| !l.ends_with(": ok")).collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
    // Every step of both pipelines is among them.
    for step in crate::STEPS {
        assert!(
            lines.iter().any(|l| l.contains(&format!(": {step}"))),
            "{step} is not called: {lines:#?}"
        );
    }
    assert!(lines.len() >= 20, "{lines:#?}");
}

#[test]
fn a_misspelt_flag_is_found() {
    let dir = tempfile::tempdir().unwrap();
    fs_err::write(
        dir.path().join("workflow.yml"),
        "jobs:\n  a:\n    steps:\n      - uses: custody-ci/custody@v0.1.0\n        with:\n          step: collect-artifacts\n          args: select --manifest all.json --were python=3.8\n      - bash: publish-pypi --manifest m.json --dryrun\n",
    )
    .unwrap();
    assert_eq!(
        check(dir.path(), &["workflow.yml"]),
        [
            "workflow.yml: collect-artifacts select: unknown --were",
            "workflow.yml: publish-pypi: unknown --dryrun",
        ]
    );
}
