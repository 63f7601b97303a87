//! The result store: every [`CheckResult`] a run produces is written to an embedded
//! database (SQLite, `vitals.db`) for history and, later, SLA reports.
//!
//! The store is behind the [`ResultStore`] trait: callers only ever see
//! `Box<dyn ResultStore>` from [`open`] and the backend-neutral [`StoreError`], whether it
//! is the embedded SQLite file ([`StoreSpec::Sqlite`]) or a PostgreSQL database that
//! several runners share ([`StoreSpec::Postgres`]). Nothing of `rusqlite` or `postgres`
//! leaks out.
//!
//! What is stored, and how faithfully:
//! - one `runs` row per [`ResultStore::write_run`] call, and one `results` row per result,
//!   written in a single transaction: a run is either all there or not there at all;
//! - durations are kept at microsecond precision (anything finer is dropped);
//! - metrics keep their order; a metric whose value is NaN or infinite is skipped
//!   (logged at debug level), and a non-finite `min`/`max` is stored as absent, because
//!   SQLite cannot hold NaN in a `REAL` column and reports could not use it anyway.
//!
//! The schema is versioned (see `migrations.rs`); a database written by a newer
//! Vitals is refused rather than misread.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::result::EventRecord;
use crate::result::{CheckResult, Status};

pub mod blocks;
mod buffer;
#[cfg(test)]
mod fixtures_tests;
mod null;
mod postgres;
mod rows;
mod spec;
mod sqlite;

pub use buffer::{Buffered, MAX_BUFFERED_RESULTS};
pub use null::NullStore;
pub use spec::{PostgresSpec, StoreSpec};

/// One hour in milliseconds: the unit results are sealed and rolled up in.
pub const HOUR_MS: i64 = 3_600_000;

/// Counts of results by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StatusCounts {
    /// Results whose status was ok.
    pub ok: u64,
    /// Results whose status was warning.
    pub warning: u64,
    /// Results whose status was critical.
    pub critical: u64,
    /// Results whose status was unknown.
    pub unknown: u64,
}

/// One check's hour `[hour_ms, hour_ms + 1h)`, summarised when its raw results were
/// sealed: what long reports read instead of the raw results.
#[derive(Debug, Clone, PartialEq)]
pub struct HourRollup {
    /// The check's name.
    pub check: String,
    /// The hour's first millisecond (a multiple of [`HOUR_MS`]).
    pub hour_ms: i64,
    /// Time counted up in the hour (HARD rule, warning up, no maintenance cut out).
    pub up_ms: i64,
    /// The part of `up_ms` in a HARD warning (degraded). Hours sealed before Vitals recorded
    /// it (schema 3 and older) read 0.
    pub degraded_ms: i64,
    /// Time counted down in the hour.
    pub down_ms: i64,
    /// Time without results in the hour.
    pub no_data_ms: i64,
    /// Results by status.
    pub counts: StatusCounts,
    /// SOFT results.
    pub soft: u64,
    /// HARD results (and results without a state).
    pub hard: u64,
    /// The response-time sketch of the hour (see `report::latency`), if it had results.
    pub latency: Option<Vec<u8>>,
    /// Sketches of the timing phases the plugin reported (see `report::rollup`).
    pub phases: Option<Vec<u8>>,
}

/// One check-hour made ready to seal: its rollup, and its results packed into the block
/// [`ResultStore::seal_hour`] would store ([`blocks::pack`]). Packing (zstd) is most of what
/// sealing costs, so whoever seals many hours at once (the history generator of the
/// benchmarks) packs them on several threads and seals them together with
/// [`ResultStore::seal_packed`]: the rows are the same as hour by hour.
#[derive(Debug, Clone, PartialEq)]
pub struct PackedHour {
    /// The hour's rollup.
    pub rollup: HourRollup,
    /// How many results the block holds (none: the hour has no block).
    pub results: usize,
    /// The packed results.
    pub block: Vec<u8>,
}

impl PackedHour {
    /// Packs `results` (every result of the hour, as [`ResultStore::window`] returns them)
    /// beside `rollup`. Fails only if compressing fails (out of memory).
    pub fn pack(rollup: HourRollup, results: &[CheckResult]) -> std::io::Result<PackedHour> {
        let mut block = blocks::pack(results)?;
        // The compressor sizes its output for the worst case, about 16 times a block.
        block.shrink_to_fit();
        Ok(PackedHour { rollup, results: results.len(), block })
    }
}

/// Which state events [`ResultStore::changes`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// HARD state changes (`Event::HardChange`).
    Hard,
    /// Flapping starts and stops (`Event::FlappingStarted`, `Event::FlappingStopped`).
    Flapping,
}

/// One past result, as much of it as a check's state needs: when it started and how it
/// ended. What a runner replays to carry each check's SOFT/HARD and flapping state on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    /// When the run started, in milliseconds since the Unix epoch.
    pub started_at_ms: i64,
    /// Its status.
    pub status: Status,
}

/// One runner as the membership table of a shared store holds it (`vitals runners`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunnerInfo {
    /// The runner's id, unique among the runners of the store (host name and process id
    /// unless `--runner-id` names it).
    pub id: String,
    /// Its `--location` (empty: none).
    pub location: String,
    /// The Vitals version it runs.
    pub version: String,
    /// When it first registered, in milliseconds since the Unix epoch (the database's clock).
    pub started_at_ms: i64,
    /// Its last heartbeat, in milliseconds since the Unix epoch (the database's clock).
    pub heartbeat_ms: i64,
    /// How many checks it owned at its last heartbeat.
    pub checks: u64,
}

/// The runners registered in a shared store, read at one instant of the database's clock:
/// every runner judges the others' heartbeats against the same clock, so a runner whose own
/// clock is off neither expires its peers early nor keeps a dead one alive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The database's clock when it answered, in milliseconds since the Unix epoch.
    pub now_ms: i64,
    /// Every registered runner, ordered by id; expired ones included.
    pub runners: Vec<RunnerInfo>,
}

/// Where check results are kept.
pub trait ResultStore: Send {
    /// Writes the results of one run and the events they caused in one transaction:
    /// all or nothing.
    ///
    /// Empty slices write nothing (not even a `runs` row).
    fn write_run(&mut self, results: &[CheckResult], events: &[EventRecord]) -> Result<(), StoreError>;

    /// The results of `check` that started in `[from_ms, to_ms)`, oldest first, and the
    /// last one before `from_ms` (the state the window starts in).
    fn window(
        &self,
        check: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<(Option<CheckResult>, Vec<CheckResult>), StoreError>;

    /// What [`ResultStore::window`] returns, but of each result only what the time-weighted
    /// figures and the latency sketches read: its start, duration, status and state, and its
    /// `time_*` metrics (name, value, unit). Every other field is empty. A store that keeps
    /// results packed decodes them without the rest (its strings are most of the work); the
    /// default reads them whole and drops it.
    fn window_timings(
        &self,
        check: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<(Option<CheckResult>, Vec<CheckResult>), StoreError> {
        let (before, inside) = self.window(check, from_ms, to_ms)?;
        Ok((before.map(CheckResult::into_timings), inside.into_iter().map(CheckResult::into_timings).collect()))
    }

    /// The state-change events, newest first, optionally of one check.
    fn events(&self, check: Option<&str>, limit: usize) -> Result<Vec<EventRecord>, StoreError>;

    /// The newest results, newest first, optionally of one check (used by tests now,
    /// reports later).
    fn recent(&self, check: Option<&str>, limit: usize) -> Result<Vec<CheckResult>, StoreError>;

    /// For each of `checks`, the observations of its newest `limit` results (sealed hours
    /// included), oldest first; a check without results is absent. A store answers it in
    /// as few queries as it can: a run of thousands of checks asks it once, not once per
    /// check.
    fn recent_observations(
        &self,
        checks: &[&str],
        limit: usize,
    ) -> Result<HashMap<String, Vec<Observation>>, StoreError> {
        let mut out = HashMap::new();
        for check in checks {
            let mut seen: Vec<Observation> = self
                .recent(Some(check), limit)?
                .iter()
                .map(|r| Observation { started_at_ms: r.started_at_ms, status: r.status })
                .collect();
            if !seen.is_empty() {
                seen.reverse();
                out.insert((*check).to_owned(), seen);
            }
        }
        Ok(out)
    }

    /// The state events of one `kind` of `check` in `[from_ms, to_ms)`, oldest first, and
    /// the last one before `from_ms` (the state the window starts in): the HARD changes, or
    /// the flapping starts and stops.
    fn changes(
        &self,
        check: &str,
        kind: ChangeKind,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<(Option<EventRecord>, Vec<EventRecord>), StoreError>;

    /// The rollups of `check` for the hours that lie wholly inside `[from_ms, to_ms)`,
    /// oldest first.
    fn rollups(&self, check: &str, from_ms: i64, to_ms: i64) -> Result<Vec<HourRollup>, StoreError>;

    /// The (check, hour) pairs that still have unsealed raw results in an hour that ended
    /// at or before `ended_by_ms`, oldest first.
    fn unsealed_hours(&self, ended_by_ms: i64) -> Result<Vec<(String, i64)>, StoreError>;

    /// Seals one check-hour in one transaction: packs `results` (every result of the hour,
    /// as `window` returns them) into the hour's block, stores `rollup`, and deletes the
    /// hour's unsealed rows. A crash leaves the hour either sealed or as it was.
    fn seal_hour(&mut self, rollup: &HourRollup, results: &[CheckResult]) -> Result<(), StoreError>;

    /// Seals check-hours packed beforehand ([`PackedHour::pack`]), all in one transaction:
    /// for each, exactly what [`ResultStore::seal_hour`] does with the same results. The
    /// default unpacks each hour and seals it with `seal_hour`, one transaction each.
    fn seal_packed(&mut self, hours: &[PackedHour]) -> Result<(), StoreError> {
        for hour in hours {
            let results = if hour.results == 0 {
                Vec::new()
            } else {
                blocks::unpack(&hour.rollup.check, &hour.block).map_err(|e| StoreError::Rejected {
                    path: PathBuf::new(),
                    detail: format!("a packed hour of {}: {e}", hour.rollup.check),
                })?
            };
            self.seal_hour(&hour.rollup, &results)?;
        }
        Ok(())
    }

    /// The (check, UTC day) pairs whose hourly rollups still hold phase sketches, for days
    /// that ended at or before `before_ms`, oldest first.
    fn pending_phase_days(&self, before_ms: i64) -> Result<Vec<(String, i64)>, StoreError>;

    /// Replaces the hourly phase sketches of `check`'s day `day_ms` by one daily blob (empty:
    /// none), in one transaction.
    fn compact_phases(&mut self, check: &str, day_ms: i64, phases: &[u8]) -> Result<(), StoreError>;

    /// The daily phase blobs of `check` for the days that overlap `[from_ms, to_ms)`.
    fn daily_phases(&self, check: &str, from_ms: i64, to_ms: i64) -> Result<Vec<(i64, Vec<u8>)>, StoreError>;

    /// The first hour of `check` whose raw results are still kept sealed, if any: before it,
    /// only rollups remain.
    fn oldest_sealed_hour(&self, check: &str) -> Result<Option<i64>, StoreError>;

    /// Deletes sealed raw results of hours that ended at or before
    /// `before_ms`, at most `batch` hours per call so writers are never held up for long.
    /// Rollups and events are kept. Returns the hours deleted.
    fn prune(&mut self, before_ms: i64, batch: usize) -> Result<usize, StoreError>;

    /// Checks the store's own consistency (`vitals store check`): the problems found,
    /// none when it is sound. A store with nothing to check has no problems.
    fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        Ok(Vec::new())
    }

    /// Whether several runners can share this store (it keeps a membership table). A store
    /// that is not shared has one runner, the process that holds it, which owns every check.
    fn shared(&self) -> bool {
        false
    }

    /// Registers `me` or refreshes its heartbeat (the store's clock stamps it; `me`'s
    /// `started_at_ms` and `heartbeat_ms` are ignored), forgets runners whose heartbeat is
    /// a day old, and returns the membership as it is now. Only a [`ResultStore::shared`]
    /// store keeps one.
    fn heartbeat(&mut self, me: &RunnerInfo) -> Result<Membership, StoreError> {
        let _ = me;
        Err(StoreError::NotShared)
    }

    /// The membership as it is now, without registering anyone.
    fn runners(&self) -> Result<Membership, StoreError> {
        Err(StoreError::NotShared)
    }

    /// Removes runner `id` from the membership (a clean stop: its checks move at once,
    /// without waiting for its heartbeat to expire).
    fn leave(&mut self, id: &str) -> Result<(), StoreError> {
        let _ = id;
        Ok(())
    }
}

/// Opens the store `spec` names (a path is an SQLite file), sets it up and brings its
/// schema up to date.
///
/// An SQLite file is created if needed; opening fails here, not on the first write, when
/// the file is read-only, corrupt, not a Vitals database, of a newer schema, or cannot be
/// created (for example because its directory does not exist: the directory is not
/// created). A PostgreSQL database must exist; its schema is created in it. It fails when
/// the server cannot be reached, refuses the login, or holds a newer schema.
pub fn open(spec: impl Into<StoreSpec>) -> Result<Box<dyn ResultStore>, StoreError> {
    match spec.into() {
        StoreSpec::Sqlite(path) => Ok(Box::new(sqlite::SqliteStore::open(&path)?)),
        StoreSpec::Postgres(spec) => open_postgres(&spec),
    }
}

/// Opens the PostgreSQL store of `spec`.
fn open_postgres(spec: &PostgresSpec) -> Result<Box<dyn ResultStore>, StoreError> {
    Ok(Box::new(postgres::PgStore::open(spec)?))
}

/// Why the store could not do what was asked. Every message names the database (the
/// SQLite file, or the PostgreSQL URL with its password hidden, held in `path`) and says
/// what a person can do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another connection held the database longer than the busy timeout.
    #[error(
        "{} is locked by another process (busy for {}); is another vitals running?",
        path.display(),
        Wait(*waited)
    )]
    Locked {
        /// The database file.
        path: PathBuf,
        /// How long the store waited before giving up.
        waited: Duration,
    },

    /// The file, or the directory it is in (for the journal files), cannot be written.
    #[error("cannot write {}: the file or its directory is read-only", path.display())]
    ReadOnly {
        /// The database file.
        path: PathBuf,
    },

    /// The file is not a database, is damaged, belongs to another program, or holds data
    /// this program cannot make sense of.
    #[error(
        "{} is not a Vitals database or is corrupt: {detail}; move it aside to start a new one",
        path.display()
    )]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What was wrong, as the database or the reader saw it.
        detail: String,
    },

    /// The database was written by a newer Vitals with a schema this one does not know.
    #[error(
        "{} was written by a newer Vitals (schema {found}, this one knows up to {known}); upgrade vitals",
        path.display()
    )]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// The schema version found in the file.
        found: i64,
        /// The newest schema version this program knows.
        known: i64,
    },

    /// The file could not be opened or created.
    #[error("cannot open {}: {reason}", path.display())]
    CannotOpen {
        /// The database file.
        path: PathBuf,
        /// Why, as the operating system or the database reported it.
        reason: String,
    },

    /// The disk (or a quota) is full.
    #[error("cannot write {}: the disk is full; free some space", path.display())]
    DiskFull {
        /// The database file.
        path: PathBuf,
    },

    /// The database refused the data itself, not the write: a value too big for it, a
    /// constraint it breaks. Writing the same data again fails the same way; other data
    /// would be written (see [`StoreError::is_about_the_data`]).
    #[error("{}: the database refused the data: {detail}", path.display())]
    Rejected {
        /// The database file.
        path: PathBuf,
        /// What the database said about the data.
        detail: String,
    },

    /// The server could not be reached, or the connection to it was lost: the same write
    /// may succeed once it is back (a runner buffers results meanwhile).
    #[error("{}: cannot reach the database server: {reason}", path.display())]
    Unreachable {
        /// The database.
        path: PathBuf,
        /// Why, as the client saw it.
        reason: String,
    },

    /// A membership call on a store that several runners cannot share.
    #[error(
        "an SQLite store is not shared by runners and keeps no membership; runners share a PostgreSQL store (--store postgres://...)"
    )]
    NotShared,

    /// Any other database failure.
    #[error("{}: database error: {source}", path.display())]
    Other {
        /// The database file.
        path: PathBuf,
        /// The backend's error.
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

impl StoreError {
    /// The database the error is about (empty for [`StoreError::NotShared`]).
    pub fn path(&self) -> &Path {
        match self {
            StoreError::Locked { path, .. }
            | StoreError::ReadOnly { path }
            | StoreError::Corrupt { path, .. }
            | StoreError::NewerSchema { path, .. }
            | StoreError::CannotOpen { path, .. }
            | StoreError::DiskFull { path }
            | StoreError::Rejected { path, .. }
            | StoreError::Unreachable { path, .. }
            | StoreError::Other { path, .. } => path,
            StoreError::NotShared => Path::new(""),
        }
    }

    /// Whether the error is about the data written rather than about the database: the
    /// same write fails again however long one waits, while a write of other data would
    /// succeed. A locked, full, read-only or unreadable database is not about the data.
    pub fn is_about_the_data(&self) -> bool {
        matches!(self, StoreError::Rejected { .. })
    }
}

/// A wait shown as `5s` or, below whole seconds, `250ms`.
struct Wait(Duration);

impl fmt::Display for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms.is_multiple_of(1000) { write!(f, "{}s", ms / 1000) } else { write!(f, "{ms}ms") }
    }
}
