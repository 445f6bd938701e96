//! Where an error becomes an exit code. Library crates return their own error enums and
//! know nothing of exit codes; a step's own errors, and the domain errors every step
//! shares (manifest, HTTP), are classified here by implementing [`Diagnose`], and `?`
//! turns any of them into the [`Failure`] that [`crate::run`] reports.

use custody_http::HttpError;
use custody_manifest::{ApprovalError, CombineError, ManifestError};
use custody_output::ExitStatus;

/// An error a step can end with: it knows which exit status it means and, where there is
/// one, the fix to show as a `hint:` line. The hint is data, never part of `Display`.
pub trait Diagnose: std::error::Error + Send + Sync + 'static {
    fn exit_status(&self) -> ExitStatus;

    fn hint(&self) -> Option<String> {
        None
    }
}

/// A failed step: the error to report, the exit status to end with, and the hint.
#[derive(Debug)]
pub struct Failure {
    pub status: ExitStatus,
    pub error: Box<dyn std::error::Error + Send + Sync + 'static>,
    pub hint: Option<String>,
}

/// What a step's `run` returns: the exit status of a completed run (which may be the
/// step's "no"), or a failure to report.
pub type StepResult = Result<ExitStatus, Failure>;

impl Failure {
    pub fn new(
        status: ExitStatus,
        error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self {
            status,
            error: error.into(),
            hint: None,
        }
    }

    /// The same failure with `hint` as its fix.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Bad input: a missing or malformed file.
    pub fn input(error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self::new(ExitStatus::Input, error)
    }

    /// The environment failed: I/O, network, server.
    pub fn environment(
        error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self::new(ExitStatus::Environment, error)
    }

    /// Wrong usage that clap could not catch (conflicting values, bad combinations).
    pub fn usage(error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self::new(ExitStatus::Usage, error)
    }

    /// The step's "no", with an explanation.
    pub fn no(error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self::new(ExitStatus::No, error)
    }
}

impl<E: Diagnose> From<E> for Failure {
    fn from(error: E) -> Self {
        Self {
            status: error.exit_status(),
            hint: error.hint(),
            error: Box::new(error),
        }
    }
}

impl Diagnose for HttpError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::BadUrl(_) | Self::InsecureTransport { .. } => ExitStatus::Usage,
            _ => ExitStatus::Environment,
        }
    }
}

impl Diagnose for ManifestError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Read { .. } | Self::Parse { .. } | Self::Version { .. } => ExitStatus::Input,
            Self::Tampered { .. } => ExitStatus::No,
            Self::Write { .. } => ExitStatus::Environment,
        }
    }
}

impl Diagnose for CombineError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Conflict { .. } | Self::NothingSelected { .. } => ExitStatus::No,
            Self::NothingToMerge => ExitStatus::Usage,
        }
    }
}

impl Diagnose for ApprovalError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Read { .. } | Self::Parse { .. } | Self::Version { .. } => ExitStatus::Input,
            Self::Tampered { .. } | Self::NotApproved { .. } | Self::WrongManifest { .. } => {
                ExitStatus::No
            }
            Self::Write { .. } => ExitStatus::Environment,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn a_tampered_manifest_is_the_steps_no() {
        let manifest = custody_manifest::Manifest::new("test", Vec::new(), Vec::new(), None);
        let edited = manifest.to_json().replace("\"test\"", "\"edited\"");
        let error =
            custody_manifest::Manifest::from_json(&edited, Path::new("release.json")).unwrap_err();
        assert!(matches!(error, ManifestError::Tampered { .. }), "{error}");
        let failure = Failure::from(error);
        assert_eq!(failure.status, ExitStatus::No);
    }

    #[test]
    fn a_hint_travels_as_data() {
        #[derive(Debug, thiserror::Error)]
        #[error("`dist/` holds no wheel")]
        struct Empty;
        impl Diagnose for Empty {
            fn exit_status(&self) -> ExitStatus {
                ExitStatus::Input
            }
            fn hint(&self) -> Option<String> {
                Some("build first".to_owned())
            }
        }
        let failure = Failure::from(Empty);
        assert_eq!(failure.status, ExitStatus::Input);
        assert_eq!(failure.hint.as_deref(), Some("build first"));
        assert_eq!(failure.error.to_string(), "`dist/` holds no wheel");
    }
}
