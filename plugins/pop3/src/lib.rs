//! The built-in `pop3` check plugin of Vitals.
//!
//! It speaks the first steps of POP3 (RFC 1939) over the host's `tcp` interface: reads the
//! `+OK` greeting, asks for the capabilities with CAPA (RFC 2449), optionally upgrades with
//! STLS (RFC 2595) and asks again over TLS, optionally logs in with USER and PASS and reads
//! the mailbox's size with STAT, and ends with QUIT. Implicit TLS (port 995) is a TLS
//! handshake right after connecting. No message is read or deleted.

mod config;
mod response;

use std::time::Instant;

use vitals_sdk::starttls::{self, Conversation, MailConfig, Session, Stop, micros_since};
use vitals_sdk::tcp::{Connection, Stream};
use vitals_sdk::{
    Check, CheckRequest, CheckResult, ConfigProblem, Deadline, Description, Metric, PluginConfig, Reason, critical,
    description, format_bytes, metric, register_check, sanitize,
};

use crate::config::Config;
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
        starttls::validate::<Exchange>(config)
    }

    fn run(request: CheckRequest) -> CheckResult {
        starttls::run::<Exchange>(&request)
    }
}

register_check!(Pop3);

/// What happened on a connection, for judging it and for the metrics.
#[derive(Debug)]
struct Exchange {
    /// The connection's facts: phase times, encryption, whether QUIT can be said.
    session: Session,
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
    /// The user logged in as.
    logged_in: Option<String>,
    /// The message count and size in bytes from STAT.
    stat: Option<(u64, u64)>,
}

impl Exchange {
    /// The capabilities that count: over TLS after STLS, else the first.
    fn last_capabilities(&self) -> Option<&Capabilities> {
        self.capabilities_tls.as_ref().or(self.capabilities.as_ref())
    }
}

impl Conversation for Exchange {
    type Config = Config;

    fn start(session: Session) -> Exchange {
        Exchange {
            session,
            login_us: None,
            greeting: None,
            capabilities: None,
            capabilities_tls: None,
            no_capa: false,
            logged_in: None,
            stat: None,
        }
    }

    fn session(&mut self) -> &mut Session {
        &mut self.session
    }

    /// Greeting, CAPA, STLS and CAPA again, USER, PASS and STAT, as far as the config asks and
    /// the server goes.
    fn converse(&mut self, config: &Config, connection: &Connection, deadline: &Deadline) -> Result<(), Stop> {
        let options = config.options();
        let target = self.session.target.clone();
        self.session.implicit_tls(connection, &options, deadline)?;
        let mut stream = Stream::new(connection, *deadline, MAX_RECEIVED);

        let started = Instant::now();
        let greeting = read_reply(&mut stream).map_err(|err| read_stop("the greeting", &target, err))?;
        self.session.banner_us = Some(micros_since(started));
        let shown = greeting.shown(MAX_SHOWN);
        self.greeting = Some(greeting.clone());
        if !greeting.ok {
            return Err(Stop::Verdict(critical(
                format!("{target} greets with \"{shown}\": it refuses the session"),
                Reason::Assertion,
            )));
        }
        self.session.between_commands = true;
        self.session.expect_banner(&options, &greeting.text, &shown, MAX_SHOWN)?;

        self.capabilities = capa(&mut stream, self)?;
        if self.session.needs_starttls(&options) && !self.capabilities.as_ref().is_some_and(|c| c.has("STLS")) {
            let offered = offers(self.capabilities.as_ref());
            return Err(Stop::Verdict(critical(
                format!("{target} does not offer STLS (capabilities: {offered})"),
                Reason::Assertion,
            )));
        }
        if config.starttls {
            let reply = command(&mut stream, self, "STLS", "STLS")?;
            if !reply.ok {
                return Err(Stop::Verdict(critical(
                    format!("{target} refuses STLS: \"{}\"", reply.shown(MAX_SHOWN)),
                    Reason::Assertion,
                )));
            }
            stream = self.session.start_tls(connection, stream, &options, deadline, "STLS", MAX_RECEIVED)?;
            self.capabilities_tls = Some(capa(&mut stream, self)?.unwrap_or_default());
        }

        let Some((user, password)) = config.credentials() else {
            return Ok(());
        };
        let shown_user = sanitize(user, MAX_USER);
        let started = Instant::now();
        let mut reply = command(&mut stream, self, &format!("USER {user}"), "USER")?;
        if reply.ok {
            reply = command(&mut stream, self, &format!("PASS {password}"), "PASS")?;
        }
        self.login_us = Some(micros_since(started));
        if !reply.ok {
            return Err(Stop::Verdict(critical(
                format!("authentication failed for user \"{shown_user}\": {}", reply.message(MAX_SHOWN)),
                Reason::Assertion,
            )));
        }
        self.logged_in = Some(shown_user);
        let stat = command(&mut stream, self, "STAT", "STAT")?;
        self.stat = if stat.ok { parse_stat(&stat.text) } else { None };
        Ok(())
    }

    fn goodbye(&mut self, connection: &Connection, deadline: &Deadline) {
        let mut stream = starttls::farewell(connection, deadline, QUIT_WAIT_MS);
        if stream.send(b"QUIT\r\n").is_ok() {
            let _ = read_reply(&mut stream);
        }
    }

    /// The result of a conversation that went to its end.
    fn judge(&self, config: &Config) -> CheckResult {
        let mut headline = self.session.headline("POP3 +OK", "STLS");
        headline.push_str(&format!(", offers {}", offers(self.last_capabilities())));
        if let Some(user) = &self.logged_in {
            headline.push_str(&format!(", logged in as \"{user}\""));
            if let Some((count, size)) = self.stat {
                let noun = if count == 1 { "message" } else { "messages" };
                headline.push_str(&format!(" ({count} {noun}, {})", format_bytes(size)));
            }
        }
        self.session.judge(headline, &config.options())
    }

    /// The phase times, and the mailbox's size after a login.
    fn metrics(&self, config: &Config) -> Vec<Metric> {
        let mut metrics = self.session.metrics(&config.options(), ("time_login", self.login_us));
        if let Some((count, size)) = self.stat {
            metrics.push(metric("messages", count as f64, "").min(0.0));
            metrics.push(metric("mailbox_size", size as f64, "B").min(0.0));
        }
        metrics
    }

    /// The remote address, the greeting and the capabilities, one line each, cleaned.
    fn details(&self) -> String {
        let mut lines = vec![format!("remote address: {}", self.session.remote)];
        if let Some(greeting) = &self.greeting {
            lines.push(format!("greeting: {}", greeting.shown(300)));
        }
        if let Some(capabilities) = &self.capabilities {
            lines.push(format!("capabilities: {}", capabilities.listed(600)));
        } else if self.no_capa {
            lines.push("capabilities: the server does not know CAPA".to_string());
        }
        if let Some(capabilities) = &self.capabilities_tls {
            lines.push(format!("capabilities over TLS: {}", capabilities.listed(600)));
        }
        if let Some(user) = &self.logged_in {
            lines.push(format!("logged in as \"{user}\""));
        }
        lines.join("\n")
    }
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

/// Sends a command line and reads its status line; `what` names it for summaries and never
/// holds a password.
fn command(stream: &mut Stream, exchange: &mut Exchange, line: &str, what: &str) -> Result<Reply, Stop> {
    let target = exchange.session.target.clone();
    exchange.session.between_commands = false;
    stream.send(format!("{line}\r\n").as_bytes()).map_err(|err| Stop::Net(format!("send {what} to {target}"), err))?;
    let reply = read_reply(stream).map_err(|err| read_stop(&format!("the answer to {what}"), &target, err))?;
    exchange.session.between_commands = true;
    Ok(reply)
}

/// Sends CAPA and reads the capabilities; none when the server answers -ERR (no CAPA).
fn capa(stream: &mut Stream, exchange: &mut Exchange) -> Result<Option<Capabilities>, Stop> {
    let reply = command(stream, exchange, "CAPA", "CAPA")?;
    if !reply.ok {
        exchange.no_capa = true;
        return Ok(None);
    }
    exchange.session.between_commands = false;
    let target = exchange.session.target.clone();
    let lines = read_body(stream).map_err(|err| read_stop("the answer to CAPA", &target, err))?;
    exchange.session.between_commands = true;
    Ok(Some(Capabilities::parse(&lines)))
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
        parts.push(format!("SASL {}", starttls::mechanisms_shown(&mechanisms, MAX_MECHANISMS, "").join(" ")));
    }
    if capabilities.has("USER") {
        parts.push("USER".to_string());
    }
    if parts.is_empty() { "neither STLS nor SASL nor USER".to_string() } else { parts.join(", ") }
}

#[cfg(test)]
mod tests;
