//! The terminal prompt, decision files, timeouts, bad input, and the binding to
//! `publish-pypi --approval`.

use std::process::{Command as Process, Stdio};
use std::time::Duration;

use custody_test_support::{MockServer, Reply};

use crate::{cmd, record, release, stderr_of};

/// Runs approve-gate on a real pseudo-terminal (Python's `pty`), waits for the prompt,
/// types `answer`, and returns (exit code, everything the terminal showed).
fn on_a_terminal(dir: &std::path::Path, answer: &str) -> (i32, String) {
    let binary = assert_cmd::cargo::cargo_bin("approve-gate");
    let script = r#"
import os, pty, sys, time
binary, answer = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execve(binary, [binary, "--manifest", "release/release.json", "--out", "approval.json"],
              {"PATH": os.environ["PATH"], "NO_COLOR": "1", "USER": "release-manager", "TERM": "dumb"})
seen = b""
deadline = time.time() + 30
while b"to approve this release" not in seen and time.time() < deadline:
    try:
        seen += os.read(fd, 4096)
    except OSError:
        break
os.write(fd, answer.encode() + b"\r")
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"#;
    let output = Process::new(custody_test_support::python())
        .args(["-c", script])
        .arg(&binary)
        .arg(answer)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn on_a_terminal_the_approver_types_the_version() {
    let dir = tempfile::tempdir().unwrap();
    let (_, manifest) = release(dir.path());
    let (code, screen) = on_a_terminal(dir.path(), "0.18.3");
    assert_eq!(code, 0, "{screen}");
    // The approver saw what they approve: release, every file with size and sha256, the build.
    assert!(
        screen.contains("Release to approve: custody-sample 0.18.3"),
        "{screen}"
    );
    assert!(
        screen.contains(&manifest.artifacts[0].digests.sha256),
        "{screen}"
    );
    assert!(screen.contains("custody_sample-0.18.3.tar.gz"), "{screen}");
    assert!(screen.contains("built from commit 4f2a9c1d0e, build https://dev.azure.com/data61/Anonlink/_build/results?buildId=1234"), "{screen}");
    assert!(
        screen.contains("Type `0.18.3` to approve this release"),
        "{screen}"
    );
    let approval = record(&dir.path().join("approval.json"));
    assert_eq!(approval["decision"], "approved");
    assert_eq!(approval["decided_by"][0], "release-manager");
    assert_eq!(approval["source"], "terminal");
    assert_eq!(approval["manifest_digest"], manifest.digest.as_str());
}

#[test]
fn on_a_terminal_anything_else_rejects() {
    let dir = tempfile::tempdir().unwrap();
    release(dir.path());
    let (code, screen) = on_a_terminal(dir.path(), "yes");
    assert_eq!(code, 1, "{screen}");
    let approval = record(&dir.path().join("approval.json"));
    assert_eq!(approval["decision"], "rejected");
    assert_eq!(approval["reason"], "typed `yes`, not `0.18.3`");
}

#[test]
fn a_decision_file_dropped_while_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let (_, manifest) = release(dir.path());
    let decisions = dir.path().join("decisions");
    fs_err::create_dir_all(&decisions).unwrap();
    let child = Process::new(assert_cmd::cargo::cargo_bin("approve-gate"))
        .args([
            "--manifest",
            "release/release.json",
            "--out",
            "approval.json",
            "--decision-dir",
            "decisions",
        ])
        .args(["--timeout", "60s", "--poll-interval", "50ms"])
        .current_dir(dir.path())
        .env_clear()
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // A decision about another release is ignored...
    fs_err::write(
        decisions.join("1-other.json"),
        r#"{"decision": "approve", "by": "eve", "manifest_digest": "sha256:0000"}"#,
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    // ...this one counts.
    fs_err::write(
        decisions.join("2-ours.json"),
        format!(r#"{{"decision": "approve", "by": "alice", "reason": "changelog checked", "manifest_digest": "{}"}}"#, manifest.digest),
    )
    .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output)
            .contains("ignoring `decisions/1-other.json`: it decides about manifest sha256:0000"),
        "{}",
        stderr_of(&output)
    );
    let approval = record(&dir.path().join("approval.json"));
    assert_eq!(
        (
            approval["decision"].as_str(),
            approval["decided_by"][0].as_str()
        ),
        (Some("approved"), Some("alice"))
    );
    assert_eq!(approval["reason"], "changelog checked");
}

#[test]
fn silence_is_a_rejection_unless_told_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    release(dir.path());
    fs_err::create_dir_all(dir.path().join("decisions")).unwrap();
    let run = |on_timeout: &str| {
        cmd(dir.path())
            .args([
                "--manifest",
                "release/release.json",
                "--out",
                "approval.json",
                "--decision-dir",
                "decisions",
            ])
            .args([
                "--timeout",
                "300ms",
                "--poll-interval",
                "50ms",
                "--on-timeout",
                on_timeout,
            ])
            .output()
            .unwrap()
    };
    let output = run("reject");
    assert_eq!(output.status.code(), Some(5), "{}", stderr_of(&output));
    assert_eq!(
        record(&dir.path().join("approval.json"))["decision"],
        "timed_out"
    );
    let output = run("approve");
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let approval = record(&dir.path().join("approval.json"));
    assert_eq!(
        (approval["decision"].as_str(), approval["source"].as_str()),
        (Some("approved"), Some("timeout"))
    );
}

#[test]
fn bad_input_is_refused_before_asking() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = release(dir.path());
    // Not a terminal and no decision source.
    let output = cmd(dir.path())
        .args(["--manifest", "release/release.json", "--out", "a.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).starts_with("error: no way to ask for a decision"),
        "{}",
        stderr_of(&output)
    );
    // A manifest changed after it was written: nobody is asked to approve it.
    let text = fs_err::read_to_string(&path)
        .unwrap()
        .replace("\"0.18.3\"", "\"0.18.4\"");
    fs_err::write(&path, text).unwrap();
    let output = cmd(dir.path())
        .args([
            "--manifest",
            "release/release.json",
            "--out",
            "a.json",
            "--decision-dir",
            ".",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr_of(&output).contains("was modified after it was written"),
        "{}",
        stderr_of(&output)
    );
    assert!(!dir.path().join("a.json").exists());
}

/// publish-pypi, built beside this test by `cargo test --workspace`.
pub(crate) fn publish_pypi() -> std::path::PathBuf {
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_owned();
    let binary = deps.parent().unwrap().join("publish-pypi");
    assert!(
        binary.exists(),
        "{} is missing: run the tests with `cargo test --workspace`",
        binary.display()
    );
    binary
}

#[test]
fn what_was_approved_is_what_ships() {
    let index = MockServer::start(|request, _| {
        if request.method == "POST" {
            Reply::new(200, "OK")
        } else if request.url == "/simple/" {
            custody_test_support::empty_simple_index()
        } else {
            Reply::new(404, "")
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let (path, manifest) = release(dir.path());
    fs_err::create_dir_all(dir.path().join("decisions")).unwrap();
    fs_err::write(
        dir.path().join("decisions/ok.json"),
        r#"{"decision": "approve", "by": "alice"}"#,
    )
    .unwrap();
    let output = cmd(dir.path())
        .args([
            "--manifest",
            "release/release.json",
            "--out",
            "approval.json",
            "--decision-dir",
            "decisions",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));

    let publish = |dir: &std::path::Path| {
        Process::new(publish_pypi())
            .args([
                "--manifest",
                "release/release.json",
                "--approval",
                "approval.json",
                "--repository-url",
                &index.url(),
            ])
            .current_dir(dir)
            .env_clear()
            .env("NO_COLOR", "1")
            .env("PYPI_LOGIN", "u")
            .env("PYPI_PASSWORD", "p")
            .output()
            .unwrap()
    };
    // Someone swaps in a different release set (re-sealed, so it loads) after approval.
    let mut swapped = manifest.clone();
    swapped.artifacts.pop();
    swapped.seal();
    swapped.write(&path).unwrap();
    let refused = publish(dir.path());
    assert_eq!(refused.status.code(), Some(1), "{}", stderr_of(&refused));
    assert!(
        stderr_of(&refused).contains(&format!("approves manifest {}", manifest.digest)),
        "{}",
        stderr_of(&refused)
    );
    assert!(index.requests().is_empty(), "nothing reached the index");

    // The approved manifest publishes.
    manifest.write(&path).unwrap();
    let published = publish(dir.path());
    assert_eq!(
        published.status.code(),
        Some(0),
        "{}",
        stderr_of(&published)
    );
    assert_eq!(
        index
            .requests()
            .iter()
            .filter(|r| r.method == "POST")
            .count(),
        2
    );
}
