//! PEP 740 provenance for Python distributions: the attestation and provenance formats
//! PyPI and `pypi-attestations` write, the signer a verifier expects, the Sigstore trust
//! roots, and the verification of one attestation against one file.
//!
//! Signature, certificate chain, SCT and transparency-log checks are sigstore-rust's
//! (`sigstore-verify`); this crate adds what PEP 740 and PyPI ask on top of them: the
//! expected publisher identity, read from the Fulcio certificate's claims, and the
//! in-toto statement's rules (one subject, named and hashed like the file, a predicate
//! type PyPI knows).

pub mod error;
pub mod identity;
pub mod model;
pub mod refresh;
pub mod sign;
pub mod trust;
pub mod verify;

pub use error::{AttestError, RefreshFailure, SigstoreStage};
pub use identity::{Claims, Identity, IdentityMismatch, IdentityParseError, RefPattern};
pub use model::{
    Attestation, AttestationBundle, Envelope, Provenance, Publisher, Statement, Subject,
    VerificationMaterial, publish_statement,
};
pub use refresh::{Refreshed, TufRepository, refresh};
pub use trust::{TrustRoot, TrustSource};
pub use verify::{Verified, verify, verify_bundle};

/// The predicate type of PyPI's publish attestation.
pub const PUBLISH_V1: &str = "https://docs.pypi.org/attestations/publish/v1";
/// The predicate type of a SLSA v1 build provenance.
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
/// The in-toto statement type every PEP 740 attestation carries.
pub const IN_TOTO_STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// The DSSE payload type of an in-toto statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
