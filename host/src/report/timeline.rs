//! The shape of a check over time, for charts: availability and response-time percentiles
//! per bucket of time, the bucket's length chosen from the window's (minutes for an hour,
//! hours for a day, days for a month), and [`build`], which computes them.

use std::time::Duration;

use serde::Serialize;

use super::latency::LatencySketch;
use super::sla::{Availabilities, Window};
use super::tiered::Tiered;

/// A check's history over the report window, in buckets, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timeline {
    /// One entry per bucket of `bucket_ms` that overlaps the window, cut at multiples of
    /// `bucket_ms` since the epoch (UTC midnights for days); the first and last may be
    /// partial, clipped to the window.
    pub availability: Vec<BucketAvailability>,
    /// Response-time percentiles per bucket, the same buckets; those without results are
    /// left out.
    pub latency: Vec<LatencyPoint>,
    /// The length of one bucket, in milliseconds (see [`bucket_ms`]).
    pub bucket_ms: i64,
}

/// Availability over one bucket (clipped to the report window).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BucketAvailability {
    /// The first millisecond of the bucket inside the window.
    pub from_ms: i64,
    /// The end of the bucket (exclusive), or of the window if it ends first.
    pub to_ms: i64,
    /// `up / measured` over the bucket; `None` when nothing was measured (no data all along).
    pub ratio: Option<f64>,
    /// Time counted down.
    pub down_ms: i64,
    /// Time up but degraded (HARD warning).
    pub degraded_ms: i64,
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

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
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

/// Builds the timeline of `source` over `window`: the availability, p50 and p95 (from merged
/// sketches) of each bucket. `scratch` is reused, and every
/// bucket's sketch is added to `total`: the buckets tile the window, so `total` ends up the
/// window's sketch without merging the stored ones twice.
pub fn build(source: &impl Source, window: Window, scratch: &mut LatencySketch, total: &mut LatencySketch) -> Timeline {
    let bucket_ms = bucket_ms(window);
    let buckets = aligned(window, bucket_ms);
    let availability = buckets
        .iter()
        .map(|&bucket| {
            let a = source.availability_over(bucket);
            BucketAvailability {
                from_ms: bucket.from_ms,
                to_ms: bucket.to_ms,
                ratio: a.ratio,
                down_ms: a.counted_down_ms(),
                degraded_ms: a.degraded_ms,
                no_data_ms: a.no_data_ms,
                maintenance_ms: a.maintenance_ms,
            }
        })
        .collect();
    let latency = buckets
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
    Timeline { availability, latency, bucket_ms }
}

/// The bucket for a window, so that a chart has between a dozen and about a hundred and
/// twenty of them: a minute up to two hours, five minutes up to six hours, ten minutes up
/// to twelve, an hour up to three days, six hours up to fourteen days, a day beyond.
pub fn bucket_ms(window: Window) -> i64 {
    match window.len_ms() {
        len if len <= 2 * HOUR_MS => MINUTE_MS,
        len if len <= 6 * HOUR_MS => 5 * MINUTE_MS,
        len if len <= 12 * HOUR_MS => 10 * MINUTE_MS,
        len if len <= 3 * DAY_MS => HOUR_MS,
        len if len <= 14 * DAY_MS => 6 * HOUR_MS,
        _ => DAY_MS,
    }
}

/// The times inside `window` where one of its buckets ends and the next starts.
pub fn bucket_edges(window: Window) -> impl Iterator<Item = i64> {
    aligned(window, bucket_ms(window)).into_iter().skip(1).map(|b| b.from_ms)
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
        let days = aligned(window(DAY_MS - HOUR_MS, 2 * DAY_MS + HOUR_MS), DAY_MS);
        assert_eq!(
            days,
            vec![
                window(DAY_MS - HOUR_MS, DAY_MS),
                window(DAY_MS, 2 * DAY_MS),
                window(2 * DAY_MS, 2 * DAY_MS + HOUR_MS)
            ]
        );
        assert!(aligned(window(5, 5), DAY_MS).is_empty());
    }

    #[test]
    fn bucket_length_grows_with_the_window_minutes_for_an_hour_hours_for_a_day_days_for_a_month() {
        assert_eq!(bucket_ms(window(0, HOUR_MS)), MINUTE_MS);
        assert_eq!(bucket_ms(window(0, 4 * HOUR_MS)), 5 * MINUTE_MS);
        assert_eq!(bucket_ms(window(0, 12 * HOUR_MS)), 10 * MINUTE_MS);
        assert_eq!(bucket_ms(window(0, DAY_MS)), HOUR_MS);
        assert_eq!(bucket_ms(window(0, 7 * DAY_MS)), 6 * HOUR_MS);
        assert_eq!(bucket_ms(window(0, 30 * DAY_MS)), DAY_MS);
        // Every window gets at least a dozen buckets and at most about 120 (a year: 365).
        for hours in [1, 2, 3, 6, 7, 12, 13, 24, 72, 73, 24 * 14, 24 * 15, 24 * 30, 24 * 120] {
            let w = window(0, hours * HOUR_MS);
            let n = aligned(w, bucket_ms(w)).len();
            assert!((12..=120).contains(&n), "{hours} h: {n} buckets");
        }
    }

    #[test]
    fn the_edges_of_an_hour_of_minute_buckets_are_the_minutes_inside_it() {
        let edges: Vec<i64> = bucket_edges(window(30_000, HOUR_MS + 30_000)).collect();
        assert_eq!(edges.len(), 60);
        assert_eq!((edges[0], edges[59]), (MINUTE_MS, HOUR_MS));
    }
}
