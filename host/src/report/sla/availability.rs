//! How results hold their state over time: the timeline of a check's results (see the
//! [`sla`](super) module docs for its rules), maintenance cut out of it, the time-weighted
//! [`Availability`] and raw attempt ratio it gives, and the [`Resolution`] the check's
//! schedule allows.

use std::time::Duration;

use serde::Serialize;

#[cfg(doc)]
use super::WarningIs;
use super::{History, NoData, Window, millis, ratio};
use crate::result::{StateType, Status};

/// Time-weighted availability of one check over a window.
///
/// The four time buckets are disjoint and add up to the window's length.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Availability {
    /// Time counted up, outside maintenance.
    pub up_ms: i64,
    /// The part of `up_ms` the check was degraded: its HARD state was warning, which counts
    /// as up (see [`WarningIs`]). Zero when warnings count as down, as that time is then in
    /// `down_ms`.
    pub degraded_ms: i64,
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
    /// The part of `up_ms` in a HARD warning.
    pub degraded_ms: i64,
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
        self.degraded_ms += o.degraded_ms;
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
            degraded_ms: p.degraded_ms,
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
            degraded_ms: self.degraded_ms,
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

/// A result placed on the timeline, with the verdict of the HARD rule.
#[derive(Debug, Clone, Copy)]
pub(super) struct Point {
    pub(super) at_ms: i64,
    pub(super) status: Status,
    pub(super) state: StateType,
    /// Counted down by the HARD rule.
    pub(super) down: bool,
    /// Counted up while the HARD state was warning: degraded, not down.
    pub(super) degraded: bool,
    /// Index in `History::samples`; `None` for `History::before`.
    pub(super) index: Option<usize>,
}

/// The span a point holds its state over: `[from_ms, to_ms)`, possibly empty.
#[derive(Debug, Clone, Copy)]
pub(super) struct Held {
    pub(super) from_ms: i64,
    pub(super) to_ms: i64,
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
pub(super) struct Maintenance {
    spans: Vec<Window>,
}

impl Maintenance {
    pub(super) fn new(windows: &[Window], within: Window) -> Maintenance {
        let clipped: Vec<Window> = windows
            .iter()
            .map(|w| Window { from_ms: w.from_ms.max(within.from_ms), to_ms: w.to_ms.min(within.to_ms) })
            .collect();
        Maintenance { spans: union(&clipped) }
    }

    /// Milliseconds of `[from_ms, to_ms)` under maintenance.
    pub(super) fn overlap(&self, from_ms: i64, to_ms: i64) -> i64 {
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
        let (mut up_ms, mut degraded_ms, mut down_ms) = (0i64, 0i64, 0i64);
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
                if point.degraded {
                    degraded_ms += counted;
                }
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
            Parts { up_ms, degraded_ms, down_ms, no_data_ms, maintenance_ms, raw_ok, raw_total },
            self.options.no_data,
        )
    }

    /// `before` and the samples in time order, each with its HARD-rule verdict.
    pub(super) fn points(&self) -> Vec<Point> {
        let mut points: Vec<Point> = self
            .before
            .iter()
            .map(|s| (None, s))
            .chain(self.samples.iter().enumerate().map(|(i, s)| (Some(i), s)))
            .map(|(index, s)| Point {
                at_ms: s.at_ms,
                status: s.status,
                state: s.state,
                down: false,
                degraded: false,
                index,
            })
            .collect();
        // Stable: equal times keep their order, `before` first.
        points.sort_by_key(|p| p.at_ms);
        let warning = self.options.warning;
        let mut last_hard: Option<Status> = None;
        for p in &mut points {
            // The HARD status in force: a SOFT result holds the last HARD one.
            let hard = match p.state {
                StateType::Hard => {
                    last_hard = Some(p.status);
                    Some(p.status)
                }
                StateType::Soft => last_hard,
            };
            let up = match hard {
                Some(status) => warning.is_up(status),
                // Never HARD before: a SOFT problem leaves a HARD ok, a SOFT ok a HARD problem.
                None => p.status != Status::Ok,
            };
            p.down = !up;
            p.degraded = up && hard == Some(Status::Warning);
        }
        points
    }

    /// The span each point holds its state over: until the next point, at most twice the
    /// interval.
    pub(super) fn held(&self, points: &[Point]) -> Vec<Held> {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sla::fixtures::*;
    use crate::report::sla::{Incident, Incidents, NoData, Sample, WarningIs};

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
    fn warning_is_up_by_default_and_down_on_request() {
        let warn = |at_ms| Sample { at_ms, status: Status::Warning, state: StateType::Hard };
        let samples = [ok(0), warn(60 * SEC), warn(120 * SEC), ok(180 * SEC)];
        let mut h = history(&samples);
        let w = window(0, 240 * SEC);
        let a = h.availability(w);
        assert_eq!((a.down_ms, a.raw_ok, h.incidents(w).count), (0, 4, 0));
        // Up, but degraded for the two minutes the HARD state was warning.
        assert_eq!((a.up_ms, a.degraded_ms), (240 * SEC, 120 * SEC));

        h.options.warning = WarningIs::Down;
        let a = h.availability(w);
        assert_eq!((a.down_ms, a.raw_ok, a.degraded_ms), (120 * SEC, 2, 0));
        let i = h.incidents(w);
        assert_eq!((i.count, i.incidents[0].worst, i.incidents[0].duration_ms), (1, Status::Warning, 120 * SEC));
    }

    #[test]
    fn a_soft_result_is_degraded_only_while_the_hard_state_is_warning() {
        let warn = |at_ms| Sample { at_ms, status: Status::Warning, state: StateType::Hard };
        // A SOFT warning while HARD ok is a blip, not degraded; a SOFT critical while HARD
        // warning holds the warning: degraded (and up) until the HARD critical.
        let samples = [
            ok(0),
            soft(60 * SEC, Status::Warning),
            warn(120 * SEC),
            soft(180 * SEC, Status::Critical),
            crit(240 * SEC),
        ];
        let h = History { retries: 1, ..history(&samples) };
        let a = h.availability(window(0, 300 * SEC));
        assert_eq!((a.up_ms, a.degraded_ms, a.down_ms), (240 * SEC, 120 * SEC, 60 * SEC));
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
