//! A Rekor v1 log on 127.0.0.1 that speaks `POST /api/v1/log/entries` as
//! sigstore/rekor does (`pkg/api/entries.go`, `pkg/types/{dsse,hashedrekord}/v0.0.1`):
//! it checks every signature of the proposed entry with the verifier it names before
//! logging, stores the canonicalized body (JCS) as an RFC 6962 leaf, and answers `201`
//! with `{entryUUID: {body, integratedTime, logID, logIndex, verification:
//! {inclusionProof, signedEntryTimestamp}}}` — the SET signed over the canonical JSON of
//! body, integrated time, log ID and index, the proof closing on a checkpoint in the
//! signed-note format. Refusals are Rekor's `{"code", "message"}` (400, 409).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::keys::{Curve, PublicKey, SigningKey, pem, pem_decode};
use super::merkle::{self, Hash};
use crate::mock::{MockServer, Recorded, Reply};

/// The name in the checkpoint's origin and signature line (Rekor's `hostname`).
pub const HOSTNAME: &str = "rekor.custody-test.invalid";

/// The log's state.
#[derive(Debug, Default)]
struct Log {
    leaves: Vec<Hash>,
    entries: Vec<Logged>,
    by_leaf: HashMap<Hash, usize>,
}

#[derive(Debug, Clone)]
struct Logged {
    body: Vec<u8>,
    integrated_time: i64,
}

/// The running log; stops when dropped.
#[derive(Debug)]
pub struct Rekor {
    server: MockServer,
    key: Arc<SigningKey>,
    log: Arc<Mutex<Log>>,
    tree_id: u64,
}

/// A refusal as Rekor words it.
struct Refusal {
    status: u16,
    message: String,
}

impl Refusal {
    fn invalid(message: impl std::fmt::Display) -> Self {
        // `validationError`: "error processing entry: %v".
        Self {
            status: 400,
            message: format!("error processing entry: {message}"),
        }
    }

    fn reply(&self) -> Reply {
        Reply::json(
            self.status,
            &json!({"code": self.status, "message": self.message}).to_string(),
        )
    }
}

impl Rekor {
    pub fn start() -> Self {
        let key = Arc::new(SigningKey::generate(Curve::P256));
        let log = Arc::new(Mutex::new(Log::default()));
        // A tree ID like production's, which appears in checkpoints and entry IDs.
        let tree_id = u64::from_be_bytes(key.key_id()[..8].try_into().expect("8 bytes")) >> 1;
        let server = {
            let (key, log) = (key.clone(), log.clone());
            MockServer::start(move |request, _| {
                let path = request.url.split('?').next().unwrap_or_default();
                match (request.method.as_str(), path) {
                    ("POST", "/api/v1/log/entries") => {
                        match propose(request, &key, &log, tree_id) {
                            Ok(reply) | Err(reply) => reply,
                        }
                    }
                    ("GET", path) if path.starts_with("/api/v1/log/entries") => {
                        retrieve(request, &key, &log, tree_id)
                    }
                    _ => Reply::json(404, r#"{"code":404,"message":"path not found"}"#),
                }
            })
        };
        Self {
            server,
            key,
            log,
            tree_id,
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        self.server.url().trim_end_matches('/').to_owned()
    }

    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    pub fn tree_id(&self) -> u64 {
        self.tree_id
    }

    /// How many entries the log holds.
    pub fn entry_count(&self) -> usize {
        self.log.lock().unwrap().entries.len()
    }

    /// The canonicalized bodies of the entries, in log order.
    pub fn bodies(&self) -> Vec<Value> {
        let log = self.log.lock().unwrap();
        log.entries
            .iter()
            .map(|entry| serde_json::from_slice(&entry.body).expect("a JSON body"))
            .collect()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.server.requests()
    }
}

fn propose(
    request: &Recorded,
    key: &SigningKey,
    log: &Mutex<Log>,
    tree_id: u64,
) -> Result<Reply, Reply> {
    let proposed: Value = serde_json::from_slice(&request.body).map_err(|e| {
        Reply::json(
            400,
            &json!({"code": 400, "message": format!("parsing body: {e}")}).to_string(),
        )
    })?;
    let kind = proposed["kind"].as_str().unwrap_or_default();
    let version = proposed["apiVersion"].as_str().unwrap_or_default();
    let spec = match (kind, version) {
        ("hashedrekord", "0.0.1") => hashedrekord(&proposed["spec"]),
        ("dsse", "0.0.1") => dsse(&proposed["spec"]),
        _ => Err(Refusal::invalid(format!(
            "{kind} implementation for version '{version}' not found"
        ))),
    }
    .map_err(|refusal| refusal.reply())?;
    let canonical = json!({"apiVersion": version, "kind": kind, "spec": spec});
    let body = serde_json_canonicalizer::to_vec(&canonical).expect("canonical JSON");
    append(key, log, tree_id, body)
}

/// Logs `body` and answers with the entry, its SET and its inclusion proof.
fn append(key: &SigningKey, log: &Mutex<Log>, tree_id: u64, body: Vec<u8>) -> Result<Reply, Reply> {
    let leaf = merkle::leaf_hash(&body);
    let mut log = log.lock().unwrap();
    if log.by_leaf.contains_key(&leaf) {
        let entry_id = format!("{tree_id:016x}{}", hex::encode(leaf));
        return Err(Refusal {
            status: 409,
            message: format!(
                "an equivalent entry already exists in the transparency log with UUID {entry_id}"
            ),
        }
        .reply()
        .header("Location", &format!("/api/v1/log/entries/{entry_id}")));
    }
    let integrated_time = super::issuer::now();
    let index = log.leaves.len();
    log.leaves.push(leaf);
    log.by_leaf.insert(leaf, index);
    log.entries.push(Logged {
        body,
        integrated_time,
    });
    let (entry_id, entry) = log_entry(key, tree_id, &log, index);
    drop(log);
    Ok(
        Reply::json(201, &json!({ entry_id.clone(): entry }).to_string())
            .header("Location", &format!("/api/v1/log/entries/{entry_id}"))
            .header("ETag", &entry_id),
    )
}

/// `GET /api/v1/log/entries?logIndex=N` and `GET /api/v1/log/entries/UUID`: the entry
/// with a SET and an inclusion proof at the current tree size.
fn retrieve(request: &Recorded, key: &SigningKey, log: &Mutex<Log>, tree_id: u64) -> Reply {
    let log = log.lock().unwrap();
    let index = match request.url.split_once("?logIndex=") {
        Some((_, index)) => index.parse::<usize>().ok(),
        None => request
            .url
            .rsplit('/')
            .next()
            .map(|uuid| uuid.get(uuid.len().saturating_sub(64)..).unwrap_or(uuid))
            .and_then(|text| hex::decode(text).ok())
            .and_then(|leaf| <Hash>::try_from(leaf).ok())
            .and_then(|leaf| log.by_leaf.get(&leaf).copied()),
    };
    match index.filter(|i| *i < log.entries.len()) {
        Some(index) => {
            let (entry_id, entry) = log_entry(key, tree_id, &log, index);
            Reply::json(200, &json!({ entry_id: entry }).to_string())
        }
        None => Reply::json(404, r#"{"code":404,"message":"entry not found"}"#),
    }
}

/// Entry `index` as Rekor returns it, under its entry ID.
fn log_entry(key: &SigningKey, tree_id: u64, log: &Log, index: usize) -> (String, Value) {
    let logged = &log.entries[index];
    let entry = json!({
        "body": STANDARD.encode(&logged.body),
        "integratedTime": logged.integrated_time,
        "logID": hex::encode(key.key_id()),
        "logIndex": index,
    });
    // `signEntry`: the SET is over the canonical JSON of the entry before verification
    // is added.
    let set = key.sign(&serde_json_canonicalizer::to_vec(&entry).expect("canonical JSON"));
    let mut entry = entry;
    entry["verification"] = json!({
        "inclusionProof": inclusion_proof(key, tree_id, &log.leaves, index),
        "signedEntryTimestamp": STANDARD.encode(set),
    });
    (
        format!("{tree_id:016x}{}", hex::encode(log.leaves[index])),
        entry,
    )
}

fn inclusion_proof(key: &SigningKey, tree_id: u64, leaves: &[Hash], index: usize) -> Value {
    let root = merkle::root(leaves);
    json!({
        "checkpoint": checkpoint(key, tree_id, leaves.len(), &root),
        "hashes": merkle::inclusion_path(index, leaves).iter().map(hex::encode).collect::<Vec<_>>(),
        "logIndex": index,
        "rootHash": hex::encode(root),
        "treeSize": leaves.len(),
    })
}

/// A signed checkpoint as `util.CreateAndSignCheckpoint` writes it: the note
/// (`origin`, size, base64 root hash), a blank line, and `— HOSTNAME
/// base64(key hash[:4] || signature)`.
fn checkpoint(key: &SigningKey, tree_id: u64, size: usize, root: &Hash) -> String {
    let note = format!(
        "{HOSTNAME} - {tree_id}\n{size}\n{}\n",
        STANDARD.encode(root)
    );
    let mut signature = key.key_id()[..4].to_vec();
    signature.extend(key.sign(note.as_bytes()));
    format!(
        "{note}\n\u{2014} {HOSTNAME} {}\n",
        STANDARD.encode(signature)
    )
}

/// A verifier as Rekor's `x509.NewPublicKey` takes it (a PEM certificate or public
/// key), with its canonical value (the PEM re-encoded).
fn verifier(pem_text: &[u8]) -> Result<(PublicKey, String), Refusal> {
    let text =
        std::str::from_utf8(pem_text).map_err(|_| Refusal::invalid("invalid PEM: not UTF-8"))?;
    let (label, der) = pem_decode(text).ok_or_else(|| Refusal::invalid("invalid PEM"))?;
    let spki = match label.as_str() {
        "CERTIFICATE" => super::spki_of_certificate(&der)
            .ok_or_else(|| Refusal::invalid("x509: malformed certificate"))?,
        "PUBLIC KEY" => der.clone(),
        _ => return Err(Refusal::invalid(format!("unknown PEM type: {label}"))),
    };
    let key = PublicKey::from_spki_der(&spki)
        .ok_or_else(|| Refusal::invalid("entry algorithms are not allowed"))?;
    Ok((key, STANDARD.encode(pem(&label, &der))))
}

/// `hashedrekord` 0.0.1: the signature must verify over the digest with the key.
fn hashedrekord(spec: &Value) -> Result<Value, Refusal> {
    let signature = spec["signature"]["content"]
        .as_str()
        .and_then(|s| STANDARD.decode(s).ok())
        .ok_or_else(|| Refusal::invalid("missing signature"))?;
    let public_key = spec["signature"]["publicKey"]["content"]
        .as_str()
        .and_then(|s| STANDARD.decode(s).ok())
        .ok_or_else(|| Refusal::invalid("missing public key"))?;
    let (key, canonical_key) = verifier(&public_key)?;
    let algorithm_name = spec["data"]["hash"]["algorithm"]
        .as_str()
        .unwrap_or("sha256");
    let value = spec["data"]["hash"]["value"]
        .as_str()
        .ok_or_else(|| Refusal::invalid("missing hash value"))?;
    let algorithm = match algorithm_name {
        "sha256" => &digest::SHA256,
        "sha384" => &digest::SHA384,
        "sha512" => &digest::SHA512,
        other => return Err(Refusal::invalid(format!("unknown hash algorithm {other}"))),
    };
    let digest = hex::decode(value)
        .ok()
        .filter(|d| d.len() == algorithm.output_len())
        .ok_or_else(|| Refusal::invalid("invalid value for hash"))?;
    if algorithm != key.curve.digest() {
        return Err(Refusal::invalid("entry algorithms are not allowed"));
    }
    if !key.verify_digest(algorithm, &digest, &signature) {
        return Err(Refusal::invalid(
            "verifying signature: invalid signature when validating ASN.1 encoded signature",
        ));
    }
    Ok(json!({
        "data": {"hash": {"algorithm": algorithm_name, "value": value}},
        "signature": {
            "content": STANDARD.encode(&signature),
            "publicKey": {"content": canonical_key},
        },
    }))
}

/// `dsse` 0.0.1 with `proposedContent`: every envelope signature must verify over the
/// DSSE PAE with one of the verifiers.
fn dsse(spec: &Value) -> Result<Value, Refusal> {
    // Go decodes `null` as an absent field, and tests `len(Signatures) != 0`:
    // sigstore-python sends the server-side fields as `null`.
    let present = |name: &str| spec.get(name).is_some_and(|value| !value.is_null());
    let signatures = spec["signatures"].as_array().is_some_and(|s| !s.is_empty());
    if present("envelopeHash") || present("payloadHash") || signatures {
        return Err(Refusal::invalid(
            "either proposedContent or envelopeHash, payloadHash, and signatures must be present but not both",
        ));
    }
    let envelope_text = spec["proposedContent"]["envelope"]
        .as_str()
        .ok_or_else(|| Refusal::invalid("proposed content envelope is missing"))?;
    let envelope: Value = serde_json::from_str(envelope_text).map_err(Refusal::invalid)?;
    let payload_type = envelope["payloadType"].as_str().unwrap_or_default();
    let payload = envelope["payload"]
        .as_str()
        .and_then(|p| STANDARD.decode(p).ok())
        .ok_or_else(|| Refusal::invalid("could not verify envelope: payload is not base64"))?;
    let signatures: Vec<&str> = envelope["signatures"]
        .as_array()
        .map(|all| all.iter().filter_map(|s| s["sig"].as_str()).collect())
        .unwrap_or_default();
    if signatures.is_empty() {
        return Err(Refusal::invalid(
            "DSSE envelope must contain 1 or more signatures",
        ));
    }
    let verifiers = spec["proposedContent"]["verifiers"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|v| {
                    let pem_text = v.as_str().and_then(|s| STANDARD.decode(s).ok());
                    pem_text.map_or_else(
                        || Err(Refusal::invalid("failed parsing base64 data for verifier")),
                        |text| verifier(&text),
                    )
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    let pae = pae(payload_type, &payload);
    let mut logged = Vec::new();
    for signature in signatures {
        let bytes = STANDARD.decode(signature).unwrap_or_default();
        let (_, canonical_key) = verifiers
            .iter()
            .find(|(key, _)| key.verify(&pae, &bytes))
            .ok_or_else(|| Refusal::invalid("all signatures must have a key that verifies it"))?;
        logged.push(json!({"signature": signature, "verifier": canonical_key}));
    }
    logged.sort_by(|a, b| a["signature"].as_str().cmp(&b["signature"].as_str()));
    Ok(json!({
        "envelopeHash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(envelope_text))},
        "payloadHash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(&payload))},
        "signatures": logged,
    }))
}

/// The DSSE pre-authentication encoding.
fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}
