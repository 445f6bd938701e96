//! Conformance from the field: four real projects' own test suites (six, idna, toolz,
//! more-itertools, sdists pinned by sha256) run under coverage.py 5.5, 6.5 and 7.x, with
//! and without branches, in two halves and combined (scripts/test-env.sh writes them
//! once, tests/fixtures/upload-coverage/field/generate.py). Every report's total and
//! every file's row must equal that same coverage.py's `coverage report`; the halves
//! merged by us must equal `coverage combine`; `--fail-under` must give coverage.py's
//! verdict.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::{cmd, json_of, stderr_of};

/// One release × project × mode directory of the generated corpus.
struct Case {
    release: String,
    /// Where the project's sources are (the reports point there).
    source: PathBuf,
    dir: PathBuf,
    branch: bool,
}

impl Case {
    fn name(&self) -> String {
        format!("{}", self.dir.display())
    }

    /// coverage.py before 7.0: JSON lists docstrings as run (and 5.x gives no arcs),
    /// 6.x LCOV keys its branches by destination.
    fn old(&self) -> bool {
        !self.release.starts_with("7.")
    }

    /// The reports of `stem` that this release writes.
    fn reports(&self, stem: &str) -> Vec<PathBuf> {
        ["xml", "json", "lcov"]
            .iter()
            .map(|format| self.dir.join(format!("{stem}.{format}")))
            .filter(|path| path.is_file())
            .collect()
    }

    /// coverage.py 6.x writes LCOV branches under their destination line with the
    /// source line's index as the block: which line a branch leaves is lost, so its
    /// `BrPart` (missing branches of lines that ran) cannot be known. Its statements,
    /// branches and total are exact (`LF`, the `DA:n,0` lines, `BRF`, `BRH`).
    fn without_unknowable(&self, report: &Path, table: &Table) -> Table {
        let mut table = table.clone();
        if self.release.starts_with("6.") && report.extension().is_some_and(|e| e == "lcov") {
            for row in table.values_mut() {
                if let Some((_, partial)) = row.branches.as_mut() {
                    *partial = 0;
                }
            }
        }
        table
    }

    fn truth(&self, stem: &str) -> Table {
        table(&fs_err::read_to_string(self.dir.join(format!("{stem}.txt"))).unwrap())
    }
}

fn corpus() -> PathBuf {
    custody_test_support::fixtures_dir().join("coverage-field")
}

fn cases() -> Vec<Case> {
    let root = corpus();
    let mut cases = Vec::new();
    for release in ["5.5", "6.5.0", "7.17.4"] {
        let mut projects: Vec<_> = fs_err::read_dir(root.join(release))
            .unwrap_or_else(|e| panic!("{e}: run scripts/test-env.sh"))
            .map(|entry| entry.unwrap().file_name())
            .collect();
        projects.sort();
        for project in projects {
            for mode in ["line", "branch"] {
                cases.push(Case {
                    release: release.to_owned(),
                    source: root.join("src").join(&project),
                    dir: root.join(release).join(&project).join(mode),
                    branch: mode == "branch",
                });
            }
        }
    }
    assert_eq!(cases.len(), 24, "3 releases × 4 projects × 2 modes");
    cases
}

/// One row of `coverage report`: statements, missing, (branches, partial), cover.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    statements: u64,
    missing: u64,
    branches: Option<(u64, u64)>,
    cover: String,
}

/// `coverage report`'s table by name, `TOTAL` included.
type Table = BTreeMap<String, Row>;

fn table(text: &str) -> Table {
    let mut rows = Table::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 4 || !fields.last().unwrap().ends_with('%') {
            continue;
        }
        let numbers: Option<Vec<u64>> = fields[1..fields.len() - 1]
            .iter()
            .map(|n| n.parse().ok())
            .collect();
        let Some(numbers) = numbers else { continue };
        rows.insert(
            fields[0].to_owned(),
            Row {
                statements: numbers[0],
                missing: numbers[1],
                branches: (numbers.len() == 4).then(|| (numbers[2], numbers[3])),
                cover: fields.last().unwrap().trim_end_matches('%').to_owned(),
            },
        );
    }
    assert!(rows.contains_key("TOTAL"), "no TOTAL in:\n{text}");
    rows
}

/// Our table, from `--json`.
fn our_table(result: &serde_json::Value, branch: bool) -> Table {
    let row = |numbers: &serde_json::Value, display: &serde_json::Value| Row {
        statements: numbers["statements"].as_u64().unwrap(),
        missing: numbers["missing"].as_u64().unwrap(),
        branches: branch.then(|| {
            (
                numbers["branches"].as_u64().unwrap(),
                numbers["partial_branches"].as_u64().unwrap(),
            )
        }),
        cover: display.as_str().unwrap().to_owned(),
    };
    let mut rows = Table::new();
    for file in result["files"].as_array().unwrap() {
        rows.insert(
            file["path"].as_str().unwrap().to_owned(),
            row(file, &file["display"]),
        );
    }
    rows.insert(
        "TOTAL".to_owned(),
        row(&result["totals"], &result["display"]),
    );
    rows
}

fn run(dir: &Path, reports: &[PathBuf]) -> Output {
    cmd(dir)
        .args(reports)
        .args(["--json", "--precision", "2"])
        .output()
        .unwrap()
}

/// The rows that differ, one line each.
fn differences(ours: &Table, theirs: &Table) -> Vec<String> {
    let mut names: Vec<&String> = ours.keys().chain(theirs.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|name| ours.get(*name) != theirs.get(*name))
        .map(|name| {
            format!(
                "{name}: ours {:?}, coverage.py {:?}",
                ours.get(name),
                theirs.get(name)
            )
        })
        .collect()
}

#[test]
fn every_report_gives_the_rows_coverage_report_prints() {
    let mut checked = 0;
    let mut wrong = Vec::new();
    for case in cases() {
        for stem in ["part1", "part2", "all"] {
            let theirs = case.truth(stem);
            for report in case.reports(stem) {
                let output = run(&case.source, std::slice::from_ref(&report));
                assert!(
                    output.status.success(),
                    "{}: {}",
                    report.display(),
                    stderr_of(&output)
                );
                let ours =
                    case.without_unknowable(&report, &our_table(&json_of(&output), case.branch));
                let theirs = case.without_unknowable(&report, &theirs);
                checked += 1;
                for difference in differences(&ours, &theirs) {
                    wrong.push(format!("{}: {difference}", report.display()));
                }
            }
        }
    }
    // 5.5: xml and json; 6.5 and 7.x: lcov too; three stems, 24 cases.
    assert_eq!(checked, 3 * 4 * 2 * (2 + 3 + 3), "reports checked");
    assert!(
        wrong.is_empty(),
        "{} rows differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn halves_merge_like_coverage_combine() {
    let mut exact = 0;
    let mut warned = Vec::new();
    let mut wrong = Vec::new();
    for case in cases() {
        let theirs = case.truth("all");
        let (first, second) = (case.reports("part1"), case.reports("part2"));
        for (a, b) in first.iter().zip(&second) {
            let output = run(&case.source, &[a.clone(), b.clone()]);
            assert!(
                output.status.success(),
                "{}: {}",
                a.display(),
                stderr_of(&output)
            );
            let ours = our_table(&json_of(&output), case.branch);
            let differ = differences(&ours, &theirs);
            let said = stderr_of(&output).contains("could not be merged exactly");
            let format = a.extension().unwrap().to_string_lossy().into_owned();
            if differ.is_empty() {
                exact += 1;
            } else if said && (case.old() || format == "json") && format != "xml" {
                // Counts the lines do not show: documented, and the run says so.
                warned.push(format!("{} {format}", case.name()));
            } else {
                wrong.push(format!(
                    "{} {format}:\n  {}",
                    case.name(),
                    differ.join("\n  ")
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "merges differ from `coverage combine`:\n{}",
        wrong.join("\n")
    );
    // Cobertura of every release merges exactly (coverage.py names the missing
    // branches), as do 7.x JSON and LCOV.
    assert_eq!(exact, 24 + 8 * 2, "exact merges; warned: {warned:?}");
    // The rest, said to be inexact: coverage.py 5.x/6.x JSON and 6.x LCOV.
    assert_eq!(warned.len(), 4 * 2 * 3, "{warned:?}");
}

#[test]
fn one_run_in_several_formats_counts_once() {
    for case in cases().iter().filter(|c| c.branch) {
        let theirs = case.truth("all");
        let output = run(&case.source, &case.reports("all"));
        assert!(output.status.success(), "{}", stderr_of(&output));
        assert!(
            stderr_of(&output).contains("in another format: counted once"),
            "{}",
            case.name()
        );
        let ours = our_table(&json_of(&output), true);
        assert_eq!(ours["TOTAL"], theirs["TOTAL"], "{}", case.name());
    }
}

#[test]
fn totals_need_no_sources() {
    let elsewhere = tempfile::tempdir().unwrap();
    for case in cases().iter().filter(|c| c.branch) {
        let theirs = case.truth("all");
        for report in case.reports("all") {
            let output = run(elsewhere.path(), std::slice::from_ref(&report));
            assert!(
                output.status.success(),
                "{}: {}",
                report.display(),
                stderr_of(&output)
            );
            assert!(
                stderr_of(&output).contains("exists here"),
                "a warning names the missing sources"
            );
            let ours = case.without_unknowable(&report, &our_table(&json_of(&output), true));
            let theirs = case.without_unknowable(&report, &theirs);
            assert_eq!(ours["TOTAL"], theirs["TOTAL"], "{}", report.display());
        }
    }
}

/// coverage.py's `should_fail_under` on every (total, threshold, precision), in one
/// process of the 7.x release.
fn their_verdicts(triples: &[(f64, f64, usize)]) -> Vec<bool> {
    let mut input = String::new();
    for (total, threshold, precision) in triples {
        // `{:?}` writes the shortest text that reads back as the same float, as Python's.
        input.push_str(&format!("{total:?} {threshold:?} {precision}\n"));
    }
    let script = "import sys\nfrom coverage.results import should_fail_under\nfor line in sys.stdin:\n    t, f, p = line.split()\n    print(int(should_fail_under(float(t), float(f), int(p))))\n";
    let mut child = std::process::Command::new(corpus().join("venvs/7.17.4/bin/python"))
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| l == "1")
        .collect()
}

#[test]
fn fail_under_gives_coverage_pys_verdict_at_every_threshold_and_precision() {
    // The totals of every real report, as coverage.py computed them.
    let mut totals: Vec<f64> = Vec::new();
    for case in cases() {
        for stem in ["part1", "part2", "all"] {
            let json: serde_json::Value = serde_json::from_str(
                &fs_err::read_to_string(case.dir.join(format!("{stem}.json"))).unwrap(),
            )
            .unwrap();
            totals.push(json["totals"]["percent_covered"].as_f64().unwrap());
        }
    }
    totals.extend([0.0, 100.0, 99.999, 0.001]);
    let mut triples = Vec::new();
    for &total in &totals {
        let mut thresholds = vec![0.0, 100.0, total.floor(), total.ceil().min(100.0)];
        for places in 1..=3 {
            let scale = 10f64.powi(places);
            for step in [-1.0, 0.0, 1.0] {
                let t = ((total * scale).round() + step) / scale;
                thresholds.push(t.clamp(0.0, 100.0));
                thresholds.push((((total * scale).floor() + step) / scale).clamp(0.0, 100.0));
            }
        }
        for threshold in thresholds {
            for precision in 0..=3 {
                triples.push((total, threshold, precision));
            }
        }
    }
    let theirs = their_verdicts(&triples);
    assert_eq!(theirs.len(), triples.len());
    let wrong: Vec<String> = triples
        .iter()
        .zip(&theirs)
        .filter(|((total, threshold, precision), fails)| {
            upload_coverage::model::fails_under(*total, *threshold, *precision) != **fails
        })
        .map(|(triple, fails)| format!("{triple:?}: coverage.py fails={fails}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} verdicts differ:\n{}",
        wrong.len(),
        triples.len(),
        wrong.join("\n")
    );
}

#[test]
fn fail_under_end_to_end_agrees_with_coverage_report() {
    let case = cases()
        .into_iter()
        .find(|c| c.release.starts_with("7.") && c.branch)
        .unwrap();
    let python = corpus().join("venvs/7.17.4/bin/python");
    let data = case.dir.join(".coverage.all");
    let total = json_of(&run(&case.source, &case.reports("all")[..1]))["percent"]
        .as_f64()
        .unwrap();
    let two = (total * 100.0).round() / 100.0;
    for (threshold, precision) in [
        (format!("{:.2}", two + 0.01), "0"),
        (format!("{two:.2}"), "0"),
        (format!("{:.0}", total.ceil()), "0"),
        (format!("{:.0}", total.floor()), "2"),
    ] {
        let theirs = std::process::Command::new(&python)
            .args([
                "-m",
                "coverage",
                "report",
                "--fail-under",
                &threshold,
                "--precision",
                precision,
            ])
            .env("COVERAGE_FILE", &data)
            .current_dir(&case.source)
            .output()
            .unwrap();
        let ours = cmd(&case.source)
            .arg(&case.reports("all")[0])
            .args(["--fail-under", &threshold, "--precision", precision])
            .output()
            .unwrap();
        // coverage.py exits 2 for a total under the threshold; we exit 1 (the step's "no").
        assert_eq!(
            (ours.status.code() == Some(1)),
            (theirs.status.code() == Some(2)),
            "--fail-under {threshold} --precision {precision} on {total}\n{}",
            stderr_of(&ours)
        );
    }
}
