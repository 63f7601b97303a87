//! The HTML document: header with the window and the rules, the summary table, and a
//! section per check with its charts. Styles are inlined; there is no script.

use std::time::Duration;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::charts::{self, DEGRADED, GOOD};
use super::scale::num;
use super::utc;
use crate::report::cells::{Cells, percent, span, thin_data};
use crate::report::check::CheckReport;
use crate::report::groups::GroupReport;
use crate::report::render::columns::{Standing, standing};
use crate::report::render::sections::raw_cell;
use crate::report::sla::{Incident, Window};
use crate::report::{MaintenanceListing, Report};
use vitals_units::format_duration;

const CSS: &str = include_str!("style.css");
/// Everything the page may load: its own inline styles, nothing else. A browser then
/// refuses any script, image, font or fetch, so the file stays self-contained even if
/// something slipped into it.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";
/// The incidents listed per check; the timeline still draws all of them.
const LISTED_INCIDENTS: usize = 100;
const DATE_TIME: &str = "%Y-%m-%d %H:%M";

/// The whole document.
pub fn page(report: &Report) -> Markup {
    let title = format!(
        "Vitals report: {} – {} UTC",
        utc(report.window.from_ms, "%Y-%m-%d"),
        utc(report.window.to_ms, "%Y-%m-%d")
    );
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="Content-Security-Policy" content=(CSP);
                meta name="color-scheme" content="light dark";
                meta name="generator" content=(format!("Vitals {}", env!("CARGO_PKG_VERSION")));
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                (header(report))
                main {
                    (summary(&report.checks))
                    (tags(&report.groups))
                    (maintenance(&report.maintenance))
                    @for (i, check) in report.checks.iter().enumerate() {
                        (check_section(i, check, report.window))
                    }
                }
                footer {
                    "Made by Vitals " (env!("CARGO_PKG_VERSION"))
                    ". This page is one self-contained file: no scripts, nothing loaded from the network."
                }
            }
        }
    }
}

fn header(report: &Report) -> Markup {
    let window = report.window;
    let length = format_duration(Duration::from_millis(u64::try_from(window.len_ms()).unwrap_or(0)));
    html! {
        header {
            h1 { "Vitals report" }
            dl.meta {
                dt { "Window" }
                dd {
                    time datetime=(utc(window.from_ms, "%Y-%m-%dT%H:%M:%SZ")) { (utc(window.from_ms, DATE_TIME)) }
                    " → "
                    time datetime=(utc(window.to_ms, "%Y-%m-%dT%H:%M:%SZ")) { (utc(window.to_ms, DATE_TIME)) }
                    " UTC (" (length) ")"
                }
                dt { "Generated" }
                dd { time datetime=(utc(report.generated_ms, "%Y-%m-%dT%H:%M:%SZ")) { (utc(report.generated_ms, DATE_TIME)) } " UTC" }
                dt { "Checks" }
                dd { (report.checks.len()) }
            }
            p.note {
                "Availability counts HARD states, weighted by time: each result holds until the next one, and time "
                "without data is " (if report.no_data == crate::report::sla::NoData::AsDown { "counted as down" } else { "left out" })
                ". A HARD warning counts as up; the time spent in one is shown as degraded, its periods as warnings. "
                "The ok-attempts ratio counts every attempt, SOFT ones included; ⚠ marks one far below availability, "
                "where retries or flapping hide failures."
            }
            p.note {
                "Resolution: a check sees only what its schedule samples, so outages shorter than its interval "
                "can go unseen (the Resolution column), and a failure becomes HARD only after its retries."
            }
        }
    }
}

fn summary(checks: &[CheckReport]) -> Markup {
    html! {
        section aria-labelledby="summary" {
            h2 id="summary" { "Summary" }
            @if checks.is_empty() {
                p.empty { "No checks were selected." }
            } @else {
                div.table-wrap {
                    table {
                        caption {
                            "Per check over the window. Trend compares p95 with the previous window of the same "
                            "length; resolution is the shortest outage the check is sure to see (its interval)."
                        }
                        thead {
                            tr {
                                @for head in ["Check", "Availability (HARD)", "OK attempts", "Degraded", "Incidents",
                                              "Warnings", "Flapping", "MTTR", "MTBF", "p50", "p95", "p99", "Trend (p95)",
                                              "SLO budget left", "Resolution"] {
                                    th scope="col" { (head) }
                                }
                            }
                        }
                        tbody {
                            @for (i, check) in checks.iter().enumerate() {
                                (summary_row(i, check))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The class of a summary row, by how its availability stands against its objective.
fn row_class(r: &CheckReport) -> &'static str {
    match standing(r) {
        Standing::Meets => "meets",
        Standing::Near => "near",
        Standing::Misses => "misses",
        Standing::NoData => "nodata",
    }
}

fn summary_row(i: usize, r: &CheckReport) -> Markup {
    let c = Cells::of(r);
    let missed = matches!(standing(r), Standing::Near | Standing::Misses);
    html! {
        tr class=(row_class(r)) {
            th scope="row" { a href=(format!("#check-{i}")) { (r.check) } }
            td {
                (c.availability)
                @if missed { span.sub.flag { "below objective" } }
            }
            td {
                (c.raw)
                @if c.hidden_failures { " " span.flag title="far below availability: retries or flapping hide failures" { "⚠" } }
            }
            td { (c.degraded) }
            td { (c.incidents) }
            td { (c.warnings) }
            td { (c.flapping) }
            td { (c.mttr) }
            td { (c.mtbf) }
            td { (c.p50) }
            td { (c.p95) }
            td { (c.p99) }
            td {
                (c.trend)
                @if c.regression { " " span.flag { "⚠ regression" } }
            }
            td {
                (c.budget_left)
                @if let Some(slo) = &r.slo {
                    span.sub { "SLO " (percent(Some(slo.slo.target))) " / " (format_duration(slo.slo.window)) }
                }
            }
            td { (format_duration(r.resolution.can_miss_shorter_than)) }
        }
    }
}

/// The tag table: the checks of each tag together.
fn tags(groups: &[GroupReport]) -> Markup {
    html! {
        @if !groups.is_empty() {
            section aria-labelledby="tags" {
                h2 id="tags" { "By tag" }
                div.table-wrap {
                    table {
                        caption { "The checks of each tag together: availability over all their measured time, "
                                  "their incidents added up, their response times merged." }
                        thead { tr {
                            @for head in ["Tag", "Checks", "Availability (HARD)", "OK attempts", "Degraded", "Incidents",
                                          "Warnings", "Flapping", "p50", "p95", "p99"] {
                                th scope="col" { (head) }
                            }
                        } }
                        tbody {
                            @for g in groups {
                                @let c = Cells::of_group(g);
                                tr {
                                    th scope="row" { (g.tag) }
                                    td { (g.checks.len()) }
                                    td { (c.availability) }
                                    td { (raw_cell(&c)) }
                                    td { (c.degraded) }
                                    td { (c.incidents) }
                                    td { (c.warnings) }
                                    td { (c.flapping) }
                                    td { (c.p50) }
                                    td { (c.p95) }
                                    td { (c.p99) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The maintenance windows of the report window and the checks they cover.
fn maintenance(listing: &[MaintenanceListing]) -> Markup {
    html! {
        @if !listing.is_empty() {
            section aria-labelledby="maintenance" {
                h2 id="maintenance" { "Maintenance" }
                div.table-wrap {
                    table {
                        caption { "Maintenance windows are cut out of availability and every other figure." }
                        thead { tr { th scope="col" { "Window" } th scope="col" { "From" } th scope="col" { "To" }
                                     th scope="col" { "Checks" } } }
                        tbody {
                            @for m in listing {
                                tr {
                                    th scope="row" { (m.name) }
                                    td { (utc(m.from_ms, DATE_TIME)) }
                                    td { (utc(m.to_ms, DATE_TIME)) }
                                    td { (m.checks.join(", ")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn check_section(i: usize, r: &CheckReport, window: Window) -> Markup {
    let c = Cells::of(r);
    let bars = &r.timeline.availability;
    let per = per(r.timeline.bucket_ms);
    let first_format = if r.timeline.bucket_ms >= 86_400_000 { "%Y-%m-%d" } else { DATE_TIME };
    let maintenance: Vec<crate::report::sla::Period> = r
        .maintenance
        .iter()
        .map(|m| crate::report::sla::Period {
            start_ms: m.from_ms.max(window.from_ms),
            end_ms: Some(m.to_ms.min(window.to_ms)),
            started_before_window: m.from_ms < window.from_ms,
            duration_ms: m.to_ms.min(window.to_ms) - m.from_ms.max(window.from_ms),
        })
        .collect();
    let tracks = [
        charts::incident_track(&r.incidents.incidents),
        charts::period_track("degraded", "st-degraded", "degraded (HARD warning)", &r.warnings.periods),
        charts::period_track("flapping", "st-flap", "flapping", &r.flapping.periods),
        charts::period_track("maintenance", "st-maint", "maintenance", &maintenance),
    ];
    html! {
        section.check id=(format!("check-{i}")) aria-labelledby=(format!("check-{i}-name")) {
            h2 id=(format!("check-{i}-name")) { (r.check) }
            p.figures {
                "Availability " strong { (c.availability) } " (HARD) · ok attempts " (c.raw)
                " · " (plural(c.incidents, "incident"))
                @if c.warnings == 0 { " · never degraded" } @else { " · degraded " (c.degraded) " in " (plural(c.warnings, "warning")) }
                @if r.flapping.count == 0 { " · no flapping" } @else {
                    " · flapping " (plural(r.flapping.count, "time")) " (" (span(r.flapping.total_ms)) ")"
                }
                " · p95 " (c.p95)
                @if c.regression { " " span.flag { "⚠ p95 regression " (c.trend) } }
            }
            @if let (true, Some(raw)) = (c.hidden_failures, r.availability.raw_ratio) {
                p.flag { "⚠ " (percent(Some(1.0 - raw))) " of the attempts failed, yet availability is "
                         (c.availability) ": retries absorbed them" @if r.flapping.count > 0 { " while it was flapping" } "." }
            }
            @if let Some(thin) = r.slo.as_ref().and_then(thin_data) {
                p.flag { "⚠ The SLO figures rest on " (thin) ": too little to mean much yet." }
            }
            @if r.availability.maintenance_ms > 0 {
                p.note { (span(r.availability.maintenance_ms)) " of maintenance left out." }
            }
            h3 { "Availability per " (per) " (UTC)" }
            @if let (Some(first), Some(last)) = (bars.first(), bars.last()) {
                (charts::availability_bars(&r.check, bars, &per))
                div.scale { span { (utc(first.from_ms, first_format)) } span { (utc(last.from_ms, first_format)) } }
                ul.legend {
                    li { span.swatch.st-good {} "≥ " (num(GOOD * 100.0)) "%" }
                    li { span.swatch.st-degraded {} (num(DEGRADED * 100.0)) "–" (num(GOOD * 100.0)) "%" }
                    li { span.swatch.st-bad {} "< " (num(DEGRADED * 100.0)) "%" }
                    li { span.swatch.st-nodata {} "no data" }
                }
            } @else {
                p.empty { "Nothing in the window." }
            }
            h3 { "Response time, p50 and p95 per " (per) }
            @if r.timeline.latency.is_empty() {
                p.empty { "No response times in this window." }
            } @else {
                (charts::latency_chart(&r.check, window, &r.timeline.latency))
                ul.legend {
                    li { span.swatch.line.p50 {} "p50 (median)" }
                    li { span.swatch.line.p95 {} "p95" }
                }
            }
            h3 { "Incidents, degraded and flapping periods, maintenance" }
            (charts::state_timeline(&r.check, window, &tracks))
            ul.legend {
                li { span.swatch.st-flap {} "flapping" }
                li { span.swatch.st-maint {} "maintenance" }
            }
            (incident_list(&r.incidents.incidents))
        }
    }
}

/// `1 incident`, `2 incidents`.
fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// "minute", "10 minutes", "hour", "6 hours", "day": the length of a bucket in words.
fn per(bucket_ms: i64) -> String {
    match bucket_ms {
        60_000 => "minute".to_string(),
        3_600_000 => "hour".to_string(),
        86_400_000 => "day".to_string(),
        ms if ms > 0 && ms % 3_600_000 == 0 => format!("{} hours", ms / 3_600_000),
        ms if ms > 0 && ms % 60_000 == 0 => format!("{} minutes", ms / 60_000),
        ms => format_duration(Duration::from_millis(u64::try_from(ms).unwrap_or(0))),
    }
}

fn incident_list(incidents: &[Incident]) -> Markup {
    html! {
        @if incidents.is_empty() {
            p.empty { "No incidents in this window." }
        } @else {
            ul.legend {
                li { span.swatch.st-degraded {} "warning" }
                li { span.swatch.st-bad {} "critical" }
                li { span.swatch.st-unknown {} "unknown" }
            }
            details {
                summary { (plural(incidents.len(), "incident")) }
                table {
                    @if incidents.len() > LISTED_INCIDENTS {
                        caption { "The first " (LISTED_INCIDENTS) " of " (incidents.len()) "; the timeline shows all." }
                    }
                    thead { tr { th scope="col" { "Worst" } th scope="col" { "Start" } th scope="col" { "End" }
                                 th scope="col" { "Duration" } th scope="col" { "Down" } } }
                    tbody {
                        @for incident in incidents.iter().take(LISTED_INCIDENTS) { (incident_row(incident)) }
                    }
                }
            }
        }
    }
}

fn incident_row(incident: &Incident) -> Markup {
    let span = |ms: i64| format_duration(Duration::from_millis(u64::try_from(ms).unwrap_or(0)));
    html! {
        tr {
            th scope="row" { span class=(format!("swatch {}", charts::status_class(incident.worst))) {} (incident.worst) }
            td {
                @if incident.started_before_window { "before " }
                (utc(incident.start_ms, DATE_TIME))
            }
            td { (incident.end_ms.map_or_else(|| "ongoing".to_string(), |e| utc(e, DATE_TIME))) }
            td { (span(incident.duration_ms)) }
            td { (span(incident.down_ms)) }
        }
    }
}
