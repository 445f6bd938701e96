//! The claims of an OIDC identity token, decoded from its payload without checking the
//! signature: to show who the index was asked to trust when it refuses, as the PyPI
//! action and uv do, and to name the job's own identity for attestations. Nothing here
//! trusts them: the index and Fulcio verify the tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The claims a trusted publisher is matched on, GitHub's then GitLab's, in the order
/// they are shown. Others (signatures, times, ids) say nothing about the match.
const SHOWN: [&str; 14] = [
    "sub",
    "repository",
    "repository_owner",
    "repository_owner_id",
    "workflow_ref",
    "job_workflow_ref",
    "ref",
    "environment",
    "project_path",
    "namespace_path",
    "ci_config_ref_uri",
    "ref_path",
    "ref_type",
    "pipeline_source",
];

/// Every claim of `jwt`, unverified, or nothing when it is not a JWT.
pub(crate) fn unverified(jwt: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        serde_json::Value::Object(claims) => Some(claims),
        _ => None,
    }
}

/// The matching claims of `jwt` as `(name, value)`, or nothing when it is not a JWT.
pub(crate) fn shown_claims(jwt: &str) -> Vec<(String, String)> {
    let Some(claims) = unverified(jwt) else {
        return Vec::new();
    };
    SHOWN
        .iter()
        .filter_map(|name| {
            let value = match claims.get(*name)? {
                serde_json::Value::String(text) => text.clone(),
                serde_json::Value::Null => return None,
                other => other.to_string(),
            };
            Some(((*name).to_owned(), value))
        })
        .collect()
}

/// The claims as the lines shown under a refusal.
pub(crate) fn render(claims: &[(String, String)]) -> String {
    let lines: Vec<String> = claims
        .iter()
        .map(|(name, value)| format!("  {name}: {value}"))
        .collect();
    format!("the identity token's claims:\n{}", lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt_of(claims: &serde_json::Value) -> String {
        let part = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.c2ln",
            part(&serde_json::json!({"alg": "RS256"})),
            part(claims)
        )
    }

    #[test]
    fn the_matching_claims_are_shown_in_order_and_the_rest_left_out() {
        let jwt = jwt_of(&serde_json::json!({
            "iss": "https://token.actions.githubusercontent.com",
            "jti": "abc",
            "ref": "refs/tags/v1",
            "sub": "repo:o/r:environment:pypi",
            "repository": "o/r",
            "repository_owner_id": 42,
            "environment": null,
        }));
        let claims = shown_claims(&jwt);
        assert_eq!(
            claims,
            [
                ("sub".to_owned(), "repo:o/r:environment:pypi".to_owned()),
                ("repository".to_owned(), "o/r".to_owned()),
                ("repository_owner_id".to_owned(), "42".to_owned()),
                ("ref".to_owned(), "refs/tags/v1".to_owned()),
            ]
        );
        assert!(render(&claims).ends_with("\n  ref: refs/tags/v1"));
    }

    #[test]
    fn what_is_not_a_jwt_shows_nothing() {
        for text in ["", "abc", "a.!!!.c", "a.bm90IGpzb24.c"] {
            assert!(shown_claims(text).is_empty(), "{text}");
        }
    }
}
