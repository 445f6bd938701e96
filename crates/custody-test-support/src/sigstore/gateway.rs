//! The body of `POST /api/v2/signingCert` as Fulcio's grpc-gateway decodes it into a
//! `CreateSigningCertificateRequest` (protojson, unknown fields discarded) before
//! Fulcio sees it. At the top level it is protojson's own walk
//! (`encoding/protojson/decode.go`): each field by its JSON or proto name, `null` as
//! absent, a field twice refused, the two members of the `key` oneof
//! (`publicKeyRequest`, `certificateSigningRequest`) never both, a `bytes` field in
//! Go's base64; each refusal is the error text at its line and column. Inside
//! `credentials` and `publicKeyRequest` the values are read leniently.

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::Value;

/// What Fulcio reads of a request; an absent field is empty.
#[derive(Debug, Default)]
pub(crate) struct SigningRequest {
    /// `credentials.oidcIdentityToken`.
    pub(crate) token: String,
    /// `certificateSigningRequest`, decoded from base64: a PEM request.
    pub(crate) certificate_request: Vec<u8>,
    /// `publicKeyRequest.publicKey.content`.
    pub(crate) public_key: String,
    /// `publicKeyRequest.proofOfPossession`, decoded from base64.
    pub(crate) proof: Vec<u8>,
}

/// The message's fields, by number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Credentials,
    PublicKeyRequest,
    CertificateRequest,
}

impl Field {
    fn named(name: &str) -> Option<Self> {
        match name {
            "credentials" => Some(Self::Credentials),
            "publicKeyRequest" | "public_key_request" => Some(Self::PublicKeyRequest),
            "certificateSigningRequest" | "certificate_signing_request" => {
                Some(Self::CertificateRequest)
            }
            _ => None,
        }
    }
}

/// One `"name": value` of the top-level object, as written, with the byte offsets of
/// the name and the value.
struct Member<'a> {
    name: &'a str,
    name_at: usize,
    value: &'a str,
    value_at: usize,
}

/// Decodes `body`; the error is the gateway's message (answered with `InvalidArgument`).
pub(crate) fn decode(body: &[u8]) -> Result<SigningRequest, String> {
    const MALFORMED: &str = "invalid character in request body";
    let text = std::str::from_utf8(body).map_err(|_| MALFORMED.to_owned())?;
    // The decoder starts at the value: whitespace before it counts for nothing, and an
    // empty body is an empty request (`io.EOF` is ignored).
    let text = text.trim_start_matches([' ', '\t', '\r', '\n']);
    if text.trim().is_empty() {
        return Ok(SigningRequest::default());
    }
    if serde_json::from_str::<Value>(text).is_err() {
        return Err(MALFORMED.to_owned());
    }
    let Some(members) = members(text) else {
        // protojson wants an object: the first token is refused.
        let first = if text.starts_with('[') {
            "["
        } else {
            &text[..value_end(text.as_bytes(), 0)]
        };
        return Err(format!(
            "proto: syntax error (line 1:1): unexpected token {first}"
        ));
    };
    let mut request = SigningRequest::default();
    let mut seen: Vec<Field> = Vec::new();
    let mut key_is_set = false;
    for member in members {
        let name: String = serde_json::from_str(member.name).expect("a JSON string");
        let Some(field) = Field::named(&name) else {
            continue;
        };
        if seen.contains(&field) {
            let message = format!("duplicate field {}", member.name);
            return Err(error(text, member.name_at, &message));
        }
        seen.push(field);
        if member.value == "null" {
            continue;
        }
        if field != Field::Credentials {
            if key_is_set {
                let message = format!(
                    "error parsing {}, oneof {KEY_ONEOF} is already set",
                    member.name
                );
                return Err(error(text, member.name_at, &message));
            }
            key_is_set = true;
        }
        read(field, &member, &mut request)
            .map_err(|message| error(text, member.value_at, &message))?;
    }
    Ok(request)
}

/// The oneof of the two proofs of possession.
const KEY_ONEOF: &str = "dev.sigstore.fulcio.v2.CreateSigningCertificateRequest.key";

/// Reads `member`'s value into `request`.
fn read(field: Field, member: &Member<'_>, request: &mut SigningRequest) -> Result<(), String> {
    let value: Value = serde_json::from_str(member.value).expect("valid JSON");
    match field {
        Field::Credentials => {
            request.token = text_of(&value, "oidcIdentityToken", "oidc_identity_token");
        }
        Field::PublicKeyRequest => {
            request.public_key = member_of(&value, "publicKey", "public_key")
                .map(|key| text_of(key, "content", "content"))
                .unwrap_or_default();
            let proof = text_of(&value, "proofOfPossession", "proof_of_possession");
            request.proof = go_base64(&proof).unwrap_or_default();
        }
        Field::CertificateRequest => {
            request.certificate_request = value.as_str().and_then(go_base64).ok_or_else(|| {
                format!(
                    "invalid value for bytes field certificateSigningRequest: {}",
                    member.value
                )
            })?;
        }
    }
    Ok(())
}

fn member_of<'a>(value: &'a Value, json_name: &str, proto_name: &str) -> Option<&'a Value> {
    value
        .get(json_name)
        .or_else(|| value.get(proto_name))
        .filter(|v| !v.is_null())
}

fn text_of(value: &Value, json_name: &str, proto_name: &str) -> String {
    member_of(value, json_name, proto_name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// protojson's `newError`: `(line L:C): …` at byte `at`, the column counted in
/// characters, behind the `proto: ` prefix of its errors.
fn error(text: &str, at: usize, message: &str) -> String {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit_once('\n')
        .map_or(before, |(_, last)| last)
        .chars()
        .count()
        + 1;
    format!("proto: (line {line}:{column}): {message}")
}

/// protojson's `unmarshalBytes`: the URL alphabet when the text has `-` or `_`,
/// unpadded when its length is not a multiple of four, line breaks ignored and the
/// last character's spare bits not checked, as Go's `base64` decodes.
fn go_base64(text: &str) -> Option<Vec<u8>> {
    let padding = if text.len().is_multiple_of(4) {
        DecodePaddingMode::RequireCanonical
    } else {
        DecodePaddingMode::RequireNone
    };
    let config = GeneralPurposeConfig::new()
        .with_decode_padding_mode(padding)
        .with_decode_allow_trailing_bits(true);
    let alphabet = if text.contains(['-', '_']) {
        &alphabet::URL_SAFE
    } else {
        &alphabet::STANDARD
    };
    let clean: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    GeneralPurpose::new(alphabet, config).decode(clean).ok()
}

/// The members of `text`, a valid JSON document, when it is an object.
fn members(text: &str) -> Option<Vec<Member<'_>>> {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'{') {
        return None;
    }
    let mut members = Vec::new();
    let mut at = skip_space(bytes, 1);
    while bytes[at] == b'"' {
        let name_end = string_end(bytes, at);
        let value_at = skip_space(bytes, skip_space(bytes, name_end) + 1);
        let end = value_end(bytes, value_at);
        members.push(Member {
            name: &text[at..name_end],
            name_at: at,
            value: &text[value_at..end],
            value_at,
        });
        at = skip_space(bytes, end);
        if bytes[at] == b',' {
            at = skip_space(bytes, at + 1);
        }
    }
    Some(members)
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && matches!(bytes[at], b' ' | b'\t' | b'\r' | b'\n') {
        at += 1;
    }
    at
}

/// The end of the string starting at `at` (its opening quote), past the closing one.
fn string_end(bytes: &[u8], mut at: usize) -> usize {
    at += 1;
    while bytes[at] != b'"' {
        at += if bytes[at] == b'\\' { 2 } else { 1 };
    }
    at + 1
}

/// The end of the value starting at `at`.
fn value_end(bytes: &[u8], mut at: usize) -> usize {
    match bytes.get(at) {
        Some(b'"') => string_end(bytes, at),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            loop {
                match bytes[at] {
                    b'"' => {
                        at = string_end(bytes, at);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return at + 1;
                        }
                    }
                    _ => {}
                }
                at += 1;
            }
        }
        _ => {
            while at < bytes.len()
                && !matches!(bytes[at], b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n')
            {
                at += 1;
            }
            at
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn either_proof_is_read_by_its_json_or_proto_name() {
        let request = decode(
            br#"{"credentials": {"oidc_identity_token": "t"}, "certificate_signing_request": "LS0t", "extra": [1, {"a": "}"}]}"#,
        )
        .unwrap();
        assert_eq!(request.token, "t");
        assert_eq!(request.certificate_request, b"---");
        let request = decode(
            br#"{"publicKeyRequest": {"publicKey": {"content": "K"}, "proofOfPossession": "AAE"}}"#,
        )
        .unwrap();
        assert_eq!(
            (request.public_key.as_str(), request.proof.as_slice()),
            ("K", [0u8, 1].as_slice())
        );
        assert!(decode(b"").unwrap().certificate_request.is_empty());
    }

    #[test]
    fn both_proofs_a_field_twice_or_bad_base64_are_refused_where_they_are() {
        let both = decode(br#"{"publicKeyRequest": {}, "certificateSigningRequest": "LS0t"}"#);
        assert_eq!(
            both.unwrap_err(),
            "proto: (line 1:26): error parsing \"certificateSigningRequest\", oneof dev.sigstore.fulcio.v2.CreateSigningCertificateRequest.key is already set"
        );
        // `null` is no value: the other member may follow.
        assert!(
            decode(br#"{"publicKeyRequest": null, "certificateSigningRequest": "LS0t"}"#).is_ok()
        );
        let twice = decode(b"{\"credentials\": {},\n  \"credentials\": {}}");
        assert_eq!(
            twice.unwrap_err(),
            "proto: (line 2:3): duplicate field \"credentials\""
        );
        let bad = decode(br#"{"certificateSigningRequest": "not base64!"}"#);
        assert_eq!(
            bad.unwrap_err(),
            "proto: (line 1:31): invalid value for bytes field certificateSigningRequest: \"not base64!\""
        );
    }
}
