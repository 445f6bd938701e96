//! A real package index for tests: `pypiserver` (installed into the test venv by
//! `scripts/test-env.sh`) started on 127.0.0.1 with an htpasswd file, one per test, and
//! `pip install` from it.

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

    /// Starts a server with these users (the first one is `username`/`password`).
    pub fn with_users(users: &[(&str, &str)]) -> Self {
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
                .args([
                    "-a",
                    "update",
                    "--disable-fallback",
                    "--hash-algo",
                    "sha256",
                ])
                .arg(&packages)
                .stdout(Stdio::null())
                .stderr(log.into_parts().0)
                .spawn()
                .expect("pypi-server runs (scripts/test-env.sh installs it)");
            if wait_until_up(&mut child, port) {
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

    /// The server's log (requests and errors), for assertions and failure messages.
    pub fn log(&self) -> String {
        fs_err::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// `pip install`s `requirement` from this index (only this index, no cache, no
    /// dependencies) into a fresh directory, and returns it (for `PYTHONPATH`).
    pub fn pip_install(&self, requirement: &str) -> Result<tempfile::TempDir, String> {
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
            .args([
                "--disable-pip-version-check",
                "--index-url",
                &self.simple_url(),
            ])
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
}

impl Drop for PypiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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

fn wait_until_up(child: &mut Child, port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if http_status(&format!("http://127.0.0.1:{port}/health")) == Some(200) {
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
fn http_status(url: &str) -> Option<u16> {
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
