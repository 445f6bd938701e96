//! PEP 740 attestations beside artifacts: recorded by `collect`, re-verified by
//! `verify`, carried by `merge` and `select`, checked alone by `verify-attestations`.
//! Every input is real: pypi-attestations 0.0.30's test assets (files PyPI's publish
//! flow attested, with their attestations) and the `pypi-attestations` CLI, which
//! defines the truth each verdict is cross-checked against.

use std::path::{Path, PathBuf};
use std::process::Output;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use custody_output::safe::looks_like_command;
use custody_test_support::{fixtures_dir, json_of, sample_wheel, workspace_root};
use serde_json::Value;

use crate::{cmd, read_json, sha256_of, stderr_of, stdout_of};

/// An sdist released from GitHub Actions, with a publish, a SLSA and a provenance file.
const GITHUB_SDIST: &str = "pypi_attestations-0.0.19.tar.gz";
/// Its signer, as `pypi-attestations verify attestation --identity` takes it.
const GITHUB_SAN: &str = "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19";
/// The same signer, as custody's `--identity` forms say it.
const GITHUB_ID: &str =
    "github:trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v*";
/// An sdist released from GitLab CI, with a publish attestation.
const GITLAB_SDIST: &str = "gitlab_oidc_project-0.0.3.tar.gz";
const GITLAB_ID: &str = "gitlab:facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main";
/// A wheel released from `CircleCI`, with a publish attestation and a provenance file.
const CIRCLECI_WHEEL: &str = "circleci_sign_publish_example-0.0.1.dev137-py3-none-any.whl";
/// A wheel signed on Sigstore's staging instance by a person.
const STAGING_WHEEL: &str = "rfc8785-0.1.2-py3-none-any.whl";
/// An sdist released from Google Cloud Build: only a provenance file.
const GOOGLE_SDIST: &str = "gcb_attestation_test-0.0.0.tar.gz";

fn assets() -> PathBuf {
    let dir = fixtures_dir().join("attestations/assets");
    assert!(
        dir.is_dir(),
        "`{}` is missing: run `scripts/test-env.sh`",
        dir.display()
    );
    dir
}

/// The `pypi-attestations` CLI of the sigstore test venv.
fn pypi_attestations() -> PathBuf {
    let venv = std::env::var_os("CUSTODY_SIGSTORE_VENV").map_or_else(
        || workspace_root().join("target/sigstore-venv"),
        PathBuf::from,
    );
    let cli = venv.join("bin/pypi-attestations");
    assert!(
        cli.exists(),
        "`{}` is missing: run `scripts/test-env.sh`",
        cli.display()
    );
    cli
}

/// Copies `file` and every attestation of it in the assets (`file.*`) into `dir`.
fn with_attestations(dir: &Path, file: &str) -> PathBuf {
    fs_err::create_dir_all(dir).unwrap();
    for entry in fs_err::read_dir(assets()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let attestation = [".publish.attestation", ".slsa.attestation", ".provenance"]
            .iter()
            .any(|suffix| name == format!("{file}{suffix}"));
        if name == file || attestation {
            fs_err::copy(assets().join(&name), dir.join(&name)).unwrap();
        }
    }
    dir.join(file)
}

fn collect(dir: &Path, args: &[&str]) -> Output {
    cmd(dir)
        .args(["collect", "dist", "--out", "manifest.json"])
        .args(args)
        .output()
        .unwrap()
}

/// Rewrites an attestation file's JSON.
fn edit_json(path: &Path, edit: impl FnOnce(&mut Value)) {
    let mut value: Value = serde_json::from_str(&fs_err::read_to_string(path).unwrap()).unwrap();
    edit(&mut value);
    fs_err::write(path, serde_json::to_vec(&value).unwrap()).unwrap();
}

/// Flips one bit of a base64 JSON string, `from_end` bytes before its end.
fn flip(value: &mut Value, from_end: usize) {
    let mut bytes = STANDARD.decode(value.as_str().unwrap()).unwrap();
    let at = bytes.len() - from_end;
    bytes[at] ^= 1;
    *value = STANDARD.encode(bytes).into();
}

/// Rewrites the in-toto statement inside an attestation (its signature then fails).
fn edit_statement(path: &Path, edit: impl FnOnce(&mut Value)) {
    edit_json(path, |attestation| {
        let statement = &mut attestation["envelope"]["statement"];
        let mut parsed: Value =
            serde_json::from_slice(&STANDARD.decode(statement.as_str().unwrap()).unwrap()).unwrap();
        edit(&mut parsed);
        *statement = STANDARD.encode(serde_json::to_vec(&parsed).unwrap()).into();
    });
}

/// The artifacts of a manifest by file name.
fn artifact<'a>(manifest: &'a Value, file_name: &str) -> &'a Value {
    manifest["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["file_name"] == file_name)
        .unwrap_or_else(|| panic!("`{file_name}` is not in the manifest"))
}

fn attestation_names(artifact: &Value) -> Vec<&str> {
    artifact["attestations"]
        .as_array()
        .map(|records| {
            records
                .iter()
                .map(|r| r["file_name"].as_str().unwrap())
                .collect()
        })
        .unwrap_or_default()
}

/// `pypi-attestations verify attestation --offline --identity SAN FILE` (with
/// `--staging` when asked): whether it accepts, and what it said. Its TUF cache lives
/// in a fresh home, so it uses the trust roots it ships, as custody does.
fn reference_verdict(file: &Path, san: &str, staging: bool) -> (bool, String) {
    let home = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(pypi_attestations());
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .args(["verify", "attestation", "--offline", "--identity", san]);
    if staging {
        command.arg("--staging");
    }
    let output = command.arg(file).output().unwrap();
    let said = format!("{}{}", stdout_of(&output), stderr_of(&output));
    (output.status.success(), said)
}

/// `verify-attestations ARGS` in `dir`.
fn verify_attestations(dir: &Path, args: &[&str]) -> Output {
    cmd(dir)
        .arg("verify-attestations")
        .args(args)
        .output()
        .unwrap()
}

#[test]
#[allow(clippy::too_many_lines)] // a scenario read top to bottom, as its user lives it
fn collect_records_each_verified_attestation_with_its_signer() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    for file in [GITHUB_SDIST, GITLAB_SDIST, CIRCLECI_WHEEL] {
        with_attestations(&dist, file);
    }
    let output = collect(dir.path(), &["--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let json = json_of(&output);
    assert_eq!(json["trust_root"], "public-good");
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("Trusting Sigstore public-good (embedded, sigstore-trust-root 0.15.1)"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "Attested `{GITHUB_SDIST}.slsa.attestation`: provenance/v1 signed by `{GITHUB_SAN}`"
        )),
        "{stderr}"
    );

    let manifest = read_json(&dir.path().join("manifest.json"));
    // Attestation files are not artifacts.
    let names: Vec<&str> = manifest["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["file_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec![CIRCLECI_WHEEL, GITLAB_SDIST, GITHUB_SDIST]);
    let github = artifact(&manifest, GITHUB_SDIST);
    assert_eq!(
        attestation_names(github),
        vec![
            format!("{GITHUB_SDIST}.provenance"),
            format!("{GITHUB_SDIST}.publish.attestation"),
            format!("{GITHUB_SDIST}.slsa.attestation"),
        ]
    );
    assert_eq!(
        attestation_names(artifact(&manifest, GITLAB_SDIST)),
        vec![format!("{GITLAB_SDIST}.publish.attestation")]
    );
    assert_eq!(
        attestation_names(artifact(&manifest, CIRCLECI_WHEEL)),
        vec![
            format!("{CIRCLECI_WHEEL}.provenance"),
            format!("{CIRCLECI_WHEEL}.publish.attestation"),
        ]
    );

    for artifact in manifest["artifacts"].as_array().unwrap() {
        let file = dist.join(artifact["file_name"].as_str().unwrap());
        for record in artifact["attestations"].as_array().unwrap() {
            let name = record["file_name"].as_str().unwrap();
            let path = dist.join(name);
            assert_eq!(record["sha256"], sha256_of(&path), "{name}");
            // The log index is the one the attestation's Rekor entry names.
            let attestation = read_json(&path);
            let entry = if name.ends_with(".provenance") {
                &attestation["attestation_bundles"][0]["attestations"][0]["verification_material"]["transparency_entries"]
                    [0]
            } else {
                &attestation["verification_material"]["transparency_entries"][0]
            };
            assert_eq!(
                record["log_index"].to_string(),
                entry["logIndex"].as_str().unwrap(),
                "{name}"
            );
            assert!(record["integrated_time"].as_str().unwrap().ends_with('Z'));
            // The recorded signer is the one the reference verifier accepts for the file.
            let identity = record["identity"].as_str().unwrap();
            let (accepted, said) = reference_verdict(&file, identity, false);
            assert!(accepted, "{name}: {said}");
        }
    }
    let publish = &github["attestations"][1];
    assert_eq!(
        publish["predicate_type"],
        "https://docs.pypi.org/attestations/publish/v1"
    );
    assert_eq!(
        github["attestations"][2]["predicate_type"],
        "https://slsa.dev/provenance/v1"
    );
    assert_eq!(publish["identity"], GITHUB_SAN);
    assert_eq!(
        publish["issuer"],
        "https://token.actions.githubusercontent.com"
    );
    assert_eq!(
        publish["source_repository"],
        "https://github.com/trailofbits/pypi-attestations"
    );
    assert_eq!(publish["build_config"], GITHUB_SAN);
    assert_eq!(publish["source_ref"], "refs/tags/v0.0.19");
    let gitlab = &artifact(&manifest, GITLAB_SDIST)["attestations"][0];
    assert_eq!(gitlab["issuer"], "https://gitlab.com");
    assert_eq!(
        gitlab["build_config"],
        "https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main"
    );

    // The manifest with attestations is valid against the committed schema.
    check_against_schema(&dir.path().join("manifest.json"));
}

/// Validates a manifest with check-jsonschema against `docs/schemas/manifest-v1.schema.json`.
fn check_against_schema(manifest: &Path) {
    let check = std::env::var_os("CUSTODY_CHECK_JSONSCHEMA").map_or_else(
        || workspace_root().join("target/check-venv/bin/check-jsonschema"),
        PathBuf::from,
    );
    let schema = workspace_root().join("docs/schemas/manifest-v1.schema.json");
    let output = std::process::Command::new(check)
        .arg("--schemafile")
        .arg(&schema)
        .arg(manifest)
        .output()
        .expect("check-jsonschema runs (scripts/test-env.sh installs it)");
    assert!(
        output.status.success(),
        "{}{}",
        stdout_of(&output),
        stderr_of(&output)
    );
    // A record without its signer is not a manifest.
    let mut broken = read_json(manifest);
    let records = broken["artifacts"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find_map(|a| a["attestations"].as_array_mut())
        .unwrap();
    records[0].as_object_mut().unwrap().remove("identity");
    let broken_path = manifest.with_file_name("broken.json");
    fs_err::write(&broken_path, broken.to_string()).unwrap();
    let output =
        std::process::Command::new(std::env::var_os("CUSTODY_CHECK_JSONSCHEMA").map_or_else(
            || workspace_root().join("target/check-venv/bin/check-jsonschema"),
            PathBuf::from,
        ))
        .arg("--schemafile")
        .arg(&schema)
        .arg(&broken_path)
        .output()
        .unwrap();
    assert!(!output.status.success(), "{}", stdout_of(&output));
    assert!(stdout_of(&output).contains("'identity' is a required property"));
}

#[test]
fn the_expected_identity_passes_and_another_fails_naming_the_claim() {
    let dir = tempfile::tempdir().unwrap();
    with_attestations(&dir.path().join("dist"), GITHUB_SDIST);

    let output = collect(dir.path(), &["--identity", GITHUB_ID]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));

    // Another workflow of the same repository: refused, naming expected and found.
    fs_err::remove_file(dir.path().join("manifest.json")).unwrap();
    let ci = "github:trailofbits/pypi-attestations/.github/workflows/ci.yml";
    let output = collect(dir.path(), &["--identity", ci, "--json"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
    assert!(!dir.path().join("manifest.json").exists());
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains(&format!(
            "attestation `{GITHUB_SDIST}.publish.attestation` is not signed by `{ci}` (the certificate's `Build Config URI` is `{GITHUB_SAN}`, expected `https://github.com/trailofbits/pypi-attestations/.github/workflows/ci.yml@{{commit or ref}}`) [attestation-identity]"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: compare the expected identity"),
        "{stderr}"
    );
    let json = json_of(&output);
    assert_eq!(json["ok"], false);
    let codes: Vec<&str> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["attestation-identity"; 3]);

    // A ref the pattern does not match names the ref claim.
    let output = collect(
        dir.path(),
        &[
            "--identity",
            "github:trailofbits/pypi-attestations/release.yml@refs/heads/*",
        ],
    );
    assert_eq!(output.status.code(), Some(3));
    assert!(stderr_of(&output).contains(
        "the certificate's `Source Repository Ref` is `refs/tags/v0.0.19`, expected `refs/heads/*`"
    ));

    // Repeated: any may match.
    let output = collect(dir.path(), &["--identity", ci, "--identity", GITHUB_ID]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));

    // A malformed identity is a usage error.
    let output = collect(dir.path(), &["--identity", "trailofbits/pypi-attestations"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains("is not an identity: no `KIND:` prefix"));
}

#[test]
#[allow(clippy::too_many_lines)] // the table of cases is the specification
fn a_tampered_file_or_attestation_fails_with_its_code() {
    type Tamper = fn(&Path, &Path);
    let cases: [(&str, Tamper, &str); 5] = [
        (
            "file",
            |file, _| {
                let mut bytes = fs_err::read(file).unwrap();
                bytes.push(b'\n');
                fs_err::write(file, bytes).unwrap();
            },
            "attestation-subject-digest",
        ),
        (
            "signature",
            |_, attestation| edit_json(attestation, |a| flip(&mut a["envelope"]["signature"], 5)),
            "attestation-signature",
        ),
        (
            "certificate",
            |_, attestation| {
                edit_json(attestation, |a| {
                    flip(&mut a["verification_material"]["certificate"], 5);
                });
            },
            "attestation-certificate",
        ),
        (
            "inclusion proof",
            |_, attestation| {
                edit_json(attestation, |a| {
                    let entry = &mut a["verification_material"]["transparency_entries"][0];
                    flip(&mut entry["inclusionProof"]["hashes"][0], 5);
                });
            },
            "attestation-transparency-log",
        ),
        (
            "signed entry timestamp",
            |_, attestation| {
                edit_json(attestation, |a| {
                    let entry = &mut a["verification_material"]["transparency_entries"][0];
                    flip(&mut entry["inclusionPromise"]["signedEntryTimestamp"], 5);
                });
            },
            "attestation-transparency-log",
        ),
    ];
    for (what, tamper, code) in cases {
        let dir = tempfile::tempdir().unwrap();
        let dist = dir.path().join("dist");
        fs_err::create_dir_all(&dist).unwrap();
        for name in [
            GITHUB_SDIST.to_owned(),
            format!("{GITHUB_SDIST}.publish.attestation"),
        ] {
            fs_err::copy(assets().join(&name), dist.join(&name)).unwrap();
        }
        let file = dist.join(GITHUB_SDIST);
        tamper(
            &file,
            &dist.join(format!("{GITHUB_SDIST}.publish.attestation")),
        );
        let output = collect(dir.path(), &["--json"]);
        assert_eq!(
            output.status.code(),
            Some(3),
            "{what}: {}",
            stderr_of(&output)
        );
        assert!(!dir.path().join("manifest.json").exists(), "{what}");
        let json = json_of(&output);
        let problem = json["problems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["code"].as_str().unwrap().starts_with("attestation-"))
            .unwrap_or_else(|| panic!("{what}: {json}"));
        assert_eq!(problem["code"], code, "{what}: {problem}");
        assert_eq!(problem["file"], format!("dist/{GITHUB_SDIST}"));
        assert!(problem["hint"].is_string(), "{what}: {problem}");
        assert!(
            stderr_of(&output).contains(&format!("[{code}]")),
            "{what}: {}",
            stderr_of(&output)
        );
        // The reference verifier refuses it too.
        let (accepted, said) = reference_verdict(&file, GITHUB_SAN, false);
        assert!(!accepted, "{what}: {said}");
    }
}

#[test]
fn require_attestations_fails_for_a_distribution_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    with_attestations(&dist, GITLAB_SDIST);
    fs_err::copy(
        sample_wheel(),
        dist.join(sample_wheel().file_name().unwrap()),
    )
    .unwrap();
    fs_err::write(dist.join("NOTES.txt"), b"not a distribution").unwrap();

    let output = collect(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));

    let output = collect(dir.path(), &["--require-attestations", "--json"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
    let json = json_of(&output);
    let problems = json["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{json}");
    assert_eq!(problems[0]["code"], "attestation-missing");
    assert_eq!(
        problems[0]["file"],
        "dist/custody_sample-0.18.3-py3-none-any.whl"
    );
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("has no attestation beside it (--require-attestations): expected one of `custody_sample-0.18.3-py3-none-any.whl.publish.attestation`"),
        "{stderr}"
    );
    assert!(stderr.contains("1 of 3 artifact(s) failed verification (1 for their attestations); no manifest was written"), "{stderr}");
}

#[test]
fn an_attestation_without_its_file_is_left_out_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    with_attestations(&dist, GITLAB_SDIST);
    fs_err::copy(
        assets().join(format!("{GITHUB_SDIST}.slsa.attestation")),
        dist.join(format!("{GITHUB_SDIST}.slsa.attestation")),
    )
    .unwrap();
    let output = collect(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains(&format!(
        "warning: dist/{GITHUB_SDIST}.slsa.attestation: `dist/{GITHUB_SDIST}.slsa.attestation` is an attestation file, but the file it attests is not collected beside it; it is not recorded"
    )));
    let manifest = read_json(&dir.path().join("manifest.json"));
    assert_eq!(manifest["artifacts"].as_array().unwrap().len(), 1);
}

#[test]
fn verify_rechecks_every_recorded_attestation() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    with_attestations(&dist, GITHUB_SDIST);
    with_attestations(&dist, GITLAB_SDIST);
    let output = collect(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    fs_err::rename(dir.path().join("manifest.json"), dist.join("manifest.json")).unwrap();
    let verify = |extra: &[&str]| {
        cmd(dir.path())
            .args(["verify", "--manifest", "dist/manifest.json", "--strict"])
            .args(extra)
            .output()
            .unwrap()
    };
    // Attestation files are accounted for: --strict lists none as unknown.
    let output = verify(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains("Verified 2 file(s) and 4 attestation file(s)"));

    // Moved away from its file: missing.
    let slsa = format!("{GITHUB_SDIST}.slsa.attestation");
    fs_err::create_dir(dir.path().join("elsewhere")).unwrap();
    fs_err::rename(dist.join(&slsa), dir.path().join("elsewhere").join(&slsa)).unwrap();
    let output = verify(&["--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains(&format!("error: dist/{GITHUB_SDIST}: `{GITHUB_SDIST}` attestation `{slsa}` is missing [attestation-missing]")),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 of 4 recorded attestation file(s) fail"),
        "{stderr}"
    );
    let json = json_of(&output);
    let failed: Vec<&Value> = json["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["ok"] == false)
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["error"]["code"], "attestation-missing");
    assert_eq!(failed[0]["error"]["attestation"], slsa.as_str());
    fs_err::rename(dir.path().join("elsewhere").join(&slsa), dist.join(&slsa)).unwrap();

    // Altered, even in a way that keeps it valid (the JSON re-serialized): changed.
    let publish = dist.join(format!("{GITLAB_SDIST}.publish.attestation"));
    let before = sha256_of(&publish);
    edit_json(&publish, |_| {});
    assert_ne!(sha256_of(&publish), before);
    let output = verify(&[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr_of(&output).contains(&format!(
        "attestation `{GITLAB_SDIST}.publish.attestation` changed: its sha256 is {}",
        sha256_of(&publish)
    )));
}

/// A manifest edited to name another signer, and sealed again (anyone can: the seal is
/// a plain digest), is caught: verify re-derives every record from the attestation.
#[test]
fn a_resealed_manifest_naming_another_signer_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    with_attestations(&dir.path().join("dist"), GITLAB_SDIST);
    assert_eq!(collect(dir.path(), &[]).status.code(), Some(0));
    let path = dir.path().join("manifest.json");
    let mut manifest = custody_manifest::Manifest::load(&path).unwrap();
    let forged = "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1";
    let record = &mut manifest.artifacts[0].attestations[0];
    record.identity = forged.to_owned();
    record.issuer = "https://token.actions.githubusercontent.com".to_owned();
    record.source_repository = Some("https://github.com/o/r".to_owned());
    record.build_config = Some(forged.to_owned());
    record.source_ref = Some("refs/tags/v1".to_owned());
    manifest.seal();
    manifest.write(&path).unwrap();

    let output = cmd(dir.path())
        .args(["verify", "--manifest", "manifest.json", "dist"])
        .args(["--require-attested-by", "github:o/r/release.yml", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains(&format!("attestation `{GITLAB_SDIST}.publish.attestation` verifies, but the manifest records it differently (build_config \"{forged}\", verification finds \"https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main\") [attestation-misrecorded]")),
        "{stderr}"
    );
    // The gate judges the signer verification finds, never the recorded one.
    assert!(stderr.contains(&format!("`{GITLAB_SDIST}` is not attested by `github:o/r/.github/workflows/release.yml`: it has no verified attestation")), "{stderr}");
    assert_eq!(json_of(&output)["unattested"][0], GITLAB_SDIST);
}

#[test]
fn verify_require_attested_by_is_the_release_gate() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    with_attestations(&dist, GITHUB_SDIST);
    with_attestations(&dist, GITLAB_SDIST);
    fs_err::write(dist.join("NOTES.txt"), b"not a distribution").unwrap();
    assert_eq!(collect(dir.path(), &[]).status.code(), Some(0));
    let verify = |signers: &[&str]| {
        let mut command = cmd(dir.path());
        command.args(["verify", "--manifest", "manifest.json", "dist"]);
        for signer in signers {
            command.args(["--require-attested-by", signer]);
        }
        command.output().unwrap()
    };
    let github_workflow = "github:trailofbits/pypi-attestations/release.yml";
    let output = verify(&[github_workflow]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert!(stderr.contains(&format!(
        "error: dist/{GITLAB_SDIST}: `{GITLAB_SDIST}` is not attested by `github:trailofbits/pypi-attestations/.github/workflows/release.yml`: its attestations are signed by `https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main`"
    )), "{stderr}");
    assert!(
        !stderr.contains(&format!("`{GITHUB_SDIST}` is not attested")),
        "{stderr}"
    );
    // NOTES.txt is no Python distribution: nothing is required of it.
    assert!(!stderr.contains("NOTES.txt"), "{stderr}");
    assert!(
        stderr.contains("1 file(s) are not attested by the required signer"),
        "{stderr}"
    );

    let output = verify(&[github_workflow, GITLAB_ID]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));

    // A manifest recording no attestation cannot pass the gate.
    let plain = tempfile::tempdir().unwrap();
    let plain_dist = plain.path().join("dist");
    fs_err::create_dir_all(&plain_dist).unwrap();
    fs_err::copy(
        sample_wheel(),
        plain_dist.join(sample_wheel().file_name().unwrap()),
    )
    .unwrap();
    assert_eq!(collect(plain.path(), &[]).status.code(), Some(0));
    let output = cmd(plain.path())
        .args(["verify", "--manifest", "manifest.json", "dist"])
        .args(["--require-attested-by", github_workflow])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr_of(&output).contains("it has no verified attestation"));
}

/// One case of the differential check: a file, how to break it, and the signer.
struct Case {
    name: &'static str,
    file: &'static str,
    /// Breaks the copied file or its attestations; returns the file to verify.
    prepare: fn(&Path) -> PathBuf,
    /// `pypi-attestations`' `--identity` (a SAN) and custody's equivalent.
    san: &'static str,
    identity: &'static str,
    staging: bool,
}

const GITLAB_SAN: &str =
    "https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main";
const CIRCLECI_SAN: &str = "https://circleci.com/api/v2/projects/fdd9283f-e619-46af-8f9c-851f7d3e8b2b/pipeline-definitions/8e4f8ab2-8d7c-4827-9f15-de076d6d647f";
const OLDER_SAN: &str = "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.18";

fn untouched(file: &Path) -> PathBuf {
    file.to_owned()
}

fn file_changed(file: &Path) -> PathBuf {
    let mut bytes = fs_err::read(file).unwrap();
    bytes.push(0);
    fs_err::write(file, bytes).unwrap();
    file.to_owned()
}

fn subject_edited(file: &Path) -> PathBuf {
    edit_statement(&attestation_of(file, ".slsa.attestation"), |s| {
        s["subject"][0]["name"] = "pypi_attestations-0.0.20.tar.gz".into();
    });
    file.to_owned()
}

fn signature_edited(file: &Path) -> PathBuf {
    edit_json(&attestation_of(file, ".publish.attestation"), |a| {
        flip(&mut a["envelope"]["signature"], 3);
    });
    file.to_owned()
}

/// The same bytes and attestations, named as another release: the signature and digest
/// hold, the subject's name does not.
fn renamed(file: &Path) -> PathBuf {
    let renamed = file.with_file_name("pypi_attestations-0.0.20.tar.gz");
    fs_err::rename(file, &renamed).unwrap();
    for suffix in [".publish.attestation", ".slsa.attestation", ".provenance"] {
        fs_err::rename(
            attestation_of(file, suffix),
            attestation_of(&renamed, suffix),
        )
        .unwrap();
    }
    renamed
}

fn attestations_removed(file: &Path) -> PathBuf {
    for suffix in [".publish.attestation", ".slsa.attestation", ".provenance"] {
        fs_err::remove_file(attestation_of(file, suffix)).unwrap();
    }
    file.to_owned()
}

#[rustfmt::skip]
const CASES: [Case; 12] = [
    Case { name: "github", file: GITHUB_SDIST, prepare: untouched, san: GITHUB_SAN, identity: "uri:https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19", staging: false },
    Case { name: "github, custody form", file: GITHUB_SDIST, prepare: untouched, san: GITHUB_SAN, identity: GITHUB_ID, staging: false },
    Case { name: "github, older tag", file: GITHUB_SDIST, prepare: untouched, san: OLDER_SAN, identity: "github:trailofbits/pypi-attestations/release.yml@refs/tags/v0.0.18", staging: false },
    Case { name: "gitlab", file: GITLAB_SDIST, prepare: untouched, san: GITLAB_SAN, identity: GITLAB_ID, staging: false },
    Case { name: "circleci", file: CIRCLECI_WHEEL, prepare: untouched, san: CIRCLECI_SAN, identity: "uri:https://circleci.com/api/v2/projects/fdd9283f-e619-46af-8f9c-851f7d3e8b2b/pipeline-definitions/8e4f8ab2-8d7c-4827-9f15-de076d6d647f", staging: false },
    Case { name: "staging, public-good root", file: STAGING_WHEEL, prepare: untouched, san: "william@yossarian.net", identity: "email:william@yossarian.net", staging: false },
    Case { name: "staging, staging root", file: STAGING_WHEEL, prepare: untouched, san: "william@yossarian.net", identity: "email:william@yossarian.net", staging: true },
    Case { name: "file changed", file: GITHUB_SDIST, prepare: file_changed, san: GITHUB_SAN, identity: GITHUB_ID, staging: false },
    Case { name: "subject edited", file: GITHUB_SDIST, prepare: subject_edited, san: GITHUB_SAN, identity: GITHUB_ID, staging: false },
    Case { name: "signature edited", file: GITLAB_SDIST, prepare: signature_edited, san: GITLAB_SAN, identity: GITLAB_ID, staging: false },
    Case { name: "attested under another name", file: GITHUB_SDIST, prepare: renamed, san: GITHUB_SAN, identity: GITHUB_ID, staging: false },
    Case { name: "no attestation", file: GITHUB_SDIST, prepare: attestations_removed, san: GITHUB_SAN, identity: GITHUB_ID, staging: false },
];

/// Every case through both verifiers: the verdicts agree. Where they differ on purpose
/// is in [`verify_attestations_also_reads_provenance_files`].
#[test]
fn verify_attestations_agrees_with_pypi_attestations() {
    for case in &CASES {
        let dir = tempfile::tempdir().unwrap();
        let file = (case.prepare)(&with_attestations(dir.path(), case.file));
        let (expected, said) = reference_verdict(&file, case.san, case.staging);
        let mut command = cmd(dir.path());
        command
            .arg("verify-attestations")
            .arg(&file)
            .args(["--identity", case.identity, "--json"]);
        if case.staging {
            command.arg("--sigstore-staging");
        }
        let output = command.output().unwrap();
        let ours = output.status.success();
        assert_eq!(
            ours,
            expected,
            "{}: custody says {ours}, pypi-attestations {expected}\n{said}\n{}",
            case.name,
            stderr_of(&output)
        );
        let code = output.status.code().unwrap();
        if case.name == "no attestation" {
            // Bad input, not a failed verification: nothing could be checked.
            assert_eq!(code, 3, "{}", stderr_of(&output));
            assert!(said.contains("Couldn't find attestations"), "{said}");
            assert!(stderr_of(&output).contains("has no attestation beside it: looked for "));
            continue;
        }
        assert_eq!(code, i32::from(!ours), "{}", case.name);
        let json = json_of(&output);
        assert_eq!(json["ok"], ours, "{}", case.name);
        let trust_root = if case.staging {
            "staging"
        } else {
            "public-good"
        };
        assert_eq!(json["trust_root"], trust_root);
    }
}

fn attestation_of(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Where custody and `pypi-attestations` differ, on purpose: a file whose only
/// attestations are in PyPI's provenance file (`<file>.provenance`, what the integrity
/// API serves) is verified by custody; `pypi-attestations verify attestation` looks for
/// `.publish.attestation` and `.slsa.attestation` only (its `verify pypi
/// --provenance-file` takes provenance files, with a publisher policy instead of a SAN).
#[test]
fn verify_attestations_also_reads_provenance_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = with_attestations(dir.path(), GOOGLE_SDIST);
    let san = "919436158236-compute@developer.gserviceaccount.com";
    let (accepted, said) = reference_verdict(&file, san, false);
    assert!(!accepted);
    assert!(said.contains("Couldn't find attestations"), "{said}");
    let output = cmd(dir.path())
        .args(["verify-attestations", GOOGLE_SDIST, "--json", "--identity"])
        .arg(format!("email:{san}"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains(&format!(
        "Verified `{GOOGLE_SDIST}.provenance`: publish/v1 signed by `{san}`"
    )));
    let json = json_of(&output);
    assert_eq!(json["files"][0]["sha256"], sha256_of(&file));
    let attestation = &json["files"][0]["attestations"][0];
    assert_eq!(attestation["ok"], true);
    assert_eq!(
        attestation["file_name"],
        format!("{GOOGLE_SDIST}.provenance")
    );
    assert_eq!(attestation["identity"], san);
    assert_eq!(attestation["issuer"], "https://accounts.google.com");
    let output = verify_attestations(
        dir.path(),
        &[GOOGLE_SDIST, "--identity", "email:someone@example.com"],
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn trust_roots_are_chosen_and_named() {
    let dir = tempfile::tempdir().unwrap();
    with_attestations(dir.path(), STAGING_WHEEL);
    // sigstore-python's own copy of the staging instance's trusted root.
    let root = pypi_attestations()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("lib")
        .read_dir()
        .unwrap()
        .map(|python| python.unwrap().path())
        .map(|python| {
            python.join("site-packages/sigstore/_store/https%3A%2F%2Ftuf-repo-cdn.sigstage.dev/trusted_root.json")
        })
        .find(|path| path.exists())
        .expect("sigstore-python ships the staging trusted root");
    fs_err::copy(&root, dir.path().join("staging-root.json")).unwrap();
    let output = verify_attestations(
        dir.path(),
        &[
            STAGING_WHEEL,
            "--sigstore-trust-root",
            "staging-root.json",
            "--json",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(json_of(&output)["trust_root"], "staging-root.json");
    assert!(stderr_of(&output).contains("Trusting trusted root file `staging-root.json`"));

    fs_err::write(dir.path().join("not-a-root.json"), b"{\"mediaType\": 1}").unwrap();
    let output = verify_attestations(
        dir.path(),
        &[STAGING_WHEEL, "--sigstore-trust-root", "not-a-root.json"],
    );
    assert_eq!(output.status.code(), Some(3));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("is not a usable Sigstore trusted root"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: "), "{stderr}");

    let output = verify_attestations(
        dir.path(),
        &[
            STAGING_WHEEL,
            "--sigstore-staging",
            "--sigstore-trust-root",
            "x.json",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn merge_unites_the_attestations_two_jobs_recorded() {
    let dir = tempfile::tempdir().unwrap();
    // Two jobs downloaded the same file with different attestations beside it.
    for (job, suffix) in [("a", ".publish.attestation"), ("b", ".slsa.attestation")] {
        let dist = dir.path().join(job).join("dist");
        fs_err::create_dir_all(&dist).unwrap();
        for name in [GITHUB_SDIST.to_owned(), format!("{GITHUB_SDIST}{suffix}")] {
            fs_err::copy(assets().join(&name), dist.join(&name)).unwrap();
        }
        let output = collect(&dir.path().join(job), &["--label", &format!("job={job}")]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    }
    let output = cmd(dir.path())
        .args([
            "merge",
            "a/manifest.json",
            "b/manifest.json",
            "a/manifest.json",
            "--out",
            "all.json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let all = read_json(&dir.path().join("all.json"));
    let sdist = artifact(&all, GITHUB_SDIST);
    assert_eq!(sdist["jobs"].as_array().unwrap().len(), 2);
    assert_eq!(
        attestation_names(sdist),
        vec![
            format!("{GITHUB_SDIST}.publish.attestation"),
            format!("{GITHUB_SDIST}.slsa.attestation"),
        ]
    );
    let a = read_json(&dir.path().join("a/manifest.json"));
    assert_eq!(
        sdist["attestations"][0],
        artifact(&a, GITHUB_SDIST)["attestations"][0]
    );
}

#[test]
#[allow(clippy::too_many_lines)] // a scenario read top to bottom, as its user lives it
fn select_stages_attestation_files_and_gates_on_the_signer() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    with_attestations(&dist, GITHUB_SDIST);
    with_attestations(&dist, GITLAB_SDIST);
    assert_eq!(collect(dir.path(), &[]).status.code(), Some(0));
    let select = |extra: &[&str]| {
        cmd(dir.path())
            .args(["select", "--manifest", "manifest.json", "--from", "dist"])
            .args(extra)
            .output()
            .unwrap()
    };
    let output = select(&["--copy-to", "release", "--zip", "release.zip"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output)
            .contains("Staged 2 file(s), 4 attestation file(s) and `release.json` in `release`")
    );
    let release = dir.path().join("release");
    let mut staged: Vec<String> = fs_err::read_dir(&release)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    staged.sort();
    let mut expected: Vec<String> = fs_err::read_dir(&dist)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .chain(["release.json".to_owned()])
        .collect();
    expected.sort();
    assert_eq!(staged, expected);
    for name in &staged {
        if name != "release.json" {
            assert_eq!(
                sha256_of(&release.join(name)),
                sha256_of(&dist.join(name)),
                "{name}"
            );
        }
    }
    let zip =
        zip::ZipArchive::new(fs_err::File::open(dir.path().join("release.zip")).unwrap()).unwrap();
    let mut zipped: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    zipped.sort_unstable();
    assert_eq!(zipped, staged);
    // The staged set verifies on its own, attestations included.
    let output = cmd(&release)
        .args(["verify", "--manifest", "release.json", "--strict"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));

    // The gate: both signers pass, one fails naming the other file.
    let github_workflow = "github:trailofbits/pypi-attestations/release.yml";
    let output = select(&[
        "--out",
        "gated.json",
        "--require-attested-by",
        github_workflow,
        "--require-attested-by",
        GITLAB_ID,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let output = select(&[
        "--out",
        "refused.json",
        "--require-attested-by",
        github_workflow,
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    assert!(!dir.path().join("refused.json").exists());
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains(&format!("`{GITLAB_SDIST}` is not attested by")),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 of 2 selected wheel(s) and sdist(s) are not attested by"),
        "{stderr}"
    );

    // An attestation file changed under --from: nothing is staged.
    let publish = dist.join(format!("{GITLAB_SDIST}.publish.attestation"));
    edit_json(&publish, |_| {});
    let output = select(&["--copy-to", "again"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains(&format!(
        "`dist/{GITLAB_SDIST}.publish.attestation` has sha256 {}, but the manifest records",
        sha256_of(&publish)
    )));
    let left: Vec<_> = fs_err::read_dir(dir.path().join("again"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn untrusted_names_from_attestations_stay_inert() {
    let hostile = "\n::error::pwned\n##vso[task.setvariable variable=x]y";
    // A subject name edited to carry CI commands (the signature then fails), and a file
    // name carrying them beside a copy of a real attestation.
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    with_attestations(&dist, GITHUB_SDIST);
    edit_statement(
        &dist.join(format!("{GITHUB_SDIST}.publish.attestation")),
        |s| {
            s["subject"][0]["name"] = format!("pypi_attestations-0.0.19.tar.gz{hostile}").into();
        },
    );
    let named = format!("evil{hostile}-1.0.tar.gz");
    fs_err::copy(dist.join(GITHUB_SDIST), dist.join(&named)).unwrap();
    fs_err::copy(
        dist.join(format!("{GITHUB_SDIST}.slsa.attestation")),
        dist.join(format!("{named}.slsa.attestation")),
    )
    .unwrap();
    for (ci, value) in [
        ("GITHUB_ACTIONS", "true"),
        ("TF_BUILD", "True"),
        ("CUSTODY_NONE", "1"),
    ] {
        let output = cmd(dir.path())
            .args(["collect", "dist", "--out", "manifest.json"])
            .env(ci, value)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
        let text = format!("{}{}", stdout_of(&output), stderr_of(&output));
        // (Azure escapes the closing bracket of the code.)
        assert!(text.contains("[attestation-signature"), "{text}");
        assert!(text.contains("[attestation-subject-name"), "{text}");
        for line in text.lines() {
            // The runners' own annotations are the only commands allowed.
            let ours = ["::error", "::warning", "##vso[task.logissue "]
                .iter()
                .any(|command| line.starts_with(command))
                && !line.starts_with("::error::pwned");
            assert!(ours || !looks_like_command(line), "{ci}: {line}");
            assert!(!line.contains("##vso[task.setvariable"), "{ci}: {line}");
        }
        // The hostile name is shown on one line, its newlines escaped.
        assert!(text.contains(r"evil\n:"), "{ci}: {text}");
    }
}
