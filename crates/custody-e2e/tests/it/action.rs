//! action.yml run by a composite-action runner that does what GitHub's does (each step
//! in bash with its env and its own `$GITHUB_OUTPUT`, expressions, `if:`, `actions/cache`):
//! installation from the release asset with its sha256, the cache, arguments split
//! without expansion, outputs passed through.

use std::collections::BTreeMap;
use std::path::Path;

use crate::install::{asset_server, assets};
use crate::{Ran, env, json, read, run};

const JUNIT: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="pytest" errors="0" failures="1" skipped="0" tests="3" time="0.1">
<testcase classname="tests.test_cli" name="test_help" time="0.01"/>
<testcase classname="tests.test_cli" name="test_version" time="0.01"/>
<testcase classname="tests.test_bits" name="test_positions" time="0.02"><failure message="assert 2 == 3">tests/test_bits.py:7: AssertionError</failure></testcase>
</testsuite></testsuites>
"#;

struct Runner {
    work: tempfile::TempDir,
    env: BTreeMap<String, String>,
}

impl Runner {
    fn new(download_url: &str) -> Self {
        let work = tempfile::tempdir().unwrap();
        let dir = work.path();
        for sub in ["tool-cache", "actions-cache", "runner"] {
            fs_err::create_dir_all(dir.join(sub)).unwrap();
        }
        let env = env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REF", "refs/tags/v0.18.3"),
            ("GITHUB_REF_NAME", "v0.18.3"),
            ("GITHUB_REF_TYPE", "tag"),
            ("GITHUB_EVENT_NAME", "push"),
            ("GITHUB_SHA", "4f2a9c1d0e4f2a9c1d0e4f2a9c1d0e4f2a9c1d0e"),
            ("GITHUB_REPOSITORY", "data61/clkhash"),
            (
                "GITHUB_STEP_SUMMARY",
                &dir.join("runner/summary.md").to_string_lossy(),
            ),
            (
                "RUNNER_TOOL_CACHE",
                &dir.join("tool-cache").to_string_lossy(),
            ),
            (
                "RUNNER_CACHE_DIR",
                &dir.join("actions-cache").to_string_lossy(),
            ),
            ("CUSTODY_DOWNLOAD_URL", download_url.trim_end_matches('/')),
        ]);
        Self { work, env }
    }

    fn dir(&self) -> &Path {
        self.work.path()
    }

    /// `uses: ./` with these inputs; returns what the runner printed and its result.
    fn uses(&self, inputs: &serde_json::Value) -> (Ran, serde_json::Value) {
        let result = self.dir().join("runner/result.json");
        let ran = run(
            &custody_test_support::python(),
            &[
                &custody_test_support::workspace_root()
                    .join("tests/fixtures/pipelines/run_composite.py")
                    .to_string_lossy(),
                &custody_test_support::workspace_root().to_string_lossy(),
                &inputs.to_string(),
                &result.to_string_lossy(),
            ],
            self.dir(),
            &self.env,
        );
        let outcome = json(&result);
        (ran, outcome)
    }
}

#[test]
fn the_action_installs_a_verified_release_caches_it_and_runs_a_step() {
    let server = asset_server(assets(), |_, bytes| bytes);
    let runner = Runner::new(&server.url());
    let (ran, outcome) = runner.uses(&serde_json::json!({
        "step": "tag-build",
        "args": "--version 0.18.3",
        "install-method": "release",
    }));
    assert_eq!(ran.code, 0, "{}", ran.both());
    assert_eq!(outcome["failed"], serde_json::Value::Null);
    let outputs = &outcome["outputs"];
    assert_eq!(outputs["release"], "true", "{outcome}");
    assert_eq!(outputs["version"], "0.18.3");
    assert_eq!(outputs["kind"], "release-tag");
    assert_eq!(outputs["exit-code"], "0");
    assert!(
        ran.stdout
            .contains("Cache not found for input keys: custody-0.1.0-"),
        "{}",
        ran.stdout
    );
    let downloads = server.requests().len();
    assert_eq!(downloads, 2, "the asset and its .sha256");

    // A later job: the tool cache is empty again, actions/cache restores the binaries;
    // nothing is downloaded. Quoted arguments keep their spaces.
    fs_err::remove_dir_all(runner.dir().join("tool-cache")).unwrap();
    fs_err::write(runner.dir().join("junit.xml"), JUNIT).unwrap();
    let (ran, outcome) = runner.uses(&serde_json::json!({
        "step": "publish-test-results",
        "args": "junit.xml --title \"Python 3.7 x86\"\n--fail-on none",
        "install-method": "release",
    }));
    assert_eq!(ran.code, 0, "{}", ran.both());
    assert!(
        ran.stdout
            .contains("Cache restored from key: custody-0.1.0-"),
        "{}",
        ran.stdout
    );
    assert_eq!(server.requests().len(), downloads);
    let outputs = &outcome["outputs"];
    assert_eq!(
        (
            outputs["tests"].as_str(),
            outputs["failed"].as_str(),
            outputs["passed"].as_str()
        ),
        (Some("3"), Some("1"), Some("2"))
    );
    // The failure is an annotation on the runner's log.
    assert!(
        ran.stdout
            .contains("::error file=tests/test_bits.py,line=7"),
        "{}",
        ran.stdout
    );
    assert!(read(&runner.dir().join("runner/summary.md")).contains("Python 3.7 x86"));
}

#[test]
fn arguments_are_words_not_shell_and_steps_are_checked() {
    let server = asset_server(assets(), |_, bytes| bytes);
    let runner = Runner::new(&server.url());
    // Shell syntax in args reaches the step as words; nothing runs.
    let (ran, outcome) = runner.uses(&serde_json::json!({
        "step": "tag-build",
        "args": "--version 0.18.3 ; touch pwned",
        "install-method": "release",
    }));
    assert_eq!(ran.code, 1, "{}", ran.both());
    assert!(
        ran.stderr.contains("error: unexpected argument"),
        "{}",
        ran.stderr
    );
    assert_eq!(outcome["failed"]["step"], "run");
    assert_eq!(outcome["outputs"]["exit-code"], "2");
    let (ran, outcome) = runner.uses(&serde_json::json!({
        "step": "tag-build",
        "args": "--version \"$(touch pwned2) `touch pwned3`\"",
        "install-method": "release",
    }));
    assert_eq!(ran.code, 1, "{}", ran.both());
    assert!(
        ran.stderr.contains("$(touch pwned2) `touch pwned3`"),
        "{}",
        ran.stderr
    );
    assert_ne!(outcome["outputs"]["exit-code"], "0");
    for file in ["pwned", "pwned2", "pwned3"] {
        assert!(!runner.dir().join(file).exists(), "{file} was created");
    }

    // Not a custody step: refused before anything runs, as an annotation.
    let (ran, outcome) = runner.uses(&serde_json::json!({
        "step": "rm\n::add-mask::x",
        "args": "-rf /",
        "install-method": "release",
    }));
    assert_eq!(ran.code, 1);
    assert_eq!(outcome["failed"]["exit_code"], 2);
    let annotation = ran
        .stdout
        .lines()
        .find(|line| line.starts_with("::error title=custody::"))
        .unwrap_or_else(|| panic!("{}", ran.stdout));
    assert!(annotation.contains("step `rm%0A::add-mask::x` is not a custody step: use one of collect-artifacts, publish-test-results"), "{annotation}");
    assert!(
        !ran.stdout
            .lines()
            .any(|line| line.starts_with("::add-mask::"))
    );
}

#[test]
fn a_tampered_release_asset_fails_the_install_step() {
    let server = asset_server(assets(), |url, mut bytes| {
        if url.ends_with(".tar.gz") {
            let last = bytes.len() - 1;
            bytes[last] ^= 0xff;
        }
        bytes
    });
    let runner = Runner::new(&server.url());
    let (ran, outcome) = runner.uses(&serde_json::json!({
        "step": "tag-build",
        "install-method": "release",
    }));
    assert_eq!(ran.code, 1, "{}", ran.both());
    assert_eq!(
        outcome["failed"]["step"], "__2",
        "the install step: {outcome}"
    );
    assert!(ran.stderr.contains("has sha256"), "{}", ran.stderr);
    assert!(outcome["outputs"].get("exit-code").is_none());
    // Nothing was installed, so nothing is cached for the next job.
    assert_eq!(
        fs_err::read_dir(runner.dir().join("actions-cache"))
            .unwrap()
            .count(),
        0
    );
}
