//! The Sigstore trust roots a verifier pins: the public-good and staging roots shipped
//! inside sigstore-trust-root (so verifying needs no network), or a trusted root JSON
//! file (a refreshed root, or a private Sigstore stack's).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sigstore_trust_root::{SigstoreInstance, TrustedRoot};
use sigstore_verify::Verifier;

use crate::error::AttestError;

/// The sigstore-trust-root release whose embedded roots are shipped, for
/// [`TrustRoot::describe`]; a test keeps it equal to the workspace's dependency.
pub const EMBEDDED_ROOTS_VERSION: &str = "0.15.1";

/// Where a trust root came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustSource {
    /// Sigstore's public-good instance (what PyPI's publish flow signs with).
    PublicGood,
    /// Sigstore's staging instance (what TestPyPI flows and some test assets use).
    Staging,
    /// A trusted root JSON file.
    File(PathBuf),
    /// Refreshed just now through the TUF repository at this URL.
    Refreshed(String),
}

/// A Sigstore trusted root, ready to verify with.
#[derive(Clone)]
pub struct TrustRoot {
    source: TrustSource,
    root: TrustedRoot,
    verifier: Arc<Verifier>,
}

impl fmt::Debug for TrustRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustRoot")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl TrustRoot {
    /// Sigstore's public-good root, as shipped.
    pub fn public_good() -> Self {
        Self::embedded(SigstoreInstance::PublicGood, TrustSource::PublicGood)
    }

    /// Sigstore's staging root, as shipped.
    pub fn staging() -> Self {
        Self::embedded(SigstoreInstance::Staging, TrustSource::Staging)
    }

    fn embedded(instance: SigstoreInstance, source: TrustSource) -> Self {
        // The embedded roots are compile-time constants of sigstore-trust-root; the
        // `embedded_roots_load` test proves both parse and make a verifier.
        let root = TrustedRoot::from_embedded(instance).expect("the embedded trust root parses");
        Self::new(source, root).expect("the embedded trust root makes a verifier")
    }

    /// A trusted root JSON file (Sigstore's `trusted_root.json` format).
    pub fn from_file(path: &Path) -> Result<Self, AttestError> {
        let json =
            fs_err::read_to_string(path).map_err(|source| AttestError::TrustRootUnreadable {
                path: path.to_owned(),
                source,
            })?;
        Self::from_json(TrustSource::File(path.to_owned()), &json)
    }

    /// A trusted root from its JSON text; `source` says where it came from.
    pub fn from_json(source: TrustSource, json: &str) -> Result<Self, AttestError> {
        let name = describe_source(&source);
        let root =
            TrustedRoot::from_json(json).map_err(|source| AttestError::TrustRootInvalid {
                name: name.clone(),
                source: sigstore_verify::Error::TrustRoot(source),
            })?;
        Self::new(source, root).map_err(|source| AttestError::TrustRootInvalid { name, source })
    }

    fn new(source: TrustSource, root: TrustedRoot) -> Result<Self, sigstore_verify::Error> {
        let verifier = Arc::new(Verifier::new(&root)?);
        Ok(Self {
            source,
            root,
            verifier,
        })
    }

    pub fn source(&self) -> &TrustSource {
        &self.source
    }

    /// The parsed trusted root.
    pub fn trusted_root(&self) -> &TrustedRoot {
        &self.root
    }

    pub(crate) fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// What this root is, for reports: `Sigstore public-good (embedded,
    /// sigstore-trust-root 0.15.1)`.
    pub fn describe(&self) -> String {
        describe_source(&self.source)
    }
}

fn describe_source(source: &TrustSource) -> String {
    match source {
        TrustSource::PublicGood => {
            format!("Sigstore public-good (embedded, sigstore-trust-root {EMBEDDED_ROOTS_VERSION})")
        }
        TrustSource::Staging => {
            format!("Sigstore staging (embedded, sigstore-trust-root {EMBEDDED_ROOTS_VERSION})")
        }
        TrustSource::File(path) => format!("trusted root file `{}`", path.display()),
        TrustSource::Refreshed(url) => {
            format!("Sigstore trusted root refreshed from `{url}` (TUF)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_roots_load() {
        assert_eq!(TrustRoot::public_good().source(), &TrustSource::PublicGood);
        assert!(!TrustRoot::staging().trusted_root().tlogs.is_empty());
        assert_eq!(
            TrustRoot::public_good().describe(),
            "Sigstore public-good (embedded, sigstore-trust-root 0.15.1)"
        );
    }

    #[test]
    fn the_described_version_is_the_dependency() {
        let manifest = include_str!("../../../Cargo.toml");
        let line = manifest
            .lines()
            .find(|line| line.starts_with("sigstore-trust-root = "))
            .unwrap();
        assert!(
            line.contains(&format!("version = \"{EMBEDDED_ROOTS_VERSION}\"")),
            "{line}"
        );
    }

    #[test]
    fn a_root_file_that_is_not_a_trusted_root_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.json");
        fs_err::write(&path, "{\"mediaType\": 3}").unwrap();
        let error = TrustRoot::from_file(&path).unwrap_err();
        assert_eq!(error.code(), "trust-root-invalid");
        let missing = TrustRoot::from_file(&dir.path().join("missing.json")).unwrap_err();
        assert_eq!(missing.code(), "trust-root-unreadable");
    }
}
