//! Periods a check spent in a condition that is not an outage but that a report must still
//! show: degraded (a HARD warning, which counts as up) and flapping. Both are read from the
//! state events the scheduler recorded, as incidents are.

use serde::Serialize;

use super::Window;

/// One period in a condition, clipped to the report window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    /// When it started, or the window's start if it was already going on then.
    pub start_ms: i64,
    /// When it ended; `None` if it was still going on at the window's end.
    pub end_ms: Option<i64>,
    /// It was already going on when the window started.
    pub started_before_window: bool,
    /// Wall-clock time from `start_ms` to `end_ms` (or the window's end).
    pub duration_ms: i64,
}

/// The periods of one condition over a window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Periods {
    /// Every period that overlaps the window, oldest first.
    pub periods: Vec<Period>,
    /// `periods.len()`.
    pub count: usize,
    /// The sum of their `duration_ms` (they never overlap).
    pub total_ms: i64,
}

impl Periods {
    /// The periods of `window` from a condition's changes: `before` is whether the condition
    /// held when the window started (from the last change before it), `changes` are the
    /// times the condition started (`true`) or stopped (`false`), oldest first. Changes
    /// outside the window and repeats (a start while started) are ignored.
    pub fn from_changes(before: bool, changes: impl IntoIterator<Item = (i64, bool)>, window: Window) -> Periods {
        let mut periods = Vec::new();
        let mut open = before.then_some((window.from_ms, true));
        let mut close = |start: i64, before_window: bool, end: Option<i64>| {
            periods.push(Period {
                start_ms: start,
                end_ms: end,
                started_before_window: before_window,
                duration_ms: end.unwrap_or(window.to_ms) - start,
            });
        };
        for (at_ms, on) in changes.into_iter().filter(|(at, _)| window.contains(*at)) {
            open = match (open, on) {
                (None, true) => Some((at_ms, false)),
                (None, false) => None,
                (Some(started), true) => Some(started),
                (Some((start, before_window)), false) => {
                    close(start, before_window, Some(at_ms));
                    None
                }
            };
        }
        if let Some((start, before_window)) = open {
            close(start, before_window, None);
        }
        let total_ms = periods.iter().map(|p| p.duration_ms).sum();
        Periods { count: periods.len(), periods, total_ms }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sla::fixtures::{MIN, window};

    #[test]
    fn periods_open_at_a_start_close_at_a_stop_and_are_clipped_to_the_window() {
        let w = window(10 * MIN, 60 * MIN);
        // Going on when the window starts, stopping at 15; again 20–30; a repeated start at
        // 25 changes nothing; started at 50 and still going; changes outside are ignored.
        let changes = [
            (5 * MIN, true),
            (15 * MIN, false),
            (20 * MIN, true),
            (25 * MIN, true),
            (30 * MIN, false),
            (40 * MIN, false),
            (50 * MIN, true),
            (70 * MIN, false),
        ];
        let p = Periods::from_changes(true, changes, w);
        assert_eq!(
            p.periods,
            vec![
                Period {
                    start_ms: 10 * MIN,
                    end_ms: Some(15 * MIN),
                    started_before_window: true,
                    duration_ms: 5 * MIN
                },
                Period {
                    start_ms: 20 * MIN,
                    end_ms: Some(30 * MIN),
                    started_before_window: false,
                    duration_ms: 10 * MIN
                },
                Period { start_ms: 50 * MIN, end_ms: None, started_before_window: false, duration_ms: 10 * MIN },
            ]
        );
        assert_eq!((p.count, p.total_ms), (3, 25 * MIN));
    }

    #[test]
    fn no_changes_is_all_or_nothing() {
        let w = window(0, 60 * MIN);
        assert_eq!(Periods::from_changes(false, [], w), Periods::default());
        let all = Periods::from_changes(true, [], w);
        assert_eq!((all.count, all.total_ms, all.periods[0].end_ms), (1, 60 * MIN, None));
    }
}
