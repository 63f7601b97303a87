//! The runners sharing the database (`runners`), stamped by the database's clock: every
//! runner judges the others' heartbeats by the same clock, whatever its own says.

use super::PgStore;
use super::conn::{Conn, Fail};
use crate::store::{Membership, RunnerInfo, StoreError};

/// The database's clock, in milliseconds since the Unix epoch (the time of the call, not of
/// the transaction's start).
const NOW: &str = "SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint";

/// How old a heartbeat is when its runner is forgotten.
const FORGET_MS: i64 = 24 * 60 * 60 * 1000;

/// Every runner, ordered by id, and the clock when they were read.
fn membership(conn: &mut Conn<'_>, now_ms: i64) -> Result<Membership, Fail> {
    let statement = conn.prepare(
        "SELECT id, location, version, coalesce(started_at_ms, 0), coalesce(heartbeat_ms, 0), \
         coalesce(checks, 0) FROM runners ORDER BY id",
    )?;
    let mut runners = Vec::new();
    for row in conn.client.query(&statement, &[])? {
        runners.push(RunnerInfo {
            id: row.try_get(0)?,
            location: row.try_get(1)?,
            version: row.try_get(2)?,
            started_at_ms: row.try_get(3)?,
            heartbeat_ms: row.try_get(4)?,
            checks: u64::try_from(row.try_get::<_, i64>(5)?).unwrap_or(0),
        });
    }
    Ok(Membership { now_ms, runners })
}

/// The database's clock.
fn now(conn: &mut Conn<'_>) -> Result<i64, Fail> {
    let statement = conn.prepare(NOW)?;
    Ok(conn.client.query_one(&statement, &[])?.try_get(0)?)
}

impl PgStore {
    pub(super) fn heartbeat_impl(&mut self, me: &RunnerInfo) -> Result<Membership, StoreError> {
        let me = me.clone();
        let checks = i64::try_from(me.checks).unwrap_or(i64::MAX);
        self.call(move |conn| {
            let upsert = conn.prepare(
                "INSERT INTO runners (id, location, version, started_at_ms, heartbeat_ms, checks) \
                 VALUES ($1, $2, $3, $4, $4, $5) ON CONFLICT (id) DO UPDATE SET location = EXCLUDED.location, \
                 version = EXCLUDED.version, heartbeat_ms = EXCLUDED.heartbeat_ms, checks = EXCLUDED.checks, \
                 started_at_ms = coalesce(runners.started_at_ms, EXCLUDED.started_at_ms)",
            )?;
            let forget = conn.prepare("DELETE FROM runners WHERE heartbeat_ms < $1 OR heartbeat_ms IS NULL")?;
            let mut tx = conn.client.transaction()?;
            let now_ms: i64 = tx.query_one(NOW, &[])?.try_get(0)?;
            tx.execute(&upsert, &[&me.id, &me.location, &me.version, &now_ms, &checks])?;
            tx.execute(&forget, &[&now_ms.saturating_sub(FORGET_MS)])?;
            tx.commit()?;
            membership(conn, now_ms)
        })
    }

    pub(super) fn runners_impl(&self) -> Result<Membership, StoreError> {
        self.call(|conn| {
            let now_ms = now(conn)?;
            membership(conn, now_ms)
        })
    }

    pub(super) fn leave_impl(&mut self, id: &str) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.call(move |conn| {
            let statement = conn.prepare("DELETE FROM runners WHERE id = $1")?;
            conn.client.execute(&statement, &[&id])?;
            Ok(())
        })
    }
}
