//! The built-in `tcp` check plugin of Vitals.
//!
//! It connects to `host:port` through the host (which enforces the check's grants),
//! optionally starts TLS, optionally sends a few bytes, and optionally waits for an
//! expected text such as a banner (`SSH-`, `220`). The connect time can carry warning
//! and critical thresholds.

mod config;

use vitals_sdk::session::{Link, Peer};
use vitals_sdk::tcp::Connection;
use vitals_sdk::{
    Check, CheckRequest, CheckResult, ConfigProblem, Deadline, Description, Metric, NetError, PluginConfig, Reason,
    Status, critical, description, first_line, format_bytes, format_duration, format_ms, metric, net_failure, ok,
    register_check, sanitize, shown_duration, us_to_ms, warning,
};

use crate::config::Config;

/// How long a quoted banner may get in a summary.
const MAX_SHOWN: usize = 80;

/// The `tcp` check.
pub struct Tcp;

impl Check for Tcp {
    fn describe() -> Description {
        description(
            "tcp",
            env!("CARGO_PKG_VERSION"),
            "Opens a TCP connection to the target host:port, optionally upgrades it to TLS \
             at once (implicit TLS), optionally sends a text, and optionally waits until the \
             server has sent an expected text such as a banner. The connect time is checked \
             against warning and critical thresholds and reported with the DNS, TLS and \
             total times and the number of bytes received.",
            Config::keys(),
        )
    }

    fn validate(config: &str) -> Vec<ConfigProblem> {
        vitals_sdk::validate_config::<Config>(config)
    }

    fn run(request: CheckRequest) -> CheckResult {
        let deadline = Deadline::from_ms(request.deadline_ms);
        let config = match Config::parse(&request.config) {
            Ok(config) => config,
            Err(error) => return error.into(),
        };
        let Peer { connection, link, .. } = match Peer::open(&request, &deadline) {
            Ok(peer) => peer,
            Err(result) => return result,
        };
        let mut exchange = Exchange { link, received: Vec::new(), wait: None };
        let outcome = converse(&config, &connection, &deadline, &mut exchange);
        drop(connection);
        exchange.link.elapsed = deadline.elapsed();
        match outcome {
            Ok(()) => judge(&config, &exchange),
            Err((context, err)) => net_failure(&context, &err).with_metrics(metrics(&config, &exchange)),
        }
    }
}

register_check!(Tcp);

/// How waiting for `expect` ended.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Wait {
    /// The expected text arrived.
    Found,
    /// The peer closed the connection first.
    Closed,
    /// `max_bytes` arrived without it.
    Full,
    /// The check's time ran out.
    TimedOut,
}

/// What happened on a connection, for judging it.
#[derive(Debug)]
struct Exchange {
    /// The target, the address connected to and the phase times.
    link: Link,
    /// Everything read while waiting for `expect`.
    received: Vec<u8>,
    /// How waiting for `expect` ended; none without `expect`.
    wait: Option<Wait>,
}

/// TLS, send and receive on an open connection; a host error comes back with what was
/// being attempted.
fn converse(
    config: &Config,
    connection: &Connection,
    deadline: &Deadline,
    exchange: &mut Exchange,
) -> Result<(), (String, NetError)> {
    let target = exchange.link.target.clone();
    if config.tls {
        let us = connection
            .upgrade_tls(None, config.tls_verify, deadline.remaining_ms())
            .map_err(|err| (format!("TLS handshake with {target}"), err))?;
        exchange.link.tls_us = Some(us);
    }
    if let Some(data) = config.send.as_deref().filter(|data| !data.is_empty()) {
        connection.send(data, deadline.remaining_ms()).map_err(|err| (format!("send to {target}"), err))?;
    }
    let Some(expect) = &config.expect else {
        return Ok(());
    };
    let limit = config.max_bytes as usize;
    let wait = loop {
        if contains(&exchange.received, expect.as_bytes()) {
            break Wait::Found;
        }
        if exchange.received.len() >= limit {
            break Wait::Full;
        }
        if deadline.expired() {
            break Wait::TimedOut;
        }
        let room = u32::try_from(limit - exchange.received.len()).unwrap_or(u32::MAX);
        match connection.receive(room, deadline.remaining_ms()) {
            Ok(chunk) if chunk.is_empty() => break Wait::Closed,
            Ok(chunk) => exchange.received.extend_from_slice(&chunk),
            Err(NetError::Timeout(_)) => break Wait::TimedOut,
            Err(err) => return Err((format!("receive from {target}"), err)),
        }
    };
    exchange.wait = Some(wait);
    Ok(())
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|window| window == needle)
}

/// The result of a connection that went through without host errors.
fn judge(config: &Config, exchange: &Exchange) -> CheckResult {
    let target = &exchange.link.target;
    let connect_ms = us_to_ms(exchange.link.timings.connect_time_us());
    let mut headline = if exchange.link.remote.is_empty() || exchange.link.remote == *target {
        format!("connected to {target} in {}", format_ms(connect_ms))
    } else {
        format!("connected to {target} ({}) in {}", exchange.link.remote, format_ms(connect_ms))
    };
    if let Some(tls_us) = exchange.link.tls_us {
        headline.push_str(&format!(", TLS in {}", format_ms(us_to_ms(tls_us))));
    }
    let banner = first_line(&exchange.received, MAX_SHOWN);
    let expect = config.expect.as_deref().map(|e| sanitize(e, MAX_SHOWN));
    let expect = expect.unwrap_or_default();
    let waited = format_duration(exchange.link.elapsed);
    let result = match exchange.wait {
        Some(Wait::TimedOut) if exchange.received.is_empty() => {
            critical(format!("no data from {target} within {waited} (expected \"{expect}\")"), Reason::Timeout)
        }
        Some(Wait::TimedOut) => critical(
            format!("\"{expect}\" not received from {target} within {waited}, got \"{banner}\""),
            Reason::Assertion,
        ),
        Some(Wait::Closed) if exchange.received.is_empty() => critical(
            format!("{target} closed the connection without sending anything (expected \"{expect}\")"),
            Reason::Assertion,
        ),
        Some(Wait::Closed) => critical(
            format!("\"{expect}\" not received from {target} before it closed the connection, got \"{banner}\""),
            Reason::Assertion,
        ),
        Some(Wait::Full) => critical(
            format!(
                "\"{expect}\" not found in the first {} from {target}, got \"{banner}\"",
                format_bytes(exchange.received.len() as u64)
            ),
            Reason::Assertion,
        ),
        Some(Wait::Found) | None => {
            if exchange.wait == Some(Wait::Found) && !banner.is_empty() {
                headline.push_str(&format!(", banner \"{banner}\""));
            }
            match config.time_thresholds().evaluate(connect_ms) {
                Status::Critical => critical(
                    format!("{headline}: slower than crit_time {}", shown_duration(config.crit_time)),
                    Reason::Assertion,
                ),
                Status::Warning => warning(
                    format!("{headline}: slower than warn_time {}", shown_duration(config.warn_time)),
                    Reason::Assertion,
                ),
                _ => ok(headline),
            }
        }
    };
    result.with_metrics(metrics(config, exchange)).with_details(format!("remote address: {}", exchange.link.remote))
}

/// Connect, DNS, TLS and total times, and the bytes received.
fn metrics(config: &Config, exchange: &Exchange) -> Vec<Metric> {
    let mut metrics = exchange.link.phase_metrics(config.time_thresholds());
    metrics.push(exchange.link.time_total());
    metrics.push(metric("bytes_received", exchange.received.len() as f64, "B").min(0.0));
    metrics
}

#[cfg(test)]
mod tests;
