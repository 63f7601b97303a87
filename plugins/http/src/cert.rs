//! The certificate of an https response, from what the host says of the final exchange's
//! TLS handshake (`TlsInfo`): its whole days to expiry against `cert_warn_days` and
//! `cert_crit_days`, the negotiated version, and a line for the details. Pure: the time
//! is given, so unit tests build any certificate.

use vitals_sdk::calendar::{date, date_time};
use vitals_sdk::{Certificate, Metric, Status, TlsInfo, metric, sanitize};

use crate::config::Config;

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;
/// How long a distinguished name or the host's problem may get in the details.
const SHOWN: usize = 160;

/// The server's own certificate (the chain's first).
fn leaf(info: &TlsInfo) -> Option<&Certificate> {
    info.chain.first()
}

/// Whole days until `leaf` expires, as check_ssl_cert counts them: 2.9 days left is 2,
/// expired 1.5 days ago is -1.
pub fn days_left(leaf: &Certificate, now_ms: i64) -> i64 {
    (leaf.not_after_ms - now_ms) / DAY_MS
}

/// The status the certificate's expiry gives under `cert_warn_days` / `cert_crit_days`,
/// with what to say of it; none when it is fine, nothing is configured or there is no
/// certificate.
pub fn verdict(config: &Config, info: Option<&TlsInfo>, now_ms: i64) -> Option<(Status, String)> {
    let leaf = leaf(info?)?;
    let days = days_left(leaf, now_ms);
    let status = config.cert_thresholds().evaluate(days as f64);
    let (key, limit) = match status {
        Status::Critical => ("cert_crit_days", config.cert_crit_days?),
        Status::Warning => ("cert_warn_days", config.cert_warn_days?),
        _ => return None,
    };
    let left = leaf.not_after_ms - now_ms;
    let text = if left <= 0 {
        format!("certificate expired on {}, {} ago", date(leaf.not_after_ms), span(-left))
    } else {
        format!("certificate expires in {}, on {}, sooner than {key} {limit}", span(left), date(leaf.not_after_ms))
    };
    Some((status, text))
}

/// `days_to_expiry` (with the thresholds as `N:` ranges) and `tls_version`.
pub fn metrics(config: &Config, info: &TlsInfo, now_ms: i64) -> Vec<Metric> {
    let mut metrics = Vec::new();
    if let Some(leaf) = leaf(info) {
        let thresholds = config.cert_thresholds();
        metrics.push(
            metric("days_to_expiry", days_left(leaf, now_ms) as f64, "")
                .warn_opt(thresholds.warn)
                .crit_opt(thresholds.crit),
        );
    }
    if let Some(version) = version_number(&info.version) {
        metrics.push(metric("tls_version", version, ""));
    }
    metrics
}

/// `TLSv1.3` as 1.3 (the `tls` check's metric); none for a name that is not one.
fn version_number(name: &str) -> Option<f64> {
    let number = name.trim().strip_prefix("TLSv")?;
    number.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// What the details say of the handshake: the version and the certificate, and why it was
/// not accepted when it was not (only possible with tls_verify = false).
pub fn details(info: &TlsInfo, now_ms: i64) -> Vec<String> {
    let mut lines = Vec::new();
    let certificate = match leaf(info) {
        Some(leaf) => {
            let until = if leaf.not_after_ms <= now_ms {
                format!("expired on {}, {} ago", date_time(leaf.not_after_ms), span(now_ms - leaf.not_after_ms))
            } else {
                format!("valid until {}, {} days", date_time(leaf.not_after_ms), days_left(leaf, now_ms))
            };
            format!(
                "certificate {} (issuer {}), {until}",
                sanitize(&leaf.subject, SHOWN),
                sanitize(&leaf.issuer, SHOWN)
            )
        }
        None => "no certificate".to_string(),
    };
    lines.push(format!("TLS: {} {}, {certificate}", sanitize(&info.version, 20), sanitize(&info.cipher, 60)));
    if let Some(problem) = &info.problem {
        lines.push(format!("certificate not accepted (tls_verify = false): {}", sanitize(problem, SHOWN)));
    }
    lines
}

/// A length of time as a person says it: `89 days`, `1 day`, `5 hours`, `12 minutes`.
fn span(ms: i64) -> String {
    let ms = ms.max(0);
    let plural = |n: i64, unit: &str| if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") };
    match (ms / DAY_MS, ms / 3_600_000, ms / 60_000) {
        (0, 0, 0) => "less than a minute".to_string(),
        (0, 0, minutes) => plural(minutes, "minute"),
        (0, hours, _) => plural(hours, "hour"),
        (days, _, _) => plural(days, "day"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_spans_read_like_a_person_wrote_them() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date_time(1_798_761_600_000 + 14 * 3_600_000 + 5 * 60_000), "2027-01-01 14:05 UTC");
        assert_eq!(date(951_782_400_000), "2000-02-29");
        assert_eq!(span(3 * DAY_MS + 3_600_000), "3 days");
        assert_eq!(span(DAY_MS), "1 day");
        assert_eq!(span(5 * 3_600_000 + 1), "5 hours");
        assert_eq!(span(60_000), "1 minute");
        assert_eq!(span(10), "less than a minute");
    }

    #[test]
    fn versions_as_numbers() {
        assert_eq!(version_number("TLSv1.3"), Some(1.3));
        assert_eq!(version_number("TLSv1.2"), Some(1.2));
        assert_eq!(version_number("SSLv3"), None);
    }
}
