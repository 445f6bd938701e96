//! The shell of every custody binary: `main` calls [`run`] with the step's clap parser
//! and library entry point; this builds the [`Context`] from the real process (the only
//! place that reads the process environment and touches stdout/stderr), draws progress
//! with indicatif on a terminal or as one line per item in CI logs, reports failures
//! with their cause chain and hint, and maps everything to the shared exit codes.

mod failure;
pub mod inputs;
pub mod manifests;
pub mod problems;
mod progress;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use custody_ci::{CiContext, Env};
use custody_output::{Context, ExitStatus, NoProgress, Output, OutputConfig, Progress};

pub use failure::{Diagnose, Failure, StepResult};
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
    let cwd = match std::env::current_dir() {
        Ok(cwd) => cwd,
        Err(error) => {
            let _ = writeln_stderr(&format!(
                "error: cannot read the working directory: {error}"
            ));
            return ExitStatus::Environment.into();
        }
    };
    let global = args.global().clone();
    let ci = CiContext::detect(&env);
    let ci = if ci.is_ci() {
        ci
    } else {
        ci.with_local_git(&cwd)
    };
    let stderr_is_terminal = std::io::stderr().is_terminal();
    let mut config = OutputConfig::from_env(&env, ci.provider, stderr_is_terminal);
    config.json = global.json;
    config.quiet = global.quiet;
    let out = Output::new(
        config,
        Box::new(std::io::stdout()),
        Box::new(std::io::stderr()),
    );
    let progress: Arc<dyn Progress> = if global.quiet {
        Arc::new(NoProgress)
    } else if stderr_is_terminal && !ci.is_ci() {
        Arc::new(TerminalProgress::new())
    } else {
        Arc::new(LineProgress::new(ci.is_ci()))
    };
    let interactive = std::io::stdin().is_terminal() && stderr_is_terminal;
    let mut context = Context {
        env,
        cwd,
        ci,
        out,
        progress,
        interactive,
    };
    let status = match step(args, &mut context) {
        Ok(status) => status,
        Err(failure) => {
            let _ = context
                .out
                .report_error(&*failure.error, failure.hint.as_deref());
            failure.status
        }
    };
    let _ = context.out.flush();
    status.into()
}

fn writeln_stderr(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    writeln!(std::io::stderr(), "{text}")
}

/// Lets [`run`] find the global options inside a step's parser.
pub trait HasGlobal {
    fn global(&self) -> &GlobalArgs;
}
