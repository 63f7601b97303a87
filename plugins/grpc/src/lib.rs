//! The built-in `grpc` check plugin of Vitals.
//!
//! It asks a gRPC server about its health with the standard health checking protocol
//! (`grpc.health.v1.Health/Check`): one unary call over HTTP/2, spoken here over the
//! host's `tcp` interface (the host's `http` is HTTP/1.1 only), in cleartext (h2c with
//! prior knowledge) or over TLS with HTTP/2 agreed by ALPN. The answer's serving status
//! decides: SERVING is ok, anything else critical; the call's time can carry thresholds.

mod config;
mod grpc;
mod h2;
mod hpack;
mod session;

use std::time::{Duration, Instant};

use vitals_sdk::session::{Link, Peer};
use vitals_sdk::tcp::Connection;
use vitals_sdk::{
    Check, CheckRequest, CheckResult, ConfigProblem, Deadline, Description, Metric, NetError, PluginConfig, Reason,
    Status, Thresholds, TlsInfo, critical, description, first_line, format_duration, format_ms, metric, net_failure,
    ok, register_check, sanitize, unknown, us_to_ms, warning,
};

use crate::config::{Config, authority};
use crate::grpc::code;
use crate::session::{Failure, Response, Session};

/// How long a quoted peer text (a banner, a grpc-message, debug data) gets in a summary.
const MAX_SHOWN: usize = 120;

/// The `grpc` check.
pub struct Grpc;

impl Check for Grpc {
    fn describe() -> Description {
        description(
            "grpc",
            env!("CARGO_PKG_VERSION"),
            "Calls grpc.health.v1.Health/Check, the standard gRPC health checking protocol, on the server at the \
             target host:port over HTTP/2: in cleartext (h2c with prior knowledge) or, with tls, over TLS with \
             HTTP/2 agreed by ALPN. The service's serving status decides: SERVING is ok; NOT_SERVING, UNKNOWN, \
             a service the server does not know, a server without the health service, refused credentials and \
             every other gRPC error are critical. warn_time and crit_time apply to the call's time. Reports \
             time_connect, time_tls, time_rpc (from sending the request to the end of the response) and \
             time_total in ms, and serving_status (0 UNKNOWN, 1 SERVING, 2 NOT_SERVING, 3 SERVICE_UNKNOWN).",
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
        let Peer { connection, host, port, link } = match Peer::open(&request, &deadline) {
            Ok(peer) => peer,
            Err(result) => return result,
        };
        let mut exchange = Exchange::new(&config, link);
        let outcome = converse(&config, &connection, &authority(&host, port), &deadline, &mut exchange);
        drop(connection);
        exchange.link.elapsed = deadline.elapsed();
        let result = match outcome {
            Ok(response) => judge(&config, &mut exchange, &response),
            Err(result) => result,
        };
        let details = details(&config, &exchange);
        result.with_metrics(metrics(&config, &exchange)).with_details(details)
    }
}

register_check!(Grpc);

/// What happened in one check, for judging it and for its metrics.
#[derive(Debug)]
struct Exchange {
    /// The start of every summary after the connect: `gRPC health of "svc" at host:port`.
    head: String,
    /// The target, the address connected to and the phase times.
    link: Link,
    /// What the TLS handshake established, when the host says.
    tls_info: Option<TlsInfo>,
    /// From sending the request to the end of the response.
    rpc: Option<Duration>,
    /// The serving status in the response, when one was decoded.
    serving_status: Option<u64>,
    /// The response's fields, for the details.
    response: Option<Response>,
    /// Bytes received from the server.
    received: usize,
}

impl Exchange {
    fn new(config: &Config, link: Link) -> Exchange {
        let over = if config.tls { " over TLS" } else { "" };
        Exchange {
            head: format!("gRPC health of \"{}\" at {}{over}", sanitize(&config.service, MAX_SHOWN), link.target),
            link,
            tls_info: None,
            rpc: None,
            serving_status: None,
            response: None,
            received: 0,
        }
    }
}

/// TLS when asked, then the call; a failure comes back as the result to return.
fn converse(
    config: &Config,
    connection: &Connection,
    authority: &str,
    deadline: &Deadline,
    exchange: &mut Exchange,
) -> Result<Response, CheckResult> {
    if config.tls {
        let alpn = ["h2".to_string()];
        let server_name = config.server_name.as_deref();
        let us = connection.upgrade_tls_alpn(server_name, config.tls_verify, &alpn, deadline.remaining_ms()).map_err(
            |err| net_failure(&format!("TLS handshake with {}", exchange.link.target), &without_context(err)),
        )?;
        exchange.link.tls_us = Some(us);
        exchange.tls_info = connection.tls_info();
        // The test kit's connections carry no TLS facts; the host always has them.
        if let Some(info) = &exchange.tls_info
            && info.alpn.as_deref() != Some("h2")
        {
            let chose = match &info.alpn {
                Some(other) => format!("it chose \"{}\"", clean(other, MAX_SHOWN)),
                None => "it chose no application protocol".to_string(),
            };
            return Err(critical(
                format!("{}: the server did not agree to HTTP/2 ({chose}, h2 was offered)", exchange.head),
                Reason::Protocol,
            ));
        }
    }
    let block = grpc::header_block(config.tls, authority, &config.metadata_fields());
    let request = h2::request(&block, &grpc::request_message(&config.service));
    let mut session = Session::new(connection, *deadline);
    let started = Instant::now();
    let outcome = session.call(&request);
    exchange.received = session.received();
    match outcome {
        Ok(response) => {
            exchange.rpc = Some(started.elapsed());
            Ok(response)
        }
        Err(failure) => Err(broken_off(config, exchange, &failure, session.start())),
    }
}

/// A host TLS error without its own `TLS handshake with … failed: `, which the summary
/// says already.
fn without_context(err: NetError) -> NetError {
    match err {
        NetError::Tls(message) => NetError::Tls(match message.split_once(" failed: ") {
            Some((head, why)) if head.starts_with("TLS handshake") => why.to_string(),
            _ => message,
        }),
        other => other,
    }
}

/// Peer bytes for a summary: the first line, cleaned, cut to [`MAX_SHOWN`] characters.
fn quote(bytes: &[u8]) -> String {
    first_line(bytes, MAX_SHOWN).trim_end().to_string()
}

/// Peer text for a summary, cleaned and cut to `max` characters.
fn clean(text: &str, max: usize) -> String {
    sanitize(text, max).trim_end().to_string()
}

/// The result of a call that did not come to an end; `start` is what the server sent first.
fn broken_off(config: &Config, exchange: &Exchange, failure: &Failure, start: &[u8]) -> CheckResult {
    let head = &exchange.head;
    let protocol = |text: String| critical(format!("{head}: {text}"), Reason::Protocol);
    match failure {
        Failure::Send(err) => net_failure(&format!("{head}: sending the request"), err),
        Failure::Receive(err, phase) => {
            let summary = format!("{head}: {} (waiting for {})", err.message(), phase.awaited());
            match err {
                NetError::Denied(_) | NetError::Invalid(_) => unknown(summary, err.reason()),
                _ => critical(summary, err.reason()),
            }
        }
        Failure::NotHttp2 => not_http2(config, exchange, start),
        Failure::Closed(session::Phase::Settings) if !start.is_empty() => not_http2(config, exchange, start),
        Failure::Closed(phase) if exchange.received == 0 => {
            protocol(format!("the server closed the connection without answering (waiting for {})", phase.awaited()))
        }
        Failure::Closed(phase) => protocol(format!(
            "the server closed the connection after {} (waiting for {})",
            vitals_sdk::format_bytes(exchange.received as u64),
            phase.awaited()
        )),
        Failure::GoAway(code, debug) => {
            let debug = quote(debug);
            let debug = if debug.is_empty() { String::new() } else { format!(": \"{debug}\"") };
            protocol(format!("the server sent GOAWAY {}{debug}", h2::error_name(*code)))
        }
        Failure::Reset(code) => {
            protocol(format!("the server reset the call with RST_STREAM {}", h2::error_name(*code)))
        }
        Failure::Hpack(why) => protocol(format!("the server's headers do not decode: {why}")),
        Failure::Protocol(text) => protocol(text.clone()),
    }
}

/// A peer whose first bytes are not an HTTP/2 SETTINGS frame.
fn not_http2(config: &Config, exchange: &Exchange, start: &[u8]) -> CheckResult {
    let head = &exchange.head;
    // A TLS record (alert 0x15 or handshake 0x16, version 3.x) in answer to cleartext.
    if !config.tls && matches!(start, [0x15 | 0x16, 0x03, ..]) {
        return critical(
            format!("{head}: the server answered with TLS, not cleartext HTTP/2 (set tls = true)"),
            Reason::Protocol,
        );
    }
    let quoted = quote(start);
    let sent = if quoted.is_empty() {
        format!("{} that are not an HTTP/2 SETTINGS frame", vitals_sdk::format_bytes(start.len() as u64))
    } else {
        format!("\"{quoted}\"")
    };
    critical(format!("{head}: the server does not speak HTTP/2: it sent {sent}"), Reason::Protocol)
}

/// The result of a call that came to an end.
fn judge(config: &Config, exchange: &mut Exchange, response: &Response) -> CheckResult {
    exchange.response = Some(response.clone());
    let head = exchange.head.clone();
    let fields = &response.fields;
    let message = fields.grpc_message.as_deref().map(grpc::percent_decode).map(|m| clean(&m, MAX_SHOWN));
    let said = message.as_deref().filter(|m| !m.is_empty()).map(|m| format!(": \"{m}\"")).unwrap_or_default();
    let protocol = |text: String| critical(format!("{head}: {text}"), Reason::Protocol);
    match fields.status.as_deref() {
        Some("200") => {}
        Some(other) => {
            return critical(
                format!("{head}: HTTP status {}, expected 200{said}", clean(other, 10)),
                Reason::HttpStatus,
            );
        }
        None => return protocol("the response has no :status".to_string()),
    }
    if let Some(kind) = &fields.content_type
        && !kind.starts_with("application/grpc")
    {
        return protocol(format!("the answer is not gRPC (content-type \"{}\")", clean(kind, MAX_SHOWN)));
    }
    let Some(status) = fields.grpc_status.as_deref() else {
        return protocol("the call ended without a grpc-status".to_string());
    };
    let Ok(status) = status.trim().parse::<u32>() else {
        return protocol(format!("the grpc-status \"{}\" is not a number", clean(status, 20)));
    };
    let service = sanitize(&config.service, MAX_SHOWN);
    if status != code::OK {
        let name = grpc::code_name(status);
        let (summary, reason) = match status {
            code::NOT_FOUND => {
                (format!("service \"{service}\" is unknown to the server ({name}{said})"), Reason::Assertion)
            }
            code::UNIMPLEMENTED => {
                (format!("the server does not implement grpc.health.v1 ({name}{said})"), Reason::Protocol)
            }
            code::UNAUTHENTICATED => (format!("authentication failed{said} ({name})"), Reason::Assertion),
            code::PERMISSION_DENIED => (format!("permission denied{said} ({name})"), Reason::Assertion),
            _ => (format!("the call failed with {name} ({status}){said}"), Reason::Assertion),
        };
        return critical(format!("{head}: {summary}"), reason);
    }
    let serving = match grpc::serving_status(&response.body) {
        Ok(serving) => serving,
        Err(why) => return protocol(why),
    };
    exchange.serving_status = Some(serving);
    let rpc_ms = exchange.rpc.map(rpc_ms).unwrap_or(0.0);
    match (serving, grpc::serving_name(serving)) {
        (grpc::SERVING, _) => {
            let headline = format!("{head}: SERVING in {}", format_ms(rpc_ms));
            let shown = |d: Option<Duration>| d.map(format_duration).unwrap_or_default();
            match config.time_thresholds().evaluate(rpc_ms) {
                Status::Critical => critical(
                    format!("{headline}: slower than crit_time {}", shown(config.crit_time)),
                    Reason::Assertion,
                ),
                Status::Warning => {
                    warning(format!("{headline}: slower than warn_time {}", shown(config.warn_time)), Reason::Assertion)
                }
                _ => ok(headline),
            }
        }
        (grpc::SERVICE_UNKNOWN, Some(name)) => {
            critical(format!("{head}: service \"{service}\" is unknown to the server ({name})"), Reason::Assertion)
        }
        (_, Some(name)) => critical(format!("{head}: {name}, expected SERVING"), Reason::Assertion),
        (other, None) => protocol(format!("serving status {other}, which grpc.health.v1 does not define")),
    }
}

/// The call's time in milliseconds, to the microsecond.
fn rpc_ms(rpc: Duration) -> f64 {
    us_to_ms(u64::try_from(rpc.as_micros()).unwrap_or(u64::MAX))
}

/// Connect, DNS, TLS, call and total times, and the serving status.
fn metrics(config: &Config, exchange: &Exchange) -> Vec<Metric> {
    let mut metrics = exchange.link.phase_metrics(Thresholds::default());
    if let Some(rpc) = exchange.rpc {
        let thresholds = config.time_thresholds();
        metrics
            .push(metric("time_rpc", rpc_ms(rpc), "ms").warn_opt(thresholds.warn).crit_opt(thresholds.crit).min(0.0));
    }
    metrics.push(exchange.link.time_total());
    if let Some(status) = exchange.serving_status {
        metrics.push(metric("serving_status", status as f64, "").min(0.0).max(3.0));
    }
    metrics
}

/// The remote address, the TLS facts, what the response said and how much arrived.
fn details(config: &Config, exchange: &Exchange) -> String {
    let mut lines = vec![format!("remote address: {}", exchange.link.remote)];
    if let Some(info) = &exchange.tls_info {
        let alpn = info.alpn.as_deref().map(|a| clean(a, 20)).unwrap_or_else(|| "none".to_string());
        let verified = if config.tls_verify { "verified" } else { "not verified (tls_verify = false)" };
        lines.push(format!("TLS: {} {}, ALPN {alpn}, certificate {verified}", info.version, info.cipher));
    }
    if let Some(response) = &exchange.response {
        let fields = &response.fields;
        let shown = |v: &Option<String>| v.as_deref().map(|v| clean(v, MAX_SHOWN)).unwrap_or_else(|| "-".into());
        lines.push(format!(":status {}, content-type {}", shown(&fields.status), shown(&fields.content_type)));
        let kind = if response.trailers_only { " (trailers-only response)" } else { "" };
        lines.push(format!("grpc-status {}{kind}", shown(&fields.grpc_status)));
        let message = fields.grpc_message.as_deref().map(|m| clean(&grpc::percent_decode(m), 300));
        if let Some(message) = message.filter(|m| !m.is_empty()) {
            lines.push(format!("grpc-message: {message}"));
        }
    }
    lines.push(format!("received: {}", vitals_sdk::format_bytes(exchange.received as u64)));
    lines.join("\n")
}

#[cfg(test)]
mod tests;
