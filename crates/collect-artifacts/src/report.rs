//! Human-facing renderings of a manifest: an aligned terminal table and the Markdown
//! job summary, and the announcement of a manifest just written (table, step outputs,
//! summary, `--json`). All show untrusted file names, which the output layer
//! neutralizes.

use std::path::Path;

use custody_manifest::{Artifact, Manifest};
use custody_output::Context;
use custody_output::safe::one_line;
use custody_output::text::{human_size, markdown_cell as cell};

use custody_cli::OutputError;

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
    let header = ["FILE", "KIND", "SIZE", "SHA256", "PROJECT", "DETAIL"].map(str::to_owned);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |row: &[String; 6]| {
        row.iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut text = line(&header);
    for row in &rows {
        text.push('\n');
        text.push_str(&line(row));
    }
    text
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
    md
}

/// Prints the table, sets step outputs, writes the job summary and the JSON result for
/// a manifest just written to `path`; `verb` says how it came to be.
pub(crate) fn announce_manifest(
    manifest: &Manifest,
    path: &Path,
    verb: &str,
    context: &mut Context,
) -> Result<(), OutputError> {
    let shown_path = one_line(&context.display(path));
    let out = &mut context.out;
    out.info(&table(&manifest.artifacts))?;
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
        });
        out.json(&value)?;
    }
    Ok(())
}
