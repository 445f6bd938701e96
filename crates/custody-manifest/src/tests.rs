use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use custody_ci::{CiContext, Env};
use custody_dist::{ArtifactKind, Limits, inspect};
use custody_progress::NoProgress;
use custody_test_support::{SdistBuilder, WheelBuilder};

use super::*;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A manifest of the files in `paths`, as one job with `job_labels`.
fn collect(paths: &[PathBuf], job_labels: &[(&str, &str)]) -> Manifest {
    let job = Job::new(
        labels(job_labels),
        CiContext::detect(&Env::default()).unwrap(),
    );
    let artifacts = paths
        .iter()
        .map(|p| {
            let inspection = inspect(p, &Limits::default(), &NoProgress).unwrap();
            assert!(inspection.is_ok(), "{:?}", inspection.problems);
            Artifact::from_inspection(&inspection, &job.id)
        })
        .collect();
    Manifest::new("test", vec![job], artifacts, None)
}

#[test]
fn digest_is_stable_across_formatting_and_key_order() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0").build(dir.path());
    let manifest = collect(&[wheel], &[("python", "3.7")]);
    let pretty = manifest.to_json();
    let value: serde_json::Value = serde_json::from_str(&pretty).unwrap();
    let compact = serde_json::to_string(&value).unwrap();
    let reloaded = Manifest::from_json(&compact, Path::new("m.json")).unwrap();
    assert_eq!(reloaded.digest, manifest.digest);
    assert!(manifest.digest.starts_with("sha256:"));
    assert_eq!(manifest.digest.len(), "sha256:".len() + 64);
}

#[test]
fn canonical_json_sorts_keys_at_every_level() {
    let value = serde_json::json!({"b": 1, "a": {"d": [3, {"z": 1, "y": 2}], "c": "x"}});
    assert_eq!(
        String::from_utf8(canonical_json(&value)).unwrap(),
        r#"{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}"#
    );
}

#[test]
fn editing_a_manifest_is_caught_on_load() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0").build(dir.path());
    let manifest = collect(&[wheel], &[]);
    let edited = manifest
        .to_json()
        .replace(&manifest.artifacts[0].digests.sha256, &"0".repeat(64));
    let error = Manifest::from_json(&edited, Path::new("release.json")).unwrap_err();
    assert!(matches!(error, ManifestError::Tampered { .. }), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("`release.json` was modified after it was written")
    );
}

#[test]
fn newer_manifest_versions_are_refused() {
    let error = Manifest::from_json(r#"{"manifest_version": 2}"#, Path::new("m.json")).unwrap_err();
    assert!(
        matches!(error, ManifestError::Version { found: 2, .. }),
        "{error}"
    );
    let error = Manifest::from_json("[]", Path::new("m.json")).unwrap_err();
    assert!(matches!(error, ManifestError::Parse { .. }), "{error}");
}

#[test]
fn write_then_load_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0").build(dir.path());
    let manifest = collect(&[wheel], &[("os", "linux")]);
    let path = dir.path().join("manifest.json");
    manifest.write(&path).unwrap();
    assert_eq!(Manifest::load(&path).unwrap(), manifest);
}

#[test]
fn merge_unites_jobs_and_keeps_identical_files_once() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0").build(dir.path());
    let sdist = SdistBuilder::new("demo", "1.0").build(dir.path());
    let a = collect(
        &[wheel.clone(), sdist],
        &[("python", "3.7"), ("arch", "x86")],
    );
    let b = collect(&[wheel], &[("python", "3.8"), ("arch", "x64")]);
    let merged = merge("test", &[("a.json".into(), a), ("b.json".into(), b)]).unwrap();
    assert_eq!(merged.jobs.len(), 2);
    assert_eq!(merged.artifacts.len(), 2);
    let wheel = merged.artifact("demo-1.0-py3-none-any.whl").unwrap();
    assert_eq!(wheel.jobs.len(), 2);
    assert_eq!(merged.compute_digest(), merged.digest);
}

#[test]
fn merge_refuses_one_name_with_two_contents() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let a = collect(
        &[WheelBuilder::new("demo", "1.0").build(first.path())],
        &[("python", "3.7")],
    );
    let b = collect(
        &[WheelBuilder::new("demo", "1.0")
            .file("demo/extra.py", b"x")
            .build(second.path())],
        &[("python", "3.8")],
    );
    let error = merge("test", &[("a.json".into(), a), ("b.json".into(), b)]).unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("`demo-1.0-py3-none-any.whl` differs between `a.json` (sha256 "),
        "{message}"
    );
    assert!(!message.contains("hint"), "{message}");
    let hint = error.hint().unwrap();
    assert!(hint.starts_with("two jobs built different files"), "{hint}");
}

#[test]
fn select_keeps_the_matching_jobs_artifacts() {
    let dir37 = tempfile::tempdir().unwrap();
    let dir38 = tempfile::tempdir().unwrap();
    let a = collect(
        &[
            WheelBuilder::new("demo", "1.0")
                .tag("cp37-cp37m-win32")
                .build(dir37.path()),
            SdistBuilder::new("demo", "1.0").build(dir37.path()),
        ],
        &[("python", "3.7"), ("arch", "x86")],
    );
    let b = collect(
        &[WheelBuilder::new("demo", "1.0")
            .tag("cp38-cp38-win_amd64")
            .build(dir38.path())],
        &[("python", "3.8"), ("arch", "x64")],
    );
    let merged = merge("test", &[("a".into(), a), ("b".into(), b)]).unwrap();
    let criteria = labels(&[("python", "3.7"), ("arch", "x86")]);
    let release = select("test", &merged, &criteria, &[]).unwrap();
    let names: Vec<&str> = release
        .artifacts
        .iter()
        .map(|a| a.file_name.as_str())
        .collect();
    assert_eq!(
        names,
        vec!["demo-1.0-cp37-cp37m-win32.whl", "demo-1.0.tar.gz"]
    );
    assert_eq!(release.jobs.len(), 1);
    let selection = release.selection.as_ref().unwrap();
    assert_eq!(selection.source_digest, merged.digest);

    let only_wheels = select("test", &merged, &criteria, &[ArtifactKind::Wheel]).unwrap();
    assert_eq!(only_wheels.artifacts.len(), 1);
}

#[test]
fn selecting_nothing_names_what_exists() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = collect(
        &[WheelBuilder::new("demo", "1.0").build(dir.path())],
        &[("python", "3.8")],
    );
    let error = select("test", &manifest, &labels(&[("python", "3.7")]), &[]).unwrap_err();
    assert_eq!(error.to_string(), "no artifact matches `python=3.7`");
    assert_eq!(
        error.hint().as_deref(),
        Some("the manifest has labels python=3.8 and kinds wheel")
    );
}

#[test]
fn verify_dir_reports_missing_changed_copies_and_unlisted() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0").build(dir.path());
    let sdist = SdistBuilder::new("demo", "1.0").build(dir.path());
    let other = WheelBuilder::new("other", "2.0").build(dir.path());
    let manifest = collect(&[wheel.clone(), sdist.clone(), other.clone()], &[]);
    let manifest_path = dir.path().join("manifest.json");
    manifest.write(&manifest_path).unwrap();
    let skip = [manifest_path];

    let report = verify_dir(
        &manifest,
        dir.path(),
        &skip,
        true,
        &Limits::default(),
        &NoProgress,
    )
    .unwrap();
    assert!(report.all_ok(), "{report:?}");
    assert!(report.unlisted.is_empty());

    // An identical second copy (the same file from two matrix jobs) is fine.
    fs_err::create_dir(dir.path().join("twin")).unwrap();
    fs_err::copy(
        &other,
        dir.path().join("twin").join(other.file_name().unwrap()),
    )
    .unwrap();
    let report = verify_dir(
        &manifest,
        dir.path(),
        &skip,
        false,
        &Limits::default(),
        &NoProgress,
    )
    .unwrap();
    assert!(report.all_ok(), "{report:?}");
    fs_err::remove_dir_all(dir.path().join("twin")).unwrap();

    // Tamper: change the sdist (same size), remove the other wheel, add a stray file,
    // and put a second, changed copy of the wheel in a subdirectory.
    let mut bytes = fs_err::read(&sdist).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs_err::write(&sdist, &bytes).unwrap();
    fs_err::remove_file(&other).unwrap();
    fs_err::write(dir.path().join("notes.txt"), b"x").unwrap();
    fs_err::create_dir(dir.path().join("copy")).unwrap();
    let mut copy = fs_err::read(&wheel).unwrap();
    copy.push(0);
    fs_err::write(
        dir.path().join("copy").join(wheel.file_name().unwrap()),
        copy,
    )
    .unwrap();

    let report = verify_dir(
        &manifest,
        dir.path(),
        &skip,
        false,
        &Limits::default(),
        &NoProgress,
    )
    .unwrap();
    let by_name: BTreeMap<&str, &FileCheck> = report
        .entries
        .iter()
        .map(|e| (e.file_name.as_str(), &e.check))
        .collect();
    assert!(matches!(
        by_name["demo-1.0-py3-none-any.whl"],
        FileCheck::SizeChanged { .. }
    ));
    assert!(
        matches!(by_name["demo-1.0.tar.gz"], FileCheck::DigestChanged { digest, .. } if digest == "sha256")
    );
    assert_eq!(by_name["other-2.0-py3-none-any.whl"], &FileCheck::Missing);
    assert_eq!(report.unlisted, vec![dir.path().join("notes.txt")]);
    assert!(!report.all_ok());
}

#[test]
fn check_file_compares_size_before_hashing() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0").build(dir.path());
    let manifest = collect(std::slice::from_ref(&wheel), &[]);
    let mut bytes = fs_err::read(&wheel).unwrap();
    bytes.push(0);
    fs_err::write(&wheel, &bytes).unwrap();
    let check = check_file(
        &manifest.artifacts[0],
        &wheel,
        false,
        &Limits::default(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(
        check,
        FileCheck::SizeChanged {
            recorded: manifest.artifacts[0].size,
            actual: manifest.artifacts[0].size + 1
        }
    );
}

/// A record as `collect` writes it for a verified attestation of `file_name`.
fn record(file_name: &str, suffix: &str, sha256: &str, log_index: u64) -> AttestationRecord {
    AttestationRecord {
        file_name: format!("{file_name}{suffix}"),
        sha256: sha256.to_owned(),
        predicate_type: "https://docs.pypi.org/attestations/publish/v1".to_owned(),
        identity: "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1.0".to_owned(),
        issuer: "https://token.actions.githubusercontent.com".to_owned(),
        source_repository: Some("https://github.com/o/r".to_owned()),
        build_config: None,
        source_ref: Some("refs/tags/v1.0".to_owned()),
        source_digest: None,
        log_index: Some(log_index),
        integrated_time: Some("2024-05-01T12:00:00Z".to_owned()),
    }
}

#[test]
fn manifests_without_attestations_keep_their_digest_and_load() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0").build(dir.path());
    let manifest = collect(&[wheel], &[]);
    let text = manifest.to_json();
    // Written before attestations were recorded: no such key, and the seal over it holds.
    assert!(!text.contains("attestations"), "{text}");
    let loaded = Manifest::from_json(&text, Path::new("old.json")).unwrap();
    assert!(loaded.artifacts[0].attestations.is_empty());

    let mut attested = manifest.clone();
    attested.artifacts[0].attestations = vec![record(
        "demo-1.0-py3-none-any.whl",
        ".publish.attestation",
        &"a".repeat(64),
        7,
    )];
    attested.seal();
    assert_ne!(attested.digest, manifest.digest);
    let reloaded = Manifest::from_json(&attested.to_json(), Path::new("m.json")).unwrap();
    assert_eq!(reloaded, attested);
    // The record is part of the seal: changing the signer is caught on load.
    let edited = attested
        .to_json()
        .replace("github.com/o/r/", "github.com/evil/r/");
    let error = Manifest::from_json(&edited, Path::new("m.json")).unwrap_err();
    assert!(matches!(error, ManifestError::Tampered { .. }), "{error}");
}

#[test]
fn merge_unites_the_attestations_of_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0").build(dir.path());
    let name = "demo-1.0-py3-none-any.whl";
    let publish = record(name, ".publish.attestation", &"a".repeat(64), 7);
    let slsa = record(name, ".slsa.attestation", &"b".repeat(64), 3);
    let mut a = collect(std::slice::from_ref(&wheel), &[("python", "3.7")]);
    a.artifacts[0].attestations = vec![publish.clone()];
    a.seal();
    let mut b = collect(std::slice::from_ref(&wheel), &[("python", "3.8")]);
    b.artifacts[0].attestations = vec![publish.clone(), slsa.clone()];
    b.seal();
    let c = collect(&[wheel], &[("python", "3.9")]);
    let merged = merge("test", &[("a".into(), a), ("b".into(), b), ("c".into(), c)]).unwrap();
    let artifact = merged.artifact(name).unwrap();
    assert_eq!(artifact.jobs.len(), 3);
    assert_eq!(artifact.attestations, vec![publish, slsa]);
    // Select keeps them as they are.
    let release = select("test", &merged, &labels(&[("python", "3.9")]), &[]).unwrap();
    assert_eq!(release.artifacts[0].attestations, artifact.attestations);
}

#[test]
fn attestation_files_beside_listed_artifacts_are_not_unlisted() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = WheelBuilder::new("demo", "1.0").build(dir.path());
    let manifest = collect(&[wheel], &[]);
    for name in [
        "demo-1.0-py3-none-any.whl.publish.attestation",
        "demo-1.0-py3-none-any.whl.slsa.attestation",
        "demo-1.0-py3-none-any.whl.provenance",
        "other-1.0.tar.gz.publish.attestation",
        ".publish.attestation",
    ] {
        fs_err::write(dir.path().join(name), b"{}").unwrap();
    }
    let report = verify_dir(
        &manifest,
        dir.path(),
        &[],
        false,
        &Limits::default(),
        &NoProgress,
    )
    .unwrap();
    assert!(report.all_ok(), "{report:?}");
    assert_eq!(
        report.unlisted,
        vec![
            dir.path().join(".publish.attestation"),
            dir.path().join("other-1.0.tar.gz.publish.attestation"),
        ]
    );
}

#[test]
fn attestation_paths_append_the_suffixes_and_name_back_their_file() {
    let [publish, slsa, provenance] = attestation_paths(Path::new("dist/a-1.0.tar.gz"));
    assert_eq!(publish, Path::new("dist/a-1.0.tar.gz.publish.attestation"));
    assert_eq!(slsa, Path::new("dist/a-1.0.tar.gz.slsa.attestation"));
    assert_eq!(provenance, Path::new("dist/a-1.0.tar.gz.provenance"));
    for path in [publish, slsa, provenance] {
        let name = path.file_name().unwrap().to_str().unwrap();
        assert_eq!(attested_file_name(name), Some("a-1.0.tar.gz"));
    }
}

#[test]
fn attested_file_names_strip_one_known_suffix() {
    assert_eq!(
        attested_file_name("a-1.0.tar.gz.publish.attestation"),
        Some("a-1.0.tar.gz")
    );
    assert_eq!(
        attested_file_name("a-1.0.tar.gz.slsa.attestation"),
        Some("a-1.0.tar.gz")
    );
    assert_eq!(
        attested_file_name("a-1.0.tar.gz.provenance"),
        Some("a-1.0.tar.gz")
    );
    assert_eq!(attested_file_name("a-1.0.tar.gz.attestation"), None);
    assert_eq!(attested_file_name("a-1.0.tar.gz"), None);
    assert_eq!(attested_file_name(".provenance"), None);
}

fn check_committed_schema(name: &str, schema: &serde_json::Value) {
    let path = custody_test_support::workspace_root()
        .join("docs/schemas")
        .join(name);
    let generated = serde_json::to_string_pretty(schema).unwrap() + "\n";
    if std::env::var_os("CUSTODY_UPDATE_SCHEMAS").is_some() {
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(&path, &generated).unwrap();
    }
    let committed = fs_err::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/schemas/{name} is out of date\nhint: run `CUSTODY_UPDATE_SCHEMAS=1 cargo test -p custody-manifest` and commit the result"
    );
}

#[test]
fn the_committed_schemas_are_current() {
    check_committed_schema("manifest-v1.schema.json", &schema());
    check_committed_schema("approval-v1.schema.json", &crate::approval_schema());
}
