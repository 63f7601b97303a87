//! The shape of a check over time, for charts: availability per calendar day (UTC) and
//! response-time percentiles per bucket of time.

use std::time::Duration;

use serde::Serialize;

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
