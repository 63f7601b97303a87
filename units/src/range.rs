//! Threshold ranges in the Monitoring Plugins syntax, as plugins declare them in `warn` and
//! `crit` keys and report them in perfdata.
//!
//! See <https://www.monitoring-plugins.org/doc/guidelines.html#THRESHOLDFORMAT>:
//!
//! | range     | alerts when            |
//! |-----------|------------------------|
//! | `10`      | `< 0` or `> 10`        |
//! | `10:`     | `< 10`                 |
//! | `~:10`    | `> 10`                 |
//! | `10:20`   | `< 10` or `> 20`       |
//! | `@10:20`  | `>= 10` and `<= 20`    |

use crate::UnitError;
use std::fmt;
use std::str::FromStr;

/// A threshold range: a value alerts when it lies outside `start..=end`, or inside it
/// when the range was written with a leading `@`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    /// Lower bound; `f64::NEG_INFINITY` for `~`.
    pub start: f64,
    /// Upper bound; `f64::INFINITY` when left empty (`10:`).
    pub end: f64,
    /// Alert when the value is inside the range (`@`) instead of outside it.
    pub inside: bool,
}

impl Range {
    /// Parses a range such as `10`, `10:`, `~:10`, `10:20`, `@10:20` or `-1.5:2.5`.
    pub fn parse(text: &str) -> Result<Range, UnitError> {
        let text = text.trim();
        let (inside, body) = match text.strip_prefix('@') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        if body.is_empty() {
            return Err(UnitError::new(format!("empty range {text:?}: write e.g. \"10\", \"10:20\" or \"@~:5\"")));
        }
        let (start, end) = match body.split_once(':') {
            None => (0.0, number(body, text)?),
            Some((start, end)) => {
                let start = match start {
                    "~" => f64::NEG_INFINITY,
                    "" => 0.0,
                    s => number(s, text)?,
                };
                let end = if end.is_empty() { f64::INFINITY } else { number(end, text)? };
                (start, end)
            }
        };
        if start > end {
            return Err(UnitError::new(format!("invalid range {text:?}: start {start} is greater than end {end}")));
        }
        Ok(Range { start, end, inside })
    }

    /// Whether `value` crosses this threshold (outside the range, or inside for `@`).
    pub fn alerts(&self, value: f64) -> bool {
        let within = value >= self.start && value <= self.end;
        within == self.inside
    }
}

/// Parses one bound: a plain decimal number (no `inf`, `nan` or exponent).
fn number(s: &str, whole: &str) -> Result<f64, UnitError> {
    let plain = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+'))
        && s.chars().any(|c| c.is_ascii_digit());
    match s.parse::<f64>() {
        Ok(value) if plain && value.is_finite() => Ok(value),
        _ => Err(UnitError::new(format!("invalid range {whole:?}: {s:?} is not a number"))),
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.inside {
            f.write_str("@")?;
        }
        match (self.start, self.end) {
            (start, end) if start == 0.0 && end.is_finite() => write!(f, "{end}"),
            (start, end) => {
                if start == f64::NEG_INFINITY {
                    f.write_str("~:")?;
                } else {
                    write!(f, "{start}:")?;
                }
                if end.is_finite() {
                    write!(f, "{end}")?;
                }
                Ok(())
            }
        }
    }
}

impl FromStr for Range {
    type Err = UnitError;

    fn from_str(s: &str) -> Result<Range, UnitError> {
        Range::parse(s)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Range {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Range, D::Error> {
        let text = String::deserialize(deserializer)?;
        Range::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Range {
        match Range::parse(s) {
            Ok(range) => range,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn plain_upper_bound() {
        let range = r("10");
        assert_eq!((range.start, range.end, range.inside), (0.0, 10.0, false));
        assert!(range.alerts(-1.0));
        assert!(!range.alerts(0.0));
        assert!(!range.alerts(10.0));
        assert!(range.alerts(10.5));
    }

    #[test]
    fn lower_bound_only() {
        let range = r("10:");
        assert_eq!(range.end, f64::INFINITY);
        assert!(range.alerts(9.99));
        assert!(!range.alerts(10.0));
        assert!(!range.alerts(1e12));
    }

    #[test]
    fn negative_infinity_start() {
        let range = r("~:10");
        assert_eq!(range.start, f64::NEG_INFINITY);
        assert!(!range.alerts(-1e12));
        assert!(!range.alerts(10.0));
        assert!(range.alerts(10.1));
    }

    #[test]
    fn outside_range() {
        let range = r("10:20");
        assert!(range.alerts(9.0));
        assert!(!range.alerts(10.0));
        assert!(!range.alerts(15.0));
        assert!(!range.alerts(20.0));
        assert!(range.alerts(21.0));
    }

    #[test]
    fn inside_range() {
        let range = r("@10:20");
        assert!(range.inside);
        assert!(!range.alerts(9.0));
        assert!(range.alerts(10.0));
        assert!(range.alerts(15.0));
        assert!(range.alerts(20.0));
        assert!(!range.alerts(21.0));
        assert!(r("@5").alerts(3.0));
        assert!(!r("@5").alerts(6.0));
    }

    #[test]
    fn decimals_and_negatives() {
        let range = r("-1.5:2.25");
        assert_eq!((range.start, range.end), (-1.5, 2.25));
        assert!(range.alerts(-1.6));
        assert!(!range.alerts(0.0));
        assert!(range.alerts(2.3));
        assert!(r("-10:-5").alerts(-4.0));
        assert!(r("0.5").alerts(0.6));
        assert!(!r("@~:-1").alerts(0.0));
        assert!(r("@~:-1").alerts(-2.0));
    }

    #[test]
    fn empty_start_means_zero() {
        assert_eq!(r(":10"), r("10"));
    }

    #[test]
    fn rejects_bad_ranges() {
        for bad in ["", "@", "abc", "10:5", "1:2:3", "~", "~:~", "inf", "nan:", "1e3", "10:x", "--1"] {
            assert!(Range::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn display_round_trips() {
        for (input, shown) in [
            ("10", "10"),
            ("10:", "10:"),
            ("~:10", "~:10"),
            ("10:20", "10:20"),
            ("@10:20", "@10:20"),
            ("-1.5:2.5", "-1.5:2.5"),
            ("@~:0", "@~:0"),
            ("~:", "~:"),
            ("0:10", "10"),
            ("1.25", "1.25"),
        ] {
            let range = r(input);
            assert_eq!(range.to_string(), shown, "display of {input:?}");
            assert_eq!(r(shown), range, "round trip of {input:?}");
        }
    }
}
