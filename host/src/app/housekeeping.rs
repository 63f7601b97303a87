//! Housekeeping of the result store, run after each `run --once` and every few minutes by
//! the daemon: seals every finished check-hour (its hourly rollup is computed and its raw
//! results packed into one block; see `store`) and prunes raw results past the retention.
//!
//! Each hour is sealed in its own short transaction and old hours are pruned in small
//! batches, so the writer is never held up for more than a few milliseconds.

use std::collections::HashMap;
use std::time::Duration;

use crate::plan::Plan;
use crate::report::rollup::{Cadence, merge_phases, rollup};
use crate::store::{HOUR_MS, ResultStore, StoreError};

/// An hour is sealed once it ended this long ago: runs that started in it have finished
/// and been written by then (a result that still comes later is sealed on the next pass).
pub const GRACE: Duration = Duration::from_secs(10 * 60);
/// Old hours deleted per transaction.
const PRUNE_BATCH: usize = 256;
/// The daemon's pause between passes.
pub const EVERY: Duration = Duration::from_secs(5 * 60);

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Check-hours sealed.
    pub sealed: usize,
    /// Check-hours of raw results deleted.
    pub pruned: usize,
    /// Check-days whose hourly phase sketches became one daily sketch.
    pub compacted: usize,
}

/// The cadence of each configured check, by name.
pub fn cadences(plan: &Plan) -> HashMap<String, Cadence> {
    plan.checks
        .iter()
        .map(|c| {
            let t = &c.timing;
            (
                c.name.clone(),
                Cadence { interval: t.interval, retries: t.policy.retries, retry_interval: t.retry_interval },
            )
        })
        .collect()
}

/// One pass at `now_ms`: seals every finished hour, then prunes raw results older than
/// `retention`. Checks no longer configured are sealed with the cadence their results
/// show (the median spacing).
pub fn run(
    store: &mut dyn ResultStore,
    cadences: &HashMap<String, Cadence>,
    retention: Duration,
    now_ms: i64,
) -> Result<Outcome, StoreError> {
    let mut outcome = Outcome::default();
    let grace = i64::try_from(GRACE.as_millis()).unwrap_or(i64::MAX);
    for (check, hour_ms) in store.unsealed_hours(now_ms.saturating_sub(grace))? {
        let (before, results) = store.window(&check, hour_ms, hour_ms + HOUR_MS)?;
        let cadence = cadences.get(&check).copied().unwrap_or_else(|| inferred(&results));
        let span = tracing::debug_span!("seal", check = %check, hour_ms);
        let _enter = span.enter();
        store.seal_hour(&rollup(&check, cadence, before.as_ref(), &results, hour_ms), &results)?;
        outcome.sealed += 1;
    }
    let cutoff = now_ms.saturating_sub(i64::try_from(retention.as_millis()).unwrap_or(i64::MAX));
    // Once a day is over, its phase sketches become one: phase percentiles keep a day's
    // resolution, which is most of what keeps a check-year within a few MiB, and a month's
    // report merges 30 sketches per phase instead of 720. A late hour sealed after that is
    // merged into the day's sketch on the next pass.
    let today = now_ms.saturating_sub(grace).div_euclid(24 * HOUR_MS) * 24 * HOUR_MS;
    for (check, day_ms) in store.pending_phase_days(today)? {
        let hours = store.rollups(&check, day_ms, day_ms + 24 * HOUR_MS)?;
        let before = store.daily_phases(&check, day_ms, day_ms + 1)?;
        let merged = merge_phases(
            hours.iter().filter_map(|h| h.phases.as_deref()).chain(before.iter().map(|(_, b)| b.as_slice())),
        );
        store.compact_phases(&check, day_ms, &merged)?;
        outcome.compacted += 1;
    }
    loop {
        let deleted = store.prune(cutoff, PRUNE_BATCH)?;
        outcome.pruned += deleted;
        if deleted < PRUNE_BATCH {
            break;
        }
    }
    if outcome != Outcome::default() {
        tracing::debug!(
            sealed = outcome.sealed,
            pruned = outcome.pruned,
            compacted = outcome.compacted,
            "store housekeeping"
        );
    }
    Ok(outcome)
}

/// The cadence of a check known only by its results: the median spacing, a minute without.
fn inferred(results: &[crate::result::CheckResult]) -> Cadence {
    let mut gaps: Vec<i64> =
        results.windows(2).map(|w| w[1].started_at_ms - w[0].started_at_ms).filter(|g| *g > 0).collect();
    gaps.sort_unstable();
    let interval = gaps
        .get(gaps.len() / 2)
        .map_or(Duration::from_secs(60), |&g| Duration::from_millis(u64::try_from(g).unwrap_or(60_000)));
    Cadence { interval, retries: 0, retry_interval: interval }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{CheckResult, Status};

    const MIN: i64 = 60_000;

    fn result(check: &str, at_ms: i64, status: Status) -> CheckResult {
        CheckResult {
            summary: format!("TCP {status}"),
            ..crate::result::fixture::result(check, at_ms, status, Vec::new())
        }
    }

    fn count(path: &std::path::Path, sql: &str) -> i64 {
        rusqlite::Connection::open(path).expect("opens").query_row(sql, [], |r| r.get(0)).expect("counts")
    }

    #[test]
    fn finished_hours_are_sealed_reads_do_not_change_and_old_hours_are_pruned() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("v.db");
        let mut store = crate::store::open(&path).expect("opens");
        let day = 24 * HOUR_MS;
        // Three days and a bit of a check every minute, down for ten minutes on day 2.
        let results: Vec<CheckResult> = (0..(3 * 24 * 60 + 30))
            .map(|m| {
                let status =
                    if (2 * 24 * 60 + 100..2 * 24 * 60 + 110).contains(&m) { Status::Critical } else { Status::Ok };
                result("db", m * MIN, status)
            })
            .collect();
        store.write_run(&results, &[]).expect("writes");
        let now = 3 * day + 30 * MIN;
        let before_all = store.window("db", 0, now).expect("reads");

        let cadences = HashMap::from([(
            "db".to_string(),
            Cadence { interval: Duration::from_secs(60), retries: 0, retry_interval: Duration::from_secs(10) },
        )]);
        let outcome = run(store.as_mut(), &cadences, Duration::from_secs(10 * 86_400), now).expect("runs");
        // The hour that ended 30 minutes ago is sealed, the current one is not.
        assert_eq!(outcome, Outcome { sealed: 72, pruned: 0, compacted: 0 });
        assert_eq!(count(&path, "SELECT count(*) FROM results"), 30);
        assert_eq!(count(&path, "SELECT count(*) FROM hourly"), 72);
        assert_eq!(store.window("db", 0, now).expect("reads"), before_all, "sealing changes nothing a reader sees");
        assert_eq!(store.recent(Some("db"), 100).expect("reads").len(), 100);
        let rollups = store.rollups("db", 2 * day, 3 * day).expect("reads");
        assert_eq!(rollups.len(), 24);
        assert_eq!(rollups.iter().map(|r| r.down_ms).sum::<i64>(), 10 * MIN);

        // A second pass has nothing to do; a late result re-seals its hour.
        assert_eq!(
            run(store.as_mut(), &cadences, Duration::from_secs(10 * 86_400), now).expect("runs"),
            Outcome::default()
        );
        store.write_run(&[result("db", 5 * MIN + 30_000, Status::Critical)], &[]).expect("writes");
        assert_eq!(run(store.as_mut(), &cadences, Duration::from_secs(10 * 86_400), now).expect("runs").sealed, 1);
        assert_eq!(store.window("db", 0, HOUR_MS).expect("reads").1.len(), 61);

        // With a retention of one day, the first two days of raw results go; rollups stay.
        let outcome = run(store.as_mut(), &cadences, Duration::from_secs(86_400), now).expect("runs");
        assert_eq!(outcome.pruned, 48);
        assert_eq!(count(&path, "SELECT count(*) FROM sealed_hours"), 24);
        assert_eq!(count(&path, "SELECT count(*) FROM hourly"), 72);
        assert!(store.window("db", 0, day).expect("reads").1.is_empty());
    }

    #[test]
    fn an_unconfigured_check_is_sealed_with_the_spacing_of_its_results() {
        let results: Vec<CheckResult> = (0..10).map(|i| result("gone", i * 5 * MIN, Status::Ok)).collect();
        assert_eq!(inferred(&results).interval, Duration::from_secs(300));
        assert_eq!(inferred(&[]).interval, Duration::from_secs(60));
    }
}
