//! Every environment variable name custody reads, in one place, so a reader can see at a
//! glance what a step depends on and tests can build recorded environments from them.

// Azure Pipelines predefined variables.
pub const TF_BUILD: &str = "TF_BUILD";
pub const BUILD_SOURCEBRANCH: &str = "BUILD_SOURCEBRANCH";
pub const BUILD_SOURCEBRANCHNAME: &str = "BUILD_SOURCEBRANCHNAME";
pub const BUILD_SOURCEVERSION: &str = "BUILD_SOURCEVERSION";
pub const BUILD_REASON: &str = "BUILD_REASON";
pub const BUILD_BUILDID: &str = "BUILD_BUILDID";
pub const BUILD_BUILDNUMBER: &str = "BUILD_BUILDNUMBER";
pub const BUILD_REPOSITORY_NAME: &str = "BUILD_REPOSITORY_NAME";
pub const BUILD_REPOSITORY_PROVIDER: &str = "BUILD_REPOSITORY_PROVIDER";
pub const BUILD_REQUESTEDFOR: &str = "BUILD_REQUESTEDFOR";
pub const BUILD_REQUESTEDFOREMAIL: &str = "BUILD_REQUESTEDFOREMAIL";
pub const SYSTEM_COLLECTIONURI: &str = "SYSTEM_COLLECTIONURI";
pub const SYSTEM_TEAMFOUNDATIONCOLLECTIONURI: &str = "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI";
pub const SYSTEM_TEAMPROJECT: &str = "SYSTEM_TEAMPROJECT";
pub const SYSTEM_JOBDISPLAYNAME: &str = "SYSTEM_JOBDISPLAYNAME";
pub const AGENT_JOBNAME: &str = "AGENT_JOBNAME";
pub const SYSTEM_PULLREQUEST_PULLREQUESTNUMBER: &str = "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER";
pub const SYSTEM_PULLREQUEST_PULLREQUESTID: &str = "SYSTEM_PULLREQUEST_PULLREQUESTID";
pub const SYSTEM_PULLREQUEST_SOURCEBRANCH: &str = "SYSTEM_PULLREQUEST_SOURCEBRANCH";
pub const SYSTEM_PULLREQUEST_TARGETBRANCH: &str = "SYSTEM_PULLREQUEST_TARGETBRANCH";
pub const SYSTEM_PULLREQUEST_SOURCECOMMITID: &str = "SYSTEM_PULLREQUEST_SOURCECOMMITID";
pub const SYSTEM_PULLREQUEST_ISFORK: &str = "SYSTEM_PULLREQUEST_ISFORK";
pub const SYSTEM_PULLREQUEST_SOURCEREPOSITORYURI: &str = "SYSTEM_PULLREQUEST_SOURCEREPOSITORYURI";
pub const SYSTEM_DEFAULTWORKINGDIRECTORY: &str = "SYSTEM_DEFAULTWORKINGDIRECTORY";

// GitHub Actions default variables.
pub const GITHUB_ACTIONS: &str = "GITHUB_ACTIONS";
pub const GITHUB_SHA: &str = "GITHUB_SHA";
pub const GITHUB_REF: &str = "GITHUB_REF";
pub const GITHUB_REF_NAME: &str = "GITHUB_REF_NAME";
pub const GITHUB_REF_TYPE: &str = "GITHUB_REF_TYPE";
pub const GITHUB_HEAD_REF: &str = "GITHUB_HEAD_REF";
pub const GITHUB_BASE_REF: &str = "GITHUB_BASE_REF";
pub const GITHUB_EVENT_NAME: &str = "GITHUB_EVENT_NAME";
pub const GITHUB_EVENT_PATH: &str = "GITHUB_EVENT_PATH";
pub const GITHUB_REPOSITORY: &str = "GITHUB_REPOSITORY";
pub const GITHUB_SERVER_URL: &str = "GITHUB_SERVER_URL";
pub const GITHUB_API_URL: &str = "GITHUB_API_URL";
pub const GITHUB_RUN_ID: &str = "GITHUB_RUN_ID";
pub const GITHUB_RUN_NUMBER: &str = "GITHUB_RUN_NUMBER";
pub const GITHUB_RUN_ATTEMPT: &str = "GITHUB_RUN_ATTEMPT";
pub const GITHUB_JOB: &str = "GITHUB_JOB";
pub const GITHUB_WORKFLOW: &str = "GITHUB_WORKFLOW";
pub const GITHUB_ACTOR: &str = "GITHUB_ACTOR";
pub const GITHUB_TRIGGERING_ACTOR: &str = "GITHUB_TRIGGERING_ACTOR";
pub const GITHUB_OUTPUT: &str = "GITHUB_OUTPUT";
pub const GITHUB_STEP_SUMMARY: &str = "GITHUB_STEP_SUMMARY";
pub const GITHUB_ENV: &str = "GITHUB_ENV";
pub const GITHUB_TOKEN: &str = "GITHUB_TOKEN";
pub const ACTIONS_ID_TOKEN_REQUEST_URL: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
pub const ACTIONS_ID_TOKEN_REQUEST_TOKEN: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";

// GitLab CI predefined variables.
pub const GITLAB_CI: &str = "GITLAB_CI";
pub const CI_COMMIT_SHA: &str = "CI_COMMIT_SHA";
pub const CI_COMMIT_TAG: &str = "CI_COMMIT_TAG";
pub const CI_COMMIT_BRANCH: &str = "CI_COMMIT_BRANCH";
pub const CI_COMMIT_REF_NAME: &str = "CI_COMMIT_REF_NAME";
pub const CI_DEFAULT_BRANCH: &str = "CI_DEFAULT_BRANCH";
pub const CI_PIPELINE_SOURCE: &str = "CI_PIPELINE_SOURCE";
pub const CI_PIPELINE_ID: &str = "CI_PIPELINE_ID";
pub const CI_PIPELINE_URL: &str = "CI_PIPELINE_URL";
pub const CI_JOB_NAME: &str = "CI_JOB_NAME";
pub const CI_JOB_ID: &str = "CI_JOB_ID";
pub const CI_PROJECT_PATH: &str = "CI_PROJECT_PATH";
pub const CI_SERVER_URL: &str = "CI_SERVER_URL";
pub const GITLAB_USER_LOGIN: &str = "GITLAB_USER_LOGIN";
pub const CI_MERGE_REQUEST_IID: &str = "CI_MERGE_REQUEST_IID";
pub const CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: &str = "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME";
pub const CI_MERGE_REQUEST_TARGET_BRANCH_NAME: &str = "CI_MERGE_REQUEST_TARGET_BRANCH_NAME";
pub const CI_MERGE_REQUEST_SOURCE_BRANCH_SHA: &str = "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA";
pub const CI_MERGE_REQUEST_SOURCE_PROJECT_ID: &str = "CI_MERGE_REQUEST_SOURCE_PROJECT_ID";
pub const CI_MERGE_REQUEST_PROJECT_ID: &str = "CI_MERGE_REQUEST_PROJECT_ID";
pub const CI_MERGE_REQUEST_SOURCE_PROJECT_PATH: &str = "CI_MERGE_REQUEST_SOURCE_PROJECT_PATH";

// Generic.
pub const CI: &str = "CI";
/// <https://no-color.org>: any non-empty value turns colour off.
pub const NO_COLOR: &str = "NO_COLOR";
/// Forces colour on even when output is not a terminal (CI logs render ANSI).
pub const FORCE_COLOR: &str = "FORCE_COLOR";
/// Overrides provider detection: `azure`, `github`, `gitlab` or `none` (or the long names
/// `azure-pipelines`, `github-actions`, `gitlab-ci`), in any case.
pub const CUSTODY_CI_PROVIDER: &str = "CUSTODY_CI_PROVIDER";
/// The checkout a step describes (every step's `--source DIR`): outside CI, commit and
/// ref are read from its git repository instead of the working directory's.
pub const CUSTODY_SOURCE_DIR: &str = "CUSTODY_SOURCE_DIR";

// Credentials read by the publishing steps.
pub const PYPI_LOGIN: &str = "PYPI_LOGIN";
pub const PYPI_PASSWORD: &str = "PYPI_PASSWORD";
pub const TWINE_USERNAME: &str = "TWINE_USERNAME";
pub const TWINE_PASSWORD: &str = "TWINE_PASSWORD";
pub const TWINE_REPOSITORY_URL: &str = "TWINE_REPOSITORY_URL";
pub const CODECOV_TOKEN: &str = "CODECOV_TOKEN";
