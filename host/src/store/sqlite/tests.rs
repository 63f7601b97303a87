//! The SQLite store against real files: round trips, transactions, migrations, and every
//! way a database can be unusable (corrupt, locked, read-only, newer, foreign).

use std::time::Instant;

use rusqlite::ffi;

use super::*;
use crate::result::{Metric, StateInfo, StateType, Status};
use crate::store::fixtures_tests::{events, metric, newest_first, result, rich_run};

/// Most tests write results only.
trait WriteResults {
    fn write_run_only(&mut self, results: &[CheckResult]) -> Result<(), StoreError>;
}

impl<T: ResultStore + ?Sized> WriteResults for T {
    fn write_run_only(&mut self, results: &[CheckResult]) -> Result<(), StoreError> {
        self.write_run(results, &[])
    }
}

#[test]
fn events_round_trip_in_the_same_transaction_as_their_results() {
    let (_dir, _path, mut store) = store();
    let events = events();
    store.write_run(&[result("web", 1_000, Status::Critical)], &events).unwrap();
    let newest_first: Vec<EventRecord> = events.iter().rev().cloned().collect();
    assert_eq!(store.events(None, 10).unwrap(), newest_first);
    assert_eq!(store.events(Some("db"), 10).unwrap(), vec![events[2].clone()]);
    assert_eq!(store.recent(None, 10).unwrap().len(), 1);
}

fn store() -> (tempfile::TempDir, PathBuf, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vitals.db");
    let store = SqliteStore::open(&path).unwrap();
    (dir, path, store)
}

fn count(conn: &Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
}

#[test]
fn round_trip_returns_exactly_what_was_written() {
    let (_dir, _path, mut store) = store();
    let run = rich_run(1_700_000_000_000);
    store.write_run_only(&run).unwrap();
    let back = store.recent(None, 1000).unwrap();
    assert_eq!(back, newest_first(run));
}

#[test]
fn recent_is_newest_first_filters_by_check_and_honours_the_limit() {
    let (_dir, _path, mut store) = store();
    store.write_run_only(&[result("a", 100, Status::Ok), result("b", 100, Status::Warning)]).unwrap();
    store.write_run_only(&[result("a", 200, Status::Critical), result("b", 200, Status::Ok)]).unwrap();
    store.write_run_only(&[result("a", 300, Status::Unknown)]).unwrap();

    let a = store.recent(Some("a"), 10).unwrap();
    assert_eq!(a.iter().map(|r| r.started_at_ms).collect::<Vec<_>>(), [300, 200, 100]);
    assert!(a.iter().all(|r| r.check == "a"));
    let two = store.recent(Some("a"), 2).unwrap();
    assert_eq!(two.iter().map(|r| r.status).collect::<Vec<_>>(), [Status::Unknown, Status::Critical]);
    let all = store.recent(None, 3).unwrap();
    assert_eq!(all.iter().map(|r| r.started_at_ms).collect::<Vec<_>>(), [300, 200, 200]);
    // Same time: the later written comes first.
    assert_eq!(all[1].check, "b");
    assert!(store.recent(Some("nope"), 10).unwrap().is_empty());
    assert!(store.recent(None, 0).unwrap().is_empty());
}

#[test]
fn a_run_is_one_runs_row_spanning_its_results() {
    let (_dir, _path, mut store) = store();
    let mut late = result("b", 2_000, Status::Ok);
    late.duration = Duration::from_micros(1_500); // ends at 2001.5 → 2002
    store.write_run_only(&[result("a", 1_000, Status::Ok), late]).unwrap();
    let row: (i64, i64, i64) = store
        .conn
        .query_row("SELECT started_at_ms, finished_at_ms, checks FROM runs", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(row, (1_000, 2_002, 2));
    let linked: i64 = store
        .conn
        .query_row("SELECT count(*) FROM results JOIN runs ON runs.id = results.run_id", [], |r| r.get(0))
        .unwrap();
    assert_eq!(linked, 2);
}

#[test]
fn an_empty_run_writes_nothing() {
    let (_dir, _path, mut store) = store();
    store.write_run_only(&[]).unwrap();
    assert_eq!(count(&store.conn, "runs"), 0);
}

#[test]
fn one_transaction_per_run_a_failure_mid_run_leaves_nothing() {
    let (_dir, _path, mut store) = store();
    store.write_run_only(&[result("before", 1, Status::Ok)]).unwrap();
    // Make the insert of the 2nd result fail, after the run row, the 1st result and
    // its metrics are written.
    store
        .conn
        .execute_batch(
            "CREATE TEMP TRIGGER fail_second BEFORE INSERT ON results \
             WHEN NEW.check_name = 'second' BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
        )
        .unwrap();
    let mut first = result("first", 10, Status::Ok);
    first.metrics = vec![metric("t", 1.0), metric("u", 2.0)];
    let run = [first, result("second", 11, Status::Ok), result("third", 12, Status::Ok)];
    let err = store.write_run_only(&run).unwrap_err();
    assert!(err.to_string().contains("injected failure"), "{err}");

    assert_eq!(count(&store.conn, "runs"), 1);
    assert_eq!(count(&store.conn, "results"), 1);
    // Another connection sees the same, and the store is usable again afterwards.
    let other = Connection::open(store.path.clone()).unwrap();
    assert_eq!(count(&other, "results"), 1);
    store.conn.execute_batch("DROP TRIGGER fail_second").unwrap();
    store.write_run_only(&run).unwrap();
    assert_eq!(count(&other, "results"), 4);
    let stored: i64 = other
        .query_row("SELECT sum(json_array_length(metrics)) FROM results WHERE check_name = 'first'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, 2, "the first result's two metrics, in its one row");
}

#[test]
fn non_finite_metric_values_are_skipped() {
    let (_dir, _path, mut store) = store();
    let mut r = result("a", 1, Status::Ok);
    r.metrics = vec![
        metric("nan", f64::NAN),
        metric("kept", 1.0),
        metric("inf", f64::INFINITY),
        Metric { min: Some(f64::NAN), max: Some(f64::NEG_INFINITY), ..metric("bounds", 2.0) },
    ];
    store.write_run_only(&[r]).unwrap();
    let back = store.recent(None, 1).unwrap();
    assert_eq!(back[0].metrics, [metric("kept", 1.0), metric("bounds", 2.0)]);
}

#[test]
fn wal_mode_is_on() {
    let (_dir, path, store) = store();
    let mode: String = store.conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    // WAL is a property of the file: a fresh connection sees it too.
    let other = Connection::open(&path).unwrap();
    let mode: String = other.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = store.conn.pragma_query_value(None, "foreign_keys", |r| r.get(0)).unwrap();
    assert_eq!(fk, 1);
    let sync: i64 = store.conn.pragma_query_value(None, "synchronous", |r| r.get(0)).unwrap();
    assert_eq!(sync, 1, "NORMAL");
}

#[test]
fn reopening_keeps_data_and_does_not_rerun_migrations() {
    let (_dir, path, mut store) = store();
    let run = rich_run(5_000);
    store.write_run_only(&run).unwrap();
    drop(store);

    let mut conn = Connection::open(&path).unwrap();
    assert_eq!(migrations::apply(&mut conn, &path, BUSY_TIMEOUT).unwrap(), 0);
    drop(conn);

    // Migration 1 run again would fail on `CREATE TABLE runs`.
    let mut store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.recent(None, 1000).unwrap(), newest_first(run.clone()));
    store.write_run_only(&[result("again", 9_000, Status::Ok)]).unwrap();
    assert_eq!(store.recent(None, 1000).unwrap().len(), run.len() + 1);
    let version: i64 = store.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, migrations::latest());
}

#[test]
fn two_stores_on_one_file_both_write() {
    let (_dir, path, mut one) = store();
    let mut two = SqliteStore::open(&path).unwrap();
    one.write_run_only(&[result("a", 1, Status::Ok)]).unwrap();
    two.write_run_only(&[result("b", 2, Status::Ok)]).unwrap();
    assert_eq!(one.recent(None, 10).unwrap().len(), 2);
}

#[test]
fn a_newer_schema_version_is_refused_with_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vitals.db");
    drop(SqliteStore::open(&path).unwrap());
    let known = super::migrations::MIGRATIONS.len() as i64;
    let newer = known + 2;
    Connection::open(&path).unwrap().pragma_update(None, "user_version", newer).unwrap();

    let err = SqliteStore::open(&path).err().expect("refused");
    assert!(matches!(err, StoreError::NewerSchema { found, known: k, .. } if found == newer && k == known), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "{} was written by a newer Vitals (schema {newer}, this one knows up to {known}); upgrade vitals",
            path.display()
        )
    );
}

#[test]
fn a_file_of_random_bytes_gives_the_corrupt_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vitals.db");
    // xorshift: deterministic noise, no dependency.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..8192)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    fs::write(&path, &bytes).unwrap();

    let err = SqliteStore::open(&path).err().expect("refused at open");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("{} is not a Vitals database or is corrupt: ", path.display())), "{msg}");
    assert!(msg.ends_with("; move it aside to start a new one"), "{msg}");
    assert_eq!(fs::read(&path).unwrap(), bytes, "the file is left alone");
}

#[test]
fn a_database_of_another_program_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vitals.db");
    Connection::open(&path).unwrap().execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY)").unwrap();
    let err = SqliteStore::open(&path).err().expect("refused");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
}

#[test]
fn an_unknown_status_or_reason_word_is_a_corrupt_error_not_a_panic() {
    let (_dir, _path, mut store) = store();
    store.write_run_only(&[result("a", 1, Status::Ok)]).unwrap();
    store
        .conn
        .execute_batch(
            "PRAGMA ignore_check_constraints = ON; UPDATE results SET status = 'fine'; \
             PRAGMA ignore_check_constraints = OFF;",
        )
        .unwrap();
    let err = store.recent(None, 10).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("unknown status \"fine\""), "{err}");

    store.conn.execute_batch("UPDATE results SET status = 'ok', reason = 'gremlins'").unwrap();
    let err = store.recent(Some("a"), 10).unwrap_err();
    assert!(err.to_string().contains("unknown reason \"gremlins\""), "{err}");

    store.conn.execute_batch("UPDATE results SET reason = NULL, duration_us = 'long'").unwrap();
    let err = store.recent(None, 10).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
}

#[test]
fn a_missing_directory_is_a_cannot_open_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/vitals.db");
    let err = SqliteStore::open(&path).err().expect("refused");
    assert!(matches!(err, StoreError::CannotOpen { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("cannot open {}: directory ", path.display())), "{msg}");
    assert!(msg.ends_with("does not exist"), "{msg}");

    let err = SqliteStore::open(dir.path()).err().expect("refused");
    assert!(err.to_string().ends_with("it is a directory"), "{err}");
}

#[test]
fn a_read_only_database_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vitals.db");
    drop(SqliteStore::open(&path).unwrap());
    // What SQLite falls back to for a file it cannot write; root can write any file,
    // so ask for it directly.
    let err = SqliteStore::open_with(&path, OpenFlags::SQLITE_OPEN_READ_ONLY, BUSY_TIMEOUT).err().expect("refused");
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");
    assert_eq!(err.to_string(), format!("cannot write {}: the file or its directory is read-only", path.display()));
}

#[test]
fn a_read_only_file_is_refused_at_open_unless_we_are_root() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vitals.db");
    drop(SqliteStore::open(&path).unwrap());
    // The -wal and -shm files are gone after a clean close; only the file matters.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
    if fs::OpenOptions::new().write(true).open(&path).is_ok() {
        eprintln!("running as root: a 0444 file is still writable, nothing to test");
        return;
    }
    let err = SqliteStore::open(&path).err().expect("refused");
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");
}

#[test]
fn a_database_in_a_read_only_directory_is_refused_at_open_unless_we_are_root() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vitals.db");
    drop(SqliteStore::open(&path).unwrap());
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o555)).unwrap();
    let probe = dir.path().join("probe");
    if fs::write(&probe, b"").is_ok() {
        let _ = fs::remove_file(&probe);
        eprintln!("running as root: a 0555 directory is still writable, nothing to test");
        return;
    }
    // The file is writable, but the -wal and -shm files cannot be created beside it.
    let err = SqliteStore::open(&path).err().expect("refused");
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");

    let new = dir.path().join("new.db");
    let err = SqliteStore::open(&new).err().expect("refused");
    assert!(matches!(err, StoreError::CannotOpen { .. }), "{err:?}");
    assert!(err.to_string().contains("ermission denied"), "{err}");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_locked_database_gives_the_locked_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vitals.db");
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
    let mut store = SqliteStore::open_with(&path, flags, Duration::from_millis(100)).unwrap();

    let other = Connection::open(&path).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let start = Instant::now();
    let err = store.write_run_only(&[result("a", 1, Status::Ok)]).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(1), "{:?}", start.elapsed());
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("{} is locked by another process (busy for 100ms); is another vitals running?", path.display())
    );
    other.execute_batch("COMMIT").unwrap();
    store.write_run_only(&[result("a", 1, Status::Ok)]).unwrap();
}

fn failure(code: i32, message: Option<&str>) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(ffi::Error::new(code), message.map(str::to_owned))
}

#[test]
fn classify_maps_sqlite_codes_to_errors_a_person_can_act_on() {
    let path = Path::new("/var/lib/vitals/vitals.db");
    let c = |code, msg| classify(path, BUSY_TIMEOUT, failure(code, msg));

    let e = c(ffi::SQLITE_BUSY, None);
    assert_eq!(
        e.to_string(),
        "/var/lib/vitals/vitals.db is locked by another process (busy for 5s); is another vitals running?"
    );
    assert!(matches!(c(ffi::SQLITE_LOCKED, None), StoreError::Locked { .. }));
    // Extended codes keep their primary meaning.
    assert!(matches!(c(ffi::SQLITE_BUSY_SNAPSHOT, None), StoreError::Locked { .. }));

    let e = c(ffi::SQLITE_READONLY, Some("attempt to write a readonly database"));
    assert_eq!(e.to_string(), "cannot write /var/lib/vitals/vitals.db: the file or its directory is read-only");
    assert!(matches!(c(ffi::SQLITE_READONLY_DIRECTORY, None), StoreError::ReadOnly { .. }));

    let e = c(ffi::SQLITE_NOTADB, Some("file is not a database"));
    assert_eq!(
        e.to_string(),
        "/var/lib/vitals/vitals.db is not a Vitals database or is corrupt: file is not a database; \
         move it aside to start a new one"
    );
    let e = c(ffi::SQLITE_CORRUPT, None);
    assert!(matches!(e, StoreError::Corrupt { .. }), "{e:?}");
    assert!(e.to_string().contains("malformed"), "{e}");

    let e = c(ffi::SQLITE_CANTOPEN, Some("unable to open database file"));
    assert_eq!(e.to_string(), "cannot open /var/lib/vitals/vitals.db: unable to open database file");
    assert!(matches!(c(ffi::SQLITE_PERM, None), StoreError::CannotOpen { .. }));

    let e = c(ffi::SQLITE_FULL, None);
    assert!(matches!(e, StoreError::DiskFull { .. }), "{e:?}");

    let e = c(ffi::SQLITE_CONSTRAINT, Some("NOT NULL constraint failed: runs.checks"));
    assert!(matches!(e, StoreError::Rejected { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "/var/lib/vitals/vitals.db: the database refused the data: NOT NULL constraint failed: runs.checks"
    );
    let e = c(ffi::SQLITE_TOOBIG, Some("string or blob too big"));
    assert!(e.is_about_the_data() && e.to_string().contains("string or blob too big"), "{e}");
    // Only errors about the data are; the database's own troubles are worth a retry.
    for e in [c(ffi::SQLITE_BUSY, None), c(ffi::SQLITE_FULL, None), c(ffi::SQLITE_READONLY, None)] {
        assert!(!e.is_about_the_data(), "{e:?}");
    }
    let e = c(ffi::SQLITE_IOERR, None);
    assert!(matches!(e, StoreError::Other { .. }) && !e.is_about_the_data(), "{e:?}");

    let e = classify(
        path,
        BUSY_TIMEOUT,
        rusqlite::Error::InvalidColumnType(7, "status".into(), rusqlite::types::Type::Integer),
    );
    assert!(matches!(e, StoreError::Corrupt { .. }), "{e:?}");

    for e in [c(ffi::SQLITE_BUSY, None), c(ffi::SQLITE_IOERR, None), c(ffi::SQLITE_CANTOPEN, None)] {
        assert_eq!(e.path(), path);
        assert!(e.to_string().contains("/var/lib/vitals/vitals.db"), "{e}");
    }
}

#[test]
fn the_public_open_returns_a_working_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vitals.db");
    let mut store: Box<dyn ResultStore> = super::super::open(&path).unwrap();
    let run = rich_run(42);
    store.write_run_only(&run).unwrap();
    assert_eq!(store.recent(None, usize::MAX).unwrap(), newest_first(run));
}

#[test]
fn a_row_the_database_refuses_is_an_error_about_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(&dir.path().join("vitals.db")).unwrap();
    // What a constraint does to a row that breaks it: SQLITE_CONSTRAINT, for this row only.
    store
        .conn
        .execute_batch(
            "CREATE TEMP TRIGGER refuse BEFORE INSERT ON results WHEN NEW.summary = 'refuse me' \
             BEGIN SELECT RAISE(ABORT, 'this row is refused'); END;",
        )
        .unwrap();
    let mut bad = result("web", 1_000, Status::Critical);
    bad.summary = "refuse me".into();
    let err = store.write_run_only(&[result("web", 0, Status::Ok), bad]).unwrap_err();
    assert!(matches!(err, StoreError::Rejected { .. }) && err.is_about_the_data(), "{err:?}");
    assert!(err.to_string().ends_with("the database refused the data: this row is refused"), "{err}");
    // All or nothing: the good row was not written with it, and is written alone.
    assert!(store.recent(None, 10).unwrap().is_empty());
    store.write_run_only(&[result("web", 0, Status::Ok)]).unwrap();
    assert_eq!(store.recent(None, 10).unwrap().len(), 1);
}

/// What `recent` says of `check`, as the observations `recent_observations` gives.
fn observed(store: &SqliteStore, check: &str, limit: usize) -> Vec<Observation> {
    let mut seen: Vec<Observation> = store
        .recent(Some(check), limit)
        .unwrap()
        .iter()
        .map(|r| Observation { started_at_ms: r.started_at_ms, status: r.status })
        .collect();
    seen.reverse();
    seen
}

#[test]
fn recent_observations_of_many_checks_in_one_query_agree_with_recent() {
    let (_dir, _path, mut store) = store();
    assert!(store.recent_observations(&["a", "b"], 5).unwrap().is_empty(), "a new store has none");
    let statuses = [Status::Ok, Status::Critical, Status::Warning, Status::Unknown];
    for i in 0..12 {
        let mut run = vec![result("a", 1_000 * i, statuses[i as usize % 4])];
        if i % 3 == 0 {
            run.push(result("b", 1_000 * i, statuses[(i as usize + 1) % 4]));
        }
        // Two results of one check at the same time: the later written is the newer.
        if i == 7 {
            run.push(result("a", 1_000 * i, Status::Ok));
        }
        store.write_run_only(&run).unwrap();
    }
    let names = ["a", "b", "never-ran", "it's \"quoted\""];
    let got = store.recent_observations(&names, 5).unwrap();
    assert_eq!(got.len(), 2, "checks without results are absent: {got:?}");
    assert_eq!(got["a"], observed(&store, "a", 5));
    assert_eq!(got["b"], observed(&store, "b", 5));
    assert_eq!(got["a"].len(), 5);
    assert_eq!(got["b"].len(), 4, "b ran only 4 times");
    assert!(got["a"].windows(2).all(|w| w[0].started_at_ms <= w[1].started_at_ms), "oldest first");
    assert!(store.recent_observations(&names, 0).unwrap().is_empty());
}

#[test]
fn recent_observations_go_on_into_sealed_hours() {
    let (_dir, _path, mut store) = store();
    // An hour of "a", sealed, then two unsealed results in the next hour.
    let sealed: Vec<CheckResult> =
        (0..4).map(|i| result("a", 600_000 * i, if i == 2 { Status::Critical } else { Status::Ok })).collect();
    store.write_run_only(&sealed).unwrap();
    let rollup = HourRollup {
        check: "a".into(),
        hour_ms: 0,
        up_ms: crate::store::HOUR_MS,
        degraded_ms: 0,
        down_ms: 0,
        no_data_ms: 0,
        counts: crate::store::StatusCounts::default(),
        soft: 0,
        hard: 4,
        latency: None,
        phases: None,
    };
    store.seal_hour(&rollup, &sealed).unwrap();
    store.write_run_only(&[result("a", 3_700_000, Status::Warning), result("a", 3_800_000, Status::Ok)]).unwrap();
    assert_eq!(count(&store.conn, "results"), 2, "the sealed hour left the raw rows");

    let got = store.recent_observations(&["a"], 4).unwrap();
    let times: Vec<i64> = got["a"].iter().map(|o| o.started_at_ms).collect();
    assert_eq!(times, [1_200_000, 1_800_000, 3_700_000, 3_800_000]);
    assert_eq!(got["a"], observed(&store, "a", 4));
    assert_eq!(got["a"][0].status, Status::Critical);
}

/// Every row of the tables sealing writes, in key order, as text.
fn sealed_rows(conn: &Connection) -> Vec<String> {
    let mut rows = Vec::new();
    for sql in [
        "SELECT check_name, hour_ms, results, hex(block) FROM sealed_hours ORDER BY 1, 2",
        "SELECT check_name, hour_ms, up_ms, down_ms, no_data_ms, ok, warning, critical, unknown, soft, hard, \
         hex(latency), degraded_ms FROM hourly ORDER BY 1, 2",
        "SELECT check_name, hour_ms, hex(phases) FROM hourly_phases ORDER BY 1, 2",
        "SELECT count(*) FROM results",
        "SELECT count(*) FROM runs",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        let columns = stmt.column_count();
        let mut cursor = stmt.query([]).unwrap();
        while let Some(row) = cursor.next().unwrap() {
            let cells: Vec<String> =
                (0..columns).map(|i| format!("{:?}", row.get::<_, rusqlite::types::Value>(i).unwrap())).collect();
            rows.push(cells.join("|"));
        }
    }
    rows
}

#[test]
fn sealing_packed_hours_together_writes_the_rows_of_sealing_them_one_by_one() {
    use crate::report::rollup::{Cadence, rollup};
    let cadence = Cadence { interval: Duration::from_secs(60), retries: 2, retry_interval: Duration::from_secs(10) };
    let (_one_dir, _, mut one) = store();
    let (_all_dir, _, mut all) = store();
    let mut packed = Vec::new();
    for check in ["web", "db"] {
        let mut before = None;
        for hour in 0..3 {
            let h = hour * crate::store::HOUR_MS;
            let results: Vec<CheckResult> = (0..60)
                .filter(|m| !(hour == 1 && *m > 40))
                .map(|m| {
                    let status = if (10..14).contains(&m) { Status::Critical } else { Status::Ok };
                    let mut r = result(check, h + m * 60_000 + 7_000, status);
                    r.metrics = vec![metric("time_total", 10.0 + m as f64), metric("time_connect", 2.5)];
                    r.state = Some(StateInfo { kind: StateType::Hard, attempt: 1 });
                    r
                })
                .collect();
            let r = rollup(check, cadence, before.as_ref(), &results, h);
            // The one-by-one store gets the rows first, as housekeeping finds them.
            one.write_run_only(&results).unwrap();
            one.seal_hour(&r, &results).unwrap();
            packed.push(PackedHour::pack(r, &results).unwrap());
            before = results.last().cloned();
        }
    }
    // An hour without results seals as having no block.
    let empty = rollup("gone", cadence, None, &[], 0);
    one.seal_hour(&empty, &[]).unwrap();
    packed.push(PackedHour::pack(empty, &[]).unwrap());
    all.seal_packed(&packed).unwrap();
    let rows = sealed_rows(&one.conn);
    assert!(rows.len() > 12, "{rows:?}");
    assert_eq!(sealed_rows(&all.conn), rows);
    assert_eq!(
        all.window("web", 0, 3 * crate::store::HOUR_MS).unwrap(),
        one.window("web", 0, 3 * crate::store::HOUR_MS).unwrap()
    );
}
