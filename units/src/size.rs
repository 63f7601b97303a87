//! Sizes in bytes: a whole number with an optional unit (`"512"`, `"16MiB"`, `"512 KB"`),
//! and the binary-unit form reports print them in.

use crate::UnitError;

/// Bytes per unit: decimal units are powers of 1000, binary ones of 1024.
const UNITS: [(&str, u64); 10] = [
    ("B", 1),
    ("KB", 1000),
    ("kB", 1000),
    ("KiB", 1 << 10),
    ("MB", 1000 * 1000),
    ("MiB", 1 << 20),
    ("GB", 1000 * 1000 * 1000),
    ("GiB", 1 << 30),
    ("TB", 1000 * 1000 * 1000 * 1000),
    ("TiB", 1 << 40),
];

/// Bytes in one `unit` of the size grammar (`"KiB"` → 1024), `None` for a word that is not
/// a size unit (an empty unit is not one either: a bare number is bytes by convention of
/// [`parse_bytes`] only).
///
/// ```
/// assert_eq!(vitals_units::size_unit_bytes("MB"), Some(1_000_000));
/// ```
pub fn size_unit_bytes(unit: &str) -> Option<u64> {
    UNITS.iter().find(|(name, _)| *name == unit).map(|(_, b)| *b)
}

/// Parses a size in bytes: `"512"`, `"16MiB"`, `"16 MB"`.
///
/// ```
/// assert_eq!(vitals_units::parse_bytes("16MiB"), Ok(16 << 20));
/// ```
pub fn parse_bytes(text: &str) -> Result<u64, UnitError> {
    let s = text.trim();
    let num_len = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if num_len == 0 {
        return Err(UnitError::new(format!("expected a number at the start of '{s}', e.g. \"16MiB\"")));
    }
    let number: u64 = s[..num_len].parse().map_err(|_| UnitError::new(format!("'{}' is too large", &s[..num_len])))?;
    let unit = s[num_len..].trim();
    let factor = match size_unit_bytes(unit) {
        Some(f) => f,
        None if unit.is_empty() => 1,
        None => {
            return Err(UnitError::new(format!(
                "unknown unit '{unit}' (units: B, KB, KiB, MB, MiB, GB, GiB, TB, TiB)"
            )));
        }
    };
    number.checked_mul(factor).ok_or_else(|| UnitError::new(format!("'{s}' is too large")))
}

/// Formats a byte count the way a person writes it (`"64 MiB"`, `"1.5 KiB"`, `"12 B"`).
///
/// ```
/// assert_eq!(vitals_units::format_bytes(1536), "1.5 KiB");
/// ```
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_decimal_and_binary_units() {
        assert_eq!(parse_bytes("16MiB"), Ok(16 << 20));
        assert_eq!(parse_bytes("16 MB"), Ok(16_000_000));
        assert_eq!(parse_bytes("512"), Ok(512));
        assert_eq!(parse_bytes("1TiB"), Ok(1 << 40));
        assert!(parse_bytes("16 furlongs").is_err());
        assert!(parse_bytes("MiB").is_err());
        assert!(parse_bytes("99999999999999999999GiB").is_err());
        assert!(parse_bytes("99999999999GiB").is_err());
    }

    #[test]
    fn formats_read_like_a_person_wrote_them() {
        assert_eq!(format_bytes(12), "12 B");
        assert_eq!(format_bytes(64 << 20), "64 MiB");
        assert_eq!(format_bytes(1536), "1.5 KiB");
    }
}
