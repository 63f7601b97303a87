//! The daemon's Prometheus metrics: [`Telemetry`] holds every family over the
//! `prometheus-client` crate and encodes them in the classic Prometheus text
//! exposition format (version 0.0.4), served at `GET /metrics`.
//!
//! Metric names from plugins are untrusted: they only ever become label values of the one
//! `vitals_check_metric` family, clipped in length and capped in number per check, never
//! metric names. Every series of a check is tracked, so [`Telemetry::forget_check`] can
//! remove all of them when a config reload drops the check.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use prometheus_client::encoding::prometheus_text;
use prometheus_client::encoding::{EncodeLabel, EncodeLabelSet, LabelSetEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::plan::CheckPlan;
use crate::result::{CheckResult, Status};
use crate::schedule::scheduler::Observer;

/// The `Content-Type` of what [`Telemetry::encode`] returns (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Upper bounds, in seconds, of the check duration buckets: 1 ms to 30 s.
pub const DURATION_BUCKETS: [f64; 14] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// Upper bounds, in seconds, of the schedule lateness buckets: 1 ms to 60 s.
pub const LATENESS_BUCKETS: [f64; 13] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 15.0, 60.0];

/// At most this many plugin metric series per check; further distinct metrics of a run are dropped.
pub const MAX_PLUGIN_METRICS_PER_CHECK: usize = 64;

/// Plugin metric names and units are clipped to this many bytes (at a character boundary).
pub const MAX_PLUGIN_LABEL_BYTES: usize = 128;

/// Which check a series is about and where it ran from: the `check` label, and the
/// `location` label when there is one (a runner's `--location`, a location's series of a
/// check with `locations`, or `all` for such a check's combined result). A runner without
/// a location exports no `location` label.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Place {
    /// The check's name (of a location's series `web@eu`, `web`).
    pub check: String,
    /// The location; empty for none.
    pub location: String,
}

impl Place {
    /// The place of schedule entry `check` on a runner in `runner_location` (empty: none).
    pub fn of(check: &CheckPlan, runner_location: &str) -> Place {
        Place { check: check.rhythm().to_owned(), location: check.location_label(runner_location).to_owned() }
    }

    /// The place of a result known by its entry name only: `web@eu` is check `web` at `eu`,
    /// any other name is at `runner_location`.
    fn of_name(name: &str, runner_location: &str) -> Place {
        match name.split_once(crate::plan::LOCATION_SEPARATOR) {
            Some((check, location)) => Place { check: check.to_owned(), location: location.to_owned() },
            None => Place { check: name.to_owned(), location: runner_location.to_owned() },
        }
    }

    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        ("check", self.check.as_str()).encode(encoder.encode_label())?;
        if !self.location.is_empty() {
            ("location", self.location.as_str()).encode(encoder.encode_label())?;
        }
        Ok(())
    }
}

/// Labels of the per-check series that also say which plugin ran.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct CheckLabels {
    place: Place,
    plugin: String,
}

impl EncodeLabelSet for CheckLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        self.place.encode(encoder)?;
        ("plugin", self.plugin.as_str()).encode(encoder.encode_label())
    }
}

/// Labels of `vitals_check_runs_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct RunLabels {
    place: Place,
    status: &'static str,
}

impl EncodeLabelSet for RunLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        self.place.encode(encoder)?;
        ("status", self.status).encode(encoder.encode_label())
    }
}

/// Labels of the series keyed by the check alone.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct CheckOnly {
    place: Place,
}

impl EncodeLabelSet for CheckOnly {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        self.place.encode(encoder)
    }
}

/// Labels of one plugin metric series.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct MetricLabels {
    place: Place,
    metric: String,
    unit: String,
}

impl EncodeLabelSet for MetricLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        self.place.encode(encoder)?;
        ("metric", self.metric.as_str()).encode(encoder.encode_label())?;
        ("unit", self.unit.as_str()).encode(encoder.encode_label())
    }
}

/// Labels of `vitals_build_info`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
}

/// A gauge holding a float.
type FloatGauge = Gauge<f64, AtomicU64>;

/// Which per-check series cost more than they tell at thousands of checks, and so are
/// only exported when asked for (`vitals run --check-histograms --plugin-metrics`). Off,
/// a check has 7 series (about 400 bytes a scrape); with both on, 30 or more.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Detail {
    /// `vitals_check_duration_seconds`, a 14-bucket histogram per check. Without it,
    /// `vitals_check_last_duration_seconds` and the runner's lateness histogram remain.
    pub histograms: bool,
    /// `vitals_check_metric`, a gauge per value a plugin reports (its perfdata). The
    /// values are stored either way, for reports and `vitals gate`.
    pub plugin_metrics: bool,
}

/// The series of one check, created with its first result and updated through these
/// handles (which share their value with the family's series): a run costs one map
/// lookup, not a label set built and hashed per family.
#[derive(Debug)]
struct Series {
    /// The plugin label they carry.
    plugin: String,
    status: Gauge,
    last_duration: FloatGauge,
    duration: Option<Histogram>,
    state_hard: Gauge,
    flapping: Gauge,
    last_run: FloatGauge,
    /// `vitals_check_runs_total`, by status, created on the first run of each status.
    runs: [Option<Counter>; 4],
}

/// The label sets that exist for one check, so that all of them can be removed.
#[derive(Debug)]
struct Tracked {
    /// Its `check` and `location` labels.
    place: Place,
    /// The per-check series, once a result was recorded.
    series: Option<Series>,
    /// The plugin metric series of the latest run.
    metrics: HashSet<MetricLabels>,
}

/// Every metric the daemon exports, thread-safe behind `&self`.
#[derive(Debug)]
pub struct Telemetry {
    registry: Registry,
    status: Family<CheckLabels, Gauge>,
    last_duration: Family<CheckLabels, FloatGauge>,
    duration: Family<CheckLabels, Histogram, fn() -> Histogram>,
    runs: Family<RunLabels, Counter>,
    state_hard: Family<CheckLabels, Gauge>,
    flapping: Family<CheckLabels, Gauge>,
    last_run: Family<CheckLabels, FloatGauge>,
    check_metric: Family<MetricLabels, FloatGauge>,
    lateness: Histogram,
    in_flight: Gauge,
    skipped: Family<CheckOnly, Counter>,
    checks: Gauge,
    results_dropped: Counter,
    detail: Detail,
    /// The runner's `--location` (empty: none), the `location` label of its checks.
    location: String,
    /// Per check name, the label sets in use. Held across every update of a check's
    /// series so that a concurrent `forget_check` cannot leave a series behind.
    tracked: Mutex<HashMap<String, Tracked>>,
}

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// `s` cut to at most [`MAX_PLUGIN_LABEL_BYTES`] bytes, at a character boundary.
fn clip(s: &str) -> String {
    if s.len() <= MAX_PLUGIN_LABEL_BYTES {
        return s.to_owned();
    }
    let mut end = MAX_PLUGIN_LABEL_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

impl Telemetry {
    /// Creates every metric family, registered and empty (`vitals_build_info` set to 1),
    /// without the opt-in per-check series.
    pub fn new() -> Telemetry {
        Telemetry::with_detail(Detail::default())
    }

    /// [`Telemetry::new`] with the opt-in per-check series of `detail`.
    pub fn with_detail(detail: Detail) -> Telemetry {
        let mut registry = Registry::default();

        let status = Family::<CheckLabels, Gauge>::default();
        registry.register(
            "vitals_check_status",
            "Status of the check's latest run: 0 ok, 1 warning, 2 critical, 3 unknown",
            status.clone(),
        );
        let last_duration = Family::<CheckLabels, FloatGauge>::default();
        registry.register(
            "vitals_check_last_duration_seconds",
            "How long the check's latest run took, in seconds",
            last_duration.clone(),
        );
        let duration: Family<CheckLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(duration_histogram);
        registry.register(
            "vitals_check_duration_seconds",
            "How long the check's runs took, in seconds",
            duration.clone(),
        );
        let runs = Family::<RunLabels, Counter>::default();
        // The encoder appends `_total` to counters.
        registry.register("vitals_check_runs", "Runs of the check, by resulting status", runs.clone());
        let state_hard = Family::<CheckLabels, Gauge>::default();
        registry.register(
            "vitals_check_state_hard",
            "Whether the check's current state is hard (1) or soft (0)",
            state_hard.clone(),
        );
        let flapping = Family::<CheckLabels, Gauge>::default();
        registry.register("vitals_check_flapping", "Whether the check is flapping (1) or not (0)", flapping.clone());
        let last_run = Family::<CheckLabels, FloatGauge>::default();
        registry.register(
            "vitals_check_last_run_timestamp_seconds",
            "When the check's latest run started, in seconds since the Unix epoch",
            last_run.clone(),
        );
        let check_metric = Family::<MetricLabels, FloatGauge>::default();
        registry.register(
            "vitals_check_metric",
            "A value measured by the check's plugin in its latest run (perfdata), with its unit",
            check_metric.clone(),
        );
        let lateness = Histogram::new(LATENESS_BUCKETS);
        registry.register(
            "vitals_schedule_lateness_seconds",
            "How long after its due time a run started, in seconds",
            lateness.clone(),
        );
        let in_flight = Gauge::default();
        registry.register("vitals_runs_in_flight", "Check runs going on now", in_flight.clone());
        let skipped = Family::<CheckOnly, Counter>::default();
        registry.register(
            "vitals_runs_skipped",
            "Runs not started because the check's previous run was still going when the next was due",
            skipped.clone(),
        );
        let checks = Gauge::default();
        registry.register("vitals_checks", "Number of scheduled checks", checks.clone());
        let results_dropped = Counter::default();
        registry.register(
            "vitals_results_dropped",
            "Results not stored because the queue of results waiting for the store was full, or the store refused them",
            results_dropped.clone(),
        );
        let build_info = Family::<BuildLabels, Gauge>::default();
        build_info.get_or_create(&BuildLabels { version: env!("CARGO_PKG_VERSION").to_owned() }).set(1);
        registry.register("vitals_build_info", "The running vitals build; the value is always 1", build_info);

        Telemetry {
            registry,
            status,
            last_duration,
            duration,
            runs,
            state_hard,
            flapping,
            last_run,
            check_metric,
            lateness,
            in_flight,
            skipped,
            checks,
            results_dropped,
            detail,
            tracked: Mutex::new(HashMap::new()),
            location: String::new(),
        }
    }

    /// The telemetry of a runner in `location`: its checks' series carry it as their
    /// `location` label.
    pub fn at_location(mut self, location: Option<&str>) -> Telemetry {
        self.location = location.unwrap_or_default().to_owned();
        self
    }

    /// The tracked label sets of entry `name`, created at `place` if there are none.
    fn track<'a>(
        &self,
        tracked: &'a mut HashMap<String, Tracked>,
        name: &str,
        place: impl FnOnce() -> Place,
    ) -> &'a mut Tracked {
        tracked.entry(name.to_owned()).or_insert_with(|| Tracked {
            place: place(),
            series: None,
            metrics: HashSet::new(),
        })
    }

    fn tracked(&self) -> MutexGuard<'_, HashMap<String, Tracked>> {
        // The map stays consistent even if a holder panicked: every update is a plain insert or remove.
        self.tracked.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records one finished run: status, durations, run count, hard/soft state, flapping,
    /// start time and the plugin's metrics.
    ///
    /// The plugin metric series of the check are replaced by those of this run: a metric the
    /// plugin no longer reports disappears. When the check's plugin changed since the last
    /// result, the series labelled with the old plugin are removed.
    pub fn record_result(&self, result: &CheckResult, hard: bool, flapping: bool) {
        self.record_result_at(|| Place::of_name(&result.check, &self.location), result, hard, flapping);
    }

    /// [`Telemetry::record_result`] for a result whose labels are `place` (asked for when
    /// the check has no series yet).
    fn record_result_at(&self, place: impl FnOnce() -> Place, result: &CheckResult, hard: bool, flapping: bool) {
        let mut tracked = self.tracked();
        let entry = self.track(&mut tracked, &result.check, place);
        let current = entry.series.as_ref().map(|s| s.plugin.as_str());
        if current != Some(result.plugin.as_str()) {
            if let Some(old) = current {
                let old = CheckLabels { place: entry.place.clone(), plugin: old.to_owned() };
                self.remove_plugin_series(&old);
            }
            entry.series = Some(self.series(&entry.place, &result.plugin));
        }
        let Some(series) = entry.series.as_mut() else { return };

        let seconds = result.duration.as_secs_f64();
        series.status.set(i64::from(result.status.exit_code()));
        series.last_duration.set(seconds);
        if let Some(histogram) = &series.duration {
            histogram.observe(seconds);
        }
        series.state_hard.set(i64::from(hard));
        series.flapping.set(i64::from(flapping));
        series.last_run.set(result.started_at_ms as f64 / 1000.0);
        let slot = Status::ALL.iter().position(|s| *s == result.status).unwrap_or(0);
        series.runs[slot]
            .get_or_insert_with(|| {
                self.runs
                    .get_or_create(&RunLabels { place: entry.place.clone(), status: result.status.as_str() })
                    .clone()
            })
            .inc();

        if !self.detail.plugin_metrics {
            return;
        }
        let mut fresh = HashSet::new();
        for metric in &result.metrics {
            let series =
                MetricLabels { place: entry.place.clone(), metric: clip(&metric.name), unit: clip(&metric.unit) };
            if fresh.len() >= MAX_PLUGIN_METRICS_PER_CHECK && !fresh.contains(&series) {
                continue;
            }
            self.check_metric.get_or_create(&series).set(metric.value);
            fresh.insert(series);
        }
        for stale in entry.metrics.difference(&fresh) {
            self.check_metric.remove(stale);
        }
        entry.metrics = fresh;
    }

    /// Creates the per-check series of `check` run by `plugin` (and its skipped-runs
    /// counter, at 0), returning their handles.
    fn series(&self, place: &Place, plugin: &str) -> Series {
        let labels = CheckLabels { place: place.clone(), plugin: plugin.to_owned() };
        let _ = self.skipped.get_or_create(&CheckOnly { place: place.clone() });
        Series {
            plugin: plugin.to_owned(),
            status: self.status.get_or_create(&labels).clone(),
            last_duration: self.last_duration.get_or_create(&labels).clone(),
            duration: self.detail.histograms.then(|| self.duration.get_or_create(&labels).clone()),
            state_hard: self.state_hard.get_or_create(&labels).clone(),
            flapping: self.flapping.get_or_create(&labels).clone(),
            last_run: self.last_run.get_or_create(&labels).clone(),
            runs: Default::default(),
        }
    }

    fn remove_plugin_series(&self, labels: &CheckLabels) {
        self.status.remove(labels);
        self.last_duration.remove(labels);
        self.duration.remove(labels);
        self.state_hard.remove(labels);
        self.flapping.remove(labels);
        self.last_run.remove(labels);
    }

    /// Records how late a run started: its actual start minus its due time.
    pub fn record_lateness(&self, late: Duration) {
        self.lateness.observe(late.as_secs_f64());
    }

    /// Counts a run as started (`vitals_runs_in_flight` goes up by one).
    pub fn run_started(&self) {
        self.in_flight.inc();
    }

    /// Counts a run as finished (`vitals_runs_in_flight` goes down by one).
    pub fn run_finished(&self) {
        self.in_flight.dec();
    }

    /// Counts a run of `check` that was skipped because its previous run was still going.
    pub fn record_skipped(&self, check: &str) {
        self.record_skipped_at(|| Place::of_name(check, &self.location), check);
    }

    /// [`Telemetry::record_skipped`] for entry `name` whose labels are `place`.
    fn record_skipped_at(&self, place: impl FnOnce() -> Place, name: &str) {
        let mut tracked = self.tracked();
        let entry = self.track(&mut tracked, name, place);
        self.skipped.get_or_create(&CheckOnly { place: entry.place.clone() }).inc();
    }

    /// Sets the number of scheduled checks.
    pub fn set_checks(&self, n: usize) {
        self.checks.set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// Counts `n` results that were dropped rather than stored.
    pub fn record_results_dropped(&self, n: u64) {
        self.results_dropped.inc_by(n);
    }

    /// Removes every series of `check` (per-check gauges, histogram, counters and plugin
    /// metrics), for a check that a config reload removed. Unknown names are ignored.
    pub fn forget_check(&self, check: &str) {
        let mut tracked = self.tracked();
        let Some(entry) = tracked.remove(check) else {
            return;
        };
        if let Some(series) = entry.series {
            self.remove_plugin_series(&CheckLabels { place: entry.place.clone(), plugin: series.plugin });
        }
        for status in Status::ALL {
            self.runs.remove(&RunLabels { place: entry.place.clone(), status: status.as_str() });
        }
        self.skipped.remove(&CheckOnly { place: entry.place });
        for series in &entry.metrics {
            self.check_metric.remove(series);
        }
    }

    /// Every metric in the Prometheus text exposition format 0.0.4 (see [`CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_text::encode(&mut out, &self.registry).is_err() {
            // Writing to a String cannot fail; an encoder error would be a bug in a metric.
            tracing::warn!("encoding the Prometheus metrics failed; the output may be incomplete");
        }
        out
    }
}

impl Default for Telemetry {
    fn default() -> Telemetry {
        Telemetry::new()
    }
}

/// The scheduler tells the telemetry about every run, as it tells a sink about results.
impl Observer for Telemetry {
    fn checks(&self, count: usize) {
        self.set_checks(count);
    }

    fn run_started(&self, late: Duration) {
        self.record_lateness(late);
        Telemetry::run_started(self);
    }

    fn run_finished(&self) {
        Telemetry::run_finished(self);
    }

    fn skipped(&self, check: &CheckPlan) {
        self.record_skipped_at(|| Place::of(check, &self.location), &check.name);
    }

    fn result(&self, check: &CheckPlan, result: &CheckResult, hard: bool, flapping: bool) {
        self.record_result_at(|| Place::of(check, &self.location), result, hard, flapping);
    }

    fn removed(&self, check: &str) {
        self.forget_check(check);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::Metric;
    use prometheus_parse::{Sample, Scrape, Value};

    fn result(check: &str, plugin: &str, status: Status, millis: u64, metrics: &[(&str, f64, &str)]) -> CheckResult {
        CheckResult {
            check: check.to_owned(),
            plugin: plugin.to_owned(),
            plugin_version: "1.0.0".to_owned(),
            target: "https://example.test/".to_owned(),
            started_at_ms: 1_700_000_000_500,
            duration: Duration::from_millis(millis),
            status,
            summary: "summary".to_owned(),
            reason: None,
            metrics: metrics.iter().map(|&(name, value, unit)| Metric::plain(name, value, unit)).collect(),
            details: None,
            state: None,
        }
    }

    /// Parses `text` with an independent Prometheus text-format parser.
    pub(crate) fn parse(text: &str) -> Scrape {
        Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).expect("the exposition parses")
    }

    fn find<'a>(scrape: &'a Scrape, name: &str, labels: &[(&str, &str)]) -> Option<&'a Sample> {
        scrape.samples.iter().find(|s| {
            s.metric == name
                && s.labels.len() == labels.len()
                && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v))
        })
    }

    /// The value of a gauge, counter or untyped sample.
    fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        match &find(scrape, name, labels)?.value {
            Value::Gauge(v) | Value::Counter(v) | Value::Untyped(v) => Some(*v),
            other => panic!("{name} is not a scalar: {other:?}"),
        }
    }

    /// The `+Inf` bucket of a histogram, which is its count.
    fn histogram_count(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        match &find(scrape, name, labels)?.value {
            Value::Histogram(buckets) => buckets.iter().find(|b| b.less_than == f64::INFINITY).map(|b| b.count),
            other => panic!("{name} is not a histogram: {other:?}"),
        }
    }

    /// Every opt-in series on.
    const ALL: Detail = Detail { histograms: true, plugin_metrics: true };

    #[test]
    fn by_default_a_check_has_seven_series_and_no_histogram_or_plugin_metric() {
        let t = Telemetry::new();
        for i in 0..3 {
            t.record_result(&result("web", "http", Status::Ok, 10 + i, &[("time_total", 10.0, "ms")]), true, false);
        }
        let text = t.encode();
        let s = parse(&text);
        let web: Vec<&str> =
            s.samples.iter().filter(|x| x.labels.get("check") == Some("web")).map(|x| x.metric.as_str()).collect();
        assert_eq!(web.len(), 7, "{web:?}");
        assert!(!text.contains("vitals_check_duration_seconds_bucket"), "{text}");
        assert!(!text.contains("vitals_check_metric{"), "{text}");
        assert_eq!(value(&s, "vitals_check_runs_total", &[("check", "web"), ("status", "ok")]), Some(3.0));
        assert_eq!(
            value(&s, "vitals_check_last_duration_seconds", &[("check", "web"), ("plugin", "http")]),
            Some(0.012)
        );
        assert_eq!(value(&s, "vitals_runs_skipped_total", &[("check", "web")]), Some(0.0));
        t.forget_check("web");
        assert!(!t.encode().contains("\"web\""));
    }

    #[test]
    fn telemetry_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Telemetry>();
    }

    #[test]
    fn records_results_and_runner_metrics() {
        let t = Telemetry::with_detail(ALL);
        t.record_result(
            &result("web", "http", Status::Warning, 120, &[("time_total", 120.5, "ms"), ("size", 512.0, "B")]),
            false,
            false,
        );
        t.record_result(&result("web", "http", Status::Critical, 2000, &[("time_total", 2000.0, "ms")]), true, true);
        t.record_result(&result("db", "tcp", Status::Ok, 5, &[]), true, false);
        for ms in [3, 40, 7000] {
            t.record_lateness(Duration::from_millis(ms));
        }
        t.record_skipped("web");
        t.record_skipped("web");
        t.run_started();
        t.run_started();
        t.run_finished();
        t.set_checks(2);
        t.record_results_dropped(3);
        t.record_results_dropped(4);

        let s = parse(&t.encode());
        let web = [("check", "web"), ("plugin", "http")];
        let db = [("check", "db"), ("plugin", "tcp")];
        assert_eq!(value(&s, "vitals_check_status", &web), Some(2.0));
        assert_eq!(value(&s, "vitals_check_status", &db), Some(0.0));
        assert_eq!(value(&s, "vitals_check_runs_total", &[("check", "web"), ("status", "warning")]), Some(1.0));
        assert_eq!(value(&s, "vitals_check_runs_total", &[("check", "web"), ("status", "critical")]), Some(1.0));
        assert_eq!(value(&s, "vitals_check_runs_total", &[("check", "web"), ("status", "ok")]), None);
        assert_eq!(value(&s, "vitals_check_runs_total", &[("check", "db"), ("status", "ok")]), Some(1.0));
        assert_eq!(histogram_count(&s, "vitals_check_duration_seconds", &web), Some(2.0));
        assert_eq!(value(&s, "vitals_check_duration_seconds_count", &web), Some(2.0));
        assert_eq!(value(&s, "vitals_check_duration_seconds_sum", &web), Some(2.12));
        assert_eq!(histogram_count(&s, "vitals_check_duration_seconds", &db), Some(1.0));
        assert_eq!(value(&s, "vitals_check_last_duration_seconds", &web), Some(2.0));
        assert_eq!(value(&s, "vitals_check_state_hard", &web), Some(1.0));
        assert_eq!(value(&s, "vitals_check_flapping", &web), Some(1.0));
        assert_eq!(value(&s, "vitals_check_flapping", &db), Some(0.0));
        assert_eq!(value(&s, "vitals_check_last_run_timestamp_seconds", &web), Some(1_700_000_000.5));
        assert_eq!(
            value(&s, "vitals_check_metric", &[("check", "web"), ("metric", "time_total"), ("unit", "ms")]),
            Some(2000.0)
        );
        // The latest run no longer reported `size`: its series is gone.
        assert_eq!(value(&s, "vitals_check_metric", &[("check", "web"), ("metric", "size"), ("unit", "B")]), None);
        assert_eq!(histogram_count(&s, "vitals_schedule_lateness_seconds", &[]), Some(3.0));
        assert_eq!(value(&s, "vitals_schedule_lateness_seconds_count", &[]), Some(3.0));
        assert_eq!(value(&s, "vitals_runs_skipped_total", &[("check", "web")]), Some(2.0));
        assert_eq!(value(&s, "vitals_runs_in_flight", &[]), Some(1.0));
        assert_eq!(value(&s, "vitals_checks", &[]), Some(2.0));
        assert_eq!(value(&s, "vitals_results_dropped_total", &[]), Some(7.0));
        assert_eq!(value(&s, "vitals_build_info", &[("version", env!("CARGO_PKG_VERSION"))]), Some(1.0));
    }

    #[test]
    fn forget_check_removes_every_series_of_the_check() {
        let t = Telemetry::with_detail(ALL);
        t.record_result(&result("web", "http", Status::Ok, 10, &[("time_total", 10.0, "ms")]), true, false);
        t.record_result(&result("web", "http", Status::Unknown, 10, &[("time_total", 11.0, "ms")]), false, false);
        t.record_skipped("web");
        t.record_result(&result("db", "tcp", Status::Ok, 5, &[("connect", 1.5, "ms")]), true, false);
        t.record_skipped("db");

        t.forget_check("web");
        t.forget_check("never-seen");
        let text = t.encode();
        assert!(!text.contains("\"web\""), "series of the forgotten check remain:\n{text}");
        let s = parse(&text);
        assert!(s.samples.iter().all(|sample| sample.labels.get("check") != Some("web")));
        assert_eq!(value(&s, "vitals_check_status", &[("check", "db"), ("plugin", "tcp")]), Some(0.0));
        assert_eq!(
            value(&s, "vitals_check_metric", &[("check", "db"), ("metric", "connect"), ("unit", "ms")]),
            Some(1.5)
        );
        assert_eq!(value(&s, "vitals_runs_skipped_total", &[("check", "db")]), Some(1.0));

        // A check that comes back starts afresh.
        t.record_result(&result("web", "http", Status::Ok, 10, &[]), true, false);
        let s = parse(&t.encode());
        assert_eq!(value(&s, "vitals_check_runs_total", &[("check", "web"), ("status", "ok")]), Some(1.0));
        assert_eq!(value(&s, "vitals_check_runs_total", &[("check", "web"), ("status", "unknown")]), None);
        assert_eq!(
            histogram_count(&s, "vitals_check_duration_seconds", &[("check", "web"), ("plugin", "http")]),
            Some(1.0)
        );
    }

    #[test]
    fn a_new_plugin_replaces_the_series_of_the_old_one() {
        let t = Telemetry::with_detail(ALL);
        t.record_result(&result("web", "http", Status::Critical, 10, &[]), true, false);
        t.record_result(&result("web", "http2.wasm", Status::Ok, 10, &[]), true, false);
        let s = parse(&t.encode());
        assert_eq!(value(&s, "vitals_check_status", &[("check", "web"), ("plugin", "http")]), None);
        assert_eq!(histogram_count(&s, "vitals_check_duration_seconds", &[("check", "web"), ("plugin", "http")]), None);
        assert_eq!(value(&s, "vitals_check_status", &[("check", "web"), ("plugin", "http2.wasm")]), Some(0.0));
        assert_eq!(value(&s, "vitals_check_runs_total", &[("check", "web"), ("status", "critical")]), Some(1.0));
    }

    #[test]
    fn plugin_metric_names_are_escaped_clipped_and_capped() {
        let t = Telemetry::with_detail(ALL);
        let long = "é".repeat(100);
        let mut metrics = vec![("evil\"} 1\nvitals_fake 7", 1.0, "ms\\"), (long.as_str(), 2.0, "")];
        let names: Vec<String> = (0..100).map(|i| format!("m{i}")).collect();
        metrics.extend(names.iter().map(|n| (n.as_str(), 0.0, "")));
        t.record_result(&result("web", "http", Status::Ok, 10, &metrics), true, false);
        let text = t.encode();

        // Every sample line is one of ours: the plugin could not inject a metric.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.starts_with("vitals_") && !line.starts_with("vitals_fake"), "{line}");
        }
        assert!(text.contains(r#"metric="evil\"} 1\nvitals_fake 7",unit="ms\\"} 1"#), "{text}");
        assert!(text.contains(&format!("metric=\"{}\"", "é".repeat(MAX_PLUGIN_LABEL_BYTES / 2))));
        assert!(!text.contains(&"é".repeat(MAX_PLUGIN_LABEL_BYTES / 2 + 1)));
        let series = text.lines().filter(|l| l.starts_with("vitals_check_metric{")).count();
        assert_eq!(series, MAX_PLUGIN_METRICS_PER_CHECK);
    }

    #[test]
    fn every_series_of_a_runner_with_a_location_carries_it_and_a_location_series_its_own() {
        let t = Telemetry::with_detail(ALL).at_location(Some("eu"));
        t.record_result(&result("db", "tcp", Status::Ok, 5, &[("connect", 1.5, "ms")]), true, false);
        t.record_result(&result("web@us", "http", Status::Critical, 7, &[]), true, false);
        t.record_skipped("db");
        let s = parse(&t.encode());
        let of = |check: &str| -> Vec<String> {
            s.samples
                .iter()
                .filter(|x| x.labels.get("check") == Some(check))
                .map(|x| x.labels.get("location").unwrap_or("(none)").to_owned())
                .collect()
        };
        let db = of("db");
        assert!(db.len() >= 8 && db.iter().all(|l| l == "eu"), "{db:?}");
        let web = of("web");
        assert!(!web.is_empty() && web.iter().all(|l| l == "us"), "{web:?}");
        assert_eq!(
            value(&s, "vitals_check_status", &[("check", "web"), ("location", "us"), ("plugin", "http")]),
            Some(2.0)
        );
        assert_eq!(value(&s, "vitals_runs_skipped_total", &[("check", "db"), ("location", "eu")]), Some(1.0));
        assert!(of("web@us").is_empty());
        // Forgetting an entry removes its series under the labels it was given.
        t.forget_check("web@us");
        assert!(parse(&t.encode()).samples.iter().all(|x| x.labels.get("check") != Some("web")));
    }
}
