//! Uploads to a real pypiserver on 127.0.0.1, then installs from it.

use custody_manifest::{Approval, Decision};
use custody_test_support::{PypiServer, WheelBuilder, pyinstaller_exe, python_with_path};

use crate::{
    all_output, cmd, json_of, manifest_of, sample_release, statuses, stderr_of, stdout_of,
};

#[test]
fn publishes_the_release_set_and_pip_installs_it() {
    let server = PypiServer::start();
    let dir = tempfile::tempdir().unwrap();
    let release = dir.path().join("release");
    let mut files = sample_release(&release);
    let exe = release.join("clkutil.exe");
    fs_err::write(&exe, pyinstaller_exe()).unwrap();
    files.push(exe);
    manifest_of(&files, &release.join("release.json"));

    let output = cmd(dir.path())
        .args([
            "--manifest",
            "release/release.json",
            "--repository-url",
            &server.url(),
        ])
        .env("PYPI_LOGIN", &server.username)
        .env("PYPI_PASSWORD", &server.password)
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}\n{}", server.log());
    for uploaded in [
        "custody_sample-0.18.3-py3-none-any.whl",
        "custody_sample-0.18.3.tar.gz",
    ] {
        assert!(
            stderr.contains(&format!("Uploaded `{uploaded}`")),
            "{stderr}"
        );
    }
    assert!(
        stderr.contains("`clkutil.exe` (not uploadable to a package index"),
        "{stderr}"
    );
    assert!(!all_output(&output).contains(&server.password));
    assert_eq!(
        server.files(),
        [
            "custody_sample-0.18.3-py3-none-any.whl",
            "custody_sample-0.18.3.tar.gz"
        ]
    );

    let installed = server.pip_install("custody-sample==0.18.3").unwrap();
    let printed = python_with_path(
        installed.path(),
        "import custody_sample, importlib.metadata as m; print(m.version('custody-sample'), custody_sample.bit_positions('alice') == custody_sample.bit_positions('alice'))",
    )
    .unwrap();
    assert_eq!(printed.trim(), "0.18.3 True");
}

#[test]
fn re_running_uploads_only_what_is_missing() {
    let server = PypiServer::start();
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("release"));
    manifest_of(&files, &dir.path().join("release/release.json"));
    let run = |args: &[&str]| {
        cmd(dir.path())
            .args(args)
            .args(["--repository-url", &server.url(), "--json"])
            .env("TWINE_USERNAME", &server.username)
            .env("TWINE_PASSWORD", &server.password)
            .output()
            .unwrap()
    };
    // A release that failed after its wheel: only the wheel is on the index.
    let first = run(&["release/custody_sample-0.18.3-py3-none-any.whl"]);
    assert!(first.status.success(), "{}", stderr_of(&first));
    assert_eq!(server.files(), ["custody_sample-0.18.3-py3-none-any.whl"]);

    let second = run(&["--manifest", "release/release.json"]);
    assert!(second.status.success(), "{}", stderr_of(&second));
    let result = json_of(&second);
    assert_eq!(
        statuses(&result),
        [
            (
                "custody_sample-0.18.3-py3-none-any.whl".to_owned(),
                "already_published".to_owned()
            ),
            (
                "custody_sample-0.18.3.tar.gz".to_owned(),
                "uploaded".to_owned()
            ),
        ]
    );
    assert_eq!(
        (
            result["uploaded"].as_u64(),
            result["already_published"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(
        result["manifest_digest"].as_str().unwrap().len(),
        "sha256:".len() + 64
    );

    let third = run(&["--manifest", "release/release.json"]);
    assert!(third.status.success());
    assert_eq!(json_of(&third)["uploaded"], 0);
    assert_eq!(server.files().len(), 2);
}

#[test]
fn a_different_file_under_a_published_name_is_refused_naming_both_digests() {
    let server = PypiServer::start();
    let dir = tempfile::tempdir().unwrap();
    let published = dir.path().join("published");
    fs_err::create_dir_all(&published).unwrap();
    let first = WheelBuilder::new("clash", "1.0").build(&published);
    let output = cmd(dir.path())
        .arg(&first)
        .args([
            "--repository-url",
            &server.url(),
            "-u",
            &server.username,
            "-p",
            &server.password,
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));

    // Same file name, other content, plus an sdist that must not be uploaded either.
    let rebuilt = dir.path().join("rebuilt");
    fs_err::create_dir_all(&rebuilt).unwrap();
    let second = WheelBuilder::new("clash", "1.0")
        .file("clash/extra.py", b"X = 1\n")
        .build(&rebuilt);
    let sdist = custody_test_support::SdistBuilder::new("clash", "1.0").build(&rebuilt);
    let output = cmd(dir.path())
        .arg(&second)
        .arg(&sdist)
        .args([
            "--repository-url",
            &server.url(),
            "-u",
            &server.username,
            "-p",
            &server.password,
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    let old = custody_test_support::sha256_hex(&fs_err::read(&first).unwrap());
    let new = custody_test_support::sha256_hex(&fs_err::read(&second).unwrap());
    assert!(stderr.contains(&old) && stderr.contains(&new), "{stderr}");
    assert!(stderr.contains("nothing was uploaded"), "{stderr}");
    assert!(stderr.contains("bump the version"), "{stderr}");
    assert_eq!(server.files(), ["clash-1.0-py3-none-any.whl"]);
}

#[test]
fn a_wrong_password_is_a_clear_error_without_the_secret() {
    let server = PypiServer::start();
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    let output = cmd(dir.path())
        .arg(&files[0])
        .args(["--repository-url", &server.url()])
        .env("PYPI_LOGIN", &server.username)
        .env("PYPI_PASSWORD", "not-the-Password-42")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("refused `custody_sample-0.18.3-py3-none-any.whl`"),
        "{stderr}"
    );
    assert!(stderr.contains("PYPI_LOGIN/PYPI_PASSWORD"), "{stderr}");
    assert!(!all_output(&output).contains("not-the-Password-42"));
    assert!(server.files().is_empty());
}

#[test]
fn dry_run_checks_everything_and_sends_nothing() {
    let server = PypiServer::start();
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    let output = cmd(dir.path())
        .args(files.iter().map(|f| f.to_str().unwrap()))
        .args(["--repository-url", &server.url(), "--dry-run", "--json"])
        .env("PYPI_LOGIN", &server.username)
        .env("PYPI_PASSWORD", &server.password)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let result = json_of(&output);
    assert_eq!(result["dry_run"], true);
    assert!(
        statuses(&result).iter().all(|(_, s)| s == "would_upload"),
        "{result}"
    );
    assert!(server.files().is_empty());
}

#[test]
fn github_gets_masks_outputs_and_a_summary() {
    let server = PypiServer::start();
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    let outputs = dir.path().join("github_output");
    let summary = dir.path().join("github_summary");
    let output = cmd(dir.path())
        .args(files.iter().map(|f| f.to_str().unwrap()))
        .args(["--repository-url", &server.url()])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("PYPI_LOGIN", &server.username)
        .env("PYPI_PASSWORD", &server.password)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let stdout = stdout_of(&output);
    // The one place the secret is written is the mask command, which the runner consumes.
    assert!(
        stdout.starts_with(&format!("::add-mask::{}\n", server.password)),
        "{stdout}"
    );
    assert_eq!(stdout.matches(&server.password).count(), 1, "{stdout}");
    let outputs = fs_err::read_to_string(&outputs).unwrap();
    assert!(
        outputs.contains("uploaded=2\n") && outputs.contains("already_published=0\n"),
        "{outputs}"
    );
    let summary = fs_err::read_to_string(&summary).unwrap();
    assert!(
        summary.contains("| `custody_sample-0.18.3.tar.gz` | uploaded |"),
        "{summary}"
    );
}

#[test]
fn publishing_needs_an_approval_of_exactly_this_manifest() {
    let server = PypiServer::start();
    let dir = tempfile::tempdir().unwrap();
    let release = dir.path().join("release");
    let files = sample_release(&release);
    let manifest = manifest_of(&files, &release.join("release.json"));
    let publish = |approval: &str| {
        cmd(dir.path())
            .args(["--manifest", "release/release.json", "--approval", approval])
            .args(["--repository-url", &server.url()])
            .env("PYPI_LOGIN", &server.username)
            .env("PYPI_PASSWORD", &server.password)
            .output()
            .unwrap()
    };

    // Approved, but a different manifest (a release with one more file).
    let mut other = manifest.clone();
    other.generator = "another build".into();
    other.seal();
    Approval::new(
        "test",
        &other,
        Decision::Approved,
        vec!["alice".into()],
        "terminal",
        None,
        None,
    )
    .write(&dir.path().join("other.json"))
    .unwrap();
    let output = publish("other.json");
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr_of(&output).contains(&format!(
        "but the manifest to publish is {}",
        manifest.digest
    )));

    Approval::new(
        "test",
        &manifest,
        Decision::Rejected,
        vec!["bob".into()],
        "terminal",
        None,
        None,
    )
    .write(&dir.path().join("rejected.json"))
    .unwrap();
    let output = publish("rejected.json");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr_of(&output).contains("the decision was `rejected`"),
        "{}",
        stderr_of(&output)
    );
    assert!(server.files().is_empty());

    Approval::new(
        "test",
        &manifest,
        Decision::Approved,
        vec!["alice".into()],
        "terminal",
        None,
        None,
    )
    .write(&dir.path().join("approved.json"))
    .unwrap();
    let output = publish("approved.json");
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(server.files().len(), 2);
}

#[test]
fn a_file_changed_after_collection_is_refused_before_any_upload() {
    let server = PypiServer::start();
    let dir = tempfile::tempdir().unwrap();
    let release = dir.path().join("release");
    let files = sample_release(&release);
    manifest_of(&files, &release.join("release.json"));
    // Swap the sdist for another build of the same release.
    fs_err::create_dir_all(dir.path().join("other")).unwrap();
    let other = custody_test_support::SdistBuilder::new("custody-sample", "0.18.3")
        .build(&dir.path().join("other"));
    fs_err::copy(&other, &files[1]).unwrap();

    let output = cmd(dir.path())
        .args([
            "--manifest",
            "release/release.json",
            "--repository-url",
            &server.url(),
        ])
        .env("PYPI_LOGIN", &server.username)
        .env("PYPI_PASSWORD", &server.password)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("`custody_sample-0.18.3.tar.gz`"),
        "{stderr}"
    );
    assert!(stderr.contains("but the manifest records"), "{stderr}");
    assert!(stderr.contains("nothing was uploaded"), "{stderr}");
    assert!(
        server.files().is_empty(),
        "the good wheel must not be uploaded either"
    );
}
