//! `[[maintenance]]`: planned downtime, cut out of availability and listed in reports.
//!
//! ```toml
//! [[maintenance]]
//! name = "database upgrade"
//! start = "2026-11-29T22:00:00Z"   # once (RFC 3339) ...
//! duration = "2h"
//! checks = ["db"]
//!
//! [[maintenance]]
//! name = "weekly patching"
//! cron = "0 3 * * SUN"             # ... or every time a cron expression fires
//! timezone = "Europe/Paris"
//! duration = "30m"
//! tags = ["linux"]                 # no checks and no tags: every check
//! ```

use std::time::Duration;

use super::Problem;
use super::model::RawMaintenance;
use crate::plan::{Maintenance, Recurrence, Schedule};

/// Resolves one table; `index` numbers it for the default name. Check and tag names are
/// checked against the config by the caller.
/// `text` is the file's, to point inside a cron expression.
pub fn resolve(
    raw: &RawMaintenance,
    index: usize,
    table_span: std::ops::Range<usize>,
    text: &str,
) -> Result<Maintenance, Problem> {
    let duration = super::duration(raw.duration.get_ref()).map_err(|e| {
        (
            raw.duration.span(),
            format!("invalid duration \"{}\": {e}", raw.duration.get_ref()),
            "write a number and a unit: \"30m\", \"2h\", \"1d\"".into(),
        )
    })?;
    if duration.is_zero() || duration > crate::plan::MAX_DURATION {
        return Err((raw.duration.span(), "a maintenance lasts more than 0s and at most 366d".into(), String::new()));
    }
    let recurrence = match (&raw.start, &raw.cron) {
        (Some(start), None) => {
            let at = chrono::DateTime::parse_from_rfc3339(start.get_ref().trim()).map_err(|e| {
                (
                    start.span(),
                    format!("invalid start \"{}\": {e}", start.get_ref()),
                    "write an RFC 3339 time with its offset, such as \"2026-11-29T22:00:00Z\"".into(),
                )
            })?;
            Recurrence::Once(at.timestamp_millis())
        }
        (None, Some(cron)) => {
            let tz = raw.timezone.as_ref().map_or("UTC", |t| t.get_ref().as_str());
            let schedule = Schedule::cron(cron.get_ref(), tz, Duration::ZERO).map_err(|e| {
                let (span, message, help) = super::schedule::cron_problem(&e, cron, raw.timezone.as_ref(), text);
                (span, format!("invalid maintenance schedule: {message}"), help)
            })?;
            Recurrence::Cron(Box::new(schedule))
        }
        (Some(_), Some(cron)) => {
            return Err((
                cron.span(),
                "a maintenance has either start or cron, not both".into(),
                "use start for a one-off window, cron for a recurring one".into(),
            ));
        }
        (None, None) => {
            return Err((
                table_span,
                "a [[maintenance]] needs start or cron".into(),
                "add start = \"2026-11-29T22:00:00Z\" (once) or cron = \"0 3 * * SUN\" (recurring)".into(),
            ));
        }
    };
    let strings = |v: &Option<Vec<super::model::SpannedStr>>| -> Vec<String> {
        v.iter().flatten().map(|s| s.get_ref().clone()).collect()
    };
    Ok(Maintenance {
        name: raw.name.as_ref().map_or_else(|| format!("maintenance {}", index + 1), |n| n.get_ref().clone()),
        recurrence,
        duration,
        checks: strings(&raw.checks),
        tags: strings(&raw.tags),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Window;

    const H: i64 = 3_600_000;

    fn cron(expr: &str, tz: &str, minutes: u64) -> Maintenance {
        Maintenance {
            name: "m".into(),
            recurrence: Recurrence::Cron(Box::new(Schedule::cron(expr, tz, Duration::ZERO).expect("valid cron"))),
            duration: Duration::from_secs(minutes * 60),
            checks: Vec::new(),
            tags: Vec::new(),
        }
    }

    #[test]
    fn a_daily_cron_gives_one_window_a_day_including_one_that_started_before_the_span() {
        let m = cron("0 3 * * *", "UTC", 120);
        // From 04:00 on day 0 to 04:00 on day 2: the 03:00-05:00 windows of days 0, 1 and 2.
        let span = Window { from_ms: 4 * H, to_ms: 52 * H };
        let got = m.occurrences(span);
        assert_eq!(
            got,
            vec![
                Window { from_ms: 3 * H, to_ms: 5 * H },
                Window { from_ms: 27 * H, to_ms: 29 * H },
                Window { from_ms: 51 * H, to_ms: 53 * H },
            ]
        );
    }

    #[test]
    fn a_one_off_window_is_listed_only_when_it_overlaps() {
        let m = Maintenance {
            name: "m".into(),
            recurrence: Recurrence::Once(10 * H),
            duration: Duration::from_secs(3600),
            checks: vec!["db".into()],
            tags: vec!["linux".into()],
        };
        assert_eq!(m.occurrences(Window { from_ms: 0, to_ms: 10 * H }), vec![]);
        assert_eq!(m.occurrences(Window { from_ms: 0, to_ms: 10 * H + 1 }).len(), 1);
        assert!(m.covers("db", &[]) && m.covers("web", &["linux".into()]) && !m.covers("web", &[]));
    }

    #[test]
    fn cron_in_a_time_zone_follows_its_local_time() {
        // 03:00 in Paris is 02:00 UTC in winter (2026-01-05 is a Monday).
        let m = cron("0 3 * * MON", "Europe/Paris", 30);
        let monday = chrono::DateTime::parse_from_rfc3339("2026-01-05T00:00:00Z").expect("valid").timestamp_millis();
        let got = m.occurrences(Window { from_ms: monday, to_ms: monday + 24 * H });
        assert_eq!(got, vec![Window { from_ms: monday + 2 * H, to_ms: monday + 2 * H + 30 * 60_000 }]);
    }
}
