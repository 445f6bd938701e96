//! Merging the manifests of a CI matrix (fan-in) and selecting the release set from the
//! merged manifest, as the original pipeline released only the Python 3.7 / x86 job.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use custody_dist::ArtifactKind;
use thiserror::Error;

use crate::model::{Artifact, AttestationRecord, Job, Manifest, Selection};

#[derive(Debug, Error)]
pub enum CombineError {
    #[error(
        "`{file_name}` differs between `{first}` (sha256 {first_sha256}) and `{second}` (sha256 {second_sha256})"
    )]
    Conflict {
        file_name: String,
        first: PathBuf,
        first_sha256: String,
        second: PathBuf,
        second_sha256: String,
    },
    #[error("nothing to merge")]
    NothingToMerge,
    #[error("no artifact matches {criteria}{kinds}")]
    NothingSelected {
        criteria: String,
        kinds: String,
        /// What the manifest does hold (`labels python=3.8 and kinds wheel`).
        available: String,
    },
}

impl CombineError {
    /// The fix to suggest.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Conflict { .. } => "two jobs built different files under one name; collect each file in one job only, or make the build reproducible (SOURCE_DATE_EPOCH)".to_owned(),
            Self::NothingToMerge => "pass the manifests of every matrix job".to_owned(),
            Self::NothingSelected { available, .. } => format!("the manifest has {available}"),
        })
    }
}

/// Merges manifests: jobs are united, artifacts with the same file name must be the
/// same file (size and every digest), and then list every job that produced them and
/// every attestation any job verified for them.
pub fn merge(generator: &str, manifests: &[(PathBuf, Manifest)]) -> Result<Manifest, CombineError> {
    if manifests.is_empty() {
        return Err(CombineError::NothingToMerge);
    }
    let mut jobs: BTreeMap<String, Job> = BTreeMap::new();
    let mut artifacts: BTreeMap<String, (PathBuf, Artifact)> = BTreeMap::new();
    for (path, manifest) in manifests {
        for job in &manifest.jobs {
            jobs.entry(job.id.clone()).or_insert_with(|| job.clone());
        }
        for artifact in &manifest.artifacts {
            match artifacts.get_mut(&artifact.file_name) {
                None => {
                    artifacts.insert(artifact.file_name.clone(), (path.clone(), artifact.clone()));
                }
                Some((first_path, existing)) => {
                    if existing.size != artifact.size || existing.digests != artifact.digests {
                        return Err(CombineError::Conflict {
                            file_name: artifact.file_name.clone(),
                            first: first_path.clone(),
                            first_sha256: existing.digests.sha256.clone(),
                            second: path.clone(),
                            second_sha256: artifact.digests.sha256.clone(),
                        });
                    }
                    for job in &artifact.jobs {
                        if !existing.jobs.contains(job) {
                            existing.jobs.push(job.clone());
                        }
                    }
                    unite_attestations(&mut existing.attestations, &artifact.attestations);
                }
            }
        }
    }
    Ok(Manifest::new(
        generator,
        jobs.into_values().collect(),
        artifacts.into_values().map(|(_, a)| a).collect(),
        None,
    ))
}

/// Adds the attestations of the same file found by another job. One attestation file
/// (by its sha256) downloaded by two jobs is recorded once; different attestations of
/// the file (a publish and a SLSA one, or two signings) are all kept.
fn unite_attestations(existing: &mut Vec<AttestationRecord>, more: &[AttestationRecord]) {
    for record in more {
        let known = existing.iter().any(|r| {
            r.sha256 == record.sha256
                && r.predicate_type == record.predicate_type
                && r.log_index == record.log_index
        });
        if !known {
            existing.push(record.clone());
        }
    }
}

/// Selects the artifacts produced by a job whose labels match every criterion, of the
/// given kinds (all kinds when empty). Selecting nothing is an error naming what the
/// manifest does hold.
pub fn select(
    generator: &str,
    manifest: &Manifest,
    criteria: &BTreeMap<String, String>,
    kinds: &[ArtifactKind],
) -> Result<Manifest, CombineError> {
    let matching_jobs: BTreeSet<&str> = manifest
        .jobs
        .iter()
        .filter(|job| job.matches(criteria))
        .map(|job| job.id.as_str())
        .collect();
    let artifacts: Vec<Artifact> = manifest
        .artifacts
        .iter()
        .filter(|a| kinds.is_empty() || kinds.contains(&a.kind))
        .filter(|a| {
            a.jobs
                .iter()
                .any(|job| matching_jobs.contains(job.as_str()))
        })
        .map(|a| {
            let mut a = a.clone();
            a.jobs.retain(|job| matching_jobs.contains(job.as_str()));
            a
        })
        .collect();
    if artifacts.is_empty() {
        return Err(CombineError::NothingSelected {
            criteria: if criteria.is_empty() {
                "any job".to_owned()
            } else {
                criteria
                    .iter()
                    .map(|(k, v)| format!("`{k}={v}`"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            },
            kinds: if kinds.is_empty() {
                String::new()
            } else {
                format!(
                    " of kind {}",
                    kinds
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            available: describe_available(manifest),
        });
    }
    let used: BTreeSet<&str> = artifacts
        .iter()
        .flat_map(|a| a.jobs.iter().map(String::as_str))
        .collect();
    let jobs = manifest
        .jobs
        .iter()
        .filter(|j| used.contains(j.id.as_str()))
        .cloned()
        .collect();
    let selection = Selection {
        criteria: criteria.clone(),
        kinds: kinds.to_vec(),
        source_digest: manifest.digest.clone(),
    };
    Ok(Manifest::new(generator, jobs, artifacts, Some(selection)))
}

/// `labels python=3.7, 3.8; arch=x64, x86 and kinds wheel, sdist`.
fn describe_available(manifest: &Manifest) -> String {
    let mut labels: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for job in &manifest.jobs {
        for (key, value) in &job.labels {
            labels.entry(key).or_default().insert(value);
        }
    }
    let kinds: BTreeSet<&str> = manifest.artifacts.iter().map(|a| a.kind.as_str()).collect();
    let labels = if labels.is_empty() {
        "no labels".to_owned()
    } else {
        format!(
            "labels {}",
            labels
                .iter()
                .map(|(k, values)| format!(
                    "{k}={}",
                    values.iter().copied().collect::<Vec<_>>().join(",")
                ))
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    format!(
        "{labels} and kinds {}",
        kinds.into_iter().collect::<Vec<_>>().join(", ")
    )
}
