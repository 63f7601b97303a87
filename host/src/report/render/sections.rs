//! The report's sections after the check and tag tables, and its notes, defined once for
//! the text table and Markdown: the timing phases, the SLOs, the degraded and flapping
//! periods, the maintenance left out, and the notes that flag a figure not to be read
//! at face value.

use super::columns::Align;
use super::utc;
use crate::report::Report;
use crate::report::cells::{Cells, budget_percent, percent, span, thin_data};
use crate::report::sla::Period;
use vitals_units::format_duration;

/// The periods of one kind listed per check; the rest are counted.
pub const LISTED_PERIODS: usize = 20;

/// One section: a title and a table.
pub struct Section {
    /// The heading.
    pub title: &'static str,
    /// The column headers and how the text table aligns them.
    pub headers: &'static [(&'static str, Align)],
    /// The rows, one cell per header.
    pub rows: Vec<Vec<String>>,
}

/// The sections of `report` that have rows, in order.
pub fn sections(report: &Report) -> Vec<Section> {
    [phases(report), slos(report), periods(report), maintenance(report)]
        .into_iter()
        .filter(|s| !s.rows.is_empty())
        .collect()
}

fn phases(report: &Report) -> Section {
    const L: Align = Align::Left;
    const R: Align = Align::Right;
    let rows = report
        .checks
        .iter()
        .flat_map(|r| {
            r.phases.iter().map(|(name, s)| {
                vec![
                    r.check.clone(),
                    name.trim_start_matches("time_").to_string(),
                    format_duration(s.p50),
                    format_duration(s.p95),
                    format_duration(s.p99),
                ]
            })
        })
        .collect();
    Section { title: "Phases", headers: &[("CHECK", L), ("PHASE", L), ("P50", R), ("P95", R), ("P99", R)], rows }
}

fn slos(report: &Report) -> Section {
    const L: Align = Align::Left;
    const R: Align = Align::Right;
    let rows = report
        .checks
        .iter()
        .filter_map(|r| {
            let slo = r.slo.as_ref()?;
            let firing: Vec<String> = slo
                .alerts
                .iter()
                .filter(|a| a.firing)
                .map(|a| format!("{:?} ({}x)", a.rule.severity, a.rule.threshold))
                .collect();
            Some(vec![
                r.check.clone(),
                percent(Some(slo.slo.target)),
                if slo.slo.calendar_month { "calendar month".to_string() } else { format_duration(slo.slo.window) },
                span(slo.budget.total_ms),
                span(slo.budget.consumed_ms),
                format!("{} ({})", span(slo.budget.remaining_ms), budget_percent(slo.budget.remaining_percent)),
                if firing.is_empty() { "none".to_string() } else { firing.join(", ") },
                format!("{} ({:.1}%)", span(slo.data.measured_ms), slo.data.share * 100.0),
            ])
        })
        .collect();
    Section {
        title: "SLO",
        headers: &[
            ("CHECK", L),
            ("OBJECTIVE", R),
            ("WINDOW", R),
            ("BUDGET", R),
            ("CONSUMED", R),
            ("LEFT", R),
            ("ALERTS", L),
            ("DATA", R),
        ],
        rows,
    }
}

fn periods(report: &Report) -> Section {
    const L: Align = Align::Left;
    const R: Align = Align::Right;
    let mut rows = Vec::new();
    for r in &report.checks {
        for (what, periods) in [("degraded", &r.warnings), ("flapping", &r.flapping)] {
            rows.extend(periods.periods.iter().take(LISTED_PERIODS).map(|p| period_row(&r.check, what, p)));
            if periods.count > LISTED_PERIODS {
                rows.push(vec![
                    r.check.clone(),
                    what.to_string(),
                    format!("and {} more", periods.count - LISTED_PERIODS),
                    String::new(),
                    String::new(),
                ]);
            }
        }
    }
    Section {
        title: "Degraded and flapping",
        headers: &[("CHECK", L), ("STATE", L), ("FROM", L), ("TO", L), ("FOR", R)],
        rows,
    }
}

/// One period as a row: check, state, start, end (or `ongoing`) and duration.
fn period_row(check: &str, what: &str, p: &Period) -> Vec<String> {
    let at = |ms| utc(ms, "%Y-%m-%d %H:%M:%S");
    vec![
        check.to_string(),
        what.to_string(),
        if p.started_before_window { format!("before {}", at(p.start_ms)) } else { at(p.start_ms) },
        p.end_ms.map_or_else(|| "ongoing".to_string(), at),
        span(p.duration_ms),
    ]
}

fn maintenance(report: &Report) -> Section {
    const L: Align = Align::Left;
    const R: Align = Align::Right;
    let rows = report
        .checks
        .iter()
        .filter(|r| r.availability.maintenance_ms > 0)
        .map(|r| vec![r.check.clone(), span(r.availability.maintenance_ms), r.maintenance.len().to_string()])
        .collect();
    Section { title: "Maintenance (left out)", headers: &[("CHECK", L), ("TIME", R), ("WINDOWS", R)], rows }
}

/// The notes that warn against reading a figure at face value: a raw ratio far below HARD
/// availability (retries or flapping hide failures), and SLO figures resting on too
/// little data.
pub fn notes(report: &Report) -> Vec<String> {
    let mut notes = Vec::new();
    for r in &report.checks {
        let c = Cells::of(r);
        if let (true, Some(hard), Some(raw)) = (c.hidden_failures, r.availability.ratio, r.availability.raw_ratio) {
            notes.push(format!(
                "{}: ! {} of its attempts failed, yet HARD availability is {}: {:.1} points the retries absorbed{}",
                r.check,
                percent(Some(1.0 - raw)),
                c.availability,
                (hard - raw) * 100.0,
                if r.flapping.count > 0 { " while it was flapping" } else { " (or flapping hid)" },
            ));
        }
        if let Some(thin) = r.slo.as_ref().and_then(thin_data) {
            notes.push(format!("{}: its SLO figures rest on {thin}: too little to mean much yet", r.check));
        }
    }
    notes
}

/// The marker a raw ratio gets when it hides failures.
pub fn raw_cell(c: &Cells) -> String {
    if c.hidden_failures { format!("{} !", c.raw) } else { c.raw.clone() }
}
