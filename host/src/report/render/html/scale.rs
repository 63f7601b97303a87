//! The geometry of the charts, as pure functions: linear scales, "nice" axis ticks in
//! milliseconds and in UTC time, and SVG path strings.

use std::fmt::Write;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// A linear map from a domain (data values) onto a range (SVG user units).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    domain: (f64, f64),
    range: (f64, f64),
}

impl Scale {
    /// Maps `domain.0` to `range.0` and `domain.1` to `range.1` (the range may run backwards,
    /// as a y axis does).
    pub fn new(domain: (f64, f64), range: (f64, f64)) -> Scale {
        Scale { domain, range }
    }

    /// The position of `value`; an empty domain maps everything to the middle of the range.
    pub fn at(&self, value: f64) -> f64 {
        let (d0, d1) = self.domain;
        let (r0, r1) = self.range;
        let span = d1 - d0;
        if span == 0.0 || !span.is_finite() || !value.is_finite() {
            return (r0 + r1) / 2.0;
        }
        r0 + (value - d0) / span * (r1 - r0)
    }
}

/// Ticks from 0 to a round value at or above `max`, `1`, `2` or `5` times a power of ten
/// apart, at most `max_ticks + 1` of them. A non-positive `max` gives `[0, 1]`.
pub fn nice_ticks(max: f64, max_ticks: usize) -> Vec<f64> {
    if !(max.is_finite() && max > 0.0) {
        return vec![0.0, 1.0];
    }
    let step = nice_step(max / max_ticks.max(1) as f64);
    let count = (max / step).ceil().max(1.0) as usize;
    (0..=count).map(|i| i as f64 * step).collect()
}

/// The smallest of 1, 2, 5 × 10^k at or above `raw`.
fn nice_step(raw: f64) -> f64 {
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * magnitude).find(|s| *s >= raw * (1.0 - 1e-9)).unwrap_or(raw)
}

/// A tick label in milliseconds with as many decimals as `step` needs: `250 ms`, `0.5 ms`.
pub fn ms_label(value: f64, step: f64) -> String {
    let decimals = if step >= 1.0 { 0 } else { (-step.log10().floor()) as usize };
    format!("{value:.decimals$} ms")
}

/// Steps a time axis may use, in milliseconds.
const TIME_STEPS: [i64; 12] = [
    5 * 60_000,
    15 * 60_000,
    30 * 60_000,
    HOUR_MS,
    3 * HOUR_MS,
    6 * HOUR_MS,
    12 * HOUR_MS,
    DAY_MS,
    2 * DAY_MS,
    7 * DAY_MS,
    14 * DAY_MS,
    28 * DAY_MS,
];

/// Round UTC instants inside `from_ms..=to_ms`, at most `max_ticks` of them, with the step
/// between them. Multiples of the step since the epoch: midnights for days, whole hours.
pub fn time_ticks(from_ms: i64, to_ms: i64, max_ticks: usize) -> (Vec<i64>, i64) {
    let len = to_ms.saturating_sub(from_ms).max(1);
    let max_ticks = max_ticks.max(1) as i64;
    let step = TIME_STEPS.into_iter().find(|s| len / s < max_ticks).unwrap_or_else(|| len / max_ticks + 1);
    let first = from_ms.div_euclid(step).saturating_add(i64::from(from_ms.rem_euclid(step) != 0)).saturating_mul(step);
    let ticks = std::iter::successors(Some(first), |t| t.checked_add(step)).take_while(|t| *t <= to_ms).collect();
    (ticks, step)
}

/// An SVG path through the points of each run, one `M`-started line per run, with one
/// decimal (plenty at any screen size, and short).
pub fn line_path(runs: &[Vec<(f64, f64)>]) -> String {
    let mut d = String::new();
    for run in runs {
        for (i, (x, y)) in run.iter().enumerate() {
            let command = if i == 0 { 'M' } else { 'L' };
            if !d.is_empty() {
                d.push(' ');
            }
            let _ = write!(d, "{command}{}", num(*x));
            let _ = write!(d, " {}", num(*y));
        }
    }
    d
}

/// A coordinate for an SVG attribute: one decimal, without a trailing `.0`.
pub fn num(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded == 0.0 {
        return "0".to_string();
    }
    let text = format!("{rounded:.1}");
    text.strip_suffix(".0").map_or(text.clone(), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_maps_domain_ends_to_range_ends_and_runs_backwards_for_y() {
        let y = Scale::new((0.0, 200.0), (220.0, 20.0));
        assert_eq!(y.at(0.0), 220.0);
        assert_eq!(y.at(200.0), 20.0);
        assert_eq!(y.at(100.0), 120.0);
    }

    #[test]
    fn an_empty_domain_maps_to_the_middle() {
        let x = Scale::new((5.0, 5.0), (0.0, 100.0));
        assert_eq!(x.at(5.0), 50.0);
        assert_eq!(x.at(f64::NAN), 50.0);
    }

    #[test]
    fn nice_ticks_cover_the_maximum_in_round_steps() {
        assert_eq!(nice_ticks(87.0, 5), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(nice_ticks(1.0, 4), vec![0.0, 0.5, 1.0]);
        assert_eq!(nice_ticks(0.0, 4), vec![0.0, 1.0]);
        assert_eq!(nice_ticks(f64::INFINITY, 4), vec![0.0, 1.0]);
        let ticks = nice_ticks(1234.0, 5);
        assert_eq!(ticks.last(), Some(&1500.0));
        assert!(ticks.len() <= 6, "{ticks:?}");
    }

    #[test]
    fn ms_labels_have_the_decimals_the_step_needs() {
        assert_eq!(ms_label(250.0, 50.0), "250 ms");
        assert_eq!(ms_label(0.5, 0.5), "0.5 ms");
        assert_eq!(ms_label(0.25, 0.05), "0.25 ms");
    }

    #[test]
    fn time_ticks_fall_on_round_utc_instants_inside_the_window() {
        let (ticks, step) = time_ticks(DAY_MS + 10, 8 * DAY_MS, 8);
        assert_eq!(step, DAY_MS);
        assert_eq!(ticks.first(), Some(&(2 * DAY_MS)));
        assert_eq!(ticks.last(), Some(&(8 * DAY_MS)));
        let (ticks, step) = time_ticks(0, HOUR_MS, 6);
        assert_eq!(step, 15 * 60_000);
        assert_eq!(ticks, vec![0, 15 * 60_000, 30 * 60_000, 45 * 60_000, HOUR_MS]);
        let (ticks, _) = time_ticks(0, 365 * DAY_MS, 8);
        assert!(ticks.len() <= 8, "{ticks:?}");
    }

    #[test]
    fn line_path_starts_a_new_line_for_each_run() {
        let runs = vec![vec![(0.0, 10.0), (5.25, 7.0)], vec![(20.0, 1.04)]];
        assert_eq!(line_path(&runs), "M0 10 L5.3 7 M20 1");
        assert_eq!(line_path(&[]), "");
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(3.0), "3");
        assert_eq!(num(-0.01), "0");
        assert_eq!(num(12.345), "12.3");
    }
}
