//! A directory or glob argument takes only the reports in it, names what it skips, and
//! never echoes a file that is not a report (it may be a credentials file).

use crate::{cmd, json_of, measure, project, stderr_of, stdout_of};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// A directory with real reports among things that are not: a credentials file, a
/// JSON secret, JUnit XML, an HTML page.
fn mixed_dir(project: &std::path::Path) -> std::path::PathBuf {
    measure(project, ".coverage", true, &["tests"], "all");
    let reports = project.join("reports");
    fs_err::create_dir_all(&reports).unwrap();
    fs_err::rename(project.join("all.xml"), reports.join("coverage.xml")).unwrap();
    fs_err::write(
        reports.join("credentials"),
        format!("[default]\naws_secret_access_key = {SECRET}\n"),
    )
    .unwrap();
    fs_err::write(
        reports.join("token.json"),
        format!(r#"{{"token": "{SECRET}"}}"#),
    )
    .unwrap();
    fs_err::write(
        reports.join("junit.xml"),
        format!(r#"<testsuites><testsuite name="{SECRET}"/></testsuites>"#),
    )
    .unwrap();
    fs_err::write(reports.join("index.html"), format!("<html>{SECRET}</html>")).unwrap();
    reports
}

#[test]
fn a_directory_takes_its_reports_and_names_what_it_skips() {
    let dir = tempfile::tempdir().unwrap();
    let project = project(dir.path());
    mixed_dir(&project);
    let output = cmd(&project).args(["reports", "--json"]).output().unwrap();
    let all = format!("{}{}", stdout_of(&output), stderr_of(&output));
    assert!(output.status.success(), "{all}");
    assert!(!all.contains(SECRET), "never echoed: {all}");
    let json = json_of(&output);
    let read: Vec<&str> = json["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(read, ["reports/coverage.xml"], "{json}");
    let stderr = stderr_of(&output);
    for skipped in ["credentials", "token.json", "junit.xml", "index.html"] {
        assert!(
            stderr.contains(&format!(
                "Skipping `reports/{skipped}`: not a coverage report"
            )),
            "{stderr}"
        );
    }
}

#[test]
fn a_file_that_is_no_report_is_named_never_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let project = project(dir.path());
    let reports = mixed_dir(&project);
    fs_err::remove_file(reports.join("coverage.xml")).unwrap();
    for (args, first_line) in [
        (
            vec!["reports/credentials"],
            "error: `reports/credentials` is not a coverage report this step reads",
        ),
        (
            vec!["reports/token.json"],
            "error: `reports/token.json` is not a coverage report this step reads",
        ),
        (vec!["reports"], "error: no coverage report in `reports`"),
        (
            vec!["reports/*"],
            "error: no coverage report in `reports/*`",
        ),
    ] {
        let output = cmd(&project).args(&args).output().unwrap();
        let all = format!("{}{}", stdout_of(&output), stderr_of(&output));
        assert_eq!(output.status.code(), Some(3), "{args:?}: {all}");
        assert!(!all.contains(SECRET), "{args:?} echoed the file: {all}");
        let error = stderr_of(&output)
            .lines()
            .find(|l| l.starts_with("error:"))
            .unwrap_or_default()
            .to_owned();
        assert_eq!(error, first_line, "{all}");
        assert!(all.contains("hint: pass Cobertura XML"), "{all}");
    }
}
