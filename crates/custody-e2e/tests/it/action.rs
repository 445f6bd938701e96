//! action.yml run by a composite-action runner that does what GitHub's does (each step
//! in bash with its env and its own `$GITHUB_OUTPUT`, expressions, `if:`, `actions/cache`):
//! installation from the release asset with its sha256, the cache, arguments split
//! without expansion, outputs passed through.

use std::collections::BTreeMap;
use std::path::Path;

use crate::install::{asset_server, assets};
use crate::{Ran, env, json, read, run};

pub(crate) const JUNIT: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="pytest" errors="0" failures="1" skipped="0" tests="3" time="0.1">
<testcase classname="tests.test_cli" name="test_help" time="0.01"/>
<testcase classname="tests.test_cli" name="test_version" time="0.01"/>
<testcase classname="tests.test_bits" name="test_positions" time="0.02"><failure message="assert 2 == 3">tests/test_bits.py:7: AssertionError</failure></testcase>
</testsuite></testsuites>
"#;

pub(crate) struct Runner {
    work: tempfile::TempDir,
    env: BTreeMap<String, String>,
}

impl Runner {
    pub(crate) fn new(download_url: &str) -> Self {
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

    pub(crate) fn dir(&self) -> &Path {
        self.work.path()
    }

    /// The runner's `PATH` (which `sh` the action's steps get, which tools they find).
    pub(crate) fn with_path(mut self, path: &str) -> Self {
        self.env.insert("PATH".into(), path.into());
        self
    }

    /// `uses: ./` with these inputs; returns what the runner printed and its result.
    pub(crate) fn uses(&self, inputs: &serde_json::Value) -> (Ran, serde_json::Value) {
        self.job(&custody_test_support::workspace_root(), inputs)
    }

    /// A job of `steps` (inputs of `uses:` the action in `action`, or `{"run": …}`).
    fn job(&self, action: &Path, steps: &serde_json::Value) -> (Ran, serde_json::Value) {
        let result = self.dir().join("runner/result.json");
        let ran = run(
            &custody_test_support::python(),
            &[
                &custody_test_support::workspace_root()
                    .join("tests/fixtures/pipelines/run_composite.py")
                    .to_string_lossy(),
                &action.to_string_lossy(),
                &steps.to_string(),
                &result.to_string_lossy(),
            ],
            self.dir(),
            &self.env,
        );
        let outcome = json(&result);
        (ran, outcome)
    }

    /// What actions/cache holds (one directory per saved key).
    fn cached(&self) -> usize {
        fs_err::read_dir(self.dir().join("actions-cache"))
            .unwrap()
            .count()
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
    assert_eq!(runner.cached(), 0);
}

#[test]
fn the_sha256_input_pins_the_asset_the_install_accepts() {
    // The asset is served untouched with its published .sha256; a pin that names other
    // bytes must still refuse it: the input reaches install.sh, and the pin wins.
    let server = asset_server(assets(), |_, bytes| bytes);
    let runner = Runner::new(&server.url());
    let (ran, outcome) = runner.uses(&serde_json::json!({
        "step": "tag-build",
        "install-method": "release",
        "sha256": "0".repeat(64),
    }));
    assert_eq!(ran.code, 1, "{}", ran.both());
    assert_eq!(outcome["failed"]["step"], "__2", "{outcome}");
    assert!(ran.stderr.contains("has sha256"), "{}", ran.stderr);
    assert!(ran.stderr.contains(&"0".repeat(64)), "{}", ran.stderr);
    assert_eq!(runner.cached(), 0);
}

/// actions/cache saves in its post-job step, and only when the job succeeded
/// (`post-if: success()`): a job whose later step fails caches nothing.
#[test]
fn the_cache_is_saved_after_the_job_and_only_when_it_succeeded() {
    let server = asset_server(assets(), |_, bytes| bytes);
    let runner = Runner::new(&server.url());
    let step = serde_json::json!({"step": "tag-build", "args": "--version 0.18.3", "install-method": "release"});
    let root = custody_test_support::workspace_root();
    let (ran, outcome) = runner.job(&root, &serde_json::json!([step, {"run": "exit 7"}]));
    assert_eq!(ran.code, 1, "{}", ran.both());
    assert_eq!(outcome["failed"]["exit_code"], 7);
    assert!(
        ran.stdout.contains("Skipping the cache save"),
        "{}",
        ran.stdout
    );
    assert_eq!(runner.cached(), 0);

    let (ran, _) = runner.job(
        &root,
        &serde_json::json!([step, {"run": "echo a later step"}]),
    );
    assert_eq!(ran.code, 0, "{}", ran.both());
    let later = ran.stdout.find("a later step").unwrap();
    let saved = ran.stdout.find("Cache saved with key: custody-0.1.0-");
    assert!(saved.is_some_and(|saved| saved > later), "{}", ran.stdout);
    assert_eq!(runner.cached(), 1);
}

/// An action whose one step writes `lines` to `$GITHUB_OUTPUT`.
fn writing_outputs(dir: &Path, lines: &str) -> std::path::PathBuf {
    let action = dir.join("writes-outputs");
    fs_err::create_dir_all(&action).unwrap();
    fs_err::write(action.join("lines"), lines).unwrap();
    fs_err::write(
        action.join("action.yml"),
        "name: writes outputs\ndescription: test\noutputs:\n  said:\n    description: x\n    value: ${{ steps.write.outputs.said }}\nruns:\n  using: composite\n  steps:\n    - id: write\n      shell: bash\n      run: cat \"$GITHUB_ACTION_PATH/lines\" >> \"$GITHUB_OUTPUT\"\n",
    )
    .unwrap();
    action
}

/// The runner fails a step whose `$GITHUB_OUTPUT` it cannot read, as GitHub's does
/// (actions/runner FileCommandManager): only `name=value` and `name<<DELIM` blocks.
#[test]
fn a_malformed_output_line_fails_the_step_as_on_github() {
    let runner = Runner::new("http://127.0.0.1:9");
    for (lines, said) in [
        ("said=one=two\n\n", "one=two"),
        ("said<<EOF\nline 1\nline=2\nEOF\n", "line 1\nline=2"),
    ] {
        let action = writing_outputs(runner.dir(), lines);
        let (ran, outcome) = runner.job(&action, &serde_json::json!({}));
        assert_eq!(ran.code, 0, "{lines:?}: {}", ran.both());
        assert_eq!(outcome["outputs"]["said"], said);
    }
    for (lines, error) in [
        ("said=ok\nnot an output\n", "Invalid format 'not an output'"),
        (
            "said<<EOF\nnever closed\n",
            "Invalid value. Matching delimiter not found 'EOF'",
        ),
        (
            "<<EOF\nx\nEOF\n",
            "Invalid format '<<EOF'. Name must not be empty",
        ),
    ] {
        let action = writing_outputs(runner.dir(), lines);
        let (ran, outcome) = runner.job(&action, &serde_json::json!({}));
        assert_eq!(ran.code, 1, "{lines:?}: {}", ran.both());
        assert_eq!(outcome["failed"]["step"], "write");
        assert!(
            ran.stdout.contains(&format!("##[error]{error}")),
            "{lines:?}: {}",
            ran.stdout
        );
    }
}
