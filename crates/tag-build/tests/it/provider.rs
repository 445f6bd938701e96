//! `CUSTODY_CI_PROVIDER` as the README documents it: the short or the long name of a CI
//! system, in any case; any other value is wrong usage, not a quiet "no CI".

use super::{cmd, json};

#[test]
fn a_short_provider_name_selects_that_provider() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["azure", "Azure", "azure-pipelines"] {
        // No TF_BUILD: only the override says this is Azure Pipelines.
        let output = cmd(dir.path())
            .env("CUSTODY_CI_PROVIDER", name)
            .env("BUILD_SOURCEBRANCH", "refs/tags/v1.0")
            .args(["--version", "1.0"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{name}: {stderr}");
        assert!(
            stdout
                .lines()
                .any(|l| l == "##vso[build.addbuildtag]Automated"),
            "{name}: {stdout}"
        );
        assert!(
            stderr.contains("Release tag `v1.0` names version 1.0"),
            "{name}: {stderr}"
        );
        assert!(!stderr.contains("an unknown build"), "{name}: {stderr}");
    }
    let (code, value, stderr) = json(
        dir.path(),
        &[
            ("CUSTODY_CI_PROVIDER", "gitlab"),
            ("CI_COMMIT_BRANCH", "main"),
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(value["provider"], "gitlab-ci");
    assert_eq!(value["kind"], "default-branch");
}

#[test]
fn an_unknown_provider_is_wrong_usage_naming_the_accepted_values() {
    let dir = tempfile::tempdir().unwrap();
    let output = cmd(dir.path())
        .env("CUSTODY_CI_PROVIDER", "bogus")
        .args(["--version", "1.0"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(output.stdout.is_empty(), "the step does not run");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some(
            "error: `CUSTODY_CI_PROVIDER=bogus` names no CI system: expected one of `azure`, `github`, `gitlab`, `none`"
        ),
        "{stderr}"
    );
    let hint = lines
        .iter()
        .find(|l| l.starts_with("hint: "))
        .unwrap_or_else(|| panic!("a hint line in {stderr}"));
    for name in ["`azure-pipelines`", "`github-actions`", "`gitlab-ci`"] {
        assert!(hint.contains(name), "{hint}");
    }
    assert!(!stderr.contains("caused by"), "{stderr}");
}

#[test]
fn an_unknown_provider_fails_on_ci_too_annotated_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let (code, value, stderr) = json(
        dir.path(),
        &[
            ("TF_BUILD", "True"),
            ("BUILD_SOURCEBRANCH", "refs/tags/v1.0"),
            ("CUSTODY_CI_PROVIDER", "azure-devops"),
        ],
        &["--version", "1.0"],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(value, serde_json::Value::Null, "no decision is printed");
    assert!(
        stderr.contains("]`CUSTODY_CI_PROVIDER=azure-devops` names no CI system"),
        "{stderr}"
    );
}
