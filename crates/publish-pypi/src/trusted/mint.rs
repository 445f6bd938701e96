//! `POST {index}/_/oidc/mint-token` `{"token": JWT}`: Warehouse answers
//! `{"success": true, "token": "pypi-…", "expires": UNIX}` or 422
//! `{"message": "Token request failed", "errors": [{"code", "description"}]}`
//! (`warehouse/oidc/views.py`). An identity token can be exchanged once (its `jti` is
//! stored), so the POST is never re-sent once it may have reached the index.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use custody_http::{Client, HttpConfig, HttpError, Secret, Url, display_url};

use super::{TrustedError, claims};

/// How long Warehouse's minted tokens live when the answer does not say.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(900);

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What the index refused, with its own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub status: u16,
    pub message: String,
    /// `(code, description)` as the index sent them.
    pub errors: Vec<(String, String)>,
    /// The identity token's claims, to compare with the publisher on the index.
    pub claims: Vec<(String, String)>,
}

impl Refusal {
    /// The first Warehouse error code, if any.
    pub(crate) fn code(&self) -> Option<&str> {
        self.errors.first().map(|(code, _)| code.as_str())
    }

    /// One line of reasons, then the claims.
    pub(crate) fn describe(&self) -> String {
        let reasons: Vec<String> = self
            .errors
            .iter()
            .map(|(code, description)| format!("{code}: {description}"))
            .collect();
        let mut text = format!("(status {})", self.status);
        for part in [self.message.as_str(), &reasons.join("; ")] {
            if !part.is_empty() {
                text.push(' ');
                text.push_str(part);
            }
        }
        if !self.claims.is_empty() {
            text.push('\n');
            text.push_str(&claims::render(&self.claims));
        }
        text
    }
}

/// The fix for each of Warehouse's mint-token error codes.
pub(crate) fn hint_for(code: Option<&str>) -> &'static str {
    match code {
        Some("not-enabled") => {
            "the index has turned trusted publishing off for this CI provider: publish with an API token (PYPI_LOGIN=__token__, PYPI_PASSWORD=pypi-...) until it is enabled again"
        }
        Some("invalid-payload") => {
            "the identity token is not a JWT from an issuer the index knows: on GitLab declare `id_tokens: PYPI_ID_TOKEN: aud: pypi` in the job and pass that variable (--id-token-var), not a CI job token"
        }
        Some("invalid-token") => {
            "the identity token's signature, audience or expiry did not verify: request it with the index's audience (GET <index>/_/oidc/audience) just before publishing"
        }
        Some("invalid-pending-publisher") => {
            "the project already exists, so its pending publisher was removed: add this trusted publisher on the existing project's publishing settings"
        }
        Some("invalid-reuse-token") => {
            "this identity token was already exchanged (an earlier mint request may have succeeded on the index with its answer lost): re-run the job for a fresh identity token"
        }
        _ => {
            "register this repository and workflow as a trusted publisher of the project on the index: the claims shown must match its repository, workflow file and environment"
        }
    }
}

/// A minted upload token.
#[derive(Debug)]
pub(crate) struct Minted {
    pub token: Secret,
    /// How long it lives: from Warehouse's `expires` (UNIX seconds), else its 15 minutes.
    pub lifetime: Duration,
}

/// Exchanges `identity` for an upload token. Retried only when the request surely did
/// not reach the index (no connection); never after it was sent.
pub(crate) fn mint(
    client: &Client,
    config: &HttpConfig,
    base: &Url,
    identity: &Secret,
) -> Result<Minted, TrustedError> {
    let mint_url = base
        .join("_/oidc/mint-token")
        .expect("a valid relative URL");
    let body = serde_json::json!({ "token": identity.expose() }).to_string();
    let response = send_unless_sent(config, &mint_url, || {
        client
            .post(mint_url.clone())
            .header("Content-Type", "application/json")
            .body(body.clone())
    })?;
    let status = response.status().as_u16();
    let answer = super::json_of(response).unwrap_or_default();
    if (200..300).contains(&status)
        && let Some(token) = answer.get("token").and_then(|t| t.as_str())
    {
        let lifetime = answer
            .get("expires")
            .and_then(serde_json::Value::as_u64)
            .map_or(DEFAULT_LIFETIME, |expires| {
                Duration::from_secs(expires.saturating_sub(unix_now()))
            });
        return Ok(Minted {
            token: Secret::new(token),
            lifetime,
        });
    }
    Err(TrustedError::Refused {
        url: display_url(&mint_url),
        refusal: refusal_of(status, &answer, identity),
    })
}

/// Sends the request `build` makes; a connection that never opened is retried as
/// [`HttpConfig`] says, anything after the request left (a timeout, a reset) is not.
fn send_unless_sent(
    config: &HttpConfig,
    url: &Url,
    mut build: impl FnMut() -> custody_http::RequestBuilder,
) -> Result<custody_http::Response, TrustedError> {
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        match build().send() {
            Ok(response) => return Ok(response),
            Err(error) if error.is_connect() && attempt <= config.retries => {
                std::thread::sleep(config.backoff_for(attempt - 1));
            }
            Err(error) if error.is_connect() => {
                return Err(TrustedError::Http(HttpError::Connect {
                    url: display_url(url),
                    reason: custody_http::describe(&error),
                    attempts: custody_http::Attempts(attempt),
                }));
            }
            Err(error) => {
                return Err(TrustedError::MintAnswerLost {
                    url: display_url(url),
                    reason: if error.is_timeout() {
                        "timed out".to_owned()
                    } else {
                        custody_http::describe(&error)
                    },
                });
            }
        }
    }
}

fn refusal_of(status: u16, answer: &serde_json::Value, identity: &Secret) -> Refusal {
    let text = |value: &serde_json::Value, key: &str| {
        value
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let errors = answer
        .get("errors")
        .and_then(|e| e.as_array())
        .into_iter()
        .flatten()
        .map(|e| (text(e, "code"), text(e, "description")))
        .filter(|(code, description)| !code.is_empty() || !description.is_empty())
        .collect();
    Refusal {
        status,
        message: text(answer, "message"),
        errors,
        claims: claims::shown_claims(identity.expose()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_warehouse_code_has_its_own_hint() {
        let codes = [
            "not-enabled",
            "invalid-payload",
            "invalid-token",
            "invalid-pending-publisher",
            "invalid-reuse-token",
            "invalid-publisher",
        ];
        let hints: std::collections::BTreeSet<&str> =
            codes.iter().map(|code| hint_for(Some(code))).collect();
        assert_eq!(hints.len(), codes.len());
        assert!(hint_for(Some("invalid-reuse-token")).contains("already exchanged"));
        assert_eq!(hint_for(None), hint_for(Some("invalid-publisher")));
    }

    #[test]
    fn a_mint_that_never_connected_is_retried_and_reported_as_such() {
        let mut config = HttpConfig::new("test");
        config.retries = 2;
        config.backoff = Duration::from_millis(1);
        let client = custody_http::client(&config).unwrap();
        let port = custody_test_support::free_port();
        let base = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        let error = mint(&client, &config, &base, &Secret::new("eyJ.a.b")).unwrap_err();
        let TrustedError::Http(HttpError::Connect { attempts, .. }) = error else {
            panic!("{error:?}");
        };
        assert_eq!(attempts.0, 3, "a request that never left may be sent again");
    }

    #[test]
    fn a_refusal_keeps_the_indexs_words_on_its_first_line() {
        let answer = serde_json::json!({
            "message": "Token request failed",
            "errors": [{"code": "invalid-token", "description": "malformed or invalid token"}],
        });
        let refusal = refusal_of(422, &answer, &Secret::new("not-a-jwt"));
        assert_eq!(refusal.code(), Some("invalid-token"));
        assert_eq!(
            refusal.describe(),
            "(status 422) Token request failed invalid-token: malformed or invalid token"
        );
    }
}
