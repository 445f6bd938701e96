//! `collect`: real artifacts in, a sealed manifest out; any bad artifact fails the step
//! and writes nothing.

use custody_test_support::{WheelBuilder, pypi_artifact, sample_sdist, sample_wheel};

use crate::{cmd, job_dist, read_json, sha256_of, stderr_of, stdout_of};

#[test]
#[allow(clippy::too_many_lines)] // a scenario read top to bottom, as its user lives it
fn collects_and_labels_a_job_dist() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    fs_err::create_dir(&dist).unwrap();
    for file in [
        sample_wheel(),
        sample_sdist(),
        pypi_artifact("MarkupSafe-2.1.5-cp311-cp311-win32.whl"),
    ] {
        fs_err::copy(&file, dist.join(file.file_name().unwrap())).unwrap();
    }
    fs_err::write(
        dist.join("clkutil.exe"),
        custody_test_support::pyinstaller_exe(),
    )
    .unwrap();
    fs_err::write(dist.join("NOTES.txt"), b"release notes").unwrap();

    let output = cmd(dir.path())
        .args([
            "collect",
            "dist",
            "--out",
            "manifest.json",
            "--label",
            "python=3.7",
            "-l",
            "arch=x86",
            "-l",
            "os=windows",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let manifest = read_json(&dir.path().join("manifest.json"));
    assert_eq!(manifest["manifest_version"], 1);
    assert!(manifest["digest"].as_str().unwrap().starts_with("sha256:"));
    let artifacts = manifest["artifacts"].as_array().unwrap();
    let names: Vec<&str> = artifacts
        .iter()
        .map(|a| a["file_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec![
            "MarkupSafe-2.1.5-cp311-cp311-win32.whl",
            "NOTES.txt",
            "clkutil.exe",
            "custody_sample-0.18.3-py3-none-any.whl",
            "custody_sample-0.18.3.tar.gz"
        ]
    );
    let kinds: Vec<&str> = artifacts
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["wheel", "file", "executable", "wheel", "sdist"]);
    for artifact in artifacts {
        let name = artifact["file_name"].as_str().unwrap();
        let file = dist.join(name);
        assert_eq!(artifact["digests"]["sha256"], sha256_of(&file), "{name}");
        assert_eq!(
            artifact["size"],
            fs_err::metadata(&file).unwrap().len(),
            "{name}"
        );
        let uploadable = name.ends_with(".whl") || name.ends_with(".tar.gz");
        assert_eq!(artifact["digests"]["md5"].is_string(), uploadable, "{name}");
        assert_eq!(
            artifact["digests"]["blake2b_256"].is_string(),
            uploadable,
            "{name}"
        );
    }
    let exe = &artifacts[2];
    assert_eq!(exe["executable"]["arch"], "x86");
    assert_eq!(exe["executable"]["bundle"], "pyinstaller");
    let wheel = &artifacts[3];
    assert_eq!(wheel["project"]["normalized_name"], "custody-sample");
    assert_eq!(wheel["project"]["version"], "0.18.3");
    assert_eq!(wheel["metadata_version"], "2.4");
    assert_eq!(wheel["wheel"]["python"][0], "py3");
    let job = &manifest["jobs"][0];
    assert_eq!(job["labels"]["python"], "3.7");
    assert_eq!(job["labels"]["arch"], "x86");
    assert_eq!(job["labels"]["os"], "windows");
    assert_eq!(wheel["jobs"][0], job["id"]);
    assert_eq!(job["context"]["provider"], "none");

    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("Wrote `manifest.json`: 5 artifact(s) collected"),
        "{stderr}"
    );
    assert!(
        stderr.contains("custody_sample-0.18.3-py3-none-any.whl  wheel"),
        "{stderr}"
    );
    assert!(stdout_of(&output).is_empty());
}

#[test]
fn a_tampered_wheel_fails_the_step_and_writes_no_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let dist = job_dist(dir.path(), "cp37-cp37m");
    WheelBuilder::new("evil", "1.0")
        .tamper("evil/__init__.py", b"VALUE = 66\n")
        .build(&dist);
    let output = cmd(dir.path())
        .args(["collect", "dist", "--out", "manifest.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    let first = stderr.lines().next().unwrap();
    assert!(
        first.starts_with("error: dist/evil-1.0-py3-none-any.whl: `evil-1.0-py3-none-any.whl` `evil/__init__.py` has sha256="),
        "{stderr}"
    );
    assert!(first.ends_with("[record-hash-mismatch]"), "{first}");
    assert!(
        stderr.contains("hint: the wheel was modified after it was built; rebuild it"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: 1 of 4 artifact(s) failed verification; no manifest was written"),
        "{stderr}"
    );
    assert!(!dir.path().join("manifest.json").exists());
}

#[test]
fn json_reports_every_problem_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    let dist = job_dist(dir.path(), "cp37-cp37m");
    WheelBuilder::new("evil", "1.0")
        .unlisted_file("evil/x.py", b"")
        .tamper("evil/__init__.py", b"")
        .build(&dist);
    let output = cmd(dir.path())
        .args(["collect", "dist", "--out", "m.json", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["ok"], false);
    let codes: Vec<&str> = result["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"record-unlisted") && codes.contains(&"record-hash-mismatch"),
        "{codes:?}"
    );
    assert_eq!(
        result["problems"][0]["file"],
        "dist/evil-1.0-py3-none-any.whl"
    );
}

#[test]
fn json_on_success_matches_the_written_manifest() {
    let dir = tempfile::tempdir().unwrap();
    job_dist(dir.path(), "cp37-cp37m");
    let output = cmd(dir.path())
        .args(["collect", "dist", "--out", "out/m.json", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let manifest = read_json(&dir.path().join("out/m.json"));
    assert_eq!(result["ok"], true);
    assert_eq!(result["digest"], manifest["digest"]);
    assert_eq!(result["manifest"], "out/m.json");
    assert_eq!(result["artifacts"], manifest["artifacts"]);
}

#[test]
fn globs_are_expanded_by_the_tool() {
    let dir = tempfile::tempdir().unwrap();
    job_dist(dir.path(), "cp37-cp37m");
    let output = cmd(dir.path())
        .args(["collect", "dist/*.whl", "dist/*.tar.gz", "--out", "m.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let manifest = read_json(&dir.path().join("m.json"));
    assert_eq!(manifest["artifacts"].as_array().unwrap().len(), 2);
}

#[test]
fn the_output_manifest_and_hidden_files_are_not_collected() {
    let dir = tempfile::tempdir().unwrap();
    let dist = job_dist(dir.path(), "cp37-cp37m");
    fs_err::write(dist.join(".DS_Store"), b"x").unwrap();
    for _ in 0..2 {
        let output = cmd(dir.path())
            .args(["collect", "dist", "--out", "dist/manifest.json"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    }
    let manifest = read_json(&dist.join("manifest.json"));
    assert_eq!(manifest["artifacts"].as_array().unwrap().len(), 3);
}

#[test]
fn bad_inputs_are_named_with_exit_code_3() {
    let dir = tempfile::tempdir().unwrap();
    fs_err::create_dir(dir.path().join("empty")).unwrap();
    let cases = [
        (vec!["nope/"], "error: `nope/` does not exist"),
        (vec!["dist/*.whl"], "error: `dist/*.whl` matches no file"),
        (vec!["empty"], "error: no artifacts found in `empty`"),
    ];
    for (inputs, expected) in cases {
        let output = cmd(dir.path())
            .arg("collect")
            .args(&inputs)
            .args(["--out", "m.json"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(3), "{inputs:?}");
        let stderr = stderr_of(&output);
        assert!(stderr.starts_with(expected), "{inputs:?}: {stderr}");
        assert!(stderr.contains("hint: "), "{stderr}");
    }
}

#[test]
fn two_files_with_one_name_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    fs_err::create_dir_all(&a).unwrap();
    fs_err::create_dir_all(&b).unwrap();
    WheelBuilder::new("demo", "1.0").build(&a);
    WheelBuilder::new("demo", "1.0")
        .file("demo/x.py", b"")
        .build(&b);
    let output = cmd(dir.path())
        .args(["collect", "a", "b", "--out", "m.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stderr_of(&output)
            .starts_with("error: two artifacts are named `demo-1.0-py3-none-any.whl`")
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let output = cmd(dir.path())
        .args(["collect", "dist", "--out", "m.json", "--label", "python"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains("`python` is not KEY=VALUE"));
    let output = cmd(dir.path()).args(["collect", "dist"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn help_shows_examples_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let output = cmd(dir.path()).arg("--help").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let help = stdout_of(&output);
    assert!(
        help.contains("Examples:") && help.contains("collect-artifacts verify --manifest"),
        "{help}"
    );
    for example in [
        "--require-attestations",
        "--identity 'github:OWNER/REPO/.github/workflows/release.yml@refs/tags/v*'",
        "--require-attested-by github:OWNER/REPO/.github/workflows/release.yml",
        "collect-artifacts verify-attestations dist/*.whl",
    ] {
        assert!(help.contains(example), "{example}\n{help}");
    }
    assert!(
        help.contains("Exit codes:\n  0  success\n  1  the step's \"no\""),
        "{help}"
    );
}

#[test]
fn inspect_verifies_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    job_dist(dir.path(), "cp37-cp37m");
    let output = cmd(dir.path())
        .args(["inspect", "dist", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["artifacts"].as_array().unwrap().len(), 3);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only dist/ exists"
    );
    // Without --json the table is the data: on stdout, diagnostics on stderr.
    let output = cmd(dir.path()).args(["inspect", "dist"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let stdout = stdout_of(&output);
    assert!(stdout.starts_with("FILE "), "{stdout}");
    assert!(stdout.contains("clkhash-0.18.3.tar.gz"), "{stdout}");
    assert_eq!(stdout.lines().count(), 4, "{stdout}");
    assert!(!stderr_of(&output).contains("FILE "));
}
