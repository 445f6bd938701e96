//! The shell of every custody binary: `main` calls [`run`] with the step's clap parser
//! and library entry point; this builds the [`Context`] from the real process (the only
//! place that reads the process environment and touches stdout/stderr), draws progress
//! with indicatif on a terminal or as one line per item in CI logs, reports failures
//! with their cause chain and hint, and maps everything to the shared exit codes.

mod failure;
pub mod handoff;
pub mod inputs;
pub mod manifests;
pub mod problems;
mod progress;
pub mod sigstore;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use custody_ci::{CiContext, Env, Provider};
use custody_output::{Context, ExitStatus, NoProgress, Output, OutputConfig, Progress};

pub use failure::{Diagnose, Failure, OutputError, StepResult};
pub use progress::{LineProgress, TerminalProgress};

/// Options every step accepts. Flatten into the step's parser with
/// `#[command(flatten)] global: GlobalArgs`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GlobalArgs {
    /// Print the result as one JSON document on stdout (CI commands move to stderr).
    #[arg(long, global = true)]
    pub json: bool,
    /// Print only errors (and the data asked for).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// The checkout this step describes (default: the working directory). Outside CI,
    /// the commit, branch and tag recorded are this repository's; on CI the CI system's
    /// own variables name them. Paths given to the step stay relative to the working
    /// directory.
    #[arg(long, global = true, value_name = "DIR", env = custody_ci::vars::CUSTODY_SOURCE_DIR)]
    pub source: Option<PathBuf>,
}

/// Help footer shared by every step: the exit-code table and the colour rule.
pub fn after_help(examples: &str) -> String {
    format!(
        "Examples:\n{examples}\n{}\nColour follows NO_COLOR (https://no-color.org) and FORCE_COLOR.",
        ExitStatus::help_table()
    )
}

/// Runs a step: parses `P` from the process arguments, builds the context and calls
/// `step`. Returns the process exit code.
pub fn run<P, F>(step: F) -> ExitCode
where
    P: Parser + HasGlobal,
    F: FnOnce(P, &mut Context) -> StepResult,
{
    let args = match P::try_parse() {
        Ok(args) => args,
        Err(error) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (2).
            let _ = error.print();
            return if error.use_stderr() {
                ExitStatus::Usage.into()
            } else {
                ExitStatus::Success.into()
            };
        }
    };
    let env = Env::from_process();
    let shell = Shell {
        global: args.global().clone(),
        stderr_is_terminal: std::io::stderr().is_terminal(),
    };
    // The output is set up first, for the CI system as far as it is known, so a context
    // that cannot be built is reported like any failure.
    let ci = CiContext::detect(&env);
    let provider = match &ci {
        Ok(ci) => ci.provider,
        Err(_) => Provider::from_variables(&env),
    };
    let mut out = shell.output(&env, provider);
    let ci = match ci {
        Ok(ci) => ci,
        Err(error) => return finish(&mut out, Err(error.into())),
    };
    let cwd = match std::env::current_dir() {
        Ok(cwd) => cwd,
        Err(error) => return finish(&mut out, Err(WorkingDirectory(error).into())),
    };
    let source = match shell.source_dir(&cwd) {
        Ok(source) => source,
        Err(error) => return finish(&mut out, Err(error.into())),
    };
    let mut context = shell.context(env, cwd, &source, ci, out);
    let result = step(args, &mut context);
    finish(&mut context.out, result)
}

/// What the shell knows before the step runs: the global options and the terminal.
struct Shell {
    global: GlobalArgs,
    stderr_is_terminal: bool,
}

impl Shell {
    /// `--source DIR` resolved against `cwd` (default: `cwd`); it must be a directory.
    fn source_dir(&self, cwd: &Path) -> Result<PathBuf, NoSourceDir> {
        let Some(source) = &self.global.source else {
            return Ok(cwd.to_owned());
        };
        let path = cwd.join(source);
        if path.is_dir() {
            Ok(path)
        } else {
            Err(NoSourceDir {
                path: source.clone(),
            })
        }
    }

    /// The step's context: outside CI, the git checkout at `source` fills commit and
    /// ref, and `source` is written into the step's environment as
    /// `CUSTODY_SOURCE_DIR` (resolved), where [`custody_ci::source_dir`] finds it.
    fn context(
        &self,
        mut env: Env,
        cwd: PathBuf,
        source: &Path,
        ci: CiContext,
        out: Output,
    ) -> Context {
        let ci = if ci.is_ci() {
            ci
        } else {
            ci.with_local_git(source)
        };
        if let Some(source) = source.to_str() {
            env.set(custody_ci::vars::CUSTODY_SOURCE_DIR, source);
        }
        Context {
            progress: self.progress(ci.is_ci()),
            interactive: std::io::stdin().is_terminal() && self.stderr_is_terminal,
            env,
            cwd,
            ci,
            out,
        }
    }

    fn output(&self, env: &Env, provider: Provider) -> Output {
        let mut config = OutputConfig::from_env(env, provider, self.stderr_is_terminal);
        config.json = self.global.json;
        config.quiet = self.global.quiet;
        Output::new(
            config,
            Box::new(std::io::stdout()),
            Box::new(std::io::stderr()),
        )
    }

    /// Bars on a terminal, one line per item in CI logs, nothing with `--quiet`.
    fn progress(&self, is_ci: bool) -> Arc<dyn Progress> {
        if self.global.quiet {
            Arc::new(NoProgress)
        } else if self.stderr_is_terminal && !is_ci {
            Arc::new(TerminalProgress::new())
        } else {
            Arc::new(LineProgress::new(is_ci))
        }
    }
}

/// Reports a failure (first line, causes, `hint:` from the error's data) and turns the
/// result into the exit code.
fn finish(out: &mut Output, result: StepResult) -> ExitCode {
    let status = match result {
        Ok(status) => status,
        Err(failure) => {
            let _ = out.report_error(&*failure.error, failure.hint.as_deref());
            failure.status
        }
    };
    let _ = out.flush();
    status.into()
}

/// The process has no readable working directory (it was deleted, or access is denied).
#[derive(Debug, thiserror::Error)]
#[error("cannot read the working directory")]
struct WorkingDirectory(#[source] std::io::Error);

impl Diagnose for WorkingDirectory {
    fn exit_status(&self) -> ExitStatus {
        ExitStatus::Environment
    }
}

/// `--source DIR` (or `CUSTODY_SOURCE_DIR`) names no directory: the step cannot say
/// which checkout it describes.
#[derive(Debug, thiserror::Error)]
#[error("`--source {}` is not a directory", path.display())]
struct NoSourceDir {
    path: PathBuf,
}

impl Diagnose for NoSourceDir {
    fn exit_status(&self) -> ExitStatus {
        ExitStatus::Input
    }

    fn hint(&self) -> Option<String> {
        Some(
            "pass the checkout the package was built from (or unset CUSTODY_SOURCE_DIR)".to_owned(),
        )
    }
}

/// A `CUSTODY_CI_PROVIDER` that names no CI system: wrong usage, caught before the step
/// runs, since the step would otherwise run as if outside CI.
impl Diagnose for custody_ci::UnknownProvider {
    fn exit_status(&self) -> ExitStatus {
        ExitStatus::Usage
    }

    fn hint(&self) -> Option<String> {
        Some(custody_ci::UnknownProvider::hint(self))
    }
}

/// Lets [`run`] find the global options inside a step's parser.
pub trait HasGlobal {
    fn global(&self) -> &GlobalArgs;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(source: Option<&str>) -> Shell {
        Shell {
            global: GlobalArgs {
                source: source.map(PathBuf::from),
                ..GlobalArgs::default()
            },
            stderr_is_terminal: false,
        }
    }

    #[test]
    fn the_source_dir_is_resolved_against_the_working_directory() {
        let cwd = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert_eq!(shell(None).source_dir(cwd).unwrap(), cwd);
        assert_eq!(shell(Some("src")).source_dir(cwd).unwrap(), cwd.join("src"));
        let error = shell(Some("missing")).source_dir(cwd).unwrap_err();
        assert_eq!(error.to_string(), "`--source missing` is not a directory");
        assert_eq!(error.exit_status(), ExitStatus::Input);
        // A file is no checkout either.
        assert!(shell(Some("Cargo.toml")).source_dir(cwd).is_err());
    }
}
