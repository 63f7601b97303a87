//! `webhook`: the built-in notifier plugin. It POSTs every state change as a JSON object
//! to a URL, retrying failures with exponential backoff.

mod body;
mod config;
#[cfg(test)]
mod tests;

use std::time::Duration;

use vitals_sdk::http::{self, Request};
use vitals_sdk::{Description, NetError, Notifier, PluginConfig, StateChange};

use config::Config;

/// Response body bytes kept (only the status is used).
const MAX_BODY_BYTES: u32 = 4096;

struct Webhook;

impl Notifier for Webhook {
    fn describe() -> Description {
        vitals_sdk::description(
            "webhook",
            env!("CARGO_PKG_VERSION"),
            "Sends every state change of a check as a JSON object in an HTTP POST to `url` \
             ({\"check\", \"kind\", \"old_status\", \"new_status\", \"at\", \"summary\", \"target\", \
             \"report_link\"}). A 2xx answer is success; any other status or a network error is \
             retried `retries` times, waiting `backoff` before the first retry and twice as long \
             before each next one.",
            Config::keys(),
        )
    }

    fn notify(event: StateChange, config: String) -> Result<(), String> {
        let config = Config::parse(&config).map_err(|error| error.to_string())?;
        let body = body::json(&event);
        deliver(&config, &body, send, std::thread::sleep)
    }
}

vitals_sdk::register_notifier!(Webhook);

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq)]
enum Attempt {
    /// The receiver answered with this status.
    Status(u16),
    /// The request failed and another attempt may succeed.
    Failed(String),
    /// The request can never succeed (not granted, invalid): no retry.
    Fatal(String),
}

/// One POST through the host.
fn send(config: &Config, body: &[u8]) -> Attempt {
    let mut headers: Vec<(String, String)> = config.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
        headers.push(("Content-Type".to_string(), "application/json".to_string()));
    }
    let req = Request {
        method: "POST".to_string(),
        url: config.url.clone(),
        headers,
        body: Some(body.to_vec()),
        timeout_ms: Some(u32::try_from(config.timeout.as_millis()).unwrap_or(u32::MAX)),
        max_redirects: 0,
        tls_verify: true,
        max_body_bytes: MAX_BODY_BYTES,
    };
    match http::send(&req) {
        Ok(response) => Attempt::Status(response.status),
        Err(e @ (NetError::Denied(_) | NetError::Invalid(_))) => Attempt::Fatal(e.message().to_string()),
        Err(e) => Attempt::Failed(e.message().to_string()),
    }
}

/// Sends `body` until a 2xx answer, at most `retries + 1` times, sleeping `backoff`,
/// `2 × backoff`, … between attempts.
fn deliver(
    config: &Config,
    body: &[u8],
    mut send: impl FnMut(&Config, &[u8]) -> Attempt,
    mut sleep: impl FnMut(Duration),
) -> Result<(), String> {
    let attempts = config.retries.saturating_add(1);
    let mut wait = config.backoff;
    let mut last = Attempt::Failed(String::new());
    for attempt in 1..=attempts {
        if attempt > 1 {
            sleep(wait);
            wait = wait.saturating_mul(2);
        }
        last = send(config, body);
        match &last {
            Attempt::Status(s) if (200..300).contains(s) => return Ok(()),
            Attempt::Fatal(why) => return Err(format!("webhook {} failed: {why}", config.url)),
            Attempt::Status(s) => debug(&format!("attempt {attempt}: {} answered {s}", config.url)),
            Attempt::Failed(why) => debug(&format!("attempt {attempt}: {why}")),
        }
    }
    let tries = if attempts == 1 { "1 attempt".to_string() } else { format!("{attempts} attempts") };
    Err(match last {
        Attempt::Status(s) => format!("webhook {} answered {s} after {tries}", config.url),
        Attempt::Failed(why) | Attempt::Fatal(why) => format!("webhook {} failed after {tries}: {why}", config.url),
    })
}

/// A debug log line through the host (none in native unit tests, which have no host).
fn debug(message: &str) {
    if cfg!(target_arch = "wasm32") {
        vitals_sdk::log::debug(message);
    }
}
