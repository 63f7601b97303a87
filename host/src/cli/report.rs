//! `vitals report`: per-check and per-tag availability, incidents, response-time and
//! phase percentiles, SLO figures and charts over a window, from the stored results and
//! hourly rollups, as a table, Markdown, JSON, CSV or HTML. This file parses the arguments
//! and writes; `report` builds and renders.

use super::{Cli, NoDataArg, ReportArgs, ReportFormat};
use super::{exit, stdout};
use crate::app::Failure;
use crate::plan::CheckPlan;
use crate::report::check::Request;
use crate::report::render::{csv, html, json, markdown, text};
use crate::report::sla::{NoData, Options, Window};
use crate::report::{BuildError, build, raw_results};
use crate::store;

/// Runs the command.
pub fn report(cli: &Cli, args: &ReportArgs) -> Result<u8, Failure> {
    let plan = cli.context().load_plan()?;
    let mut selected: Vec<&CheckPlan> = plan.tagged(&args.tags)?;
    if !args.checks.is_empty() {
        for name in &args.checks {
            plan.check(name)?;
        }
        selected.retain(|c| args.checks.contains(&c.name));
    }
    // A check seen from several locations is reported combined, then per location.
    let series: Vec<Vec<CheckPlan>> =
        selected.iter().map(|c| c.locations.iter().map(|l| c.at_location(l)).collect()).collect();
    let selected: Vec<&CheckPlan> =
        selected.iter().zip(&series).flat_map(|(check, own)| std::iter::once(*check).chain(own)).collect();
    let now_ms = crate::schedule::scheduler::wall_clock_ms();
    let window = window(args, now_ms)?;

    let build_report = || {
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
        let spec = cli.context().store_spec();
        build(&|| store::open(&spec), &selected, &plan.maintenance, &request, now_ms).map_err(|e| match e {
            BuildError::Store(e) => Failure::store(e.to_string()),
            BuildError::WorkerPanicked => Failure::internal(e.to_string()),
        })
    };
    let mut out = Vec::new();
    let rendered = match args.format {
        ReportFormat::Text => text::write(&mut out, &build_report()?),
        ReportFormat::Markdown => markdown::write(&mut out, &build_report()?),
        ReportFormat::Json => json::write(&mut out, &build_report()?),
        ReportFormat::Html => html::write(&mut out, &build_report()?),
        // Raw results, one row each: nothing to compute.
        ReportFormat::Csv => {
            let store = cli.context().open_store()?;
            let results = raw_results(store.as_ref(), &selected, window).map_err(|e| Failure::store(e.to_string()))?;
            csv::write(&mut out, &results)
        }
    };
    rendered.map_err(|e| Failure::internal(format!("cannot render the report: {e}")))?;
    write_out(args, &out)
}

/// The window the arguments ask for: `--from` to `--to`, or `--since` before `--to` or now.
fn window(args: &ReportArgs, now_ms: i64) -> Result<Window, Failure> {
    let since_ms = i64::try_from(args.since.as_millis()).unwrap_or(i64::MAX);
    Ok(match (args.from, args.to) {
        (Some(from), Some(to)) if from < to => Window { from_ms: from, to_ms: to },
        (Some(_), Some(_)) => return Err(Failure::usage("--from must be before --to")),
        (_, Some(to)) => Window { from_ms: to.saturating_sub(since_ms), to_ms: to },
        _ => Window { from_ms: now_ms.saturating_sub(since_ms), to_ms: now_ms },
    })
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
        None if args.format == ReportFormat::Text => stdout::write(text)?,
        None => stdout::write_plain(text)?,
    }
    Ok(exit::OK)
}
