//! An SLO's error budget and burn rates over a check's availability, the multi-window,
//! multi-burn-rate alerts of the Google SRE workbook, and the UTC calendar month a
//! calendar-month SLO is measured over.

use std::time::Duration;

use serde::Serialize;

#[cfg(doc)]
use super::Availability;
use super::{Availabilities, History, Slo, Window, millis, ratio};

/// The error budget of an SLO over its window ending now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorBudget {
    /// The window the budget is over: `[now - slo.window, now)`.
    pub window: Window,
    /// The measured time of that window ([`Availability::measured_ms`]).
    pub measured_ms: i64,
    /// The budget: `(1 - target) × measured_ms`, rounded to the nearest millisecond (which
    /// also absorbs the binary rounding of `1 - 0.999`).
    pub total_ms: i64,
    /// The time counted down ([`Availability::counted_down_ms`]).
    pub consumed_ms: i64,
    /// `total_ms - consumed_ms`; negative once the budget is overspent.
    pub remaining_ms: i64,
    /// `remaining_ms` as a percentage of `total_ms`; `None` when the budget is zero.
    pub remaining_percent: Option<f64>,
}

/// How fast the budget burns over one span ending now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BurnRate {
    /// The span's length in milliseconds; the span is `[now - span_ms, now)`.
    pub span_ms: i64,
    /// The time counted down in it ([`Availability::counted_down_ms`]).
    pub down_ms: i64,
    /// Its measured time ([`Availability::measured_ms`]).
    pub measured_ms: i64,
    /// `(down_ms / measured_ms) / (1 - target)`: 1 spends exactly the budget over the SLO
    /// window, 14.4 spends 2 % of a 30-day budget in an hour. `None` when nothing was
    /// measured or the target leaves no budget.
    pub burn: Option<f64>,
}

/// Whether an alert wakes someone up or files a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Someone must act now.
    Page,
    /// Someone should look within a working day.
    Ticket,
}

/// A multi-window burn-rate alert rule: it fires when both the long and the short span burn
/// faster than the threshold (the long one shows the problem is significant, the short one
/// that it is still going on).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AlertRule {
    /// Page or ticket.
    pub severity: Severity,
    /// The long span.
    pub long: Duration,
    /// The short span (1/12 of the long one).
    pub short: Duration,
    /// Both burn rates must be strictly above this.
    pub threshold: f64,
}

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// The spans [`SloReport::burn_rates`] reports: 1 hour, 6 hours, 1 day and 3 days.
pub const BURN_SPANS: [Duration; 4] =
    [Duration::from_secs(HOUR), Duration::from_secs(6 * HOUR), Duration::from_secs(DAY), Duration::from_secs(3 * DAY)];

/// The multi-window, multi-burn-rate alerts of the Google SRE workbook ("Alerting on SLOs"),
/// whose thresholds assume a 30-day SLO window: 14.4 spends 2 % of the budget in 1 hour,
/// 6 spends 5 % in 6 hours, 3 spends 10 % in a day, 1 spends 10 % in 3 days.
pub const ALERT_RULES: [AlertRule; 4] = [
    AlertRule {
        severity: Severity::Page,
        long: Duration::from_secs(HOUR),
        short: Duration::from_secs(5 * MINUTE),
        threshold: 14.4,
    },
    AlertRule {
        severity: Severity::Page,
        long: Duration::from_secs(6 * HOUR),
        short: Duration::from_secs(30 * MINUTE),
        threshold: 6.0,
    },
    AlertRule {
        severity: Severity::Ticket,
        long: Duration::from_secs(DAY),
        short: Duration::from_secs(2 * HOUR),
        threshold: 3.0,
    },
    AlertRule {
        severity: Severity::Ticket,
        long: Duration::from_secs(3 * DAY),
        short: Duration::from_secs(6 * HOUR),
        threshold: 1.0,
    },
];

/// The verdict of one [`AlertRule`] with the two burn rates it measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BurnAlert {
    /// The rule.
    pub rule: AlertRule,
    /// The burn rate over the long span.
    pub long: BurnRate,
    /// The burn rate over the short span.
    pub short: BurnRate,
    /// Both burn rates are known and strictly above the threshold.
    pub firing: bool,
}

/// An SLO's budget, burn rates and alerts at one instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SloReport {
    /// The objective.
    pub slo: Slo,
    /// The error budget over the SLO window ending now.
    pub budget: ErrorBudget,
    /// The burn rates over [`BURN_SPANS`] ending now, in that order.
    pub burn_rates: Vec<BurnRate>,
    /// The verdicts of [`ALERT_RULES`], in that order.
    pub alerts: Vec<BurnAlert>,
    /// How much of the SLO window the figures rest on.
    pub data: DataCoverage,
}

/// How much of an SLO's window was measured: an error budget over a few minutes of data is
/// a few milliseconds, which one failed run overspends many times over.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DataCoverage {
    /// The measured time of the SLO window ([`ErrorBudget::measured_ms`]).
    pub measured_ms: i64,
    /// The whole SLO period: its window, or the whole calendar month.
    pub period_ms: i64,
    /// `measured_ms / period_ms`.
    pub share: f64,
    /// Whether the figures rest on enough data to mean much: at least
    /// [`ENOUGH_DATA`] of the period measured.
    pub enough: bool,
}

/// The share of its period an SLO must have measured before its figures mean much.
pub const ENOUGH_DATA: f64 = 0.1;

/// The error budget, burn rates and alert verdicts of `slo` at `now_ms`.
pub fn slo_report(source: &impl Availabilities, slo: &Slo, now_ms: i64) -> SloReport {
    let (window, rest_of_period_ms) = if slo.calendar_month {
        let (start, end) = month_of(now_ms);
        (Window { from_ms: start, to_ms: now_ms }, end - now_ms)
    } else {
        (Window { from_ms: now_ms.saturating_sub(millis(slo.window)), to_ms: now_ms }, 0)
    };
    let availability = source.availability_over(window);
    // A calendar month's budget is that of the whole month: the rest of it counts as if it
    // will be measured.
    let total_ms = (slo.error_fraction() * (availability.measured_ms + rest_of_period_ms) as f64).round() as i64;
    let consumed_ms = availability.counted_down_ms();
    let remaining_ms = total_ms - consumed_ms;
    let budget = ErrorBudget {
        window,
        measured_ms: availability.measured_ms,
        total_ms,
        consumed_ms,
        remaining_ms,
        remaining_percent: ratio(remaining_ms as f64 * 100.0, total_ms as f64),
    };
    let burn_rates = BURN_SPANS.iter().map(|&span| burn_rate(source, slo, span, now_ms)).collect();
    let alerts = ALERT_RULES
        .iter()
        .map(|&rule| {
            let long = burn_rate(source, slo, rule.long, now_ms);
            let short = burn_rate(source, slo, rule.short, now_ms);
            let above = |b: &BurnRate| b.burn.is_some_and(|burn| burn > rule.threshold);
            let firing = above(&long) && above(&short);
            BurnAlert { rule, long, short, firing }
        })
        .collect();
    let period_ms = window.len_ms() + rest_of_period_ms;
    let share = ratio(availability.measured_ms as f64, period_ms as f64).unwrap_or(0.0);
    let data = DataCoverage { measured_ms: availability.measured_ms, period_ms, share, enough: share >= ENOUGH_DATA };
    SloReport { slo: *slo, budget, burn_rates, alerts, data }
}

/// The burn rate of `slo` over `[now_ms - span, now_ms)`.
pub fn burn_rate(source: &impl Availabilities, slo: &Slo, span: Duration, now_ms: i64) -> BurnRate {
    let span_ms = millis(span);
    let a = source.availability_over(Window { from_ms: now_ms.saturating_sub(span_ms), to_ms: now_ms });
    let fraction = slo.error_fraction();
    let down_ms = a.counted_down_ms();
    let burn = match ratio(down_ms as f64, a.measured_ms as f64) {
        Some(down_fraction) if fraction > 0.0 => Some(down_fraction / fraction),
        _ => None,
    };
    BurnRate { span_ms, down_ms, measured_ms: a.measured_ms, burn }
}

/// The UTC calendar month `at_ms` is in, as `[first millisecond, first of the next month)`.
pub fn month_of(at_ms: i64) -> (i64, i64) {
    use chrono::{Datelike, TimeZone, Utc};
    let Some(t) = Utc.timestamp_millis_opt(at_ms).single() else { return (at_ms, at_ms) };
    let start = |y: i32, m: u32| Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single().map(|d| d.timestamp_millis());
    let (ny, nm) = if t.month() == 12 { (t.year() + 1, 1) } else { (t.year(), t.month() + 1) };
    match (start(t.year(), t.month()), start(ny, nm)) {
        (Some(a), Some(b)) => (a, b),
        _ => (at_ms, at_ms),
    }
}

impl History<'_> {
    /// The error budget, burn rates and alert verdicts of `slo` at `now_ms`.
    pub fn slo_report(&self, slo: &Slo, now_ms: i64) -> SloReport {
        slo_report(self, slo, now_ms)
    }

    /// The burn rate of `slo` over `[now_ms - span, now_ms)`.
    pub fn burn_rate(&self, slo: &Slo, span: Duration, now_ms: i64) -> BurnRate {
        burn_rate(self, slo, span, now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sla::fixtures::*;
    use crate::report::sla::{NoData, Sample};

    /// `a` and `b` agree to 1e-12 relative: burn rates divide by `1 - 0.999`, which is not
    /// exact in binary (0.0010000000000000009).
    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() <= 1e-12 * b.abs().max(1.0))
    }

    #[test]
    fn error_budget_of_99_9_percent_over_30_days_with_a_30_minute_outage() {
        // One result a minute for 30 days; HARD critical for minutes 1000-1029.
        let samples: Vec<Sample> =
            (0..30 * 24 * 60).map(|m| if (1000..1030).contains(&m) { crit(m * MIN) } else { ok(m * MIN) }).collect();
        let slo = Slo { target: 0.999, window: Duration::from_secs(30 * DAY), calendar_month: false };
        let report = history(&samples).slo_report(&slo, 30 * DAY_MS);
        let b = &report.budget;
        assert_eq!(b.window, window(0, 30 * DAY_MS));
        assert_eq!(b.measured_ms, 30 * DAY_MS);
        assert!(report.data.enough && (report.data.share - 1.0).abs() < 1e-12, "{:?}", report.data);
        // 0.1 % of 30 days = 43.2 min; 30 min used; 13.2 min = 30.56 % left.
        assert_eq!(b.total_ms, 2_592_000);
        assert_eq!(b.total_ms, 43 * MIN + 12 * SEC);
        assert_eq!(b.consumed_ms, 30 * MIN);
        assert_eq!(b.remaining_ms, 792_000);
        assert_eq!(b.remaining_ms, 13 * MIN + 12 * SEC);
        assert_eq!(b.remaining_percent, Some(79_200_000.0 / 2_592_000.0));
        assert_eq!(b.remaining_percent.map(|p| (p * 100.0).round() / 100.0), Some(30.56));
    }

    #[test]
    fn a_budget_over_a_few_seconds_of_data_says_it_rests_on_too_little() {
        // Five results a second apart, the last critical, 30 days before the window's end.
        let interval = Duration::from_secs(1);
        let samples = [ok(0), ok(SEC), ok(2 * SEC), ok(3 * SEC), crit(4 * SEC)];
        let slo = Slo { target: 0.999, window: Duration::from_secs(30 * DAY), calendar_month: false };
        let report = History { interval, ..history(&samples) }.slo_report(&slo, 6 * SEC);
        assert_eq!(report.budget.measured_ms, 6 * SEC);
        assert_eq!((report.budget.total_ms, report.budget.consumed_ms), (6, 2 * SEC));
        assert_eq!(report.data.period_ms, 30 * DAY_MS);
        assert!(!report.data.enough && report.data.share < 1e-5, "{:?}", report.data);
        // A tenth of the window is enough.
        let samples: Vec<Sample> = (0..3 * 24 * 60).map(|m| ok(m * MIN)).collect();
        let report = history(&samples).slo_report(&slo, 3 * DAY_MS);
        assert!(report.data.enough && (report.data.share - 0.1).abs() < 1e-9, "{:?}", report.data);
    }

    #[test]
    fn an_overspent_budget_goes_negative_and_as_down_spends_no_data() {
        // 99.9 % over 1 day of results every minute, 100 min without data in the middle.
        let samples: Vec<Sample> = (0..24 * 60).filter(|m| !(500..600).contains(m)).map(|m| ok(m * MIN)).collect();
        let slo = Slo { target: 0.999, window: Duration::from_secs(DAY), calendar_month: false };
        let mut h = history(&samples);
        // 499 → 600: 2 min held, 99 min no data.
        let b = h.slo_report(&slo, DAY_MS).budget;
        assert_eq!((b.measured_ms, b.consumed_ms), (DAY_MS - 99 * MIN, 0));
        h.options.no_data = NoData::AsDown;
        let b = h.slo_report(&slo, DAY_MS).budget;
        // 0.1 % of a day = 86.4 s; 99 min consumed.
        assert_eq!((b.measured_ms, b.total_ms, b.consumed_ms), (DAY_MS, 86_400, 99 * MIN));
        assert_eq!(b.remaining_ms, 86_400 - 99 * MIN);
        assert_eq!(b.remaining_percent, Some((86_400 - 99 * MIN) as f64 * 100.0 / 86_400.0));
    }

    #[test]
    fn burn_rates_trip_the_one_hour_page_and_nothing_else() {
        // Four days of results a minute, all ok except the last two minutes: 120 s down.
        let now = 4 * DAY_MS;
        let samples: Vec<Sample> =
            (0..4 * 24 * 60).map(|m| if m >= 4 * 24 * 60 - 2 { crit(m * MIN) } else { ok(m * MIN) }).collect();
        let slo = Slo { target: 0.999, window: Duration::from_secs(30 * DAY), calendar_month: false };
        let report = history(&samples).slo_report(&slo, now);
        let fraction = 1.0 - 0.999;
        let burn = |span_ms: i64| (120.0 * SEC as f64 / span_ms as f64) / fraction;

        let spans: Vec<i64> = report.burn_rates.iter().map(|b| b.span_ms).collect();
        assert_eq!(spans, vec![HOUR_MS, 6 * HOUR_MS, DAY_MS, 3 * DAY_MS]);
        for b in &report.burn_rates {
            assert_eq!((b.down_ms, b.measured_ms), (120 * SEC, b.span_ms));
            assert!(close(b.burn, burn(b.span_ms)), "{b:?}");
        }
        // 1 h: 33.3 and 5 min: 400, both > 14.4: page.
        // 6 h: 5.56 ≤ 6 (30 min: 66.7): no page. 1 d: 1.39 ≤ 3 (2 h: 16.7): no ticket.
        // 3 d: 0.463 ≤ 1 (6 h: 5.56): no ticket.
        let verdicts: Vec<(Severity, i64, i64, bool)> =
            report.alerts.iter().map(|a| (a.rule.severity, a.long.span_ms, a.short.span_ms, a.firing)).collect();
        assert_eq!(
            verdicts,
            vec![
                (Severity::Page, HOUR_MS, 5 * MIN, true),
                (Severity::Page, 6 * HOUR_MS, 30 * MIN, false),
                (Severity::Ticket, DAY_MS, 2 * HOUR_MS, false),
                (Severity::Ticket, 3 * DAY_MS, 6 * HOUR_MS, false),
            ]
        );
        let measured: Vec<(f64, f64)> =
            report.alerts.iter().map(|a| (a.long.burn.unwrap(), a.short.burn.unwrap())).collect();
        for ((long, short), rule) in measured.iter().zip(ALERT_RULES) {
            assert!(close(Some(*long), burn(millis(rule.long))));
            assert!(close(Some(*short), burn(millis(rule.short))));
        }
        assert!(close(report.alerts[0].long.burn, 100.0 / 3.0));
        assert!(close(report.alerts[0].short.burn, 400.0));
        assert!(close(report.alerts[1].long.burn, 50.0 / 9.0));
    }

    #[test]
    fn burn_rate_is_none_without_measured_time_or_budget() {
        let samples = [ok(0)];
        let slo = Slo { target: 0.999, window: Duration::from_secs(DAY), calendar_month: false };
        let h = history(&samples);
        // Nothing measured an hour after the result's 2 minutes ran out.
        let b = h.burn_rate(&slo, Duration::from_secs(HOUR), 5 * HOUR_MS);
        assert_eq!((b.measured_ms, b.burn), (0, None));
        let r = h.slo_report(&slo, 5 * HOUR_MS);
        assert!(r.alerts.iter().all(|a| !a.firing));
        // A 100 % target has no budget.
        let b = h.burn_rate(&Slo { target: 1.0, ..slo }, Duration::from_secs(60), 60 * SEC);
        assert_eq!((b.measured_ms, b.burn), (60 * SEC, None));
        assert_eq!(h.slo_report(&Slo { target: 1.0, ..slo }, 60 * SEC).budget.remaining_percent, None);
    }
}
