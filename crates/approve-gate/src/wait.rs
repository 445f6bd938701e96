//! Two ways to get a decision without a forge: an approver at a terminal, who types the
//! version to release (anything else rejects), and a decision file dropped into a
//! directory (a shared volume, an artifact a later job downloads).

use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use custody_cli::Diagnose;
use custody_dist::name::same_version;
use custody_manifest::{Decision, Manifest};
use custody_output::{Context, Diagnostic, ExitStatus};
use serde::Deserialize;

use crate::poll::Polling;
use crate::{Channel, Outcome};
use custody_cli::OutputError;

/// Why no decision could be waited for.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WaitError {
    #[error("cannot ask for a decision on the terminal")]
    Terminal(#[source] io::Error),
    #[error("`{dir}` is not a directory")]
    NoDecisionDir { dir: PathBuf },
    #[error("cannot read the decision directory `{dir}`")]
    ReadDecisionDir {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Output(#[from] OutputError),
}

impl Diagnose for WaitError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::NoDecisionDir { .. } => ExitStatus::Input,
            Self::Terminal(_) | Self::ReadDecisionDir { .. } => ExitStatus::Environment,
            Self::Output(error) => error.exit_status(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::NoDecisionDir { .. } => {
                Some("create the directory the decision will be dropped into".to_owned())
            }
            _ => None,
        }
    }
}

/// Asks on the terminal. The answer must be the release's version (or its manifest
/// digest's first 12 hex digits when the manifest holds several versions).
pub(crate) fn prompt(manifest: &Manifest, context: &Context) -> Result<Outcome, WaitError> {
    let version = manifest.release_version();
    let expected = version.clone().unwrap_or_else(|| {
        manifest
            .digest
            .trim_start_matches("sha256:")
            .chars()
            .take(12)
            .collect()
    });
    let answer = ask(&format!(
        "Type `{expected}` to approve this release (anything else rejects): "
    ))
    .map_err(WaitError::Terminal)?;
    let answer = answer.trim();
    let approved = !answer.is_empty()
        && (answer == expected || version.is_some() && same_version(answer, &expected));
    let user = context
        .env
        .get("USER")
        .or_else(|| context.env.get("USERNAME"))
        .unwrap_or("terminal user")
        .to_owned();
    Ok(Outcome {
        decision: if approved {
            Decision::Approved
        } else {
            Decision::Rejected
        },
        by: vec![user],
        channel: Channel::Terminal,
        reference: None,
        reason: (!approved).then(|| {
            if answer.is_empty() {
                "no answer".to_owned()
            } else {
                format!("typed `{answer}`, not `{expected}`")
            }
        }),
    })
}

/// Shows `question` on stderr and reads one line from stdin.
fn ask(question: &str) -> io::Result<String> {
    let mut stderr = io::stderr();
    write!(stderr, "{question}")?;
    stderr.flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(answer)
}

/// A decision file: `{"decision": "approve" | "reject", "by": "alice", "reason": "...",
/// "manifest_digest": "sha256:..."}`; the digest, when given, must be this manifest's.
#[derive(Debug, Deserialize)]
struct DecisionFile {
    decision: String,
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    manifest_digest: Option<String>,
}

/// Why a JSON file in the decision directory does not count.
#[derive(Debug, thiserror::Error)]
enum Unusable {
    #[error("not a decision file ({0})")]
    NotADecisionFile(#[source] serde_json::Error),
    #[error("it decides about manifest {decided}, not {expected}")]
    OtherManifest { decided: String, expected: String },
    #[error("decision `{0}` is neither approve nor reject")]
    UnknownDecision(String),
}

/// What one look at a decision file found.
#[derive(Debug)]
enum Reading {
    Decided(Outcome),
    /// Unreadable or empty: perhaps still being written; look again next time.
    NotYet,
    /// Never a decision about this release: warn once and skip it from now on.
    Unusable(Unusable),
}

/// Polls `dir` for `*.json` decision files until the timeout. `None` on timeout.
pub(crate) fn decision_file(
    dir: &Path,
    polling: Polling,
    manifest: &Manifest,
    context: &mut Context,
) -> Result<Option<Outcome>, WaitError> {
    let shown_dir = context.display(dir);
    if !dir.is_dir() {
        return Err(WaitError::NoDecisionDir {
            dir: shown_dir.into(),
        });
    }
    context.out.info(&format!(
        "Waiting up to {} for a decision file in `{shown_dir}` ({{\"decision\": \"approve\"|\"reject\", \"by\": NAME}})",
        crate::humanize(polling.timeout),
    )).map_err(OutputError::from)?;
    let mut ignored: Vec<PathBuf> = Vec::new();
    polling.until(|| {
        let files = decision_files(dir, &ignored).map_err(|source| WaitError::ReadDecisionDir {
            dir: shown_dir.clone().into(),
            source,
        })?;
        for path in files {
            let shown = context.display(&path);
            match read_decision(&path, &shown, manifest) {
                Reading::Decided(outcome) => return Ok(Some(outcome)),
                Reading::NotYet => {}
                Reading::Unusable(why) => {
                    context
                        .out
                        .warning(&Diagnostic::new(format!("ignoring `{shown}`: {why}")))
                        .map_err(OutputError::from)?;
                    ignored.push(path);
                }
            }
        }
        Ok(None)
    })
}

/// The `*.json` files in `dir` not yet `ignored`, in name order.
fn decision_files(dir: &Path, ignored: &[PathBuf]) -> io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = fs_err::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json") && !ignored.contains(p))
        .collect();
    files.sort();
    Ok(files)
}

fn read_decision(path: &Path, shown: &str, manifest: &Manifest) -> Reading {
    let Ok(text) = fs_err::read_to_string(path) else {
        return Reading::NotYet;
    };
    let file: DecisionFile = match serde_json::from_str(&text) {
        Ok(file) => file,
        Err(_) if text.trim().is_empty() => return Reading::NotYet,
        Err(error) => return Reading::Unusable(Unusable::NotADecisionFile(error)),
    };
    if let Some(digest) = file.manifest_digest
        && digest != manifest.digest
    {
        return Reading::Unusable(Unusable::OtherManifest {
            decided: digest,
            expected: manifest.digest.clone(),
        });
    }
    let decision = match file.decision.trim().to_ascii_lowercase().as_str() {
        "approve" | "approved" | "yes" => Decision::Approved,
        "reject" | "rejected" | "deny" | "denied" | "no" => Decision::Rejected,
        other => return Reading::Unusable(Unusable::UnknownDecision(other.to_owned())),
    };
    Reading::Decided(Outcome {
        decision,
        by: file.by.into_iter().collect(),
        channel: Channel::DecisionFile,
        reference: Some(shown.to_owned()),
        reason: file.reason,
    })
}
