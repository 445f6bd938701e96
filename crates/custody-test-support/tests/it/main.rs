//! The test support's own integration tests: the local Sigstore stack driven by the real
//! sigstore-rust signer and judged by the real verifiers (sigstore-python,
//! pypi-attestations, sigstore-rust), with its certificates compared to Fulcio's.

mod sigstore_csr;
mod sigstore_python;
mod sigstore_refusals;
mod sigstore_stack;
