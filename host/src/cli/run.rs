//! `vitals run`: with `--once`, run every selected check once, store the results in one
//! transaction, print them and exit with the worst status; without, run as a daemon.

use std::io::IsTerminal;

use super::{Cli, Format, RunArgs, exit, render, stdout};
use crate::app::daemon::{self, DaemonOptions, Detail};
use crate::app::run::{housekeeping, run_once};
use crate::app::runners::{Sharing, default_runner_id, for_location};
use crate::app::sinks::Collect;
use crate::app::{Failure, notifiers, prepare_tagged};
use crate::result::worst_status;

/// How long `run --once` waits for notifiers to deliver the run's state changes.
const NOTIFY_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// More checks than this get a progress bar on a terminal.
const PROGRESS_FROM: usize = 8;

/// Runs the command.
pub async fn run(cli: &Cli, args: &RunArgs) -> Result<u8, Failure> {
    let context = cli.context();
    if !args.once {
        let options = DaemonOptions {
            tags: args.tags.clone(),
            concurrency: usize::from(args.concurrency),
            listen: args.listen,
            watch: args.watch,
            grace: args.grace,
            detail: Detail { histograms: args.check_histograms, plugin_metrics: args.plugin_metrics },
            io_threads: args.io_threads.map(usize::from),
            sharing: Sharing {
                id: args.runner_id.clone().unwrap_or_else(default_runner_id),
                location: args.location.clone(),
                heartbeat: args.heartbeat,
                timeout: args.heartbeat_timeout.unwrap_or(args.heartbeat * 3),
            },
            buffer: args.buffer.clone(),
        };
        if options.sharing.timeout <= options.sharing.heartbeat {
            return Err(Failure::usage(format!(
                "--heartbeat-timeout must be longer than --heartbeat ({:?}); three heartbeats is the default",
                options.sharing.heartbeat
            )));
        }
        daemon::run(&context, &options).await?;
        return Ok(exit::OK);
    }
    let plan = context.load_plan()?;
    let runtime = context.runtime()?;
    // A location's series runs here; combining the locations' results is the daemon's work.
    let prepared: Vec<_> = for_location(prepare_tagged(&runtime, &plan, &args.tags).await?, args.location.as_deref())
        .into_iter()
        .filter(|p| !p.check.combines())
        .collect();
    // Open the store before running anything (a locked or corrupt database must not
    // cost a run's worth of checks) but after validation (a bad config creates nothing).
    let notifiers = notifiers(&runtime, &plan, &prepared).await?;
    let mut store = context.open_store()?;
    // A progress bar only for a person watching a long run, never in JSON or a pipe.
    let progress = args.format == Format::Table && prepared.len() > PROGRESS_FROM && std::io::stderr().is_terminal();
    let mut sink = if progress { Collect::with_progress(prepared.len()) } else { Collect::default() };
    sink.notify = notifiers.as_ref().map(|n| n.sender());
    let concurrency = usize::from(args.concurrency);
    runtime.engine().spread_io(args.io_threads.map_or(1, usize::from));
    let results = run_once(&runtime, prepared, plan.max_per_host, concurrency, &mut *store, sink).await?;
    housekeeping(&mut *store, &plan);
    // Rendered whole, then written once: thousands of small locked writes to stdout
    // cost more than the checks themselves.
    let mut text = Vec::with_capacity(256 * results.len());
    let rendered = match args.format {
        Format::Json => render::json(&mut text, &results),
        Format::Table => render::table(&mut text, &results),
    };
    rendered.map_err(|e| Failure::internal(format!("cannot render the results: {e}")))?;
    match args.format {
        Format::Json => stdout::write_plain(&text)?,
        Format::Table => stdout::write(&text)?,
    }
    if let Some(notifiers) = notifiers {
        notifiers.finish(NOTIFY_GRACE).await;
    }
    Ok(worst_status(&results).exit_code())
}
