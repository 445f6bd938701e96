//! custody releases itself through its own chain of custody (issue 15): the `custody-ci`
//! wheel that maturin builds from crates/custody-wheel (scripts/test-env.sh builds it) is
//! collected, approved and published with custody's own steps to a real pypiserver, then
//! installed from there the ways Python users install tools — `pip install` into a fresh
//! virtualenv, and `scripts/install.sh --method pip` with pip's `--require-hashes` — and
//! every installed command runs.

use std::path::{Path, PathBuf};

use custody_test_support::{PypiServer, fixtures_dir, python, workspace_root};

use crate::{STEPS, bin_dir, env, git, json, run, script};

/// The workspace version: the wheel's version and every binary's.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The one wheel scripts/test-env.sh built.
fn custody_wheel() -> PathBuf {
    let dir = fixtures_dir().join("custody-wheel");
    let wheels: Vec<PathBuf> = fs_err::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{e}: run scripts/test-env.sh, which builds the wheel"))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "whl"))
        .collect();
    assert_eq!(
        wheels.len(),
        1,
        "one wheel in {}: {wheels:?}",
        dir.display()
    );
    wheels.into_iter().next().unwrap()
}

/// A release set of the wheel, collected (recording custody's own checkout as the
/// source), approved by a decision file and published to `index`; returns the manifest.
fn release(work: &Path, index: &PypiServer) -> serde_json::Value {
    let dist = work.join("dist");
    fs_err::create_dir_all(&dist).unwrap();
    let wheel = custody_wheel();
    fs_err::copy(&wheel, dist.join(wheel.file_name().unwrap())).unwrap();
    let root = workspace_root();
    let step = |name: &str, args: &[&str], vars: &[(&str, &str)]| {
        run(&bin_dir().join(name), args, work, &env(vars)).expect(0)
    };
    let source = root.to_str().unwrap();
    step(
        "collect-artifacts",
        &[
            "collect",
            "dist",
            "--out",
            "dist/manifest.json",
            "--label",
            "os=linux",
        ],
        &[("CUSTODY_SOURCE_DIR", source)],
    );
    let manifest = json(&dist.join("manifest.json"));
    let digest = manifest["digest"].as_str().unwrap();
    fs_err::create_dir_all(work.join("decisions")).unwrap();
    fs_err::write(
        work.join("decisions/approve.json"),
        format!(
            r#"{{"decision": "approve", "by": "release-manager", "manifest_digest": "{digest}"}}"#
        ),
    )
    .unwrap();
    step(
        "approve-gate",
        &[
            "--manifest",
            "dist/manifest.json",
            "--out",
            "approval.json",
            "--decision-dir",
            "decisions",
            "--timeout",
            "30s",
            "--poll-interval",
            "100ms",
        ],
        &[],
    );
    let url = index.url();
    step(
        "publish-pypi",
        &[
            "--manifest",
            "dist/manifest.json",
            "--approval",
            "approval.json",
            "--repository-url",
            &url,
        ],
        &[
            ("PYPI_LOGIN", &index.username),
            ("PYPI_PASSWORD", &index.password),
        ],
    );
    manifest
}

/// Runs `program` in `dir` with pip's configuration files left out (and nothing of the
/// machine's environment but `PATH`: see [`run`]).
fn command(program: &Path, args: &[&str], dir: &Path) -> crate::Ran {
    run(
        program,
        args,
        dir,
        &env(&[("PIP_CONFIG_FILE", "/dev/null")]),
    )
}

/// Every installed command in `bin` runs and says it is this version (`-V`: `tag-build`'s
/// `--version` is the package version it checks, `-V` is the tool's in every step).
fn assert_commands_run(bin: &Path) {
    for step in STEPS {
        let program = bin.join(step);
        assert!(program.is_file(), "{} is not installed", program.display());
        let ran = command(&program, &["-V"], bin).expect(0);
        assert_eq!(
            ran.stdout.trim(),
            format!("{step} {VERSION}"),
            "{}",
            ran.both()
        );
    }
}

/// The manifest's one artifact: custody's wheel, verified clean, collected from
/// custody's own commit, and the only file on the index.
fn assert_released(manifest: &serde_json::Value, index: &PypiServer) -> serde_json::Value {
    let artifact = manifest["artifacts"][0].clone();
    let file = artifact["file_name"].as_str().unwrap().to_owned();
    assert!(
        file.starts_with(&format!("custody_ci-{VERSION}-py3-none-")),
        "{manifest}"
    );
    assert_eq!(artifact["project"]["name"], "custody-ci", "{artifact}");
    assert_eq!(artifact["project"]["version"], VERSION, "{artifact}");
    assert_eq!(
        artifact.get("warnings"),
        None,
        "the wheel verifies clean: {artifact}"
    );
    let head = git(&workspace_root(), &["rev-parse", "HEAD"]);
    assert_eq!(manifest["jobs"][0]["context"]["commit"], head.as_str());
    assert_eq!(index.files(), [file]);
    artifact
}

/// `pip install custody-ci==VERSION` from `simple` into a fresh virtualenv: six
/// commands in its bin/, and the distribution's version.
fn pip_install_into_a_fresh_venv(work: &Path, simple: &str) {
    let venv = work.join("venv");
    command(&python(), &["-m", "venv", venv.to_str().unwrap()], work).expect(0);
    let requirement = format!("custody-ci=={VERSION}");
    command(
        &venv.join("bin/python"),
        &[
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-cache-dir",
            "--index-url",
            simple,
            &requirement,
        ],
        work,
    )
    .expect(0);
    assert_commands_run(&venv.join("bin"));
    let shown = command(
        &venv.join("bin/python"),
        &[
            "-c",
            "import importlib.metadata as m; print(m.version('custody-ci'))",
        ],
        work,
    )
    .expect(0);
    assert_eq!(shown.stdout.trim(), VERSION);
}

/// `uvx --from custody-ci==VERSION STEP -V` from `simple`, with uv's cache and
/// tools in `work` (uv is in the test venv: tests/requirements.txt).
fn uvx_runs_every_command(work: &Path, simple: &str) {
    let from = format!("custody-ci=={VERSION}");
    let test_python = python();
    let cache = work.join("uv-cache");
    let tools = work.join("uv-tools");
    let vars = env(&[
        ("UV_CACHE_DIR", cache.to_str().unwrap()),
        ("UV_TOOL_DIR", tools.to_str().unwrap()),
    ]);
    let uvx = custody_test_support::venv_bin().join("uvx");
    for step in STEPS {
        let args = [
            "--no-config",
            "--no-python-downloads",
            "--python",
            test_python.to_str().unwrap(),
            "--index-url",
            simple,
            "--from",
            &from,
            step,
            "-V",
        ];
        let ran = run(&uvx, &args, work, &vars).expect(0);
        assert_eq!(
            ran.stdout.trim(),
            format!("{step} {VERSION}"),
            "{}",
            ran.both()
        );
    }
}

/// `scripts/install.sh --method pip --sha256 SHA --to DIR` from `simple`, run in `work`.
fn install_sh(work: &Path, simple: &str, to: &str, sha256: &str) -> crate::Ran {
    let test_python = python();
    let vars = [
        ("PIP_INDEX_URL", simple),
        ("PIP_CONFIG_FILE", "/dev/null"),
        ("PYTHON", test_python.to_str().unwrap()),
    ];
    let installer = script("install.sh");
    let args = [
        installer.to_str().unwrap(),
        "--method",
        "pip",
        "--version",
        VERSION,
        "--sha256",
        sha256,
        "--to",
        to,
    ];
    run(Path::new("sh"), &args, work, &env(&vars))
}

#[test]
fn custody_releases_itself_and_installs_with_pip() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path();
    let index = PypiServer::start();
    let manifest = release(work, &index);
    let artifact = assert_released(&manifest, &index);
    let simple = index.simple_url();

    pip_install_into_a_fresh_venv(work, &simple);
    uvx_runs_every_command(work, &simple);

    // install.sh's pip method, pinned (pip --require-hashes): one of the hashes must
    // match, as with one hash per platform's wheel.
    let sha256 = artifact["digests"]["sha256"].as_str().unwrap();
    let other = "0".repeat(64);
    let installed = install_sh(work, &simple, "pinned", &format!("{other},{sha256}")).expect(0);
    assert_eq!(
        installed.stdout.lines().last(),
        Some(work.join("pinned").to_str().unwrap()),
        "{}",
        installed.both()
    );
    assert!(
        installed.stderr.contains("hash-checked"),
        "{}",
        installed.both()
    );
    assert_commands_run(&work.join("pinned"));

    let tampered = install_sh(work, &simple, "tampered", &other).expect(1);
    assert!(
        tampered
            .stderr
            .contains(&format!("custody-ci {VERSION} does not match --sha256")),
        "{}",
        tampered.both()
    );
    assert!(!work.join("tampered").exists(), "nothing is installed");
}
