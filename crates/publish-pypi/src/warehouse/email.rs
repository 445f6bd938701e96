//! `Author-email` and `Maintainer-email`: Warehouse takes the first address of the
//! field (`email.utils.parseaddr`) and checks it with `email-validator`'s syntax rules
//! (`validate_email(address, check_deliverability=False)`): a dot-atom local part of at
//! most 64 characters (no quoted local parts), a domain with a dot, labels of
//! letters/digits/hyphens up to 63 characters, a top-level domain ending in a letter,
//! and no special-use domain (`arpa`, `invalid`, `local`, `localhost`, `onion`, `test`).
//! A field without an address (`Jane Doe`, `UNKNOWN`) is refused: `parseaddr` returns
//! its first word, which has no `@`-sign. Only the first address of a list is checked,
//! as `parseaddr` on the Python of the differential test (3.11.7) does; the "strict"
//! `parseaddr` of Python >= 3.11.10/3.12.6/3.13 returns nothing for a list, and then
//! Warehouse checks no address at all.

use custody_dist::Problem;
use custody_dist::metadata::CoreMetadata;

use super::refusal;

const SPECIAL_USE_DOMAINS: [&str; 6] = ["arpa", "invalid", "local", "localhost", "onion", "test"];
const LOCAL_PART_LIMIT: usize = 64;
const DOMAIN_LIMIT: usize = 253;
const LABEL_LIMIT: usize = 63;
/// RFC 5322 `atext` besides letters and digits.
const ATEXT_SYMBOLS: &str = "!#$%&'*+-/=?^_`{|}~";

pub(super) fn check(metadata: &CoreMetadata, problems: &mut Vec<Problem>) {
    for field in ["Author-email", "Maintainer-email"] {
        let Some(value) = metadata.value(field) else {
            continue;
        };
        let address = first_address(value);
        if address.is_empty() {
            continue;
        }
        if let Err(reason) = validate(address) {
            problems.push(
                refusal("pypi-email", field, format!("`{address}` is not a valid email address: {reason}"))
                    .hint("write `Name <user@example.org>` entries in `authors`/`maintainers` of pyproject.toml, or drop the email"),
            );
        }
    }
}

/// The address `email.utils.parseaddr` finds first: the part in `<…>` of the first
/// comma-separated entry, or the entry itself (its first word: `parseaddr` stops there).
fn first_address(value: &str) -> &str {
    let mut quoted = false;
    let mut angle = false;
    let mut end = value.len();
    for (index, c) in value.char_indices() {
        match c {
            '"' if !angle => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                end = index;
                break;
            }
            _ => {}
        }
    }
    let entry = value[..end].trim();
    if let Some(start) = entry.rfind('<') {
        let inner = &entry[start + 1..];
        return inner.split('>').next().unwrap_or_default().trim();
    }
    entry.split_whitespace().next().unwrap_or_default()
}

fn validate(address: &str) -> Result<(), String> {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return Err("it has no @-sign".to_owned());
    };
    validate_local(local)?;
    validate_domain(domain)
}

fn validate_local(local: &str) -> Result<(), String> {
    if local.is_empty() {
        return Err("there is nothing before the @-sign".to_owned());
    }
    if local.chars().count() > LOCAL_PART_LIMIT {
        return Err(format!(
            "the part before the @-sign is longer than {LOCAL_PART_LIMIT} characters"
        ));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err("the part before the @-sign has a misplaced period".to_owned());
    }
    let is_atext = |c: char| {
        c.is_ascii_alphanumeric()
            || ATEXT_SYMBOLS.contains(c)
            || c == '.'
            || (!c.is_ascii() && c.is_alphanumeric())
    };
    match local.chars().find(|c| !is_atext(*c)) {
        Some(c) => Err(format!("the part before the @-sign contains `{c}`")),
        None => Ok(()),
    }
}

fn validate_domain(domain: &str) -> Result<(), String> {
    let domain = domain.to_lowercase();
    if domain.is_empty() {
        return Err("there is nothing after the @-sign".to_owned());
    }
    if domain.len() > DOMAIN_LIMIT {
        return Err(format!(
            "the part after the @-sign is longer than {DOMAIN_LIMIT} characters"
        ));
    }
    for label in domain.split('.') {
        let valid_chars = label.chars().all(|c| {
            c.is_ascii_alphanumeric() || c == '-' || (!c.is_ascii() && c.is_alphanumeric())
        });
        if label.is_empty() || label.starts_with('-') || label.ends_with('-') || !valid_chars {
            return Err(format!(
                "the part after the @-sign has an invalid label `{label}`"
            ));
        }
        if label.len() > LABEL_LIMIT {
            return Err(format!(
                "a label after the @-sign is longer than {LABEL_LIMIT} characters"
            ));
        }
        if label.get(2..4) == Some("--") && !label.starts_with("xn") {
            return Err(format!(
                "the label `{label}` has two dashes in third and fourth place"
            ));
        }
    }
    if !domain.contains('.') {
        return Err("the part after the @-sign should have a period".to_owned());
    }
    if !domain.ends_with(|c: char| c.is_alphabetic()) {
        return Err("the part after the @-sign is not within a valid top-level domain".to_owned());
    }
    if SPECIAL_USE_DOMAINS
        .iter()
        .any(|special| domain == *special || domain.ends_with(&format!(".{special}")))
    {
        return Err("the part after the @-sign is a special-use or reserved name".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_address_is_the_one_parseaddr_finds() {
        assert_eq!(
            first_address("Jane <jane@example.org>, Joe <joe@x.org>"),
            "jane@example.org"
        );
        assert_eq!(first_address("\"Doe, J\" <j@x.com>"), "j@x.com");
        assert_eq!(first_address("a@x.com, b@y.org"), "a@x.com");
        assert_eq!(first_address("<>"), "");
    }

    #[test]
    fn email_validator_rules() {
        assert!(validate("jane@example.org").is_ok());
        assert!(validate("jane.doe+pypi@sub.example.co.uk").is_ok());
        for bad in [
            "jane",
            "jane@localhost",
            "jane@x.test",
            "@x.org",
            "a..b@x.org",
            "a@x",
            "a@x.123",
            "a b@x.org",
            "a@-x.org",
            "a@ab--c.org",
        ] {
            assert!(validate(bad).is_err(), "{bad}");
        }
    }
}
