//! One check's report over a window: time-weighted availability, incidents, measurement
//! resolution, response-time and phase percentiles, every plugin metric, the trend against
//! the previous window, the SLO and the timeline for charts.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::latency::{LatencySketch, Summary, Trend, nearest_rank, trend};
use super::rollup::Cadence;
use super::sla::{
    Availabilities, Availability, BURN_SPANS, HardChange, Incidents, Options, Periods, Resolution, SloReport, Window,
    incidents_from_changes, month_of, slo_report, union,
};
use super::tiered::{Load, Tiered};
use super::timeline::Timeline;
use crate::plan::Timing;
use crate::result::Status;
use crate::result::state::Event;
use crate::store::{ChangeKind, ResultStore, StoreError};

/// Everything reported about one check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    /// The check's name.
    pub check: String,
    /// Time-weighted availability (HARD states) and the raw ratio of ok attempts.
    pub availability: Availability,
    /// HARD non-ok periods, MTTR and MTBF.
    pub incidents: Incidents,
    /// The periods the HARD state was warning: degraded, which counts as up (the time
    /// weighted as availability is, maintenance cut out, is `availability.degraded_ms`).
    pub warnings: Periods,
    /// The periods the check was flapping (its state changing too often to trust).
    pub flapping: Periods,
    /// The raw ratio of good attempts is far below HARD availability (by more than
    /// [`HIDDEN_FAILURES`]): failures the retries absorbed, or flapping, are hidden by it.
    pub hidden_failures: bool,
    /// The shortest outage the data can see, and how long one takes to become HARD.
    pub resolution: Resolution,
    /// The maintenance windows that overlap the report window (cut out of availability).
    pub maintenance: Vec<Window>,
    /// Response time over the window: the plugin's `time_total` where it reports one,
    /// else the run's duration.
    pub response_time: Option<Summary>,
    /// Where the percentiles come from: `raw` (exact) or `sketch` (hourly sketches merged,
    /// within 0.1 %).
    pub percentiles_from: &'static str,
    /// Percentiles of each timing phase the plugin reports (`time_dns`, `time_connect`,
    /// `time_tls`, `time_first_byte`…).
    pub phases: BTreeMap<String, Summary>,
    /// Every numeric plugin metric over the window, when the window is read from raw results
    /// (inside the retention, or with `--exact`); `None` otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<BTreeMap<String, MetricSummary>>,
    /// p95 against the previous window of the same length, flagged when it grew by
    /// more than the threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trend: Option<Trend>,
    /// Error budget, burn rates and alert verdicts over the SLO window ending now, when
    /// the check has an objective.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slo: Option<SloReport>,
    /// Some figure prorated an hour whose raw results are past retention (an hour cut by
    /// the window or by maintenance): it is then approximate to within that hour.
    pub approximate: bool,
    /// Availability per day and response time per bucket, for charts.
    pub timeline: Timeline,
}

/// How far, as a fraction, the raw ratio of good attempts may fall below HARD availability
/// before a report flags the check: 0.01 is one percentage point.
pub const HIDDEN_FAILURES: f64 = 0.01;

/// Whether `a`'s raw ratio is more than [`HIDDEN_FAILURES`] below its HARD ratio.
pub fn hides_failures(a: &Availability) -> bool {
    matches!((a.ratio, a.raw_ratio), (Some(hard), Some(raw)) if hard - raw > HIDDEN_FAILURES)
}

/// One plugin metric over the window (exact, from raw results).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricSummary {
    /// Its unit, as the plugin reports it (the last one seen).
    pub unit: String,
    /// Values.
    pub count: u64,
    /// Smallest.
    pub min: f64,
    /// Mean.
    pub mean: f64,
    /// Median (nearest rank).
    pub p50: f64,
    /// 95th percentile (nearest rank).
    pub p95: f64,
    /// 99th percentile (nearest rank).
    pub p99: f64,
    /// Largest.
    pub max: f64,
    /// The latest value.
    pub last: f64,
}

/// What every check's report is about.
#[derive(Debug, Clone)]
pub struct Request {
    /// The report window; its end is "now" for the SLO.
    pub window: Window,
    /// How results count.
    pub options: Options,
    /// A p95 growth above this fraction is a regression.
    pub regression_threshold: f64,
    /// Read raw results only.
    pub exact: bool,
}

/// What one check adds to the report of a group of checks.
#[derive(Debug, Clone)]
pub struct Contribution {
    /// Its availability over the window.
    pub availability: Availability,
    /// Its incidents.
    pub incidents: usize,
    /// Its periods of HARD warning.
    pub warnings: usize,
    /// Its periods of flapping.
    pub flapping: usize,
    /// Its response times over the window (a sketch payload, see
    /// [`LatencySketch::to_payload_bytes`]).
    pub response_time: Vec<u8>,
}

/// Builds the report of check `name` from `store`. `maintenance` are the windows that
/// cover it over the span asked about (any order, may overlap).
pub fn check_report(
    store: &dyn ResultStore,
    name: &str,
    timing: &Timing,
    maintenance: &[Window],
    request: &Request,
) -> Result<(CheckReport, Contribution), StoreError> {
    let window = request.window;
    let now = window.to_ms;
    let previous = Window { from_ms: window.from_ms.saturating_sub(window.len_ms()), to_ms: window.from_ms };
    let slo_from = timing.slo.as_ref().map_or(now, |slo| {
        if slo.calendar_month {
            month_of(now).0
        } else {
            now.saturating_sub(i64::try_from(slo.window.as_millis()).unwrap_or(i64::MAX))
        }
    });
    let span = Window { from_ms: previous.from_ms.min(slo_from), to_ms: now };

    let (before, changes) = store.changes(name, ChangeKind::Hard, window.from_ms, window.to_ms)?;
    let as_change = |e: &crate::result::EventRecord| match e.event {
        Event::HardChange { to, at_ms, .. } => Some(HardChange { at_ms, to, summary: e.summary.clone() }),
        _ => None,
    };
    let before = before.as_ref().and_then(as_change);
    let changes: Vec<HardChange> = changes.iter().filter_map(as_change).collect();
    let warnings = Periods::from_changes(
        before.as_ref().is_some_and(|b| b.to == Status::Warning),
        changes.iter().map(|c| (c.at_ms, c.to == Status::Warning)),
        window,
    );
    let (flap_before, flaps) = store.changes(name, ChangeKind::Flapping, window.from_ms, window.to_ms)?;
    let flapping_on = |e: &crate::result::EventRecord| match e.event {
        Event::FlappingStarted { at_ms, .. } => Some((at_ms, true)),
        Event::FlappingStopped { at_ms, .. } => Some((at_ms, false)),
        Event::HardChange { .. } => None,
    };
    let flapping = Periods::from_changes(
        flap_before.as_ref().and_then(flapping_on).is_some_and(|(_, on)| on),
        flaps.iter().filter_map(flapping_on),
        window,
    );

    let mut cuts = vec![window.from_ms, window.to_ms, previous.from_ms];
    // The SLO's windows all end now; only a check with an objective is asked about them.
    if timing.slo.is_some() {
        let ago = |d: Duration| now.saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        cuts.push(slo_from);
        cuts.extend(BURN_SPANS.iter().map(|&s| ago(s)));
        cuts.extend(super::sla::ALERT_RULES.iter().flat_map(|r| [ago(r.short), ago(r.long)]));
    }
    cuts.extend(changes.iter().map(|c| c.at_ms));
    // Charts of a short window have buckets shorter than an hour: their hours are read raw.
    if super::timeline::bucket_ms(window) < crate::store::HOUR_MS {
        cuts.extend(super::timeline::bucket_edges(window));
    }

    let cadence =
        Cadence { interval: timing.interval, retries: timing.policy.retries, retry_interval: timing.retry_interval };
    let maintenance = union(maintenance);
    let tiered = Tiered::load_for(
        store,
        &Load {
            check: name,
            cadence,
            options: request.options,
            maintenance: maintenance.clone(),
            span,
            cuts,
            // Raw results are kept from the oldest sealed hour on; without any, every rollup
            // is all there is.
            raw_since_ms: store.oldest_sealed_hour(name)?.unwrap_or(i64::MAX),
            exact: request.exact,
        },
        window,
    )?;

    let availability = tiered.availability_over(window);
    let incidents = incidents_from_changes(before.as_ref(), &changes, window, request.options.warning, &tiered);
    let all_raw = tiered.all_raw(window);
    // The window's sketch comes out of the timeline's buckets: for its percentiles (unless
    // raw results give exact ones) and, compacted, for the groups.
    let mut sketch = LatencySketch::new();
    let mut window_sketch = LatencySketch::new();
    let timeline = super::timeline::build(&tiered, window, &mut sketch, &mut window_sketch);
    let contribution_sketch = window_sketch.to_payload_bytes();
    let sketch_time = window_sketch.summary();
    drop(window_sketch);
    let response_time = if all_raw { tiered.response_time(window, &mut sketch) } else { sketch_time };
    let previous_time = tiered.response_time(previous, &mut sketch);
    let report = CheckReport {
        check: name.to_string(),
        hidden_failures: hides_failures(&availability),
        availability: availability.clone(),
        warnings,
        flapping,
        resolution: Resolution::of(cadence.interval, cadence.retries, cadence.retry_interval),
        maintenance: maintenance.iter().copied().filter(|m| window.overlap(m.from_ms, m.to_ms) > 0).collect(),
        trend: match (&previous_time, &response_time) {
            (Some(p), Some(c)) => Some(trend(p, c, request.regression_threshold)),
            _ => None,
        },
        response_time,
        percentiles_from: if all_raw { "raw" } else { "sketch" },
        phases: tiered.phases(window),
        metrics: all_raw.then(|| metric_summaries(tiered.results_in(window))),
        slo: timing.slo.as_ref().map(|slo| slo_report(&tiered, slo, now)),
        approximate: tiered.approximate(),
        timeline,
        incidents,
    };
    let contribution = Contribution {
        availability,
        incidents: report.incidents.count,
        warnings: report.warnings.count,
        flapping: report.flapping.count,
        response_time: contribution_sketch,
    };
    Ok((report, contribution))
}

/// Every finite plugin metric of `results`, summarised exactly.
fn metric_summaries<'a>(
    results: impl Iterator<Item = &'a crate::result::CheckResult>,
) -> BTreeMap<String, MetricSummary> {
    let mut values: BTreeMap<&str, (String, Vec<f64>, f64)> = BTreeMap::new();
    for r in results {
        for m in r.metrics.iter().filter(|m| m.value.is_finite()) {
            let entry = values.entry(m.name.as_str()).or_insert_with(|| (String::new(), Vec::new(), 0.0));
            entry.0.clone_from(&m.unit);
            entry.1.push(m.value);
            entry.2 = m.value;
        }
    }
    values
        .into_iter()
        .filter_map(|(name, (unit, mut v, last))| {
            v.sort_by(f64::total_cmp);
            let n = v.len();
            let at = |q: f64| nearest_rank(q, n as u64).map_or(f64::NAN, |rank| v[(rank - 1) as usize]);
            Some((
                name.to_string(),
                MetricSummary {
                    unit,
                    count: n as u64,
                    min: *v.first()?,
                    mean: v.iter().sum::<f64>() / n as f64,
                    p50: at(0.5),
                    p95: at(0.95),
                    p99: at(0.99),
                    max: *v.last()?,
                    last,
                },
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_maintenance_windows_merge() {
        let w = |a, b| Window { from_ms: a, to_ms: b };
        assert_eq!(union(&[w(5, 9), w(0, 3), w(2, 6), w(20, 20), w(10, 12)]), vec![w(0, 9), w(10, 12)]);
    }

    #[test]
    fn metrics_are_summarised_by_name_with_the_last_value() {
        let mut r = crate::result::CheckResult {
            check: "db".into(),
            plugin: "pg".into(),
            plugin_version: "1".into(),
            target: "x".into(),
            started_at_ms: 0,
            duration: Duration::ZERO,
            status: crate::result::Status::Ok,
            summary: String::new(),
            reason: None,
            metrics: Vec::new(),
            details: None,
            state: None,
        };
        let results: Vec<crate::result::CheckResult> = (1..=100)
            .map(|i| {
                r.metrics = vec![crate::result::Metric {
                    name: "replication_lag".into(),
                    value: f64::from(i),
                    unit: "s".into(),
                    warn: None,
                    crit: None,
                    min: None,
                    max: None,
                }];
                r.clone()
            })
            .collect();
        let m = metric_summaries(results.iter());
        let lag = &m["replication_lag"];
        assert_eq!((lag.count, lag.min, lag.p50, lag.p95, lag.max, lag.last), (100, 1.0, 50.0, 95.0, 100.0, 100.0));
        assert_eq!(lag.unit, "s");
    }
}
