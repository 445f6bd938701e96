//! Human-facing renderings of a manifest: an aligned terminal table and the Markdown
//! job summary, and the announcement of a manifest just written (table, attestations,
//! step outputs, summary, `--json`). All show untrusted file names and signers, which
//! are kept on one line here and neutralized by the output layer.

use std::path::Path;

use custody_manifest::{Artifact, Manifest};
use custody_output::Context;
use custody_output::safe::one_line;
use custody_output::text::{aligned_table, human_size, markdown_cell as cell};

use custody_cli::OutputError;

use crate::attest::{Trust, describe, short_predicate};

fn project(artifact: &Artifact) -> String {
    artifact.project.as_ref().map_or_else(
        || "-".to_owned(),
        |p| format!("{} {}", p.normalized_name, p.version),
    )
}

fn detail(artifact: &Artifact) -> String {
    if let Some(exe) = &artifact.executable {
        let bundle = exe
            .bundle
            .as_deref()
            .map(|b| format!(", {b}"))
            .unwrap_or_default();
        return format!("{:?} {}{bundle}", exe.format, exe.arch).to_lowercase();
    }
    if let Some(wheel) = &artifact.wheel {
        return format!(
            "{}-{}-{}",
            wheel.python.join("."),
            wheel.abi.join("."),
            wheel.platform.join(".")
        );
    }
    artifact
        .metadata_version
        .as_ref()
        .map(|v| format!("metadata {v}"))
        .unwrap_or_default()
}

/// An aligned table of artifacts.
pub(crate) fn table(artifacts: &[Artifact]) -> String {
    let rows: Vec<[String; 6]> = artifacts
        .iter()
        .map(|a| {
            [
                one_line(&a.file_name),
                a.kind.to_string(),
                human_size(a.size),
                a.digests.sha256[..16.min(a.digests.sha256.len())].to_owned(),
                project(a),
                detail(a),
            ]
        })
        .collect();
    aligned_table(
        ["FILE", "KIND", "SIZE", "SHA256", "PROJECT", "DETAIL"],
        &rows,
    )
}

/// One line per recorded attestation: `` `X.publish.attestation`: publish/v1 signed by `SAN`, Rekor log index N ``.
fn attestation_lines(manifest: &Manifest) -> Vec<String> {
    manifest
        .artifacts
        .iter()
        .flat_map(|artifact| &artifact.attestations)
        .map(|record| format!("`{}`: {}", one_line(&record.file_name), describe(record)))
        .collect()
}

/// The job summary's table of attestations, when there are any.
fn markdown_attestations(manifest: &Manifest) -> String {
    let mut md = String::new();
    for artifact in &manifest.artifacts {
        for record in &artifact.attestations {
            if md.is_empty() {
                md.push_str("\n| Attested file | Attestation | Signer | Rekor log index |\n|---|---|---|---:|\n");
            }
            md.push_str(&format!(
                "| `{}` | {} | `{}` | {} |\n",
                cell(&artifact.file_name),
                cell(&short_predicate(&record.predicate_type)),
                cell(&record.identity),
                record.log_index.map(|i| i.to_string()).unwrap_or_default()
            ));
        }
    }
    md
}

/// The job summary for a written manifest.
fn markdown_summary(manifest: &Manifest, path: &str, verb: &str) -> String {
    let mut md = format!(
        "### Artifacts {verb}\n\nManifest `{}` — {} artifact(s), digest `{}`\n\n| File | Kind | Size | SHA-256 | Project |\n|---|---|---:|---|---|\n",
        cell(path),
        manifest.artifacts.len(),
        manifest.digest
    );
    for artifact in &manifest.artifacts {
        md.push_str(&format!(
            "| `{}` | {} | {} | `{}` | {} |\n",
            cell(&artifact.file_name),
            artifact.kind,
            human_size(artifact.size),
            artifact.digests.sha256,
            cell(&project(artifact))
        ));
    }
    md.push_str(&markdown_attestations(manifest));
    md
}

/// Prints the table, sets step outputs, writes the job summary and the JSON result for
/// a manifest just written to `path`; `verb` says how it came to be, `trust` which root
/// verified its attestations in this run, if any did.
pub(crate) fn announce_manifest(
    manifest: &Manifest,
    path: &Path,
    verb: &str,
    trust: Option<&Trust>,
    context: &mut Context,
) -> Result<(), OutputError> {
    let shown_path = one_line(&context.display(path));
    let out = &mut context.out;
    out.info(&table(&manifest.artifacts))?;
    for line in attestation_lines(manifest) {
        out.status("Attested", &line)?;
    }
    out.status(
        "Wrote",
        &format!(
            "`{shown_path}`: {} artifact(s) {verb}, digest {}",
            manifest.artifacts.len(),
            manifest.digest
        ),
    )?;
    out.set_output("manifest", &shown_path)?;
    out.set_output("manifest_digest", &manifest.digest)?;
    out.set_output("artifact_count", &manifest.artifacts.len().to_string())?;
    out.summary(
        "collect-artifacts",
        &markdown_summary(manifest, &shown_path, verb),
    )?;
    if out.is_json() {
        let value = serde_json::json!({
            "ok": true,
            "manifest": shown_path,
            "digest": manifest.digest,
            "artifacts": manifest.artifacts,
            "jobs": manifest.jobs,
            "trust_root": trust.map(|t| &t.name),
        });
        out.json(&value)?;
    }
    Ok(())
}
