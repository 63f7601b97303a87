//! Rolling an hour of raw results up into an [`HourRollup`], and reading rollups back.
//!
//! The rollup's time parts (up, down, no data) are the ones [`History::availability`] gives
//! for the hour with default options and no maintenance, so summing rollups gives exactly
//! what the raw results give. Its latency sketches merge into percentiles over any span of
//! whole hours (within the sketch's stated error).

use std::collections::BTreeMap;
use std::time::Duration;

use super::latency::{LatencySketch, SketchError};
use super::sla::{History, Options, Sample, Window};
use crate::result::{CheckResult, StateType, Status};
use crate::store::{HOUR_MS, HourRollup, StatusCounts};

/// The metric whose values are the check's response time, when the plugin reports it.
pub const RESPONSE_TIME: &str = "time_total";

/// How a check's results are weighed: what [`History`] needs besides the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cadence {
    /// The nominal interval.
    pub interval: Duration,
    /// Retries before a failure is HARD.
    pub retries: u32,
    /// Delay between retries.
    pub retry_interval: Duration,
}

/// A result as the SLA computations see it. Results stored before states were recorded
/// count as confirmed.
pub fn sample(r: &CheckResult) -> Sample {
    Sample { at_ms: r.started_at_ms, status: r.status, state: r.state.map_or(StateType::Hard, |s| s.kind) }
}

/// The response time of a result: the plugin's `time_total` in ms where it reports one,
/// else the run's duration.
pub fn response_time(r: &CheckResult) -> Duration {
    r.metrics
        .iter()
        .find(|m| m.name == RESPONSE_TIME && m.unit == "ms" && m.value.is_finite() && m.value >= 0.0)
        .map_or(r.duration, |m| Duration::from_secs_f64(m.value / 1000.0))
}

/// The timing phases of a result: every other `time_*` metric in milliseconds or seconds
/// (`time_dns`, `time_connect`, `time_tls`, `time_first_byte`…), by name.
pub fn phases(r: &CheckResult) -> impl Iterator<Item = (&str, Duration)> {
    r.metrics.iter().filter_map(|m| {
        let scale = match m.unit.as_str() {
            "ms" => 1e-3,
            "s" => 1.0,
            _ => return None,
        };
        (m.name.starts_with("time_") && m.name != RESPONSE_TIME && m.value.is_finite() && m.value >= 0.0)
            .then(|| (m.name.as_str(), Duration::from_secs_f64((m.value * scale).min(1e9))))
    })
}

/// Rolls up the hour starting at `hour_ms` (a multiple of [`HOUR_MS`]) from `results`
/// (those of the hour, any order) and `before` (the last result before the hour).
pub fn rollup(
    check: &str,
    cadence: Cadence,
    before: Option<&CheckResult>,
    results: &[CheckResult],
    hour_ms: i64,
) -> HourRollup {
    let hour = Window { from_ms: hour_ms, to_ms: hour_ms + HOUR_MS };
    let inside: Vec<&CheckResult> = results.iter().filter(|r| hour.contains(r.started_at_ms)).collect();
    let samples: Vec<Sample> = inside.iter().map(|r| sample(r)).collect();
    let history = History {
        samples: &samples,
        before: before.map(sample),
        interval: cadence.interval,
        retries: cadence.retries,
        retry_interval: cadence.retry_interval,
        maintenance: &[],
        options: Options::default(),
    };
    let a = history.availability(hour);
    let mut counts = StatusCounts::default();
    let (mut soft, mut hard) = (0, 0);
    let mut latency = LatencySketch::new();
    let mut phase_sketches: BTreeMap<&str, LatencySketch> = BTreeMap::new();
    for r in &inside {
        match r.status {
            Status::Ok => counts.ok += 1,
            Status::Warning => counts.warning += 1,
            Status::Critical => counts.critical += 1,
            Status::Unknown => counts.unknown += 1,
        }
        match r.state.map(|s| s.kind) {
            Some(StateType::Soft) => soft += 1,
            _ => hard += 1,
        }
        latency.record(response_time(r));
        for (name, value) in phases(r) {
            phase_sketches.entry(name).or_default().record(value);
        }
    }
    HourRollup {
        check: check.to_string(),
        hour_ms,
        up_ms: a.up_ms,
        degraded_ms: a.degraded_ms,
        down_ms: a.down_ms,
        no_data_ms: a.no_data_ms,
        counts,
        soft,
        hard,
        latency: (latency.count() > 0).then(|| latency.to_payload_bytes()),
        phases: (!phase_sketches.is_empty()).then(|| encode_phases(&phase_sketches, false)),
    }
}

/// Packs named sketches: a format byte ([`PLAIN`] or [`ZSTD`]), then for each sketch a
/// one-byte name length, the name, a four-byte little-endian sketch length and the sketch
/// (its V2 payload, see [`LatencySketch::to_payload_bytes`]), compressed with zstd after the format byte when `compress`. Hourly rollups
/// stay plain, as reports read thousands of them; daily ones (past the retention) are
/// compressed, which halves them.
fn encode_phases<K: AsRef<str>>(sketches: &BTreeMap<K, LatencySketch>, compress: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, sketch) in sketches {
        let name = name.as_ref().as_bytes();
        let name = &name[..name.len().min(255)];
        let bytes = sketch.to_payload_bytes();
        out.push(name.len() as u8);
        out.extend_from_slice(name);
        out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(&bytes);
    }
    if compress {
        // Compressing into memory fails only on allocation failure; then keep it plain.
        if let Ok(mut packed) = zstd::bulk::compress(&out, PHASES_LEVEL) {
            packed.insert(0, ZSTD);
            return packed;
        }
    }
    out.insert(0, PLAIN);
    out
}

/// Format byte of an uncompressed phase blob.
const PLAIN: u8 = 0;
/// Format byte of a zstd-compressed phase blob.
const ZSTD: u8 = 1;

/// zstd level of phase blobs (small inputs: the level costs little).
const PHASES_LEVEL: i32 = 19;
/// No phase blob inflates beyond this (a day of a minutely check's phases is about 5 KiB).
const MAX_PHASES: usize = 16 << 20;

/// Merges phase blobs (the hours of a day) into one blob of the same form. Damaged blobs
/// are skipped with a warning: they are what they are, and the rest is still worth keeping.
pub fn merge_phases<'a>(blobs: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut merged: BTreeMap<String, LatencySketch> = BTreeMap::new();
    for blob in blobs {
        match phase_blobs(blob) {
            Ok(list) => {
                for (name, bytes) in list {
                    if let Err(e) = merged.entry(name.clone()).or_default().merge_payload(&bytes) {
                        tracing::warn!(phase = name, error = %e, "skipping a damaged phase sketch");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "skipping damaged phases"),
        }
    }
    if merged.is_empty() { Vec::new() } else { encode_phases(&merged, true) }
}

/// Splits what [`encode_phases`] wrote into named sketch payloads (for
/// [`LatencySketch::merge_payload`]). A malformed blob is an error, never a panic.
pub fn phase_blobs(blob: &[u8]) -> Result<Vec<(String, Vec<u8>)>, SketchError> {
    let inflated;
    let mut rest = match blob.split_first() {
        Some((&PLAIN, plain)) => plain,
        Some((&ZSTD, packed)) => {
            inflated = crate::store::blocks::inflate(packed, MAX_PHASES).map_err(SketchError::Decompress)?;
            &inflated[..]
        }
        Some((&other, _)) => return Err(SketchError::UnknownFormat(u32::from(other))),
        None => return Ok(Vec::new()),
    };
    let mut out = Vec::new();
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len);
        let name = tail.get(..len).ok_or(SketchError::Truncated)?;
        let name = std::str::from_utf8(name).map_err(|_| SketchError::Corrupt("phase name is not UTF-8"))?;
        let size = tail.get(len..len + 4).ok_or(SketchError::Truncated)?;
        let size = u32::from_le_bytes([size[0], size[1], size[2], size[3]]) as usize;
        let end = (len + 4).checked_add(size).ok_or(SketchError::Truncated)?;
        let bytes = tail.get(len + 4..end).ok_or(SketchError::Truncated)?;
        out.push((name.to_string(), bytes.to_vec()));
        rest = &tail[end..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::StateInfo;
    use crate::result::fixture::{self, ms};

    fn result(at_ms: i64, status: Status, total_ms: f64) -> CheckResult {
        let metrics = vec![ms("time_connect", total_ms / 4.0), ms(RESPONSE_TIME, total_ms)];
        CheckResult {
            state: Some(StateInfo { kind: StateType::Hard, attempt: 1 }),
            ..fixture::result("web", at_ms, status, metrics)
        }
    }

    const CADENCE: Cadence =
        Cadence { interval: Duration::from_secs(60), retries: 0, retry_interval: Duration::from_secs(60) };

    #[test]
    fn an_hour_with_a_gap_and_an_outage_rolls_up_to_the_raw_figures() {
        let h = 10 * HOUR_MS;
        // Minutely results; critical from minute 10 to 19; nothing from minute 40 on.
        let results: Vec<CheckResult> = (0..40)
            .map(|m| result(h + m * 60_000, if (10..20).contains(&m) { Status::Critical } else { Status::Ok }, 100.0))
            .collect();
        let before = result(h - 60_000, Status::Ok, 100.0);
        let r = rollup("web", CADENCE, Some(&before), &results, h);
        assert_eq!(r.down_ms, 10 * 60_000);
        // The last result (minute 39) holds two intervals, to minute 41.
        assert_eq!(r.up_ms, 31 * 60_000);
        assert_eq!(r.no_data_ms, 19 * 60_000);
        assert_eq!(r.counts, StatusCounts { ok: 30, warning: 0, critical: 10, unknown: 0 });
        assert_eq!((r.soft, r.hard), (0, 40));
        let mut latency = LatencySketch::new();
        latency.merge_payload(r.latency.as_deref().expect("a sketch")).expect("decodes");
        assert_eq!(latency.count(), 40);
        let phases = phase_blobs(r.phases.as_deref().expect("phases")).expect("splits");
        assert_eq!(phases.len(), 1);
        assert_eq!(phases[0].0, "time_connect");
        let mut sketch = LatencySketch::new();
        sketch.merge_payload(&phases[0].1).expect("decodes");
        let p50 = sketch.quantile(0.5).expect("values");
        assert!((p50.as_secs_f64() * 1000.0 - 25.0).abs() < 0.05, "{p50:?}");
    }

    #[test]
    fn an_empty_hour_is_no_data_or_the_state_before_held() {
        let h = 5 * HOUR_MS;
        let r = rollup("web", CADENCE, None, &[], h);
        assert_eq!((r.up_ms, r.down_ms, r.no_data_ms), (0, 0, HOUR_MS));
        assert!(r.latency.is_none() && r.phases.is_none());
        let before = result(h - 30_000, Status::Critical, 1.0);
        let r = rollup("web", CADENCE, Some(&before), &[], h);
        assert_eq!((r.up_ms, r.down_ms, r.no_data_ms), (0, 90_000, HOUR_MS - 90_000));
    }

    #[test]
    fn daily_merges_compress_and_read_back_as_the_sum_of_the_hours() {
        let h = 10 * HOUR_MS;
        let hours: Vec<HourRollup> = (0..24)
            .map(|k| {
                let results: Vec<CheckResult> =
                    (0..60).map(|m| result(h + k * HOUR_MS + m * 60_000, Status::Ok, 10.0 + (m % 13) as f64)).collect();
                rollup("web", CADENCE, None, &results, h + k * HOUR_MS)
            })
            .collect();
        let daily = merge_phases(hours.iter().filter_map(|r| r.phases.as_deref()));
        assert_eq!(daily[0], ZSTD);
        let hourly_bytes: usize = hours.iter().filter_map(|r| r.phases.as_ref()).map(Vec::len).sum();
        assert!(daily.len() * 4 < hourly_bytes, "{} vs {hourly_bytes}", daily.len());
        let back = phase_blobs(&daily).expect("reads");
        let mut sketch = LatencySketch::new();
        sketch.merge_payload(&back[0].1).expect("decodes");
        assert_eq!((back[0].0.as_str(), sketch.count()), ("time_connect", 24 * 60));
    }

    #[test]
    fn malformed_phase_blobs_are_errors() {
        let z = |plain: &[u8]| [vec![ZSTD], zstd::bulk::compress(plain, 3).expect("compresses")].concat();
        assert!(phase_blobs(&[ZSTD, 1, 2, 3]).is_err());
        assert!(phase_blobs(&[7, 1]).is_err());
        assert!(phase_blobs(&[PLAIN, 5, b'a']).is_err());
        assert!(phase_blobs(&z(&[1, b'a', 200, 0, 0, 0, 1])).is_err());
        assert!(phase_blobs(&[PLAIN, 1, 0xff, 0, 0, 0, 0]).is_err());
        assert!(phase_blobs(&z(&[])).expect("empty is fine").is_empty());
        assert!(phase_blobs(&[]).expect("empty is fine").is_empty());
    }
}
