//! The two tiers of raw results and the hourly rollups.
//!
//! Results are written as rows (`results` and `metrics`), the *unsealed* tier. Once an hour
//! is over, housekeeping seals it: every result of that check-hour is packed into one
//! compressed block (`sealed_hours`, see [`crate::store::blocks`]), its rollup is stored
//! (`hourly`), and its rows are deleted, all in one transaction. Reads merge both tiers, so
//! nothing a reader sees changes when an hour is sealed. Blocks older than the retention are
//! pruned; rollups and events are kept.

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::{Decode, SqliteStore, classify};
use crate::result::CheckResult;
use crate::store::{ChangeKind, EventRecord, HOUR_MS, HourRollup, PackedHour, StatusCounts, StoreError, blocks, rows};

impl SqliteStore {
    /// The unpacked results of `check`'s sealed hours that overlap `[from_ms, to_ms)`,
    /// oldest first (all of each block: the caller filters).
    pub(super) fn sealed(
        &self,
        check: &str,
        from_ms: i64,
        to_ms: i64,
        decode: Decode,
    ) -> Result<Vec<CheckResult>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT block FROM sealed_hours WHERE check_name = ?1 AND hour_ms > ?2 - 3600000 \
                 AND hour_ms < ?3 ORDER BY hour_ms",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query(params![check, from_ms, to_ms]).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let blob: Vec<u8> = row.get(0).map_err(|e| self.err(e))?;
            out.extend(self.unpack_as(check, &blob, decode)?);
        }
        Ok(out)
    }

    /// The last sealed result of `check` that started before `before_ms`.
    pub(super) fn last_sealed_before(
        &self,
        check: &str,
        before_ms: i64,
        decode: Decode,
    ) -> Result<Option<CheckResult>, StoreError> {
        let blob: Option<Vec<u8>> = self
            .conn
            .prepare_cached(
                "SELECT block FROM sealed_hours WHERE check_name = ?1 AND hour_ms < ?2 \
                 ORDER BY hour_ms DESC LIMIT 1",
            )
            .and_then(|mut s| s.query_row(params![check, before_ms], |r| r.get(0)).optional())
            .map_err(|e| self.err(e))?;
        let Some(blob) = blob else { return Ok(None) };
        Ok(self.unpack_as(check, &blob, decode)?.into_iter().rfind(|r| r.started_at_ms < before_ms))
    }

    /// Whether any hour is sealed.
    pub(super) fn has_sealed_hours(&self) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM sealed_hours)")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(|e| self.err(e))
    }

    /// The newest sealed results, newest first, at most `limit`, optionally of one check.
    pub(super) fn recent_sealed(&self, check: Option<&str>, limit: usize) -> Result<Vec<CheckResult>, StoreError> {
        // One statement per case, so that one check's walks its primary key backwards.
        let sql = match check {
            Some(_) => "SELECT check_name, block FROM sealed_hours WHERE check_name = ?1 ORDER BY hour_ms DESC",
            None => "SELECT check_name, block FROM sealed_hours ORDER BY hour_ms DESC, check_name DESC",
        };
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let mut cursor = match check {
            Some(name) => stmt.query(params![name]),
            None => stmt.query([]),
        }
        .map_err(|e| self.err(e))?;
        let blocks = std::iter::from_fn(|| match cursor.next() {
            Ok(Some(row)) => Some(
                row.get::<_, String>(0)
                    .and_then(|name| Ok((name, row.get::<_, Vec<u8>>(1)?)))
                    .map_err(|e| self.err(e))
                    .and_then(|(name, blob)| self.unpack(&name, &blob)),
            ),
            Ok(None) => None,
            Err(e) => Some(Err(self.err(e))),
        });
        rows::newest_sealed(blocks, limit)
    }

    fn unpack(&self, check: &str, blob: &[u8]) -> Result<Vec<CheckResult>, StoreError> {
        self.unpack_as(check, blob, Decode::Whole)
    }

    fn unpack_as(&self, check: &str, blob: &[u8], decode: Decode) -> Result<Vec<CheckResult>, StoreError> {
        match decode {
            Decode::Whole => blocks::unpack(check, blob),
            Decode::Timings => blocks::unpack_timings(blob),
        }
        .map_err(|e| self.corrupt(format!("check {check:?}: {e}")))
    }

    pub(super) fn changes_impl(
        &self,
        check: &str,
        kind: ChangeKind,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<(Option<EventRecord>, Vec<EventRecord>), StoreError> {
        // The kinds are constants, never text from outside.
        let kinds = match kind {
            ChangeKind::Hard => "('hard_change')",
            ChangeKind::Flapping => "('flapping_started','flapping_stopped')",
        };
        let before = self.read_events(
            &format!(
                "SELECT id, check_name, at_ms, kind, from_status, to_status, flap_percent, summary FROM events \
                 WHERE check_name = ?1 AND kind IN {kinds} AND at_ms < ?2 ORDER BY at_ms DESC, id DESC LIMIT 1"
            ),
            params![check, from_ms],
        )?;
        let inside = self.read_events(
            &format!(
                "SELECT id, check_name, at_ms, kind, from_status, to_status, flap_percent, summary FROM events \
                 WHERE check_name = ?1 AND kind IN {kinds} AND at_ms >= ?2 AND at_ms < ?3 ORDER BY at_ms, id"
            ),
            params![check, from_ms, to_ms],
        )?;
        Ok((before.into_iter().next(), inside))
    }

    pub(super) fn rollups_impl(&self, check: &str, from_ms: i64, to_ms: i64) -> Result<Vec<HourRollup>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT h.hour_ms, up_ms, down_ms, no_data_ms, ok, warning, critical, unknown, soft, hard, \
                 latency, p.phases, degraded_ms FROM hourly h LEFT JOIN hourly_phases p \
                 ON p.check_name = h.check_name AND p.hour_ms = h.hour_ms \
                 WHERE h.check_name = ?1 AND h.hour_ms >= ?2 AND h.hour_ms <= ?3 - 3600000 ORDER BY h.hour_ms",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![check, from_ms, to_ms], |r| {
                let count = |i| r.get::<_, i64>(i).map(|n| u64::try_from(n).unwrap_or(0));
                Ok(HourRollup {
                    check: check.to_string(),
                    hour_ms: r.get(0)?,
                    up_ms: r.get(1)?,
                    degraded_ms: r.get(12)?,
                    down_ms: r.get(2)?,
                    no_data_ms: r.get(3)?,
                    counts: StatusCounts { ok: count(4)?, warning: count(5)?, critical: count(6)?, unknown: count(7)? },
                    soft: count(8)?,
                    hard: count(9)?,
                    latency: r.get(10)?,
                    phases: r.get(11)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    pub(super) fn unsealed_hours_impl(&self, ended_by_ms: i64) -> Result<Vec<(String, i64)>, StoreError> {
        self.check_periods(
            "SELECT DISTINCT check_name, (started_at_ms / 3600000) * 3600000 AS hour FROM results \
             WHERE started_at_ms < (?1 / 3600000) * 3600000 AND started_at_ms >= 0 ORDER BY hour, check_name",
            ended_by_ms,
        )
    }

    /// The (check, period start) pairs a query with one time parameter selects.
    fn check_periods(&self, sql: &str, at_ms: i64) -> Result<Vec<(String, i64)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt.query_map([at_ms], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    pub(super) fn seal_hour_impl(&mut self, rollup: &HourRollup, results: &[CheckResult]) -> Result<(), StoreError> {
        let packed = PackedHour::pack(rollup.clone(), results).map_err(|e| StoreError::Other {
            path: self.path.clone(),
            source: format!("cannot pack results: {e}").into(),
        })?;
        self.seal_packed_impl(std::slice::from_ref(&packed))
    }

    pub(super) fn seal_packed_impl(&mut self, hours: &[PackedHour]) -> Result<(), StoreError> {
        let (path, busy) = (self.path.as_path(), self.busy);
        let err = |e| classify(path, busy, e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        for hour in hours {
            write_sealed(&tx, hour).map_err(err)?;
        }
        tx.commit().map_err(err)
    }
    pub(super) fn pending_phase_days_impl(&self, before_ms: i64) -> Result<Vec<(String, i64)>, StoreError> {
        self.check_periods(
            "SELECT DISTINCT check_name, (hour_ms / 86400000) * 86400000 AS day FROM hourly_phases \
             WHERE hour_ms < (?1 / 86400000) * 86400000 AND hour_ms >= 0 ORDER BY day, check_name",
            before_ms,
        )
    }

    pub(super) fn compact_phases_impl(&mut self, check: &str, day_ms: i64, phases: &[u8]) -> Result<(), StoreError> {
        let (path, busy) = (self.path.as_path(), self.busy);
        let err = |e| classify(path, busy, e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        if !phases.is_empty() {
            tx.prepare_cached("INSERT OR REPLACE INTO daily_phases (check_name, day_ms, phases) VALUES (?1, ?2, ?3)")
                .and_then(|mut s| s.execute(params![check, day_ms, phases]))
                .map_err(err)?;
        }
        tx.prepare_cached(
            "DELETE FROM hourly_phases WHERE check_name = ?1 AND hour_ms >= ?2 AND hour_ms < ?2 + 86400000",
        )
        .and_then(|mut s| s.execute(params![check, day_ms]))
        .map_err(err)?;
        tx.commit().map_err(err)
    }

    pub(super) fn daily_phases_impl(
        &self,
        check: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT day_ms, phases FROM daily_phases WHERE check_name = ?1 AND day_ms > ?2 - 86400000 \
                 AND day_ms < ?3 ORDER BY day_ms",
            )
            .map_err(|e| self.err(e))?;
        let rows =
            stmt.query_map(params![check, from_ms, to_ms], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    pub(super) fn prune_impl(&mut self, before_ms: i64, batch: usize) -> Result<usize, StoreError> {
        let (path, busy) = (self.path.as_path(), self.busy);
        let err = |e| classify(path, busy, e);
        let batch = i64::try_from(batch).unwrap_or(i64::MAX);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        let deleted = tx
            .prepare_cached(
                "DELETE FROM sealed_hours WHERE (check_name, hour_ms) IN (SELECT check_name, hour_ms \
                 FROM sealed_hours WHERE hour_ms <= ?1 - 3600000 LIMIT ?2)",
            )
            .and_then(|mut s| s.execute(params![before_ms, batch]))
            .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(deleted)
    }
}

/// Writes one packed check-hour inside `tx`: its block (or none), its rollup and phases, and
/// deletes its unsealed rows and the runs left without results.
fn write_sealed(tx: &rusqlite::Transaction<'_>, hour: &PackedHour) -> rusqlite::Result<()> {
    let rollup = &hour.rollup;
    let int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let (from, to) = (rollup.hour_ms, rollup.hour_ms + HOUR_MS);
    if hour.results == 0 {
        tx.execute("DELETE FROM sealed_hours WHERE check_name = ?1 AND hour_ms = ?2", params![rollup.check, from])?;
    } else {
        tx.prepare_cached(
            "INSERT OR REPLACE INTO sealed_hours (check_name, hour_ms, results, block) VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut s| s.execute(params![rollup.check, from, int(hour.results as u64), hour.block]))?;
    }
    let c = rollup.counts;
    tx.prepare_cached(
            "INSERT OR REPLACE INTO hourly (check_name, hour_ms, up_ms, down_ms, no_data_ms, ok, warning, critical, \
             unknown, soft, hard, latency, degraded_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )
        .and_then(|mut s| {
            s.execute(params![
                rollup.check,
                from,
                rollup.up_ms,
                rollup.down_ms,
                rollup.no_data_ms,
                int(c.ok),
                int(c.warning),
                int(c.critical),
                int(c.unknown),
                int(rollup.soft),
                int(rollup.hard),
                rollup.latency,
                rollup.degraded_ms,
            ])
        })
        ?;
    // Phases live in a table of their own: compacting them deletes whole rows, whose
    // pages are reused, rather than shrinking rows and leaving pages a quarter full.
    match &rollup.phases {
        Some(phases) => tx
            .prepare_cached("INSERT OR REPLACE INTO hourly_phases (check_name, hour_ms, phases) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| s.execute(params![rollup.check, from, phases])),
        None => tx
            .prepare_cached("DELETE FROM hourly_phases WHERE check_name = ?1 AND hour_ms = ?2")
            .and_then(|mut s| s.execute(params![rollup.check, from])),
    }?;
    // Metrics go with their results (ON DELETE CASCADE).
    tx.prepare_cached("DELETE FROM results WHERE check_name = ?1 AND started_at_ms >= ?2 AND started_at_ms < ?3")
        .and_then(|mut s| s.execute(params![rollup.check, from, to]))?;
    // A run row is only the frame of its results: once none is left unsealed, it goes.
    tx.prepare_cached(
        "DELETE FROM runs WHERE started_at_ms < ?1 AND NOT EXISTS (SELECT 1 FROM results WHERE run_id = runs.id)",
    )
    .and_then(|mut s| s.execute([to]))?;
    Ok(())
}
