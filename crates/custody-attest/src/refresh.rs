//! Refreshing a shipped trust root through its TUF repository, the way Sigstore clients
//! do: the TUF root pinned in sigstore-trust-root verifies the repository's root chain,
//! timestamp, snapshot and targets metadata, and then the `trusted_root.json` target by
//! its hash and length. The result is written to a file that verification pins with
//! [`TrustRoot::from_file`]; verifying itself never needs the network.

use std::path::Path;

use sigstore_trust_root::{SigstoreInstance, TrustedRoot, TufBootstrap, TufConfig};

use crate::error::AttestError;
use crate::trust::{TrustRoot, TrustSource};

/// A TUF repository that serves a Sigstore `trusted_root.json`, and the TUF root that
/// bootstraps trust in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TufRepository {
    /// The repository's base URL (metadata at `URL/N.root.json`, targets under `URL/targets/`).
    pub url: String,
    /// The pinned TUF `root.json`.
    pub root: Vec<u8>,
}

impl TufRepository {
    /// Sigstore's public-good repository and the TUF root sigstore-trust-root ships.
    pub fn public_good() -> Self {
        Self::of(SigstoreInstance::PublicGood)
    }

    /// Sigstore's staging repository and the TUF root sigstore-trust-root ships.
    pub fn staging() -> Self {
        Self::of(SigstoreInstance::Staging)
    }

    fn of(instance: SigstoreInstance) -> Self {
        Self {
            url: instance.tuf_url().to_owned(),
            root: instance.tuf_root().to_vec(),
        }
    }
}

/// A refreshed trust root, and its JSON to keep (`--trust-root FILE` pins it later).
#[derive(Debug, Clone)]
pub struct Refreshed {
    pub root: TrustRoot,
    pub json: String,
}

/// Fetches and verifies the current `trusted_root.json` of `repository`. With a
/// `cache_dir`, verified metadata is kept there, so a later refresh also refuses a
/// rollback to older metadata; without one, each refresh starts from the pinned root.
pub fn refresh(
    repository: &TufRepository,
    cache_dir: Option<&Path>,
) -> Result<Refreshed, AttestError> {
    let failed = |source| AttestError::TrustRootRefresh {
        url: repository.url.clone(),
        source,
    };
    let mut config = TufConfig::custom(
        repository.url.clone(),
        TufBootstrap::trusted(&repository.root),
    );
    config = match cache_dir {
        Some(dir) => config.with_cache_dir(dir.to_owned()),
        None => config.without_cache(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| AttestError::Runtime { source })?;
    let root = runtime
        .block_on(TrustedRoot::from_tuf(config))
        .map_err(failed)?;
    // Serializing the parsed root cannot fail: it holds strings, numbers and bytes.
    let json = serde_json::to_string_pretty(&root).expect("a trusted root serializes");
    let source = TrustSource::Refreshed(repository.url.clone());
    let root = TrustRoot::from_json(source, &json)?;
    Ok(Refreshed { root, json })
}
