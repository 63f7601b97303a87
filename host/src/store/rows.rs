//! What the two database stores (SQLite and PostgreSQL) share about their rows: how a
//! result's metrics and state and an event are put into columns and read back, and how the
//! raw rows of the unsealed tier merge with the sealed hours. Both stores answer every read
//! the same way because both go through these.

use crate::result::state::Event;
use crate::result::{CheckResult, Metric, StateInfo, StateType, Status};

use super::{HOUR_MS, Observation};

/// How much of each sealed result a read decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decode {
    /// The whole result.
    Whole,
    /// Only its timings ([`super::ResultStore::window_timings`]).
    Timings,
}

/// Writes the metrics of `result` that the stores can hold into `out` as one JSON array
/// (the `metrics` column), and says whether there were any. A metric whose value is NaN or
/// infinite is left out (JSON has no such number), and so is a non-finite `min` or `max`.
pub(crate) fn metrics_json(result: &CheckResult, out: &mut String) -> bool {
    out.clear();
    let finite = |v: Option<f64>| v.is_none_or(f64::is_finite);
    let json = if result.metrics.iter().all(|m| m.value.is_finite() && finite(m.min) && finite(m.max)) {
        if result.metrics.is_empty() {
            return false;
        }
        serde_json::to_string(&result.metrics)
    } else {
        let kept: Vec<Metric> = result
            .metrics
            .iter()
            .filter(|m| {
                if !m.value.is_finite() {
                    tracing::debug!(check = %result.check, metric = %m.name, value = m.value,
                        "not storing a metric whose value is not a finite number");
                }
                m.value.is_finite()
            })
            .map(|m| Metric { min: m.min.filter(|v| v.is_finite()), max: m.max.filter(|v| v.is_finite()), ..m.clone() })
            .collect();
        if kept.is_empty() {
            return false;
        }
        serde_json::to_string(&kept)
    };
    // Plain strings and finite numbers always serialize.
    match json {
        Ok(json) => {
            *out = json;
            true
        }
        Err(_) => false,
    }
}

/// The metrics of results row `id` from its `metrics` column (a JSON array, or NULL for
/// none); the error says what is wrong with the row.
pub(crate) fn read_metrics(id: i64, column: Option<&str>) -> Result<Vec<Metric>, String> {
    match column {
        None => Ok(Vec::new()),
        Some(json) => serde_json::from_str(json).map_err(|e| format!("results row {id} has unreadable metrics: {e}")),
    }
}

/// The state columns of results row `id`: both set, or the type empty (older rows).
pub(crate) fn read_state(id: i64, kind: Option<&str>, attempt: Option<i64>) -> Result<Option<StateInfo>, String> {
    let Some(word) = kind else { return Ok(None) };
    let kind = StateType::parse(word).ok_or_else(|| format!("results row {id} has an unknown state type {word:?}"))?;
    let attempt = attempt
        .and_then(|a| u32::try_from(a).ok())
        .ok_or_else(|| format!("results row {id} has a state without a valid attempt"))?;
    Ok(Some(StateInfo { kind, attempt }))
}

/// The status word of results row `id`.
pub(crate) fn read_status(id: i64, word: &str) -> Result<Status, String> {
    Status::parse(word).ok_or_else(|| format!("results row {id} has an unknown status {word:?}"))
}

/// The `events` columns of one event: kind, from_status, to_status, flap_percent.
pub(crate) fn event_columns(event: &Event) -> (&'static str, Option<&'static str>, Option<&'static str>, Option<f64>) {
    match *event {
        Event::HardChange { from, to, .. } => ("hard_change", Some(from.as_str()), Some(to.as_str()), None),
        Event::FlappingStarted { percent, .. } => ("flapping_started", None, None, Some(percent)),
        Event::FlappingStopped { percent, .. } => ("flapping_stopped", None, None, Some(percent)),
    }
}

/// The event of events row `id` from its columns (see [`event_columns`]).
pub(crate) fn read_event(
    id: i64,
    at_ms: i64,
    kind: &str,
    from: Option<&str>,
    to: Option<&str>,
    percent: Option<f64>,
) -> Result<Event, String> {
    let status = |word: Option<&str>, column: usize| {
        word.and_then(Status::parse).ok_or_else(|| format!("events row {id} has no valid status in column {column}"))
    };
    let percent = || percent.ok_or_else(|| format!("events row {id} has no flap percentage"));
    Ok(match kind {
        "hard_change" => Event::HardChange { from: status(from, 4)?, to: status(to, 5)?, at_ms },
        "flapping_started" => Event::FlappingStarted { percent: percent()?, at_ms },
        "flapping_stopped" => Event::FlappingStopped { percent: percent()?, at_ms },
        other => return Err(format!("events row {id} has an unknown kind {other:?}")),
    })
}

/// The result a window starts in: the newest unsealed one before it, unless a sealed one
/// (asked of `sealed` only when it can be newer) started later.
pub(crate) fn before_window<E>(
    unsealed: Option<CheckResult>,
    from_ms: i64,
    sealed: impl FnOnce() -> Result<Option<CheckResult>, E>,
) -> Result<Option<CheckResult>, E> {
    // A sealed result can only be the latest one before the window when no unsealed one
    // is in the same or a later hour.
    Ok(match unsealed {
        Some(r) if r.started_at_ms.div_euclid(HOUR_MS) == from_ms.div_euclid(HOUR_MS) => Some(r),
        unsealed => match (unsealed, sealed()?) {
            (Some(u), Some(s)) => Some(if s.started_at_ms > u.started_at_ms { s } else { u }),
            (u, s) => u.or(s),
        },
    })
}

/// The results of a window `[from_ms, to_ms)`: those of the sealed hours that overlap it
/// (whole blocks, oldest first) that fall inside, and the unsealed ones (oldest first).
pub(crate) fn inside_window(
    sealed: Vec<CheckResult>,
    unsealed: Vec<CheckResult>,
    from_ms: i64,
    to_ms: i64,
) -> Vec<CheckResult> {
    let mut inside: Vec<CheckResult> =
        sealed.into_iter().filter(|r| r.started_at_ms >= from_ms && r.started_at_ms < to_ms).collect();
    inside.extend(unsealed);
    // Stable: results of equal times keep their written order.
    inside.sort_by_key(|r| r.started_at_ms);
    inside
}

/// Completes the newest unsealed results `out` (newest first) with `sealed` (newest first),
/// which are older than every unsealed row of their check, up to `wanted`.
pub(crate) fn recent_with_sealed(out: &mut Vec<CheckResult>, sealed: Vec<CheckResult>, wanted: usize) {
    let oldest = out.last().map_or(i64::MAX, |r| r.started_at_ms);
    out.extend(sealed.into_iter().filter(|r| r.started_at_ms <= oldest));
    out.sort_by_key(|r| std::cmp::Reverse(r.started_at_ms));
    out.truncate(wanted);
}

/// Collects the newest `limit` sealed results, newest first, from blocks given newest hour
/// first (`blocks` yields each unpacked block, and is not asked for more once enough are in).
pub(crate) fn newest_sealed<E>(
    blocks: impl IntoIterator<Item = Result<Vec<CheckResult>, E>>,
    limit: usize,
) -> Result<Vec<CheckResult>, E> {
    let mut out: Vec<CheckResult> = Vec::new();
    let mut hour_done = i64::MAX;
    for results in blocks {
        let mut results = results?;
        let hour = results.first().map_or(i64::MIN, |r| r.started_at_ms.div_euclid(HOUR_MS));
        // Blocks come newest hour first; every block of an hour must be in before cutting.
        if out.len() >= limit && hour < hour_done {
            break;
        }
        hour_done = hour;
        out.append(&mut results);
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.started_at_ms));
    out.truncate(limit);
    Ok(out)
}

/// Puts the observations of a check's newest sealed results (`sealed`, newest first) before
/// its unsealed ones (`seen`, oldest first), keeping only those not newer than them.
pub(crate) fn observations_with_sealed(seen: &mut Vec<Observation>, sealed: Vec<CheckResult>) {
    let oldest = seen.first().map_or(i64::MAX, |o| o.started_at_ms);
    let mut older: Vec<Observation> = sealed
        .into_iter()
        .filter(|r| r.started_at_ms <= oldest)
        .map(|r| Observation { started_at_ms: r.started_at_ms, status: r.status })
        .collect();
    older.reverse();
    older.append(seen);
    *seen = older;
}
