//! The built-in `tls` check plugin of Vitals.
//!
//! It connects to `host:port` through the host, optionally speaks SMTP, IMAP, POP3 or
//! PostgreSQL up to STARTTLS, and completes a TLS handshake without letting the host
//! refuse the certificate, so that an expired or untrusted one is still described. Then it
//! judges what the host established (`TlsInfo`: the chain, whether it verified, the name):
//! days to expiry against `warn_days`/`crit_days`, the chain, the name, the protocol
//! version and an optional fingerprint pin.

mod config;
mod judge;
mod starttls;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use vitals_sdk::{
    Check, CheckRequest, CheckResult, ConfigProblem, Deadline, Description, NetError, PluginConfig, Reason, critical,
    description, net_failure, register_check, tcp, unknown,
};

use crate::config::{Config, parse_target};
use crate::judge::{Exchange, judge, metrics};

/// The `tls` check.
pub struct Tls;

impl Check for Tls {
    fn describe() -> Description {
        description(
            "tls",
            env!("CARGO_PKG_VERSION"),
            "Connects to the target host:port (or an https:// URL), optionally upgrades the \
             connection with STARTTLS (SMTP, IMAP, POP3 or PostgreSQL), completes a TLS \
             handshake and checks the server's certificate: critical when it has expired or is \
             not yet valid, when its chain does not lead to a trusted root (the system's, or the \
             check's `ca` file), when it is not valid for the server name, when the protocol is \
             older than min_version or the fingerprint is not the pinned one; warning or \
             critical when it expires in fewer than warn_days or crit_days days. Reports \
             days_to_expiry (days) and time_to_expiry (s) with those thresholds, tls_version \
             (1.2 or 1.3), chain_length, and time_connect, time_tls and time_total (ms); the \
             details list the chain, one certificate a line.",
            Config::keys(),
        )
    }

    fn validate(config: &str) -> Vec<ConfigProblem> {
        config::validate(config)
    }

    fn run(request: CheckRequest) -> CheckResult {
        let deadline = Deadline::from_ms(request.deadline_ms);
        let config = match Config::load(&request.config) {
            Ok(config) => config,
            Err(error) => return error.into(),
        };
        let target = request.target.trim();
        let (host, port) = match parse_target(target) {
            Ok(parsed) => parsed,
            Err(why) => return unknown(format!("invalid target {target:?}: {why}"), Reason::PluginError),
        };
        let (connection, timings) = match tcp::connect(&host, port, deadline.remaining_ms()) {
            Ok(connected) => connected,
            Err(err) => return net_failure(&format!("connect to {target}"), &err),
        };
        let mut exchange = Exchange {
            target: target.to_string(),
            server_name: config.server_name.clone().unwrap_or(host),
            remote: connection.remote_addr(),
            timings,
            tls_us: None,
            elapsed: Duration::ZERO,
        };
        let failed = |exchange: &mut Exchange, result: CheckResult| {
            exchange.elapsed = deadline.elapsed();
            result.with_metrics(metrics(&config, exchange, None, 0))
        };
        if let Some(protocol) = config.starttls
            && let Err(result) = starttls::negotiate(protocol, &connection, deadline, target, &config.ehlo)
        {
            return failed(&mut exchange, result);
        }
        // Never verify in the handshake: a rejected certificate would leave nothing to
        // describe. The host verifies the chain and the name for tls_info all the same.
        match connection.upgrade_tls(config.server_name.as_deref(), false, deadline.remaining_ms()) {
            Ok(us) => exchange.tls_us = Some(us),
            Err(err) => return failed(&mut exchange, handshake_failure(target, &err)),
        }
        let info = connection.tls_info();
        drop(connection);
        exchange.elapsed = deadline.elapsed();
        match info {
            Some(info) => judge(&config, &exchange, &info, now_ms()),
            None => failed(
                &mut exchange,
                unknown(
                    format!(
                        "the host completed the TLS handshake with {target} but did not describe it (no certificate \
                         facts), so nothing can be judged"
                    ),
                    Reason::PluginError,
                ),
            ),
        }
    }
}

register_check!(Tls);

/// A failed handshake; the host's TLS errors already say `TLS handshake with … failed`.
fn handshake_failure(target: &str, err: &NetError) -> CheckResult {
    match err {
        NetError::Tls(message) if message.starts_with("TLS handshake") => critical(message.clone(), Reason::Tls),
        _ => net_failure(&format!("TLS handshake with {target}"), err),
    }
}

/// Now, in milliseconds since the epoch (the host's wall clock).
fn now_ms() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
