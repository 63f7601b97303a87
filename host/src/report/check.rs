//! One check's report over a window, from its stored results: time-weighted
//! availability, incidents, measurement resolution and response-time percentiles.

use std::time::Duration;

use serde::Serialize;

use super::latency::{Summary, Trend, exact_summary, trend};
use super::sla::{Availability, History, Incidents, Options, Resolution, Sample, SloReport, Window};
use super::timeline::{self, Timeline};
use crate::config::Timing;
use crate::result::{CheckResult, StateType};

/// The metric whose values are the check's response time, when the plugin reports it.
const RESPONSE_TIME: &str = "time_total";

/// Everything reported about one check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    /// The check's name.
    pub check: String,
    /// Time-weighted availability (HARD states) and the raw ratio of ok attempts.
    pub availability: Availability,
    /// HARD non-ok periods, MTTR and MTBF.
    pub incidents: Incidents,
    /// The shortest outage the data can see, and how long one takes to become HARD.
    pub resolution: Resolution,
    /// Response time over the window: the plugin's `time_total` where it reports one,
    /// else the run's duration.
    pub response_time: Option<Summary>,
    /// p95 against the previous window of the same length, flagged when it grew by
    /// more than the threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trend: Option<Trend>,
    /// Error budget, burn rates and alert verdicts over the SLO window ending now, when
    /// the check has an objective.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slo: Option<SloReport>,
    /// Availability per day and response time per bucket, for charts.
    pub timeline: Timeline,
}

/// Builds the report of `check` over `window` from its results (`before` is the last
/// result before them). The results may start before `window`: they then also cover
/// the SLO window, which ends at `window.to_ms`.
pub fn check_report(
    check: &str,
    timing: &Timing,
    before: Option<&CheckResult>,
    results: &[CheckResult],
    window: Window,
    regression_threshold: f64,
) -> CheckReport {
    let sample = |r: &CheckResult| Sample {
        at_ms: r.started_at_ms,
        status: r.status,
        // Results stored before states were recorded count as confirmed.
        state: r.state.map_or(StateType::Hard, |s| s.kind),
    };
    let samples: Vec<Sample> = results.iter().map(sample).collect();
    let history = History {
        samples: &samples,
        before: before.map(sample),
        interval: timing.interval,
        retries: timing.policy.retries,
        retry_interval: timing.retry_interval,
        maintenance: &[],
        options: Options::default(),
    };
    let times_in = |w: Window| -> Vec<Duration> {
        results.iter().filter(|r| w.contains(r.started_at_ms)).map(response_time).collect()
    };
    let timed: Vec<(i64, Duration)> = results.iter().map(|r| (r.started_at_ms, response_time(r))).collect();
    let current = exact_summary(&mut times_in(window));
    let previous_window = Window { from_ms: window.from_ms.saturating_sub(window.len_ms()), to_ms: window.from_ms };
    let previous = exact_summary(&mut times_in(previous_window));
    CheckReport {
        check: check.to_string(),
        availability: history.availability(window),
        incidents: history.incidents(window),
        resolution: history.resolution(),
        trend: match (&previous, &current) {
            (Some(p), Some(c)) => Some(trend(p, c, regression_threshold)),
            _ => None,
        },
        response_time: current,
        slo: timing.slo.as_ref().map(|slo| history.slo_report(slo, window.to_ms)),
        timeline: timeline::build(&history, &timed, window),
    }
}

fn response_time(r: &CheckResult) -> Duration {
    r.metrics
        .iter()
        .find(|m| m.name == RESPONSE_TIME && m.unit == "ms" && m.value.is_finite() && m.value >= 0.0)
        .map_or(r.duration, |m| Duration::from_secs_f64(m.value / 1000.0))
}
