//! Durations written as a number and a unit: `500us`, `250ms`, `1.5s`, `1m`, `2h`.

use std::time::Duration;

/// Nanoseconds per unit, longest unit names first so `ms` is not read as `m`.
const UNITS: [(&str, u128); 7] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Parses a duration such as `"250ms"`, `"2s"`, `"1.5s"`, `"1m"` or `"500us"`.
///
/// The number is a plain decimal (no sign, no exponent) and the unit is required: one of
/// `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`. Fractions below a nanosecond are dropped.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let text = s.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    if number.is_empty() {
        return Err(format!("invalid duration {s:?}: expected a number and a unit, e.g. \"250ms\" or \"2s\""));
    }
    let unit_ns = match UNITS.iter().find(|(name, _)| *name == unit.trim_start()) {
        Some((_, ns)) => *ns,
        None if unit.is_empty() => {
            return Err(format!("invalid duration {s:?}: missing unit (use e.g. \"250ms\" or \"2s\")"));
        }
        None => {
            return Err(format!("invalid duration {s:?}: unknown unit {unit:?} (use ns, us, ms, s, m or h)"));
        }
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.contains('.') || fraction.len() > 18 || whole.len() > 20 {
        return Err(format!("invalid duration {s:?}: bad number {number:?}"));
    }
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| format!("invalid duration {s:?}: bad number {number:?}"))?
    };
    let mut nanos = whole * unit_ns;
    if !fraction.is_empty() {
        let digits: u128 = fraction.parse().map_err(|_| format!("invalid duration {s:?}: bad number {number:?}"))?;
        nanos += digits * unit_ns / 10u128.pow(fraction.len() as u32);
    }
    let secs = u64::try_from(nanos / 1_000_000_000).map_err(|_| format!("invalid duration {s:?}: too long"))?;
    let subsec = (nanos % 1_000_000_000) as u32;
    Ok(Duration::new(secs, subsec))
}

/// Formats a duration for a summary: `"250 ms"`, `"1.5 s"`, `"0.3 ms"`.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 1000.0 { format!("{} s", trim(d.as_secs_f64(), 3)) } else { format!("{} ms", trim(ms, 3)) }
}

/// `value` with at most `places` decimals and no trailing zeros.
fn trim(value: f64, places: usize) -> String {
    let text = format!("{value:.places$}");
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Duration {
        match parse_duration(s) {
            Ok(d) => d,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn parses_every_unit() {
        assert_eq!(d("250ms"), Duration::from_millis(250));
        assert_eq!(d("2s"), Duration::from_secs(2));
        assert_eq!(d("1.5s"), Duration::from_millis(1500));
        assert_eq!(d("1m"), Duration::from_secs(60));
        assert_eq!(d("500us"), Duration::from_micros(500));
        assert_eq!(d("500µs"), Duration::from_micros(500));
        assert_eq!(d("10ns"), Duration::from_nanos(10));
        assert_eq!(d("2h"), Duration::from_secs(7200));
    }

    #[test]
    fn fractions_are_exact() {
        assert_eq!(d("0.1s"), Duration::from_millis(100));
        assert_eq!(d(".5s"), Duration::from_millis(500));
        assert_eq!(d("1.s"), Duration::from_secs(1));
        assert_eq!(d("0.25ms"), Duration::from_micros(250));
        assert_eq!(d("1.0000000001s"), Duration::from_secs(1));
        assert_eq!(d(" 3 s "), Duration::from_secs(3));
    }

    #[test]
    fn rejects_bad_input() {
        for bad in
            ["", "s", "10", "ms", "-1s", "1.2.3s", "1e3ms", "10 sec", "5x", "1,5s", ".s", "99999999999999999999999h"]
        {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn formats_for_people() {
        assert_eq!(format_duration(Duration::from_millis(250)), "250 ms");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(format_duration(Duration::from_micros(300)), "0.3 ms");
    }
}
