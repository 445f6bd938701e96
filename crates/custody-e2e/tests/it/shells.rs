//! The shipped shell scripts on the shells runners and users have. macOS runners run
//! `shell: bash` with Bash 3.2, Windows runners with Git Bash, Linux with Bash 5; `sh`
//! is dash on Debian/Ubuntu and `BusyBox` in small images. The action's scripts
//! (`action.sh`, `install.sh`) are POSIX sh and run here under dash, `BusyBox` sh (with
//! its own tools: its awk, sed, xargs, tar, wget) and bash in POSIX mode; the
//! bash-only scripts are linted for bash-4 features (shellcheck cannot tell bash
//! versions apart) and parsed in POSIX mode.

use std::path::{Path, PathBuf};

use crate::action::{JUNIT, Runner};
use crate::install::{asset_server, assets};
use crate::{env, read, run, script};

/// A directory to put first on `PATH` whose `sh` is the shell under test.
struct Shell {
    name: &'static str,
    bin: tempfile::TempDir,
    /// `BusyBox` replaces the whole userland (no GNU tool, no curl): `PATH` is only `bin`.
    alone: bool,
}

/// Tools `BusyBox` provides for the busybox `PATH` (everything the scripts call).
const BUSYBOX_TOOLS: &[&str] = &[
    "sh",
    "awk",
    "sed",
    "tr",
    "xargs",
    "mktemp",
    "cut",
    "dirname",
    "uname",
    "cat",
    "rm",
    "mkdir",
    "cp",
    "mv",
    "chmod",
    "tar",
    "gzip",
    "sha256sum",
    "wget",
    "env",
    "unzip",
    "grep",
    "printf",
];

/// The program `name` on this machine's `PATH`; the test environment installs it.
fn installed(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("`{name}` is not installed: scripts/test-env.sh installs it (apt-get install {name})")
        })
}

fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

impl Shell {
    fn dash() -> Self {
        let bin = tempfile::tempdir().unwrap();
        symlink(&installed("dash"), &bin.path().join("sh"));
        Self {
            name: "dash",
            bin,
            alone: false,
        }
    }

    fn busybox() -> Self {
        let bin = tempfile::tempdir().unwrap();
        let busybox = installed("busybox");
        for tool in BUSYBOX_TOOLS.iter().copied() {
            symlink(&busybox, &bin.path().join(tool));
        }
        // The runner's own `shell: bash` wrapper line, which runs `sh action.sh`.
        symlink(&installed("bash"), &bin.path().join("bash"));
        Self {
            name: "busybox",
            bin,
            alone: true,
        }
    }

    /// Bash started as `sh` runs in POSIX mode, as macOS's /bin/sh (bash 3.2) does.
    fn posix_bash() -> Self {
        let bin = tempfile::tempdir().unwrap();
        symlink(&installed("bash"), &bin.path().join("sh"));
        Self {
            name: "bash --posix",
            bin,
            alone: false,
        }
    }

    fn all() -> [Self; 3] {
        [Self::dash(), Self::busybox(), Self::posix_bash()]
    }

    fn sh(&self) -> PathBuf {
        self.bin.path().join("sh")
    }

    /// `pairs` and this shell's `PATH`.
    fn env(&self, pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
        let mut env = env(pairs);
        env.insert("PATH".into(), self.path());
        env
    }

    fn path(&self) -> String {
        let mut dirs = vec![self.bin.path().to_owned()];
        if !self.alone {
            let path = std::env::var_os("PATH").unwrap_or_default();
            dirs.extend(std::env::split_paths(&path));
        }
        std::env::join_paths(dirs)
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }
}

/// The action under each shell: install from the release asset (install.sh under that
/// `sh`), run a step without `args` (an empty word list: bash < 4.4 under `set -u`
/// refused `"${args[@]}"`), then with quoted `args` from the cache.
#[test]
fn the_action_runs_under_dash_busybox_and_posix_bash() {
    let server = asset_server(assets(), |_, bytes| bytes);
    for shell in Shell::all() {
        let runner = Runner::new(&server.url()).with_path(&shell.path());
        let project = runner.dir().join("project");
        custody_test_support::copy_dir(
            &custody_test_support::workspace_root().join("tests/fixtures/sample-project"),
            &project,
        );
        let (ran, outcome) = runner.uses(&serde_json::json!({
            "step": "tag-build",
            "install-method": "release",
            "working-directory": project.to_string_lossy(),
        }));
        assert_eq!(ran.code, 0, "{}: {}", shell.name, ran.both());
        let outputs = &outcome["outputs"];
        assert_eq!(outputs["release"], "true", "{}: {outcome}", shell.name);
        assert_eq!(outputs["version"], "0.18.3", "{}", shell.name);
        assert_eq!(outputs["exit-code"], "0", "{}", shell.name);

        fs_err::remove_dir_all(runner.dir().join("tool-cache")).unwrap();
        fs_err::write(runner.dir().join("junit.xml"), JUNIT).unwrap();
        let (ran, outcome) = runner.uses(&serde_json::json!({
            "step": "publish-test-results",
            "args": "junit.xml --title 'Python 3.7 x86'\n--fail-on none",
            "install-method": "release",
        }));
        assert_eq!(ran.code, 0, "{}: {}", shell.name, ran.both());
        assert!(ran.stdout.contains("Cache restored"), "{}", shell.name);
        assert_eq!(
            outcome["outputs"]["failed"], "1",
            "{}: {outcome}",
            shell.name
        );
        let summary = read(&runner.dir().join("runner/summary.md"));
        assert!(
            summary.contains("Python 3.7 x86"),
            "{}: {summary}",
            shell.name
        );
    }
}

/// `install.sh` refuses bad usage with the same first line under every shell.
#[test]
fn install_sh_refuses_bad_usage_alike_under_every_shell() {
    let work = tempfile::tempdir().unwrap();
    for shell in Shell::all() {
        let (sh, with_path) = (shell.sh(), |pairs: &[(&str, &str)]| shell.env(pairs));
        let install = script("install.sh");
        let install = install.to_string_lossy();
        for (args, code, first_line) in [
            (
                vec!["--to"],
                2,
                "install.sh: `--to` needs a value (see --help)",
            ),
            (
                vec!["--method", "npm"],
                2,
                "install.sh: --method must be auto, release, source or pip, not `npm`",
            ),
            (
                vec!["--frobnicate"],
                2,
                "install.sh: unknown option `--frobnicate` (see --help)",
            ),
        ] {
            let mut all = vec![&*install];
            all.extend(args);
            let refused = run(&sh, &all, work.path(), &with_path(&[])).expect(code);
            assert_eq!(
                refused.stderr.lines().next(),
                Some(first_line),
                "{}",
                shell.name
            );
        }
        let help = run(&sh, &[&install, "--help"], work.path(), &with_path(&[])).expect(0);
        assert!(
            help.stdout.contains("--method"),
            "{}: {}",
            shell.name,
            help.stdout
        );
    }
}

/// `action.sh` under every shell: an unmatched quote in `args` runs nothing, and a
/// Windows tool cache path keeps its backslashes (`printf`, not `echo`).
#[test]
fn the_action_script_splits_and_locates_alike_under_every_shell() {
    let work = tempfile::tempdir().unwrap();
    for shell in Shell::all() {
        let (sh, with_path) = (shell.sh(), |pairs: &[(&str, &str)]| shell.env(pairs));

        let action = script("action.sh");
        let action = action.to_string_lossy();
        let bins = crate::bin_dir();
        let unmatched = with_path(&[
            ("CUSTODY_STEP", "tag-build"),
            ("CUSTODY_DIR", &bins.to_string_lossy()),
            ("CUSTODY_ARGS", "--version '0.18.3"),
        ]);
        let refused = run(&sh, &[&action, "run"], work.path(), &unmatched).expect(2);
        assert!(
            refused
                .stdout
                .contains("::error title=custody::cannot split the args input into words"),
            "{}: {}",
            shell.name,
            refused.both()
        );
        let located = run(
            &sh,
            &[&action, "locate"],
            work.path(),
            &with_path(&[
                ("CUSTODY_VERSION", "v1.2.3"),
                ("CUSTODY_METHOD", "release"),
                ("CUSTODY_TOOL_CACHE", "C:\\hostedtoolcache\\windows"),
            ]),
        )
        .expect(0);
        assert!(
            located
                .stdout
                .contains("dir=C:\\hostedtoolcache\\windows/custody/1.2.3/"),
            "{}: {}",
            shell.name,
            located.stdout
        );
        assert!(located.stdout.contains("version=1.2.3\n"), "{}", shell.name);
    }
}

/// Bash features newer than macOS's Bash 3.2 (and bash < 4.4's `set -u` trap: an empty
/// array expanded as `"${a[@]}"`; write `${a[@]+"${a[@]}"}`). Returns `line: what`.
fn bash_4_features(text: &str) -> Vec<String> {
    const WORDS: &[(&str, &str)] = &[
        ("mapfile", "mapfile (bash 4)"),
        ("readarray", "readarray (bash 4)"),
        ("declare -A", "associative arrays (bash 4)"),
        ("local -A", "associative arrays (bash 4)"),
        ("typeset -A", "associative arrays (bash 4)"),
        ("declare -n", "namerefs (bash 4.3)"),
        ("local -n", "namerefs (bash 4.3)"),
        ("|&", "`|&` (bash 4)"),
        (";;&", "`;;&` (bash 4)"),
        (";&", "`;&` (bash 4)"),
        ("&>>", "`&>>` (bash 4)"),
        ("coproc ", "coproc (bash 4)"),
        ("wait -n", "wait -n (bash 4.3)"),
        ("globstar", "globstar (bash 4)"),
        ("EPOCHSECONDS", "$EPOCHSECONDS (bash 5)"),
        ("[[ -v", "-v tests (bash 4.2)"),
        ("printf '%(", "printf %(...)T (bash 4.2)"),
    ];
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with('#') {
            continue;
        }
        for &(word, what) in WORDS {
            if code.contains(word) {
                found.push(format!("{}: {what}", number + 1));
            }
        }
        found.extend(
            expansion_problems(code)
                .into_iter()
                .map(|what| format!("{}: {what}", number + 1)),
        );
    }
    found
}

/// `${...}` expansions bash 3.2 lacks or mishandles under `set -u`.
fn expansion_problems(line: &str) -> Vec<&'static str> {
    let mut problems = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("${") {
        let before = &rest[..start];
        let inner = &rest[start + 2..];
        let Some(end) = inner.find('}') else { break };
        let body = &inner[..end];
        if body.ends_with(",,")
            || body.ends_with("^^")
            || body.ends_with(',')
            || body.ends_with('^')
        {
            problems.push("case modification `${x,,}`/`${x^^}` (bash 4)");
        }
        if ["@Q", "@E", "@P", "@A", "@a", "@U", "@u", "@L", "@K"]
            .iter()
            .any(|op| body.ends_with(op))
        {
            problems.push("`${x@Q}` transformations (bash 4.4)");
        }
        if body.contains("[-") {
            problems.push("negative array index (bash 4.3)");
        }
        let whole_array = body.ends_with("[@]") || body.ends_with("[*]");
        if whole_array
            && !body.starts_with('#')
            && before.ends_with('"')
            && !before.ends_with("]+\"")
        {
            problems.push("`\"${a[@]}\"` unguarded: an error for an empty array under set -u before bash 4.4; write `${a[@]+\"${a[@]}\"}`");
        }
        rest = &inner[end + 1..];
    }
    problems
}

/// Every script in scripts/ is either POSIX sh (`#!/bin/sh`: shellcheck checks it as
/// such in scripts/test.sh, and the tests above run it) or bash limited to 3.2.
#[test]
fn bash_scripts_use_only_bash_3_2_features() {
    let dir = custody_test_support::workspace_root().join("scripts");
    let mut checked = Vec::new();
    for entry in fs_err::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "sh") {
            continue;
        }
        let text = read(&path);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if text.starts_with("#!/bin/sh\n") {
            continue;
        }
        let found = bash_4_features(&text);
        assert!(found.is_empty(), "{name}: {found:#?}");
        // Parsed by bash in POSIX mode (what macOS's /bin/sh is).
        let parsed = std::process::Command::new("bash")
            .args(["--posix", "-n"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(parsed.status.success(), "{name}: {parsed:?}");
        checked.push(name);
    }
    for name in [
        "package-release.sh",
        "build-pipeline.sh",
        "release-pipeline.sh",
        "demo.sh",
    ] {
        assert!(
            checked.iter().any(|c| c == name),
            "{name} not checked: {checked:?}"
        );
    }
}

/// The lint finds what broke the action on macOS (the old action.sh's lines).
#[test]
fn the_bash_lint_finds_bash_4_features() {
    let old = r#"
        mapfile -d '' args <"$words"
        "$binary" "${args[@]}" || status=$?
        echo "${name,,}" "${tag^^}" "${a[-1]}" "${x@Q}"
        declare -A seen
        make |& tee log
        # mapfile in a comment is fine
        tar ${stable[@]+"${stable[@]}"} "${#files[@]}"
    "#;
    let found = bash_4_features(old);
    assert_eq!(found.len(), 8, "{found:#?}");
    assert!(found[0].starts_with("2: mapfile"), "{found:#?}");
    assert!(
        found[1].starts_with("3: `\"${a[@]}\"` unguarded"),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .all(|f| !f.starts_with("7:") && !f.starts_with("8:")),
        "{found:#?}"
    );
}
