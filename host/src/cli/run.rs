//! `vitals run`: with `--once`, run every selected check once, store the results in one
//! transaction, print them and exit with the worst status; without, run as a daemon.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use super::context::{self, Failure};
use super::sinks::Collect;
use super::{Cli, Format, RunArgs, daemon, render};
use crate::result::worst_status;
use crate::schedule::scheduler::{Clock, SandboxExecutor, Scheduler};
use crate::schedule::{Prepared, replay_states};
use crate::store::ResultStore;

/// How long `run --once` waits for notifiers to deliver the run's state changes.
const NOTIFY_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// More checks than this get a progress bar on a terminal.
const PROGRESS_FROM: usize = 8;

/// How many past results rebuild a check's state (the flapping window).
const HISTORY: usize = crate::schedule::state::FLAP_HISTORY;

/// Runs the command.
pub async fn run(cli: &Cli, args: &RunArgs) -> Result<u8, Failure> {
    if !args.once {
        return daemon::run(cli, args).await;
    }
    let plan = context::load_plan(cli)?;
    let runtime = context::runtime(cli)?;
    let prepared = context::prepare(&runtime, &plan, &args.tags).await?;
    // Open the store before running anything (a locked or corrupt database must not
    // cost a run's worth of checks) but after validation (a bad config creates nothing).
    let notifiers = context::notifiers(&runtime, &plan, &prepared).await?;
    let mut store = context::open_store(cli)?;
    // A progress bar only for a person watching a long run, never in JSON or a pipe.
    let progress = args.format == Format::Table && prepared.len() > PROGRESS_FROM && std::io::stderr().is_terminal();
    let mut sink = if progress { Collect::with_progress(prepared.len()) } else { Collect::default() };
    sink.notify = notifiers.as_ref().map(|n| n.sender());
    let results =
        run_once(&runtime, prepared, plan.max_per_host, usize::from(args.concurrency), &mut *store, sink).await?;
    // The results are stored: sealing and pruning can only cost time, never results.
    if let Err(e) = crate::housekeeping::run(
        &mut *store,
        &crate::housekeeping::cadences(&plan),
        plan.retention,
        crate::schedule::scheduler::wall_clock_ms(),
    ) {
        tracing::warn!(error = %e, "store housekeeping failed; it is retried on the next run");
    }
    // Rendered whole, then written once: thousands of small locked writes to stdout
    // cost more than the checks themselves.
    let mut text = Vec::with_capacity(256 * results.len());
    let written = match args.format {
        Format::Json => render::json(&mut text, &results).and_then(|()| std::io::stdout().write_all(&text)),
        Format::Table => render::table(&mut text, &results).and_then(|()| anstream::stdout().write_all(&text)),
    };
    written.map_err(|e| Failure::internal(format!("cannot write the results to stdout: {e}")))?;
    if let Some(notifiers) = notifiers {
        notifiers.finish(NOTIFY_GRACE).await;
    }
    Ok(worst_status(&results).exit_code())
}

/// Runs `prepared` once through the scheduler, with states carried on from the store's
/// history, and writes results and events in one transaction.
pub async fn run_once(
    runtime: &Arc<crate::runtime::Runtime>,
    prepared: Vec<Prepared>,
    max_per_host: usize,
    concurrency: usize,
    store: &mut dyn ResultStore,
    mut sink: Collect,
) -> Result<Vec<crate::result::CheckResult>, Failure> {
    let states = history_states(&prepared, store);
    let scheduler = Scheduler::new(
        prepared,
        states,
        max_per_host,
        concurrency,
        Clock::system(),
        Arc::new(SandboxExecutor(Arc::clone(runtime))),
        None,
    );
    let (results, _) = scheduler.run_once(&mut sink).await;
    store
        .write_run(&sink.results, &sink.events)
        .map_err(|e| Failure::store(format!("{e}\nthe results of this run were not stored")))?;
    Ok(results)
}

/// Each check's state rebuilt from its last results in the store.
pub fn history_states(
    prepared: &[Prepared],
    store: &dyn ResultStore,
) -> std::collections::HashMap<String, crate::schedule::state::CheckState> {
    replay_states(prepared, |name| {
        // Enough results to rebuild flapping and a recovery still being counted.
        let policy = prepared.iter().find(|p| p.check.name == name).map(|p| p.check.timing.policy);
        let needed = policy.map_or(HISTORY, |p| HISTORY.max((p.recover_after + p.retries + 1) as usize));
        let mut recent = store.recent(Some(name), needed).unwrap_or_else(|e| {
            tracing::warn!(check = name, error = %e, "cannot read this check's history; its state starts afresh");
            Vec::new()
        });
        recent.reverse();
        recent
    })
}
