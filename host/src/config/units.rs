//! Human-written quantities in the configuration: durations (`"250ms"`, `"1.5s"`,
//! `"1h30m"`) and sizes (`"16MiB"`, `"512KB"`).

use std::time::Duration;

/// Parses a duration: one or more `<number><unit>` parts, units `us`, `ms`, `s`, `m`, `h`, `d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if num_len == 0 {
            return Err(format!("expected a number at '{rest}'"));
        }
        let number: f64 = rest[..num_len].parse().map_err(|_| format!("'{}' is not a number", &rest[..num_len]))?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let unit = rest[..unit_len].trim();
        let seconds = match unit {
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            "" => return Err(format!("'{number}' has no unit")),
            other => return Err(format!("unknown unit '{other}'")),
        };
        total += number * seconds;
        rest = &rest[unit_len..];
    }
    if !total.is_finite() || total > 366.0 * 86_400.0 {
        return Err("duration is too long".into());
    }
    Ok(Duration::from_secs_f64(total))
}

/// Parses a size in bytes: a whole number with an optional unit `B`, `KB`/`KiB`, `MB`/`MiB`,
/// `GB`/`GiB` (decimal units are powers of 1000, binary ones of 1024).
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let s = text.trim();
    let num_len = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if num_len == 0 {
        return Err(format!("expected a number at the start of '{s}'"));
    }
    let number: u64 = s[..num_len].parse().map_err(|_| format!("'{}' is too large", &s[..num_len]))?;
    let factor: u64 = match s[num_len..].trim() {
        "" | "B" => 1,
        "KB" | "kB" => 1000,
        "KiB" => 1 << 10,
        "MB" => 1000 * 1000,
        "MiB" => 1 << 20,
        "GB" => 1000 * 1000 * 1000,
        "GiB" => 1 << 30,
        other => return Err(format!("unknown unit '{other}'")),
    };
    number.checked_mul(factor).ok_or_else(|| "size is too large".to_string())
}

/// Formats a byte count the way a person writes it (`64 MiB`, `1.5 KiB`, `12 B`).
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = "B";
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    if value.fract() == 0.0 { format!("{value} {unit}") } else { format!("{value:.1} {unit}") }
}

/// Formats a duration compactly (`250 ms`, `1.5 s`, `2 m`).
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

    #[test]
    fn durations_in_every_unit_and_combined() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500us"), Ok(Duration::from_micros(500)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
    }

    #[test]
    fn durations_without_unit_or_with_a_bad_one_are_refused() {
        assert!(parse_duration("10").unwrap_err().contains("no unit"));
        assert!(parse_duration("5 parsecs").unwrap_err().contains("unknown unit 'parsecs'"));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("ms").is_err());
    }

    #[test]
    fn sizes_in_decimal_and_binary_units() {
        assert_eq!(parse_bytes("16MiB"), Ok(16 << 20));
        assert_eq!(parse_bytes("16 MB"), Ok(16_000_000));
        assert_eq!(parse_bytes("512"), Ok(512));
        assert!(parse_bytes("16 furlongs").is_err());
        assert!(parse_bytes("99999999999999999999GiB").is_err());
    }

    #[test]
    fn formats_read_like_a_person_wrote_them() {
        assert_eq!(format_bytes(64 << 20), "64 MiB");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_duration(Duration::from_micros(1500)), "1.5 ms");
        assert_eq!(format_duration(Duration::from_secs(86_400)), "1.0 d");
        assert_eq!(format_duration(Duration::from_secs(5_400)), "1.5 h");
    }
}
