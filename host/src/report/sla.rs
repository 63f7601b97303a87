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

use std::time::Duration;

use serde::Serialize;

pub use crate::plan::{Slo, Window};
use crate::result::{StateType, Status};

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

/// Time-weighted availability of one check over a window.
///
/// The four time buckets are disjoint and add up to the window's length.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Availability {
    /// Time counted up, outside maintenance.
    pub up_ms: i64,
    /// Time counted down, outside maintenance (no data is never in here; see `measured_ms`).
    pub down_ms: i64,
    /// Time without results, outside maintenance.
    pub no_data_ms: i64,
    /// Time inside maintenance windows, whatever the results said.
    pub maintenance_ms: i64,
    /// The time the ratio is over: `up_ms + down_ms`, plus `no_data_ms` with
    /// [`NoData::AsDown`].
    pub measured_ms: i64,
    /// `up_ms / measured_ms`; `None` when nothing was measured.
    pub ratio: Option<f64>,
    /// Results inside the window and outside maintenance whose status is good (ok, or warning
    /// with [`WarningIs::Up`]), SOFT or HARD alike.
    pub raw_ok: u64,
    /// Results inside the window and outside maintenance.
    pub raw_total: u64,
    /// `raw_ok / raw_total`; `None` without results.
    pub raw_ratio: Option<f64>,
}

/// The additive parts of an [`Availability`]: summing the parts of adjacent windows gives
/// the parts of their union.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Parts {
    /// Time counted up.
    pub up_ms: i64,
    /// Time counted down.
    pub down_ms: i64,
    /// Time without results.
    pub no_data_ms: i64,
    /// Time in maintenance.
    pub maintenance_ms: i64,
    /// Good results.
    pub raw_ok: u64,
    /// Results.
    pub raw_total: u64,
}

impl std::ops::AddAssign for Parts {
    fn add_assign(&mut self, o: Parts) {
        self.up_ms += o.up_ms;
        self.down_ms += o.down_ms;
        self.no_data_ms += o.no_data_ms;
        self.maintenance_ms += o.maintenance_ms;
        self.raw_ok += o.raw_ok;
        self.raw_total += o.raw_total;
    }
}

impl Availability {
    /// The availability made of `parts`, with no data counted as `no_data` says.
    pub fn from_parts(p: Parts, no_data: NoData) -> Availability {
        let measured_ms = match no_data {
            NoData::Exclude => p.up_ms + p.down_ms,
            NoData::AsDown => p.up_ms + p.down_ms + p.no_data_ms,
        };
        Availability {
            up_ms: p.up_ms,
            down_ms: p.down_ms,
            no_data_ms: p.no_data_ms,
            maintenance_ms: p.maintenance_ms,
            measured_ms,
            ratio: ratio(p.up_ms as f64, measured_ms as f64),
            raw_ok: p.raw_ok,
            raw_total: p.raw_total,
            raw_ratio: ratio(p.raw_ok as f64, p.raw_total as f64),
        }
    }

    /// The additive parts.
    pub fn parts(&self) -> Parts {
        Parts {
            up_ms: self.up_ms,
            down_ms: self.down_ms,
            no_data_ms: self.no_data_ms,
            maintenance_ms: self.maintenance_ms,
            raw_ok: self.raw_ok,
            raw_total: self.raw_total,
        }
    }

    /// The time counted against availability: `measured_ms - up_ms`, that is the down time
    /// plus, with [`NoData::AsDown`], the time without data.
    pub fn counted_down_ms(&self) -> i64 {
        self.measured_ms - self.up_ms
    }
}

/// One period during which the check was down by the HARD rule (see the module docs).
///
/// It starts at the first result counted down (a HARD problem) and ends at the next result
/// counted up (the HARD ok, or HARD warning with [`WarningIs::Up`]); no data inside it does not
/// end it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    /// When it started: the first HARD problem result, or the window's start if it was
    /// already down then.
    pub start_ms: i64,
    /// The time of the result that ended it; `None` if it was still going on at the window's
    /// end (a result at or after the window's end does not end it inside the window).
    pub end_ms: Option<i64>,
    /// It was already down when the window started, so `start_ms` is the window's start.
    pub started_before_window: bool,
    /// Wall-clock time from `start_ms` to `end_ms` (or the window's end), maintenance and no
    /// data included.
    pub duration_ms: i64,
    /// The part of `duration_ms` counted down in [`Availability::down_ms`]: without
    /// maintenance and without no data.
    pub down_ms: i64,
    /// The worst status of its results in force during the window (unknown is the worst).
    pub worst: Status,
    /// Index in [`History::samples`] of the first failing attempt that led to it: the first of
    /// the SOFT attempts right before the HARD problem, or the HARD result itself without
    /// retries. `None` when that attempt is not among the samples (it is
    /// [`History::before`], or the samples start in the middle of the attempts).
    #[serde(skip)]
    pub first_failure: Option<usize>,
    /// The summary of the failure that started it, when known.
    pub summary: Option<String>,
}

/// The incidents of a window and their means.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incidents {
    /// Every incident that overlaps the window, oldest first.
    pub incidents: Vec<Incident>,
    /// `incidents.len()`.
    pub count: usize,
    /// Mean time to repair: the mean `duration_ms` of the incidents that both started and
    /// ended inside the window (a clipped duration is not a repair time). `None` without any.
    pub mttr_ms: Option<f64>,
    /// Mean time between failures: the mean time between the starts of consecutive
    /// incidents that started inside the window, `(last start - first start) / (n - 1)`.
    /// `None` with fewer than two.
    pub mtbf_ms: Option<f64>,
}

impl Incidents {
    /// The incidents of a window (oldest first) with their means.
    pub fn from_list(incidents: Vec<Incident>) -> Incidents {
        let repaired: Vec<i64> = incidents
            .iter()
            .filter(|i| !i.started_before_window && i.end_ms.is_some())
            .map(|i| i.duration_ms)
            .collect();
        let mttr_ms = ratio(repaired.iter().sum::<i64>() as f64, repaired.len() as f64);
        let starts: Vec<i64> = incidents.iter().filter(|i| !i.started_before_window).map(|i| i.start_ms).collect();
        let mtbf_ms = match (starts.first(), starts.last()) {
            (Some(first), Some(last)) if starts.len() >= 2 => Some((last - first) as f64 / (starts.len() - 1) as f64),
            _ => None,
        };
        Incidents { count: incidents.len(), incidents, mttr_ms, mtbf_ms }
    }
}

/// A confirmed (HARD) status change, as the scheduler recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct HardChange {
    /// When the result that caused it started.
    pub at_ms: i64,
    /// The new HARD status.
    pub to: Status,
    /// That result's summary.
    pub summary: String,
}

/// The incidents overlapping `window` from the recorded HARD changes: `before` is the last
/// change before the window (the state it starts in), `changes` those inside it, oldest
/// first. An incident starts at a change to a down status and ends at the next change to an
/// up one, as [`History::incidents`] reads the results the changes came from; `down_ms` asks
/// `source` for the time counted down over each incident's span.
pub fn incidents_from_changes(
    before: Option<&HardChange>,
    changes: &[HardChange],
    window: Window,
    warning: WarningIs,
    source: &impl Availabilities,
) -> Incidents {
    let mut incidents = Vec::new();
    let mut open: Option<(i64, bool, Status, Option<String>)> =
        before.filter(|b| !warning.is_up(b.to)).map(|b| (window.from_ms, true, b.to, Some(b.summary.clone())));
    let mut close = |start: i64, before_window: bool, worst: Status, summary: Option<String>, end: Option<i64>| {
        let to = end.unwrap_or(window.to_ms);
        incidents.push(Incident {
            start_ms: start,
            end_ms: end,
            started_before_window: before_window,
            duration_ms: to - start,
            down_ms: source.availability_over(Window { from_ms: start, to_ms: to }).down_ms,
            worst,
            first_failure: None,
            summary,
        });
    };
    for c in changes.iter().filter(|c| window.contains(c.at_ms)) {
        let down = !warning.is_up(c.to);
        open = match (open.take(), down) {
            (None, true) => Some((c.at_ms, false, c.to, Some(c.summary.clone()))),
            (None, false) => None,
            (Some((start, bw, worst, summary)), true) => Some((start, bw, worst.worst(c.to), summary)),
            (Some((start, bw, worst, summary)), false) => {
                close(start, bw, worst, summary, Some(c.at_ms));
                None
            }
        };
    }
    if let Some((start, bw, worst, summary)) = open {
        close(start, bw, worst, summary, None);
    }
    Incidents::from_list(incidents)
}

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
}

/// What the check's schedule lets the data see.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolution {
    /// The interval: an outage shorter than this can fall between two runs and never show.
    #[serde(rename = "can_miss_shorter_than_ms", serialize_with = "serialize_ms")]
    pub can_miss_shorter_than: Duration,
    /// `retries × retry_interval`: how long after its first failing run an outage becomes
    /// HARD, so an outage shorter than that (plus up to an interval to be noticed) is never
    /// counted down.
    #[serde(rename = "hard_after_ms", serialize_with = "serialize_ms")]
    pub hard_after: Duration,
}

fn serialize_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A result placed on the timeline, with the verdict of the HARD rule.
#[derive(Debug, Clone, Copy)]
struct Point {
    at_ms: i64,
    status: Status,
    state: StateType,
    /// Counted down by the HARD rule.
    down: bool,
    /// Index in `History::samples`; `None` for `History::before`.
    index: Option<usize>,
}

/// The span a point holds its state over: `[from_ms, to_ms)`, possibly empty.
#[derive(Debug, Clone, Copy)]
struct Held {
    from_ms: i64,
    to_ms: i64,
}

/// The time `windows` cover, as sorted, disjoint windows (empty ones dropped; overlapping
/// or touching ones merged).
pub fn union(windows: &[Window]) -> Vec<Window> {
    let mut sorted: Vec<Window> = windows.iter().copied().filter(|w| w.from_ms < w.to_ms).collect();
    sorted.sort_by_key(|w| w.from_ms);
    let mut spans: Vec<Window> = Vec::with_capacity(sorted.len());
    for w in sorted {
        match spans.last_mut() {
            Some(last) if w.from_ms <= last.to_ms => last.to_ms = last.to_ms.max(w.to_ms),
            _ => spans.push(w),
        }
    }
    spans
}

/// Maintenance windows merged into disjoint, sorted spans clipped to one window.
struct Maintenance {
    spans: Vec<Window>,
}

impl Maintenance {
    fn new(windows: &[Window], within: Window) -> Maintenance {
        let clipped: Vec<Window> = windows
            .iter()
            .map(|w| Window { from_ms: w.from_ms.max(within.from_ms), to_ms: w.to_ms.min(within.to_ms) })
            .collect();
        Maintenance { spans: union(&clipped) }
    }

    /// Milliseconds of `[from_ms, to_ms)` under maintenance.
    fn overlap(&self, from_ms: i64, to_ms: i64) -> i64 {
        self.spans.iter().map(|w| w.overlap(from_ms, to_ms)).sum()
    }

    fn contains(&self, at_ms: i64) -> bool {
        self.spans.iter().any(|w| w.contains(at_ms))
    }

    fn total_ms(&self) -> i64 {
        self.spans.iter().map(Window::len_ms).sum()
    }
}

/// Anything that weighs a check's availability over a window: the raw [`History`], or
/// hourly rollups and raw results together (see `report::tiered`). The SLO figures are
/// computed over either the same way.
pub trait Availabilities {
    /// Time-weighted availability over `window`.
    fn availability_over(&self, window: Window) -> Availability;
}

impl Availabilities for History<'_> {
    fn availability_over(&self, window: Window) -> Availability {
        self.availability(window)
    }
}

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
    SloReport { slo: *slo, budget, burn_rates, alerts }
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

/// Milliseconds in a duration, saturating at `i64::MAX`.
fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Resolution {
    /// The resolution of a check run every `interval` whose failures become HARD after
    /// `retries` retries `retry_interval` apart.
    pub fn of(interval: Duration, retries: u32, retry_interval: Duration) -> Resolution {
        Resolution {
            can_miss_shorter_than: interval,
            hard_after: retry_interval.checked_mul(retries).unwrap_or(Duration::MAX),
        }
    }
}

impl History<'_> {
    /// The measurement resolution of the check's schedule.
    pub fn resolution(&self) -> Resolution {
        Resolution::of(self.interval, self.retries, self.retry_interval)
    }

    /// Time-weighted HARD availability and the raw attempt ratio over `window`.
    pub fn availability(&self, window: Window) -> Availability {
        let points = self.points();
        let held = self.held(&points);
        let maintenance = Maintenance::new(self.maintenance, window);
        let (mut up_ms, mut down_ms) = (0i64, 0i64);
        for (point, span) in points.iter().zip(&held) {
            let inside = window.overlap(span.from_ms, span.to_ms);
            if inside == 0 {
                continue;
            }
            let from = span.from_ms.max(window.from_ms);
            let counted = inside - maintenance.overlap(from, from + inside);
            if point.down {
                down_ms += counted;
            } else {
                up_ms += counted;
            }
        }
        let maintenance_ms = maintenance.total_ms();
        let no_data_ms = window.len_ms() - up_ms - down_ms - maintenance_ms;
        let (mut raw_ok, mut raw_total) = (0u64, 0u64);
        for sample in self.samples.iter().filter(|s| window.contains(s.at_ms) && !maintenance.contains(s.at_ms)) {
            raw_total += 1;
            if self.options.warning.is_up(sample.status) {
                raw_ok += 1;
            }
        }
        Availability::from_parts(
            Parts { up_ms, down_ms, no_data_ms, maintenance_ms, raw_ok, raw_total },
            self.options.no_data,
        )
    }

    /// The incidents overlapping `window`, with MTTR and MTBF.
    pub fn incidents(&self, window: Window) -> Incidents {
        let points = self.points();
        let held = self.held(&points);
        let maintenance = Maintenance::new(self.maintenance, window);
        let mut incidents = Vec::new();
        let mut k = 0;
        while k < points.len() {
            if !points[k].down {
                k += 1;
                continue;
            }
            let first = k;
            while k < points.len() && points[k].down {
                k += 1;
            }
            // The run `first..k` is down; `points[k]`, if any, ended it.
            let start_at = points[first].at_ms;
            let end_at = points.get(k).map(|p| p.at_ms);
            if start_at >= window.to_ms {
                break;
            }
            if end_at.is_some_and(|t| t <= window.from_ms) {
                continue;
            }
            let start_ms = start_at.max(window.from_ms);
            let end_ms = end_at.filter(|&t| t < window.to_ms);
            let mut down_ms = 0;
            let mut worst = Status::Ok;
            for j in first..k {
                let span = held[j];
                let inside = window.overlap(span.from_ms, span.to_ms);
                if inside > 0 {
                    let from = span.from_ms.max(window.from_ms);
                    down_ms += inside - maintenance.overlap(from, from + inside);
                }
                // In force from its time to the next result's.
                let next_at = points.get(j + 1).map_or(i64::MAX, |p| p.at_ms);
                if window.overlap(points[j].at_ms, next_at) > 0 {
                    worst = worst.worst(points[j].status);
                }
            }
            incidents.push(Incident {
                start_ms,
                end_ms,
                started_before_window: start_at < window.from_ms,
                duration_ms: end_ms.unwrap_or(window.to_ms) - start_ms,
                down_ms,
                worst,
                first_failure: self.first_failure(&points, first),
                summary: None,
            });
        }
        Incidents::from_list(incidents)
    }

    /// The error budget, burn rates and alert verdicts of `slo` at `now_ms`.
    pub fn slo_report(&self, slo: &Slo, now_ms: i64) -> SloReport {
        slo_report(self, slo, now_ms)
    }

    /// The burn rate of `slo` over `[now_ms - span, now_ms)`.
    pub fn burn_rate(&self, slo: &Slo, span: Duration, now_ms: i64) -> BurnRate {
        burn_rate(self, slo, span, now_ms)
    }

    /// `before` and the samples in time order, each with its HARD-rule verdict.
    fn points(&self) -> Vec<Point> {
        let mut points: Vec<Point> = self
            .before
            .iter()
            .map(|s| (None, s))
            .chain(self.samples.iter().enumerate().map(|(i, s)| (Some(i), s)))
            .map(|(index, s)| Point { at_ms: s.at_ms, status: s.status, state: s.state, down: false, index })
            .collect();
        // Stable: equal times keep their order, `before` first.
        points.sort_by_key(|p| p.at_ms);
        let warning = self.options.warning;
        let mut last_hard_up: Option<bool> = None;
        for p in &mut points {
            let up = match p.state {
                StateType::Hard => {
                    let up = warning.is_up(p.status);
                    last_hard_up = Some(up);
                    up
                }
                // Never HARD before: a SOFT problem leaves a HARD ok, a SOFT ok a HARD problem.
                StateType::Soft => last_hard_up.unwrap_or(p.status != Status::Ok),
            };
            p.down = !up;
        }
        points
    }

    /// The span each point holds its state over: until the next point, at most twice the
    /// interval.
    fn held(&self, points: &[Point]) -> Vec<Held> {
        let cap = millis(self.interval).saturating_mul(2);
        points
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let limit = p.at_ms.saturating_add(cap);
                let to_ms = points.get(k + 1).map_or(limit, |next| next.at_ms.min(limit));
                Held { from_ms: p.at_ms, to_ms: to_ms.max(p.at_ms) }
            })
            .collect()
    }

    /// The index of the first failing attempt of the incident whose first down point is
    /// `points[first]`: walk back over the SOFT problems right before it.
    fn first_failure(&self, points: &[Point], first: usize) -> Option<usize> {
        let mut c = first;
        while c > 0 && {
            let p = &points[c - 1];
            p.state == StateType::Soft && p.status != Status::Ok && !p.down
        } {
            c -= 1;
        }
        // Complete if something else precedes the attempts, or all the retries are there.
        let complete = c > 0 || first - c >= self.retries as usize;
        if complete { points[c].index } else { None }
    }
}

/// `numerator / denominator`, `None` when the denominator is zero.
fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    if denominator == 0.0 { None } else { Some(numerator / denominator) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: i64 = 1000;
    const MIN: i64 = 60 * SEC;
    const HOUR_MS: i64 = 60 * MIN;
    const DAY_MS: i64 = 24 * HOUR_MS;

    fn ok(at_ms: i64) -> Sample {
        Sample { at_ms, status: Status::Ok, state: StateType::Hard }
    }

    fn crit(at_ms: i64) -> Sample {
        Sample { at_ms, status: Status::Critical, state: StateType::Hard }
    }

    fn soft(at_ms: i64, status: Status) -> Sample {
        Sample { at_ms, status, state: StateType::Soft }
    }

    /// One result a minute from `from` (inclusive) to `to` (exclusive), both in minutes,
    /// each made by `f` from its time in ms.
    fn every_minute(from: i64, to: i64, f: fn(i64) -> Sample) -> Vec<Sample> {
        (from..to).map(|m| f(m * MIN)).collect()
    }

    /// A history with a one-minute interval, no retries and no maintenance.
    fn history(samples: &[Sample]) -> History<'_> {
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

    fn window(from_ms: i64, to_ms: i64) -> Window {
        Window { from_ms, to_ms }
    }

    /// `a` and `b` agree to 1e-12 relative: burn rates divide by `1 - 0.999`, which is not
    /// exact in binary (0.0010000000000000009).
    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() <= 1e-12 * b.abs().max(1.0))
    }

    #[test]
    fn regular_ok_and_critical_results() {
        // ok 0-4 min, HARD critical 5-7, ok 8-9, one a minute.
        let mut samples = every_minute(0, 5, ok);
        samples.extend(every_minute(5, 8, crit));
        samples.extend(every_minute(8, 10, ok));
        let h = history(&samples);
        let a = h.availability(window(0, 10 * MIN));
        assert_eq!((a.up_ms, a.down_ms, a.no_data_ms, a.maintenance_ms), (7 * MIN, 3 * MIN, 0, 0));
        assert_eq!((a.measured_ms, a.ratio), (10 * MIN, Some(0.7)));
        assert_eq!((a.raw_ok, a.raw_total, a.raw_ratio), (7, 10, Some(0.7)));

        let i = h.incidents(window(0, 10 * MIN));
        assert_eq!(
            i.incidents,
            vec![Incident {
                start_ms: 5 * MIN,
                end_ms: Some(8 * MIN),
                started_before_window: false,
                duration_ms: 3 * MIN,
                down_ms: 3 * MIN,
                worst: Status::Critical,
                first_failure: Some(5),
                summary: None,
            }]
        );
        assert_eq!((i.count, i.mttr_ms, i.mtbf_ms), (1, Some((3 * MIN) as f64), None));
    }

    #[test]
    fn irregular_intervals_hold_until_the_next_result_up_to_twice_the_interval() {
        // Interval 60 s. Gaps: 30 s, 70 s, 30 s (critical), 120 s (exactly 2 × interval, all
        // of it counts), then the last result holds to the window's end (50 s < 120 s).
        let samples = [ok(0), ok(30 * SEC), crit(100 * SEC), ok(130 * SEC), ok(250 * SEC)];
        let a = history(&samples).availability(window(0, 300 * SEC));
        assert_eq!((a.up_ms, a.down_ms, a.no_data_ms), ((30 + 70 + 120 + 50) * SEC, 30 * SEC, 0));
        assert_eq!(a.ratio, Some(0.9));
        assert_eq!((a.raw_ok, a.raw_total), (4, 5));
    }

    #[test]
    fn a_gap_is_no_data_excluded_by_default_and_down_with_as_down() {
        // ok at 0 s and 60 s, nothing until 600 s, ok at 600 s and 660 s; window 0-720 s.
        // 60 → 600: 120 s up (2 × interval), 420 s no data.
        let samples = [ok(0), ok(60 * SEC), ok(600 * SEC), ok(660 * SEC)];
        let mut h = history(&samples);
        let a = h.availability(window(0, 720 * SEC));
        assert_eq!((a.up_ms, a.down_ms, a.no_data_ms), (300 * SEC, 0, 420 * SEC));
        assert_eq!((a.measured_ms, a.counted_down_ms(), a.ratio), (300 * SEC, 0, Some(1.0)));

        h.options.no_data = NoData::AsDown;
        let a = h.availability(window(0, 720 * SEC));
        assert_eq!((a.up_ms, a.down_ms, a.no_data_ms), (300 * SEC, 0, 420 * SEC));
        assert_eq!((a.measured_ms, a.counted_down_ms()), (720 * SEC, 420 * SEC));
        assert_eq!(a.ratio, Some(300.0 / 720.0));

        // Before the first result, without `before`: no data too.
        let a = h.availability(window(-60 * SEC, 720 * SEC));
        assert_eq!(a.no_data_ms, 480 * SEC);
        // And after the last result's 2 × interval.
        let a = h.availability(window(0, 900 * SEC));
        assert_eq!((a.up_ms, a.no_data_ms), ((300 + 60) * SEC, (420 + 120) * SEC));
        // No incident from no data, whatever the option.
        assert_eq!(h.incidents(window(0, 720 * SEC)).count, 0);
    }

    #[test]
    fn a_maintenance_window_inside_an_outage_is_cut_from_every_bucket() {
        // ok 0-4 min, HARD critical 5-14, ok 15-19; maintenance 8-11 min.
        let mut samples = every_minute(0, 5, ok);
        samples.extend(every_minute(5, 15, crit));
        samples.extend(every_minute(15, 20, ok));
        let maintenance = [window(8 * MIN, 11 * MIN)];
        let h = History { maintenance: &maintenance, ..history(&samples) };
        let a = h.availability(window(0, 20 * MIN));
        assert_eq!((a.up_ms, a.down_ms, a.no_data_ms, a.maintenance_ms), (10 * MIN, 7 * MIN, 0, 3 * MIN));
        assert_eq!(a.ratio, Some(10.0 / 17.0));
        // The results at 8, 9 and 10 min are in maintenance.
        assert_eq!((a.raw_ok, a.raw_total), (10, 17));

        let i = h.incidents(window(0, 20 * MIN));
        assert_eq!(i.count, 1);
        let incident = &i.incidents[0];
        assert_eq!((incident.start_ms, incident.end_ms), (5 * MIN, Some(15 * MIN)));
        // Wall clock 10 min, of which 7 counted down.
        assert_eq!((incident.duration_ms, incident.down_ms), (10 * MIN, 7 * MIN));
    }

    #[test]
    fn overlapping_maintenance_windows_count_once() {
        let samples = every_minute(0, 10, ok);
        let maintenance = [window(4 * MIN, 6 * MIN), window(2 * MIN, 5 * MIN), window(9 * MIN, 20 * MIN)];
        let h = History { maintenance: &maintenance, ..history(&samples) };
        let a = h.availability(window(0, 10 * MIN));
        assert_eq!((a.up_ms, a.maintenance_ms, a.raw_total), (5 * MIN, 5 * MIN, 5));
    }

    #[test]
    fn an_incident_spanning_the_window_start_starts_at_the_window() {
        // `before`: HARD critical 30 s before the window. Then critical at 30 s and 90 s,
        // HARD ok at 150 s and 210 s; window 0-240 s.
        let samples = [crit(30 * SEC), crit(90 * SEC), ok(150 * SEC), ok(210 * SEC)];
        let h = History { before: Some(crit(-30 * SEC)), ..history(&samples) };
        let w = window(0, 240 * SEC);
        let a = h.availability(w);
        assert_eq!((a.up_ms, a.down_ms, a.no_data_ms), (90 * SEC, 150 * SEC, 0));
        assert_eq!((a.raw_ok, a.raw_total), (2, 4));

        let i = h.incidents(w);
        assert_eq!(
            i.incidents,
            vec![Incident {
                start_ms: 0,
                end_ms: Some(150 * SEC),
                started_before_window: true,
                duration_ms: 150 * SEC,
                down_ms: 150 * SEC,
                worst: Status::Critical,
                first_failure: None,
                summary: None,
            }]
        );
        // A clipped incident is no repair time, and no start to measure from.
        assert_eq!((i.count, i.mttr_ms, i.mtbf_ms), (1, None, None));

        // Samples before the window play the part of `before`; with retries = 1 the first
        // failure is the SOFT attempt before the HARD one, and it is among the samples.
        let samples = [
            ok(-180 * SEC),
            soft(-130 * SEC, Status::Critical),
            Sample { at_ms: -120 * SEC, status: Status::Unknown, state: StateType::Hard },
            crit(-60 * SEC),
            crit(0),
            ok(60 * SEC),
        ];
        let h = History { retries: 1, ..history(&samples) };
        let i = h.incidents(window(0, 120 * SEC));
        let incident = &i.incidents[0];
        assert!(incident.started_before_window);
        assert_eq!((incident.start_ms, incident.end_ms, incident.duration_ms), (0, Some(60 * SEC), 60 * SEC));
        assert_eq!(incident.first_failure, Some(1));
        // The unknown at -120 s stopped being in force at -60 s, before the window.
        assert_eq!(incident.worst, Status::Critical);
        // The window starting with an earlier sample sees the whole incident and its worst.
        let whole = &h.incidents(window(-200 * SEC, 120 * SEC)).incidents[0];
        assert_eq!((whole.start_ms, whole.started_before_window, whole.worst), (-120 * SEC, false, Status::Unknown));
    }

    #[test]
    fn first_failure_is_unknown_when_the_samples_start_mid_retries() {
        // retries = 2, but only one SOFT attempt precedes the HARD one in the samples.
        let samples = [soft(0, Status::Critical), crit(10 * SEC), ok(70 * SEC)];
        let h = History { retries: 2, ..history(&samples) };
        assert_eq!(h.incidents(window(0, 120 * SEC)).incidents[0].first_failure, None);
        // Both SOFT attempts there: the first one.
        let samples = [soft(0, Status::Critical), soft(10 * SEC, Status::Critical), crit(20 * SEC), ok(80 * SEC)];
        let h = History { retries: 2, ..history(&samples) };
        assert_eq!(h.incidents(window(0, 120 * SEC)).incidents[0].first_failure, Some(0));
    }

    #[test]
    fn soft_failures_that_never_became_hard_are_up_but_count_in_the_raw_ratio() {
        // retries 2, retry_interval 10 s: two SOFT criticals, then an ok (a soft recovery:
        // HARD ok, which it never left).
        let samples = [
            ok(0),
            ok(60 * SEC),
            soft(120 * SEC, Status::Critical),
            soft(130 * SEC, Status::Critical),
            ok(140 * SEC),
            ok(200 * SEC),
            ok(260 * SEC),
        ];
        let h = History { retries: 2, ..history(&samples) };
        let a = h.availability(window(0, 300 * SEC));
        assert_eq!((a.up_ms, a.down_ms, a.ratio), (300 * SEC, 0, Some(1.0)));
        assert_eq!((a.raw_ok, a.raw_total, a.raw_ratio), (5, 7, Some(5.0 / 7.0)));
        assert_eq!(h.incidents(window(0, 300 * SEC)).count, 0);
    }

    #[test]
    fn a_soft_recovery_is_down_until_the_hard_ok() {
        // recover_after = 2: HARD critical, SOFT ok, HARD ok.
        let samples = [crit(0), soft(60 * SEC, Status::Ok), ok(120 * SEC)];
        let h = history(&samples);
        let a = h.availability(window(0, 180 * SEC));
        assert_eq!((a.up_ms, a.down_ms), (60 * SEC, 120 * SEC));
        // The SOFT ok counts as good in the raw ratio.
        assert_eq!((a.raw_ok, a.raw_total), (2, 3));
        let i = h.incidents(window(0, 180 * SEC));
        assert_eq!((i.incidents[0].end_ms, i.incidents[0].duration_ms), (Some(120 * SEC), 120 * SEC));
        // A SOFT ok with no HARD result before it follows a HARD problem: down.
        let samples = [soft(0, Status::Ok), ok(60 * SEC)];
        let a = history(&samples).availability(window(0, 120 * SEC));
        assert_eq!((a.up_ms, a.down_ms), (60 * SEC, 60 * SEC));
    }

    #[test]
    fn an_incident_still_going_on_at_the_window_end_has_no_end() {
        // A result after the window does not end it inside the window.
        let samples = [ok(0), crit(60 * SEC), crit(120 * SEC), crit(180 * SEC), ok(240 * SEC)];
        let i = history(&samples).incidents(window(0, 210 * SEC));
        assert_eq!(
            i.incidents,
            vec![Incident {
                start_ms: 60 * SEC,
                end_ms: None,
                started_before_window: false,
                duration_ms: 150 * SEC,
                down_ms: 150 * SEC,
                worst: Status::Critical,
                first_failure: Some(1),
                summary: None,
            }]
        );
        assert_eq!((i.count, i.mttr_ms, i.mtbf_ms), (1, None, None));
    }

    #[test]
    fn mttr_and_mtbf_over_three_incidents() {
        // One result a minute for an hour; HARD critical 10-11, 25-29 and 40-47 minutes:
        // incidents of 2, 5 and 8 minutes starting at 10, 25 and 40.
        let samples: Vec<Sample> = (0..60)
            .map(|m| {
                if (10..12).contains(&m) || (25..30).contains(&m) || (40..48).contains(&m) {
                    crit(m * MIN)
                } else {
                    ok(m * MIN)
                }
            })
            .collect();
        let h = history(&samples);
        let i = h.incidents(window(0, 60 * MIN));
        assert_eq!(i.count, 3);
        let spans: Vec<(i64, Option<i64>, i64)> =
            i.incidents.iter().map(|x| (x.start_ms, x.end_ms, x.duration_ms)).collect();
        assert_eq!(
            spans,
            vec![
                (10 * MIN, Some(12 * MIN), 2 * MIN),
                (25 * MIN, Some(30 * MIN), 5 * MIN),
                (40 * MIN, Some(48 * MIN), 8 * MIN)
            ]
        );
        // (2 + 5 + 8) / 3 = 5 min; (40 - 10) / 2 = 15 min.
        assert_eq!(i.mttr_ms, Some((5 * MIN) as f64));
        assert_eq!(i.mtbf_ms, Some((15 * MIN) as f64));
        assert_eq!(h.availability(window(0, 60 * MIN)).ratio, Some(0.75));
    }

    #[test]
    fn worst_status_of_an_incident_ranks_unknown_above_critical() {
        let unknown = Sample { at_ms: 120 * SEC, status: Status::Unknown, state: StateType::Hard };
        let samples = [crit(60 * SEC), unknown, crit(180 * SEC), ok(240 * SEC)];
        let i = history(&samples).incidents(window(0, 300 * SEC));
        assert_eq!((i.count, i.incidents[0].worst), (1, Status::Unknown));
    }

    #[test]
    fn warning_is_up_by_default_and_down_on_request() {
        let warn = |at_ms| Sample { at_ms, status: Status::Warning, state: StateType::Hard };
        let samples = [ok(0), warn(60 * SEC), warn(120 * SEC), ok(180 * SEC)];
        let mut h = history(&samples);
        let w = window(0, 240 * SEC);
        let a = h.availability(w);
        assert_eq!((a.down_ms, a.raw_ok, h.incidents(w).count), (0, 4, 0));

        h.options.warning = WarningIs::Down;
        let a = h.availability(w);
        assert_eq!((a.down_ms, a.raw_ok), (120 * SEC, 2));
        let i = h.incidents(w);
        assert_eq!((i.count, i.incidents[0].worst, i.incidents[0].duration_ms), (1, Status::Warning, 120 * SEC));
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

    #[test]
    fn resolution_is_the_interval_and_the_retries() {
        let h = History { retries: 2, retry_interval: Duration::from_secs(10), ..history(&[]) };
        assert_eq!(
            h.resolution(),
            Resolution { can_miss_shorter_than: Duration::from_secs(60), hard_after: Duration::from_secs(20) }
        );
    }

    #[test]
    fn computations_are_in_utc_milliseconds_so_dst_changes_do_not_matter() {
        // Europe/Paris went from CET to CEST at 2024-03-31 01:00 UTC: local midnight of the
        // 31st is 2024-03-30T23:00Z and of April 1st 2024-03-31T22:00Z, a 23-hour "day". The
        // caller turns local dates into UTC ms; here it is a plain 23-hour window, and the
        // results a minute apart across the change hold one minute each, with no hour gained
        // or lost.
        let from = 1_711_839_600_000; // 2024-03-30T23:00:00Z
        let to = 1_711_922_400_000; // 2024-03-31T22:00:00Z
        assert_eq!(to - from, 23 * HOUR_MS);
        let samples: Vec<Sample> = (0..23 * 60).map(|m| ok(from + m * MIN)).collect();
        let a = history(&samples).availability(window(from, to));
        assert_eq!((a.up_ms, a.no_data_ms, a.raw_total), (23 * HOUR_MS, 0, 23 * 60));
    }

    #[test]
    fn an_empty_history_or_window_is_all_none() {
        let h = history(&[]);
        let a = h.availability(window(0, MIN));
        assert_eq!((a.no_data_ms, a.measured_ms, a.ratio, a.raw_ratio), (MIN, 0, None, None));
        let a = history(&[ok(0)]).availability(window(MIN, 0));
        assert_eq!((a.up_ms, a.no_data_ms, a.ratio), (0, 0, None));
        assert_eq!(
            h.incidents(window(0, MIN)),
            Incidents { incidents: vec![], count: 0, mttr_ms: None, mtbf_ms: None }
        );
    }
}
