//! The PostgreSQL store against a real server: round trips, idempotent batches, the
//! runtime it may be called from, migrations, lost connections and errors, membership.

use std::time::{Duration, Instant};

use super::testdb::{TestDb, off_runtime};
use super::*;
use crate::result::{Metric, Status};
use crate::store::fixtures_tests::{events, metric, newest_first, result, rich_run};

fn count(db: &TestDb, table: &'static str) -> i64 {
    db.with(move |c| c.query_one(&format!("SELECT count(*) FROM {table}"), &[]).unwrap().get(0))
}

fn open(db: &TestDb) -> PgStore {
    PgStore::open(&db.spec()).unwrap()
}

#[test]
fn round_trip_returns_exactly_what_was_written() {
    let db = TestDb::new();
    let mut store = open(&db);
    let run = rich_run(1_700_000_000_000);
    store.write_run(&run, &events()).unwrap();
    assert_eq!(store.recent(None, 1000).unwrap(), newest_first(run));
    let newest: Vec<EventRecord> = events().into_iter().rev().collect();
    assert_eq!(store.events(None, 10).unwrap(), newest);
    assert_eq!(store.events(Some("db"), 10).unwrap(), vec![events()[2].clone()]);
}

#[test]
fn writing_the_same_batch_twice_stores_it_once() {
    let db = TestDb::new();
    let mut store = open(&db);
    let run = rich_run(5_000);
    store.write_run(&run, &events()).unwrap();
    store.write_run(&run, &events()).unwrap();
    // A retried batch overlapping the first: only the new result is added.
    let mut more = run[..3].to_vec();
    more.push(result("new", 9_000, Status::Ok));
    store.write_run(&more, &events()[..1]).unwrap();
    assert_eq!(count(&db, "results"), run.len() as i64 + 1);
    assert_eq!(count(&db, "events"), 3);
    assert_eq!(store.recent(None, 1000).unwrap().len(), run.len() + 1);
}

#[test]
fn a_big_batch_is_written_in_one_go() {
    let db = TestDb::new();
    let mut store = open(&db);
    let run: Vec<CheckResult> = (0..5_000)
        .map(|i| {
            let mut r = result(&format!("c{}", i % 50), i, Status::Ok);
            r.metrics = vec![metric("time_total", i as f64)];
            r
        })
        .collect();
    let start = Instant::now();
    store.write_run(&run, &[]).unwrap();
    assert!(start.elapsed() < Duration::from_secs(20), "{:?}", start.elapsed());
    assert_eq!(count(&db, "results"), 5_000);
    assert_eq!(store.recent(Some("c7"), 1).unwrap()[0].started_at_ms, 4_957);
}

#[test]
fn non_finite_metric_values_are_skipped() {
    let db = TestDb::new();
    let mut store = open(&db);
    let mut r = result("a", 1, Status::Ok);
    r.metrics = vec![
        metric("nan", f64::NAN),
        metric("kept", 1.0),
        metric("inf", f64::INFINITY),
        Metric { min: Some(f64::NAN), max: Some(f64::NEG_INFINITY), ..metric("bounds", 2.0) },
    ];
    store.write_run(&[r], &[]).unwrap();
    assert_eq!(store.recent(None, 1).unwrap()[0].metrics, [metric("kept", 1.0), metric("bounds", 2.0)]);
}

#[tokio::test]
async fn the_store_works_from_inside_a_tokio_runtime() {
    let db = off_runtime(TestDb::new);
    let mut store = PgStore::open(&db.spec()).unwrap();
    store.write_run(&[result("a", 1, Status::Ok)], &[]).unwrap();
    tokio::task::yield_now().await;
    assert_eq!(store.recent(None, 10).unwrap().len(), 1);
    drop(store);
}

#[test]
fn a_row_the_database_refuses_is_an_error_about_the_data_and_nothing_is_written() {
    let db = TestDb::new();
    let mut store = open(&db);
    // PostgreSQL text cannot hold a NUL character.
    let mut bad = result("web", 1_000, Status::Critical);
    bad.summary = "nul \0 here".into();
    let err = store.write_run(&[result("web", 0, Status::Ok), bad], &events()).unwrap_err();
    assert!(matches!(err, StoreError::Rejected { .. }) && err.is_about_the_data(), "{err:?}");
    assert_eq!(count(&db, "results"), 0);
    assert_eq!(count(&db, "events"), 0, "all or nothing");
    store.write_run(&[result("web", 0, Status::Ok)], &[]).unwrap();
    assert_eq!(store.recent(None, 10).unwrap().len(), 1);
}

#[test]
fn an_unknown_status_word_is_a_corrupt_error_not_a_panic() {
    let db = TestDb::new();
    let mut store = open(&db);
    store.write_run(&[result("a", 1, Status::Ok)], &[]).unwrap();
    db.with(|c| {
        c.batch_execute("ALTER TABLE results DROP CONSTRAINT results_status_check; UPDATE results SET status = 'fine'")
            .unwrap()
    });
    let err = store.recent(None, 10).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("unknown status \"fine\""), "{err}");
}

#[test]
fn a_newer_schema_is_refused_before_migrating() {
    let db = TestDb::new();
    drop(open(&db));
    let known = migrations::known();
    let newer = known + 2;
    db.with(move |c| {
        c.execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES ($1, 'future', '', '0')",
            &[&(newer as i32)],
        )
        .unwrap();
    });
    let err = PgStore::open(&db.spec()).err().expect("refused");
    assert!(matches!(err, StoreError::NewerSchema { found, known: k, .. } if found == newer && k == known), "{err:?}");
    assert!(err.to_string().contains("upgrade vitals"), "{err}");
}

#[test]
fn two_opens_at_once_migrate_once() {
    let db = TestDb::new();
    let spec = db.spec();
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let spec = spec.clone();
            std::thread::spawn(move || PgStore::open(&spec).map(drop))
        })
        .collect();
    for open in opens {
        open.join().unwrap().unwrap();
    }
    assert_eq!(count(&db, "refinery_schema_history"), migrations::known());
    let mut store = open(&db);
    store.write_run(&[result("a", 1, Status::Ok)], &[]).unwrap();
}

#[test]
fn an_unreachable_server_is_unreachable_quickly_and_the_password_is_never_shown() {
    // Nothing listens on port 1.
    let spec = PostgresSpec::parse("postgres://vitals:hunter2@127.0.0.1:1/vitals").unwrap();
    let start = Instant::now();
    let err = PgStore::open(&spec).err().expect("refused");
    assert!(start.elapsed() < Duration::from_secs(6), "{:?}", start.elapsed());
    assert!(matches!(err, StoreError::Unreachable { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(shown.contains("postgres://vitals:***@127.0.0.1:1/vitals"), "{shown}");
    assert!(!shown.contains("hunter2") && !format!("{err:?}").contains("hunter2"), "{shown}");
}

#[test]
fn a_missing_database_is_cannot_open_with_a_hint() {
    let db = TestDb::new();
    let url = format!("{}_missing", db.url());
    let err = PgStore::open(&PostgresSpec::parse(&url).unwrap()).err().expect("refused");
    assert!(matches!(err, StoreError::CannotOpen { .. }), "{err:?}");
    assert!(err.to_string().contains("create it first"), "{err}");
}

#[test]
fn a_terminated_connection_is_reconnected() {
    let db = TestDb::new();
    let mut store = open(&db);
    store.write_run(&[result("a", 1, Status::Ok)], &[]).unwrap();
    let pid = store.backend_pid().unwrap();
    let killed: bool = db.with(move |c| c.query_one("SELECT pg_terminate_backend($1)", &[&pid]).unwrap().get(0));
    assert!(killed);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(store.recent(None, 10).unwrap().len(), 1);
    assert_ne!(store.backend_pid().unwrap(), pid, "a new connection");
    // Writes go on too, and a retried write stores nothing twice.
    let pid = store.backend_pid().unwrap();
    db.with(move |c| c.execute("SELECT pg_terminate_backend($1)", &[&pid]).unwrap());
    store.write_run(&[result("a", 1, Status::Ok), result("a", 2, Status::Ok)], &[]).unwrap();
    assert_eq!(count(&db, "results"), 2);
}

#[test]
fn dropping_the_store_closes_its_connection() {
    let db = TestDb::new();
    let store = open(&db);
    let pid = store.backend_pid().unwrap();
    drop(store);
    let alive = || {
        db.with(move |c| -> i64 {
            c.query_one("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", &[&pid]).unwrap().get(0)
        })
    };
    let start = Instant::now();
    while alive() > 0 {
        assert!(start.elapsed() < Duration::from_secs(5), "the connection stays");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn runner(id: &str, checks: u64) -> RunnerInfo {
    RunnerInfo {
        id: id.into(),
        location: "eu".into(),
        version: "0.1.0".into(),
        started_at_ms: 7,
        heartbeat_ms: 7,
        checks,
    }
}

#[test]
fn membership_is_kept_by_the_database_clock() {
    let db = TestDb::new();
    let mut store = open(&db);
    assert!(store.shared());
    assert!(store.runners().unwrap().runners.is_empty());
    let first = store.heartbeat(&runner("b-runner", 3)).unwrap();
    let wall = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    assert!((first.now_ms - wall).abs() < 60_000, "the database's clock: {} vs {wall}", first.now_ms);
    let me = &first.runners[0];
    assert_eq!((me.id.as_str(), me.checks, me.location.as_str()), ("b-runner", 3, "eu"));
    assert_eq!((me.started_at_ms, me.heartbeat_ms), (first.now_ms, first.now_ms));

    std::thread::sleep(Duration::from_millis(5));
    let mut other = open(&db);
    other.heartbeat(&runner("a-runner", 1)).unwrap();
    let again = store.heartbeat(&runner("b-runner", 4)).unwrap();
    let ids: Vec<&str> = again.runners.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["a-runner", "b-runner"], "ordered by id");
    let me = &again.runners[1];
    assert_eq!(me.started_at_ms, first.now_ms, "started when it first registered");
    assert!(me.heartbeat_ms > first.now_ms && me.checks == 4, "{me:?}");
    assert_eq!(other.runners().unwrap().runners, again.runners);

    // A runner silent for a day is forgotten at the next heartbeat.
    db.with(|c| {
        c.execute("UPDATE runners SET heartbeat_ms = heartbeat_ms - 86400001 WHERE id = 'a-runner'", &[]).unwrap()
    });
    assert_eq!(store.runners().unwrap().runners.len(), 2, "reading forgets no one");
    let after = store.heartbeat(&runner("b-runner", 4)).unwrap();
    assert_eq!(after.runners.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["b-runner"]);

    store.leave("b-runner").unwrap();
    assert!(other.runners().unwrap().runners.is_empty());
}

#[test]
fn the_public_open_returns_a_working_shared_store() {
    let db = TestDb::new();
    let mut store = crate::store::open(crate::store::StoreSpec::Postgres(db.spec())).unwrap();
    assert!(store.shared());
    let run = rich_run(42);
    store.write_run(&run, &[]).unwrap();
    assert_eq!(store.recent(None, usize::MAX).unwrap(), newest_first(run));
    assert!(store.integrity_check().unwrap().is_empty());
}

#[test]
fn integrity_check_finds_an_hour_both_sealed_and_raw() {
    let db = TestDb::new();
    let mut store = open(&db);
    let hour: Vec<CheckResult> = (0..3).map(|i| result("a", i * 1_000, Status::Ok)).collect();
    store.write_run(&hour, &[]).unwrap();
    let rollup = crate::report::rollup::rollup(
        "a",
        crate::report::rollup::Cadence {
            interval: Duration::from_secs(60),
            retries: 0,
            retry_interval: Duration::from_secs(60),
        },
        None,
        &hour,
        0,
    );
    store.seal_hour(&rollup, &hour).unwrap();
    assert!(store.integrity_check().unwrap().is_empty());
    store.write_run(&hour[..1], &[]).unwrap();
    let problems = store.integrity_check().unwrap();
    assert_eq!(problems, ["check \"a\", hour 0: is sealed and still has raw results"]);
}

#[test]
fn a_database_with_tables_of_another_program_is_refused() {
    let db = TestDb::new();
    db.with(|c| c.batch_execute("CREATE TABLE results (invoice BIGINT)").unwrap());
    let err = PgStore::open(&db.spec()).err().expect("refused");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("\"results\" already exists"), "{err}");
}

#[test]
fn recent_is_newest_first_filters_by_check_and_honours_the_limit() {
    let db = TestDb::new();
    let mut store = open(&db);
    store.write_run(&[result("a", 100, Status::Ok), result("b", 100, Status::Warning)], &[]).unwrap();
    store.write_run(&[result("a", 200, Status::Critical), result("b", 200, Status::Ok)], &[]).unwrap();
    store.write_run(&[result("a", 300, Status::Unknown)], &[]).unwrap();

    let a = store.recent(Some("a"), 10).unwrap();
    assert_eq!(a.iter().map(|r| r.started_at_ms).collect::<Vec<_>>(), [300, 200, 100]);
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
fn recent_observations_go_on_into_sealed_hours() {
    let db = TestDb::new();
    let mut store = open(&db);
    let sealed: Vec<CheckResult> =
        (0..4).map(|i| result("a", 600_000 * i, if i == 2 { Status::Critical } else { Status::Ok })).collect();
    store.write_run(&sealed, &[]).unwrap();
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
    store.write_run(&[result("a", 3_700_000, Status::Warning), result("a", 3_800_000, Status::Ok)], &[]).unwrap();
    assert_eq!(count(&db, "results"), 2, "the sealed hour left the raw rows");
    let got = store.recent_observations(&["a", "never"], 4).unwrap();
    let times: Vec<i64> = got["a"].iter().map(|o| o.started_at_ms).collect();
    assert_eq!(times, [1_200_000, 1_800_000, 3_700_000, 3_800_000]);
    assert_eq!(got["a"][0].status, Status::Critical);
    assert_eq!(got.len(), 1);
}
