//! The raw results of the window as CSV, one row each, for spreadsheets: when each run
//! started (ISO 8601, UTC), how long it took, its status, state and attempt, and one column
//! per metric, whose header names its unit (`time_total (ms)`).

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::utc;
use crate::result::CheckResult;

/// The columns before the metrics.
pub const HEADER: [&str; 8] =
    ["check", "started_at", "duration (ms)", "status", "state", "attempt", "reason", "summary"];

/// The most metric columns: plugins name their metrics, so a plugin that names a new one
/// every run must not make a sheet of a million columns. The metrics past these go into
/// the last column, [`OTHER`], as `name=value unit` words.
pub const MAX_METRIC_COLUMNS: usize = 64;

/// The header of the column of the metrics past [`MAX_METRIC_COLUMNS`].
pub const OTHER: &str = "other metrics";

/// A metric column: its name and unit.
type Key<'a> = (&'a str, &'a str);

/// Writes `results`, a header first.
pub fn write(out: &mut impl Write, results: &[CheckResult]) -> io::Result<()> {
    // Metric columns in the order the metrics first appear.
    let mut order: Vec<Key<'_>> = Vec::new();
    let mut index: BTreeMap<Key<'_>, usize> = BTreeMap::new();
    let mut overflow = false;
    for m in results.iter().flat_map(|r| &r.metrics) {
        let key = (m.name.as_str(), m.unit.as_str());
        if index.contains_key(&key) {
            continue;
        }
        if order.len() < MAX_METRIC_COLUMNS {
            index.insert(key, order.len());
            order.push(key);
        } else {
            overflow = true;
        }
    }
    let mut w = ::csv::Writer::from_writer(out);
    let mut header: Vec<String> = HEADER.iter().map(|h| h.to_string()).collect();
    header.extend(
        order.iter().map(|(name, unit)| {
            text_cell(&if unit.is_empty() { name.to_string() } else { format!("{name} ({unit})") })
        }),
    );
    if overflow {
        header.push(OTHER.to_string());
    }
    w.write_record(&header).map_err(io::Error::other)?;
    for r in results {
        let mut row = fixed(r).to_vec();
        let mut metrics = vec![String::new(); order.len()];
        let mut other = Vec::new();
        for m in &r.metrics {
            match index.get(&(m.name.as_str(), m.unit.as_str())) {
                Some(&i) => metrics[i] = m.value.to_string(),
                None => other.push(format!("{}={}{}", m.name, m.value, m.unit)),
            }
        }
        row.extend(metrics);
        if overflow {
            row.push(text_cell(&other.join(" ")));
        }
        w.write_record(&row).map_err(io::Error::other)?;
    }
    w.flush()
}

/// A text cell that a spreadsheet cannot take for a formula: one starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return gets a leading `'` (OWASP's advice), since check
/// names, summaries and metric names come from configs and plugins.
fn text_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_string() }
}

/// One result's cells before its metrics, in the order of [`HEADER`].
fn fixed(r: &CheckResult) -> [String; 8] {
    [
        text_cell(&r.check),
        utc(r.started_at_ms, "%Y-%m-%dT%H:%M:%S%.3fZ"),
        format!("{:.3}", r.duration.as_secs_f64() * 1000.0),
        r.status.to_string(),
        r.state.map(|s| s.kind.to_string()).unwrap_or_default(),
        r.state.map(|s| s.attempt.to_string()).unwrap_or_default(),
        r.reason.map(|x| x.to_string()).unwrap_or_default(),
        text_cell(&r.summary),
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
            "check,started_at,duration (ms),status,state,attempt,reason,summary,time_total (ms),status_code\n\
             api,2026-01-01T00:00:00.000Z,12345.678,critical,soft,2,http-status,\"HTTP 503, \"\"busy\"\"\",12.5,503\n"
        );
    }

    #[test]
    fn each_metric_gets_its_column_left_empty_where_a_result_lacks_it() {
        let (mut a, mut b) = (result(), result());
        a.metrics.truncate(1);
        b.metrics.remove(0);
        b.started_at_ms += 1_500;
        let mut out = Vec::new();
        write(&mut out, &[a, b]).expect("writes to memory");
        let text = String::from_utf8_lossy(&out).to_string();
        let rows: Vec<&str> = text.lines().collect();
        assert!(rows[0].ends_with(",summary,time_total (ms),status_code"), "{text}");
        assert!(rows[1].ends_with(",12.5,"), "{text}");
        assert!(rows[2].contains(",2026-01-01T00:00:01.500Z,") && rows[2].ends_with(",,503"), "{text}");
    }

    #[test]
    fn metrics_past_the_column_limit_share_one_last_column() {
        let mut r = result();
        r.metrics =
            (0..MAX_METRIC_COLUMNS + 2).map(|i| Metric { name: format!("m{i}"), ..r.metrics[0].clone() }).collect();
        let mut out = Vec::new();
        write(&mut out, &[r]).expect("writes to memory");
        let text = String::from_utf8_lossy(&out).to_string();
        let header = text.lines().next().unwrap_or_default();
        assert_eq!(header.split(',').count(), HEADER.len() + MAX_METRIC_COLUMNS + 1, "{header}");
        assert!(header.ends_with(",m63 (ms),other metrics"), "{header}");
        assert!(text.lines().nth(1).unwrap_or_default().ends_with(",m64=12.5ms m65=12.5ms"), "{text}");
    }

    #[test]
    fn a_result_without_state_or_reason_leaves_those_cells_empty_and_no_results_leave_the_header() {
        let mut r = result();
        (r.state, r.reason, r.metrics) = (None, None, Vec::new());
        let mut out = Vec::new();
        write(&mut out, &[r]).expect("writes to memory");
        assert!(
            String::from_utf8_lossy(&out)
                .ends_with("\napi,2026-01-01T00:00:00.000Z,12345.678,critical,,,,\"HTTP 503, \"\"busy\"\"\"\n")
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
        r.metrics.truncate(1);
        r.metrics[0].name = "-x".into();
        let mut out = Vec::new();
        write(&mut out, &[r]).expect("written");
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.starts_with(&format!("{},'-x (ms)\n", HEADER.join(","))), "{text}");
        let row = text.lines().nth(1).expect("a row");
        assert!(row.starts_with("\"'=HYPERLINK("), "{row}");
        assert!(row.contains(",'+1+cmd|"), "{row}");
        for (cell, want) in [("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("ok", "ok")] {
            assert_eq!(text_cell(cell), want);
        }
    }
}
