//! `License-Expression` the way `packaging.licenses.canonicalize_license_expression`
//! reads it (Warehouse refuses what it refuses): SPDX identifiers and exceptions
//! compared case-insensitively (deprecated ones allowed), a `+` suffix on any license,
//! `LicenseRef-[A-Za-z0-9.-]+`, `AND`/`OR`/`WITH` in any case, balanced parentheses.
//! The identifier lists are the `spdx` crate's (SPDX list 3.29 in spdx 0.13.6;
//! packaging 26.4 ships 3.27). Plus Warehouse's rule that `License` and
//! `License-Expression` do not go together.

use custody_dist::Problem;
use custody_dist::metadata::CoreMetadata;

use super::refusal;

const OPERATORS: [&str; 3] = ["and", "or", "with"];
/// `packaging.licenses._MAX_PARENTHESIS_DEPTH`.
const MAX_DEPTH: usize = 200;

pub(super) fn check(metadata: &CoreMetadata, problems: &mut Vec<Problem>) {
    let expression = metadata.value("License-Expression");
    if let Some(text) = expression
        && let Err(reason) = validate(text)
    {
        problems.push(
            refusal("pypi-license-expression", "License-Expression", format!("`{text}` is not a valid SPDX expression: {reason}"))
                .hint("use SPDX identifiers from https://spdx.org/licenses/ joined by AND/OR (e.g. `MIT OR Apache-2.0`), or `LicenseRef-Name` for your own licence"),
        );
    }
    if expression.is_some_and(|e| !e.is_empty())
        && metadata.value("License").is_some_and(|l| !l.is_empty())
    {
        problems.push(
            refusal("pypi-license-both", "License", "is deprecated when `License-Expression` is present; PyPI refuses the pair")
                .hint("keep only `license = \"SPDX expression\"` in pyproject.toml and drop the `License ::` text"),
        );
    }
}

fn validate(text: &str) -> Result<(), String> {
    let padded = text.replace('(', " ( ").replace(')', " ) ");
    let tokens: Vec<String> = padded.split_whitespace().map(str::to_lowercase).collect();
    if tokens.is_empty() || !syntax_is_valid(&tokens) {
        return Err("the operators and parentheses do not form an expression".to_owned());
    }
    let mut after_license = false;
    for (index, token) in tokens.iter().enumerate() {
        let token = token.as_str();
        if token == "(" || token == ")" || OPERATORS.contains(&token) {
            let next_is_name = tokens.get(index + 1).is_some_and(|t| !is_punctuation(t));
            if token == "with" && (!after_license || !next_is_name) {
                return Err("`WITH` must join a license and an exception".to_owned());
            }
            after_license = false;
            continue;
        }
        if index > 0 && tokens[index - 1] == "with" {
            if !spdx::identifiers::EXCEPTIONS
                .iter()
                .any(|e| e.name.eq_ignore_ascii_case(token))
            {
                return Err(format!("unknown license exception `{token}`"));
            }
            after_license = false;
            continue;
        }
        check_license(token)?;
        after_license = true;
    }
    Ok(())
}

fn is_punctuation(token: &str) -> bool {
    token == "(" || token == ")" || OPERATORS.contains(&token)
}

fn check_license(token: &str) -> Result<(), String> {
    let (name, plus) = token
        .strip_suffix('+')
        .map_or((token, false), |n| (n, true));
    if let Some(reference) = name.strip_prefix("licenseref-") {
        let valid = !plus
            && !reference.is_empty()
            && reference
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        return if valid {
            Ok(())
        } else {
            Err(format!("invalid license reference `{token}`"))
        };
    }
    if spdx::identifiers::LICENSES
        .iter()
        .any(|l| l.name.eq_ignore_ascii_case(name))
    {
        Ok(())
    } else {
        Err(format!("unknown license `{name}`"))
    }
}

/// `packaging.licenses._validate_expression_syntax`: names and operators alternate,
/// parentheses balance, the expression ends with a name or a closed group.
fn syntax_is_valid(tokens: &[String]) -> bool {
    let mut depth = 0usize;
    let mut expect_operand = true;
    for token in tokens {
        match token.as_str() {
            "(" => {
                if !expect_operand || depth >= MAX_DEPTH {
                    return false;
                }
                depth += 1;
            }
            ")" => {
                if expect_operand || depth == 0 {
                    return false;
                }
                depth -= 1;
            }
            t if OPERATORS.contains(&t) => {
                if expect_operand {
                    return false;
                }
                expect_operand = true;
            }
            _ => {
                if !expect_operand {
                    return false;
                }
                expect_operand = false;
            }
        }
    }
    !expect_operand && depth == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_as_packaging_reads_them() {
        for good in [
            "MIT",
            "mit or apache-2.0",
            "(MIT AND BSD-3-Clause) OR Apache-2.0",
            "GPL-2.0-only WITH Classpath-exception-2.0",
            "LicenseRef-Proprietary",
            "Apache-2.0+",
        ] {
            assert_eq!(validate(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "(MIT",
            "MIT OR",
            "MIT Apache-2.0",
            "Use-it-after-midnight",
            "MIT WITH Nonsense",
            "LicenseRef-a_b",
            "MIT WITH",
            "LicenseRef-x+",
        ] {
            assert!(validate(bad).is_err(), "{bad}");
        }
    }
}
