//! The custody-attest integration tests: real PEP 740 attestations from PyPI's publish
//! flow (pypi-attestations' test assets and the same files from PyPI), verified,
//! tampered with, and every verdict cross-checked with the `pypi-attestations` CLI.

mod assets;
mod bundle;
mod common;
mod differential;
mod refresh;
mod roundtrip;
mod sign;
mod tamper;
