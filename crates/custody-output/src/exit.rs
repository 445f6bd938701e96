//! The one exit-code table every custody step uses, so a pipeline can branch on a
//! step's answer the same way whichever step it is.

use std::fmt;
use std::process::ExitCode;

/// How a step ended. The numbers are a public contract: never renumber.
///
/// | code | name | meaning |
/// |---|---|---|
/// | 0 | `success` | the step did its work; the answer is "yes" |
/// | 1 | `no` | the step's "no": verification failed, tests failed, coverage under the threshold, a release rejected, not a release build under `--require-release` |
/// | 2 | `usage` | the command line is wrong (unknown flag, missing argument, conflicting options) |
/// | 3 | `input` | an input file is missing, unreadable or malformed (no such file, empty glob, broken XML or JSON, a manifest that does not parse) |
/// | 4 | `environment` | the world around the step failed: network, server, credentials refused, a CI variable or tool missing, a file that cannot be written |
/// | 5 | `timeout` | waited for a decision or a server and gave up (`approve-gate --timeout`) |
/// | 101 | — | a bug in custody (a Rust panic); please report it |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExitStatus {
    Success,
    No,
    Usage,
    Input,
    Environment,
    Timeout,
}

impl ExitStatus {
    /// Every status, in code order (for documentation and `--help`).
    pub const ALL: [Self; 6] = [
        Self::Success,
        Self::No,
        Self::Usage,
        Self::Input,
        Self::Environment,
        Self::Timeout,
    ];

    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::No => 1,
            Self::Usage => 2,
            Self::Input => 3,
            Self::Environment => 4,
            Self::Timeout => 5,
        }
    }

    /// The stable name used in `--json` output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::No => "no",
            Self::Usage => "usage",
            Self::Input => "input",
            Self::Environment => "environment",
            Self::Timeout => "timeout",
        }
    }

    /// One line for `--help` and the README.
    pub fn meaning(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::No => {
                "the step's \"no\": verification failed, tests failed, threshold not met, release rejected"
            }
            Self::Usage => "usage error: wrong or conflicting arguments",
            Self::Input => "bad input: a file missing, unreadable or malformed",
            Self::Environment => {
                "environment error: network, server, credentials, CI variables, disk"
            }
            Self::Timeout => "timed out waiting for a decision or a server",
        }
    }

    /// The table as plain text, for the `--help` footer of every step.
    pub fn help_table() -> String {
        let mut text = String::from("Exit codes:\n");
        for status in Self::ALL {
            text.push_str(&format!("  {}  {}\n", status.code(), status.meaning()));
        }
        text
    }

    /// The more severe of two statuses, for steps that process several items.
    /// Environment and input problems outrank a plain "no", which outranks success.
    #[must_use]
    pub fn worst(self, other: Self) -> Self {
        fn rank(status: ExitStatus) -> u8 {
            match status {
                ExitStatus::Success => 0,
                ExitStatus::No => 1,
                ExitStatus::Timeout => 2,
                ExitStatus::Input => 3,
                ExitStatus::Environment => 4,
                ExitStatus::Usage => 5,
            }
        }
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_contract() {
        let codes: Vec<u8> = ExitStatus::ALL.iter().map(|s| s.code()).collect();
        assert_eq!(codes, vec![0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn worst_prefers_errors_over_no() {
        assert_eq!(ExitStatus::Success.worst(ExitStatus::No), ExitStatus::No);
        assert_eq!(
            ExitStatus::No.worst(ExitStatus::Environment),
            ExitStatus::Environment
        );
        assert_eq!(ExitStatus::Input.worst(ExitStatus::No), ExitStatus::Input);
    }

    #[test]
    fn help_table_lists_every_code() {
        let table = ExitStatus::help_table();
        for status in ExitStatus::ALL {
            assert!(table.contains(&format!("  {}  ", status.code())), "{table}");
        }
    }
}
