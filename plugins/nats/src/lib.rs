//! The built-in `nats` check plugin of Vitals.
//!
//! It speaks the NATS client protocol to `host:port` through the host's `tcp`: it reads
//! the server's `INFO`, optionally upgrades to TLS, sends `CONNECT` (verbose, with user and
//! password or a token when configured) and `PING`, which must answer `PONG`, and
//! optionally sends a message to an inbox of its own and times its return.

mod config;
mod proto;

use std::time::{Duration, Instant};

use vitals_sdk::session::{Link, Peer};
use vitals_sdk::tcp::{self, Stream};
use vitals_sdk::{
    Check, CheckRequest, CheckResult, ConfigProblem, CrossChecked, Deadline, Description, Metric, PluginConfig, Reason,
    Status, Thresholds, critical, description, duration_ms, first_line, format_ms, metric, net_failure, ok,
    register_check, sanitize, shown_duration, warning,
};

use crate::config::Config;
use crate::proto::{Credentials, Op, ServerInfo, classify, connect_line};

/// How much a server may send in all: INFO (large in a big cluster) and a few short lines.
const MAX_RECEIVED: usize = 1024 * 1024;

/// Longest line read (INFO lists a cluster's URLs).
const MAX_LINE: usize = 64 * 1024;

/// How long a quoted line may get in a summary.
const MAX_QUOTED: usize = 200;

/// What the round trip publishes.
const PAYLOAD: &[u8] = b"vitals round trip";

/// The `nats` check.
pub struct Nats;

impl Check for Nats {
    fn describe() -> Description {
        description(
            "nats",
            env!("CARGO_PKG_VERSION"),
            "Connects to a NATS server (host:port), reads its INFO (version, JetStream, whether \
             it requires authentication or TLS), optionally upgrades to TLS, sends CONNECT \
             (verbose, with user and password or a token when configured) and PING, which must \
             answer PONG; refused credentials are critical. With round_trip it also subscribes \
             to an inbox of its own, publishes a message to it and waits for it to come back. \
             warn_time/crit_time apply to the PING time; require_jetstream makes a server \
             without JetStream critical. Metrics: time_connect, time_ping, time_round_trip \
             (with round_trip) and time_total, all in ms.",
            Config::keys(),
        )
    }

    fn validate(config: &str) -> Vec<ConfigProblem> {
        vitals_sdk::validate_checked::<Config>(config)
    }

    fn run(request: CheckRequest) -> CheckResult {
        let deadline = Deadline::from_ms(request.deadline_ms);
        let config = match Config::load(&request.config) {
            Ok(config) => config,
            Err(error) => return error.into(),
        };
        let Peer { connection, link, .. } = match Peer::open(&request, &deadline) {
            Ok(peer) => peer,
            Err(result) => return result,
        };
        let mut exchange = Exchange { link, info: None, ping: None, round_trip: None };
        let outcome = converse(&config, &connection, deadline, &mut exchange);
        drop(connection);
        exchange.link.elapsed = deadline.elapsed();
        match outcome {
            Ok(()) => judge(&config, &exchange),
            Err(failure) => failure.with_metrics(metrics(&config, &exchange)),
        }
    }
}

register_check!(Nats);

/// What happened on the connection, for judging it.
#[derive(Debug)]
struct Exchange {
    /// The target, the address connected to and the phase times.
    link: Link,
    /// What the server's INFO said, once it has.
    info: Option<ServerInfo>,
    /// How long PING took to answer, once it has.
    ping: Option<Duration>,
    /// How long a published message took to come back, when round_trip is on.
    round_trip: Option<Duration>,
}

/// The protocol on an open connection; a failure comes back as its result (without metrics).
fn converse(
    config: &Config,
    connection: &tcp::Connection,
    deadline: Deadline,
    exchange: &mut Exchange,
) -> Result<(), CheckResult> {
    let target = exchange.link.target.clone();
    let mut stream = Stream::new(connection, deadline, MAX_RECEIVED);
    let line = stream.read_line(MAX_LINE).map_err(|err| net_failure(&format!("INFO from {target}"), &err))?;
    let Some(json) = strip_op(&line, "INFO") else {
        return Err(critical(
            format!("{target} is not a NATS server: expected INFO, got \"{}\"", quote(&line)),
            Reason::Protocol,
        ));
    };
    let info = ServerInfo::parse(json).map_err(|why| {
        critical(format!("the INFO of {target} is not valid: {why}: \"{}\"", quote(&line)), Reason::Protocol)
    })?;
    let tls_required = info.tls_required;
    let inbox = info.inbox();
    exchange.info = Some(info);
    if tls_required && !config.tls {
        return Err(critical(format!("{target} requires TLS (tls_required in its INFO); set tls = true"), Reason::Tls));
    }
    if config.tls {
        let us = connection
            .upgrade_tls(None, config.tls_verify, deadline.remaining_ms())
            .map_err(|err| net_failure(&format!("TLS handshake with {target}"), &err))?;
        exchange.link.tls_us = Some(us);
    }

    let credentials = match (&config.user, &config.password, &config.token) {
        (Some(user), Some(password), _) => Credentials::User(user, password),
        (_, _, Some(token)) => Credentials::Token(token),
        _ => Credentials::None,
    };
    let mut session = Session { stream, target: &target, credentials };
    session.send(&connect_line(credentials, config.tls), "CONNECT")?;
    session.until("CONNECT", "+OK", |op| op == &Op::Ok)?;

    let started = Instant::now();
    session.send(b"PING\r\n", "PING")?;
    session.until("PING", "PONG", |op| op == &Op::Pong)?;
    exchange.ping = Some(started.elapsed());

    if config.round_trip {
        session.send(format!("SUB {inbox} 1\r\n").as_bytes(), "SUB")?;
        session.until("SUB", "+OK", |op| op == &Op::Ok)?;
        let started = Instant::now();
        let mut publish = format!("PUB {inbox} {}\r\n", PAYLOAD.len()).into_bytes();
        publish.extend_from_slice(PAYLOAD);
        publish.extend_from_slice(b"\r\n");
        session.send(&publish, "PUB")?;
        let size = session.until("PUB", "the MSG published", |op| matches!(op, Op::Msg { .. }))?;
        let Op::Msg { subject, sid, size } = size else {
            return Err(critical(format!("PUB to {target}: no MSG came back"), Reason::Protocol));
        };
        let payload = session.payload(size, "PUB")?;
        if subject != inbox || sid != "1" || payload != PAYLOAD {
            return Err(critical(
                format!(
                    "PUB to {target}: a different message came back: MSG {} {} \"{}\"",
                    proto::clean(&subject),
                    proto::clean(&sid),
                    quote(&payload)
                ),
                Reason::Protocol,
            ));
        }
        exchange.round_trip = Some(started.elapsed());
        // Tidy up; the connection closes next anyway, so a failure here changes nothing.
        let _ = session.stream.send(b"UNSUB 1\r\n");
    }
    Ok(())
}

/// The connection after INFO, with what failures are told with.
struct Session<'a> {
    stream: Stream<'a>,
    target: &'a str,
    credentials: Credentials<'a>,
}

impl Session<'_> {
    /// Sends `data` (the command `name`).
    fn send(&mut self, data: &[u8], name: &str) -> Result<(), CheckResult> {
        self.stream.send(data).map_err(|err| net_failure(&format!("{name} to {}", self.target), &err))
    }

    /// Reads operations until one `wanted` says is the answer to `name` (`expected`, for a
    /// failure), acknowledging the server's `PING`s and skipping `+OK`s and new `INFO`s on
    /// the way.
    fn until(&mut self, name: &str, expected: &str, wanted: impl Fn(&Op) -> bool) -> Result<Op, CheckResult> {
        let target = self.target;
        loop {
            let line =
                self.stream.read_line(MAX_LINE).map_err(|err| net_failure(&format!("{name} to {target}"), &err))?;
            let op = classify(line);
            if wanted(&op) {
                return Ok(op);
            }
            match op {
                Op::Ping => self.send(b"PONG\r\n", name)?,
                Op::Ok | Op::Info => {}
                Op::Err(message) => return Err(self.refused(name, &message)),
                Op::Pong | Op::Msg { .. } | Op::Other(_) => {
                    let line = match &op {
                        Op::Other(line) => quote(line),
                        Op::Pong => "PONG".to_string(),
                        _ => "MSG".to_string(),
                    };
                    return Err(critical(
                        format!("{name} to {target}: expected {expected}, got \"{line}\""),
                        Reason::Protocol,
                    ));
                }
            }
        }
    }

    /// The `size` bytes of a MSG's payload and its CRLF.
    fn payload(&mut self, size: usize, name: &str) -> Result<Vec<u8>, CheckResult> {
        let target = self.target;
        if size > MAX_RECEIVED {
            return Err(critical(format!("{name} to {target}: a MSG of {size} bytes came back"), Reason::Protocol));
        }
        let mut data =
            self.stream.read_exact(size + 2).map_err(|err| net_failure(&format!("{name} to {target}"), &err))?;
        if !data.ends_with(b"\r\n") {
            return Err(critical(
                format!("{name} to {target}: a MSG payload does not end with CRLF"),
                Reason::Protocol,
            ));
        }
        data.truncate(size);
        Ok(data)
    }

    /// The result of `-ERR message` in answer to `name`.
    fn refused(&self, name: &str, message: &str) -> CheckResult {
        let target = self.target;
        let shown = proto::clean(message);
        let lower = message.to_ascii_lowercase();
        let auth = ["authorization violation", "authentication expired", "authentication revoked"];
        if auth.iter().any(|refusal| lower.contains(refusal)) {
            let who = match self.credentials {
                Credentials::User(user, _) => format!(" for user \"{}\"", sanitize(user, 64).trim()),
                Credentials::Token(_) => " with the token".to_string(),
                Credentials::None => " (no user or token configured)".to_string(),
            };
            return critical(format!("authentication failed{who}: {shown}"), Reason::Assertion);
        }
        if lower.contains("permissions violation") {
            return critical(format!("{name} to {target} was not permitted: {shown}"), Reason::Assertion);
        }
        critical(format!("{name} to {target} failed: server error {shown}"), Reason::Protocol)
    }
}

/// The rest of `line` after the operation `op` and a space, when it starts with them.
fn strip_op<'a>(line: &'a [u8], op: &str) -> Option<&'a [u8]> {
    let head = line.get(..op.len() + 1)?;
    (head[..op.len()].eq_ignore_ascii_case(op.as_bytes()) && (head[op.len()] == b' ' || head[op.len()] == b'\t'))
        .then(|| &line[op.len() + 1..])
}

/// The first line of what the peer sent, made safe and short for a summary.
fn quote(data: &[u8]) -> String {
    // `first_line` trims before it turns control characters into spaces: trim again.
    first_line(data, MAX_QUOTED).trim().to_string()
}

/// The result of a server that answered PING (and the round trip, when asked).
fn judge(config: &Config, exchange: &Exchange) -> CheckResult {
    let info = exchange.info.clone().unwrap_or_default();
    let version = if info.version.is_empty() { "(no version)" } else { info.version.as_str() };
    let mut headline = format!("NATS {version} at {}", exchange.link.target);
    if info.jetstream {
        headline.push_str(" (JetStream)");
    }
    let ping_ms = exchange.ping.map_or(0.0, duration_ms);
    headline.push_str(&format!(", PONG in {}", format_ms(ping_ms)));
    if let Some(round_trip) = exchange.round_trip {
        headline.push_str(&format!(", message round trip in {}", format_ms(duration_ms(round_trip))));
    }
    let mut findings: Vec<(Status, String)> = Vec::new();
    if config.require_jetstream && !info.jetstream {
        findings.push((Status::Critical, "JetStream is not enabled (require_jetstream)".to_string()));
    }
    match config.time_thresholds().evaluate(ping_ms) {
        Status::Critical => findings
            .push((Status::Critical, format!("PING slower than crit_time {}", shown_duration(config.crit_time)))),
        Status::Warning => {
            findings.push((Status::Warning, format!("PING slower than warn_time {}", shown_duration(config.warn_time))))
        }
        _ => {}
    }
    let mut lines = vec![format!("remote address: {}", exchange.link.remote)];
    lines.extend(info.details());
    let result = if findings.is_empty() {
        ok(headline)
    } else {
        let texts: Vec<&str> = findings.iter().map(|(_, text)| text.as_str()).collect();
        let summary = format!("{headline}: {}", texts.join("; "));
        if findings.iter().any(|(status, _)| *status == Status::Critical) {
            critical(summary, Reason::Assertion)
        } else {
            warning(summary, Reason::Assertion)
        }
    };
    result.with_metrics(metrics(config, exchange)).with_details(lines.join("\n"))
}

/// The times measured.
fn metrics(config: &Config, exchange: &Exchange) -> Vec<Metric> {
    let mut metrics = exchange.link.phase_metrics(Thresholds::default());
    if let Some(ping) = exchange.ping {
        let thresholds = config.time_thresholds();
        metrics.push(
            metric("time_ping", duration_ms(ping), "ms").warn_opt(thresholds.warn).crit_opt(thresholds.crit).min(0.0),
        );
    }
    if let Some(round_trip) = exchange.round_trip {
        metrics.push(metric("time_round_trip", duration_ms(round_trip), "ms").min(0.0));
    }
    metrics.push(exchange.link.time_total());
    metrics
}

#[cfg(test)]
mod tests;
