//! The fan-in: merge matrix manifests, select the release set, stage it.

use std::path::Path;

use crate::{cmd, job_dist, read_json, stderr_of};

/// Two matrix jobs, as in the original pipeline: Python 3.7/x86 (with the .exe) and
/// Python 3.8/x64.
fn matrix(root: &Path) {
    for (job, tag, python, arch) in [
        ("job37", "cp37-cp37m", "3.7", "x86"),
        ("job38", "cp38-cp38", "3.8", "x64"),
    ] {
        let dir = root.join(job);
        job_dist(&dir, tag);
        if job == "job38" {
            // Only the 3.7 job builds the .exe; the sdist is built by both, identically
            // (same builder, same bytes) in this test.
            fs_err::remove_file(dir.join("dist/clkutil.exe")).unwrap();
        }
        let output = cmd(&dir)
            .args(["collect", "dist", "--out", "dist/manifest.json", "--label"])
            .arg(format!("python={python}"))
            .args(["--label", &format!("arch={arch}")])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    }
}

#[test]
#[allow(clippy::too_many_lines)] // a scenario read top to bottom, as its user lives it
fn merge_then_select_the_release_set_and_stage_it() {
    let dir = tempfile::tempdir().unwrap();
    matrix(dir.path());
    let output = cmd(dir.path())
        .args([
            "merge",
            "job37/dist/manifest.json",
            "job38/dist/manifest.json",
            "--out",
            "all.json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let all = read_json(&dir.path().join("all.json"));
    assert_eq!(all["jobs"].as_array().unwrap().len(), 2);
    let names: Vec<&str> = all["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["file_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec![
            "clkhash-0.18.3-cp37-cp37m-win32.whl",
            "clkhash-0.18.3-cp38-cp38-win32.whl",
            "clkhash-0.18.3.tar.gz",
            "clkutil.exe"
        ]
    );

    let output = cmd(dir.path())
        .args([
            "select",
            "--manifest",
            "all.json",
            "--from",
            ".",
            "--where",
            "python=3.7",
            "--where",
            "arch=x86",
        ])
        .args([
            "--out",
            "release.json",
            "--copy-to",
            "release",
            "--zip",
            "release.zip",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let release = read_json(&dir.path().join("release.json"));
    let names: Vec<&str> = release["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["file_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec![
            "clkhash-0.18.3-cp37-cp37m-win32.whl",
            "clkhash-0.18.3.tar.gz",
            "clkutil.exe"
        ]
    );
    assert_eq!(release["selection"]["source_digest"], all["digest"]);
    assert_eq!(release["selection"]["criteria"]["python"], "3.7");

    // The staged directory verifies on its own, and holds exactly the release.
    let mut staged: Vec<String> = fs_err::read_dir(dir.path().join("release"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    staged.sort();
    assert_eq!(
        staged,
        vec![
            "clkhash-0.18.3-cp37-cp37m-win32.whl",
            "clkhash-0.18.3.tar.gz",
            "clkutil.exe",
            "release.json"
        ]
    );
    let output = cmd(dir.path())
        .args(["verify", "--manifest", "release/release.json", "--strict"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));

    // The zip holds the same files and manifest.
    let mut zip =
        zip::ZipArchive::new(fs_err::File::open(dir.path().join("release.zip")).unwrap()).unwrap();
    let mut zipped: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    zipped.sort();
    assert_eq!(zipped, staged);
    let mut text = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("release.json").unwrap(), &mut text).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["digest"],
        release["digest"]
    );
}

#[test]
fn select_by_kind() {
    let dir = tempfile::tempdir().unwrap();
    matrix(dir.path());
    let output = cmd(dir.path())
        .args([
            "select",
            "--manifest",
            "job37/dist/manifest.json",
            "--kind",
            "wheel,sdist",
            "--out",
            "r.json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let release = read_json(&dir.path().join("r.json"));
    assert_eq!(release["artifacts"].as_array().unwrap().len(), 2);
}

#[test]
fn merge_refuses_different_files_with_one_name() {
    let dir = tempfile::tempdir().unwrap();
    matrix(dir.path());
    // Rebuild job38's sdist with other content and collect again.
    let dist = dir.path().join("job38/dist");
    custody_test_support::SdistBuilder::new("clkhash", "0.18.3")
        .file("clkhash-0.18.3/extra.txt", b"x")
        .build(&dist);
    let output = cmd(&dir.path().join("job38"))
        .args(["collect", "dist", "--out", "dist/manifest.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let output = cmd(dir.path())
        .args([
            "merge",
            "job37/dist/manifest.json",
            "job38/dist/manifest.json",
            "--out",
            "all.json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(
        stderr.starts_with(
            "error: `clkhash-0.18.3.tar.gz` differs between `job37/dist/manifest.json` (sha256 "
        ),
        "{stderr}"
    );
    assert!(!dir.path().join("all.json").exists());
}

#[test]
fn selecting_nothing_is_an_error_that_names_what_exists() {
    let dir = tempfile::tempdir().unwrap();
    matrix(dir.path());
    let output = cmd(dir.path())
        .args([
            "select",
            "--manifest",
            "job38/dist/manifest.json",
            "--where",
            "python=3.7",
            "--out",
            "r.json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(
        stderr.starts_with("error: no artifact matches `python=3.7`"),
        "{stderr}"
    );
    assert!(
        stderr
            .contains("hint: the manifest has labels arch=x64; python=3.8 and kinds sdist, wheel"),
        "{stderr}"
    );
}

#[test]
fn staging_refuses_a_file_changed_since_collect_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    matrix(dir.path());
    let exe = dir.path().join("job37/dist/clkutil.exe");
    let mut bytes = fs_err::read(&exe).unwrap();
    let size = bytes.len();
    bytes.push(0);
    fs_err::write(&exe, bytes).unwrap();
    let output = cmd(dir.path())
        .args([
            "select",
            "--manifest",
            "job37/dist/manifest.json",
            "--copy-to",
            "release",
            "--zip",
            "release.zip",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(
        stderr.starts_with(&format!(
            "error: `job37/dist/clkutil.exe` is {} bytes, but the manifest records {size}",
            size + 1
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("\nhint: the file changed after it was collected; collect it again"),
        "{stderr}"
    );
    let left: Vec<_> = fs_err::read_dir(dir.path().join("release"))
        .map(std::iter::Iterator::count)
        .into_iter()
        .collect();
    assert_eq!(left, vec![0], "nothing staged");
    assert!(!dir.path().join("release.zip").exists());
}

#[test]
fn select_needs_a_target() {
    let dir = tempfile::tempdir().unwrap();
    let output = cmd(dir.path())
        .args(["select", "--manifest", "m.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}
