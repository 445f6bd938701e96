//! `build-pipeline.sh --source DIR` describes DIR's checkout, not the directory the
//! script runs in: the manifest's commit and ref are the built source's (the scripts
//! pass it to every step as `CUSTODY_SOURCE_DIR`). Run by bash in POSIX mode, as
//! macOS's /bin/sh would.

use crate::{bin_dir, env, git, json, run, tagged_checkout};

#[test]
fn the_manifest_names_the_built_source_not_the_working_directory() {
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    // The directory the pipeline runs in is a checkout of something else (as custody's
    // own repository was in the demo).
    git(work, &["init", "--quiet", "--initial-branch=tooling"]);
    fs_err::write(work.join("README"), "the CI's tooling\n").unwrap();
    git(work, &["add", "README"]);
    git(work, &["commit", "--quiet", "-m", "tooling"]);
    let tooling = git(work, &["rev-parse", "HEAD"]);
    let commit = tagged_checkout(&work.join("source"));
    assert_ne!(tooling, commit);

    let tools = env(&[
        ("CUSTODY_BIN", &bin_dir().to_string_lossy()),
        ("PYTHON", &custody_test_support::python().to_string_lossy()),
        ("CUSTODY_CI_PROVIDER", "none"),
    ]);
    let script = crate::script("build-pipeline.sh");
    let script = script.to_string_lossy();
    let bash = std::path::Path::new("bash");
    let job = [
        "--posix",
        &script,
        "job",
        "--source",
        "source",
        "--out",
        "jobs/py38-x86",
        "--no-isolation",
        "--no-codecov",
        "--label",
        "python=3.8",
        "--label",
        "arch=x86",
    ];
    run(bash, &job, work, &tools).expect(0);
    let manifest = json(&work.join("jobs/py38-x86/dist/manifest.json"));
    let text = manifest.to_string();
    assert!(text.contains(&commit), "{manifest:#}");
    assert!(text.contains("refs/tags/v0.18.3"), "{manifest:#}");
    assert!(!text.contains(&tooling), "{manifest:#}");

    // The fan-in's tag-build reads the source's tag: a release.
    let fan_in = [
        "--posix",
        &script,
        "fan-in",
        "--source",
        "source",
        "--jobs",
        "jobs",
        "--out",
        "build",
        "--where",
        "python=3.8",
        "--require-release",
    ];
    let released = run(bash, &fan_in, work, &tools).expect(0);
    assert!(released.both().contains("0.18.3"), "{}", released.both());
}
