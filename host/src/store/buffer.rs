//! A shared store with a local buffer: a runner that cannot reach its PostgreSQL store
//! keeps its results in an embedded SQLite file and hands them on, oldest first, once the
//! server is back. The shared store ignores a result it already holds (results are keyed by
//! check and start), so a batch handed on twice, because the runner stopped between writing
//! it and forgetting it, is stored once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::sqlite::SqliteStore;
use super::{ChangeKind, HourRollup, Membership, Observation, PackedHour, ResultStore, RunnerInfo, StoreError};
use crate::result::{CheckResult, EventRecord};

/// Results the buffer holds at most (about 1 GiB of disk at the usual 1 KiB a result): a
/// day of 10,000 checks a minute is 14.4 million. A write past it fails, and the daemon's
/// writer keeps it in memory within its own bound (then counts what it drops).
pub const MAX_BUFFERED_RESULTS: u64 = 1_000_000;

/// Results handed on to the shared store per transaction.
const HAND_ON_BATCH: usize = 5_000;

/// The first wait after the shared store failed before it is tried again; it doubles up to
/// [`MAX_BACKOFF`] while the store stays unreachable.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// The longest wait between two tries of an unreachable shared store.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A shared store whose writes fall back to a local SQLite buffer while it is unreachable.
/// Reads and membership go to the shared store.
pub struct Buffered {
    shared: Box<dyn ResultStore>,
    buffer: SqliteStore,
    path: PathBuf,
    limit: u64,
    /// Results in the buffer.
    held: u64,
    /// When the shared store may be tried again, after a failure.
    retry_at: Option<Instant>,
    backoff: Duration,
}

impl Buffered {
    /// Wraps `shared` with the buffer file at `path` (created if needed), holding at most
    /// `limit` results. Results a previous process left in the buffer are handed on first.
    pub fn new(shared: Box<dyn ResultStore>, path: &Path, limit: u64) -> Result<Buffered, StoreError> {
        let buffer = SqliteStore::open(path)?;
        let held = buffer.result_count()?;
        if held > 0 {
            tracing::info!(buffer = %path.display(), results = held, "results buffered by an earlier run are handed on");
        }
        Ok(Buffered { shared, buffer, path: path.to_owned(), limit, held, retry_at: None, backoff: FIRST_BACKOFF })
    }

    /// Whether the shared store may be tried now.
    fn may_try(&self) -> bool {
        self.retry_at.is_none_or(|at| Instant::now() >= at)
    }

    /// Notes a failure to reach the shared store: wait before the next try.
    fn failed(&mut self, e: &StoreError) {
        if self.retry_at.is_none() {
            tracing::warn!(error = %e, buffer = %self.path.display(), "the shared store is unreachable; results are buffered on local disk");
        }
        self.retry_at = Some(Instant::now() + self.backoff);
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
    }

    /// Hands the buffer on to the shared store, oldest first, until it is empty or the store
    /// fails. Each batch is forgotten only once the shared store has it.
    fn hand_on(&mut self) -> Result<(), StoreError> {
        while self.held > 0 {
            let pending = self.buffer.oldest(HAND_ON_BATCH)?;
            if pending.results.is_empty() && pending.events.is_empty() {
                self.held = 0;
                break;
            }
            match self.shared.write_run(&pending.results, &pending.events) {
                Ok(()) => {}
                // Data the buffer took and the shared store refuses (a NUL byte in a text,
                // say) must not hold up everything behind it: that batch goes one by one.
                Err(e) if e.is_about_the_data() => self.hand_on_one_by_one(&pending.results, &pending.events)?,
                Err(e) => return Err(e),
            }
            self.buffer.forget(&pending)?;
            self.held = self.held.saturating_sub(pending.results.len() as u64);
            if pending.results.len() < HAND_ON_BATCH {
                self.held = self.buffer.result_count()?;
            }
        }
        if self.retry_at.take().is_some() {
            tracing::info!(buffer = %self.path.display(), "the shared store is back; the buffered results are stored");
        }
        self.backoff = FIRST_BACKOFF;
        Ok(())
    }

    /// Hands on `results` and `events` one at a time, leaving out (logged) each that the
    /// shared store refuses for its data; fails on an error about the store itself.
    fn hand_on_one_by_one(&mut self, results: &[CheckResult], events: &[EventRecord]) -> Result<(), StoreError> {
        let writes = results
            .iter()
            .map(|r| (std::slice::from_ref(r), &[][..]))
            .chain(events.iter().map(|e| (&[][..], std::slice::from_ref(e))));
        for (results, events) in writes {
            match self.shared.write_run(results, events) {
                Ok(()) => {}
                Err(e) if e.is_about_the_data() => {
                    let check = results.first().map(|r| &r.check).or(events.first().map(|e| &e.check));
                    tracing::error!(
                        check = check.map_or("", String::as_str),
                        buffer = %self.path.display(),
                        error = %e,
                        "the shared store refused a buffered result or event; it is left out"
                    );
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Keeps a write in the buffer, within its bound.
    fn hold(&mut self, results: &[CheckResult], events: &[EventRecord]) -> Result<(), StoreError> {
        if self.held + results.len() as u64 > self.limit {
            // Not about the data: the writer keeps the results and tries again later.
            return Err(StoreError::Unreachable {
                path: self.path.clone(),
                reason: format!(
                    "the shared store is unreachable and this local buffer is full ({} results)",
                    self.held
                ),
            });
        }
        self.buffer.write_run(results, events)?;
        self.held += results.len() as u64;
        Ok(())
    }
}

impl ResultStore for Buffered {
    fn write_run(&mut self, results: &[CheckResult], events: &[EventRecord]) -> Result<(), StoreError> {
        if results.is_empty() && events.is_empty() {
            return Ok(());
        }
        if self.may_try() {
            let written = match self.hand_on() {
                Ok(()) => self.shared.write_run(results, events),
                Err(e) => Err(e),
            };
            match written {
                Ok(()) => return Ok(()),
                Err(e @ StoreError::Unreachable { .. }) => self.failed(&e),
                Err(e) => return Err(e),
            }
        }
        self.hold(results, events)
    }

    fn window(
        &self,
        check: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<(Option<CheckResult>, Vec<CheckResult>), StoreError> {
        self.shared.window(check, from_ms, to_ms)
    }

    fn window_timings(
        &self,
        check: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<(Option<CheckResult>, Vec<CheckResult>), StoreError> {
        self.shared.window_timings(check, from_ms, to_ms)
    }

    fn events(&self, check: Option<&str>, limit: usize) -> Result<Vec<EventRecord>, StoreError> {
        self.shared.events(check, limit)
    }

    fn recent(&self, check: Option<&str>, limit: usize) -> Result<Vec<CheckResult>, StoreError> {
        self.shared.recent(check, limit)
    }

    fn recent_observations(
        &self,
        checks: &[&str],
        limit: usize,
    ) -> Result<HashMap<String, Vec<Observation>>, StoreError> {
        self.shared.recent_observations(checks, limit)
    }

    fn changes(
        &self,
        check: &str,
        kind: ChangeKind,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<(Option<EventRecord>, Vec<EventRecord>), StoreError> {
        self.shared.changes(check, kind, from_ms, to_ms)
    }

    fn rollups(&self, check: &str, from_ms: i64, to_ms: i64) -> Result<Vec<HourRollup>, StoreError> {
        self.shared.rollups(check, from_ms, to_ms)
    }

    fn unsealed_hours(&self, ended_by_ms: i64) -> Result<Vec<(String, i64)>, StoreError> {
        self.shared.unsealed_hours(ended_by_ms)
    }

    fn seal_hour(&mut self, rollup: &HourRollup, results: &[CheckResult]) -> Result<(), StoreError> {
        self.shared.seal_hour(rollup, results)
    }

    fn seal_packed(&mut self, hours: &[PackedHour]) -> Result<(), StoreError> {
        self.shared.seal_packed(hours)
    }

    fn pending_phase_days(&self, before_ms: i64) -> Result<Vec<(String, i64)>, StoreError> {
        self.shared.pending_phase_days(before_ms)
    }

    fn compact_phases(&mut self, check: &str, day_ms: i64, phases: &[u8]) -> Result<(), StoreError> {
        self.shared.compact_phases(check, day_ms, phases)
    }

    fn daily_phases(&self, check: &str, from_ms: i64, to_ms: i64) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        self.shared.daily_phases(check, from_ms, to_ms)
    }

    fn oldest_sealed_hour(&self, check: &str) -> Result<Option<i64>, StoreError> {
        self.shared.oldest_sealed_hour(check)
    }

    fn prune(&mut self, before_ms: i64, batch: usize) -> Result<usize, StoreError> {
        self.shared.prune(before_ms, batch)
    }

    fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        self.shared.integrity_check()
    }

    fn shared(&self) -> bool {
        self.shared.shared()
    }

    fn heartbeat(&mut self, me: &RunnerInfo) -> Result<Membership, StoreError> {
        self.shared.heartbeat(me)
    }

    fn runners(&self) -> Result<Membership, StoreError> {
        self.shared.runners()
    }

    fn leave(&mut self, id: &str) -> Result<(), StoreError> {
        self.shared.leave(id)
    }
}

#[cfg(test)]
#[path = "buffer_tests.rs"]
mod tests;
