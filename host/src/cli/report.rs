//! `vitals report`: per-check availability, incidents and response-time percentiles over
//! a window, from the stored results, as a table or as JSON.

use std::io::Write;

use serde::Serialize;

use super::context::{self, Failure};
use super::{Cli, ReportArgs, ReportFormat};
use crate::config::units::format_duration;
use crate::exit;
use crate::report::cells::{Cells, budget_percent};
use crate::report::check::{CheckReport, check_report};
use crate::report::html;
use crate::report::sla::Window;

/// The version of the JSON report's schema; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Report<'a> {
    schema_version: u32,
    from_ms: i64,
    to_ms: i64,
    checks: &'a [CheckReport],
}

/// Runs the command.
pub fn report(cli: &Cli, args: &ReportArgs) -> Result<u8, Failure> {
    let plan = context::load_plan(cli)?;
    let mut selected: Vec<_> = plan.select(&args.tags).collect();
    if !args.checks.is_empty() {
        if let Some(unknown) = args.checks.iter().find(|n| !plan.checks.iter().any(|c| &c.name == *n)) {
            return Err(Failure::usage(format!("no check is called `{unknown}` in {}", cli.config.display())));
        }
        selected.retain(|c| args.checks.contains(&c.name));
    }
    let store = context::open_store(cli)?;
    let to_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let from_ms = to_ms.saturating_sub(i64::try_from(args.since.as_millis()).unwrap_or(i64::MAX));
    let window = Window { from_ms, to_ms };
    let mut reports = Vec::new();
    let mut raw: Vec<crate::result::CheckResult> = Vec::new();
    for check in selected {
        let (before, results) = store.window(&check.name, from_ms, to_ms).map_err(|e| Failure::store(e.to_string()))?;
        raw.extend(results.iter().filter(|r| window.contains(r.started_at_ms)).cloned());
        reports.push(check_report(
            &check.name,
            &check.timing,
            before.as_ref(),
            &results,
            window,
            args.regression_threshold / 100.0,
        ));
    }
    let mut text = Vec::new();
    let rendered = match args.format {
        ReportFormat::Json => serde_json::to_writer_pretty(
            &mut text,
            &Report { schema_version: SCHEMA_VERSION, from_ms, to_ms, checks: &reports },
        )
        .map_err(std::io::Error::other)
        .and_then(|()| writeln!(text)),
        ReportFormat::Text => table(&mut text, &reports, args.since),
        ReportFormat::Markdown => markdown(&mut text, &reports, args.since),
        ReportFormat::Csv => csv_rows(&mut text, &raw),
        ReportFormat::Html => {
            text.write_all(html::render(&html::HtmlReport { window, generated_ms: to_ms, checks: &reports }).as_bytes())
        }
    };
    rendered.map_err(|e| Failure::internal(format!("cannot render the report: {e}")))?;
    match &args.output {
        Some(path) => std::fs::write(path, &text)
            .map_err(|e| Failure::usage(format!("cannot write the report to {}: {e}", path.display())))?,
        None => std::io::stdout()
            .write_all(&text)
            .map_err(|e| Failure::internal(format!("cannot write the report to stdout: {e}")))?,
    }
    Ok(exit::OK)
}

/// One row per raw result of the window.
fn csv_rows(out: &mut Vec<u8>, results: &[crate::result::CheckResult]) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "check",
        "started_at_ms",
        "duration_ms",
        "status",
        "state",
        "attempt",
        "reason",
        "summary",
        "metrics",
    ])
    .map_err(std::io::Error::other)?;
    for r in results {
        let metrics: Vec<String> = r.metrics.iter().map(|m| format!("{}={}{}", m.name, m.value, m.unit)).collect();
        w.write_record([
            r.check.clone(),
            r.started_at_ms.to_string(),
            format!("{:.3}", r.duration.as_secs_f64() * 1000.0),
            r.status.to_string(),
            r.state.map(|s| s.kind.to_string()).unwrap_or_default(),
            r.state.map(|s| s.attempt.to_string()).unwrap_or_default(),
            r.reason.map(|x| x.to_string()).unwrap_or_default(),
            r.summary.clone(),
            metrics.join(" "),
        ])
        .map_err(std::io::Error::other)?;
    }
    w.flush()
}

/// The same figures as the table, as Markdown.
fn markdown(out: &mut impl Write, reports: &[CheckReport], since: std::time::Duration) -> std::io::Result<()> {
    writeln!(out, "## Vitals report: the last {}\n", format_duration(since))?;
    writeln!(out, "| check | availability (HARD) | ok attempts | incidents | MTTR | p50 | p95 | p99 | trend (p95) |")?;
    writeln!(out, "|---|---|---|---|---|---|---|---|---|")?;
    for r in reports {
        let c = Cells::of(r);
        let trend = format!("{}{}", c.trend, if c.regression { " ⚠ regression" } else { "" });
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.check.replace('|', "/"),
            c.availability,
            c.raw,
            c.incidents,
            c.mttr,
            c.p50,
            c.p95,
            c.p99,
            trend,
        )?;
    }
    writeln!(out, "\nAvailability counts HARD states, weighted by time; time without data is left out.")
}

fn table(out: &mut impl Write, reports: &[CheckReport], since: std::time::Duration) -> std::io::Result<()> {
    writeln!(
        out,
        "Report over the last {} (availability counts HARD states; RAW is ok attempts)\n",
        format_duration(since)
    )?;
    let width = reports.iter().map(|r| r.check.chars().count()).max().unwrap_or(5).max(5);
    writeln!(
        out,
        "{:<width$}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}  RESOLUTION",
        "CHECK", "AVAIL", "RAW", "INCIDENTS", "MTTR", "P50", "P95", "P99"
    )?;
    for r in reports {
        let c = Cells::of(r);
        writeln!(
            out,
            "{:<width$}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}  misses outages < {}",
            r.check,
            c.availability,
            c.raw,
            c.incidents,
            c.mttr,
            c.p50,
            c.p95,
            c.p99,
            format_duration(r.resolution.can_miss_shorter_than),
        )?;
    }
    for r in reports {
        let Some(slo) = &r.slo else { continue };
        let minutes = |ms: i64| format!("{:.1} min", ms as f64 / 60_000.0);
        let firing: Vec<String> = slo
            .alerts
            .iter()
            .filter(|a| a.firing)
            .map(|a| format!("{:?} ({}x)", a.rule.severity, a.rule.threshold))
            .collect();
        writeln!(
            out,
            "\n{}: SLO {:.3}% over {}: error budget {}, {} consumed, {} left ({}); alerts: {}",
            r.check,
            slo.slo.target * 100.0,
            format_duration(slo.slo.window),
            minutes(slo.budget.total_ms),
            minutes(slo.budget.consumed_ms),
            minutes(slo.budget.remaining_ms),
            budget_percent(slo.budget.remaining_percent),
            if firing.is_empty() { "none".to_string() } else { firing.join(", ") },
        )?;
    }
    Ok(())
}
