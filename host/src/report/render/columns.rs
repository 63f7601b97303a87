//! The columns of the check table and the tag table, defined once: the text table and
//! Markdown both walk these definitions, so a column is added, renamed or moved in one place.

use anstyle::{AnsiColor, Style};

use crate::report::cells::Cells;
use crate::report::check::CheckReport;
use crate::report::groups::GroupReport;
use vitals_units::format_duration;

/// The formats that show the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The aligned text table.
    Text,
    /// Markdown.
    Markdown,
}

/// Which side of its column a cell keeps to in the text table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Padded on the right.
    Left,
    /// Padded on the left.
    Right,
}

/// How wide a column is in the text table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// As wide as its widest cell or its header.
    Widest,
    /// At least this many characters; a longer cell sticks out.
    Min(usize),
    /// Not padded at all (the last column).
    Unpadded,
}

/// One column of a table of `T` (a check or a tag).
pub struct Column<T> {
    /// The header in the text table, or `None` where the text table leaves the column out.
    pub text: Option<&'static str>,
    /// The header in Markdown, or `None` where Markdown leaves the column out.
    pub markdown: Option<&'static str>,
    /// Alignment in the text table.
    pub align: Align,
    /// Width in the text table.
    pub width: Width,
    /// The colour of a cell on a terminal, when the column has one.
    pub colour: Option<fn(&T) -> Style>,
    /// The cell of a row, from the row and its formatted figures.
    pub cell: fn(&T, &Cells) -> String,
}

impl<T> Column<T> {
    /// The header in `format`, or `None` where `format` leaves the column out.
    pub fn header(&self, format: Format) -> Option<&'static str> {
        match format {
            Format::Text => self.text,
            Format::Markdown => self.markdown,
        }
    }

    /// A column of figures: right-aligned, at least nine characters wide in the text table.
    const fn figure(text: &'static str, markdown: &'static str, cell: fn(&T, &Cells) -> String) -> Column<T> {
        Column {
            text: Some(text),
            markdown: Some(markdown),
            align: Align::Right,
            width: Width::Min(9),
            colour: None,
            cell,
        }
    }

    /// The same column, left out of the format other than `format`.
    const fn only(self, format: Format) -> Column<T> {
        match format {
            Format::Text => Column { markdown: None, ..self },
            Format::Markdown => Column { text: None, ..self },
        }
    }

    /// The first column, which names the row.
    const fn name(text: &'static str, markdown: &'static str, cell: fn(&T, &Cells) -> String) -> Column<T> {
        Column {
            text: Some(text),
            markdown: Some(markdown),
            align: Align::Left,
            width: Width::Widest,
            colour: None,
            cell,
        }
    }
}

/// A table: its columns, and how a row's figures are formatted.
pub struct Table<T: 'static> {
    /// The columns, in order.
    pub columns: &'static [Column<T>],
    /// The formatted figures of a row, computed once per row for all its cells.
    pub cells: fn(&T) -> Cells,
}

impl<T> Table<T> {
    /// The columns `format` shows, with their headers.
    pub fn shown(&self, format: Format) -> Vec<(&'static str, &Column<T>)> {
        self.columns.iter().filter_map(|c| Some((c.header(format)?, c))).collect()
    }
}

/// HARD availability: the figure every table leads with.
const fn availability<T>() -> Column<T> {
    Column::figure("AVAIL", "availability (HARD)", |_, c| c.availability.clone())
}

/// The ratio of ok attempts, marked `!` when it hides failures.
const fn raw<T>() -> Column<T> {
    Column::figure("RAW", "ok attempts", |_, c| super::sections::raw_cell(c))
}

/// Time up but degraded (HARD warning).
const fn degraded<T>() -> Column<T> {
    Column::figure("DEGRADED", "degraded", |_, c| c.degraded.clone())
}

/// The number of incidents.
const fn incidents<T>() -> Column<T> {
    Column::figure("INCIDENTS", "incidents", |_, c| c.incidents.to_string())
}

/// The number of periods of HARD warning.
const fn warnings<T>() -> Column<T> {
    Column { width: Width::Min(8), ..Column::figure("WARNINGS", "warnings", |_, c| c.warnings.to_string()) }
}

/// Flapping periods (and, for a check, their time).
const fn flapping<T>() -> Column<T> {
    Column::figure("FLAPPING", "flapping", |_, c| c.flapping.clone())
}

/// The response-time percentiles, p50, p95 and p99.
const fn p50<T>() -> Column<T> {
    Column::figure("P50", "p50", |_, c| c.p50.clone())
}

/// See [`p50`].
const fn p95<T>() -> Column<T> {
    Column::figure("P95", "p95", |_, c| c.p95.clone())
}

/// See [`p50`].
const fn p99<T>() -> Column<T> {
    Column::figure("P99", "p99", |_, c| c.p99.clone())
}

/// One row per check.
pub const CHECKS: Table<CheckReport> = Table {
    columns: &[
        Column::name("CHECK", "check", |r, _| r.check.clone()),
        Column { colour: Some(availability_style), ..availability() },
        raw(),
        degraded(),
        incidents(),
        warnings(),
        flapping(),
        Column::figure("MTTR", "MTTR", |_, c| c.mttr.clone()),
        p50(),
        p95(),
        p99(),
        Column::figure("TREND", "trend (p95)", trend).only(Format::Markdown),
        Column { align: Align::Left, width: Width::Unpadded, ..Column::figure("RESOLUTION", "resolution", resolution) }
            .only(Format::Text),
    ],
    cells: Cells::of,
};

/// One row per tag.
pub const TAGS: Table<GroupReport> = Table {
    columns: &[
        Column::name("TAG", "tag", |g, _| g.tag.clone()),
        Column { width: Width::Min(6), ..Column::figure("CHECKS", "checks", |g, _| g.checks.len().to_string()) },
        availability(),
        raw(),
        degraded(),
        incidents(),
        warnings(),
        flapping(),
        p50(),
        p95(),
        p99(),
    ],
    cells: Cells::of_group,
};

/// The p95 change against the previous window, flagged when it is a regression.
fn trend(_: &CheckReport, c: &Cells) -> String {
    format!("{}{}", c.trend, if c.regression { " ⚠ regression" } else { "" })
}

/// The shortest outage the check's schedule is sure to see.
fn resolution(r: &CheckReport, _: &Cells) -> String {
    format!("misses outages < {}", format_duration(r.resolution.can_miss_shorter_than))
}

/// How a check's availability stands against its objective (99.9 % without one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// It meets it.
    Meets,
    /// It misses it, by less than ten times the error budget.
    Near,
    /// It misses it by more.
    Misses,
    /// Nothing was measured.
    NoData,
}

/// Where `r`'s availability stands against its objective.
pub fn standing(r: &CheckReport) -> Standing {
    let target = r.slo.as_ref().map_or(0.999, |s| s.slo.target);
    match r.availability.ratio {
        None => Standing::NoData,
        Some(a) if a >= target => Standing::Meets,
        Some(a) if 1.0 - a <= 10.0 * (1.0 - target) => Standing::Near,
        Some(_) => Standing::Misses,
    }
}

/// Green when availability meets the check's objective (99.9 % without one), yellow within
/// ten times its error budget, red below, none without data.
fn availability_style(r: &CheckReport) -> Style {
    let color = match standing(r) {
        Standing::NoData => return Style::new(),
        Standing::Meets => AnsiColor::Green,
        Standing::Near => AnsiColor::Yellow,
        Standing::Misses => AnsiColor::Red,
    };
    Style::new().fg_color(Some(color.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::render::fixture;

    #[test]
    fn every_column_has_a_header_in_some_format() {
        let check = CHECKS.columns.iter().map(|c| (c.text, c.markdown));
        let tag = TAGS.columns.iter().map(|c| (c.text, c.markdown));
        assert!(check.chain(tag).all(|(t, m)| t.is_some() || m.is_some()));
    }

    #[test]
    fn text_and_markdown_show_the_same_figures_but_trend_and_resolution() {
        let headers = |f| -> Vec<&str> { CHECKS.shown(f).into_iter().map(|(h, _)| h).collect() };
        assert_eq!(
            headers(Format::Text),
            [
                "CHECK",
                "AVAIL",
                "RAW",
                "DEGRADED",
                "INCIDENTS",
                "WARNINGS",
                "FLAPPING",
                "MTTR",
                "P50",
                "P95",
                "P99",
                "RESOLUTION"
            ]
        );
        assert_eq!(headers(Format::Markdown).len(), 12);
        assert_eq!(headers(Format::Markdown)[11], "trend (p95)");
    }

    #[test]
    fn availability_is_green_at_the_objective_yellow_within_ten_budgets_red_below() {
        let mut r = fixture::api(); // 99 % objective
        let style_at = |r: &mut CheckReport, ratio| {
            r.availability.ratio = ratio;
            availability_style(r)
        };
        let colour = |c: AnsiColor| Style::new().fg_color(Some(c.into()));
        assert_eq!(style_at(&mut r, Some(0.99)), colour(AnsiColor::Green));
        assert_eq!(style_at(&mut r, Some(0.95)), colour(AnsiColor::Yellow));
        assert_eq!(style_at(&mut r, Some(0.85)), colour(AnsiColor::Red));
        assert_eq!(style_at(&mut r, None), Style::new());
        // Without an objective, 99.9 %.
        r.slo = None;
        assert_eq!(style_at(&mut r, Some(0.999)), colour(AnsiColor::Green));
        assert_eq!(style_at(&mut r, Some(0.995)), colour(AnsiColor::Yellow));
    }
}
