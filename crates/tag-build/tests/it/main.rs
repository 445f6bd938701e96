//! `tag-build` under recorded environments of every CI system (tag, default branch,
//! pull request, fork pull request, other branch, manual) and locally under git.

mod provider;

use std::path::Path;

use assert_cmd::Command;
use custody_test_support::{stderr_of, stdout_of};

fn cmd(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("tag-build").unwrap();
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1");
    command
}

fn json(
    dir: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> (Option<i32>, serde_json::Value, String) {
    let output = cmd(dir)
        .envs(env.iter().copied())
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let value = serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
    (output.status.code(), value, stderr)
}

/// Recorded variables, the kind expected, and `should_run`.
type Case = (&'static [(&'static str, &'static str)], &'static str, bool);

const AZURE_TAG: &[(&str, &str)] = &[
    ("TF_BUILD", "True"),
    ("BUILD_SOURCEBRANCH", "refs/tags/v0.18.3"),
    ("BUILD_SOURCEBRANCHNAME", "v0.18.3"),
    ("BUILD_SOURCEVERSION", "4f2a9c1d0e"),
    ("BUILD_REASON", "IndividualCI"),
    ("BUILD_BUILDID", "1234"),
    ("SYSTEM_COLLECTIONURI", "https://dev.azure.com/data61/"),
    ("SYSTEM_TEAMPROJECT", "Anonlink"),
];

#[test]
fn azure_tag_build_is_marked_automated() {
    let dir = tempfile::tempdir().unwrap();
    let output = cmd(dir.path())
        .envs(AZURE_TAG.iter().copied())
        .args(["--version", "0.18.3"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l == "##vso[build.addbuildtag]Automated"),
        "{stdout}"
    );
    assert!(
        stdout.contains("##vso[task.setvariable variable=release;isoutput=true]true"),
        "{stdout}"
    );
    assert!(
        stdout.contains("##vso[task.setvariable variable=version;isoutput=true]0.18.3"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Release tag `v0.18.3` names version 0.18.3 (the package is 0.18.3); build tagged `Automated`"), "{stderr}");
}

#[test]
fn a_tag_that_names_another_version_fails_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = json(dir.path(), AZURE_TAG, &["--version", "0.18.4"]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("]tag `v0.18.3` names version 0.18.3, but the package is version 0.18.4 (from --version)"),
        "{stderr}"
    );
    // PEP 440 normalization: v0.18.3 is 0.18.3.0 is 0.18.03.
    let (code, value, _) = json(dir.path(), AZURE_TAG, &["--version", "0.18.03.0"]);
    assert_eq!((code, value["release"].as_bool()), (Some(0), Some(true)));
}

#[test]
fn the_version_comes_from_the_manifest_or_the_project() {
    let dir = tempfile::tempdir().unwrap();
    // The project's pyproject.toml.
    fs_err::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = \"clkhash\"\nversion = \"0.18.2\"\n",
    )
    .unwrap();
    let (code, _, stderr) = json(dir.path(), AZURE_TAG, &[]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("but the package is version 0.18.2 (from `pyproject.toml`)"),
        "{stderr}"
    );
    // A manifest of the sample release (0.18.3).
    let release = dir.path().join("release");
    fs_err::create_dir_all(&release).unwrap();
    let wheel = release.join("custody_sample-0.18.3-py3-none-any.whl");
    fs_err::copy(custody_test_support::sample_wheel(), &wheel).unwrap();
    let inspection = custody_dist::inspect(
        &wheel,
        &custody_dist::Limits::default(),
        &custody_output::NoProgress,
    )
    .unwrap();
    let job = custody_manifest::Job::new(
        std::collections::BTreeMap::new(),
        custody_ci::CiContext::default(),
    );
    let artifact = custody_manifest::Artifact::from_inspection(&inspection, &job.id);
    custody_manifest::Manifest::new("test", vec![job], vec![artifact], None)
        .write(&release.join("release.json"))
        .unwrap();
    let (code, value, stderr) = json(
        dir.path(),
        AZURE_TAG,
        &["--manifest", "release/release.json"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(value["package_version"], "0.18.3");
    // A tampered manifest fails every build.
    let text = fs_err::read_to_string(release.join("release.json"))
        .unwrap()
        .replace("0.18.3", "0.18.4");
    fs_err::write(release.join("release.json"), text).unwrap();
    let (code, _, stderr) = json(
        dir.path(),
        AZURE_TAG,
        &["--manifest", "release/release.json"],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("was modified after it was written"),
        "{stderr}"
    );
}

#[test]
fn azure_branch_pull_request_and_manual_builds() {
    let dir = tempfile::tempdir().unwrap();
    let azure = |pairs: &[(&'static str, &'static str)]| {
        let mut env = vec![("TF_BUILD", "True"), ("BUILD_SOURCEVERSION", "abc")];
        env.extend_from_slice(pairs);
        env
    };
    let cases: [Case; 4] = [
        (
            &[
                ("BUILD_SOURCEBRANCH", "refs/heads/master"),
                ("BUILD_REASON", "IndividualCI"),
            ],
            "default-branch",
            true,
        ),
        (
            &[
                ("BUILD_SOURCEBRANCH", "refs/pull/42/merge"),
                ("BUILD_REASON", "PullRequest"),
                ("SYSTEM_PULLREQUEST_PULLREQUESTNUMBER", "42"),
                ("SYSTEM_PULLREQUEST_ISFORK", "True"),
            ],
            "pull-request",
            true,
        ),
        (
            &[
                ("BUILD_SOURCEBRANCH", "refs/heads/feature/x"),
                ("BUILD_REASON", "BatchedCI"),
            ],
            "other-branch",
            false,
        ),
        (
            &[
                ("BUILD_SOURCEBRANCH", "refs/heads/feature/x"),
                ("BUILD_REASON", "Manual"),
            ],
            "manual",
            true,
        ),
    ];
    for (pairs, kind, should_run) in cases {
        let (code, value, stderr) = json(dir.path(), &azure(pairs), &["--version", "0.18.3"]);
        assert_eq!(code, Some(0), "{stderr}");
        assert_eq!(value["kind"], kind, "{pairs:?}");
        assert_eq!(value["release"], false);
        assert_eq!(value["should_run"], should_run, "{pairs:?}");
        // Only release builds are tagged.
        assert!(!stderr.contains("##vso[build.addbuildtag"), "{stderr}");
    }
    let (code, _, stderr) = json(
        dir.path(),
        &azure(&[("BUILD_SOURCEBRANCH", "refs/heads/master")]),
        &["--require-release"],
    );
    assert_eq!(code, Some(1));
    assert!(stderr.contains("not a release build"), "{stderr}");
}

#[test]
fn github_events_from_their_payloads() {
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    let outputs = dir.path().join("outputs");
    fs_err::write(
        &event,
        r#"{"pull_request": {"number": 7, "head": {"ref": "fix", "sha": "h", "repo": {"full_name": "someone/clkhash"}}, "base": {"ref": "main"}}, "repository": {"default_branch": "main"}}"#,
    )
    .unwrap();
    let github = |pairs: &[(&'static str, &'static str)]| {
        let mut env = vec![
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REPOSITORY", "data61/clkhash"),
            ("GITHUB_SHA", "abc"),
        ];
        env.extend_from_slice(pairs);
        env
    };
    let event_path = event.to_str().unwrap().to_owned();
    let event_path: &'static str = Box::leak(event_path.into_boxed_str());
    let outputs_path: &'static str =
        Box::leak(outputs.to_str().unwrap().to_owned().into_boxed_str());
    let fork_pr = github(&[
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_REF", "refs/pull/7/merge"),
        ("GITHUB_EVENT_PATH", event_path),
    ]);
    let (_, value, _) = json(dir.path(), &fork_pr, &["--version", "1.0"]);
    assert_eq!(
        (value["kind"].as_str(), value["pull_request"].as_u64()),
        (Some("pull-request"), Some(7))
    );

    let tag = github(&[
        ("GITHUB_EVENT_NAME", "push"),
        ("GITHUB_REF", "refs/tags/v1.0.0"),
        ("GITHUB_REF_TYPE", "tag"),
        ("GITHUB_REF_NAME", "v1.0.0"),
        ("GITHUB_OUTPUT", outputs_path),
    ]);
    let (code, value, _) = json(dir.path(), &tag, &["--version", "1.0"]);
    assert_eq!(
        (code, value["kind"].as_str()),
        (Some(0), Some("release-tag"))
    );
    let written = fs_err::read_to_string(&outputs).unwrap();
    for line in [
        "release=true",
        "should_run=true",
        "kind=release-tag",
        "version=1.0.0",
    ] {
        assert!(
            written.contains(&format!("{line}\n")),
            "{line} in {written}"
        );
    }

    let dispatch = github(&[
        ("GITHUB_EVENT_NAME", "workflow_dispatch"),
        ("GITHUB_REF", "refs/heads/main"),
    ]);
    assert_eq!(json(dir.path(), &dispatch, &[]).1["kind"], "manual");
    let push_event = dir.path().join("push.json");
    fs_err::write(
        &push_event,
        r#"{"ref": "refs/heads/wip", "repository": {"default_branch": "main"}}"#,
    )
    .unwrap();
    let push_event: &'static str =
        Box::leak(push_event.to_str().unwrap().to_owned().into_boxed_str());
    let push = github(&[
        ("GITHUB_EVENT_NAME", "push"),
        ("GITHUB_REF", "refs/heads/wip"),
        ("GITHUB_EVENT_PATH", push_event),
    ]);
    let (_, value, _) = json(dir.path(), &push, &[]);
    assert_eq!(
        (value["kind"].as_str(), value["should_run"].as_bool()),
        (Some("other-branch"), Some(false))
    );
}

#[test]
fn gitlab_pipelines() {
    let dir = tempfile::tempdir().unwrap();
    let base = [
        ("GITLAB_CI", "true"),
        ("CI_COMMIT_SHA", "abc"),
        ("CI_DEFAULT_BRANCH", "trunk"),
    ];
    let with = |pairs: &[(&'static str, &'static str)]| {
        base.iter()
            .copied()
            .chain(pairs.iter().copied())
            .collect::<Vec<_>>()
    };
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[
                ("CI_COMMIT_TAG", "v2.1"),
                ("CI_COMMIT_REF_NAME", "v2.1"),
                ("CI_PIPELINE_SOURCE", "push"),
            ],
            "release-tag",
        ),
        (
            &[
                ("CI_COMMIT_BRANCH", "trunk"),
                ("CI_COMMIT_REF_NAME", "trunk"),
                ("CI_PIPELINE_SOURCE", "push"),
            ],
            "default-branch",
        ),
        (
            &[
                ("CI_MERGE_REQUEST_IID", "5"),
                ("CI_COMMIT_REF_NAME", "fix"),
                ("CI_PIPELINE_SOURCE", "merge_request_event"),
            ],
            "pull-request",
        ),
        (
            &[
                ("CI_COMMIT_BRANCH", "trunk"),
                ("CI_COMMIT_REF_NAME", "trunk"),
                ("CI_PIPELINE_SOURCE", "web"),
            ],
            "manual",
        ),
    ];
    for (pairs, kind) in cases {
        let (code, value, stderr) = json(dir.path(), &with(pairs), &["--version", "2.1"]);
        assert_eq!(
            (code, value["kind"].as_str()),
            (Some(0), Some(kind)),
            "{pairs:?} {stderr}"
        );
    }
}

#[test]
fn locally_the_git_checkout_decides() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(status.status.success(), "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    fs_err::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = \"x\"\nversion = \"3.0\"\n",
    )
    .unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "x"]);
    assert_eq!(json(dir.path(), &[], &[]).1["kind"], "default-branch");
    git(&["tag", "release-3.0"]);
    let (code, value, stderr) = json(dir.path(), &[], &["--tag-pattern", "release-{version}"]);
    assert_eq!(
        (code, value["kind"].as_str(), value["release"].as_bool()),
        (Some(0), Some("release-tag"), Some(true)),
        "{stderr}"
    );
    let (code, _, stderr) = json(dir.path(), &[], &["--tag-pattern", "release"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("has no `{version}`"), "{stderr}");
}

#[test]
fn dash_v_prints_the_tools_own_version_while_version_names_the_package() {
    let dir = tempfile::tempdir().unwrap();
    for flag in ["-V", "--tool-version"] {
        let output = cmd(dir.path()).arg(flag).output().unwrap();
        assert!(output.status.success(), "{}", stderr_of(&output));
        assert_eq!(
            stdout_of(&output).trim(),
            concat!("tag-build ", env!("CARGO_PKG_VERSION"))
        );
    }
}
