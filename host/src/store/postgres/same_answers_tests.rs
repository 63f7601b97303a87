//! The same history written to an SQLite store and a PostgreSQL store, then every read
//! asked of both: the answers must be equal, before sealing, after sealing (one by one and
//! packed), after compacting phases and after pruning.

use std::fmt::Debug;
use std::time::Duration;

use super::testdb::TestDb;
use super::*;
use crate::report::rollup::{Cadence, rollup};
use crate::result::state::Event;
use crate::result::{Metric, Reason, StateInfo, StateType, Status};
use crate::store::fixtures_tests::{metric, result};
use crate::store::{HOUR_MS, ResultStore};

/// The first hour of the history (a day's start, so phases compact by whole days).
const H0: i64 = 19_700 * 24 * HOUR_MS;
const CHECKS: [&str; 5] = ["web", "db", "Zeta", "alpha", "é-check"];
const CADENCE: Cadence =
    Cadence { interval: Duration::from_secs(300), retries: 1, retry_interval: Duration::from_secs(60) };

struct Pair {
    _dir: tempfile::TempDir,
    sqlite: Box<dyn ResultStore>,
    _db: TestDb,
    pg: PgStore,
}

impl Pair {
    fn new() -> Pair {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = crate::store::open(dir.path().join("vitals.db")).unwrap();
        let db = TestDb::new();
        let pg = PgStore::open(&db.spec()).unwrap();
        Pair { _dir: dir, sqlite, _db: db, pg }
    }

    /// Does `f` to both stores.
    fn write(&mut self, f: impl Fn(&mut dyn ResultStore) -> Result<(), StoreError>) {
        f(&mut *self.sqlite).unwrap();
        f(&mut self.pg).unwrap();
    }

    /// Asks both; their answers must be equal.
    fn same<T: PartialEq + Debug>(&self, what: &str, f: impl Fn(&dyn ResultStore) -> Result<T, StoreError>) -> T {
        let sqlite = f(&*self.sqlite).unwrap();
        let pg = f(&self.pg).unwrap();
        assert_eq!(pg, sqlite, "{what}: PostgreSQL (left) differs from SQLite (right)");
        sqlite
    }
}

/// Every result of the history: each check every five minutes over four hours, all at the
/// same instants (ties across checks), with timings, a non-finite metric now and then,
/// states, reasons and details.
fn history() -> Vec<CheckResult> {
    let statuses = [Status::Ok, Status::Ok, Status::Warning, Status::Critical, Status::Ok, Status::Unknown];
    let mut out = Vec::new();
    for step in 0..48i64 {
        for (c, check) in CHECKS.iter().enumerate() {
            let at = H0 + step * 300_000 + c as i64 * 7;
            let status = statuses[(step as usize + c) % statuses.len()];
            let mut r = result(check, at, status);
            r.duration = Duration::from_micros(1_000 + (step as u64 * 7_919 + c as u64) % 90_001);
            r.metrics = vec![
                metric("time_total", 10.0 + step as f64 + c as f64 / 8.0),
                metric("time_connect", 1.5 + (step % 5) as f64),
                Metric { warn: Some("100".into()), min: Some(0.0), ..metric("size", 512.0 * step as f64) },
            ];
            if step % 11 == 3 {
                r.metrics.push(metric("broken", f64::NAN));
                r.metrics[0].max = Some(f64::INFINITY);
            }
            r.state = Some(StateInfo {
                kind: if status == Status::Ok { StateType::Hard } else { StateType::Soft },
                attempt: 1 + (step % 2) as u32,
            });
            if status != Status::Ok {
                r.reason = Some(Reason::ALL[(step as usize) % Reason::ALL.len()]);
                r.details = Some(format!("step {step}\nof {check}"));
            }
            out.push(r);
        }
    }
    out
}

/// The events of the history: a HARD change at every change of status, flapping starts and
/// stops now and then.
fn events_of(results: &[CheckResult]) -> Vec<Vec<EventRecord>> {
    let mut last: std::collections::HashMap<&str, Status> = std::collections::HashMap::new();
    results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut out = Vec::new();
            let from = last.insert(r.check.as_str(), r.status).unwrap_or(Status::Ok);
            if from != r.status {
                out.push(EventRecord {
                    check: r.check.clone(),
                    event: Event::HardChange { from, to: r.status, at_ms: r.started_at_ms },
                    summary: format!("{from} to {}", r.status),
                });
            }
            if i % 37 == 5 {
                let percent = 20.0 + (i % 30) as f64;
                let event = if i % 2 == 0 {
                    Event::FlappingStarted { percent, at_ms: r.started_at_ms }
                } else {
                    Event::FlappingStopped { percent, at_ms: r.started_at_ms }
                };
                out.push(EventRecord { check: r.check.clone(), event, summary: "flapping".into() });
            }
            out
        })
        .collect()
}

/// Windows over the history, some aligned to hours, some not, some empty, one unbounded.
fn windows() -> Vec<(i64, i64)> {
    vec![
        (H0, H0 + 4 * HOUR_MS),
        (H0 - HOUR_MS, H0 + 5 * HOUR_MS),
        (H0 + 1_800_000, H0 + 2 * HOUR_MS + 600_000),
        (H0 + HOUR_MS, H0 + HOUR_MS),
        (H0 + HOUR_MS + 1, H0 + 2 * HOUR_MS),
        (H0 + 3 * HOUR_MS + 1, H0 + 3 * HOUR_MS + 2),
        (H0 + 10 * HOUR_MS, H0 + 11 * HOUR_MS),
        (i64::MIN, i64::MAX),
    ]
}

/// Every read of both stores, compared.
fn compare_everything(pair: &Pair, stage: &str) {
    let mut names: Vec<&str> = CHECKS.to_vec();
    names.push("never-ran");
    for check in &names {
        for (from, to) in windows() {
            let what = format!("{stage}: {check} [{from}, {to})");
            pair.same(&format!("window {what}"), |s| s.window(check, from, to));
            pair.same(&format!("window_timings {what}"), |s| s.window_timings(check, from, to));
            pair.same(&format!("changes hard {what}"), |s| s.changes(check, ChangeKind::Hard, from, to));
            pair.same(&format!("changes flapping {what}"), |s| s.changes(check, ChangeKind::Flapping, from, to));
            pair.same(&format!("rollups {what}"), |s| s.rollups(check, from, to));
            pair.same(&format!("daily_phases {what}"), |s| s.daily_phases(check, from, to));
        }
        for limit in [0, 1, 3, 20, 1000] {
            pair.same(&format!("{stage}: recent {check} {limit}"), |s| s.recent(Some(check), limit));
            pair.same(&format!("{stage}: events {check} {limit}"), |s| s.events(Some(check), limit));
        }
        pair.same(&format!("{stage}: oldest_sealed_hour {check}"), |s| s.oldest_sealed_hour(check));
    }
    for limit in [0, 1, 4, 5, 7, 60, 1000, usize::MAX] {
        pair.same(&format!("{stage}: recent all {limit}"), |s| s.recent(None, limit));
        pair.same(&format!("{stage}: events all {limit}"), |s| s.events(None, limit));
        pair.same(&format!("{stage}: recent_observations {limit}"), |s| s.recent_observations(&names, limit));
    }
    pair.same(&format!("{stage}: recent_observations of none"), |s| s.recent_observations(&[], 5));
    for at in [i64::MIN, 0, H0, H0 + HOUR_MS - 1, H0 + 2 * HOUR_MS, H0 + 30 * HOUR_MS, i64::MAX] {
        pair.same(&format!("{stage}: unsealed_hours {at}"), |s| s.unsealed_hours(at));
        pair.same(&format!("{stage}: pending_phase_days {at}"), |s| s.pending_phase_days(at));
    }
}

/// The rollup of `check`'s hour `hour_ms`, as housekeeping makes it from the store.
fn rollup_of(store: &dyn ResultStore, check: &str, hour_ms: i64) -> (HourRollup, Vec<CheckResult>) {
    let (before, results) = store.window(check, hour_ms, hour_ms + HOUR_MS).unwrap();
    (rollup(check, CADENCE, before.as_ref(), &results, hour_ms), results)
}

#[test]
fn both_stores_answer_every_read_the_same() {
    let mut pair = Pair::new();
    compare_everything(&pair, "empty");

    let results = history();
    let events = events_of(&results);
    // Written as runs of one instant each, as the runner writes them.
    for (run, events) in results.chunks(CHECKS.len()).zip(events.chunks(CHECKS.len())) {
        let events: Vec<EventRecord> = events.iter().flatten().cloned().collect();
        pair.write(|s| s.write_run(run, &events));
    }
    compare_everything(&pair, "written");

    // Hour 0 sealed hour by hour, hour 1 packed in one go (with one hour given twice: the
    // last one counts), hour 2 of one check only.
    for check in CHECKS {
        let (r, results) = rollup_of(&*pair.sqlite, check, H0);
        pair.write(|s| s.seal_hour(&r, &results));
    }
    let mut packed = Vec::new();
    for check in CHECKS {
        let (r, results) = rollup_of(&*pair.sqlite, check, H0 + HOUR_MS);
        packed.push(PackedHour::pack(r, &results).unwrap());
    }
    let mut again = packed[1].clone();
    again.rollup.up_ms -= 1_000;
    packed.push(again);
    // An hour without results seals without a block.
    packed.push(PackedHour::pack(rollup("gone", CADENCE, None, &[], H0), &[]).unwrap());
    pair.write(|s| s.seal_packed(&packed));
    let (r, results) = rollup_of(&*pair.sqlite, "db", H0 + 2 * HOUR_MS);
    pair.write(|s| s.seal_hour(&r, &results));
    compare_everything(&pair, "sealed");
    assert_eq!(pair.same("sealed hours", |s| s.oldest_sealed_hour("db")), Some(H0));
    assert!(!pair.same("rollups", |s| s.rollups("web", H0, H0 + 2 * HOUR_MS)).is_empty());
    assert!(pair.pg.integrity_check().unwrap().is_empty());

    // Phases compacted into daily blobs: one check's day to a blob, another's to none.
    let days = pair.same("pending days", |s| s.pending_phase_days(H0 + 25 * HOUR_MS));
    assert!(!days.is_empty(), "the rollups hold phases");
    pair.write(|s| s.compact_phases("web", H0, b"daily web phases"));
    pair.write(|s| s.compact_phases("db", H0, b""));
    compare_everything(&pair, "compacted");
    assert_eq!(pair.same("daily", |s| s.daily_phases("web", H0, H0 + 1)), vec![(H0, b"daily web phases".to_vec())]);

    // Pruning, a few hours at a time.
    let mut pruned = (0, 0);
    pruned.0 += pair.sqlite.prune(H0 + 2 * HOUR_MS, 3).unwrap();
    pruned.1 += pair.pg.prune(H0 + 2 * HOUR_MS, 3).unwrap();
    assert_eq!(pruned, (3, 3));
    pruned.0 += pair.sqlite.prune(H0 + 2 * HOUR_MS, 100).unwrap();
    pruned.1 += pair.pg.prune(H0 + 2 * HOUR_MS, 100).unwrap();
    assert_eq!(pruned, (10, 10), "hours 0 and 1 of five checks");
    compare_everything(&pair, "pruned");
    assert_eq!(pair.same("after pruning", |s| s.oldest_sealed_hour("db")), Some(H0 + 2 * HOUR_MS));
}
