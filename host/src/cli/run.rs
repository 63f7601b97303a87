//! `vitals run --once`: run every selected check once, concurrently, store the results
//! in one transaction, print them, and exit with the worst status.

use super::context::{self, Failure};
use super::render;
use super::{Cli, Format, RunArgs};
use crate::result::worst_status;
use crate::schedule;

/// Runs the command.
pub async fn run(cli: &Cli, args: &RunArgs) -> Result<u8, Failure> {
    if !args.once {
        return Err(Failure::usage(
            "the long-running scheduler is not available in this version; use `vitals run --once` (from cron or CI)",
        ));
    }
    let plan = context::load_plan(cli)?;
    let runtime = context::runtime(cli)?;
    let prepared = context::prepare(&runtime, &plan, &args.tags).await?;
    // Open the store before running anything (a locked or corrupt database must not
    // cost a run's worth of checks) but after validation (a bad config creates nothing).
    let mut store = context::open_store(cli)?;
    let results = schedule::run_once(&runtime, &prepared, usize::from(args.concurrency), &|r| {
        tracing::info!(check = %r.check, status = %r.status, "{}", r.summary);
    })
    .await;
    store
        .write_run(&results, &[])
        .map_err(|e| Failure::store(format!("{e}\nthe results of this run were not stored")))?;
    let mut out = anstream::stdout();
    let printed = match args.format {
        Format::Json => render::json(&mut out, &results),
        Format::Table => render::table(&mut out, &results),
    };
    printed.map_err(|e| Failure::internal(format!("cannot write the results to stdout: {e}")))?;
    Ok(worst_status(&results).exit_code())
}
