//! scripts/build-pipeline.sh and scripts/release-pipeline.sh run as an Azure agent and a
//! GitHub runner would run them, on the sample project tagged v0.18.3: two matrix jobs,
//! the fan-in, the release behind a gate, a real pypiserver, and `pip install` of what
//! was published. Checked by what the CI sees.

use std::collections::BTreeMap;
use std::path::Path;

use custody_test_support::{MockServer, PypiServer, codecov_server};

use crate::{Ran, bin_dir, env, json, read, run, script, tagged_checkout};

const CODECOV_TOKEN: &str = "0f3c-codecov-upload-token-9d2e";

/// The environment every step of both pipelines sees, besides the CI's own variables.
fn tools(codecov: &MockServer) -> BTreeMap<String, String> {
    env(&[
        ("CUSTODY_BIN", &bin_dir().to_string_lossy()),
        ("PYTHON", &custody_test_support::python().to_string_lossy()),
        ("CODECOV_TOKEN", CODECOV_TOKEN),
        ("CODECOV_URL", codecov.url().trim_end_matches('/')),
        ("CUSTODY_HTTP_BACKOFF_MS", "1"),
    ])
}

/// The two matrix jobs of the original pipeline: Python 3.7 x86 on Windows (the release
/// set, with the sdist) and Python 3.11 x64 on Linux.
fn build_jobs(
    work: &Path,
    env: &BTreeMap<String, String>,
    each_job: impl Fn(&str, &mut BTreeMap<String, String>),
) -> Vec<Ran> {
    let build = script("build-pipeline.sh");
    let mut runs = Vec::new();
    for (name, labels, sdist) in [
        ("py37-x86", ["python=3.7", "arch=x86", "os=windows"], true),
        ("py311-x64", ["python=3.11", "arch=x64", "os=linux"], false),
    ] {
        let mut env = env.clone();
        each_job(name, &mut env);
        let out = work.join("jobs").join(name);
        let out = out.to_string_lossy();
        let mut args = vec![
            "job",
            "--source",
            "source",
            "--out",
            &out,
            "--no-isolation",
            "--cov",
            "custody_sample",
        ];
        for label in &labels {
            args.extend(["--label", label]);
        }
        if sdist {
            args.push("--sdist");
        }
        runs.push(run(&build, &args, work, &env).expect(0));
        // A fresh checkout per job, as on a CI agent.
        let _ = fs_err::remove_dir_all(work.join("source/build"));
        for entry in fs_err::read_dir(work.join("source/src")).unwrap() {
            let path = entry.unwrap().path();
            if path.to_string_lossy().ends_with(".egg-info") {
                fs_err::remove_dir_all(path).unwrap();
            }
        }
    }
    runs
}

fn fan_in(work: &Path, env: &BTreeMap<String, String>) -> Ran {
    run(
        &script("build-pipeline.sh"),
        &[
            "fan-in",
            "--source",
            "source",
            "--jobs",
            "jobs",
            "--out",
            "build",
            "--where",
            "python=3.7",
            "--where",
            "arch=x86",
        ],
        work,
        env,
    )
}

/// The published package installs from the index and imports.
fn installs(index: &PypiServer) {
    let installed = index.pip_install("custody-sample==0.18.3").unwrap();
    let version = custody_test_support::python_with_path(
        installed.path(),
        "import custody_sample, importlib.metadata as m; print(m.version('custody-sample'))",
    )
    .unwrap();
    assert_eq!(version.trim(), "0.18.3");
}

/// Lines that show `secret`, other than the commands that register it for masking
/// (`::add-mask::`, `##vso[task.setsecret]`), which the runner consumes.
fn leaks(text: &str, secret: &str) -> Vec<String> {
    text.lines()
        .filter(|line| line.contains(secret))
        .filter(|line| {
            !line.starts_with("::add-mask::") && !line.starts_with("##vso[task.setsecret]")
        })
        .map(str::to_owned)
        .collect()
}

/// Values set with `##vso[task.setvariable variable=NAME;isoutput=true]VALUE`.
fn azure_variables(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut variables: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("##vso[task.setvariable variable=") {
            let (name, value) = rest.split_once(';').unwrap();
            let value = value.split_once(']').unwrap().1;
            variables
                .entry(name.to_owned())
                .or_default()
                .push(value.to_owned());
        }
    }
    variables
}

#[test]
#[allow(clippy::too_many_lines)] // a scenario read top to bottom, as its user lives it
fn azure_build_and_release_pipelines() {
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let commit = tagged_checkout(&work.join("source"));
    let codecov = codecov_server();
    let index = PypiServer::start();
    let agent_temp = work.join("agent-temp");
    fs_err::create_dir_all(&agent_temp).unwrap();
    let mut azure = tools(&codecov);
    azure.extend(env(&[
        ("TF_BUILD", "True"),
        ("BUILD_SOURCEBRANCH", "refs/tags/v0.18.3"),
        ("BUILD_SOURCEBRANCHNAME", "v0.18.3"),
        ("BUILD_REASON", "IndividualCI"),
        ("BUILD_SOURCEVERSION", &commit),
        ("BUILD_BUILDID", "42"),
        ("SYSTEM_COLLECTIONURI", "https://dev.azure.com/data61/"),
        ("SYSTEM_TEAMPROJECT", "Anonlink"),
        ("BUILD_REPOSITORY_NAME", "data61/clkhash"),
        ("BUILD_REPOSITORY_PROVIDER", "GitHub"),
        ("AGENT_TEMPDIRECTORY", &agent_temp.to_string_lossy()),
    ]));

    // The build pipeline.
    let jobs = build_jobs(work, &azure, |name, env| {
        env.insert("SYSTEM_JOBDISPLAYNAME".into(), name.into());
    });
    for (job, title, name) in [
        (&jobs[0], "Python 3.7 x86 windows", "py37-x86"),
        (&jobs[1], "Python 3.11 x64 linux", "py311-x64"),
    ] {
        let text = job.both();
        let junit = work.join("jobs").join(name).join("junit.xml");
        let publish = text
            .lines()
            .find(|line| line.starts_with("##vso[results.publish type=JUnit;"))
            .unwrap_or_else(|| panic!("no results.publish in\n{text}"));
        assert!(
            publish.contains(&format!(";runTitle={title};")),
            "{publish}"
        );
        assert!(
            publish.ends_with(&format!(";resultFiles={}]", junit.display())),
            "{publish}"
        );
        assert!(
            text.contains("##vso[codecoverage.publish codecoveragetool=Cobertura;summaryfile="),
            "{text}"
        );
        let variables = azure_variables(&text);
        assert_eq!(variables["failed"], ["0"]);
        assert!(
            variables["manifest_digest"][0].starts_with("sha256:"),
            "{text}"
        );
        assert!(text.contains("##vso[task.uploadsummary]"), "{text}");
        assert_eq!(leaks(&text, CODECOV_TOKEN), Vec::<String>::new());
        assert!(variables["tests"][0].parse::<u32>().unwrap() > 0);
    }
    // Each job's coverage went to Codecov under its own flag, with the token.
    let uploads: Vec<serde_json::Value> = codecov
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| {
            assert_eq!(
                r.header("Authorization"),
                Some(&*format!("token {CODECOV_TOKEN}"))
            );
            assert!(
                r.url
                    .starts_with("/upload/github/data61::::clkhash/upload-coverage"),
                "{}",
                r.url
            );
            serde_json::from_slice(&r.body).unwrap()
        })
        .collect();
    let flags: Vec<&serde_json::Value> = uploads.iter().map(|u| &u["flags"]).collect();
    assert_eq!(
        flags,
        [
            &serde_json::json!(["3.7-x86-windows"]),
            &serde_json::json!(["3.11-x64-linux"])
        ]
    );
    assert!(uploads.iter().all(|u| u["commitid"] == commit.as_str()));
    assert_eq!(
        codecov
            .requests()
            .iter()
            .filter(|r| r.method == "PUT")
            .count(),
        2
    );

    // The fan-in: merge, select, verify, and the `Automated` tag on a release tag.
    let fan_in = fan_in(work, &azure).expect(0);
    let text = fan_in.both();
    assert!(text.contains("##vso[build.addbuildtag]Automated"), "{text}");
    let variables = azure_variables(&text);
    assert_eq!(variables["release"], ["true"]);
    assert_eq!(variables["version"], ["0.18.3"]);
    let release = json(&work.join("build/release/release.json"));
    let mut names: Vec<&str> = release["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["file_name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "custody_sample-0.18.3-py3-none-any.whl",
            "custody_sample-0.18.3.tar.gz"
        ]
    );
    let merged = json(&work.join("build/all.json"));
    assert_eq!(merged["jobs"].as_array().unwrap().len(), 2);

    // The release pipeline behind Azure's own gate (ManualValidation): the release is
    // shown before the gate, the reviewer's approval recorded after it for that digest.
    let shown = run(
        &bin_dir().join("approve-gate"),
        &["--manifest", "build/release/release.json", "--show"],
        work,
        &azure,
    )
    .expect(0);
    let digest = azure_variables(&shown.both())["manifest_digest"][0].clone();
    assert_eq!(digest, release["digest"].as_str().unwrap());
    let mut publish = azure.clone();
    publish.extend(env(&[
        ("PYPI_LOGIN", &index.username),
        ("PYPI_PASSWORD", &index.password),
        ("BUILD_REQUESTEDFOR", "release-manager"),
    ]));
    let url = index.url();
    let release_pipeline = [
        "--release",
        "build/release",
        "--repository-url",
        &url,
        "--",
        "--approved-by",
        "alice",
        "--manifest-digest",
        &digest,
    ];
    let released = run(
        &script("release-pipeline.sh"),
        &release_pipeline,
        work,
        &publish,
    )
    .expect(0);
    let text = released.both();
    let variables = azure_variables(&text);
    assert_eq!(variables["decision"], ["approved"]);
    assert_eq!(variables["uploaded"], ["2"]);
    assert_eq!(leaks(&text, &index.password), Vec::<String>::new());
    let approval = json(&work.join("build/approval.json"));
    assert_eq!(approval["source"], "ci-gate");
    assert_eq!(approval["decided_by"], serde_json::json!(["alice"]));
    assert_eq!(approval["manifest_digest"], digest.as_str());
    let mut files = index.files();
    files.sort_unstable();
    assert_eq!(files, names);
    installs(&index);

    // A re-run (the release pipeline retried) publishes nothing twice.
    let again = run(
        &script("release-pipeline.sh"),
        &release_pipeline,
        work,
        &publish,
    )
    .expect(0);
    let variables = azure_variables(&again.both());
    assert_eq!(
        (
            variables["uploaded"][0].as_str(),
            variables["already_published"][0].as_str()
        ),
        ("0", "2")
    );
}

#[test]
#[allow(clippy::too_many_lines)] // a scenario read top to bottom, as its user lives it
fn github_build_and_release_pipelines() {
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let commit = tagged_checkout(&work.join("source"));
    let codecov = codecov_server();
    let index = PypiServer::start();
    let mut github = tools(&codecov);
    github.extend(env(&[
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_REF", "refs/tags/v0.18.3"),
        ("GITHUB_REF_NAME", "v0.18.3"),
        ("GITHUB_REF_TYPE", "tag"),
        ("GITHUB_EVENT_NAME", "push"),
        ("GITHUB_SHA", &commit),
        ("GITHUB_REPOSITORY", "data61/clkhash"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_RUN_ID", "7001"),
        ("GITHUB_ACTOR", "maintainer"),
    ]));
    // Each job has its own output and summary files, as on a runner.
    let files = |name: &str| {
        let dir = work.join("runner").join(name);
        fs_err::create_dir_all(&dir).unwrap();
        (dir.join("output"), dir.join("summary"))
    };
    build_jobs(work, &github, |name, env| {
        let (output, summary) = files(name);
        env.insert("GITHUB_OUTPUT".into(), output.to_string_lossy().into());
        env.insert(
            "GITHUB_STEP_SUMMARY".into(),
            summary.to_string_lossy().into(),
        );
        env.insert("GITHUB_JOB".into(), name.into());
    });
    for name in ["py37-x86", "py311-x64"] {
        let (output, summary) = files(name);
        let output = read(&output);
        for expected in [
            "failed=0\n",
            "errors=0\n",
            "coverage=",
            "manifest_digest=sha256:",
            "artifact_count=",
        ] {
            assert!(
                output.contains(expected),
                "{name}: {expected} missing from\n{output}"
            );
        }
        let summary = read(&summary);
        assert!(summary.contains("Python 3"), "{summary}");
        assert!(
            summary.contains("### upload-coverage") || summary.contains("Coverage"),
            "{summary}"
        );
        assert!(!summary.contains(CODECOV_TOKEN));
    }

    let (output, summary) = files("release");
    let mut release_env = github.clone();
    release_env.extend(env(&[
        ("GITHUB_OUTPUT", &output.to_string_lossy()),
        ("GITHUB_STEP_SUMMARY", &summary.to_string_lossy()),
        ("PYPI_LOGIN", &index.username),
        ("PYPI_PASSWORD", &index.password),
    ]));
    fan_in(work, &release_env).expect(0);
    let outputs = read(&output);
    assert!(outputs.contains("release=true\n"), "{outputs}");
    assert!(outputs.contains("version=0.18.3\n"), "{outputs}");
    assert!(outputs.contains("verified=true\n"), "{outputs}");

    // The release manager's decision arrives as a file while the gate waits.
    fs_err::create_dir_all(work.join("decisions")).unwrap();
    let digest = json(&work.join("build/release/release.json"))["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    fs_err::write(
        work.join("decisions/approve.json"),
        format!(
            r#"{{"decision": "approve", "by": "release-manager", "manifest_digest": "{digest}"}}"#
        ),
    )
    .unwrap();
    let url = index.url();
    let released = run(
        &script("release-pipeline.sh"),
        &[
            "--release",
            "build/release",
            "--repository-url",
            &url,
            "--",
            "--decision-dir",
            "decisions",
            "--timeout",
            "30s",
            "--poll-interval",
            "100ms",
        ],
        work,
        &release_env,
    )
    .expect(0);
    let text = released.both();
    assert_eq!(leaks(&text, &index.password), Vec::<String>::new());
    let outputs = read(&output);
    assert!(outputs.contains("decision=approved\n"), "{outputs}");
    assert!(outputs.contains("uploaded=2\n"), "{outputs}");
    let summary = read(&summary);
    assert!(summary.contains("### publish-pypi"), "{summary}");
    assert!(
        summary.contains("custody_sample-0.18.3.tar.gz"),
        "{summary}"
    );
    assert!(!summary.contains(&index.password));
    assert_eq!(
        json(&work.join("build/approval.json"))["decided_by"],
        serde_json::json!(["release-manager"])
    );
    assert_eq!(index.files().len(), 2);
    installs(&index);
}

#[test]
fn a_branch_build_is_not_a_release_and_failing_tests_stop_the_job() {
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let source = work.join("source");
    tagged_checkout(&source);
    // A later commit on main, not tagged, with a failing test.
    let test = source.join("tests/test_failing.py");
    fs_err::write(
        &test,
        "def test_regression():\n    assert 1 + 1 == 3, 'the answer changed'\n",
    )
    .unwrap();
    crate::git(&source, &["add", "-A"]);
    crate::git(&source, &["commit", "--quiet", "-m", "a regression"]);
    let commit = crate::git(&source, &["rev-parse", "HEAD"]);
    let codecov = codecov_server();
    let mut azure = tools(&codecov);
    azure.extend(env(&[
        ("TF_BUILD", "True"),
        ("BUILD_SOURCEBRANCH", "refs/heads/main"),
        ("BUILD_SOURCEBRANCHNAME", "main"),
        ("BUILD_REASON", "IndividualCI"),
        ("BUILD_SOURCEVERSION", &commit),
    ]));
    let out = work.join("jobs/py37-x86");
    let failed = run(
        &script("build-pipeline.sh"),
        &[
            "job",
            "--source",
            "source",
            "--out",
            &out.to_string_lossy(),
            "--no-isolation",
            "--cov",
            "custody_sample",
            "--label",
            "python=3.7",
        ],
        work,
        &azure,
    )
    .expect(1);
    let text = failed.both();
    // The results and the coverage are still published; the failure is annotated; the
    // job stops before collecting artifacts of a broken build.
    assert!(text.contains("##vso[results.publish type=JUnit"), "{text}");
    assert!(
        text.contains(
            "##vso[task.logissue type=error;sourcepath=tests/test_failing.py;linenumber=2"
        ),
        "{text}"
    );
    assert!(text.contains("the answer changed"), "{text}");
    assert!(text.contains("##vso[codecoverage.publish"), "{text}");
    assert!(!out.join("dist/manifest.json").exists());

    // Remove the regression: the job passes; the fan-in says "not a release", no tag.
    fs_err::remove_file(&test).unwrap();
    run(
        &script("build-pipeline.sh"),
        &[
            "job",
            "--source",
            "source",
            "--out",
            &out.to_string_lossy(),
            "--no-isolation",
            "--label",
            "python=3.7",
            "--label",
            "arch=x86",
        ],
        work,
        &azure,
    )
    .expect(0);
    let fan_in = fan_in(work, &azure).expect(0);
    let text = fan_in.both();
    assert!(!text.contains("addbuildtag"), "{text}");
    assert_eq!(azure_variables(&text)["release"], ["false"]);
    assert_eq!(azure_variables(&text)["kind"], ["default-branch"]);
}

#[test]
fn the_pipeline_scripts_refuse_bad_usage_with_one_line_each() {
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    let build = script("build-pipeline.sh");
    let release = script("release-pipeline.sh");
    let none = env(&[]);
    for (script, args, first_line) in [
        (
            &build,
            vec!["deploy"],
            "build-pipeline.sh: unknown stage `deploy`: use `job` or `fan-in`",
        ),
        (
            &build,
            vec!["job", "--out", "o"],
            "build-pipeline.sh: job needs --source DIR and --out DIR",
        ),
        (
            &build,
            vec!["job", "--source", "nowhere", "--out", "o"],
            "build-pipeline.sh: `nowhere` is not a directory: pass the project's checkout as --source",
        ),
        (
            &build,
            vec!["fan-in", "--source", ".", "--jobs", "jobs", "--out", "o"],
            "build-pipeline.sh: no job manifests under `jobs` (expected jobs/<job>/dist/manifest.json)",
        ),
        (
            &release,
            vec!["--release", "missing"],
            "release-pipeline.sh: `missing/release.json` does not exist: pass the release set from `build-pipeline.sh fan-in` as --release",
        ),
        (
            &release,
            vec!["--release", "r", "--decision-dir", "d"],
            "release-pipeline.sh: unknown option `--decision-dir` (approve-gate's options go after `--`)",
        ),
    ] {
        let refused = run(script, &args, work, &none).expect(2);
        assert_eq!(refused.stderr.lines().next(), Some(first_line), "{args:?}");
    }
}
