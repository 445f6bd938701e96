//! A CI job that signs against a [`SigstoreStack`], as the steps' tests simulate it: the
//! environment a step sees in a GitHub Actions job with `id-token: write` or a GitLab CI
//! job with a Sigstore `id_tokens` entry, with the stack's services and trust root as the
//! action passes them; signing a file beside itself for such a job; sigstore-python's
//! verdict on the signature; and the check that no identity token reached the output.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::python::{Expected, Root, Signed, Subject, Verdict, python_verify};
use super::{Claims, SigstoreStack};
use crate::oidc::REQUEST_TOKEN;
use crate::{stderr_of, stdout_of};

/// Environment variables to hand to `Command::envs`.
pub type JobEnv = Vec<(&'static str, OsString)>;

impl SigstoreStack {
    /// The stack's Fulcio, Rekor and trust root, as the action passes them
    /// (`CUSTODY_SIGSTORE_FULCIO_URL`, `…_REKOR_URL`, `…_TRUST_ROOT`).
    pub fn services_env(&self) -> JobEnv {
        vec![
            ("CUSTODY_SIGSTORE_FULCIO_URL", self.fulcio_url().into()),
            ("CUSTODY_SIGSTORE_REKOR_URL", self.rekor_url().into()),
            (
                "CUSTODY_SIGSTORE_TRUST_ROOT",
                self.trust_root_path().as_os_str().to_owned(),
            ),
        ]
    }

    /// A GitHub Actions job with `id-token: write` running `claims`' workflow: the
    /// Actions runtime's token endpoint hands out tokens of `claims`; plus
    /// [`services_env`](Self::services_env).
    pub fn github_job_env(&self, claims: &Claims) -> JobEnv {
        let mut env: JobEnv = vec![
            ("GITHUB_ACTIONS", "true".into()),
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                self.github_request_url(claims).into(),
            ),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN.into()),
        ];
        env.extend(self.services_env());
        env
    }

    /// A GitLab CI job declaring a Sigstore identity token of `claims`
    /// (`SIGSTORE_ID_TOKEN`); plus [`services_env`](Self::services_env).
    pub fn gitlab_job_env(&self, claims: &Claims) -> JobEnv {
        let mut env: JobEnv = vec![
            ("GITLAB_CI", "true".into()),
            ("SIGSTORE_ID_TOKEN", self.issuer().mint(claims).into()),
        ];
        env.extend(self.services_env());
        env
    }

    /// sigstore-python's verdict, under the stack's trust root, on `bundle` as a
    /// signature of `file` by `expected`.
    pub fn python_verdict(&self, bundle: &Path, file: &Path, expected: Expected<'_>) -> Verdict {
        python_verify(
            Root::File(self.trust_root_path()),
            Signed::Bundle(bundle),
            Subject::File(file),
            expected,
        )
        .sigstore
    }

    /// Signs `file` for `claims` with `sign` (given a token of `claims` minted by the
    /// stack's issuer, and the file's bytes; it returns a bundle), writes the bundle to
    /// `FILE.sigstore.json`, where `python -m sigstore sign FILE` writes it, and
    /// returns that path; panics unless sigstore-python accepts it for `expected`.
    pub fn sign_beside<B: AsRef<[u8]>>(
        &self,
        claims: &Claims,
        file: &Path,
        expected: Expected<'_>,
        sign: impl FnOnce(&str, &[u8]) -> B,
    ) -> PathBuf {
        let data = fs_err::read(file).expect("read the file to sign");
        let bundle = sign(&self.issuer().mint(claims), &data);
        let mut path = file.as_os_str().to_owned();
        path.push(".sigstore.json");
        let path = PathBuf::from(path);
        fs_err::write(&path, bundle).expect("write the bundle");
        let verdict = self.python_verdict(&path, file, expected);
        assert!(verdict.verified, "{verdict:?}");
        path
    }
}

/// Panics if an identity token (a JWT, `eyJ…`) or the Actions runtime's request token
/// reached a step's output; only `::add-mask::` commands may name it.
pub fn assert_no_identity_token(output: &std::process::Output) {
    let stdout = stdout_of(output);
    let unmasked: Vec<&str> = stdout
        .lines()
        .filter(|line| !line.starts_with("::add-mask::"))
        .collect();
    for text in [unmasked.join("\n"), stderr_of(output)] {
        assert!(!text.contains("eyJ"), "{text}");
        assert!(!text.contains(REQUEST_TOKEN), "{text}");
    }
}
