//! The report as aligned tables for people ([`columns::CHECKS`], then [`columns::TAGS`]),
//! then the [`sections`] (phases, SLOs, degraded and flapping periods, maintenance), each
//! under a heading, and the notes. Availability is coloured always; `anstream` keeps colour
//! codes only on a terminal without `NO_COLOR`.

use std::io::{self, Write};

use anstyle::Style;

use super::columns::{self, Align, Format, Table, Width};
use super::sections::{self, Section};
use super::{describe, rule};
use crate::report::Report;

/// Writes the report.
pub fn write(out: &mut impl Write, report: &Report) -> io::Result<()> {
    writeln!(out, "Report over {} ({}; RAW is ok attempts)\n", describe(report.window), rule(report.no_data))?;
    table(out, &columns::CHECKS, &report.checks)?;
    if !report.groups.is_empty() {
        writeln!(out)?;
        table(out, &columns::TAGS, &report.groups)?;
    }
    for section in sections::sections(report) {
        writeln!(out, "\n{}", section.title)?;
        plain(out, &section)?;
    }
    let notes = sections::notes(report);
    if !notes.is_empty() {
        writeln!(out, "\nNotes")?;
        for note in notes {
            writeln!(out, "  {note}")?;
        }
    }
    Ok(())
}

/// A header line and one line per row, columns two spaces apart.
fn table<T>(out: &mut impl Write, table: &Table<T>, rows: &[T]) -> io::Result<()> {
    let columns = table.shown(Format::Text);
    let cells: Vec<Vec<(String, Option<Style>)>> = rows
        .iter()
        .map(|row| {
            let figures = (table.cells)(row);
            columns.iter().map(|(_, c)| ((c.cell)(row, &figures), c.colour.map(|colour| colour(row)))).collect()
        })
        .collect();
    let layout: Vec<(&str, Align, Width)> = columns.iter().map(|(h, c)| (*h, c.align, c.width)).collect();
    grid(out, &layout, &cells)
}

/// A section as a table whose columns are as wide as their widest cell, the last unpadded.
fn plain(out: &mut impl Write, section: &Section) -> io::Result<()> {
    let last = section.headers.len().saturating_sub(1);
    let layout: Vec<(&str, Align, Width)> = section
        .headers
        .iter()
        .enumerate()
        .map(|(i, (h, a))| (*h, *a, if i == last && *a == Align::Left { Width::Unpadded } else { Width::Widest }))
        .collect();
    let cells: Vec<Vec<(String, Option<Style>)>> =
        section.rows.iter().map(|r| r.iter().map(|c| (c.clone(), None)).collect()).collect();
    grid(out, &layout, &cells)
}

/// Headers and rows of cells (each with the colour it is printed in, if any), aligned.
fn grid(
    out: &mut impl Write,
    layout: &[(&str, Align, Width)],
    rows: &[Vec<(String, Option<Style>)>],
) -> io::Result<()> {
    let widths: Vec<usize> = layout
        .iter()
        .enumerate()
        .map(|(i, (header, _, width))| match width {
            Width::Widest => rows.iter().map(|r| r[i].0.chars().count()).fold(header.chars().count(), usize::max),
            Width::Min(n) => *n,
            Width::Unpadded => 0,
        })
        .collect();
    let header: Vec<String> = layout.iter().zip(&widths).map(|((h, a, _), &w)| pad(h, *a, w)).collect();
    writeln!(out, "{}", header.join("  ").trim_end())?;
    for row in rows {
        let line: Vec<String> = layout
            .iter()
            .zip(row)
            .zip(&widths)
            .map(|(((_, align, _), (cell, style)), &w)| match style {
                Some(s) => format!("{s}{}{s:#}", pad(cell, *align, w)),
                None => pad(cell, *align, w),
            })
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
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
    fn the_tables_are_followed_by_the_sections_each_under_a_heading() {
        let text = rendered(write, &fixture::report());
        let plain = anstream::adapter::strip_str(&text).to_string();
        assert_eq!(
            plain,
            "Report over 1.0 d from 2026-01-01 00:00 to 2026-01-02 00:00 UTC (availability counts HARD states, warning as up; time without data is left out; RAW is ok attempts)\n\
             \n\
             CHECK           AVAIL        RAW   DEGRADED  INCIDENTS  WARNINGS   FLAPPING       MTTR        P50        P95        P99  RESOLUTION\n\
             api           99.500%    99.653%     30.0 m          1         1  1, 45.0 m      7.2 m    35.0 ms    80.0 ms   120.0 ms  misses outages < 1.0 m\n\
             db|replica    no data    no data          -          0         0          -          -          -          -          -  misses outages < 5.0 m\n\
             \n\
             TAG  CHECKS      AVAIL        RAW   DEGRADED  INCIDENTS  WARNINGS   FLAPPING        P50        P95        P99\n\
             web       2    99.500%    99.653%     30.0 m          1         1          1    35.0 ms    80.0 ms   120.0 ms\n\
             \n\
             Phases\n\
             CHECK  PHASE       P50     P95      P99\n\
             api    connect  5.0 ms  9.0 ms  12.0 ms\n\
             \n\
             SLO\n\
             CHECK  OBJECTIVE  WINDOW  BUDGET  CONSUMED           LEFT  ALERTS             DATA\n\
             api      99.000%  30.0 d   7.2 h     7.2 m  7.1 h (98.3%)  none    30.0 d (100.0%)\n\
             \n\
             Degraded and flapping\n\
             CHECK  STATE     FROM                 TO                      FOR\n\
             api    degraded  2026-01-01 14:00:00  2026-01-01 14:30:00  30.0 m\n\
             api    flapping  2026-01-01 20:00:00  2026-01-01 20:45:00  45.0 m\n\
             \n\
             Maintenance (left out)\n\
             CHECK        TIME  WINDOWS\n\
             db|replica  1.0 h        1\n"
        );
    }

    #[test]
    fn failures_hidden_by_retries_and_an_slo_on_too_little_data_get_notes() {
        let mut report = fixture::report();
        let api = &mut report.checks[0];
        // 100 % HARD, but half the attempts failed: the retries absorbed them.
        api.availability.ratio = Some(1.0);
        api.availability.raw_ratio = Some(0.5);
        api.hidden_failures = true;
        let slo = api.slo.as_mut().expect("api has an objective");
        slo.data.measured_ms = 5_000;
        slo.data.share = 5_000.0 / slo.data.period_ms as f64;
        slo.data.enough = false;
        let plain = anstream::adapter::strip_str(&rendered(write, &report)).to_string();
        assert!(plain.contains("\napi          100.000%  50.000% !     30.0 m"), "{plain}");
        assert!(
            plain.ends_with(
                "\nNotes\n  \
                 api: ! 50.000% of its attempts failed, yet HARD availability is 100.000%: 50.0 points the retries \
                 absorbed while it was flapping\n  \
                 api: its SLO figures rest on only 5.0 s of data (0.0% of 30.0 d): too little to mean much yet\n"
            ),
            "{plain}"
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
        assert!(
            text.ends_with(
                "\n\nCHECK      AVAIL        RAW   DEGRADED  INCIDENTS  WARNINGS   FLAPPING       MTTR        P50        P95        \
                 P99  RESOLUTION\n"
            ),
            "{text}"
        );
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
