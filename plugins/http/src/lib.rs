//! The built-in `http` check plugin of Vitals.
//!
//! It sends one HTTP request through the host's client (which enforces the check's
//! grants on every redirect), then judges the response: the status code against
//! `expect_status`, the body against `body_contains` and `body_regex`, headers against
//! `header_equals`, and the total time against `warn_time` and `crit_time`.

mod config;

use vitals_sdk::http::{self, Request, Response};
use vitals_sdk::{
    Check, CheckRequest, CheckResult, ConfigProblem, Description, Metric, PluginConfig, Reason, Status, critical,
    description, first_line, format_bytes, format_duration, format_ms, metric, net_failure, ok, reason_phrase,
    register_check, sanitize, us_to_ms, warning,
};

use crate::config::Config;

/// How many response headers the details list.
const DETAIL_HEADERS: usize = 20;
/// How long a header value or a quoted text may get in a summary or the details.
const MAX_SHOWN: usize = 80;

/// The `http` check.
pub struct Http;

impl Check for Http {
    fn describe() -> Description {
        description(
            "http",
            env!("CARGO_PKG_VERSION"),
            "Sends one HTTP or HTTPS request to the target URL, following redirects to \
             granted hosts, and checks the response: its status code against a list of \
             accepted codes, optionally its body (substring or regular expression) and \
             header values, and its total time against warning and critical thresholds. \
             Reports the phase timings, status code, body size and redirect count as \
             metrics.",
            Config::keys(),
        )
    }

    fn validate(config: &str) -> Vec<ConfigProblem> {
        vitals_sdk::validate_config::<Config>(config)
    }

    fn run(request: CheckRequest) -> CheckResult {
        let config = match Config::parse(&request.config) {
            Ok(config) => config,
            Err(error) => return error.into(),
        };
        let req = Request {
            method: config.method.clone(),
            url: request.target.clone(),
            headers: config.headers.iter().map(|(name, value)| (name.clone(), value.clone())).collect(),
            body: config.body.as_ref().map(|body| body.as_bytes().to_vec()),
            timeout_ms: Some(request.deadline_ms),
            max_redirects: config.max_redirects,
            tls_verify: config.tls_verify,
            max_body_bytes: config.max_body,
        };
        match http::send(&req) {
            Ok(response) => judge(&config, &response),
            Err(err) => net_failure(&format!("{} {}", config.method, request.target), &err),
        }
    }
}

register_check!(Http);

/// The result for a response that arrived.
fn judge(config: &Config, response: &Response) -> CheckResult {
    let total_ms = us_to_ms(response.timings.total_us);
    let status_line = match reason_phrase(response.status) {
        Some(phrase) => format!("{} {phrase}", response.status),
        None => response.status.to_string(),
    };
    let headline = format!("{status_line} in {}, {}", format_ms(total_ms), format_bytes(response.body_size));

    let result = if !config.expect_status.contains(response.status) {
        critical(
            format!("{status_line} (expected {}) in {}", config.expect_status, format_ms(total_ms)),
            Reason::HttpStatus,
        )
    } else if let Some(failures) = assertion_failures(config, response) {
        critical(format!("{failures} ({headline})"), Reason::Assertion)
    } else {
        match config.time_thresholds().evaluate(total_ms) {
            Status::Critical => {
                critical(format!("{headline}: slower than crit_time {}", shown(config.crit_time)), Reason::Assertion)
            }
            Status::Warning => {
                warning(format!("{headline}: slower than warn_time {}", shown(config.warn_time)), Reason::Assertion)
            }
            _ => ok(headline),
        }
    };
    result.with_metrics(metrics(config, response)).with_details(details(response))
}

/// A threshold duration for a summary.
fn shown(d: Option<std::time::Duration>) -> String {
    d.map(format_duration).unwrap_or_default()
}

/// The failed body and header assertions, joined with `; `, or none when all hold.
fn assertion_failures(config: &Config, response: &Response) -> Option<String> {
    let mut failures = Vec::new();
    let body = String::from_utf8_lossy(&response.body);
    let mut body_failed = false;
    if let Some(needle) = &config.body_contains
        && !body.contains(needle.as_str())
    {
        failures.push(format!("body does not contain \"{}\"", sanitize(needle, MAX_SHOWN)));
        body_failed = true;
    }
    if let Some(regex) = &config.body_regex
        && !regex.is_match(&body)
    {
        failures.push(format!("body does not match /{}/", sanitize(regex.as_str(), MAX_SHOWN)));
        body_failed = true;
    }
    if body_failed && response.truncated {
        failures.push(format!(
            "only the first {} of the body were checked (max_body)",
            format_bytes(response.body.len() as u64)
        ));
    }
    for (name, expected) in &config.header_equals {
        let wanted = name.to_ascii_lowercase();
        let values: Vec<&str> = response
            .headers
            .iter()
            .filter(|(header, _)| header.eq_ignore_ascii_case(&wanted))
            .map(|(_, value)| value.as_str())
            .collect();
        if values.is_empty() {
            failures.push(format!("header {wanted} is missing"));
        } else if !values.contains(&expected.as_str()) {
            failures.push(format!(
                "header {wanted} is \"{}\", expected \"{}\"",
                sanitize(values[0], MAX_SHOWN),
                sanitize(expected, MAX_SHOWN)
            ));
        }
    }
    (!failures.is_empty()).then(|| failures.join("; "))
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

/// Several lines for a person: where the answer came from, and its headers.
fn details(response: &Response) -> String {
    let mut lines = vec![
        format!("final URL: {}", response.final_url),
        format!("remote address: {}", response.remote_addr),
        format!("redirects: {}", response.redirects),
    ];
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
