//! Raw results and events in SQLite: the one transaction a run is written in, and the
//! reads of recent results, a window (sealed hours included) and events.

use std::collections::HashMap;
use std::time::Duration;

use rusqlite::{Row, TransactionBehavior, params};

use super::{Decode, RESULT_COLUMNS, SqliteStore, ceil_millis, classify};
use crate::result::{CheckResult, EventRecord, Reason, StateInfo};
use crate::store::rows::{self, metrics_json};
use crate::store::{Observation, StoreError};

impl SqliteStore {
    /// Turns one `results` row (columns [`RESULT_COLUMNS`]) into a result, returning its id
    /// too.
    pub(super) fn read_result(&self, row: &Row<'_>) -> Result<(i64, CheckResult), StoreError> {
        let id: i64 = row.get(0).map_err(|e| self.err(e))?;
        let text = |i| row.get::<_, String>(i).map_err(|e| self.err(e));
        let int = |i| row.get::<_, i64>(i).map_err(|e| self.err(e));
        let opt = |i| row.get::<_, Option<String>>(i).map_err(|e| self.err(e));

        let duration_us = int(6)?;
        let duration = u64::try_from(duration_us)
            .map(Duration::from_micros)
            .map_err(|_| self.corrupt(format!("results row {id} has a negative duration ({duration_us} us)")))?;
        let status = rows::read_status(id, &text(7)?).map_err(|e| self.corrupt(e))?;
        let reason = match opt(9)? {
            None => None,
            Some(word) => Some(
                Reason::parse(&word)
                    .ok_or_else(|| self.corrupt(format!("results row {id} has an unknown reason {word:?}")))?,
            ),
        };
        Ok((
            id,
            CheckResult {
                check: text(1)?,
                plugin: text(2)?,
                plugin_version: text(3)?,
                target: text(4)?,
                started_at_ms: int(5)?,
                duration,
                status,
                summary: text(8)?,
                reason,
                metrics: rows::read_metrics(id, opt(13)?.as_deref()).map_err(|e| self.corrupt(e))?,
                details: opt(10)?,
                state: self.read_state(id, opt(11)?, row.get::<_, Option<i64>>(12).map_err(|e| self.err(e))?)?,
            },
        ))
    }

    /// The state columns of a result row: both set, or both empty (older rows).
    pub(super) fn read_state(
        &self,
        id: i64,
        kind: Option<String>,
        attempt: Option<i64>,
    ) -> Result<Option<StateInfo>, StoreError> {
        rows::read_state(id, kind.as_deref(), attempt).map_err(|e| self.corrupt(e))
    }

    /// The results a query over [`RESULT_COLUMNS`] selects, each with its metrics.
    pub(super) fn query_results(
        &self,
        sql: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<CheckResult>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let mut rows = stmt.query(args).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            out.push(self.read_result(row)?.1);
        }
        Ok(out)
    }

    /// The events a query over the `events` columns (id, check_name, at_ms, kind,
    /// from_status, to_status, flap_percent, summary) selects.
    pub(super) fn read_events(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<EventRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let mut rows = stmt.query(args).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let id: i64 = row.get(0).map_err(|e| self.err(e))?;
            let at_ms: i64 = row.get(2).map_err(|e| self.err(e))?;
            let kind: String = row.get(3).map_err(|e| self.err(e))?;
            let from: Option<String> = row.get(4).map_err(|e| self.err(e))?;
            let to: Option<String> = row.get(5).map_err(|e| self.err(e))?;
            let percent: Option<f64> = row.get(6).map_err(|e| self.err(e))?;
            let event = rows::read_event(id, at_ms, &kind, from.as_deref(), to.as_deref(), percent)
                .map_err(|e| self.corrupt(e))?;
            out.push(EventRecord {
                check: row.get(1).map_err(|e| self.err(e))?,
                event,
                summary: row.get(7).map_err(|e| self.err(e))?,
            });
        }
        Ok(out)
    }

    pub(super) fn write_run_impl(&mut self, results: &[CheckResult], events: &[EventRecord]) -> Result<(), StoreError> {
        if results.is_empty() && events.is_empty() {
            return Ok(());
        }
        let (path, busy) = (self.path.as_path(), self.busy);
        let err = |e| classify(path, busy, e);

        let started = results.iter().map(|r| r.started_at_ms).min().unwrap_or(0);
        let finished =
            results.iter().map(|r| r.started_at_ms.saturating_add(ceil_millis(r.duration))).max().unwrap_or(started);

        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        if !results.is_empty() {
            let run_id = tx
                .prepare_cached("INSERT INTO runs (started_at_ms, finished_at_ms, checks) VALUES (?1, ?2, ?3)")
                .and_then(|mut s| s.insert(params![started, finished, results.len() as i64]))
                .map_err(err)?;
            let mut insert_result = tx
                .prepare_cached(
                    "INSERT INTO results (run_id, check_name, plugin, plugin_version, target, \
                     started_at_ms, duration_us, status, summary, reason, details, state_type, attempt, \
                     metrics) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                )
                .map_err(err)?;
            let mut metrics = String::new();
            for r in results {
                let has_metrics = metrics_json(r, &mut metrics);
                insert_result
                    .execute(params![
                        run_id,
                        r.check,
                        r.plugin,
                        r.plugin_version,
                        r.target,
                        r.started_at_ms,
                        i64::try_from(r.duration.as_micros()).unwrap_or(i64::MAX),
                        r.status.as_str(),
                        r.summary,
                        r.reason.map(Reason::as_str),
                        r.details,
                        r.state.map(|st| st.kind.as_str()),
                        r.state.map(|st| i64::from(st.attempt)),
                        has_metrics.then_some(metrics.as_str()),
                    ])
                    .map_err(err)?;
            }
        }
        {
            let mut insert_event = tx
                .prepare_cached(
                    "INSERT INTO events (check_name, at_ms, kind, from_status, to_status, flap_percent, summary) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(err)?;
            for e in events {
                let (kind, from, to, percent) = rows::event_columns(&e.event);
                insert_event
                    .execute(params![e.check, e.event.at_ms(), kind, from, to, percent, e.summary])
                    .map_err(err)?;
            }
        }
        // Dropping `tx` on any error above rolls the whole run back.
        tx.commit().map_err(err)
    }

    pub(super) fn window_impl(
        &self,
        check: &str,
        from_ms: i64,
        to_ms: i64,
        decode: Decode,
    ) -> Result<(Option<CheckResult>, Vec<CheckResult>), StoreError> {
        let trim = |r: CheckResult| if decode == Decode::Timings { r.into_timings() } else { r };
        let unsealed_before = self
            .query_results(
                &format!(
                    "SELECT {RESULT_COLUMNS} FROM results WHERE check_name = ?1 AND started_at_ms < ?2 \
                 ORDER BY started_at_ms DESC, id DESC LIMIT 1"
                ),
                &[&check, &from_ms],
            )?
            .pop()
            .map(trim);
        let before = rows::before_window(unsealed_before, from_ms, || self.last_sealed_before(check, from_ms, decode))?;
        let sealed = self.sealed(check, from_ms, to_ms, decode)?;
        let unsealed = self.query_results(
            &format!(
                "SELECT {RESULT_COLUMNS} FROM results WHERE check_name = ?1 AND started_at_ms >= ?2 \
                 AND started_at_ms < ?3 ORDER BY started_at_ms, id"
            ),
            &[&check, &from_ms, &to_ms],
        )?;
        let inside = rows::inside_window(sealed, unsealed.into_iter().map(trim).collect(), from_ms, to_ms);
        Ok((before, inside))
    }

    pub(super) fn events_impl(&self, check: Option<&str>, limit: usize) -> Result<Vec<EventRecord>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read_events(
            "SELECT id, check_name, at_ms, kind, from_status, to_status, flap_percent, summary FROM events \
             WHERE ?1 IS NULL OR check_name = ?1 ORDER BY at_ms DESC, id DESC LIMIT ?2",
            params![check, limit],
        )
    }

    pub(super) fn recent_impl(&self, check: Option<&str>, limit: usize) -> Result<Vec<CheckResult>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let wanted = limit;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // Two statements rather than `?1 IS NULL OR ...`, so the per-check one can walk
        // the (check_name, started_at_ms) index backwards.
        let sql = match check {
            Some(_) => format!(
                "SELECT {RESULT_COLUMNS} FROM results WHERE check_name = ?1 \
                 ORDER BY started_at_ms DESC, id DESC LIMIT ?2"
            ),
            None => format!("SELECT {RESULT_COLUMNS} FROM results ORDER BY started_at_ms DESC, id DESC LIMIT ?1"),
        };
        let mut out = match check {
            Some(name) => self.query_results(&sql, &[&name, &limit])?,
            None => self.query_results(&sql, &[&limit])?,
        };
        if out.len() < wanted {
            // Sealed hours are older than every unsealed row of their check.
            rows::recent_with_sealed(&mut out, self.recent_sealed(check, wanted)?, wanted);
        }
        Ok(out)
    }

    pub(super) fn recent_observations_impl(
        &self,
        checks: &[&str],
        limit: usize,
    ) -> Result<HashMap<String, Vec<Observation>>, StoreError> {
        let mut out: HashMap<String, Vec<(i64, Observation)>> = HashMap::new();
        if checks.is_empty() || limit == 0 {
            return Ok(HashMap::new());
        }
        // One statement for every check: SQLite walks each check's (check_name,
        // started_at_ms) index backwards for its newest rows, without a statement (and a
        // re-prepare) per check.
        let names = serde_json::to_string(checks).map_err(|e| self.corrupt(format!("check names: {e}")))?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT c.value, r.id, r.started_at_ms, r.status FROM json_each(?1) AS c \
                 JOIN results AS r ON r.id IN (SELECT id FROM results WHERE check_name = c.value \
                 ORDER BY started_at_ms DESC, id DESC LIMIT ?2)",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query(params![names, i64::try_from(limit).unwrap_or(i64::MAX)]).map_err(|e| self.err(e))?;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let name: String = row.get(0).map_err(|e| self.err(e))?;
            let id: i64 = row.get(1).map_err(|e| self.err(e))?;
            let word: String = row.get(3).map_err(|e| self.err(e))?;
            let status = rows::read_status(id, &word).map_err(|e| self.corrupt(e))?;
            let started_at_ms = row.get(2).map_err(|e| self.err(e))?;
            out.entry(name).or_default().push((id, Observation { started_at_ms, status }));
        }
        let mut out: HashMap<String, Vec<Observation>> = out
            .into_iter()
            .map(|(name, mut seen)| {
                seen.sort_by_key(|(id, o)| (o.started_at_ms, *id));
                (name, seen.into_iter().map(|(_, o)| o).collect())
            })
            .collect();
        // Checks with fewer unsealed results than wanted go on into their sealed hours, which
        // are older than every unsealed row of their check; a store without sealed hours (a
        // new one) is not asked per check.
        if !self.has_sealed_hours()? {
            return Ok(out);
        }
        for check in checks {
            let have = out.get(*check).map_or(0, Vec::len);
            if have >= limit {
                continue;
            }
            let sealed = self.recent_sealed(Some(check), limit - have)?;
            let mut seen = out.remove(*check).unwrap_or_default();
            rows::observations_with_sealed(&mut seen, sealed);
            if !seen.is_empty() {
                out.insert((*check).to_owned(), seen);
            }
        }
        Ok(out)
    }
}
