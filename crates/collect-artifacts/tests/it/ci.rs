//! Under Azure Pipelines and GitHub Actions: step outputs, summaries, annotations, and
//! untrusted file names that cannot start a CI command.

use custody_output::safe::looks_like_command;
use custody_test_support::WheelBuilder;

use crate::{cmd, job_dist, read_json, stderr_of, stdout_of};

#[test]
fn github_outputs_summary_and_context() {
    let dir = tempfile::tempdir().unwrap();
    job_dist(dir.path(), "cp37-cp37m");
    let output_file = dir.path().join("github_output");
    let summary_file = dir.path().join("summary.md");
    let output = cmd(dir.path())
        .args([
            "collect",
            "dist",
            "--out",
            "manifest.json",
            "--label",
            "python=3.7",
        ])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &output_file)
        .env("GITHUB_STEP_SUMMARY", &summary_file)
        .env("GITHUB_SHA", "0123abcd")
        .env("GITHUB_REF", "refs/tags/v0.18.3")
        .env("GITHUB_REPOSITORY", "data61/clkhash")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_RUN_ID", "77")
        .env("GITHUB_JOB", "build")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let manifest = read_json(&dir.path().join("manifest.json"));
    let outputs = fs_err::read_to_string(&output_file).unwrap();
    assert_eq!(
        outputs,
        format!(
            "manifest=manifest.json\nmanifest_digest={}\nartifact_count=3\n",
            manifest["digest"].as_str().unwrap()
        )
    );
    let summary = fs_err::read_to_string(&summary_file).unwrap();
    assert!(
        summary.starts_with("### Artifacts collected\n"),
        "{summary}"
    );
    assert!(
        summary.contains("| `clkutil.exe` | executable |"),
        "{summary}"
    );
    let context = &manifest["jobs"][0]["context"];
    assert_eq!(context["provider"], "github-actions");
    assert_eq!(context["commit"], "0123abcd");
    assert_eq!(context["tag"], "v0.18.3");
    assert_eq!(
        context["build_url"],
        "https://github.com/data61/clkhash/actions/runs/77"
    );
}

#[test]
fn azure_output_variables_summary_and_logissue() {
    let dir = tempfile::tempdir().unwrap();
    let dist = job_dist(dir.path(), "cp37-cp37m");
    let output = cmd(dir.path())
        .args(["collect", "dist", "--out", "manifest.json"])
        .env("TF_BUILD", "True")
        .env("AGENT_TEMPDIRECTORY", dir.path())
        .env("BUILD_SOURCEBRANCH", "refs/heads/master")
        .env("BUILD_BUILDID", "1234")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let stdout = stdout_of(&output);
    let manifest = read_json(&dir.path().join("manifest.json"));
    assert!(
        stdout.contains("##vso[task.setvariable variable=manifest;isoutput=true]manifest.json\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "##vso[task.setvariable variable=manifest_digest;isoutput=true]{}\n",
            manifest["digest"].as_str().unwrap()
        )),
        "{stdout}"
    );
    let upload = stdout
        .lines()
        .find(|l| l.starts_with("##vso[task.uploadsummary]"))
        .unwrap();
    let summary_path = upload.trim_start_matches("##vso[task.uploadsummary]");
    assert!(
        fs_err::read_to_string(summary_path)
            .unwrap()
            .contains("| `clkhash-0.18.3.tar.gz` | sdist |")
    );

    WheelBuilder::new("evil", "1.0")
        .unlisted_file("evil/x.py", b"")
        .build(&dist);
    let output = cmd(dir.path())
        .args(["collect", "dist", "--out", "m2.json"])
        .env("TF_BUILD", "True")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = stdout_of(&output);
    assert!(
        stdout.contains("##vso[task.logissue type=error;sourcepath=dist/evil-1.0-py3-none-any.whl]`evil-1.0-py3-none-any.whl` has 1 file(s) not listed"),
        "{stdout}"
    );
}

#[test]
fn untrusted_file_names_cannot_start_commands() {
    let dir = tempfile::tempdir().unwrap();
    let dist = job_dist(dir.path(), "cp37-cp37m");
    let evil_names = [
        "a ##vso[task.setvariable variable=PYPI_PASSWORD]x.txt",
        "::add-mask::y.txt",
        "b ##[error]z.txt",
    ];
    for name in evil_names {
        fs_err::write(dist.join(name), b"payload").unwrap();
    }
    // And a wheel whose problem message repeats an evil entry name.
    WheelBuilder::new("evil", "1.0")
        .unlisted_file("evil/##vso[task.complete result=Failed].py", b"")
        .build(&dist);
    for provider in [("TF_BUILD", "True"), ("GITHUB_ACTIONS", "true")] {
        let output = cmd(dir.path())
            .args(["collect", "dist", "--out", "m.json"])
            .env(provider.0, provider.1)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1));
        for line in stderr_of(&output).lines() {
            assert!(!looks_like_command(line), "{provider:?} stderr: {line}");
        }
        for line in stdout_of(&output).lines() {
            // Our own commands: exactly one, at the start of the line.
            let body = &line[2..];
            assert!(!looks_like_command(body), "{provider:?} stdout: {line}");
        }
        // Now without the broken wheel: the names are listed in the table.
        let _ = provider;
    }
    fs_err::remove_file(dist.join("evil-1.0-py3-none-any.whl")).unwrap();
    for provider in [("TF_BUILD", "True"), ("GITHUB_ACTIONS", "true")] {
        let output = cmd(dir.path())
            .args(["collect", "dist", "--out", "m.json"])
            .env(provider.0, provider.1)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
        let stderr = stderr_of(&output);
        assert!(stderr.contains(":\u{200b}:add-mask::y.txt"), "{stderr}");
        for line in stderr.lines() {
            assert!(!looks_like_command(line), "{provider:?} stderr: {line}");
        }
    }
}

#[test]
fn names_with_newlines_stay_on_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let dist = job_dist(dir.path(), "cp37-cp37m");
    // A file on disk and entries inside a wheel whose names try to forge lines of ours.
    fs_err::write(dist.join("c\n::error::forged.txt"), b"payload").unwrap();
    WheelBuilder::new("evil", "1.0")
        .symlink(
            "evil/alias\n::error::owned.py",
            "x\n##vso[task.complete result=Succeeded]",
        )
        .unlisted_file("evil/x\n##vso[task.setvariable variable=A]1.py", b"")
        .build(&dist);
    for provider in [("TF_BUILD", "True"), ("GITHUB_ACTIONS", "true"), ("CI", "")] {
        for command in ["collect", "inspect"] {
            let mut args = vec![command, "dist"];
            if command == "collect" {
                args.extend(["--out", "m.json"]);
            }
            let output = cmd(dir.path())
                .args(&args)
                .env(provider.0, provider.1)
                .output()
                .unwrap();
            assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
            let (stdout, stderr) = (stdout_of(&output), stderr_of(&output));
            for line in stderr.lines() {
                assert!(!looks_like_command(line), "{provider:?} stderr: {line}");
                assert!(
                    !line.contains("forged.txt") || line.contains("c\\n::error::forged.txt"),
                    "{line}"
                );
            }
            for line in stdout.lines() {
                // Our own commands start their line; nothing after may start another.
                let body = if line.starts_with("##vso[") || line.starts_with("::") {
                    &line[2..]
                } else {
                    line
                };
                assert!(!looks_like_command(body), "{provider:?} stdout: {line}");
            }
            let all = format!("{stdout}{stderr}");
            assert!(all.contains("alias\\n::error::owned.py"), "{all}");
            assert!(
                !all.lines()
                    .any(|l| l.trim_start().starts_with("::error::owned"))
            );
            assert!(!all.lines().any(|l| l.starts_with("##vso[task.complete")));
        }
    }
}
