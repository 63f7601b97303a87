//! The report as Markdown, for a CI job summary or a wiki page: the same
//! [`columns`](super::columns) as the text table, as Markdown tables.

use std::io::{self, Write};

use super::columns::{self, Format, Table};
use super::describe;
use crate::report::Report;

/// Writes the report.
pub fn write(out: &mut impl Write, report: &Report) -> io::Result<()> {
    writeln!(out, "## Vitals report: {}\n", describe(report.window))?;
    table(out, &columns::CHECKS, &report.checks)?;
    if !report.groups.is_empty() {
        writeln!(out, "\n### By tag\n")?;
        table(out, &columns::TAGS, &report.groups)?;
    }
    writeln!(out, "\nAvailability counts HARD states, weighted by time; time without data is left out.")
}

/// A Markdown table. A `|` in a cell (in a check name or a tag) would end the cell, so it
/// is written `/`.
fn table<T>(out: &mut impl Write, table: &Table<T>, rows: &[T]) -> io::Result<()> {
    let columns = table.shown(Format::Markdown);
    let headers: Vec<&str> = columns.iter().map(|(h, _)| *h).collect();
    writeln!(out, "| {} |", headers.join(" | "))?;
    writeln!(out, "|{}", "---|".repeat(columns.len()))?;
    for row in rows {
        let figures = (table.cells)(row);
        let cells: Vec<String> = columns.iter().map(|(_, c)| (c.cell)(row, &figures).replace('|', "/")).collect();
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::render::fixture::{self, rendered};

    #[test]
    fn markdown_has_the_check_and_tag_tables_with_the_trend_flagged() {
        assert_eq!(
            rendered(write, &fixture::report()),
            "## Vitals report: 1.0 d from 2026-01-01 00:00 to 2026-01-02 00:00 UTC\n\
             \n\
             | check | availability (HARD) | ok attempts | incidents | MTTR | p50 | p95 | p99 | trend (p95) |\n\
             |---|---|---|---|---|---|---|---|---|\n\
             | api | 99.500% | 99.653% | 1 | 7.2 m | 35.0 ms | 80.0 ms | 120.0 ms | +60% ⚠ regression |\n\
             | db/replica | no data | no data | 0 | - | - | - | - | - |\n\
             \n\
             ### By tag\n\
             \n\
             | tag | checks | availability (HARD) | ok attempts | incidents | p50 | p95 | p99 |\n\
             |---|---|---|---|---|---|---|---|\n\
             | web | 2 | 99.500% | 99.653% | 1 | 35.0 ms | 80.0 ms | 120.0 ms |\n\
             \n\
             Availability counts HARD states, weighted by time; time without data is left out.\n"
        );
    }

    #[test]
    fn a_pipe_in_a_tag_cannot_end_its_cell_and_no_tags_means_no_tag_table() {
        let mut report = fixture::report();
        report.groups[0].tag = "edge|lb".into();
        assert!(rendered(write, &report).contains("\n| edge/lb | 2 |"));
        report.groups.clear();
        assert!(!rendered(write, &report).contains("By tag"));
    }
}
