//! The indexes people run, each started for real on 127.0.0.1 and taken through the same
//! life of a release: first upload, re-run, a conflicting rebuild, a wrong password, and
//! `pip install` from the index afterwards. One server per test (each takes seconds to
//! start), one project name per test.

use std::path::Path;

use custody_test_support::{
    DevpiServer, PypiServer, SdistBuilder, WheelBuilder, pip_install_from, sha256_hex,
};

use crate::{all_output, cmd, json_of, statuses, stderr_of};

/// Where to publish, as whom, and how the index is reached.
struct Target<'a> {
    upload_url: &'a str,
    /// `--index-url`, when the default guess is not to be used.
    index_url: Option<&'a str>,
    username: &'a str,
    password: &'a str,
    /// What pip installs from.
    simple_url: &'a str,
    /// The server's log, for failure messages.
    log: &'a dyn Fn() -> String,
}

impl Target<'_> {
    fn publish(&self, dir: &Path, files: &[&Path], password: &str) -> std::process::Output {
        let mut command = cmd(dir);
        command
            .args(files)
            .args(["--repository-url", self.upload_url, "--json"])
            .env("PYPI_LOGIN", self.username)
            .env("PYPI_PASSWORD", password);
        if let Some(index) = self.index_url {
            command.args(["--index-url", index]);
        }
        command.output().unwrap()
    }
}

/// The life of a release of `project` on one index. Returns the first run's stderr.
fn release_life(target: &Target<'_>, project: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    fs_err::create_dir_all(&dist).unwrap();
    let module = project.replace('-', "_");
    let wheel = WheelBuilder::new(project, "1.0")
        .file(&format!("{module}/answer.py"), b"ANSWER = 42\n")
        .build(&dist);
    let sdist = SdistBuilder::new(project, "1.0").build(&dist);
    let files = [wheel.as_path(), sdist.as_path()];

    // The first release of a project the index has never seen.
    let first = target.publish(dir.path(), &files, target.password);
    let stderr = stderr_of(&first);
    assert!(first.status.success(), "{stderr}\n{}", (target.log)());
    assert_eq!(json_of(&first)["uploaded"], 2, "{stderr}");

    // A re-run uploads nothing and succeeds.
    let again = target.publish(dir.path(), &files, target.password);
    assert!(again.status.success(), "{}", stderr_of(&again));
    let names: Vec<String> = statuses(&json_of(&again))
        .into_iter()
        .map(|(_, status)| status)
        .collect();
    assert_eq!(names, ["already_published", "already_published"]);

    // The same file name with other bytes is refused, naming both digests.
    let rebuilt = dir.path().join("rebuilt");
    fs_err::create_dir_all(&rebuilt).unwrap();
    let other = WheelBuilder::new(project, "1.0")
        .file(&format!("{module}/answer.py"), b"ANSWER = 43\n")
        .build(&rebuilt);
    let conflict = target.publish(dir.path(), &[&other], target.password);
    let conflict_err = stderr_of(&conflict);
    assert_eq!(conflict.status.code(), Some(1), "{conflict_err}");
    for file in [&wheel, &other] {
        let digest = sha256_hex(&fs_err::read(file).unwrap());
        assert!(conflict_err.contains(&digest), "{conflict_err}");
    }

    // A wrong password: the index's refusal, never the secret.
    let next = WheelBuilder::new(project, "1.1").build(&rebuilt);
    let refused = target.publish(dir.path(), &[&next], "not-the-Password-42");
    let refused_err = stderr_of(&refused);
    assert_eq!(refused.status.code(), Some(4), "{refused_err}");
    assert!(
        refused_err.contains("PYPI_LOGIN/PYPI_PASSWORD"),
        "{refused_err}"
    );
    assert!(!all_output(&refused).contains("not-the-Password-42"));

    // What was published installs, and is the first build.
    let installed = pip_install_from(target.simple_url, &format!("{project}==1.0")).unwrap();
    let init = installed.path().join(&module).join("answer.py");
    assert_eq!(fs_err::read_to_string(init).unwrap(), "ANSWER = 42\n");
    stderr
}

#[test]
fn pypiserver_in_its_default_configuration_redirects_new_projects_to_pypi() {
    // Fallback on: `/simple/<name>/` of a project it does not host answers 303 (302 to
    // HTTP/1.0) to pypi.org. That means "not on this index"; the target is never fetched.
    let server = PypiServer::with_fallback();
    assert!(matches!(
        server.status_of("simple/custody-fallback/"),
        Some(302 | 303)
    ));
    let log = || server.log();
    let target = Target {
        upload_url: &server.url(),
        index_url: None,
        username: &server.username,
        password: &server.password,
        simple_url: &server.simple_url(),
        log: &log,
    };
    let stderr = release_life(&target, "custody-fallback");
    assert!(
        stderr.contains(&format!("Index: `{}`", server.simple_url())),
        "{stderr}"
    );
}

#[test]
fn devpi_with_its_plus_simple_index() {
    let server = DevpiServer::start();
    let log = || server.log();
    let simple = server.simple_url();
    let target = Target {
        upload_url: &server.url(),
        index_url: Some(&simple),
        username: &server.username,
        password: &server.password,
        simple_url: &simple,
        log: &log,
    };
    release_life(&target, "custody-devpi");

    // Without --index-url, the `/simple/` guess is not an index there: devpi's
    // `+simple/` is found and named.
    let guessed = Target {
        index_url: None,
        ..target
    };
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("custody-devpi-guess", "1.0").build(dir.path());
    let output = guessed.publish(dir.path(), &[&wheel], &server.password);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("Index: `{simple}`")), "{stderr}");
}

#[test]
fn a_url_that_is_not_a_simple_index_is_an_error_naming_it() {
    let server = PypiServer::start();
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("custody-wrong-index", "1.0").build(dir.path());
    let run = |index: &str, extra: &[&str]| {
        cmd(dir.path())
            .arg(&wheel)
            .args(["--repository-url", &server.url(), "--index-url", index])
            .args(extra)
            .env("PYPI_LOGIN", &server.username)
            .env("PYPI_PASSWORD", &server.password)
            .output()
            .unwrap()
    };
    // pypiserver's welcome page (its root) and a path that does not exist: every project
    // page below them answers 404, which must not pass for "not published".
    for (index, reason) in [
        (server.url(), "linking to other sites"),
        (format!("{}nowhere/", server.url()), "answered 404"),
    ] {
        let output = run(&index, &[]);
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(4), "{stderr}");
        assert!(
            stderr.contains(&format!("`{index}` is not a simple index")) && stderr.contains(reason),
            "{stderr}"
        );
        assert!(stderr.contains("--index-url"), "{stderr}");
        assert!(server.files().is_empty());
    }
    // --no-index-check uploads without looking.
    let output = run(&format!("{}nowhere/", server.url()), &["--no-index-check"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(server.files(), ["custody_wrong_index-1.0-py3-none-any.whl"]);
}
