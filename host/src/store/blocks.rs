//! Sealed hours of raw results: all results of one check in one hour, packed into one
//! compressed blob (JSON, then zstd). Packing repeats (plugin, target, metric names and
//! units, similar summaries) away: an hour of 60 HTTP results takes about 2 KiB instead of
//! about 30 KiB as rows, which is what keeps a year of a check within a few MiB.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::result::{CheckResult, Metric, Reason, StateInfo, StateType, Status, TIMING_PREFIX};

/// zstd level: the packing runs in the background, once per check-hour. Measured on an hour
/// of 60 HTTP results (32 KiB of JSON): level 3 gives 2,500 bytes, 11 gives 1,967 at
/// 45 MB/s (0.7 ms), 15 gives 1,892 at 7 MB/s; 11 is where the ratio stops paying.
const LEVEL: i32 = 11;
/// No sealed hour holds more than this once inflated (an hour of a check every second with
/// large summaries is well under it); anything bigger is not one of ours.
const MAX_INFLATED: usize = 64 << 20;

/// Why a block could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    /// The blob does not inflate.
    #[error("a sealed hour of results does not decompress: {0}")]
    Inflate(#[source] std::io::Error),
    /// The inflated bytes are not the packed results.
    #[error("a sealed hour of results does not decode: {0}")]
    Decode(#[source] serde_json::Error),
    /// A packed value is outside its closed set.
    #[error("a sealed hour of results holds an unknown {what} {word:?}")]
    Unknown {
        /// What kind of value.
        what: &'static str,
        /// The value found.
        word: String,
    },
}

/// One result as packed: short keys, the check name left out (it is the block's key).
#[derive(Serialize, Deserialize)]
struct Packed {
    p: String,
    v: String,
    g: String,
    t: i64,
    d: u64,
    s: String,
    m: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    r: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    st: Option<(String, u32)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    mt: Vec<PackedMetric>,
}

/// One metric as packed.
#[derive(Serialize, Deserialize)]
struct PackedMetric {
    n: String,
    v: f64,
    u: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    w: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    c: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lo: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hi: Option<f64>,
}

/// Packs results (of one check) into a block. Metrics whose value is not finite are left
/// out, as the row store leaves them out.
pub fn pack(results: &[CheckResult]) -> std::io::Result<Vec<u8>> {
    let packed: Vec<Packed> = results
        .iter()
        .map(|r| Packed {
            p: r.plugin.clone(),
            v: r.plugin_version.clone(),
            g: r.target.clone(),
            t: r.started_at_ms,
            d: u64::try_from(r.duration.as_micros()).unwrap_or(u64::MAX),
            s: r.status.as_str().to_string(),
            m: r.summary.clone(),
            r: r.reason.map(|x| x.as_str().to_string()),
            x: r.details.clone(),
            st: r.state.map(|s| (s.kind.as_str().to_string(), s.attempt)),
            mt: r
                .metrics
                .iter()
                .filter(|m| m.value.is_finite())
                .map(|m| PackedMetric {
                    n: m.name.clone(),
                    v: m.value,
                    u: m.unit.clone(),
                    w: m.warn.clone(),
                    c: m.crit.clone(),
                    lo: m.min.filter(|v| v.is_finite()),
                    hi: m.max.filter(|v| v.is_finite()),
                })
                .collect(),
        })
        .collect();
    let json = serde_json::to_vec(&packed).map_err(std::io::Error::other)?;
    compress(&json)
}

thread_local! {
    /// A compressor per thread, kept between blocks: setting up a level-11 context for every
    /// check-hour cost about as much as compressing it. The output is the same bytes as a
    /// fresh context gives (the tests check it).
    static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

thread_local! {
    /// A decompressor per thread, kept between blocks: a report inflates thousands, and
    /// setting up a context for each was a tenth of its time.
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// `bytes` compressed at [`LEVEL`], with this thread's compressor.
fn compress(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let compressor = match cell.as_mut() {
            Some(c) => c,
            None => cell.insert(zstd::bulk::Compressor::new(LEVEL)?),
        };
        compressor.compress(bytes)
    })
}

/// Inflates one zstd frame into a buffer of exactly its declared size, refusing a frame
/// that declares none or more than `max` bytes. (Sizing the buffer by `max` instead would
/// map and unmap that much memory for every block a report reads.)
pub fn inflate(blob: &[u8], max: usize) -> std::io::Result<Vec<u8>> {
    let size = zstd::zstd_safe::get_frame_content_size(blob)
        .map_err(|_| std::io::Error::other("not a zstd frame"))?
        .ok_or_else(|| std::io::Error::other("the zstd frame does not declare its size"))?;
    match usize::try_from(size) {
        Ok(size) if size <= max => DECOMPRESSOR.with(|cell| {
            let mut cell = cell.borrow_mut();
            let decompressor = match cell.as_mut() {
                Some(d) => d,
                None => cell.insert(zstd::bulk::Decompressor::new()?),
            };
            decompressor.decompress(blob, size)
        }),
        _ => Err(std::io::Error::other(format!("the zstd frame declares {size} bytes, more than {max}"))),
    }
}

/// A packed state (its type's word and the attempt) as a result's state.
fn state_info(packed: Option<(&str, u32)>) -> Result<Option<StateInfo>, BlockError> {
    let Some((word, attempt)) = packed else { return Ok(None) };
    let kind =
        StateType::parse(word).ok_or_else(|| BlockError::Unknown { what: "state type", word: word.to_string() })?;
    Ok(Some(StateInfo { kind, attempt }))
}

/// Unpacks a block of `check`'s results, in the order they were packed.
pub fn unpack(check: &str, blob: &[u8]) -> Result<Vec<CheckResult>, BlockError> {
    let json = inflate(blob, MAX_INFLATED).map_err(BlockError::Inflate)?;
    let packed: Vec<Packed> = serde_json::from_slice(&json).map_err(BlockError::Decode)?;
    let unknown = |what, word: &str| BlockError::Unknown { what, word: word.to_string() };
    packed
        .into_iter()
        .map(|p| {
            let status = Status::parse(&p.s).ok_or_else(|| unknown("status", &p.s))?;
            let reason = match &p.r {
                None => None,
                Some(word) => Some(Reason::parse(word).ok_or_else(|| unknown("reason", word))?),
            };
            let state = state_info(p.st.as_ref().map(|(word, attempt)| (word.as_str(), *attempt)))?;
            Ok(CheckResult {
                check: check.to_string(),
                plugin: p.p,
                plugin_version: p.v,
                target: p.g,
                started_at_ms: p.t,
                duration: Duration::from_micros(p.d),
                status,
                summary: p.m,
                reason,
                metrics: p
                    .mt
                    .into_iter()
                    .map(|m| Metric { name: m.n, value: m.v, unit: m.u, warn: m.w, crit: m.c, min: m.lo, max: m.hi })
                    .collect(),
                details: p.x,
                state,
            })
        })
        .collect()
}

/// One result as [`unpack_timings`] reads it: the strings it does not need are skipped, not
/// copied, and the ones it reads are borrowed from the inflated block where they can be.
#[derive(Deserialize)]
struct PackedTimings<'a> {
    t: i64,
    d: u64,
    #[serde(borrow)]
    s: std::borrow::Cow<'a, str>,
    #[serde(default, borrow)]
    st: Option<(std::borrow::Cow<'a, str>, u32)>,
    #[serde(default, borrow)]
    mt: Vec<PackedTiming<'a>>,
}

/// One metric as [`unpack_timings`] reads it.
#[derive(Deserialize)]
struct PackedTiming<'a> {
    #[serde(borrow)]
    n: std::borrow::Cow<'a, str>,
    v: f64,
    #[serde(borrow)]
    u: std::borrow::Cow<'a, str>,
}

/// Unpacks a block's results with only their timings, as [`CheckResult::into_timings`] leaves
/// a result (what reports read of the hours a window cuts): the same as [`unpack`] then
/// `into_timings`, without building the rest.
pub fn unpack_timings(blob: &[u8]) -> Result<Vec<CheckResult>, BlockError> {
    let json = inflate(blob, MAX_INFLATED).map_err(BlockError::Inflate)?;
    let packed: Vec<PackedTimings<'_>> = serde_json::from_slice(&json).map_err(BlockError::Decode)?;
    let unknown = |what, word: &str| BlockError::Unknown { what, word: word.to_string() };
    packed
        .into_iter()
        .map(|p| {
            let status = Status::parse(&p.s).ok_or_else(|| unknown("status", &p.s))?;
            let state = state_info(p.st.as_ref().map(|(word, attempt)| (&**word, *attempt)))?;
            // Only the time_* metrics are kept: the names of the others are not copied.
            let metrics = p.mt.into_iter().filter(|m| m.n.starts_with(TIMING_PREFIX));
            let metrics = metrics.map(|m| (m.n.into_owned(), m.v, m.u.into_owned()));
            Ok(CheckResult::timings(p.t, Duration::from_micros(p.d), status, state, metrics))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(at: i64, status: Status) -> CheckResult {
        CheckResult {
            check: "web".into(),
            plugin: "http".into(),
            plugin_version: "0.1.0".into(),
            target: "https://example.test/health".into(),
            started_at_ms: at,
            duration: Duration::from_micros(12_345),
            status,
            summary: format!("HTTP {status} - 200 OK in {} ms", at % 97),
            reason: (status != Status::Ok).then_some(Reason::HttpStatus),
            metrics: vec![
                Metric {
                    name: "time_total".into(),
                    value: 12.5,
                    unit: "ms".into(),
                    warn: Some("500".into()),
                    crit: Some("1000".into()),
                    min: Some(0.0),
                    max: None,
                },
                Metric {
                    name: "bad".into(),
                    value: f64::NAN,
                    unit: String::new(),
                    warn: None,
                    crit: None,
                    min: None,
                    max: None,
                },
            ],
            details: Some("body".into()),
            state: Some(StateInfo { kind: StateType::Soft, attempt: 2 }),
        }
    }

    #[test]
    fn a_block_round_trips_without_the_non_finite_metrics() {
        let results: Vec<CheckResult> = (0..60)
            .map(|i| result(1_000_000 + i * 60_000, if i % 7 == 0 { Status::Critical } else { Status::Ok }))
            .collect();
        let blob = pack(&results).expect("packs");
        let back = unpack("web", &blob).expect("unpacks");
        let expected: Vec<CheckResult> = results
            .into_iter()
            .map(|mut r| {
                r.metrics.retain(|m| m.value.is_finite());
                r
            })
            .collect();
        assert_eq!(back, expected);
        // An hour of a minutely check packs small: the point of sealing.
        assert!(blob.len() < 3_000, "an hour packs to {} bytes", blob.len());
    }

    #[test]
    fn a_reused_compressor_gives_the_bytes_of_a_fresh_one() {
        for n in [60, 1, 17, 60] {
            let results: Vec<CheckResult> = (0..n).map(|i| result(7_000_000 + i * 60_000, Status::Ok)).collect();
            let blob = pack(&results).expect("packs");
            let json = zstd::bulk::decompress(&blob, MAX_INFLATED).expect("inflates");
            assert_eq!(blob, zstd::bulk::compress(&json, LEVEL).expect("compresses"), "{n} results");
        }
    }

    #[test]
    fn timings_unpack_as_whole_results_trimmed() {
        let results: Vec<CheckResult> = (0..60)
            .map(|i| {
                let mut r = result(1_000_000 + i * 60_000, if i % 7 == 0 { Status::Critical } else { Status::Ok });
                r.metrics[0].name = if i % 2 == 0 { "time_total".into() } else { "time_dns".into() };
                r.summary = format!("quoted \"{i}\" and \\ escaped");
                r.state = (i % 3 != 0).then_some(StateInfo { kind: StateType::Hard, attempt: 1 });
                r
            })
            .collect();
        let blob = pack(&results).expect("packs");
        let trimmed: Vec<CheckResult> =
            unpack("web", &blob).expect("unpacks").into_iter().map(CheckResult::into_timings).collect();
        assert_eq!(unpack_timings(&blob).expect("unpacks"), trimmed);
        assert_eq!(trimmed.iter().filter(|r| !r.metrics.is_empty()).count(), 60);
        assert!(matches!(unpack_timings(b"not zstd"), Err(BlockError::Inflate(_))));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(unpack("web", b"not zstd"), Err(BlockError::Inflate(_))));
        let not_json = zstd::bulk::compress(b"[{\"x\":1}]", 3).expect("compresses");
        assert!(matches!(unpack("web", &not_json), Err(BlockError::Decode(_))));
        let bad_status = zstd::bulk::compress(br#"[{"p":"http","v":"1","g":"t","t":1,"d":1,"s":"fine","m":"x"}]"#, 3)
            .expect("compresses");
        assert!(matches!(unpack("web", &bad_status), Err(BlockError::Unknown { what: "status", .. })));
    }
}
