//! The four statuses of the Monitoring Plugins contract: the vocabulary every stage
//! shares, from a check's `timeout_status` in the plan to the exit code of a run.

use std::fmt;

use serde::Serialize;

/// The outcome of a check, ordered from best to worst by severity.
///
/// The order is the Monitoring Plugins one used for exit codes, except that `unknown`
/// ranks above `critical` only for the exit code; see [`Status::exit_code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The service works as expected.
    Ok,
    /// Degraded or over a warning threshold.
    Warning,
    /// Down, or over a critical threshold.
    Critical,
    /// The state could not be determined.
    Unknown,
}

impl Status {
    /// Every status, best first.
    pub const ALL: [Status; 4] = [Status::Ok, Status::Warning, Status::Critical, Status::Unknown];

    /// The lowercase word used in output and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Critical => "critical",
            Status::Unknown => "unknown",
        }
    }

    /// The upper-case word of the Monitoring Plugins output format.
    pub fn as_plugin_word(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warning => "WARNING",
            Status::Critical => "CRITICAL",
            Status::Unknown => "UNKNOWN",
        }
    }

    /// The Monitoring Plugins exit code: 0 ok, 1 warning, 2 critical, 3 unknown.
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Warning => 1,
            Status::Critical => 2,
            Status::Unknown => 3,
        }
    }

    /// Parses the lowercase word written by [`Status::as_str`].
    pub fn parse(word: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == word)
    }

    /// The worse of two statuses, by exit code (unknown is the worst).
    pub fn worst(self, other: Status) -> Status {
        if other.exit_code() > self.exit_code() { other } else { self }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
