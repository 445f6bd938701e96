//! Project names (PEP 508 validity, PEP 503 normalization, the wheel/sdist file-name
//! escaping) and PEP 440 versions, via `pep440_rs`.

use std::str::FromStr;

pub use pep440_rs::{Version, VersionParseError};

/// PEP 503 normalization: lowercase, and every run of `-`, `_`, `.` becomes one `-`.
pub fn normalize(name: &str) -> String {
    let mut normalized = String::with_capacity(name.len());
    let mut in_separator_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator_run {
                normalized.push('-');
            }
            in_separator_run = true;
        } else {
            normalized.push(c.to_ascii_lowercase());
            in_separator_run = false;
        }
    }
    normalized
}

/// The name as it must appear in wheel and PEP 625 sdist file names: normalized, with
/// `_` instead of `-`.
pub fn file_name_form(name: &str) -> String {
    normalize(name).replace('-', "_")
}

/// Whether `name` is a valid project name (PEP 508: ASCII letters and digits, with
/// `.`, `_`, `-` inside).
pub fn is_valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Parses a PEP 440 version (surrounding whitespace ignored).
pub fn parse_version(text: &str) -> Result<Version, VersionParseError> {
    Version::from_str(text.trim())
}

/// Whether two version strings are the same PEP 440 version after normalization
/// (`1.0-rc1` and `1.0rc1`, `1.0` and `1.0.0`). Unparseable strings compare as text.
pub fn same_version(a: &str, b: &str) -> bool {
    match (parse_version(a), parse_version(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_follows_pep_503() {
        assert_eq!(normalize("Friendly-Bard"), "friendly-bard");
        assert_eq!(normalize("FRIENDLY-BARD"), "friendly-bard");
        assert_eq!(normalize("friendly.bard"), "friendly-bard");
        assert_eq!(normalize("friendly_bard"), "friendly-bard");
        assert_eq!(normalize("friendly--bard"), "friendly-bard");
        assert_eq!(normalize("FrIeNdLy-._.-bArD"), "friendly-bard");
        assert_eq!(file_name_form("Friendly.Bard"), "friendly_bard");
    }

    #[test]
    fn name_validity() {
        assert!(is_valid_name("clkhash"));
        assert!(is_valid_name("zope.interface"));
        assert!(is_valid_name("a"));
        assert!(!is_valid_name("-lead"));
        assert!(!is_valid_name("trail_"));
        assert!(!is_valid_name("sp ace"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("ünicode"));
    }

    #[test]
    fn versions_compare_after_normalization() {
        assert!(same_version("1.0-rc1", "1.0rc1"));
        assert!(same_version("v0.18.3", "0.18.3"));
        assert!(same_version("1.0", "1.0.0"));
        assert!(!same_version("0.18.3", "0.18.4"));
        assert_eq!(parse_version("1.0.POST2").unwrap().to_string(), "1.0.post2");
        assert!(parse_version("not a version").is_err());
    }
}
