//! Durations: one or more `<number><unit>` parts (`"250ms"`, `"1.5s"`, `"1h30m"`,
//! `"2m 30s"`, `"1d"`), and the compact form reports and summaries print them in.
//!
//! Units: `ns`, `us` (or `µs`), `ms`, `s`, `m` (or `min`), `h`, `d`. The number is a plain
//! decimal: no sign, no exponent, digits on at least one side of the point. Arithmetic is
//! exact in nanoseconds, so `"0.1s"` is 100 ms, not 99.999… ms.

use std::time::Duration;

use crate::UnitError;

/// Nanoseconds per unit.
const UNITS: [(&str, u128); 9] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("min", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
];

/// The units in the order a help text lists them.
const UNIT_LIST: &str = "ns, us, ms, s, m, h or d";

/// Nanoseconds in one `unit` of the duration grammar (`"ms"` → 1,000,000), `None` for a
/// word that is not a duration unit. Other grammars that write durations (the gate's
/// conditions, perfdata units) read their units through this, so every place agrees.
///
/// ```
/// assert_eq!(vitals_units::duration_unit_nanos("min"), Some(60_000_000_000));
/// assert_eq!(vitals_units::duration_unit_nanos("sec"), None);
/// ```
pub fn duration_unit_nanos(unit: &str) -> Option<u128> {
    UNITS.iter().find(|(name, _)| *name == unit).map(|(_, ns)| *ns)
}

/// Parses a duration such as `"250ms"`, `"1.5s"`, `"1h30m"`, `"2m 30s"` or `"1d"`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(vitals_units::parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
/// assert_eq!(vitals_units::parse_duration("0.25ms"), Ok(Duration::from_micros(250)));
/// assert!(vitals_units::parse_duration("10").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    let s = text.trim();
    if s.is_empty() {
        return Err(UnitError::new("empty duration: write a number and a unit, e.g. \"250ms\" or \"2s\""));
    }
    let mut nanos: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number = &rest[..num_len];
        if number.is_empty() {
            return Err(UnitError::new(format!("expected a number at '{rest}' in '{s}'")));
        }
        rest = rest[num_len..].trim_start();
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.' || c.is_whitespace()).unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let per_unit = match duration_unit_nanos(unit) {
            Some(ns) => ns,
            None if unit.is_empty() => {
                return Err(UnitError::new(format!(
                    "'{number}' has no unit: write e.g. \"{number}s\" or \"{number}ms\" (units: {UNIT_LIST})"
                )));
            }
            None => return Err(UnitError::new(format!("unknown unit '{unit}' in '{s}' (units: {UNIT_LIST})"))),
        };
        let part = scaled(number, per_unit).ok_or_else(|| UnitError::new(format!("'{number}' is not a number")))?;
        nanos = nanos.checked_add(part).ok_or_else(|| UnitError::new(format!("'{s}' is too long")))?;
        rest = rest[unit_len..].trim_start();
    }
    let secs = u64::try_from(nanos / 1_000_000_000).map_err(|_| UnitError::new(format!("'{s}' is too long")))?;
    Ok(Duration::new(secs, (nanos % 1_000_000_000) as u32))
}

/// `number` (a plain decimal) times `per_unit` nanoseconds, exactly (fractions of a
/// nanosecond dropped); `None` when it is not a plain decimal or overflows.
fn scaled(number: &str, per_unit: u128) -> Option<u128> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') || whole.len() > 24 {
        return None;
    }
    let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let mut total = whole.checked_mul(per_unit)?;
    // Digits past the 18th are below a nanosecond of any unit up to a day.
    let fraction = &fraction[..fraction.len().min(18)];
    if !fraction.is_empty() {
        let digits: u128 = fraction.parse().ok()?;
        total = total.checked_add(digits * per_unit / 10u128.pow(fraction.len() as u32))?;
    }
    Some(total)
}

/// Formats a duration compactly, in the unit its size calls for: `"850 µs"`, `"1.5 ms"`,
/// `"2.0 s"`, `"1.5 m"`, `"3.0 h"`, `"30.0 d"`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(vitals_units::format_duration(Duration::from_millis(1500)), "1.5 s");
/// ```
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1.0 {
        format!("{:.0} µs", ms * 1000.0)
    } else if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else if ms < 60_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if ms < 3_600_000.0 {
        format!("{:.1} m", ms / 60_000.0)
    } else if ms < 86_400_000.0 {
        format!("{:.1} h", ms / 3_600_000.0)
    } else {
        format!("{:.1} d", ms / 86_400_000.0)
    }
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
    fn every_unit_alone() {
        assert_eq!(d("10ns"), Duration::from_nanos(10));
        assert_eq!(d("500us"), Duration::from_micros(500));
        assert_eq!(d("500µs"), Duration::from_micros(500));
        assert_eq!(d("250ms"), Duration::from_millis(250));
        assert_eq!(d("2s"), Duration::from_secs(2));
        assert_eq!(d("1m"), Duration::from_secs(60));
        assert_eq!(d("5min"), Duration::from_secs(300));
        assert_eq!(d("2h"), Duration::from_secs(7200));
        assert_eq!(d("1d"), Duration::from_secs(86_400));
    }

    #[test]
    fn compound_durations_add_up() {
        assert_eq!(d("1h30m"), Duration::from_secs(5400));
        assert_eq!(d("2m30s"), Duration::from_secs(150));
        assert_eq!(d("2m 30s"), Duration::from_secs(150));
        assert_eq!(d("1d12h"), Duration::from_secs(129_600));
        assert_eq!(d("1s500ms"), Duration::from_millis(1500));
    }

    #[test]
    fn fractions_are_exact() {
        assert_eq!(d("0.1s"), Duration::from_millis(100));
        assert_eq!(d(".5s"), Duration::from_millis(500));
        assert_eq!(d("1.s"), Duration::from_secs(1));
        assert_eq!(d("1.5s"), Duration::from_millis(1500));
        assert_eq!(d("0.25ms"), Duration::from_micros(250));
        assert_eq!(d("1.0000000001s"), Duration::from_secs(1));
        assert_eq!(d(" 3 s "), Duration::from_secs(3));
        assert_eq!(d("1.5d"), Duration::from_secs(129_600));
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        for bad in [
            "",
            "s",
            "10",
            "ms",
            "-1s",
            "1.2.3s",
            "1e3ms",
            "10 sec",
            "5x",
            "1,5s",
            ".s",
            "5 parsecs",
            "99999999999999999999999999h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(parse_duration("10").unwrap_err().message().contains("no unit"));
        assert!(parse_duration("5 parsecs").unwrap_err().message().contains("unknown unit 'parsecs'"));
    }

    #[test]
    fn formats_read_like_a_person_wrote_them() {
        assert_eq!(format_duration(Duration::from_micros(850)), "850 µs");
        assert_eq!(format_duration(Duration::from_micros(1500)), "1.5 ms");
        assert_eq!(format_duration(Duration::from_secs(86_400)), "1.0 d");
        assert_eq!(format_duration(Duration::from_secs(5_400)), "1.5 h");
    }
}
