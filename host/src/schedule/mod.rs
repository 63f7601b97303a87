//! When checks run: the scheduler loop with its global and per-host limits, turning each
//! finished run into states and events and handing them to [`Sink`]s. `run --once` is
//! the same loop with every check due now.

pub mod scheduler;

#[cfg(test)]
mod scheduler_tests;

use std::sync::Arc;

pub use scheduler::{Clock, Control, Executor, SandboxExecutor, Scheduler, SharedStates, Sink, Summary, wall_clock_ms};

use crate::plan::CheckPlan;
use crate::runtime::Plugin;

/// A check with its loaded plugin, ready to run.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The check.
    pub check: Arc<CheckPlan>,
    /// Its plugin.
    pub plugin: Arc<Plugin>,
    /// Its position in the config file, to report results in file order.
    pub index: usize,
}

impl Prepared {
    /// Whether `other` is the same check run by the same plugin build.
    pub fn same_as(&self, other: &Prepared) -> bool {
        Arc::ptr_eq(&self.plugin, &other.plugin) && self.check.same_as(&other.check)
    }
}
