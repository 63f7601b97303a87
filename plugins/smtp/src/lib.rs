//! The built-in `smtp` check plugin of Vitals.
//!
//! It speaks the first steps of SMTP (RFC 5321) over the host's `tcp` interface: reads the
//! 220 greeting, sends EHLO and reads the service extensions offered, optionally upgrades
//! with STARTTLS (RFC 3207) and sends EHLO again, and ends with QUIT. Implicit TLS (port
//! 465) is a TLS handshake right after connecting. No mail is sent.

mod config;
mod reply;

use std::time::{Duration, Instant};

use vitals_sdk::tcp::{self, Connection, Stream};
use vitals_sdk::{
    Check, CheckRequest, CheckResult, ConfigProblem, Deadline, Description, Metric, NetError, PluginConfig, Reason,
    Status, Timings, critical, description, format_duration, format_ms, metric, net_failure, ok, register_check,
    sanitize, unknown, us_to_ms, warning,
};

use crate::config::{Config, parse_target};
use crate::reply::{Ehlo, Reply, ReplyError, read_reply};

/// How long a quoted reply or banner may get in a summary.
const MAX_SHOWN: usize = 80;
/// How many SASL mechanisms a summary names.
const MAX_MECHANISMS: usize = 6;
/// How many bytes the server may send in one conversation (greeting and EHLO answers).
const MAX_RECEIVED: usize = 64 * 1024;
/// How long QUIT may wait for the server's 221, at most (it does not count in time_total).
const QUIT_WAIT_MS: u32 = 1_000;

/// The `smtp` check.
pub struct Smtp;

impl Check for Smtp {
    fn describe() -> Description {
        description(
            "smtp",
            env!("CARGO_PKG_VERSION"),
            "Connects to an SMTP server at the target host:port (25, 587, or 465 with tls), reads \
             its 220 greeting (critical on any other code, such as 554), optionally checks that \
             the greeting contains a text, sends EHLO and reads the service extensions offered \
             (STARTTLS, SIZE, AUTH mechanisms, 8BITMIME, PIPELINING...), optionally requires \
             STARTTLS or upgrades with it and sends EHLO again over TLS, then ends with QUIT; no \
             mail is sent. The whole conversation's time is checked against warning and \
             critical thresholds. Metrics: time_connect, time_tls (the TLS handshake), \
             time_banner (waiting for the greeting), time_ehlo (the first EHLO's answer) and \
             time_total, all in ms, and size_limit in B when the server states one.",
            Config::keys(),
        )
    }

    fn validate(config: &str) -> Vec<ConfigProblem> {
        match Config::load(config) {
            Ok(_) => Vec::new(),
            Err(error) => error.into_problems(),
        }
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
            Err(why) => {
                return unknown(format!("invalid target {target:?}: {why}"), Reason::PluginError);
            }
        };
        let (connection, timings) = match tcp::connect(&host, port, deadline.remaining_ms()) {
            Ok(connected) => connected,
            Err(err) => return net_failure(&format!("connect to {target}"), &err),
        };
        let mut exchange = Exchange::new(target, connection.remote_addr(), timings);
        let outcome = converse(&config, &connection, &deadline, &mut exchange);
        exchange.elapsed = deadline.elapsed();
        if exchange.between_commands {
            quit(&connection, &deadline);
        }
        drop(connection);
        let result = match outcome {
            Ok(()) => judge(&config, &exchange),
            Err(Stop::Net(context, err)) => net_failure(&context, &err),
            Err(Stop::Verdict(result)) => result,
        };
        result.with_metrics(metrics(&config, &exchange)).with_details(details(&exchange))
    }
}

register_check!(Smtp);

/// How the connection came to be encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encryption {
    /// Plain text all along.
    None,
    /// TLS right after connecting.
    Implicit,
    /// Upgraded with STARTTLS.
    StartTls,
}

/// What happened on a connection, for judging it and for the metrics.
#[derive(Debug)]
struct Exchange {
    /// The target as configured.
    target: String,
    /// The address connected to.
    remote: String,
    /// Resolution and connect times.
    timings: Timings,
    /// TLS handshake time, when TLS was used.
    tls_us: Option<u64>,
    /// How long the greeting took to arrive (after connect and any implicit TLS).
    banner_us: Option<u64>,
    /// How long the first EHLO took to be answered.
    ehlo_us: Option<u64>,
    /// The greeting.
    greeting: Option<Reply>,
    /// The answer to the first EHLO.
    ehlo: Option<Ehlo>,
    /// The answer to EHLO over TLS, after STARTTLS.
    ehlo_tls: Option<Ehlo>,
    /// Whether TLS is on, and how.
    encryption: Encryption,
    /// Whether the last reply was read whole and no command is pending: QUIT can be said.
    between_commands: bool,
    /// Time since the run started, up to the end of the conversation (before QUIT).
    elapsed: Duration,
}

impl Exchange {
    fn new(target: &str, remote: String, timings: Timings) -> Exchange {
        Exchange {
            target: target.to_string(),
            remote,
            timings,
            tls_us: None,
            banner_us: None,
            ehlo_us: None,
            greeting: None,
            ehlo: None,
            ehlo_tls: None,
            encryption: Encryption::None,
            between_commands: false,
            elapsed: Duration::ZERO,
        }
    }

    /// The EHLO answer that counts: over TLS after STARTTLS, else the first.
    fn last_ehlo(&self) -> Option<&Ehlo> {
        self.ehlo_tls.as_ref().or(self.ehlo.as_ref())
    }
}

/// Why a conversation stopped before its end.
#[derive(Debug)]
enum Stop {
    /// A host call failed or the stream ended: what was being attempted, and the error.
    Net(String, NetError),
    /// The server answered, and the answer decides the result (its metrics come later).
    Verdict(CheckResult),
}

/// An error reading a reply, as a stop: `what` names the reply, e.g. "the greeting".
fn reply_stop(what: &str, target: &str, err: ReplyError) -> Stop {
    match err {
        ReplyError::Net(err) => Stop::Net(format!("read {what} from {target}"), err),
        ReplyError::Garbage(got) => {
            Stop::Verdict(critical(format!("{what} from {target} is not an SMTP reply: got {got}"), Reason::Protocol))
        }
    }
}

/// Microseconds since `start`.
fn micros_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// Greeting, EHLO, STARTTLS and EHLO again, as far as the config asks and the server goes.
fn converse(
    config: &Config,
    connection: &Connection,
    deadline: &Deadline,
    exchange: &mut Exchange,
) -> Result<(), Stop> {
    let target = exchange.target.clone();
    if config.tls {
        let us = connection
            .upgrade_tls(None, config.tls_verify, deadline.remaining_ms())
            .map_err(|err| Stop::Net(format!("TLS handshake with {target}"), err))?;
        exchange.tls_us = Some(us);
        exchange.encryption = Encryption::Implicit;
    }
    let mut stream = Stream::new(connection, *deadline, MAX_RECEIVED);

    let started = Instant::now();
    let greeting = read_reply(&mut stream).map_err(|err| reply_stop("the greeting", &target, err))?;
    exchange.banner_us = Some(micros_since(started));
    exchange.between_commands = true;
    let shown = greeting.shown(MAX_SHOWN);
    let text = greeting.text();
    exchange.greeting = Some(greeting.clone());
    if greeting.code != 220 {
        return Err(Stop::Verdict(critical(format!("{target} greets with \"{shown}\", not 220"), Reason::Assertion)));
    }
    if let Some(expected) = &config.expect_banner
        && !text.contains(expected.as_str())
    {
        return Err(Stop::Verdict(critical(
            format!("the greeting of {target}, \"{shown}\", does not contain \"{}\"", sanitize(expected, MAX_SHOWN)),
            Reason::Assertion,
        )));
    }

    let started = Instant::now();
    let first = send_ehlo(config, &mut stream, exchange)?;
    exchange.ehlo_us = Some(micros_since(started));
    let offers_starttls = first.offers("STARTTLS");
    exchange.ehlo = Some(first);
    if exchange.encryption == Encryption::None && config.needs_starttls() && !offers_starttls {
        let offered = exchange.ehlo.as_ref().map(offers).unwrap_or_default();
        return Err(Stop::Verdict(critical(
            format!("{target} does not offer STARTTLS (EHLO offers {offered})"),
            Reason::Assertion,
        )));
    }
    if !config.starttls {
        return Ok(());
    }

    exchange.between_commands = false;
    stream.send(b"STARTTLS\r\n").map_err(|err| Stop::Net(format!("send STARTTLS to {target}"), err))?;
    let answer = read_reply(&mut stream).map_err(|err| reply_stop("the answer to STARTTLS", &target, err))?;
    exchange.between_commands = true;
    if answer.code != 220 {
        return Err(Stop::Verdict(critical(
            format!("{target} refuses STARTTLS: \"{}\"", answer.shown(MAX_SHOWN)),
            Reason::Assertion,
        )));
    }
    exchange.between_commands = false;
    // Whatever the server sent in plain text after its 220 stays in the plain stream,
    // dropped here, and is never taken for part of the TLS session (CVE-2011-0411).
    drop(stream);
    let us = connection
        .upgrade_tls(None, config.tls_verify, deadline.remaining_ms())
        .map_err(|err| Stop::Net(format!("STARTTLS with {target}"), err))?;
    exchange.tls_us = Some(us);
    exchange.encryption = Encryption::StartTls;
    let mut stream = Stream::new(connection, *deadline, MAX_RECEIVED);
    let again = send_ehlo(config, &mut stream, exchange)?;
    exchange.ehlo_tls = Some(again);
    Ok(())
}

/// Sends EHLO and reads its answer, which must be 250.
fn send_ehlo(config: &Config, stream: &mut Stream, exchange: &mut Exchange) -> Result<Ehlo, Stop> {
    let target = exchange.target.clone();
    exchange.between_commands = false;
    let command = format!("EHLO {}\r\n", config.helo);
    stream.send(command.as_bytes()).map_err(|err| Stop::Net(format!("send EHLO to {target}"), err))?;
    let answer = read_reply(stream).map_err(|err| reply_stop("the answer to EHLO", &target, err))?;
    exchange.between_commands = true;
    if answer.code != 250 {
        return Err(Stop::Verdict(critical(
            format!("{target} refuses EHLO {}: \"{}\"", config.helo, answer.shown(MAX_SHOWN)),
            Reason::Assertion,
        )));
    }
    Ok(Ehlo::parse(&answer))
}

/// Says QUIT and waits a little for the 221, whatever comes of it: the result is decided.
fn quit(connection: &Connection, deadline: &Deadline) {
    let short = Deadline::from_ms(deadline.remaining_ms().min(QUIT_WAIT_MS));
    let mut stream = Stream::new(connection, short, 4096);
    if stream.send(b"QUIT\r\n").is_ok() {
        let _ = read_reply(&mut stream);
    }
}

/// STARTTLS and the AUTH mechanisms, as a summary names what EHLO offers.
fn offers(ehlo: &Ehlo) -> String {
    let mut parts = Vec::new();
    if ehlo.offers("STARTTLS") {
        parts.push("STARTTLS".to_string());
    }
    let mechanisms = ehlo.auth_mechanisms();
    if !mechanisms.is_empty() {
        // Cleaned one by one (a control character becomes a space, trimmed away).
        let mut shown: Vec<String> =
            mechanisms.iter().take(MAX_MECHANISMS).map(|m| sanitize(m, 24).trim().to_string()).collect();
        if mechanisms.len() > MAX_MECHANISMS {
            shown.push("…".to_string());
        }
        parts.push(format!("AUTH {}", shown.join(" ")));
    }
    if parts.is_empty() {
        match ehlo.extensions.len() {
            0 => "no extensions".to_string(),
            _ => "neither STARTTLS nor AUTH".to_string(),
        }
    } else {
        parts.join(", ")
    }
}

/// The whole conversation's time: the run's clock, and at least the host's phases in it
/// (a replayed case reports phases that took no time on the clock).
fn total_us(exchange: &Exchange) -> u64 {
    let clock = u64::try_from(exchange.elapsed.as_micros()).unwrap_or(u64::MAX);
    let phases = connect_us(&exchange.timings).saturating_add(exchange.tls_us.unwrap_or(0));
    clock.max(phases)
}

/// The TCP connect time, or the whole connect call's time when the host gave no phase.
fn connect_us(timings: &Timings) -> u64 {
    timings.connect_us.unwrap_or(timings.total_us)
}

/// The result of a conversation that went to its end.
fn judge(config: &Config, exchange: &Exchange) -> CheckResult {
    let total_ms = us_to_ms(total_us(exchange));
    let mut headline = format!("SMTP 220 from {} in {}", exchange.target, format_ms(total_ms));
    match exchange.encryption {
        Encryption::None => {}
        Encryption::Implicit => headline.push_str(" over TLS"),
        Encryption::StartTls => headline.push_str(", upgraded with STARTTLS"),
    }
    if let Some(ehlo) = exchange.last_ehlo() {
        headline.push_str(&format!(", EHLO offers {}", offers(ehlo)));
    }
    match config.time_thresholds().evaluate(total_ms) {
        Status::Critical => {
            critical(format!("{headline}: slower than crit_time {}", shown(config.crit_time)), Reason::Assertion)
        }
        Status::Warning => {
            warning(format!("{headline}: slower than warn_time {}", shown(config.warn_time)), Reason::Assertion)
        }
        _ => ok(headline),
    }
}

/// A threshold duration for a summary.
fn shown(d: Option<Duration>) -> String {
    d.map(format_duration).unwrap_or_default()
}

/// The phase times, and the size limit the server states.
fn metrics(config: &Config, exchange: &Exchange) -> Vec<Metric> {
    let thresholds = config.time_thresholds();
    let mut metrics = vec![metric("time_connect", us_to_ms(connect_us(&exchange.timings)), "ms").min(0.0)];
    if let Some(us) = exchange.tls_us {
        metrics.push(metric("time_tls", us_to_ms(us), "ms").min(0.0));
    }
    if let Some(us) = exchange.banner_us {
        metrics.push(metric("time_banner", us_to_ms(us), "ms").min(0.0));
    }
    if let Some(us) = exchange.ehlo_us {
        metrics.push(metric("time_ehlo", us_to_ms(us), "ms").min(0.0));
    }
    metrics.push(
        metric("time_total", us_to_ms(total_us(exchange)), "ms")
            .warn_opt(thresholds.warn)
            .crit_opt(thresholds.crit)
            .min(0.0),
    );
    if let Some(size) = exchange.last_ehlo().and_then(Ehlo::size_limit) {
        metrics.push(metric("size_limit", size as f64, "B").min(0.0));
    }
    metrics
}

/// The remote address, the greeting and the extensions, one line each, cleaned.
fn details(exchange: &Exchange) -> String {
    let mut lines = vec![format!("remote address: {}", exchange.remote)];
    if let Some(greeting) = &exchange.greeting {
        for (n, line) in greeting.lines.iter().take(10).enumerate() {
            let sep = if n + 1 == greeting.lines.len() { ' ' } else { '-' };
            lines.push(format!("greeting: {}{sep}{}", greeting.code, sanitize(line, 200)));
        }
    }
    if let Some(ehlo) = &exchange.ehlo {
        lines.push(format!("EHLO: {}; extensions: {}", sanitize(&ehlo.greeting, 100), ehlo.listed(600)));
    }
    if let Some(ehlo) = &exchange.ehlo_tls {
        lines.push(format!("EHLO over TLS: {}; extensions: {}", sanitize(&ehlo.greeting, 100), ehlo.listed(600)));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests;
