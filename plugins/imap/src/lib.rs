//! The built-in `imap` check plugin of Vitals.
//!
//! It speaks the first steps of IMAP (RFC 9051, RFC 3501) over the host's `tcp` interface:
//! reads the greeting, asks for the capabilities (unless the greeting carried them),
//! optionally upgrades with STARTTLS and asks again over TLS, optionally logs in with
//! LOGIN, and ends with LOGOUT. Implicit TLS (port 993) is a TLS handshake right after
//! connecting. No mailbox is opened.

mod config;
mod response;

use std::time::{Duration, Instant};

use vitals_sdk::tcp::{self, Connection, Stream};
use vitals_sdk::{
    Check, CheckRequest, CheckResult, ConfigProblem, Deadline, Description, Metric, NetError, PluginConfig, Reason,
    Status, Timings, critical, description, format_duration, format_ms, metric, net_failure, ok, register_check,
    sanitize, unknown, us_to_ms, warning,
};

use crate::config::{Config, parse_target};
use crate::response::{
    Capabilities, Condition, Greeting, Line, ReadError, login_command, parse_greeting, parse_line, quoted, read_line,
};

/// How long a quoted greeting or server message may get in a summary.
const MAX_SHOWN: usize = 120;
/// How long a user name may get in a summary.
const MAX_USER: usize = 64;
/// How many SASL mechanisms a summary names.
const MAX_MECHANISMS: usize = 6;
/// How many bytes the server may send in one conversation (greeting and answers).
const MAX_RECEIVED: usize = 64 * 1024;
/// How many untagged lines one command's answer may have before its tagged end.
const MAX_UNTAGGED: usize = 100;
/// How long LOGOUT may wait for the server's answer, at most (it does not count in time_total).
const LOGOUT_WAIT_MS: u32 = 1_000;

/// The `imap` check.
pub struct Imap;

impl Check for Imap {
    fn describe() -> Description {
        description(
            "imap",
            env!("CARGO_PKG_VERSION"),
            "Connects to an IMAP server at the target host:port (143, or 993 with tls), reads its \
             greeting (critical on BYE; PREAUTH is accepted), optionally checks that it contains \
             a text, asks for the capabilities (IMAP4rev1, STARTTLS, LOGINDISABLED, AUTH=...) \
             unless the greeting carried them, optionally requires STARTTLS or upgrades with it \
             and asks again over TLS, optionally logs in with user and password (a refused \
             login is critical), then ends with LOGOUT; no mailbox is opened. The whole \
             conversation's time is checked against warning and critical thresholds. Metrics: \
             time_connect, time_tls (the TLS handshake), time_banner (waiting for the \
             greeting), time_login (the LOGIN's answer) and time_total, all in ms.",
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
            logout(&connection, &deadline, &exchange.next_tag());
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

register_check!(Imap);

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
    /// How long LOGIN took to be answered.
    login_us: Option<u64>,
    /// The greeting's kind and text (after the `* `).
    greeting: Option<(Greeting, String)>,
    /// The capabilities before any STARTTLS.
    capabilities: Option<Capabilities>,
    /// The capabilities over TLS, after STARTTLS.
    capabilities_tls: Option<Capabilities>,
    /// Whether TLS is on, and how.
    encryption: Encryption,
    /// The user logged in as.
    logged_in: Option<String>,
    /// The number in the last tag used (`a1`, `a2`, ...).
    tags: u32,
    /// Whether the last command was answered whole and none is pending: LOGOUT can be said.
    between_commands: bool,
    /// Time since the run started, up to the end of the conversation (before LOGOUT).
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
            encryption: Encryption::None,
            logged_in: None,
            tags: 0,
            between_commands: false,
            elapsed: Duration::ZERO,
        }
    }

    /// The tag of the next command.
    fn next_tag(&mut self) -> String {
        self.tags += 1;
        format!("a{}", self.tags)
    }

    /// The capabilities that count: over TLS after STARTTLS, else the first.
    fn last_capabilities(&self) -> Option<&Capabilities> {
        self.capabilities_tls.as_ref().or(self.capabilities.as_ref())
    }

    /// Whether the greeting was PREAUTH.
    fn preauth(&self) -> bool {
        matches!(self.greeting, Some((Greeting::Preauth, _)))
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

/// The tagged end of a command and the untagged lines before it.
#[derive(Debug)]
struct Done {
    /// OK, NO or BAD.
    condition: Condition,
    /// The text after the condition.
    text: String,
    /// The untagged lines, without the `* `.
    untagged: Vec<String>,
}

impl Done {
    /// The tagged answer as a summary quotes it: `NO [AUTHENTICATIONFAILED] ...`.
    fn shown(&self) -> String {
        let word = match self.condition {
            Condition::Ok => "OK",
            Condition::No => "NO",
            Condition::Bad => "BAD",
        };
        sanitize(&format!("{word} {}", self.text), MAX_SHOWN).trim_end().to_string()
    }
}

/// Microseconds since `start`.
fn micros_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// The next response line, parsed; `what` names the answer being read, e.g. "the greeting".
fn next_line(stream: &mut Stream, what: &str, target: &str) -> Result<(Vec<u8>, Option<Line>), Stop> {
    match read_line(stream) {
        Ok(line) => {
            let parsed = parse_line(&line);
            Ok((line, parsed))
        }
        Err(ReadError::Net(err)) => Err(Stop::Net(format!("read {what} from {target}"), err)),
        Err(ReadError::Garbage(got)) => Err(garbage(what, target, &got)),
    }
}

/// A critical protocol result: `got` is a cleaned, bounded description of what arrived.
fn garbage(what: &str, target: &str, got: &str) -> Stop {
    Stop::Verdict(critical(format!("{what} from {target} is not an IMAP response: got {got}"), Reason::Protocol))
}

/// Sends a command (in `pieces` when it carries literals) and reads its answer up to the
/// tagged line; `what` names it for summaries, and never holds a password.
fn command(
    stream: &mut Stream,
    exchange: &mut Exchange,
    tag: &str,
    pieces: &[Vec<u8>],
    what: &str,
) -> Result<Done, Stop> {
    let target = exchange.target.clone();
    let answer = format!("the answer to {what}");
    exchange.between_commands = false;
    let mut untagged = Vec::new();
    for (n, piece) in pieces.iter().enumerate() {
        stream.send(piece).map_err(|err| Stop::Net(format!("send {what} to {target}"), err))?;
        let last = n + 1 == pieces.len();
        loop {
            let (raw, line) = next_line(stream, &answer, &target)?;
            match line {
                Some(Line::Untagged(text)) if untagged.len() < MAX_UNTAGGED => untagged.push(text),
                Some(Line::Untagged(_)) => {
                    return Err(garbage(&answer, &target, &format!("more than {MAX_UNTAGGED} untagged lines")));
                }
                Some(Line::Continue(_)) if !last => break,
                Some(Line::Tagged { tag: got, condition, text }) if got == tag => {
                    exchange.between_commands = true;
                    return Ok(Done { condition, text, untagged });
                }
                Some(Line::Continue(_) | Line::Tagged { .. }) | None => {
                    return Err(garbage(&answer, &target, &format!("\"{}\"", quoted(&raw))));
                }
            }
        }
    }
    // The loop returns on the last piece's tagged line; `pieces` is never empty.
    Err(garbage(&answer, &target, "no answer"))
}

/// Sends CAPABILITY and reads the capabilities from its answer.
fn capability(stream: &mut Stream, exchange: &mut Exchange) -> Result<Capabilities, Stop> {
    let tag = exchange.next_tag();
    let done = command(stream, exchange, &tag, &[format!("{tag} CAPABILITY\r\n").into_bytes()], "CAPABILITY")?;
    if done.condition != Condition::Ok {
        return Err(Stop::Verdict(critical(
            format!("{} answers CAPABILITY with \"{}\"", exchange.target, done.shown()),
            Reason::Protocol,
        )));
    }
    let mut found = Capabilities::default();
    for line in &done.untagged {
        if let Some(capabilities) = Capabilities::from_untagged(line) {
            found.0.extend(capabilities.0);
        }
    }
    Ok(found)
}

/// Greeting, capabilities, STARTTLS and capabilities again, and LOGIN, as far as the
/// config asks and the server goes.
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
    let (raw, line) = next_line(&mut stream, "the greeting", &target)?;
    exchange.banner_us = Some(micros_since(started));
    let Some(Line::Untagged(untagged)) = line else {
        return Err(garbage("the greeting", &target, &format!("\"{}\"", quoted(&raw))));
    };
    let Some((kind, text)) = parse_greeting(&untagged) else {
        return Err(garbage("the greeting", &target, &format!("\"{}\"", quoted(&raw))));
    };
    let shown = sanitize(&format!("* {untagged}"), MAX_SHOWN).trim_end().to_string();
    let greeted = Capabilities::from_code(text);
    exchange.greeting = Some((kind, untagged.clone()));
    if kind == Greeting::Bye {
        return Err(Stop::Verdict(critical(
            format!("{target} greets with \"{shown}\": it refuses the session"),
            Reason::Assertion,
        )));
    }
    exchange.between_commands = true;
    if let Some(expected) = &config.expect_banner
        && !untagged.contains(expected.as_str())
    {
        return Err(Stop::Verdict(critical(
            format!("the greeting of {target}, \"{shown}\", does not contain \"{}\"", sanitize(expected, MAX_SHOWN)),
            Reason::Assertion,
        )));
    }
    let capabilities = match greeted {
        Some(capabilities) => capabilities,
        None => capability(&mut stream, exchange)?,
    };
    let offers_starttls = capabilities.has("STARTTLS");
    exchange.capabilities = Some(capabilities);

    if exchange.encryption == Encryption::None && config.needs_starttls() {
        if kind == Greeting::Preauth {
            return Err(Stop::Verdict(critical(
                format!("{target} greets with PREAUTH, so no STARTTLS can follow (\"{shown}\")"),
                Reason::Assertion,
            )));
        }
        if !offers_starttls {
            let offered = exchange.capabilities.as_ref().map(offers).unwrap_or_default();
            return Err(Stop::Verdict(critical(
                format!("{target} does not offer STARTTLS (capabilities: {offered})"),
                Reason::Assertion,
            )));
        }
    }
    if config.starttls {
        let tag = exchange.next_tag();
        let done = command(&mut stream, exchange, &tag, &[format!("{tag} STARTTLS\r\n").into_bytes()], "STARTTLS")?;
        if done.condition != Condition::Ok {
            return Err(Stop::Verdict(critical(
                format!("{target} refuses STARTTLS: \"{}\"", done.shown()),
                Reason::Assertion,
            )));
        }
        exchange.between_commands = false;
        // Whatever the server sent in plain text after its OK stays in the plain stream,
        // dropped here, and is never taken for part of the TLS session (CVE-2011-0411).
        drop(stream);
        let us = connection
            .upgrade_tls(None, config.tls_verify, deadline.remaining_ms())
            .map_err(|err| Stop::Net(format!("STARTTLS with {target}"), err))?;
        exchange.tls_us = Some(us);
        exchange.encryption = Encryption::StartTls;
        stream = Stream::new(connection, *deadline, MAX_RECEIVED);
        exchange.capabilities_tls = Some(capability(&mut stream, exchange)?);
    }

    let Some((user, password)) = config.credentials() else {
        return Ok(());
    };
    if exchange.preauth() {
        return Ok(());
    }
    let shown_user = sanitize(user, MAX_USER);
    if exchange.last_capabilities().is_some_and(|c| c.has("LOGINDISABLED")) {
        return Err(Stop::Verdict(critical(
            format!(
                "{target} disables LOGIN on this connection (LOGINDISABLED), so user \"{shown_user}\" cannot log in: \
                 set starttls or tls"
            ),
            Reason::Assertion,
        )));
    }
    let tag = exchange.next_tag();
    let started = Instant::now();
    let done = command(&mut stream, exchange, &tag, &login_command(&tag, user, password), "LOGIN")?;
    exchange.login_us = Some(micros_since(started));
    match done.condition {
        Condition::Ok => {
            exchange.logged_in = Some(shown_user);
            Ok(())
        }
        Condition::No => {
            let message = sanitize(&done.text, MAX_SHOWN).trim_end().to_string();
            Err(Stop::Verdict(critical(
                format!("authentication failed for user \"{shown_user}\": {message}"),
                Reason::Assertion,
            )))
        }
        Condition::Bad => Err(Stop::Verdict(critical(
            format!("{target} answers LOGIN for user \"{shown_user}\" with \"{}\"", done.shown()),
            Reason::Protocol,
        ))),
    }
}

/// Says LOGOUT and waits a little for its answer, whatever comes of it: the result is decided.
fn logout(connection: &Connection, deadline: &Deadline, tag: &str) {
    let short = Deadline::from_ms(deadline.remaining_ms().min(LOGOUT_WAIT_MS));
    let mut stream = Stream::new(connection, short, 4096);
    if stream.send(format!("{tag} LOGOUT\r\n").as_bytes()).is_err() {
        return;
    }
    // `* BYE`, then the tagged OK; the server may close at once instead.
    for _ in 0..MAX_UNTAGGED {
        match read_line(&mut stream).map(|line| parse_line(&line)) {
            Ok(Some(Line::Untagged(_))) => continue,
            _ => return,
        }
    }
}

/// The versions, STARTTLS, LOGINDISABLED and the AUTH= mechanisms, as a summary names
/// what the server offers.
fn offers(capabilities: &Capabilities) -> String {
    let mut parts: Vec<String> = capabilities.versions().iter().take(2).map(|v| sanitize(v, 24)).collect();
    for name in ["STARTTLS", "LOGINDISABLED"] {
        if capabilities.has(name) {
            parts.push(name.to_string());
        }
    }
    let mechanisms = capabilities.auth_mechanisms();
    // Cleaned one by one (a control character becomes a space, trimmed away).
    let mut auth: Vec<String> =
        mechanisms.iter().take(MAX_MECHANISMS).map(|m| format!("AUTH={}", sanitize(m, 24).trim())).collect();
    if mechanisms.len() > MAX_MECHANISMS {
        auth.push("…".to_string());
    }
    if !auth.is_empty() {
        parts.push(auth.join(" "));
    }
    if parts.is_empty() { "none known".to_string() } else { parts.join(", ") }
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
    let word = if exchange.preauth() { "PREAUTH" } else { "OK" };
    let mut headline = format!("IMAP {word} from {} in {}", exchange.target, format_ms(total_ms));
    match exchange.encryption {
        Encryption::None => {}
        Encryption::Implicit => headline.push_str(" over TLS"),
        Encryption::StartTls => headline.push_str(", upgraded with STARTTLS"),
    }
    if let Some(capabilities) = exchange.last_capabilities() {
        headline.push_str(&format!(", offers {}", offers(capabilities)));
    }
    if let Some(user) = &exchange.logged_in {
        headline.push_str(&format!(", logged in as \"{user}\""));
    } else if exchange.preauth() && config.credentials().is_some() {
        headline.push_str(", already logged in (no LOGIN)");
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

/// The phase times.
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
    metrics
}

/// The remote address, the greeting and the capabilities, one line each, cleaned.
fn details(exchange: &Exchange) -> String {
    let mut lines = vec![format!("remote address: {}", exchange.remote)];
    if let Some((_, greeting)) = &exchange.greeting {
        lines.push(format!("greeting: * {}", sanitize(greeting, 300)));
    }
    if let Some(capabilities) = &exchange.capabilities {
        lines.push(format!("capabilities: {}", capabilities.listed(600)));
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
