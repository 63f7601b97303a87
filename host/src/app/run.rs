//! Running checks once (`run --once`, `check`, `gate`): through the same scheduler as the
//! daemon, with states carried on from the store's history, results and events written
//! in one transaction, then the store's housekeeping.

use std::collections::HashMap;
use std::sync::Arc;

use super::Failure;
use super::sinks::Collect;
use crate::plan::Plan;
use crate::result::CheckResult;
use crate::result::state::{CheckState, FLAP_HISTORY};
use crate::runtime::Runtime;
use crate::schedule::scheduler::Settings;
use crate::schedule::{Clock, Prepared, SandboxExecutor, Scheduler, wall_clock_ms};
use crate::store::{Observation, ResultStore};

/// Runs `prepared` once through the scheduler, with states carried on from the store's
/// history, and writes results and events in one transaction. Returns the results in
/// config order.
pub async fn run_once(
    runtime: &Arc<Runtime>,
    prepared: Vec<Prepared>,
    max_per_host: usize,
    concurrency: usize,
    store: &mut dyn ResultStore,
    mut sink: Collect,
) -> Result<Vec<CheckResult>, Failure> {
    let states = history_states(&prepared, store);
    let settings = Settings {
        max_per_host,
        concurrency,
        clock: Clock::system(),
        executor: Arc::new(SandboxExecutor(Arc::clone(runtime))),
        observer: None,
    };
    let (results, _) = Scheduler::new(prepared, states, settings).run_once(&mut sink).await;
    store
        .write_run(&sink.results, &sink.events)
        .map_err(|e| Failure::store(format!("{e}\nthe results of this run were not stored")))?;
    Ok(results)
}

/// Seals finished hours and prunes old raw results after a run. The results are stored
/// by then, so a failure here only costs time: it is logged and retried next run.
pub fn housekeeping(store: &mut dyn ResultStore, plan: &Plan) {
    if let Err(e) =
        super::housekeeping::run(store, &super::housekeeping::cadences(plan), plan.retention, wall_clock_ms())
    {
        tracing::warn!(error = %e, "store housekeeping failed; it is retried on the next run");
    }
}

/// Each check's state rebuilt from its last results in the store, so that a restart, or
/// the next `run --once` from cron, carries on where the last one ended. One read for
/// every check (a check without history starts afresh).
pub fn history_states(prepared: &[Prepared], store: &dyn ResultStore) -> HashMap<String, CheckState> {
    // Enough results to rebuild flapping and a recovery still being counted, for the check
    // that needs the most.
    let needed = |p: &Prepared| {
        let policy = p.check.timing.policy;
        FLAP_HISTORY.max((policy.recover_after + policy.retries + 1) as usize)
    };
    let most = prepared.iter().map(needed).max().unwrap_or(FLAP_HISTORY);
    let names: Vec<&str> = prepared.iter().map(|p| p.check.name.as_str()).collect();
    let mut history = store.recent_observations(&names, most).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "cannot read the checks' history; their states start afresh");
        HashMap::new()
    });
    prepared
        .iter()
        .map(|p| {
            let seen = history.remove(&p.check.name).unwrap_or_default();
            let from = seen.len().saturating_sub(needed(p));
            (p.check.name.clone(), replay(&seen[from..], &p.check.timing.policy))
        })
        .collect()
}

/// The state a check is in after `history` (oldest first).
fn replay(history: &[Observation], policy: &crate::plan::StatePolicy) -> CheckState {
    let mut state = CheckState::new();
    for seen in history {
        state.observe(seen.status, seen.started_at_ms, policy);
    }
    state
}
