//! Latency statistics that stay correct over long windows.
//!
//! A report over a week or a year must not average hourly averages or take the maximum of hourly
//! p95s: neither is a percentile of the window. Raw results are kept only for the retention
//! period, so beside them the store keeps, per check and per hour, a mergeable latency sketch
//! ([`LatencySketch`]). Merging the hourly sketches of a window gives one sketch whose quantiles
//! are those of every result in the window, within [`RELATIVE_ERROR`].
//!
//! While raw results are still at hand, [`exact_summary`] computes the same [`Summary`] from them
//! exactly, and [`trend`] compares two summaries' p95.
//!
//! # Why an HDR histogram (`hdrhistogram`) rather than a DDSketch (`sketches-ddsketch`)
//!
//! Both merge losslessly (adding bucket counts), so a merged sketch is the sketch of all the
//! values. The choice was made on the other criteria:
//!
//! - **Stated relative error.** An HDR histogram with 3 significant digits stores every value
//!   within 1/1024 of itself (below 2,048 ns exactly): [`RELATIVE_ERROR`] is 0.1 %.
//!   `sketches-ddsketch` defaults to 1 % (alpha 0.01) and to at most 2,048 bins, collapsing the
//!   lowest ones beyond that.
//! - **Compact, stable serialization.** `hdrhistogram` ships the HdrHistogram V2 format (run
//!   lengths of zero buckets, LEB128 counts) and its DEFLATE-compressed variant, readable by
//!   every HdrHistogram port. `sketches-ddsketch` offers only serde of its dense bin vector, so
//!   we would need a second format crate and still store one 8-byte counter per bin between the
//!   fastest and the slowest result (hundreds of bins for a long tail).
//! - **Size.** One hour of one check at a 60 s interval (60 results, long-tailed) serializes to
//!   157 bytes compressed (170 uncompressed), well inside the budget of ~570 bytes
//!   per hourly row (a year of one check at 60 s ≤ 5 MiB). See the `hour_of_sixty_is_small`
//!   test, which prints the size.
//! - **Maintenance.** `hdrhistogram` is the HdrHistogram organisation's Rust port, maintained
//!   and on edition 2024; it is used with `default-features = false` and only its
//!   `serialization` feature.
//!
//! # Units and range
//!
//! Values are recorded in nanoseconds from 1 ns up to [`HIGHEST_TRACKABLE`] (one hour); a larger
//! value is recorded as one hour. Every sketch has the same parameters, so any two merge.
//! In memory a sketch is 33,792 `u64` counters (264 KiB) whatever it holds, so merge stored
//! rows one at a time into a single accumulator rather than decoding a year's rows at once.
//!
//! # Percentile definition
//!
//! Everywhere in this module the `q` quantile of `n` values is the **nearest rank**: the value
//! of rank `ceil(q * n)` (1-based, at least 1) in ascending order. So for 1..=100 ms the p50 is
//! 50 ms and the p95 95 ms, and the p100 is the maximum. The rank is computed with a tolerance
//! of 1e-9 so that floating-point noise (0.07 * 100 = 7.000000000000001) does not move it.

use std::io::Read;
use std::time::Duration;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use serde::{Serialize, Serializer as SerdeSerializer};

/// The stated relative error of a sketch: every quantile, minimum, maximum and mean it returns
/// is within this fraction of the exact value (3 significant decimal digits; the HDR histogram
/// in fact keeps values within 1/1024 ≈ 0.098 %).
pub const RELATIVE_ERROR: f64 = 0.001;

/// The largest latency a sketch tells apart: one hour. A larger latency is recorded as one hour.
pub const HIGHEST_TRACKABLE: Duration = Duration::from_secs(3600);

/// Significant decimal digits of the HDR histogram (gives [`RELATIVE_ERROR`]).
const SIGNIFICANT_DIGITS: u8 = 3;
/// Lowest discernible value, in nanoseconds.
const LOWEST_NANOS: u64 = 1;
/// [`HIGHEST_TRACKABLE`] in nanoseconds.
const HIGHEST_NANOS: u64 = HIGHEST_TRACKABLE.as_secs() * 1_000_000_000;

/// HdrHistogram V2 cookie (plain encoding).
const V2_COOKIE: u32 = 0x1c84_9313;
/// HdrHistogram V2 cookie (DEFLATE-compressed encoding).
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9314;
/// Length of the plain V2 header: cookie, payload length, normalizing offset, digits, lowest,
/// highest, integer-to-double ratio.
const V2_HEADER_LEN: usize = 40;
/// Upper bound on a decompressed blob. A full histogram of these parameters (33,792 counters of
/// at most 9 bytes each) needs about 300 KiB; anything beyond 1 MiB is not one of ours.
const MAX_PLAIN_LEN: usize = 1 << 20;

/// Why a stored sketch could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SketchError {
    /// The blob ends before its header or payload does.
    #[error("latency sketch is truncated")]
    Truncated,
    /// The blob does not start with an HdrHistogram V2 cookie.
    #[error("latency sketch has an unknown format (cookie {0:#010x})")]
    UnknownFormat(u32),
    /// The blob's declared length does not match its actual length.
    #[error("latency sketch declares {declared} bytes but has {actual}")]
    LengthMismatch {
        /// Length given in the header.
        declared: usize,
        /// Length actually present.
        actual: usize,
    },
    /// The histogram was made with other parameters than every sketch of this module.
    #[error("latency sketch has foreign parameters (digits {digits}, range {lowest}..={highest} ns)")]
    Parameters {
        /// Significant digits.
        digits: u32,
        /// Lowest discernible value.
        lowest: u64,
        /// Highest trackable value.
        highest: u64,
    },
    /// The compressed payload could not be inflated, or inflates to more than any sketch needs.
    #[error("latency sketch does not decompress: {0}")]
    Decompress(#[source] std::io::Error),
    /// The counts payload is malformed.
    #[error("latency sketch payload is corrupt: {0}")]
    Corrupt(&'static str),
    /// The HdrHistogram decoder rejected the payload.
    #[error("latency sketch does not decode: {0}")]
    Decode(#[source] hdrhistogram::serialization::DeserializeError),
}

/// A mergeable latency sketch: an HDR histogram of nanoseconds with 3 significant digits.
///
/// Quantiles, minimum, maximum and mean are within [`RELATIVE_ERROR`] of the exact values of
/// everything recorded or merged in. Stored with [`LatencySketch::to_bytes`] (HdrHistogram V2,
/// DEFLATE-compressed) and read back with [`LatencySketch::from_bytes`].
///
/// The counters are those of `hdrhistogram`'s histogram of these parameters, and every figure
/// is computed as the crate computes it (the tests check both against the crate), but only the
/// span of counters between the lowest and the highest ever touched is held. A histogram
/// holds all 33,792; a report merges thousands of hourly sketches of a few dozen buckets each,
/// and clearing, scanning and adding the whole array for each was most of its time.
#[derive(Debug, Clone, Default)]
pub struct LatencySketch {
    /// The index of the counter `counts[0]` holds.
    first: usize,
    /// Counters `first..first + counts.len()`; everything outside is zero.
    counts: Vec<u64>,
    /// Values recorded or merged in (saturating, as the crate's total).
    total: u64,
}

impl PartialEq for LatencySketch {
    /// Two sketches are equal when they hold the same values, whatever span they keep.
    fn eq(&self, other: &Self) -> bool {
        self.total == other.total && self.nonzero().eq(other.nonzero())
    }
}

impl LatencySketch {
    /// An empty sketch.
    pub fn new() -> Self {
        LatencySketch { first: 0, counts: Vec::new(), total: 0 }
    }

    /// Records one latency. Values above [`HIGHEST_TRACKABLE`] are recorded as that.
    pub fn record(&mut self, value: Duration) {
        let nanos = u64::try_from(value.as_nanos()).unwrap_or(u64::MAX).min(HIGHEST_NANOS);
        self.add(counter_of(nanos), 1);
    }

    /// Adds every value of `other` to this sketch. The result is the sketch of both sets of
    /// values (merging is lossless), so merging the 24 hourly sketches of a day gives the day's
    /// sketch.
    pub fn merge(&mut self, other: &LatencySketch) {
        let Some((lo, hi)) = other.span() else { return };
        self.cover(lo, hi);
        let offset = lo - self.first;
        let from = &other.counts[lo - other.first..=hi - other.first];
        for (mine, theirs) in self.counts[offset..offset + from.len()].iter_mut().zip(from) {
            *mine = mine.saturating_add(*theirs);
        }
        self.total = self.total.saturating_add(other.total);
    }

    /// How many values were recorded or merged in.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The nearest-rank `q` quantile (see the module doc), within [`RELATIVE_ERROR`].
    ///
    /// `q` is clamped to `0.0..=1.0`. `None` for an empty sketch or a NaN `q`.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let [value] = self.values_at([q])?;
        Some(value)
    }

    /// The nearest-rank quantiles `qs` (ascending), in one pass over the counters. `None` when
    /// empty or a `q` is NaN.
    fn values_at<const N: usize>(&self, qs: [f64; N]) -> Option<[Duration; N]> {
        let n = self.count();
        let mut wanted = [0u64; N];
        let mut top = [false; N];
        for (i, q) in qs.into_iter().enumerate() {
            let rank = nearest_rank(q, n)?;
            // Ask for the middle of the rank so that `ceil(q * n)` lands on it, as the crate's
            // `value_at_quantile` is asked.
            let q = ((rank as f64 - 0.5) / n as f64).min(1.0);
            wanted[i] = ((q * self.total as f64).ceil() as u64).max(1);
            top[i] = q != 0.0;
        }
        let mut out = [Duration::ZERO; N];
        let mut next = 0;
        let mut running: u64 = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            running = running.saturating_add(c);
            while next < N && running >= wanted[next] {
                let index = self.first + i;
                let value = if top[next] { highest_value(index) } else { bucket_value(index as u64) };
                out[next] = Duration::from_nanos(value);
                next += 1;
            }
            if next == N {
                break;
            }
        }
        // Counts that add up short of the total (saturated) read 0, as in the crate.
        Some(out)
    }

    /// The smallest value, within [`RELATIVE_ERROR`] (rounded down to its bucket). `None` when
    /// empty.
    pub fn min(&self) -> Option<Duration> {
        let (lo, _) = self.span().filter(|_| self.count() > 0)?;
        Some(Duration::from_nanos(bucket_value(lo as u64)))
    }

    /// The largest value, within [`RELATIVE_ERROR`] (rounded up to its bucket). `None` when
    /// empty.
    pub fn max(&self) -> Option<Duration> {
        let (_, hi) = self.span().filter(|_| self.count() > 0)?;
        Some(Duration::from_nanos(highest_value(hi)))
    }

    /// The mean, within [`RELATIVE_ERROR`] (each value counted at its bucket's middle). `None`
    /// when empty.
    pub fn mean(&self) -> Option<Duration> {
        if self.count() == 0 {
            return None;
        }
        // The crate's sum, term by term in the same order, so the same rounding.
        let total = self.total as f64;
        let mean =
            self.nonzero().fold(0.0_f64, |sum, (index, count)| sum + middle_value(index) as f64 * count as f64 / total);
        Some(Duration::from_nanos(mean.round() as u64))
    }

    /// Count, minimum, mean, p50, p90, p95, p99 and maximum of the sketch. `None` when empty.
    pub fn summary(&self) -> Option<Summary> {
        let [p50, p90, p95, p99] = self.values_at([0.50, 0.90, 0.95, 0.99])?;
        Some(Summary {
            count: self.count(),
            min: self.min()?,
            mean: self.mean()?,
            p50,
            p90,
            p95,
            p99,
            max: self.max()?,
        })
    }

    /// The sketch as HdrHistogram V2 with DEFLATE compression (about 160 bytes for an hour of
    /// 60 results).
    ///
    /// # Panics
    ///
    /// Only if a single bucket holds more than `i64::MAX` values, which V2 cannot encode.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        V2DeflateSerializer::new()
            .serialize(&self.histogram(), &mut out)
            .expect("a V2 encoding into memory fails only on counts above i64::MAX");
        out
    }

    /// The sketch as plain HdrHistogram V2 (about 170 bytes for an hour of 60 results: the
    /// format already run-length encodes empty buckets, so DEFLATE saves little). Hourly rollups
    /// store this form, which [`LatencySketch::merge_bytes`] adds in without inflating.
    ///
    /// # Panics
    ///
    /// Only if a single bucket holds more than `i64::MAX` values, which V2 cannot encode.
    pub fn to_plain_bytes(&self) -> Vec<u8> {
        let payload = self.to_payload_bytes();
        let mut out = Vec::with_capacity(V2_HEADER_LEN + payload.len());
        out.extend(V2_COOKIE.to_be_bytes());
        out.extend(u32::try_from(payload.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend(0u32.to_be_bytes());
        out.extend(u32::from(SIGNIFICANT_DIGITS).to_be_bytes());
        out.extend(LOWEST_NANOS.to_be_bytes());
        out.extend(HIGHEST_NANOS.to_be_bytes());
        out.extend(1.0f64.to_be_bytes());
        out.extend(payload);
        out
    }

    /// Adds the values of a stored sketch (plain or compressed V2 of these parameters) to this
    /// one, without building a histogram for it: a year of hourly rows merges into one
    /// accumulator at the cost of walking each row's few dozen buckets.
    ///
    /// The blob is checked first, as by [`LatencySketch::from_bytes`]; on an error nothing has
    /// been added.
    pub fn merge_bytes(&mut self, bytes: &[u8]) -> Result<(), SketchError> {
        let plain = plain_v2(bytes)?;
        check_plain(&plain)?;
        self.add_payload(&plain[V2_HEADER_LEN..])
    }

    /// The sketch's counts alone: the V2 payload without its 40-byte header, which is the
    /// same for every sketch of this module (about 130 bytes for an hour of 60 results).
    /// Hourly rollups store this; [`LatencySketch::merge_payload`] adds it back in.
    ///
    /// The bytes are those of the crate's V2 serializer: every counter from the first up to
    /// the highest non-empty one, a run of two or more empty counters as its negated length,
    /// each number zig-zag LEB128 (the tests compare the two).
    ///
    /// # Panics
    ///
    /// Only if a single bucket holds more than `i64::MAX` values, which V2 cannot encode.
    pub fn to_payload_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let (lo, hi) = match self.span() {
            Some(span) => span,
            // An empty sketch encodes its one (empty) counter 0.
            None => {
                out.push(0);
                return out;
            }
        };
        let mut write = |n: i64| leb128(zig_zag(n), &mut out);
        if lo == 1 {
            write(0);
        } else if lo > 1 {
            write(-(lo as i64));
        }
        let counts = &self.counts[lo - self.first..=hi - self.first];
        let mut i = 0;
        while i < counts.len() {
            let run = counts[i..].iter().take_while(|&&c| c == 0).count();
            match run {
                0 => {
                    write(i64::try_from(counts[i]).expect("a bucket of more than i64::MAX values"));
                    i += 1;
                }
                1 => {
                    write(0);
                    i += 1;
                }
                _ => {
                    write(-(run as i64));
                    i += run;
                }
            }
        }
        out
    }

    /// Adds the values of a payload written by [`LatencySketch::to_payload_bytes`]. It is
    /// checked first; on an error nothing has been added.
    pub fn merge_payload(&mut self, payload: &[u8]) -> Result<(), SketchError> {
        self.add_payload(payload)
    }

    /// Adds a payload's counts: they are decoded (and every number checked) into a list of
    /// buckets first, then added, so an error adds nothing.
    fn add_payload(&mut self, payload: &[u8]) -> Result<(), SketchError> {
        DECODED.with(|cell| {
            let mut decoded = cell.borrow_mut();
            decode_buckets(payload, &mut decoded)?;
            let (Some(&(lo, _)), Some(&(hi, _))) = (decoded.first(), decoded.last()) else { return Ok(()) };
            self.cover(lo as usize, hi as usize);
            let first = self.first;
            let mut total = self.total;
            for &(index, count) in decoded.iter() {
                let c = &mut self.counts[index as usize - first];
                *c = c.saturating_add(count);
                total = total.saturating_add(count);
            }
            self.total = total;
            Ok(())
        })
    }

    /// Empties the sketch, keeping its memory for reuse.
    pub fn reset(&mut self) {
        self.counts.clear();
        self.first = 0;
        self.total = 0;
    }

    /// Reads a sketch written by [`LatencySketch::to_bytes`] (plain HdrHistogram V2 is accepted
    /// too).
    ///
    /// The blob is checked before it is decoded: a truncated, oversized, foreign or corrupt blob
    /// is an error, never a panic nor a huge allocation.
    pub fn from_bytes(bytes: &[u8]) -> Result<LatencySketch, SketchError> {
        let plain = plain_v2(bytes)?;
        let plain = &plain[..];
        check_plain(plain)?;
        let histogram: Histogram<u64> =
            Deserializer::new().deserialize(&mut &plain[..]).map_err(SketchError::Decode)?;
        let mut sketch = LatencySketch::new();
        for v in histogram.iter_recorded() {
            sketch.add(counter_of(v.value_iterated_to()), v.count_at_value());
        }
        Ok(sketch)
    }

    /// The crate's histogram of the same values (for its serializers).
    fn histogram(&self) -> Histogram<u64> {
        let mut h = Histogram::new_with_bounds(LOWEST_NANOS, HIGHEST_NANOS, SIGNIFICANT_DIGITS)
            .expect("constant histogram bounds are valid");
        for (index, count) in self.nonzero() {
            h.saturating_record_n(bucket_value(index as u64), count);
        }
        h
    }

    /// Adds `count` values to counter `index`.
    fn add(&mut self, index: usize, count: u64) {
        self.cover(index, index);
        let c = &mut self.counts[index - self.first];
        *c = c.saturating_add(count);
        self.total = self.total.saturating_add(count);
    }

    /// Makes the held span include counters `lo..=hi`.
    fn cover(&mut self, lo: usize, hi: usize) {
        if self.counts.is_empty() {
            self.first = lo;
            self.counts.resize(hi - lo + 1, 0);
            return;
        }
        if lo < self.first {
            let grow = self.first - lo;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.first = lo;
        }
        if hi >= self.first + self.counts.len() {
            self.counts.resize(hi - self.first + 1, 0);
        }
    }

    /// The lowest and highest non-empty counters, if any.
    fn span(&self) -> Option<(usize, usize)> {
        let lo = self.counts.iter().position(|&c| c != 0)?;
        let hi = self.counts.iter().rposition(|&c| c != 0)?;
        Some((self.first + lo, self.first + hi))
    }

    /// The non-empty counters, lowest first, with their counts.
    fn nonzero(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.counts.iter().enumerate().filter(|(_, c)| **c != 0).map(|(i, c)| (self.first + i, *c))
    }
}

/// The counter a value of at most [`HIGHEST_NANOS`] lands in (the crate's `index_for`: the
/// power-of-two bucket above the first 2,048 values, then the top 1,024 sub-buckets of it).
fn counter_of(nanos: u64) -> usize {
    let bucket = 53 - (nanos | 2047).leading_zeros() as u64;
    let sub = nanos >> bucket;
    (((bucket + 1) << 10) + sub - 1024) as usize
}

/// The width of counter `index`'s range of values.
fn bucket_width(index: usize) -> u64 {
    1 << ((index as u64 >> 10).saturating_sub(1)).min(63)
}

/// The highest value counter `index` holds (the crate's `highest_equivalent`).
fn highest_value(index: usize) -> u64 {
    bucket_value(index as u64).saturating_add(bucket_width(index) - 1)
}

/// The middle of counter `index`'s values, rounded up (the crate's `median_equivalent`).
fn middle_value(index: usize) -> u64 {
    bucket_value(index as u64).saturating_add(bucket_width(index) >> 1)
}

/// ZigZag: 0, -1, 1, -2… as 0, 1, 2, 3….
fn zig_zag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

/// Appends `value` as the V2 format's LEB128 (at most 9 bytes, the 9th taken whole).
fn leb128(mut value: u64, out: &mut Vec<u8>) {
    for _ in 0..8 {
        if value < 0x80 {
            out.push(value as u8);
            return;
        }
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Counters of a histogram of these parameters: 33 half-buckets of 1,024 (the first whole).
const COUNTERS: u64 = 33 * 1024;

/// The lowest value of counter `index` of a histogram of these parameters (3 significant
/// digits: 2,048 sub-buckets, half of which each further bucket uses; lowest value 1 ns).
/// Recording it lands in the same counter; the tests check this against the crate.
fn bucket_value(index: u64) -> u64 {
    let (bucket, sub) = match (index >> 10).checked_sub(1) {
        Some(bucket) => (bucket, (index & 1023) + 1024),
        None => (0, index & 1023),
    };
    sub << bucket.min(63)
}

/// A payload's ZigZag number: a count, or (negative) a run of empty buckets.
fn zigzag(number: u64) -> Result<i64, SketchError> {
    if number == u64::MAX {
        return Err(SketchError::Corrupt("zero run out of range"));
    }
    Ok(((number >> 1) as i64) ^ -((number & 1) as i64))
}

/// Calls `f(index, count)` for each non-empty bucket of a V2 payload, or says what is wrong
/// with it (a number running past the end, a zero run out of range).
fn buckets(payload: &[u8], mut f: impl FnMut(u64, u64)) -> Result<(), SketchError> {
    let mut index: u64 = 0;
    for number in Leb128(payload) {
        let n = zigzag(number?)?;
        if n < 0 {
            index = index.saturating_add(n.unsigned_abs());
        } else {
            if n > 0 {
                f(index, n as u64);
            }
            index = index.saturating_add(1);
        }
    }
    Ok(())
}

thread_local! {
    /// The buckets of the payload being added, kept between payloads (a report adds
    /// hundreds of thousands).
    static DECODED: std::cell::RefCell<Vec<(u32, u64)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The non-empty buckets of a V2 payload, ascending, into `out` (emptied first): what
/// [`buckets`] walks, with the one-byte numbers that make up most of a payload read
/// inline. A bucket beyond the histogram's range is an error, after every number is checked.
fn decode_buckets(payload: &[u8], out: &mut Vec<(u32, u64)>) -> Result<(), SketchError> {
    out.clear();
    let mut index: u64 = 0;
    let mut highest: u64 = 0;
    let mut rest = payload;
    while let Some((&b, tail)) = rest.split_first() {
        let number = if b < 0x80 {
            rest = tail;
            u64::from(b)
        } else {
            let mut numbers = Leb128(rest);
            let number = numbers.next().unwrap_or(Err(SketchError::Corrupt("number runs past the end")))?;
            rest = numbers.0;
            number
        };
        let n = zigzag(number)?;
        if n < 0 {
            index = index.saturating_add(n.unsigned_abs());
        } else {
            if n > 0 {
                highest = highest.max(index);
                out.push((u32::try_from(index).unwrap_or(u32::MAX), n as u64));
            }
            index = index.saturating_add(1);
        }
    }
    if highest >= COUNTERS {
        out.clear();
        return Err(SketchError::Corrupt("bucket beyond the histogram's range"));
    }
    Ok(())
}

/// The LEB128 numbers of a V2 payload as the HdrHistogram decoder reads them (at most 9
/// bytes, the 9th taken whole); a number cut short is an error.
struct Leb128<'a>(&'a [u8]);

impl Iterator for Leb128<'_> {
    type Item = Result<u64, SketchError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let mut value: u64 = 0;
        for len in 0..9 {
            let Some((&b, rest)) = self.0.split_first() else {
                return Some(Err(SketchError::Corrupt("number runs past the end")));
            };
            self.0 = rest;
            if len == 8 {
                return Some(Ok(value | (u64::from(b) << 56)));
            }
            value |= u64::from(b & 0x7f) << (7 * len);
            if b & 0x80 == 0 {
                return Some(Ok(value));
            }
        }
        Some(Ok(value))
    }
}

/// A plain V2 blob from a plain or compressed one (whose inflated content must be plain V2).
fn plain_v2(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, SketchError> {
    match read_u32(bytes, 0)? {
        V2_COOKIE => Ok(std::borrow::Cow::Borrowed(bytes)),
        V2_COMPRESSED_COOKIE => {
            let declared = read_u32(bytes, 4)? as usize;
            let compressed = &bytes[8..];
            if declared != compressed.len() {
                return Err(SketchError::LengthMismatch { declared, actual: compressed.len() });
            }
            let inflated = inflate(compressed)?;
            let inner_cookie = read_u32(&inflated, 0)?;
            if inner_cookie != V2_COOKIE {
                return Err(SketchError::UnknownFormat(inner_cookie));
            }
            Ok(std::borrow::Cow::Owned(inflated))
        }
        other => Err(SketchError::UnknownFormat(other)),
    }
}

/// Inflates a zlib stream, refusing to produce more than [`MAX_PLAIN_LEN`] bytes.
fn inflate(compressed: &[u8]) -> Result<Vec<u8>, SketchError> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_PLAIN_LEN as u64 + 1)
        .read_to_end(&mut out)
        .map_err(SketchError::Decompress)?;
    if out.len() > MAX_PLAIN_LEN {
        return Err(SketchError::Decompress(std::io::Error::other("inflates beyond any sketch")));
    }
    Ok(out)
}

/// Checks a plain V2 blob's header and payload so that the crate's decoder sees only input it
/// handles without panicking or over-allocating.
fn check_plain(plain: &[u8]) -> Result<(), SketchError> {
    if plain.len() < V2_HEADER_LEN {
        return Err(SketchError::Truncated);
    }
    let declared = read_u32(plain, 4)? as usize;
    let payload = &plain[V2_HEADER_LEN..];
    if declared > payload.len() {
        return Err(SketchError::Truncated);
    }
    if declared != payload.len() {
        return Err(SketchError::LengthMismatch { declared, actual: payload.len() });
    }
    let digits = read_u32(plain, 12)?;
    let lowest = read_u64(plain, 16)?;
    let highest = read_u64(plain, 24)?;
    if digits != u32::from(SIGNIFICANT_DIGITS) || lowest != LOWEST_NANOS || highest != HIGHEST_NANOS {
        return Err(SketchError::Parameters { digits, lowest, highest });
    }
    check_payload(payload)
}

/// Checks that a V2 payload decodes: the crate's decoder then sees only input it handles
/// without panicking (u64::MAX decodes to i64::MIN, whose negation overflows there).
fn check_payload(payload: &[u8]) -> Result<(), SketchError> {
    buckets(payload, |_, _| ())
}

/// Big-endian u32 at `at`, or [`SketchError::Truncated`].
fn read_u32(bytes: &[u8], at: usize) -> Result<u32, SketchError> {
    let b = bytes.get(at..at + 4).ok_or(SketchError::Truncated)?;
    Ok(u32::from_be_bytes(b.try_into().expect("slice of 4")))
}

/// Big-endian u64 at `at`, or [`SketchError::Truncated`].
fn read_u64(bytes: &[u8], at: usize) -> Result<u64, SketchError> {
    let b = bytes.get(at..at + 8).ok_or(SketchError::Truncated)?;
    Ok(u64::from_be_bytes(b.try_into().expect("slice of 8")))
}

/// The 1-based nearest rank `ceil(q * n)` of the `q` quantile among `n` values, clamped to
/// `1..=n`, with a 1e-9 tolerance against floating-point noise. `None` if `n` is 0 or `q` NaN.
pub(crate) fn nearest_rank(q: f64, n: u64) -> Option<u64> {
    if n == 0 || q.is_nan() {
        return None;
    }
    let q = q.clamp(0.0, 1.0);
    let rank = (q * n as f64 - 1e-9).ceil();
    Some((rank as u64).clamp(1, n))
}

/// Latency summary of a set of results. Serialized with every duration as milliseconds (`f64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Number of values.
    pub count: u64,
    /// Smallest value.
    #[serde(serialize_with = "millis")]
    pub min: Duration,
    /// Arithmetic mean.
    #[serde(serialize_with = "millis")]
    pub mean: Duration,
    /// Median (nearest rank).
    #[serde(serialize_with = "millis")]
    pub p50: Duration,
    /// 90th percentile (nearest rank).
    #[serde(serialize_with = "millis")]
    pub p90: Duration,
    /// 95th percentile (nearest rank).
    #[serde(serialize_with = "millis")]
    pub p95: Duration,
    /// 99th percentile (nearest rank).
    #[serde(serialize_with = "millis")]
    pub p99: Duration,
    /// Largest value.
    #[serde(serialize_with = "millis")]
    pub max: Duration,
}

/// Serializes a duration as milliseconds in an `f64`.
pub(crate) fn millis<S: SerdeSerializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(to_millis(*d))
}

/// A duration as milliseconds in an `f64` (whole milliseconds come out exact).
fn to_millis(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e6
}

/// The exact summary of raw values: sorts `values` in place, then takes nearest-rank
/// percentiles (the value of rank `ceil(q * n)`, see the module doc; 1..=100 ms gives p50 = 50,
/// p90 = 90, p95 = 95, p99 = 99 ms) and the exact mean. `None` when `values` is empty.
pub fn exact_summary(values: &mut [Duration]) -> Option<Summary> {
    values.sort_unstable();
    let n = values.len() as u64;
    let at = |q: f64| nearest_rank(q, n).map(|rank| values[(rank - 1) as usize]);
    let total: u128 = values.iter().map(Duration::as_nanos).sum();
    let mean = total / u128::from(n.max(1));
    let mean = Duration::new(u64::try_from(mean / 1_000_000_000).unwrap_or(u64::MAX), (mean % 1_000_000_000) as u32);
    Some(Summary {
        count: n,
        min: *values.first()?,
        mean,
        p50: at(0.50)?,
        p90: at(0.90)?,
        p95: at(0.95)?,
        p99: at(0.99)?,
        max: *values.last()?,
    })
}

/// How the p95 moved from one period to the next.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Trend {
    /// p95 of the earlier period (serialized as milliseconds).
    #[serde(serialize_with = "millis")]
    pub previous_p95: Duration,
    /// p95 of the later period (serialized as milliseconds).
    #[serde(serialize_with = "millis")]
    pub current_p95: Duration,
    /// Relative change, `(current - previous) / previous`: 0.25 is +25 %, -0.1 is -10 %. When
    /// the previous p95 is zero it is 0.0 if the current one is zero too, else infinity.
    pub change: f64,
    /// Whether the p95 grew by more than the threshold given to [`trend`].
    pub regression: bool,
}

/// Compares the p95 of two periods. A regression is a relative growth strictly above
/// `threshold` (0.20 for "more than 20 % slower").
pub fn trend(previous: &Summary, current: &Summary, threshold: f64) -> Trend {
    let (prev, cur) = (to_millis(previous.p95), to_millis(current.p95));
    let change = if prev > 0.0 {
        (cur - prev) / prev
    } else if cur > 0.0 {
        f64::INFINITY
    } else {
        0.0
    };
    Trend { previous_p95: previous.p95, current_p95: current.p95, change, regression: change > threshold }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    /// Deterministic 64-bit LCG (Knuth's MMIX constants), uniform in [0, 1).
    struct Lcg(u64);

    impl Lcg {
        fn next_f64(&mut self) -> f64 {
            self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }

        /// Pareto-tailed latency: 5 ms minimum, shape 1.5 (p99 around 100 ms, rare seconds).
        fn latency(&mut self) -> Duration {
            let u = self.next_f64();
            let secs = 0.005 * (1.0 - u).powf(-1.0 / 1.5);
            Duration::from_secs_f64(secs.min(60.0))
        }
    }

    fn within(approx: Duration, exact: Duration) -> bool {
        let (a, e) = (approx.as_nanos() as f64, exact.as_nanos() as f64);
        (a - e).abs() <= e * RELATIVE_ERROR
    }

    fn assert_summary_within(approx: &Summary, exact: &Summary) {
        assert_eq!(approx.count, exact.count);
        for (name, a, e) in [
            ("min", approx.min, exact.min),
            ("mean", approx.mean, exact.mean),
            ("p50", approx.p50, exact.p50),
            ("p90", approx.p90, exact.p90),
            ("p95", approx.p95, exact.p95),
            ("p99", approx.p99, exact.p99),
            ("max", approx.max, exact.max),
        ] {
            assert!(within(a, e), "{name}: sketch {a:?} vs exact {e:?}");
        }
    }

    #[test]
    fn exact_nearest_rank_on_1_to_100_ms() {
        let mut values: Vec<Duration> = (1..=100).rev().map(ms).collect();
        let s = exact_summary(&mut values).unwrap();
        assert_eq!(s.count, 100);
        assert_eq!((s.min, s.p50, s.p90, s.p95, s.p99, s.max), (ms(1), ms(50), ms(90), ms(95), ms(99), ms(100)));
        assert_eq!(s.mean, Duration::from_micros(50_500));
        assert_eq!(values[0], ms(1), "sorted in place");
    }

    #[test]
    fn exact_summary_edge_cases() {
        assert_eq!(exact_summary(&mut []), None);
        let s = exact_summary(&mut [ms(7)]).unwrap();
        assert_eq!((s.count, s.min, s.mean, s.p50, s.p99, s.max), (1, ms(7), ms(7), ms(7), ms(7), ms(7)));
        // 0.07 * 100 is 7.000000000000001 in f64: the rank must still be 7.
        assert_eq!(nearest_rank(0.07, 100), Some(7));
        assert_eq!(nearest_rank(0.0, 10), Some(1));
        assert_eq!(nearest_rank(1.5, 10), Some(10));
        assert_eq!(nearest_rank(f64::NAN, 10), None);
    }

    #[test]
    fn summary_serializes_milliseconds() {
        let mut values: Vec<Duration> = (1..=100).map(ms).collect();
        let json = serde_json::to_value(exact_summary(&mut values).unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"count": 100, "min": 1.0, "mean": 50.5, "p50": 50.0, "p90": 90.0,
                               "p95": 95.0, "p99": 99.0, "max": 100.0})
        );
    }

    #[test]
    fn sketch_quantiles_within_relative_error_of_exact() {
        let mut rng = Lcg(42);
        let mut values: Vec<Duration> = (0..10_000).map(|_| rng.latency()).collect();
        let mut sketch = LatencySketch::new();
        for v in &values {
            sketch.record(*v);
        }
        let exact = exact_summary(&mut values).unwrap();
        assert!(exact.max > exact.p99 * 5, "distribution should be long-tailed: {exact:?}");
        assert_summary_within(&sketch.summary().unwrap(), &exact);
        let n = values.len() as u64;
        for q in [0.0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999, 1.0] {
            let rank = nearest_rank(q, n).unwrap();
            let exact_q = values[(rank - 1) as usize];
            let approx = sketch.quantile(q).unwrap();
            assert!(within(approx, exact_q), "q={q}: sketch {approx:?} vs exact {exact_q:?}");
        }
    }

    #[test]
    fn empty_sketch() {
        let s = LatencySketch::default();
        assert_eq!(s.count(), 0);
        assert_eq!((s.quantile(0.5), s.min(), s.max(), s.mean(), s.summary()), (None, None, None, None, None));
        let back = LatencySketch::from_bytes(&s.to_bytes()).unwrap();
        assert_eq!(back.count(), 0);
    }

    #[test]
    fn extremes_are_recorded() {
        let mut s = LatencySketch::new();
        s.record(Duration::ZERO);
        s.record(Duration::from_nanos(1_500));
        s.record(Duration::from_secs(10_000));
        assert_eq!(s.count(), 3);
        assert_eq!(s.min(), Some(Duration::ZERO));
        assert_eq!(s.quantile(0.5), Some(Duration::from_nanos(1_500)), "small values are exact");
        assert!(within(s.max().unwrap(), HIGHEST_TRACKABLE), "clamped to an hour: {:?}", s.max());
        assert_eq!(s.quantile(f64::NAN), None);
    }

    #[test]
    fn merging_24_hourly_sketches_equals_one_sketch() {
        let mut rng = Lcg(7);
        let hours: Vec<Vec<Duration>> = (0..24).map(|_| (0..60).map(|_| rng.latency()).collect()).collect();
        let mut all_values: Vec<Duration> = hours.concat();
        let mut whole = LatencySketch::new();
        all_values.iter().for_each(|v| whole.record(*v));

        let mut merged = LatencySketch::new();
        for hour in &hours {
            let mut h = LatencySketch::new();
            hour.iter().for_each(|v| h.record(*v));
            // As from the database.
            merged.merge(&LatencySketch::from_bytes(&h.to_bytes()).unwrap());
        }
        assert_eq!(merged.count(), 24 * 60);
        assert_eq!(merged.summary(), whole.summary(), "merging is lossless");
        assert_summary_within(&merged.summary().unwrap(), &exact_summary(&mut all_values).unwrap());
    }

    #[test]
    fn merging_stored_bytes_equals_merging_sketches() {
        let mut rng = Lcg(11);
        let mut by_sketch = LatencySketch::new();
        let mut by_bytes = LatencySketch::new();
        for hour in 0..48 {
            let mut h = LatencySketch::new();
            (0..60).for_each(|_| h.record(rng.latency()));
            if hour == 5 {
                h.record(Duration::ZERO);
                h.record(HIGHEST_TRACKABLE * 2);
            }
            by_sketch.merge(&h);
            match hour % 3 {
                0 => by_bytes.merge_bytes(&h.to_plain_bytes()).unwrap(),
                1 => by_bytes.merge_bytes(&h.to_bytes()).unwrap(),
                _ => by_bytes.merge_payload(&h.to_payload_bytes()).unwrap(),
            }
        }
        assert_eq!(by_bytes, by_sketch);
        by_bytes.reset();
        assert_eq!(by_bytes.count(), 0);
        // A bad blob adds nothing.
        let mut plain = by_sketch.to_plain_bytes();
        plain.truncate(plain.len() - 1);
        assert!(by_bytes.merge_bytes(&plain).is_err());
        assert!(by_bytes.merge_bytes(b"junk").is_err());
        assert!(by_bytes.merge_payload(&[0x80]).is_err(), "a number running past the end");
        assert_eq!(by_bytes.count(), 0);
    }

    #[test]
    fn bucket_value_is_the_crates_lowest_equivalent_of_every_counter() {
        let h = LatencySketch::new().histogram();
        for index in 0..COUNTERS {
            let v = bucket_value(index);
            assert_eq!(h.lowest_equivalent(v), v, "counter {index}");
            if index + 1 < COUNTERS {
                assert_eq!(h.next_non_equivalent(v), bucket_value(index + 1), "counter {index}");
            }
            assert_eq!(h.highest_equivalent(v), highest_value(index as usize), "counter {index}");
            assert_eq!(h.median_equivalent(v), middle_value(index as usize), "counter {index}");
            assert_eq!(counter_of(v), index as usize, "counter {index}");
            assert_eq!(counter_of(h.highest_equivalent(v)), index as usize, "counter {index}");
        }
    }

    /// The crate's histogram of `values`, recorded as `LatencySketch::record` records them.
    fn crate_histogram(values: &[Duration]) -> Histogram<u64> {
        let mut h = Histogram::new_with_bounds(LOWEST_NANOS, HIGHEST_NANOS, SIGNIFICANT_DIGITS).unwrap();
        for v in values {
            h.saturating_record(u64::try_from(v.as_nanos()).unwrap_or(u64::MAX).min(HIGHEST_NANOS));
        }
        h
    }

    #[test]
    fn every_figure_and_byte_is_the_crates() {
        let mut rng = Lcg(5);
        for (round, n) in [0usize, 1, 2, 3, 60, 61, 1_000, 20_000].into_iter().enumerate() {
            let mut values: Vec<Duration> = (0..n).map(|_| rng.latency()).collect();
            if round == 4 {
                values.push(Duration::ZERO);
                values.push(Duration::from_nanos(1));
                values.push(HIGHEST_TRACKABLE * 3);
            }
            let h = crate_histogram(&values);
            let mut s = LatencySketch::new();
            values.iter().for_each(|v| s.record(*v));
            assert_eq!(s.count(), h.len());
            let plain = {
                let mut out = Vec::new();
                hdrhistogram::serialization::V2Serializer::new().serialize(&h, &mut out).unwrap();
                out
            };
            assert_eq!(s.to_plain_bytes(), plain, "{n} values");
            assert_eq!(s.to_payload_bytes(), plain[V2_HEADER_LEN..], "{n} values");
            if n == 0 {
                continue;
            }
            let ms = |nanos: u64| Duration::from_nanos(nanos);
            assert_eq!(s.min(), Some(ms(h.min())), "{n} values");
            assert_eq!(s.max(), Some(ms(h.max())), "{n} values");
            assert_eq!(s.mean(), Some(ms(h.mean().round() as u64)), "{n} values");
            for q in [0.0, 0.001, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0] {
                let rank = nearest_rank(q, h.len()).unwrap();
                let crate_q = ms(h.value_at_quantile((rank as f64 - 0.5) / h.len() as f64));
                assert_eq!(s.quantile(q), Some(crate_q), "{n} values, q {q}");
            }
            let summary = s.summary().unwrap();
            assert_eq!(
                [summary.p50, summary.p90, summary.p95, summary.p99],
                [0.5, 0.9, 0.95, 0.99].map(|q| s.quantile(q).unwrap())
            );
            // Merged from payloads, in pieces, after a reset: the same.
            let mut merged = LatencySketch::new();
            merged.record(ms(7));
            merged.reset();
            for piece in values.chunks(97).rev() {
                let mut p = LatencySketch::new();
                piece.iter().for_each(|v| p.record(*v));
                merged.merge_payload(&p.to_payload_bytes()).unwrap();
            }
            assert_eq!(merged, s);
            assert_eq!(merged.to_payload_bytes(), s.to_payload_bytes());
            assert_eq!(LatencySketch::from_bytes(&s.to_bytes()).unwrap(), s);
        }
    }

    #[test]
    fn the_inline_decoder_reads_what_the_reference_one_reads() {
        let mut rng = Lcg(9);
        let mut out = Vec::new();
        for round in 0..3_000 {
            // Real payloads, then random bytes, then real payloads with a byte changed.
            let mut payload = {
                let mut s = LatencySketch::new();
                (0..(round % 200)).for_each(|_| s.record(rng.latency()));
                s.to_payload_bytes()
            };
            if round % 3 == 1 {
                payload = (0..(round % 40)).map(|_| (rng.next_f64() * 256.0) as u8).collect();
            } else if round % 3 == 2 && !payload.is_empty() {
                let at = (rng.next_f64() * payload.len() as f64) as usize;
                payload[at] = (rng.next_f64() * 256.0) as u8;
            }
            let mut reference = Vec::new();
            let expected = buckets(&payload, |i, n| reference.push((i, n))).and_then(|()| {
                if reference.iter().any(|(i, _)| *i >= COUNTERS) {
                    Err(SketchError::Corrupt("bucket beyond the histogram's range"))
                } else {
                    Ok(())
                }
            });
            let got = decode_buckets(&payload, &mut out);
            assert_eq!(got.is_ok(), expected.is_ok(), "{payload:?}");
            if got.is_ok() {
                let reference: Vec<(u32, u64)> = reference.into_iter().map(|(i, n)| (i as u32, n)).collect();
                assert_eq!(out, reference, "{payload:?}");
            }
        }
    }

    #[test]
    fn merged_p95_differs_from_average_or_max_of_hourly_p95s() {
        // 23 quiet hours at 100 ms and one incident hour at 1 s, 60 results each.
        let mut merged = LatencySketch::new();
        let mut hourly_p95 = Vec::new();
        for hour in 0..24 {
            let v = if hour == 13 { ms(1_000) } else { ms(100) };
            let mut h = LatencySketch::new();
            (0..60).for_each(|_| h.record(v));
            hourly_p95.push(h.quantile(0.95).unwrap());
            merged.merge(&h);
        }
        let average = hourly_p95.iter().sum::<Duration>() / 24;
        let max = *hourly_p95.iter().max().unwrap();
        let p95 = merged.quantile(0.95).unwrap();
        // 1,440 results, 60 of them (4.2 %) slow: the true p95 is a quiet 100 ms.
        assert!(within(p95, ms(100)), "{p95:?}");
        assert!(within(average, ms(137) + Duration::from_micros(500)), "{average:?}");
        assert!(within(max, ms(1_000)), "{max:?}");
        assert!(average > p95 + ms(30) && max > p95 * 9);
        // But the p99 sees the incident.
        assert!(within(merged.quantile(0.99).unwrap(), ms(1_000)));
    }

    #[test]
    fn bytes_round_trip() {
        let mut rng = Lcg(3);
        let mut s = LatencySketch::new();
        (0..5_000).for_each(|_| s.record(rng.latency()));
        let bytes = s.to_bytes();
        assert_eq!(&bytes[..4], &V2_COMPRESSED_COOKIE.to_be_bytes());
        let back = LatencySketch::from_bytes(&bytes).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.summary(), s.summary());
        assert_eq!(back.to_bytes(), bytes);

        // Plain (uncompressed) V2 from any HdrHistogram port is read too.
        let mut plain = Vec::new();
        hdrhistogram::serialization::V2Serializer::new().serialize(&s.histogram(), &mut plain).unwrap();
        assert_eq!(LatencySketch::from_bytes(&plain).unwrap(), s);
    }

    #[test]
    fn hour_of_sixty_is_small() {
        let mut rng = Lcg(11);
        let mut s = LatencySketch::new();
        (0..60).for_each(|_| s.record(rng.latency()));
        let bytes = s.to_bytes();
        let mut plain = Vec::new();
        hdrhistogram::serialization::V2Serializer::new().serialize(&s.histogram(), &mut plain).unwrap();
        println!("one hour of 60 results: {} bytes compressed, {} bytes plain V2", bytes.len(), plain.len());
        assert!(bytes.len() <= 512, "{} bytes", bytes.len());
    }

    /// Plain V2 with the given header fields and payload.
    fn plain_v2(digits: u32, low: u64, high: u64, payload: &[u8], declared: u32) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(V2_COOKIE.to_be_bytes());
        b.extend(declared.to_be_bytes());
        b.extend(0u32.to_be_bytes());
        b.extend(digits.to_be_bytes());
        b.extend(low.to_be_bytes());
        b.extend(high.to_be_bytes());
        b.extend(1.0f64.to_be_bytes());
        b.extend(payload);
        b
    }

    /// Zig-zag LEB128 encoding of `v` (fewer than 9 bytes for the values used here).
    fn zig_zag(v: i64) -> Vec<u8> {
        let mut z = ((v << 1) ^ (v >> 63)) as u64;
        let mut out = Vec::new();
        while z >= 0x80 {
            out.push((z as u8) | 0x80);
            z >>= 7;
        }
        out.push(z as u8);
        out
    }

    #[test]
    fn corrupt_bytes_are_errors() {
        let mut s = LatencySketch::new();
        (1..=60).for_each(|i| s.record(ms(i * 7)));
        let good = s.to_bytes();

        assert!(matches!(LatencySketch::from_bytes(&[]), Err(SketchError::Truncated)));
        assert!(matches!(LatencySketch::from_bytes(b"not a sketch at all"), Err(SketchError::UnknownFormat(_))));
        for len in 0..good.len() {
            assert!(LatencySketch::from_bytes(&good[..len]).is_err(), "truncated to {len}");
        }
        let mut longer = good.clone();
        longer.push(0);
        assert!(matches!(LatencySketch::from_bytes(&longer), Err(SketchError::LengthMismatch { .. })));
        let mut bad_zlib = good.clone();
        bad_zlib[8..].iter_mut().for_each(|b| *b ^= 0x5a);
        assert!(matches!(LatencySketch::from_bytes(&bad_zlib), Err(SketchError::Decompress(_))));

        // Every single-byte flip: an error or a sketch, never a panic.
        for i in 0..good.len() {
            for mask in [0x01, 0x80, 0xff] {
                let mut b = good.clone();
                b[i] ^= mask;
                let _ = LatencySketch::from_bytes(&b);
            }
        }

        // Hand-made plain V2 blobs the crate's decoder would choke on.
        let payload = [0x02]; // one value at index 0
        let ok = plain_v2(3, LOWEST_NANOS, HIGHEST_NANOS, &payload, 1);
        assert_eq!(LatencySketch::from_bytes(&ok).unwrap().count(), 1);
        let huge_len = plain_v2(3, LOWEST_NANOS, HIGHEST_NANOS, &payload, u32::MAX);
        assert!(matches!(LatencySketch::from_bytes(&huge_len), Err(SketchError::Truncated)));
        let foreign = plain_v2(5, 1, u64::MAX, &payload, 1);
        assert!(matches!(LatencySketch::from_bytes(&foreign), Err(SketchError::Parameters { digits: 5, .. })));
        let min_run = [0xff; 9]; // zig-zag u64::MAX = i64::MIN zeros
        let overflow = plain_v2(3, LOWEST_NANOS, HIGHEST_NANOS, &min_run, 9);
        assert!(matches!(LatencySketch::from_bytes(&overflow), Err(SketchError::Corrupt(_))));
        let unterminated = plain_v2(3, LOWEST_NANOS, HIGHEST_NANOS, &[0x80, 0x80], 2);
        assert!(matches!(LatencySketch::from_bytes(&unterminated), Err(SketchError::Corrupt(_))));
        let past_end_payload = [zig_zag(-10_000_000), zig_zag(1)].concat(); // a count past the last bucket
        let past_end = plain_v2(3, LOWEST_NANOS, HIGHEST_NANOS, &past_end_payload, past_end_payload.len() as u32);
        assert!(matches!(LatencySketch::from_bytes(&past_end), Err(SketchError::Decode(_))));

        // A zlib bomb inflating past any real sketch.
        let mut bomb_plain = plain_v2(3, LOWEST_NANOS, HIGHEST_NANOS, &[], 0);
        bomb_plain.resize(4 << 20, 0);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut z, &bomb_plain).unwrap();
        let z = z.finish().unwrap();
        let mut bomb = V2_COMPRESSED_COOKIE.to_be_bytes().to_vec();
        bomb.extend((z.len() as u32).to_be_bytes());
        bomb.extend(z);
        assert!(matches!(LatencySketch::from_bytes(&bomb), Err(SketchError::Decompress(_))));
    }

    #[test]
    fn trend_flags_growth_above_threshold() {
        let summary = |p95: Duration| Summary {
            count: 100,
            min: ms(1),
            mean: ms(50),
            p50: ms(50),
            p90: ms(90),
            p95,
            p99: ms(200),
            max: ms(300),
        };
        let before = summary(ms(200));
        let up25 = trend(&before, &summary(ms(250)), 0.20);
        assert!(up25.regression);
        assert!((up25.change - 0.25).abs() < 1e-12);
        assert_eq!((up25.previous_p95, up25.current_p95), (ms(200), ms(250)));
        let up15 = trend(&before, &summary(ms(230)), 0.20);
        assert!(!up15.regression);
        assert!((up15.change - 0.15).abs() < 1e-12);
        let down = trend(&before, &summary(ms(100)), 0.20);
        assert!(!down.regression && (down.change + 0.5).abs() < 1e-12);
        let from_zero = trend(&summary(Duration::ZERO), &summary(ms(1)), 0.20);
        assert!(from_zero.regression && from_zero.change.is_infinite());
        assert_eq!(trend(&summary(Duration::ZERO), &summary(Duration::ZERO), 0.20).change, 0.0);
    }
}
