//! Refreshing a trust root through TUF, against a real TUF repository written by
//! python-tuf (`tests/fixtures/tuf_repository.py`) and served on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use custody_attest::{TrustRoot, TufRepository, refresh, verify};
use custody_test_support::sigstore::{run_tool, sigstore_python};

use crate::common::{asset, attestation, read, sha256_hex};

/// A static file server for `dir`, on a port of its own, that records the paths asked.
struct FileServer {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FileServer {
    fn serve(dir: PathBuf) -> Self {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&requests);
        std::thread::spawn(move || {
            for request in server.incoming_requests() {
                let path = request.url().trim_start_matches('/').to_owned();
                log.lock().unwrap().push(path.clone());
                let file = dir.join(&path);
                let response = if path.contains("..") || !file.is_file() {
                    tiny_http::Response::from_data(b"not found".to_vec()).with_status_code(404)
                } else {
                    tiny_http::Response::from_data(fs_err::read(&file).unwrap())
                };
                let _ = request.respond(response);
            }
        });
        Self { url, requests }
    }

    fn requested(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// The staging trusted root sigstore-trust-root ships, as the target to serve.
fn staging_root_json() -> String {
    serde_json::to_string_pretty(TrustRoot::staging().trusted_root()).unwrap()
}

/// Writes a TUF repository serving `trusted_root` into `dir` with python-tuf.
fn tuf_repository(dir: &Path, trusted_root: &str, options: &[&str]) {
    let target = dir.join("trusted_root.source.json");
    fs_err::write(&target, trusted_root).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tuf_repository.py");
    run_tool(
        Command::new(sigstore_python())
            .arg(script)
            .arg(dir.join("repository"))
            .arg(&target)
            .args(options),
    );
}

/// The refusal's cause (sigstore-trust-root's TUF error) says `reason`.
fn assert_reason(error: &custody_attest::AttestError, reason: &str) {
    let cause = std::error::Error::source(error).unwrap().to_string();
    assert!(cause.contains(reason), "{cause}");
}

fn repository(dir: &Path, server: &FileServer) -> TufRepository {
    TufRepository {
        url: server.url.clone(),
        root: read(&dir.join("repository/1.root.json")),
    }
}

#[test]
fn a_refreshed_root_is_the_served_target_and_verifies_attestations() {
    let dir = tempfile::tempdir().unwrap();
    tuf_repository(dir.path(), &staging_root_json(), &[]);
    let server = FileServer::serve(dir.path().join("repository"));
    let cache = dir.path().join("cache");

    let refreshed = refresh(&repository(dir.path(), &server), Some(&cache)).unwrap();

    let as_value = |json: &str| serde_json::from_str::<serde_json::Value>(json).unwrap();
    assert_eq!(as_value(&refreshed.json), as_value(&staging_root_json()));
    assert_eq!(
        refreshed.root.describe(),
        format!(
            "Sigstore trusted root refreshed from `{}` (TUF)",
            server.url
        )
    );
    // The TUF workflow: root chain, timestamp, snapshot and targets by version, the
    // target by its hash (consistent snapshots).
    let requested = server.requested();
    for expected in [
        "2.root.json",
        "timestamp.json",
        "1.snapshot.json",
        "1.targets.json",
    ] {
        assert!(
            requested.iter().any(|path| path == expected),
            "{requested:?}"
        );
    }
    assert!(
        requested
            .iter()
            .any(|path| path.starts_with("targets/") && path.ends_with(".trusted_root.json")),
        "{requested:?}"
    );
    // The refreshed root verifies a real staging attestation, from a file like any other.
    let file = "rfc8785-0.1.2-py3-none-any.whl";
    let kept = dir.path().join("trusted_root.json");
    fs_err::write(&kept, &refreshed.json).unwrap();
    let root = TrustRoot::from_file(&kept).unwrap();
    let sha256 = sha256_hex(&read(&asset(file)));
    verify(
        file,
        &sha256,
        &attestation(&format!("{file}.publish.attestation")),
        &root,
        None,
    )
    .unwrap();
}

#[test]
fn a_target_that_is_not_the_signed_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    tuf_repository(dir.path(), &staging_root_json(), &[]);
    let targets = dir.path().join("repository/targets");
    let served = fs_err::read_dir(&targets)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    // A mirror that serves other bytes of the same length under the signed name (a
    // log's URL changed from `https` to `httpx`, say).
    let mut bytes = read(&served);
    let at = bytes
        .windows(6)
        .position(|window| window == b"https:")
        .unwrap();
    bytes[at + 4] = b'x';
    fs_err::write(&served, bytes).unwrap();
    let server = FileServer::serve(dir.path().join("repository"));

    let error = refresh(&repository(dir.path(), &server), None).unwrap_err();
    assert_eq!(error.code(), "trust-root-refresh", "{error:?}");
    assert_reason(&error, "integrity check failed: trusted_root.json");
}

#[test]
fn metadata_not_signed_by_the_pinned_root_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    tuf_repository(dir.path(), &staging_root_json(), &[]);
    // Another repository's keys: the pinned root is the first one's.
    let other = tempfile::tempdir().unwrap();
    tuf_repository(other.path(), &staging_root_json(), &[]);
    let server = FileServer::serve(other.path().join("repository"));

    let error = refresh(&repository(dir.path(), &server), None).unwrap_err();
    assert_eq!(error.code(), "trust-root-refresh", "{error:?}");
    assert_reason(&error, "signature threshold not met for role timestamp");
}

#[test]
fn an_expired_timestamp_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    tuf_repository(dir.path(), &staging_root_json(), &["--expired-timestamp"]);
    let server = FileServer::serve(dir.path().join("repository"));

    let error = refresh(&repository(dir.path(), &server), None).unwrap_err();
    assert_eq!(error.code(), "trust-root-refresh", "{error:?}");
    assert_reason(&error, "timestamp metadata expired");
}

#[test]
fn the_shipped_repositories_are_sigstores() {
    assert_eq!(
        TufRepository::public_good().url,
        "https://tuf-repo-cdn.sigstore.dev"
    );
    assert_eq!(
        TufRepository::staging().url,
        "https://tuf-repo-cdn.sigstage.dev"
    );
    assert!(!TufRepository::public_good().root.is_empty());
}
