//! `vitals report --format html`: one self-contained HTML page (inline CSS and SVG, no
//! script, nothing loaded from the network) with the summary table and, per check, daily
//! availability bars, a response-time chart and an incident timeline.
//!
//! [`page`] lays out the document, [`charts`] draws the SVG charts from [`scale`]'s pure
//! geometry. maud escapes every piece of text it is given, so check names cannot inject
//! markup.

mod charts;
mod page;
mod scale;

use std::io::{self, Write};

use super::utc;
use crate::report::Report;

/// The whole HTML document.
pub fn render(report: &Report) -> String {
    page::page(report).into_string()
}

/// Writes the whole HTML document.
pub fn write(out: &mut impl Write, report: &Report) -> io::Result<()> {
    out.write_all(render(report).as_bytes())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::report::cells::Cells;
    use crate::report::check::CheckReport;
    use crate::report::latency::{LatencySketch, Trend, exact_summary};
    use crate::report::sla::{Availabilities, History, NoData, Options, Periods, Sample, Window};
    use crate::report::timeline;
    use crate::result::{StateType, Status};

    const HOUR_MS: i64 = 3_600_000;
    const DAY_MS: i64 = 24 * HOUR_MS;
    /// 2024-05-01 00:00 UTC.
    const MAY_1: i64 = 1_714_521_600_000;

    /// A check probed hourly for `days` days: down (critical) on day 3 from 02:00 to 05:00,
    /// warning (which counts as up) on day 5 at 10:00, no data from day 6 at 23:00 (the
    /// result before holds for two intervals) to the end of day 7, slower from day 4 on.
    fn report_of(name: &str, days: i64) -> (CheckReport, Window) {
        let window = Window { from_ms: MAY_1, to_ms: MAY_1 + days * DAY_MS };
        let mut samples = Vec::new();
        let mut times = Vec::new();
        for hour in 0..days * 24 {
            let at_ms = MAY_1 + hour * HOUR_MS;
            let status = match (hour / 24, hour % 24) {
                (3, 2..=4) => Status::Critical,
                (5, 10) => Status::Warning,
                (7, _) | (6, 22..) => continue,
                _ => Status::Ok,
            };
            samples.push(Sample { at_ms, status, state: StateType::Hard });
            times.push((at_ms, Duration::from_millis((if hour / 24 >= 4 { 120 } else { 40 }) + (hour % 7) as u64)));
        }
        let history = History {
            samples: &samples,
            before: None,
            interval: Duration::from_secs(3600),
            retries: 0,
            retry_interval: Duration::from_secs(60),
            maintenance: &[],
            options: Options::default(),
        };
        let source = Fixture { history, times: &times };
        // The HARD warnings, as the recorded changes would give them.
        let changes = samples
            .windows(2)
            .filter(|w| w[0].status != w[1].status)
            .map(|w| (w[1].at_ms, w[1].status == Status::Warning));
        let availability = source.history.availability(window);
        let report = CheckReport {
            check: name.to_string(),
            hidden_failures: crate::report::check::hides_failures(&availability),
            warnings: Periods::from_changes(false, changes, window),
            flapping: Periods::default(),
            availability,
            incidents: source.history.incidents(window),
            resolution: source.history.resolution(),
            maintenance: Vec::new(),
            response_time: exact_summary(&mut times.iter().map(|t| t.1).collect::<Vec<_>>()),
            percentiles_from: "raw",
            phases: Default::default(),
            metrics: None,
            trend: None,
            slo: None,
            approximate: false,
            timeline: timeline::build(&source, window, &mut LatencySketch::new(), &mut LatencySketch::new()),
        };
        (report, window)
    }

    /// Raw samples and response times, as a timeline source.
    struct Fixture<'a> {
        history: History<'a>,
        times: &'a [(i64, Duration)],
    }

    impl Availabilities for Fixture<'_> {
        fn availability_over(&self, window: Window) -> crate::report::sla::Availability {
            self.history.availability(window)
        }
    }

    impl timeline::Source for Fixture<'_> {
        fn merge_response_time(&self, window: Window, sketch: &mut LatencySketch) {
            self.times.iter().filter(|(at, _)| window.contains(*at)).for_each(|(_, t)| sketch.record(*t));
        }
    }

    /// The report of `checks` over `window`, made at its end, without tags or maintenance.
    fn over(window: Window, checks: Vec<CheckReport>) -> Report {
        Report {
            window,
            generated_ms: window.to_ms,
            no_data: NoData::Exclude,
            checks,
            groups: Vec::new(),
            maintenance: Vec::new(),
        }
    }

    fn render_one(name: &str, days: i64) -> String {
        let (report, window) = report_of(name, days);
        render(&over(window, vec![report]))
    }

    #[test]
    fn check_names_are_text_in_headings_tables_tooltips_and_labels() {
        let html = render_one("<script>alert(1)</script> & \"x\"", 2);
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"));
        assert!(html.contains("aria-label=\"Availability of &lt;script&gt;"), "attributes escaped too");
    }

    #[test]
    fn every_day_gets_a_bar_coloured_by_its_availability() {
        let html = render_one("web", 30);
        let bars = html.split("class=\"chart bars\"").nth(1).and_then(|s| s.split("</svg>").next()).unwrap_or("");
        assert_eq!(bars.matches("<rect").count(), 30);
        assert_eq!(bars.matches("class=\"st-bad\"").count(), 1, "day 3 lost three hours");
        assert_eq!(bars.matches("class=\"st-nodata\"").count(), 1, "day 7 has no results");
        assert!(bars.contains("<title>2024-05-04: 87.500% available (HARD), down 3.0 h</title>"), "{bars}");
    }

    #[test]
    fn the_latency_chart_draws_both_lines_with_millisecond_axis_labels() {
        let html = render_one("web", 30);
        let chart = html.split("class=\"chart latency\"").nth(1).and_then(|s| s.split("</svg>").next()).unwrap_or("");
        assert_eq!(chart.matches("<path class=\"p50\" d=\"M").count(), 1);
        assert_eq!(chart.matches("<path class=\"p95\" d=\"M").count(), 1);
        assert_eq!(chart.matches("<circle class=\"p95\"").count(), 29, "one point per day with results");
        assert!(chart.contains(" ms</text>") && chart.contains(">May 16</text>"), "{chart}");
    }

    #[test]
    fn incidents_are_drawn_and_listed_with_their_worst_status() {
        let html = render_one("web", 30);
        let timeline = html.split("class=\"chart incidents\"").nth(1).and_then(|s| s.split("</svg>").next());
        let timeline = timeline.unwrap_or("");
        assert!(timeline.contains("<rect class=\"st-bad\""), "{timeline}");
        assert!(timeline.contains("critical: 2024-05-04 02:00 UTC → 2024-05-04 05:00 UTC (3.0 h)"), "{timeline}");
        assert!(html.contains("<summary>1 incident</summary>"), "a warning counts as up");
    }

    #[test]
    fn the_summary_shows_the_figures_of_the_text_table() {
        let (report, window) = report_of("web", 30);
        let cells = Cells::of(&report);
        let html = render(&over(window, vec![report]));
        for figure in [&cells.availability, &cells.raw, &cells.mttr, &cells.mtbf, &cells.p50, &cells.p95, &cells.p99] {
            assert!(html.contains(&format!("<td>{figure}</td>")), "{figure} missing");
        }
        assert!(html.contains("2024-05-01 00:00</time> → <time datetime=\"2024-05-31T00:00:00Z\">2024-05-31 00:00"));
    }

    #[test]
    fn a_p95_regression_is_flagged_in_the_table_and_the_section() {
        let (mut report, window) = report_of("web", 30);
        let p95 = Duration::from_millis(100);
        report.trend = Some(Trend { previous_p95: p95, current_p95: p95 * 2, change: 1.0, regression: true });
        let html = render(&over(window, vec![report]));
        assert!(html.contains("+100% <span class=\"flag\">⚠ regression</span>"), "{html}");
        assert!(html.contains("⚠ p95 regression +100%"));
    }

    #[test]
    fn svg_elements_are_closed_so_html_parsing_does_not_nest_them() {
        let html = render_one("web", 30);
        for tag in ["svg", "rect", "path", "circle", "line", "text", "g", "title"] {
            assert_eq!(
                html.matches(&format!("<{tag} ")).count() + html.matches(&format!("<{tag}>")).count(),
                html.matches(&format!("</{tag}>")).count(),
                "<{tag}> opened and closed"
            );
        }
    }

    #[test]
    fn an_hour_is_charted_in_minutes_a_day_in_hours() {
        let (mut report, _) = report_of("web", 1);
        let hour = Window { from_ms: MAY_1 + 2 * HOUR_MS, to_ms: MAY_1 + 3 * HOUR_MS };
        report.timeline = timeline::build(
            &Fixture { history: History { samples: &[], ..dummy_history() }, times: &[] },
            hour,
            &mut LatencySketch::new(),
            &mut LatencySketch::new(),
        );
        let html = render(&over(hour, vec![report]));
        let bars = html.split("class=\"chart bars\"").nth(1).and_then(|s| s.split("</svg>").next()).unwrap_or("");
        assert_eq!(bars.matches("<rect").count(), 60, "one bar a minute");
        assert!(html.contains("<h3>Availability per minute (UTC)</h3>"), "{html}");
        assert!(bars.contains("<title>2024-05-01 02:00–02:01 UTC: no data</title>"), "{bars}");
        let html = render_one("web", 1);
        assert!(html.contains("<h3>Availability per hour (UTC)</h3>"));
    }

    fn dummy_history() -> History<'static> {
        History {
            samples: &[],
            before: None,
            interval: Duration::from_secs(60),
            retries: 0,
            retry_interval: Duration::from_secs(60),
            maintenance: &[],
            options: Options::default(),
        }
    }

    #[test]
    fn warnings_flapping_and_maintenance_are_shown_and_a_row_below_its_objective_is_marked() {
        let (mut report, window) = report_of("web", 30);
        // Day 5's hour of warning is one degraded period; it counts as up.
        assert_eq!((report.warnings.count, report.availability.degraded_ms), (1, HOUR_MS));
        report.flapping =
            Periods::from_changes(false, [(MAY_1 + 9 * DAY_MS, true), (MAY_1 + 9 * DAY_MS + HOUR_MS, false)], window);
        report.maintenance = vec![Window { from_ms: MAY_1 + 12 * DAY_MS, to_ms: MAY_1 + 12 * DAY_MS + 2 * HOUR_MS }];
        let mut tagged = over(window, vec![report.clone()]);
        tagged.groups = vec![crate::report::groups::GroupReport {
            tag: "edge".into(),
            checks: vec!["web".into()],
            availability: report.availability.clone(),
            incidents: 1,
            warnings: 1,
            flapping: 1,
            response_time: None,
        }];
        let html = render(&tagged);
        let states =
            html.split("class=\"chart incidents\"").nth(1).and_then(|s| s.split("</svg>").next()).unwrap_or("");
        assert!(
            states.contains(
                "<title>degraded (HARD warning): 2024-05-06 10:00 UTC → 2024-05-06 11:00 UTC (1.0 h)</title>"
            ),
            "{states}"
        );
        assert!(
            states.contains("<rect class=\"st-flap\"") && states.contains("<title>flapping: 2024-05-10 00:00 UTC"),
            "{states}"
        );
        assert!(states.contains("<rect class=\"st-maint\""), "{states}");
        assert!(
            states.contains(
                "aria-label=\"States of web over the window: 1 down, 1 degraded, 1 flapping, 1 maintenance\""
            )
        );
        // 99.5 % misses the 99.9 % default objective: the row says so in words, not only in colour.
        assert!(html.contains("<tr class=\"near\">") || html.contains("<tr class=\"misses\">"), "{html}");
        assert!(html.contains("below objective"));
        assert!(html.contains("<h2 id=\"tags\">By tag</h2>") && html.contains("<th scope=\"row\">edge</th>"));
    }

    /// The `--name: #rrggbb` colours of a block of the page's CSS.
    fn colours(block: &str) -> std::collections::HashMap<String, [f64; 3]> {
        block
            .split(';')
            .filter_map(|decl| {
                let (name, value) = decl.rsplit('{').next()?.split_once(':')?;
                let hex = value.trim().strip_prefix('#').filter(|h| h.len() == 6)?;
                let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map(|v| f64::from(v) / 255.0).ok();
                Some((name.trim().to_string(), [channel(0)?, channel(2)?, channel(4)?]))
            })
            .collect()
    }

    /// WCAG 2 contrast ratio of two sRGB colours.
    fn contrast(a: [f64; 3], b: [f64; 3]) -> f64 {
        let lum = |c: [f64; 3]| {
            let l = c.map(|x| if x <= 0.03928 { x / 12.92 } else { ((x + 0.055) / 1.055).powf(2.4) });
            0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2]
        };
        let (x, y) = (lum(a), lum(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    #[test]
    fn text_keeps_wcag_aa_contrast_on_every_background_in_light_and_dark() {
        let css = include_str!("style.css");
        let (light, dark) = css.split_once("@media (prefers-color-scheme: dark)").expect("a dark theme");
        for (theme, block) in [("light", light), ("dark", dark)] {
            let c = colours(block);
            for text in ["--fg", "--muted", "--flag", "--p50"] {
                for background in ["--bg", "--card", "--near-bg", "--miss-bg"] {
                    let ratio = contrast(c[text], c[background]);
                    assert!(ratio >= 4.5, "{theme}: {text} on {background} is {ratio:.2}:1, below 4.5:1");
                }
            }
        }
    }

    #[test]
    fn a_report_without_checks_or_data_still_renders() {
        let window = Window { from_ms: MAY_1, to_ms: MAY_1 + HOUR_MS };
        let html = render(&over(window, Vec::new()));
        assert!(html.contains("No checks were selected."));
        let (mut report, _) = report_of("quiet", 1);
        report.timeline = Default::default();
        let html = render(&over(window, vec![report]));
        assert!(html.contains("Nothing in the window.") && html.contains("No response times in this window."));
    }
}
