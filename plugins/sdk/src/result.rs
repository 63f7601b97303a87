//! Building check results and metrics.

use crate::{CheckResult, Metric, Reason, Status};

/// A result with an explicit status and reason (none for `ok`).
fn result(status: Status, summary: String, reason: Option<Reason>) -> CheckResult {
    CheckResult { status, summary, metrics: Vec::new(), details: None, reason }
}

/// An `ok` result. The host prefixes the plugin name and status (`HTTP OK - `), so the
/// summary should not repeat them.
///
/// ```
/// let result = vitals_sdk::ok("200 OK in 3.2 ms");
/// assert_eq!((result.status, result.reason), (vitals_sdk::Status::Ok, None));
/// ```
pub fn ok(summary: impl Into<String>) -> CheckResult {
    result(Status::Ok, summary.into(), None)
}

/// A `warning` result with the reason for it.
///
/// ```
/// use vitals_sdk::{Reason, Status};
/// let result = vitals_sdk::warning("200 OK in 750 ms: slower than warn_time 500 ms", Reason::Assertion);
/// assert_eq!((result.status, result.reason), (Status::Warning, Some(Reason::Assertion)));
/// ```
pub fn warning(summary: impl Into<String>, reason: Reason) -> CheckResult {
    result(Status::Warning, summary.into(), Some(reason))
}

/// A `critical` result with the reason for it.
///
/// ```
/// use vitals_sdk::{Reason, Status};
/// let result = vitals_sdk::critical("500 Internal Server Error (expected 200-399)", Reason::HttpStatus);
/// assert_eq!(result.status, Status::Critical);
/// ```
pub fn critical(summary: impl Into<String>, reason: Reason) -> CheckResult {
    result(Status::Critical, summary.into(), Some(reason))
}

/// An `unknown` result with the reason for it (usually [`Reason::PluginError`]).
///
/// ```
/// use vitals_sdk::{Reason, Status};
/// let result = vitals_sdk::unknown("invalid target \"x\": the port is missing", Reason::PluginError);
/// assert_eq!(result.status, Status::Unknown);
/// ```
pub fn unknown(summary: impl Into<String>, reason: Reason) -> CheckResult {
    result(Status::Unknown, summary.into(), Some(reason))
}

impl CheckResult {
    /// Adds one metric.
    ///
    /// ```
    /// let result = vitals_sdk::ok("fine").with_metric(vitals_sdk::metric("time_total", 3.2, "ms"));
    /// assert_eq!(result.metrics[0].name, "time_total");
    /// ```
    pub fn with_metric(mut self, metric: Metric) -> CheckResult {
        self.metrics.push(metric);
        self
    }

    /// Adds several metrics.
    ///
    /// ```
    /// use vitals_sdk::metric;
    /// let result = vitals_sdk::ok("fine").with_metrics([metric("time_dns", 0.4, "ms"), metric("time_connect", 1.1, "ms")]);
    /// assert_eq!(result.metrics.len(), 2);
    /// ```
    pub fn with_metrics(mut self, metrics: impl IntoIterator<Item = Metric>) -> CheckResult {
        self.metrics.extend(metrics);
        self
    }

    /// Sets the multi-line details text.
    ///
    /// ```
    /// let result = vitals_sdk::ok("fine").with_details("remote address: 127.0.0.1:22\nbanner: SSH-2.0");
    /// assert_eq!(result.details.as_deref().map(str::lines).map(Iterator::count), Some(2));
    /// ```
    pub fn with_details(mut self, details: impl Into<String>) -> CheckResult {
        self.details = Some(details.into());
        self
    }
}

/// A metric without thresholds or bounds; add them with [`Metric::warn`],
/// [`Metric::crit`], [`Metric::min`] and [`Metric::max`].
///
/// `name` is made of letters, digits, `_`, `-` and `.`; `unit` is one of `s`, `ms`,
/// `us`, `%`, `B`, `KB`, `MB`, `c` or empty.
///
/// ```
/// let m = vitals_sdk::metric("body_size", 512.0, "B").min(0.0);
/// assert_eq!((m.name.as_str(), m.value, m.unit.as_str(), m.min), ("body_size", 512.0, "B", Some(0.0)));
/// ```
pub fn metric(name: impl Into<String>, value: f64, unit: impl Into<String>) -> Metric {
    Metric { name: name.into(), value, unit: unit.into(), warn: None, crit: None, min: None, max: None }
}

impl Metric {
    /// Sets the warning threshold (a [`crate::Range`] or its text, e.g. `"500"`).
    ///
    /// ```
    /// let m = vitals_sdk::metric("time_total", 3.2, "ms").warn("500");
    /// assert_eq!(m.warn.as_deref(), Some("500"));
    /// ```
    pub fn warn(mut self, range: impl ToString) -> Metric {
        self.warn = Some(range.to_string());
        self
    }

    /// Sets the critical threshold (a [`crate::Range`] or its text).
    ///
    /// ```
    /// let range = vitals_sdk::Range::parse("~:1000").map_err(|e| e.to_string())?;
    /// let m = vitals_sdk::metric("time_total", 3.2, "ms").crit(range);
    /// assert_eq!(m.crit.as_deref(), Some("~:1000"));
    /// # Ok::<(), String>(())
    /// ```
    pub fn crit(mut self, range: impl ToString) -> Metric {
        self.crit = Some(range.to_string());
        self
    }

    /// Sets the warning threshold when there is one.
    ///
    /// ```
    /// use vitals_sdk::{Range, metric};
    /// let warn: Option<Range> = "500".parse().ok();
    /// assert_eq!(metric("t", 1.0, "ms").warn_opt(warn).warn.as_deref(), Some("500"));
    /// assert_eq!(metric("t", 1.0, "ms").warn_opt(None::<Range>).warn, None);
    /// ```
    pub fn warn_opt(self, range: Option<impl ToString>) -> Metric {
        match range {
            Some(range) => self.warn(range),
            None => self,
        }
    }

    /// Sets the critical threshold when there is one.
    ///
    /// ```
    /// use vitals_sdk::{Thresholds, metric};
    /// let thresholds = Thresholds::parse(None, Some("10:"))?;
    /// let m = metric("free_pct", 42.0, "%").warn_opt(thresholds.warn).crit_opt(thresholds.crit);
    /// assert_eq!((m.warn, m.crit.as_deref()), (None, Some("10:")));
    /// # Ok::<(), String>(())
    /// ```
    pub fn crit_opt(self, range: Option<impl ToString>) -> Metric {
        match range {
            Some(range) => self.crit(range),
            None => self,
        }
    }

    /// Sets the smallest possible value.
    ///
    /// ```
    /// assert_eq!(vitals_sdk::metric("redirects", 1.0, "").min(0.0).min, Some(0.0));
    /// ```
    pub fn min(mut self, min: f64) -> Metric {
        self.min = Some(min);
        self
    }

    /// Sets the largest possible value.
    ///
    /// ```
    /// assert_eq!(vitals_sdk::metric("used_pct", 40.0, "%").max(100.0).max, Some(100.0));
    /// ```
    pub fn max(mut self, max: f64) -> Metric {
        self.max = Some(max);
        self
    }
}

/// Microseconds (as in [`crate::Timings`]) to milliseconds.
///
/// ```
/// assert_eq!(vitals_sdk::us_to_ms(3_250), 3.25);
/// ```
pub fn us_to_ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// A measured duration in milliseconds for a metric, rounded up to the microsecond (the
/// host's resolution).
///
/// ```
/// use std::time::Duration;
/// assert_eq!(vitals_sdk::duration_ms(Duration::from_nanos(3_250_001)), 3.251);
/// ```
pub fn duration_ms(d: std::time::Duration) -> f64 {
    us_to_ms(u64::try_from(d.as_nanos().div_ceil(1000)).unwrap_or(u64::MAX))
}

/// A configured duration (a threshold) for a summary, empty when there is none.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(vitals_sdk::shown_duration(Some(Duration::from_millis(250))), "250.0 ms");
/// assert_eq!(vitals_sdk::shown_duration(None), "");
/// ```
pub fn shown_duration(d: Option<std::time::Duration>) -> String {
    d.map(vitals_units::format_duration).unwrap_or_default()
}

/// Milliseconds (as a metric holds them) for a summary, in the one duration format of
/// `vitals-units` (`"3.2 ms"`, `"24 µs"`, `"1.2 s"`); a negative or non-finite value reads 0.
///
/// ```
/// assert_eq!(vitals_sdk::format_ms(3.25), "3.2 ms");
/// assert_eq!(vitals_sdk::format_ms(1_200.0), "1.2 s");
/// ```
pub fn format_ms(ms: f64) -> String {
    let seconds = if ms.is_finite() && ms > 0.0 { ms / 1000.0 } else { 0.0 };
    vitals_units::format_duration(std::time::Duration::try_from_secs_f64(seconds).unwrap_or(std::time::Duration::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_fill_fields() {
        let result = critical("down", Reason::Connect)
            .with_metric(metric("time_total", 3.5, "ms").warn("500").crit("1000").min(0.0))
            .with_details("line one\nline two");
        assert_eq!(result.status, Status::Critical);
        assert_eq!(result.reason, Some(Reason::Connect));
        assert_eq!(result.metrics.len(), 1);
        assert_eq!(result.metrics[0].warn.as_deref(), Some("500"));
        assert_eq!(result.metrics[0].crit.as_deref(), Some("1000"));
        assert_eq!(result.metrics[0].min, Some(0.0));
        assert_eq!(result.metrics[0].max, None);
        assert_eq!(result.details.as_deref(), Some("line one\nline two"));
        assert_eq!(ok("fine").reason, None);
        assert_eq!(unknown("?", Reason::PluginError).status, Status::Unknown);
        assert_eq!(warning("slow", Reason::Assertion).status, Status::Warning);
    }

    #[test]
    fn formats_numbers() {
        assert_eq!(format_ms(us_to_ms(3_249)), "3.2 ms");
        assert_eq!(format_ms(us_to_ms(24)), "24 µs");
        assert_eq!(format_ms(0.0), "0 µs");
        assert_eq!(format_ms(f64::NAN), "0 µs");
        assert_eq!(format_ms(1200.0), "1.2 s");
    }
}
