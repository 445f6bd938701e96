//! Makes untrusted text (test names, failure messages, file names, package metadata)
//! safe to echo into a CI log, where the Azure agent runs `##vso[` found anywhere in a
//! line, the GitHub runner runs `::cmd::` at the start of a line and its legacy `##[cmd]`
//! anywhere, and terminal escape sequences could hide or rewrite what was printed.

/// Zero-width space: invisible in logs, not whitespace to .NET's `TrimStart`, so it
/// breaks a command marker without changing what a reader sees.
const BREAK: char = '\u{200B}';

/// Returns `text` with every CI command marker broken and control characters (other
/// than tab and newline) shown as Unicode control pictures.
///
/// - every `##` gets a zero-width space between the two `#`, which defeats Azure's
///   `##vso[` and GitHub's `##[` in any case and at any position;
/// - a line whose first non-blank characters are `::` gets one between the colons;
/// - `\r` counts as a line break for that rule, as terminals treat it so;
/// - ESC and the other C0 controls become `␛` and friends, so no colour or cursor
///   sequence from the input reaches the log.
pub fn neutralize(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut at_line_start = true;
    let mut previous: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\r' => {
                out.push(c);
                at_line_start = true;
                previous = Some(c);
                continue;
            }
            '#' if previous == Some('#') => out.push(BREAK),
            ':' if at_line_start && chars.peek() == Some(&':') => {
                out.push(':');
                out.push(BREAK);
                at_line_start = false;
                previous = Some(BREAK);
                continue;
            }
            _ => {}
        }
        if c == '\t' || !c.is_control() {
            out.push(c);
        } else {
            out.push(control_picture(c));
        }
        if !(c == ' ' || c == '\t') {
            at_line_start = false;
        }
        previous = Some(c);
    }
    out
}

/// `name` (a file, entry or link target name) on one line: a newline or any other control
/// character in it is shown escaped (`\n`), so a name cannot forge a line of output.
/// [`neutralize`] (which `Output` applies) still breaks command markers in what remains.
pub fn one_line(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn control_picture(c: char) -> char {
    let code = u32::from(c);
    match code {
        0..=0x1f => char::from_u32(0x2400 + code).unwrap_or('\u{FFFD}'),
        0x7f => '\u{2421}',
        _ => '\u{FFFD}',
    }
}

/// Whether a log line would be taken as a command by either CI system; used by tests
/// across the workspace to prove that echoed text is inert.
pub fn looks_like_command(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    lower.contains("##vso[") || lower.contains("##[") || line.trim_start().starts_with("::")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_kept_on_one_line() {
        assert_eq!(
            one_line("a\n::error::x\r\t\u{1b}[2J"),
            "a\\n::error::x\\r\\t\\u{1b}[2J"
        );
        assert_eq!(one_line("démo-1.0.tar.gz"), "démo-1.0.tar.gz");
    }

    #[test]
    fn azure_marker_anywhere_is_broken() {
        let text = neutralize("test_x ##vso[task.setvariable variable=PYPI_PASSWORD]x");
        assert!(!looks_like_command(&text), "{text}");
        assert_eq!(
            text.replace(BREAK, ""),
            "test_x ##vso[task.setvariable variable=PYPI_PASSWORD]x"
        );
    }

    #[test]
    fn mixed_case_markers_are_broken() {
        assert!(!looks_like_command(&neutralize(
            "##VSO[task.complete result=Failed]"
        )));
    }

    #[test]
    fn github_command_at_line_start_is_broken() {
        for input in [
            "::add-mask::x",
            "  ::error::boom",
            "ok\n::set-output name=a::b",
            "a\r::warning::w",
        ] {
            let text = neutralize(input);
            for line in text.split(['\n', '\r']) {
                assert!(!looks_like_command(line), "{input:?} -> {line:?}");
            }
        }
    }

    #[test]
    fn github_legacy_marker_is_broken() {
        assert!(!looks_like_command(&neutralize("x ##[add-mask]secret")));
    }

    #[test]
    fn double_colon_elsewhere_is_kept() {
        assert_eq!(
            neutralize("tests/test_a.py::TestX::test_y"),
            "tests/test_a.py::TestX::test_y"
        );
    }

    #[test]
    fn control_characters_are_shown_not_executed() {
        let text = neutralize("red\u{1b}[31m\u{7}");
        assert!(!text.contains('\u{1b}'));
        assert_eq!(text, "red\u{241b}[31m\u{2407}");
    }

    #[test]
    fn plain_text_is_unchanged() {
        let input = "clkhash-0.18.3-py3-none-any.whl: 12 files\n\tok";
        assert_eq!(neutralize(input), input);
    }
}
