//! `collect-artifacts`: the first link of the chain of custody. It gathers a job's build
//! outputs, verifies each one inside (wheel RECORD hashes and metadata, sdist layout and
//! PKG-INFO, executable headers), labels them and writes a sealed manifest of digests;
//! then merges the manifests of a CI matrix, selects the release set, stages it, and
//! verifies any directory against a manifest, offline. PEP 740 attestations beside the
//! artifacts are verified (Sigstore, offline) and recorded with them, and can be
//! required of every file.

mod attest;
mod collect;
mod report;
mod select;
mod sign;
mod trust_root;
mod verify;
mod verify_attestations;

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use custody_cli::sigstore::SigstoreArgs;
use custody_cli::{GlobalArgs, HasGlobal, StepResult, after_help};
use custody_dist::{ArtifactKind, Limits};
use custody_output::Context;

pub use attest::TrustArgs;
pub use custody_attest::Identity;
pub use sign::Sign;
pub use trust_root::TrustRootCommandArgs;

/// The variable `merge --sign` and `select --sign` read.
pub const CUSTODY_SIGN_MANIFEST: &str = "CUSTODY_SIGN_MANIFEST";

/// The `generator` recorded in manifests.
pub const GENERATOR: &str = concat!("collect-artifacts ", env!("CARGO_PKG_VERSION"));

/// Gather, verify and label build artifacts into a manifest of digests; merge, select
/// and verify manifests.
#[derive(Debug, Parser)]
#[command(name = "collect-artifacts", version, after_long_help = after_help(EXAMPLES))]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub global: GlobalArgs,
}

const EXAMPLES: &str = "  # In each matrix job: verify dist/ and record it with the job's labels
  collect-artifacts collect dist/ --out dist/manifest.json \\
      --label python=3.7 --label arch=x86 --label os=windows

  # In the fan-in job: merge the jobs' manifests, select the release set, stage it
  collect-artifacts merge jobs/*/manifest.json --out all.json
  collect-artifacts select --manifest all.json --from jobs/ \\
      --where python=3.7 --where arch=x86 --copy-to release/

  # ... and sign the release set's manifest with the job's Sigstore identity
  # (GitHub Actions with `id-token: write`): release/release.json.sigstore.json
  collect-artifacts select --manifest all.json --from jobs/ --copy-to release/ --sign on

  # Anywhere, offline: check a downloaded directory against its manifest
  collect-artifacts verify --manifest release/release.json

  # ... and require the manifest to be signed by the release workflow
  collect-artifacts verify --manifest release/release.json \\
      --manifest-signed-by 'github:OWNER/REPO/.github/workflows/release.yml@refs/tags/v*'

  # Files downloaded from PyPI with their PEP 740 attestations beside them: record who
  # signed them, and refuse any not signed by the release workflow of a tag
  collect-artifacts collect dist/ --out dist/manifest.json --require-attestations \\
      --identity 'github:OWNER/REPO/.github/workflows/release.yml@refs/tags/v*'

  # The gate: every wheel and sdist attested by that workflow, re-verified offline
  collect-artifacts verify --manifest dist/manifest.json \\
      --require-attested-by github:OWNER/REPO/.github/workflows/release.yml

  # No manifest: check the attestations beside some files, like `pypi-attestations
  # verify attestation` (GitLab: gitlab:GROUP/PROJECT//.gitlab-ci.yml@REF)
  collect-artifacts verify-attestations dist/*.whl \\
      --identity github:OWNER/REPO/.github/workflows/release.yml
";

impl HasGlobal for Cli {
    fn global(&self) -> &GlobalArgs {
        &self.global
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find, classify and verify artifacts, and write their manifest.
    ///
    /// Directories are walked (hidden files skipped); globs are expanded here, so they
    /// work in shells that do not expand them (Windows). Any artifact that fails
    /// verification fails the step, and then no manifest is written.
    ///
    /// PEP 740 attestations beside an artifact (`<file>.publish.attestation`,
    /// `<file>.slsa.attestation`, PyPI's `<file>.provenance`) are not artifacts: each is
    /// verified against its file, offline (subject name and sha256, Sigstore certificate
    /// chain to the trust root, Rekor inclusion proof and signed entry timestamp, the
    /// signer) and recorded with it. One that does not verify fails the step (exit 3).
    Collect(CollectArgs),
    /// Check every file a manifest lists: present, same size, same digests, and (unless
    /// --shallow) clean inside; and every attestation it records: present beside the
    /// file, unchanged, and still verifying. Reports missing, changed and unlisted files.
    Verify(VerifyArgs),
    /// Verify the PEP 740 attestations beside files, offline, without a manifest (as
    /// `pypi-attestations verify attestation` does). Every file needs at least one.
    VerifyAttestations(VerifyAttestationsArgs),
    /// Merge the manifests of a CI matrix into one (the fan-in).
    Merge(MergeArgs),
    /// Select the release set from a (merged) manifest, optionally staging the files.
    Select(SelectArgs),
    /// Verify artifacts and print what they are, without writing a manifest.
    Inspect(InspectArgs),
    /// Show the Sigstore trust roots shipped with custody (each Fulcio CA, Rekor and CT
    /// log key, and when it is valid), write one to a file to pin, or fetch the current
    /// one through Sigstore's TUF repository for --sigstore-trust-root.
    TrustRoot(TrustRootCommandArgs),
}

#[derive(Debug, clap::Args)]
pub struct LimitArgs {
    /// Refuse archives that unpack to more than this many bytes (zip bombs).
    #[arg(long, value_name = "BYTES", default_value_t = Limits::DEFAULT_MAX_UNPACKED_SIZE)]
    pub max_unpacked_size: u64,
}

impl LimitArgs {
    fn limits(&self) -> Limits {
        Limits {
            max_unpacked_size: self.max_unpacked_size,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct CollectArgs {
    /// Files, directories or glob patterns (`dist/*.whl`).
    #[arg(required = true, value_name = "PATH|GLOB")]
    pub inputs: Vec<String>,
    /// Where to write the manifest.
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
    /// A label for this job's artifacts, e.g. `python=3.7`, `arch=x86`, `os=windows`.
    #[arg(long = "label", short, value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub labels: Vec<(String, String)>,
    /// Attestations must be signed by this identity (repeat: any may match):
    /// `github:OWNER/REPO/.github/workflows/FILE.yml[@REF-PATTERN]`,
    /// `gitlab:GROUP/PROJECT//CONFIG.yml[@REF-PATTERN]`, `email:ADDRESS` or `uri:SAN`.
    #[arg(long = "identity", value_name = "ID")]
    pub identities: Vec<Identity>,
    /// Fail when a wheel or sdist has no attestation beside it.
    #[arg(long)]
    pub require_attestations: bool,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The manifest to check against.
    #[arg(long, short, value_name = "FILE")]
    pub manifest: PathBuf,
    /// Where the files are (searched recursively, by file name). Default: the
    /// manifest's directory.
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Compare sizes and digests only; skip re-verifying wheels and sdists inside.
    #[arg(long)]
    pub shallow: bool,
    /// Fail when the directory holds files the manifest does not list.
    #[arg(long)]
    pub strict: bool,
    /// Fail unless every wheel and sdist has a verified attestation signed by this
    /// identity (repeat: any may match; forms as for `collect --identity`).
    #[arg(long = "require-attested-by", value_name = "ID")]
    pub required_signers: Vec<Identity>,
    /// Require the manifest to be signed (`<manifest>.sigstore.json` beside it, a
    /// Sigstore bundle over its exact bytes, verified with --sigstore-trust-root) by ID,
    /// before any file is checked (repeat: any may match; forms as for `collect
    /// --identity`). `merge --sign on` and `select --sign on` write the bundle.
    #[arg(long = "manifest-signed-by", value_name = "ID")]
    pub manifest_signers: Vec<Identity>,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Debug, clap::Args)]
pub struct VerifyAttestationsArgs {
    /// The attested files; their attestations are beside them.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Attestations must be signed by this identity (repeat: any may match; forms as for
    /// `collect --identity`). Without it, any signer the trust root vouches for passes.
    #[arg(long = "identity", value_name = "ID")]
    pub identities: Vec<Identity>,
    #[command(flatten)]
    pub trust: TrustArgs,
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The manifests to merge (one per matrix job).
    #[arg(required = true, value_name = "MANIFEST")]
    pub manifests: Vec<PathBuf>,
    /// Where to write the merged manifest.
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
    /// Sign the merged manifest with this job's Sigstore identity (`<out>.sigstore.json`;
    /// every signature is a public entry in Rekor); on fails without an identity.
    #[arg(long, value_enum, env = CUSTODY_SIGN_MANIFEST, default_value_t = Sign::Off)]
    pub sign: Sign,
    #[command(flatten)]
    pub sigstore: SigstoreArgs,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).multiple(true).args(["out", "copy_to", "zip"])))]
pub struct SelectArgs {
    /// The manifest to select from.
    #[arg(long, short, value_name = "FILE")]
    pub manifest: PathBuf,
    /// Keep artifacts from jobs whose labels match (repeat: all must match).
    #[arg(long = "where", short, value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub criteria: Vec<(String, String)>,
    /// Keep only these kinds (comma-separated: wheel, sdist, executable, file).
    #[arg(long = "kind", value_delimiter = ',', value_parser = parse_kind)]
    pub kinds: Vec<ArtifactKind>,
    /// Where to write the selected manifest.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Copy the selected files, their recorded attestation files and their manifest
    /// into this directory, re-verifying every digest on the way.
    #[arg(long, value_name = "DIR")]
    pub copy_to: Option<PathBuf>,
    /// Pack the selected files, their recorded attestation files and their manifest
    /// into this zip, re-verifying every digest on the way.
    #[arg(long, value_name = "FILE")]
    pub zip: Option<PathBuf>,
    /// Where the files are, for --copy-to/--zip (searched recursively). Default: the
    /// manifest's directory.
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
    /// Fail unless every selected wheel and sdist has a recorded attestation, found
    /// beside it under --from, that verifies and is signed by this identity (repeat:
    /// any may match; forms as for `collect --identity`).
    #[arg(long = "require-attested-by", value_name = "ID")]
    pub required_signers: Vec<Identity>,
    /// Sign the selected manifest with this job's Sigstore identity: one signature,
    /// written beside --out and beside the manifest staged by --copy-to and --zip
    /// (`<manifest>.sigstore.json`; every signature is a public entry in Rekor); on
    /// fails without an identity, before anything is written.
    #[arg(long, value_enum, env = CUSTODY_SIGN_MANIFEST, default_value_t = Sign::Off)]
    pub sign: Sign,
    /// Which Sigstore signs (--sign) and which trust root verifies attestations and
    /// signatures.
    #[command(flatten)]
    pub sigstore: SigstoreArgs,
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Files, directories or glob patterns.
    #[arg(required = true, value_name = "PATH|GLOB")]
    pub inputs: Vec<String>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

fn parse_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_owned(), value.trim().to_owned()))
        }
        _ => Err(format!(
            "`{text}` is not KEY=VALUE (for example python=3.7)"
        )),
    }
}

fn parse_kind(text: &str) -> Result<ArtifactKind, String> {
    ArtifactKind::parse(text.trim())
        .ok_or_else(|| format!("`{text}` is not a kind; use wheel, sdist, executable or file"))
}

fn pairs_to_map(pairs: &[(String, String)]) -> BTreeMap<String, String> {
    pairs.iter().cloned().collect()
}

/// Runs the parsed command; each returns its own error, classified here.
pub fn run(cli: Cli, context: &mut Context) -> StepResult {
    Ok(match cli.command {
        Command::Collect(args) => collect::collect(&args, context)?,
        Command::Verify(args) => verify::verify(&args, context)?,
        Command::VerifyAttestations(args) => verify_attestations::run(&args, context)?,
        Command::Merge(args) => select::merge(&args, context)?,
        Command::Select(args) => select::select(&args, context)?,
        Command::Inspect(args) => collect::inspect_only(&args, context)?,
        Command::TrustRoot(args) => trust_root::run(&args, context)?,
    })
}
