//! Warning and critical thresholds over Monitoring Plugins ranges ([`Range`], whose
//! grammar lives in `vitals-units`, shared with the host's `vitals validate`).

use std::time::Duration;

/// A Monitoring Plugins threshold range (`10`, `10:`, `~:10`, `10:20`, `@10:20`), from
/// `vitals-units`: the grammar the host checks `range` keys with.
///
/// ```
/// use vitals_sdk::Range;
/// let range = Range::parse("~:10").map_err(|e| e.to_string())?;
/// assert!(range.alerts(11.0) && !range.alerts(-5.0));
/// assert!(Range::parse("@10:20").is_ok_and(|r| r.alerts(15.0)));
/// # Ok::<(), String>(())
/// ```
pub use vitals_units::Range;

use crate::Status;

/// A warning and a critical threshold for one value.
///
/// ```
/// use vitals_sdk::{Status, Thresholds};
/// let thresholds = Thresholds::parse(Some("~:80"), Some("~:95"))?;
/// assert_eq!(thresholds.evaluate(90.0), Status::Warning);
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Thresholds {
    /// The warning range, if any.
    pub warn: Option<Range>,
    /// The critical range, if any.
    pub crit: Option<Range>,
}

impl Thresholds {
    /// Upper limits on a time in milliseconds, from durations (`"500"` alerts above
    /// 500 ms, as check_http writes them); a limit left out never alerts.
    ///
    /// ```
    /// use std::time::Duration;
    /// use vitals_sdk::{Status, Thresholds};
    /// let t = Thresholds::time_ms(Some(Duration::from_millis(500)), None);
    /// assert_eq!(t.warn.map(|r| r.to_string()).as_deref(), Some("500"));
    /// assert_eq!((t.evaluate(501.0), t.crit), (Status::Warning, None));
    /// ```
    pub fn time_ms(warn: Option<Duration>, crit: Option<Duration>) -> Thresholds {
        let upper = |d: Option<Duration>| d.map(|d| Range { start: 0.0, end: d.as_secs_f64() * 1000.0, inside: false });
        Thresholds { warn: upper(warn), crit: upper(crit) }
    }

    /// Parses optional warning and critical ranges.
    ///
    /// ```
    /// use vitals_sdk::Thresholds;
    /// assert!(Thresholds::parse(Some("10"), None).is_ok_and(|t| t.crit.is_none()));
    /// assert!(Thresholds::parse(Some("ten"), None).is_err());
    /// ```
    pub fn parse(warn: Option<&str>, crit: Option<&str>) -> Result<Thresholds, String> {
        Ok(Thresholds { warn: warn.map(Range::parse).transpose()?, crit: crit.map(Range::parse).transpose()? })
    }

    /// The status of `value`: critical if the critical range alerts, else warning if the
    /// warning range alerts, else ok.
    ///
    /// ```
    /// use vitals_sdk::{Status, Thresholds};
    /// let t = Thresholds::parse(Some("100"), Some("200"))?;
    /// assert_eq!([t.evaluate(50.0), t.evaluate(150.0), t.evaluate(250.0)], [Status::Ok, Status::Warning, Status::Critical]);
    /// # Ok::<(), String>(())
    /// ```
    pub fn evaluate(&self, value: f64) -> Status {
        if self.crit.is_some_and(|r| r.alerts(value)) {
            Status::Critical
        } else if self.warn.is_some_and(|r| r.alerts(value)) {
            Status::Warning
        } else {
            Status::Ok
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_critical_wins() {
        let t = match Thresholds::parse(Some("100"), Some("200")) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(t.evaluate(50.0), Status::Ok);
        assert_eq!(t.evaluate(150.0), Status::Warning);
        assert_eq!(t.evaluate(250.0), Status::Critical);
        assert_eq!(Thresholds::default().evaluate(1e9), Status::Ok);
        let crit_only = Thresholds { warn: None, crit: "10:".parse().ok() };
        assert_eq!(crit_only.evaluate(5.0), Status::Critical);
        assert!(Thresholds::parse(Some("x"), None).is_err());
    }
}
