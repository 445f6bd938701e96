//! Azure Pipelines maps an undefined secret into `env:` as the literal text of its macro,
//! `$(PYPI_PASSWORD)`: a missing secret, with a hint, never sent.

use crate::faults::index_server;
use crate::{all_output, cmd, sample_release};
use custody_test_support::Reply;

#[test]
fn an_unexpanded_azure_macro_is_a_missing_secret_never_sent() {
    let server = index_server(|_| Reply::new(200, "OK"));
    let dir = tempfile::tempdir().unwrap();
    let files = sample_release(&dir.path().join("dist"));
    for (user_var, password_var) in [
        ("PYPI_LOGIN", "PYPI_PASSWORD"),
        ("TWINE_USERNAME", "TWINE_PASSWORD"),
    ] {
        let output = cmd(dir.path())
            .arg(&files[0])
            .args(["--repository-url", &server.url()])
            .env("TF_BUILD", "True")
            .env(user_var, "__token__")
            .env(password_var, format!("$({password_var})"))
            .output()
            .unwrap();
        // On Azure the error is a `##vso[task.logissue]` command on stdout.
        let stderr = all_output(&output);
        assert_eq!(output.status.code(), Some(4), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "{password_var} is `$({password_var})`, an Azure Pipelines variable not defined for this run (not sent)"
            )),
            "{stderr}"
        );
        assert!(
            stderr.contains("define the variable as a secret"),
            "{stderr}"
        );
    }
    assert!(server.requests().is_empty(), "nothing reaches the index");
}
