//! Spans of time and service level objectives: the typed values the config resolves
//! `slo`, `slo_window` and maintenance into, and the reports compute over.

use std::time::Duration;

use serde::Serialize;

/// A half-open span of time `[from_ms, to_ms)`, milliseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    /// The first millisecond inside the window.
    pub from_ms: i64,
    /// The first millisecond after the window.
    pub to_ms: i64,
}

impl Window {
    /// The window's length in milliseconds (0 when `to_ms <= from_ms`).
    pub fn len_ms(&self) -> i64 {
        self.to_ms.saturating_sub(self.from_ms).max(0)
    }

    /// Whether `at_ms` lies inside the window.
    pub fn contains(&self, at_ms: i64) -> bool {
        self.from_ms <= at_ms && at_ms < self.to_ms
    }

    /// How many milliseconds of `[from_ms, to_ms)` lie inside this window.
    pub fn overlap(&self, from_ms: i64, to_ms: i64) -> i64 {
        to_ms.min(self.to_ms).saturating_sub(from_ms.max(self.from_ms)).max(0)
    }
}

/// A service level objective: the share of time up that is promised over a rolling window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Slo {
    /// The promised availability, as a fraction (`0.999` for 99.9 %).
    pub target: f64,
    /// The rolling window it is promised over (typically 30 days). Ignored when
    /// `calendar_month` is set.
    pub window: Duration,
    /// The objective holds per calendar month (UTC) instead of over a rolling window: the
    /// budget is that of the whole current month, consumed since its first day.
    pub calendar_month: bool,
}

impl Slo {
    /// The allowed share of down time, `1 - target`, clamped to `[0, 1]` (0 for a NaN target).
    pub fn error_fraction(&self) -> f64 {
        let fraction = 1.0 - self.target;
        if fraction.is_nan() { 0.0 } else { fraction.clamp(0.0, 1.0) }
    }
}
