//! The SQLite store as the local buffer of a runner whose shared store is unreachable
//! (`store::buffer`): the oldest writes handed on, then forgotten.

use rusqlite::params;

use super::{RESULT_COLUMNS, SqliteStore, classify};
use crate::result::{CheckResult, EventRecord};
use crate::store::StoreError;

/// The oldest results and events of a buffer, and the last row ids they reach.
#[derive(Debug, Default)]
pub struct Pending {
    /// Results, oldest written first.
    pub results: Vec<CheckResult>,
    /// Events, oldest written first.
    pub events: Vec<EventRecord>,
    last_result: i64,
    last_event: i64,
}

impl SqliteStore {
    /// The `limit` oldest results and events written, in the order they were written.
    pub fn oldest(&self, limit: usize) -> Result<Pending, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {RESULT_COLUMNS} FROM results ORDER BY id LIMIT ?1"))
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query(params![limit]).map_err(|e| self.err(e))?;
        let mut pending = Pending::default();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let (id, result) = self.read_result(row)?;
            pending.last_result = id;
            pending.results.push(result);
        }
        let last_event: Option<i64> = self
            .conn
            .query_row("SELECT max(id) FROM (SELECT id FROM events ORDER BY id LIMIT ?1)", params![limit], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        pending.last_event = last_event.unwrap_or(0);
        pending.events = self.read_events(
            "SELECT id, check_name, at_ms, kind, from_status, to_status, flap_percent, summary FROM events \
             WHERE id <= ?1 ORDER BY id",
            params![pending.last_event],
        )?;
        Ok(pending)
    }

    /// Deletes what `pending` holds (and the runs rows left empty), in one transaction.
    pub fn forget(&mut self, pending: &Pending) -> Result<(), StoreError> {
        let (path, busy) = (self.path.clone(), self.busy);
        let err = |e| classify(&path, busy, e);
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute("DELETE FROM results WHERE id <= ?1", params![pending.last_result])
            .and_then(|_| tx.execute("DELETE FROM events WHERE id <= ?1", params![pending.last_event]))
            .and_then(|_| tx.execute("DELETE FROM runs WHERE id NOT IN (SELECT run_id FROM results)", []))
            .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// How many results the buffer holds.
    pub fn result_count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM results", [], |r| r.get::<_, i64>(0))
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(|e| self.err(e))
    }
}
