//! `trust-root`: the shipped Sigstore roots shown anchor by anchor and written byte for
//! byte, a written root pinned by `verify-attestations --sigstore-trust-root`, and the
//! refresh through a real TUF repository (written by python-tuf, served on 127.0.0.1)
//! whose root then verifies a real staging attestation. Tampered, foreign-signed and
//! expired metadata are refused with the reason and nothing written; an unreachable
//! repository is an environment failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use custody_test_support::sigstore::sigstore_python;
use custody_test_support::{MockServer, Reply, fixtures_dir, json_of, workspace_root};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{cmd, read_json, sha256_of, stderr_of, stdout_of};

/// An sdist PyPI's publish flow attested on Sigstore's public-good instance.
const PUBLIC_GOOD_SDIST: &str = "pypi_attestations-0.0.19.tar.gz";
/// A wheel signed on Sigstore's staging instance.
const STAGING_WHEEL: &str = "rfc8785-0.1.2-py3-none-any.whl";

fn trust_root(dir: &Path, args: &[&str]) -> Output {
    cmd(dir).arg("trust-root").args(args).output().unwrap()
}

/// Writes the shipped root (`--staging`'s with `staging`) to `dir/name`.
fn shipped(dir: &Path, name: &str, staging: bool) -> PathBuf {
    let mut args = vec!["--out", name];
    if staging {
        args.push("--staging");
    }
    let output = trust_root(dir, &args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    dir.join(name)
}

/// Copies `file` and its publish attestation from the real assets into `dir`.
fn attested(dir: &Path, file: &str) {
    let assets = fixtures_dir().join("attestations/assets");
    for name in [file.to_owned(), format!("{file}.publish.attestation")] {
        fs_err::copy(assets.join(&name), dir.join(&name)).unwrap_or_else(|e| {
            panic!("{e}: run `scripts/test-env.sh`");
        });
    }
}

fn verify_with(dir: &Path, file: &str, root: &Path) -> Output {
    cmd(dir)
        .args(["verify-attestations", file, "--sigstore-trust-root"])
        .arg(root)
        .output()
        .unwrap()
}

/// Writes into `dir/repository` a TUF repository (python-tuf, fresh keys) that serves
/// `trusted_root` as its `trusted_root.json` target; `1.root.json` there is its root.
fn tuf_repository(dir: &Path, trusted_root: &Path, options: &[&str]) -> PathBuf {
    let script = workspace_root().join("crates/custody-attest/tests/fixtures/tuf_repository.py");
    let repository = dir.join("repository");
    let output = Command::new(sigstore_python())
        .arg(script)
        .arg(&repository)
        .arg(trusted_root)
        .args(options)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    repository
}

/// A static file server for `dir` on 127.0.0.1 (404 for anything it does not hold).
fn serve(dir: &Path) -> MockServer {
    let dir = dir.to_owned();
    MockServer::start(move |request, _| {
        let path = request.url.trim_start_matches('/');
        let file = dir.join(path);
        if path.contains("..") || !file.is_file() {
            Reply::new(404, "not found")
        } else {
            Reply::new(200, fs_err::read(file).unwrap())
        }
    })
}

/// The shipped staging root written to `dir/staging.json`, and a TUF repository in
/// `dir/repository` serving it (see [`tuf_repository`] for `options`).
fn staging_repository(dir: &Path, options: &[&str]) -> (PathBuf, PathBuf) {
    let staging = shipped(dir, "staging.json", true);
    let repository = tuf_repository(dir, &staging, options);
    (staging, repository)
}

/// `trust-root --refresh --staging` from the repository at `url`, trusting the root
/// (`1.root.json`) of the TUF repository `pinned`.
fn refresh(dir: &Path, url: &str, pinned: &Path, extra: &[&str]) -> Output {
    cmd(dir)
        .args(["trust-root", "--refresh", "--staging", "--tuf-url", url])
        .arg("--tuf-root")
        .arg(pinned.join("1.root.json"))
        .args(["--out", "refreshed.json"])
        .args(extra)
        .output()
        .unwrap()
}

fn hex_of_base64(text: &str) -> String {
    hex::encode(STANDARD.decode(text).unwrap())
}

/// The anchors a trusted root file holds, as `trust-root --json` must show them: kind,
/// URL, id (log key id, or the sha256 of a CA's or TSA's first certificate) and window.
fn anchors_in(root: &Value) -> Vec<[Value; 5]> {
    let window = |valid_for: &Value| (valid_for["start"].clone(), valid_for["end"].clone());
    let chained = |kind: &str, entry: &Value, url: &Value| {
        let first = entry["certChain"]["certificates"][0]["rawBytes"]
            .as_str()
            .unwrap();
        let id = hex::encode(Sha256::digest(STANDARD.decode(first).unwrap()));
        let (start, end) = window(&entry["validFor"]);
        [kind.into(), url.clone(), id.into(), start, end]
    };
    let logged = |kind: &str, entry: &Value| {
        let id = hex_of_base64(entry["logId"]["keyId"].as_str().unwrap());
        let (start, end) = window(&entry["publicKey"]["validFor"]);
        [kind.into(), entry["baseUrl"].clone(), id.into(), start, end]
    };
    let list = |key: &str| root[key].as_array().cloned().unwrap_or_default();
    let mut anchors = Vec::new();
    anchors.extend(
        list("certificateAuthorities")
            .iter()
            .map(|ca| chained("fulcio-ca", ca, &ca["uri"])),
    );
    anchors.extend(list("tlogs").iter().map(|log| logged("rekor-log", log)));
    anchors.extend(list("ctlogs").iter().map(|log| logged("ct-log", log)));
    anchors.extend(
        list("timestampAuthorities")
            .iter()
            .map(|tsa| chained("timestamp-authority", tsa, &tsa["uri"])),
    );
    anchors
}

#[test]
fn the_shown_roots_are_the_shipped_ones_anchor_by_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let public_good = read_json(&shipped(dir.path(), "public-good.json", false));
    let staging = read_json(&shipped(dir.path(), "staging.json", true));

    let output = trust_root(dir.path(), &["--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let shown = json_of(&output);
    assert_eq!(shown["sigstore_trust_root"], "0.15.1");
    let roots = shown["roots"].as_array().unwrap();
    for (root, instance, file, tuf_url) in [
        (
            &roots[0],
            "public-good",
            &public_good,
            "https://tuf-repo-cdn.sigstore.dev",
        ),
        (
            &roots[1],
            "staging",
            &staging,
            "https://tuf-repo-cdn.sigstage.dev",
        ),
    ] {
        assert_eq!(root["instance"], instance);
        assert_eq!(root["tuf_url"], tuf_url);
        let anchors = root["anchors"].as_array().unwrap();
        let listed: Vec<[Value; 5]> = anchors
            .iter()
            .map(|a| ["kind", "url", "id", "valid_from", "valid_until"].map(|k| a[k].clone()))
            .collect();
        assert_eq!(listed, anchors_in(file), "{instance}");
        // Every window these roots close ended years ago; every other one has begun.
        for anchor in anchors {
            let expected = if anchor["valid_until"].is_null() {
                "current"
            } else {
                "expired"
            };
            assert_eq!(anchor["validity"], expected, "{anchor}");
        }
        assert!(
            anchors
                .iter()
                .any(|a| a["validity"] == "current" && a["kind"] == "fulcio-ca")
        );
    }

    // The table: both roots, and each anchor on a row with its window and state.
    let output = trust_root(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(0));
    let table = stdout_of(&output);
    assert!(table.contains("Sigstore public-good (embedded, sigstore-trust-root 0.15.1)\nTUF repository: https://tuf-repo-cdn.sigstore.dev"), "{table}");
    assert!(
        table.contains("Sigstore staging (embedded, sigstore-trust-root 0.15.1)"),
        "{table}"
    );
    for anchor in roots.iter().flat_map(|r| r["anchors"].as_array().unwrap()) {
        let id = &anchor["id"].as_str().unwrap()[..16];
        let row = table
            .lines()
            .find(|line| line.contains(id))
            .unwrap_or_else(|| panic!("{id}\n{table}"));
        let until = anchor["valid_until"].as_str().unwrap_or("-");
        for cell in [
            anchor["url"].as_str().unwrap(),
            anchor["valid_from"].as_str().unwrap(),
            until,
            anchor["validity"].as_str().unwrap(),
        ] {
            assert!(row.contains(cell), "{cell}: {row}");
        }
    }
}

#[test]
fn a_written_root_is_what_verify_attestations_pins() {
    let dir = tempfile::tempdir().unwrap();
    attested(dir.path(), PUBLIC_GOOD_SDIST);
    attested(dir.path(), STAGING_WHEEL);

    let output = trust_root(dir.path(), &["--out", "roots/public-good.json", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let written = dir.path().join("roots/public-good.json");
    let result = json_of(&output);
    assert_eq!(result["written"], "roots/public-good.json");
    assert_eq!(result["instance"], "public-good");
    assert_eq!(result["sha256"], sha256_of(&written));
    assert!(
        stderr_of(&output).contains("--sigstore-trust-root roots/public-good.json"),
        "{}",
        stderr_of(&output)
    );

    // Pinned, the written root verifies what the public-good instance signed, and not
    // what staging signed.
    let output = verify_with(dir.path(), PUBLIC_GOOD_SDIST, &written);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains("trusted root file `roots/public-good.json`"));
    let output = verify_with(dir.path(), STAGING_WHEEL, &written);
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));

    let staging = shipped(dir.path(), "staging.json", true);
    let output = verify_with(dir.path(), STAGING_WHEEL, &staging);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
}

#[test]
fn a_refreshed_root_is_the_one_served_and_verifies_the_staging_wheel() {
    let dir = tempfile::tempdir().unwrap();
    attested(dir.path(), STAGING_WHEEL);
    let (staging, repository) = staging_repository(dir.path(), &[]);
    let server = serve(&repository);

    let output = refresh(dir.path(), &server.url(), &repository, &[]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let url = server.url();
    for line in [
        format!("Fetching the trusted root from `{url}` (TUF)"),
        "Unchanged the same CAs and keys as Sigstore staging (embedded, sigstore-trust-root 0.15.1)".to_owned(),
        format!("Wrote `refreshed.json`: the trusted root `{url}` serves"),
    ] {
        assert!(stderr.contains(&line), "{line}\n{stderr}");
    }
    let refreshed = dir.path().join("refreshed.json");
    assert_eq!(read_json(&refreshed), read_json(&staging));
    // The TUF workflow ran: timestamp, snapshot and targets, then the target by hash.
    let requested: Vec<String> = server.requests().iter().map(|r| r.url.clone()).collect();
    for path in [
        "/2.root.json",
        "/timestamp.json",
        "/1.snapshot.json",
        "/1.targets.json",
    ] {
        assert!(requested.iter().any(|r| r == path), "{path}: {requested:?}");
    }
    let target = format!("/targets/{}.trusted_root.json", sha256_of(&staging));
    assert!(requested.contains(&target), "{requested:?}");

    let output = verify_with(dir.path(), STAGING_WHEEL, &refreshed);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));

    let output = refresh(dir.path(), &server.url(), &repository, &["--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let result = json_of(&output);
    assert_eq!(result["changes"], serde_json::json!([]));
    assert_eq!(result["sha256"], sha256_of(&refreshed));
    assert_eq!(result["tuf_url"], url);
}

#[test]
fn a_refresh_names_the_keys_and_cas_that_changed() {
    let dir = tempfile::tempdir().unwrap();
    let staging = shipped(dir.path(), "staging.json", true);
    let public_good = read_json(&shipped(dir.path(), "public-good.json", false));
    // The current root retires staging's first Rekor key, adds public-good's, and drops
    // the last timestamp authority.
    let mut served = read_json(&staging);
    served["tlogs"][0]["publicKey"]["validFor"]["end"] = "2025-01-01T00:00:00Z".into();
    let added = public_good["tlogs"][0].clone();
    served["tlogs"].as_array_mut().unwrap().push(added);
    let dropped = served["timestampAuthorities"]
        .as_array_mut()
        .unwrap()
        .pop()
        .unwrap();
    let edited = dir.path().join("served.json");
    fs_err::write(&edited, serde_json::to_string_pretty(&served).unwrap()).unwrap();
    let repository = tuf_repository(dir.path(), &edited, &[]);
    let server = serve(&repository);

    let output = refresh(dir.path(), &server.url(), &repository, &["--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let changes = json_of(&output)["changes"].clone();
    let changes = changes.as_array().unwrap();
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert_eq!(changes[0]["change"], "changed");
    assert_eq!(changes[0]["before"]["url"], "https://rekor.sigstage.dev");
    assert_eq!(changes[0]["before"]["valid_until"], Value::Null);
    assert_eq!(changes[0]["after"]["valid_until"], "2025-01-01T00:00:00Z");
    assert_eq!(changes[1]["change"], "added");
    assert_eq!(changes[1]["anchor"]["url"], "https://rekor.sigstore.dev");
    assert_eq!(
        changes[1]["anchor"]["id"],
        hex_of_base64(public_good["tlogs"][0]["logId"]["keyId"].as_str().unwrap())
    );
    assert_eq!(changes[2]["change"], "removed");
    assert_eq!(changes[2]["anchor"]["kind"], "timestamp-authority");
    assert_eq!(
        changes[2]["anchor"]["valid_from"],
        dropped["validFor"]["start"]
    );
    assert_eq!(read_json(&dir.path().join("refreshed.json")), served);

    let output = refresh(dir.path(), &server.url(), &repository, &[]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let retired = &served["tlogs"][0];
    let id = hex_of_base64(retired["logId"]["keyId"].as_str().unwrap());
    let start = retired["publicKey"]["validFor"]["start"].as_str().unwrap();
    for line in [
        format!(
            "Changed Rekor log `https://rekor.sigstage.dev` (PKIX_ECDSA_P256_SHA_256, id {}): valid from {start} until 2025-01-01T00:00:00Z, expired, was valid from {start}\n",
            &id[..16]
        ),
        "Added Rekor log `https://rekor.sigstore.dev`".to_owned(),
        format!("Removed TSA `{}`", dropped["uri"].as_str().unwrap()),
        "3 change(s) since Sigstore staging (embedded, sigstore-trust-root 0.15.1)".to_owned(),
    ] {
        assert!(stderr.contains(&line), "{line}\n{stderr}");
    }
}

/// A refresh from the repository `served` (on 127.0.0.1), trusting `pinned`'s root, over a
/// previous refresh's `refreshed.json`, must be refused: exit 3, the reason in the cause
/// chain, the fix, and `refreshed.json` exactly as it was before.
fn assert_refresh_refused(dir: &Path, served: &Path, pinned: &Path, reason: &str) {
    fs_err::write(dir.join("refreshed.json"), "previous\n").unwrap();
    let server = serve(served);
    let output = refresh(dir, &server.url(), pinned, &[]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("served metadata or a trusted root that does not verify"),
        "{stderr}"
    );
    assert!(stderr.contains(reason), "{reason}\n{stderr}");
    assert!(stderr.contains("hint: nothing was written"), "{stderr}");
    assert_eq!(
        fs_err::read_to_string(dir.join("refreshed.json")).unwrap(),
        "previous\n"
    );
    let left: Vec<String> = fs_err::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_target_that_is_not_the_signed_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (staging, repository) = staging_repository(dir.path(), &[]);
    // A mirror serving other bytes of the same length under the signed name: a log's
    // URL turned from `https` to `httpx`.
    let target = repository.join(format!("targets/{}.trusted_root.json", sha256_of(&staging)));
    let mut bytes = fs_err::read(&target).unwrap();
    let at = bytes.windows(6).position(|w| w == b"https:").unwrap();
    bytes[at + 4] = b'x';
    fs_err::write(&target, bytes).unwrap();
    assert_refresh_refused(
        dir.path(),
        &repository,
        &repository,
        "integrity check failed: trusted_root.json",
    );
}

#[test]
fn metadata_signed_by_a_foreign_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (staging, pinned) = staging_repository(dir.path(), &[]);
    // Another repository's keys sign what is served; the pinned root is the first's.
    let other = tempfile::tempdir().unwrap();
    let served = tuf_repository(other.path(), &staging, &[]);
    assert_refresh_refused(
        dir.path(),
        &served,
        &pinned,
        "signature threshold not met for role timestamp",
    );
}

#[test]
fn expired_metadata_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, repository) = staging_repository(dir.path(), &["--expired-timestamp"]);
    assert_refresh_refused(
        dir.path(),
        &repository,
        &repository,
        "timestamp metadata expired",
    );
}

#[test]
fn an_unreachable_repository_is_an_environment_failure() {
    let dir = tempfile::tempdir().unwrap();
    let (_, repository) = staging_repository(dir.path(), &[]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Nothing listens there; and a server that serves none of the repository's files.
    let empty = tempfile::tempdir().unwrap();
    let answers_404 = serve(empty.path());
    for url in [format!("http://127.0.0.1:{port}"), answers_404.url()] {
        let output = refresh(dir.path(), &url, &repository, &[]);
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(4), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "error: the TUF repository `{url}` cannot be reached or does not serve its metadata"
            )),
            "{stderr}"
        );
        assert!(stderr.contains("transport error"), "{stderr}");
        assert!(
            stderr.contains("hint: check the URL and the network"),
            "{stderr}"
        );
        assert!(!dir.path().join("refreshed.json").exists());
    }
}

#[test]
fn a_tuf_root_that_cannot_be_read_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let output = trust_root(
        dir.path(),
        &[
            "--refresh",
            "--tuf-root",
            "missing.json",
            "--out",
            "refreshed.json",
        ],
    );
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("error: cannot read the TUF root `missing.json`"),
        "{stderr}"
    );
    assert!(!stderr.contains("Fetching"), "{stderr}");
}

#[test]
fn usage_mistakes_are_caught_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--refresh"][..],
        &["--staging"],
        &["--tuf-url", "https://tuf.example.com", "--out", "x.json"],
        &[
            "--refresh",
            "--out",
            "x.json",
            "--tuf-url",
            "ftp://tuf.example.com",
        ],
    ] {
        let output = trust_root(dir.path(), args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr_of(&output)
        );
        assert!(!dir.path().join("x.json").exists());
    }
    let output = trust_root(dir.path(), &["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = stdout_of(&output);
    for example in [
        "collect-artifacts trust-root --refresh --out trusted_root.json",
        "collect-artifacts verify-attestations dist/*.whl --sigstore-trust-root trusted_root.json",
        "Exit codes:",
    ] {
        assert!(help.contains(example), "{example}\n{help}");
    }
}
