//! `publish-pypi`: the last link of the chain of custody. It uploads exactly the wheels
//! and sdists a (approved) release manifest lists to PyPI or any index that speaks the
//! legacy upload API, after re-checking every file's size and digests against the
//! manifest and running a pre-flight check of every file before the first byte leaves.
//! Files the index already has (same sha256) are skipped, so a failed release can be
//! re-run and uploads only what is missing.

mod credentials;
mod form;
mod index;
mod plan;
mod preflight;
mod provenance;
mod report;
mod send;
mod trusted;
mod upload;
mod warehouse;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use custody_cli::StepResult;
use custody_cli::sigstore::SigstoreArgs;
use custody_cli::{GlobalArgs, HasGlobal, after_help};
use custody_output::Context;

/// Where files go when no repository URL is given.
pub const PYPI_UPLOAD_URL: &str = "https://upload.pypi.org/legacy/";

/// The variable `--approval-signed-by` reads (comma-separated).
pub const CUSTODY_APPROVAL_SIGNED_BY: &str = "CUSTODY_APPROVAL_SIGNED_BY";

/// The variable `--manifest-signed-by` reads (comma-separated).
pub const CUSTODY_MANIFEST_SIGNED_BY: &str = "CUSTODY_MANIFEST_SIGNED_BY";

/// The variable `--attestations` reads.
pub const CUSTODY_ATTESTATIONS: &str = "CUSTODY_ATTESTATIONS";

/// Upload wheels and sdists to PyPI or a compatible index, exactly as verified and approved.
///
/// Every file is checked before the first upload: its size and digests against the
/// manifest, its content (wheel RECORD hashes, sdist layout) and its metadata against
/// what PyPI would reject. Files already on the index with the same sha256 are skipped,
/// so re-running a failed release uploads only what is missing.
#[derive(Debug, Parser)]
#[command(
    name = "publish-pypi",
    version,
    after_long_help = after_help(EXAMPLES),
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub upload: UploadArgs,
    #[command(flatten)]
    pub global: GlobalArgs,
}

const EXAMPLES: &str =
    "  # The release pipeline: publish the approved release set (PYPI_LOGIN/PYPI_PASSWORD
  # or TWINE_USERNAME/TWINE_PASSWORD, or trusted publishing on GitHub Actions or GitLab CI)
  publish-pypi --manifest release/release.json --approval approval.json

  # ... and the approval must be signed (approval.json.sigstore.json) by the approving
  # workflow, or by a person with `python -m sigstore sign approval.json`
  publish-pypi --manifest release.json --approval approval.json \\
      --approval-signed-by github:octo/sample/.github/workflows/release.yml@refs/tags/v* \\
      --approval-signed-by email:release-manager@example.com

  # ... and the manifest signed by the workflow that selected the release set
  # (`collect-artifacts select --sign on` wrote release.json.sigstore.json)
  publish-pypi --manifest release.json --approval approval.json \\
      --manifest-signed-by github:octo/sample/.github/workflows/release.yml

  # Without a manifest, like `twine upload`
  publish-pypi dist/*

  # To TestPyPI or a private index; see what would happen first
  publish-pypi --manifest release.json --repository-url https://test.pypi.org/legacy/ --dry-run

  # Sign PEP 740 attestations also for a password upload (kept beside the files)
  publish-pypi dist/* --attestations on

  # Only the pre-flight check (no network)
  publish-pypi check dist/*
";

impl HasGlobal for Cli {
    fn global(&self) -> &GlobalArgs {
        &self.global
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run only the pre-flight check of every file (no network, nothing uploaded).
    ///
    /// Checks what `twine check` checks (required metadata, a known description content
    /// type, a description), what PyPI rejects (metadata version, local versions, sdist
    /// names, both License and License-Expression, over-long fields, URL requirements),
    /// the agreement of file name and metadata, and the whole wheel and sdist
    /// verification of collect-artifacts.
    Check(CheckArgs),
}

/// What to publish: a manifest, or files.
#[derive(Debug, Clone, Args)]
pub struct Selection {
    /// Wheels and sdists to publish, without a manifest (files, directories, globs).
    #[arg(value_name = "PATH|GLOB", conflicts_with = "manifest")]
    pub files: Vec<String>,
    /// The release manifest (from `collect-artifacts select`): exactly its wheels and
    /// sdists are published, after their size and digests are checked.
    #[arg(long, short = 'm', value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// Where the manifest's files are (searched recursively, as approve-gate does).
    /// Default: the manifest's directory.
    #[arg(long, value_name = "DIR", requires = "manifest")]
    pub from: Option<PathBuf>,
    /// The largest file the index takes, in MiB. PyPI's default is 100 (it answers
    /// `400 File too large` above it); raise it when PyPI raised the project's limit.
    #[arg(long, value_name = "MIB", default_value_t = 100)]
    pub max_file_size: u64,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub selection: Selection,
}

/// When to use trusted publishing (OIDC) instead of a stored credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TrustedPublishing {
    /// When no credentials are given and the job has an identity token: GitHub Actions
    /// with `id-token: write`, or GitLab CI with the --id-token-var variable.
    Auto,
    /// Always; fail when the CI cannot provide an identity token.
    Always,
    /// Never; credentials are required.
    Never,
}

/// When to make PEP 740 attestations: Sigstore-signed statements, one per file, that
/// this CI job published it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Attestations {
    /// With trusted publishing from GitHub Actions or GitLab CI, where PyPI takes them
    /// (as the PyPI publishing action does).
    Auto,
    /// Whenever the job has a Sigstore identity; fail when it has none. They are sent
    /// to the index only with trusted publishing, and kept beside the files always.
    On,
    /// Never.
    Off,
}

// Doc comments are the --help text: plain words and URLs, not Markdown.
#[allow(clippy::doc_markdown)]
#[derive(Debug, Clone, Args)]
pub struct UploadArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// An approval record from `approve-gate`: publishing is refused unless it approves
    /// exactly this manifest (same digest).
    #[arg(long, value_name = "FILE", requires = "manifest")]
    pub approval: Option<PathBuf>,
    /// Require the approval record to be signed (`<approval>.sigstore.json` beside it, a
    /// Sigstore bundle over its exact bytes, verified with --sigstore-trust-root) by ID:
    /// `github:OWNER/REPO/.github/workflows/FILE.yml[@REF]`, `gitlab:GROUP/PROJECT//PATH`
    /// or `email:ADDRESS[@ISSUER]`. Repeat for several; any one may have signed.
    #[arg(
        long,
        value_name = "ID",
        requires = "approval",
        env = CUSTODY_APPROVAL_SIGNED_BY,
        value_delimiter = ','
    )]
    pub approval_signed_by: Vec<custody_attest::Identity>,
    /// Require the manifest to be signed (`<manifest>.sigstore.json` beside it, written
    /// by `collect-artifacts select --sign on`) by ID, before the first byte; the same
    /// forms as --approval-signed-by. Repeat for several; any one may have signed.
    #[arg(
        long,
        value_name = "ID",
        requires = "manifest",
        env = CUSTODY_MANIFEST_SIGNED_BY,
        value_delimiter = ','
    )]
    pub manifest_signed_by: Vec<custody_attest::Identity>,
    /// The upload URL. Default: TWINE_REPOSITORY_URL, else https://upload.pypi.org/legacy/.
    #[arg(long, value_name = "URL")]
    pub repository_url: Option<String>,
    /// The simple index used to see what is already published. Default: derived from
    /// the repository URL (https://pypi.org/simple/ for PyPI, `<URL>/simple/` otherwise,
    /// else devpi's `<URL>/+simple/`). Its root is asked once whether it is an index.
    #[arg(long, value_name = "URL")]
    pub index_url: Option<String>,
    /// User name. Default: PYPI_LOGIN, else TWINE_USERNAME; `__token__` for API tokens.
    #[arg(long, short = 'u', value_name = "NAME")]
    pub username: Option<String>,
    /// Password or API token. Prefer the environment: PYPI_PASSWORD or TWINE_PASSWORD.
    // No `env =`: the variables come in pairs with their user names (PYPI_LOGIN and
    // PYPI_PASSWORD, then TWINE_*), read from the step's context in `credentials.rs`.
    #[arg(long, short = 'p', value_name = "SECRET")]
    pub password: Option<String>,
    /// Trusted publishing (OIDC) instead of a stored credential.
    #[arg(long, value_enum, default_value_t = TrustedPublishing::Auto)]
    pub trusted_publishing: TrustedPublishing,
    /// GitLab CI: the variable holding the job's identity token, declared in the job as
    /// `id_tokens: PYPI_ID_TOKEN: aud: pypi` (the audience the index asks for).
    #[arg(long, value_name = "VAR", default_value = trusted::GITLAB_ID_TOKEN_VAR)]
    pub id_token_var: String,
    /// Do not look at the simple index: upload every file without checking what the
    /// index has (for an index without a simple API). Re-runs then fail on files the
    /// index already has, and conflicts are found only by the index, if at all.
    #[arg(long)]
    pub no_index_check: bool,
    /// Do everything but the upload: checks, credentials, the index lookup. Nothing is
    /// signed either: signing writes to a public transparency log.
    #[arg(long)]
    pub dry_run: bool,
    /// PEP 740 attestations: `<file>.publish.attestation` signed with this job's Sigstore
    /// identity, kept beside each file, uploaded with it under trusted publishing. One
    /// already there is reused when it verifies for this file and this job, and a
    /// `<file>.slsa.attestation` that verifies is uploaded too.
    #[arg(long, value_enum, env = CUSTODY_ATTESTATIONS, default_value_t = Attestations::Auto)]
    pub attestations: Attestations,
    #[command(flatten)]
    pub sigstore: SigstoreArgs,
}

pub fn run(cli: Cli, context: &mut Context) -> StepResult {
    match cli.command {
        Some(Command::Check(args)) => upload::check(&args.selection, context),
        None => upload::publish(&cli.upload, context),
    }
}
