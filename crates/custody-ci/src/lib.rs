//! What every custody step needs to know about where it runs: the environment as a
//! value, and the CI context (provider, commit, ref, pull request, build link, job).

mod context;
mod env;
pub mod vars;

pub use context::{CiContext, Provider, PullRequest};
pub use env::Env;
