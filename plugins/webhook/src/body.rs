//! The JSON object a webhook receives.

use serde::Serialize;
use vitals_sdk::{ChangeKind, StateChange, Status};

/// The body of the POST, in the order of its keys.
#[derive(Serialize)]
struct Body<'a> {
    check: &'a str,
    kind: &'static str,
    old_status: Option<&'static str>,
    new_status: Option<&'static str>,
    at: String,
    summary: &'a str,
    target: &'a str,
    report_link: Option<&'a str>,
}

/// The JSON body for `event`.
pub fn json(event: &StateChange) -> Vec<u8> {
    let body = Body {
        check: &event.check,
        kind: match event.kind {
            ChangeKind::HardChange => "hard_change",
            ChangeKind::FlappingStarted => "flapping_started",
            ChangeKind::FlappingStopped => "flapping_stopped",
        },
        old_status: event.old_status.map(status),
        new_status: event.new_status.map(status),
        at: rfc3339(event.at_ms),
        summary: &event.summary,
        target: &event.target,
        report_link: event.report_link.as_deref(),
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

fn status(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::Warning => "warning",
        Status::Critical => "critical",
        Status::Unknown => "unknown",
    }
}

/// Milliseconds since the Unix epoch as an RFC 3339 UTC time with milliseconds,
/// e.g. `2024-05-01T12:00:00.000Z`.
pub fn rfc3339(at_ms: i64) -> String {
    let secs = at_ms.div_euclid(1000);
    let ms = at_ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rest = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// Year, month and day of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}
