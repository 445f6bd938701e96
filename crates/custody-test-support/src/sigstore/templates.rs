//! Fulcio's CI-provider templates (`config/identity/config.yaml`, `ci-issuer-metadata`)
//! for `github-workflow` and `gitlab-pipeline`: which claim, or which claims joined,
//! each extension of `1.3.6.1.4.1.57264.1` holds, and the SAN. As in
//! `ciprovider.applyTemplateOrReplace`, claims are read as strings (numbers without a
//! fraction as integers), the issuer's defaults fill in what a token lacks, and a claim
//! neither has is an error.

use serde_json::{Map, Value};

use super::issuer::ProviderKind;

/// A piece of a template.
#[derive(Debug, Clone, Copy)]
enum Piece {
    Text(&'static str),
    /// `{{ .name }}`
    Field(&'static str),
    /// `{{if eq .field "value"}}then{{ else }}otherwise{{end}}`
    IfEquals(&'static str, &'static str, &'static str, &'static str),
}

/// One extension's value: a bare claim name, or a template.
#[derive(Debug, Clone, Copy)]
enum Source {
    Claim(&'static str),
    Template(&'static [Piece]),
}

use Piece::{Field, IfEquals, Text};
use Source::{Claim, Template};

/// The templates of one CI provider.
#[derive(Debug)]
pub(crate) struct CiTemplate {
    defaults: &'static [(&'static str, &'static str)],
    extensions: &'static [(u32, Source)],
    subject_alternative_name: &'static [Piece],
}

const GITHUB: CiTemplate = CiTemplate {
    defaults: &[("url", "https://github.com"), ("environment", "")],
    extensions: &[
        (2, Claim("event_name")),
        (3, Claim("sha")),
        (4, Claim("workflow")),
        (5, Claim("repository")),
        (6, Claim("ref")),
        (
            9,
            Template(&[Field("url"), Text("/"), Field("job_workflow_ref")]),
        ),
        (10, Claim("job_workflow_sha")),
        (11, Claim("runner_environment")),
        (
            12,
            Template(&[Field("url"), Text("/"), Field("repository")]),
        ),
        (13, Claim("sha")),
        (14, Claim("ref")),
        (15, Claim("repository_id")),
        (
            16,
            Template(&[Field("url"), Text("/"), Field("repository_owner")]),
        ),
        (17, Claim("repository_owner_id")),
        (
            18,
            Template(&[Field("url"), Text("/"), Field("workflow_ref")]),
        ),
        (19, Claim("workflow_sha")),
        (20, Claim("event_name")),
        (
            21,
            Template(&[
                Field("url"),
                Text("/"),
                Field("repository"),
                Text("/actions/runs/"),
                Field("run_id"),
                Text("/attempts/"),
                Field("run_attempt"),
            ]),
        ),
        (22, Claim("repository_visibility")),
        (23, Claim("environment")),
    ],
    subject_alternative_name: &[Field("url"), Text("/"), Field("job_workflow_ref")],
};

const GITLAB: CiTemplate = CiTemplate {
    defaults: &[("url", "https://gitlab.com"), ("environment", "")],
    extensions: &[
        (9, Template(&[Text("https://"), Field("ci_config_ref_uri")])),
        (10, Claim("ci_config_sha")),
        (11, Claim("runner_environment")),
        (
            12,
            Template(&[Field("url"), Text("/"), Field("project_path")]),
        ),
        (13, Claim("sha")),
        (
            14,
            Template(&[
                Text("refs/"),
                IfEquals("ref_type", "branch", "heads/", "tags/"),
                Field("ref"),
            ]),
        ),
        (15, Claim("project_id")),
        (
            16,
            Template(&[Field("url"), Text("/"), Field("namespace_path")]),
        ),
        (17, Claim("namespace_id")),
        (
            18,
            Template(&[Text("https://"), Field("ci_config_ref_uri")]),
        ),
        (19, Claim("ci_config_sha")),
        (20, Claim("pipeline_source")),
        (
            21,
            Template(&[
                Field("url"),
                Text("/"),
                Field("project_path"),
                Text("/-/jobs/"),
                Field("job_id"),
            ]),
        ),
        (22, Claim("project_visibility")),
        (23, Claim("environment")),
    ],
    subject_alternative_name: &[Text("https://"), Field("ci_config_ref_uri")],
};

/// The templates of a CI provider kind (`Email` has none).
pub(crate) fn for_kind(kind: ProviderKind) -> &'static CiTemplate {
    match kind {
        ProviderKind::GitLabPipeline => &GITLAB,
        ProviderKind::GitHubWorkflow | ProviderKind::Email => &GITHUB,
    }
}

/// The Go field name of `certificate.Extensions` that holds extension `n`.
fn extension_name(n: u32) -> &'static str {
    match n {
        2 => "GithubWorkflowTrigger",
        3 => "GithubWorkflowSHA",
        4 => "GithubWorkflowName",
        5 => "GithubWorkflowRepository",
        6 => "GithubWorkflowRef",
        9 => "BuildSignerURI",
        10 => "BuildSignerDigest",
        11 => "RunnerEnvironment",
        12 => "SourceRepositoryURI",
        13 => "SourceRepositoryDigest",
        14 => "SourceRepositoryRef",
        15 => "SourceRepositoryIdentifier",
        16 => "SourceRepositoryOwnerURI",
        17 => "SourceRepositoryOwnerIdentifier",
        18 => "BuildConfigURI",
        19 => "BuildConfigDigest",
        20 => "BuildTrigger",
        21 => "RunInvocationURI",
        22 => "SourceRepositoryVisibilityAtSigning",
        23 => "DeploymentEnvironment",
        _ => "SubjectAlternativeName",
    }
}

/// `mapValuesToString`, over the defaults.
fn merged(template: &CiTemplate, claims: &Map<String, Value>) -> Map<String, Value> {
    let mut data: Map<String, Value> = template
        .defaults
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
        .collect();
    for (name, value) in claims {
        let text = match value {
            Value::String(text) => text.clone(),
            Value::Number(number) => number
                .as_i64()
                .map_or_else(|| number.to_string(), |i| i.to_string()),
            other => other.to_string(),
        };
        data.insert(name.clone(), Value::String(text));
    }
    data
}

fn apply(pieces: &[Piece], data: &Map<String, Value>) -> Result<String, String> {
    let field = |name: &str| {
        data.get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                format!(
                    "template: executing \"\" at <.{name}>: map has no entry for key \"{name}\""
                )
            })
    };
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Text(text) => out.push_str(text),
            Field(name) => out.push_str(&field(name)?),
            IfEquals(name, value, then, otherwise) => {
                out.push_str(if field(name)? == *value {
                    then
                } else {
                    otherwise
                });
            }
        }
    }
    Ok(out)
}

impl CiTemplate {
    /// Each extension's value (empty ones are left out of the certificate).
    pub(crate) fn render(
        &self,
        claims: &Map<String, Value>,
        issuer: &str,
    ) -> Result<Vec<(u32, String)>, String> {
        let data = merged(self, claims);
        self.extensions
            .iter()
            .map(|(n, source)| {
                let value = match source {
                    Template(pieces) => apply(pieces, &data)?,
                    Claim(name) => data
                        .get(*name)
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .ok_or_else(|| {
                            format!(
                                "value <{name}> not present in either claims or defaults. {{\n\t\"ExtensionName\": \"{}\",\n\t\"Issuer\": \"{issuer}\"\n}}",
                                extension_name(*n)
                            )
                        })?,
                };
                Ok((*n, value))
            })
            .collect()
    }

    pub(crate) fn subject_alternative_name(
        &self,
        claims: &Map<String, Value>,
        _issuer: &str,
    ) -> Result<String, String> {
        apply(self.subject_alternative_name, &merged(self, claims))
    }
}
