//! How custody steps talk to people and CI systems: one exit-code table, Azure logging
//! commands and GitHub workflow commands with their escaping, step outputs, job
//! summaries, terminal text, JSON, secret masking, and the neutralizing of untrusted
//! text so it can never start a CI command.

pub mod azure;
mod context;
mod exit;
pub mod github;
mod output;
pub mod safe;
pub mod text;

pub use context::Context;
pub use custody_progress::{NoProgress, Progress};
pub use exit::ExitStatus;
pub use output::{Captured, Diagnostic, Level, Output, OutputConfig};
