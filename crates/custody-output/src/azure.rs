//! Azure Pipelines logging commands (`##vso[area.action k=v;...]message`), formatted and
//! escaped the way the agent's `CommandStringConvertor` decodes them.

/// Escapes a property value or message. `%` goes first so the escapes we add are not
/// escaped again; the agent decodes `%3B %0D %0A %5D` and then `%AZP25` → `%`.
pub fn escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '%' => escaped.push_str("%AZP25"),
            '\r' => escaped.push_str("%0D"),
            '\n' => escaped.push_str("%0A"),
            ';' => escaped.push_str("%3B"),
            ']' => escaped.push_str("%5D"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// One logging command. `properties` with an empty value are left out, as the agent
/// treats a missing and an empty property alike.
pub fn command(area_action: &str, properties: &[(&str, &str)], message: &str) -> String {
    let mut line = format!("##vso[{area_action}");
    let mut first = true;
    for (key, value) in properties.iter().filter(|(_, value)| !value.is_empty()) {
        line.push(if first { ' ' } else { ';' });
        first = false;
        line.push_str(key);
        line.push('=');
        line.push_str(&escape(value));
    }
    line.push(']');
    line.push_str(&escape(message));
    line
}

/// `##vso[task.logissue type=error|warning;sourcepath=F;linenumber=N]message`.
pub fn log_issue(
    level: IssueLevel,
    file: Option<&str>,
    line: Option<u32>,
    message: &str,
) -> String {
    let line_text = line.map(|l| l.to_string()).unwrap_or_default();
    command(
        "task.logissue",
        &[
            ("type", level.as_str()),
            ("sourcepath", file.unwrap_or_default()),
            ("linenumber", &line_text),
        ],
        message,
    )
}

/// `##vso[task.setvariable variable=NAME;isoutput=true]value`: a variable later steps
/// (and, as an output, later jobs) can read.
pub fn set_variable(name: &str, value: &str, is_secret: bool) -> String {
    command(
        "task.setvariable",
        &[
            ("variable", name),
            ("isoutput", "true"),
            ("issecret", if is_secret { "true" } else { "" }),
        ],
        value,
    )
}

/// `##vso[task.setsecret]value`: masks the value in the rest of the log.
pub fn set_secret(value: &str) -> String {
    command("task.setsecret", &[], value)
}

/// `##vso[build.addbuildtag]tag`.
pub fn add_build_tag(tag: &str) -> String {
    command("build.addbuildtag", &[], tag)
}

/// `##vso[task.uploadsummary]path`: attaches a Markdown file to the run's summary.
pub fn upload_summary(path: &str) -> String {
    command("task.uploadsummary", &[], path)
}

/// `##vso[task.complete result=...]`.
pub fn complete(result: TaskResult, message: &str) -> String {
    command("task.complete", &[("result", result.as_str())], message)
}

/// The two issue levels Azure shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueLevel {
    Error,
    Warning,
}

impl IssueLevel {
    fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
        }
    }
}

/// `task.complete` results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskResult {
    Succeeded,
    SucceededWithIssues,
    Failed,
}

impl TaskResult {
    fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "Succeeded",
            Self::SucceededWithIssues => "SucceededWithIssues",
            Self::Failed => "Failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The agent's decoder (`CommandStringConvertor.Unescape`), to prove round trips.
    fn unescape(value: &str) -> String {
        value
            .replace("%3B", ";")
            .replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%5D", "]")
            .replace("%AZP25", "%")
    }

    #[test]
    fn escapes_every_documented_character() {
        assert_eq!(escape("a;b]c\r\nd%e"), "a%3Bb%5Dc%0D%0Ad%AZP25e");
    }

    #[test]
    fn escaping_round_trips_through_the_agent_decoder() {
        for value in [
            "100%",
            "%3B",
            "x]y;z",
            "line1\nline2\r\n",
            "%AZP25",
            "##vso[task.complete]",
        ] {
            assert_eq!(unescape(&escape(value)), value, "{value}");
        }
    }

    #[test]
    fn a_message_cannot_close_the_command_or_start_a_new_line() {
        let line = log_issue(
            IssueLevel::Error,
            Some("a;b.py"),
            Some(3),
            "boom\n##vso[task.complete result=Failed]",
        );
        assert_eq!(line.lines().count(), 1);
        assert_eq!(
            line,
            "##vso[task.logissue type=error;sourcepath=a%3Bb.py;linenumber=3]boom%0A##vso[task.complete result=Failed%5D"
        );
    }

    #[test]
    fn empty_properties_are_left_out() {
        assert_eq!(
            log_issue(IssueLevel::Warning, None, None, "w"),
            "##vso[task.logissue type=warning]w"
        );
        assert_eq!(
            add_build_tag("Automated"),
            "##vso[build.addbuildtag]Automated"
        );
        assert_eq!(
            set_variable("manifest", "a b", false),
            "##vso[task.setvariable variable=manifest;isoutput=true]a b"
        );
    }
}
