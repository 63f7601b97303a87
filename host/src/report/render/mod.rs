//! Renderers: one [`Report`](super::Report) as JSON, CSV or a self-contained HTML page.
//! They only format and write: every figure comes computed.

pub mod csv;
#[cfg(test)]
mod fixture;
pub mod html;
pub mod json;

/// `ms` since the epoch as UTC with chrono's `format`, or the raw number if it is out of
/// chrono's range.
fn utc(ms: i64, format: &str) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(|| ms.to_string(), |t| t.format(format).to_string())
}
