//! A local PyPI trusted-publishing endpoint that answers as Warehouse does
//! (`warehouse/oidc/views.py`): `GET /_/oidc/audience` (403 with its message when
//! trusted publishing is off), `POST /_/oidc/mint-token` checking, in Warehouse's
//! order, the payload, the JWT, the issuer, the issuer's flag, the token (here: its
//! test signature, audience and expiry), a pending publisher, the reuse of its `jti`,
//! the publisher; each refusal 422 `{"message": "Token request failed", "errors":
//! [{"code", "description"}]}` with Warehouse's code and description. It also serves a
//! GitHub Actions token endpoint (`GET /github-token`) and takes uploads (`POST /`)
//! only with a minted token that has not expired.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::mock::{MockServer, Recorded, Reply};

pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
pub const GITLAB_ISSUER: &str = "https://gitlab.com";
/// The bearer token the Actions runtime wants (`ACTIONS_ID_TOKEN_REQUEST_TOKEN`).
pub const REQUEST_TOKEN: &str = "actions-runtime-request-token";
/// The signature this server's issuers put on their tokens; others fail `invalid-token`.
const SIGNATURE: &str = "dGVzdC1pc3N1ZXItc2lnbmF0dXJl";

/// How the index is set up.
#[derive(Debug, Clone)]
pub struct Warehouse {
    pub audience: String,
    /// False: `/_/oidc/audience` answers 403 (the admin flag is off).
    pub enabled: bool,
    /// Issuers whose trusted publishing is turned off (`not-enabled`).
    pub disabled_issuers: Vec<String>,
    /// The claims a registered publisher requires; none registered when empty.
    pub publisher: BTreeMap<String, String>,
    /// A pending publisher for a project that already exists matches these claims.
    pub pending_for_existing_project: Option<BTreeMap<String, String>>,
    /// How long a minted upload token lives (Warehouse: 900 s); uploads after that are
    /// refused with 403.
    pub token_lifetime: Duration,
    /// After minting, wait this long before answering (the answer is then lost to a
    /// client with a shorter timeout).
    pub delay_mint_answer: Option<Duration>,
    /// After taking (or refusing) an upload, wait this long before answering.
    pub delay_upload_answer: Option<Duration>,
}

impl Default for Warehouse {
    fn default() -> Self {
        Self {
            audience: "pypi".to_owned(),
            enabled: true,
            disabled_issuers: Vec::new(),
            publisher: BTreeMap::new(),
            pending_for_existing_project: None,
            token_lifetime: Duration::from_secs(900),
            delay_mint_answer: None,
            delay_upload_answer: None,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    used_jtis: Vec<String>,
    /// Minted token → when it expires.
    minted: BTreeMap<String, Instant>,
    issued: u64,
}

/// The running server; stops when dropped.
#[derive(Debug)]
pub struct OidcServer {
    server: MockServer,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// A JWT with `claims` and this server's test signature (or `signature`).
pub fn jwt(claims: &serde_json::Value, signature: &str) -> String {
    let part = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.{signature}",
        part(&serde_json::json!({"alg": "RS256", "typ": "JWT"})),
        part(claims)
    )
}

/// A GitHub Actions identity token for `repository` with the usual claims.
pub fn github_jwt(audience: &str, repository: &str, jti: &str) -> String {
    jwt(
        &serde_json::json!({
            "iss": GITHUB_ISSUER, "aud": audience, "jti": jti,
            "iat": now(), "exp": now() + 300,
            "sub": format!("repo:{repository}:environment:pypi"),
            "repository": repository, "repository_owner": repository.split('/').next(),
            "workflow_ref": format!("{repository}/.github/workflows/release.yml@refs/tags/v1"),
            "job_workflow_ref": format!("{repository}/.github/workflows/release.yml@refs/tags/v1"),
            "ref": "refs/tags/v1", "environment": "pypi",
        }),
        SIGNATURE,
    )
}

/// A GitLab CI identity token (`id_tokens:`) for `project_path`.
pub fn gitlab_jwt(audience: &str, project_path: &str, jti: &str) -> String {
    jwt(
        &serde_json::json!({
            "iss": GITLAB_ISSUER, "aud": audience, "jti": jti,
            "iat": now(), "exp": now() + 300,
            "sub": format!("project_path:{project_path}:ref_type:tag:ref:v1"),
            "project_path": project_path, "namespace_path": project_path.split('/').next(),
            "ci_config_ref_uri": format!("gitlab.com/{project_path}//.gitlab-ci.yml@refs/tags/v1"),
            "ref_path": "refs/tags/v1", "ref_type": "tag", "environment": "pypi",
        }),
        SIGNATURE,
    )
}

fn refused(code: &str, description: &str) -> Reply {
    let body = serde_json::json!({
        "message": "Token request failed",
        "errors": [{"code": code, "description": description}],
    });
    Reply::json(422, &body.to_string())
}

fn unverified_claims(token: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let payload = token.split('.').nth(1)?;
    match serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()? {
        serde_json::Value::Object(claims) => Some(claims),
        _ => None,
    }
}

fn matches(
    claims: &serde_json::Map<String, serde_json::Value>,
    wanted: &BTreeMap<String, String>,
) -> bool {
    !wanted.is_empty()
        && wanted
            .iter()
            .all(|(name, value)| claims.get(name).and_then(|v| v.as_str()) == Some(value))
}

fn mint(request: &Recorded, config: &Warehouse, state: &Mutex<State>) -> Reply {
    let payload: Option<serde_json::Value> = serde_json::from_slice(&request.body).ok();
    let Some(token) = payload
        .as_ref()
        .and_then(|p| p.get("token"))
        .and_then(|t| t.as_str())
    else {
        return refused(
            "invalid-payload",
            "1 validation error for TokenPayload\ntoken\n  Field required",
        );
    };
    let Some(claims) = unverified_claims(token) else {
        return refused("invalid-payload", "malformed JWT");
    };
    let issuer = claims
        .get("iss")
        .and_then(|i| i.as_str())
        .unwrap_or_default();
    let service = match issuer {
        GITHUB_ISSUER => "GitHub",
        GITLAB_ISSUER => "GitLab",
        _ => return refused("invalid-payload", "unknown trusted publishing issuer"),
    };
    if config.disabled_issuers.iter().any(|i| i == issuer) {
        return refused(
            "not-enabled",
            &format!("{service} trusted publishing functionality not enabled"),
        );
    }
    let expiry = claims
        .get("exp")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    if !token.ends_with(&format!(".{SIGNATURE}"))
        || claims.get("aud").and_then(|a| a.as_str()) != Some(config.audience.as_str())
        || expiry < now()
    {
        return refused("invalid-token", "malformed or invalid token");
    }
    if let Some(pending) = &config.pending_for_existing_project
        && matches(&claims, pending)
    {
        return refused(
            "invalid-pending-publisher",
            "valid token, but project already exists",
        );
    }
    let jti = claims
        .get("jti")
        .and_then(|j| j.as_str())
        .unwrap_or_default()
        .to_owned();
    let mut state = state.lock().unwrap();
    if state.used_jtis.contains(&jti) {
        return refused("invalid-reuse-token", "invalid token: already used");
    }
    if !matches(&claims, &config.publisher) {
        return refused(
            "invalid-publisher",
            "valid token, but no corresponding publisher (Publisher with matching claims was not found)",
        );
    }
    state.used_jtis.push(jti);
    state.issued += 1;
    let minted = format!("pypi-minted-{}-{}", state.issued, now());
    let expires = now() + config.token_lifetime.as_secs();
    state
        .minted
        .insert(minted.clone(), Instant::now() + config.token_lifetime);
    drop(state);
    if let Some(delay) = config.delay_mint_answer {
        std::thread::sleep(delay);
    }
    let body = serde_json::json!({"success": true, "token": minted, "expires": expires});
    Reply::json(200, &body.to_string())
}

fn upload(request: &Recorded, config: &Warehouse, state: &Mutex<State>) -> Reply {
    let token = request
        .header("Authorization")
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|pair| pair.strip_prefix("__token__:").map(str::to_owned));
    let expiry = token.and_then(|t| state.lock().unwrap().minted.get(&t).copied());
    let valid = expiry.map(|expiry| expiry > Instant::now());
    if let Some(delay) = config.delay_upload_answer {
        std::thread::sleep(delay);
    }
    match valid {
        Some(true) => Reply::new(200, "OK"),
        Some(false) => Reply::new(403, "Invalid API Token: token is expired"),
        None => Reply::new(403, "Invalid API Token: invalid or unknown token"),
    }
}

fn github_token(request: &Recorded, config: &Warehouse, state: &Mutex<State>) -> Reply {
    if request.header("Authorization") != Some(&format!("bearer {REQUEST_TOKEN}")) {
        return Reply::new(401, "Bad credentials");
    }
    let audience = request
        .url
        .split_once("audience=")
        .map_or(config.audience.as_str(), |(_, a)| {
            a.split('&').next().unwrap_or(a)
        });
    let jti = {
        let mut state = state.lock().unwrap();
        state.issued += 1;
        format!("jti-{}", state.issued)
    };
    let body = serde_json::json!({"value": github_jwt(audience, "octo/sample", &jti)});
    Reply::json(200, &body.to_string())
}

impl OidcServer {
    pub fn start(config: Warehouse) -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let server = MockServer::start(move |request, _| {
            let path = request.url.split('?').next().unwrap_or_default();
            match (request.method.as_str(), path) {
                ("GET", "/_/oidc/audience") if config.enabled => Reply::json(
                    200,
                    &serde_json::json!({"audience": config.audience}).to_string(),
                ),
                ("GET", "/_/oidc/audience") => Reply::json(
                    403,
                    r#"{"message": "Trusted publishing functionality not enabled"}"#,
                ),
                ("POST", "/_/oidc/mint-token") => mint(request, &config, &state),
                ("GET", "/github-token") => github_token(request, &config, &state),
                ("POST", "/") => upload(request, &config, &state),
                _ => Reply::new(404, "Not Found"),
            }
        });
        Self { server }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The GitHub Actions token request URL (`ACTIONS_ID_TOKEN_REQUEST_URL`).
    pub fn github_request_url(&self) -> String {
        format!("{}github-token?api-version=2.0", self.server.url())
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.server.requests()
    }
}
