//! The verdicts of the tools that define the truth, sigstore-python and
//! pypi-attestations, on a bundle or a PEP 740 attestation, through
//! `python/sigstore_verify.py` run with the sigstore virtualenv's Python.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::{require, workspace_root};

/// The sigstore virtualenv (sigstore-python, pypi-attestations, python-tuf), from
/// `CUSTODY_SIGSTORE_VENV` or `target/sigstore-venv`.
pub fn sigstore_venv() -> PathBuf {
    std::env::var_os("CUSTODY_SIGSTORE_VENV").map_or_else(
        || workspace_root().join("target/sigstore-venv"),
        PathBuf::from,
    )
}

/// The Python of the sigstore virtualenv.
pub fn sigstore_python() -> PathBuf {
    require(
        sigstore_venv().join("bin/python"),
        "the sigstore virtualenv's Python",
    )
}

/// The `pypi-attestations` command line of the sigstore virtualenv.
pub fn pypi_attestations() -> PathBuf {
    require(
        sigstore_venv().join("bin/pypi-attestations"),
        "the sigstore virtualenv's pypi-attestations",
    )
}

/// A tool's verdict: its stdout when `command` (a tool of the virtualenv) succeeds,
/// else its stderr.
pub fn tool_verdict(command: &mut Command) -> Result<Vec<u8>, String> {
    let output = command
        .output()
        .expect("run a tool of the sigstore virtualenv");
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// Runs `command` (a tool of the virtualenv) and returns its stdout; panics with its
/// stderr when it fails.
pub fn run_tool(command: &mut Command) -> Vec<u8> {
    tool_verdict(command).unwrap_or_else(|stderr| panic!("{stderr}"))
}

/// `python -m sigstore --trust-config TRUST_CONFIG`, sigstore-python's command line from
/// the sigstore virtualenv, signing as `token`: the token goes in
/// `SIGSTORE_IDENTITY_TOKEN`, where its `--identity-token` defaults from, so it is never
/// on a command line, and the test's own `SIGSTORE_*` settings are left out.
pub fn sigstore_cli(trust_config: &Path, token: &str) -> Command {
    let mut command = Command::new(sigstore_python());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SIGSTORE_") {
            command.env_remove(name);
        }
    }
    command
        .args(["-m", "sigstore", "--trust-config"])
        .arg(trust_config)
        .env("SIGSTORE_IDENTITY_TOKEN", token);
    command
}

/// Runs a signing `command` of sigstore-python and returns the bundle it wrote,
/// `FILE.sigstore.json`; panics with its output when it fails.
pub(crate) fn run_signing(mut command: Command, file: &Path) -> PathBuf {
    let output = command.output().expect("run sigstore-python");
    assert!(
        output.status.success(),
        "sigstore-python did not sign `{}` ({}):\n{}\n{}",
        file.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let mut bundle = file.as_os_str().to_owned();
    bundle.push(".sigstore.json");
    PathBuf::from(bundle)
}

/// The verification script.
pub fn verify_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python/sigstore_verify.py")
}

/// Which root of trust the tools verify with.
#[derive(Debug, Clone, Copy)]
pub enum Root<'a> {
    /// A `trusted_root.json` (the stack's, say).
    File(&'a Path),
    /// Sigstore's public-good instance, as sigstore-python ships it (offline).
    PublicGood,
}

/// What is verified.
#[derive(Debug, Clone, Copy)]
pub enum Signed<'a> {
    /// A PEP 740 attestation (`*.publish.attestation`).
    Attestation(&'a Path),
    /// A Sigstore bundle (v0.3 JSON).
    Bundle(&'a Path),
}

/// The signer the verifiers must find.
#[derive(Debug, Clone, Copy)]
pub enum Expected<'a> {
    /// A GitHub trusted publisher: repository and workflow file name.
    GitHub(&'a str, &'a str),
    /// A GitLab trusted publisher: project path and CI configuration path.
    GitLab(&'a str, &'a str),
    /// An email identity and the issuer that vouched for it.
    Email(&'a str, &'a str),
    /// Anyone (sigstore-python's `UnsafeNoOp`).
    Any,
}

/// The file the signature is about.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// A distribution's name and sha256 (what PEP 740 binds).
    Distribution(&'a str, &'a str),
    /// The bytes in a file (what a message signature covers).
    File(&'a Path),
    None,
}

/// One tool's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub verified: bool,
    pub error: Option<String>,
}

/// Both tools' verdicts, and the statement sigstore-python found in a DSSE envelope.
#[derive(Debug, Clone)]
pub struct PythonVerdicts {
    pub sigstore: Verdict,
    /// `None` for a message-signature bundle, or when no distribution was given.
    pub pypi_attestations: Option<Verdict>,
    pub statement: Option<Value>,
}

fn verdict(value: &Value) -> Option<Verdict> {
    Some(Verdict {
        verified: value.get("verified")?.as_bool()?,
        error: value.get("error")?.as_str().map(str::to_owned),
    })
}

/// Runs the script and returns its verdicts; panics with its output when it fails.
pub fn python_verify(
    root: Root<'_>,
    signed: Signed<'_>,
    subject: Subject<'_>,
    expected: Expected<'_>,
) -> PythonVerdicts {
    let mut command = Command::new(sigstore_python());
    command.arg(verify_script()).arg("--trust-root");
    match root {
        Root::File(path) => command.arg(path),
        Root::PublicGood => command.arg("public-good"),
    };
    match signed {
        Signed::Attestation(path) => command.arg("--attestation").arg(path),
        Signed::Bundle(path) => command.arg("--bundle").arg(path),
    };
    match subject {
        Subject::Distribution(name, digest) => {
            command.args(["--dist-name", name, "--dist-digest", digest])
        }
        Subject::File(path) => command.arg("--artifact").arg(path),
        Subject::None => &mut command,
    };
    match expected {
        Expected::GitHub(repository, workflow) => command.args(["--github", repository, workflow]),
        Expected::GitLab(project, path) => command.args(["--gitlab", project, path]),
        Expected::Email(address, issuer) => command.args(["--email", address, issuer]),
        Expected::Any => command.arg("--any"),
    };
    let output = command
        .output()
        .expect("run the sigstore verification script");
    let parsed: Option<Value> = serde_json::from_slice(&output.stdout).ok();
    let Some(value) = parsed.filter(|_| output.status.success()) else {
        panic!(
            "sigstore_verify.py failed ({}):\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    };
    PythonVerdicts {
        sigstore: verdict(&value["sigstore"]).expect("a sigstore-python verdict"),
        pypi_attestations: verdict(&value["pypi_attestations"]),
        statement: value.get("statement").filter(|s| !s.is_null()).cloned(),
    }
}
