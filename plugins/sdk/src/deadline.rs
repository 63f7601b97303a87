//! The time a check has left.

use std::time::{Duration, Instant};

/// A point in time by which a check must have returned its result, measured with the
/// monotonic clock (which works in `wasm32-wasip2`).
///
/// ```
/// let deadline = vitals_sdk::Deadline::from_ms(10_000);
/// // Give each host call what is left, so the plugin reports its own timeout.
/// assert!(deadline.remaining_ms() <= 9_900 && !deadline.expired());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    start: Instant,
    budget: Duration,
}

impl Deadline {
    /// A deadline `deadline_ms` from now (pass `CheckRequest::deadline_ms`), less a small
    /// reserve (5%, at most 100 ms) for building and returning the result after the last
    /// host call has timed out.
    ///
    /// ```
    /// let deadline = vitals_sdk::Deadline::from_ms(1_000);
    /// assert!(deadline.remaining_ms() <= 950);
    /// ```
    pub fn from_ms(deadline_ms: u32) -> Deadline {
        let reserve = (deadline_ms / 20).min(100);
        Deadline { start: Instant::now(), budget: Duration::from_millis(u64::from(deadline_ms - reserve)) }
    }

    /// Time since the deadline was created.
    ///
    /// ```
    /// let deadline = vitals_sdk::Deadline::from_ms(1_000);
    /// assert!(deadline.elapsed() < std::time::Duration::from_secs(1));
    /// ```
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Time left, zero once the deadline has passed.
    ///
    /// ```
    /// let deadline = vitals_sdk::Deadline::from_ms(2_000);
    /// assert!(deadline.remaining() <= std::time::Duration::from_millis(1_900));
    /// ```
    pub fn remaining(&self) -> Duration {
        self.budget.saturating_sub(self.elapsed())
    }

    /// Whole milliseconds left, for a host call's `timeout-ms`.
    ///
    /// ```
    /// assert_eq!(vitals_sdk::Deadline::from_ms(0).remaining_ms(), 0);
    /// ```
    pub fn remaining_ms(&self) -> u32 {
        u32::try_from(self.remaining().as_millis()).unwrap_or(u32::MAX)
    }

    /// Whether no whole millisecond is left.
    ///
    /// ```
    /// assert!(vitals_sdk::Deadline::from_ms(0).expired());
    /// assert!(!vitals_sdk::Deadline::from_ms(5_000).expired());
    /// ```
    pub fn expired(&self) -> bool {
        self.remaining_ms() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_reserve() {
        let deadline = Deadline::from_ms(10_000);
        assert!(deadline.remaining_ms() <= 9_900);
        assert!(deadline.remaining_ms() > 9_000);
        assert!(!deadline.expired());
        let small = Deadline::from_ms(100);
        assert!(small.remaining_ms() <= 95);
        assert!(Deadline::from_ms(0).expired());
    }
}
