//! PEP 740 attestations made, kept and uploaded, end to end against a local Sigstore
//! (`custody_test_support::sigstore`: OIDC providers and the Actions token endpoint,
//! Fulcio, Rekor, their trust root) and an index that takes them as Warehouse does
//! (`tests/support/warehouse_upload.py`: the real `pypi-attestations` verifier over the
//! stack's root, the trusted publisher from the minted token, Warehouse's messages), or
//! the real pypiserver, which stores no attestations but installs what was published.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};

use assert_cmd::Command;
use custody_test_support::sigstore::{Claims, ProviderKind, SigstoreStack, sigstore_python};
use custody_test_support::{PypiServer, oidc, workspace_root};
use serde_json::{Value, json};

use crate::{all_output, cmd, json_of, sample_release, stderr_of};

const REPOSITORY: &str = "octo/sample";
const WORKFLOW: &str = "release.yml";
const GIT_REF: &str = "refs/tags/v1";
const WHEEL: &str = "custody_sample-0.18.3-py3-none-any.whl";
const SDIST: &str = "custody_sample-0.18.3.tar.gz";

/// The Warehouse-like index of `tests/support/warehouse_upload.py`; stopped when dropped.
struct Warehouse {
    child: Child,
    port: u16,
}

impl Warehouse {
    /// An index whose trusted publisher is `publisher` (`{"kind": "GitHub", "repository",
    /// "workflow"}` or GitLab's `workflow_filepath`), verifying with `stack`'s root.
    fn start(stack: &SigstoreStack, publisher: &Value) -> Self {
        let kind = match publisher["kind"].as_str() {
            Some("GitLab") => ProviderKind::GitLabPipeline,
            _ => ProviderKind::GitHubWorkflow,
        };
        let provider = stack
            .issuer()
            .providers()
            .iter()
            .find(|p| p.kind == kind)
            .expect("the stack has the provider");
        let jwks = format!(
            "{}/.well-known/jwks",
            stack.issuer().discovery_base(provider)
        );
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/warehouse_upload.py");
        let mut child = Process::new(sigstore_python())
            .arg(script)
            .arg("--trust-root")
            .arg(stack.trust_root_path())
            .args(["--jwks-url", &jwks, "--publisher", &publisher.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the sigstore venv's python runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let started: Value = serde_json::from_str(&line).expect("the server says its port");
        Self {
            child,
            port: u16::try_from(started["port"].as_u64().unwrap()).unwrap(),
        }
    }

    fn github(stack: &SigstoreStack, workflow: &str) -> Self {
        Self::start(
            stack,
            &json!({"kind": "GitHub", "repository": REPOSITORY, "workflow": workflow}),
        )
    }

    fn gitlab(stack: &SigstoreStack) -> Self {
        Self::start(
            stack,
            &json!({"kind": "GitLab", "repository": "group/sample", "workflow_filepath": ".gitlab-ci.yml"}),
        )
    }

    /// The upload URL (the OIDC endpoints are on the same host, as on TestPyPI).
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/legacy/", self.port)
    }

    /// What arrived: `requests` (every upload: its form fields, the answer) and `files`
    /// (each accepted file with the provenance Warehouse built).
    fn state(&self) -> Value {
        let output = Process::new(sigstore_python())
            .args(["-c", "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())"])
            .arg(format!("http://127.0.0.1:{}/_/test/state", self.port))
            .output()
            .unwrap();
        serde_json::from_slice(&output.stdout).expect("the state is JSON")
    }

    /// The accepted file `name`, if it was.
    fn accepted(&self, name: &str) -> Option<Value> {
        self.state()["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["filename"] == name)
            .cloned()
    }

    fn upload_requests(&self) -> usize {
        self.state()["requests"].as_array().unwrap().len()
    }
}

impl Drop for Warehouse {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// publish-pypi of `files` from a GitHub Actions job with `id-token: write` whose
/// tokens carry `claims`, to `url` (no simple index: `--no-index-check`), with `--json`.
fn github_cmd(
    stack: &SigstoreStack,
    claims: &Claims,
    dir: &Path,
    url: &str,
    files: &[PathBuf],
) -> Command {
    let mut command = cmd(dir);
    command
        .args(files)
        .args(["--repository-url", url, "--no-index-check", "--json"])
        .envs(stack.github_job_env(claims));
    command
}

fn release_claims() -> Claims {
    Claims::github(REPOSITORY, WORKFLOW, GIT_REF)
}

/// No secret appears in the output, except in GitHub's own mask commands.
fn assert_no_secret(output: &std::process::Output) {
    let text: String = all_output(output)
        .lines()
        .filter(|line| !line.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n");
    for secret in [oidc::REQUEST_TOKEN, "eyJ", "pypi-minted-"] {
        assert!(!text.contains(secret), "a secret leaked ({secret}): {text}");
    }
}

/// The `attestations` of each file of a `--json` report, by file name.
fn attestations_of(report: &Value) -> Vec<(String, Vec<Value>)> {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let list = f["attestations"].as_array().cloned().unwrap_or_default();
            (f["file_name"].as_str().unwrap().to_owned(), list)
        })
        .collect()
}

/// The first line of the error, on a terminal (`error: ` on stderr) or as a GitHub
/// annotation (`::error::` on stdout).
fn error_line(output: &std::process::Output) -> String {
    let text = all_output(output);
    text.lines()
        .find_map(|l| {
            l.strip_prefix("error: ")
                .or_else(|| l.strip_prefix("::error::"))
        })
        .unwrap_or_else(|| panic!("no error line: {text}"))
        .to_owned()
}

fn publish_path(dir: &Path, name: &str) -> PathBuf {
    dir.join("dist").join(format!("{name}.publish.attestation"))
}

#[test]
fn github_trusted_publishing_uploads_attestations_the_index_verifies() {
    let stack = SigstoreStack::start();
    let index = Warehouse::github(&stack, WORKFLOW);
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    let output = github_cmd(&stack, &release_claims(), dir.path(), &index.url(), &files)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", all_output(&output));
    let report = json_of(&output);
    assert_eq!(
        report["attestations"],
        json!({"mode": "auto", "made": true, "sent": true})
    );
    let signer = format!("https://github.com/{REPOSITORY}/.github/workflows/{WORKFLOW}@{GIT_REF}");
    let mut log_indexes = Vec::new();
    for (name, attestations) in attestations_of(&report) {
        assert_eq!(attestations.len(), 1, "{name}: {attestations:?}");
        let attestation = &attestations[0];
        assert_eq!(attestation["origin"], "made", "{name}");
        assert_eq!(attestation["sent"], true);
        assert_eq!(attestation["signer"], signer.as_str());
        assert_eq!(
            attestation["predicate_type"],
            "https://docs.pypi.org/attestations/publish/v1"
        );
        log_indexes.push(attestation["log_index"].as_u64().unwrap());
        // The index verified it with pypi-attestations against the trusted publisher,
        // and keeps it as Warehouse's provenance of the file.
        let accepted = index.accepted(&name).expect("the index took the file");
        let bundle = &accepted["provenance"]["attestation_bundles"][0];
        assert_eq!(bundle["publisher"]["kind"], "GitHub");
        assert_eq!(bundle["publisher"]["repository"], REPOSITORY);
        // What was sent is what was kept beside the file.
        let kept: Value =
            serde_json::from_slice(&fs_err::read(publish_path(dir.path(), &name)).unwrap())
                .unwrap();
        assert_eq!(bundle["attestations"][0], kept, "{name}");
    }
    assert!(
        stderr_of(&output).contains(&format!("Attestations signed by `{signer}`")),
        "{}",
        stderr_of(&output)
    );
    log_indexes.sort_unstable();
    log_indexes.dedup();
    assert_eq!(log_indexes.len(), 2, "one log entry per file");
    assert_eq!(stack.log_entry_count(), 2);
    // The Sigstore token was asked for with Fulcio's audience, the upload token with the
    // index's.
    let audiences: Vec<Option<String>> = stack
        .issuer()
        .token_requests()
        .into_iter()
        .map(|r| r.audience)
        .collect();
    assert!(
        audiences.contains(&Some("sigstore".to_owned())),
        "{audiences:?}"
    );
    assert!(
        audiences.contains(&Some("pypi".to_owned())),
        "{audiences:?}"
    );
    assert_no_secret(&output);
}

#[test]
fn a_second_index_in_the_same_job_reuses_the_attestation() {
    // TestPyPI first, then PyPI, in one job: the PyPI publishing action dies here with
    // "already has a publish attestation"; the first run's attestation verifies for the
    // file and this job, so it is sent again as it is, and nothing new is signed.
    let stack = SigstoreStack::start();
    let testpypi = Warehouse::github(&stack, WORKFLOW);
    let pypi = Warehouse::github(&stack, WORKFLOW);
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    let claims = release_claims();
    let first = github_cmd(&stack, &claims, dir.path(), &testpypi.url(), &files)
        .output()
        .unwrap();
    assert!(first.status.success(), "{}", all_output(&first));
    let kept = fs_err::read(publish_path(dir.path(), WHEEL)).unwrap();
    assert_eq!(stack.log_entry_count(), 2);

    let second = github_cmd(&stack, &claims, dir.path(), &pypi.url(), &files)
        .output()
        .unwrap();
    assert!(second.status.success(), "{}", all_output(&second));
    assert_eq!(stack.log_entry_count(), 2, "nothing was signed again");
    for (name, attestations) in attestations_of(&json_of(&second)) {
        assert_eq!(attestations[0]["origin"], "reused", "{name}");
        assert!(attestations[0]["log_index"].is_u64());
        assert!(
            pypi.accepted(&name).unwrap()["provenance"].is_object(),
            "{name}"
        );
    }
    assert_eq!(fs_err::read(publish_path(dir.path(), WHEEL)).unwrap(), kept);
    let stderr = stderr_of(&second);
    let line = stderr
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("Uploaded `{WHEEL}`")))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        line.contains("(attestation reused, Rekor log index "),
        "{line}"
    );
    assert!(!stderr.contains("Signing"), "{stderr}");
}

#[test]
fn a_reusable_workflow_is_caught_before_anything_is_signed_or_sent() {
    // The job runs in `publish.yml`, called by `release.yml`: PyPI's publisher is
    // `publish.yml` (the token's `job_workflow_ref`) and mints the upload token, but the
    // certificate would name `release.yml`, and Warehouse would refuse the attestations.
    let stack = SigstoreStack::start();
    let index = Warehouse::github(&stack, "publish.yml");
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    let claims = release_claims().set(
        "job_workflow_ref",
        json!(format!(
            "{REPOSITORY}/.github/workflows/publish.yml@{GIT_REF}"
        )),
    );
    let output = github_cmd(&stack, &claims, dir.path(), &index.url(), &files)
        .output()
        .unwrap();
    let text = all_output(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let stderr = stderr_of(&output);
    assert!(
        error_line(&output).starts_with(&format!(
            "attestations signed in the reusable workflow `{REPOSITORY}/.github/workflows/publish.yml@{GIT_REF}` name the calling workflow `{REPOSITORY}/.github/workflows/release.yml@{GIT_REF}`"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: PyPI matches the trusted publisher on the called workflow")
            && stderr.contains("--attestations off"),
        "{stderr}"
    );
    assert_eq!(index.upload_requests(), 0, "nothing was uploaded");
    assert_eq!(stack.log_entry_count(), 0, "nothing was signed");
    assert!(!publish_path(dir.path(), WHEEL).exists());
    // The way out the hint names (another index: the identity token was exchanged).
    let other = Warehouse::github(&stack, "publish.yml");
    let off = github_cmd(&stack, &claims, dir.path(), &other.url(), &files)
        .args(["--attestations", "off"])
        .output()
        .unwrap();
    assert!(off.status.success(), "{}", all_output(&off));
    assert!(other.accepted(WHEEL).unwrap()["provenance"].is_null());
    assert_no_secret(&output);
}

#[test]
fn a_stale_attestation_is_replaced_with_a_warning_naming_it() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    fs_err::create_dir_all(&dist).unwrap();
    let build = |content: &[u8]| {
        custody_test_support::WheelBuilder::new("demo_stale", "1.0")
            .file("demo_stale/data.txt", content)
            .build(&dist)
    };
    let wheel = build(b"first build");
    let name = "demo_stale-1.0-py3-none-any.whl";
    let first_index = Warehouse::github(&stack, WORKFLOW);
    let first = github_cmd(
        &stack,
        &release_claims(),
        dir.path(),
        &first_index.url(),
        std::slice::from_ref(&wheel),
    )
    .output()
    .unwrap();
    assert!(first.status.success(), "{}", all_output(&first));
    // The file is rebuilt under the same name: the attestation beside it is stale.
    let stale = fs_err::read(publish_path(dir.path(), name)).unwrap();
    build(b"second build");
    let index = Warehouse::github(&stack, WORKFLOW);
    let second = github_cmd(
        &stack,
        &release_claims(),
        dir.path(),
        &index.url(),
        &[wheel],
    )
    .output()
    .unwrap();
    let stderr = stderr_of(&second);
    assert!(second.status.success(), "{}", all_output(&second));
    assert!(
        all_output(&second).contains(&format!(
            "warning::`dist/{name}.publish.attestation` was replaced: it attests another build of the file (sha256 `"
        )),
        "{stderr}"
    );
    let report = json_of(&second);
    assert_eq!(attestations_of(&report)[0].1[0]["origin"], "replaced");
    assert_ne!(fs_err::read(publish_path(dir.path(), name)).unwrap(), stale);
    assert!(index.accepted(name).unwrap()["provenance"].is_object());
    assert_eq!(stack.log_entry_count(), 2);
}

#[test]
fn fulcio_refusing_the_token_stops_the_release_before_any_upload() {
    // GitLab: the upload token comes from PYPI_ID_TOKEN, the Sigstore one from
    // SIGSTORE_ID_TOKEN, here with the index's audience, which Fulcio refuses.
    let stack = SigstoreStack::start();
    let index = Warehouse::gitlab(&stack);
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    let claims = Claims::gitlab("group/sample", ".gitlab-ci.yml", GIT_REF);
    let mut command = gitlab_cmd(&stack, dir.path(), &index.url(), &files);
    let output = command
        .env(
            "PYPI_ID_TOKEN",
            stack.issuer().mint(&claims.clone().audience("pypi")),
        )
        .env(
            "SIGSTORE_ID_TOKEN",
            stack.issuer().mint(&claims.audience("pypi")),
        )
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert_eq!(
        error_line(&output),
        format!("cannot sign the attestations of `{WHEEL}`, `{SDIST}`; nothing was uploaded"),
        "{stderr}"
    );
    assert!(
        stderr.contains(custody_test_support::sigstore::INVALID_IDENTITY_TOKEN),
        "Fulcio's own reason: {stderr}"
    );
    assert_eq!(index.upload_requests(), 0);
    assert_eq!(stack.log_entry_count(), 0);
    assert!(!publish_path(dir.path(), WHEEL).exists());
    assert!(!all_output(&output).contains("eyJ"), "{stderr}");
}

/// publish-pypi of `files` from a GitLab CI job (tokens set by the caller).
fn gitlab_cmd(stack: &SigstoreStack, dir: &Path, url: &str, files: &[PathBuf]) -> Command {
    let mut command = cmd(dir);
    command
        .args(files)
        .args(["--repository-url", url, "--no-index-check", "--json"])
        .env("GITLAB_CI", "true")
        .envs(stack.services_env());
    command
}

#[test]
fn gitlab_signs_with_the_declared_sigstore_token() {
    let stack = SigstoreStack::start();
    let index = Warehouse::gitlab(&stack);
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    let claims = Claims::gitlab("group/sample", ".gitlab-ci.yml", GIT_REF);
    let sigstore_token = stack.issuer().mint(&claims);
    let output = gitlab_cmd(&stack, dir.path(), &index.url(), &files)
        .env(
            "PYPI_ID_TOKEN",
            stack.issuer().mint(&claims.clone().audience("pypi")),
        )
        .env("SIGSTORE_ID_TOKEN", &sigstore_token)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", all_output(&output));
    for (name, attestations) in attestations_of(&json_of(&output)) {
        assert_eq!(attestations[0]["origin"], "made");
        assert_eq!(
            attestations[0]["signer"],
            format!("https://gitlab.com/group/sample//.gitlab-ci.yml@{GIT_REF}")
        );
        let accepted = index.accepted(&name).unwrap();
        assert_eq!(
            accepted["provenance"]["attestation_bundles"][0]["publisher"]["kind"],
            "GitLab"
        );
    }
    assert!(!all_output(&output).contains(&sigstore_token));

    // Without the variable, `auto` publishes without attestations and says why.
    let other = Warehouse::gitlab(&stack);
    let without = gitlab_cmd(&stack, dir.path(), &other.url(), &files)
        .env(
            "PYPI_ID_TOKEN",
            stack
                .issuer()
                .mint(&claims.clone().audience("pypi").set("jti", json!("another"))),
        )
        .output()
        .unwrap();
    assert!(without.status.success(), "{}", all_output(&without));
    assert!(
        stderr_of(&without).contains("Attestations: not made, this job declares no Sigstore identity token (`id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore`)"),
        "{}",
        stderr_of(&without)
    );
    assert!(other.accepted(WHEEL).unwrap()["provenance"].is_null());
    assert_eq!(stack.log_entry_count(), 2);
}

#[test]
fn a_dry_run_signs_nothing_and_says_what_it_would_sign() {
    let stack = SigstoreStack::start();
    let index = Warehouse::github(&stack, WORKFLOW);
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    let output = github_cmd(&stack, &release_claims(), dir.path(), &index.url(), &files)
        .arg("--dry-run")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", all_output(&output));
    assert!(
        stderr_of(&output).contains("Dry run: would sign 2 attestation(s)"),
        "{}",
        stderr_of(&output)
    );
    let report = json_of(&output);
    for (_, attestations) in attestations_of(&report) {
        assert_eq!(attestations[0]["origin"], "would_sign");
    }
    assert_eq!(stack.log_entry_count(), 0);
    assert!(stack.fulcio().issued().is_empty());
    assert!(
        !stack
            .issuer()
            .token_requests()
            .iter()
            .any(|r| r.audience.as_deref() == Some("sigstore")),
        "no Sigstore token was even asked for"
    );
    assert!(!publish_path(dir.path(), WHEEL).exists());
    assert_eq!(index.upload_requests(), 0);
}

#[test]
fn without_trusted_publishing_auto_makes_none_and_on_keeps_them_unsent() {
    let stack = SigstoreStack::start();
    let index = Warehouse::github(&stack, WORKFLOW);
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    // A password upload from a job that could sign: `auto` does not.
    let auto = github_cmd(
        &stack,
        &release_claims(),
        dir.path(),
        &index.url(),
        &files[..1],
    )
    .env("PYPI_LOGIN", "custody")
    .env("PYPI_PASSWORD", "s3cret-upload-pw")
    .output()
    .unwrap();
    assert!(auto.status.success(), "{}", all_output(&auto));
    let report = json_of(&auto);
    assert_eq!(report["attestations"]["made"], false);
    assert!(report["files"][0].get("attestations").is_none());
    assert!(!publish_path(dir.path(), WHEEL).exists());
    assert_eq!(stack.log_entry_count(), 0);
    assert!(index.state()["requests"][0]["attestations"].is_null());

    // `on`: made and kept, not sent (Warehouse would refuse the field), and said so.
    let on = github_cmd(
        &stack,
        &release_claims(),
        dir.path(),
        &index.url(),
        &files[1..],
    )
    .args(["--attestations", "on"])
    .env("PYPI_LOGIN", "custody")
    .env("PYPI_PASSWORD", "s3cret-upload-pw")
    .output()
    .unwrap();
    assert!(on.status.success(), "{}", all_output(&on));
    let report = json_of(&on);
    assert_eq!(report["attestations"]["sent"], false);
    assert!(
        report["attestations"]["reason"]
            .as_str()
            .unwrap()
            .contains("only with trusted publishing")
    );
    let attestation = &attestations_of(&report)[0].1[0];
    assert_eq!(attestation["origin"], "made");
    assert_eq!(attestation["sent"], false);
    assert!(publish_path(dir.path(), SDIST).exists());
    assert!(index.state()["requests"][1]["attestations"].is_null());
    assert!(
        stderr_of(&on).contains("Attestations are kept beside the files, not sent"),
        "{}",
        stderr_of(&on)
    );
}

#[test]
fn on_without_a_sigstore_identity_fails_naming_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    for (ci, variable, hint) in [
        (
            "GITHUB_ACTIONS",
            "true",
            "hint: add `permissions: id-token: write` to the publishing job",
        ),
        (
            "GITLAB_CI",
            "true",
            "hint: declare the token in the job: `id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore`",
        ),
    ] {
        let server = PypiServer::start();
        let output = cmd(dir.path())
            .args(&files)
            .args(["--repository-url", &server.url(), "--attestations", "on"])
            .env(ci, variable)
            .env("PYPI_LOGIN", &server.username)
            .env("PYPI_PASSWORD", &server.password)
            .output()
            .unwrap();
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(4), "{stderr}");
        assert!(
            error_line(&output).starts_with("this job has no Sigstore identity"),
            "{stderr}"
        );
        assert!(stderr.contains(hint), "{stderr}");
        assert!(server.files().is_empty(), "nothing was uploaded");
    }
}

#[test]
fn attestations_kept_after_a_pypiserver_upload_verify_with_pypi_attestations_and_ours() {
    let stack = SigstoreStack::start();
    let server = PypiServer::start();
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    let output = github_cmd(&stack, &release_claims(), dir.path(), &server.url(), &files)
        .args(["--attestations", "on"])
        .env("PYPI_LOGIN", &server.username)
        .env("PYPI_PASSWORD", &server.password)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", all_output(&output));
    assert_eq!(server.files(), [WHEEL, SDIST]);
    let installed = server.pip_install("custody-sample==0.18.3").unwrap();
    assert!(installed.path().join("custody_sample").is_dir());

    let root = custody_attest::TrustRoot::from_file(stack.trust_root_path()).unwrap();
    let identity: custody_attest::Identity = format!("github:{REPOSITORY}/{WORKFLOW}@{GIT_REF}")
        .parse()
        .unwrap();
    for file in &files {
        let name = file.file_name().unwrap().to_str().unwrap();
        let kept = publish_path(dir.path(), name);
        // pypi-attestations (and sigstore-python), with the stack's root.
        let verdict = Process::new(sigstore_python())
            .arg(workspace_root().join("crates/custody-test-support/python/sigstore_verify.py"))
            .arg("--trust-root")
            .arg(stack.trust_root_path())
            .arg("--attestation")
            .arg(&kept)
            .arg("--artifact")
            .arg(file)
            .args(["--github", REPOSITORY, WORKFLOW])
            .output()
            .unwrap();
        let verdict: Value = serde_json::from_slice(&verdict.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&verdict.stderr)));
        assert_eq!(
            verdict["pypi_attestations"]["verified"], true,
            "{name}: {verdict}"
        );
        assert_eq!(verdict["sigstore"]["verified"], true, "{name}: {verdict}");
        // Our own verifier.
        let attestation =
            custody_attest::Attestation::from_json(&fs_err::read(&kept).unwrap()).unwrap();
        let sha256 = custody_test_support::sha256_hex(&fs_err::read(file).unwrap());
        let verified =
            custody_attest::verify(name, &sha256, &attestation, &root, Some(&identity)).unwrap();
        assert_eq!(verified.predicate_type, custody_attest::PUBLISH_V1);
        // And it is for this file only.
        let other = if name == WHEEL { SDIST } else { WHEEL };
        assert!(
            custody_attest::verify(other, &sha256, &attestation, &root, Some(&identity)).is_err()
        );
    }
}

#[test]
fn attestations_beside_a_file_that_the_index_would_refuse_stop_the_release() {
    let stack = SigstoreStack::start();
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    let first = Warehouse::github(&stack, WORKFLOW);
    let made = github_cmd(&stack, &release_claims(), dir.path(), &first.url(), &files)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", all_output(&made));
    let slsa = dir
        .path()
        .join("dist")
        .join(format!("{WHEEL}.slsa.attestation"));
    // (what is beside the wheel as its SLSA provenance, what is said about it)
    let cases = [
        (
            publish_path(dir.path(), WHEEL),
            "it holds a `https://docs.pypi.org/attestations/publish/v1` attestation, not SLSA provenance, and the index takes one attestation per predicate type".to_owned(),
        ),
        (
            publish_path(dir.path(), SDIST),
            format!("`{WHEEL}`: the attestation's subject has sha256 `"),
        ),
    ];
    for (source, reason) in cases {
        fs_err::copy(&source, &slsa).unwrap();
        // A fresh index each time: an identity token is exchanged once per index.
        let index = Warehouse::github(&stack, WORKFLOW);
        let output = github_cmd(&stack, &release_claims(), dir.path(), &index.url(), &files)
            .output()
            .unwrap();
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        let error = error_line(&output);
        assert!(
            error.starts_with(&format!(
                "`dist/{WHEEL}.slsa.attestation` cannot go to the index with its file: {reason}"
            )),
            "{stderr}"
        );
        assert!(
            stderr.contains("hint: remove it, or make it again"),
            "{stderr}"
        );
        assert_eq!(index.upload_requests(), 0);
        assert_eq!(stack.log_entry_count(), 2, "nothing more was signed");
    }
}

#[test]
fn an_index_refusing_the_attestations_is_shown_in_its_words_with_a_hint() {
    // A trusted publisher of a kind the index takes no attestations from: Warehouse's
    // own refusal, shown whole, with the way out.
    let stack = SigstoreStack::start();
    let index = Warehouse::start(
        &stack,
        &json!({"kind": "GitHub", "repository": REPOSITORY, "workflow": WORKFLOW, "attests": false}),
    );
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    let output = github_cmd(
        &stack,
        &release_claims(),
        dir.path(),
        &index.url(),
        &files[..1],
    )
    .output()
    .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(
        error_line(&output).ends_with(&format!(
            "refused `{WHEEL}`: 400 Invalid attestations supplied during upload: Attestations are not currently supported with GitHub publishers"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: the index takes no attestations from this kind of trusted publisher: pass --attestations off"),
        "{stderr}"
    );
    let report = json_of(&output);
    assert_eq!(report["files"][0]["status"], "failed");
    assert!(index.accepted(WHEEL).is_none());
}

#[test]
fn the_attestations_field_is_what_twine_sends_for_the_kept_files() {
    let stack = SigstoreStack::start();
    let index = Warehouse::github(&stack, WORKFLOW);
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    let ours = github_cmd(&stack, &release_claims(), dir.path(), &index.url(), &files)
        .output()
        .unwrap();
    assert!(ours.status.success(), "{}", all_output(&ours));
    let sent: Vec<(String, Value)> = index.state()["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let field = r["attestations"].as_str().expect("the field was sent");
            (
                r["filename"].as_str().unwrap().to_owned(),
                serde_json::from_str(field).unwrap(),
            )
        })
        .collect();
    assert_eq!(sent.len(), 2);

    // twine upload --attestations, given the files and what was kept beside them.
    let server =
        custody_test_support::MockServer::start(|_, _| custody_test_support::Reply::new(200, "OK"));
    let mut twine = Process::new(custody_test_support::venv_bin().join("twine"));
    twine
        .args([
            "upload",
            "--non-interactive",
            "--disable-progress-bar",
            "--attestations",
        ])
        .args(["--repository-url", &server.url(), "-u", "me", "-p", "pw"])
        .args(&files);
    for file in &files {
        twine.arg(publish_path(
            dir.path(),
            file.file_name().unwrap().to_str().unwrap(),
        ));
    }
    let status = twine.output().unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    for request in server.requests() {
        let fields = custody_test_support::multipart_fields(
            request.header("Content-Type").unwrap(),
            &request.body,
        );
        let value = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| n == name)
                .map_or_else(|| panic!("twine sent no `{name}`"), |(_, v)| v.clone())
        };
        let name = fields
            .iter()
            .find(|(n, _)| n == "sha256_digest")
            .and_then(|(_, sha)| {
                files
                    .iter()
                    .find(|f| custody_test_support::sha256_hex(&fs_err::read(f).unwrap()) == *sha)
            })
            .map(|f| f.file_name().unwrap().to_str().unwrap().to_owned())
            .unwrap();
        let twines: Value = serde_json::from_str(&value("attestations")).unwrap();
        let ours = &sent.iter().find(|(n, _)| *n == name).unwrap().1;
        assert_eq!(ours, &twines, "{name}");
    }
}
