//! How a completed handshake is judged: the facts the host established (`TlsInfo`) against
//! the config, at a given time. Pure: no host calls, so unit tests give it any chain.

use std::time::Duration;
pub use vitals_sdk::calendar::{date, date_time};

use vitals_sdk::{
    Certificate, CheckResult, Metric, Reason, Status, Timings, TlsInfo, critical, format_duration, format_ms, metric,
    ok, sanitize, us_to_ms, warning,
};

use crate::config::{Config, TlsVersion};

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;
/// How long a name or distinguished name may get in a summary.
const SHOWN: usize = 120;
/// How many of a certificate's names a summary lists.
const NAMES_SHOWN: usize = 5;

/// What happened on the connection besides the TLS facts.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The target as configured.
    pub target: String,
    /// The name the certificate was checked against (SNI).
    pub server_name: String,
    /// The address connected to.
    pub remote: String,
    /// Resolution and connect times.
    pub timings: Timings,
    /// The TLS handshake time, once there was one.
    pub tls_us: Option<u64>,
    /// Time since the run started.
    pub elapsed: Duration,
}

/// One thing found wrong.
struct Finding {
    status: Status,
    reason: Reason,
    text: String,
}

impl Finding {
    fn critical(reason: Reason, text: String) -> Finding {
        Finding { status: Status::Critical, reason, text }
    }
}

/// The result of a handshake that completed, judged at `now_ms` (ms since the epoch).
pub fn judge(config: &Config, exchange: &Exchange, info: &TlsInfo, now_ms: i64) -> CheckResult {
    let name = sanitize(&exchange.server_name, SHOWN);
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    let leaf = info.chain.first();
    match leaf {
        None => {
            let text = info.problem.as_deref().map(|p| sanitize(p, 300));
            let text = text.unwrap_or_else(|| format!("the server at {} sent no certificate", exchange.target));
            findings.push(Finding::critical(Reason::Tls, text));
        }
        Some(leaf) => certificate_findings(config, info, leaf, &name, now_ms, &mut findings, &mut notes),
    }
    let version = TlsVersion::from_name(&info.version);
    if let Some(min) = config.min_version
        && version.is_none_or(|version| version < min)
    {
        findings.push(Finding::critical(
            Reason::Assertion,
            format!("the server negotiated {}, older than min_version {min}", sanitize(&info.version, 20)),
        ));
    }
    if let Some(tls_us) = exchange.tls_us {
        let tls_ms = us_to_ms(tls_us);
        let took = format!("the TLS handshake took {}", format_ms(tls_ms));
        match config.time_thresholds().evaluate(tls_ms) {
            Status::Critical => findings.push(Finding::critical(
                Reason::Assertion,
                format!("{took}, slower than crit_time {}", shown_duration(config.crit_time)),
            )),
            Status::Warning => findings.push(Finding {
                status: Status::Warning,
                reason: Reason::Assertion,
                text: format!("{took}, slower than warn_time {}", shown_duration(config.warn_time)),
            }),
            _ => {}
        }
    }

    // The worst first; among equals, in the order found (the certificate's own problems first).
    findings.sort_by_key(|f| std::cmp::Reverse(severity(f.status)));
    let result = match findings.first() {
        None => {
            let mut headline = format!("{} {}", sanitize(&info.version, 20), cipher(&info.cipher));
            if let Some(leaf) = leaf {
                let until = leaf.not_after_ms - now_ms;
                headline.push_str(&format!(
                    ", certificate for {name}{} valid until {}, {}",
                    common_name(leaf).map(|cn| format!(" ({cn})")).unwrap_or_default(),
                    date(leaf.not_after_ms),
                    span(until)
                ));
            }
            for note in &notes {
                headline.push_str(&format!(", {note}"));
            }
            ok(headline)
        }
        Some(worst) => {
            let text: Vec<&str> = findings.iter().map(|f| f.text.as_str()).collect();
            let summary = text.join("; ");
            if worst.status == Status::Critical {
                critical(summary, worst.reason)
            } else {
                warning(summary, worst.reason)
            }
        }
    };
    result.with_metrics(metrics(config, exchange, Some(info), now_ms)).with_details(details(exchange, info))
}

/// What is wrong with the server's own certificate and its chain; `notes` gets what is
/// wrong but not judged (a chain or name not verified by the config's choice).
fn certificate_findings(
    config: &Config,
    info: &TlsInfo,
    leaf: &Certificate,
    name: &str,
    now_ms: i64,
    findings: &mut Vec<Finding>,
    notes: &mut Vec<String>,
) {
    let expired = now_ms >= leaf.not_after_ms;
    let early = now_ms < leaf.not_before_ms;
    if expired {
        findings.push(Finding::critical(
            Reason::Tls,
            format!(
                "certificate for {name} expired on {}, {} ago",
                date(leaf.not_after_ms),
                span(now_ms - leaf.not_after_ms)
            ),
        ));
    } else if early {
        findings.push(Finding::critical(
            Reason::Tls,
            format!(
                "certificate for {name} is not valid before {} (in {})",
                date(leaf.not_before_ms),
                span(leaf.not_before_ms - now_ms)
            ),
        ));
    }
    // The host's chain verdict includes the leaf's dates, said better above; otherwise
    // it is the host's words (untrusted issuer, self-signed, a CA as server certificate,
    // an expired intermediate).
    if !info.chain_valid && !expired && !early {
        let problem = info.problem.as_deref().map(|p| sanitize(p, 300));
        let problem = problem.unwrap_or_else(|| format!("the certificate chain for {name} is not trusted"));
        if config.verify_chain {
            findings.push(Finding::critical(Reason::Tls, problem));
        } else {
            notes.push("chain not verified (verify_chain = false)".to_string());
        }
    }
    if !info.name_valid {
        if config.verify_name {
            findings.push(Finding::critical(Reason::Tls, wrong_name(leaf, name)));
        } else {
            notes.push(format!("not valid for {name} (verify_name = false)"));
        }
    }
    if let Some(pin) = &config.fingerprint
        && !pin.matches(&leaf.sha256)
    {
        findings.push(Finding::critical(
            Reason::Assertion,
            format!(
                "certificate for {name} has SHA-256 fingerprint {}, not the pinned {}",
                short_fingerprint(&leaf.sha256),
                short_fingerprint(pin.hex())
            ),
        ));
    }
    if expired || early {
        return;
    }
    let left = leaf.not_after_ms - now_ms;
    let days = left / DAY_MS;
    let expires = format!("certificate for {name} expires in {} ({})", span(left), date(leaf.not_after_ms));
    if days < i64::from(config.crit_days) {
        findings.push(Finding::critical(
            Reason::Assertion,
            format!("{expires}, sooner than crit_days {}", config.crit_days),
        ));
    } else if days < i64::from(config.warn_days) {
        findings.push(Finding {
            status: Status::Warning,
            reason: Reason::Assertion,
            text: format!("{expires}, sooner than warn_days {}", config.warn_days),
        });
    }
}

/// `certificate is for a.example, b.example, not c.example`.
fn wrong_name(leaf: &Certificate, name: &str) -> String {
    if leaf.names.is_empty() {
        let cn = common_name(leaf).map(|cn| format!(" ({cn})")).unwrap_or_default();
        return format!("certificate{cn} names no host in subjectAltName, so it is not valid for {name}");
    }
    let shown: Vec<String> = leaf.names.iter().take(NAMES_SHOWN).map(|n| sanitize(n, SHOWN)).collect();
    let more = match leaf.names.len().saturating_sub(NAMES_SHOWN) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    format!("certificate is for {}{more}, not {name}", shown.join(", "))
}

fn severity(status: Status) -> u8 {
    match status {
        Status::Critical => 3,
        Status::Unknown => 2,
        Status::Warning => 1,
        Status::Ok => 0,
    }
}

/// The `CN=…` part of the subject, or none when it has no common name.
fn common_name(certificate: &Certificate) -> Option<String> {
    certificate
        .subject
        .split(", ")
        // By `get`, not by slicing: the subject is UTF-8 and byte 3 may fall inside a
        // character (`O=Ärztekammer`).
        .find(|part| part.len() > 3 && part.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("CN=")))
        .map(|cn| sanitize(cn, SHOWN))
}

/// The cipher suite as IANA names it: rustls calls the TLS 1.3 suites `TLS13_AES_…` where
/// IANA (and OpenSSL, and check_ssl_cert) say `TLS_AES_…`.
fn cipher(name: &str) -> String {
    let name = sanitize(name, 60);
    match name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => name,
    }
}

/// `3f:2a:9b:1c:04:5d:e6:77…`: the first 8 bytes of a hex fingerprint.
fn short_fingerprint(hex: &str) -> String {
    let digits: Vec<char> = hex.chars().filter(char::is_ascii_hexdigit).take(16).collect();
    let pairs: Vec<String> = digits.chunks(2).map(|pair| pair.iter().collect()).collect();
    format!("{}…", pairs.join(":").to_ascii_lowercase())
}

/// A threshold duration for a summary.
fn shown_duration(d: Option<Duration>) -> String {
    d.map(format_duration).unwrap_or_default()
}

/// A length of time as a person says it: `89 days`, `1 day`, `5 hours`, `12 minutes`.
pub fn span(ms: i64) -> String {
    let ms = ms.max(0);
    let plural = |n: i64, unit: &str| if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") };
    match (ms / DAY_MS, ms / 3_600_000, ms / 60_000) {
        (0, 0, 0) => "less than a minute".to_string(),
        (0, 0, minutes) => plural(minutes, "minute"),
        (0, hours, _) => plural(hours, "hour"),
        (days, _, _) => plural(days, "day"),
    }
}

/// The TCP connect time, or the whole connect call's time when the host gave no phase.
fn connect_us(timings: &Timings) -> u64 {
    timings.connect_us.unwrap_or(timings.total_us)
}

/// The times of the exchange, and with TLS facts the certificate's expiry, the version
/// and the chain's length.
pub fn metrics(config: &Config, exchange: &Exchange, info: Option<&TlsInfo>, now_ms: i64) -> Vec<Metric> {
    let mut metrics = vec![metric("time_connect", us_to_ms(connect_us(&exchange.timings)), "ms").min(0.0)];
    if let Some(us) = exchange.timings.dns_us {
        metrics.push(metric("time_dns", us_to_ms(us), "ms").min(0.0));
    }
    if let Some(us) = exchange.tls_us {
        let thresholds = config.time_thresholds();
        metrics
            .push(metric("time_tls", us_to_ms(us), "ms").warn_opt(thresholds.warn).crit_opt(thresholds.crit).min(0.0));
    }
    let total_us = u64::try_from(exchange.elapsed.as_micros()).unwrap_or(u64::MAX);
    metrics.push(metric("time_total", us_to_ms(total_us), "ms").min(0.0));
    let Some(info) = info else {
        return metrics;
    };
    if let Some(leaf) = info.chain.first() {
        let left_ms = leaf.not_after_ms - now_ms;
        // Whole days, as check_ssl_cert counts them: 2.9 days left is 2; expired 1.5 days ago is -1.
        metrics.push(
            metric("days_to_expiry", (left_ms / DAY_MS) as f64, "")
                .warn(format!("{}:", config.warn_days))
                .crit(format!("{}:", config.crit_days)),
        );
        metrics.push(
            metric("time_to_expiry", (left_ms / 1000) as f64, "s")
                .warn(format!("{}:", i64::from(config.warn_days) * 86_400))
                .crit(format!("{}:", i64::from(config.crit_days) * 86_400)),
        );
    }
    if let Some(version) = TlsVersion::from_name(&info.version) {
        metrics.push(metric("tls_version", version.number(), ""));
    }
    metrics.push(metric("chain_length", info.chain.len() as f64, "").min(0.0));
    metrics
}

/// The handshake and the chain, one line per certificate.
fn details(exchange: &Exchange, info: &TlsInfo) -> String {
    let alpn = info.alpn.as_deref().map(|a| format!(", ALPN {}", sanitize(a, 40))).unwrap_or_default();
    let mut lines = vec![
        format!(
            "remote address {}, server name {}, {} {}{alpn}",
            exchange.remote,
            sanitize(&info.server_name, SHOWN),
            sanitize(&info.version, 20),
            cipher(&info.cipher)
        ),
        format!(
            "chain {}, name {}{}",
            if info.chain_valid { "trusted" } else { "not trusted" },
            if info.name_valid { "valid" } else { "not valid" },
            info.problem.as_deref().map(|p| format!(": {}", sanitize(p, 300))).unwrap_or_default()
        ),
    ];
    for (i, cert) in info.chain.iter().enumerate() {
        let names = if cert.names.is_empty() {
            String::new()
        } else {
            let shown: Vec<String> = cert.names.iter().take(20).map(|n| sanitize(n, SHOWN)).collect();
            let more =
                if cert.names.len() > 20 { format!(" and {} more", cert.names.len() - 20) } else { String::new() };
            format!("; names {}{more}", shown.join(", "))
        };
        lines.push(format!(
            "certificate {}{}: subject {}; issuer {}; valid {} to {}{names}; key {}; serial {}; sha256 {}",
            i + 1,
            if cert.is_ca { " (CA)" } else { "" },
            sanitize(&cert.subject, 300),
            sanitize(&cert.issuer, 300),
            date_time(cert.not_before_ms),
            date_time(cert.not_after_ms),
            sanitize(&cert.key, 40),
            sanitize(&cert.serial, 80),
            sanitize(&cert.sha256, 80)
        ));
    }
    lines.join("\n")
}
