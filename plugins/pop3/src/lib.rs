//! The built-in `pop3` check plugin of Vitals.
//!
//! It speaks the first steps of POP3 (RFC 1939) over the host's `tcp` interface: reads the
//! `+OK` greeting, asks for the capabilities with CAPA (RFC 2449), optionally upgrades with
//! STLS (RFC 2595) and asks again over TLS, optionally logs in with USER and PASS and reads
//! the mailbox's size with STAT, and ends with QUIT. Implicit TLS (port 995) is a TLS
//! handshake right after connecting. No message is read or deleted.

mod config;
mod response;

use std::time::{Duration, Instant};

use vitals_sdk::tcp::{self, Connection, Stream};
use vitals_sdk::{
    Check, CheckRequest, CheckResult, ConfigProblem, Deadline, Description, Metric, NetError, PluginConfig, Reason,
    Status, Timings, critical, description, format_bytes, format_duration, format_ms, metric, net_failure, ok,
    register_check, sanitize, unknown, us_to_ms, warning,
};

use crate::config::{Config, parse_target};
use crate::response::{Capabilities, ReadError, Reply, parse_stat, read_body, read_reply};

/// How long a quoted reply may get in a summary.
const MAX_SHOWN: usize = 120;
/// How long a user name may get in a summary.
const MAX_USER: usize = 64;
/// How many SASL mechanisms a summary names.
const MAX_MECHANISMS: usize = 6;
/// How many bytes the server may send in one conversation.
const MAX_RECEIVED: usize = 64 * 1024;
/// How long QUIT may wait for the server's +OK, at most (it does not count in time_total).
const QUIT_WAIT_MS: u32 = 1_000;

/// The `pop3` check.
pub struct Pop3;

impl Check for Pop3 {
    fn describe() -> Description {
        description(
            "pop3",
            env!("CARGO_PKG_VERSION"),
            "Connects to a POP3 server at the target host:port (110, or 995 with tls), reads its \
             +OK greeting (critical on -ERR), optionally checks that it contains a text, asks \
             for the capabilities with CAPA (STLS, SASL mechanisms, USER...), optionally \
             requires STLS or upgrades with it and asks again over TLS, optionally logs in with \
             USER and PASS (a refused login is critical) and reads the mailbox's size with \
             STAT, then ends with QUIT; no message is read or deleted. The whole \
             conversation's time is checked against warning and critical thresholds. Metrics: \
             time_connect, time_tls (the TLS handshake), time_banner (waiting for the \
             greeting), time_login (USER and PASS) and time_total, all in ms, and after a \
             login messages (a count) and mailbox_size in B.",
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

register_check!(Pop3);

/// How the connection came to be encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encryption {
    /// Plain text all along.
    None,
    /// TLS right after connecting.
    Implicit,
    /// Upgraded with STLS.
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
    /// How long USER and PASS took to be answered.
    login_us: Option<u64>,
    /// The greeting.
    greeting: Option<Reply>,
    /// The capabilities before any STLS; none when the server does not know CAPA.
    capabilities: Option<Capabilities>,
    /// The capabilities over TLS, after STLS.
    capabilities_tls: Option<Capabilities>,
    /// Whether the server answered CAPA with -ERR.
    no_capa: bool,
    /// Whether TLS is on, and how.
    encryption: Encryption,
    /// The user logged in as.
    logged_in: Option<String>,
    /// The message count and size in bytes from STAT.
    stat: Option<(u64, u64)>,
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
            login_us: None,
            greeting: None,
            capabilities: None,
            capabilities_tls: None,
            no_capa: false,
            encryption: Encryption::None,
            logged_in: None,
            stat: None,
            between_commands: false,
            elapsed: Duration::ZERO,
        }
    }

    /// The capabilities that count: over TLS after STLS, else the first.
    fn last_capabilities(&self) -> Option<&Capabilities> {
        self.capabilities_tls.as_ref().or(self.capabilities.as_ref())
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

/// An error reading an answer, as a stop: `what` names it, e.g. "the greeting".
fn read_stop(what: &str, target: &str, err: ReadError) -> Stop {
    match err {
        ReadError::Net(err) => Stop::Net(format!("read {what} from {target}"), err),
        ReadError::Garbage(got) => {
            Stop::Verdict(critical(format!("{what} from {target} is not a POP3 response: got {got}"), Reason::Protocol))
        }
    }
}

/// Microseconds since `start`.
fn micros_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// Sends a command line and reads its status line; `what` names it for summaries and never
/// holds a password.
fn command(stream: &mut Stream, exchange: &mut Exchange, line: &str, what: &str) -> Result<Reply, Stop> {
    let target = exchange.target.clone();
    exchange.between_commands = false;
    stream.send(format!("{line}\r\n").as_bytes()).map_err(|err| Stop::Net(format!("send {what} to {target}"), err))?;
    let reply = read_reply(stream).map_err(|err| read_stop(&format!("the answer to {what}"), &target, err))?;
    exchange.between_commands = true;
    Ok(reply)
}

/// Sends CAPA and reads the capabilities; none when the server answers -ERR (no CAPA).
fn capa(stream: &mut Stream, exchange: &mut Exchange) -> Result<Option<Capabilities>, Stop> {
    let reply = command(stream, exchange, "CAPA", "CAPA")?;
    if !reply.ok {
        exchange.no_capa = true;
        return Ok(None);
    }
    exchange.between_commands = false;
    let target = exchange.target.clone();
    let lines = read_body(stream).map_err(|err| read_stop("the answer to CAPA", &target, err))?;
    exchange.between_commands = true;
    Ok(Some(Capabilities::parse(&lines)))
}

/// Greeting, CAPA, STLS and CAPA again, USER, PASS and STAT, as far as the config asks and
/// the server goes.
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
    let greeting = read_reply(&mut stream).map_err(|err| read_stop("the greeting", &target, err))?;
    exchange.banner_us = Some(micros_since(started));
    let shown = greeting.shown(MAX_SHOWN);
    exchange.greeting = Some(greeting.clone());
    if !greeting.ok {
        return Err(Stop::Verdict(critical(
            format!("{target} greets with \"{shown}\": it refuses the session"),
            Reason::Assertion,
        )));
    }
    exchange.between_commands = true;
    if let Some(expected) = &config.expect_banner
        && !greeting.text.contains(expected.as_str())
    {
        return Err(Stop::Verdict(critical(
            format!("the greeting of {target}, \"{shown}\", does not contain \"{}\"", sanitize(expected, MAX_SHOWN)),
            Reason::Assertion,
        )));
    }

    exchange.capabilities = capa(&mut stream, exchange)?;
    if exchange.encryption == Encryption::None
        && config.needs_starttls()
        && !exchange.capabilities.as_ref().is_some_and(|c| c.has("STLS"))
    {
        let offered = offers(exchange.capabilities.as_ref());
        return Err(Stop::Verdict(critical(
            format!("{target} does not offer STLS (capabilities: {offered})"),
            Reason::Assertion,
        )));
    }
    if config.starttls {
        let reply = command(&mut stream, exchange, "STLS", "STLS")?;
        if !reply.ok {
            return Err(Stop::Verdict(critical(
                format!("{target} refuses STLS: \"{}\"", reply.shown(MAX_SHOWN)),
                Reason::Assertion,
            )));
        }
        exchange.between_commands = false;
        // Whatever the server sent in plain text after its +OK stays in the plain stream,
        // dropped here, and is never taken for part of the TLS session (CVE-2011-0411).
        drop(stream);
        let us = connection
            .upgrade_tls(None, config.tls_verify, deadline.remaining_ms())
            .map_err(|err| Stop::Net(format!("STLS with {target}"), err))?;
        exchange.tls_us = Some(us);
        exchange.encryption = Encryption::StartTls;
        stream = Stream::new(connection, *deadline, MAX_RECEIVED);
        exchange.capabilities_tls = Some(capa(&mut stream, exchange)?.unwrap_or_default());
    }

    let Some((user, password)) = config.credentials() else {
        return Ok(());
    };
    let shown_user = sanitize(user, MAX_USER);
    let started = Instant::now();
    let mut reply = command(&mut stream, exchange, &format!("USER {user}"), "USER")?;
    if reply.ok {
        reply = command(&mut stream, exchange, &format!("PASS {password}"), "PASS")?;
    }
    exchange.login_us = Some(micros_since(started));
    if !reply.ok {
        return Err(Stop::Verdict(critical(
            format!("authentication failed for user \"{shown_user}\": {}", reply.message(MAX_SHOWN)),
            Reason::Assertion,
        )));
    }
    exchange.logged_in = Some(shown_user);
    let stat = command(&mut stream, exchange, "STAT", "STAT")?;
    exchange.stat = if stat.ok { parse_stat(&stat.text) } else { None };
    Ok(())
}

/// Says QUIT and waits a little for its answer, whatever comes of it: the result is decided.
fn quit(connection: &Connection, deadline: &Deadline) {
    let short = Deadline::from_ms(deadline.remaining_ms().min(QUIT_WAIT_MS));
    let mut stream = Stream::new(connection, short, 4096);
    if stream.send(b"QUIT\r\n").is_ok() {
        let _ = read_reply(&mut stream);
    }
}

/// STLS, the SASL mechanisms and USER, as a summary names what the server offers.
fn offers(capabilities: Option<&Capabilities>) -> String {
    let Some(capabilities) = capabilities else {
        return "no CAPA".to_string();
    };
    let mut parts = Vec::new();
    if capabilities.has("STLS") {
        parts.push("STLS".to_string());
    }
    let mechanisms = capabilities.sasl();
    if !mechanisms.is_empty() {
        // Cleaned one by one (a control character becomes a space, trimmed away).
        let mut shown: Vec<String> =
            mechanisms.iter().take(MAX_MECHANISMS).map(|m| sanitize(m, 24).trim().to_string()).collect();
        if mechanisms.len() > MAX_MECHANISMS {
            shown.push("…".to_string());
        }
        parts.push(format!("SASL {}", shown.join(" ")));
    }
    if capabilities.has("USER") {
        parts.push("USER".to_string());
    }
    if parts.is_empty() { "neither STLS nor SASL nor USER".to_string() } else { parts.join(", ") }
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
    let mut headline = format!("POP3 +OK from {} in {}", exchange.target, format_ms(total_ms));
    match exchange.encryption {
        Encryption::None => {}
        Encryption::Implicit => headline.push_str(" over TLS"),
        Encryption::StartTls => headline.push_str(", upgraded with STLS"),
    }
    headline.push_str(&format!(", offers {}", offers(exchange.last_capabilities())));
    if let Some(user) = &exchange.logged_in {
        headline.push_str(&format!(", logged in as \"{user}\""));
        if let Some((count, size)) = exchange.stat {
            let noun = if count == 1 { "message" } else { "messages" };
            headline.push_str(&format!(" ({count} {noun}, {})", format_bytes(size)));
        }
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

/// The phase times, and the mailbox's size after a login.
fn metrics(config: &Config, exchange: &Exchange) -> Vec<Metric> {
    let thresholds = config.time_thresholds();
    let mut metrics = vec![metric("time_connect", us_to_ms(connect_us(&exchange.timings)), "ms").min(0.0)];
    if let Some(us) = exchange.tls_us {
        metrics.push(metric("time_tls", us_to_ms(us), "ms").min(0.0));
    }
    if let Some(us) = exchange.banner_us {
        metrics.push(metric("time_banner", us_to_ms(us), "ms").min(0.0));
    }
    if let Some(us) = exchange.login_us {
        metrics.push(metric("time_login", us_to_ms(us), "ms").min(0.0));
    }
    metrics.push(
        metric("time_total", us_to_ms(total_us(exchange)), "ms")
            .warn_opt(thresholds.warn)
            .crit_opt(thresholds.crit)
            .min(0.0),
    );
    if let Some((count, size)) = exchange.stat {
        metrics.push(metric("messages", count as f64, "").min(0.0));
        metrics.push(metric("mailbox_size", size as f64, "B").min(0.0));
    }
    metrics
}

/// The remote address, the greeting and the capabilities, one line each, cleaned.
fn details(exchange: &Exchange) -> String {
    let mut lines = vec![format!("remote address: {}", exchange.remote)];
    if let Some(greeting) = &exchange.greeting {
        lines.push(format!("greeting: {}", greeting.shown(300)));
    }
    if let Some(capabilities) = &exchange.capabilities {
        lines.push(format!("capabilities: {}", capabilities.listed(600)));
    } else if exchange.no_capa {
        lines.push("capabilities: the server does not know CAPA".to_string());
    }
    if let Some(capabilities) = &exchange.capabilities_tls {
        lines.push(format!("capabilities over TLS: {}", capabilities.listed(600)));
    }
    if let Some(user) = &exchange.logged_in {
        lines.push(format!("logged in as \"{user}\""));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests;
