//! Human-facing renderings of a manifest: an aligned terminal table and the Markdown
//! job summary. Both show untrusted file names, which the output layer neutralizes.

use custody_manifest::{Artifact, Manifest};

/// `1.2 MiB`, `812 B`.
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

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
                a.file_name.clone(),
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

pub(crate) fn artifact_table(manifest: &Manifest) -> String {
    table(&manifest.artifacts)
}

/// Escapes text for a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace(['\n', '\r'], " ")
        .replace('<', "&lt;")
}

/// The job summary for a written manifest.
pub(crate) fn markdown_summary(manifest: &Manifest, path: &str, verb: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(human_size(812), "812 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(17 * 1024 * 1024), "17.0 MiB");
    }

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc<script>"), "a\\|b c&lt;script>");
    }
}
