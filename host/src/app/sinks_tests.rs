//! The daemon's writer against stores that fail: one that refuses particular results, as
//! SQLite refuses a value too big, and one that fails every write, as a full disk does.

use std::path::PathBuf;

use super::*;
use crate::result::fixture::result;
use crate::result::state::Event;
use crate::store::{ChangeKind, HourRollup, NullStore};

/// What a [`FakeStore`] was given: the results and events it kept, and the number of
/// results in each write it was asked for, refused or not.
#[derive(Default)]
struct Kept {
    results: Vec<CheckResult>,
    events: Vec<EventRecord>,
    writes: Vec<usize>,
}

/// How a [`FakeStore`] answers one write, given the write's results.
type Answer = Box<dyn FnMut(&[CheckResult]) -> Result<(), StoreError> + Send>;

/// A store whose writes are answered by `answer` and, when it says yes, kept whole; it reads
/// back nothing.
struct FakeStore {
    answer: Answer,
    kept: Arc<Mutex<Kept>>,
}

impl FakeStore {
    fn new(
        answer: impl FnMut(&[CheckResult]) -> Result<(), StoreError> + Send + 'static,
    ) -> (FakeStore, Arc<Mutex<Kept>>) {
        let kept = Arc::new(Mutex::new(Kept::default()));
        (FakeStore { answer: Box::new(answer), kept: Arc::clone(&kept) }, kept)
    }

    /// A store that refuses every write holding a summary longer than 100 bytes.
    fn refusing_long_summaries() -> (FakeStore, Arc<Mutex<Kept>>) {
        FakeStore::new(|results| match results.iter().any(|r| r.summary.len() > 100) {
            true => Err(StoreError::Rejected { path: db(), detail: "string or blob too big".into() }),
            false => Ok(()),
        })
    }
}

fn db() -> PathBuf {
    PathBuf::from("/var/lib/vitals/vitals.db")
}

impl ResultStore for FakeStore {
    fn write_run(&mut self, results: &[CheckResult], events: &[EventRecord]) -> Result<(), StoreError> {
        let mut kept = self.kept.lock().unwrap();
        kept.writes.push(results.len());
        (self.answer)(results)?;
        kept.results.extend_from_slice(results);
        kept.events.extend_from_slice(events);
        Ok(())
    }

    fn window(&self, c: &str, from: i64, to: i64) -> Result<(Option<CheckResult>, Vec<CheckResult>), StoreError> {
        NullStore.window(c, from, to)
    }

    fn events(&self, c: Option<&str>, limit: usize) -> Result<Vec<EventRecord>, StoreError> {
        NullStore.events(c, limit)
    }

    fn recent(&self, c: Option<&str>, limit: usize) -> Result<Vec<CheckResult>, StoreError> {
        NullStore.recent(c, limit)
    }

    fn changes(
        &self,
        c: &str,
        k: ChangeKind,
        f: i64,
        t: i64,
    ) -> Result<(Option<EventRecord>, Vec<EventRecord>), StoreError> {
        NullStore.changes(c, k, f, t)
    }

    fn rollups(&self, c: &str, from: i64, to: i64) -> Result<Vec<HourRollup>, StoreError> {
        NullStore.rollups(c, from, to)
    }

    fn unsealed_hours(&self, by: i64) -> Result<Vec<(String, i64)>, StoreError> {
        NullStore.unsealed_hours(by)
    }

    fn seal_hour(&mut self, rollup: &HourRollup, results: &[CheckResult]) -> Result<(), StoreError> {
        NullStore.seal_hour(rollup, results)
    }

    fn pending_phase_days(&self, before: i64) -> Result<Vec<(String, i64)>, StoreError> {
        NullStore.pending_phase_days(before)
    }

    fn compact_phases(&mut self, c: &str, day: i64, phases: &[u8]) -> Result<(), StoreError> {
        NullStore.compact_phases(c, day, phases)
    }

    fn daily_phases(&self, c: &str, from: i64, to: i64) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        NullStore.daily_phases(c, from, to)
    }

    fn oldest_sealed_hour(&self, c: &str) -> Result<Option<i64>, StoreError> {
        NullStore.oldest_sealed_hour(c)
    }

    fn prune(&mut self, before: i64, batch: usize) -> Result<usize, StoreError> {
        NullStore.prune(before, batch)
    }
}

/// Result `i` of check `web`, ok; the one at `bad` is critical with a 1,000-byte summary
/// and a HARD change event.
fn run(i: i64, bad: i64) -> Item {
    let mut r = result("web", i * 1000, Status::Ok, Vec::new());
    r.summary = format!("run {i}");
    if i != bad {
        return (r, Vec::new());
    }
    r.status = Status::Critical;
    r.summary = "x".repeat(1000);
    r.details = Some("long details".into());
    let event = EventRecord {
        check: "web".into(),
        event: Event::HardChange { from: Status::Ok, to: Status::Critical, at_ms: i * 1000 },
        summary: "became critical".into(),
    };
    (r, vec![event])
}

fn shared_with(bounds: Bounds) -> Shared {
    Shared {
        bounds,
        results: AtomicUsize::new(0),
        bytes: AtomicUsize::new(0),
        drops: Drops { telemetry: Arc::new(Telemetry::new()), log: Mutex::new(DropLog::default()) },
        on_damage: Mutex::new(None),
    }
}

fn no_notifiers() -> NotifySlot {
    Arc::new(RwLock::new(None))
}

/// The value of `vitals_results_dropped_total` in `telemetry`'s exposition.
fn dropped(telemetry: &Telemetry) -> String {
    let text = telemetry.encode();
    let line = text.lines().find(|l| l.starts_with("vitals_results_dropped_total "));
    line.unwrap_or_else(|| panic!("no drop counter in\n{text}")).rsplit(' ').next().unwrap().to_string()
}

#[test]
fn a_result_the_store_refuses_becomes_unknown_and_the_others_are_stored() {
    let (mut store, kept) = FakeStore::refusing_long_summaries();
    let shared = shared_with(Bounds { results: 100, bytes: usize::MAX });
    let mut batch = Batch::default();
    for i in 0..8 {
        let item = run(i, 5);
        assert!(shared.admit(weight(&item.0, &item.1)));
        batch.push(item);
    }
    let (stored, failed) = batch.write(&mut store, &shared);
    assert!(failed.is_none(), "{failed:?}");
    assert_eq!((stored, batch.len(), shared.results.load(Ordering::Acquire)), (8, 0, 0));
    assert_eq!(shared.bytes.load(Ordering::Acquire), 0);

    let kept = kept.lock().unwrap();
    let at: Vec<i64> = kept.results.iter().map(|r| r.started_at_ms).collect();
    assert_eq!(at, [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000], "every result, in order");
    for (i, r) in kept.results.iter().enumerate() {
        if i != 5 {
            assert_eq!((r.status, r.summary.clone()), (Status::Ok, format!("run {i}")));
        }
    }
    let stand_in = &kept.results[5];
    assert_eq!((stand_in.check.as_str(), stand_in.status, stand_in.reason), ("web", Status::Unknown, None));
    assert_eq!(stand_in.summary, "vitals could not store this result: string or blob too big");
    let details = stand_in.details.as_deref().unwrap_or_default();
    assert!(details.contains("status: critical\nsummary: xxx"), "{details}");
    assert!(details.contains("details: 12 bytes") && details.len() < 1500, "{details}");
    // The event of the refused result is stored with the result standing in for it.
    assert_eq!(kept.events.len(), 1);
    // Halving finds the one bad result in a few writes, not one write per result.
    assert!(kept.writes.len() <= 10, "{:?}", kept.writes);
}

#[test]
fn an_error_about_the_database_keeps_the_whole_batch_for_the_next_try() {
    let mut failures = 1;
    let (mut store, kept) = FakeStore::new(move |_| {
        if failures == 0 {
            return Ok(());
        }
        failures -= 1;
        Err(StoreError::Locked { path: db(), waited: Duration::from_secs(5) })
    });
    let shared = shared_with(Bounds { results: 100, bytes: usize::MAX });
    let mut batch = Batch::default();
    for i in 0..4 {
        let item = run(i, -1);
        assert!(shared.admit(weight(&item.0, &item.1)));
        batch.push(item);
    }
    let (stored, failed) = batch.write(&mut store, &shared);
    assert!(matches!(failed, Some(StoreError::Locked { .. })), "{failed:?}");
    assert_eq!((stored, batch.len(), shared.results.load(Ordering::Acquire)), (0, 4, 4));
    let (stored, failed) = batch.write(&mut store, &shared);
    assert!(failed.is_none());
    assert_eq!((stored, batch.len(), shared.results.load(Ordering::Acquire)), (4, 0, 0));
    assert_eq!(kept.lock().unwrap().writes, [4, 4], "not split: the same whole batch, tried again");
}

#[test]
fn the_writer_stores_the_rest_around_a_refused_result() {
    let (store, kept) = FakeStore::refusing_long_summaries();
    let telemetry = Arc::new(Telemetry::new());
    let mut writer = Writer::start(Box::new(store), no_notifiers(), Arc::clone(&telemetry));
    for i in 0..20 {
        let (r, events) = run(i, 7);
        writer.record(r, events);
    }
    assert_eq!(writer.finish(), Ok(20));
    let kept = kept.lock().unwrap();
    assert_eq!(kept.results.len(), 20);
    let unknown: Vec<i64> =
        kept.results.iter().filter(|r| r.status == Status::Unknown).map(|r| r.started_at_ms).collect();
    assert_eq!(unknown, [7000]);
    assert_eq!(dropped(&telemetry), "0");
}

#[test]
fn a_store_that_always_fails_holds_at_most_the_bound_and_counts_the_drops() {
    let (store, kept) = FakeStore::new(|_| Err(StoreError::DiskFull { path: db() }));
    let telemetry = Arc::new(Telemetry::new());
    let bounds = Bounds { results: 5, bytes: usize::MAX };
    let mut writer = Writer::with_bounds(Box::new(store), no_notifiers(), Arc::clone(&telemetry), bounds);
    for i in 0..12 {
        let (r, events) = run(i, -1);
        writer.record(r, events);
    }
    assert_eq!(writer.shared.results.load(Ordering::Acquire), 5);
    assert_eq!(dropped(&telemetry), "7");
    assert_eq!(
        writer.finish(),
        Err("cannot write /var/lib/vitals/vitals.db: the disk is full; free some space; 5 results could not be stored"
            .to_string())
    );
    // The retries carried the whole batch each time, and it never grew past the bound.
    let writes = kept.lock().unwrap().writes.clone();
    assert!(writes.iter().all(|&n| n <= 5) && writes.last() == Some(&5), "{writes:?}");
}

#[test]
fn the_queue_is_bounded_in_bytes_too() {
    let one = {
        let (r, events) = run(0, -1);
        weight(&r, &events)
    };
    let shared = shared_with(Bounds { results: 1000, bytes: 3 * one });
    let admitted = (0..10).filter(|&i| {
        let (r, events) = run(i, -1);
        shared.admit(weight(&r, &events))
    });
    assert_eq!(admitted.count(), 3);
    // An empty queue takes a result whatever its size: a bound never refuses everything.
    let shared = shared_with(Bounds { results: 1000, bytes: 1 });
    assert!(shared.admit(one) && !shared.admit(one));
}

#[test]
fn a_damaged_database_stops_the_writer_at_once_and_says_so() {
    let (store, kept) =
        FakeStore::new(|_| Err(StoreError::Corrupt { path: db(), detail: "database disk image is malformed".into() }));
    let told = Arc::new(AtomicUsize::new(0));
    let writer = Writer::start(Box::new(store), no_notifiers(), Arc::new(Telemetry::new()));
    let mut writer = writer.on_damage({
        let told = Arc::clone(&told);
        move || {
            told.fetch_add(1, Ordering::SeqCst);
        }
    });
    let (r, events) = run(1, -1);
    writer.record(r, events);
    // The writer stops after the first failed write, without retrying into the file.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while told.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(told.load(Ordering::SeqCst), 1, "the daemon is told once");
    let (r, events) = run(2, -1);
    writer.record(r, events);
    let outcome = writer.finish();
    assert!(outcome.as_ref().is_err_and(|e| e.contains("/var/lib/vitals/vitals.db")), "{outcome:?}");
    assert_eq!(kept.lock().unwrap().writes, [1], "one write, no retries into a damaged file");
}
