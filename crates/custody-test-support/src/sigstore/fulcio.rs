//! A Fulcio on 127.0.0.1 that speaks `POST /api/v2/signingCert` as sigstore/fulcio does
//! (`pkg/server/grpc_server.go` behind grpc-gateway): it authenticates the OIDC token as
//! go-oidc does for an issuer of its configuration (the signature against the keys the
//! issuer's discovery document points to, fetched over HTTP; issuer; audience
//! `sigstore`; expiry; not-before with five minutes of leeway), checks the proof of
//! possession — a PKCS#10 `certificateSigningRequest` whose self-signature verifies
//! (what sigstore-python sends), or a `publicKeyRequest` signing the principal's name
//! (the token's `sub`, or its email; what sigstore-rust sends) — and issues a
//! 10-minute leaf with the identity the issuer's type derives from the claims (the
//! `github-workflow` and `gitlab-pipeline` CI templates of `config/identity/config.yaml`,
//! or an email), embedding an SCT from the CT log. Refusals are grpc-gateway's
//! `{"code", "message", "details"}` with Fulcio's messages.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use x509_cert::der::Decode;
use x509_cert::der::asn1::{Ia5String, ObjectIdentifier, Utf8StringRef};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::spki::SubjectPublicKeyInfoRef;

use super::csr::{self, CsrRefusal};
use super::ct::CtLog;
use super::gateway::{self, SigningRequest};
use super::issuer::{OidcIssuer, ProviderKind, SIGSTORE_AUDIENCE, now};
use super::keys::{PublicKey, pem, pem_decode};
use super::x509::{CertificateAuthority, extension, raw_extension};
use crate::mock::{MockServer, Recorded, Reply};

/// Fulcio's client-facing messages (`pkg/server/error.go`).
pub const INVALID_IDENTITY_TOKEN: &str = "There was an error processing the identity token";
pub const INVALID_PUBLIC_KEY: &str = "The public key supplied in the request could not be parsed";
pub const INSECURE_PUBLIC_KEY: &str = "The public key supplied in the request is insecure";
pub const INVALID_SIGNATURE: &str = "The signature supplied in the request could not be verified";
pub const INVALID_CSR: &str = "The certificate signing request could not be parsed";
/// gRPC `InvalidArgument`, which grpc-gateway answers with HTTP 400.
const INVALID_ARGUMENT: u16 = 3;

/// An issuer of Fulcio's configuration.
#[derive(Debug, Clone)]
struct Issuer {
    kind: ProviderKind,
    /// Where `.well-known/openid-configuration` is (the real issuer's URL in
    /// production; the local provider here).
    discovery_base: String,
}

/// The running Fulcio; stops when dropped.
#[derive(Debug)]
pub struct Fulcio {
    server: MockServer,
    ca: Arc<CertificateAuthority>,
    issued: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Fulcio {
    /// A Fulcio that trusts `issuer`'s providers and logs precertificates to `ct_log`.
    pub fn start(issuer: &OidcIssuer, ca: Arc<CertificateAuthority>, ct_log: Arc<CtLog>) -> Self {
        let issuers: BTreeMap<String, Issuer> = issuer
            .providers()
            .iter()
            .map(|p| {
                (
                    p.issuer.to_owned(),
                    Issuer {
                        kind: p.kind,
                        discovery_base: issuer.discovery_base(p),
                    },
                )
            })
            .collect();
        let issued = Arc::new(Mutex::new(Vec::new()));
        let server = {
            let (ca, issued) = (ca.clone(), issued.clone());
            MockServer::start(move |request, _| {
                let path = request.url.split('?').next().unwrap_or_default();
                match (request.method.as_str(), path) {
                    ("POST", "/api/v2/signingCert") => {
                        match signing_certificate(request, &issuers, &ca, &ct_log) {
                            Ok((leaf, reply)) => {
                                issued.lock().unwrap().push(leaf);
                                reply
                            }
                            Err(reply) => reply,
                        }
                    }
                    ("GET", "/api/v2/trustBundle") => Reply::json(200, &trust_bundle(&ca)),
                    _ => grpc_error(404, 5, "Not Found"),
                }
            })
        };
        Self { server, ca, issued }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        self.server.url().trim_end_matches('/').to_owned()
    }

    pub fn authority(&self) -> &CertificateAuthority {
        &self.ca
    }

    /// The leaf certificates issued so far (DER).
    pub fn issued(&self) -> Vec<Vec<u8>> {
        self.issued.lock().unwrap().clone()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.server.requests()
    }
}

fn grpc_error(status: u16, code: u16, message: &str) -> Reply {
    Reply::json(
        status,
        &json!({"code": code, "message": message, "details": []}).to_string(),
    )
}

fn refused(message: &str) -> Reply {
    grpc_error(400, INVALID_ARGUMENT, message)
}

fn trust_bundle(ca: &CertificateAuthority) -> String {
    let chain = [
        pem("CERTIFICATE", ca.intermediate_der()),
        pem("CERTIFICATE", ca.root_der()),
    ];
    json!({"chains": [{"certificates": chain}]}).to_string()
}

fn signing_certificate(
    request: &Recorded,
    issuers: &BTreeMap<String, Issuer>,
    ca: &CertificateAuthority,
    ct_log: &CtLog,
) -> Result<(Vec<u8>, Reply), Reply> {
    // grpc-gateway decodes the body before Fulcio runs: a malformed one is its refusal.
    let body = gateway::decode(&request.body).map_err(|message| refused(&message))?;
    // The token comes in the body, or as a bearer token (`extractOIDCTokenFromAuthHeader`).
    let token = if body.token.is_empty() {
        request
            .header("Authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .unwrap_or_default()
    } else {
        body.token.as_str()
    };
    // `Authenticate` verifies the token and makes the principal (an email principal
    // wants a verified email); either failure is the same message to the client.
    let (issuer, claims, name) = authenticate(token, issuers)
        .and_then(|(issuer, claims)| {
            let name = principal_name(issuer.kind, &claims)?;
            Ok((issuer, claims, name))
        })
        .map_err(|_| refused(INVALID_IDENTITY_TOKEN))?;
    let key = if body.certificate_request.is_empty() {
        signed_challenge(&body, &name)?
    } else {
        csr::proven_key(&body.certificate_request).map_err(|refusal| match refusal {
            CsrRefusal::Unparsable => refused(INVALID_CSR),
            CsrRefusal::Insecure => refused(INSECURE_PUBLIC_KEY),
            CsrRefusal::Signature => refused(INVALID_SIGNATURE),
            CsrRefusal::NotPermitted(message) => refused(&message),
        })?
    };
    let (san, extensions) = identity(issuer.kind, &claims).map_err(|e| refused(&e))?;
    let leaf = ca.issue(&key.spki_der, san, extensions, ct_log);
    let chain = [
        pem("CERTIFICATE", &leaf),
        pem("CERTIFICATE", ca.intermediate_der()),
        pem("CERTIFICATE", ca.root_der()),
    ];
    let reply = json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": chain}}});
    Ok((leaf, Reply::json(200, &reply.to_string())))
}

/// The `publicKeyRequest` proof (also what Fulcio checks when neither proof was sent):
/// a PEM public key and its signature over the principal's name.
fn signed_challenge(body: &SigningRequest, name: &str) -> Result<PublicKey, Reply> {
    // `challenges.ParsePublicKey`: a PEM `PUBLIC KEY`.
    let spki_der = match pem_decode(&body.public_key) {
        Some((label, der)) if label == "PUBLIC KEY" => der,
        _ => return Err(refused(INVALID_PUBLIC_KEY)),
    };
    if SubjectPublicKeyInfoRef::from_der(&spki_der).is_err() {
        return Err(refused(INVALID_PUBLIC_KEY));
    }
    // A key that parses but is not ECDSA P-256/P-384 is refused as insecure: Fulcio
    // also takes RSA, Ed25519 and P-521 keys, which no sigstore client here sends.
    let key = PublicKey::from_spki_der(&spki_der).ok_or_else(|| refused(INSECURE_PUBLIC_KEY))?;
    if !key.verify(name.as_bytes(), &body.proof) {
        return Err(refused(INVALID_SIGNATURE));
    }
    Ok(key)
}

type ClaimSet = Map<String, Value>;

fn segment(part: &str) -> Result<Value, String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|e| format!("malformed jwt: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("malformed jwt: {e}"))
}

/// go-oidc's `IDTokenVerifier.Verify` for an issuer of the configuration.
fn authenticate<'a>(
    token: &str,
    issuers: &'a BTreeMap<String, Issuer>,
) -> Result<(&'a Issuer, ClaimSet), String> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts[..] else {
        return Err("oidc: malformed jwt, expected 3 parts".to_owned());
    };
    let Value::Object(claims) = segment(payload)? else {
        return Err("oidc: malformed jwt payload".to_owned());
    };
    let issuer_url = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let issuer = issuers
        .get(issuer_url)
        .ok_or_else(|| format!("failed to match issuer URL {issuer_url}"))?;
    let discovery = http_get_json(&format!(
        "{}/.well-known/openid-configuration",
        issuer.discovery_base
    ))?;
    if discovery["issuer"].as_str() != Some(issuer_url) {
        return Err("oidc: issuer did not match".to_owned());
    }
    let header = segment(header)?;
    let algorithm = header["alg"].as_str().unwrap_or_default();
    let supported = discovery["id_token_signing_alg_values_supported"]
        .as_array()
        .is_some_and(|algs| algs.iter().any(|a| a.as_str() == Some(algorithm)));
    if algorithm != "ES256" || !supported {
        return Err(format!("oidc: unsupported signing algorithm {algorithm}"));
    }
    let jwks = http_get_json(discovery["jwks_uri"].as_str().unwrap_or_default())?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|e| format!("malformed jwt signature: {e}"))?;
    let signed = format!("{}.{payload}", parts[0]);
    let verified = jwks["keys"].as_array().into_iter().flatten().any(|key| {
        let kid_matches = header["kid"].is_null() || key["kid"] == header["kid"];
        kid_matches
            && ec_point(key).is_some_and(|point| {
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                    .verify(signed.as_bytes(), &signature)
                    .is_ok()
            })
    });
    if !verified {
        return Err("failed to verify signature".to_owned());
    }
    check_claims(&claims, issuer_url)?;
    Ok((issuer, claims))
}

fn check_claims(claims: &ClaimSet, issuer_url: &str) -> Result<(), String> {
    if claims.get("iss").and_then(Value::as_str) != Some(issuer_url) {
        return Err("oidc: id token issued by a different provider".to_owned());
    }
    let audience_matches = match claims.get("aud") {
        Some(Value::String(audience)) => audience == SIGSTORE_AUDIENCE,
        Some(Value::Array(audiences)) => audiences.iter().any(|a| a == SIGSTORE_AUDIENCE),
        _ => false,
    };
    if !audience_matches {
        return Err(format!("oidc: expected audience \"{SIGSTORE_AUDIENCE}\""));
    }
    let now = now();
    let expiry = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if expiry < now {
        return Err(format!("oidc: token is expired (Token Expiry: {expiry})"));
    }
    if let Some(not_before) = claims.get("nbf").and_then(Value::as_i64)
        && now + 300 < not_before
    {
        return Err(format!(
            "oidc: current time before the nbf (not before) time: {not_before}"
        ));
    }
    Ok(())
}

/// The uncompressed point of a P-256 JWK.
fn ec_point(key: &Value) -> Option<Vec<u8>> {
    if key["kty"] != "EC" || key["crv"] != "P-256" {
        return None;
    }
    let x = URL_SAFE_NO_PAD.decode(key["x"].as_str()?).ok()?;
    let y = URL_SAFE_NO_PAD.decode(key["y"].as_str()?).ok()?;
    let mut point = vec![4u8];
    point.extend(x);
    point.extend(y);
    Some(point)
}

/// A plain `GET` of a JSON document on the local providers (HTTP/1.0, so the answer
/// ends with the connection).
fn http_get_json(url: &str) -> Result<Value, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("unsupported URL {url}"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut stream = TcpStream::connect(host).map_err(|e| format!("{url}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(stream, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|e| format!("{url}: {e}"))?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("{url}: malformed response"))?;
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        return Err(format!(
            "{url}: {}",
            head.lines().next().unwrap_or_default()
        ));
    }
    serde_json::from_str(body).map_err(|e| format!("{url}: {e}"))
}

/// The name the proof of possession signs (`Principal.Name`).
fn principal_name(kind: ProviderKind, claims: &ClaimSet) -> Result<String, String> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str).unwrap_or_default();
    match kind {
        ProviderKind::Email => {
            if claims.get("email_verified") != Some(&Value::Bool(true)) {
                return Err("email_verified claim was false".to_owned());
            }
            let email = text("email");
            let valid = email
                .split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
            if !valid {
                return Err("email address is not valid".to_owned());
            }
            Ok(email.to_owned())
        }
        ProviderKind::GitHubWorkflow | ProviderKind::GitLabPipeline => Ok(text("sub").to_owned()),
    }
}

/// Fulcio's extension arc, `1.3.6.1.4.1.57264.1.N`.
fn fulcio_oid(n: u32) -> ObjectIdentifier {
    ObjectIdentifier::new(&format!("1.3.6.1.4.1.57264.1.{n}")).expect("an OID")
}

/// The SAN and the Fulcio extensions of the principal (`Principal.Embed`).
fn identity(
    kind: ProviderKind,
    claims: &ClaimSet,
) -> Result<(GeneralName, Vec<Extension>), String> {
    let issuer = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (san, values) = match kind {
        ProviderKind::Email => {
            let email = claims
                .get("email")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let name = Ia5String::new(email).map_err(|e| e.to_string())?;
            (GeneralName::Rfc822Name(name), Vec::new())
        }
        ProviderKind::GitHubWorkflow | ProviderKind::GitLabPipeline => {
            let template = super::templates::for_kind(kind);
            let values = template.render(claims, issuer)?;
            let san = template.subject_alternative_name(claims, issuer)?;
            let uri = Ia5String::new(&san).map_err(|e| e.to_string())?;
            (GeneralName::UniformResourceIdentifier(uri), values)
        }
    };
    Ok((san, render(issuer, subject, &values)))
}

/// `certificate.Extensions.Render`: the deprecated raw-string extensions first (issuer
/// `.1`, GitHub's `.2`-`.6`), the issuer again as a DER `UTF8String` (`.8`), the CI
/// extensions `.9`-`.23` in OID order, then the token subject (`.24`).
fn render(issuer: &str, subject: &str, values: &[(u32, String)]) -> Vec<Extension> {
    fn utf8(text: &str) -> Utf8StringRef<'_> {
        Utf8StringRef::new(text).expect("UTF-8 text")
    }
    let mut extensions = vec![raw_extension(
        fulcio_oid(1),
        false,
        issuer.as_bytes().to_vec(),
    )];
    for (n, value) in values
        .iter()
        .filter(|(n, v)| (2..=6).contains(n) && !v.is_empty())
    {
        extensions.push(raw_extension(
            fulcio_oid(*n),
            false,
            value.as_bytes().to_vec(),
        ));
    }
    extensions.push(extension(fulcio_oid(8), false, &utf8(issuer)));
    for (n, value) in values.iter().filter(|(n, v)| *n >= 9 && !v.is_empty()) {
        extensions.push(extension(fulcio_oid(*n), false, &utf8(value)));
    }
    if !subject.is_empty() {
        extensions.push(extension(fulcio_oid(24), false, &utf8(subject)));
    }
    extensions
}
