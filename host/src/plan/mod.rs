//! The validated plan: every check resolved to a plugin, a target, grants, limits and
//! a config, with nothing left stringly typed. Built by `config`, read by every later
//! stage. The bottom of the house: it imports nothing else of the crate.

pub mod describe;
mod diagnostic;
pub mod grants;
mod maintenance;
mod names;
mod policy;
pub mod schedule;
mod slo;
mod status;
mod store;

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use diagnostic::{Diagnostic, SourceFile, closest, suggest};
pub use grants::Grants;
pub use maintenance::{Maintenance, Recurrence};
pub use names::{NameKind, UnknownName};
pub use policy::StatePolicy;
pub use schedule::Schedule;
pub use slo::{Slo, Window};
pub use status::Status;
pub use store::PostgresSpec;

/// The largest memory cap: the size of one pooled memory slot.
pub const MAX_MEMORY: u64 = 4 << 30;

/// How much network one run may use: connection attempts (every `tcp.connect` and every
/// `http.send`) and refused calls. Past either, the run ends `unknown` saying which budget
/// it exceeded, so a plugin in a loop can neither flood a target nor probe the grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetBudget {
    /// Connection attempts per run.
    pub connections: u32,
    /// Refused calls (for lack of a grant) per run.
    pub refusals: u32,
}

impl NetBudget {
    /// The defaults: 64 connection attempts and 16 refused calls per run
    /// (`connections_per_run`, `refusals_per_run`).
    pub const DEFAULT: NetBudget = NetBudget { connections: 64, refusals: 16 };
}

impl Default for NetBudget {
    fn default() -> Self {
        NetBudget::DEFAULT
    }
}

/// The longest duration Vitals accepts anywhere: an interval, a timeout, a retention, a
/// report's `--since` or a gate condition's window. Longer ones are refused where they are
/// written, so no computation grows with a window someone typed by mistake.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 86_400);

/// A duration in the one grammar of `vitals-units`, refused past [`MAX_DURATION`].
pub fn bounded_duration(text: &str) -> Result<Duration, String> {
    let d = vitals_units::parse_duration(text)?;
    if d > MAX_DURATION {
        return Err(format!("'{}' is too long: at most 366d", text.trim()));
    }
    Ok(d)
}

/// When and how often a check runs, and how its results become states.
#[derive(Debug, Clone)]
pub struct Timing {
    /// Interval or cron.
    pub schedule: Schedule,
    /// The nominal interval (for cron, the gap after the first fire), used for resolution
    /// figures and "no data" gaps.
    pub interval: Duration,
    /// Delay between retries of a failing check.
    pub retry_interval: Duration,
    /// Retries, recovery and flapping thresholds.
    pub policy: StatePolicy,
    /// The availability objective, when the check has one.
    pub slo: Option<Slo>,
}

/// Everything `vitals` was asked to do by one configuration file.
#[derive(Debug)]
pub struct Plan {
    /// The configuration file, kept to point at it in later errors.
    pub source: Arc<SourceFile>,
    /// The checks, in file order.
    pub checks: Vec<CheckPlan>,
    /// Most runs at once against one target host.
    pub max_per_host: usize,
    /// Where state changes are sent, in file order.
    pub notifiers: Vec<NotifierPlan>,
    /// How long raw results are kept (`[store] retention`).
    pub retention: Duration,
    /// Planned downtime, in file order.
    pub maintenance: Vec<Maintenance>,
    /// The `[gate]` conditions as written; `vitals gate` parses them.
    pub gate: Vec<GateCondition>,
    /// The shared PostgreSQL store of `[store] url`, if the file names one (`--store` and
    /// `--db` win over it).
    pub store: Option<PostgresSpec>,
}

/// One `[gate]` condition as written, kept with where (so errors can point into it).
#[derive(Debug, Clone)]
pub struct GateCondition {
    /// The condition text.
    pub text: String,
    /// Byte span of the TOML string that holds it, quotes included.
    pub span: Range<usize>,
}

/// One `[[notifier]]`, resolved.
#[derive(Debug, Clone)]
pub struct NotifierPlan {
    /// Unique name.
    pub name: String,
    /// The plugin.
    pub plugin: PluginRef,
    /// Byte span of the `plugin` value.
    pub plugin_span: Range<usize>,
    /// Hosts and ports it may reach: its target, plus `allow`.
    pub grants: Arc<Grants>,
    /// Time limit of one delivery.
    pub timeout: Duration,
    /// Linear memory cap, in bytes.
    pub memory: u64,
    /// The `[notifier.config]` entries.
    pub config: Vec<ConfigEntry>,
    /// Byte span of the config table (or of the notifier's name).
    pub config_span: Range<usize>,
    /// Secret values to redact.
    pub secrets: Arc<Vec<String>>,
}

impl NotifierPlan {
    /// The config as the JSON object handed to the plugin.
    pub fn config_json(&self) -> String {
        entries_json(&self.config)
    }
}

impl Plan {
    /// The checks that carry `tag`, or all of them when `tag` is `None`.
    pub fn select<'a>(&'a self, tags: &'a [String]) -> impl Iterator<Item = &'a CheckPlan> + 'a {
        self.checks.iter().filter(move |c| tags.is_empty() || tags.iter().any(|t| c.tags.contains(t)))
    }
}

/// Which plugin a check runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PluginRef {
    /// A plugin embedded in the binary, by name (`http`).
    Builtin(String),
    /// A component file, resolved relative to the config file.
    File(PathBuf),
}

impl std::fmt::Display for PluginRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PluginRef::Builtin(name) => f.write_str(name),
            PluginRef::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// One `[check.config]` entry, kept with where it was written.
#[derive(Debug, Clone)]
pub struct ConfigEntry {
    /// The key.
    pub key: String,
    /// Byte span of the key in the config file.
    pub key_span: Range<usize>,
    /// The value, with `${env:…}` references expanded.
    pub value: toml::Value,
    /// Byte span of the value.
    pub value_span: Range<usize>,
}

/// One check, fully resolved.
#[derive(Debug, Clone)]
pub struct CheckPlan {
    /// Unique name.
    pub name: String,
    /// Byte span of the check's `name` value, for errors about the whole check.
    pub name_span: Range<usize>,
    /// The plugin.
    pub plugin: PluginRef,
    /// Byte span of the `plugin` value.
    pub plugin_span: Range<usize>,
    /// The target handed to the plugin, references expanded.
    pub target: String,
    /// The target as written, with secrets redacted: what output and the store show.
    pub target_display: String,
    /// Wall-clock deadline of one run, host calls included.
    pub timeout: Duration,
    /// The status a run that hits its deadline gets.
    pub timeout_status: Status,
    /// When the check runs, and how its results become states.
    pub timing: Timing,
    /// Linear memory cap of the sandbox, in bytes.
    pub memory: u64,
    /// Labels that select checks (`--tag`).
    pub tags: Vec<String>,
    /// The hosts and ports the plugin may reach.
    pub grants: Arc<Grants>,
    /// The `[check.config]` entries, in file order.
    pub config: Vec<ConfigEntry>,
    /// Byte span of the `[check.config]` table (or of the check when there is none).
    pub config_span: Range<usize>,
    /// Secret values this check's config contains, to redact from everything written.
    pub secrets: Arc<Vec<String>>,
    /// How much network one run may use.
    pub budget: NetBudget,
    /// The locations that each run the check once per interval (`locations`); empty: the
    /// check runs once per interval, from any runner.
    pub locations: Vec<String>,
    /// How many locations must see the check at least as bad for the check to be (`quorum`,
    /// 1 when unset; at most `locations.len()`).
    pub quorum: usize,
    /// What this entry of a runner's schedule is: the check itself, or one location's run
    /// of a check with `locations` (see [`CheckPlan::at_location`]).
    pub series: Series,
}

/// Which series of a check a schedule entry produces.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Series {
    /// The check itself: it runs its plugin, or, for a check with `locations`, combines
    /// the newest result of each location into the check's own result and state.
    #[default]
    Own,
    /// One location's run of a check with `locations`, stored as `CHECK@LOCATION`.
    Location {
        /// The check's own name.
        check: String,
        /// The location.
        location: String,
    },
}

/// The separator of a location series' name (`web@eu`); no check name may contain it.
pub const LOCATION_SEPARATOR: char = '@';

/// The `location` label of a check's combined figures (`/status`, `/metrics`, reports);
/// no location may be called so.
pub const ALL_LOCATIONS: &str = "all";

/// Whether `name` is a valid location (`--location`, `locations`): 1 to 64 ASCII letters,
/// digits, `-`, `_` or `.`, and not [`ALL_LOCATIONS`].
pub fn valid_location(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && name != ALL_LOCATIONS
}

impl CheckPlan {
    /// The series of this check that `location` runs: the same check, named
    /// `CHECK@LOCATION`, that runs its plugin and never combines. Its runs keep the
    /// check's rhythm (see [`CheckPlan::rhythm`]).
    pub fn at_location(&self, location: &str) -> CheckPlan {
        CheckPlan {
            name: format!("{}{LOCATION_SEPARATOR}{location}", self.name),
            series: Series::Location { check: self.name.clone(), location: location.to_owned() },
            ..self.clone()
        }
    }

    /// Whether this entry combines its locations' results instead of running its plugin.
    pub fn combines(&self) -> bool {
        self.series == Series::Own && !self.locations.is_empty()
    }

    /// The name whose phase the schedule keeps: the check's own, for each of its series,
    /// so that every location runs it at the same moment of the interval.
    pub fn rhythm(&self) -> &str {
        match &self.series {
            Series::Own => &self.name,
            Series::Location { check, .. } => check,
        }
    }

    /// How long after the check's runs its combining entry runs: long enough for every
    /// location's run to end and reach the store (the timeout plus two seconds), and at most
    /// half the interval. Zero for every other entry.
    pub fn combine_delay(&self) -> Duration {
        if !self.combines() {
            return Duration::ZERO;
        }
        let wanted = self.timeout + Duration::from_secs(2);
        match &self.timing.schedule {
            Schedule::Interval { every, .. } => wanted.min(*every / 2),
            Schedule::Cron { .. } => wanted.min(Duration::from_secs(30)),
        }
    }

    /// The `location` label of this entry in `/status` and `/metrics` on a runner in
    /// `runner` (empty: none): a location's series is at its location, a check with
    /// `locations` (its combined result) at [`ALL_LOCATIONS`], any other at the runner's.
    pub fn location_label<'a>(&'a self, runner: &'a str) -> &'a str {
        match &self.series {
            Series::Location { location, .. } => location,
            Series::Own if self.locations.is_empty() => runner,
            Series::Own => ALL_LOCATIONS,
        }
    }

    /// The host the target names (for per-host limits), lower case.
    pub fn target_host(&self) -> String {
        let host = match url::Url::parse(&self.target) {
            Ok(url) if url.has_host() => url.host_str().unwrap_or_default().to_string(),
            _ => self.target.rsplit_once(':').map_or(self.target.as_str(), |(h, _)| h).to_string(),
        };
        host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase()
    }

    /// Whether `other` defines the same check (positions in the file aside): a reload
    /// keeps the schedule of a check that did not change.
    pub fn same_as(&self, other: &CheckPlan) -> bool {
        let config = |c: &CheckPlan| c.config.iter().map(|e| (e.key.clone(), e.value.clone())).collect::<Vec<_>>();
        self.name == other.name
            && self.plugin == other.plugin
            && self.target == other.target
            && self.timeout == other.timeout
            && self.timeout_status == other.timeout_status
            && self.memory == other.memory
            && self.budget == other.budget
            && self.tags == other.tags
            && self.grants.entries() == other.grants.entries()
            && config(self) == config(other)
            && self.timing.schedule == other.timing.schedule
            && self.timing.retry_interval == other.timing.retry_interval
            && self.timing.policy == other.timing.policy
            && self.locations == other.locations
            && self.quorum == other.quorum
            && self.series == other.series
    }

    /// The config as the JSON object handed to the plugin.
    pub fn config_json(&self) -> String {
        entries_json(&self.config)
    }
}

fn entries_json(entries: &[ConfigEntry]) -> String {
    let map: serde_json::Map<String, serde_json::Value> =
        entries.iter().map(|e| (e.key.clone(), vitals_cases::toml_to_json(&e.value))).collect();
    serde_json::Value::Object(map).to_string()
}
