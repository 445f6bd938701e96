//! `--source DIR` / `CUSTODY_SOURCE_DIR`: a step run in one directory describes the
//! checkout it is told about, so the manifest's commit and ref are the built source's
//! and `tag-build` reads the source's tag (issue 15: the pipeline scripts run the steps
//! outside the checkout).

use std::path::Path;

use crate::{bin_dir, env, git, json, run, tagged_checkout};

/// A working directory that is a git checkout of its own (branch `main`, untagged), so
/// a step that read git from its working directory would record the wrong commit.
fn other_checkout(dir: &Path) -> String {
    fs_err::create_dir_all(dir).unwrap();
    git(dir, &["init", "--quiet", "--initial-branch=main"]);
    git(
        dir,
        &[
            "commit",
            "--quiet",
            "--allow-empty",
            "-m",
            "the pipeline's repo",
        ],
    );
    git(dir, &["rev-parse", "HEAD"])
}

fn collect(work: &Path, extra: &[&str], vars: &[(&str, &str)]) -> serde_json::Value {
    let wheel = custody_test_support::sample_wheel();
    let mut args = vec!["collect", "--out", "manifest.json", wheel.to_str().unwrap()];
    args.extend_from_slice(extra);
    run(
        &bin_dir().join("collect-artifacts"),
        &args,
        work,
        &env(vars),
    )
    .expect(0);
    json(&work.join("manifest.json"))["jobs"][0]["context"].clone()
}

#[test]
fn collect_records_the_source_checkout_not_the_working_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let (work, source) = (tmp.path().join("a"), tmp.path().join("b"));
    let work_commit = other_checkout(&work);
    let source_commit = tagged_checkout(&source);

    let context = collect(&work, &[], &[]);
    assert_eq!(context["commit"], work_commit.as_str(), "{context}");
    assert_eq!(context["branch"], "main", "{context}");

    for (extra, vars) in [
        (&["--source", "../b"][..], &[][..]),
        (
            &[][..],
            &[("CUSTODY_SOURCE_DIR", source.to_str().unwrap())][..],
        ),
    ] {
        let context = collect(&work, extra, vars);
        assert_eq!(context["commit"], source_commit.as_str(), "{context}");
        assert_eq!(context["tag"], "v0.18.3", "{context}");
        assert_eq!(context["git_ref"], "refs/tags/v0.18.3", "{context}");
        assert!(context.get("branch").is_none(), "{context}");
    }
}

#[test]
fn on_ci_the_ci_variables_still_win() {
    let tmp = tempfile::tempdir().unwrap();
    let (work, source) = (tmp.path().join("a"), tmp.path().join("b"));
    other_checkout(&work);
    tagged_checkout(&source);
    let context = collect(
        &work,
        &["--source", "../b"],
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"),
            ("GITHUB_REF", "refs/heads/release"),
        ],
    );
    assert_eq!(
        context["commit"],
        "0123456789abcdef0123456789abcdef01234567"
    );
    assert_eq!(context["branch"], "release", "{context}");
}

#[test]
fn tag_build_sees_the_source_tag() {
    let tmp = tempfile::tempdir().unwrap();
    let (work, source) = (tmp.path().join("a"), tmp.path().join("b"));
    other_checkout(&work);
    let source_commit = tagged_checkout(&source);
    let tag_build = bin_dir().join("tag-build");
    let args = ["--version", "0.18.3", "--json", "--require-release"];

    let here = run(&tag_build, &args, &work, &env(&[])).expect(1);
    assert!(
        here.stderr.contains("not a release build"),
        "{}",
        here.both()
    );

    let mut with_source = args.to_vec();
    with_source.extend(["--source", "../b"]);
    let there = run(&tag_build, &with_source, &work, &env(&[])).expect(0);
    let decision: serde_json::Value = serde_json::from_str(&there.stdout).unwrap();
    assert_eq!(decision["release"], true, "{decision}");
    assert_eq!(decision["tag"], "v0.18.3", "{decision}");
    assert_eq!(decision["commit"], source_commit.as_str(), "{decision}");
}

#[test]
fn a_source_that_is_no_directory_is_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let ran = run(
        &bin_dir().join("tag-build"),
        &["--version", "1.0", "--source", "missing"],
        tmp.path(),
        &env(&[]),
    )
    .expect(3);
    let mut lines = ran.stderr.lines();
    assert_eq!(
        lines.next(),
        Some("error: `--source missing` is not a directory"),
        "{}",
        ran.both()
    );
    assert!(
        ran.stderr
            .contains("hint: pass the checkout the package was built from"),
        "{}",
        ran.both()
    );
}
