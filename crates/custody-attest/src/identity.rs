//! The signer a verifier expects, and the claims a Fulcio certificate makes about the
//! signer. A CI identity is checked claim by claim (issuer, source repository, build
//! configuration, ref) the way `pypi-attestations`' trusted-publisher policies do, so a
//! refusal says which claim differed rather than only that the identity did.

use std::fmt;
use std::str::FromStr;

use sigstore_types::DerCertificate;

use crate::error::AttestError;
use crate::model::Publisher;

/// GitHub Actions' OIDC issuer.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// GitLab.com's OIDC issuer.
pub const GITLAB_ISSUER: &str = "https://gitlab.com";
/// Google Cloud's OIDC issuer (service accounts).
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// The accepted `--identity` forms, for error messages and help.
pub const IDENTITY_FORMS: &str = "`github:OWNER/REPO/.github/workflows/FILE.yml[@REF-PATTERN][?environment=NAME]` (or `github:OWNER/REPO/FILE.yml`), `gitlab:NAMESPACE/PROJECT//CONFIG-PATH[@REF-PATTERN]`, `email:ADDRESS[@ISSUER-URL]` or `uri:SAN-URI[@ISSUER-URL]`";

/// A git ref pattern: `*` matches any run of characters (`/` included), everything else
/// matches itself (`refs/tags/v*`, `refs/heads/main`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefPattern(String);

impl RefPattern {
    pub fn new(pattern: impl Into<String>) -> Self {
        Self(pattern.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn matches(&self, text: &str) -> bool {
        let mut parts = self.0.split('*');
        // `split` always yields at least one part.
        let first = parts.next().unwrap_or_default();
        let Some(mut rest) = text.strip_prefix(first) else {
            return false;
        };
        let parts: Vec<&str> = parts.collect();
        let Some((last, middle)) = parts.split_last() else {
            return rest.is_empty();
        };
        for part in middle {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
        rest.len() >= last.len() && rest.ends_with(last)
    }
}

impl fmt::Display for RefPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The signer an attestation must come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A GitHub Actions workflow (a PyPI trusted publisher on GitHub).
    GitHub {
        /// `OWNER/REPO`.
        repository: String,
        /// The workflow's file name in `.github/workflows/`.
        workflow: String,
        git_ref: Option<RefPattern>,
        /// The deployment environment (Fulcio claim `.1.23`, absent in certificates
        /// issued before Fulcio added it).
        environment: Option<String>,
    },
    /// A GitLab CI/CD pipeline on gitlab.com.
    GitLab {
        /// `NAMESPACE/PROJECT` (subgroups included).
        project: String,
        /// The CI configuration file's path in the project.
        config_path: String,
        git_ref: Option<RefPattern>,
    },
    /// An exact certificate identity: a person's email or any SAN URI.
    Exact {
        identity: String,
        issuer: Option<String>,
    },
}

/// Why `text` is not an identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an identity: {reason}; expected {IDENTITY_FORMS}")]
pub struct IdentityParseError {
    pub text: String,
    pub reason: &'static str,
}

impl FromStr for Identity {
    type Err = IdentityParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |reason| IdentityParseError {
            text: text.to_owned(),
            reason,
        };
        let (scheme, rest) = text
            .split_once(':')
            .ok_or_else(|| fail("no `KIND:` prefix"))?;
        match scheme {
            "github" => parse_github(rest).map_err(fail),
            "gitlab" => parse_gitlab(rest).map_err(fail),
            "email" | "uri" => {
                let (identity, issuer) = split_issuer(rest);
                if identity.is_empty() {
                    return Err(fail("the identity is empty"));
                }
                if scheme == "email" && !identity.contains('@') {
                    return Err(fail("an email identity needs an `@`"));
                }
                if scheme == "uri" && !identity.contains("://") {
                    return Err(fail("a URI identity needs a scheme (`https://…`)"));
                }
                Ok(Self::Exact {
                    identity: identity.to_owned(),
                    issuer: issuer.map(str::to_owned),
                })
            }
            _ => Err(fail("unknown kind")),
        }
    }
}

/// `ADDRESS@https://issuer` → (`ADDRESS`, issuer): the last `@` followed by a URL
/// scheme starts the issuer (an email's own `@` and a SAN URI's `@refs/…` do not).
fn split_issuer(text: &str) -> (&str, Option<&str>) {
    let at = ["@https://", "@http://"]
        .iter()
        .filter_map(|marker| text.rfind(marker))
        .max();
    match at {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    }
}

/// `PATH[@REF]` → (`PATH`, ref).
fn split_ref(text: &str) -> Result<(&str, Option<RefPattern>), &'static str> {
    match text.split_once('@') {
        Some((_, "")) => Err("the ref pattern after `@` is empty"),
        Some((path, pattern)) => Ok((path, Some(RefPattern::new(pattern)))),
        None => Ok((text, None)),
    }
}

fn parse_github(text: &str) -> Result<Identity, &'static str> {
    let (text, environment) = match text.split_once("?environment=") {
        Some((_, "")) => return Err("the environment is empty"),
        Some((text, environment)) => (text, Some(environment.to_owned())),
        None => (text, None),
    };
    let (path, git_ref) = split_ref(text)?;
    let mut parts = path.splitn(3, '/');
    let (Some(owner), Some(repo), Some(workflow)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err("a GitHub identity is `OWNER/REPO/WORKFLOW-FILE`");
    };
    let workflow = workflow
        .strip_prefix(".github/workflows/")
        .unwrap_or(workflow);
    if owner.is_empty() || repo.is_empty() || workflow.is_empty() || workflow.contains('/') {
        return Err("a GitHub identity is `OWNER/REPO/WORKFLOW-FILE`");
    }
    Ok(Identity::GitHub {
        repository: format!("{owner}/{repo}"),
        workflow: workflow.to_owned(),
        git_ref,
        environment,
    })
}

fn parse_gitlab(text: &str) -> Result<Identity, &'static str> {
    let (path, git_ref) = split_ref(text)?;
    let Some((project, config_path)) = path.split_once("//") else {
        return Err("a GitLab identity is `NAMESPACE/PROJECT//CONFIG-PATH`");
    };
    if !project.contains('/') || project.starts_with('/') || config_path.is_empty() {
        return Err("a GitLab identity is `NAMESPACE/PROJECT//CONFIG-PATH`");
    }
    Ok(Identity::GitLab {
        project: project.to_owned(),
        config_path: config_path.to_owned(),
        git_ref,
    })
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::GitHub {
                repository,
                workflow,
                git_ref,
                environment,
            } => {
                write!(f, "github:{repository}/.github/workflows/{workflow}")?;
                if let Some(git_ref) = git_ref {
                    write!(f, "@{git_ref}")?;
                }
                if let Some(environment) = environment {
                    write!(f, "?environment={environment}")?;
                }
                Ok(())
            }
            Self::GitLab {
                project,
                config_path,
                git_ref,
            } => {
                write!(f, "gitlab:{project}//{config_path}")?;
                if let Some(git_ref) = git_ref {
                    write!(f, "@{git_ref}")?;
                }
                Ok(())
            }
            Self::Exact { identity, issuer } => {
                let scheme = if identity.contains("://") {
                    "uri"
                } else {
                    "email"
                };
                write!(f, "{scheme}:{identity}")?;
                if let Some(issuer) = issuer {
                    write!(f, "@{issuer}")?;
                }
                Ok(())
            }
        }
    }
}

/// What a Fulcio certificate says about its holder.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Claims {
    /// The Subject Alternative Name: an email or a URI (for CI, the workflow at a ref).
    pub identity: String,
    /// The OIDC issuer (`.1.8`, or the legacy `.1.1`).
    pub issuer: String,
    /// `.1.9` Build Signer URI.
    pub build_signer: Option<String>,
    /// `.1.12` Source Repository URI.
    pub source_repository: Option<String>,
    /// `.1.13` Source Repository Digest (the commit).
    pub source_digest: Option<String>,
    /// `.1.14` Source Repository Ref.
    pub source_ref: Option<String>,
    /// `.1.18` Build Config URI.
    pub build_config: Option<String>,
    /// `.1.20` Build Trigger (the event).
    pub build_trigger: Option<String>,
    /// `.1.21` Run Invocation URI (the CI run, for GitHub its log page).
    pub run_invocation: Option<String>,
    /// `.1.23` Deployment Environment.
    pub environment: Option<String>,
}

impl Claims {
    /// Reads the claims of a DER certificate (not verified: [`crate::verify`] does that).
    pub fn from_certificate_der(der: &[u8]) -> Result<Self, AttestError> {
        let info = sigstore_verify::crypto::x509::parse_certificate_info(&DerCertificate::new(
            der.to_vec(),
        ))
        .map_err(|source| AttestError::Certificate { source })?;
        Ok(Self::from_info(&info))
    }

    pub(crate) fn from_info(info: &sigstore_verify::crypto::CertificateInfo) -> Self {
        let ci = &info.ci_claims;
        Self {
            identity: info
                .identity
                .as_ref()
                .map(|san| san.as_str().to_owned())
                .unwrap_or_default(),
            issuer: info.issuer.clone().unwrap_or_default(),
            build_signer: ci.build_signer_uri.clone(),
            source_repository: ci.source_repository_uri.clone(),
            source_digest: ci.source_repository_digest.clone(),
            source_ref: ci.source_repository_ref.clone(),
            build_config: ci.build_config_uri.clone(),
            build_trigger: ci.build_trigger.clone(),
            run_invocation: ci.run_invocation_uri.clone(),
            environment: ci.deployment_environment.clone(),
        }
    }
}

/// Which claim of the certificate differed from the expected identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the certificate's `{claim}` is `{}`, expected `{expected}`",
    found.as_deref().unwrap_or("(absent)")
)]
pub struct IdentityMismatch {
    /// The claim's name as Fulcio's OID list spells it (`Source Repository URI`).
    pub claim: &'static str,
    pub expected: String,
    pub found: Option<String>,
}

fn expect_equal(
    claim: &'static str,
    expected: &str,
    found: Option<&str>,
) -> Result<(), IdentityMismatch> {
    if found == Some(expected) {
        Ok(())
    } else {
        Err(IdentityMismatch {
            claim,
            expected: expected.to_owned(),
            found: found.map(str::to_owned),
        })
    }
}

impl Identity {
    /// Checks the certificate's claims against this identity, in the order
    /// `pypi-attestations`' publisher policies do (issuer, source repository, build
    /// configuration at the certificate's own digest or ref), then the ref pattern and
    /// environment, which PyPI's policies do not check.
    pub fn check(&self, claims: &Claims) -> Result<(), IdentityMismatch> {
        match self {
            Self::GitHub {
                repository,
                workflow,
                git_ref,
                environment,
            } => {
                let base = format!("https://github.com/{repository}");
                let config = format!("{base}/.github/workflows/{workflow}");
                check_ci(claims, GITHUB_ISSUER, &base, &config, git_ref.as_ref())?;
                if let Some(environment) = environment {
                    expect_equal(
                        "Deployment Environment",
                        environment,
                        claims.environment.as_deref(),
                    )?;
                }
                Ok(())
            }
            Self::GitLab {
                project,
                config_path,
                git_ref,
            } => {
                let base = format!("https://gitlab.com/{project}");
                let config = format!("{base}//{config_path}");
                check_ci(claims, GITLAB_ISSUER, &base, &config, git_ref.as_ref())
            }
            Self::Exact { identity, issuer } => {
                expect_equal("Subject Alternative Name", identity, Some(&claims.identity))?;
                if let Some(issuer) = issuer {
                    expect_equal("Issuer", issuer, Some(&claims.issuer))?;
                }
                Ok(())
            }
        }
    }

    /// The identity PyPI recorded for a trusted publisher (a provenance object's
    /// `publisher`), for the publishers `Identity` can express: GitHub, GitLab and
    /// Google (a service account's email, issuer `https://accounts.google.com`).
    pub fn from_publisher(publisher: &Publisher) -> Option<Self> {
        match publisher {
            Publisher::GitHub {
                repository,
                workflow,
                ..
            } => Some(Self::GitHub {
                repository: repository.clone(),
                workflow: workflow.clone(),
                git_ref: None,
                // PyPI's own policy does not check the environment, and certificates
                // issued before Fulcio's `.1.23` claim cannot carry it.
                environment: None,
            }),
            Publisher::GitLab {
                repository,
                workflow_filepath,
                ..
            } => Some(Self::GitLab {
                project: repository.clone(),
                config_path: workflow_filepath.clone(),
                git_ref: None,
            }),
            Publisher::Google { email } => Some(Self::Exact {
                identity: email.clone(),
                issuer: Some(GOOGLE_ISSUER.to_owned()),
            }),
            Publisher::CircleCI { .. } => None,
        }
    }

    /// The OIDC issuer this identity pins, if it pins one.
    pub fn issuer(&self) -> Option<&str> {
        match self {
            Self::GitHub { .. } => Some(GITHUB_ISSUER),
            Self::GitLab { .. } => Some(GITLAB_ISSUER),
            Self::Exact { issuer, .. } => issuer.as_deref(),
        }
    }
}

/// The trusted-publisher check: `Build Config URI` must be the workflow at the
/// certificate's own commit or ref (the publisher names the workflow, never the ref).
fn check_ci(
    claims: &Claims,
    issuer: &str,
    repository: &str,
    config: &str,
    git_ref: Option<&RefPattern>,
) -> Result<(), IdentityMismatch> {
    expect_equal("Issuer", issuer, Some(&claims.issuer))?;
    expect_equal(
        "Source Repository URI",
        repository,
        claims.source_repository.as_deref(),
    )?;
    let suffixes = [
        claims.source_digest.as_deref(),
        claims.source_ref.as_deref(),
    ];
    let built_by_config = suffixes
        .iter()
        .flatten()
        .any(|suffix| claims.build_config.as_deref() == Some(&format!("{config}@{suffix}")));
    if !built_by_config {
        return Err(IdentityMismatch {
            claim: "Build Config URI",
            expected: format!("{config}@{{commit or ref}}"),
            found: claims.build_config.clone(),
        });
    }
    if let Some(pattern) = git_ref {
        let found = claims.source_ref.as_deref();
        if !found.is_some_and(|found| pattern.matches(found)) {
            return Err(IdentityMismatch {
                claim: "Source Repository Ref",
                expected: pattern.to_string(),
                found: found.map(str::to_owned),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Identity {
        text.parse().unwrap()
    }

    #[test]
    fn github_forms_parse_to_the_same_identity_and_display_in_full() {
        let long = parse("github:pypa/sampleproject/.github/workflows/release.yml@refs/tags/v*");
        let short = parse("github:pypa/sampleproject/release.yml@refs/tags/v*");
        assert_eq!(long, short);
        assert_eq!(
            long,
            Identity::GitHub {
                repository: "pypa/sampleproject".into(),
                workflow: "release.yml".into(),
                git_ref: Some(RefPattern::new("refs/tags/v*")),
                environment: None,
            }
        );
        assert_eq!(
            short.to_string(),
            "github:pypa/sampleproject/.github/workflows/release.yml@refs/tags/v*"
        );
    }

    #[test]
    fn every_form_round_trips_through_display() {
        for text in [
            "github:o/r/.github/workflows/release.yml",
            "github:o/r/.github/workflows/release.yml@refs/heads/main",
            "github:o/r/.github/workflows/release.yml@refs/tags/v*?environment=pypi",
            "github:o/r/.github/workflows/release.yml?environment=pypi",
            "gitlab:group/sub/project//.gitlab-ci.yml",
            "gitlab:group/project//ci/release.yml@refs/heads/main",
            "email:someone@example.com",
            "email:someone@example.com@https://github.com/login/oauth",
            "uri:https://github.com/o/r/.github/workflows/w.yml@refs/heads/main",
            "uri:https://github.com/o/r/.github/workflows/w.yml@refs/heads/main@https://token.actions.githubusercontent.com",
        ] {
            let identity = parse(text);
            assert_eq!(identity.to_string(), text);
            assert_eq!(parse(&identity.to_string()), identity);
        }
    }

    #[test]
    fn the_issuer_is_split_off_at_the_last_url_after_an_at() {
        assert_eq!(
            parse("email:a@b.c@https://accounts.google.com"),
            Identity::Exact {
                identity: "a@b.c".into(),
                issuer: Some("https://accounts.google.com".into())
            }
        );
        assert_eq!(
            parse("uri:https://x.y/w@refs/heads/main"),
            Identity::Exact {
                identity: "https://x.y/w@refs/heads/main".into(),
                issuer: None
            }
        );
    }

    #[test]
    fn malformed_identities_say_why_and_list_the_forms() {
        for (text, reason) in [
            ("pypa/sampleproject", "no `KIND:` prefix"),
            ("gh:o/r/w.yml", "unknown kind"),
            (
                "github:o/r",
                "a GitHub identity is `OWNER/REPO/WORKFLOW-FILE`",
            ),
            (
                "github:o/r/sub/w.yml",
                "a GitHub identity is `OWNER/REPO/WORKFLOW-FILE`",
            ),
            ("github:o/r/w.yml@", "the ref pattern after `@` is empty"),
            ("github:o/r/w.yml?environment=", "the environment is empty"),
            (
                "gitlab:group/project/.gitlab-ci.yml",
                "a GitLab identity is `NAMESPACE/PROJECT//CONFIG-PATH`",
            ),
            (
                "gitlab:project//.gitlab-ci.yml",
                "a GitLab identity is `NAMESPACE/PROJECT//CONFIG-PATH`",
            ),
            ("email:nobody", "an email identity needs an `@`"),
            (
                "uri:github.com/o/r",
                "a URI identity needs a scheme (`https://…`)",
            ),
            ("email:", "the identity is empty"),
        ] {
            let error = text.parse::<Identity>().unwrap_err();
            assert_eq!(error.reason, reason, "{text}");
            let message = error.to_string();
            assert!(message.starts_with(&format!("`{text}` is not an identity: {reason}")));
            assert!(
                message.contains("`gitlab:NAMESPACE/PROJECT//CONFIG-PATH"),
                "{message}"
            );
        }
    }

    #[test]
    fn ref_patterns_match_with_stars_only() {
        let tags = RefPattern::new("refs/tags/v*");
        assert!(tags.matches("refs/tags/v1.0"));
        assert!(tags.matches("refs/tags/v"));
        assert!(!tags.matches("refs/heads/v1.0"));
        assert!(!tags.matches("refs/tags/1.0"));
        let exact = RefPattern::new("refs/heads/main");
        assert!(exact.matches("refs/heads/main"));
        assert!(!exact.matches("refs/heads/main2"));
        let middle = RefPattern::new("refs/*/release-*");
        assert!(middle.matches("refs/heads/release-1"));
        assert!(middle.matches("refs/tags/x/release-"));
        assert!(!middle.matches("refs/heads/rel-1"));
        // The suffix must not overlap the prefix.
        assert!(!RefPattern::new("ab*ba").matches("aba"));
    }

    fn github_claims() -> Claims {
        Claims {
            identity: "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1".into(),
            issuer: GITHUB_ISSUER.into(),
            source_repository: Some("https://github.com/o/r".into()),
            source_digest: Some("abc".into()),
            source_ref: Some("refs/tags/v1".into()),
            build_config: Some(
                "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1".into(),
            ),
            ..Claims::default()
        }
    }

    #[test]
    fn github_checks_name_the_claim_that_differs() {
        let claims = github_claims();
        parse("github:o/r/release.yml@refs/tags/v*")
            .check(&claims)
            .unwrap();
        let cases = [
            ("github:o/other/release.yml", "Source Repository URI"),
            ("github:o/r/ci.yml", "Build Config URI"),
            (
                "github:o/r/release.yml@refs/heads/*",
                "Source Repository Ref",
            ),
            (
                "github:o/r/release.yml?environment=pypi",
                "Deployment Environment",
            ),
            ("gitlab:o/r//.gitlab-ci.yml", "Issuer"),
        ];
        for (identity, claim) in cases {
            let mismatch = parse(identity).check(&claims).unwrap_err();
            assert_eq!(mismatch.claim, claim, "{identity}");
        }
    }

    #[test]
    fn build_config_may_name_the_commit_instead_of_the_ref() {
        let mut claims = github_claims();
        claims.build_config =
            Some("https://github.com/o/r/.github/workflows/release.yml@abc".into());
        parse("github:o/r/release.yml").check(&claims).unwrap();
        claims.source_digest = None;
        let mismatch = parse("github:o/r/release.yml").check(&claims).unwrap_err();
        assert_eq!(mismatch.claim, "Build Config URI");
        assert_eq!(
            mismatch.to_string(),
            "the certificate's `Build Config URI` is `https://github.com/o/r/.github/workflows/release.yml@abc`, expected `https://github.com/o/r/.github/workflows/release.yml@{commit or ref}`"
        );
    }
}
