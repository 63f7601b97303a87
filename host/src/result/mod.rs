//! What one check run produced: the `CheckResult` every later stage (state, store,
//! report, gate) reads. Plain data, independent of wasmtime and of storage.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

pub use crate::plan::Status;

pub mod state;

use state::Event;

/// Why a check did not end `ok` (the closed set of the WIT contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// Name resolution failed.
    Dns,
    /// The connection could not be established.
    Connect,
    /// The TLS handshake or certificate failed.
    Tls,
    /// The check or a host call ran out of time.
    Timeout,
    /// An unexpected HTTP status code.
    HttpStatus,
    /// The response did not match an assertion or a threshold.
    Assertion,
    /// The peer broke the expected protocol.
    Protocol,
    /// The sandbox refused a capability the check was not granted.
    Denied,
    /// The plugin failed: bad config, trap, panic, limit breach.
    PluginError,
}

impl Reason {
    /// Every reason, in WIT order.
    pub const ALL: [Reason; 9] = [
        Reason::Dns,
        Reason::Connect,
        Reason::Tls,
        Reason::Timeout,
        Reason::HttpStatus,
        Reason::Assertion,
        Reason::Protocol,
        Reason::Denied,
        Reason::PluginError,
    ];

    /// The kebab-case word used in output and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Dns => "dns",
            Reason::Connect => "connect",
            Reason::Tls => "tls",
            Reason::Timeout => "timeout",
            Reason::HttpStatus => "http-status",
            Reason::Assertion => "assertion",
            Reason::Protocol => "protocol",
            Reason::Denied => "denied",
            Reason::PluginError => "plugin-error",
        }
    }

    /// Parses the word written by [`Reason::as_str`].
    pub fn parse(word: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == word)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a state is confirmed (HARD) or still being retried (SOFT), as in Icinga.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StateType {
    /// Not confirmed yet: the check is being retried.
    Soft,
    /// Confirmed: retries are exhausted, or the state recovered.
    Hard,
}

impl StateType {
    /// The lowercase word used in output and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            StateType::Soft => "soft",
            StateType::Hard => "hard",
        }
    }

    /// Parses the word written by [`StateType::as_str`].
    pub fn parse(word: &str) -> Option<StateType> {
        [StateType::Soft, StateType::Hard].into_iter().find(|s| s.as_str() == word)
    }
}

impl fmt::Display for StateType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state a result produced: its type and the attempt it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StateInfo {
    /// SOFT or HARD.
    #[serde(rename = "type")]
    pub kind: StateType,
    /// The attempt number (1 for the first failure; counts up while SOFT).
    pub attempt: u32,
}

/// One measured value with its perfdata attributes.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Metric {
    /// Metric name (`time_total`).
    pub name: String,
    /// The value.
    pub value: f64,
    /// Unit of measure (`ms`, `B`, `%`, or empty).
    pub unit: String,
    /// Warning range, Monitoring Plugins syntax.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn: Option<String>,
    /// Critical range, Monitoring Plugins syntax.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crit: Option<String>,
    /// Smallest possible value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest possible value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

impl Metric {
    /// A value without thresholds nor bounds.
    pub fn plain(name: impl Into<String>, value: f64, unit: impl Into<String>) -> Metric {
        Metric { name: name.into(), value, unit: unit.into(), warn: None, crit: None, min: None, max: None }
    }
}

/// The prefix of the metrics that are timings (`time_total`, `time_dns`, `time_connect`…).
pub const TIMING_PREFIX: &str = "time_";

/// One run of one check, as stored and reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    /// The check's unique name in the config.
    pub check: String,
    /// The plugin that ran (built-in name or file path).
    pub plugin: String,
    /// The plugin's own version, as it described itself.
    pub plugin_version: String,
    /// What the check is about (URL or host:port).
    pub target: String,
    /// When the run started, in milliseconds since the Unix epoch.
    pub started_at_ms: i64,
    /// How long the run took, sandbox set-up included.
    #[serde(rename = "duration_ms", serialize_with = "serialize_millis")]
    pub duration: Duration,
    /// The outcome.
    pub status: Status,
    /// One line for a person.
    pub summary: String,
    /// Why the check is not ok.
    pub reason: Option<Reason>,
    /// Measured values.
    pub metrics: Vec<Metric>,
    /// Longer text, when the plugin gave some.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// The state this result produced, once the state machine has seen it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<StateInfo>,
}

fn serialize_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0)
}

impl CheckResult {
    /// The result with only its timings kept: start, duration, status, state, and its
    /// `time_*` metrics (name, value and unit; no thresholds nor bounds). Every other field is
    /// empty. What the time-weighted figures and latency sketches of a report read.
    pub fn into_timings(self) -> CheckResult {
        let metrics = self.metrics.into_iter().map(|m| (m.name, m.value, m.unit));
        CheckResult::timings(self.started_at_ms, self.duration, self.status, self.state, metrics)
    }

    /// A result of only timings (see [`CheckResult::into_timings`]): the `time_*` ones of
    /// `metrics` (name, value, unit) are kept, without thresholds.
    pub fn timings(
        started_at_ms: i64,
        duration: Duration,
        status: Status,
        state: Option<StateInfo>,
        metrics: impl IntoIterator<Item = (String, f64, String)>,
    ) -> CheckResult {
        CheckResult {
            check: String::new(),
            plugin: String::new(),
            plugin_version: String::new(),
            target: String::new(),
            started_at_ms,
            duration,
            status,
            summary: String::new(),
            reason: None,
            metrics: metrics
                .into_iter()
                .filter(|(name, _, _)| name.starts_with(TIMING_PREFIX))
                .map(|(name, value, unit)| Metric::plain(name, value, unit))
                .collect(),
            details: None,
            state,
        }
    }

    /// The result recorded when the host itself failed while running a check (a panic in
    /// Vitals, not in the plugin): `unknown`, pointing at the log.
    pub fn host_failure(check: &str, plugin: &str, plugin_version: &str, target: &str) -> CheckResult {
        CheckResult {
            check: check.to_string(),
            plugin: plugin.to_string(),
            plugin_version: plugin_version.to_string(),
            target: target.to_string(),
            started_at_ms: 0,
            duration: Duration::ZERO,
            status: Status::Unknown,
            summary: "vitals failed while running this check (see the log)".into(),
            reason: Some(Reason::PluginError),
            metrics: Vec::new(),
            details: None,
            state: None,
        }
    }
}

/// The worst status of a set of results (`ok` for none), which is the exit status of a run.
pub fn worst_status<'a>(results: impl IntoIterator<Item = &'a CheckResult>) -> Status {
    results.into_iter().fold(Status::Ok, |acc, r| acc.worst(r.status))
}

/// A state-change event, with the check it belongs to and the summary that caused it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// The check's name.
    pub check: String,
    /// What changed.
    pub event: Event,
    /// The summary of the result that caused it.
    pub summary: String,
}

impl CheckResult {
    /// `HTTP OK - summary | time_total=3.2ms;500;2000;0` as Nagios expects: the plugin's
    /// name, the status word, the summary (`|` made `/`) and the perfdata.
    pub fn plugin_line(&self, plugin: &str) -> String {
        let summary = self.summary.replace('|', "/");
        let mut line = format!("{} {} - {summary}", plugin.to_uppercase(), self.status.as_plugin_word());
        if !self.metrics.is_empty() {
            line.push_str(" |");
            for m in &self.metrics {
                line.push(' ');
                line.push_str(&perfdata(m));
            }
        }
        line
    }
}

/// One metric as a perfdata item: `'label'=value[unit];warn;crit;min;max`, empty trailing
/// fields left out.
fn perfdata(m: &Metric) -> String {
    let label =
        if m.name.contains([' ', '=', '\'']) { format!("'{}'", m.name.replace('\'', "")) } else { m.name.clone() };
    let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let text = format!(
        "{label}={}{};{};{};{};{}",
        m.value,
        m.unit,
        m.warn.as_deref().unwrap_or(""),
        m.crit.as_deref().unwrap_or(""),
        num(m.min),
        num(m.max)
    );
    text.trim_end_matches(';').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_is_the_worst_exit_code_and_ok_the_best() {
        assert_eq!(Status::Ok.worst(Status::Warning), Status::Warning);
        assert_eq!(Status::Critical.worst(Status::Unknown), Status::Unknown);
        assert_eq!(Status::Unknown.worst(Status::Critical), Status::Unknown);
        assert_eq!(Status::Critical.exit_code(), 2);
    }

    #[test]
    fn words_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(r));
        }
    }
}

/// Results for unit tests.
#[cfg(test)]
pub(crate) mod fixture {
    use std::time::Duration;

    use super::{CheckResult, Metric, Status};

    /// A metric in milliseconds, without thresholds.
    pub fn ms(name: &str, value: f64) -> Metric {
        Metric::plain(name, value, "ms")
    }

    /// A result of `check` at `at_ms` with `status` and `metrics`, no state.
    pub fn result(check: &str, at_ms: i64, status: Status, metrics: Vec<Metric>) -> CheckResult {
        CheckResult {
            check: check.into(),
            plugin: "http".into(),
            plugin_version: "0.1.0".into(),
            target: "t".into(),
            started_at_ms: at_ms,
            duration: Duration::from_millis(1),
            status,
            summary: String::new(),
            reason: None,
            metrics,
            details: None,
            state: None,
        }
    }
}
