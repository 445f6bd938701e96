//! The Sigstore trust roots a verifier pins: the public-good and staging roots shipped
//! inside sigstore-trust-root (so verifying needs no network), or a trusted root JSON
//! file (a refreshed root, or a private Sigstore stack's).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use serde::Serialize;
use sigstore_trust_root::trusted_root::CertChain;
use sigstore_trust_root::{SigstoreInstance, TimeRange, TrustedRoot};
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

    /// The JSON of a shipped root exactly as sigstore-trust-root embeds it (what a
    /// user pins, byte for byte); `None` for a root that came from elsewhere.
    pub fn shipped_json(&self) -> Option<&'static str> {
        let instance = match self.source {
            TrustSource::PublicGood => SigstoreInstance::PublicGood,
            TrustSource::Staging => SigstoreInstance::Staging,
            TrustSource::File(_) | TrustSource::Refreshed(_) => return None,
        };
        Some(instance.embedded_trusted_root_json())
    }

    /// Every anchor of the root, in the root's order: Fulcio CAs, Rekor logs, CT logs,
    /// timestamp authorities.
    pub fn anchors(&self) -> Vec<Anchor> {
        let root = &self.root;
        let cas = root.certificate_authorities.iter().map(|ca| {
            Anchor::new(
                AnchorKind::FulcioCa,
                &ca.uri,
                chain_id(&ca.cert_chain),
                subject(
                    ca.subject.organization.as_deref(),
                    ca.subject.common_name.as_deref(),
                ),
                ca.valid_for.as_ref(),
            )
        });
        let tlogs = root.tlogs.iter().map(|log| {
            Anchor::new(
                AnchorKind::RekorLog,
                &log.base_url,
                hex(log.log_id.key_id.as_bytes()),
                log.public_key.key_details.to_string(),
                log.public_key.valid_for.as_ref(),
            )
        });
        let ctlogs = root.ctlogs.iter().map(|log| {
            Anchor::new(
                AnchorKind::CtLog,
                &log.base_url,
                hex(log.log_id.key_id.as_bytes()),
                log.public_key.key_details.to_string(),
                log.public_key.valid_for.as_ref(),
            )
        });
        let tsas = root.timestamp_authorities.iter().map(|tsa| {
            Anchor::new(
                AnchorKind::TimestampAuthority,
                tsa.uri.as_deref().unwrap_or_default(),
                chain_id(&tsa.cert_chain),
                subject(
                    tsa.subject.organization.as_deref(),
                    tsa.subject.common_name.as_deref(),
                ),
                tsa.valid_for.as_ref(),
            )
        });
        cas.chain(tlogs).chain(ctlogs).chain(tsas).collect()
    }
}

/// What vouches for a signature in a trusted root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnchorKind {
    /// A Fulcio certificate authority: signing certificates must chain to it.
    FulcioCa,
    /// A Rekor transparency log's key: it signs checkpoints and entry timestamps.
    RekorLog,
    /// A certificate transparency log's key: it signs the SCTs in Fulcio certificates.
    CtLog,
    /// An RFC 3161 timestamp authority.
    TimestampAuthority,
}

impl fmt::Display for AnchorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::FulcioCa => "Fulcio CA",
            Self::RekorLog => "Rekor log",
            Self::CtLog => "CT log",
            Self::TimestampAuthority => "TSA",
        })
    }
}

/// One anchor of a trusted root, and the window in which the root lets it vouch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Anchor {
    pub kind: AnchorKind,
    /// The service (`baseUrl` of a log, `uri` of a CA or TSA).
    pub url: String,
    /// What names it across roots, hex: a log's key id, or the sha256 of the first
    /// certificate of a CA's or TSA's chain.
    pub id: String,
    /// A CA's or TSA's certificate subject (`sigstore.dev/sigstore`), a log key's
    /// algorithm (`PKIX_ED25519`).
    pub detail: String,
    /// The start of the window, RFC 3339; none when the root sets no window.
    pub valid_from: Option<String>,
    /// The end of the window, RFC 3339; none while it is open.
    pub valid_until: Option<String>,
    #[serde(skip)]
    window: Option<(SystemTime, Option<SystemTime>)>,
}

/// Where an anchor's window stands at some time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Validity {
    /// Inside its window (or it has none): it vouches for what is signed now.
    Current,
    /// Its window has ended: it still vouches for what was signed inside it.
    Expired,
    /// Its window has not started: a rotation announced ahead.
    NotYetValid,
}

impl fmt::Display for Validity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Current => "current",
            Self::Expired => "expired",
            Self::NotYetValid => "not yet valid",
        })
    }
}

impl Anchor {
    fn new(
        kind: AnchorKind,
        url: &str,
        id: String,
        detail: String,
        window: Option<&TimeRange>,
    ) -> Self {
        Self {
            kind,
            url: url.to_owned(),
            id,
            detail,
            valid_from: window.map(|w| w.start.to_string()),
            valid_until: window.and_then(|w| w.end.map(|end| end.to_string())),
            window: window.map(|w| (w.start.into(), w.end.map(SystemTime::from))),
        }
    }

    /// Where its window stands at `now` (both ends inclusive, as Sigstore's
    /// `TimeRange` is).
    pub fn validity(&self, now: SystemTime) -> Validity {
        match self.window {
            Some((start, _)) if now < start => Validity::NotYetValid,
            Some((_, Some(end))) if now > end => Validity::Expired,
            _ => Validity::Current,
        }
    }
}

/// How one anchor differs between two roots (matched by kind and id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum AnchorChange {
    /// Only the newer root has it: a new CA or log key.
    Added { anchor: Anchor },
    /// Only the older root has it.
    Removed { anchor: Anchor },
    /// Both have it, with another window or URL (a key given an end: retired).
    Changed { before: Anchor, after: Anchor },
}

/// What `after` changes of `before`: added and changed anchors in `after`'s order,
/// then removed ones in `before`'s. Empty when both hold the same anchors.
pub fn changes(before: &TrustRoot, after: &TrustRoot) -> Vec<AnchorChange> {
    let (old, new) = (before.anchors(), after.anchors());
    let same = |a: &Anchor, b: &Anchor| a.kind == b.kind && a.id == b.id;
    let mut changes = Vec::new();
    for anchor in &new {
        match old.iter().find(|o| same(o, anchor)) {
            None => changes.push(AnchorChange::Added {
                anchor: anchor.clone(),
            }),
            Some(o) if o != anchor => changes.push(AnchorChange::Changed {
                before: o.clone(),
                after: anchor.clone(),
            }),
            Some(_) => {}
        }
    }
    for anchor in &old {
        if !new.iter().any(|n| same(n, anchor)) {
            changes.push(AnchorChange::Removed {
                anchor: anchor.clone(),
            });
        }
    }
    changes
}

/// The sha256 of a chain's first certificate, hex; empty for an empty chain.
fn chain_id(chain: &CertChain) -> String {
    chain
        .certificates
        .first()
        .map(|cert| sigstore_verify::crypto::sha256(cert.raw_bytes.as_bytes()).to_hex())
        .unwrap_or_default()
}

fn subject(organization: Option<&str>, common_name: Option<&str>) -> String {
    [organization, common_name]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("/")
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut text, byte| {
            // Writing to a String cannot fail.
            let _ = write!(text, "{byte:02x}");
            text
        })
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
    fn the_anchors_are_the_roots_cas_logs_and_timestamp_authorities() {
        let anchors = TrustRoot::public_good().anchors();
        let kinds: Vec<_> = anchors.iter().map(|a| a.kind.to_string()).collect();
        assert_eq!(
            kinds,
            [
                "Fulcio CA",
                "Fulcio CA",
                "Rekor log",
                "Rekor log",
                "CT log",
                "CT log",
                "TSA"
            ]
        );
        // The first Fulcio root was retired at the end of 2022; the log ID is the
        // sha256 of Rekor's public-good key, as Rekor itself reports it.
        let first = &anchors[0];
        assert_eq!(first.detail, "sigstore.dev/sigstore");
        assert_eq!(first.valid_from.as_deref(), Some("2021-03-07T03:20:29Z"));
        assert_eq!(
            first.valid_until.as_deref(),
            Some("2022-12-31T23:59:59.999Z")
        );
        assert_eq!(first.validity(SystemTime::now()), Validity::Expired);
        let rekor = &anchors[2];
        assert_eq!(rekor.url, "https://rekor.sigstore.dev");
        assert_eq!(
            rekor.id,
            "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"
        );
        assert_eq!(rekor.valid_until, None);
        let at = |seconds| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
        // 2021-01-01, 2022-06-01 and 2023-01-01.
        assert_eq!(first.validity(at(1_609_459_200)), Validity::NotYetValid);
        assert_eq!(first.validity(at(1_654_041_600)), Validity::Current);
        assert_eq!(first.validity(at(1_672_531_200)), Validity::Expired);
    }

    #[test]
    fn changes_name_added_removed_and_rewindowed_anchors() {
        let staging = TrustRoot::staging();
        assert!(changes(&staging, &TrustRoot::staging()).is_empty());
        // A log retired (its window closed), a CT log dropped.
        let mut json: serde_json::Value =
            serde_json::from_str(staging.shipped_json().unwrap()).unwrap();
        json["tlogs"][0]["publicKey"]["validFor"]["end"] = "2026-01-01T00:00:00Z".into();
        let dropped = json["ctlogs"].as_array_mut().unwrap().remove(0);
        let edited =
            TrustRoot::from_json(TrustSource::Refreshed("x".into()), &json.to_string()).unwrap();
        let found = changes(&staging, &edited);
        assert_eq!(found.len(), 2, "{found:?}");
        let AnchorChange::Changed { before, after } = &found[0] else {
            panic!("{found:?}")
        };
        assert_eq!(
            (before.kind, before.valid_until.as_deref()),
            (AnchorKind::RekorLog, None)
        );
        assert_eq!(after.valid_until.as_deref(), Some("2026-01-01T00:00:00Z"));
        let AnchorChange::Removed { anchor } = &found[1] else {
            panic!("{found:?}")
        };
        assert_eq!(anchor.url, dropped["baseUrl"].as_str().unwrap());
        // Another instance's root shares nothing.
        let other = changes(&staging, &TrustRoot::public_good());
        assert_eq!(
            other.len(),
            staging.anchors().len() + TrustRoot::public_good().anchors().len()
        );
    }

    #[test]
    fn only_the_shipped_roots_have_shipped_json() {
        assert_eq!(
            TrustRoot::staging().shipped_json(),
            Some(sigstore_trust_root::SIGSTORE_STAGING_TRUSTED_ROOT)
        );
        let refreshed = TrustRoot::from_json(
            TrustSource::Refreshed("x".into()),
            sigstore_trust_root::SIGSTORE_PRODUCTION_TRUSTED_ROOT,
        )
        .unwrap();
        assert_eq!(refreshed.shipped_json(), None);
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
