//! SLA computations over the stored results of one check: time-weighted availability,
//! incidents with MTTR and MTBF, an SLO's error budget and burn rates with the Google SRE
//! workbook multi-window alerts, and the resolution the check's schedule allows.
//!
//! Pure computation: every time is an integer count of milliseconds since the Unix epoch
//! (UTC), every window is half-open `[from_ms, to_ms)`, and nothing here knows about time
//! zones. A calendar day that a DST change makes 23 or 25 hours long is simply a window of
//! 23 or 25 hours: whoever turns local dates into a window does so before calling this.
//!
//! # The timeline
//!
//! Each result ([`Sample`]) holds its state from its time until the next result, but for at
//! most twice the check's nominal interval: beyond that the check evidently did not run,
//! and the rest of the gap is *no data*. The last result holds the same way (twice the
//! interval, or until the window ends). Time before the first known result is no data; the
//! result just before the window (see [`History::before`], or any sample earlier than the
//! window) gives the state at the window's start. Maintenance windows are cut out of every
//! bucket and reported on their own, so `up + down + no_data + maintenance` is always the
//! window's length.
//!
//! # Up and down (HARD availability)
//!
//! A result counts as *down* or *up* as follows ([`WarningIs`] decides whether `warning` is
//! a good status; by default it is, as a degraded service still serves):
//!
//! - a HARD result counts as its own status: down when critical or unknown (or warning with
//!   [`WarningIs::Down`]), up otherwise;
//! - a SOFT result is not confirmed yet and counts as the last HARD state before it: a SOFT
//!   failure while HARD ok is up (it may be a blip the retries clear), a SOFT ok while
//!   recovering from a HARD problem (`recover_after` > 1) is down until the recovery is
//!   HARD;
//! - a SOFT result with no HARD result anywhere before it is read the way the state machine
//!   produces them: a SOFT problem only follows a HARD ok (up), a SOFT ok only follows a HARD
//!   problem (down).
//!
//! The raw attempt ratio ignores SOFT and HARD: it is the share of results in the window
//! (outside maintenance) whose status is good, so SOFT failures the retries cleared lower it
//! while they leave HARD availability untouched.
//!
//! # The parts
//!
//! Each job has its module, and everything is re-exported here:
//!
//! - `availability`: the timeline itself, the time-weighted [`Availability`] and raw attempt
//!   ratio it gives, maintenance cut out of it, and the [`Resolution`] the schedule allows;
//! - `incidents`: the periods down by the HARD rule, from the results or from the recorded
//!   HARD changes, with MTTR and MTBF;
//! - `budget`: an SLO's error budget, burn rates and multi-window alerts;
//! - `periods`: the periods a check was degraded (HARD warning) or flapping.

use std::time::Duration;

use serde::Serialize;

pub use crate::plan::{Slo, Window};
use crate::result::{StateType, Status};

mod availability;
mod budget;
mod incidents;
mod periods;

pub use availability::{Availabilities, Availability, Parts, Resolution, union};
pub use budget::{
    ALERT_RULES, AlertRule, BURN_SPANS, BurnAlert, BurnRate, DataCoverage, ENOUGH_DATA, ErrorBudget, Severity,
    SloReport, burn_rate, month_of, slo_report,
};
pub use incidents::{HardChange, Incident, Incidents, incidents_from_changes};
pub use periods::{Period, Periods};

/// One stored result of the check, as far as the SLA is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sample {
    /// When the run started, milliseconds since the Unix epoch (UTC).
    pub at_ms: i64,
    /// The raw status of the run.
    pub status: Status,
    /// The state type the run produced.
    pub state: StateType,
}

/// How time without results counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoData {
    /// No data is left out of the ratio: availability is over measured time only.
    #[default]
    Exclude,
    /// No data counts as down: in the ratio, the error budget and the burn rates.
    AsDown,
}

/// Whether a `warning` status counts as up or as down.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningIs {
    /// A warning is up: degraded, but serving (the default).
    #[default]
    Up,
    /// A warning is down, like critical and unknown.
    Down,
}

impl WarningIs {
    /// Whether `status` is a good one: ok always, warning with [`WarningIs::Up`].
    pub fn is_up(self, status: Status) -> bool {
        match status {
            Status::Ok => true,
            Status::Warning => self == WarningIs::Up,
            Status::Critical | Status::Unknown => false,
        }
    }
}

/// The choices that change how results count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Options {
    /// How time without results counts (default: excluded).
    pub no_data: NoData,
    /// Whether warning is up or down (default: up).
    pub warning: WarningIs,
}

/// The results of one check and the settings needed to weigh them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct History<'a> {
    /// The results, sorted by time (they are sorted again, stably, if they are not). They may
    /// start before and end after the window asked about: earlier ones give the state at the
    /// window's start, later ones only bound the last span inside it.
    pub samples: &'a [Sample],
    /// The last result before `samples`, if any: the state at the start of a window that
    /// begins before the first sample. Never counted as an attempt.
    pub before: Option<Sample>,
    /// The check's nominal interval. A result holds for at most twice this long.
    pub interval: Duration,
    /// Further attempts before a failure is HARD (the check's `retries`).
    pub retries: u32,
    /// Delay between the attempts of a failing check (the check's `retry_interval`).
    pub retry_interval: Duration,
    /// Maintenance windows; they may overlap and come in any order.
    pub maintenance: &'a [Window],
    /// How no data and warnings count.
    pub options: Options,
}

/// Milliseconds in a duration, saturating at `i64::MAX`.
fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// `numerator / denominator`, `None` when the denominator is zero.
fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    if denominator == 0.0 { None } else { Some(numerator / denominator) }
}

/// The results and histories the unit tests of every part are written with.
#[cfg(test)]
mod fixtures {
    use std::time::Duration;

    use super::{History, Options, Sample, Window};
    use crate::result::{StateType, Status};

    pub(super) const SEC: i64 = 1000;
    pub(super) const MIN: i64 = 60 * SEC;
    pub(super) const HOUR_MS: i64 = 60 * MIN;
    pub(super) const DAY_MS: i64 = 24 * HOUR_MS;

    pub(super) fn ok(at_ms: i64) -> Sample {
        Sample { at_ms, status: Status::Ok, state: StateType::Hard }
    }

    pub(super) fn crit(at_ms: i64) -> Sample {
        Sample { at_ms, status: Status::Critical, state: StateType::Hard }
    }

    pub(super) fn soft(at_ms: i64, status: Status) -> Sample {
        Sample { at_ms, status, state: StateType::Soft }
    }

    /// One result a minute from `from` (inclusive) to `to` (exclusive), both in minutes,
    /// each made by `f` from its time in ms.
    pub(super) fn every_minute(from: i64, to: i64, f: fn(i64) -> Sample) -> Vec<Sample> {
        (from..to).map(|m| f(m * MIN)).collect()
    }

    /// A history with a one-minute interval, no retries and no maintenance.
    pub(super) fn history(samples: &[Sample]) -> History<'_> {
        History {
            samples,
            before: None,
            interval: Duration::from_secs(60),
            retries: 0,
            retry_interval: Duration::from_secs(10),
            maintenance: &[],
            options: Options::default(),
        }
    }

    pub(super) fn window(from_ms: i64, to_ms: i64) -> Window {
        Window { from_ms, to_ms }
    }
}
