//! How long verifying one attestation takes: `cargo run --release -p custody-attest
//! --example verify_timing -- target/test-fixtures/attestations/assets [ITERATIONS]`.
//! A measurement for the README, not a test: nothing here asserts a time.
#![allow(clippy::print_stdout)]

use std::path::Path;
use std::time::Instant;

use custody_attest::{Attestation, TrustRoot, verify};
use sha2::{Digest, Sha256};

fn main() {
    let mut args = std::env::args().skip(1);
    let assets = args.next().expect("the assets directory");
    let iterations: u32 = args.next().map_or(100, |n| n.parse().expect("a count"));
    let assets = Path::new(&assets);

    let started = Instant::now();
    let production = TrustRoot::public_good();
    let staging = TrustRoot::staging();
    println!(
        "both embedded trust roots loaded in {:?}",
        started.elapsed()
    );

    for (file, root) in [
        ("pypi_attestations-0.0.19.tar.gz", &production),
        ("gitlab_oidc_project-0.0.3.tar.gz", &production),
        ("rfc8785-0.1.2-py3-none-any.whl", &staging),
    ] {
        let json = fs_err::read(assets.join(format!("{file}.publish.attestation"))).unwrap();
        let sha256 = hex::encode(Sha256::digest(fs_err::read(assets.join(file)).unwrap()));
        let started = Instant::now();
        for _ in 0..iterations {
            let attestation = Attestation::from_json(&json).unwrap();
            verify(file, &sha256, &attestation, root, None).unwrap();
        }
        println!(
            "{file}: {:?} per attestation (parse and verify, {iterations} iterations)",
            started.elapsed() / iterations
        );
    }
}
