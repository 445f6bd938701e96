//! Why no attestations could be made or sent: every one is found before the first byte
//! is uploaded.

use custody_attest::AttestError;
use custody_attest::sign::SignError;
use custody_cli::Diagnose;
use custody_output::ExitStatus;
use thiserror::Error;

use super::job::NotAJob;

#[derive(Debug, Error)]
pub(crate) enum ProvenanceError {
    #[error("the Sigstore identity token names no CI job: {reason}")]
    NotAJob { reason: String },
    #[error(
        "attestations signed in the reusable workflow `{callee}` name the calling workflow `{caller}`, which the index refuses"
    )]
    ReusableWorkflow { caller: String, callee: String },
    #[error("`{shown}` cannot go to the index with its file: {reason}")]
    Beside { shown: String, reason: String },
    #[error("cannot sign the attestations of `{files}`; nothing was uploaded")]
    Sign {
        /// The file names, joined with "`, `".
        files: String,
        #[source]
        source: Box<SignError>,
    },
    #[error("`{file_name}`: the attestation just signed does not verify against the {root}")]
    Unverified {
        file_name: String,
        root: String,
        #[source]
        source: Box<AttestError>,
    },
    #[error("cannot write `{shown}`")]
    Write {
        shown: String,
        #[source]
        source: std::io::Error,
    },
}

impl ProvenanceError {
    pub(super) fn not_a_job(error: NotAJob) -> Self {
        Self::NotAJob {
            reason: error.reason,
        }
    }
}

impl Diagnose for ProvenanceError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::ReusableWorkflow { .. } | Self::Beside { .. } => ExitStatus::No,
            Self::NotAJob { .. }
            | Self::Sign { .. }
            | Self::Unverified { .. }
            | Self::Write { .. } => ExitStatus::Environment,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::NotAJob { .. } => Some(
                "sign from GitHub Actions (`permissions: id-token: write`) or GitLab CI (`id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore`)"
                    .to_owned(),
            ),
            Self::ReusableWorkflow { .. } => Some(
                "PyPI matches the trusted publisher on the called workflow but the certificate on the triggered one: move the publish job into the workflow that is triggered, or pass --attestations off"
                    .to_owned(),
            ),
            Self::Beside { .. } => Some(
                "remove it, or make it again for this file in this workflow: the index verifies every attestation against the trusted publisher"
                    .to_owned(),
            ),
            Self::Sign { source, .. } => source.hint().map(str::to_owned),
            Self::Unverified { .. } => Some(
                "pass the trust root of the Sigstore instance that signs with --sigstore-trust-root"
                    .to_owned(),
            ),
            Self::Write { .. } => None,
        }
    }
}
