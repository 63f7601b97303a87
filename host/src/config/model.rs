//! The configuration file as written: serde structures that mirror `checks.toml`, with
//! the span of every value kept so that later errors can point at it.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_spanned::Spanned;

/// A string with its position in the file.
pub type SpannedStr = Spanned<String>;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Values every check inherits unless it sets its own.
    #[serde(default)]
    pub defaults: RawDefaults,
    /// The `[[check]]` tables.
    #[serde(default, rename = "check")]
    pub checks: Vec<Spanned<RawCheck>>,
    /// The `[[notifier]]` tables.
    #[serde(default, rename = "notifier")]
    pub notifiers: Vec<Spanned<RawNotifier>>,
    /// The `[gate]` table of `vitals gate`.
    #[serde(default)]
    pub gate: RawGate,
    /// The `[store]` table.
    #[serde(default)]
    pub store: RawStore,
    /// The `[[maintenance]]` tables.
    #[serde(default, rename = "maintenance")]
    pub maintenance: Vec<Spanned<RawMaintenance>>,
}

/// `[store]`: how results are kept.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    /// How long raw results are kept (hourly rollups are kept for good).
    pub retention: Option<SpannedStr>,
}

/// One `[[maintenance]]` table: planned downtime excluded from availability.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMaintenance {
    /// A name for reports.
    pub name: Option<SpannedStr>,
    /// When a one-off window starts (RFC 3339).
    pub start: Option<SpannedStr>,
    /// When a recurring window starts.
    pub cron: Option<SpannedStr>,
    /// The time zone `cron` is read in (default UTC).
    pub timezone: Option<SpannedStr>,
    /// How long each window lasts.
    pub duration: SpannedStr,
    /// The checks it covers by name.
    pub checks: Option<Vec<SpannedStr>>,
    /// The checks it covers by tag.
    pub tags: Option<Vec<SpannedStr>>,
}

/// The `[gate]` table: the conditions `vitals gate` tests.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGate {
    /// Conditions such as `"p95(web) < 300ms"`.
    #[serde(default)]
    pub conditions: Vec<SpannedStr>,
}

/// One `[[notifier]]` table: a notification plugin that receives state changes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNotifier {
    /// Unique name.
    pub name: SpannedStr,
    /// Built-in notifier name (`webhook`) or path to a `.wasm` component.
    pub plugin: SpannedStr,
    /// What the notifier talks to (URL or `host:port`); the plugin may reach it.
    pub target: SpannedStr,
    /// Time limit of one delivery, the plugin's own retries included.
    pub timeout: Option<SpannedStr>,
    /// Sandbox memory cap.
    pub memory: Option<SpannedStr>,
    /// Extra `host:port` the plugin may reach.
    pub allow: Option<Vec<SpannedStr>>,
    /// The plugin's own configuration.
    pub config: Option<Spanned<BTreeMap<SpannedStr, Spanned<toml::Value>>>>,
}

/// The `[defaults]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDefaults {
    /// Deadline of one run (`"10s"`).
    pub timeout: Option<SpannedStr>,
    /// Status of a run that hits its deadline (`"critical"` or `"unknown"`).
    pub timeout_status: Option<SpannedStr>,
    /// How often checks run (`"60s"`).
    pub interval: Option<SpannedStr>,
    /// Sandbox memory cap (`"64MiB"`).
    pub memory: Option<SpannedStr>,
    /// Tags added to every check.
    pub tags: Option<Vec<SpannedStr>>,
    /// Extra `host:port` grants for every check.
    pub allow: Option<Vec<SpannedStr>>,
    /// Cron expression instead of an interval.
    pub cron: Option<SpannedStr>,
    /// Time zone of cron expressions (IANA name).
    pub timezone: Option<SpannedStr>,
    /// Random delay added to each run, below the interval.
    pub jitter: Option<SpannedStr>,
    /// Further attempts before a failure becomes HARD.
    pub retries: Option<Spanned<i64>>,
    /// Delay between retries of a failing check.
    pub retry_interval: Option<SpannedStr>,
    /// Consecutive ok results that turn a HARD problem into a HARD recovery.
    pub recover_after: Option<Spanned<i64>>,
    /// Flapping starts above this state-change percentage.
    pub flap_high: Option<Spanned<f64>>,
    /// Flapping stops below this state-change percentage.
    pub flap_low: Option<Spanned<f64>>,
    /// Most runs at once against one target host.
    pub max_per_host: Option<Spanned<i64>>,
    /// Service level objective, e.g. `"99.9%"`.
    pub slo: Option<SpannedStr>,
    /// The rolling window of the objective (`"30d"`).
    pub slo_window: Option<SpannedStr>,
}

/// One `[[check]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCheck {
    /// Unique name.
    pub name: SpannedStr,
    /// Built-in plugin name or path to a `.wasm` component.
    pub plugin: SpannedStr,
    /// URL or `host:port` the check is about.
    pub target: SpannedStr,
    /// Deadline of one run.
    pub timeout: Option<SpannedStr>,
    /// Status of a run that hits its deadline.
    pub timeout_status: Option<SpannedStr>,
    /// How often the check runs.
    pub interval: Option<SpannedStr>,
    /// Sandbox memory cap.
    pub memory: Option<SpannedStr>,
    /// Labels.
    pub tags: Option<Vec<SpannedStr>>,
    /// Extra `host:port` the plugin may reach.
    pub allow: Option<Vec<SpannedStr>>,
    /// Cron expression instead of an interval.
    pub cron: Option<SpannedStr>,
    /// Time zone of the cron expression.
    pub timezone: Option<SpannedStr>,
    /// Random delay added to each run.
    pub jitter: Option<SpannedStr>,
    /// Further attempts before a failure becomes HARD.
    pub retries: Option<Spanned<i64>>,
    /// Delay between retries.
    pub retry_interval: Option<SpannedStr>,
    /// Consecutive ok results that end a HARD problem.
    pub recover_after: Option<Spanned<i64>>,
    /// Flapping start threshold, percent.
    pub flap_high: Option<Spanned<f64>>,
    /// Flapping stop threshold, percent.
    pub flap_low: Option<Spanned<f64>>,
    /// Service level objective, e.g. `"99.9%"`.
    pub slo: Option<SpannedStr>,
    /// The rolling window of the objective.
    pub slo_window: Option<SpannedStr>,
    /// The plugin's own configuration.
    pub config: Option<Spanned<BTreeMap<SpannedStr, Spanned<toml::Value>>>>,
}
