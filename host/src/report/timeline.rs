//! The shape of a check over time, for charts: availability per calendar day (UTC) and
//! response-time percentiles per bucket of time, and [`build`], which computes them.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::latency::exact_summary;
use super::sla::{History, Window};

/// A check's history over the report window, in buckets, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timeline {
    /// One entry per UTC calendar day that overlaps the window (the first and last may be
    /// partial days, clipped to the window).
    pub days: Vec<DayAvailability>,
    /// Response-time percentiles per bucket of `bucket_ms` (one hour for windows up to two
    /// days, six hours up to fourteen days, one day beyond), clipped to the window. Buckets
    /// without results are left out.
    pub latency: Vec<LatencyPoint>,
    /// The length of one latency bucket, in milliseconds.
    pub bucket_ms: i64,
}

/// Availability of one UTC calendar day (clipped to the report window).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayAvailability {
    /// The first millisecond of the day inside the window.
    pub from_ms: i64,
    /// The end of the day (exclusive), or of the window if it ends first.
    pub to_ms: i64,
    /// `up / measured` over the day; `None` when nothing was measured (no data all day).
    pub ratio: Option<f64>,
    /// Time counted down.
    pub down_ms: i64,
    /// Time without results.
    pub no_data_ms: i64,
    /// Time inside maintenance windows.
    pub maintenance_ms: i64,
}

/// Response-time percentiles over one bucket of time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencyPoint {
    /// The bucket's first millisecond.
    pub from_ms: i64,
    /// The bucket's end (exclusive).
    pub to_ms: i64,
    /// Results in the bucket.
    pub count: u64,
    /// Median response time.
    #[serde(serialize_with = "crate::report::latency::millis")]
    pub p50: Duration,
    /// 95th percentile response time.
    #[serde(serialize_with = "crate::report::latency::millis")]
    pub p95: Duration,
}

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// Builds the timeline of `history` over `window`. `times` are the response times of the
/// results with the time each started; those outside the window are ignored.
pub fn build(history: &History<'_>, times: &[(i64, Duration)], window: Window) -> Timeline {
    let bucket_ms = bucket_ms(window);
    Timeline {
        days: utc_days(window).into_iter().map(|day| day_availability(history, day)).collect(),
        latency: latency_points(times, window, bucket_ms),
        bucket_ms,
    }
}

/// The latency bucket for a window: one hour up to two days, six hours up to fourteen
/// days, one day beyond.
pub fn bucket_ms(window: Window) -> i64 {
    match window.len_ms() {
        len if len <= 2 * DAY_MS => HOUR_MS,
        len if len <= 14 * DAY_MS => 6 * HOUR_MS,
        _ => DAY_MS,
    }
}

/// The UTC calendar days overlapping `window`, clipped to it, oldest first.
pub fn utc_days(window: Window) -> Vec<Window> {
    aligned(window, DAY_MS)
}

/// `window` cut at the multiples of `step_ms` since the epoch (UTC midnights for a day).
fn aligned(window: Window, step_ms: i64) -> Vec<Window> {
    let mut pieces = Vec::new();
    let mut from_ms = window.from_ms;
    while from_ms < window.to_ms {
        let next = from_ms.div_euclid(step_ms).saturating_add(1).saturating_mul(step_ms);
        let to_ms = next.min(window.to_ms);
        pieces.push(Window { from_ms, to_ms });
        from_ms = to_ms;
    }
    pieces
}

fn day_availability(history: &History<'_>, day: Window) -> DayAvailability {
    let a = history.availability(day);
    DayAvailability {
        from_ms: day.from_ms,
        to_ms: day.to_ms,
        ratio: a.ratio,
        down_ms: a.counted_down_ms(),
        no_data_ms: a.no_data_ms,
        maintenance_ms: a.maintenance_ms,
    }
}

/// p50 and p95 per aligned bucket of `bucket_ms`, leaving out buckets without results.
fn latency_points(times: &[(i64, Duration)], window: Window, bucket_ms: i64) -> Vec<LatencyPoint> {
    let mut buckets: BTreeMap<i64, Vec<Duration>> = BTreeMap::new();
    for &(at_ms, time) in times.iter().filter(|(at_ms, _)| window.contains(*at_ms)) {
        buckets.entry(at_ms.div_euclid(bucket_ms)).or_default().push(time);
    }
    buckets
        .into_iter()
        .filter_map(|(index, mut values)| {
            let start = index.saturating_mul(bucket_ms);
            let summary = exact_summary(&mut values)?;
            Some(LatencyPoint {
                from_ms: start.max(window.from_ms),
                to_ms: start.saturating_add(bucket_ms).min(window.to_ms),
                count: summary.count,
                p50: summary.p50,
                p95: summary.p95,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sla::{Options, Sample};
    use crate::result::{StateType, Status};

    fn window(from_ms: i64, to_ms: i64) -> Window {
        Window { from_ms, to_ms }
    }

    #[test]
    fn days_are_cut_at_utc_midnight_and_clipped_to_the_window() {
        let days = utc_days(window(DAY_MS - HOUR_MS, 2 * DAY_MS + HOUR_MS));
        assert_eq!(
            days,
            vec![
                window(DAY_MS - HOUR_MS, DAY_MS),
                window(DAY_MS, 2 * DAY_MS),
                window(2 * DAY_MS, 2 * DAY_MS + HOUR_MS)
            ]
        );
        assert!(utc_days(window(5, 5)).is_empty());
    }

    #[test]
    fn bucket_length_grows_with_the_window() {
        assert_eq!(bucket_ms(window(0, 2 * DAY_MS)), HOUR_MS);
        assert_eq!(bucket_ms(window(0, 7 * DAY_MS)), 6 * HOUR_MS);
        assert_eq!(bucket_ms(window(0, 30 * DAY_MS)), DAY_MS);
    }

    #[test]
    fn latency_buckets_hold_their_results_and_empty_ones_are_left_out() {
        let ms = Duration::from_millis;
        let times = [(10, ms(10)), (20, ms(30)), (2 * HOUR_MS + 5, ms(7)), (3 * HOUR_MS, ms(99))];
        let points = latency_points(&times, window(0, 3 * HOUR_MS), HOUR_MS);
        assert_eq!(points.len(), 2, "{points:?}");
        assert_eq!((points[0].from_ms, points[0].to_ms, points[0].count), (0, HOUR_MS, 2));
        assert_eq!(points[0].p95, ms(30));
        assert_eq!((points[1].from_ms, points[1].p50), (2 * HOUR_MS, ms(7)));
    }

    #[test]
    fn a_day_down_half_the_time_has_half_availability() {
        let sample = |at_ms, status| Sample { at_ms, status, state: StateType::Hard };
        let samples = [sample(0, Status::Ok), sample(12 * HOUR_MS, Status::Critical)];
        let history = History {
            samples: &samples,
            before: None,
            interval: Duration::from_secs(86_400),
            retries: 0,
            retry_interval: Duration::from_secs(60),
            maintenance: &[],
            options: Options::default(),
        };
        let timeline = build(&history, &[], window(0, DAY_MS));
        assert_eq!(timeline.days.len(), 1);
        assert_eq!(timeline.days[0].ratio, Some(0.5));
        assert_eq!(timeline.days[0].down_ms, 12 * HOUR_MS);
        assert!(timeline.latency.is_empty());
    }
}
