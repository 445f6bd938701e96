//! `trust-root`: the Sigstore trusted roots attestations are verified against. Verifying
//! never touches the network, so the roots custody ships (embedded by
//! sigstore-trust-root) age with the release; this command shows what they hold and
//! when each CA and log key is valid, writes one to a file to pin, and fetches the
//! current one through Sigstore's TUF repository — verified against the TUF root
//! sigstore-trust-root ships, written atomically, with what changed since the shipped
//! one — for `--sigstore-trust-root FILE`.

use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use custody_attest::trust::{Anchor, AnchorChange, EMBEDDED_ROOTS_VERSION, Validity, changes};
use custody_attest::{AttestError, RefreshFailure, TrustRoot, TufRepository};
use custody_cli::{Diagnose, OutputError, after_help};
use custody_output::safe::one_line;
use custody_output::text::aligned_table;
use custody_output::{Context, ExitStatus};
use serde::Serialize;
use sha2::{Digest, Sha256};

const EXAMPLES: &str =
    "  # What the shipped roots hold: each Fulcio CA, Rekor and CT log key, and its window
  collect-artifacts trust-root
  collect-artifacts trust-root --json

  # Pin the shipped public-good root (or staging's) in a file for other tools
  collect-artifacts trust-root --out trusted_root.json
  collect-artifacts trust-root --staging --out trusted_root.staging.json

  # Fetch the current root through Sigstore's TUF repository, then verify with it
  collect-artifacts trust-root --refresh --out trusted_root.json
  collect-artifacts verify-attestations dist/*.whl --sigstore-trust-root trusted_root.json

  # From a mirror, starting from a TUF root you trust
  collect-artifacts trust-root --refresh --tuf-url https://tuf.example.com \\
      --tuf-root root.json --out trusted_root.json
";

/// Show the Sigstore trust roots shipped with custody, write one to a file, or fetch
/// the current one through TUF.
// Doc comments are the --help text: plain words and file names, not Markdown.
#[allow(clippy::doc_markdown)]
#[derive(Debug, Clone, clap::Args)]
#[command(after_long_help = after_help(EXAMPLES))]
pub struct TrustRootCommandArgs {
    /// Write a Sigstore trusted root (trusted_root.json) to FILE, atomically: the
    /// shipped one, or with --refresh the current one. Without it, show the shipped
    /// roots.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Sigstore's staging instance instead of the public-good one.
    #[arg(long, requires = "out")]
    pub staging: bool,
    /// Fetch the current root through the instance's TUF repository, verify it (root
    /// chain, timestamp, snapshot and targets metadata, then the root by its hash), and
    /// print what changed since the shipped root. A repository that cannot be reached
    /// exits 4; metadata or a root that does not verify exits 3, and nothing is written.
    #[arg(long, requires = "out")]
    pub refresh: bool,
    /// The TUF repository to fetch from (a mirror, or another Sigstore instance's).
    /// Default: https://tuf-repo-cdn.sigstore.dev, or https://tuf-repo-cdn.sigstage.dev
    /// with --staging.
    #[arg(long, value_name = "URL", requires = "refresh", value_parser = parse_url)]
    pub tuf_url: Option<String>,
    /// The TUF root.json trust in the repository starts from. Default: the one
    /// sigstore-trust-root ships for the instance.
    #[arg(long, value_name = "FILE", requires = "refresh")]
    pub tuf_root: Option<PathBuf>,
}

fn parse_url(text: &str) -> Result<String, String> {
    if text.starts_with("https://") || text.starts_with("http://") {
        Ok(text.to_owned())
    } else {
        Err(format!("`{text}` is not an http:// or https:// URL"))
    }
}

/// Why `trust-root` could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TrustRootCommandError {
    #[error("cannot read the TUF root `{}`", path.display())]
    TufRoot {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the TUF repository `{url}` cannot be reached or does not serve its metadata")]
    Unreachable {
        url: String,
        #[source]
        source: AttestError,
    },
    #[error("the TUF repository `{url}` served metadata or a trusted root that does not verify")]
    Refused {
        url: String,
        #[source]
        source: AttestError,
    },
    #[error("cannot write the trusted root `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Output(#[from] OutputError),
}

impl Diagnose for TrustRootCommandError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::TufRoot { .. } | Self::Refused { .. } => ExitStatus::Input,
            Self::Unreachable { .. } | Self::Write { .. } => ExitStatus::Environment,
            Self::Output(error) => error.exit_status(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::Unreachable { .. } => Some(
                "check the URL and the network; verifying needs neither: the shipped root, or a root file refreshed elsewhere, still verifies".to_owned(),
            ),
            Self::Refused { .. } => Some(
                "nothing was written: the repository, a mirror or something in between serves stale or altered metadata, or --tuf-root is not this repository's root; keep verifying with the root you have".to_owned(),
            ),
            Self::TufRoot { .. } | Self::Write { .. } => None,
            Self::Output(error) => Diagnose::hint(error),
        }
    }
}

/// Runs `trust-root`: show the shipped roots, write one, or refresh one.
pub(crate) fn run(
    args: &TrustRootCommandArgs,
    context: &mut Context,
) -> Result<ExitStatus, TrustRootCommandError> {
    match &args.out {
        None => show(context)?,
        Some(out) if args.refresh => refresh(args, &context.resolve(out), context)?,
        Some(out) => write_shipped(args.staging, &context.resolve(out), context)?,
    }
    Ok(ExitStatus::Success)
}

/// One shipped root, as `--json` shows it.
#[derive(Serialize)]
struct RootJson {
    instance: &'static str,
    description: String,
    tuf_url: String,
    anchors: Vec<AnchorJson>,
}

#[derive(Serialize)]
struct AnchorJson {
    #[serde(flatten)]
    anchor: Anchor,
    validity: Validity,
}

/// The shipped roots: a table per instance on stdout, or one JSON document.
fn show(context: &mut Context) -> Result<(), OutputError> {
    let now = SystemTime::now();
    let roots = [
        (
            "public-good",
            TrustRoot::public_good(),
            TufRepository::public_good(),
        ),
        ("staging", TrustRoot::staging(), TufRepository::staging()),
    ];
    let roots: Vec<RootJson> = roots
        .into_iter()
        .map(|(instance, root, repository)| RootJson {
            instance,
            description: root.describe(),
            tuf_url: repository.url,
            anchors: root
                .anchors()
                .into_iter()
                .map(|anchor| AnchorJson {
                    validity: anchor.validity(now),
                    anchor,
                })
                .collect(),
        })
        .collect();
    if context.out.is_json() {
        let value = serde_json::json!({
            "sigstore_trust_root": EMBEDDED_ROOTS_VERSION,
            "roots": roots,
        });
        return Ok(context.out.json(&value)?);
    }
    let text = roots
        .iter()
        .map(|root| {
            format!(
                "{}\nTUF repository: {}\n\n{}\n",
                root.description,
                root.tuf_url,
                anchor_table(&root.anchors)
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    // The table is the command's data: stdout, with CI command markers broken.
    let text = context.out.safe_text(&text);
    Ok(context.out.data(&text)?)
}

/// The anchors as aligned columns; ids shortened to 16 hex digits (`--json` has them
/// whole).
fn anchor_table(anchors: &[AnchorJson]) -> String {
    let header = [
        "KIND",
        "URL",
        "DETAIL",
        "ID",
        "VALID FROM",
        "VALID UNTIL",
        "STATE",
    ];
    let rows: Vec<[String; 7]> = anchors
        .iter()
        .map(|AnchorJson { anchor, validity }| {
            [
                anchor.kind.to_string(),
                one_line(&anchor.url),
                one_line(&anchor.detail),
                anchor.id.chars().take(16).collect(),
                anchor.valid_from.clone().unwrap_or_else(|| "-".to_owned()),
                anchor.valid_until.clone().unwrap_or_else(|| "-".to_owned()),
                validity.to_string(),
            ]
        })
        .collect();
    aligned_table(header, &rows)
}

/// The shipped root of the instance, and its name for people and for `--json`.
fn shipped(staging: bool) -> (TrustRoot, &'static str) {
    if staging {
        (TrustRoot::staging(), "staging")
    } else {
        (TrustRoot::public_good(), "public-good")
    }
}

/// `--out FILE`: the shipped root's JSON, byte for byte.
fn write_shipped(
    staging: bool,
    out: &Path,
    context: &mut Context,
) -> Result<(), TrustRootCommandError> {
    let (root, instance) = shipped(staging);
    // Invariant: the roots `shipped` makes are the embedded ones.
    let json = root.shipped_json().expect("a shipped root has its JSON");
    write(out, json, context)?;
    let shown = one_line(&context.display(out));
    if context.out.is_json() {
        let value = serde_json::json!({
            "written": shown,
            "sha256": sha256_hex(json),
            "instance": instance,
            "source": root.describe(),
        });
        context.out.json(&value).map_err(OutputError::from)?;
    }
    context
        .out
        .status("Wrote", &format!("`{shown}`: {}", root.describe()))
        .map_err(OutputError::from)?;
    pin_line(&shown, context)
}

/// `--refresh --out FILE`: the current root through TUF, checked, written, compared.
fn refresh(
    args: &TrustRootCommandArgs,
    out: &Path,
    context: &mut Context,
) -> Result<(), TrustRootCommandError> {
    let repository = repository(args, context)?;
    let url = repository.url.clone();
    context
        .out
        .status(
            "Fetching",
            &format!("the trusted root from `{}` (TUF)", one_line(&url)),
        )
        .map_err(OutputError::from)?;
    let refreshed = custody_attest::refresh(&repository, None).map_err(|source| {
        match source.refresh_failure() {
            Some(RefreshFailure::Unreachable) => TrustRootCommandError::Unreachable {
                url: url.clone(),
                source,
            },
            Some(RefreshFailure::Refused) | None => TrustRootCommandError::Refused {
                url: url.clone(),
                source,
            },
        }
    })?;
    let json = format!("{}\n", refreshed.json);
    write(out, &json, context)?;
    let (shipped, _) = shipped(args.staging);
    let changed = changes(&shipped, &refreshed.root);
    let shown = one_line(&context.display(out));
    if context.out.is_json() {
        let value = serde_json::json!({
            "written": shown,
            "sha256": sha256_hex(&json),
            "tuf_url": url,
            "compared_with": shipped.describe(),
            "changes": changed,
        });
        context.out.json(&value).map_err(OutputError::from)?;
    }
    report_changes(&changed, &shipped, context).map_err(OutputError::from)?;
    context
        .out
        .status(
            "Wrote",
            &format!("`{shown}`: the trusted root `{}` serves", one_line(&url)),
        )
        .map_err(OutputError::from)?;
    pin_line(&shown, context)
}

/// The repository to refresh from: the instance's, or the URL and TUF root given.
fn repository(
    args: &TrustRootCommandArgs,
    context: &Context,
) -> Result<TufRepository, TrustRootCommandError> {
    let mut repository = if args.staging {
        TufRepository::staging()
    } else {
        TufRepository::public_good()
    };
    if let Some(url) = &args.tuf_url {
        repository.url.clone_from(url);
    }
    if let Some(path) = &args.tuf_root {
        let path = context.resolve(path);
        repository.root = fs_err::read(&path).map_err(|source| TrustRootCommandError::TufRoot {
            path: context.display(&path).into(),
            source,
        })?;
    }
    Ok(repository)
}

/// One line per anchor the refreshed root adds, drops or re-windows.
fn report_changes(
    changed: &[AnchorChange],
    shipped: &TrustRoot,
    context: &mut Context,
) -> io::Result<()> {
    if changed.is_empty() {
        return context.out.status(
            "Unchanged",
            &format!("the same CAs and keys as {}", shipped.describe()),
        );
    }
    let now = SystemTime::now();
    for change in changed {
        let (word, text) = match change {
            AnchorChange::Added { anchor } => ("Added", describe(anchor, now)),
            AnchorChange::Removed { anchor } => ("Removed", describe(anchor, now)),
            AnchorChange::Changed { before, after } => (
                "Changed",
                format!("{}, was {}", describe(after, now), window(before)),
            ),
        };
        context.out.status(word, &text)?;
    }
    context.out.info(&format!(
        "{} change(s) since {}",
        changed.len(),
        shipped.describe()
    ))
}

/// `` Rekor log `URL` (PKIX_ED25519, id 0123456789abcdef): valid from T, current ``.
fn describe(anchor: &Anchor, now: SystemTime) -> String {
    format!(
        "{} `{}` ({}, id {}): {}, {}",
        anchor.kind,
        one_line(&anchor.url),
        one_line(&anchor.detail),
        anchor.id.chars().take(16).collect::<String>(),
        window(anchor),
        anchor.validity(now)
    )
}

fn window(anchor: &Anchor) -> String {
    match (&anchor.valid_from, &anchor.valid_until) {
        (Some(from), Some(until)) => format!("valid from {from} until {until}"),
        (Some(from), None) => format!("valid from {from}"),
        (None, _) => "no validity window".to_owned(),
    }
}

/// How to use the file written.
fn pin_line(shown: &str, context: &mut Context) -> Result<(), TrustRootCommandError> {
    context
        .out
        .info(&format!(
            "Verify with it: --sigstore-trust-root {shown} (or CUSTODY_SIGSTORE_TRUST_ROOT)"
        ))
        .map_err(OutputError::from)?;
    Ok(())
}

/// Writes `json` to `out` through a temporary file beside it (its directory made if
/// need be), so `out` is the old root or the new one, never a part.
fn write(out: &Path, json: &str, context: &Context) -> Result<(), TrustRootCommandError> {
    let failed = |source| TrustRootCommandError::Write {
        path: context.display(out).into(),
        source,
    };
    if let Some(parent) = out.parent() {
        fs_err::create_dir_all(parent).map_err(failed)?;
    }
    custody_manifest::write_atomically(out, json.as_bytes()).map_err(failed)
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}
