//! The built-in `postgres` check plugin of Vitals.
//!
//! It speaks the PostgreSQL frontend/backend protocol 3.0 over the host's `tcp`
//! interface: an optional SSLRequest and TLS upgrade, the StartupMessage and the login
//! (trust, cleartext password, MD5 or SCRAM-SHA-256), a read-only query whose first value
//! may be compared with an expected one, optionally the number of client connections and
//! the replication lag, and a Terminate. Every phase is timed.

mod auth;
mod config;
mod protocol;
mod session;

use std::time::Duration;

use vitals_sdk::session::{Link, Peer};
use vitals_sdk::tcp::Connection;
use vitals_sdk::{
    Check, CheckRequest, CheckResult, ConfigProblem, Deadline, Description, Metric, PluginConfig, Reason, Status,
    Thresholds, critical, description, format_duration, format_ms, metric, ok, register_check, sanitize,
    shown_duration, unknown, us_to_ms, warning,
};

use crate::config::{Config, TlsMode};
use crate::protocol::MAX_SHOWN;
use crate::session::{QueryOutcome, Session, TlsAnswer, with_server_details};

/// How long the query and values get in a summary.
const MAX_QUERY_SHOWN: usize = 60;
/// How long a value gets in a summary.
const MAX_VALUE_SHOWN: usize = 80;

/// Client connections and the server's limit, in one row.
const CONNECTIONS_SQL: &str = "SELECT count(*), current_setting('max_connections') \
                               FROM pg_stat_activity WHERE backend_type = 'client backend'";
/// Whether the server is a standby, its replication lag in seconds, its standbys, and how
/// many of those the user may not see the details of (their `state` is NULL without
/// pg_monitor or pg_read_all_stats).
const REPLICATION_SQL: &str = "SELECT pg_is_in_recovery(), \
     CASE WHEN pg_is_in_recovery() THEN EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) \
     ELSE (SELECT COALESCE(EXTRACT(EPOCH FROM max(replay_lag)), 0) FROM pg_stat_replication) END, \
     (SELECT count(*) FROM pg_stat_replication), \
     (SELECT count(*) FROM pg_stat_replication WHERE state IS NULL)";

/// The `postgres` check.
pub struct Postgres;

impl Check for Postgres {
    fn describe() -> Description {
        description(
            "postgres",
            env!("CARGO_PKG_VERSION"),
            "Logs in to a PostgreSQL server at the target host:port with the \
             frontend/backend protocol 3.0: TLS when tls asks for it, then trust, cleartext, MD5 or \
             SCRAM-SHA-256 authentication, then runs query (default SELECT 1) in a read-only session and \
             compares the first column of the first row with expect. A refused login is critical. \
             Optionally counts the client connections (pg_stat_activity) and measures the replication lag \
             (on a standby now() - pg_last_xact_replay_timestamp(), which also grows while the primary has no \
             writes; on a primary the largest replay_lag of \
             pg_stat_replication, 0 without standbys; the user needs pg_monitor to see it). Reports \
             time_connect, time_tls, time_auth (startup and login), time_query and time_total in ms \
             (warn_time and crit_time apply to time_total), connections (with max_connections as max) and \
             replication_lag in s.",
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
        let Peer { connection, link, .. } = match Peer::open(&request, &deadline) {
            Ok(peer) => peer,
            Err(result) => return result,
        };
        let mut exchange = Exchange::new(link);
        let outcome = converse(&config, &connection, &deadline, &mut exchange);
        drop(connection);
        exchange.link.elapsed = deadline.elapsed();
        let result = match outcome {
            Ok(()) => judge(&config, &exchange),
            Err(result) => result,
        };
        with_details(result.with_metrics(metrics(&config, &exchange)), &details(&config, &exchange))
    }
}

register_check!(Postgres);

/// How the connection was secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tls {
    /// `tls = "disable"`: no SSLRequest.
    Disabled,
    /// The server declined the SSLRequest (`tls = "prefer"`).
    Declined,
    /// TLS, the certificate verified or not.
    Used { verified: bool },
    /// The server accepted the SSLRequest and the handshake failed.
    Failed,
}

/// The replication state the server reported.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Replication {
    /// A standby: how long ago it replayed the primary's last transaction, none before the first.
    Standby { lag_s: Option<f64> },
    /// A primary: the largest replay_lag of its standbys (0 without any), and how many there are.
    Primary { lag_s: f64, standbys: u64 },
}

impl Replication {
    /// The lag in seconds, when known.
    fn lag_s(&self) -> Option<f64> {
        match self {
            Replication::Standby { lag_s } => *lag_s,
            Replication::Primary { lag_s, .. } => Some(*lag_s),
        }
    }
}

/// What happened in one check, for judging it and for its metrics.
#[derive(Debug)]
struct Exchange {
    /// The target, the address connected to and the phase times.
    link: Link,
    /// How the connection was secured.
    tls: Tls,
    /// From the StartupMessage to ReadyForQuery.
    auth_us: Option<u64>,
    /// How the server authenticated the user.
    auth_method: Option<String>,
    /// The server_version parameter.
    server_version: Option<String>,
    /// The query's time, from sending it to ReadyForQuery.
    query_us: Option<u64>,
    /// What the query returned.
    query: Option<QueryOutcome>,
    /// Client connections and max_connections.
    connections: Option<(u64, Option<u64>)>,
    /// The replication state.
    replication: Option<Replication>,
    /// Bytes received from the server.
    received: usize,
}

impl Exchange {
    fn new(link: Link) -> Exchange {
        Exchange {
            link,
            tls: Tls::Disabled,
            auth_us: None,
            auth_method: None,
            server_version: None,
            query_us: None,
            query: None,
            connections: None,
            replication: None,
            received: 0,
        }
    }
}

/// The whole session; a failure comes back as the result to return (without metrics).
fn converse(
    config: &Config,
    connection: &Connection,
    deadline: &Deadline,
    exchange: &mut Exchange,
) -> Result<(), CheckResult> {
    let mut session = Session::new(connection, *deadline, &exchange.link.target);
    let outcome = talk(config, &mut session, deadline, exchange);
    session.terminate();
    exchange.received = session.received();
    outcome
}

/// TLS, login, setup, the query and the monitoring queries, each phase timed into `exchange`.
fn talk(
    config: &Config,
    session: &mut Session,
    deadline: &Deadline,
    exchange: &mut Exchange,
) -> Result<(), CheckResult> {
    let target = exchange.link.target.clone();
    if config.tls != TlsMode::Disable {
        match session.request_tls()? {
            TlsAnswer::Accepted => {
                let verified = config.tls == TlsMode::Require && config.tls_verify;
                exchange.tls = Tls::Failed;
                exchange.link.tls_us = Some(session.upgrade_tls(verified)?);
                exchange.tls = Tls::Used { verified };
            }
            TlsAnswer::Declined if config.tls == TlsMode::Require => {
                exchange.tls = Tls::Declined;
                return Err(critical(format!("{target} does not accept TLS (tls = \"require\")"), Reason::Tls));
            }
            TlsAnswer::Declined => exchange.tls = Tls::Declined,
        }
    }

    let started = deadline.elapsed();
    let login = session.login(&config.user, config.database(), config.password.as_deref())?;
    exchange.auth_us = Some(micros(deadline.elapsed().saturating_sub(started)));
    exchange.auth_method = Some(login.method);
    exchange.server_version = login.server_version;

    // Read-only transactions guard against a query that writes; the statement timeout has
    // the server cancel a query the check will no longer wait for. Whole seconds, rounded
    // down, so that the same check sends the same text (as its recorded cases expect).
    let statement_timeout = (deadline.remaining_ms() / 1000).max(1);
    let setup = format!("SET default_transaction_read_only = on; SET statement_timeout = '{statement_timeout}s'");
    let prepared = session.query(&setup)?;
    if let Some(error) = prepared.error {
        let summary = format!("preparing the session on {target} failed: {}", error.shown());
        return Err(with_server_details(critical(summary, Reason::Assertion), &error));
    }

    let started = deadline.elapsed();
    let outcome = session.query(&config.query)?;
    exchange.query_us = Some(micros(deadline.elapsed().saturating_sub(started)));
    if let Some(error) = &outcome.error {
        let reason = if error.is_statement_timeout() { Reason::Timeout } else { Reason::Assertion };
        let summary = format!("{} failed: {}", shown_query(&config.query), error.shown());
        return Err(with_server_details(critical(summary, reason), error));
    }
    exchange.query = Some(outcome);

    if config.wants_connections() {
        let row = monitoring_query(session, CONNECTIONS_SQL, "counting the connections")?;
        let count = number(&row, 0).and_then(|n| n.parse::<u64>().ok());
        let max = number(&row, 1).and_then(|n| n.parse::<u64>().ok());
        let Some(count) = count else {
            return Err(critical(format!("{target} sent no connection count"), Reason::Protocol));
        };
        exchange.connections = Some((count, max));
    }
    if config.wants_replication() {
        let row = monitoring_query(session, REPLICATION_SQL, "measuring the replication lag")?;
        let lag = number(&row, 1).and_then(|n| n.parse::<f64>().ok()).filter(|s| s.is_finite()).map(|s| s.max(0.0));
        exchange.replication = Some(match number(&row, 0).as_deref() {
            Some("t") => Replication::Standby { lag_s: lag },
            Some("f") => {
                let hidden: u64 = number(&row, 3).and_then(|n| n.parse().ok()).unwrap_or(0);
                if hidden > 0 {
                    return Err(unknown(
                        format!(
                            "the replay_lag of {hidden} {} on {target} is hidden from user \"{}\": grant it pg_monitor",
                            plural(hidden, "standby"),
                            sanitize(&config.user, 64)
                        ),
                        Reason::PluginError,
                    ));
                }
                Replication::Primary {
                    lag_s: lag.unwrap_or(0.0),
                    standbys: number(&row, 2).and_then(|n| n.parse().ok()).unwrap_or(0),
                }
            }
            _ => return Err(critical(format!("{target} sent no replication state"), Reason::Protocol)),
        });
    }
    Ok(())
}

/// The first row of one of the check's own queries, whose failure is critical.
fn monitoring_query(session: &mut Session, sql: &str, what: &str) -> Result<Vec<Option<Vec<u8>>>, CheckResult> {
    let outcome = session.query(sql)?;
    if let Some(error) = outcome.error {
        return Err(with_server_details(
            critical(format!("{what} failed: {}", error.shown()), Reason::Assertion),
            &error,
        ));
    }
    Ok(outcome.first_row.unwrap_or_default())
}

/// Column `index` of a row as text (none for NULL or a missing column).
fn number(row: &[Option<Vec<u8>>], index: usize) -> Option<String> {
    row.get(index)?.as_ref().map(|bytes| String::from_utf8_lossy(bytes).trim().to_string())
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// The query for a summary, quoted unless it is the default.
fn shown_query(query: &str) -> String {
    let query = sanitize(query, MAX_QUERY_SHOWN);
    if query == "SELECT 1" { query } else { format!("\"{query}\"") }
}

/// What the query returned in its first column: `"1"`, `NULL` or `no rows`.
fn shown_value(outcome: Option<&QueryOutcome>) -> String {
    match outcome.and_then(|o| o.first_row.as_ref()) {
        None => "no rows".to_string(),
        Some(row) => match row.first() {
            None => "a row without columns".to_string(),
            Some(None) => "NULL".to_string(),
            Some(Some(bytes)) => quoted(&String::from_utf8_lossy(bytes)),
        },
    }
}

/// A value for a summary: in quotes, escaped as Rust does (so that no control character
/// gets through and `"up "` stays apart from `"up"`), cut to [`MAX_VALUE_SHOWN`] characters.
fn quoted(text: &str) -> String {
    let mut cut: String = text.chars().take(MAX_VALUE_SHOWN).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    format!("{cut:?}")
}

/// The first column of the first row, when it is not NULL.
fn first_value(outcome: Option<&QueryOutcome>) -> Option<&[u8]> {
    outcome?.first_row.as_ref()?.first()?.as_deref()
}

/// The result of a session that went through: the expected value, the time, the
/// connections and the lag against their thresholds.
fn judge(config: &Config, exchange: &Exchange) -> CheckResult {
    let version = exchange.server_version.as_deref().and_then(|v| v.split_whitespace().next());
    let mut headline = match version {
        Some(version) => format!("PostgreSQL {} on {}", sanitize(version, 32), exchange.link.target),
        None => format!("PostgreSQL on {}", exchange.link.target),
    };
    if matches!(exchange.tls, Tls::Used { .. }) {
        headline.push_str(" over TLS");
    }
    let query_ms = us_to_ms(exchange.query_us.unwrap_or(0));
    let total_ms = us_to_ms(micros(exchange.link.elapsed));
    headline.push_str(&format!(
        ": {} returned {} in {}, {} in all",
        shown_query(&config.query),
        shown_value(exchange.query.as_ref()),
        format_ms(query_ms),
        format_ms(total_ms)
    ));

    let mut problems: Vec<(Status, String)> = Vec::new();
    if let Some(expect) = &config.expect
        && first_value(exchange.query.as_ref()) != Some(expect.as_bytes())
    {
        problems.push((Status::Critical, format!("expected {}", quoted(expect))));
    }
    match config.time_thresholds().evaluate(total_ms) {
        Status::Critical => {
            problems.push((Status::Critical, format!("slower than crit_time {}", shown_duration(config.crit_time))))
        }
        Status::Warning => {
            problems.push((Status::Warning, format!("slower than warn_time {}", shown_duration(config.warn_time))))
        }
        _ => {}
    }
    if let Some((count, max)) = exchange.connections {
        headline.push_str(&match max {
            Some(max) => format!(", {count} of {max} {}", plural(max, "connection")),
            None => format!(", {count} {}", plural(count, "connection")),
        });
        let thresholds = config.connection_thresholds();
        if let Some((status, key, range)) = crossed(&thresholds, count as f64, "connections") {
            problems.push((status, format!("{count} {} crossed {key} \"{range}\"", plural(count, "connection"))));
        }
    }
    if let Some(replication) = exchange.replication {
        headline.push_str(&match replication {
            Replication::Standby { lag_s: Some(lag) } => format!(", replication lag {} (standby)", seconds(lag)),
            Replication::Standby { lag_s: None } => ", replication lag unknown (standby)".to_string(),
            Replication::Primary { lag_s, standbys: 0 } => {
                format!(", replication lag {} (primary without standbys)", seconds(lag_s))
            }
            Replication::Primary { lag_s, standbys } => {
                let standbys = format!("{standbys} {}", plural(standbys, "standby"));
                format!(", replication lag {} (primary, largest replay_lag of {standbys})", seconds(lag_s))
            }
        });
        match replication.lag_s() {
            Some(lag) => {
                if let Some((status, key, _)) = crossed(&config.lag_thresholds(), lag, "replication_lag") {
                    let limit = if status == Status::Critical {
                        config.replication_lag_crit
                    } else {
                        config.replication_lag_warn
                    };
                    problems.push((status, format!("replication lag over {key} {}", shown_duration(limit))));
                }
            }
            None => problems.push((Status::Warning, "the standby has replayed no transaction yet".to_string())),
        }
    }

    let status = problems.iter().map(|(status, _)| *status).max_by_key(|s| severity(*s)).unwrap_or(Status::Ok);
    if problems.is_empty() {
        return ok(headline);
    }
    let summary = format!("{headline}: {}", problems.into_iter().map(|(_, p)| p).collect::<Vec<_>>().join("; "));
    match status {
        Status::Critical => critical(summary, Reason::Assertion),
        _ => warning(summary, Reason::Assertion),
    }
}

/// Which threshold `value` crossed, if any: its status, key and range.
fn crossed(thresholds: &Thresholds, value: f64, prefix: &str) -> Option<(Status, String, String)> {
    match thresholds.evaluate(value) {
        Status::Critical => Some((Status::Critical, format!("{prefix}_crit"), thresholds.crit.map(|r| r.to_string())?)),
        Status::Warning => Some((Status::Warning, format!("{prefix}_warn"), thresholds.warn.map(|r| r.to_string())?)),
        _ => None,
    }
}

fn severity(status: Status) -> u8 {
    match status {
        Status::Ok => 0,
        Status::Warning => 1,
        Status::Unknown => 2,
        Status::Critical => 3,
    }
}

/// `word` with an `s` unless there is one.
fn plural(count: u64, word: &str) -> String {
    if count == 1 { word.to_string() } else { format!("{word}s") }
}

/// Seconds of lag for a summary.
fn seconds(s: f64) -> String {
    Duration::try_from_secs_f64(s).map(format_duration).unwrap_or_else(|_| format!("{s} s"))
}

/// Phase times, connections and lag, each with the thresholds it was judged by.
fn metrics(config: &Config, exchange: &Exchange) -> Vec<Metric> {
    let mut metrics = exchange.link.phase_metrics(Thresholds::default());
    for (name, us) in [("time_auth", exchange.auth_us), ("time_query", exchange.query_us)] {
        if let Some(us) = us {
            metrics.push(metric(name, us_to_ms(us), "ms").min(0.0));
        }
    }
    let time = config.time_thresholds();
    metrics.push(exchange.link.time_total().warn_opt(time.warn).crit_opt(time.crit));
    if let Some((count, max)) = exchange.connections {
        let thresholds = config.connection_thresholds();
        let mut connections =
            metric("connections", count as f64, "").warn_opt(thresholds.warn).crit_opt(thresholds.crit).min(0.0);
        if let Some(max) = max {
            connections = connections.max(max as f64);
        }
        metrics.push(connections);
    }
    if let Some(lag) = exchange.replication.and_then(|r| r.lag_s()) {
        let thresholds = config.lag_thresholds();
        metrics.push(metric("replication_lag", lag, "s").warn_opt(thresholds.warn).crit_opt(thresholds.crit).min(0.0));
    }
    metrics
}

/// What the session found, one fact a line.
fn details(config: &Config, exchange: &Exchange) -> String {
    let mut lines = vec![format!("remote address: {}", exchange.link.remote)];
    lines.push(format!(
        "user: \"{}\", database: \"{}\"",
        sanitize(&config.user, MAX_SHOWN),
        sanitize(config.database(), MAX_SHOWN)
    ));
    lines.push(
        match exchange.tls {
            Tls::Disabled => "TLS: disabled",
            Tls::Declined => "TLS: declined by the server",
            Tls::Used { verified: true } => "TLS: yes, certificate verified",
            Tls::Used { verified: false } => "TLS: yes, certificate not verified",
            Tls::Failed => "TLS: the handshake failed",
        }
        .to_string(),
    );
    if let Some(method) = &exchange.auth_method {
        lines.push(format!("authentication: {method}"));
    }
    if let Some(version) = &exchange.server_version {
        lines.push(format!("server version: {}", sanitize(version, MAX_SHOWN)));
    }
    if let Some(outcome) = &exchange.query {
        lines.push(format!("rows: {}", outcome.rows));
    }
    if let Some(replication) = exchange.replication {
        lines.push(
            match replication {
                Replication::Standby { .. } => "role: standby (lag: now() - pg_last_xact_replay_timestamp())",
                Replication::Primary { .. } => "role: primary (lag: the largest replay_lag in pg_stat_replication)",
            }
            .to_string(),
        );
    }
    lines.push(format!("bytes received: {}", exchange.received));
    lines.join("\n")
}

/// `result` with `details` before any it has (the server's detail and hint).
fn with_details(result: CheckResult, details: &str) -> CheckResult {
    let combined = match &result.details {
        Some(existing) => format!("{details}\n{existing}"),
        None => details.to_string(),
    };
    result.with_details(combined)
}

#[cfg(test)]
mod tests;
