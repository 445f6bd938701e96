//! The formats round-trip, and match what `pypi-attestations` writes: an attestation's
//! JSON (`model_dump_json`), and the attestation a Sigstore bundle converts to
//! (`pypi-attestations convert`).

use std::process::Command;

use custody_attest::Attestation;
use custody_test_support::sigstore::{pypi_attestations, run_tool, sigstore_python};
use sigstore_types::Bundle;

use crate::common::{asset, attestation, attestation_assets, read};

#[test]
fn attestation_json_round_trips_byte_for_byte() {
    for (name, _) in attestation_assets() {
        let parsed = attestation(&name);
        let written = parsed.to_json();
        let again = Attestation::from_json(written.as_bytes()).unwrap();
        assert_eq!(again, parsed, "{name}");
        assert_eq!(again.to_json(), written, "{name}");
    }
}

/// `Attestation.model_validate_json(...).model_dump_json()` for each file, by
/// pypi-attestations in one Python process.
fn pypi_attestations_dump(paths: &[std::path::PathBuf]) -> Vec<String> {
    let script = "import sys\nfrom pypi_attestations import Attestation\nfor path in sys.argv[1:]:\n    print(Attestation.model_validate_json(open(path, 'rb').read()).model_dump_json())\n";
    let stdout = run_tool(
        Command::new(sigstore_python())
            .arg("-c")
            .arg(script)
            .args(paths),
    );
    String::from_utf8(stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn to_json_is_what_pypi_attestations_writes() {
    let assets = attestation_assets();
    let paths: Vec<_> = assets.iter().map(|(name, _)| asset(name)).collect();
    let theirs = pypi_attestations_dump(&paths);
    assert_eq!(theirs.len(), assets.len());
    let mut byte_equal = 0;
    for ((name, _), theirs) in assets.iter().zip(theirs) {
        let ours = attestation(name).to_json();
        if name == "pypi_attestations-0.0.19.tar.gz.publish.attestation" {
            // This asset's entry was written with sorted keys, which pydantic keeps;
            // custody writes the protobuf order sigstore-python signs with. Same JSON.
            let as_value = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
            assert_eq!(as_value(&ours), as_value(&theirs), "{name}");
            assert_ne!(ours, theirs, "{name}");
        } else {
            assert_eq!(ours, theirs, "{name}");
            byte_equal += 1;
        }
    }
    assert_eq!(byte_equal, 7);
}

#[test]
fn from_bundle_inverts_to_bundle() {
    for (name, _) in attestation_assets() {
        let parsed = attestation(&name);
        assert_eq!(
            parsed.verification_material.transparency_entries.len(),
            1,
            "{name}"
        );
        let bundle = parsed.to_bundle().unwrap();
        assert_eq!(Attestation::from_bundle(&bundle).unwrap(), parsed, "{name}");
        // And through the bundle's JSON, as a signer would hand it over.
        let bundle = Bundle::from_json(&bundle.to_json().unwrap()).unwrap();
        assert_eq!(Attestation::from_bundle(&bundle).unwrap(), parsed, "{name}");
    }
}

/// `pypi-attestations convert BUNDLE --output-file OUT`.
fn pypi_attestations_convert(bundle_json: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle.sigstore.json");
    let out = dir.path().join("out.attestation");
    fs_err::write(&bundle, bundle_json).unwrap();
    run_tool(
        Command::new(pypi_attestations())
            .arg("convert")
            .arg(&bundle)
            .arg("--output-file")
            .arg(&out),
    );
    fs_err::read_to_string(&out).unwrap()
}

/// Our bundle, converted back by pypi-attestations, is our attestation: `to_bundle`
/// writes a bundle sigstore-python reads as the same signature and log entry.
#[test]
fn pypi_attestations_converts_our_bundles_back_to_the_attestation() {
    for (name, _) in attestation_assets() {
        let parsed = attestation(&name);
        let bundle = parsed.to_bundle().unwrap().to_json().unwrap();
        let theirs = pypi_attestations_convert(bundle.as_bytes());
        assert_eq!(theirs, parsed.to_json(), "{name}");
    }
}

/// The real Sigstore bundles among the assets (made by sigstore-python) convert to the
/// attestation files pypi-attestations made of them, and as `convert` does today.
#[test]
fn real_bundles_convert_like_pypi_attestations() {
    for file in [
        "rfc8785-0.1.2-py3-none-any.whl",
        "pypi_attestation_models-0.0.4a2.tar.gz",
    ] {
        let bundle_json = read(&asset(&format!("{file}.sigstore")));
        let bundle = Bundle::from_json(std::str::from_utf8(&bundle_json).unwrap()).unwrap();
        let ours = Attestation::from_bundle(&bundle).unwrap();
        assert_eq!(ours, attestation(&format!("{file}.attestation")), "{file}");
        assert_eq!(
            ours.to_json(),
            pypi_attestations_convert(&bundle_json),
            "{file}"
        );
    }
}
