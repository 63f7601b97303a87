//! The built-in `http` check plugin of Vitals.
//!
//! It sends one HTTP or HTTPS request through the host's client (which enforces the
//! check's grants on every redirect), then judges the response: the status code against
//! `expect_status`, the body against `body_contains`, `body_regex` and the `json` keys,
//! headers against `header_equals` and `header_regex`, an https server's certificate
//! against `cert_warn_days` and `cert_crit_days`, and the total time against `warn_time`
//! and `crit_time`.

mod assertions;
mod cert;
mod config;
mod request;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use vitals_sdk::http::{self, Response};
use vitals_sdk::{
    Check, CheckRequest, CheckResult, ConfigProblem, CrossChecked, Description, Metric, NetError, PluginConfig, Reason,
    Status, Thresholds, TlsInfo, critical, description, first_line, format_bytes, format_ms, metric, net_failure, ok,
    reason_phrase, register_check, sanitize, shown_duration, us_to_ms, warning,
};

use crate::config::Config;

/// How many response headers the details list.
const DETAIL_HEADERS: usize = 20;
/// How long a header value or a quoted text may get in the details.
const MAX_SHOWN: usize = 80;

/// The `http` check.
pub struct Http;

impl Check for Http {
    fn describe() -> Description {
        description(
            "http",
            env!("CARGO_PKG_VERSION"),
            "Sends one HTTP or HTTPS request to the target URL (GET, or POST with a body; \
             optionally with Basic or bearer authentication), following redirects to granted \
             hosts, and checks the response: its status code against a list of accepted codes, \
             optionally its body (substring, regular expression, or JSON values at JSON \
             Pointers: equal to a text, present, or within a range), header values (exact or \
             regular expression), the https server's certificate expiry against cert_warn_days \
             and cert_crit_days, and the total time against warning and critical thresholds. \
             Metrics: time_total, time_dns, time_connect, time_tls and time_first_byte (ms), \
             status_code, body_size (B) and redirects; for https also days_to_expiry (whole \
             days left on the server's certificate) and tls_version (1.2 or 1.3).",
            Config::keys(),
        )
    }

    fn validate(config: &str) -> Vec<ConfigProblem> {
        vitals_sdk::validate_checked::<Config>(config)
    }

    fn run(request: CheckRequest) -> CheckResult {
        let config = match Config::load(&request.config) {
            Ok(config) => config,
            Err(error) => return error.into(),
        };
        let req = request::build(&config, &request.target, request.deadline_ms);
        // The TLS facts cost the host a second look at the chain: asked for https only, or
        // when a certificate threshold is set (an http URL may redirect to https).
        let https = request.target.trim_start().get(..8).is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"));
        let sent = if https || config.cert_thresholds() != Thresholds::default() {
            http::send_tls(&req)
        } else {
            http::send(&req).map(|response| (response, None))
        };
        match sent {
            Ok((response, tls)) => judge(&config, &response, tls.as_ref(), now_ms()),
            Err(err) => failure(&format!("{} {}", req.method, request.target), &err),
        }
    }
}

/// The result of a request that got no response. A rejected certificate reads as the
/// host words it (`certificate for api.example expired on 2026-11-28, 3 days ago`),
/// without the `TLS handshake with … failed` around it, which the details keep.
fn failure(context: &str, err: &NetError) -> CheckResult {
    if let NetError::Tls(message) = err
        && let Some((handshake, problem)) = message.split_once(" failed: ")
        && handshake.starts_with("TLS handshake with ")
        && problem.starts_with("certificate ")
    {
        return net_failure(context, &NetError::Tls(problem.to_string())).with_details(message.clone());
    }
    net_failure(context, err)
}

register_check!(Http);

/// Now, in milliseconds since the epoch (the host's wall clock).
fn now_ms() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// The result for a response that arrived, with the TLS facts of its final exchange
/// (none for `http://`), judged at `now_ms` (ms since the epoch).
///
/// The first of these decides: a status outside `expect_status` (critical, http-status);
/// a failed assertion (critical, assertion; the summary names the first, the details
/// list them all); the certificate under `cert_crit_days`, then the time over
/// `crit_time` (critical, assertion); the certificate under `cert_warn_days`, then the
/// time over `warn_time` (warning, assertion).
fn judge(config: &Config, response: &Response, tls: Option<&TlsInfo>, now_ms: i64) -> CheckResult {
    let total_ms = us_to_ms(response.timings.total_us);
    let status_line = match reason_phrase(response.status) {
        Some(phrase) => format!("{} {phrase}", response.status),
        None => response.status.to_string(),
    };
    let headline = format!("{status_line} in {}, {}", format_ms(total_ms), format_bytes(response.body_size));
    let failures = assertions::failures(config, response);
    let certificate = cert::verdict(config, tls, now_ms);
    let time = config.time_thresholds().evaluate(total_ms);
    let slower =
        |key: &str, limit: Option<Duration>| format!("{headline}: slower than {key} {}", shown_duration(limit));

    let result = if !config.expect_status.contains(response.status) {
        critical(
            format!("{status_line} (expected {}) in {}", config.expect_status, format_ms(total_ms)),
            Reason::HttpStatus,
        )
    } else if let Some(first) = failures.lines.first() {
        let more = match failures.lines.len() - 1 {
            0 => String::new(),
            1 => ", and 1 more failed assertion".to_string(),
            n => format!(", and {n} more failed assertions"),
        };
        let note = if failures.on_body && response.truncated {
            format!("; only the first {} of the body were checked (max_body)", format_bytes(response.body.len() as u64))
        } else {
            String::new()
        };
        critical(format!("{first}{more}{note} ({headline})"), Reason::Assertion)
    } else if let Some((Status::Critical, text)) = &certificate {
        critical(format!("{text} ({headline})"), Reason::Assertion)
    } else if time == Status::Critical {
        critical(slower("crit_time", config.crit_time), Reason::Assertion)
    } else if let Some((_, text)) = &certificate {
        warning(format!("{text} ({headline})"), Reason::Assertion)
    } else if time == Status::Warning {
        warning(slower("warn_time", config.warn_time), Reason::Assertion)
    } else {
        ok(headline)
    };
    let mut metrics = metrics(config, response);
    if let Some(info) = tls {
        metrics.extend(cert::metrics(config, info, now_ms));
    }
    result.with_metrics(metrics).with_details(details(config, response, &failures.lines, tls, now_ms))
}

/// The metrics of a response: timings in ms, status code, body size and redirects.
fn metrics(config: &Config, response: &Response) -> Vec<Metric> {
    let thresholds = config.time_thresholds();
    let timings = &response.timings;
    let mut metrics = vec![
        metric("time_total", us_to_ms(timings.total_us), "ms")
            .warn_opt(thresholds.warn)
            .crit_opt(thresholds.crit)
            .min(0.0),
    ];
    for (name, us) in [
        ("time_dns", timings.dns_us),
        ("time_connect", timings.connect_us),
        ("time_tls", timings.tls_us),
        ("time_first_byte", timings.first_byte_us),
    ] {
        if let Some(us) = us {
            metrics.push(metric(name, us_to_ms(us), "ms").min(0.0));
        }
    }
    metrics.push(metric("status_code", f64::from(response.status), ""));
    metrics.push(metric("body_size", response.body_size as f64, "B").min(0.0));
    metrics.push(metric("redirects", f64::from(response.redirects), "").min(0.0));
    metrics
}

/// Several lines for a person: every failed assertion, where the answer came from, the
/// TLS handshake, and the response headers.
fn details(config: &Config, response: &Response, failures: &[String], tls: Option<&TlsInfo>, now_ms: i64) -> String {
    let mut lines = Vec::new();
    if !failures.is_empty() {
        lines.push("failed assertions:".to_string());
        lines.extend(failures.iter().map(|failure| format!("  {failure}")));
    }
    lines.extend([
        format!("final URL: {}", response.final_url),
        format!("remote address: {}", response.remote_addr),
        format!("redirects: {}", response.redirects),
    ]);
    match tls {
        Some(info) => lines.extend(cert::details(info, now_ms)),
        None if config.cert_thresholds() != Thresholds::default() => {
            lines.push("no TLS on the final exchange: cert_warn_days and cert_crit_days were not judged".to_string())
        }
        None => {}
    }
    if response.truncated {
        lines.push(format!(
            "body: {} ({} kept)",
            format_bytes(response.body_size),
            format_bytes(response.body.len() as u64)
        ));
    } else {
        lines.push(format!("body: {}", format_bytes(response.body_size)));
    }
    if !response.body.is_empty() {
        lines.push(format!("body starts: {}", first_line(&response.body, MAX_SHOWN)));
    }
    lines.push("response headers:".to_string());
    for (name, value) in response.headers.iter().take(DETAIL_HEADERS) {
        lines.push(format!("  {name}: {}", sanitize(value, MAX_SHOWN)));
    }
    if response.headers.len() > DETAIL_HEADERS {
        lines.push(format!("  … {} more", response.headers.len() - DETAIL_HEADERS));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests;
