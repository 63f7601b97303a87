//! The two tiers of raw results and the rollups, in PostgreSQL: as in the SQLite store (see
//! its `tiers.rs`), an hour over is sealed into one block (`blocks::pack`, the same bytes),
//! its rollup stored and its raw rows deleted, in one transaction; reads merge both tiers.
//!
//! Time arithmetic is done before the query, saturating, so no window bound (however far)
//! overflows PostgreSQL's BIGINT.

use std::collections::HashMap;

use super::conn::{Conn, Fail};
use super::{PgStore, big};
use crate::result::CheckResult;
use crate::store::rows::{self, Decode};
use crate::store::{HOUR_MS, HourRollup, PackedHour, StatusCounts, StoreError, blocks};

/// One day in milliseconds.
const DAY_MS: i64 = 24 * HOUR_MS;

/// How many blocks [`recent_sealed`] fetches at first, and at most, per round trip.
const BLOCKS_FIRST: i32 = 4;
const BLOCKS_MOST: i32 = 256;

/// `blob` unpacked as `decode` says.
fn unpack(check: &str, blob: &[u8], decode: Decode) -> Result<Vec<CheckResult>, Fail> {
    match decode {
        Decode::Whole => blocks::unpack(check, blob),
        Decode::Timings => blocks::unpack_timings(blob),
    }
    .map_err(|e| Fail::Corrupt(format!("check {check:?}: {e}")))
}

/// The unpacked results of `check`'s sealed hours that overlap `[from_ms, to_ms)`, oldest
/// first (all of each block: the caller filters).
pub(super) fn sealed(
    conn: &mut Conn<'_>,
    check: &str,
    from_ms: i64,
    to_ms: i64,
    decode: Decode,
) -> Result<Vec<CheckResult>, Fail> {
    let statement = conn.prepare(
        "SELECT block FROM sealed_hours WHERE check_name = $1 AND hour_ms > $2 AND hour_ms < $3 ORDER BY hour_ms",
    )?;
    let mut out = Vec::new();
    for row in conn.client.query(&statement, &[&check, &from_ms.saturating_sub(HOUR_MS), &to_ms])? {
        out.extend(unpack(check, row.try_get(0)?, decode)?);
    }
    Ok(out)
}

/// The last sealed result of `check` that started before `before_ms`.
pub(super) fn last_sealed_before(
    conn: &mut Conn<'_>,
    check: &str,
    before_ms: i64,
    decode: Decode,
) -> Result<Option<CheckResult>, Fail> {
    let statement = conn.prepare(
        "SELECT block FROM sealed_hours WHERE check_name = $1 AND hour_ms < $2 ORDER BY hour_ms DESC LIMIT 1",
    )?;
    let Some(row) = conn.client.query_opt(&statement, &[&check, &before_ms])? else { return Ok(None) };
    Ok(unpack(check, row.try_get(0)?, decode)?.into_iter().rfind(|r| r.started_at_ms < before_ms))
}

/// Whether any hour is sealed.
pub(super) fn has_sealed_hours(conn: &mut Conn<'_>) -> Result<bool, Fail> {
    let statement = conn.prepare("SELECT EXISTS (SELECT 1 FROM sealed_hours)")?;
    Ok(conn.client.query_one(&statement, &[])?.try_get(0)?)
}

/// The newest sealed results, newest first, at most `limit`, optionally of one check. The
/// blocks come through a cursor, a few at a time: only as many as `limit` needs are sent.
pub(super) fn recent_sealed(conn: &mut Conn<'_>, check: Option<&str>, limit: usize) -> Result<Vec<CheckResult>, Fail> {
    let statement = conn.prepare(match check {
        Some(_) => "SELECT check_name, block FROM sealed_hours WHERE check_name = $1 ORDER BY hour_ms DESC",
        None => "SELECT check_name, block FROM sealed_hours ORDER BY hour_ms DESC, check_name DESC",
    })?;
    let mut tx = conn.client.transaction()?;
    let portal = match check {
        Some(name) => tx.bind(&statement, &[&name])?,
        None => tx.bind(&statement, &[])?,
    };
    let mut page = BLOCKS_FIRST;
    let mut fetched: std::vec::IntoIter<::postgres::Row> = Vec::new().into_iter();
    let mut done = false;
    let blocks = std::iter::from_fn(|| {
        loop {
            if let Some(row) = fetched.next() {
                let block = row
                    .try_get::<_, String>(0)
                    .and_then(|name| Ok((name, row.try_get::<_, Vec<u8>>(1)?)))
                    .map_err(Fail::from)
                    .and_then(|(name, blob)| unpack(&name, &blob, Decode::Whole));
                return Some(block);
            }
            if done {
                return None;
            }
            match tx.query_portal(&portal, page) {
                Ok(rows) => {
                    done = rows.len() < usize::try_from(page).unwrap_or(0);
                    fetched = rows.into_iter();
                    page = (page * 4).min(BLOCKS_MOST);
                }
                Err(e) => {
                    done = true;
                    return Some(Err(Fail::from(e)));
                }
            }
        }
    });
    // Read only: dropping the transaction rolls it back.
    rows::newest_sealed(blocks, limit)
}

impl PgStore {
    pub(super) fn rollups_impl(&self, check: &str, from_ms: i64, to_ms: i64) -> Result<Vec<HourRollup>, StoreError> {
        let check = check.to_owned();
        self.call(move |conn| {
            let statement = conn.prepare(
                "SELECT h.hour_ms, up_ms, down_ms, no_data_ms, ok, warning, critical, unknown, soft, hard, \
                 latency, p.phases, degraded_ms FROM hourly h LEFT JOIN hourly_phases p \
                 ON p.check_name = h.check_name AND p.hour_ms = h.hour_ms \
                 WHERE h.check_name = $1 AND h.hour_ms >= $2 AND h.hour_ms <= $3 ORDER BY h.hour_ms",
            )?;
            let mut out = Vec::new();
            for r in conn.client.query(&statement, &[&check, &from_ms, &to_ms.saturating_sub(HOUR_MS)])? {
                let count = |i| r.try_get::<_, i64>(i).map(|n| u64::try_from(n).unwrap_or(0));
                out.push(HourRollup {
                    check: check.clone(),
                    hour_ms: r.try_get(0)?,
                    up_ms: r.try_get(1)?,
                    degraded_ms: r.try_get(12)?,
                    down_ms: r.try_get(2)?,
                    no_data_ms: r.try_get(3)?,
                    counts: StatusCounts { ok: count(4)?, warning: count(5)?, critical: count(6)?, unknown: count(7)? },
                    soft: count(8)?,
                    hard: count(9)?,
                    latency: r.try_get(10)?,
                    phases: r.try_get(11)?,
                });
            }
            Ok(out)
        })
    }

    pub(super) fn unsealed_hours_impl(&self, ended_by_ms: i64) -> Result<Vec<(String, i64)>, StoreError> {
        self.check_periods(
            "SELECT DISTINCT check_name, (started_at_ms / 3600000) * 3600000 AS hour FROM results \
             WHERE started_at_ms < $1 AND started_at_ms >= 0 ORDER BY hour, check_name",
            (ended_by_ms / HOUR_MS) * HOUR_MS,
        )
    }

    pub(super) fn pending_phase_days_impl(&self, before_ms: i64) -> Result<Vec<(String, i64)>, StoreError> {
        self.check_periods(
            "SELECT DISTINCT check_name, (hour_ms / 86400000) * 86400000 AS day FROM hourly_phases \
             WHERE hour_ms < $1 AND hour_ms >= 0 ORDER BY day, check_name",
            (before_ms / DAY_MS) * DAY_MS,
        )
    }

    /// The (check, period start) pairs a query with one time parameter selects.
    fn check_periods(&self, sql: &'static str, at_ms: i64) -> Result<Vec<(String, i64)>, StoreError> {
        self.call(move |conn| {
            let statement = conn.prepare(sql)?;
            let rows = conn.client.query(&statement, &[&at_ms])?;
            rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect::<Result<Vec<_>, Fail>>()
        })
    }

    pub(super) fn seal_packed_impl(&mut self, hours: &[PackedHour]) -> Result<(), StoreError> {
        if hours.is_empty() {
            return Ok(());
        }
        let sealing = Sealing::of(hours);
        self.call(move |conn| sealing.write(conn))
    }

    pub(super) fn compact_phases_impl(&mut self, check: &str, day_ms: i64, phases: &[u8]) -> Result<(), StoreError> {
        let (check, phases) = (check.to_owned(), phases.to_vec());
        self.call(move |conn| {
            let upsert = conn.prepare(
                "INSERT INTO daily_phases (check_name, day_ms, phases) VALUES ($1, $2, $3) \
                 ON CONFLICT (check_name, day_ms) DO UPDATE SET phases = EXCLUDED.phases",
            )?;
            let delete =
                conn.prepare("DELETE FROM hourly_phases WHERE check_name = $1 AND hour_ms >= $2 AND hour_ms < $3")?;
            let mut tx = conn.client.transaction()?;
            if !phases.is_empty() {
                tx.execute(&upsert, &[&check, &day_ms, &phases])?;
            }
            tx.execute(&delete, &[&check, &day_ms, &day_ms.saturating_add(DAY_MS)])?;
            tx.commit()?;
            Ok(())
        })
    }

    pub(super) fn daily_phases_impl(
        &self,
        check: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        let check = check.to_owned();
        self.call(move |conn| {
            let statement = conn.prepare(
                "SELECT day_ms, phases FROM daily_phases WHERE check_name = $1 AND day_ms > $2 AND day_ms < $3 \
                 ORDER BY day_ms",
            )?;
            let rows = conn.client.query(&statement, &[&check, &from_ms.saturating_sub(DAY_MS), &to_ms])?;
            rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect::<Result<Vec<_>, Fail>>()
        })
    }

    pub(super) fn oldest_sealed_hour_impl(&self, check: &str) -> Result<Option<i64>, StoreError> {
        let check = check.to_owned();
        self.call(move |conn| {
            let statement = conn.prepare("SELECT min(hour_ms) FROM sealed_hours WHERE check_name = $1")?;
            Ok(conn.client.query_one(&statement, &[&check])?.try_get(0)?)
        })
    }

    pub(super) fn prune_impl(&mut self, before_ms: i64, batch: usize) -> Result<usize, StoreError> {
        let (cutoff, batch) = (before_ms.saturating_sub(HOUR_MS), big(batch));
        self.call(move |conn| {
            let statement = conn.prepare(
                "DELETE FROM sealed_hours WHERE (check_name, hour_ms) IN (SELECT check_name, hour_ms \
                 FROM sealed_hours WHERE hour_ms <= $1 ORDER BY hour_ms LIMIT $2)",
            )?;
            let deleted = conn.client.execute(&statement, &[&cutoff, &batch])?;
            Ok(usize::try_from(deleted).unwrap_or(usize::MAX))
        })
    }

    pub(super) fn integrity_check_impl(&self) -> Result<Vec<String>, StoreError> {
        self.call(|conn| {
            let mut problems = Vec::new();
            for (sql, says) in [
                (
                    "SELECT s.check_name, s.hour_ms FROM sealed_hours s WHERE EXISTS (SELECT 1 FROM results r \
                     WHERE r.check_name = s.check_name AND r.started_at_ms >= s.hour_ms \
                     AND r.started_at_ms < s.hour_ms + 3600000) ORDER BY 1, 2 LIMIT 100",
                    "is sealed and still has raw results",
                ),
                (
                    "SELECT s.check_name, s.hour_ms FROM sealed_hours s LEFT JOIN hourly h \
                     ON h.check_name = s.check_name AND h.hour_ms = s.hour_ms WHERE h.hour_ms IS NULL \
                     ORDER BY 1, 2 LIMIT 100",
                    "is sealed without a rollup",
                ),
                (
                    "SELECT check_name, hour_ms FROM hourly WHERE hour_ms % 3600000 <> 0 ORDER BY 1, 2 LIMIT 100",
                    "has a rollup that does not start on the hour",
                ),
            ] {
                let statement = conn.prepare(sql)?;
                for row in conn.client.query(&statement, &[])? {
                    let (check, hour): (String, i64) = (row.try_get(0)?, row.try_get(1)?);
                    problems.push(format!("check {check:?}, hour {hour}: {says}"));
                }
            }
            Ok(problems)
        })
    }
}

/// Check-hours to seal, column by column: each statement of [`Sealing::write`] takes every
/// hour at once. An hour given twice is sealed as its last one says, as sealing them one
/// after the other would.
#[derive(Default)]
struct Sealing {
    /// Hours with a block: (check, hour, results, block).
    blocks: (Vec<String>, Vec<i64>, Vec<i64>, Vec<Vec<u8>>),
    /// Hours without one.
    empty: (Vec<String>, Vec<i64>),
    /// Every hour's rollup.
    hourly: HourlyColumns,
    /// Hours with phases: (check, hour, phases).
    phases: (Vec<String>, Vec<i64>, Vec<Vec<u8>>),
    /// Hours without.
    no_phases: (Vec<String>, Vec<i64>),
}

/// The rollups of [`Sealing`], column by column.
#[derive(Default)]
struct HourlyColumns {
    check: Vec<String>,
    hour: Vec<i64>,
    /// The counters, in [`Sealing::HOURLY`]'s order.
    counters: [Vec<i64>; 10],
    latency: Vec<Option<Vec<u8>>>,
}

impl Sealing {
    /// Upserts the rollups: `$3..$12` are up, down, no data, ok, warning, critical, unknown,
    /// soft, hard, degraded; `$13` the latency sketches.
    const HOURLY: &str = "INSERT INTO hourly (check_name, hour_ms, up_ms, down_ms, no_data_ms, ok, warning, \
         critical, unknown, soft, hard, degraded_ms, latency) SELECT * FROM unnest($1::text[], $2::int8[], \
         $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::int8[], \
         $11::int8[], $12::int8[], $13::bytea[]) ON CONFLICT (check_name, hour_ms) DO UPDATE SET \
         up_ms = EXCLUDED.up_ms, down_ms = EXCLUDED.down_ms, no_data_ms = EXCLUDED.no_data_ms, ok = EXCLUDED.ok, \
         warning = EXCLUDED.warning, critical = EXCLUDED.critical, unknown = EXCLUDED.unknown, \
         soft = EXCLUDED.soft, hard = EXCLUDED.hard, degraded_ms = EXCLUDED.degraded_ms, latency = EXCLUDED.latency";

    fn of(hours: &[PackedHour]) -> Sealing {
        // The last word on each check-hour.
        let mut last: HashMap<(&str, i64), usize> = HashMap::new();
        for (i, hour) in hours.iter().enumerate() {
            last.insert((hour.rollup.check.as_str(), hour.rollup.hour_ms), i);
        }
        let int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let mut s = Sealing::default();
        for (i, hour) in hours.iter().enumerate() {
            let r = &hour.rollup;
            if last.get(&(r.check.as_str(), r.hour_ms)) != Some(&i) {
                continue;
            }
            let (check, at) = (r.check.clone(), r.hour_ms);
            if hour.results == 0 {
                s.empty.0.push(check.clone());
                s.empty.1.push(at);
            } else {
                s.blocks.0.push(check.clone());
                s.blocks.1.push(at);
                s.blocks.2.push(int(hour.results as u64));
                s.blocks.3.push(hour.block.clone());
            }
            let c = r.counts;
            s.hourly.check.push(check.clone());
            s.hourly.hour.push(at);
            let values = [
                r.up_ms,
                r.down_ms,
                r.no_data_ms,
                int(c.ok),
                int(c.warning),
                int(c.critical),
                int(c.unknown),
                int(r.soft),
                int(r.hard),
                r.degraded_ms,
            ];
            for (column, value) in s.hourly.counters.iter_mut().zip(values) {
                column.push(value);
            }
            s.hourly.latency.push(r.latency.clone());
            match &r.phases {
                Some(phases) => {
                    s.phases.0.push(check);
                    s.phases.1.push(at);
                    s.phases.2.push(phases.clone());
                }
                None => {
                    s.no_phases.0.push(check);
                    s.no_phases.1.push(at);
                }
            }
        }
        s
    }

    /// Seals every hour in one transaction: blocks, rollups and phases, and deletes the
    /// hours' raw rows.
    fn write(&self, conn: &mut Conn<'_>) -> Result<(), Fail> {
        let upsert_blocks = conn.prepare(
            "INSERT INTO sealed_hours (check_name, hour_ms, results, block) \
             SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::bytea[]) \
             ON CONFLICT (check_name, hour_ms) DO UPDATE SET results = EXCLUDED.results, block = EXCLUDED.block",
        )?;
        let delete_blocks = conn.prepare(
            "DELETE FROM sealed_hours s USING unnest($1::text[], $2::int8[]) AS u(c, h) \
             WHERE s.check_name = u.c AND s.hour_ms = u.h",
        )?;
        let upsert_hourly = conn.prepare(Self::HOURLY)?;
        let upsert_phases = conn.prepare(
            "INSERT INTO hourly_phases (check_name, hour_ms, phases) \
             SELECT * FROM unnest($1::text[], $2::int8[], $3::bytea[]) \
             ON CONFLICT (check_name, hour_ms) DO UPDATE SET phases = EXCLUDED.phases",
        )?;
        let delete_phases = conn.prepare(
            "DELETE FROM hourly_phases p USING unnest($1::text[], $2::int8[]) AS u(c, h) \
             WHERE p.check_name = u.c AND p.hour_ms = u.h",
        )?;
        let delete_results = conn.prepare(
            "DELETE FROM results r USING unnest($1::text[], $2::int8[]) AS u(c, h) \
             WHERE r.check_name = u.c AND r.started_at_ms >= u.h AND r.started_at_ms < u.h + 3600000",
        )?;
        let mut tx = conn.client.transaction()?;
        let (b, e, h, p, n) = (&self.blocks, &self.empty, &self.hourly, &self.phases, &self.no_phases);
        if !b.0.is_empty() {
            tx.execute(&upsert_blocks, &[&b.0, &b.1, &b.2, &b.3])?;
        }
        if !e.0.is_empty() {
            tx.execute(&delete_blocks, &[&e.0, &e.1])?;
        }
        let [up, down, no_data, ok, warning, critical, unknown, soft, hard, degraded] = &h.counters;
        tx.execute(
            &upsert_hourly,
            &[&h.check, &h.hour, up, down, no_data, ok, warning, critical, unknown, soft, hard, degraded, &h.latency],
        )?;
        if !p.0.is_empty() {
            tx.execute(&upsert_phases, &[&p.0, &p.1, &p.2])?;
        }
        if !n.0.is_empty() {
            tx.execute(&delete_phases, &[&n.0, &n.1])?;
        }
        tx.execute(&delete_results, &[&h.check, &h.hour])?;
        tx.commit()?;
        Ok(())
    }
}
