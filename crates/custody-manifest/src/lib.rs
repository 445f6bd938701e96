//! The custody manifest: versioned JSON describing a set of verified artifacts (file
//! name, kind, size, sha256/md5/blake2b-256, project, wheel tags, labels, CI context,
//! the PEP 740 attestations verified for each file), sealed with a digest of its own.
//! Merging, selecting and checking files against it live here, so every step that hands
//! artifacts on re-verifies them the same way.

mod approval;
mod combine;
mod model;
mod sealed;
mod verify;

pub use approval::{
    APPROVAL_VERSION, Approval, ApprovalError, ApprovedFile, Decision, approval_schema,
};
pub use combine::{CombineError, merge, select};
pub use model::{
    ATTESTATION_SUFFIXES, Artifact, AttestationRecord, Job, MANIFEST_VERSION, Manifest,
    ManifestError, Selection, attestation_paths, attested_file_name,
};
pub use sealed::{canonical_json, seal_digest, write_atomically};
pub use verify::{
    DirReport, EntryReport, FileCheck, candidates, check_file, index_dir, verify_dir,
};

/// The JSON Schema of the manifest, as committed in `docs/schemas/manifest-v1.schema.json`.
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Manifest)).expect("a schema serializes")
}

#[cfg(test)]
mod tests;
