//! `vitals gate` as an application: bind the conditions, run the checks they need
//! (stored as `run --once` stores them), assess every condition on those runs and on the
//! stored history, and with a deadline try again with backoff until they hold.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::context::{Context, notifiers};
use super::notify::NotifyHandle;
use super::run::run_once;
use super::sinks::Collect;
use super::{Failure, prepare};
use crate::gate::{self, LoadErrors, Verdict};
use crate::plan::Plan;
use crate::result::CheckResult;
use crate::runtime::Runtime;
use crate::schedule::{Prepared, wall_clock_ms};
use crate::store::ResultStore;

/// The first pause between attempts; each next one is twice as long.
const FIRST_PAUSE: Duration = Duration::from_secs(1);
/// The longest pause between attempts: a service that comes up is noticed within it.
const MAX_PAUSE: Duration = Duration::from_secs(30);
/// How long the gate waits for notifiers to deliver its runs' state changes.
const NOTIFY_GRACE: Duration = Duration::from_secs(30);

/// How the gate runs (the flags of `vitals gate`).
#[derive(Debug, Clone)]
pub struct GateOptions {
    /// Conditions from the command line, added to the config's `[gate]` ones.
    pub conditions: Vec<String>,
    /// Runs of each needed check per attempt.
    pub runs: u32,
    /// The pause between those runs.
    pub spacing: Duration,
    /// Try again until every condition holds or this much time has passed.
    pub wait_for_healthy: Option<Duration>,
    /// Most runs at once.
    pub concurrency: usize,
}

/// Told between attempts: the verdict so far, the pause before the next attempt, and
/// the time left.
pub type OnRetry<'a> = &'a dyn Fn(&Verdict, Duration, Duration);

/// Evaluates the gate; `Ok` carries the verdict, passed or not.
pub async fn evaluate(context: &Context, options: &GateOptions, on_retry: OnRetry<'_>) -> Result<Verdict, Failure> {
    let plan = context.load_plan()?;
    let bound = gate::load(&plan, &options.conditions).map_err(load_failure)?;
    if bound.is_empty() {
        return Err(Failure::usage(format!(
            "no gate conditions: add a [gate] table with conditions = [\"status(*) == ok\"] to {}, or pass \
             --condition \"status(*) == ok\" (docs/ci.md)",
            context.config.display()
        )));
    }
    let runtime = context.runtime()?;
    let needed = plan.checks.iter().filter(|c| bound.iter().any(|b| b.needs_runs() && b.checks.contains(&c.name)));
    let prepared = prepare(&runtime, &plan, needed).await?;
    let notifiers = notifiers(&runtime, &plan, &prepared).await?;
    let mut store = context.open_store()?;
    let deadline = options.wait_for_healthy.map(|timeout| Instant::now() + timeout);
    let mut pause = FIRST_PAUSE;
    let mut attempts = 0;
    let verdict = loop {
        attempts += 1;
        let runs = runs(&runtime, &prepared, &plan, options, &mut *store, notifiers.as_ref()).await?;
        let conditions =
            gate::assess(&bound, &plan, &runs, &*store, wall_clock_ms()).map_err(|e| Failure::store(e.to_string()))?;
        let verdict = Verdict { conditions, attempts };
        let Some(deadline) = deadline else { break verdict };
        let left = deadline.saturating_duration_since(Instant::now());
        if verdict.passed() || left.is_zero() {
            break verdict;
        }
        // Never sleep past the deadline: the last attempt is made at it.
        let wait = pause.min(left);
        on_retry(&verdict, wait, left);
        tokio::time::sleep(wait).await;
        pause = (pause * 2).min(MAX_PAUSE);
    };
    if let Some(notifiers) = notifiers {
        notifiers.finish(NOTIFY_GRACE).await;
    }
    Ok(verdict)
}

/// One attempt's runs: every needed check `runs` times, `spacing` apart, each round
/// stored as `run --once` stores it.
async fn runs(
    runtime: &Arc<Runtime>,
    prepared: &[Prepared],
    plan: &Plan,
    options: &GateOptions,
    store: &mut dyn ResultStore,
    notifiers: Option<&NotifyHandle>,
) -> Result<Vec<CheckResult>, Failure> {
    let mut all = Vec::new();
    if prepared.is_empty() {
        return Ok(all);
    }
    for round in 0..options.runs {
        if round > 0 {
            tokio::time::sleep(options.spacing).await;
        }
        let sink = Collect { notify: notifiers.map(NotifyHandle::sender), ..Collect::default() };
        let max_per_host = plan.max_per_host;
        all.extend(run_once(runtime, prepared.to_vec(), max_per_host, options.concurrency, store, sink).await?);
    }
    Ok(all)
}

/// Configuration errors when any condition of checks.toml is wrong, else usage errors
/// for the `--condition` ones; every error is shown.
fn load_failure(errors: LoadErrors) -> Failure {
    let in_config = !errors.config.is_empty();
    let mut parts: Vec<String> = errors.config.iter().map(ToString::to_string).collect();
    parts.extend(errors.command_line);
    let text = parts.join("\n\n");
    if in_config { Failure::config(text) } else { Failure::usage(text) }
}
