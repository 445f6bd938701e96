//! The workspace's shape, as rules a reviewer would otherwise have to remember (issue 12):
//! hints are data, never text in a message to be parsed back; the domain crates know
//! nothing of terminals, CI output or exit codes.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `crates/*/src`, with its non-test part (up to the first
/// `#[cfg(test)]`, where this workspace keeps its unit tests).
fn library_sources() -> Vec<(PathBuf, String)> {
    let crates = custody_test_support::workspace_root().join("crates");
    let mut files = Vec::new();
    for entry in fs_err::read_dir(&crates).unwrap() {
        let src = entry.unwrap().path().join("src");
        if src.is_dir() {
            collect(&src, &mut files);
        }
    }
    assert!(files.len() > 50, "found only {} source files", files.len());
    files
        .into_iter()
        .filter(|path| !path.ends_with("tests.rs"))
        .map(|path| {
            let text = fs_err::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("").to_owned();
            (path, code)
        })
        .collect()
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in fs_err::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn hints_are_data_not_text_in_messages() {
    // `"…\nhint: …"` in a message, or `"hint: "` searched for in text: both mean a hint
    // travels as text. Hints go through `Diagnose::hint` or `Diagnostic::hint`.
    let mut offenders = Vec::new();
    for (path, code) in library_sources() {
        for (number, line) in code.lines().enumerate() {
            if line.contains("\\nhint:") || line.contains("\"hint: ") {
                offenders.push(format!(
                    "{}:{}: {}",
                    path.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "hints written into message text:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn domain_crates_do_not_depend_on_output_or_the_step_shell() {
    let crates = custody_test_support::workspace_root().join("crates");
    for domain in [
        "custody-attest",
        "custody-dist",
        "custody-manifest",
        "custody-http",
        "custody-progress",
    ] {
        let manifest = fs_err::read_to_string(crates.join(domain).join("Cargo.toml")).unwrap();
        for forbidden in ["custody-output", "custody-cli"] {
            assert!(
                !manifest.contains(forbidden),
                "{domain} depends on {forbidden}: domain crates return data and errors; the steps render them"
            );
        }
    }
}
