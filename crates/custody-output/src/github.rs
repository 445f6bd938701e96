//! GitHub Actions workflow commands (`::error file=F,line=N::message`), the
//! `$GITHUB_OUTPUT` file format (with the multi-line delimiter form) and job summaries.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// Escapes a command's message (the runner's `EscapeData`).
pub fn escape_data(value: &str) -> String {
    value
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property (the runner's `EscapeProperty`): also `:` and `,`,
/// which would end the property.
pub fn escape_property(value: &str) -> String {
    escape_data(value).replace(':', "%3A").replace(',', "%2C")
}

/// One workflow command. Properties with an empty value are left out.
pub fn command(name: &str, properties: &[(&str, &str)], message: &str) -> String {
    let mut line = format!("::{name}");
    let mut first = true;
    for (key, value) in properties.iter().filter(|(_, value)| !value.is_empty()) {
        line.push(if first { ' ' } else { ',' });
        first = false;
        line.push_str(key);
        line.push('=');
        line.push_str(&escape_property(value));
    }
    line.push_str("::");
    line.push_str(&escape_data(message));
    line
}

/// The three annotation levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnotationLevel {
    Error,
    Warning,
    Notice,
}

impl AnnotationLevel {
    fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Notice => "notice",
        }
    }
}

/// `::error file=F,line=N,title=T::message`.
pub fn annotation(
    level: AnnotationLevel,
    file: Option<&str>,
    line: Option<u32>,
    title: Option<&str>,
    message: &str,
) -> String {
    let line_text = line.map(|l| l.to_string()).unwrap_or_default();
    command(
        level.as_str(),
        &[
            ("file", file.unwrap_or_default()),
            ("line", &line_text),
            ("title", title.unwrap_or_default()),
        ],
        message,
    )
}

/// `::add-mask::value`: the runner replaces the value with `***` in the rest of the log.
pub fn add_mask(value: &str) -> String {
    command("add-mask", &[], value)
}

/// Appends `name=value` to a `$GITHUB_OUTPUT`/`$GITHUB_ENV` file, using the
/// `name<<DELIMITER` form when the value spans lines. The delimiter is random and
/// checked against the value, so a value can never end the block early and set
/// another output.
pub fn append_output(path: &Path, name: &str, value: &str) -> std::io::Result<()> {
    let mut file = fs_err::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let entry = output_entry(name, value);
    file.write_all(entry.as_bytes())
}

fn output_entry(name: &str, value: &str) -> String {
    if value.contains('\n') || value.contains('\r') {
        let mut delimiter = random_delimiter(value);
        while value.contains(&delimiter) {
            delimiter = random_delimiter(&delimiter);
        }
        format!("{name}<<{delimiter}\n{value}\n{delimiter}\n")
    } else {
        format!("{name}={value}\n")
    }
}

fn random_delimiter(seed: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = Sha256::new();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.update(nanos.to_le_bytes());
    hasher.update(std::process::id().to_le_bytes());
    hasher.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    hasher.update(seed.as_bytes());
    format!("ghadelimiter_{}", &hex::encode(hasher.finalize())[..32])
}

/// Appends Markdown to `$GITHUB_STEP_SUMMARY`.
pub fn append_summary(path: &Path, markdown: &str) -> std::io::Result<()> {
    let mut file = fs_err::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(markdown.as_bytes())?;
    if !markdown.ends_with('\n') {
        file.write_all(b"\n")?;
    }
    Ok(())
}

/// GitHub refuses a step summary over 1 MiB; stay below it with room to spare.
pub const SUMMARY_LIMIT_BYTES: usize = 1024 * 1024 - 16 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotation_escapes_properties_and_message() {
        let line = annotation(
            AnnotationLevel::Error,
            Some("tests/a,b.py"),
            Some(12),
            Some("test::x"),
            "50% failed\nsecond line",
        );
        assert_eq!(
            line,
            "::error file=tests/a%2Cb.py,line=12,title=test%3A%3Ax::50%25 failed%0Asecond line"
        );
    }

    #[test]
    fn empty_properties_are_left_out() {
        assert_eq!(
            annotation(AnnotationLevel::Warning, None, None, None, "w"),
            "::warning::w"
        );
        assert_eq!(add_mask("s3cret"), "::add-mask::s3cret");
    }

    #[test]
    fn single_line_output() {
        assert_eq!(output_entry("digest", "sha256:ab"), "digest=sha256:ab\n");
    }

    #[test]
    fn multi_line_output_uses_a_delimiter_absent_from_the_value() {
        let entry = output_entry("table", "a\nb");
        let mut lines = entry.lines();
        let header = lines.next().unwrap();
        let delimiter = header.strip_prefix("table<<").unwrap();
        assert!(delimiter.starts_with("ghadelimiter_"));
        assert_eq!(lines.next(), Some("a"));
        assert_eq!(lines.next(), Some("b"));
        assert_eq!(lines.next(), Some(delimiter));
        assert_eq!(lines.next(), None);
    }

    #[test]
    fn files_are_appended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        append_output(&path, "a", "1").unwrap();
        append_output(&path, "b", "2").unwrap();
        assert_eq!(fs_err::read_to_string(&path).unwrap(), "a=1\nb=2\n");
    }
}
