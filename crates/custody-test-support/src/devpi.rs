//! A second real package index for tests: `devpi-server` (in its own virtualenv, made by
//! `scripts/test-env.sh` from `tests/requirements-indexes.txt`: its pins conflict with
//! nothing but it is heavy), started on 127.0.0.1 without a PyPI mirror, with one user
//! and one non-volatile index (devpi's default for a release index: no overwrites).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::pypiserver::{free_port, wait_until_up};
use crate::workspace_root;

/// A running devpi-server; killed when dropped.
#[derive(Debug)]
pub struct DevpiServer {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
    pub username: String,
    pub password: String,
}

/// The `bin` directory of the index servers' virtualenv.
fn index_venv_bin() -> PathBuf {
    let venv = std::env::var_os("CUSTODY_INDEX_VENV")
        .map_or_else(|| workspace_root().join("target/index-venv"), PathBuf::from);
    crate::require(venv.join("bin"), "the index servers' virtualenv")
}

impl DevpiServer {
    /// Starts a server with user `custody` (password `s3cret-devpi-pw`) and its index
    /// `custody/release`.
    pub fn start() -> Self {
        let bin = index_venv_bin();
        let dir = tempfile::tempdir().unwrap();
        let serverdir = dir.path().join("server");
        let status = Command::new(bin.join("devpi-init"))
            .arg("--serverdir")
            .arg(&serverdir)
            .arg("--no-root-pypi")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("devpi-init runs (scripts/test-env.sh installs it)");
        assert!(status.success(), "devpi-init");
        for _ in 0..5 {
            let port = free_port();
            let log = fs_err::File::create(dir.path().join("server.log")).unwrap();
            // Cheap key derivation (devpi's own tests lower it too): the default argon2
            // parameters take seconds of CPU at every start.
            let mut child = Command::new(bin.join("devpi-server"))
                .arg("--serverdir")
                .arg(&serverdir)
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--argon2-memory-cost", "8", "--argon2-time-cost", "1"])
                .args(["--argon2-parallelism", "1"])
                .stdout(Stdio::null())
                .stderr(log.into_parts().0)
                .spawn()
                .expect("devpi-server runs");
            if wait_until_up(&mut child, &format!("http://127.0.0.1:{port}/+api")) {
                let server = Self {
                    child,
                    dir,
                    port,
                    username: "custody".to_owned(),
                    password: "s3cret-devpi-pw".to_owned(),
                };
                server.create_index(&bin);
                return server;
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("devpi-server did not start");
    }

    /// The user and its index, through devpi's JSON API.
    fn create_index(&self, bin: &std::path::Path) {
        let code = "import base64, json, sys, urllib.request as u
root, user, password = sys.argv[1:4]
def put(url, body, auth=None):
    request = u.Request(url, data=json.dumps(body).encode(), method='PUT',
                        headers={'Content-Type': 'application/json'})
    if auth:
        request.add_header('Authorization', 'Basic ' + base64.b64encode(auth.encode()).decode())
    u.urlopen(request).read()
put(root + user, {'password': password})
put(root + user + '/release', {'bases': [], 'volatile': False}, user + ':' + password)
";
        let output = Command::new(bin.join("python"))
            .args(["-c", code])
            .arg(format!("http://127.0.0.1:{}/", self.port))
            .args([&self.username, &self.password])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "devpi user and index: {}\n{}",
            String::from_utf8_lossy(&output.stderr),
            self.log()
        );
    }

    /// The upload URL: the index itself.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/{}/release/", self.port, self.username)
    }

    /// devpi's simple index, `+simple/` under the index (not `/simple/`).
    pub fn simple_url(&self) -> String {
        format!("{}+simple/", self.url())
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        fs_err::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for DevpiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
