//! The configuration file as written: structures that mirror `checks.toml`, with the
//! span of every value kept so that later errors can point at it. Each table is read
//! on its own, key by key, so that every mistake in the file is found in one pass.

use serde_spanned::Spanned;
use toml::de::DeTable;

use super::Problem;
pub use super::table::SpannedStr;
use super::table::{ConfigTable, Section, Table};

/// The help of an unknown `[[check]]` key that is no near miss of a known one.
const CHECK_HELP: Option<&str> =
    Some("check the spelling; docs/configuration.md lists every key (plugin settings go under [check.config])");

/// The whole file.
#[derive(Debug)]
pub struct RawConfig {
    /// Values every check inherits unless it sets its own.
    pub defaults: RawDefaults,
    /// The `[[check]]` tables.
    pub checks: Vec<Spanned<RawCheck>>,
    /// The `[[notifier]]` tables.
    pub notifiers: Vec<Spanned<RawNotifier>>,
    /// The `[gate]` table of `vitals gate`.
    pub gate: RawGate,
    /// The `[store]` table.
    pub store: RawStore,
    /// The `[[maintenance]]` tables.
    pub maintenance: Vec<Spanned<RawMaintenance>>,
}

/// `[store]`: how results are kept.
#[derive(Debug, Default)]
pub struct RawStore {
    /// How long raw results are kept (hourly rollups are kept for good).
    pub retention: Option<SpannedStr>,
    /// A PostgreSQL URL: the shared store of several runners, instead of the SQLite file.
    pub url: Option<SpannedStr>,
}

/// One `[[maintenance]]` table: planned downtime excluded from availability.
#[derive(Debug)]
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
#[derive(Debug, Default)]
pub struct RawGate {
    /// Conditions such as `"p95(web) < 300ms"`.
    pub conditions: Vec<SpannedStr>,
}

/// One `[[notifier]]` table: a notification plugin that receives state changes.
#[derive(Debug)]
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
    pub config: Option<ConfigTable>,
}

/// The keys that `[defaults]` sets for every check and that a check may set for itself.
#[derive(Debug, Default)]
pub struct RawShared {
    /// Deadline of one run (`"10s"`).
    pub timeout: Option<SpannedStr>,
    /// Status of a run that hits its deadline (`"critical"` or `"unknown"`).
    pub timeout_status: Option<SpannedStr>,
    /// How often the check runs (`"60s"`).
    pub interval: Option<SpannedStr>,
    /// Sandbox memory cap (`"64MiB"`).
    pub memory: Option<SpannedStr>,
    /// Labels (a check's are added to those of `[defaults]`).
    pub tags: Option<Vec<SpannedStr>>,
    /// Extra `host:port` the plugin may reach (added to those of `[defaults]`).
    pub allow: Option<Vec<SpannedStr>>,
    /// Cron expression instead of an interval.
    pub cron: Option<SpannedStr>,
    /// Time zone of the cron expression (IANA name).
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
    /// Service level objective, e.g. `"99.9%"`.
    pub slo: Option<SpannedStr>,
    /// The rolling window of the objective (`"30d"`).
    pub slo_window: Option<SpannedStr>,
    /// Connection attempts one run may make.
    pub connections_per_run: Option<Spanned<i64>>,
    /// Refused calls one run may make before it is ended.
    pub refusals_per_run: Option<Spanned<i64>>,
    /// The locations that each run the check once per interval (runners' `--location`).
    pub locations: Option<Vec<SpannedStr>>,
    /// How many locations must see the check down for it to be HARD down.
    pub quorum: Option<Spanned<i64>>,
}

/// The `[defaults]` table.
#[derive(Debug, Default)]
pub struct RawDefaults {
    /// What every check inherits unless it sets its own.
    pub shared: RawShared,
    /// Most runs at once against one target host.
    pub max_per_host: Option<Spanned<i64>>,
}

/// One `[[check]]` table.
#[derive(Debug)]
pub struct RawCheck {
    /// Unique name.
    pub name: SpannedStr,
    /// Built-in plugin name or path to a `.wasm` component.
    pub plugin: SpannedStr,
    /// URL or `host:port` the check is about.
    pub target: SpannedStr,
    /// Its own values of the keys `[defaults]` may set.
    pub shared: RawShared,
    /// A PEM file of CA certificates the check trusts instead of the system's, relative
    /// to the config file.
    pub ca: Option<SpannedStr>,
    /// The plugin's own configuration.
    pub config: Option<ConfigTable>,
}

impl RawConfig {
    /// Reads the whole file: every table that can be read, and a problem for each key,
    /// value and table that cannot. Only a TOML syntax error stops the reading.
    pub fn read(text: &str) -> Result<(RawConfig, Vec<Problem>), toml::de::Error> {
        let root = DeTable::parse(text)?;
        let mut top = Table::top(&root, text);
        let defaults = top.table("defaults");
        let checks = top.tables("check");
        let notifiers = top.tables("notifier");
        let gate = top.table("gate");
        let store = top.table("store");
        let maintenance = top.tables("maintenance");
        let mut problems = top.finish(Some(
            "the file holds [defaults], [[check]], [[notifier]], [[maintenance]], [store] and [gate]; \
             settings shared by every check go under [defaults]",
        ));
        let p = &mut problems;
        let config = RawConfig {
            defaults: defaults.map(|s| read("[defaults]", s, text, p, None, RawDefaults::read)).unwrap_or_default(),
            checks: checks
                .into_iter()
                .filter_map(|s| read("[[check]]", s, text, p, CHECK_HELP, RawCheck::read))
                .collect(),
            notifiers: notifiers
                .into_iter()
                .filter_map(|s| read("[[notifier]]", s, text, p, None, RawNotifier::read))
                .collect(),
            gate: gate.map(|s| read("[gate]", s, text, p, None, RawGate::read)).unwrap_or_default(),
            store: store.map(|s| read("[store]", s, text, p, None, RawStore::read)).unwrap_or_default(),
            maintenance: maintenance
                .into_iter()
                .filter_map(|s| read("[[maintenance]]", s, text, p, None, RawMaintenance::read))
                .collect(),
        };
        Ok((config, problems))
    }
}

/// Reads one table, written as `header`, with `keys`, keeping the problems it has;
/// `fallback` is the help of an unknown key that is no near miss.
fn read<'a, 'i, T>(
    header: &'static str,
    section: Section<'a, 'i>,
    text: &'i str,
    problems: &mut Vec<Problem>,
    fallback: Option<&str>,
    keys: impl FnOnce(&mut Table<'a, 'i>) -> T,
) -> T {
    let mut t = Table::open(header, section, text);
    let value = keys(&mut t);
    problems.extend(t.finish(fallback));
    value
}

impl RawStore {
    fn read(t: &mut Table<'_, '_>) -> RawStore {
        RawStore { retention: t.duration("retention", "d"), url: t.text("url") }
    }
}

impl RawMaintenance {
    fn read(t: &mut Table<'_, '_>) -> Option<Spanned<RawMaintenance>> {
        let name = t.text("name");
        let start = t.text("start");
        let cron = t.text("cron");
        let timezone = t.text("timezone");
        let duration = t.duration("duration", "m");
        let duration = t.required("duration", duration);
        let checks = t.strings("checks");
        let tags = t.strings("tags");
        // Every key is asked for before giving up, so that none is taken for unknown. A
        // start or cron of the wrong type is reported; the window's time is then unknown.
        if (start.is_none() && t.has("start")) || (cron.is_none() && t.has("cron")) {
            return None;
        }
        Some(Spanned::new(t.span(), RawMaintenance { name, start, cron, timezone, duration: duration?, checks, tags }))
    }
}

impl RawGate {
    fn read(t: &mut Table<'_, '_>) -> RawGate {
        RawGate { conditions: t.strings("conditions").unwrap_or_default() }
    }
}

/// The three keys every plugin table needs: `name`, `plugin`, `target`.
fn plugin_keys(t: &mut Table<'_, '_>) -> Option<(SpannedStr, SpannedStr, SpannedStr)> {
    let [name, plugin, target] = ["name", "plugin", "target"].map(|key| {
        let value = t.text(key);
        t.required(key, value)
    });
    Some((name?, plugin?, target?))
}

impl RawNotifier {
    fn read(t: &mut Table<'_, '_>) -> Option<Spanned<RawNotifier>> {
        let plugin_keys = plugin_keys(t);
        let timeout = t.duration("timeout", "s");
        let memory = t.size("memory");
        let allow = t.strings("allow");
        let config = t.config("config");
        let (name, plugin, target) = plugin_keys?;
        Some(Spanned::new(t.span(), RawNotifier { name, plugin, target, timeout, memory, allow, config }))
    }
}

impl RawShared {
    fn read(t: &mut Table<'_, '_>) -> RawShared {
        RawShared {
            timeout: t.duration("timeout", "s"),
            timeout_status: t.text("timeout_status"),
            interval: t.duration("interval", "s"),
            memory: t.size("memory"),
            tags: t.strings("tags"),
            allow: t.strings("allow"),
            cron: t.text("cron"),
            timezone: t.text("timezone"),
            jitter: t.duration("jitter", "s"),
            retries: t.integer("retries"),
            retry_interval: t.duration("retry_interval", "s"),
            recover_after: t.integer("recover_after"),
            flap_high: t.number("flap_high"),
            flap_low: t.number("flap_low"),
            slo: t.percent("slo"),
            slo_window: t.duration("slo_window", "d"),
            connections_per_run: t.integer("connections_per_run"),
            refusals_per_run: t.integer("refusals_per_run"),
            locations: t.strings("locations"),
            quorum: t.integer("quorum"),
        }
    }
}

impl RawDefaults {
    fn read(t: &mut Table<'_, '_>) -> RawDefaults {
        RawDefaults { shared: RawShared::read(t), max_per_host: t.integer("max_per_host") }
    }
}

impl RawCheck {
    fn read(t: &mut Table<'_, '_>) -> Option<Spanned<RawCheck>> {
        let plugin_keys = plugin_keys(t);
        let shared = RawShared::read(t);
        let ca = t.text("ca");
        let config = t.config("config");
        let (name, plugin, target) = plugin_keys?;
        Some(Spanned::new(t.span(), RawCheck { name, plugin, target, shared, ca, config }))
    }
}
