//! The report as Markdown, for a CI job summary or a wiki page: the same
//! [`columns`](super::columns) and [`sections`](super::sections) as the text table, as
//! Markdown tables.

use std::io::{self, Write};

use super::columns::{self, Format, Table};
use super::sections;
use super::{describe, rule};
use crate::report::Report;

/// Writes the report.
pub fn write(out: &mut impl Write, report: &Report) -> io::Result<()> {
    writeln!(out, "## Vitals report: {}\n", describe(report.window))?;
    table(out, &columns::CHECKS, &report.checks)?;
    if !report.groups.is_empty() {
        writeln!(out, "\n### By tag\n")?;
        table(out, &columns::TAGS, &report.groups)?;
    }
    for section in sections::sections(report) {
        writeln!(out, "\n### {}\n", section.title)?;
        let headers: Vec<String> = section.headers.iter().map(|(h, _)| h.to_lowercase()).collect();
        writeln!(out, "| {} |", headers.join(" | "))?;
        writeln!(out, "|{}", "---|".repeat(headers.len()))?;
        for row in &section.rows {
            let cells: Vec<String> = row.iter().map(|c| c.replace('|', "/")).collect();
            writeln!(out, "| {} |", cells.join(" | "))?;
        }
    }
    let notes = sections::notes(report);
    if !notes.is_empty() {
        writeln!(out, "\n### Notes\n")?;
        for note in notes {
            writeln!(out, "- {}", note.replace('|', "/"))?;
        }
    }
    let mut rule = rule(report.no_data).to_string();
    if let Some(first) = rule.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    writeln!(out, "\n{rule}; weighted by time. `!` marks an ok-attempts ratio far below availability.")
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
             | check | availability (HARD) | ok attempts | degraded | incidents | warnings | flapping | MTTR | p50 | p95 | p99 | trend (p95) |\n\
             |---|---|---|---|---|---|---|---|---|---|---|---|\n\
             | api | 99.500% | 99.653% | 30.0 m | 1 | 1 | 1, 45.0 m | 7.2 m | 35.0 ms | 80.0 ms | 120.0 ms | +60% ⚠ regression |\n\
             | db/replica | no data | no data | - | 0 | 0 | - | - | - | - | - | - |\n\
             \n\
             ### By tag\n\
             \n\
             | tag | checks | availability (HARD) | ok attempts | degraded | incidents | warnings | flapping | p50 | p95 | p99 |\n\
             |---|---|---|---|---|---|---|---|---|---|---|\n\
             | web | 2 | 99.500% | 99.653% | 30.0 m | 1 | 1 | 1 | 35.0 ms | 80.0 ms | 120.0 ms |\n\
             \n\
             ### Phases\n\
             \n\
             | check | phase | p50 | p95 | p99 |\n\
             |---|---|---|---|---|\n\
             | api | connect | 5.0 ms | 9.0 ms | 12.0 ms |\n\
             \n\
             ### SLO\n\
             \n\
             | check | objective | window | budget | consumed | left | alerts | data |\n\
             |---|---|---|---|---|---|---|---|\n\
             | api | 99.000% | 30.0 d | 7.2 h | 7.2 m | 7.1 h (98.3%) | none | 30.0 d (100.0%) |\n\
             \n\
             ### Degraded and flapping\n\
             \n\
             | check | state | from | to | for |\n\
             |---|---|---|---|---|\n\
             | api | degraded | 2026-01-01 14:00:00 | 2026-01-01 14:30:00 | 30.0 m |\n\
             | api | flapping | 2026-01-01 20:00:00 | 2026-01-01 20:45:00 | 45.0 m |\n\
             \n\
             ### Maintenance (left out)\n\
             \n\
             | check | time | windows |\n\
             |---|---|---|\n\
             | db/replica | 1.0 h | 1 |\n\
             \n\
             Availability counts HARD states, warning as up; time without data is left out; weighted by time. \
             `!` marks an ok-attempts ratio far below availability.\n"
        );
    }

    #[test]
    fn the_footer_says_how_time_without_data_counted() {
        let mut report = fixture::report();
        report.no_data = crate::report::sla::NoData::AsDown;
        assert!(
            rendered(write, &report)
                .contains("\nAvailability counts HARD states, warning as up; time without data counts as down;")
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
