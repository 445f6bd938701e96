//! Everything a step's library code may touch of the outside world, as one value:
//! environment, working directory, CI context, output and progress. `main` builds it
//! from the real process; tests build it with [`Context::for_test`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use custody_ci::{CiContext, Env};

use crate::{Captured, ExitStatus, NoProgress, Output, OutputConfig, Progress};

/// A step's view of the world.
pub struct Context {
    pub env: Env,
    pub cwd: PathBuf,
    pub ci: CiContext,
    pub out: Output,
    pub progress: Arc<dyn Progress>,
    /// Whether a person can answer prompts (stdin and stderr are terminals).
    pub interactive: bool,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("cwd", &self.cwd)
            .field("ci", &self.ci)
            .field("interactive", &self.interactive)
            .finish_non_exhaustive()
    }
}

impl Context {
    /// A context over `env` rooted at `cwd`, with captured output and no progress.
    pub fn for_test(env: Env, cwd: &Path) -> (Self, Captured) {
        let ci = CiContext::detect(&env);
        let mut config = OutputConfig::from_env(&env, ci.provider, false);
        config.color = false;
        config.summary_dir = Some(cwd.to_owned());
        let (out, captured) = Output::capture(config);
        let context = Self {
            env,
            cwd: cwd.to_owned(),
            ci,
            out,
            progress: Arc::new(NoProgress),
            interactive: false,
        };
        (context, captured)
    }

    /// `path` as people should see it: relative to the working directory when inside it.
    pub fn display(&self, path: &Path) -> String {
        match path.strip_prefix(&self.cwd) {
            Ok(relative) if relative.as_os_str().is_empty() => ".".to_owned(),
            Ok(relative) => relative.display().to_string(),
            Err(_) => path.display().to_string(),
        }
    }

    /// `path` resolved against the working directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        let joined = if path.is_absolute() {
            path.to_owned()
        } else {
            self.cwd.join(path)
        };
        joined
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect()
    }
}

/// Errors that know which exit status they mean.
pub trait Classify {
    fn exit_status(&self) -> ExitStatus;
}

/// A failed step: the error to report and the exit status to end with.
#[derive(Debug)]
pub struct Failure {
    pub status: ExitStatus,
    pub error: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl Failure {
    pub fn new(
        status: ExitStatus,
        error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self {
            status,
            error: error.into(),
        }
    }

    /// Bad input: a missing or malformed file.
    pub fn input(error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self::new(ExitStatus::Input, error)
    }

    /// The environment failed: I/O, network, server.
    pub fn environment(
        error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self::new(ExitStatus::Environment, error)
    }

    /// Wrong usage that clap could not catch (conflicting values, bad combinations).
    pub fn usage(error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self::new(ExitStatus::Usage, error)
    }

    /// The step's "no", with an explanation.
    pub fn no(error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self::new(ExitStatus::No, error)
    }
}

impl<E> From<E> for Failure
where
    E: Classify + std::error::Error + Send + Sync + 'static,
{
    fn from(error: E) -> Self {
        Self {
            status: error.exit_status(),
            error: Box::new(error),
        }
    }
}

/// What a step's `run` returns: the exit status of a completed run (which may be the
/// step's "no"), or a failure to report.
pub type StepResult = Result<ExitStatus, Failure>;
