//! The single writer every step talks through: diagnostics and annotations for the CI
//! system it runs under, step outputs, job summaries, plain terminal text and JSON data.
//! Whatever passes through it has registered secrets replaced by `***`.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anstyle::{AnsiColor, Style};
use custody_ci::{Env, Provider, vars};
use serde::Serialize;

use crate::{azure, github, safe};

/// Where the writers go and how text looks. `main` builds it from the real process;
/// tests build it with [`Output::capture`].
#[derive(Debug, Clone)]
pub struct OutputConfig {
    pub provider: Provider,
    /// Colour on stderr (terminal or CI log, and `NO_COLOR` unset).
    pub color: bool,
    /// `--json`: stdout is reserved for one JSON document, so CI commands go to stderr
    /// (both the Azure agent and the GitHub runner read commands from either stream).
    pub json: bool,
    /// `--quiet`: only errors and data.
    pub quiet: bool,
    pub github_output: Option<PathBuf>,
    pub github_summary: Option<PathBuf>,
    /// Where Azure summary files are written before `task.uploadsummary`.
    pub summary_dir: Option<PathBuf>,
}

impl OutputConfig {
    /// The configuration for the current CI context and environment.
    pub fn from_env(env: &Env, provider: Provider, stderr_is_terminal: bool) -> Self {
        let color = env.get(vars::NO_COLOR).is_none()
            && (stderr_is_terminal
                || provider != Provider::None
                || env.get(vars::FORCE_COLOR).is_some());
        Self {
            provider,
            color,
            json: false,
            quiet: false,
            github_output: (provider == Provider::GithubActions)
                .then(|| env.get(vars::GITHUB_OUTPUT).map(PathBuf::from))
                .flatten(),
            github_summary: (provider == Provider::GithubActions)
                .then(|| env.get(vars::GITHUB_STEP_SUMMARY).map(PathBuf::from))
                .flatten(),
            summary_dir: env
                .get(AGENT_TEMPDIRECTORY)
                .map(PathBuf::from)
                .or_else(|| Some(std::env::temp_dir())),
        }
    }
}

/// Azure's per-job temp directory, where summary files belong.
const AGENT_TEMPDIRECTORY: &str = "AGENT_TEMPDIRECTORY";

/// A diagnostic: one line first, optionally a location and a `hint:` with the fix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    pub hint: Option<String>,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub title: Option<String>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            ..Self::default()
        }
    }

    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    #[must_use]
    pub fn at(mut self, file: impl Into<String>, line: Option<u32>) -> Self {
        self.file = Some(file.into());
        self.line = line;
        self
    }

    #[must_use]
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }
}

/// Severity of a diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Notice,
}

/// The step's writer. See the module docs.
pub struct Output {
    config: OutputConfig,
    stdout: Box<dyn Write + Send>,
    stderr: Box<dyn Write + Send>,
    secrets: Vec<String>,
    summary_count: usize,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("config", &self.config)
            .field("secrets", &self.secrets.len())
            .finish_non_exhaustive()
    }
}

/// What a captured [`Output`] wrote, for tests.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

impl Captured {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().expect("not poisoned")).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().expect("not poisoned")).into_owned()
    }
}

struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Output {
    pub fn new(
        config: OutputConfig,
        stdout: Box<dyn Write + Send>,
        stderr: Box<dyn Write + Send>,
    ) -> Self {
        Self {
            config,
            stdout,
            stderr,
            secrets: Vec::new(),
            summary_count: 0,
        }
    }

    /// An output whose streams are kept in memory, for tests.
    pub fn capture(config: OutputConfig) -> (Self, Captured) {
        let captured = Captured::default();
        let output = Self::new(
            config,
            Box::new(SharedBuffer(captured.stdout.clone())),
            Box::new(SharedBuffer(captured.stderr.clone())),
        );
        (output, captured)
    }

    pub fn provider(&self) -> Provider {
        self.config.provider
    }

    pub fn config(&self) -> &OutputConfig {
        &self.config
    }

    /// Switches to `--json` mode (stdout holds only the JSON document).
    pub fn set_json(&mut self, json: bool) {
        self.config.json = json;
    }

    pub fn set_quiet(&mut self, quiet: bool) {
        self.config.quiet = quiet;
    }

    pub fn is_json(&self) -> bool {
        self.config.json
    }

    /// Registers a secret: it is masked by the CI system for the rest of the job and
    /// replaced by `***` in everything written through this output from now on.
    pub fn mask(&mut self, secret: &str) -> io::Result<()> {
        if secret.is_empty() || self.secrets.iter().any(|s| s == secret) {
            return Ok(());
        }
        // Registering with the CI system prints the secret once, which the runner and the
        // agent consume and never show; it must not be redacted itself.
        let command = match self.config.provider {
            Provider::GithubActions => Some(github::add_mask(secret)),
            Provider::AzurePipelines => Some(azure::set_secret(secret)),
            Provider::GitlabCi | Provider::None => None,
        };
        self.secrets.push(secret.to_owned());
        // Longest first, so a secret containing another is replaced whole.
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        if let Some(command) = command {
            let stream = self.command_stream();
            writeln!(stream, "{command}")?;
        }
        Ok(())
    }

    /// Replaces every registered secret in `text` by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.secrets {
            text = text.replace(secret.as_str(), "***");
        }
        text
    }

    fn command_stream(&mut self) -> &mut dyn Write {
        if self.config.json {
            &mut *self.stderr
        } else {
            &mut *self.stdout
        }
    }

    /// Writes a CI command line built by [`azure`] or [`github`]. Its untrusted parts
    /// must already be escaped by those builders.
    pub fn command(&mut self, line: &str) -> io::Result<()> {
        let line = self.redact(line);
        writeln!(self.command_stream(), "{line}")
    }

    /// Data for scripts: written to stdout as is (but redacted).
    pub fn data(&mut self, text: &str) -> io::Result<()> {
        let text = self.redact(text);
        self.stdout.write_all(text.as_bytes())?;
        if !text.ends_with('\n') {
            self.stdout.write_all(b"\n")?;
        }
        self.stdout.flush()
    }

    /// One JSON document on stdout. `#` after `#` is written as the escape `\u0023`,
    /// which every JSON parser reads back as `#`, so a string from untrusted input
    /// (`##vso[…`, `##[…`) cannot become a CI command in a log that shows the document;
    /// `#` occurs only inside JSON strings, so the escape is always valid there. A line
    /// of pretty JSON never starts with `::`.
    pub fn json<T: Serialize + ?Sized>(&mut self, value: &T) -> io::Result<()> {
        let text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
        self.data(&escape_command_markers(&text))
    }

    /// A line of human text on stderr. Untrusted parts are neutralized on CI.
    pub fn info(&mut self, text: &str) -> io::Result<()> {
        if self.config.quiet {
            return Ok(());
        }
        let text = self.safe_text(text);
        writeln!(self.stderr, "{text}")
    }

    /// A line of human text with a leading styled word (`status` in green), like
    /// cargo's `   Compiling x`.
    pub fn status(&mut self, word: &str, text: &str) -> io::Result<()> {
        if self.config.quiet {
            return Ok(());
        }
        let style = Style::new().bold().fg_color(Some(AnsiColor::Green.into()));
        let word = self.paint(style, &format!("{word:>12}"));
        let text = self.safe_text(text);
        writeln!(self.stderr, "{word} {text}")
    }

    /// An error, warning or notice: shown on the terminal and, on CI, raised as an
    /// annotation (`task.logissue` on Azure, `::error` on GitHub) at its location.
    pub fn diagnostic(&mut self, level: Level, diagnostic: &Diagnostic) -> io::Result<()> {
        if self.config.quiet && level != Level::Error {
            return Ok(());
        }
        // Messages and titles carry untrusted text (test names, server answers): break any
        // command marker before escaping, so even the agent's "first marker wins" rule
        // is not what keeps us safe.
        let message = self.safe_text(&diagnostic.message);
        // File names are untrusted too; a real path is left as it is.
        let file = diagnostic.file.as_deref().map(|f| self.safe_text(f));
        let title = diagnostic.title.as_deref().map(|t| self.safe_text(t));
        match self.config.provider {
            Provider::AzurePipelines if level != Level::Notice => {
                let issue = if level == Level::Error {
                    azure::IssueLevel::Error
                } else {
                    azure::IssueLevel::Warning
                };
                let text = match &title {
                    Some(title) => format!("{title}: {message}"),
                    None => message.clone(),
                };
                let line = azure::log_issue(issue, file.as_deref(), diagnostic.line, &text);
                writeln!(self.command_stream(), "{line}")?;
            }
            Provider::GithubActions => {
                let annotation = match level {
                    Level::Error => github::AnnotationLevel::Error,
                    Level::Warning => github::AnnotationLevel::Warning,
                    Level::Notice => github::AnnotationLevel::Notice,
                };
                let line = github::annotation(
                    annotation,
                    file.as_deref(),
                    diagnostic.line,
                    title.as_deref(),
                    &message,
                );
                writeln!(self.command_stream(), "{line}")?;
            }
            _ => {
                let (word, style) = match level {
                    Level::Error => (
                        "error",
                        Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
                    ),
                    Level::Warning => (
                        "warning",
                        Style::new().bold().fg_color(Some(AnsiColor::Yellow.into())),
                    ),
                    Level::Notice => (
                        "note",
                        Style::new().bold().fg_color(Some(AnsiColor::Cyan.into())),
                    ),
                };
                let word = self.paint(style, word);
                let location = match (&file, diagnostic.line) {
                    (Some(file), Some(line)) => format!("{file}:{line}: "),
                    (Some(file), None) => format!("{file}: "),
                    _ => String::new(),
                };
                let prefix = title.map(|t| format!("{t}: ")).unwrap_or_default();
                let location = self.safe_text(&location);
                writeln!(self.stderr, "{word}: {location}{prefix}{message}")?;
            }
        }
        if let Some(hint) = &diagnostic.hint {
            self.hint_line(hint)?;
        }
        Ok(())
    }

    pub fn error(&mut self, diagnostic: &Diagnostic) -> io::Result<()> {
        self.diagnostic(Level::Error, diagnostic)
    }

    pub fn warning(&mut self, diagnostic: &Diagnostic) -> io::Result<()> {
        self.diagnostic(Level::Warning, diagnostic)
    }

    /// Reports a failed run: the first line of the top error (annotated on CI), every
    /// cause after it that the lines above do not already quote, then the `hint`.
    /// The hint is data from the error's owner, never text parsed out of a message.
    pub fn report_error(
        &mut self,
        error: &(dyn std::error::Error + 'static),
        hint: Option<&str>,
    ) -> io::Result<()> {
        let mut lines: Vec<String> = Vec::new();
        let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(err) = current {
            for line in err.to_string().lines() {
                // A cause the message above already quotes adds nothing.
                if !line.trim().is_empty() && !lines.iter().any(|l| l.contains(line)) {
                    lines.push(line.to_owned());
                }
            }
            current = err.source();
        }
        let first = lines
            .first()
            .cloned()
            .unwrap_or_else(|| "unknown error".to_owned());
        self.diagnostic(Level::Error, &Diagnostic::new(first))?;
        for cause in lines.iter().skip(1) {
            let cause = self.safe_text(cause);
            writeln!(self.stderr, "  caused by: {cause}")?;
        }
        if let Some(hint) = hint {
            self.hint_line(hint)?;
        }
        Ok(())
    }

    fn hint_line(&mut self, hint: &str) -> io::Result<()> {
        let word = self.paint(
            Style::new().bold().fg_color(Some(AnsiColor::Cyan.into())),
            "hint",
        );
        let hint = self.safe_text(hint);
        writeln!(self.stderr, "{word}: {hint}")
    }

    /// Sets a step output: `$GITHUB_OUTPUT` on GitHub, an output variable on Azure.
    /// Outside CI there is nowhere to put it; `--json` carries the same values.
    pub fn set_output(&mut self, name: &str, value: &str) -> io::Result<()> {
        let value = self.redact(value);
        match self.config.provider {
            Provider::GithubActions => {
                if let Some(path) = self.config.github_output.clone() {
                    github::append_output(&path, name, &value)?;
                }
                Ok(())
            }
            Provider::AzurePipelines => {
                let line = azure::set_variable(name, &value, false);
                writeln!(self.command_stream(), "{line}")
            }
            Provider::GitlabCi | Provider::None => Ok(()),
        }
    }

    /// Adds Markdown to the run's summary page: `$GITHUB_STEP_SUMMARY` on GitHub, an
    /// uploaded summary file on Azure. Returns where it went. Callers keep the text
    /// under [`github::SUMMARY_LIMIT_BYTES`].
    pub fn summary(&mut self, name: &str, markdown: &str) -> io::Result<Option<PathBuf>> {
        let markdown = self.redact(markdown);
        match self.config.provider {
            Provider::GithubActions => match self.config.github_summary.clone() {
                Some(path) => {
                    github::append_summary(&path, &markdown)?;
                    Ok(Some(path))
                }
                None => Ok(None),
            },
            Provider::AzurePipelines => {
                let Some(dir) = self.config.summary_dir.clone() else {
                    return Ok(None);
                };
                self.summary_count += 1;
                let path = dir.join(format!(
                    "{name}-summary-{}-{}.md",
                    std::process::id(),
                    self.summary_count
                ));
                fs_err::write(&path, markdown.as_bytes())?;
                let line = azure::upload_summary(&path.to_string_lossy());
                writeln!(self.command_stream(), "{line}")?;
                Ok(Some(path))
            }
            Provider::GitlabCi | Provider::None => Ok(None),
        }
    }

    /// Starts a collapsible log group (`::group::` / `##[group]`).
    pub fn group(&mut self, title: &str) -> io::Result<()> {
        let title = self.safe_text(title);
        match self.config.provider {
            Provider::GithubActions => writeln!(
                self.command_stream(),
                "::group::{}",
                github::escape_data(&title)
            ),
            Provider::AzurePipelines => writeln!(self.command_stream(), "##[group]{title}"),
            Provider::GitlabCi | Provider::None => Ok(()),
        }
    }

    pub fn end_group(&mut self) -> io::Result<()> {
        match self.config.provider {
            Provider::GithubActions => writeln!(self.command_stream(), "::endgroup::"),
            Provider::AzurePipelines => writeln!(self.command_stream(), "##[endgroup]"),
            Provider::GitlabCi | Provider::None => Ok(()),
        }
    }

    /// Styles `text` when colour is on.
    pub fn paint(&self, style: Style, text: &str) -> String {
        if self.config.color {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_owned()
        }
    }

    /// Redacts secrets and, on CI, neutralizes command markers in untrusted text.
    /// On a plain terminal only control characters are neutralized.
    pub fn safe_text(&self, text: &str) -> String {
        let text = self.redact(text);
        safe::neutralize(&text)
    }

    /// Flushes both streams.
    pub fn flush(&mut self) -> io::Result<()> {
        self.stdout.flush()?;
        self.stderr.flush()
    }
}

/// `json` with every `#` that follows a `#` escaped as `\u0023`.
fn escape_command_markers(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut previous_hash = false;
    for c in json.chars() {
        if c == '#' && previous_hash {
            out.push_str("\\u0023");
            previous_hash = false;
            continue;
        }
        previous_hash = c == '#';
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(provider: Provider) -> OutputConfig {
        OutputConfig {
            provider,
            color: false,
            json: false,
            quiet: false,
            github_output: None,
            github_summary: None,
            summary_dir: None,
        }
    }

    #[test]
    fn secrets_are_masked_and_redacted() {
        let (mut out, captured) = Output::capture(config(Provider::GithubActions));
        out.mask("pypi-AgEIcHlwaS5vcmc").unwrap();
        out.info("uploading with pypi-AgEIcHlwaS5vcmc").unwrap();
        out.error(&Diagnostic::new("server said pypi-AgEIcHlwaS5vcmc is bad"))
            .unwrap();
        assert_eq!(
            captured.stdout().lines().next(),
            Some("::add-mask::pypi-AgEIcHlwaS5vcmc")
        );
        let rest: String = captured
            .stdout()
            .lines()
            .skip(1)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(!rest.contains("AgEI"), "{rest}");
        assert!(!captured.stderr().contains("AgEI"), "{}", captured.stderr());
        assert!(
            captured
                .stdout()
                .contains("::error::server said *** is bad")
        );
    }

    #[test]
    fn azure_diagnostic_is_a_logissue_with_location() {
        let (mut out, captured) = Output::capture(config(Provider::AzurePipelines));
        out.error(
            &Diagnostic::new("boom")
                .at("tests/test_a.py", Some(7))
                .hint("fix it"),
        )
        .unwrap();
        assert_eq!(
            captured.stdout(),
            "##vso[task.logissue type=error;sourcepath=tests/test_a.py;linenumber=7]boom\n"
        );
        assert_eq!(captured.stderr(), "hint: fix it\n");
    }

    #[test]
    fn json_documents_cannot_carry_ci_commands_and_read_back_unchanged() {
        let mut cfg = config(Provider::AzurePipelines);
        cfg.json = true;
        let (mut out, captured) = Output::capture(cfg);
        let evil = serde_json::json!({
            "name": "x\n##vso[task.complete result=Failed]",
            "##[error]key": "###vso[ ####[ ::error::x",
            "lines": ["::add-mask::x", "#"],
        });
        out.json(&evil).unwrap();
        let text = captured.stdout();
        for line in text.lines() {
            assert!(!crate::safe::looks_like_command(line), "{line}");
        }
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, evil);
    }

    #[test]
    fn json_mode_moves_commands_to_stderr() {
        let mut cfg = config(Provider::AzurePipelines);
        cfg.json = true;
        let (mut out, captured) = Output::capture(cfg);
        out.set_output("digest", "sha256:1").unwrap();
        out.json(&serde_json::json!({"ok": true})).unwrap();
        assert_eq!(captured.stdout(), "{\n  \"ok\": true\n}\n");
        assert!(
            captured
                .stderr()
                .contains("##vso[task.setvariable variable=digest;isoutput=true]sha256:1")
        );
    }

    #[test]
    fn untrusted_text_cannot_inject_commands() {
        for provider in [
            Provider::AzurePipelines,
            Provider::GithubActions,
            Provider::None,
        ] {
            let (mut out, captured) = Output::capture(config(provider));
            let evil = "test_x\n::add-mask::x\n##vso[task.complete result=Failed]";
            out.info(evil).unwrap();
            out.error(&Diagnostic::new(evil).hint(evil)).unwrap();
            for line in captured.stderr().lines() {
                assert!(!safe::looks_like_command(line), "{provider:?}: {line}");
            }
            // On CI the annotation itself is the line's one command; the rest is inert.
            for line in captured.stdout().lines() {
                assert!(
                    line.starts_with("##vso[task.logissue") || line.starts_with("::error"),
                    "{line}"
                );
                let body = line[2..].to_ascii_lowercase();
                assert!(!body.contains("##vso[") && !body.contains("##["), "{line}");
            }
        }
    }

    #[test]
    fn report_error_prints_chain_then_hint() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("cannot read `dist/a.whl`")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let inner = std::io::Error::other("No such file or directory");
        let (mut out, captured) = Output::capture(config(Provider::None));
        out.report_error(&Outer(inner), Some("run the build first"))
            .unwrap();
        assert_eq!(
            captured.stderr(),
            "error: cannot read `dist/a.whl`\n  caused by: No such file or directory\nhint: run the build first\n"
        );
    }

    #[test]
    fn hint_text_inside_a_message_is_not_parsed_as_a_hint() {
        // Untrusted text (a server's answer) that happens to hold "hint: " stays a cause.
        let error = std::io::Error::other("refused\nhint: send me your token");
        let (mut out, captured) = Output::capture(config(Provider::None));
        out.report_error(&error, None).unwrap();
        assert_eq!(
            captured.stderr(),
            "error: refused\n  caused by: hint: send me your token\n"
        );
    }

    #[test]
    fn a_cause_quoted_in_the_message_is_not_repeated() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "`a.json` is not a manifest: {}", self.0)
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let (mut out, captured) = Output::capture(config(Provider::None));
        let inner = std::io::Error::other("missing field `name`");
        out.report_error(&Outer(inner), None).unwrap();
        assert_eq!(
            captured.stderr(),
            "error: `a.json` is not a manifest: missing field `name`\n"
        );
    }

    #[test]
    fn github_outputs_and_summary_go_to_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(Provider::GithubActions);
        cfg.github_output = Some(dir.path().join("output"));
        cfg.github_summary = Some(dir.path().join("summary"));
        let (mut out, _captured) = Output::capture(cfg);
        out.set_output("manifest", "dist/manifest.json").unwrap();
        out.summary("collect", "| a | b |").unwrap();
        assert_eq!(
            fs_err::read_to_string(dir.path().join("output")).unwrap(),
            "manifest=dist/manifest.json\n"
        );
        assert_eq!(
            fs_err::read_to_string(dir.path().join("summary")).unwrap(),
            "| a | b |\n"
        );
    }

    #[test]
    fn azure_summary_is_uploaded_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(Provider::AzurePipelines);
        cfg.summary_dir = Some(dir.path().to_owned());
        let (mut out, captured) = Output::capture(cfg);
        let path = out.summary("collect", "# Artifacts").unwrap().unwrap();
        assert_eq!(fs_err::read_to_string(&path).unwrap(), "# Artifacts");
        assert!(captured.stdout().starts_with("##vso[task.uploadsummary]"));
    }

    #[test]
    fn no_color_turns_colour_off() {
        let env = Env::from_pairs([("NO_COLOR", "1")]);
        assert!(!OutputConfig::from_env(&env, Provider::None, true).color);
        assert!(OutputConfig::from_env(&Env::default(), Provider::None, true).color);
        assert!(!OutputConfig::from_env(&Env::default(), Provider::None, false).color);
    }
}
