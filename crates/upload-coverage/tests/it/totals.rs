//! The numbers: coverage.py's own, in every format, merged like `coverage combine`.

use crate::{cmd, coverage, json_of, measure, project, stderr_of, stdout_of, total_line};

#[test]
fn every_format_gives_the_figure_coverage_report_prints() {
    let dir = tempfile::tempdir().unwrap();
    let project = project(dir.path());
    for branch in [false, true] {
        measure(&project, ".coverage", branch, &["tests"], "all");
        for precision in ["0", "2"] {
            let report = coverage(&project, ".coverage", &["report", "--precision", precision]);
            let (statements, missing, branches, cover) = total_line(&report);
            for format in ["xml", "json", "lcov"] {
                let output = cmd(&project)
                    .args([&format!("all.{format}"), "--json", "--precision", precision])
                    .output()
                    .unwrap();
                assert!(output.status.success(), "{}", stderr_of(&output));
                let result = json_of(&output);
                let what = format!("{format}, branch={branch}, precision={precision}");
                assert_eq!(result["display"], cover.as_str(), "{what}\n{report}");
                assert_eq!(result["totals"]["statements"], statements, "{what}");
                assert_eq!(result["totals"]["missing"], missing, "{what}");
                if let Some((branches, partial)) = branches {
                    assert_eq!(result["totals"]["branches"], branches, "{what}");
                    assert_eq!(result["totals"]["partial_branches"], partial, "{what}");
                } else {
                    assert_eq!(result["totals"]["branches"], 0, "{what}");
                }
            }
        }
    }
}

#[test]
fn the_terminal_table_is_coverage_reports() {
    let dir = tempfile::tempdir().unwrap();
    let project = project(dir.path());
    measure(&project, ".coverage", true, &["tests"], "all");
    let theirs = coverage(&project, ".coverage", &["report", "--show-missing"]);
    let output = cmd(&project)
        .args(["all.xml", "--show-missing"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let ours = stderr_of(&output);
    let normalize = |text: &str| {
        text.lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
    };
    // Same rows and numbers (coverage.py also lists partial branches as `22->24`).
    let their_rows = normalize(&theirs);
    let our_rows = normalize(&ours);
    assert_eq!(
        our_rows.last(),
        their_rows.last(),
        "TOTAL\nours:\n{ours}\ntheirs:\n{theirs}"
    );
    let file_row = |rows: &[String]| {
        rows.iter()
            .find(|r| r.starts_with("calc/__init__.py"))
            .unwrap()
            .split(' ')
            .take(6)
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(file_row(&our_rows), file_row(&their_rows));
}

#[test]
fn a_matrix_merges_like_coverage_combine() {
    let dir = tempfile::tempdir().unwrap();
    let project = project(dir.path());
    // Two jobs, each running part of the tests.
    measure(&project, ".coverage.a", true, &["tests/test_a.py"], "a");
    measure(&project, ".coverage.b", true, &["tests/test_b.py"], "b");
    coverage(
        &project,
        ".coverage",
        &["combine", "--keep", ".coverage.a", ".coverage.b"],
    );
    let report = coverage(&project, ".coverage", &["report"]);
    let (statements, missing, branches, cover) = total_line(&report);
    for (a, b) in [
        ("a.json", "b.json"),
        ("a.lcov", "b.lcov"),
        ("a.json", "b.lcov"),
    ] {
        let output = cmd(&project).args([a, b, "--json"]).output().unwrap();
        let result = json_of(&output);
        assert_eq!(result["display"], cover.as_str(), "{a} + {b}\n{report}");
        assert_eq!(
            (
                result["totals"]["statements"].as_u64(),
                result["totals"]["missing"].as_u64()
            ),
            (Some(statements), Some(missing))
        );
        assert_eq!(result["totals"]["branches"], branches.unwrap().0);
    }
    // Cobertura carries branch counts, not which branch ran: lines merge exactly. The
    // jobs' reports have the same name, side by side in the fan-in.
    for job in ["a", "b"] {
        fs_err::create_dir_all(project.join(format!("jobs/{job}"))).unwrap();
        fs_err::copy(
            project.join(format!("{job}.xml")),
            project.join(format!("jobs/{job}/coverage.xml")),
        )
        .unwrap();
    }
    let output = cmd(&project)
        .args(["jobs/*/coverage.xml", "--json"])
        .output()
        .unwrap();
    let result = json_of(&output);
    assert_eq!(
        (
            result["totals"]["statements"].as_u64(),
            result["totals"]["missing"].as_u64()
        ),
        (Some(statements), Some(missing))
    );
    assert_eq!(result["reports"].as_array().unwrap().len(), 2);
}

#[test]
fn thresholds_use_the_displayed_figure() {
    let dir = tempfile::tempdir().unwrap();
    let project = project(dir.path());
    measure(&project, ".coverage", true, &["tests"], "all");
    // 15 of 26 = 57.69 %: shown as 58.
    let passes = cmd(&project)
        .args(["all.xml", "--fail-under", "58"])
        .output()
        .unwrap();
    assert_eq!(passes.status.code(), Some(0), "{}", stderr_of(&passes));
    let fails = cmd(&project)
        .args(["all.xml", "--fail-under", "58", "--precision", "1"])
        .output()
        .unwrap();
    assert_eq!(fails.status.code(), Some(1));
    assert!(
        stderr_of(&fails).contains("error: total coverage 57.7% is under --fail-under 58.0%"),
        "{}",
        stderr_of(&fails)
    );
    let bad = cmd(&project)
        .args(["all.xml", "--fail-under", "180"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn merged_output_reads_back_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let project = project(dir.path());
    measure(&project, ".coverage.a", true, &["tests/test_a.py"], "a");
    measure(&project, ".coverage.b", true, &["tests/test_b.py"], "b");
    let merged = cmd(&project)
        .args(["a.json", "b.json", "--output", "merged.xml", "--json"])
        .output()
        .unwrap();
    let again = cmd(&project)
        .args(["merged.xml", "--json"])
        .output()
        .unwrap();
    assert_eq!(json_of(&merged)["totals"], json_of(&again)["totals"]);
    assert!(
        fs_err::read_to_string(project.join("merged.xml"))
            .unwrap()
            .contains("condition-coverage=\"50% (1/2)\"")
    );
}

#[test]
fn azure_and_github_get_their_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let project = project(dir.path());
    measure(&project, ".coverage", true, &["tests"], "all");
    let azure = cmd(&project)
        .args(["all.xml", "--html-dir", "htmlcov"])
        .env("TF_BUILD", "True")
        .output()
        .unwrap();
    let stdout = stdout_of(&azure);
    let expected = format!(
        "##vso[codecoverage.publish codecoveragetool=Cobertura;summaryfile={};reportdirectory={}]",
        project.join("all.xml").display(),
        project.join("htmlcov").display()
    );
    assert!(stdout.lines().any(|l| l == expected), "{stdout}");
    assert!(
        stdout.contains("##vso[task.setvariable variable=coverage;isoutput=true]58"),
        "{stdout}"
    );
    // Two inputs: the merged report is what Azure gets.
    let merged = cmd(&project)
        .args(["all.json", "all.lcov"])
        .env("TF_BUILD", "True")
        .env("AGENT_TEMPDIRECTORY", dir.path())
        .output()
        .unwrap();
    assert!(stdout_of(&merged).contains(&format!(
        "summaryfile={}",
        dir.path().join("custody-merged-coverage.xml").display()
    )));
    assert!(dir.path().join("custody-merged-coverage.xml").is_file());

    let summary = dir.path().join("summary.md");
    let outputs = dir.path().join("outputs");
    let github = cmd(&project)
        .arg("all.xml")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .output()
        .unwrap();
    assert!(github.status.success());
    let summary = fs_err::read_to_string(&summary).unwrap();
    assert!(summary.starts_with("### Coverage: 58%"), "{summary}");
    assert!(
        summary.contains("| `calc/__init__.py` | 16 | 6 | 10 | 1 | 58% | 14, 19-23 |"),
        "{summary}"
    );
    assert!(
        fs_err::read_to_string(&outputs)
            .unwrap()
            .contains("coverage=58\n")
    );
}
