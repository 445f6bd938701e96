//! OIDC identity providers on 127.0.0.1 for the local Fulcio: GitHub Actions, GitLab CI
//! and an email provider, each with its discovery document and JWKS under its own path,
//! minting ES256 JWTs with the claims the real providers put in them. It also serves the
//! GitHub Actions runtime's token endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`): `GET
//! …&audience=X` with `Authorization: bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN` answers
//! `{"value": JWT}`, and every request is recorded so a test can say which audiences
//! were asked for.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::keys::SigningKey;
use crate::mock::{MockServer, Recorded, Reply};
use crate::oidc::REQUEST_TOKEN;

pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
pub const GITLAB_ISSUER: &str = "https://gitlab.com";
/// An email provider Fulcio knows (`type: email`).
pub const EMAIL_ISSUER: &str = "https://accounts.google.com";
/// The audience Fulcio wants (its `client-id`).
pub const SIGSTORE_AUDIENCE: &str = "sigstore";

/// The kind of identity a provider vouches for, which decides how Fulcio reads its
/// claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    GitHubWorkflow,
    GitLabPipeline,
    Email,
}

/// One provider: its issuer URL (the `iss` claim), where its discovery document is
/// served, and its signing key.
#[derive(Debug)]
pub struct Provider {
    pub kind: ProviderKind,
    pub issuer: &'static str,
    path: &'static str,
    key: SigningKey,
    key_id: String,
}

/// The claims of a token, built like the real provider's and then changed at will.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims(Map<String, Value>);

/// Now, in the seconds since 1970 JWT claims, Fulcio and Rekor count time in.
pub(super) fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_secs(),
    )
    .expect("seconds fit")
}

/// A stable fake 40-hex commit for `seed`.
fn commit(seed: &str) -> String {
    hex::encode(&Sha256::digest(seed.as_bytes())[..20])
}

impl Claims {
    /// A GitHub Actions token for `workflow` (a file in `.github/workflows`) of
    /// `repository` running on `git_ref`, with every claim GitHub sets (and Fulcio's
    /// `github-workflow` templates read), for audience `sigstore`.
    pub fn github(repository: &str, workflow: &str, git_ref: &str) -> Self {
        let owner = repository.split('/').next().unwrap_or(repository);
        let sha = commit(&format!("{repository}@{git_ref}"));
        let workflow_ref = format!("{repository}/.github/workflows/{workflow}@{git_ref}");
        let ref_type = if git_ref.starts_with("refs/tags/") {
            "tag"
        } else {
            "branch"
        };
        let value = json!({
            "iss": GITHUB_ISSUER, "aud": SIGSTORE_AUDIENCE,
            "sub": format!("repo:{repository}:ref:{git_ref}"),
            "jti": format!("jti-{}", commit(&format!("{workflow_ref}{}", now()))),
            "iat": now(), "nbf": now() - 5, "exp": now() + 300,
            "ref": git_ref, "ref_type": ref_type, "ref_protected": "true",
            "sha": sha, "repository": repository, "repository_id": "700000001",
            "repository_owner": owner, "repository_owner_id": "7000001",
            "repository_visibility": "public", "actor": owner, "actor_id": "7000001",
            "workflow": workflow.trim_end_matches(".yml").trim_end_matches(".yaml"),
            "workflow_ref": workflow_ref, "workflow_sha": sha,
            "job_workflow_ref": workflow_ref, "job_workflow_sha": sha,
            "event_name": "push", "head_ref": "", "base_ref": "",
            "run_id": "9000000001", "run_number": "1", "run_attempt": "1",
            "runner_environment": "github-hosted",
        });
        Self(object(value))
    }

    /// A GitLab CI `id_tokens:` token for `project_path` whose pipeline is defined in
    /// `ci_config_path`, running on `git_ref` (`refs/heads/…` or `refs/tags/…`).
    pub fn gitlab(project_path: &str, ci_config_path: &str, git_ref: &str) -> Self {
        let namespace = project_path
            .rsplit_once('/')
            .map_or(project_path, |(n, _)| n);
        let (ref_type, short_ref) = git_ref.strip_prefix("refs/tags/").map_or_else(
            || {
                (
                    "branch",
                    git_ref.strip_prefix("refs/heads/").unwrap_or(git_ref),
                )
            },
            |tag| ("tag", tag),
        );
        let sha = commit(&format!("{project_path}@{git_ref}"));
        let value = json!({
            "iss": GITLAB_ISSUER, "aud": SIGSTORE_AUDIENCE,
            "sub": format!("project_path:{project_path}:ref_type:{ref_type}:ref:{short_ref}"),
            "jti": format!("jti-{}", commit(&format!("{project_path}{}", now()))),
            "iat": now(), "nbf": now() - 5, "exp": now() + 300,
            "namespace_id": "80000001", "namespace_path": namespace,
            "project_id": "80000002", "project_path": project_path,
            "user_id": "80000003", "user_login": "releaser", "user_email": "releaser@example.com",
            "user_access_level": "maintainer",
            "pipeline_id": "80000004", "pipeline_source": "push",
            "job_id": "80000005", "ref": short_ref, "ref_type": ref_type, "ref_path": git_ref,
            "ref_protected": "true", "runner_id": 80_000_006, "runner_environment": "gitlab-hosted",
            "sha": sha, "project_visibility": "public",
            "ci_config_ref_uri": format!("gitlab.com/{project_path}//{ci_config_path}@{git_ref}"),
            "ci_config_sha": sha,
        });
        Self(object(value))
    }

    /// A token of an email provider for `address`, verified.
    pub fn email(address: &str) -> Self {
        let value = json!({
            "iss": EMAIL_ISSUER, "aud": SIGSTORE_AUDIENCE,
            "sub": format!("1{}", &commit(address)[..20].bytes().map(|b| (b % 10).to_string()).collect::<String>()),
            "email": address, "email_verified": true,
            "iat": now(), "exp": now() + 300,
        });
        Self(object(value))
    }

    /// Runs the GitHub job in deployment environment `name`: GitHub then sets the
    /// `environment` claim and names the environment in `sub`.
    #[must_use]
    pub fn environment(self, name: &str) -> Self {
        let repository = self.get("repository").unwrap_or_default().to_owned();
        self.set("environment", json!(name)).set(
            "sub",
            json!(format!("repo:{repository}:environment:{name}")),
        )
    }

    /// Replaces the audience.
    #[must_use]
    pub fn audience(self, audience: &str) -> Self {
        self.set("aud", json!(audience))
    }

    /// Makes the token expire `seconds` from now (negative: already expired).
    #[must_use]
    pub fn expires_in(self, seconds: i64) -> Self {
        self.set("exp", json!(now() + seconds))
    }

    /// Sets (or replaces) one claim.
    #[must_use]
    pub fn set(mut self, name: &str, value: Value) -> Self {
        self.0.insert(name.to_owned(), value);
        self
    }

    /// Removes one claim.
    #[must_use]
    pub fn without(mut self, name: &str) -> Self {
        self.0.remove(name);
        self
    }

    /// One claim's text.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("claims are built as a JSON object"),
    }
}

/// A request to the Actions runtime token endpoint, as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// The `audience` query parameter, if any.
    pub audience: Option<String>,
    /// Whether it carried the runtime's request token.
    pub authorized: bool,
}

#[derive(Debug, Default)]
struct State {
    /// The workflows `github_request_url` registered, by number.
    workflows: Vec<Claims>,
    token_requests: Vec<TokenRequest>,
}

/// The running providers; stop when dropped.
#[derive(Debug)]
pub struct OidcIssuer {
    server: MockServer,
    providers: Arc<Vec<Provider>>,
    state: Arc<Mutex<State>>,
}

impl OidcIssuer {
    pub fn start() -> Self {
        let providers = Arc::new(
            [
                (ProviderKind::GitHubWorkflow, GITHUB_ISSUER, "github"),
                (ProviderKind::GitLabPipeline, GITLAB_ISSUER, "gitlab"),
                (ProviderKind::Email, EMAIL_ISSUER, "email"),
            ]
            .into_iter()
            .map(|(kind, issuer, path)| {
                let key = SigningKey::generate_es256();
                let key_id = URL_SAFE_NO_PAD.encode(&key.key_id()[..16]);
                Provider {
                    kind,
                    issuer,
                    path,
                    key,
                    key_id,
                }
            })
            .collect::<Vec<_>>(),
        );
        let state = Arc::new(Mutex::new(State::default()));
        let server = {
            let (providers, state) = (providers.clone(), state.clone());
            MockServer::start(move |request, _| answer(request, &providers, &state))
        };
        Self {
            server,
            providers,
            state,
        }
    }

    /// The providers, for configuring Fulcio.
    pub fn providers(&self) -> &[Provider] {
        &self.providers
    }

    /// Where `provider`'s discovery document lives: `{base}/.well-known/openid-configuration`.
    pub fn discovery_base(&self, provider: &Provider) -> String {
        format!("{}{}", self.server.url(), provider.path)
    }

    /// A JWT with `claims`, signed by the key of the provider its `iss` names (GitHub's
    /// for an issuer no provider has).
    pub fn mint(&self, claims: &Claims) -> String {
        let provider = self.provider_for(claims);
        jwt(claims, &provider.key, &provider.key_id)
    }

    /// A JWT with `claims` and the provider's key ID, signed by a key the provider never
    /// published: a forgery.
    pub fn mint_with_unpublished_key(&self, claims: &Claims) -> String {
        let provider = self.provider_for(claims);
        jwt(claims, &SigningKey::generate_es256(), &provider.key_id)
    }

    fn provider_for(&self, claims: &Claims) -> &Provider {
        let issuer = claims.get("iss").unwrap_or_default();
        self.providers
            .iter()
            .find(|p| p.issuer == issuer)
            .unwrap_or(&self.providers[0])
    }

    /// An `ACTIONS_ID_TOKEN_REQUEST_URL` whose tokens carry `claims` (GitHub claims,
    /// usually), with the audience the runner asks for. Use it with
    /// [`crate::oidc::REQUEST_TOKEN`] as `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
    pub fn github_request_url(&self, claims: &Claims) -> String {
        let mut state = self.state.lock().unwrap();
        state.workflows.push(claims.clone());
        format!(
            "{}github-token?api-version=2.0&workflow={}",
            self.server.url(),
            state.workflows.len() - 1
        )
    }

    /// Every request to the runtime token endpoint so far.
    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.state.lock().unwrap().token_requests.clone()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.server.requests()
    }
}

fn jwt(claims: &Claims, key: &SigningKey, key_id: &str) -> String {
    let header = json!({"alg": "ES256", "typ": "JWT", "kid": key_id});
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(Value::Object(claims.0.clone()).to_string())
    );
    let signature = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn query(url: &str) -> BTreeMap<String, String> {
    url.split_once('?')
        .map(|(_, q)| q)
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn answer(request: &Recorded, providers: &[Provider], state: &Mutex<State>) -> Reply {
    let path = request.url.split('?').next().unwrap_or_default();
    if path == "/github-token" {
        return runtime_token(request, providers, state);
    }
    let base = format!("http://{}", request.header("Host").unwrap_or("127.0.0.1"));
    for provider in providers {
        let prefix = format!("/{}", provider.path);
        match path.strip_prefix(prefix.as_str()) {
            Some("/.well-known/openid-configuration") => {
                return Reply::json(200, &discovery(provider, &format!("{base}{prefix}")));
            }
            Some("/.well-known/jwks") => return Reply::json(200, &jwks(provider)),
            _ => {}
        }
    }
    Reply::new(404, "Not Found")
}

fn discovery(provider: &Provider, base: &str) -> String {
    json!({
        "issuer": provider.issuer,
        "jwks_uri": format!("{base}/.well-known/jwks"),
        "subject_types_supported": ["public", "pairwise"],
        "response_types_supported": ["id_token"],
        "claims_supported": ["sub", "aud", "exp", "iat", "iss", "jti", "nbf"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "scopes_supported": ["openid"],
    })
    .to_string()
}

fn jwks(provider: &Provider) -> String {
    let point = provider.key.public_point();
    json!({"keys": [{
        "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": provider.key_id,
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
    }]})
    .to_string()
}

fn runtime_token(request: &Recorded, providers: &[Provider], state: &Mutex<State>) -> Reply {
    let parameters = query(&request.url);
    let audience = parameters.get("audience").cloned();
    let authorized = request
        .header("Authorization")
        .and_then(|value| value.split_once(' '))
        .is_some_and(|(scheme, token)| {
            scheme.eq_ignore_ascii_case("bearer") && token == REQUEST_TOKEN
        });
    let mut state = state.lock().unwrap();
    state.token_requests.push(TokenRequest {
        audience: audience.clone(),
        authorized,
    });
    if !authorized {
        return Reply::json(401, r#"{"message":"Bad credentials"}"#);
    }
    let Some(claims) = parameters
        .get("workflow")
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| state.workflows.get(n).cloned())
    else {
        return Reply::json(404, r#"{"message":"Not Found"}"#);
    };
    drop(state);
    // Without `audience`, GitHub's default audience is the owner's URL.
    let owner = claims
        .get("repository_owner")
        .unwrap_or_default()
        .to_owned();
    let claims = claims.audience(
        audience
            .as_deref()
            .unwrap_or(&format!("https://github.com/{owner}")),
    );
    let issuer = claims.get("iss").unwrap_or_default();
    let provider = providers
        .iter()
        .find(|p| p.issuer == issuer)
        .unwrap_or(&providers[0]);
    Reply::json(
        200,
        &json!({"value": jwt(&claims, &provider.key, &provider.key_id)}).to_string(),
    )
}
