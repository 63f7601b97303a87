//! The local buffer against a shared store that goes away, comes back, refuses a result
//! for its data, or stays away until the buffer is full.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::*;
use crate::result::Status;
use crate::store::fixtures_tests::{events, newest_first, result};
use crate::store::sqlite::SqliteStore;

/// An SQLite store standing in for the shared one: unreachable while `down` is set, and
/// refusing for its data every write holding a result whose summary is `refused`.
struct Flaky {
    inner: SqliteStore,
    down: Arc<AtomicBool>,
    refused: Arc<Mutex<Option<String>>>,
}

impl ResultStore for Flaky {
    fn write_run(&mut self, results: &[CheckResult], events: &[EventRecord]) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Unreachable { path: "pg".into(), reason: "connection refused".into() });
        }
        let refused = self.refused.lock().unwrap().clone();
        if results.iter().any(|r| Some(&r.summary) == refused.as_ref()) {
            return Err(StoreError::Rejected { path: "pg".into(), detail: "invalid byte sequence".into() });
        }
        self.inner.write_run(results, events)
    }
    fn window(&self, c: &str, f: i64, t: i64) -> Result<(Option<CheckResult>, Vec<CheckResult>), StoreError> {
        self.inner.window(c, f, t)
    }
    fn events(&self, c: Option<&str>, limit: usize) -> Result<Vec<EventRecord>, StoreError> {
        self.inner.events(c, limit)
    }
    fn recent(&self, c: Option<&str>, limit: usize) -> Result<Vec<CheckResult>, StoreError> {
        self.inner.recent(c, limit)
    }
    fn changes(
        &self,
        c: &str,
        k: ChangeKind,
        f: i64,
        t: i64,
    ) -> Result<(Option<EventRecord>, Vec<EventRecord>), StoreError> {
        self.inner.changes(c, k, f, t)
    }
    fn rollups(&self, c: &str, f: i64, t: i64) -> Result<Vec<HourRollup>, StoreError> {
        self.inner.rollups(c, f, t)
    }
    fn unsealed_hours(&self, by: i64) -> Result<Vec<(String, i64)>, StoreError> {
        self.inner.unsealed_hours(by)
    }
    fn seal_hour(&mut self, rollup: &HourRollup, results: &[CheckResult]) -> Result<(), StoreError> {
        self.inner.seal_hour(rollup, results)
    }
    fn pending_phase_days(&self, before: i64) -> Result<Vec<(String, i64)>, StoreError> {
        self.inner.pending_phase_days(before)
    }
    fn compact_phases(&mut self, c: &str, day: i64, phases: &[u8]) -> Result<(), StoreError> {
        self.inner.compact_phases(c, day, phases)
    }
    fn daily_phases(&self, c: &str, f: i64, t: i64) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        self.inner.daily_phases(c, f, t)
    }
    fn oldest_sealed_hour(&self, c: &str) -> Result<Option<i64>, StoreError> {
        self.inner.oldest_sealed_hour(c)
    }
    fn prune(&mut self, before: i64, batch: usize) -> Result<usize, StoreError> {
        self.inner.prune(before, batch)
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    store: Buffered,
    down: Arc<AtomicBool>,
    refused: Arc<Mutex<Option<String>>>,
}

fn setup(limit: u64) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let down = Arc::new(AtomicBool::new(false));
    let refused = Arc::new(Mutex::new(None));
    let shared = Flaky {
        inner: SqliteStore::open(&dir.path().join("shared.db")).unwrap(),
        down: Arc::clone(&down),
        refused: Arc::clone(&refused),
    };
    let store = Buffered::new(Box::new(shared), &dir.path().join("buffer.db"), limit).unwrap();
    Setup { _dir: dir, store, down, refused }
}

/// Waits out the buffer's first backoff, so the next write tries the shared store.
fn past_backoff() {
    std::thread::sleep(FIRST_BACKOFF + Duration::from_millis(100));
}

#[test]
fn writes_while_the_shared_store_is_away_are_handed_on_in_order_once_it_is_back() {
    let mut s = setup(1_000);
    let first: Vec<CheckResult> = (0..3).map(|i| result("web", i * 1_000, Status::Ok)).collect();
    s.store.write_run(&first, &[]).unwrap();
    s.down.store(true, Ordering::SeqCst);
    let away: Vec<CheckResult> = (3..8).map(|i| result("web", i * 1_000, Status::Critical)).collect();
    s.store.write_run(&away[..2], &events()).unwrap();
    s.store.write_run(&away[2..], &[]).unwrap();
    assert_eq!(s.store.held, 5);
    assert_eq!(s.store.recent(None, 100).unwrap().len(), 3, "nothing reached the shared store meanwhile");
    s.down.store(false, Ordering::SeqCst);
    past_backoff();
    let back = [result("web", 8_000, Status::Ok)];
    s.store.write_run(&back, &[]).unwrap();
    assert_eq!(s.store.held, 0);
    let mut all = first.clone();
    all.extend(away.iter().cloned());
    all.extend(back.iter().cloned());
    assert_eq!(s.store.recent(None, 100).unwrap(), newest_first(all), "every result, once");
    assert_eq!(s.store.events(None, 10).unwrap().len(), 3);
    // A batch handed on again (the runner stopped before forgetting it) is stored once.
    assert_eq!(s.store.buffer.result_count().unwrap(), 0);
}

#[test]
fn a_buffered_result_the_shared_store_refuses_does_not_hold_up_the_others() {
    let mut s = setup(1_000);
    s.down.store(true, Ordering::SeqCst);
    let mut away: Vec<CheckResult> = (0..4).map(|i| result("web", i * 1_000, Status::Ok)).collect();
    away[1].summary = "NUL\0inside".into();
    s.store.write_run(&away, &[]).unwrap();
    *s.refused.lock().unwrap() = Some("NUL\0inside".into());
    s.down.store(false, Ordering::SeqCst);
    past_backoff();
    s.store.write_run(&[result("web", 9_000, Status::Ok)], &[]).unwrap();
    assert_eq!(s.store.held, 0);
    let stored: Vec<i64> = s.store.recent(None, 100).unwrap().iter().map(|r| r.started_at_ms).collect();
    assert_eq!(stored, [9_000, 3_000, 2_000, 0], "all but the refused one");
}

#[test]
fn a_full_buffer_is_no_fault_of_the_data() {
    let mut s = setup(3);
    s.down.store(true, Ordering::SeqCst);
    s.store.write_run(&[result("a", 1, Status::Ok), result("b", 1, Status::Ok)], &[]).unwrap();
    let e = s.store.write_run(&[result("c", 1, Status::Ok), result("d", 1, Status::Ok)], &[]).unwrap_err();
    assert!(matches!(e, StoreError::Unreachable { .. }), "{e}");
    assert!(!e.is_about_the_data());
    assert!(e.to_string().contains("local buffer is full (2 results)"), "{e}");
    assert_eq!(s.store.held, 2);
}
