//! Ordered schema migrations of the SQLite store.
//!
//! Migration `n` (1-based) is `MIGRATIONS[n - 1]`; the version a database is at is kept
//! in `PRAGMA user_version` (0 for a new, empty file). Pending migrations are applied in
//! one `BEGIN IMMEDIATE` transaction together with the version bump, so a crash leaves
//! the database at its old version, and two processes opening a new file at once cannot
//! both migrate it. Migrations are append-only: never edit one that has shipped.
//!
//! The schema sticks to what PostgreSQL can express the same way (integer epoch
//! milliseconds, text words for enums, surrogate integer keys, an explicit metric
//! position instead of SQLite's rowid order) so a later PostgreSQL store can share it.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;
use super::classify;

/// `PRAGMA application_id` of a Vitals database: "Vita" in ASCII.
pub(super) const APPLICATION_ID: i64 = 0x5669_7461;

/// The migrations, oldest first.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: runs, results, metrics.
    //
    // SLA reports read one check over a time window: `results_check_time` serves
    // `WHERE check_name = ? AND started_at_ms BETWEEN ? AND ?` and newest-first listings;
    // `results_time` serves all-check windows and retention pruning; `results_run` serves
    // the foreign key from `runs`. Metrics are clustered by result, in their original order.
    "
    CREATE TABLE runs (
        id             INTEGER PRIMARY KEY,
        started_at_ms  INTEGER NOT NULL,
        finished_at_ms INTEGER NOT NULL,
        checks         INTEGER NOT NULL
    );

    CREATE TABLE results (
        id             INTEGER PRIMARY KEY,
        run_id         INTEGER NOT NULL REFERENCES runs(id),
        check_name     TEXT NOT NULL,
        plugin         TEXT NOT NULL,
        plugin_version TEXT NOT NULL,
        target         TEXT NOT NULL,
        started_at_ms  INTEGER NOT NULL,
        duration_us    INTEGER NOT NULL,
        status         TEXT NOT NULL CHECK (status IN ('ok','warning','critical','unknown')),
        summary        TEXT NOT NULL,
        reason         TEXT,
        details        TEXT
    );
    CREATE INDEX results_check_time ON results (check_name, started_at_ms);
    CREATE INDEX results_time ON results (started_at_ms);
    CREATE INDEX results_run ON results (run_id);

    CREATE TABLE metrics (
        result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
        position  INTEGER NOT NULL,
        name      TEXT NOT NULL,
        value     REAL NOT NULL,
        unit      TEXT NOT NULL,
        warn      TEXT,
        crit      TEXT,
        min       REAL,
        max       REAL,
        PRIMARY KEY (result_id, position)
    ) WITHOUT ROWID;
    ",
    // 2: the state each result produced (SOFT/HARD and the attempt, empty for results
    // stored before the state machine existed), and the state-change events.
    "
    ALTER TABLE results ADD COLUMN state_type TEXT CHECK (state_type IN ('soft','hard'));
    ALTER TABLE results ADD COLUMN attempt INTEGER;

    CREATE TABLE events (
        id           INTEGER PRIMARY KEY,
        check_name   TEXT NOT NULL,
        at_ms        INTEGER NOT NULL,
        kind         TEXT NOT NULL CHECK (kind IN ('hard_change','flapping_started','flapping_stopped')),
        from_status  TEXT,
        to_status    TEXT,
        flap_percent REAL,
        summary      TEXT NOT NULL
    );
    CREATE INDEX events_check_time ON events (check_name, at_ms);
    ",
    "
    CREATE TABLE sealed_hours (
        check_name TEXT NOT NULL,
        hour_ms    INTEGER NOT NULL,
        results    INTEGER NOT NULL,
        block      BLOB NOT NULL,
        PRIMARY KEY (check_name, hour_ms)
    ) WITHOUT ROWID;
    CREATE INDEX sealed_hours_time ON sealed_hours (hour_ms);

    CREATE TABLE hourly (
        check_name TEXT NOT NULL,
        hour_ms    INTEGER NOT NULL,
        up_ms      INTEGER NOT NULL,
        down_ms    INTEGER NOT NULL,
        no_data_ms INTEGER NOT NULL,
        ok         INTEGER NOT NULL,
        warning    INTEGER NOT NULL,
        critical   INTEGER NOT NULL,
        unknown    INTEGER NOT NULL,
        soft       INTEGER NOT NULL,
        hard       INTEGER NOT NULL,
        latency    BLOB,
        PRIMARY KEY (check_name, hour_ms)
    ) WITHOUT ROWID;

    CREATE TABLE hourly_phases (
        check_name TEXT NOT NULL,
        hour_ms    INTEGER NOT NULL,
        phases     BLOB NOT NULL,
        PRIMARY KEY (check_name, hour_ms)
    ) WITHOUT ROWID;
    CREATE INDEX hourly_phases_time ON hourly_phases (hour_ms);

    CREATE TABLE daily_phases (
        check_name TEXT NOT NULL,
        day_ms     INTEGER NOT NULL,
        phases     BLOB NOT NULL,
        PRIMARY KEY (check_name, day_ms)
    ) WITHOUT ROWID;
    ",
    // 4: the degraded part of an hour's up time (HARD warning), which reports show beside
    // availability. Hours sealed before read 0: their raw results may be gone.
    "
    ALTER TABLE hourly ADD COLUMN degraded_ms INTEGER NOT NULL DEFAULT 0;
    ",
    // 5: a result's metrics in its own row, as one JSON array (NULL for none), instead of
    // a row per metric: one insert per result rather than seven, and a read without a
    // second lookup. The rows of the `metrics` table move into the column, in order.
    "
    ALTER TABLE results ADD COLUMN metrics TEXT;
    UPDATE results SET metrics = (
        SELECT json_group_array(json_object('name', name, 'value', value, 'unit', unit,
                   'warn', warn, 'crit', crit, 'min', min, 'max', max) ORDER BY position)
        FROM metrics WHERE result_id = results.id)
    WHERE EXISTS (SELECT 1 FROM metrics WHERE result_id = results.id);
    DROP TABLE metrics;
    ",
];

/// The newest schema version this program knows.
#[cfg(test)]
pub(super) fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the database up to [`latest`], returning how many migrations were applied
/// (0 when it already was). Refuses a database of a newer schema, or one that belongs to
/// another program.
pub(super) fn apply(conn: &mut Connection, path: &Path, busy: Duration) -> Result<usize, StoreError> {
    apply_list(conn, path, busy, MIGRATIONS)
}

/// [`apply`] with a given list of migrations (tests use their own).
fn apply_list(conn: &mut Connection, path: &Path, busy: Duration, migrations: &[&str]) -> Result<usize, StoreError> {
    let sql = |e| classify(path, busy, e);
    let known = migrations.len() as i64;

    // A cheap look first: most opens find the schema current and need no write lock.
    let found = check(conn, path, known).map_err(|e| e.into_store(path, busy))?;
    if found == known {
        return Ok(0);
    }

    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
    // Read again under the lock: another vitals may have migrated it meanwhile.
    let found = check(&tx, path, known).map_err(|e| e.into_store(path, busy))?;
    if found == known {
        return Ok(0);
    }
    if found == 0 {
        let foreign: i64 = tx
            .query_row("SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'", [], |r| {
                r.get(0)
            })
            .map_err(sql)?;
        if foreign > 0 {
            return Err(StoreError::Corrupt {
                path: path.to_owned(),
                detail: "it holds tables Vitals did not create and no Vitals schema version".into(),
            });
        }
        tx.pragma_update(None, "application_id", APPLICATION_ID).map_err(sql)?;
    }
    let from = usize::try_from(found).unwrap_or(0);
    for (index, migration) in migrations.iter().enumerate().skip(from) {
        tx.execute_batch(migration).map_err(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1).map_err(sql)?;
    }
    tx.commit().map_err(sql)?;
    let applied = migrations.len() - from;
    tracing::info!(path = %path.display(), from = found, to = known, "migrated the result store");
    Ok(applied)
}

/// Why [`check`] refused, before a path and busy timeout are known to it.
enum Refusal {
    Sqlite(rusqlite::Error),
    Store(StoreError),
}

impl Refusal {
    fn into_store(self, path: &Path, busy: Duration) -> StoreError {
        match self {
            Refusal::Sqlite(e) => classify(path, busy, e),
            Refusal::Store(e) => e,
        }
    }
}

/// Reads the schema version and application id, refusing what this program cannot use.
fn check(conn: &Connection, path: &Path, known: i64) -> Result<i64, Refusal> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(Refusal::Sqlite)?;
    let app: i64 = conn.pragma_query_value(None, "application_id", |r| r.get(0)).map_err(Refusal::Sqlite)?;
    if app != 0 && app != APPLICATION_ID {
        return Err(Refusal::Store(StoreError::Corrupt {
            path: path.to_owned(),
            detail: format!("it belongs to another program (application_id {app:#x})"),
        }));
    }
    if found > known {
        return Err(Refusal::Store(StoreError::NewerSchema { path: path.to_owned(), found, known }));
    }
    if found < 0 {
        return Err(Refusal::Store(StoreError::Corrupt {
            path: path.to_owned(),
            detail: format!("schema version {found} is negative"),
        }));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> (tempfile::TempDir, std::path::PathBuf, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vitals.db");
        let conn = Connection::open(&path).unwrap();
        (dir, path, conn)
    }

    const BUSY: Duration = Duration::from_secs(5);

    #[test]
    fn a_new_database_gets_every_migration_and_the_latest_version() {
        let (_dir, path, mut conn) = fresh();
        assert_eq!(apply(&mut conn, &path, BUSY).unwrap(), MIGRATIONS.len());
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, latest());
        let app: i64 = conn.pragma_query_value(None, "application_id", |r| r.get(0)).unwrap();
        assert_eq!(app, APPLICATION_ID);
        for table in ["runs", "results", "events", "sealed_hours", "hourly"] {
            let n: i64 = conn
                .query_row("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1", [table], |r| {
                    r.get(0)
                })
                .unwrap();
            assert_eq!(n, 1, "{table}");
        }
    }

    #[test]
    fn applying_again_runs_nothing_and_keeps_data() {
        let (_dir, path, mut conn) = fresh();
        apply(&mut conn, &path, BUSY).unwrap();
        conn.execute("INSERT INTO runs (started_at_ms, finished_at_ms, checks) VALUES (1, 2, 0)", []).unwrap();
        assert_eq!(apply(&mut conn, &path, BUSY).unwrap(), 0);
        let n: i64 = conn.query_row("SELECT count(*) FROM runs", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn a_newer_schema_is_refused_and_left_untouched() {
        let (_dir, path, mut conn) = fresh();
        conn.pragma_update(None, "user_version", 7).unwrap();
        let err = apply(&mut conn, &path, BUSY).unwrap_err();
        assert!(matches!(err, StoreError::NewerSchema { found: 7, known: 5, .. }), "{err:?}");
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, 7);
    }

    #[test]
    fn a_database_of_another_program_is_refused() {
        let (_dir, path, mut conn) = fresh();
        conn.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY)").unwrap();
        let err = apply(&mut conn, &path, BUSY).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");

        let (_dir, path, mut conn) = fresh();
        conn.pragma_update(None, "application_id", 42).unwrap();
        let err = apply(&mut conn, &path, BUSY).unwrap_err();
        assert!(err.to_string().contains("application_id 0x2a"), "{err}");
    }

    #[test]
    fn a_failing_migration_leaves_the_database_as_it_was() {
        let (_dir, path, mut conn) = fresh();
        let list = ["CREATE TABLE a (x)", "CREATE TABLE b (x", "CREATE TABLE c (x)"];
        assert!(apply_list(&mut conn, &path, BUSY, &list).is_err());
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, 0);
        let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0)).unwrap();
        assert_eq!(tables, 0, "migration 1 was rolled back with the failing 2");
    }

    #[test]
    fn only_the_pending_migrations_run() {
        let (_dir, path, mut conn) = fresh();
        assert_eq!(apply_list(&mut conn, &path, BUSY, &["CREATE TABLE a (x)"]).unwrap(), 1);
        let list = ["CREATE TABLE a (x)", "CREATE TABLE b (x)"];
        assert_eq!(apply_list(&mut conn, &path, BUSY, &list).unwrap(), 1);
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, 2);
    }

    #[test]
    fn migration_5_moves_each_results_metric_rows_into_its_metrics_column_in_order() {
        let (_dir, path, mut conn) = fresh();
        apply_list(&mut conn, &path, BUSY, &MIGRATIONS[..4]).unwrap();
        conn.execute_batch(
            "INSERT INTO runs (id, started_at_ms, finished_at_ms, checks) VALUES (1, 0, 1, 2);
             INSERT INTO results (id, run_id, check_name, plugin, plugin_version, target, started_at_ms,
                 duration_us, status, summary) VALUES
               (1, 1, 'web', 'http', '1', 't', 0, 5, 'ok', 'fine'),
               (2, 1, 'bare', 'http', '1', 't', 0, 5, 'ok', 'no metrics');
             INSERT INTO metrics (result_id, position, name, value, unit, warn, crit, min, max) VALUES
               (1, 1, 'second', 2.5, 'ms', '10', '@0:5', 0.0, NULL),
               (1, 0, 'first', 1.0, '', NULL, NULL, NULL, 100.0);",
        )
        .unwrap();
        drop(conn);

        let store = super::super::SqliteStore::open(&path).unwrap();
        let mut back = crate::store::ResultStore::recent(&store, None, 10).unwrap();
        back.sort_by(|a, b| a.check.cmp(&b.check));
        assert!(back[0].metrics.is_empty(), "{:?}", back[0].metrics);
        let names: Vec<&str> = back[1].metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["first", "second"]);
        let second = &back[1].metrics[1];
        assert_eq!((second.value, second.unit.as_str()), (2.5, "ms"));
        assert_eq!((second.warn.as_deref(), second.crit.as_deref()), (Some("10"), Some("@0:5")));
        assert_eq!((second.min, second.max), (Some(0.0), None));
        assert_eq!(back[1].metrics[0].max, Some(100.0));
        let gone: i64 = store_tables(&path, "metrics");
        assert_eq!(gone, 0, "the metrics table is dropped");
    }

    fn store_tables(path: &Path, name: &str) -> i64 {
        let conn = Connection::open(path).unwrap();
        conn.query_row("SELECT count(*) FROM sqlite_schema WHERE name = ?1", [name], |r| r.get(0)).unwrap()
    }
}
