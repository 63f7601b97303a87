mod config;
mod reply;

use std::time::Instant;

use vitals_sdk::starttls::{self, Conversation, MailConfig, Session, Stop, micros_since};
use vitals_sdk::tcp::{Connection, Stream};
use vitals_sdk::{
    Check, CheckRequest, CheckResult, ConfigProblem, Deadline, Description, Metric, PluginConfig, Reason, critical,
    description, metric, register_check, sanitize,
};

use crate::config::Config;
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
        starttls::validate::<Exchange>(config)
    }

    fn run(request: CheckRequest) -> CheckResult {
        starttls::run::<Exchange>(&request)
    }
}

register_check!(Smtp);

/// What happened on a connection, for judging it and for the metrics.
#[derive(Debug)]
struct Exchange {
    /// The connection's facts: phase times, encryption, whether QUIT can be said.
    session: Session,
    /// How long the first EHLO took to be answered.
    ehlo_us: Option<u64>,
    /// The greeting.
    greeting: Option<Reply>,
    /// The answer to the first EHLO.
    ehlo: Option<Ehlo>,
    /// The answer to EHLO over TLS, after STARTTLS.
    ehlo_tls: Option<Ehlo>,
}

impl Exchange {
    /// The EHLO answer that counts: over TLS after STARTTLS, else the first.
    fn last_ehlo(&self) -> Option<&Ehlo> {
        self.ehlo_tls.as_ref().or(self.ehlo.as_ref())
    }
}

impl Conversation for Exchange {
    type Config = Config;

    fn start(session: Session) -> Exchange {
        Exchange { session, ehlo_us: None, greeting: None, ehlo: None, ehlo_tls: None }
    }

    fn session(&mut self) -> &mut Session {
        &mut self.session
    }

    /// Greeting, EHLO, STARTTLS and EHLO again, as far as the config asks and the server goes.
    fn converse(&mut self, config: &Config, connection: &Connection, deadline: &Deadline) -> Result<(), Stop> {
        let options = config.options();
        let target = self.session.target.clone();
        self.session.implicit_tls(connection, &options, deadline)?;
        let mut stream = Stream::new(connection, *deadline, MAX_RECEIVED);

        let started = Instant::now();
        let greeting = read_reply(&mut stream).map_err(|err| reply_stop("the greeting", &target, err))?;
        self.session.banner_us = Some(micros_since(started));
        self.session.between_commands = true;
        let shown = greeting.shown(MAX_SHOWN);
        let text = greeting.text();
        self.greeting = Some(greeting.clone());
        if greeting.code != 220 {
            return Err(Stop::Verdict(critical(
                format!("{target} greets with \"{shown}\", not 220"),
                Reason::Assertion,
            )));
        }
        self.session.expect_banner(&options, &text, &shown, MAX_SHOWN)?;

        let started = Instant::now();
        let first = send_ehlo(config, &mut stream, self)?;
        self.ehlo_us = Some(micros_since(started));
        let offers_starttls = first.offers("STARTTLS");
        self.ehlo = Some(first);
        if self.session.needs_starttls(&options) && !offers_starttls {
            let offered = self.ehlo.as_ref().map(offers).unwrap_or_default();
            return Err(Stop::Verdict(critical(
                format!("{target} does not offer STARTTLS (EHLO offers {offered})"),
                Reason::Assertion,
            )));
        }
        if !config.starttls {
            return Ok(());
        }

        self.session.between_commands = false;
        stream.send(b"STARTTLS\r\n").map_err(|err| Stop::Net(format!("send STARTTLS to {target}"), err))?;
        let answer = read_reply(&mut stream).map_err(|err| reply_stop("the answer to STARTTLS", &target, err))?;
        self.session.between_commands = true;
        if answer.code != 220 {
            return Err(Stop::Verdict(critical(
                format!("{target} refuses STARTTLS: \"{}\"", answer.shown(MAX_SHOWN)),
                Reason::Assertion,
            )));
        }
        let mut stream = self.session.start_tls(connection, stream, &options, deadline, "STARTTLS", MAX_RECEIVED)?;
        let again = send_ehlo(config, &mut stream, self)?;
        self.ehlo_tls = Some(again);
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
        let mut headline = self.session.headline("SMTP 220", "STARTTLS");
        if let Some(ehlo) = self.last_ehlo() {
            headline.push_str(&format!(", EHLO offers {}", offers(ehlo)));
        }
        self.session.judge(headline, &config.options())
    }

    /// The phase times, and the size limit the server states.
    fn metrics(&self, config: &Config) -> Vec<Metric> {
        let mut metrics = self.session.metrics(&config.options(), ("time_ehlo", self.ehlo_us));
        if let Some(size) = self.last_ehlo().and_then(Ehlo::size_limit) {
            metrics.push(metric("size_limit", size as f64, "B").min(0.0));
        }
        metrics
    }

    /// The remote address, the greeting and the extensions, one line each, cleaned.
    fn details(&self) -> String {
        let mut lines = vec![format!("remote address: {}", self.session.remote)];
        if let Some(greeting) = &self.greeting {
            for (n, line) in greeting.lines.iter().take(10).enumerate() {
                let sep = if n + 1 == greeting.lines.len() { ' ' } else { '-' };
                lines.push(format!("greeting: {}{sep}{}", greeting.code, sanitize(line, 200)));
            }
        }
        if let Some(ehlo) = &self.ehlo {
            lines.push(format!("EHLO: {}; extensions: {}", sanitize(&ehlo.greeting, 100), ehlo.listed(600)));
        }
        if let Some(ehlo) = &self.ehlo_tls {
            lines.push(format!("EHLO over TLS: {}; extensions: {}", sanitize(&ehlo.greeting, 100), ehlo.listed(600)));
        }
        lines.join("\n")
    }
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

/// Sends EHLO and reads its answer, which must be 250.
fn send_ehlo(config: &Config, stream: &mut Stream, exchange: &mut Exchange) -> Result<Ehlo, Stop> {
    let target = exchange.session.target.clone();
    exchange.session.between_commands = false;
    let command = format!("EHLO {}\r\n", config.helo);
    stream.send(command.as_bytes()).map_err(|err| Stop::Net(format!("send EHLO to {target}"), err))?;
    let answer = read_reply(stream).map_err(|err| reply_stop("the answer to EHLO", &target, err))?;
    exchange.session.between_commands = true;
    if answer.code != 250 {
        return Err(Stop::Verdict(critical(
            format!("{target} refuses EHLO {}: \"{}\"", config.helo, answer.shown(MAX_SHOWN)),
            Reason::Assertion,
        )));
    }
    Ok(Ehlo::parse(&answer))
}

/// STARTTLS and the AUTH mechanisms, as a summary names what EHLO offers.
fn offers(ehlo: &Ehlo) -> String {
    let mut parts = Vec::new();
    if ehlo.offers("STARTTLS") {
        parts.push("STARTTLS".to_string());
    }
    let mechanisms = ehlo.auth_mechanisms();
    if !mechanisms.is_empty() {
        parts.push(format!("AUTH {}", starttls::mechanisms_shown(&mechanisms, MAX_MECHANISMS, "").join(" ")));
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

#[cfg(test)]
mod tests;
