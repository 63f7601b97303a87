//! Instants as people read them, in UTC, for summaries and payloads: a certificate's
//! expiry date, a notifier's RFC 3339 timestamp. One calendar (Howard Hinnant's
//! `civil_from_days`, proleptic Gregorian) for every plugin.

/// `2027-03-01` (UTC) for milliseconds since the epoch.
///
/// ```
/// assert_eq!(vitals_sdk::calendar::date(951_782_400_000), "2000-02-29");
/// ```
pub fn date(ms: i64) -> String {
    let c = civil(ms);
    format!("{:04}-{:02}-{:02}", c.year, c.month, c.day)
}

/// `2027-03-01 14:05 UTC` for milliseconds since the epoch.
///
/// ```
/// assert_eq!(vitals_sdk::calendar::date_time(1_714_564_800_123), "2024-05-01 12:00 UTC");
/// ```
pub fn date_time(ms: i64) -> String {
    let c = civil(ms);
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", c.year, c.month, c.day, c.hour, c.minute)
}

/// An RFC 3339 UTC time with milliseconds (`2024-05-01T12:00:00.123Z`) for milliseconds
/// since the epoch.
///
/// ```
/// assert_eq!(vitals_sdk::calendar::rfc3339(-1), "1969-12-31T23:59:59.999Z");
/// ```
pub fn rfc3339(ms: i64) -> String {
    let c = civil(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second, c.millisecond
    )
}

/// The calendar fields of an instant, UTC.
struct Civil {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    millisecond: i64,
}

fn civil(ms: i64) -> Civil {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    Civil {
        year: yoe + era * 400 + i64::from(month <= 2),
        month,
        day,
        hour: of_day / 3600,
        minute: of_day % 3600 / 60,
        second: of_day % 60,
        millisecond: ms.rem_euclid(1000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_on_both_sides_of_the_epoch_and_leap_days() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_714_564_800_123), "2024-05-01T12:00:00.123Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(date(4_102_444_800_000), "2100-01-01");
        assert_eq!(date_time(-86_400_000 * 365), "1969-01-01 00:00 UTC");
    }
}
