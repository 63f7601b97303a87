//! Raw results and events in PostgreSQL: the one transaction a run is written in (a
//! multi-row insert per table, whatever the batch's size), and the reads of recent results,
//! a window (sealed hours included) and events.

use std::collections::HashMap;
use std::time::Duration;

use ::postgres::Row;
use ::postgres::types::ToSql;

use super::conn::{Conn, Fail};
use super::{PgStore, big, tiers};
use crate::result::{CheckResult, EventRecord, Reason};
use crate::store::rows::{self, Decode, metrics_json};
use crate::store::{ChangeKind, Observation, StoreError};

/// Result columns, in the order [`read_result`] reads them.
macro_rules! result_columns {
    () => {
        "id, check_name, plugin, plugin_version, target, started_at_ms, duration_us, status, summary, reason, \
         details, state_type, attempt, metrics::text"
    };
}

/// Event columns, in the order [`read_events`] reads them.
macro_rules! event_columns {
    () => {
        "id, check_name, at_ms, kind, from_status, to_status, flap_percent, summary"
    };
}

/// Every result of a batch, in one statement: a result already stored (same check and
/// start) is left as it is, so a batch written twice is stored once.
const INSERT_RESULTS: &str = "INSERT INTO results (check_name, plugin, plugin_version, target, started_at_ms, \
     duration_us, status, summary, reason, details, state_type, attempt, metrics) \
     SELECT c, p, v, g, t, d, s, m, r, x, st, a, mt::json FROM unnest($1::text[], $2::text[], $3::text[], \
     $4::text[], $5::int8[], $6::int8[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], \
     $12::int8[], $13::text[]) WITH ORDINALITY AS u(c, p, v, g, t, d, s, m, r, x, st, a, mt, n) ORDER BY n \
     ON CONFLICT (check_name, started_at_ms) DO NOTHING";

/// Every event of a batch, in one statement, each stored once.
const INSERT_EVENTS: &str = "INSERT INTO events (check_name, at_ms, kind, from_status, to_status, flap_percent, \
     summary) SELECT c, t, k, f, o, p, s FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], \
     $6::float8[], $7::text[]) WITH ORDINALITY AS u(c, t, k, f, o, p, s, n) ORDER BY n \
     ON CONFLICT (check_name, at_ms, kind) DO NOTHING";

/// The results of a batch, column by column (what [`INSERT_RESULTS`] takes).
#[derive(Default)]
struct ResultColumns {
    check: Vec<String>,
    plugin: Vec<String>,
    plugin_version: Vec<String>,
    target: Vec<String>,
    started_at_ms: Vec<i64>,
    duration_us: Vec<i64>,
    status: Vec<&'static str>,
    summary: Vec<String>,
    reason: Vec<Option<&'static str>>,
    details: Vec<Option<String>>,
    state_type: Vec<Option<&'static str>>,
    attempt: Vec<Option<i64>>,
    metrics: Vec<Option<String>>,
}

impl ResultColumns {
    fn of(results: &[CheckResult]) -> ResultColumns {
        let mut c = ResultColumns::default();
        let mut metrics = String::new();
        for r in results {
            c.check.push(r.check.clone());
            c.plugin.push(r.plugin.clone());
            c.plugin_version.push(r.plugin_version.clone());
            c.target.push(r.target.clone());
            c.started_at_ms.push(r.started_at_ms);
            c.duration_us.push(i64::try_from(r.duration.as_micros()).unwrap_or(i64::MAX));
            c.status.push(r.status.as_str());
            c.summary.push(r.summary.clone());
            c.reason.push(r.reason.map(Reason::as_str));
            c.details.push(r.details.clone());
            c.state_type.push(r.state.map(|st| st.kind.as_str()));
            c.attempt.push(r.state.map(|st| i64::from(st.attempt)));
            c.metrics.push(metrics_json(r, &mut metrics).then(|| metrics.clone()));
        }
        c
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 13] {
        [
            &self.check,
            &self.plugin,
            &self.plugin_version,
            &self.target,
            &self.started_at_ms,
            &self.duration_us,
            &self.status,
            &self.summary,
            &self.reason,
            &self.details,
            &self.state_type,
            &self.attempt,
            &self.metrics,
        ]
    }
}

/// The events of a batch, column by column (what [`INSERT_EVENTS`] takes).
#[derive(Default)]
struct EventColumns {
    check: Vec<String>,
    at_ms: Vec<i64>,
    kind: Vec<&'static str>,
    from: Vec<Option<&'static str>>,
    to: Vec<Option<&'static str>>,
    percent: Vec<Option<f64>>,
    summary: Vec<String>,
}

impl EventColumns {
    fn of(events: &[EventRecord]) -> EventColumns {
        let mut c = EventColumns::default();
        for e in events {
            let (kind, from, to, percent) = rows::event_columns(&e.event);
            c.check.push(e.check.clone());
            c.at_ms.push(e.event.at_ms());
            c.kind.push(kind);
            c.from.push(from);
            c.to.push(to);
            c.percent.push(percent);
            c.summary.push(e.summary.clone());
        }
        c
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 7] {
        [&self.check, &self.at_ms, &self.kind, &self.from, &self.to, &self.percent, &self.summary]
    }
}

/// Turns one `results` row (columns [`result_columns`]) into a result, returning its id too.
pub(super) fn read_result(row: &Row) -> Result<(i64, CheckResult), Fail> {
    let id: i64 = row.try_get(0)?;
    let duration_us: i64 = row.try_get(6)?;
    let duration = u64::try_from(duration_us)
        .map(Duration::from_micros)
        .map_err(|_| Fail::Corrupt(format!("results row {id} has a negative duration ({duration_us} us)")))?;
    let status = rows::read_status(id, row.try_get(7)?).map_err(Fail::Corrupt)?;
    let reason = match row.try_get::<_, Option<&str>>(9)? {
        None => None,
        Some(word) => Some(
            Reason::parse(word)
                .ok_or_else(|| Fail::Corrupt(format!("results row {id} has an unknown reason {word:?}")))?,
        ),
    };
    let state = rows::read_state(id, row.try_get(11)?, row.try_get(12)?).map_err(Fail::Corrupt)?;
    Ok((
        id,
        CheckResult {
            check: row.try_get(1)?,
            plugin: row.try_get(2)?,
            plugin_version: row.try_get(3)?,
            target: row.try_get(4)?,
            started_at_ms: row.try_get(5)?,
            duration,
            status,
            summary: row.try_get(8)?,
            reason,
            metrics: rows::read_metrics(id, row.try_get(13)?).map_err(Fail::Corrupt)?,
            details: row.try_get(10)?,
            state,
        },
    ))
}

/// The results a query over [`result_columns`] selects.
fn query_results(conn: &mut Conn<'_>, sql: &str, args: &[&(dyn ToSql + Sync)]) -> Result<Vec<CheckResult>, Fail> {
    let statement = conn.prepare(sql)?;
    conn.client.query(&statement, args)?.iter().map(|row| read_result(row).map(|(_, r)| r)).collect()
}

/// The events a query over [`event_columns`] selects.
pub(super) fn read_events(
    conn: &mut Conn<'_>,
    sql: &str,
    args: &[&(dyn ToSql + Sync)],
) -> Result<Vec<EventRecord>, Fail> {
    let statement = conn.prepare(sql)?;
    let mut out = Vec::new();
    for row in conn.client.query(&statement, args)? {
        let id: i64 = row.try_get(0)?;
        let event =
            rows::read_event(id, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?, row.try_get(5)?, row.try_get(6)?)
                .map_err(Fail::Corrupt)?;
        out.push(EventRecord { check: row.try_get(1)?, event, summary: row.try_get(7)? });
    }
    Ok(out)
}

impl PgStore {
    pub(super) fn write_run_impl(&mut self, results: &[CheckResult], events: &[EventRecord]) -> Result<(), StoreError> {
        if results.is_empty() && events.is_empty() {
            return Ok(());
        }
        let results = ResultColumns::of(results);
        let events = EventColumns::of(events);
        self.call(move |conn| {
            let insert_results = conn.prepare(INSERT_RESULTS)?;
            let insert_events = conn.prepare(INSERT_EVENTS)?;
            let mut tx = conn.client.transaction()?;
            if !results.check.is_empty() {
                tx.execute(&insert_results, &results.params())?;
            }
            if !events.check.is_empty() {
                tx.execute(&insert_events, &events.params())?;
            }
            // Dropping `tx` on any error above rolls the whole run back.
            tx.commit()?;
            Ok(())
        })
    }

    pub(super) fn window_impl(
        &self,
        check: &str,
        from_ms: i64,
        to_ms: i64,
        decode: Decode,
    ) -> Result<(Option<CheckResult>, Vec<CheckResult>), StoreError> {
        let check = check.to_owned();
        self.call(move |conn| {
            let trim = |r: CheckResult| if decode == Decode::Timings { r.into_timings() } else { r };
            let unsealed_before = query_results(
                conn,
                concat!(
                    "SELECT ",
                    result_columns!(),
                    " FROM results WHERE check_name = $1 AND started_at_ms < $2 \
                     ORDER BY started_at_ms DESC, id DESC LIMIT 1"
                ),
                &[&check, &from_ms],
            )?
            .pop()
            .map(trim);
            let before = rows::before_window(unsealed_before, from_ms, || {
                tiers::last_sealed_before(conn, &check, from_ms, decode)
            })?;
            let sealed = tiers::sealed(conn, &check, from_ms, to_ms, decode)?;
            let unsealed = query_results(
                conn,
                concat!(
                    "SELECT ",
                    result_columns!(),
                    " FROM results WHERE check_name = $1 AND started_at_ms >= $2 AND started_at_ms < $3 \
                     ORDER BY started_at_ms, id"
                ),
                &[&check, &from_ms, &to_ms],
            )?;
            Ok((before, rows::inside_window(sealed, unsealed.into_iter().map(trim).collect(), from_ms, to_ms)))
        })
    }

    pub(super) fn events_impl(&self, check: Option<&str>, limit: usize) -> Result<Vec<EventRecord>, StoreError> {
        let check = check.map(str::to_owned);
        self.call(move |conn| {
            read_events(
                conn,
                concat!(
                    "SELECT ",
                    event_columns!(),
                    " FROM events WHERE $1::text IS NULL OR check_name = $1 ORDER BY at_ms DESC, id DESC LIMIT $2"
                ),
                &[&check, &big(limit)],
            )
        })
    }

    pub(super) fn recent_impl(&self, check: Option<&str>, limit: usize) -> Result<Vec<CheckResult>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let check = check.map(str::to_owned);
        self.call(move |conn| {
            // Two statements rather than `$1 IS NULL OR ...`, so the per-check one walks the
            // (check_name, started_at_ms) index backwards.
            let mut out = match &check {
                Some(name) => query_results(
                    conn,
                    concat!(
                        "SELECT ",
                        result_columns!(),
                        " FROM results WHERE check_name = $1 ORDER BY started_at_ms DESC, id DESC LIMIT $2"
                    ),
                    &[name, &big(limit)],
                )?,
                None => query_results(
                    conn,
                    concat!(
                        "SELECT ",
                        result_columns!(),
                        " FROM results ORDER BY started_at_ms DESC, id DESC LIMIT $1"
                    ),
                    &[&big(limit)],
                )?,
            };
            if out.len() < limit {
                let sealed = tiers::recent_sealed(conn, check.as_deref(), limit)?;
                rows::recent_with_sealed(&mut out, sealed, limit);
            }
            Ok(out)
        })
    }

    pub(super) fn recent_observations_impl(
        &self,
        checks: &[&str],
        limit: usize,
    ) -> Result<HashMap<String, Vec<Observation>>, StoreError> {
        if checks.is_empty() || limit == 0 {
            return Ok(HashMap::new());
        }
        let checks: Vec<String> = checks.iter().map(|c| (*c).to_owned()).collect();
        self.call(move |conn| {
            // One statement for every check, each walking its index backwards.
            let statement = conn.prepare(
                "SELECT c.name, r.id, r.started_at_ms, r.status FROM unnest($1::text[]) AS c(name) \
                 CROSS JOIN LATERAL (SELECT id, started_at_ms, status FROM results WHERE check_name = c.name \
                 ORDER BY started_at_ms DESC, id DESC LIMIT $2) AS r",
            )?;
            let mut seen: HashMap<String, Vec<(i64, Observation)>> = HashMap::new();
            for row in conn.client.query(&statement, &[&checks, &big(limit)])? {
                let id: i64 = row.try_get(1)?;
                let status = rows::read_status(id, row.try_get(3)?).map_err(Fail::Corrupt)?;
                let observation = Observation { started_at_ms: row.try_get(2)?, status };
                seen.entry(row.try_get(0)?).or_default().push((id, observation));
            }
            let mut out: HashMap<String, Vec<Observation>> = seen
                .into_iter()
                .map(|(name, mut seen)| {
                    seen.sort_by_key(|(id, o)| (o.started_at_ms, *id));
                    (name, seen.into_iter().map(|(_, o)| o).collect())
                })
                .collect();
            // Checks with fewer unsealed results than wanted go on into their sealed hours;
            // a store without sealed hours (a new one) is not asked per check.
            if !tiers::has_sealed_hours(conn)? {
                return Ok(out);
            }
            for check in &checks {
                let have = out.get(check).map_or(0, Vec::len);
                if have >= limit {
                    continue;
                }
                let sealed = tiers::recent_sealed(conn, Some(check), limit - have)?;
                let mut seen = out.remove(check).unwrap_or_default();
                rows::observations_with_sealed(&mut seen, sealed);
                if !seen.is_empty() {
                    out.insert(check.clone(), seen);
                }
            }
            Ok(out)
        })
    }

    pub(super) fn changes_impl(
        &self,
        check: &str,
        kind: ChangeKind,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<(Option<EventRecord>, Vec<EventRecord>), StoreError> {
        let check = check.to_owned();
        let kinds: Vec<&'static str> = match kind {
            ChangeKind::Hard => vec!["hard_change"],
            ChangeKind::Flapping => vec!["flapping_started", "flapping_stopped"],
        };
        self.call(move |conn| {
            let before = read_events(
                conn,
                concat!(
                    "SELECT ",
                    event_columns!(),
                    " FROM events WHERE check_name = $1 AND kind = ANY($2::text[]) AND at_ms < $3 \
                     ORDER BY at_ms DESC, id DESC LIMIT 1"
                ),
                &[&check, &kinds, &from_ms],
            )?;
            let inside = read_events(
                conn,
                concat!(
                    "SELECT ",
                    event_columns!(),
                    " FROM events WHERE check_name = $1 AND kind = ANY($2::text[]) AND at_ms >= $3 AND at_ms < $4 \
                     ORDER BY at_ms, id"
                ),
                &[&check, &kinds, &from_ms, &to_ms],
            )?;
            Ok((before.into_iter().next(), inside))
        })
    }
}
