//! The merged report written back out as Cobertura XML, in the shape coverage.py writes
//! (one package per directory, one class per file, `condition-coverage` on branch
//! lines), so Azure's coverage tab and every Cobertura reader take it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::model::{Coverage, FileCoverage, Numbers};

fn rate(covered: u64, total: u64) -> String {
    if total == 0 {
        "1".to_owned()
    } else {
        format!("{:.4}", covered as f64 / total as f64)
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn class(out: &mut String, path: &str, file: &FileCoverage) {
    let numbers = file.numbers();
    let name = path.rsplit('/').next().unwrap_or(path);
    let _ = writeln!(
        out,
        "\t\t\t\t<class name=\"{}\" filename=\"{}\" complexity=\"0\" line-rate=\"{}\" branch-rate=\"{}\">\n\t\t\t\t\t<methods/>\n\t\t\t\t\t<lines>",
        escape(name),
        escape(path),
        rate(numbers.covered_statements(), numbers.statements),
        rate(numbers.covered_branches(), numbers.branches),
    );
    for (number, line) in &file.lines {
        let _ = write!(
            out,
            "\t\t\t\t\t\t<line number=\"{number}\" hits=\"{}\"",
            line.hits
        );
        if !line.branches.is_empty() {
            let total = line.branches.len();
            let taken = line.branches.taken();
            let _ = write!(
                out,
                " branch=\"true\" condition-coverage=\"{}% ({taken}/{total})\"",
                100 * taken / total
            );
        }
        out.push_str("/>\n");
    }
    out.push_str("\t\t\t\t\t</lines>\n\t\t\t\t</class>\n");
}

/// The whole report. `source` is the root the paths are relative to.
pub(crate) fn cobertura(coverage: &Coverage, source: &str, timestamp_ms: u128) -> String {
    let totals = coverage.totals();
    let mut packages: BTreeMap<String, Vec<(&String, &FileCoverage)>> = BTreeMap::new();
    for (path, file) in &coverage.files {
        let package = path
            .rsplit_once('/')
            .map_or(".", |(dir, _)| dir)
            .replace('/', ".");
        packages.entry(package).or_default().push((path, file));
    }
    let mut out = String::from("<?xml version=\"1.0\" ?>\n");
    let _ = writeln!(
        out,
        "<coverage version=\"custody-{}\" timestamp=\"{timestamp_ms}\" lines-valid=\"{}\" lines-covered=\"{}\" line-rate=\"{}\" branches-valid=\"{}\" branches-covered=\"{}\" branch-rate=\"{}\" complexity=\"0\">",
        env!("CARGO_PKG_VERSION"),
        totals.statements,
        totals.covered_statements(),
        rate(totals.covered_statements(), totals.statements),
        totals.branches,
        totals.covered_branches(),
        rate(totals.covered_branches(), totals.branches),
    );
    let _ = writeln!(
        out,
        "\t<!-- Merged by custody upload-coverage -->\n\t<sources>\n\t\t<source>{}</source>\n\t</sources>\n\t<packages>",
        escape(source)
    );
    for (package, files) in &packages {
        let mut numbers = Numbers::default();
        for (_, file) in files {
            numbers.add(&file.numbers());
        }
        let _ = writeln!(
            out,
            "\t\t<package name=\"{}\" line-rate=\"{}\" branch-rate=\"{}\" complexity=\"0\">\n\t\t\t<classes>",
            escape(package),
            rate(numbers.covered_statements(), numbers.statements),
            rate(numbers.covered_branches(), numbers.branches),
        );
        for (path, file) in files {
            class(&mut out, path, file);
        }
        out.push_str("\t\t\t</classes>\n\t\t</package>\n");
    }
    out.push_str("\t</packages>\n</coverage>\n");
    out
}
