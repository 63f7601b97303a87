//! How a check's raw results become SOFT and HARD states: retries, recovery and the
//! flapping thresholds. The state machine that applies it is `result::state`.

use serde::Serialize;

/// How a check turns raw results into states: retries before a problem is HARD, oks before
/// a recovery is HARD, and the flapping thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StatePolicy {
    /// Further attempts after the first failure before the state is HARD
    /// (`max_check_attempts = retries + 1`).
    pub retries: u32,
    /// Consecutive ok results needed to turn a HARD problem into HARD ok (0 counts as 1).
    pub recover_after: u32,
    /// Flapping starts when the flap percentage rises above this.
    pub flap_high: f64,
    /// Flapping stops when the flap percentage falls below this.
    pub flap_low: f64,
}

impl Default for StatePolicy {
    fn default() -> Self {
        StatePolicy { retries: 2, recover_after: 1, flap_high: 30.0, flap_low: 25.0 }
    }
}

impl StatePolicy {
    /// The Nagios `max_check_attempts`: the first attempt plus the retries.
    pub fn max_check_attempts(&self) -> u32 {
        self.retries.saturating_add(1)
    }

    /// Consecutive oks needed for a HARD recovery, never less than one.
    pub fn oks_to_recover(&self) -> u32 {
        self.recover_after.max(1)
    }
}
