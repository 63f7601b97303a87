//! The report as aligned tables for people ([`columns::CHECKS`], then [`columns::TAGS`]),
//! then one line per check for its phases, its maintenance and its SLO. Availability is
//! coloured always; `anstream` keeps colour codes only on a terminal without `NO_COLOR`.

use std::io::{self, Write};
use std::time::Duration;

use super::columns::{self, Align, Format, Table, Width};
use super::describe;
use crate::report::Report;
use crate::report::cells::budget_percent;
use vitals_units::format_duration;

/// Writes the report.
pub fn write(out: &mut impl Write, report: &Report) -> io::Result<()> {
    writeln!(out, "Report over {} (availability counts HARD states; RAW is ok attempts)\n", describe(report.window))?;
    table(out, &columns::CHECKS, &report.checks)?;
    if !report.groups.is_empty() {
        writeln!(out)?;
        table(out, &columns::TAGS, &report.groups)?;
    }
    for r in &report.checks {
        if r.phases.is_empty() {
            continue;
        }
        let phases: Vec<String> = r
            .phases
            .iter()
            .map(|(name, s)| {
                format!(
                    "{} p50 {} p95 {}",
                    name.trim_start_matches("time_"),
                    format_duration(s.p50),
                    format_duration(s.p95)
                )
            })
            .collect();
        writeln!(out, "\n{}: {}", r.check, phases.join(", "))?;
    }
    for r in &report.checks {
        if r.availability.maintenance_ms > 0 {
            writeln!(
                out,
                "\n{}: {} of maintenance left out ({} window{})",
                r.check,
                format_duration(Duration::from_millis(u64::try_from(r.availability.maintenance_ms).unwrap_or(0))),
                r.maintenance.len(),
                if r.maintenance.len() == 1 { "" } else { "s" },
            )?;
        }
    }
    for r in &report.checks {
        let Some(slo) = &r.slo else { continue };
        let minutes = |ms: i64| format!("{:.1} min", ms as f64 / 60_000.0);
        let firing: Vec<String> = slo
            .alerts
            .iter()
            .filter(|a| a.firing)
            .map(|a| format!("{:?} ({}x)", a.rule.severity, a.rule.threshold))
            .collect();
        writeln!(
            out,
            "\n{}: SLO {:.3}% over {}: error budget {}, {} consumed, {} left ({}); alerts: {}",
            r.check,
            slo.slo.target * 100.0,
            if slo.slo.calendar_month { "the calendar month".to_string() } else { format_duration(slo.slo.window) },
            minutes(slo.budget.total_ms),
            minutes(slo.budget.consumed_ms),
            minutes(slo.budget.remaining_ms),
            budget_percent(slo.budget.remaining_percent),
            if firing.is_empty() { "none".to_string() } else { firing.join(", ") },
        )?;
    }
    Ok(())
}

/// A header line and one line per row, columns two spaces apart.
fn table<T>(out: &mut impl Write, table: &Table<T>, rows: &[T]) -> io::Result<()> {
    let columns = table.shown(Format::Text);
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let figures = (table.cells)(row);
            columns.iter().map(|(_, c)| (c.cell)(row, &figures)).collect()
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, (header, c))| match c.width {
            Width::Widest => cells.iter().map(|r| r[i].chars().count()).fold(header.chars().count(), usize::max),
            Width::Min(n) => n,
            Width::Unpadded => 0,
        })
        .collect();
    let header: Vec<String> = columns.iter().zip(&widths).map(|((h, c), &w)| pad(h, c.align, w)).collect();
    writeln!(out, "{}", header.join("  "))?;
    for (row, cells) in rows.iter().zip(&cells) {
        let line: Vec<String> = columns
            .iter()
            .zip(cells)
            .zip(&widths)
            .map(|(((_, c), cell), &w)| match c.colour {
                Some(colour) => {
                    let s = colour(row);
                    format!("{s}{}{s:#}", pad(cell, c.align, w))
                }
                None => pad(cell, c.align, w),
            })
            .collect();
        writeln!(out, "{}", line.join("  "))?;
    }
    Ok(())
}

/// `text` padded to `width` characters on the side `align` leaves free.
fn pad(text: &str, align: Align, width: usize) -> String {
    match align {
        Align::Left => format!("{text:<width$}"),
        Align::Right => format!("{text:>width$}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::cells::Cells;
    use crate::report::check::CheckReport;
    use crate::report::render::columns::Column;
    use crate::report::render::fixture::{self, rendered};

    #[test]
    fn the_tables_are_aligned_and_followed_by_phases_maintenance_and_slo_lines() {
        let text = rendered(write, &fixture::report());
        let plain = anstream::adapter::strip_str(&text).to_string();
        assert_eq!(
            plain,
            "Report over 1.0 d from 2026-01-01 00:00 to 2026-01-02 00:00 UTC (availability counts HARD states; RAW is ok attempts)\n\
             \n\
             CHECK           AVAIL        RAW  INCIDENTS       MTTR        P50        P95        P99  RESOLUTION\n\
             api           99.500%    99.653%          1      7.2 m    35.0 ms    80.0 ms   120.0 ms  misses outages < 1.0 m\n\
             db|replica    no data    no data          0          -          -          -          -  misses outages < 5.0 m\n\
             \n\
             TAG  CHECKS      AVAIL        RAW  INCIDENTS        P50        P95        P99\n\
             web       2    99.500%    99.653%          1    35.0 ms    80.0 ms   120.0 ms\n\
             \n\
             api: connect p50 5.0 ms p95 9.0 ms\n\
             \n\
             db|replica: 1.0 h of maintenance left out (1 window)\n\
             \n\
             api: SLO 99.000% over 30.0 d: error budget 432.0 min, 7.2 min consumed, 424.8 min left (98.3%); alerts: none\n"
        );
    }

    #[test]
    fn availability_is_coloured_against_the_objective_and_left_plain_without_data() {
        let text = rendered(write, &fixture::report());
        // 99.5 % meets api's 99 % objective: green, padding inside the colour.
        assert!(text.contains("api         \x1b[32m  99.500%\x1b[0m  "), "{text:?}");
        let db = text.lines().find(|l| l.starts_with("db|replica  ")).unwrap_or_default();
        assert!(!db.contains('\x1b'), "no colour without data: {db:?}");
        assert_eq!(text.matches('\x1b').count(), 2, "only api's availability is coloured: {text:?}");
    }

    #[test]
    fn without_tags_there_is_no_tag_table_and_without_checks_only_the_header() {
        let mut report = fixture::report();
        report.groups.clear();
        assert!(!rendered(write, &report).contains("TAG"));
        report.checks.clear();
        let text = rendered(write, &report);
        assert!(text.ends_with(
            "\n\nCHECK      AVAIL        RAW  INCIDENTS       MTTR        P50        P95        P99  RESOLUTION\n"
        ));
    }

    #[test]
    fn a_widest_column_fits_its_longest_cell_and_a_longer_cell_sticks_out_of_a_minimum() {
        const NARROW: Table<CheckReport> = Table {
            columns: &[
                Column {
                    text: Some("C"),
                    markdown: None,
                    align: Align::Left,
                    width: Width::Widest,
                    colour: None,
                    cell: |r, _| r.check.clone(),
                },
                Column {
                    text: Some("N"),
                    markdown: None,
                    align: Align::Right,
                    width: Width::Min(3),
                    colour: None,
                    cell: |r, _| "x".repeat(r.check.len()),
                },
            ],
            cells: Cells::of,
        };
        let mut out = Vec::new();
        table(&mut out, &NARROW, &[fixture::api(), fixture::db()]).expect("writes to memory");
        assert_eq!(String::from_utf8_lossy(&out), "C             N\napi         xxx\ndb|replica  xxxxxxxxxx\n");
    }
}
