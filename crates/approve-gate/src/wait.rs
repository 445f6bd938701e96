//! Two ways to get a decision without a forge: an approver at a terminal, who types the
//! version to release (anything else rejects), and a decision file dropped into a
//! directory (a shared volume, an artifact a later job downloads).

use std::io::{BufRead, Write};
use std::path::Path;
use std::time::Instant;

use custody_cli::Failure;
use custody_dist::name::same_version;
use custody_manifest::{Decision, Manifest};
use custody_output::{Context, Diagnostic};
use serde::Deserialize;

use crate::{Cli, Outcome};

/// Asks on the terminal. The answer must be the release's version (or its manifest
/// digest's first 12 hex digits when the manifest holds several versions).
pub(crate) fn prompt(
    manifest: &Manifest,
    context: &mut Context,
) -> Result<Option<Outcome>, Failure> {
    let expected = manifest.release_version().unwrap_or_else(|| {
        manifest
            .digest
            .trim_start_matches("sha256:")
            .chars()
            .take(12)
            .collect()
    });
    let mut stderr = std::io::stderr();
    write!(
        stderr,
        "Type `{expected}` to approve this release (anything else rejects): "
    )
    .map_err(Failure::environment)?;
    stderr.flush().map_err(Failure::environment)?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(Failure::environment)?;
    let answer = answer.trim();
    let approved = !answer.is_empty()
        && (answer == expected
            || same_version(answer, &expected) && manifest.release_version().is_some());
    let user = context
        .env
        .get("USER")
        .or_else(|| context.env.get("USERNAME"))
        .unwrap_or("terminal user")
        .to_owned();
    Ok(Some(Outcome {
        decision: if approved {
            Decision::Approved
        } else {
            Decision::Rejected
        },
        by: vec![user],
        source: "terminal",
        reference: None,
        reason: (!approved).then(|| {
            if answer.is_empty() {
                "no answer".to_owned()
            } else {
                format!("typed `{answer}`, not `{expected}`")
            }
        }),
    }))
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

/// Polls `dir` for `*.json` decision files until the timeout. `None` on timeout.
pub(crate) fn decision_file(
    cli: &Cli,
    dir: &Path,
    manifest: &Manifest,
    context: &mut Context,
) -> Result<Option<Outcome>, Failure> {
    if !dir.is_dir() {
        return Err(Failure::input(format!(
            "`{}` is not a directory\nhint: create the directory the decision will be dropped into",
            context.display(dir)
        )));
    }
    context
        .out
        .info(&format!(
            "Waiting up to {} for a decision file in `{}` ({{\"decision\": \"approve\"|\"reject\", \"by\": NAME}})",
            crate::humanize(cli.timeout),
            context.display(dir)
        ))
        .map_err(Failure::environment)?;
    let deadline = Instant::now() + cli.timeout;
    let mut ignored: Vec<std::path::PathBuf> = Vec::new();
    loop {
        let mut files: Vec<std::path::PathBuf> = fs_err::read_dir(dir)
            .map_err(Failure::environment)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json") && !ignored.contains(p))
            .collect();
        files.sort();
        for path in files {
            let shown = context.display(&path);
            let Ok(text) = fs_err::read_to_string(&path) else {
                continue;
            };
            let parsed: Result<DecisionFile, _> = serde_json::from_str(&text);
            let warn = |context: &mut Context, message: String| {
                context
                    .out
                    .warning(&Diagnostic::new(message))
                    .map_err(Failure::environment)
            };
            let file = match parsed {
                Ok(file) => file,
                // Perhaps still being written: look again next time, then give up on it.
                Err(error) if text.trim().is_empty() => {
                    let _ = error;
                    continue;
                }
                Err(error) => {
                    warn(
                        context,
                        format!("ignoring `{shown}`: not a decision file ({error})"),
                    )?;
                    ignored.push(path);
                    continue;
                }
            };
            if let Some(digest) = &file.manifest_digest
                && *digest != manifest.digest
            {
                warn(
                    context,
                    format!(
                        "ignoring `{shown}`: it decides about manifest {digest}, not {}",
                        manifest.digest
                    ),
                )?;
                ignored.push(path);
                continue;
            }
            let decision = match file.decision.trim().to_ascii_lowercase().as_str() {
                "approve" | "approved" | "yes" => Decision::Approved,
                "reject" | "rejected" | "deny" | "denied" | "no" => Decision::Rejected,
                other => {
                    warn(
                        context,
                        format!(
                            "ignoring `{shown}`: decision `{other}` is neither approve nor reject"
                        ),
                    )?;
                    ignored.push(path);
                    continue;
                }
            };
            return Ok(Some(Outcome {
                decision,
                by: file.by.into_iter().collect(),
                source: "decision-file",
                reference: Some(shown),
                reason: file.reason,
            }));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        std::thread::sleep(cli.poll_interval.min(deadline - now));
    }
}
