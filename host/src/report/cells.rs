//! The figures of a check report as people read them, formatted once for every renderer:
//! the text table, Markdown and HTML show the same strings.

use std::time::Duration;

use super::check::CheckReport;
use super::groups::GroupReport;
use super::latency::Summary;
use super::sla::Availability;
use vitals_units::format_duration;

/// The figures the table, the Markdown and the HTML show, formatted.
pub struct Cells {
    /// HARD availability, time-weighted (`99.950%`, or `no data`).
    pub availability: String,
    /// The ratio of ok attempts.
    pub raw: String,
    /// The number of incidents.
    pub incidents: usize,
    /// Mean time to repair, or `-`.
    pub mttr: String,
    /// Mean time between failures, or `-`.
    pub mtbf: String,
    /// Median response time, or `-`.
    pub p50: String,
    /// 95th percentile response time, or `-`.
    pub p95: String,
    /// 99th percentile response time, or `-`.
    pub p99: String,
    /// The change of p95 against the previous window (`+12%`), or `-`.
    pub trend: String,
    /// Whether that change is flagged as a regression.
    pub regression: bool,
    /// The error budget left (`42.0%`), or `-` without an objective.
    pub budget_left: String,
}

impl Cells {
    /// The formatted figures of `r`.
    pub fn of(r: &CheckReport) -> Cells {
        Cells {
            mttr: mean(r.incidents.mttr_ms),
            mtbf: mean(r.incidents.mtbf_ms),
            trend: r.trend.as_ref().map_or_else(|| "-".to_string(), |t| format!("{:+.0}%", t.change * 100.0)),
            regression: r.trend.as_ref().is_some_and(|t| t.regression),
            budget_left: budget_percent(r.slo.as_ref().and_then(|s| s.budget.remaining_percent)),
            ..Cells::figures(&r.availability, r.incidents.count, r.response_time.as_ref())
        }
    }

    /// The formatted figures of the checks of a tag, together.
    pub fn of_group(g: &GroupReport) -> Cells {
        Cells::figures(&g.availability, g.incidents, g.response_time.as_ref())
    }

    /// The figures any set of results has (a check, or a group of checks); those only a
    /// single check has (MTTR, MTBF, trend, budget) are `-`.
    pub fn figures(a: &Availability, incidents: usize, p: Option<&Summary>) -> Cells {
        let ms = |d: Option<Duration>| d.map_or_else(|| "-".to_string(), format_duration);
        Cells {
            availability: percent(a.ratio),
            raw: percent(a.raw_ratio),
            incidents,
            mttr: "-".into(),
            mtbf: "-".into(),
            p50: ms(p.map(|s| s.p50)),
            p95: ms(p.map(|s| s.p95)),
            p99: ms(p.map(|s| s.p99)),
            trend: "-".into(),
            regression: false,
            budget_left: "-".into(),
        }
    }
}

/// A mean time in milliseconds, formatted, or `-`.
fn mean(ms: Option<f64>) -> String {
    ms.map_or_else(|| "-".to_string(), |m| format_duration(Duration::from_secs_f64(m.max(0.0) / 1000.0)))
}

/// A ratio as a percentage with three decimals, or `no data`.
pub fn percent(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "no data".to_string(), |r| format!("{:.3}%", r * 100.0))
}

/// The share of an error budget left, with one decimal, or `-`.
pub fn budget_percent(remaining_percent: Option<f64>) -> String {
    remaining_percent.map_or_else(|| "-".to_string(), |p| format!("{p:.1}%"))
}
