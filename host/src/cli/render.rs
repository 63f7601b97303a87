//! Presentation of results: the table for people, the JSON array for programs, and the
//! one-line Monitoring Plugins format. Nothing here computes or queries.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use crate::result::{CheckResult, Status};
use vitals_units::format_duration;

fn style(status: Status) -> Style {
    let color = match status {
        Status::Ok => AnsiColor::Green,
        Status::Warning => AnsiColor::Yellow,
        Status::Critical => AnsiColor::Red,
        Status::Unknown => AnsiColor::Magenta,
    };
    Style::new().fg_color(Some(color.into())).bold()
}

/// An aligned table: status, check, duration, summary; a count line at the end. Colour
/// codes are written always; `anstream` strips them when stdout is not a terminal or
/// `NO_COLOR` is set.
pub fn table(out: &mut impl Write, results: &[CheckResult]) -> io::Result<()> {
    let name_width = results.iter().map(|r| r.check.chars().count()).max().unwrap_or(5).max(5);
    writeln!(out, "{:<8}  {:<name_width$}  {:>9}  SUMMARY", "STATUS", "CHECK", "DURATION")?;
    for r in results {
        let s = style(r.status);
        let status = r.status.as_plugin_word();
        writeln!(
            out,
            "{s}{status:<8}{s:#}  {:<name_width$}  {:>9}  {}",
            r.check,
            format_duration(r.duration),
            r.summary
        )?;
    }
    let mut counts = Vec::new();
    for status in Status::ALL {
        let n = results.iter().filter(|r| r.status == status).count();
        if n > 0 {
            counts.push(format!("{n} {status}"));
        }
    }
    writeln!(out, "\n{}: {}", count(results.len(), "check"), counts.join(", "))
}

/// `1 check`, `2 checks`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// `text` wrapped at `width` columns, each line prefixed with `indent`.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            out.push_str(indent);
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(indent);
        out.push_str(&line);
    }
    out
}

/// A JSON array of result objects (documented in docs/output.md).
pub fn json(out: &mut impl Write, results: &[CheckResult]) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, results).map_err(io::Error::other)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::Metric;
    use std::time::Duration;

    fn result(status: Status) -> CheckResult {
        CheckResult {
            check: "web".into(),
            plugin: "http".into(),
            plugin_version: "0.1.0".into(),
            target: "http://127.0.0.1/".into(),
            started_at_ms: 0,
            duration: Duration::from_millis(3),
            status,
            summary: "200 OK | fine".into(),
            reason: None,
            metrics: vec![Metric {
                name: "time_total".into(),
                value: 3.2,
                unit: "ms".into(),
                warn: Some("500".into()),
                crit: None,
                min: Some(0.0),
                max: None,
            }],
            details: None,
            state: None,
        }
    }

    #[test]
    fn plugin_line_has_word_summary_and_perfdata() {
        assert_eq!(result(Status::Ok).plugin_line("http"), "HTTP OK - 200 OK / fine | time_total=3.2ms;500;;0");
    }

    #[test]
    fn table_lists_every_check_and_counts_statuses() {
        let mut out = Vec::new();
        table(&mut out, &[result(Status::Ok), result(Status::Critical)]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("STATUS"), "{text}");
        assert!(text.contains("2 checks: 1 ok, 1 critical"), "{text}");
    }

    #[test]
    fn wrap_keeps_lines_within_the_width() {
        let text = wrap("one two three four five six", 9, "  ");
        assert_eq!(text, "  one two\n  three\n  four five\n  six");
    }
}
