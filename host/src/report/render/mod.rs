//! Renderers: one [`Report`](super::Report) as an aligned text table, Markdown, JSON, CSV
//! or a self-contained HTML page. They only format and write: every figure comes computed.
//!
//! The text table and Markdown walk the same [`columns`]; [`super::cells`] formats the
//! figures that every format shows as text.

pub mod columns;
pub mod csv;
#[cfg(test)]
mod fixture;
pub mod html;
pub mod json;
pub mod markdown;
pub mod sections;
pub mod text;

use std::time::Duration;

use super::sla::{NoData, Window};
use vitals_units::format_duration;

/// `ms` since the epoch as UTC with chrono's `format`, or the raw number if it is out of
/// chrono's range.
fn utc(ms: i64, format: &str) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(|| ms.to_string(), |t| t.format(format).to_string())
}

/// The window in words: "30.0 d from 2026-10-31 09:00 to 2026-11-30 09:00 UTC".
fn describe(window: Window) -> String {
    let len = Duration::from_millis(u64::try_from(window.len_ms()).unwrap_or(0));
    let at = |ms| utc(ms, "%Y-%m-%d %H:%M");
    format!("{} from {} to {} UTC", format_duration(len), at(window.from_ms), at(window.to_ms))
}

/// What the availability figures count, in a few words, as the text and Markdown headers
/// say it.
fn rule(no_data: NoData) -> &'static str {
    match no_data {
        NoData::Exclude => "availability counts HARD states, warning as up; time without data is left out",
        NoData::AsDown => "availability counts HARD states, warning as up; time without data counts as down",
    }
}
