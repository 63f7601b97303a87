//! When checks run: schedule timing (interval or cron), the scheduler loop with its
//! limits, and the state machine that turns results into soft/hard states and events.
//! `run --once` is the same loop with every check due now.

mod prepare;
pub mod scheduler;
pub mod state;
pub mod timing;

#[cfg(test)]
mod scheduler_tests;

use std::collections::HashMap;

pub use prepare::{Prepared, prepare};

use crate::result::CheckResult;
use state::CheckState;

/// Each check's state rebuilt from its stored history (oldest result first), so that
/// a restart, or the next `run --once` from cron, carries on where the last one ended.
pub fn replay_states(checks: &[Prepared], history: impl Fn(&str) -> Vec<CheckResult>) -> HashMap<String, CheckState> {
    checks
        .iter()
        .map(|p| {
            let mut state = CheckState::new();
            let policy = p.check.timing.policy;
            for result in history(&p.check.name) {
                state.observe(result.status, result.started_at_ms, &policy);
            }
            (p.check.name.clone(), state)
        })
        .collect()
}
