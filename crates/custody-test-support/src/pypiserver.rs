//! A real package index for tests: `pypiserver` (installed into the test venv by
//! `scripts/test-env.sh`) started on 127.0.0.1 with an htpasswd file, one per test, and
//! `pip install` from it (or from any index: [`pip_install_from`]).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{python, venv_bin};

/// A running pypiserver; killed when dropped.
#[derive(Debug)]
pub struct PypiServer {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
    pub username: String,
    pub password: String,
}

impl PypiServer {
    /// Starts a server whose uploads need `custody`/`s3cret-upload-pw`.
    pub fn start() -> Self {
        Self::with_users(&[("custody", "s3cret-upload-pw")])
    }

    /// Starts a server with these users (the first one is `username`/`password`),
    /// without its fallback to PyPI.
    pub fn with_users(users: &[(&str, &str)]) -> Self {
        Self::launch(users, false)
    }

    /// Starts a server in pypiserver's default configuration: the simple page of a
    /// project it does not host redirects to PyPI (never fetched by the tests).
    pub fn with_fallback() -> Self {
        Self::launch(&[("custody", "s3cret-upload-pw")], true)
    }

    fn launch(users: &[(&str, &str)], fallback: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let packages = dir.path().join("packages");
        fs_err::create_dir_all(&packages).unwrap();
        let htpasswd = dir.path().join("htpasswd");
        write_htpasswd(&htpasswd, users);
        // The port is free when chosen; another test may take it before the server
        // binds, so a server that dies at start is retried on a new port.
        for _ in 0..5 {
            let port = free_port();
            let log = fs_err::File::create(dir.path().join("server.log")).unwrap();
            let mut child = Command::new(venv_bin().join("pypi-server"))
                .args(["run", "-i", "127.0.0.1", "-p", &port.to_string()])
                .arg("-P")
                .arg(&htpasswd)
                .args(["-a", "update", "--hash-algo", "sha256"])
                .args(if fallback {
                    None
                } else {
                    Some("--disable-fallback")
                })
                .arg(&packages)
                .stdout(Stdio::null())
                .stderr(log.into_parts().0)
                .spawn()
                .expect("pypi-server runs (scripts/test-env.sh installs it)");
            if wait_until_up(&mut child, &format!("http://127.0.0.1:{port}/health")) {
                return Self {
                    child,
                    dir,
                    port,
                    username: users[0].0.to_owned(),
                    password: users[0].1.to_owned(),
                };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("pypi-server did not start");
    }

    /// The upload URL (pypiserver takes uploads at its root).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// The PEP 503 simple index.
    pub fn simple_url(&self) -> String {
        format!("{}simple/", self.url())
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory the server stores packages in.
    pub fn packages_dir(&self) -> PathBuf {
        self.dir.path().join("packages")
    }

    /// The file names stored on the server, sorted.
    pub fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = fs_err::read_dir(self.packages_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// The status the server answers to a GET of `path` (below its root).
    pub fn status_of(&self, path: &str) -> Option<u16> {
        http_status(&format!("{}{path}", self.url()))
    }

    /// The server's log (requests and errors), for assertions and failure messages.
    pub fn log(&self) -> String {
        fs_err::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// `pip install`s `requirement` from this index (only this index, no cache, no
    /// dependencies) into a fresh directory, and returns it (for `PYTHONPATH`).
    pub fn pip_install(&self, requirement: &str) -> Result<tempfile::TempDir, String> {
        pip_install_from(&self.simple_url(), requirement)
    }
}

/// `pip install`s `requirement` from the simple index `index_url` only (no cache, no
/// dependencies) into a fresh directory, and returns it (for `PYTHONPATH`).
pub fn pip_install_from(index_url: &str, requirement: &str) -> Result<tempfile::TempDir, String> {
    let target = tempfile::tempdir().unwrap();
    let output = Command::new(python())
        .args([
            "-m",
            "pip",
            "install",
            "--isolated",
            "--no-cache-dir",
            "--no-deps",
        ])
        .args(["--disable-pip-version-check", "--index-url", index_url])
        .arg("--target")
        .arg(target.path())
        .arg(requirement)
        .env_remove("PIP_FIND_LINKS")
        .output()
        .unwrap();
    if output.status.success() {
        Ok(target)
    } else {
        Err(format!(
            "pip install {requirement} failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

impl Drop for PypiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The answer of an empty simple index's root, as pypiserver writes it: for scripted
/// index servers, since publish-pypi asks the root once whether it is an index.
pub fn empty_simple_index() -> crate::Reply {
    crate::Reply::new(
        200,
        "<html><head><title>Simple Index</title></head><body><h1>Simple Index</h1></body></html>",
    )
    .header("Content-Type", "text/html; charset=utf-8")
}

/// Runs `code` with `path` on `PYTHONPATH`; returns stdout, or the error output.
pub fn python_with_path(path: &Path, code: &str) -> Result<String, String> {
    let output = Command::new(python())
        .args(["-c", code])
        .env("PYTHONPATH", path)
        .output()
        .unwrap();
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// Waits (up to a minute) until `health` answers 200; false when the server died.
pub(crate) fn wait_until_up(child: &mut Child, health: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if http_status(health) == Some(200) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn write_htpasswd(path: &Path, users: &[(&str, &str)]) {
    let mut code = String::from("from passlib.apache import HtpasswdFile\nimport sys\n");
    code.push_str("h = HtpasswdFile(sys.argv[1], new=True)\n");
    for (user, password) in users {
        code.push_str(&format!("h.set_password({user:?}, {password:?})\n"));
    }
    code.push_str("h.save()\n");
    let status = Command::new(python())
        .args(["-c", &code])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "passlib writes the htpasswd file");
}

/// The status of a GET, or `None` when nothing answers. Plain HTTP/1.0 by hand, so the
/// support crate needs no HTTP client.
pub(crate) fn http_status(url: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut stream = std::net::TcpStream::connect(host).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}
