//! Where an error becomes an exit code. Library crates return their own error enums and
//! know nothing of exit codes; a step's own errors, and the domain errors every step
//! shares (manifest, HTTP), are classified here by implementing [`Diagnose`], and `?`
//! turns any of them into the [`Failure`] that [`crate::run`] reports.

use custody_http::HttpError;
use custody_manifest::{ApprovalError, CombineError, ManifestError};
use custody_output::ExitStatus;

/// An error a step can end with: it knows which exit status it means and, where there is
/// one, the fix to show as a `hint:` line. The hint is data, never part of `Display`.
pub trait Diagnose: std::error::Error + Send + Sync + 'static {
    fn exit_status(&self) -> ExitStatus;

    fn hint(&self) -> Option<String> {
        None
    }
}

/// A failed step: the error to report, the exit status to end with, and the hint.
#[derive(Debug)]
pub struct Failure {
    pub status: ExitStatus,
    pub error: Box<dyn std::error::Error + Send + Sync + 'static>,
    pub hint: Option<String>,
}

/// What a step's `run` returns: the exit status of a completed run (which may be the
/// step's "no"), or a failure to report.
pub type StepResult = Result<ExitStatus, Failure>;

impl Failure {
    pub fn new(
        status: ExitStatus,
        error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self {
            status,
            error: error.into(),
            hint: None,
        }
    }

    /// The same failure with `hint` as its fix.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Bad input: a missing or malformed file.
    pub fn input(error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self::new(ExitStatus::Input, error)
    }

    /// The environment failed: I/O, network, server.
    pub fn environment(
        error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self::new(ExitStatus::Environment, error)
    }

    /// Wrong usage that clap could not catch (conflicting values, bad combinations).
    pub fn usage(error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self::new(ExitStatus::Usage, error)
    }

    /// The step's "no", with an explanation.
    pub fn no(error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self::new(ExitStatus::No, error)
    }
}

/// The step's own output (terminal, CI commands, step outputs, job summary, JSON) could
/// not be written: a closed stdout, an unwritable `$GITHUB_OUTPUT`. The I/O error, which
/// names the file where there is one, is the cause.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the step's output")]
pub struct OutputError(#[from] std::io::Error);

impl Diagnose for OutputError {
    fn exit_status(&self) -> ExitStatus {
        ExitStatus::Environment
    }
}

impl<E: Diagnose> From<E> for Failure {
    fn from(error: E) -> Self {
        Self {
            status: error.exit_status(),
            hint: error.hint(),
            error: Box::new(error),
        }
    }
}

impl Diagnose for HttpError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::BadUrl(_) | Self::InsecureTransport { .. } => ExitStatus::Usage,
            Self::Client(_)
            | Self::Runtime(_)
            | Self::Connect { .. }
            | Self::Timeout { .. }
            | Self::Status { .. }
            | Self::UnsafeRedirect { .. } => ExitStatus::Environment,
        }
    }

    fn hint(&self) -> Option<String> {
        HttpError::hint(self)
    }
}

impl Diagnose for ManifestError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Read { .. } | Self::Parse { .. } | Self::Version { .. } => ExitStatus::Input,
            Self::Tampered { .. } => ExitStatus::No,
            Self::Write { .. } => ExitStatus::Environment,
        }
    }

    fn hint(&self) -> Option<String> {
        ManifestError::hint(self)
    }
}

impl Diagnose for CombineError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Conflict { .. } | Self::NothingSelected { .. } => ExitStatus::No,
            Self::NothingToMerge => ExitStatus::Usage,
        }
    }

    fn hint(&self) -> Option<String> {
        CombineError::hint(self)
    }
}

impl Diagnose for ApprovalError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Read { .. } | Self::Parse { .. } | Self::Version { .. } => ExitStatus::Input,
            Self::Tampered { .. } | Self::NotApproved { .. } | Self::WrongManifest { .. } => {
                ExitStatus::No
            }
            Self::Write { .. } => ExitStatus::Environment,
        }
    }

    fn hint(&self) -> Option<String> {
        ApprovalError::hint(self)
    }
}

/// An attestation that does not verify is the step's "no"; one that cannot be read (or a
/// trust root that cannot be used, or a TUF repository's answer that does not verify) is
/// bad input; a TUF repository that cannot be reached is the environment.
impl Diagnose for custody_attest::AttestError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Sigstore { .. }
            | Self::Identity { .. }
            | Self::Subjects { .. }
            | Self::SubjectName { .. }
            | Self::SubjectDigest { .. }
            | Self::Predicate { .. } => ExitStatus::No,
            Self::Unreadable { .. }
            | Self::Base64 { .. }
            | Self::Invalid { .. }
            | Self::Certificate { .. }
            | Self::Digest { .. }
            | Self::FileName { .. }
            | Self::TrustRootUnreadable { .. }
            | Self::TrustRootInvalid { .. } => ExitStatus::Input,
            Self::TrustRootRefresh { .. } | Self::Runtime { .. } => match self.refresh_failure() {
                Some(custody_attest::RefreshFailure::Refused) => ExitStatus::Input,
                _ => ExitStatus::Environment,
            },
        }
    }

    fn hint(&self) -> Option<String> {
        custody_attest::AttestError::hint(self).map(str::to_owned)
    }
}

#[cfg(test)]
mod attest_tests {
    use super::*;

    #[test]
    fn an_attestation_from_another_signer_is_the_steps_no_with_a_hint() {
        let error = custody_attest::AttestError::Identity {
            file: "a-1.0.tar.gz".into(),
            source: custody_attest::IdentityMismatch {
                claim: "Source Repository URI",
                expected: "https://github.com/o/r".into(),
                found: Some("https://github.com/o/fork".into()),
            },
        };
        let failure = Failure::from(error);
        assert_eq!(failure.status, ExitStatus::No);
        assert!(failure.hint.is_some());
    }

    #[test]
    fn a_missing_trust_root_is_bad_input() {
        let error = custody_attest::TrustRoot::from_file(std::path::Path::new(
            "no-such-directory/trusted_root.json",
        ))
        .unwrap_err();
        assert_eq!(Failure::from(error).status, ExitStatus::Input);
    }

    /// Refreshes Sigstore's public-good root from `url` instead of its repository.
    fn refresh_from(url: String) -> custody_attest::AttestError {
        let repository = custody_attest::TufRepository {
            url,
            ..custody_attest::TufRepository::public_good()
        };
        custody_attest::refresh(&repository, None).unwrap_err()
    }

    #[test]
    fn a_tuf_repository_that_is_not_there_is_the_environment() {
        // A port that was just free: nothing answers on it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let error = refresh_from(format!("http://127.0.0.1:{port}"));
        assert_eq!(Failure::from(error).status, ExitStatus::Environment);
    }

    #[test]
    fn a_tuf_repository_that_serves_what_does_not_verify_is_bad_input() {
        use std::io::{Read, Write};
        // Every request answered with metadata that is not TUF's.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut request = [0; 4096];
                let _ = stream.read(&mut request);
                let body = "{\"signed\": {}, \"signatures\": []}";
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        let error = refresh_from(url);
        assert!(
            matches!(error, custody_attest::AttestError::TrustRootRefresh { .. }),
            "{error:?}"
        );
        assert_eq!(Failure::from(error).status, ExitStatus::Input);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn a_tampered_manifest_is_the_steps_no() {
        let manifest = custody_manifest::Manifest::new("test", Vec::new(), Vec::new(), None);
        let edited = manifest.to_json().replace("\"test\"", "\"edited\"");
        let error =
            custody_manifest::Manifest::from_json(&edited, Path::new("release.json")).unwrap_err();
        assert!(matches!(error, ManifestError::Tampered { .. }), "{error}");
        let failure = Failure::from(error);
        assert_eq!(failure.status, ExitStatus::No);
    }

    /// A path that does not exist.
    fn missing(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("no-such-directory")
            .join(name)
    }

    /// The failure `error` ends a step with: its status and hint, and a message that
    /// never carries the hint as text.
    fn diagnosed(error: impl Diagnose) -> (ExitStatus, Option<String>) {
        let failure = Failure::from(error);
        let message = failure.error.to_string();
        assert!(!message.contains("hint:"), "{message}");
        (failure.status, failure.hint)
    }

    #[test]
    fn a_missing_manifest_is_bad_input_with_the_manifest_hint() {
        let error = custody_manifest::Manifest::load(&missing("release.json")).unwrap_err();
        assert!(matches!(error, ManifestError::Read { .. }), "{error}");
        assert_eq!(
            diagnosed(error),
            (
                ExitStatus::Input,
                Some("pass the file `collect-artifacts collect --out` wrote".to_owned())
            )
        );
    }

    #[test]
    fn a_tampered_manifest_carries_its_hint() {
        let manifest = custody_manifest::Manifest::new("test", Vec::new(), Vec::new(), None);
        let edited = manifest.to_json().replace("\"test\"", "\"edited\"");
        let error =
            custody_manifest::Manifest::from_json(&edited, Path::new("release.json")).unwrap_err();
        assert_eq!(
            diagnosed(error),
            (
                ExitStatus::No,
                Some(
                    "regenerate it with `collect-artifacts`; manifests must not be edited by hand"
                        .to_owned()
                )
            )
        );
    }

    #[test]
    fn http_errors_are_usage_or_environment_with_their_hints() {
        let url = custody_http::Url::parse("http://pypi.example.org/").unwrap();
        let error = custody_http::check_transport(&url, true).unwrap_err();
        assert_eq!(
            diagnosed(error),
            (
                ExitStatus::Usage,
                Some("use an https:// URL (plain http:// is allowed only for loopback addresses such as 127.0.0.1)".to_owned())
            )
        );
        let error = custody_http::parse_url("not a url").unwrap_err();
        assert_eq!(diagnosed(error), (ExitStatus::Usage, None));
        let error = HttpError::Timeout {
            url: "https://upload.pypi.org/legacy/".to_owned(),
            attempts: custody_http::Attempts(4),
        };
        assert_eq!(
            diagnosed(error),
            (
                ExitStatus::Environment,
                Some(
                    "the server is slow or unreachable; retry later, or raise CUSTODY_HTTP_TIMEOUT"
                        .to_owned()
                )
            )
        );
        let error = HttpError::Status {
            url: "https://upload.pypi.org/legacy/".to_owned(),
            status: 503,
            attempts: custody_http::Attempts(1),
        };
        assert_eq!(diagnosed(error), (ExitStatus::Environment, None));
    }

    #[test]
    fn combining_nothing_is_usage_and_a_conflict_is_the_steps_no() {
        let error = custody_manifest::merge("test", &[]).unwrap_err();
        assert_eq!(
            diagnosed(error),
            (
                ExitStatus::Usage,
                Some("pass the manifests of every matrix job".to_owned())
            )
        );
        let error = CombineError::NothingSelected {
            criteria: "`python=3.7`".to_owned(),
            kinds: String::new(),
            available: "labels python=3.8 and kinds wheel".to_owned(),
        };
        assert_eq!(
            diagnosed(error),
            (
                ExitStatus::No,
                Some("the manifest has labels python=3.8 and kinds wheel".to_owned())
            )
        );
    }

    #[test]
    fn an_approval_that_does_not_approve_is_the_steps_no() {
        let manifest = custody_manifest::Manifest::new("test", Vec::new(), Vec::new(), None);
        let approval = custody_manifest::Approval::new(
            "test",
            &manifest,
            custody_manifest::Decision::Rejected,
            Vec::new(),
            "terminal",
            None,
            None,
        );
        let error = approval
            .check_approves(&manifest, Path::new("approval.json"))
            .unwrap_err();
        assert_eq!(
            diagnosed(error),
            (
                ExitStatus::No,
                Some("only an approved record allows publishing; run `approve-gate` again for a new decision".to_owned())
            )
        );
        let error = custody_manifest::Approval::load(&missing("approval.json")).unwrap_err();
        assert_eq!(
            diagnosed(error),
            (
                ExitStatus::Input,
                Some("pass the file `approve-gate --out` wrote".to_owned())
            )
        );
    }

    #[test]
    fn bad_inputs_are_bad_input_with_their_hints() {
        let error = crate::inputs::InputError::Missing("dist/".to_owned());
        assert_eq!(
            diagnosed(error),
            (
                ExitStatus::Input,
                Some("check the path, or run the build step first".to_owned())
            )
        );
        let error = crate::inputs::InputError::Empty {
            inputs: vec!["dist".to_owned(), "build".to_owned()],
        };
        assert_eq!(error.to_string(), "no artifacts found in `dist`, `build`");
        assert_eq!(diagnosed(error).0, ExitStatus::Input);
    }

    /// Domain crates know nothing of exit codes or terminals: what a step shows and how
    /// it ends is decided here, at the edge.
    #[test]
    fn domain_crates_do_not_depend_on_output_or_cli() {
        let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for domain in [
            "custody-attest",
            "custody-dist",
            "custody-manifest",
            "custody-http",
        ] {
            let manifest = fs_err::read_to_string(crates.join(domain).join("Cargo.toml")).unwrap();
            let dependencies = normal_dependencies(&manifest);
            assert!(!dependencies.is_empty(), "{domain}: no dependencies read");
            for forbidden in ["custody-output", "custody-cli"] {
                assert!(
                    !dependencies.contains(&forbidden),
                    "{domain} depends on {forbidden}"
                );
            }
        }
    }

    /// The names in the `[dependencies]` and `[build-dependencies]` tables (plain or
    /// per target) of a Cargo.toml, in either the inline or the `[dependencies.name]` form.
    fn normal_dependencies(manifest: &str) -> Vec<&str> {
        let mut names = Vec::new();
        let mut in_table = false;
        for line in manifest.lines().map(str::trim) {
            if let Some(header) = line.strip_prefix('[') {
                let header = header.trim_end_matches(']');
                let table = header
                    .rsplit_once("dependencies")
                    .filter(|_| !header.contains("dev-dependencies"));
                in_table = table.is_some_and(|(_, rest)| rest.is_empty());
                if let Some((_, name)) = table.and_then(|(_, rest)| rest.split_once('.')) {
                    names.push(name.trim_matches('"'));
                }
                continue;
            }
            if in_table && let Some((key, _)) = line.split_once('=') {
                names.push(
                    key.split('.')
                        .next()
                        .unwrap_or(key)
                        .trim()
                        .trim_matches('"'),
                );
            }
        }
        names
    }

    #[test]
    fn dependency_tables_are_read() {
        let manifest = "[package]\nname = \"x\"\n[dependencies]\ncustody-ci = { workspace = true }\nfs-err.workspace = true\n[dev-dependencies]\ninsta = \"1\"\n[target.'cfg(unix)'.dependencies]\nlibc = \"0.2\"\n[dependencies.custody-output]\nworkspace = true\n";
        assert_eq!(
            normal_dependencies(manifest),
            ["custody-ci", "fs-err", "libc", "custody-output"]
        );
    }

    #[test]
    fn a_hint_travels_as_data() {
        #[derive(Debug, thiserror::Error)]
        #[error("`dist/` holds no wheel")]
        struct Empty;
        impl Diagnose for Empty {
            fn exit_status(&self) -> ExitStatus {
                ExitStatus::Input
            }
            fn hint(&self) -> Option<String> {
                Some("build first".to_owned())
            }
        }
        let failure = Failure::from(Empty);
        assert_eq!(failure.status, ExitStatus::Input);
        assert_eq!(failure.hint.as_deref(), Some("build first"));
        assert_eq!(failure.error.to_string(), "`dist/` holds no wheel");
    }
}
