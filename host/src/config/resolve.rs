//! Turns the file as written (`model`) into a validated [`Plan`]: defaults applied,
//! durations, sizes and grants parsed, `${env:…}` expanded, every error located.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_spanned::Spanned;

use crate::plan::Status;
use crate::plan::grants::{Grants, Trust};
use crate::plan::{
    ALL_LOCATIONS, CheckPlan, ConfigEntry, GateCondition, LOCATION_SEPARATOR, NameKind, NotifierPlan, Plan, PluginRef,
    PostgresSpec, Series, UnknownName, valid_location,
};

use super::Problem;
use super::model::{RawCheck, RawConfig, RawDefaults, RawNotifier, RawShared, SpannedStr};
use super::schedule;
use super::secrets;
use crate::plan::{Diagnostic, MAX_MEMORY, SourceFile};

/// How long raw results are kept by default: a month and a few days of margin.
const DEFAULT_RETENTION: Duration = Duration::from_secs(35 * 86_400);
/// Raw results must outlive the hour they are sealed in.
const MIN_RETENTION: Duration = Duration::from_secs(2 * 3600);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_MEMORY: u64 = 64 << 20;
/// A notifier's delivery includes its own retries with backoff (the webhook's take up
/// to ~25 s by default).
const NOTIFIER_TIMEOUT: Duration = Duration::from_secs(30);
/// The smallest memory cap that a Rust or Python guest can start in.
const MIN_MEMORY: u64 = 1 << 20;
/// The help of every refused `allow` entry.
const ALLOW_HELP: &str = "write host:port, host:*, *.domain:port or a CIDR such as 10.0.0.0/8:5432";

/// Builds the plan, collecting every error rather than stopping at the first.
/// `problems` are those found while reading the file; all are reported in file order.
pub fn resolve(
    source: &Arc<SourceFile>,
    raw: RawConfig,
    problems: Vec<Problem>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Plan, Vec<Diagnostic>> {
    let mut cx = Resolver { source, env, errors: Vec::new() };
    for (span, message, help) in problems {
        cx.error(span, message, help);
    }
    // Maintenance names checks as written: one that has an error of its own still exists.
    let names: Vec<String> = raw.checks.iter().map(|c| c.get_ref().name.get_ref().clone()).collect();
    let tags: Vec<String> = std::iter::once(&raw.defaults.shared.tags)
        .chain(raw.checks.iter().map(|c| &c.get_ref().shared.tags))
        .flatten()
        .flatten()
        .map(|t| t.get_ref().clone())
        .collect();
    let defaults = cx.defaults(&raw.defaults);
    let max_per_host = match schedule::max_per_host(&raw.defaults) {
        Ok(n) => n,
        Err((span, message, help)) => {
            cx.error(span, message, help);
            4
        }
    };
    let mut seen: HashMap<String, ()> = HashMap::new();
    let mut checks = Vec::new();
    for check in raw.checks {
        let span = check.span();
        let check = check.into_inner();
        if seen.insert(check.name.get_ref().clone(), ()).is_some() {
            cx.error(
                check.name.span(),
                format!("duplicate check name `{}`", check.name.get_ref()),
                "every check needs a unique name; rename one of them",
            );
            continue;
        }
        if let Some(plan) = cx.check(check, span, &defaults, &raw.defaults) {
            checks.push(plan);
        }
    }
    if checks.is_empty() && cx.errors.is_empty() {
        cx.error(0..0, "no checks defined", "add a [[check]] table with name, plugin and target");
    }
    let mut notifiers: Vec<NotifierPlan> = Vec::new();
    for raw_notifier in raw.notifiers {
        let raw_notifier = raw_notifier.into_inner();
        if notifiers.iter().any(|n| n.name == *raw_notifier.name.get_ref()) {
            cx.error(
                raw_notifier.name.span(),
                format!("duplicate notifier name `{}`", raw_notifier.name.get_ref()),
                "every notifier needs a unique name",
            );
            continue;
        }
        if let Some(n) = cx.notifier(raw_notifier) {
            notifiers.push(n);
        }
    }
    let retention = match &raw.store.retention {
        None => DEFAULT_RETENTION,
        Some(r) => match super::duration(r.get_ref()) {
            Ok(d) if d >= MIN_RETENTION => d,
            Ok(_) => {
                cx.error(
                    r.span(),
                    "retention is shorter than 2h",
                    "raw results must outlive the hour they are sealed in; write at least \"2h\"",
                );
                DEFAULT_RETENTION
            }
            Err(e) => {
                cx.error(
                    r.span(),
                    format!("invalid retention \"{}\": {e}", r.get_ref()),
                    "write a duration such as \"35d\"",
                );
                DEFAULT_RETENTION
            }
        },
    };
    let unknown =
        |kind, name: &str, known| UnknownName { kind, name: name.to_string(), file: source.path.clone(), known };
    let mut maintenance = Vec::new();
    for (index, raw_m) in raw.maintenance.iter().enumerate() {
        let m = raw_m.get_ref();
        for name in m.checks.iter().flatten() {
            if !names.contains(name.get_ref()) {
                let help = unknown(NameKind::Check, name.get_ref(), names.clone()).help();
                cx.error(name.span(), format!("no check is called `{}`", name.get_ref()), help);
            }
        }
        for tag in m.tags.iter().flatten() {
            if !tags.contains(tag.get_ref()) {
                let mut known = tags.clone();
                known.sort_unstable();
                known.dedup();
                let help = unknown(NameKind::Tag, tag.get_ref(), known).help();
                cx.error(tag.span(), format!("no check has the tag `{}`", tag.get_ref()), help);
            }
        }
        match super::maintenance::resolve(m, index, raw_m.span(), &source.text) {
            Ok(m) => maintenance.push(m),
            Err((span, message, help)) => cx.error(span, message, help),
        }
    }
    let store = raw.store.url.as_ref().and_then(|url| cx.store_url(url));
    if cx.errors.is_empty() {
        let gate =
            raw.gate.conditions.into_iter().map(|c| GateCondition { span: c.span(), text: c.into_inner() }).collect();
        Ok(Plan { source: Arc::clone(source), checks, max_per_host, notifiers, retention, maintenance, gate, store })
    } else {
        // In the order of the file, whichever stage found them; a [defaults] value that
        // every check inherits is wrong once, not once per check.
        cx.errors.sort_by_key(Diagnostic::line_col);
        cx.errors.dedup_by(|a, b| a.line_col() == b.line_col() && a.message() == b.message());
        Err(cx.errors)
    }
}

/// `[defaults]` after parsing.
struct Defaults {
    timeout: Duration,
    timeout_status: Status,
    memory: u64,
    tags: Vec<String>,
    allow: Vec<String>,
}

struct Resolver<'a> {
    source: &'a Arc<SourceFile>,
    env: &'a dyn Fn(&str) -> Option<String>,
    errors: Vec<Diagnostic>,
}

impl Resolver<'_> {
    fn error(&mut self, span: std::ops::Range<usize>, message: impl Into<String>, help: impl Into<String>) {
        let help = help.into();
        let d = Diagnostic::new(self.source, span, message);
        self.errors.push(if help.is_empty() { d } else { d.help(help) });
    }

    fn defaults(&mut self, raw: &RawDefaults) -> Defaults {
        let mut secrets = Vec::new();
        Defaults {
            timeout: self.duration(raw.shared.timeout.as_ref(), DEFAULT_TIMEOUT, &mut secrets),
            timeout_status: self.timeout_status(raw.shared.timeout_status.as_ref(), Status::Critical, &mut secrets),
            memory: self.memory(raw.shared.memory.as_ref(), DEFAULT_MEMORY, &mut secrets),
            tags: self.strings(raw.shared.tags.as_deref(), &mut secrets),
            allow: self.default_allow(raw.shared.allow.as_deref(), &mut secrets),
        }
    }

    /// `[defaults] allow`, each bad entry reported once, here, and left out of every check.
    fn default_allow(&mut self, raw: Option<&[SpannedStr]>, secrets: &mut Vec<String>) -> Vec<String> {
        let mut allow = Vec::new();
        for entry in raw.unwrap_or_default() {
            let Some(text) = self.expand(entry, secrets) else { continue };
            match Grants::check_entry(&text) {
                Ok(()) if text.trim_start().starts_with("exec:") => self.error(
                    entry.span(),
                    format!("{text:?} in [defaults] would let every check run that program outside the sandbox"),
                    "put exec:PATH in the allow list of the one check that runs it",
                ),
                Ok(()) => allow.push(text),
                Err(e) => self.error(entry.span(), e.to_string(), ALLOW_HELP),
            }
        }
        allow
    }

    fn check(
        &mut self,
        raw: RawCheck,
        span: std::ops::Range<usize>,
        d: &Defaults,
        raw_defaults: &RawDefaults,
    ) -> Option<CheckPlan> {
        let errors_before = self.errors.len();
        let mut secrets = Vec::new();
        let name = raw.name.get_ref().trim().to_string();
        if name.is_empty() || name.chars().any(|c| c.is_control()) {
            self.error(
                raw.name.span(),
                "check name is empty or has control characters",
                "use a short name such as \"web-home\"",
            );
        } else if name.contains(LOCATION_SEPARATOR) {
            self.error(
                raw.name.span(),
                format!("check name `{name}` has a `{LOCATION_SEPARATOR}`, which names a location's runs (web@eu)"),
                "rename the check; to run it from several places, write locations = [\"eu\", \"us\"]",
            );
        }
        let plugin = self.plugin(&raw.plugin);
        // Shown as written: `${env:…}` references stay references, so no secret leaks.
        let target_display = raw.target.get_ref().clone();
        let target = self.expand(&raw.target, &mut secrets).unwrap_or_default();
        let timeout = self.duration(raw.shared.timeout.as_ref(), d.timeout, &mut secrets);
        if raw.shared.timeout.is_some() && timeout.is_zero() {
            self.error(
                span_of(&raw.shared.timeout),
                "timeout must be longer than zero",
                "write for example timeout = \"5s\"",
            );
        }
        let timeout_status = self.timeout_status(raw.shared.timeout_status.as_ref(), d.timeout_status, &mut secrets);
        let timing = match schedule::resolve(&raw.shared, &raw_defaults.shared, &self.source.text) {
            Ok(t) => Some(t),
            Err(problems) => {
                for (span, message, help) in problems {
                    self.error(span, message, help);
                }
                None
            }
        };
        let memory = self.memory(raw.shared.memory.as_ref(), d.memory, &mut secrets);
        let budget = match schedule::budget(&raw.shared, &raw_defaults.shared) {
            Ok(b) => Some(b),
            Err((span, message, help)) => {
                self.error(span, message, help);
                None
            }
        };
        let mut tags = d.tags.clone();
        tags.extend(self.strings(raw.shared.tags.as_deref(), &mut secrets));
        let mut allow = d.allow.clone();
        let own_allow = self.strings(raw.shared.allow.as_deref(), &mut secrets);
        allow.extend(own_allow.iter().cloned());
        let grants = self.grants(&raw.target, raw.shared.allow.as_deref(), &target, &allow);
        let trust = self.trust(raw.ca.as_ref(), &mut secrets);
        let grants = grants.map(|g| match &trust {
            Some(Some(trust)) => g.trusting(trust.clone()),
            _ => g,
        });
        let (config, config_span) = match raw.config {
            Some(table) => {
                let table_span = table.span();
                (self.entries(table.into_inner(), &mut secrets), table_span)
            }
            None => (Vec::new(), span),
        };
        let (locations, quorum) = self.locations(&raw.shared, &raw_defaults.shared, raw.name.span());
        if self.errors.len() > errors_before {
            return None;
        }
        Some(CheckPlan {
            name,
            name_span: raw.name.span(),
            plugin: plugin?,
            plugin_span: raw.plugin.span(),
            target,
            target_display,
            timeout,
            timeout_status,
            timing: timing?,
            memory,
            tags,
            grants: Arc::new(grants?),
            config,
            config_span,
            secrets: Arc::new(secrets),
            budget: budget?,
            locations,
            quorum,
            series: Series::Own,
        })
    }

    /// A check's `locations` and `quorum` (its own, else those of `[defaults]`): distinct
    /// valid location names, and a quorum from 1 to their number (1 when unset).
    fn locations(&mut self, own: &RawShared, defaults: &RawShared, name: Range<usize>) -> (Vec<String>, usize) {
        let mut locations: Vec<String> = Vec::new();
        let raw = own.locations.as_ref().or(defaults.locations.as_ref());
        for entry in raw.into_iter().flatten() {
            let name = entry.get_ref();
            if !valid_location(name) {
                self.error(
                    entry.span(),
                    format!("`{name}` is not a location name"),
                    format!(
                        "a location is 1 to 64 letters, digits, `-`, `_` or `.` (not `{ALL_LOCATIONS}`), as a runner's --location"
                    ),
                );
            } else if locations.contains(name) {
                self.error(entry.span(), format!("location `{name}` is listed twice"), "list each location once");
            } else {
                locations.push(name.clone());
            }
        }
        if raw.is_some_and(|l| l.is_empty()) {
            self.error(
                name,
                "this check's locations list is empty",
                "name at least one location, or remove the key to run the check from any runner",
            );
        }
        let Some(q) = own.quorum.as_ref().or(defaults.quorum.as_ref()) else { return (locations, 1) };
        let most = locations.len().max(1) as i64;
        if raw.is_none() {
            self.error(
                q.span(),
                "quorum needs locations",
                "write locations = [\"eu\", \"us\"] beside it: the quorum counts the locations that see the check down",
            );
            (locations, 1)
        } else if !(1..=most).contains(q.get_ref()) {
            self.error(
                q.span(),
                format!("quorum {} is out of range", q.get_ref()),
                format!("write a number from 1 to {most}, the number of locations"),
            );
            (locations, 1)
        } else {
            (locations, usize::try_from(*q.get_ref()).unwrap_or(1))
        }
    }

    /// `[store] url`, `${env:…}` references expanded: a PostgreSQL URL, shown as written.
    fn store_url(&mut self, raw: &SpannedStr) -> Option<PostgresSpec> {
        let mut secrets = Vec::new();
        let url = self.expand(raw, &mut secrets)?;
        match PostgresSpec::parse_written(raw.get_ref(), &url) {
            Ok(spec) => Some(spec),
            Err(message) => {
                self.error(
                    raw.span(),
                    format!("invalid store url: {message}"),
                    "write url = \"postgres://USER@HOST/DATABASE\", the password as ${env:NAME}",
                );
                None
            }
        }
    }

    /// A config table's entries, references expanded, in file order.
    fn entries(
        &mut self,
        table: std::collections::BTreeMap<SpannedStr, Spanned<toml::Value>>,
        secrets: &mut Vec<String>,
    ) -> Vec<ConfigEntry> {
        let mut entries: Vec<ConfigEntry> = table
            .into_iter()
            .map(|(key, value)| {
                let value_span = value.span();
                let expanded = self.expand_value(value.get_ref(), value_span.clone(), secrets);
                ConfigEntry { key: key.get_ref().clone(), key_span: key.span(), value: expanded, value_span }
            })
            .collect();
        entries.sort_by_key(|e| e.key_span.start);
        entries
    }

    fn notifier(&mut self, raw: RawNotifier) -> Option<NotifierPlan> {
        let errors_before = self.errors.len();
        let mut secrets = Vec::new();
        let plugin = self.plugin(&raw.plugin);
        let target = self.expand(&raw.target, &mut secrets).unwrap_or_default();
        let timeout = self.duration(raw.timeout.as_ref(), NOTIFIER_TIMEOUT, &mut secrets);
        let memory = self.memory(raw.memory.as_ref(), DEFAULT_MEMORY, &mut secrets);
        let allow = self.strings(raw.allow.as_deref(), &mut secrets);
        let grants = self.grants(&raw.target, raw.allow.as_deref(), &target, &allow);
        let (config, config_span) = match raw.config {
            Some(table) => {
                let table_span = table.span();
                (self.entries(table.into_inner(), &mut secrets), table_span)
            }
            None => (Vec::new(), raw.name.span()),
        };
        if self.errors.len() > errors_before {
            return None;
        }
        Some(NotifierPlan {
            name: raw.name.get_ref().trim().to_string(),
            plugin: plugin?,
            plugin_span: raw.plugin.span(),
            grants: Arc::new(grants?),
            timeout,
            memory,
            config,
            config_span,
            secrets: Arc::new(secrets),
        })
    }

    fn plugin(&mut self, raw: &SpannedStr) -> Option<PluginRef> {
        let text = raw.get_ref().trim();
        if text.is_empty() {
            self.error(raw.span(), "plugin is empty", "name a built-in plugin (\"http\", \"tcp\") or a .wasm file");
            return None;
        }
        if text.ends_with(".wasm") || text.contains('/') {
            let base = self.source.path.parent().unwrap_or(Path::new("."));
            Some(PluginRef::File(base.join(text)))
        } else {
            Some(PluginRef::Builtin(text.to_string()))
        }
    }

    /// The check's `ca` file, read and parsed now so that a bad one is a config error at
    /// its line: none without `ca`, `Some(None)` when it is bad (and reported).
    fn trust(&mut self, raw: Option<&SpannedStr>, secrets: &mut Vec<String>) -> Option<Option<Trust>> {
        let raw = raw?;
        let text = self.expand(raw, secrets)?;
        let base = self.source.path.parent().unwrap_or(Path::new("."));
        match Trust::from_pem_file(&base.join(&text)) {
            Ok(trust) => Some(Some(trust)),
            Err(problem) => {
                self.error(
                    raw.span(),
                    format!("ca {text:?}: {problem}"),
                    "write the path (relative to this file) of a PEM file holding the CA certificates the check \
                     trusts instead of the system's (-----BEGIN CERTIFICATE-----)",
                );
                Some(None)
            }
        }
    }

    fn grants(
        &mut self,
        raw_target: &SpannedStr,
        raw_allow: Option<&[SpannedStr]>,
        target: &str,
        allow: &[String],
    ) -> Option<Grants> {
        let mut bad = false;
        if let Err(e) = Grants::for_check(target, &[]) {
            self.error(raw_target.span(), e.to_string(), "write a URL (https://host/path) or host:port");
            bad = true;
        }
        for entry in raw_allow.unwrap_or_default() {
            if let Err(e) = Grants::check_entry(entry.get_ref()) {
                self.error(entry.span(), e.to_string(), ALLOW_HELP);
                bad = true;
            }
        }
        if bad {
            return None;
        }
        // Every entry has been checked on its own: the check's here, those of [defaults] in `default_allow`.
        match Grants::for_check(target, allow) {
            Ok(g) => Some(g),
            Err(e) => {
                self.error(raw_target.span(), e.to_string(), ALLOW_HELP);
                None
            }
        }
    }

    fn expand(&mut self, raw: &SpannedStr, secrets: &mut Vec<String>) -> Option<String> {
        match secrets::expand(raw.get_ref(), self.env) {
            Ok(e) => {
                secrets.extend(e.secrets);
                Some(e.value)
            }
            Err(e) => {
                // +1 skips the opening quote of a basic string.
                let start = raw.span().start + 1 + e.offset;
                self.error(start..raw.span().end.saturating_sub(1).max(start + 1), e.message, e.help);
                None
            }
        }
    }

    fn expand_value(
        &mut self,
        value: &toml::Value,
        span: std::ops::Range<usize>,
        secrets: &mut Vec<String>,
    ) -> toml::Value {
        match value {
            toml::Value::String(s) => {
                let spanned = Spanned::new(span, s.clone());
                toml::Value::String(self.expand(&spanned, secrets).unwrap_or_default())
            }
            toml::Value::Array(items) => {
                toml::Value::Array(items.iter().map(|v| self.expand_value(v, span.clone(), secrets)).collect())
            }
            toml::Value::Table(t) => toml::Value::Table(
                t.iter().map(|(k, v)| (k.clone(), self.expand_value(v, span.clone(), secrets))).collect(),
            ),
            other => other.clone(),
        }
    }

    fn strings(&mut self, raw: Option<&[SpannedStr]>, secrets: &mut Vec<String>) -> Vec<String> {
        raw.unwrap_or_default().iter().filter_map(|s| self.expand(s, secrets)).collect()
    }

    fn duration(&mut self, raw: Option<&SpannedStr>, default: Duration, secrets: &mut Vec<String>) -> Duration {
        let Some(raw) = raw else { return default };
        let Some(text) = self.expand(raw, secrets) else { return default };
        match super::duration(&text) {
            Ok(d) => d,
            Err(e) => {
                self.error(raw.span(), format!("invalid duration \"{text}\": {e}"), super::hint::DURATION_HELP);
                default
            }
        }
    }

    fn memory(&mut self, raw: Option<&SpannedStr>, default: u64, secrets: &mut Vec<String>) -> u64 {
        let Some(raw) = raw else { return default };
        let Some(text) = self.expand(raw, secrets) else { return default };
        match vitals_units::parse_bytes(&text) {
            Ok(b) if (MIN_MEMORY..=MAX_MEMORY).contains(&b) => b,
            Ok(b) => {
                self.error(
                    raw.span(),
                    format!("memory {} is out of range", vitals_units::format_bytes(b)),
                    format!(
                        "choose between {} and {}",
                        vitals_units::format_bytes(MIN_MEMORY),
                        vitals_units::format_bytes(MAX_MEMORY)
                    ),
                );
                default
            }
            Err(e) => {
                self.error(
                    raw.span(),
                    format!("invalid size \"{text}\": {e}"),
                    "write for example \"16MiB\" or \"512KiB\"",
                );
                default
            }
        }
    }

    fn timeout_status(&mut self, raw: Option<&SpannedStr>, default: Status, secrets: &mut Vec<String>) -> Status {
        let Some(raw) = raw else { return default };
        let Some(text) = self.expand(raw, secrets) else { return default };
        match Status::parse(&text) {
            Some(s @ (Status::Critical | Status::Unknown | Status::Warning)) => s,
            _ => {
                self.error(
                    raw.span(),
                    format!("invalid timeout_status \"{text}\""),
                    "write \"critical\", \"unknown\" or \"warning\"",
                );
                default
            }
        }
    }
}

fn span_of(raw: &Option<SpannedStr>) -> std::ops::Range<usize> {
    raw.as_ref().map_or(0..0, |s| s.span())
}
