//! The PostgreSQL [`ResultStore`]: one database several runners share. It answers every
//! read exactly as the SQLite store does for the same data (the shared parts are in
//! `store/rows.rs`, and sealed hours are the same blocks, `store/blocks.rs`).
//!
//! Split by job: `conn.rs` holds the connection on a worker thread (so the store works from
//! async code), reconnects and classifies errors; `results.rs` writes runs and reads results
//! and events; `tiers.rs` seals hours, keeps rollups and prunes; `membership.rs` keeps the
//! runners' table; `migrations.rs` versions the schema with refinery.
//!
//! Every message names the database by its URL with the password hidden
//! ([`PostgresSpec::shown`]); the password is only ever handed to the client's connect.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use ::postgres::Config;

use super::{
    ChangeKind, HourRollup, Membership, Observation, PackedHour, PostgresSpec, ResultStore, RunnerInfo, StoreError,
};
use crate::result::{CheckResult, EventRecord};
use conn::{CONNECT_TIMEOUT, Conn, Fail, Worker};

mod conn;
mod membership;
mod migrations;
mod results;
mod tiers;

/// A result store in a PostgreSQL database.
pub struct PgStore {
    worker: Worker,
}

impl PgStore {
    /// Connects to the database `spec` names (it must exist), and creates or migrates its
    /// schema. Fails when the server cannot be reached ([`StoreError::Unreachable`]),
    /// refuses the login or has no such database ([`StoreError::CannotOpen`]), or holds a
    /// schema newer than this Vitals knows ([`StoreError::NewerSchema`]).
    pub fn open(spec: &PostgresSpec) -> Result<PgStore, StoreError> {
        let path = PathBuf::from(spec.shown());
        let config = configure(spec, &path)?;
        let store = PgStore { worker: Worker::start(config, path)? };
        let applied = store.call(migrations::apply)?;
        tracing::debug!(store = %spec.shown(), migrations = applied, "opened the result store");
        Ok(store)
    }

    /// Runs `job` on the store's connection (see `conn.rs`).
    fn call<R: Send + 'static>(
        &self,
        job: impl FnMut(&mut Conn<'_>) -> Result<R, Fail> + Send + 'static,
    ) -> Result<R, StoreError> {
        self.worker.call(job)
    }

    /// The server process of the store's connection (tests end it to cut the connection).
    #[cfg(test)]
    fn backend_pid(&self) -> Result<i32, StoreError> {
        self.call(|conn| Ok(conn.client.query_one("SELECT pg_backend_pid()", &[])?.try_get(0)?))
    }
}

/// The client's configuration for `spec`: its URL, with a connect timeout, TCP keepalives
/// and an application name unless the URL sets them.
fn configure(spec: &PostgresSpec, path: &std::path::Path) -> Result<Config, StoreError> {
    let mut config: Config = spec
        .url()
        .parse()
        .map_err(|e: ::postgres::Error| StoreError::CannotOpen { path: path.to_owned(), reason: e.to_string() })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    // A peer that vanished (a proxy cut, a host gone) is noticed within about a minute
    // rather than the system's two hours.
    config.keepalives(true);
    if config.get_keepalives_idle() == Duration::from_secs(2 * 60 * 60) {
        config.keepalives_idle(Duration::from_secs(30));
    }
    if config.get_keepalives_interval().is_none() {
        config.keepalives_interval(Duration::from_secs(10));
    }
    if config.get_keepalives_retries().is_none() {
        config.keepalives_retries(3);
    }
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(Duration::from_secs(60));
    }
    if config.get_application_name().is_none() {
        config.application_name("vitals");
    }
    Ok(config)
}

impl ResultStore for PgStore {
    fn write_run(&mut self, results: &[CheckResult], events: &[EventRecord]) -> Result<(), StoreError> {
        self.write_run_impl(results, events)
    }

    fn window(
        &self,
        check: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<(Option<CheckResult>, Vec<CheckResult>), StoreError> {
        self.window_impl(check, from_ms, to_ms, super::rows::Decode::Whole)
    }

    fn window_timings(
        &self,
        check: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<(Option<CheckResult>, Vec<CheckResult>), StoreError> {
        self.window_impl(check, from_ms, to_ms, super::rows::Decode::Timings)
    }

    fn events(&self, check: Option<&str>, limit: usize) -> Result<Vec<EventRecord>, StoreError> {
        self.events_impl(check, limit)
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
        let packed = PackedHour::pack(rollup.clone(), results).map_err(|e| StoreError::Other {
            path: self.worker.path().to_owned(),
            source: format!("cannot pack results: {e}").into(),
        })?;
        self.seal_packed_impl(std::slice::from_ref(&packed))
    }

    fn seal_packed(&mut self, hours: &[PackedHour]) -> Result<(), StoreError> {
        self.seal_packed_impl(hours)
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

    fn oldest_sealed_hour(&self, check: &str) -> Result<Option<i64>, StoreError> {
        self.oldest_sealed_hour_impl(check)
    }

    fn prune(&mut self, before_ms: i64, batch: usize) -> Result<usize, StoreError> {
        self.prune_impl(before_ms, batch)
    }

    fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        self.integrity_check_impl()
    }

    fn shared(&self) -> bool {
        true
    }

    fn heartbeat(&mut self, me: &RunnerInfo) -> Result<Membership, StoreError> {
        self.heartbeat_impl(me)
    }

    fn runners(&self) -> Result<Membership, StoreError> {
        self.runners_impl()
    }

    fn leave(&mut self, id: &str) -> Result<(), StoreError> {
        self.leave_impl(id)
    }
}

/// A count or limit as PostgreSQL's BIGINT.
fn big(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod same_answers_tests;
#[cfg(test)]
mod testdb;
#[cfg(test)]
mod tests;
