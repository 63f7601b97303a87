//! The built-in `ping` check plugin of Vitals.
//!
//! It asks the host (the `ping` interface of WIT 0.1.3) to send a series of ICMP echo
//! requests to the target's host and judges the replies like Nagios' check_ping and
//! check_icmp: packet loss and the average round trip against warning and critical
//! thresholds, with `rta`, `rtt_min`, `rtt_max`, `pl`, `sent` and `received` as metrics.

mod config;

use vitals_sdk::ping::{self, PingStats};
use vitals_sdk::{
    Check, CheckRequest, CheckResult, ConfigProblem, Deadline, Description, Metric, PluginConfig, Reason, Status,
    critical, description, format_ms, metric, net_failure, ok, register_check, sanitize, unknown, warning,
};

use crate::config::{Config, parse_target};

/// The `ping` check.
pub struct Ping;

impl Check for Ping {
    fn describe() -> Description {
        description(
            "ping",
            env!("CARGO_PKG_VERSION"),
            "Sends count ICMP echo requests through the host to the target's host (ping:HOST, \
             or HOST:PORT with the port ignored) and checks the share of requests without a \
             reply against loss_warn/loss_crit and the average round trip against \
             rtt_warn/rtt_crit (each alerts above its value). No reply at all is critical \
             (reason timeout). Metrics: rta, rtt_min and rtt_max (ms), pl (packet loss, %), \
             sent and received.",
            Config::keys(),
        )
    }

    fn validate(config: &str) -> Vec<ConfigProblem> {
        match Config::load(config) {
            Ok(_) => Vec::new(),
            Err(error) => error.problems().to_vec(),
        }
    }

    fn run(request: CheckRequest) -> CheckResult {
        let deadline = Deadline::from_ms(request.deadline_ms);
        let config = match Config::load(&request.config) {
            Ok(config) => config,
            Err(error) => return error.into(),
        };
        let host = match parse_target(&request.target) {
            Ok(host) => host,
            Err(why) => {
                let target = sanitize(&request.target, 80);
                return unknown(format!("invalid target \"{target}\": {why}"), Reason::PluginError);
            }
        };
        let interval_ms = u32::try_from(config.interval.as_millis()).unwrap_or(u32::MAX);
        let timeout_ms = config.series_ms().min(deadline.remaining_ms());
        match ping::echo(&host, config.count, interval_ms, config.size, timeout_ms) {
            Ok(stats) => judge(&config, &host, &stats),
            Err(err) => net_failure(&format!("ping {}", sanitize(&host, 80)), &err),
        }
    }
}

register_check!(Ping);

/// What a series of echo requests found, in the units of the metrics.
#[derive(Debug, Clone, PartialEq)]
struct Series {
    sent: u32,
    received: u32,
    /// Packet loss in percent.
    loss: f64,
    /// Average, smallest and largest round trip in ms; none without replies.
    rtt: Option<(f64, f64, f64)>,
}

impl Series {
    fn of(stats: &PingStats) -> Series {
        let sent = stats.sent;
        let received = stats.received.min(sent);
        let loss = if sent == 0 { 100.0 } else { f64::from(sent - received) / f64::from(sent) * 100.0 };
        let ms: Vec<f64> = stats.rtts_us.iter().map(|&us| us as f64 / 1000.0).collect();
        let rtt = (!ms.is_empty()).then(|| {
            let average = ms.iter().sum::<f64>() / ms.len() as f64;
            let min = ms.iter().copied().fold(f64::INFINITY, f64::min);
            let max = ms.iter().copied().fold(0.0, f64::max);
            (round3(average), min, max)
        });
        Series { sent, received, loss, rtt }
    }
}

/// The result of a series the host completed.
fn judge(config: &Config, host: &str, stats: &PingStats) -> CheckResult {
    let series = Series::of(stats);
    let shown = sanitize(host, 80);
    let address = sanitize(&stats.address, 60);
    let name = if address.is_empty() || address == shown.trim_matches(['[', ']']) {
        shown
    } else {
        format!("{shown} ({address})")
    };
    let mut headline = format!("PING {name}: {}/{} replies", series.received, series.sent);
    if let Some((average, _, _)) = series.rtt {
        headline.push_str(&format!(", rta {}", format_ms(average)));
    }
    headline.push_str(&format!(", loss {}%", number(series.loss)));
    if series.sent < config.count {
        headline.push_str(&format!(" ({} of {} sent before the deadline)", series.sent, config.count));
    }
    let metrics = metrics(config, &series);
    let details = details(&address, &series, stats);
    if series.received == 0 {
        return critical(headline, Reason::Timeout).with_metrics(metrics).with_details(details);
    }
    let loss = config.loss_thresholds().evaluate(series.loss);
    let rtt = series.rtt.map_or(Status::Ok, |(average, _, _)| config.rtt_thresholds().evaluate(average));
    let worst = if [loss, rtt].contains(&Status::Critical) {
        Status::Critical
    } else if [loss, rtt].contains(&Status::Warning) {
        Status::Warning
    } else {
        Status::Ok
    };
    let mut crossed = Vec::new();
    if loss == worst && worst != Status::Ok {
        let (key, limit) =
            if worst == Status::Critical { ("loss_crit", config.loss_crit) } else { ("loss_warn", config.loss_warn) };
        crossed.push(format!("loss above {key} {}%", number(limit.0)));
    }
    if rtt == worst && worst != Status::Ok {
        let (key, limit) =
            if worst == Status::Critical { ("rtt_crit", config.rtt_crit) } else { ("rtt_warn", config.rtt_warn) };
        let limit = limit.map(vitals_sdk::format_duration).unwrap_or_default();
        crossed.push(format!("rta above {key} {limit}"));
    }
    let summary = if crossed.is_empty() { headline } else { format!("{headline}: {}", crossed.join(", ")) };
    let result = match worst {
        Status::Critical => critical(summary, Reason::Assertion),
        Status::Warning => warning(summary, Reason::Assertion),
        _ => ok(summary),
    };
    result.with_metrics(metrics).with_details(details)
}

/// rta, rtt_min and rtt_max (with replies), pl, sent and received.
fn metrics(config: &Config, series: &Series) -> Vec<Metric> {
    let rtt = config.rtt_thresholds();
    let loss = config.loss_thresholds();
    let mut metrics = Vec::new();
    if let Some((average, min, max)) = series.rtt {
        metrics.push(metric("rta", average, "ms").warn_opt(rtt.warn).crit_opt(rtt.crit).min(0.0));
        metrics.push(metric("rtt_min", min, "ms").min(0.0));
        metrics.push(metric("rtt_max", max, "ms").min(0.0));
    }
    metrics.push(metric("pl", round3(series.loss), "%").warn_opt(loss.warn).crit_opt(loss.crit).min(0.0).max(100.0));
    metrics.push(metric("sent", f64::from(series.sent), "").min(0.0));
    metrics.push(metric("received", f64::from(series.received), "").min(0.0).max(f64::from(series.sent)));
    metrics
}

/// The address, the counts and every round trip.
fn details(address: &str, series: &Series, stats: &PingStats) -> String {
    let mut text = format!("address {address}: {} sent, {} received", series.sent, series.received);
    if let Some((average, min, max)) = series.rtt {
        text.push_str(&format!("\nrtt min/avg/max: {} / {} / {}", format_ms(min), format_ms(average), format_ms(max)));
        let each: Vec<String> = stats.rtts_us.iter().map(|&us| format_ms(us as f64 / 1000.0)).collect();
        text.push_str(&format!("\nreplies: {}", each.join(", ")));
    }
    text
}

/// A percentage for a summary: at most one decimal, no trailing zeros (`33.3`, `20`).
fn number(value: f64) -> String {
    let text = format!("{value:.1}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Milliseconds to the microsecond.
fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests;
