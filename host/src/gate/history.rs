//! The one place the gate reads stored history: [`stored`] asks the store for a window of
//! one check's results and the report module for what they add up to. Everything else in
//! the gate sees only [`Stored`], so this adapter is all that changes when the store or the
//! report internals do.

use std::time::Duration;

use crate::plan::CheckPlan;
use crate::report::check::{Request, check_report};
use crate::report::sla::{Options, Window};
use crate::result::CheckResult;
use crate::store::{ResultStore, StoreError};

/// What the store holds about one check over `[now - span, now)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stored {
    /// The results that started inside the window, oldest first.
    pub results: Vec<CheckResult>,
    /// Time-weighted HARD availability over the window, in percent; `None` without data.
    pub availability_percent: Option<f64>,
    /// The check's SLO burn rate over the window (`(1 - availability) / (1 - slo)`); `None`
    /// without an SLO or without data.
    pub burn_rate: Option<f64>,
    /// The remaining error budget over the SLO window ending now, in percent of the budget
    /// (negative once overspent); `None` without an SLO, without data, or when the span is
    /// shorter than the SLO window.
    pub error_budget_percent: Option<f64>,
}

/// Reads `check`'s stored results of the last `span` before `now_ms` and sums them up with
/// the report module's SLA rules (the same figures `vitals report` shows).
pub fn stored(store: &dyn ResultStore, check: &CheckPlan, span: Duration, now_ms: i64) -> Result<Stored, StoreError> {
    let span_ms = i64::try_from(span.as_millis()).unwrap_or(i64::MAX);
    let window = Window { from_ms: now_ms.saturating_sub(span_ms), to_ms: now_ms };
    let (_, results) = store.window(&check.name, window.from_ms, window.to_ms)?;
    let request = Request {
        window,
        options: Options::default(),
        // The regression threshold only flags the p95 trend, which the gate does not read.
        regression_threshold: 0.2,
        exact: false,
    };
    let (report, _) = check_report(store, &check.name, &check.timing, &[], &request)?;
    let slo = check.timing.slo;
    let ratio = report.availability.ratio;
    let burn_rate = match (slo, ratio) {
        (Some(slo), Some(ratio)) if slo.error_fraction() > 0.0 => Some((1.0 - ratio) / slo.error_fraction()),
        _ => None,
    };
    let error_budget_percent = match (slo, &report.slo) {
        (Some(slo), Some(figures)) if span >= slo.window => figures.budget.remaining_percent,
        _ => None,
    };
    Ok(Stored {
        results: results.into_iter().filter(|r| window.contains(r.started_at_ms)).collect(),
        availability_percent: ratio.map(|r| r * 100.0),
        burn_rate,
        error_budget_percent,
    })
}
