//! The built-in `mysql` check plugin of Vitals, for MySQL and MariaDB.
//!
//! It speaks the MySQL client/server protocol over the host's `tcp`: reads the server's
//! greeting, optionally asks for TLS, logs in (mysql_native_password, or
//! caching_sha2_password's fast path), runs `SELECT 1` or a configured read-only query,
//! optionally compares the first value it returns, optionally reads Threads_connected, and
//! says goodbye with COM_QUIT. The whole time, the connections and the expected value can
//! carry thresholds.

mod auth;
mod config;
mod protocol;
mod session;

use std::time::Instant;

use vitals_sdk::session::{Link, Peer};
use vitals_sdk::{
    Check, CheckRequest, CheckResult, ConfigProblem, Deadline, Description, Metric, PluginConfig, Reason, Status,
    Thresholds, Timings, critical, description, format_duration, format_ms, metric, net_failure, ok, register_check,
    sanitize, unknown, us_to_ms, warning,
};

use crate::config::Config;
use crate::protocol::{ER_ACCESS_DENIED, ER_READ_ONLY_TRANSACTION};
use crate::session::{DEFAULT_QUERY, Failure, Outcome, Phase, Session};

/// How long a value from the server or the config may get in a summary.
const MAX_SHOWN: usize = 80;

/// The `mysql` check.
pub struct Mysql;

impl Check for Mysql {
    fn describe() -> Description {
        description(
            "mysql",
            env!("CARGO_PKG_VERSION"),
            "Logs in to a MySQL or MariaDB server at host:port with the \
             MySQL protocol, optionally over TLS (SSLRequest), with mysql_native_password or \
             caching_sha2_password, and runs SELECT 1 or a configured query in a read-only \
             session, optionally checking the first value it returns; optionally reads \
             Threads_connected against thresholds. The summary names the server version. \
             Metrics: time_connect, time_auth (connection open to login accepted, TLS \
             included), time_query, time_total (warn_time and crit_time apply to it), \
             time_tls and time_dns when they happen (all in ms), and connections (a count) \
             when a connections threshold is set.",
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
        let Peer { connection, link: Link { target, remote, timings, .. }, .. } = match Peer::open(&request, &deadline)
        {
            Ok(peer) => peer,
            Err(result) => return result,
        };
        let opened = Instant::now();
        let mut session = Session::default();
        let outcome = session::converse(&config, &connection, deadline, &target, &mut session);
        drop(connection);
        // The host's connect call, then the plugin's own clock from there.
        let after_connect = u64::try_from(opened.elapsed().as_micros()).unwrap_or(u64::MAX);
        let run = Run { target, remote, timings, total_us: timings.total_us + after_connect };
        judge(&config, &run, &session, outcome)
    }
}

register_check!(Mysql);

/// The connection's facts that are not the protocol's.
#[derive(Debug, Clone)]
struct Run {
    /// The target as configured.
    target: String,
    /// The address connected to.
    remote: String,
    /// Resolution and connect times.
    timings: Timings,
    /// From the start of the connect to the end of the conversation.
    total_us: u64,
}

/// The result of a run, from what the conversation learnt and how it ended.
fn judge(config: &Config, run: &Run, session: &Session, outcome: Result<(), Failure>) -> CheckResult {
    let result = match outcome {
        Ok(()) => success(config, run, session),
        Err(failure) => failed(config, run, session, failure),
    };
    result.with_metrics(metrics(config, run, session)).with_details(details(run, session))
}

/// "SERVER on TARGET", or the target alone before the greeting.
fn headline(run: &Run, session: &Session) -> String {
    match &session.handshake {
        Some(handshake) => format!("{} on {}", protocol::server_name(&handshake.version), run.target),
        None => run.target.clone(),
    }
}

/// The user as the summary shows it.
fn user(config: &Config) -> String {
    sanitize(&config.user, MAX_SHOWN)
}

/// The result of a conversation that stopped early.
fn failed(config: &Config, run: &Run, session: &Session, failure: Failure) -> CheckResult {
    let head = headline(run, session);
    let user = user(config);
    match failure {
        Failure::Net { context, error } => net_failure(&context, &error),
        Failure::Protocol(summary) => critical(summary, Reason::Protocol),
        Failure::Refused(Phase::Login, error) if error.code == ER_ACCESS_DENIED => {
            critical(format!("authentication failed for user \"{user}\": {}", error.message), Reason::Assertion)
        }
        Failure::Refused(Phase::Login, error) => {
            critical(format!("{head} refused the login of \"{user}\": {error}"), Reason::Assertion)
        }
        Failure::Refused(Phase::Greeting, error) => {
            critical(format!("{head} refused the connection: {error}"), Reason::Assertion)
        }
        Failure::Refused(Phase::Status, error) => {
            critical(format!("{head}: {} failed: {error}", session::THREADS_CONNECTED), Reason::Assertion)
        }
        Failure::Refused(Phase::ReadOnly, error) => {
            critical(format!("{head}: {} failed: {error}", session::READ_ONLY), Reason::Assertion)
        }
        Failure::Refused(Phase::Query, error) if error.code == ER_READ_ONLY_TRANSACTION => {
            unknown(format!("{head}: the query is not read-only, so it was not run: {error}"), Reason::PluginError)
        }
        Failure::Refused(Phase::Query, error) => {
            critical(format!("{head}: the query failed: {error}"), Reason::Assertion)
        }
        Failure::NoTls => critical(format!("{head} does not offer TLS, and tls is on"), Reason::Tls),
        Failure::FullAuthNeedsTls => unknown(
            format!(
                "{head} asks for caching_sha2_password full authentication of \"{user}\" (its password \
                 is not cached), which needs TLS: set tls = true"
            ),
            Reason::PluginError,
        ),
        Failure::UnsupportedPlugin(plugin) => unknown(
            format!(
                "{head} asks for authentication plugin \"{plugin}\" for \"{user}\", which this check does not \
                 speak (it speaks mysql_native_password and caching_sha2_password)"
            ),
            Reason::PluginError,
        ),
    }
}

/// The result of a conversation that got to the end: the expected value, then thresholds.
fn success(config: &Config, run: &Run, session: &Session) -> CheckResult {
    let head = headline(run, session);
    let label = if config.query.is_some() { "query" } else { DEFAULT_QUERY };
    let returned = match &session.outcome {
        Some(Outcome::Rows { first: Some(row), .. }) => match row.first() {
            Some(Some(value)) => Returned::Value(String::from_utf8_lossy(value).into_owned()),
            _ => Returned::Null,
        },
        Some(Outcome::Rows { first: None, .. }) => Returned::NoRows,
        Some(Outcome::Done) | None => Returned::NoResultSet,
    };
    if let Some(expect) = &config.expect
        && !matches!(&returned, Returned::Value(value) if value == expect)
    {
        let expect = sanitize(expect, MAX_SHOWN);
        return critical(
            format!("{head}: {label} returned {}, expected \"{expect}\"", returned.shown()),
            Reason::Assertion,
        );
    }
    let query_ms = us_to_ms(session.query_us.unwrap_or(0));
    let total_ms = us_to_ms(run.total_us);
    let mut parts = vec![format!("\"{}\" logged in", user(config))];
    parts.push(match returned {
        Returned::NoResultSet => format!("{label} ran in {}", format_ms(query_ms)),
        returned => format!("{label} returned {} in {}", returned.shown(), format_ms(query_ms)),
    });
    if let Some(connections) = session.connections {
        parts.push(format!("Threads_connected {connections}"));
    }
    parts.push(format!("total {}", format_ms(total_ms)));
    let summary = format!("{head}: {}", parts.join(", "));

    let mut status = Status::Ok;
    let mut problems = Vec::new();
    match config.time_thresholds().evaluate(total_ms) {
        Status::Critical => {
            problems.push(format!("slower than crit_time {}", shown(config.crit_time)));
            status = Status::Critical;
        }
        Status::Warning => {
            problems.push(format!("slower than warn_time {}", shown(config.warn_time)));
            status = Status::Warning;
        }
        _ => {}
    }
    if let Some(connections) = session.connections {
        let thresholds = config.connection_thresholds();
        let (verdict, key, range) = match thresholds.evaluate(connections) {
            Status::Critical => (Status::Critical, "connections_crit", thresholds.crit),
            Status::Warning => (Status::Warning, "connections_warn", thresholds.warn),
            _ => (Status::Ok, "", None),
        };
        if let Some(range) = range {
            problems.push(format!("Threads_connected {connections} outside {key} \"{range}\""));
            if verdict == Status::Critical || status == Status::Ok {
                status = verdict;
            }
        }
    }
    let summary = if problems.is_empty() { summary } else { format!("{summary}: {}", problems.join("; ")) };
    match status {
        Status::Critical => critical(summary, Reason::Assertion),
        Status::Warning => warning(summary, Reason::Assertion),
        _ => ok(summary),
    }
}

/// What the query's first value was.
enum Returned {
    /// A value.
    Value(String),
    /// SQL NULL.
    Null,
    /// A result set without rows.
    NoRows,
    /// An OK packet instead of a result set.
    NoResultSet,
}

impl Returned {
    /// As a summary shows it.
    fn shown(&self) -> String {
        match self {
            Returned::Value(value) => format!("\"{}\"", sanitize(value, MAX_SHOWN)),
            Returned::Null => "NULL".to_string(),
            Returned::NoRows => "no rows".to_string(),
            Returned::NoResultSet => "no result set".to_string(),
        }
    }
}

/// A threshold duration for a summary.
fn shown(d: Option<std::time::Duration>) -> String {
    d.map(format_duration).unwrap_or_default()
}

/// The phase times measured so far, and the connections when read.
fn metrics(config: &Config, run: &Run, session: &Session) -> Vec<Metric> {
    let ms = |name: &str, us: u64| metric(name, us_to_ms(us), "ms").min(0.0);
    let mut metrics = run.timings.phase_metrics(session.tls_us, Thresholds::default());
    if let Some(us) = session.auth_us {
        metrics.push(ms("time_auth", us));
    }
    if let Some(us) = session.query_us {
        metrics.push(ms("time_query", us));
    }
    let time = config.time_thresholds();
    metrics.push(ms("time_total", run.total_us).warn_opt(time.warn).crit_opt(time.crit));
    if let Some(connections) = session.connections {
        let limits = config.connection_thresholds();
        metrics.push(metric("connections", connections, "").warn_opt(limits.warn).crit_opt(limits.crit).min(0.0));
    }
    metrics
}

/// The server, address, authentication and result shape, one per line.
fn details(run: &Run, session: &Session) -> String {
    let mut lines = vec![format!("remote address: {}", run.remote)];
    if let Some(handshake) = &session.handshake {
        lines.push(format!(
            "server version: {} (connection id {})",
            sanitize(&handshake.version, MAX_SHOWN),
            handshake.connection_id
        ));
    }
    lines.push(format!("TLS: {}", if session.tls_us.is_some() { "yes" } else { "no" }));
    if let Some(plugin) = &session.auth_plugin {
        lines.push(format!("authentication plugin: {}", sanitize(plugin, MAX_SHOWN)));
    }
    if let Some(Outcome::Rows { columns, rows, cut, .. }) = &session.outcome {
        lines.push(format!("columns: {}", columns.join(", ")));
        lines.push(if *cut { format!("rows: {rows} read, more left unread") } else { format!("rows: {rows}") });
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests;
