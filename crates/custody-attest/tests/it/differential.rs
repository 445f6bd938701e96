//! Every verdict cross-checked with the tool that defines PEP 740 verification:
//! `pypi-attestations` 0.0.30 (sigstore-python 4.5.1), offline, with the same trust root.
//!
//! An exact identity is given to `pypi-attestations verify attestation --identity SAN`;
//! a GitHub or GitLab identity becomes the trusted publisher of a provenance object
//! given to `pypi-attestations verify pypi --provenance-file`, whose policy is PyPI's
//! (issuer, source repository, build config at the certificate's ref or commit).

use std::process::Command;

use custody_attest::{Identity, Provenance};
use custody_test_support::sigstore::{pypi_attestations, tool_verdict};
use serde_json::json;

use crate::common::{Instance, asset, attestation_assets, pypi_attestations_verify, read};
use crate::tamper::Case;

/// Cases where the verdicts differ by design, and why.
fn documented_difference(name: &str) -> Option<&'static str> {
    match name {
        "github_other_ref" | "gitlab_other_ref" => Some(
            "PyPI's trusted-publisher policy does not pin the ref (a publisher names the workflow, never the ref); custody's identity may, and refuses a release from a ref the pattern does not match",
        ),
        "github_other_issuer" => Some(
            "`pypi-attestations verify attestation --identity` checks the SAN only (sigstore-python's `Identity` policy without an issuer); custody checks the issuer the identity names",
        ),
        _ => None,
    }
}

/// What pypi-attestations' refusal must say for each refused case, so that agreeing on
/// "refused" means refused for the same reason (its order of checks differs from
/// sigstore-verify's in two cases, noted in `tamper.rs`).
fn their_reason(name: &str) -> &'static str {
    match name {
        "github_file_byte" | "gitlab_file_byte" => "subject does not match distribution digest",
        "github_file_renamed" => "subject does not match distribution name",
        "github_statement_subject_renamed"
        | "github_statement_digest_changed"
        | "github_signature_bit"
        | "gitlab_signature_bit" => "DSSE: invalid signature",
        "github_certificate_byte"
        | "gitlab_certificate_byte"
        | "github_staging_root"
        | "staging_asset_production_root" => "failed to build timestamp certificate chain",
        "github_inclusion_proof_hash"
        | "gitlab_inclusion_proof_hash"
        | "github_canonicalized_body" => "inclusion proof contains invalid root hash",
        "github_checkpoint" => "checkpoint: invalid signature",
        "github_signed_entry_timestamp" | "github_integrated_time" | "github_log_index" => {
            "SET: invalid inclusion promise"
        }
        "github_other_repository" | "gitlab_other_project" => {
            "Certificate's OIDCSourceRepositoryURI does not match"
        }
        "github_other_workflow" | "gitlab_other_config_path" => "Certificate's Build Config URI",
        "github_as_gitlab_identity" | "gitlab_as_github_identity" => {
            "Certificate's OIDCIssuerV2 does not match"
        }
        "github_other_san" => "Certificate's SANs do not match",
        _ => panic!("`{name}`: no reason is expected from pypi-attestations"),
    }
}

/// pypi-attestations' verdict on a case: `Ok` or its message.
fn theirs(case: &Case) -> Result<(), String> {
    match &case.identity {
        Identity::Exact { identity, .. } => pypi_attestations_verify(
            &case.file_name,
            &case.file,
            &case.attestation,
            case.instance,
            identity,
        ),
        Identity::GitHub {
            repository,
            workflow,
            ..
        } => verify_pypi(
            case,
            &json!({"kind": "GitHub", "repository": repository, "workflow": workflow}),
            &format!("https://github.com/{repository}"),
        ),
        Identity::GitLab {
            project,
            config_path,
            ..
        } => verify_pypi(
            case,
            &json!({"kind": "GitLab", "repository": project, "workflow_filepath": config_path}),
            &format!("https://gitlab.com/{project}"),
        ),
    }
}

/// `pypi-attestations verify pypi --offline --provenance-file P --repository URL FILE`,
/// with the case's attestation in a provenance object naming `publisher`.
fn verify_pypi(case: &Case, publisher: &serde_json::Value, repository: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(&case.file_name);
    fs_err::write(&path, &case.file).unwrap();
    let attestation: serde_json::Value = serde_json::from_slice(&case.attestation).unwrap();
    let provenance = json!({
        "version": 1,
        "attestation_bundles": [{"publisher": publisher, "attestations": [attestation]}],
    });
    let provenance_path = dir.path().join("provenance.json");
    fs_err::write(&provenance_path, provenance.to_string()).unwrap();
    // The provenance object is the one custody reads too.
    Provenance::from_json(provenance.to_string().as_bytes()).unwrap();
    let mut command = Command::new(pypi_attestations());
    command
        .args(["verify", "pypi", "--offline", "--provenance-file"])
        .arg(&provenance_path)
        .args(["--repository", repository]);
    if case.instance == Instance::Staging {
        command.arg("--staging");
    }
    tool_verdict(command.arg(&path)).map(drop)
}

/// Both verifiers agree on the case, or differ exactly as documented.
pub(crate) fn agree(name: &str, case: &Case) {
    let ours = case.ours();
    let theirs = theirs(case);
    match documented_difference(name) {
        None => {
            assert_eq!(
                ours.is_ok(),
                theirs.is_ok(),
                "{name}: custody says {ours:?}, pypi-attestations says {theirs:?}"
            );
            if let Err(message) = theirs {
                let reason = their_reason(name);
                assert!(
                    message.contains(reason),
                    "{name}: `{reason}` not in {message}"
                );
            }
        }
        Some(reason) => {
            assert!(
                ours.is_err() && theirs.is_ok(),
                "{name} was documented as refused by custody only ({reason}): custody says {ours:?}, pypi-attestations says {theirs:?}"
            );
        }
    }
}

/// The genuine assets, as pypi-attestations verifies them (spt3g's wheel is not among
/// the assets, and pypi-attestations needs the file: that one is custody's alone).
#[test]
fn every_attestation_asset_verifies_in_pypi_attestations_too() {
    let mut checked = 0;
    for (name, file) in attestation_assets() {
        let path = asset(&file);
        if !path.exists() {
            assert!(file.starts_with("spt3g-"), "`{file}` is missing");
            continue;
        }
        let attestation = custody_attest::Attestation::from_json(&read(&asset(&name))).unwrap();
        let claims =
            custody_attest::Claims::from_certificate_der(&attestation.certificate_der().unwrap())
                .unwrap();
        pypi_attestations_verify(
            &file,
            &read(&path),
            &read(&asset(&name)),
            Instance::of(&file),
            &claims.identity,
        )
        .unwrap_or_else(|error| panic!("{name}: {error}"));
        checked += 1;
    }
    assert_eq!(checked, 7);
}

/// The matrix covers every case in both verifiers.
#[test]
fn every_tamper_case_has_a_verdict_from_both() {
    let all = crate::tamper::all();
    assert!(all.len() >= 30, "{}", all.len());
    for (name, _, _) in &all {
        if let Some(reason) = documented_difference(name) {
            assert!(!reason.is_empty());
        }
    }
    let names: Vec<&str> = all.iter().map(|(name, _, _)| *name).collect();
    for name in [
        "github_other_ref",
        "gitlab_other_ref",
        "github_other_issuer",
    ] {
        assert!(names.contains(&name), "{name}");
    }
}
