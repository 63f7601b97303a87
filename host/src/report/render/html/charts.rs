//! The per-check charts as inline SVG: availability bars (one per bucket of the timeline),
//! the response-time chart and the state timeline (incidents, degraded and flapping periods,
//! maintenance). Each has a fixed `viewBox` and scales to the page's width;
//! colours come from the page's CSS classes, so dark mode needs nothing here.

use std::time::Duration;

use maud::{Markup, html};

use super::scale::{Scale, line_path, ms_label, nice_ticks, num, time_ticks};
use super::utc;
use crate::report::cells::percent;
use crate::report::sla::{Incident, Period, Window};
use crate::report::timeline::{BucketAvailability, LatencyPoint};
use crate::result::Status;
use vitals_units::format_duration;

/// Green from this availability up, as status pages show it.
pub const GOOD: f64 = 0.999;
/// Amber from this availability up to [`GOOD`]; red below.
pub const DEGRADED: f64 = 0.99;

const DAY_MS: i64 = 86_400_000;
/// The width of every chart in SVG user units; the height differs per chart.
const WIDTH: f64 = 1000.0;
/// Where the time axes start and end: the latency chart and the incident timeline share
/// them so that their times line up, with room for the millisecond labels on the left.
const PLOT: (f64, f64) = (84.0, WIDTH - 8.0);

/// The CSS class of a bucket's bar.
pub fn bar_class(ratio: Option<f64>) -> &'static str {
    match ratio {
        None => "st-nodata",
        Some(r) if r >= GOOD => "st-good",
        Some(r) if r >= DEGRADED => "st-degraded",
        Some(_) => "st-bad",
    }
}

/// The CSS class of an incident by its worst status.
pub fn status_class(status: Status) -> &'static str {
    match status {
        Status::Ok => "st-good",
        Status::Warning => "st-degraded",
        Status::Critical => "st-bad",
        Status::Unknown => "st-unknown",
    }
}

/// Where a bar of index `i` out of `n` sits: its x and width, with a gap between bars.
pub fn bar_slot(i: usize, n: usize) -> (f64, f64) {
    let slot = WIDTH / n.max(1) as f64;
    let gap = (slot * 0.15).min(4.0);
    (i as f64 * slot + gap / 2.0, slot - gap)
}

/// The text-anchor of a label at `x` that must stay inside `0..WIDTH`.
pub fn anchor(x: f64) -> &'static str {
    if x < 40.0 {
        "start"
    } else if x > WIDTH - 40.0 {
        "end"
    } else {
        "middle"
    }
}

/// A bucket as its tooltip names it: the date for a whole day, else the date and the
/// times of day it spans.
fn bucket_label(b: &BucketAvailability) -> String {
    let date = utc(b.from_ms, "%Y-%m-%d");
    if b.to_ms - b.from_ms >= DAY_MS {
        return date;
    }
    let end = if b.to_ms.rem_euclid(DAY_MS) == 0 { "24:00".to_string() } else { utc(b.to_ms, "%H:%M") };
    format!("{date} {}–{end} UTC", utc(b.from_ms, "%H:%M"))
}

fn bar_tooltip(b: &BucketAvailability) -> String {
    let mut text = format!("{}: {}", bucket_label(b), percent(b.ratio));
    if b.ratio.is_some() {
        text.push_str(" available (HARD)");
    }
    for (ms, what) in
        [(b.down_ms, "down"), (b.degraded_ms, "degraded"), (b.no_data_ms, "no data"), (b.maintenance_ms, "maintenance")]
    {
        // A bucket without any data says so once, in its ratio.
        if ms > 0 && (b.ratio.is_some() || what != "no data") {
            text.push_str(&format!(", {what} {}", crate::report::cells::span(ms)));
        }
    }
    text
}

/// One bar per bucket, coloured by its availability, each with a tooltip; the label a
/// screen reader reads says how many bars there are and how many fell short.
pub fn availability_bars(check: &str, buckets: &[BucketAvailability], per: &str) -> Markup {
    const HEIGHT: f64 = 40.0;
    let short = buckets.iter().filter(|b| b.ratio.is_some_and(|r| r < GOOD)).count();
    let empty = buckets.iter().filter(|b| b.ratio.is_none()).count();
    let label = format!(
        "Availability of {check} per {per}: {} bars, {short} below {}%, {empty} without data",
        buckets.len(),
        num(GOOD * 100.0)
    );
    html! {
        svg.chart.bars viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(label) {
            @for (i, b) in buckets.iter().enumerate() {
                @let (x, width) = bar_slot(i, buckets.len());
                rect class=(bar_class(b.ratio)) x=(num(x)) y="0" width=(num(width)) height=(HEIGHT)
                    rx=(num((width / 4.0).min(2.0))) {
                    title { (bar_tooltip(b)) }
                }
            }
        }
    }
}

/// The runs of consecutive buckets: a bucket with no results breaks the line.
pub fn runs(points: &[LatencyPoint]) -> Vec<&[LatencyPoint]> {
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 1..=points.len() {
        if i == points.len() || points[i].from_ms > points[i - 1].to_ms {
            runs.push(&points[start..i]);
            start = i;
        }
    }
    runs
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A time label for an axis with ticks `step_ms` apart over a window `len_ms` long.
fn time_label(at_ms: i64, step_ms: i64, len_ms: i64) -> String {
    if step_ms >= DAY_MS {
        utc(at_ms, "%b %d")
    } else if len_ms > DAY_MS {
        utc(at_ms, "%b %d %H:%M")
    } else {
        utc(at_ms, "%H:%M")
    }
}

/// The window onto the shared time axis.
fn time_scale(window: Window) -> Scale {
    Scale::new((window.from_ms as f64, window.to_ms as f64), PLOT)
}

/// Vertical ticks with UTC labels along the bottom of a chart `height` tall.
fn time_axis(x: Scale, window: Window, top: f64, bottom: f64, height: f64) -> Markup {
    let (ticks, step) = time_ticks(window.from_ms, window.to_ms, 7);
    html! {
        g.axis {
            @for t in ticks {
                @let at = x.at(t as f64);
                line.grid x1=(num(at)) x2=(num(at)) y1=(num(top)) y2=(num(bottom)) {}
                text x=(num(at)) y=(num(height - 4.0)) text-anchor=(anchor(at)) {
                    (time_label(t, step, window.len_ms()))
                }
            }
        }
    }
}

/// p50 and p95 per bucket over the window, with a millisecond y axis and a UTC time axis.
pub fn latency_chart(check: &str, window: Window, points: &[LatencyPoint]) -> Markup {
    const HEIGHT: f64 = 260.0;
    const BOTTOM: f64 = HEIGHT - 28.0;
    const TOP: f64 = 10.0;
    let max = points.iter().map(|p| millis(p.p95).max(millis(p.p50))).fold(0.0, f64::max);
    let ticks = nice_ticks(max, 5);
    let step = ticks.get(1).copied().unwrap_or(1.0);
    let y = Scale::new((0.0, ticks.last().copied().unwrap_or(1.0)), (BOTTOM, TOP));
    let x = time_scale(window);
    let mid = |p: &LatencyPoint| x.at((p.from_ms as f64 + p.to_ms as f64) / 2.0);
    let line = |of: fn(&LatencyPoint) -> Duration| {
        let runs: Vec<Vec<(f64, f64)>> =
            runs(points).into_iter().map(|run| run.iter().map(|p| (mid(p), y.at(millis(of(p))))).collect()).collect();
        line_path(&runs)
    };
    let label = format!("Response time of {check}: p50 and p95 per bucket, in milliseconds");
    html! {
        svg.chart.latency viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(label) {
            g.axis {
                @for t in &ticks {
                    line.grid x1=(PLOT.0) x2=(PLOT.1) y1=(num(y.at(*t))) y2=(num(y.at(*t))) {}
                    text x=(PLOT.0 - 6.0) y=(num(y.at(*t) + 4.0)) text-anchor="end" { (ms_label(*t, step)) }
                }
            }
            (time_axis(x, window, TOP, BOTTOM, HEIGHT))
            line.baseline x1=(PLOT.0) x2=(PLOT.1) y1=(BOTTOM) y2=(BOTTOM) {}
            path.p50 d=(line(|p| p.p50)) {}
            path.p95 d=(line(|p| p.p95)) {}
            @for p in points {
                @let tip = latency_tooltip(p);
                circle.p50 cx=(num(mid(p))) cy=(num(y.at(millis(p.p50)))) r="3" { title { (tip) } }
                circle.p95 cx=(num(mid(p))) cy=(num(y.at(millis(p.p95)))) r="3" { title { (tip) } }
            }
        }
    }
}

fn latency_tooltip(p: &LatencyPoint) -> String {
    format!(
        "{} – {} UTC: p50 {}, p95 {} ({} results)",
        utc(p.from_ms, "%Y-%m-%d %H:%M"),
        utc(p.to_ms, "%H:%M"),
        format_duration(p.p50),
        format_duration(p.p95),
        p.count
    )
}

/// One row of the state timeline: its label and its spans, each with a CSS class and a
/// tooltip.
pub struct Track {
    /// The row's label, left of it.
    pub label: &'static str,
    /// `(start_ms, end_ms or None while ongoing, CSS class, tooltip)`.
    pub spans: Vec<(i64, Option<i64>, &'static str, String)>,
}

/// The incidents as a track, coloured by their worst status.
pub fn incident_track(incidents: &[Incident]) -> Track {
    Track {
        label: "down",
        spans: incidents.iter().map(|i| (i.start_ms, i.end_ms, status_class(i.worst), incident_text(i))).collect(),
    }
}

/// Periods as a track of one class, each described as `what` with its times.
pub fn period_track(label: &'static str, class: &'static str, what: &str, periods: &[Period]) -> Track {
    Track { label, spans: periods.iter().map(|p| (p.start_ms, p.end_ms, class, period_text(what, p))).collect() }
}

/// The state of a check over the window, one row per track (incidents, degraded and
/// flapping periods, maintenance), on the time axis of the latency chart.
pub fn state_timeline(check: &str, window: Window, tracks: &[Track]) -> Markup {
    const TOP: f64 = 6.0;
    const ROW: f64 = 22.0;
    const BAR: f64 = 16.0;
    let height = TOP + ROW * tracks.len() as f64 + 26.0;
    let x = time_scale(window);
    let counts: Vec<String> = tracks.iter().map(|t| format!("{} {}", t.spans.len(), t.label)).collect();
    let label = format!("States of {check} over the window: {}", counts.join(", "));
    html! {
        svg.chart.incidents viewBox=(format!("0 0 {WIDTH} {}", num(height))) role="img" aria-label=(label) {
            (time_axis(x, window, TOP, TOP + ROW * tracks.len() as f64, height))
            @for (row, track) in tracks.iter().enumerate() {
                @let y = TOP + ROW * row as f64;
                text.track-label x=(PLOT.0 - 6.0) y=(num(y + BAR - 4.0)) text-anchor="end" { (track.label) }
                rect.track x=(PLOT.0) y=(num(y)) width=(PLOT.1 - PLOT.0) height=(BAR) rx="3" {}
                @for (start, end, class, text) in &track.spans {
                    @let (x0, width) = span_at(x, window, *start, *end);
                    rect class=(*class) x=(num(x0)) y=(num(y)) width=(num(width)) height=(BAR) {
                        title { (text) }
                    }
                }
            }
        }
    }
}

/// A period in words: what, start, end (or ongoing) and duration.
pub fn period_text(what: &str, p: &Period) -> String {
    spell(what, p.start_ms, p.end_ms, p.started_before_window, p.duration_ms)
}

/// `what: start → end (duration)`, the start "before" one when it came before the window
/// and the end "ongoing" when there is none: how incidents and periods read alike.
fn spell(what: &str, start_ms: i64, end_ms: Option<i64>, before_window: bool, duration_ms: i64) -> String {
    let start = utc(start_ms, "%Y-%m-%d %H:%M UTC");
    let start = if before_window { format!("before {start}") } else { start };
    let end = end_ms.map_or_else(|| "ongoing".to_string(), |e| utc(e, "%Y-%m-%d %H:%M UTC"));
    let duration = format_duration(Duration::from_millis(u64::try_from(duration_ms).unwrap_or(0)));
    format!("{what}: {start} → {end} ({duration})")
}

/// Where a span's bar sits: x and width, at least 2 units so a short one shows.
pub fn span_at(x: Scale, window: Window, start_ms: i64, end_ms: Option<i64>) -> (f64, f64) {
    let start = start_ms.clamp(window.from_ms, window.to_ms);
    let end = end_ms.unwrap_or(window.to_ms).clamp(start, window.to_ms);
    let x0 = x.at(start as f64);
    let width = (x.at(end as f64) - x0).max(2.0);
    (x0.min(PLOT.1 - width), width)
}

/// An incident in words: worst status, start, end (or ongoing) and duration.
pub fn incident_text(i: &Incident) -> String {
    spell(&i.worst.to_string(), i.start_ms, i.end_ms, i.started_before_window, i.duration_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(from_ms: i64, to_ms: i64, ms: u64) -> LatencyPoint {
        let d = Duration::from_millis(ms);
        LatencyPoint { from_ms, to_ms, count: 1, p50: d, p95: d }
    }

    fn incident(start_ms: i64, end_ms: Option<i64>) -> Incident {
        Incident {
            start_ms,
            end_ms,
            started_before_window: false,
            duration_ms: end_ms.unwrap_or(start_ms) - start_ms,
            down_ms: 0,
            worst: Status::Critical,
            first_failure: None,
            summary: None,
        }
    }

    #[test]
    fn bars_are_green_amber_red_or_grey_by_availability() {
        assert_eq!(bar_class(Some(1.0)), "st-good");
        assert_eq!(bar_class(Some(0.999)), "st-good");
        assert_eq!(bar_class(Some(0.995)), "st-degraded");
        assert_eq!(bar_class(Some(0.5)), "st-bad");
        assert_eq!(bar_class(None), "st-nodata");
    }

    #[test]
    fn bars_fill_the_width_with_gaps() {
        let (x0, w) = bar_slot(0, 10);
        let (x9, _) = bar_slot(9, 10);
        assert!(x0 > 0.0 && w < 100.0);
        assert!((x9 + w + x0 - WIDTH).abs() < 1e-9);
    }

    #[test]
    fn a_missing_bucket_breaks_the_line() {
        let points = [point(0, 10, 1), point(10, 20, 2), point(30, 40, 3)];
        let runs = runs(&points);
        assert_eq!(runs.iter().map(|r| r.len()).collect::<Vec<_>>(), vec![2, 1]);
        assert!(super::runs(&[]).is_empty());
    }

    #[test]
    fn an_ongoing_incident_runs_to_the_window_end_and_a_short_one_still_shows() {
        let window = Window { from_ms: 0, to_ms: 1000 };
        let x = time_scale(window);
        let middle = (PLOT.0 + PLOT.1) / 2.0;
        let at = |i: Incident| span_at(x, window, i.start_ms, i.end_ms);
        assert_eq!(at(incident(500, None)), (middle, PLOT.1 - middle));
        assert_eq!(at(incident(100, Some(100))), (x.at(100.0), 2.0));
        assert_eq!(at(incident(999, Some(1000))), (PLOT.1 - 2.0, 2.0), "stays inside");
        assert!(incident_text(&incident(0, None)).contains("ongoing"));
    }

    #[test]
    fn tooltips_name_the_bucket_and_the_figures() {
        let day = BucketAvailability {
            from_ms: 0,
            to_ms: DAY_MS,
            ratio: Some(0.9995),
            down_ms: 43_000,
            degraded_ms: 120_000,
            no_data_ms: 0,
            maintenance_ms: 0,
        };
        assert_eq!(bar_tooltip(&day), "1970-01-01: 99.950% available (HARD), down 43.0 s, degraded 2.0 m");
        let partial = BucketAvailability { from_ms: DAY_MS / 2, ratio: None, down_ms: 0, degraded_ms: 0, ..day };
        assert_eq!(bar_tooltip(&partial), "1970-01-01 12:00–24:00 UTC: no data");
        let minute = BucketAvailability { from_ms: 60_000, to_ms: 120_000, ..partial };
        assert_eq!(bar_tooltip(&minute), "1970-01-01 00:01–00:02 UTC: no data");
    }

    #[test]
    fn labels_near_the_edges_stay_inside() {
        assert_eq!(anchor(0.0), "start");
        assert_eq!(anchor(500.0), "middle");
        assert_eq!(anchor(WIDTH), "end");
    }
}
