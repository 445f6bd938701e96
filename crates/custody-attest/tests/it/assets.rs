//! Every real attestation verifies: `pypi-attestations`' assets (made by PyPI's publish
//! flow on GitHub, GitLab, Google Cloud Build and `CircleCI`, and by `sigstore-python` on
//! Sigstore's staging instance), the provenance objects PyPI serves for them, and the
//! same files as downloaded from PyPI.

use custody_attest::{Identity, PUBLISH_V1, Provenance, SLSA_PROVENANCE_V1, Verified, verify};

use crate::common::{
    Instance, asset, assets_dir, attestation, attestation_assets, read, released_dir, sha256_hex,
};

/// The SAN of each signer, as `pypi-attestations inspect` shows it.
fn signer(file: &str) -> &'static str {
    match file {
        "circleci_sign_publish_example-0.0.1.dev137-py3-none-any.whl" => {
            "https://circleci.com/api/v2/projects/fdd9283f-e619-46af-8f9c-851f7d3e8b2b/pipeline-definitions/8e4f8ab2-8d7c-4827-9f15-de076d6d647f"
        }
        "gitlab_oidc_project-0.0.3.tar.gz" => {
            "https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main"
        }
        "pypi_attestation_models-0.0.4a2.tar.gz" => {
            "https://github.com/trailofbits/pypi-attestation-models/.github/workflows/release.yml@refs/tags/v0.0.4a2"
        }
        "pypi_attestations-0.0.19.tar.gz" => {
            "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19"
        }
        "gcb_attestation_test-0.0.0.tar.gz" => "919436158236-compute@developer.gserviceaccount.com",
        _ => "william@yossarian.net",
    }
}

/// The digest to verify against: the file's, or, for the one attestation whose file is
/// not among the assets (spt3g's 30 MB wheel), the statement's own. That case proves
/// the Sigstore material and the identity only, not a file.
fn digest_of(file: &str, attestation: &custody_attest::Attestation) -> String {
    let path = asset(file);
    if path.exists() {
        sha256_hex(&read(&path))
    } else {
        assert!(file.starts_with("spt3g-"), "`{file}` is missing");
        attestation.statement().unwrap().subject_sha256.unwrap()
    }
}

#[test]
fn every_attestation_asset_verifies_with_its_signer() {
    let assets = attestation_assets();
    assert_eq!(assets.len(), 8, "{assets:?}");
    for (name, file) in assets {
        let attestation = attestation(&name);
        let sha256 = digest_of(&file, &attestation);
        let instance = Instance::of(&file);
        let identity = if signer(&file).contains("://") {
            format!("uri:{}", signer(&file))
        } else {
            format!("email:{}", signer(&file))
        };
        let identity: Identity = identity.parse().unwrap();
        let verified: Verified = verify(
            &file,
            &sha256,
            &attestation,
            &instance.root(),
            Some(&identity),
        )
        .unwrap_or_else(|error| panic!("{name}: {error:?}"));
        let predicate = if name.ends_with(".slsa.attestation") {
            SLSA_PROVENANCE_V1
        } else {
            PUBLISH_V1
        };
        assert_eq!(verified.predicate_type, predicate, "{name}");
        assert_eq!(verified.subject_name, file, "{name}");
        assert_eq!(verified.sha256, sha256, "{name}");
        assert_eq!(verified.claims.identity, signer(&file), "{name}");
        assert!(verified.log_index.is_some(), "{name}");
        assert!(
            verified.integrated_time.unwrap().starts_with("20"),
            "{name}"
        );
    }
}

#[test]
fn a_github_attestation_reports_the_workflow_run() {
    let file = "pypi_attestations-0.0.19.tar.gz";
    let attestation = attestation(&format!("{file}.publish.attestation"));
    let identity: Identity = "github:trailofbits/pypi-attestations/release.yml@refs/tags/v*"
        .parse()
        .unwrap();
    let verified = verify(
        file,
        &sha256_hex(&read(&asset(file))),
        &attestation,
        &Instance::Production.root(),
        Some(&identity),
    )
    .unwrap();
    assert_eq!(verified.log_index, Some(153_454_663));
    assert_eq!(
        verified.integrated_time.as_deref(),
        Some("2024-12-04T23:14:01Z")
    );
    let claims = verified.claims;
    assert_eq!(claims.issuer, "https://token.actions.githubusercontent.com");
    assert_eq!(claims.source_ref.as_deref(), Some("refs/tags/v0.0.19"));
    assert_eq!(claims.build_trigger.as_deref(), Some("release"));
    assert_eq!(
        claims.source_repository.as_deref(),
        Some("https://github.com/trailofbits/pypi-attestations")
    );
}

/// PyPI's provenance objects name the trusted publisher; each attestation verifies for
/// that publisher's identity (`CircleCI`, which `Identity` has no form for, by its SAN).
#[test]
fn provenance_attestations_verify_for_their_publisher() {
    let mut names: Vec<String> = fs_err::read_dir(assets_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".provenance"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    let mut verified = 0;
    for name in names {
        let file = name.strip_suffix(".provenance").unwrap();
        let provenance = Provenance::from_json(&read(&asset(&name))).unwrap();
        let sha256 = sha256_hex(&read(&asset(file)));
        for bundle in &provenance.attestation_bundles {
            let identity = Identity::from_publisher(&bundle.publisher)
                .unwrap_or_else(|| format!("uri:{}", signer(file)).parse().unwrap());
            for attestation in &bundle.attestations {
                verify(
                    file,
                    &sha256,
                    attestation,
                    &Instance::Production.root(),
                    Some(&identity),
                )
                .unwrap_or_else(|error| panic!("{name}: {error:?}"));
                verified += 1;
            }
        }
        assert_eq!(provenance.attestations().count(), 1, "{name}");
    }
    // One attestation per provenance object (PyPI served the publish attestation only).
    assert_eq!(verified, 3);
}

/// The files pypi-attestations ships as test assets are the files on PyPI, and their
/// attestations verify against the downloaded files.
#[test]
fn released_files_are_the_assets_and_verify() {
    let mut compared = 0;
    for entry in fs_err::read_dir(released_dir()).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_str().unwrap().to_owned();
        let released = read(&path);
        let Ok(asset_bytes) = fs_err::read(asset(&file)) else {
            // pypi-attestations 0.0.30 itself, whose sdist the assets came from.
            assert_eq!(file, "pypi_attestations-0.0.30.tar.gz");
            continue;
        };
        assert_eq!(sha256_hex(&released), sha256_hex(&asset_bytes), "{file}");
        let name = format!("{file}.publish.attestation");
        verify(
            &file,
            &sha256_hex(&released),
            &attestation(&name),
            &Instance::of(&file).root(),
            None,
        )
        .unwrap_or_else(|error| panic!("{name}: {error:?}"));
        compared += 1;
    }
    assert_eq!(compared, 2);
}
