//! What every custody step needs to know about where it runs: the environment as a
//! value, and the CI context (provider, commit, ref, pull request, build link, job).

mod context;
mod context_json;
mod env;
mod git_ref;
mod provider;
mod secret;
pub mod vars;

pub use context::{CiContext, PullRequest, source_dir};
pub use env::Env;
pub use git_ref::GitRef;
pub use provider::{Provider, UnknownProvider};
pub use secret::{SecretValue, unexpanded_macro};
