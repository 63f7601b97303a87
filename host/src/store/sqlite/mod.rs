//! The SQLite [`ResultStore`]: one file, WAL journal, schema from `migrations.rs`. Split by
//! job: `results.rs` writes runs and reads results and events, `tiers.rs` seals hours into
//! blocks and rollups and prunes them, `migrations.rs` versions the schema.
//!
//! Every rusqlite error leaves this module through [`classify`], which turns SQLite's
//! result code into a [`StoreError`] a person can act on.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::rows::Decode;
use super::{ChangeKind, HourRollup, Observation, PackedHour, ResultStore, StoreError};

mod buffer;
mod migrations;
mod results;
mod tiers;
use crate::result::{CheckResult, EventRecord};

/// How long a statement waits for another connection's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Result columns, in the order [`read_result`] reads them.
const RESULT_COLUMNS: &str = "id, check_name, plugin, plugin_version, target, started_at_ms, \
     duration_us, status, summary, reason, details, state_type, attempt, metrics";

/// A result store in one SQLite file.
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    busy: Duration,
}

impl SqliteStore {
    /// Opens or creates the database at `path`, sets it up and migrates it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        Self::open_with(path, flags, BUSY_TIMEOUT)
    }

    /// [`SqliteStore::open`] with given open flags and busy timeout (tests use a short
    /// timeout and read-only flags).
    fn open_with(path: &Path, flags: OpenFlags, busy: Duration) -> Result<Self, StoreError> {
        precheck(path)?;
        let mut conn = Connection::open_with_flags(path, flags).map_err(|e| match classify(path, busy, e) {
            StoreError::CannotOpen { path, reason } => {
                let reason = io_reason(&path).unwrap_or(reason);
                StoreError::CannotOpen { path, reason }
            }
            other => other,
        })?;
        let err = |e| classify(path, busy, e);

        conn.busy_timeout(busy).map_err(err)?;
        // SQLite silently falls back to read-only when the file cannot be written.
        if conn.is_readonly("main").map_err(err)? {
            return Err(StoreError::ReadOnly { path: path.to_owned() });
        }
        // Takes effect only on a new, empty file: rollups and sealed hours are rows of 0.2 to
        // 3 KiB, which 16 KiB pages hold with little waste (4 KiB pages fit one 2.5 KiB row).
        conn.pragma_update(None, "page_size", 16_384).map_err(err)?;
        // The first statement reads the header: a file that is not a database fails here.
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0)).map_err(|e| {
            match classify(path, busy, e) {
                // The -wal and -shm files could not be created beside the database.
                StoreError::CannotOpen { path, .. } => StoreError::ReadOnly { path },
                other => other,
            }
        })?;
        if !mode.eq_ignore_ascii_case("wal") {
            if conn.is_readonly("main").map_err(err)? {
                return Err(StoreError::ReadOnly { path: path.to_owned() });
            }
            return Err(StoreError::Other {
                path: path.to_owned(),
                source: format!("cannot switch the journal to WAL mode (it stays {mode:?})").into(),
            });
        }
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(err)?;

        let applied = migrations::apply(&mut conn, path, busy)?;
        tracing::debug!(path = %path.display(), migrations = applied, "opened the result store");
        Ok(SqliteStore { conn, path: path.to_owned(), busy })
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        classify(&self.path, self.busy, e)
    }

    fn corrupt(&self, detail: String) -> StoreError {
        StoreError::Corrupt { path: self.path.clone(), detail }
    }
}

impl ResultStore for SqliteStore {
    fn write_run(&mut self, results: &[CheckResult], events: &[EventRecord]) -> Result<(), StoreError> {
        self.write_run_impl(results, events)
    }

    fn window(
        &self,
        check: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<(Option<CheckResult>, Vec<CheckResult>), StoreError> {
        self.window_impl(check, from_ms, to_ms, Decode::Whole)
    }

    fn window_timings(
        &self,
        check: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<(Option<CheckResult>, Vec<CheckResult>), StoreError> {
        self.window_impl(check, from_ms, to_ms, Decode::Timings)
    }

    fn events(&self, check: Option<&str>, limit: usize) -> Result<Vec<EventRecord>, StoreError> {
        self.events_impl(check, limit)
    }

    fn changes(
        &self,
        check: &str,
        kind: ChangeKind,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<(Option<EventRecord>, Vec<EventRecord>), StoreError> {
        self.changes_impl(check, kind, from_ms, to_ms)
    }

    fn rollups(&self, check: &str, from_ms: i64, to_ms: i64) -> Result<Vec<HourRollup>, StoreError> {
        self.rollups_impl(check, from_ms, to_ms)
    }

    fn unsealed_hours(&self, ended_by_ms: i64) -> Result<Vec<(String, i64)>, StoreError> {
        self.unsealed_hours_impl(ended_by_ms)
    }

    fn seal_hour(&mut self, rollup: &HourRollup, results: &[CheckResult]) -> Result<(), StoreError> {
        self.seal_hour_impl(rollup, results)
    }

    fn seal_packed(&mut self, hours: &[PackedHour]) -> Result<(), StoreError> {
        self.seal_packed_impl(hours)
    }

    fn prune(&mut self, before_ms: i64, batch: usize) -> Result<usize, StoreError> {
        self.prune_impl(before_ms, batch)
    }

    fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        // Every page, index and constraint; "ok" alone means sound.
        let mut statement = self.conn.prepare("PRAGMA integrity_check").map_err(|e| self.err(e))?;
        let rows = statement.query_map([], |r| r.get::<_, String>(0)).map_err(|e| self.err(e))?;
        let mut problems = Vec::new();
        for row in rows {
            let line = row.map_err(|e| self.err(e))?;
            if line != "ok" {
                problems.push(line);
            }
        }
        Ok(problems)
    }

    fn oldest_sealed_hour(&self, check: &str) -> Result<Option<i64>, StoreError> {
        self.conn
            .prepare_cached("SELECT min(hour_ms) FROM sealed_hours WHERE check_name = ?1")
            .and_then(|mut s| s.query_row([check], |r| r.get(0)))
            .map_err(|e| self.err(e))
    }

    fn pending_phase_days(&self, before_ms: i64) -> Result<Vec<(String, i64)>, StoreError> {
        self.pending_phase_days_impl(before_ms)
    }

    fn compact_phases(&mut self, check: &str, day_ms: i64, phases: &[u8]) -> Result<(), StoreError> {
        self.compact_phases_impl(check, day_ms, phases)
    }

    fn daily_phases(&self, check: &str, from_ms: i64, to_ms: i64) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        self.daily_phases_impl(check, from_ms, to_ms)
    }

    fn recent(&self, check: Option<&str>, limit: usize) -> Result<Vec<CheckResult>, StoreError> {
        self.recent_impl(check, limit)
    }

    fn recent_observations(
        &self,
        checks: &[&str],
        limit: usize,
    ) -> Result<HashMap<String, Vec<Observation>>, StoreError> {
        self.recent_observations_impl(checks, limit)
    }
}

/// A duration in whole milliseconds, rounded up (a run that took 0.3 ms ends after it began).
fn ceil_millis(d: Duration) -> i64 {
    i64::try_from(d.as_micros().div_ceil(1000)).unwrap_or(i64::MAX)
}

/// Turns a rusqlite error about the database at `path` into a [`StoreError`], by SQLite's
/// primary result code. `busy` is the busy timeout, reported by the locked error.
pub(super) fn classify(path: &Path, busy: Duration, err: rusqlite::Error) -> StoreError {
    let path = path.to_owned();
    match &err {
        rusqlite::Error::SqliteFailure(e, message) => {
            let detail = || message.clone().unwrap_or_else(|| e.to_string());
            match e.code {
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StoreError::Locked { path, waited: busy },
                ErrorCode::ReadOnly => StoreError::ReadOnly { path },
                ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt => StoreError::Corrupt { path, detail: detail() },
                ErrorCode::CannotOpen | ErrorCode::PermissionDenied => {
                    StoreError::CannotOpen { path, reason: detail() }
                }
                ErrorCode::DiskFull => StoreError::DiskFull { path },
                // SQLITE_TOOBIG ("string or blob too big"), SQLITE_CONSTRAINT, SQLITE_MISMATCH.
                ErrorCode::TooBig | ErrorCode::ConstraintViolation | ErrorCode::TypeMismatch => {
                    StoreError::Rejected { path, detail: detail() }
                }
                _ => StoreError::Other { path, source: Box::new(err) },
            }
        }
        // A value that has no SQLite form.
        rusqlite::Error::ToSqlConversionFailure(_) => StoreError::Rejected { path, detail: err.to_string() },
        // A column holding what the schema says it cannot.
        rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::IntegralValueOutOfRange(..) => StoreError::Corrupt { path, detail: err.to_string() },
        _ => StoreError::Other { path, source: Box::new(err) },
    }
}

/// Refuses, with a plain reason, paths SQLite would only call "unable to open".
fn precheck(path: &Path) -> Result<(), StoreError> {
    let cannot = |reason: String| StoreError::CannotOpen { path: path.to_owned(), reason };
    if path.as_os_str().is_empty() {
        return Err(cannot("the path is empty".into()));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        match fs::metadata(parent) {
            Ok(m) if !m.is_dir() => {
                return Err(cannot(format!("{} is not a directory", parent.display())));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(cannot(format!("directory {} does not exist", parent.display())));
            }
            Err(e) => return Err(cannot(format!("directory {}: {e}", parent.display()))),
        }
    }
    if path.is_dir() {
        return Err(cannot("it is a directory".into()));
    }
    Ok(())
}

/// The operating system's reason the file cannot be opened for reading and writing, or
/// created, if it gives one.
fn io_reason(path: &Path) -> Option<String> {
    if path.exists() {
        return fs::OpenOptions::new().read(true).write(true).open(path).err().map(|e| e.to_string());
    }
    match fs::OpenOptions::new().write(true).create_new(true).open(path) {
        Err(e) => Some(format!("cannot create it: {e}")),
        Ok(_) => {
            // It could be created after all: leave no empty file behind.
            let _ = fs::remove_file(path);
            None
        }
    }
}

#[cfg(test)]
mod tests;
