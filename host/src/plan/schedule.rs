//! Schedule timing: when each check is next due, for interval and cron schedules.
//!
//! Everything here is pure: times come in and go out as milliseconds since the Unix epoch
//! (UTC), nothing sleeps and nothing reads a clock, so the daemon's scheduler can drive it
//! from tokio's paused clock in tests.
//!
//! # Interval schedules
//!
//! A check that runs `every` N is due at `k * every + phase(name, every)` for integer `k`,
//! counted from the Unix epoch. The phase is a stable hash of the check name mapped into
//! `[0, every)`, so
//!
//! * a restart keeps each check's phase (due times do not depend on when the daemon started),
//! * checks sharing an interval are spread over it instead of all firing at start-up or on
//!   the minute.
//!
//! # Jitter
//!
//! Each due time may get a jitter in `[0, max)` added. The jitter is pseudo-random but
//! deterministic: a hash of the check name and the un-jittered due time, so tests are
//! reproducible and a restart does not reshuffle the next run. For intervals the jitter must
//! be shorter than the interval, which keeps jittered due times in order.
//!
//! The hashes are FNV-1a 64 followed by the SplitMix64 finaliser, written out here: std's
//! `DefaultHasher` is not guaranteed to give the same value across Rust releases.
//!
//! # Cron schedules and the choice of crate
//!
//! Cron expressions are parsed and evaluated by [`croner`] (4.x) rather than [`cron`](https://crates.io/crates/cron)
//! (0.17). Both are maintained, but:
//!
//! * `cron` requires a seconds field (6 or 7 fields) and rejects the standard five-field
//!   form; `croner` accepts five fields and an optional leading seconds field, plus the
//!   `@yearly`/`@annually`/`@monthly`/`@weekly`/`@daily`/`@hourly` aliases.
//! * `croner` documents and tests its daylight-saving behaviour (it follows the Open Cron
//!   Pattern Specification and Vixie cron); `cron` does not. Tried with chrono-tz in
//!   Europe/Paris, `cron` fires `0 30 2 * * *` twice on the fall-back day and silently skips
//!   the spring-forward day.
//!
//! What `croner` does at DST transitions (pinned by the tests below):
//!
//! * **Spring forward** (e.g. 2026-03-29 in Europe/Paris, 02:00 → 03:00): a fixed-time job
//!   such as `30 2 * * *` whose wall-clock time does not exist that day is *shifted*: it runs
//!   once at the first valid time after the gap (03:00 CEST = 01:00 UTC). Wildcard or step
//!   jobs (`*/5 * * * *`) simply have no occurrences inside the gap.
//! * **Fall back** (e.g. 2026-10-25 in Europe/Paris, 03:00 → 02:00): a fixed-time job such as
//!   `30 2 * * *` runs once, at the first 02:30 (CEST). Wildcard hours (`0 * * * *`) run in
//!   both passes of the repeated hour, which is once per real (UTC) hour with no duplicates.
//!
//! Cron due times are the next fire time in the schedule's time zone, converted to UTC, plus
//! the jitter. Cron schedules get no phase: the expression says when to run.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

/// The shortest interval a schedule may have.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// The longest interval a schedule may have (366 days); rarer runs belong in a cron schedule.
pub const MAX_INTERVAL: Duration = Duration::from_secs(366 * 24 * 3600);

/// The longest jitter a cron schedule may have (one day).
pub const MAX_CRON_JITTER: Duration = Duration::from_secs(24 * 3600);

/// The cron aliases that [`Schedule::cron`] accepts in place of the five fields.
pub const CRON_ALIASES: &[&str] = &["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@hourly"];

/// Why a schedule could not be built. Each message says what was wrong and how to write it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The interval is below [`MIN_INTERVAL`].
    #[error("interval {} is too short; write at least \"1s\" (checks run at most once a second)", human(*every))]
    IntervalTooShort {
        /// The interval that was given.
        every: Duration,
    },
    /// The interval is above [`MAX_INTERVAL`].
    #[error("interval {} is too long; write at most \"366d\", or use a cron schedule for rarer runs", human(*every))]
    IntervalTooLong {
        /// The interval that was given.
        every: Duration,
    },
    /// The jitter of an interval schedule is not shorter than the interval.
    #[error(
        "jitter {} is not shorter than the interval {}; make the jitter smaller than the interval \
         (a tenth of it is typical) so runs keep their order",
        human(*jitter),
        human(*every)
    )]
    JitterNotBelowInterval {
        /// The jitter that was given.
        jitter: Duration,
        /// The interval it was given for.
        every: Duration,
    },
    /// The jitter of a cron schedule is above [`MAX_CRON_JITTER`].
    #[error(
        "jitter {} is too long for a cron schedule; write at most \"1d\", and keep it below the gap \
         between two runs of the expression",
        human(*jitter)
    )]
    CronJitterTooLong {
        /// The jitter that was given.
        jitter: Duration,
    },
    /// The cron expression has the wrong number of fields.
    #[error(
        "cron expression \"{expr}\" has {count} fields; write 5 (minute hour day month weekday) or 6 \
         (with seconds first)"
    )]
    CronFieldCount {
        /// The expression as written.
        expr: String,
        /// How many whitespace-separated fields it has.
        count: usize,
    },
    /// The cron expression starts with `@` but is not a known alias.
    #[error(
        "unknown cron alias \"{expr}\"{}; use one of @yearly, @annually, @monthly, @weekly, @daily, @hourly, \
         or write 5 fields (minute hour day month weekday)",
        .suggestion.as_ref().map_or(String::new(), |s| format!(" (did you mean \"{s}\"?)"))
    )]
    UnknownCronAlias {
        /// The expression as written.
        expr: String,
        /// The alias it is a slip of, when one is close.
        suggestion: Option<String>,
    },
    /// A number in one field of the cron expression is outside that field's range.
    #[error("cron expression \"{expr}\": {field} {value} is out of range {min}-{max}")]
    CronFieldOutOfRange {
        /// The expression as written (trimmed).
        expr: String,
        /// The field's name: "second", "minute", "hour", "day of month", "month", "day of week".
        field: &'static str,
        /// The number as written.
        value: String,
        /// The smallest value the field takes.
        min: u32,
        /// The largest value the field takes.
        max: u32,
        /// Where the number is, in bytes from the start of the expression as given (untrimmed).
        at: std::ops::Range<usize>,
    },
    /// A field of the cron expression is out of range or malformed.
    #[error(
        "cron expression \"{expr}\" is invalid ({reason}); fields are [second 0-59] minute 0-59, hour 0-23, \
         day of month 1-31, month 1-12 or JAN-DEC, weekday 0-7 or SUN-SAT (0 and 7 are Sunday), each \
         \"*\", a value, a range \"a-b\", a list \"a,b\" or a step \"*/n\""
    )]
    InvalidCron {
        /// The expression as written.
        expr: String,
        /// What the cron parser said.
        reason: String,
    },
    /// The time zone is not an IANA time zone name.
    #[error("unknown time zone \"{tz}\"; use an IANA name such as \"{suggestion}\"")]
    UnknownTimeZone {
        /// The time zone as written.
        tz: String,
        /// The closest IANA name, or "Europe/Paris" when none is close.
        suggestion: String,
    },
}

/// When a check is due: every fixed interval (phase-spread) or on a cron expression.
#[derive(Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Due every `every`, at a per-check phase, plus up to `jitter`.
    Interval {
        /// The interval between runs, at least [`MIN_INTERVAL`].
        every: Duration,
        /// The largest jitter added to each due time; shorter than `every`.
        jitter: Duration,
    },
    /// Due whenever `cron` fires in time zone `tz`, plus up to `jitter`.
    Cron {
        /// The parsed expression (boxed: it is several hundred bytes).
        cron: Box<Cron>,
        /// The time zone the expression is read in.
        tz: Tz,
        /// The largest jitter added to each fire time.
        jitter: Duration,
        /// The expression as written (trimmed), for messages.
        source: String,
    },
}

impl Schedule {
    /// An interval schedule. `every` must be at least 1s (and at most 366 days) and `jitter`
    /// shorter than `every`.
    pub fn interval(every: Duration, jitter: Duration) -> Result<Schedule, ScheduleError> {
        if every < MIN_INTERVAL {
            return Err(ScheduleError::IntervalTooShort { every });
        }
        if every > MAX_INTERVAL {
            return Err(ScheduleError::IntervalTooLong { every });
        }
        if jitter >= every {
            return Err(ScheduleError::JitterNotBelowInterval { jitter, every });
        }
        Ok(Schedule::Interval { every, jitter })
    }

    /// A cron schedule: `expr` has five fields (minute hour day month weekday), six with a
    /// leading seconds field, or is one of [`CRON_ALIASES`]; `tz` is an IANA time zone name
    /// such as `"Europe/Paris"` or `"UTC"`; `jitter` is at most one day.
    pub fn cron(expr: &str, tz: &str, jitter: Duration) -> Result<Schedule, ScheduleError> {
        let source = expr.trim();
        if source.starts_with('@') {
            if !CRON_ALIASES.iter().any(|alias| alias.eq_ignore_ascii_case(source)) {
                let suggestion = super::closest(source, CRON_ALIASES.iter().copied()).map(str::to_string);
                return Err(ScheduleError::UnknownCronAlias { expr: source.to_string(), suggestion });
            }
        } else {
            let count = source.split_whitespace().count();
            if !(5..=6).contains(&count) {
                return Err(ScheduleError::CronFieldCount { expr: source.to_string(), count });
            }
            // croner only says "Number out of bounds"; name the field and its range first.
            check_cron_ranges(expr)?;
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            .build()
            .parse(source)
            .map_err(|err| ScheduleError::InvalidCron { expr: source.to_string(), reason: err.to_string() })?;
        let tz = parse_tz(tz)?;
        if jitter > MAX_CRON_JITTER {
            return Err(ScheduleError::CronJitterTooLong { jitter });
        }
        Ok(Schedule::Cron { cron: Box::new(cron), tz, jitter, source: source.to_string() })
    }

    /// The largest jitter this schedule adds to a due time.
    pub fn max_jitter(&self) -> Duration {
        match self {
            Schedule::Interval { jitter, .. } | Schedule::Cron { jitter, .. } => *jitter,
        }
    }

    /// The first due time of `check` strictly after `after_ms` (milliseconds since the Unix
    /// epoch, UTC), jitter included. `None` if the schedule never fires again (a cron
    /// expression with no future match, or a time beyond the representable range).
    ///
    /// Due times of one check come in order: feeding a returned time back in gives the next
    /// one. (For cron, this holds when the jitter is shorter than the gap between fires.)
    pub fn next_after(&self, check: &str, after_ms: i64) -> Option<i64> {
        match self {
            Schedule::Interval { every, jitter: max } => {
                let every_ms = millis(*every);
                let phase_ms = millis(phase(check, *every));
                let max_ms = millis(*max);
                // A fire at or before `after - max` cannot be due after `after`.
                let low = after_ms.checked_sub(max_ms)?;
                let mut k = low.checked_sub(phase_ms)?.div_euclid(every_ms).checked_add(1)?;
                loop {
                    let fire = k.checked_mul(every_ms)?.checked_add(phase_ms)?;
                    let due = fire.checked_add(millis(jitter(check, fire, *max)))?;
                    if due > after_ms {
                        return Some(due);
                    }
                    k = k.checked_add(1)?;
                }
            }
            Schedule::Cron { cron, tz, jitter: max, .. } => {
                let low = after_ms.checked_sub(millis(*max))?;
                let mut cursor = DateTime::<Utc>::from_timestamp_millis(low)?.with_timezone(tz);
                loop {
                    let next = cron.find_next_occurrence(&cursor, false).ok()?;
                    let fire = next.timestamp_millis();
                    let due = fire.checked_add(millis(jitter(check, fire, *max)))?;
                    if due > after_ms {
                        return Some(due);
                    }
                    cursor = next;
                }
            }
        }
    }

    /// A short human description: `"every 30s"`, `"cron */5 * * * * (Europe/Paris)"`, with
    /// `", jitter up to 5s"` appended when there is jitter.
    pub fn describe(&self) -> String {
        let (mut text, max) = match self {
            Schedule::Interval { every, jitter } => (format!("every {}", human(*every)), *jitter),
            Schedule::Cron { tz, jitter, source, .. } => (format!("cron {source} ({})", tz.name()), *jitter),
        };
        if !max.is_zero() {
            text.push_str(&format!(", jitter up to {}", human(max)));
        }
        text
    }
}

/// Shows the cron expression as written rather than croner's parsed bit fields.
impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Interval { every, jitter } => {
                f.debug_struct("Interval").field("every", every).field("jitter", jitter).finish()
            }
            Schedule::Cron { tz, jitter, source, .. } => {
                f.debug_struct("Cron").field("source", source).field("tz", tz).field("jitter", jitter).finish()
            }
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// The deterministic phase of `check` within `every`: a stable hash of the name mapped into
/// `[0, every)` at millisecond resolution. Zero when `every` is under a millisecond.
pub fn phase(check: &str, every: Duration) -> Duration {
    let every_ms = every.as_millis();
    if every_ms == 0 {
        return Duration::ZERO;
    }
    let hash = mix(fnv1a(FNV_OFFSET, check.as_bytes()));
    Duration::from_millis((u128::from(hash) % every_ms) as u64)
}

/// The deterministic jitter for `check`'s run due at `due_ms`: pseudo-random in `[0, max)` at
/// millisecond resolution, from a stable hash of the name and the due time. Zero when `max`
/// is under a millisecond.
pub fn jitter(check: &str, due_ms: i64, max: Duration) -> Duration {
    let max_ms = max.as_millis();
    if max_ms == 0 {
        return Duration::ZERO;
    }
    // The 0xff separator cannot occur in UTF-8, so (name, due) pairs never collide by
    // shifting bytes between the two parts.
    let hash = fnv1a(fnv1a(fnv1a(FNV_OFFSET, check.as_bytes()), &[0xff]), &due_ms.to_le_bytes());
    Duration::from_millis((u128::from(mix(hash)) % max_ms) as u64)
}

/// When to retry a check whose run at `last_ms` failed: `retry_interval` later, at least 1ms
/// later so a retry never lands at or before the failed run; saturates at `i64::MAX`.
pub fn retry_after(last_ms: i64, retry_interval: Duration) -> i64 {
    last_ms.saturating_add(millis(retry_interval).max(1))
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a 64 over `bytes`, continuing from `hash`.
fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

/// The SplitMix64 finaliser: spreads FNV's weak low bits over the whole word.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Whole milliseconds of `d`, saturating at `i64::MAX`.
fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// `d` as compact units: "30s", "1m30s", "2h", "1d12h", "1s500ms", "250ms".
fn human(d: Duration) -> String {
    let total_ms = d.as_millis();
    if total_ms == 0 {
        return "0s".to_string();
    }
    let units: [(u128, &str); 5] = [(86_400_000, "d"), (3_600_000, "h"), (60_000, "m"), (1_000, "s"), (1, "ms")];
    let mut rest = total_ms;
    let mut out = String::new();
    for (size, name) in units {
        let n = rest / size;
        if n > 0 {
            out.push_str(&format!("{n}{name}"));
            rest %= size;
        }
    }
    out
}

/// The fields of a six-field cron expression with their ranges; a five-field one has no
/// seconds. Day of week 7 is Sunday, like 0.
const CRON_FIELDS: [(&str, u32, u32); 6] = [
    ("second", 0, 59),
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
];

/// Checks every plain number of a five- or six-field expression against its field's
/// range. Names (`MON`, `JAN`), `L`, `W`, `?` and steps are left to croner, which parses
/// the expression for real afterwards.
fn check_cron_ranges(expr: &str) -> Result<(), ScheduleError> {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    let names = CRON_FIELDS.iter().skip(CRON_FIELDS.len().saturating_sub(fields.len()));
    for (field, &(name, min, max)) in fields.iter().zip(names) {
        for item in field.split(',') {
            // `a-b/n`: the step n is a count, not a value of the field.
            let values = item.split('/').next().unwrap_or_default();
            for value in values.split('-') {
                // `5#2` is the second Friday: the weekday is before the `#`.
                let number = value.split('#').next().unwrap_or_default();
                if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
                    continue;
                }
                if number.parse::<u32>().is_ok_and(|n| (min..=max).contains(&n)) {
                    continue;
                }
                let start = offset_in(expr, number);
                return Err(ScheduleError::CronFieldOutOfRange {
                    expr: expr.trim().to_string(),
                    field: name,
                    value: number.to_string(),
                    min,
                    max,
                    at: start..start + number.len(),
                });
            }
        }
    }
    Ok(())
}

/// The byte offset of `part`, a slice of `whole`, within `whole`.
fn offset_in(whole: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize)
}

/// Parses an IANA time zone name, suggesting the closest known name on failure.
fn parse_tz(name: &str) -> Result<Tz, ScheduleError> {
    let trimmed = name.trim();
    if let Ok(tz) = trimmed.parse::<Tz>() {
        return Ok(tz);
    }
    let names = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name());
    let closest = super::closest(trimmed, names).unwrap_or("Europe/Paris");
    Err(ScheduleError::UnknownTimeZone { tz: name.to_string(), suggestion: closest.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    const S: i64 = 1_000;

    /// Milliseconds since the epoch of a UTC date-time.
    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|date| date.and_hms_opt(h, mi, s))
            .map(|naive| Utc.from_utc_datetime(&naive).timestamp_millis())
            .expect("valid test date")
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    /// The due times of `schedule` for `check` after `from`, `n` of them, fed back in turn.
    fn run(schedule: &Schedule, check: &str, from: i64, n: usize) -> Vec<i64> {
        let mut out = Vec::new();
        let mut at = from;
        for _ in 0..n {
            let next = schedule.next_after(check, at).expect("fires again");
            assert!(next > at, "{next} is not after {at}");
            out.push(next);
            at = next;
        }
        out
    }

    #[test]
    fn fnv1a_matches_reference_vectors() {
        assert_eq!(fnv1a(FNV_OFFSET, b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(FNV_OFFSET, b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn phase_is_stable_and_pinned() {
        let every = secs(30);
        assert_eq!(phase("api-health", every), phase("api-health", every));
        assert_eq!(phase("api-health", every), Duration::from_millis(PINNED_PHASE_MS));
        assert_eq!(phase("api-health", secs(1)), Duration::from_millis(PINNED_PHASE_MS % 1000));
        assert!(phase("api-health", every) < every);
        assert_ne!(phase("api-health", every), phase("db-health", every));
        assert_eq!(phase("anything", Duration::ZERO), Duration::ZERO);
    }

    /// FNV-1a 64 + SplitMix64 of "api-health", mod 30 000 (cross-checked with a Python re-implementation).
    const PINNED_PHASE_MS: u64 = 4_087;

    #[test]
    fn phase_spreads_names_over_the_interval() {
        let every = secs(10);
        let mut buckets = [0usize; 10];
        for i in 0..1000 {
            let p = phase(&format!("check-{i}"), every);
            assert!(p < every);
            buckets[p.as_secs() as usize] += 1;
        }
        // Fair share is 100 per one-second bucket.
        assert!(buckets.iter().all(|&n| n <= 200), "{buckets:?}");
        assert!(buckets.iter().all(|&n| n >= 50), "{buckets:?}");
    }

    #[test]
    fn interval_due_times_are_anchored_to_the_epoch() {
        let schedule = Schedule::interval(secs(30), Duration::ZERO).expect("valid");
        let p = millis(phase("api-health", secs(30)));
        let base = utc(2026, 1, 1, 0, 0, 0); // a multiple of 30s
        assert_eq!(base % (30 * S), 0);
        // Just before, at and just after a due time.
        assert_eq!(schedule.next_after("api-health", base + p - 1), Some(base + p));
        assert_eq!(schedule.next_after("api-health", base + p), Some(base + p + 30 * S));
        assert_eq!(schedule.next_after("api-health", base + p + 1), Some(base + p + 30 * S));
        // Feeding results back in walks the grid.
        assert_eq!(
            run(&schedule, "api-health", base + p, 3),
            vec![base + p + 30 * S, base + p + 60 * S, base + p + 90 * S]
        );
        // Works before the epoch too.
        assert_eq!(schedule.next_after("api-health", -30 * S + p - 1), Some(-30 * S + p));
    }

    #[test]
    fn interval_with_known_phase() {
        // A check whose phase in 10s is pinned, so the times are written out by hand.
        let schedule = Schedule::interval(secs(10), Duration::ZERO).expect("valid");
        let p = millis(phase("api-health", secs(10)));
        assert_eq!(p, 4_087);
        let noon = utc(2026, 5, 1, 12, 0, 0);
        assert_eq!(schedule.next_after("api-health", noon), Some(noon + 4_087)); // 12:00:04.087
        assert_eq!(schedule.next_after("api-health", noon + 4_087), Some(noon + 14_087)); // 12:00:14.087
        assert_eq!(schedule.next_after("api-health", noon - 5_914), Some(noon - 5_913)); // 11:59:54.087
    }

    #[test]
    fn interval_next_after_is_always_strictly_later() {
        let schedule = Schedule::interval(secs(7), Duration::from_millis(6_999)).expect("valid");
        let start = utc(2026, 3, 1, 0, 0, 0);
        for check in ["a", "b", "c-long-name"] {
            for step in 0..2_000 {
                let at = start + step * 137;
                let next = schedule.next_after(check, at).expect("fires");
                assert!(next > at);
                // Nothing due in between: the previous due time is at or before `at`.
                assert!(next - at <= 7 * S + 7 * S);
            }
            // Jittered due times stay in order and one per interval slot.
            let due = run(&schedule, check, start, 200);
            let p = millis(phase(check, secs(7)));
            for (i, d) in due.iter().enumerate() {
                let slot = (d - p).div_euclid(7 * S);
                let fire = slot * 7 * S + p;
                assert_eq!(*d - fire, millis(jitter(check, fire, Duration::from_millis(6_999))));
                if i > 0 {
                    assert_eq!(slot, (due[i - 1] - p).div_euclid(7 * S) + 1);
                }
            }
        }
    }

    #[test]
    fn interval_jitter_is_added_and_deterministic() {
        let max = secs(5);
        let schedule = Schedule::interval(secs(60), max).expect("valid");
        let p = millis(phase("web", secs(60)));
        let fire = utc(2026, 6, 1, 0, 0, 0) + p;
        let j = millis(jitter("web", fire, max));
        assert_eq!(schedule.next_after("web", fire - 1), Some(fire + j));
        assert_eq!(schedule.next_after("web", fire - 1), Some(fire + j));
        // Between the fire time and its jittered due time, the same run is still next.
        assert_eq!(schedule.next_after("web", fire + j - 1), Some(fire + j));
    }

    #[test]
    fn jitter_is_bounded_and_deterministic() {
        let max = Duration::from_millis(1_500);
        let mut distinct = std::collections::HashSet::new();
        for due in 0..1_000 {
            let j = jitter("api", due * 1_000, max);
            assert!(j < max);
            assert_eq!(j, jitter("api", due * 1_000, max));
            distinct.insert(j);
        }
        assert!(distinct.len() > 400, "jitter barely varies: {}", distinct.len());
        assert_ne!(jitter("api", 0, secs(3600)), jitter("apj", 0, secs(3600)));
        assert_eq!(jitter("api", 5, Duration::ZERO), Duration::ZERO);
        assert_eq!(jitter("api", 5, Duration::from_micros(999)), Duration::ZERO);
        assert_eq!(jitter("api", 0, secs(3600)), Duration::from_millis(PINNED_JITTER_MS));
    }

    /// Hash of ("api", 0) mod 3 600 000 (cross-checked with a Python re-implementation).
    const PINNED_JITTER_MS: u64 = 94_179;

    #[test]
    fn interval_validation_messages() {
        assert_eq!(
            Schedule::interval(Duration::from_millis(500), Duration::ZERO).unwrap_err().to_string(),
            "interval 500ms is too short; write at least \"1s\" (checks run at most once a second)"
        );
        assert_eq!(
            Schedule::interval(secs(30), secs(30)).unwrap_err().to_string(),
            "jitter 30s is not shorter than the interval 30s; make the jitter smaller than the interval \
             (a tenth of it is typical) so runs keep their order"
        );
        assert!(matches!(
            Schedule::interval(secs(400 * 86_400), Duration::ZERO),
            Err(ScheduleError::IntervalTooLong { .. })
        ));
        assert!(Schedule::interval(secs(1), Duration::from_millis(999)).is_ok());
    }

    #[test]
    fn describe_reads_well() {
        assert_eq!(Schedule::interval(secs(30), Duration::ZERO).expect("valid").describe(), "every 30s");
        assert_eq!(Schedule::interval(secs(90), secs(5)).expect("valid").describe(), "every 1m30s, jitter up to 5s");
        assert_eq!(
            Schedule::interval(Duration::from_millis(1_500), Duration::ZERO).expect("valid").to_string(),
            "every 1s500ms"
        );
        assert_eq!(
            Schedule::cron("*/5 * * * *", "Europe/Paris", Duration::ZERO).expect("valid").describe(),
            "cron */5 * * * * (Europe/Paris)"
        );
        assert_eq!(
            Schedule::cron(" @daily ", "UTC", secs(3600)).expect("valid").describe(),
            "cron @daily (UTC), jitter up to 1h"
        );
    }

    #[test]
    fn cron_every_five_minutes() {
        let schedule = Schedule::cron("*/5 * * * *", "UTC", Duration::ZERO).expect("valid");
        assert_eq!(schedule.next_after("x", utc(2026, 4, 1, 12, 3, 10)), Some(utc(2026, 4, 1, 12, 5, 0)));
        assert_eq!(schedule.next_after("x", utc(2026, 4, 1, 12, 5, 0)), Some(utc(2026, 4, 1, 12, 10, 0)));
        assert_eq!(schedule.next_after("x", utc(2026, 4, 1, 12, 4, 59) + 999), Some(utc(2026, 4, 1, 12, 5, 0)));
        assert_eq!(schedule.next_after("x", utc(2026, 4, 1, 23, 58, 0)), Some(utc(2026, 4, 2, 0, 0, 0)));
    }

    #[test]
    fn cron_with_seconds_field() {
        let schedule = Schedule::cron("15,45 * * * * *", "UTC", Duration::ZERO).expect("valid");
        let t = utc(2026, 4, 1, 12, 0, 0);
        assert_eq!(run(&schedule, "x", t, 4), vec![t + 15 * S, t + 45 * S, t + 75 * S, t + 105 * S]);
    }

    #[test]
    fn cron_weekday_and_month_fields() {
        // 2026-04-01 is a Wednesday. Mon-Fri at 09:00 UTC.
        let weekdays = Schedule::cron("0 9 * * MON-FRI", "UTC", Duration::ZERO).expect("valid");
        let after = utc(2026, 4, 3, 10, 0, 0); // Friday after 09:00
        assert_eq!(weekdays.next_after("x", after), Some(utc(2026, 4, 6, 9, 0, 0))); // Monday
        // Sunday as 0 and as 7.
        let sun0 = Schedule::cron("0 0 * * 0", "UTC", Duration::ZERO).expect("valid");
        let sun7 = Schedule::cron("0 0 * * 7", "UTC", Duration::ZERO).expect("valid");
        assert_eq!(sun0.next_after("x", after), Some(utc(2026, 4, 5, 0, 0, 0)));
        assert_eq!(sun7.next_after("x", after), Some(utc(2026, 4, 5, 0, 0, 0)));
        // Month: 06:30 on the 1st of February and August.
        let months = Schedule::cron("30 6 1 feb,aug *", "UTC", Duration::ZERO).expect("valid");
        assert_eq!(months.next_after("x", after), Some(utc(2026, 8, 1, 6, 30, 0)));
        assert_eq!(months.next_after("x", utc(2026, 8, 1, 6, 30, 0)), Some(utc(2027, 2, 1, 6, 30, 0)));
        // Aliases.
        let hourly = Schedule::cron("@hourly", "UTC", Duration::ZERO).expect("valid");
        assert_eq!(hourly.next_after("x", after), Some(utc(2026, 4, 3, 11, 0, 0)));
        let weekly = Schedule::cron("@WEEKLY", "UTC", Duration::ZERO).expect("valid");
        assert_eq!(weekly.next_after("x", after), Some(utc(2026, 4, 5, 0, 0, 0)));
    }

    #[test]
    fn cron_in_a_time_zone() {
        // 09:00 in Paris is 07:00 UTC in summer (CEST) and 08:00 UTC in winter (CET).
        let schedule = Schedule::cron("0 9 * * *", "Europe/Paris", Duration::ZERO).expect("valid");
        assert_eq!(schedule.next_after("x", utc(2026, 7, 1, 0, 0, 0)), Some(utc(2026, 7, 1, 7, 0, 0)));
        assert_eq!(schedule.next_after("x", utc(2026, 12, 1, 0, 0, 0)), Some(utc(2026, 12, 1, 8, 0, 0)));
    }

    #[test]
    fn cron_dst_spring_forward_shifts_the_missing_time() {
        // 2026-03-29: Paris jumps from 02:00 CET (01:00 UTC) to 03:00 CEST. 02:30 does not exist;
        // croner runs the job once, at the first valid time after the gap: 03:00 CEST = 01:00 UTC.
        let schedule = Schedule::cron("30 2 * * *", "Europe/Paris", Duration::ZERO).expect("valid");
        let due = run(&schedule, "x", utc(2026, 3, 27, 12, 0, 0), 4);
        assert_eq!(
            due,
            vec![
                utc(2026, 3, 28, 1, 30, 0), // 02:30 CET
                utc(2026, 3, 29, 1, 0, 0),  // shifted: 03:00 CEST
                utc(2026, 3, 30, 0, 30, 0), // 02:30 CEST
                utc(2026, 3, 31, 0, 30, 0),
            ]
        );
    }

    #[test]
    fn cron_dst_fall_back_fires_once() {
        // 2026-10-25: Paris goes from 03:00 CEST (01:00 UTC) back to 02:00 CET. 02:30 happens
        // twice (00:30 and 01:30 UTC); the job runs once, at the first.
        let schedule = Schedule::cron("30 2 * * *", "Europe/Paris", Duration::ZERO).expect("valid");
        let due = run(&schedule, "x", utc(2026, 10, 24, 12, 0, 0), 2);
        assert_eq!(due, vec![utc(2026, 10, 25, 0, 30, 0), utc(2026, 10, 26, 1, 30, 0)]);
        // Asking from inside the repeated hour does not give the second 02:30 either.
        assert_eq!(schedule.next_after("x", utc(2026, 10, 25, 1, 0, 0)), Some(utc(2026, 10, 26, 1, 30, 0)));
    }

    #[test]
    fn cron_hourly_across_fall_back_is_every_utc_hour() {
        let schedule = Schedule::cron("0 * * * *", "Europe/Paris", Duration::ZERO).expect("valid");
        let start = utc(2026, 10, 24, 22, 30, 0);
        let due = run(&schedule, "x", start, 6);
        let expected: Vec<i64> = (0..6).map(|h| utc(2026, 10, 24, 23, 0, 0) + h * 3600 * S).collect();
        assert_eq!(due, expected);
    }

    #[test]
    fn cron_hourly_across_spring_forward_is_every_utc_hour() {
        let schedule = Schedule::cron("0 * * * *", "Europe/Paris", Duration::ZERO).expect("valid");
        let due = run(&schedule, "x", utc(2026, 3, 28, 22, 30, 0), 5);
        let expected: Vec<i64> = (0..5).map(|h| utc(2026, 3, 28, 23, 0, 0) + h * 3600 * S).collect();
        assert_eq!(due, expected);
    }

    #[test]
    fn cron_jitter_is_added_in_order() {
        let max = secs(30);
        let schedule = Schedule::cron("*/5 * * * *", "UTC", max).expect("valid");
        let fire = utc(2026, 4, 1, 12, 5, 0);
        let j = millis(jitter("x", fire, max));
        assert_eq!(schedule.next_after("x", utc(2026, 4, 1, 12, 3, 10)), Some(fire + j));
        // Between the fire time and its jittered due time, that run is still next.
        assert_eq!(schedule.next_after("x", fire + j - 1), Some(fire + j));
        let next_fire = fire + 300 * S;
        assert_eq!(schedule.next_after("x", fire + j), Some(next_fire + millis(jitter("x", next_fire, max))));
    }

    #[test]
    fn cron_that_never_fires_again() {
        // 30 February never exists: croner parses it and its search gives up (at year 5000).
        let schedule = Schedule::cron("0 0 30 2 *", "UTC", Duration::ZERO).expect("parses");
        assert_eq!(schedule.next_after("x", utc(2026, 1, 1, 0, 0, 0)), None);
    }

    #[test]
    fn cron_error_messages_teach() {
        assert_eq!(
            Schedule::cron("*/5 * * *", "UTC", Duration::ZERO).unwrap_err().to_string(),
            "cron expression \"*/5 * * *\" has 4 fields; write 5 (minute hour day month weekday) or 6 (with seconds first)"
        );
        assert!(matches!(
            Schedule::cron("0 0 0 1 1 * 2030", "UTC", Duration::ZERO),
            Err(ScheduleError::CronFieldCount { count: 7, .. })
        ));
        assert!(matches!(
            Schedule::cron("   ", "UTC", Duration::ZERO),
            Err(ScheduleError::CronFieldCount { count: 0, .. })
        ));
        let err = Schedule::cron("*/0 * * * *", "UTC", Duration::ZERO).unwrap_err();
        assert!(matches!(err, ScheduleError::InvalidCron { .. }), "{err}");
        assert!(err.to_string().starts_with("cron expression \"*/0 * * * *\" is invalid ("), "{err}");
        assert!(err.to_string().contains("minute 0-59"), "{err}");
        assert!(matches!(
            Schedule::cron("* * * * FUNDAY", "UTC", Duration::ZERO),
            Err(ScheduleError::InvalidCron { .. })
        ));
        assert_eq!(
            Schedule::cron("@fortnightly", "UTC", Duration::ZERO).unwrap_err().to_string(),
            "unknown cron alias \"@fortnightly\"; use one of @yearly, @annually, @monthly, @weekly, @daily, @hourly, \
             or write 5 fields (minute hour day month weekday)"
        );
        assert!(matches!(
            Schedule::cron("* * * * *", "UTC", secs(2 * 86_400)),
            Err(ScheduleError::CronJitterTooLong { .. })
        ));
    }

    #[test]
    fn cron_numbers_out_of_range_name_their_field_and_its_range() {
        let cases = [
            ("0 25 * * *", "hour 25 is out of range 0-23", "25"),
            ("61 * * * *", "minute 61 is out of range 0-59", "61"),
            ("0 0 32 * *", "day of month 32 is out of range 1-31", "32"),
            ("0 0 0 * *", "day of month 0 is out of range 1-31", "0"),
            ("0 0 * 13 *", "month 13 is out of range 1-12", "13"),
            ("0 0 * * 8", "day of week 8 is out of range 0-7", "8"),
            ("60 0 0 * * *", "second 60 is out of range 0-59", "60"),
            ("  0 1-30 * * *", "hour 30 is out of range 0-23", "30"),
            ("0,75/5 * * * *", "minute 75 is out of range 0-59", "75"),
            ("0 0 * * 9#2", "day of week 9 is out of range 0-7", "9"),
            ("0 0 * * 99999999999", "day of week 99999999999 is out of range 0-7", "99999999999"),
        ];
        for (expr, message, number) in cases {
            match Schedule::cron(expr, "UTC", Duration::ZERO) {
                Err(err @ ScheduleError::CronFieldOutOfRange { .. }) => {
                    assert!(err.to_string().ends_with(message), "{expr}: {err}");
                    let ScheduleError::CronFieldOutOfRange { at, .. } = err else { unreachable!() };
                    assert_eq!(&expr[at], number, "{expr}");
                }
                other => panic!("{expr}: {other:?}"),
            }
        }
        // Names, steps, `L`, `W` and `#` stay croner's to judge.
        for expr in ["0 9 * * MON-FRI", "*/15 0-23/2 1,15 JAN-DEC 0-7", "0 0 L * *", "0 0 * * 5#2", "0 0 * * 7"] {
            assert!(Schedule::cron(expr, "UTC", Duration::ZERO).is_ok(), "{expr}");
        }
    }

    #[test]
    fn a_misspelt_cron_alias_is_named_with_every_alias() {
        let text = Schedule::cron("@hourlyy", "UTC", Duration::ZERO).unwrap_err().to_string();
        assert!(text.starts_with("unknown cron alias \"@hourlyy\" (did you mean \"@hourly\"?); use one of"), "{text}");
        assert!(text.contains("@yearly, @annually, @monthly, @weekly, @daily, @hourly"), "{text}");
    }

    #[test]
    fn time_zone_errors_suggest_a_name() {
        assert_eq!(
            Schedule::cron("* * * * *", "Europe/Pariss", Duration::ZERO).unwrap_err().to_string(),
            "unknown time zone \"Europe/Pariss\"; use an IANA name such as \"Europe/Paris\""
        );
        assert_eq!(
            Schedule::cron("* * * * *", "America/New_Yrok", Duration::ZERO).unwrap_err().to_string(),
            "unknown time zone \"America/New_Yrok\"; use an IANA name such as \"America/New_York\""
        );
        assert_eq!(
            Schedule::cron("* * * * *", "Mars/Olympus", Duration::ZERO).unwrap_err().to_string(),
            "unknown time zone \"Mars/Olympus\"; use an IANA name such as \"Europe/Paris\""
        );
    }

    #[test]
    fn debug_is_short() {
        let schedule = Schedule::cron("*/5 * * * *", "Europe/Paris", secs(1)).expect("valid");
        assert_eq!(format!("{schedule:?}"), "Cron { source: \"*/5 * * * *\", tz: Europe/Paris, jitter: 1s }");
    }

    #[test]
    fn retry_after_adds_the_interval() {
        assert_eq!(retry_after(1_000, secs(30)), 31_000);
        assert_eq!(retry_after(1_000, Duration::ZERO), 1_001);
        assert_eq!(retry_after(i64::MAX - 5, secs(30)), i64::MAX);
    }

    #[test]
    fn extreme_times_do_not_panic() {
        let interval = Schedule::interval(secs(30), secs(1)).expect("valid");
        assert_eq!(interval.next_after("x", i64::MAX), None);
        let _ = interval.next_after("x", i64::MIN);
        let cron = Schedule::cron("* * * * *", "UTC", secs(1)).expect("valid");
        assert_eq!(cron.next_after("x", i64::MAX), None);
        assert_eq!(cron.next_after("x", i64::MIN), None);
    }
}
