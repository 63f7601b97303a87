//! The shape of a check over time, for charts: availability per calendar day (UTC) and
//! response-time percentiles per bucket of time, and [`build`], which computes them.

use std::time::Duration;

use serde::Serialize;

use super::latency::LatencySketch;
use super::sla::{Availabilities, Window};
use super::tiered::Tiered;

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

/// What a timeline is drawn from: availability over any window, and response times.
pub trait Source: Availabilities {
    /// Adds the response times of the results that started in `window` to `sketch`.
    fn merge_response_time(&self, window: Window, sketch: &mut LatencySketch);
}

impl Source for Tiered {
    fn merge_response_time(&self, window: Window, sketch: &mut LatencySketch) {
        Tiered::merge_response_time(self, window, sketch);
    }
}

/// Builds the timeline of `source` over `window`: the availability of each UTC day and the
/// p50 and p95 of each latency bucket (from merged sketches). `scratch` is reused, and every
/// bucket's sketch is added to `total`: the buckets tile the window, so `total` ends up the
/// window's sketch without merging the stored ones twice.
pub fn build(source: &impl Source, window: Window, scratch: &mut LatencySketch, total: &mut LatencySketch) -> Timeline {
    let bucket_ms = bucket_ms(window);
    let days = utc_days(window)
        .into_iter()
        .map(|day| {
            let a = source.availability_over(day);
            DayAvailability {
                from_ms: day.from_ms,
                to_ms: day.to_ms,
                ratio: a.ratio,
                down_ms: a.counted_down_ms(),
                no_data_ms: a.no_data_ms,
                maintenance_ms: a.maintenance_ms,
            }
        })
        .collect();
    let latency = aligned(window, bucket_ms)
        .into_iter()
        .filter_map(|bucket| {
            scratch.reset();
            source.merge_response_time(bucket, scratch);
            if scratch.count() > 0 {
                total.merge(scratch);
            }
            Some(LatencyPoint {
                from_ms: bucket.from_ms,
                to_ms: bucket.to_ms,
                count: scratch.count(),
                p50: scratch.quantile(0.5)?,
                p95: scratch.quantile(0.95)?,
            })
        })
        .collect();
    Timeline { days, latency, bucket_ms }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
