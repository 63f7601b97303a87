//! Incidents: the periods a check was down by the HARD rule, read from its results
//! ([`History::incidents`]) or from the HARD changes the scheduler recorded
//! ([`incidents_from_changes`]), with their mean time to repair and between failures.

use serde::Serialize;

#[cfg(doc)]
use super::Availability;
use super::availability::{Availabilities, Maintenance, Point};
use super::{History, WarningIs, Window, ratio};
use crate::result::{StateType, Status};

/// One period during which the check was down by the HARD rule (see the [`sla`](super)
/// module docs).
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

impl History<'_> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sla::Sample;
    use crate::report::sla::fixtures::*;

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
}
