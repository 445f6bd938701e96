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
            ".github/workflows/release.yml",
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

/// What the Azure release template asks of Azure, read from the parsed YAML.
fn azure_release_facts() -> serde_json::Value {
    let root = custody_test_support::workspace_root();
    let program = r#"
import json, sys, yaml
t = yaml.safe_load(open(sys.argv[1]))
defaults = {p["name"]: p.get("default") for p in t["parameters"]}
jobs = {j["job"]: j for j in t["jobs"]}
gate = [s for s in jobs["confirm"]["steps"] if s.get("task", "").startswith("ManualValidation")][0]
record = [s for s in jobs["publish"]["steps"] if "--approved-by" in s.get("bash", "")][0]
print(json.dumps({
    "task": gate["task"], "inputs": gate["inputs"],
    "task_timeout": gate["timeoutInMinutes"], "job_timeout": jobs["confirm"]["timeoutInMinutes"],
    "defaults": defaults, "record": record,
    "checkouts": [[s["checkout"] for s in j["steps"] if "checkout" in s] for j in t["jobs"] if "steps" in j],
}))
"#;
    let ran = run(
        &custody_test_support::python(),
        &["-c", program, "templates/azure/release.yml"],
        &root,
        &env(&[]),
    )
    .expect(0);
    serde_json::from_str(&ran.stdout).unwrap()
}

/// ManualValidation@1 bound to approvers who cannot approve their own runs; a timeout
/// rejects (the job outlives the task); the record names the approvers; no job checks
/// out nothing and then the custody repository.
#[test]
fn the_azure_gate_is_bound_to_approvers_and_a_timeout_rejects() {
    let facts = azure_release_facts();
    assert_eq!(facts["task"], "ManualValidation@1", "{facts:#}");
    let inputs = &facts["inputs"];
    assert_eq!(inputs["approvers"], "${{ parameters.approvers }}");
    assert_eq!(inputs["allowApproversToApproveTheirOwnRuns"], false);
    assert_eq!(inputs["onTimeout"], "reject");
    let minutes = |value: &serde_json::Value| -> u64 {
        value
            .as_u64()
            .unwrap_or_else(|| value.as_str().unwrap().parse().unwrap())
    };
    assert!(
        minutes(&facts["job_timeout"]) > minutes(&facts["task_timeout"]),
        "{facts:#}"
    );
    let defaults = &facts["defaults"];
    assert!(
        defaults["approvers"].is_null(),
        "approvers has no default: {defaults:#}"
    );
    let record = &facts["record"];
    assert!(
        record["bash"]
            .as_str()
            .unwrap()
            .contains("--approved-by \"$CUSTODY_APPROVERS\""),
        "{record:#}"
    );
    assert_eq!(
        record["env"]["CUSTODY_APPROVERS"],
        "${{ parameters.approvers }}"
    );
    for checkouts in facts["checkouts"].as_array().unwrap() {
        assert!(
            !checkouts.as_array().unwrap().contains(&"none".into()),
            "{facts:#}"
        );
    }
}

/// No cell asks a hosted image for a Python it cannot have (3.7 on Ubuntu 24.04).
#[test]
fn the_examples_ask_for_pythons_the_images_have() {
    let root = custody_test_support::workspace_root();
    for file in [
        "examples/azure/azure-pipelines.yml",
        "examples/github/pipeline.yml",
        "templates/azure/build.yml",
    ] {
        let text = crate::read(&root.join(file));
        for line in text
            .lines()
            .filter(|line| !line.trim_start().starts_with('#'))
        {
            assert!(!line.contains("3.7"), "{file}: {line}");
        }
    }
}

/// The names under `outputs:` in action.yml.
fn declared_outputs() -> Vec<String> {
    let text = crate::read(&custody_test_support::workspace_root().join("action.yml"));
    let outputs = text
        .split("\noutputs:\n")
        .nth(1)
        .and_then(|rest| rest.split("\nruns:").next())
        .expect("action.yml has an outputs: block before runs:");
    outputs
        .lines()
        .filter_map(|line| line.strip_prefix("  ")?.strip_suffix(':'))
        .filter(|name| !name.starts_with(' '))
        .map(str::to_owned)
        .collect()
}

/// The names a step wrote to `$GITHUB_OUTPUT` (`name=value` and `name<<DELIM` forms).
fn written_outputs(file: &Path) -> Vec<String> {
    let text = crate::read(file);
    let mut names = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            names.push(name.to_owned());
            for inner in lines.by_ref() {
                if inner == delimiter {
                    break;
                }
            }
        } else if let Some((name, _)) = line.split_once('=') {
            names.push(name.to_owned());
        }
    }
    names
}

#[test]
fn every_output_a_step_sets_is_declared_by_the_action() {
    let dir = tempfile::tempdir().unwrap();
    let declared = declared_outputs();
    assert!(declared.contains(&"exit-code".to_owned()), "{declared:?}");
    fs_err::write(dir.path().join("junit.xml"), crate::action::JUNIT).unwrap();
    let dist = dir.path().join("dist");
    fs_err::create_dir_all(&dist).unwrap();
    for file in [
        custody_test_support::sample_wheel(),
        custody_test_support::sample_sdist(),
    ] {
        fs_err::copy(&file, dist.join(file.file_name().unwrap())).unwrap();
    }
    let runs: [(&str, &[&str]); 3] = [
        ("publish-test-results", &["junit.xml", "--fail-on", "none"]),
        ("tag-build", &["--version", "0.18.3"]),
        (
            "collect-artifacts",
            &["collect", "dist", "--out", "out/manifest.json"],
        ),
    ];
    let mut written = Vec::new();
    for (index, (step, args)) in runs.iter().enumerate() {
        let output = dir.path().join(format!("output-{index}"));
        fs_err::write(&output, "").unwrap();
        let vars = env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REF", "refs/tags/v0.18.3"),
            ("GITHUB_OUTPUT", output.to_str().unwrap()),
        ]);
        let ran = run(&bin_dir().join(step), args, dir.path(), &vars);
        assert!(ran.code == 0, "{step}: {}", ran.both());
        written.extend(written_outputs(&output));
    }
    assert!(written.len() >= 10, "{written:?}");
    let undeclared: Vec<&String> = written.iter().filter(|n| !declared.contains(n)).collect();
    assert!(
        undeclared.is_empty(),
        "outputs the steps set but action.yml does not pass through: {undeclared:?}"
    );
}

/// The names every step's source sets with `set_output("…"` (test modules left out): the
/// runs above cover the common outputs, this covers the ones only a signing, approving or
/// publishing run sets.
fn outputs_in_sources() -> Vec<(String, String)> {
    let crates = custody_test_support::workspace_root().join("crates");
    let mut found = Vec::new();
    for step in [
        "approve-gate",
        "collect-artifacts",
        "publish-pypi",
        "publish-test-results",
        "tag-build",
        "upload-coverage",
    ] {
        for entry in walkdir::WalkDir::new(crates.join(step).join("src")) {
            let entry = entry.unwrap();
            if entry.path().extension().is_none_or(|ext| ext != "rs") {
                continue;
            }
            let text = crate::read(entry.path());
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for part in code.split("set_output(\"").skip(1) {
                let name = part.split('"').next().unwrap_or_default();
                found.push((name.to_owned(), entry.path().display().to_string()));
            }
        }
    }
    found
}

#[test]
fn every_output_named_in_a_steps_source_is_declared_by_the_action() {
    let declared = declared_outputs();
    let found = outputs_in_sources();
    assert!(
        found.iter().any(|(name, _)| name == "approval_signature"),
        "{found:?}"
    );
    let undeclared: Vec<&(String, String)> = found
        .iter()
        .filter(|(name, _)| !declared.contains(name))
        .collect();
    assert!(
        undeclared.is_empty(),
        "outputs set in the steps' sources that action.yml does not pass through: {undeclared:?}"
    );
}
