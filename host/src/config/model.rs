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
    /// The plugin's own configuration.
    pub config: Option<Spanned<BTreeMap<SpannedStr, Spanned<toml::Value>>>>,
}
