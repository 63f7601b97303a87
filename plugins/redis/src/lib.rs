//! The built-in `redis` check plugin of Vitals.
//!
//! It speaks RESP to `host:port` through the host's `tcp`: optionally TLS, optionally
//! `AUTH [user] password`, then `PING` (which must answer `+PONG`) and `INFO`, whose role,
//! clients, memory and replication fields it judges against the check's config.

mod config;
mod info;
mod resp;

use std::time::{Duration, Instant};

use vitals_sdk::session::{Link, Peer};
use vitals_sdk::tcp::{self, Stream};
use vitals_sdk::{
    Check, CheckRequest, CheckResult, ConfigProblem, CrossChecked, Deadline, Description, Metric, PluginConfig, Reason,
    Status, Thresholds, critical, description, duration_ms, first_line, format_bytes, format_duration, format_ms,
    metric, net_failure, ok, register_check, sanitize, shown_duration, unknown, warning,
};

use crate::config::{Config, MemoryLimit, Role};
use crate::info::Info;
use crate::resp::{Reply, command};

/// How much a server may send in all: INFO and a few short replies.
const MAX_RECEIVED: usize = 1024 * 1024;

/// How long a quoted reply may get in a summary.
const MAX_QUOTED: usize = 200;

/// The `redis` check.
pub struct Redis;

impl Check for Redis {
    fn describe() -> Description {
        description(
            "redis",
            env!("CARGO_PKG_VERSION"),
            "Connects to a Redis server (host:port), optionally over TLS and with AUTH (a \
             password, or an ACL user and password), sends PING, which must answer +PONG, and \
             INFO. It checks the role (master or replica), a replica's link to its master \
             (critical when down), and used_memory against memory_warn/memory_crit, given as \
             sizes (\"512MiB\") or as percentages of maxmemory (\"80%\", only when maxmemory is \
             set); warn_time/crit_time apply to the PING time. Refused credentials are critical. \
             Metrics: time_connect, time_ping and time_total (ms), used_memory (B, with \
             maxmemory as its max), connected_clients, and for a replica master_last_io (s, \
             since the last exchange with the master).",
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
        let mut exchange = Exchange { link, ping: None, info: Info::default() };
        let outcome = converse(&config, &connection, deadline, &mut exchange);
        drop(connection);
        exchange.link.elapsed = deadline.elapsed();
        match outcome {
            Ok(()) => judge(&config, &exchange),
            Err(failure) => failure.with_metrics(metrics(&config, &exchange)),
        }
    }
}

register_check!(Redis);

/// What happened on the connection, for judging it.
#[derive(Debug)]
struct Exchange {
    /// The target, the address connected to and the phase times.
    link: Link,
    /// How long PING took to answer, once it has.
    ping: Option<Duration>,
    /// What INFO said (empty until it has).
    info: Info,
}

/// TLS, AUTH, PING and INFO; a failure comes back as its result (without metrics).
fn converse(
    config: &Config,
    connection: &tcp::Connection,
    deadline: Deadline,
    exchange: &mut Exchange,
) -> Result<(), CheckResult> {
    let target = exchange.link.target.clone();
    if config.tls {
        let us = connection
            .upgrade_tls(None, config.tls_verify, deadline.remaining_ms())
            .map_err(|err| net_failure(&format!("TLS handshake with {target}"), &err))?;
        exchange.link.tls_us = Some(us);
    }
    let mut stream = Stream::new(connection, deadline, MAX_RECEIVED);
    let user =
        config.user.as_deref().map_or_else(|| "default".to_string(), |user| sanitize(user, 64).trim().to_string());
    if let Some(password) = &config.password {
        let auth = match &config.user {
            Some(user) => command(&["AUTH", user, password]),
            None => command(&["AUTH", password]),
        };
        match call(&mut stream, &auth, "AUTH", &target)? {
            Reply::Simple(text) if text == "OK" => {}
            reply => return Err(refused(reply, "AUTH", "+OK", &target, &user, true)),
        }
    }
    let started = Instant::now();
    let reply = call(&mut stream, &command(&["PING"]), "PING", &target)?;
    match reply {
        Reply::Simple(text) if text == "PONG" => exchange.ping = Some(started.elapsed()),
        reply => return Err(refused(reply, "PING", "+PONG", &target, &user, config.password.is_some())),
    }
    match call(&mut stream, &command(&["INFO"]), "INFO", &target)? {
        Reply::Bulk(text) => {
            let info = Info::parse(&String::from_utf8_lossy(&text));
            if info.get("role").is_none() {
                return Err(critical(
                    format!("INFO from {target} has no role field: \"{}\"", clean(&text)),
                    Reason::Protocol,
                ));
            }
            exchange.info = info;
            Ok(())
        }
        reply => Err(refused(reply, "INFO", "a bulk string", &target, &user, config.password.is_some())),
    }
}

/// Sends `request` (the command `name`) and reads its reply.
fn call(stream: &mut Stream<'_>, request: &[u8], name: &str, target: &str) -> Result<Reply, CheckResult> {
    stream.send(request).map_err(|err| net_failure(&format!("{name} to {target}"), &err))?;
    resp::read(stream).map_err(|err| net_failure(&format!("{name} to {target}"), &err))
}

/// The result of a reply that is not the one `name` expects (`expected`): refused
/// credentials, another error, or something that is not RESP at all.
fn refused(reply: Reply, name: &str, expected: &str, target: &str, user: &str, authenticated: bool) -> CheckResult {
    match reply {
        Reply::Error(text) if matches!(reply_code(&text), "NOAUTH" | "WRONGPASS") => {
            let hint = if authenticated { "" } else { " (no password configured)" };
            critical(
                format!("authentication failed for user \"{user}\"{hint}: {}", clean(text.as_bytes())),
                Reason::Assertion,
            )
        }
        Reply::Error(text) if reply_code(&text) == "NOPERM" => critical(
            format!("user \"{user}\" may not run {name} on {target}: {}", clean(text.as_bytes())),
            Reason::Assertion,
        ),
        Reply::Error(text) => critical(
            format!("{name} to {target} failed: server error \"{}\"", clean(text.as_bytes())),
            Reason::Protocol,
        ),
        Reply::Simple(text) => critical(
            format!("{name} to {target}: expected {expected}, got \"+{}\"", clean(text.as_bytes())),
            Reason::Protocol,
        ),
        Reply::Bulk(data) => critical(
            format!("{name} to {target}: expected {expected}, got a bulk string \"{}\"", clean(&data)),
            Reason::Protocol,
        ),
        Reply::Unexpected(line) => {
            critical(format!("{name} to {target}: expected {expected}, got \"{}\"", clean(&line)), Reason::Protocol)
        }
    }
}

/// The first line of what the peer sent, made safe and short for a summary.
fn clean(data: &[u8]) -> String {
    // `first_line` trims before it turns control characters into spaces: trim again.
    first_line(data, MAX_QUOTED).trim().to_string()
}

/// The first word of an error reply (`WRONGPASS`).
fn reply_code(text: &str) -> &str {
    text.split_whitespace().next().unwrap_or_default()
}

/// One thing found wrong, and how bad it is.
struct Finding {
    status: Status,
    reason: Reason,
    text: String,
}

impl Finding {
    fn new(status: Status, reason: Reason, text: String) -> Finding {
        Finding { status, reason, text }
    }

    /// Critical, then unknown (a limit that cannot be judged), then warning.
    fn rank(&self) -> u8 {
        match self.status {
            Status::Critical => 3,
            Status::Unknown => 2,
            Status::Warning => 1,
            Status::Ok => 0,
        }
    }
}

/// The result of a server that answered PING and INFO.
fn judge(config: &Config, exchange: &Exchange) -> CheckResult {
    let info = &exchange.info;
    let role_text = info.shown("role").unwrap_or_default();
    let role = Role::from_info(&role_text);
    // INFO says `slave`; the summary and the config say `replica`.
    let role_name = role.map_or(role_text.as_str(), |role| role.name());
    let mut headline = format!("{} {role_name} at {}", info.product(), exchange.link.target);
    if role == Some(Role::Replica) {
        let master = info.master().unwrap_or_else(|| "?".to_string());
        let link = info.shown("master_link_status").unwrap_or_else(|| "?".to_string());
        headline.push_str(&format!(" (master {master}, link {link})"));
    }
    let ping_ms = exchange.ping.map_or(0.0, duration_ms);
    headline.push_str(&format!(", PONG in {}", format_ms(ping_ms)));
    let maxmemory = info.unsigned("maxmemory").unwrap_or(0);
    let used = info.unsigned("used_memory");
    if let Some(used) = used {
        if maxmemory > 0 {
            headline.push_str(&format!(
                ", {} of {} used ({:.1}%)",
                format_bytes(used),
                format_bytes(maxmemory),
                percent(used, maxmemory)
            ));
        } else {
            headline.push_str(&format!(", {} used", format_bytes(used)));
        }
    }
    if let Some(clients) = info.unsigned("connected_clients") {
        headline.push_str(&format!(", {clients} client{}", if clients == 1 { "" } else { "s" }));
    }

    let mut findings = Vec::new();
    if role == Some(Role::Replica) && info.get("master_link_status") != Some("up") {
        let master = info.master().unwrap_or_else(|| "?".to_string());
        let mut text = format!("link to master {master} is down");
        if let Some(since) = info.unsigned("master_link_down_since_seconds") {
            text.push_str(&format!(" (for {})", format_duration(Duration::from_secs(since))));
        }
        findings.push(Finding::new(Status::Critical, Reason::Assertion, text));
    }
    if let Some(expected) = config.role
        && role != Some(expected)
    {
        let text = format!("role is {role_name}, expected {}", expected.name());
        findings.push(Finding::new(Status::Critical, Reason::Assertion, text));
    }
    findings.extend(memory_findings(config, used, maxmemory));
    match config.time_thresholds().evaluate(ping_ms) {
        Status::Critical => findings.push(Finding::new(
            Status::Critical,
            Reason::Assertion,
            format!("PING slower than crit_time {}", shown_duration(config.crit_time)),
        )),
        Status::Warning => findings.push(Finding::new(
            Status::Warning,
            Reason::Assertion,
            format!("PING slower than warn_time {}", shown_duration(config.warn_time)),
        )),
        _ => {}
    }

    let mut lines = vec![format!("remote address: {}", exchange.link.remote)];
    lines.extend(info.details());
    let details = lines.join("\n");
    let result = match findings.iter().max_by_key(|f| f.rank()) {
        None => ok(headline),
        Some(worst) => {
            let texts: Vec<&str> = findings.iter().map(|f| f.text.as_str()).collect();
            let summary = format!("{headline}: {}", texts.join("; "));
            match worst.status {
                Status::Critical => critical(summary, worst.reason),
                Status::Unknown => unknown(summary, worst.reason),
                _ => warning(summary, worst.reason),
            }
        }
    };
    result.with_metrics(metrics(config, exchange)).with_details(details)
}

/// What memory_crit and memory_warn say of `used` bytes: crossed (a crossed memory_crit
/// makes a crossed memory_warn redundant), not judgeable (a percentage without maxmemory,
/// no used_memory in INFO), or nothing.
fn memory_findings(config: &Config, used: Option<u64>, maxmemory: u64) -> Vec<Finding> {
    let limits =
        [(Status::Critical, "memory_crit", config.memory_crit), (Status::Warning, "memory_warn", config.memory_warn)];
    let limits: Vec<(Status, &str, MemoryLimit)> =
        limits.into_iter().filter_map(|(status, key, limit)| limit.map(|limit| (status, key, limit))).collect();
    if limits.is_empty() {
        return Vec::new();
    }
    let Some(used) = used else {
        return vec![Finding::new(Status::Unknown, Reason::Protocol, "INFO has no used_memory to judge".to_string())];
    };
    let mut findings = Vec::new();
    let mut crit_crossed = false;
    for (status, key, limit) in limits {
        let Some(bytes) = limit.bytes(maxmemory) else {
            findings.push(Finding::new(
                Status::Unknown,
                Reason::PluginError,
                format!("{key} {limit} is a share of maxmemory, which is not set; give a size such as \"512MiB\""),
            ));
            continue;
        };
        if used <= bytes || crit_crossed {
            continue;
        }
        let text = match limit {
            MemoryLimit::Bytes(_) => format!("used memory above {key} {limit}"),
            MemoryLimit::Percent(_) => {
                format!("used memory {:.1}% of maxmemory, above {key} {limit}", percent(used, maxmemory))
            }
        };
        findings.push(Finding::new(status, Reason::Assertion, text));
        crit_crossed = status == Status::Critical;
    }
    findings
}

/// `part` as a percentage of `whole` (not 0).
fn percent(part: u64, whole: u64) -> f64 {
    part as f64 * 100.0 / whole as f64
}

/// The times measured, and what INFO said of memory, clients and the master link.
fn metrics(config: &Config, exchange: &Exchange) -> Vec<Metric> {
    let mut metrics = exchange.link.phase_metrics(Thresholds::default());
    if let Some(ping) = exchange.ping {
        let thresholds = config.time_thresholds();
        metrics.push(
            metric("time_ping", duration_ms(ping), "ms").warn_opt(thresholds.warn).crit_opt(thresholds.crit).min(0.0),
        );
    }
    metrics.push(exchange.link.time_total());
    let info = &exchange.info;
    if let Some(used) = info.unsigned("used_memory") {
        let maxmemory = info.unsigned("maxmemory").unwrap_or(0);
        let mut used = metric("used_memory", used as f64, "B")
            .warn_opt(config.memory_warn.and_then(|limit| limit.range(maxmemory)))
            .crit_opt(config.memory_crit.and_then(|limit| limit.range(maxmemory)))
            .min(0.0);
        if maxmemory > 0 {
            used = used.max(maxmemory as f64);
        }
        metrics.push(used);
    }
    if let Some(clients) = info.unsigned("connected_clients") {
        metrics.push(metric("connected_clients", clients as f64, "").min(0.0));
    }
    if Role::from_info(info.get("role").unwrap_or_default()) == Some(Role::Replica)
        && let Some(seconds) = info.signed("master_last_io_seconds_ago").filter(|s| *s >= 0)
    {
        metrics.push(metric("master_last_io", seconds as f64, "s").min(0.0));
    }
    metrics
}

#[cfg(test)]
mod tests;
