//! What the line-protocol mail checks (`smtp`, `imap`, `pop3`) share around their
//! conversation: connecting to the target, implicit TLS or the STARTTLS upgrade with its
//! injection guard, the `expect_banner` / `require_starttls` / `starttls` / `tls` /
//! `tls_verify` / `warn_time` / `crit_time` keys and their rules, the phase times and the
//! judging of the whole conversation's time. Each protocol keeps its own commands and
//! replies: it implements [`Conversation`] and hands its `run` to [`run`].
//!
//! ```
//! use std::time::Duration;
//! use vitals_sdk::starttls::{Encryption, Options, Session};
//! use vitals_sdk::{Status, Timings};
//!
//! let options = Options { warn_time: Some(Duration::from_millis(5)), ..Options::default() };
//! let timings = Timings { dns_us: None, connect_us: Some(300), tls_us: None, first_byte_us: None, total_us: 350 };
//! let mut session = Session::new("mail.test:25", "192.0.2.1:25".into(), timings);
//! session.tls_us = Some(9_700);
//! session.encryption = Encryption::StartTls;
//! let result = session.judge(session.headline("SMTP 220", "STARTTLS"), &options);
//! assert_eq!(result.summary, "SMTP 220 from mail.test:25 in 10.0 ms, upgraded with STARTTLS: slower than warn_time 5.0 ms");
//! assert_eq!(result.status, Status::Warning);
//! ```

use std::time::{Duration, Instant};

use crate::tcp::{Connection, Stream};
use crate::{
    CheckRequest, CheckResult, ConfigError, ConfigProblem, Deadline, Metric, NetError, Reason, Status, Thresholds,
    Timings, critical, format_duration, format_ms, metric, net_failure, ok, sanitize, us_to_ms, warning,
};

/// How the connection came to be encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    /// Plain text all along.
    None,
    /// TLS right after connecting.
    Implicit,
    /// Upgraded with STARTTLS (or the protocol's name for it, such as POP3's STLS).
    StartTls,
}

impl Encryption {
    /// What a summary's headline adds: nothing, `" over TLS"` or `", upgraded with
    /// {command}"`.
    ///
    /// ```
    /// use vitals_sdk::starttls::Encryption;
    /// assert_eq!(Encryption::None.suffix("STLS"), "");
    /// assert_eq!(Encryption::Implicit.suffix("STLS"), " over TLS");
    /// assert_eq!(Encryption::StartTls.suffix("STLS"), ", upgraded with STLS");
    /// ```
    pub fn suffix(self, command: &str) -> String {
        match self {
            Encryption::None => String::new(),
            Encryption::Implicit => " over TLS".to_string(),
            Encryption::StartTls => format!(", upgraded with {command}"),
        }
    }
}

/// Why a conversation stopped before its end.
#[derive(Debug)]
pub enum Stop {
    /// A host call failed or the stream ended: what was being attempted, and the error.
    Net(String, NetError),
    /// The server answered, and the answer decides the result (its metrics come later).
    Verdict(CheckResult),
}

impl Stop {
    /// The check's result for this stop (without metrics).
    ///
    /// ```
    /// use vitals_sdk::{NetError, starttls::Stop};
    /// let stop = Stop::Net("read the greeting from mail.test:25".into(), NetError::Timeout("slow".into()));
    /// assert_eq!(stop.into_result().summary, "read the greeting from mail.test:25 failed: slow");
    /// ```
    pub fn into_result(self) -> CheckResult {
        match self {
            Stop::Net(context, err) => net_failure(&context, &err),
            Stop::Verdict(result) => result,
        }
    }
}

/// Microseconds since `start`.
///
/// ```
/// let start = std::time::Instant::now();
/// assert!(vitals_sdk::starttls::micros_since(start) < 60_000_000);
/// ```
pub fn micros_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// The keys every mail check shares, as its config gives them.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Text the greeting must contain.
    pub expect_banner: Option<String>,
    /// Critical when the server does not offer STARTTLS.
    pub require_starttls: bool,
    /// Upgrade with STARTTLS.
    pub starttls: bool,
    /// Start TLS right after connecting.
    pub tls: bool,
    /// Verify the server's certificate and name when TLS is used.
    pub tls_verify: bool,
    /// Warn when the whole conversation takes longer than this.
    pub warn_time: Option<Duration>,
    /// Critical when the whole conversation takes longer than this.
    pub crit_time: Option<Duration>,
}

impl Options {
    /// `warn_time` and `crit_time` as thresholds on milliseconds.
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = vitals_sdk::starttls::Options { crit_time: Some(Duration::from_secs(2)), ..Default::default() };
    /// assert_eq!(options.time_thresholds().evaluate(2_500.0), vitals_sdk::Status::Critical);
    /// ```
    pub fn time_thresholds(&self) -> Thresholds {
        Thresholds::time_ms(self.warn_time, self.crit_time)
    }

    /// Whether a server that does not offer STARTTLS fails the check.
    ///
    /// ```
    /// let options = vitals_sdk::starttls::Options { require_starttls: true, ..Default::default() };
    /// assert!(options.needs_starttls());
    /// ```
    pub fn needs_starttls(&self) -> bool {
        self.require_starttls || self.starttls
    }

    /// The rules between `tls`, `starttls` and `require_starttls`: `implicit` says where
    /// implicit TLS is spoken, `upgrade` what STARTTLS upgrades, `command` the protocol's
    /// name for STARTTLS.
    ///
    /// ```
    /// let options = vitals_sdk::starttls::Options { tls: true, starttls: true, ..Default::default() };
    /// let problems = options.problems("port 993", "a plain connection (port 143)", "STARTTLS");
    /// assert_eq!(problems[0].key.as_deref(), Some("starttls"));
    /// assert!(problems[0].message.ends_with("tls starts TLS at once (port 993), starttls upgrades a plain connection (port 143)"));
    /// ```
    pub fn problems(&self, implicit: &str, upgrade: &str, command: &str) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        if self.tls && self.starttls {
            problems.push(ConfigProblem::at_key(
                "starttls",
                format!("starttls and tls exclude each other: tls starts TLS at once ({implicit}), starttls upgrades {upgrade}"),
            ));
        }
        if self.tls && self.require_starttls {
            problems.push(ConfigProblem::at_key(
                "require_starttls",
                format!("require_starttls and tls exclude each other: over implicit TLS a server offers no {command}"),
            ));
        }
        problems
    }
}

/// A config key's check: the text must not be empty.
///
/// ```
/// assert!(vitals_sdk::starttls::non_empty("").is_err());
/// assert!(vitals_sdk::starttls::non_empty("ESMTP").is_ok());
/// ```
pub fn non_empty(text: &str) -> Result<(), String> {
    if text.is_empty() { Err("must not be empty".to_string()) } else { Ok(()) }
}

/// The problem of a `user` without a `password`, or the other way round.
///
/// ```
/// let problem = vitals_sdk::starttls::credentials_problem(Some("alice"), None).ok_or("none")?;
/// assert_eq!(problem.key.as_deref(), Some("password"));
/// assert!(vitals_sdk::starttls::credentials_problem(None, None).is_none());
/// # Ok::<(), &str>(())
/// ```
pub fn credentials_problem(user: Option<&str>, password: Option<&str>) -> Option<ConfigProblem> {
    match (user, password) {
        (Some(_), None) => Some(ConfigProblem::at_key("password", "user is set, so password is needed")),
        (None, Some(_)) => Some(ConfigProblem::at_key("user", "password is set, so user is needed")),
        _ => None,
    }
}

/// SASL mechanisms as a summary names them: at most `max`, each cleaned and prefixed with
/// `prefix`, and `…` when there are more.
///
/// ```
/// let mechanisms = ["PLAIN".to_string(), "LOGIN".to_string(), "CRAM-MD5".to_string()];
/// assert_eq!(vitals_sdk::starttls::mechanisms_shown(&mechanisms, 2, "AUTH="), ["AUTH=PLAIN", "AUTH=LOGIN", "…"]);
/// ```
pub fn mechanisms_shown(mechanisms: &[String], max: usize, prefix: &str) -> Vec<String> {
    // Cleaned one by one (a control character becomes a space, trimmed away).
    let mut shown: Vec<String> =
        mechanisms.iter().take(max).map(|m| format!("{prefix}{}", sanitize(m, 24).trim())).collect();
    if mechanisms.len() > max {
        shown.push("…".to_string());
    }
    shown
}

/// What happened on a connection apart from the protocol's own answers: the phase times,
/// the encryption, and whether a goodbye can be said.
#[derive(Debug)]
pub struct Session {
    /// The target as configured.
    pub target: String,
    /// The address connected to.
    pub remote: String,
    /// Resolution and connect times.
    pub timings: Timings,
    /// TLS handshake time, when TLS was used.
    pub tls_us: Option<u64>,
    /// How long the greeting took to arrive (after connect and any implicit TLS).
    pub banner_us: Option<u64>,
    /// Whether TLS is on, and how.
    pub encryption: Encryption,
    /// Whether the last answer was read whole and no command is pending: the goodbye can
    /// be said.
    pub between_commands: bool,
    /// Time since the run started, up to the end of the conversation (before the goodbye).
    pub elapsed: Duration,
}

impl Session {
    /// A session on a connection just opened.
    pub fn new(target: &str, remote: String, timings: Timings) -> Session {
        Session {
            target: target.to_string(),
            remote,
            timings,
            tls_us: None,
            banner_us: None,
            encryption: Encryption::None,
            between_commands: false,
            elapsed: Duration::ZERO,
        }
    }

    /// The TCP connect time, or the whole connect call's time when the host gave no phase.
    pub fn connect_us(&self) -> u64 {
        self.timings.connect_us.unwrap_or(self.timings.total_us)
    }

    /// The whole conversation's time: the run's clock, and at least the host's phases in
    /// it (a replayed case reports phases that took no time on the clock).
    pub fn total_us(&self) -> u64 {
        let clock = u64::try_from(self.elapsed.as_micros()).unwrap_or(u64::MAX);
        clock.max(self.connect_us().saturating_add(self.tls_us.unwrap_or(0)))
    }

    /// With `tls`, the TLS handshake right after connecting.
    pub fn implicit_tls(
        &mut self,
        connection: &Connection,
        options: &Options,
        deadline: &Deadline,
    ) -> Result<(), Stop> {
        if options.tls {
            let us = connection
                .upgrade_tls(None, options.tls_verify, deadline.remaining_ms())
                .map_err(|err| Stop::Net(format!("TLS handshake with {}", self.target), err))?;
            self.tls_us = Some(us);
            self.encryption = Encryption::Implicit;
        }
        Ok(())
    }

    /// The TLS handshake after the server's go-ahead to `command` (STARTTLS, STLS), and a
    /// new stream over TLS taking at most `limit` bytes. Whatever the server sent in plain
    /// text after its go-ahead stays in the plain `stream`, dropped here, and is never
    /// taken for part of the TLS session (CVE-2011-0411).
    pub fn start_tls<'c>(
        &mut self,
        connection: &'c Connection,
        stream: Stream<'c>,
        options: &Options,
        deadline: &Deadline,
        command: &str,
        limit: usize,
    ) -> Result<Stream<'c>, Stop> {
        self.between_commands = false;
        drop(stream);
        let us = connection
            .upgrade_tls(None, options.tls_verify, deadline.remaining_ms())
            .map_err(|err| Stop::Net(format!("{command} with {}", self.target), err))?;
        self.tls_us = Some(us);
        self.encryption = Encryption::StartTls;
        Ok(Stream::new(connection, *deadline, limit))
    }

    /// Critical when the greeting's `text` lacks `expect_banner`; `shown` is the greeting
    /// as a summary quotes it, and the expected text is quoted up to `max_shown` characters.
    ///
    /// ```
    /// use vitals_sdk::starttls::{Options, Session, Stop};
    /// use vitals_sdk::Timings;
    /// let timings = Timings { dns_us: None, connect_us: None, tls_us: None, first_byte_us: None, total_us: 0 };
    /// let session = Session::new("mail.test:25", "192.0.2.1:25".into(), timings);
    /// let options = Options { expect_banner: Some("Postfix".into()), ..Options::default() };
    /// let Err(Stop::Verdict(result)) = session.expect_banner(&options, "mail ESMTP", "220 mail ESMTP", 80) else { panic!() };
    /// assert_eq!(result.summary, "the greeting of mail.test:25, \"220 mail ESMTP\", does not contain \"Postfix\"");
    /// ```
    pub fn expect_banner(&self, options: &Options, text: &str, shown: &str, max_shown: usize) -> Result<(), Stop> {
        match &options.expect_banner {
            Some(expected) if !text.contains(expected.as_str()) => Err(Stop::Verdict(critical(
                format!(
                    "the greeting of {}, \"{shown}\", does not contain \"{}\"",
                    self.target,
                    sanitize(expected, max_shown)
                ),
                Reason::Assertion,
            ))),
            _ => Ok(()),
        }
    }

    /// Whether the connection is still plain and the config needs STARTTLS offered.
    pub fn needs_starttls(&self, options: &Options) -> bool {
        self.encryption == Encryption::None && options.needs_starttls()
    }

    /// A summary's headline: `{what} from {target} in {total}` and how TLS came on.
    pub fn headline(&self, what: &str, command: &str) -> String {
        let total_ms = us_to_ms(self.total_us());
        format!("{what} from {} in {}{}", self.target, format_ms(total_ms), self.encryption.suffix(command))
    }

    /// The result of a conversation that went to its end: `headline`, judged by the whole
    /// conversation's time against `warn_time` and `crit_time`.
    pub fn judge(&self, headline: String, options: &Options) -> CheckResult {
        let shown = |d: Option<Duration>| d.map(format_duration).unwrap_or_default();
        match options.time_thresholds().evaluate(us_to_ms(self.total_us())) {
            Status::Critical => {
                critical(format!("{headline}: slower than crit_time {}", shown(options.crit_time)), Reason::Assertion)
            }
            Status::Warning => {
                warning(format!("{headline}: slower than warn_time {}", shown(options.warn_time)), Reason::Assertion)
            }
            _ => ok(headline),
        }
    }

    /// The phase times: time_connect, time_tls, time_banner, the protocol's own `phase`
    /// (such as time_ehlo) when it was timed, and time_total with the thresholds, in ms.
    pub fn metrics(&self, options: &Options, phase: (&str, Option<u64>)) -> Vec<Metric> {
        let thresholds = options.time_thresholds();
        let mut metrics = vec![metric("time_connect", us_to_ms(self.connect_us()), "ms").min(0.0)];
        for (name, us) in [("time_tls", self.tls_us), ("time_banner", self.banner_us), phase] {
            if let Some(us) = us {
                metrics.push(metric(name, us_to_ms(us), "ms").min(0.0));
            }
        }
        metrics.push(
            metric("time_total", us_to_ms(self.total_us()), "ms")
                .warn_opt(thresholds.warn)
                .crit_opt(thresholds.crit)
                .min(0.0),
        );
        metrics
    }
}

/// A short stream for the goodbye (QUIT, LOGOUT): it waits at most `wait_ms`, within the
/// check's deadline, and takes at most 4 KiB.
pub fn farewell<'c>(connection: &'c Connection, deadline: &Deadline, wait_ms: u32) -> Stream<'c> {
    Stream::new(connection, Deadline::from_ms(deadline.remaining_ms().min(wait_ms)), 4096)
}

/// A mail check's config: parsed with the rules between its keys, and the shared keys in
/// it (write [`options`](Self::options) with [`starttls_options!`](crate::starttls_options)).
pub trait MailConfig: Sized {
    /// Parses the config and checks the rules between its keys.
    fn load(json: &str) -> Result<Self, ConfigError>;

    /// The keys every mail check shares.
    fn options(&self) -> Options;
}

/// The [`Options`] of a config struct that has the shared keys as fields of the same names
/// (`expect_banner`, `require_starttls`, `starttls`, `tls`, `tls_verify`, `warn_time`,
/// `crit_time`).
///
/// ```
/// struct Config { expect_banner: Option<String>, require_starttls: bool, starttls: bool, tls: bool, tls_verify: bool,
///     warn_time: Option<std::time::Duration>, crit_time: Option<std::time::Duration>, helo: String }
/// let config = Config { expect_banner: None, require_starttls: true, starttls: false, tls: false, tls_verify: true,
///     warn_time: None, crit_time: None, helo: "x".into() };
/// let options = vitals_sdk::starttls_options!(config);
/// assert!(options.needs_starttls() && options.tls_verify);
/// ```
#[macro_export]
macro_rules! starttls_options {
    ($config:expr) => {
        $crate::starttls::Options {
            expect_banner: $config.expect_banner.clone(),
            require_starttls: $config.require_starttls,
            starttls: $config.starttls,
            tls: $config.tls,
            tls_verify: $config.tls_verify,
            warn_time: $config.warn_time,
            crit_time: $config.crit_time,
        }
    };
}

/// One mail protocol's conversation, which [`run`] drives.
pub trait Conversation: Sized {
    /// The plugin's parsed config.
    type Config: MailConfig;

    /// The conversation on a connection just opened.
    fn start(session: Session) -> Self;

    /// The connection's facts.
    fn session(&mut self) -> &mut Session;

    /// Everything up to the goodbye, as far as the config asks and the server goes.
    fn converse(&mut self, config: &Self::Config, connection: &Connection, deadline: &Deadline) -> Result<(), Stop>;

    /// Says goodbye (QUIT, LOGOUT) when no command is pending; the result is decided.
    fn goodbye(&mut self, connection: &Connection, deadline: &Deadline);

    /// The result of a conversation that went to its end.
    fn judge(&self, config: &Self::Config) -> CheckResult;

    /// The metrics, whatever the outcome.
    fn metrics(&self, config: &Self::Config) -> Vec<Metric>;

    /// The details, whatever the outcome.
    fn details(&self) -> String;
}

/// `validate` of a [`Conversation`]'s check: the problems of its config.
pub fn validate<C: Conversation>(json: &str) -> Vec<ConfigProblem> {
    match C::Config::load(json) {
        Ok(_) => Vec::new(),
        Err(error) => error.into_problems(),
    }
}

/// `run` of a [`Conversation`]'s check: parses the config and the target, connects,
/// converses, says goodbye when it can, and gives the result with its metrics and details.
pub fn run<C: Conversation>(request: &CheckRequest) -> CheckResult {
    let deadline = Deadline::from_ms(request.deadline_ms);
    let config = match C::Config::load(&request.config) {
        Ok(config) => config,
        Err(error) => return error.into(),
    };
    let crate::session::Peer { connection, link, .. } = match crate::session::Peer::open(request, &deadline) {
        Ok(peer) => peer,
        Err(result) => return result,
    };
    let mut conversation = C::start(Session::new(&link.target, link.remote, link.timings));
    let outcome = conversation.converse(&config, &connection, &deadline);
    conversation.session().elapsed = deadline.elapsed();
    if conversation.session().between_commands {
        conversation.goodbye(&connection, &deadline);
    }
    drop(connection);
    let result = match outcome {
        Ok(()) => conversation.judge(&config),
        Err(stop) => stop.into_result(),
    };
    result.with_metrics(conversation.metrics(&config)).with_details(conversation.details())
}
