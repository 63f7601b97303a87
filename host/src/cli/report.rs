//! `vitals report`: per-check and per-tag availability, incidents, response-time and
//! phase percentiles, SLO figures and charts over a window, from the stored results and
//! hourly rollups, as a table, Markdown, JSON or CSV.

use std::io::Write;

use super::exit;
use super::{Cli, NoDataArg, ReportArgs, ReportFormat};
use crate::app::Failure;
use crate::plan::CheckPlan;
use crate::report::cells::{Cells, budget_percent};
use crate::report::check::{CheckReport, Request};
use crate::report::groups::GroupReport;
use crate::report::render::{csv, html, json};
use crate::report::sla::{NoData, Options, Window};
use crate::report::{BuildError, build, raw_results};
use crate::store;
use vitals_units::format_duration;

/// Runs the command.
pub fn report(cli: &Cli, args: &ReportArgs) -> Result<u8, Failure> {
    let plan = cli.context().load_plan()?;
    let mut selected: Vec<&CheckPlan> = plan.select(&args.tags).collect();
    if !args.checks.is_empty() {
        if let Some(unknown) = args.checks.iter().find(|n| !plan.checks.iter().any(|c| &c.name == *n)) {
            return Err(Failure::usage(format!("no check is called `{unknown}` in {}", cli.config.display())));
        }
        selected.retain(|c| args.checks.contains(&c.name));
    }
    let now_ms = crate::schedule::scheduler::wall_clock_ms();
    let since_ms = i64::try_from(args.since.as_millis()).unwrap_or(i64::MAX);
    let window = match (args.from, args.to) {
        (Some(from), Some(to)) if from < to => Window { from_ms: from, to_ms: to },
        (Some(_), Some(_)) => return Err(Failure::usage("--from must be before --to")),
        (_, Some(to)) => Window { from_ms: to.saturating_sub(since_ms), to_ms: to },
        _ => Window { from_ms: now_ms.saturating_sub(since_ms), to_ms: now_ms },
    };
    let request = Request {
        window,
        options: Options {
            no_data: match args.no_data_as {
                NoDataArg::Excluded => NoData::Exclude,
                NoDataArg::Down => NoData::AsDown,
            },
            ..Options::default()
        },
        regression_threshold: args.regression_threshold / 100.0,
        exact: args.exact,
    };
    if args.format == ReportFormat::Csv {
        let store = cli.context().open_store()?;
        let results = raw_results(store.as_ref(), &selected, window).map_err(|e| Failure::store(e.to_string()))?;
        let mut text = Vec::new();
        csv::write(&mut text, &results).map_err(|e| Failure::internal(format!("cannot render the report: {e}")))?;
        return write_out(args, &text);
    }
    let db = cli.context().db_path();
    let report = build(&|| store::open(&db), &selected, &plan.maintenance, &request, now_ms).map_err(|e| match e {
        BuildError::Store(e) => Failure::store(e.to_string()),
        BuildError::WorkerPanicked => Failure::internal(e.to_string()),
    })?;

    let mut text = Vec::new();
    let rendered = match args.format {
        ReportFormat::Json => json::write(&mut text, &report),
        ReportFormat::Text => table(&mut text, &report.checks, &report.groups, window),
        ReportFormat::Markdown => markdown(&mut text, &report.checks, &report.groups, window),
        ReportFormat::Html => html::write(&mut text, &report),
        ReportFormat::Csv => Ok(()),
    };
    rendered.map_err(|e| Failure::internal(format!("cannot render the report: {e}")))?;
    write_out(args, &text)
}

/// Writes the report. The text table carries colour codes, which `anstream` keeps only on
/// a terminal without `NO_COLOR`, and which a file never gets.
fn write_out(args: &ReportArgs, text: &[u8]) -> Result<u8, Failure> {
    match &args.output {
        Some(path) => {
            let plain: Vec<u8> = if args.format == ReportFormat::Text {
                anstream::adapter::strip_bytes(text).into_vec()
            } else {
                text.to_vec()
            };
            std::fs::write(path, plain)
                .map_err(|e| Failure::usage(format!("cannot write the report to {}: {e}", path.display())))?
        }
        None if args.format == ReportFormat::Text => anstream::stdout()
            .write_all(text)
            .map_err(|e| Failure::internal(format!("cannot write the report to stdout: {e}")))?,
        None => std::io::stdout()
            .write_all(text)
            .map_err(|e| Failure::internal(format!("cannot write the report to stdout: {e}")))?,
    }
    Ok(exit::OK)
}

/// Green when availability meets the check's objective (99.9 % without one), yellow within
/// ten times its error budget, red below, none without data.
fn availability_style(r: &CheckReport) -> anstyle::Style {
    let target = r.slo.as_ref().map_or(0.999, |s| s.slo.target);
    let color = match r.availability.ratio {
        None => return anstyle::Style::new(),
        Some(a) if a >= target => anstyle::AnsiColor::Green,
        Some(a) if 1.0 - a <= 10.0 * (1.0 - target) => anstyle::AnsiColor::Yellow,
        Some(_) => anstyle::AnsiColor::Red,
    };
    anstyle::Style::new().fg_color(Some(color.into()))
}

/// The same figures as the table, as Markdown.
fn markdown(
    out: &mut impl Write,
    reports: &[CheckReport],
    groups: &[GroupReport],
    window: Window,
) -> std::io::Result<()> {
    writeln!(out, "## Vitals report: {}\n", describe(window))?;
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
    if !groups.is_empty() {
        writeln!(out, "\n### By tag\n")?;
        writeln!(out, "| tag | checks | availability (HARD) | ok attempts | incidents | p50 | p95 | p99 |")?;
        writeln!(out, "|---|---|---|---|---|---|---|---|")?;
        for g in groups {
            let c = Cells::figures(&g.availability, g.incidents, g.response_time.as_ref());
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                g.tag.replace('|', "/"),
                g.checks.len(),
                c.availability,
                c.raw,
                g.incidents,
                c.p50,
                c.p95,
                c.p99
            )?;
        }
    }
    writeln!(out, "\nAvailability counts HARD states, weighted by time; time without data is left out.")
}

/// The window in words: "the last 30d (2026-10-31 09:00 to 2026-11-30 09:00 UTC)".
fn describe(window: Window) -> String {
    let at = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map_or_else(|| ms.to_string(), |t| t.format("%Y-%m-%d %H:%M").to_string())
    };
    let len = std::time::Duration::from_millis(u64::try_from(window.len_ms()).unwrap_or(0));
    format!("{} from {} to {} UTC", format_duration(len), at(window.from_ms), at(window.to_ms))
}

fn table(out: &mut impl Write, reports: &[CheckReport], groups: &[GroupReport], window: Window) -> std::io::Result<()> {
    writeln!(out, "Report over {} (availability counts HARD states; RAW is ok attempts)\n", describe(window))?;
    let width = reports.iter().map(|r| r.check.chars().count()).max().unwrap_or(5).max(5);
    writeln!(
        out,
        "{:<width$}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}  RESOLUTION",
        "CHECK", "AVAIL", "RAW", "INCIDENTS", "MTTR", "P50", "P95", "P99"
    )?;
    for r in reports {
        let c = Cells::of(r);
        let s = availability_style(r);
        writeln!(
            out,
            "{:<width$}  {s}{:>9}{s:#}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}  misses outages < {}",
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
    if !groups.is_empty() {
        let width = groups.iter().map(|g| g.tag.chars().count()).max().unwrap_or(3).max(3);
        writeln!(
            out,
            "\n{:<width$}  {:>6}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}",
            "TAG", "CHECKS", "AVAIL", "RAW", "INCIDENTS", "P50", "P95", "P99"
        )?;
        for g in groups {
            let c = Cells::figures(&g.availability, g.incidents, g.response_time.as_ref());
            writeln!(
                out,
                "{:<width$}  {:>6}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}",
                g.tag,
                g.checks.len(),
                c.availability,
                c.raw,
                c.incidents,
                c.p50,
                c.p95,
                c.p99
            )?;
        }
    }
    for r in reports {
        if r.phases.is_empty() {
            continue;
        }
        let phases: Vec<String> = r
            .phases
            .iter()
            .map(|(name, s)| {
                format!(
                    "{} p50 {} p95 {}",
                    name.trim_start_matches("time_"),
                    format_duration(s.p50),
                    format_duration(s.p95)
                )
            })
            .collect();
        writeln!(out, "\n{}: {}", r.check, phases.join(", "))?;
    }
    for r in reports {
        if r.availability.maintenance_ms > 0 {
            writeln!(
                out,
                "\n{}: {} of maintenance left out ({} window{})",
                r.check,
                format_duration(std::time::Duration::from_millis(
                    u64::try_from(r.availability.maintenance_ms).unwrap_or(0)
                )),
                r.maintenance.len(),
                if r.maintenance.len() == 1 { "" } else { "s" },
            )?;
        }
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
            if slo.slo.calendar_month { "the calendar month".to_string() } else { format_duration(slo.slo.window) },
            minutes(slo.budget.total_ms),
            minutes(slo.budget.consumed_ms),
            minutes(slo.budget.remaining_ms),
            budget_percent(slo.budget.remaining_percent),
            if firing.is_empty() { "none".to_string() } else { firing.join(", ") },
        )?;
    }
    Ok(())
}
