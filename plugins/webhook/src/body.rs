//! The JSON object a webhook receives.

use serde::Serialize;
pub use vitals_sdk::calendar::rfc3339;
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
