//! The values a gate condition compares: a status, or an amount of one dimension (time,
//! percentage, size, plain number), with the units people write and read them in.

use std::fmt;

use serde::Serialize;

use crate::result::{Metric, Status};
use vitals_units::{format_bytes, format_duration};

/// What an amount measures. Amounts of different dimensions never compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// A duration, held in milliseconds.
    Time,
    /// A percentage, held as percent (`99.9`, not `0.999`).
    Percent,
    /// A size, held in bytes.
    Size,
    /// A plain number without a unit (a burn rate, a count).
    Number,
}

impl Dimension {
    /// The word used in messages: "a duration", "a percentage".
    pub fn noun(self) -> &'static str {
        match self {
            Dimension::Time => "a duration",
            Dimension::Percent => "a percentage",
            Dimension::Size => "a size",
            Dimension::Number => "a plain number",
        }
    }

    /// The canonical unit the value is held in, as written in JSON (`ms`, `%`, `B`, ``).
    pub fn unit(self) -> &'static str {
        match self {
            Dimension::Time => "ms",
            Dimension::Percent => "%",
            Dimension::Size => "B",
            Dimension::Number => "",
        }
    }

    /// An example literal of this dimension, for help texts.
    pub fn example(self) -> &'static str {
        match self {
            Dimension::Time => "300ms",
            Dimension::Percent => "99.9%",
            Dimension::Size => "512MiB",
            Dimension::Number => "14.4",
        }
    }
}

/// A number in a dimension, in that dimension's canonical unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Amount {
    /// What it measures.
    pub dimension: Dimension,
    /// The value in the canonical unit ([`Dimension::unit`]).
    pub value: f64,
}

impl Amount {
    /// A duration in milliseconds.
    pub fn ms(value: f64) -> Amount {
        Amount { dimension: Dimension::Time, value }
    }

    /// A percentage.
    pub fn percent(value: f64) -> Amount {
        Amount { dimension: Dimension::Percent, value }
    }

    /// A plain number.
    pub fn number(value: f64) -> Amount {
        Amount { dimension: Dimension::Number, value }
    }

    /// A plugin metric's value, read through its perfdata unit (`ms`, `s`, `us`, `%`, `B`,
    /// `KB`, `MiB`, …). A unit it does not know (`c`, or none) makes a plain number.
    pub fn of_metric(metric: &Metric) -> Amount {
        let v = metric.value;
        match unit_factor(metric.unit.trim()) {
            Some((dimension, factor)) => Amount { dimension, value: v * factor },
            None => Amount::number(v),
        }
    }
}

/// The dimension and the factor to its canonical unit of a unit as written after a
/// number, in a condition or in a plugin's perfdata. `None` for an unknown unit.
pub fn unit_factor(unit: &str) -> Option<(Dimension, f64)> {
    // Durations and sizes take their units from vitals-units, the grammar of checks.toml
    // and of plugins, so a unit means the same everywhere.
    if let Some(nanos) = vitals_units::duration_unit_nanos(unit) {
        return Some((Dimension::Time, nanos as f64 / 1e6));
    }
    if let Some(bytes) = vitals_units::size_unit_bytes(unit) {
        return Some((Dimension::Size, bytes as f64));
    }
    match unit {
        "%" => Some((Dimension::Percent, 1.0)),
        "" => Some((Dimension::Number, 1.0)),
        _ => None,
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.value;
        match self.dimension {
            // A plugin may report any number: a negative or huge one is shown as it is.
            Dimension::Time => match std::time::Duration::try_from_secs_f64(v / 1000.0) {
                Ok(d) => f.write_str(&format_duration(d)),
                Err(_) => write!(f, "{} ms", number(v)),
            },
            Dimension::Percent => write!(f, "{}%", number(v)),
            Dimension::Size if v.is_finite() && v >= 0.0 && v < u64::MAX as f64 => {
                f.write_str(&format_bytes(v.round() as u64))
            }
            Dimension::Size => write!(f, "{} B", number(v)),
            Dimension::Number => f.write_str(&number(v)),
        }
    }
}

/// Up to three decimals, without trailing zeros (`14.4`, `99.95`, `3`).
fn number(v: f64) -> String {
    let text = format!("{v:.3}");
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text }
}

/// What a condition measured or compares against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A check status (ordered ok < warning < critical < unknown).
    Status(Status),
    /// An amount.
    Amount(Amount),
}

impl Value {
    /// "a status", or the amount's dimension noun.
    pub fn noun(&self) -> &'static str {
        match self {
            Value::Status(_) => "a status",
            Value::Amount(a) => a.dimension.noun(),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Status(s) => f.write_str(s.as_str()),
            Value::Amount(a) => a.fmt(f),
        }
    }
}

/// The rank of a status in conditions: ok < warning < critical < unknown.
pub fn status_rank(status: Status) -> u8 {
    status.exit_code()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(value: f64, unit: &str) -> Metric {
        Metric { name: "m".into(), value, unit: unit.into(), warn: None, crit: None, min: None, max: None }
    }

    #[test]
    fn metric_units_become_canonical_amounts() {
        assert_eq!(Amount::of_metric(&metric(1.5, "s")), Amount::ms(1500.0));
        assert_eq!(Amount::of_metric(&metric(250.0, "us")), Amount::ms(0.25));
        assert_eq!(Amount::of_metric(&metric(2.0, "KiB")), Amount { dimension: Dimension::Size, value: 2048.0 });
        assert_eq!(Amount::of_metric(&metric(2.0, "KB")), Amount { dimension: Dimension::Size, value: 2000.0 });
        assert_eq!(Amount::of_metric(&metric(7.0, "c")), Amount::number(7.0));
        assert_eq!(Amount::of_metric(&metric(7.0, "")), Amount::number(7.0));
        assert_eq!(Amount::of_metric(&metric(50.0, "%")), Amount::percent(50.0));
    }

    #[test]
    fn amounts_read_the_way_people_write_them() {
        assert_eq!(Amount::ms(412.0).to_string(), "412.0 ms");
        assert_eq!(Amount::ms(1500.0).to_string(), "1.5 s");
        assert_eq!(Amount::ms(-2.0).to_string(), "-2 ms");
        assert_eq!(Amount::ms(1e300).to_string(), format!("{:.0} ms", 1e300));
        assert_eq!(Amount::percent(99.95).to_string(), "99.95%");
        assert_eq!(Amount::percent(-12.5).to_string(), "-12.5%");
        assert_eq!(Amount::number(14.4).to_string(), "14.4");
        assert_eq!(Amount::number(3.0).to_string(), "3");
        assert_eq!(Amount { dimension: Dimension::Size, value: 1536.0 }.to_string(), "1.5 KiB");
        assert_eq!(Value::Status(Status::Warning).to_string(), "warning");
    }

    #[test]
    fn statuses_rank_ok_warning_critical_unknown() {
        let ranks: Vec<u8> = Status::ALL.iter().map(|s| status_rank(*s)).collect();
        assert_eq!(ranks, [0, 1, 2, 3]);
    }
}
