//! What verification found wrong with an artifact, as data: a stable code for scripts,
//! a one-line message naming the exact entry, and a hint with the fix.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How bad a problem is. Errors fail verification; warnings are reported only.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Problem {
    pub severity: Severity,
    /// Stable identifier, e.g. `record-hash-mismatch`. Documented in the README.
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Problem {
    pub fn error(code: &str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code: code.to_owned(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn warning(code: &str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            code: code.to_owned(),
            message: message.into(),
            hint: None,
        }
    }

    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.message, self.code)
    }
}

/// Why an archive member path is unsafe, if it is.
pub fn unsafe_member_path(path: &str) -> Option<&'static str> {
    let bytes = path.as_bytes();
    if path.starts_with('/') || path.starts_with('\\') {
        return Some("is absolute");
    }
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Some("starts with a drive letter");
    }
    if path.split(['/', '\\']).any(|part| part == "..") {
        return Some("has a `..` component");
    }
    if path.contains('\0') {
        return Some("contains a NUL byte");
    }
    None
}

/// Resolves a link `target` written in the member at `member` (archive-relative), and
/// says whether it stays inside `root` (a top directory, or `""` for the whole archive).
pub fn link_stays_inside(member: &str, target: &str, root: &str) -> bool {
    if target.starts_with('/')
        || target.starts_with('\\')
        || unsafe_member_path(target) == Some("starts with a drive letter")
    {
        return false;
    }
    let mut parts: Vec<&str> = member.split('/').filter(|p| !p.is_empty()).collect();
    parts.pop(); // the link's own name
    for part in target.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return false;
                }
            }
            other => parts.push(other),
        }
    }
    let root_parts: Vec<&str> = root.split('/').filter(|p| !p.is_empty()).collect();
    parts.len() >= root_parts.len() && parts[..root_parts.len()] == root_parts[..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_paths() {
        assert_eq!(unsafe_member_path("/etc/passwd"), Some("is absolute"));
        assert_eq!(
            unsafe_member_path("C:/x"),
            Some("starts with a drive letter")
        );
        assert_eq!(
            unsafe_member_path("pkg/../../x"),
            Some("has a `..` component")
        );
        assert_eq!(
            unsafe_member_path("pkg\\..\\x"),
            Some("has a `..` component")
        );
        assert_eq!(unsafe_member_path("pkg/a..b/x.py"), None);
        assert_eq!(unsafe_member_path("pkg/x.py"), None);
    }

    #[test]
    fn links() {
        assert!(link_stays_inside("p-1.0/a/link", "../b/file", "p-1.0"));
        assert!(!link_stays_inside(
            "p-1.0/link",
            "../../etc/passwd",
            "p-1.0"
        ));
        assert!(!link_stays_inside("p-1.0/link", "../other", "p-1.0"));
        assert!(!link_stays_inside("p-1.0/link", "/etc/passwd", "p-1.0"));
        assert!(link_stays_inside("pkg/link", "data.txt", ""));
        assert!(!link_stays_inside("link", "../x", ""));
    }
}
