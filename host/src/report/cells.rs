//! The figures of a check report as people read them, formatted once for every renderer:
//! the text table, Markdown and HTML show the same strings.

use std::time::Duration;

use super::check::CheckReport;
use super::groups::GroupReport;
use super::latency::Summary;
use super::sla::{Availability, SloReport};
use vitals_units::format_duration;

/// The figures the table, the Markdown and the HTML show, formatted.
pub struct Cells {
    /// HARD availability, time-weighted (`99.950%`, or `no data`).
    pub availability: String,
    /// The ratio of ok attempts.
    pub raw: String,
    /// The raw ratio is far below HARD availability: retries or flapping hide failures.
    pub hidden_failures: bool,
    /// Time up but degraded (HARD warning), or `-` without any.
    pub degraded: String,
    /// The number of incidents.
    pub incidents: usize,
    /// The number of periods of HARD warning.
    pub warnings: usize,
    /// The number of flapping periods and their time (`2, 35.0 m`), or `-` without any.
    pub flapping: String,
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
            flapping: if r.flapping.count == 0 {
                "-".to_string()
            } else {
                format!("{}, {}", r.flapping.count, span(r.flapping.total_ms))
            },
            hidden_failures: r.hidden_failures,
            warnings: r.warnings.count,
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
        Cells {
            warnings: g.warnings,
            flapping: if g.flapping == 0 { "-".to_string() } else { g.flapping.to_string() },
            ..Cells::figures(&g.availability, g.incidents, g.response_time.as_ref())
        }
    }

    /// The figures any set of results has (a check, or a group of checks); those only a
    /// single check has (MTTR, MTBF, trend, budget, flapping time) are `-`, and the counts
    /// of warning and flapping periods, which come from the events, 0.
    pub fn figures(a: &Availability, incidents: usize, p: Option<&Summary>) -> Cells {
        let ms = |d: Option<Duration>| d.map_or_else(|| "-".to_string(), format_duration);
        Cells {
            availability: percent(a.ratio),
            raw: percent(a.raw_ratio),
            hidden_failures: crate::report::check::hides_failures(a),
            degraded: if a.degraded_ms > 0 { span(a.degraded_ms) } else { "-".to_string() },
            incidents,
            warnings: 0,
            flapping: "-".into(),
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

/// A length of time in milliseconds in the unit its magnitude asks for (`850.0 ms`,
/// `7.2 m`, `3.1 h`), negative ones with a minus sign.
pub fn span(ms: i64) -> String {
    match ms {
        0 => "0 s".to_string(),
        ..0 => format!("-{}", format_duration(Duration::from_millis(ms.unsigned_abs()))),
        _ => format_duration(Duration::from_millis(ms.unsigned_abs())),
    }
}

/// A ratio as a percentage with three decimals, or `no data`.
pub fn percent(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "no data".to_string(), |r| format!("{:.3}%", r * 100.0))
}

/// The share of an error budget left, with one decimal, or `-`.
pub fn budget_percent(remaining_percent: Option<f64>) -> String {
    remaining_percent.map_or_else(|| "-".to_string(), |p| format!("{p:.1}%"))
}

/// What an SLO's figures rest on, when that is too little to mean much: `only 5.0 s of
/// data (0.0% of 30.0 d)`; `None` when there is enough.
pub fn thin_data(slo: &SloReport) -> Option<String> {
    (!slo.data.enough).then(|| {
        format!(
            "only {} of data ({:.1}% of {})",
            span(slo.data.measured_ms),
            slo.data.share * 100.0,
            span(slo.data.period_ms)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_take_the_unit_of_their_magnitude_and_keep_their_sign() {
        assert_eq!(span(5), "5.0 ms");
        assert_eq!(span(1_100), "1.1 s");
        assert_eq!(span(-1_100), "-1.1 s");
        assert_eq!(span(432_000), "7.2 m");
        assert_eq!(span(25_920_000), "7.2 h");
        assert_eq!(span(0), "0 s");
    }
}
