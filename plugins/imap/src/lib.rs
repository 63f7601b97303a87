//! The built-in `imap` check plugin of Vitals.
//!
//! It speaks the first steps of IMAP (RFC 9051, RFC 3501) over the host's `tcp` interface:
//! reads the greeting, asks for the capabilities (unless the greeting carried them),
//! optionally upgrades with STARTTLS and asks again over TLS, optionally logs in with
//! LOGIN, and ends with LOGOUT. Implicit TLS (port 993) is a TLS handshake right after
//! connecting. No mailbox is opened.

mod config;
mod response;

use std::time::Instant;

use vitals_sdk::starttls::{self, Conversation, MailConfig, Session, Stop, micros_since};
use vitals_sdk::tcp::{Connection, Stream};
use vitals_sdk::{
    Check, CheckRequest, CheckResult, ConfigProblem, Deadline, Description, Metric, PluginConfig, Reason, critical,
    description, register_check, sanitize,
};

use crate::config::Config;
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
        starttls::validate::<Exchange>(config)
    }

    fn run(request: CheckRequest) -> CheckResult {
        starttls::run::<Exchange>(&request)
    }
}

register_check!(Imap);

/// What happened on a connection, for judging it and for the metrics.
#[derive(Debug)]
struct Exchange {
    /// The connection's facts: phase times, encryption, whether LOGOUT can be said.
    session: Session,
    /// How long LOGIN took to be answered.
    login_us: Option<u64>,
    /// The greeting's kind and text (after the `* `).
    greeting: Option<(Greeting, String)>,
    /// The capabilities before any STARTTLS.
    capabilities: Option<Capabilities>,
    /// The capabilities over TLS, after STARTTLS.
    capabilities_tls: Option<Capabilities>,
    /// The user logged in as.
    logged_in: Option<String>,
    /// The number in the last tag used (`a1`, `a2`, ...).
    tags: u32,
}

impl Exchange {
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

impl Conversation for Exchange {
    type Config = Config;

    fn start(session: Session) -> Exchange {
        Exchange {
            session,
            login_us: None,
            greeting: None,
            capabilities: None,
            capabilities_tls: None,
            logged_in: None,
            tags: 0,
        }
    }

    fn session(&mut self) -> &mut Session {
        &mut self.session
    }

    /// Greeting, capabilities, STARTTLS and capabilities again, and LOGIN, as far as the
    /// config asks and the server goes.
    fn converse(&mut self, config: &Config, connection: &Connection, deadline: &Deadline) -> Result<(), Stop> {
        let options = config.options();
        let target = self.session.target.clone();
        self.session.implicit_tls(connection, &options, deadline)?;
        let mut stream = Stream::new(connection, *deadline, MAX_RECEIVED);

        let started = Instant::now();
        let (raw, line) = next_line(&mut stream, "the greeting", &target)?;
        self.session.banner_us = Some(micros_since(started));
        let Some(Line::Untagged(untagged)) = line else {
            return Err(garbage("the greeting", &target, &format!("\"{}\"", quoted(&raw))));
        };
        let Some((kind, text)) = parse_greeting(&untagged) else {
            return Err(garbage("the greeting", &target, &format!("\"{}\"", quoted(&raw))));
        };
        let shown = sanitize(&format!("* {untagged}"), MAX_SHOWN).trim_end().to_string();
        let greeted = Capabilities::from_code(text);
        self.greeting = Some((kind, untagged.clone()));
        if kind == Greeting::Bye {
            return Err(Stop::Verdict(critical(
                format!("{target} greets with \"{shown}\": it refuses the session"),
                Reason::Assertion,
            )));
        }
        self.session.between_commands = true;
        self.session.expect_banner(&options, &untagged, &shown, MAX_SHOWN)?;
        let capabilities = match greeted {
            Some(capabilities) => capabilities,
            None => capability(&mut stream, self)?,
        };
        let offers_starttls = capabilities.has("STARTTLS");
        self.capabilities = Some(capabilities);

        if self.session.needs_starttls(&options) {
            if kind == Greeting::Preauth {
                return Err(Stop::Verdict(critical(
                    format!("{target} greets with PREAUTH, so no STARTTLS can follow (\"{shown}\")"),
                    Reason::Assertion,
                )));
            }
            if !offers_starttls {
                let offered = self.capabilities.as_ref().map(offers).unwrap_or_default();
                return Err(Stop::Verdict(critical(
                    format!("{target} does not offer STARTTLS (capabilities: {offered})"),
                    Reason::Assertion,
                )));
            }
        }
        if config.starttls {
            let tag = self.next_tag();
            let done = command(&mut stream, self, &tag, &[format!("{tag} STARTTLS\r\n").into_bytes()], "STARTTLS")?;
            if done.condition != Condition::Ok {
                return Err(Stop::Verdict(critical(
                    format!("{target} refuses STARTTLS: \"{}\"", done.shown()),
                    Reason::Assertion,
                )));
            }
            stream = self.session.start_tls(connection, stream, &options, deadline, "STARTTLS", MAX_RECEIVED)?;
            self.capabilities_tls = Some(capability(&mut stream, self)?);
        }

        let Some((user, password)) = config.credentials() else {
            return Ok(());
        };
        if self.preauth() {
            return Ok(());
        }
        let shown_user = sanitize(user, MAX_USER);
        if self.last_capabilities().is_some_and(|c| c.has("LOGINDISABLED")) {
            return Err(Stop::Verdict(critical(
                format!(
                    "{target} disables LOGIN on this connection (LOGINDISABLED), so user \"{shown_user}\" cannot log in: \
                     set starttls or tls"
                ),
                Reason::Assertion,
            )));
        }
        let tag = self.next_tag();
        let started = Instant::now();
        let done = command(&mut stream, self, &tag, &login_command(&tag, user, password), "LOGIN")?;
        self.login_us = Some(micros_since(started));
        match done.condition {
            Condition::Ok => {
                self.logged_in = Some(shown_user);
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

    fn goodbye(&mut self, connection: &Connection, deadline: &Deadline) {
        logout(connection, deadline, &self.next_tag());
    }

    /// The result of a conversation that went to its end.
    fn judge(&self, config: &Config) -> CheckResult {
        let word = if self.preauth() { "PREAUTH" } else { "OK" };
        let mut headline = self.session.headline(&format!("IMAP {word}"), "STARTTLS");
        if let Some(capabilities) = self.last_capabilities() {
            headline.push_str(&format!(", offers {}", offers(capabilities)));
        }
        if let Some(user) = &self.logged_in {
            headline.push_str(&format!(", logged in as \"{user}\""));
        } else if self.preauth() && config.credentials().is_some() {
            headline.push_str(", already logged in (no LOGIN)");
        }
        self.session.judge(headline, &config.options())
    }

    /// The phase times.
    fn metrics(&self, config: &Config) -> Vec<Metric> {
        self.session.metrics(&config.options(), ("time_login", self.login_us))
    }

    /// The remote address, the greeting and the capabilities, one line each, cleaned.
    fn details(&self) -> String {
        let mut lines = vec![format!("remote address: {}", self.session.remote)];
        if let Some((_, greeting)) = &self.greeting {
            lines.push(format!("greeting: * {}", sanitize(greeting, 300)));
        }
        if let Some(capabilities) = &self.capabilities {
            lines.push(format!("capabilities: {}", capabilities.listed(600)));
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
    let target = exchange.session.target.clone();
    let answer = format!("the answer to {what}");
    exchange.session.between_commands = false;
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
                    exchange.session.between_commands = true;
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
            format!("{} answers CAPABILITY with \"{}\"", exchange.session.target, done.shown()),
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

/// Says LOGOUT and waits a little for its answer, whatever comes of it: the result is decided.
fn logout(connection: &Connection, deadline: &Deadline, tag: &str) {
    let mut stream = starttls::farewell(connection, deadline, LOGOUT_WAIT_MS);
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
    let auth = starttls::mechanisms_shown(&mechanisms, MAX_MECHANISMS, "AUTH=");
    if !auth.is_empty() {
        parts.push(auth.join(" "));
    }
    if parts.is_empty() { "none known".to_string() } else { parts.join(", ") }
}

#[cfg(test)]
mod tests;
