//! The raw results of the window as CSV, one row each, for spreadsheets: when each run
//! started, how long it took, its status, state and attempt, and its metrics.

use std::io::{self, Write};

use crate::result::CheckResult;

/// The header row.
pub const HEADER: [&str; 9] =
    ["check", "started_at_ms", "duration_ms", "status", "state", "attempt", "reason", "summary", "metrics"];

/// Writes `results`, a header first.
pub fn write(out: &mut impl Write, results: &[CheckResult]) -> io::Result<()> {
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record(HEADER).map_err(io::Error::other)?;
    for r in results {
        w.write_record(row(r)).map_err(io::Error::other)?;
    }
    w.flush()
}

/// A text cell that a spreadsheet cannot take for a formula: one starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return gets a leading `'` (OWASP's advice), since check
/// names, summaries and metric names come from configs and plugins.
fn text_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_string() }
}

/// One result's row, in the order of [`HEADER`].
fn row(r: &CheckResult) -> [String; 9] {
    let metrics: Vec<String> = r.metrics.iter().map(|m| format!("{}={}{}", m.name, m.value, m.unit)).collect();
    [
        text_cell(&r.check),
        r.started_at_ms.to_string(),
        format!("{:.3}", r.duration.as_secs_f64() * 1000.0),
        r.status.to_string(),
        r.state.map(|s| s.kind.to_string()).unwrap_or_default(),
        r.state.map(|s| s.attempt.to_string()).unwrap_or_default(),
        r.reason.map(|x| x.to_string()).unwrap_or_default(),
        text_cell(&r.summary),
        text_cell(&metrics.join(" ")),
    ]
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::result::{Metric, Reason, StateInfo, StateType, Status};

    fn result() -> CheckResult {
        let metric = |name: &str, value: f64, unit: &str| Metric {
            name: name.into(),
            value,
            unit: unit.into(),
            warn: None,
            crit: None,
            min: None,
            max: None,
        };
        CheckResult {
            check: "api".into(),
            plugin: "http".into(),
            plugin_version: "0.1.0".into(),
            target: "http://api.test/health".into(),
            started_at_ms: 1_767_225_600_000,
            duration: Duration::from_micros(12_345_678),
            status: Status::Critical,
            summary: "HTTP 503, \"busy\"".into(),
            reason: Some(Reason::HttpStatus),
            metrics: vec![metric("time_total", 12.5, "ms"), metric("status_code", 503.0, "")],
            details: None,
            state: Some(StateInfo { kind: StateType::Soft, attempt: 2 }),
        }
    }

    #[test]
    fn csv_has_a_header_and_one_row_per_result_quoted_where_needed() {
        let mut out = Vec::new();
        write(&mut out, &[result()]).expect("writes to memory");
        assert_eq!(
            String::from_utf8_lossy(&out),
            "check,started_at_ms,duration_ms,status,state,attempt,reason,summary,metrics\n\
             api,1767225600000,12345.678,critical,soft,2,http-status,\"HTTP 503, \"\"busy\"\"\",time_total=12.5ms status_code=503\n"
        );
    }

    #[test]
    fn a_result_without_state_or_reason_leaves_those_cells_empty_and_no_results_leave_the_header() {
        let mut r = result();
        (r.state, r.reason, r.metrics) = (None, None, Vec::new());
        let mut out = Vec::new();
        write(&mut out, &[r]).expect("writes to memory");
        assert!(
            String::from_utf8_lossy(&out)
                .ends_with("\napi,1767225600000,12345.678,critical,,,,\"HTTP 503, \"\"busy\"\"\",\n")
        );
        let mut out = Vec::new();
        write(&mut out, &[]).expect("writes to memory");
        assert_eq!(String::from_utf8_lossy(&out), format!("{}\n", HEADER.join(",")));
    }

    #[test]
    fn cells_a_spreadsheet_would_run_as_formulas_are_defused() {
        let mut r = result();
        r.check = "=HYPERLINK(\"http://evil\")".into();
        r.summary = "+1+cmd|' /C calc'!A0".into();
        r.metrics.clear();
        let mut out = Vec::new();
        write(&mut out, &[r]).expect("written");
        let text = String::from_utf8(out).expect("utf-8");
        let row = text.lines().nth(1).expect("a row");
        assert!(row.starts_with("\"'=HYPERLINK("), "{row}");
        assert!(row.contains(",'+1+cmd|"), "{row}");
        for (cell, want) in [("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("ok", "ok")] {
            assert_eq!(text_cell(cell), want);
        }
    }
}
