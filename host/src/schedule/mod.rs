//! When checks run. For now `run --once`: every selected check is due at once and runs
//! concurrently under a global limit; the daemon's scheduler will feed the same path.

mod prepare;
pub mod state;
pub mod timing;

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

pub use prepare::{Prepared, prepare};

use crate::result::CheckResult;
use crate::runtime::Runtime;
use crate::runtime::engine::POOL_INSTANCES;

/// Runs every prepared check once, at most `concurrency` at a time, calling `on_done` as
/// each finishes. Results come back in the order of the checks.
pub async fn run_once(
    runtime: &Arc<Runtime>,
    checks: &[Prepared],
    concurrency: usize,
    on_done: &(dyn Fn(&CheckResult) + Sync),
) -> Vec<CheckResult> {
    // The pool holds a fixed number of instances; never ask it for more.
    let permits = Arc::new(Semaphore::new(concurrency.clamp(1, POOL_INSTANCES as usize)));
    let mut tasks = JoinSet::new();
    for (index, prepared) in checks.iter().enumerate() {
        let runtime = Arc::clone(runtime);
        let permits = Arc::clone(&permits);
        let plugin = Arc::clone(&prepared.plugin);
        let check = Arc::clone(&prepared.check);
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (index, runtime.run(&plugin, &check).await)
        });
    }
    let mut results: Vec<Option<CheckResult>> = vec![None; checks.len()];
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, result)) => {
                on_done(&result);
                results[index] = Some(result);
            }
            // A panic in the host while running one check: report it for that check
            // below instead of losing the whole run.
            Err(e) => tracing::error!(error = %e, "a check task failed"),
        }
    }
    results
        .into_iter()
        .zip(checks)
        .map(|(r, p)| r.unwrap_or_else(|| prepare::host_failure(&p.check, &p.plugin)))
        .collect()
}
