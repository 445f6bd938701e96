//! Everything a step's library code may touch of the outside world, as one value:
//! environment, working directory, CI context, output and progress. `main` builds it
//! from the real process; tests build it with [`Context::for_test`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use custody_ci::{CiContext, Env};

use crate::{Captured, NoProgress, Output, OutputConfig, Progress};

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
        let ci = CiContext::detect(&env).expect("a test environment names a known CI provider");
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
