//! The built-in `dns` check plugin of Vitals.
//!
//! It asks one question through the host's `dns` interface: a name server given in the
//! target (`dns://192.0.2.53:53/www.example.com`) or the system's resolver
//! (`dns:www.example.com`), for one record type, and judges the answer: its response
//! code, the values it must hold, how many records, the AA and AD flags, and how long it
//! took. The judging is a pure function of the answer ([`judge`]), so it is tested on
//! plain values.

mod config;
mod values;

use vitals_sdk::dns::{self, Answer, AnswerRecord, Query};
use vitals_sdk::{
    Check, CheckRequest, CheckResult, ConfigError, ConfigProblem, Deadline, Description, Metric, PluginConfig, Reason,
    Status, critical, description, format_duration, format_ms, metric, net_failure, ok, register_check, sanitize,
    unknown, us_to_ms, warning,
};

use crate::config::{Config, Target, parse_target};
use crate::values::{Data, Expected};

/// How many values a summary lists before "and N more".
const SHOWN_VALUES: usize = 5;
/// How long one value may get in a summary.
const MAX_VALUE: usize = 64;
/// How many records the details list.
const DETAIL_RECORDS: usize = 50;
/// How long one record may get in the details.
const MAX_DETAIL: usize = 200;

/// The `dns` check.
pub struct Dns;

impl Check for Dns {
    fn describe() -> Description {
        description(
            "dns",
            env!("CARGO_PKG_VERSION"),
            "Asks a name server (target dns://SERVER[:PORT]/NAME) or the system's resolver \
             (target dns:NAME) for the records of one type of a name, over UDP or TCP, and \
             checks the answer: its response code, values that must be among its records \
             (or be all of them), how many records it holds, the authoritative (AA) and \
             DNSSEC-validated (AD) flags, and the response time against warning and critical \
             thresholds. Reports time_query (ms), records (count), ttl_min (s, the smallest \
             TTL) and, with dnssec, dnssec_authenticated (0 or 1).",
            Config::keys(),
        )
    }

    fn validate(config: &str) -> Vec<ConfigProblem> {
        match Config::parse(config) {
            Ok(config) => config.expected().err().unwrap_or_default(),
            Err(error) => error.into_problems(),
        }
    }

    fn run(request: CheckRequest) -> CheckResult {
        let deadline = Deadline::from_ms(request.deadline_ms);
        let config = match Config::parse(&request.config) {
            Ok(config) => config,
            Err(error) => return error.into(),
        };
        let expected = match config.expected() {
            Ok(expected) => expected,
            Err(problems) => return ConfigError::new(problems).into(),
        };
        let target = match parse_target(&request.target) {
            Ok(target) => target,
            Err(why) => {
                let shown = sanitize(&request.target, 200);
                return unknown(format!("invalid target {shown:?}: {why}"), Reason::PluginError);
            }
        };
        let query = Query {
            name: target.name.clone(),
            kind: config.kind.0,
            server: target.server.clone(),
            tcp: config.tcp,
            dnssec: config.dnssec,
            timeout_ms: deadline.remaining_ms(),
        };
        match dns::resolve(&query) {
            Ok(answer) => judge(&config, &expected, &target, &answer),
            Err(err) => net_failure(
                &format!("DNS query {} {} to {}", config.kind, target.shown_name(), target.shown_server()),
                &err,
            ),
        }
    }
}

register_check!(Dns);

/// The result of an answer: the response code first (reason `dns`), then every
/// assertion (reason `assertion`), then the time thresholds.
fn judge(config: &Config, expected: &[Expected], target: &Target, answer: &Answer) -> CheckResult {
    let kind = config.kind.0;
    let records: Vec<&AnswerRecord> = answer.records.iter().filter(|r| r.kind == kind).collect();
    let rcode = sanitize(&answer.rcode, 16).to_ascii_uppercase();
    let head = format!("{} {} from {}", config.kind, target.shown_name(), sanitize(&answer.server, 64));
    let time_ms = us_to_ms(answer.time_us);
    let took = format_ms(time_ms);
    let found = if rcode != "NOERROR" {
        rcode.clone()
    } else if records.is_empty() {
        format!("no {} records", config.kind)
    } else {
        listing(records.iter().map(|r| r.data.as_str()))
    };
    let finish =
        |result: CheckResult| result.with_metrics(metrics(config, &records, answer)).with_details(details(answer));
    let wanted = &config.expect_rcode.0;
    if rcode != *wanted {
        let found = if rcode == "NOERROR" {
            format!("{found} (NOERROR, expected {wanted})")
        } else {
            format!("{found} (expected {wanted})")
        };
        return finish(critical(format!("{head}: {found} in {took}"), Reason::Dns));
    }
    let headline = format!("{head}: {found} in {took}");
    let mut problems = Vec::new();
    if config.dnssec && !answer.authenticated {
        problems.push("not authenticated by DNSSEC (no AD flag)".to_string());
    }
    if config.authoritative && !answer.authoritative {
        problems.push("not authoritative (no AA flag)".to_string());
    }
    let count = records.len();
    let min = config.min_records() as usize;
    if count < min {
        problems.push(if count == 0 {
            format!("expected at least {min}")
        } else {
            format!("{}, expected at least {min}", plural(count, "record"))
        });
    }
    if let Some(max) = config.max_records.map(|m| m as usize)
        && count > max
    {
        problems.push(format!("{}, expected at most {max}", plural(count, "record")));
    }
    let data: Vec<Data> = records.iter().map(|r| Data::of(kind, &r.data)).collect();
    let missing: Vec<&str> =
        expected.iter().filter(|e| !data.iter().any(|d| e.matches(d))).map(|e| e.text.as_str()).collect();
    if !missing.is_empty() {
        problems.push(format!("{} not in the answer", listing(missing)));
    }
    if config.expect_exactly {
        let unexpected: Vec<&str> = records
            .iter()
            .zip(&data)
            .filter(|(_, d)| !expected.iter().any(|e| e.matches(d)))
            .map(|(r, _)| r.data.as_str())
            .collect();
        if !unexpected.is_empty() {
            problems.push(format!("{} not expected", listing(unexpected)));
        }
    }
    if !problems.is_empty() {
        return finish(critical(format!("{headline}: {}", problems.join("; ")), Reason::Assertion));
    }
    let shown = |d: Option<std::time::Duration>| d.map(format_duration).unwrap_or_default();
    finish(match config.time_thresholds().evaluate(time_ms) {
        Status::Critical => {
            critical(format!("{headline}: slower than crit_time {}", shown(config.crit_time)), Reason::Assertion)
        }
        Status::Warning => {
            warning(format!("{headline}: slower than warn_time {}", shown(config.warn_time)), Reason::Assertion)
        }
        _ => ok(headline),
    })
}

/// At most [`SHOWN_VALUES`] values, each cleaned and bounded, then "and N more".
fn listing<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let values: Vec<&str> = values.into_iter().collect();
    let mut text = values.iter().take(SHOWN_VALUES).map(|v| sanitize(v, MAX_VALUE)).collect::<Vec<String>>().join(", ");
    if values.len() > SHOWN_VALUES {
        text.push_str(&format!(" and {} more", values.len() - SHOWN_VALUES));
    }
    text
}

/// "1 record", "3 records".
fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

/// The response time, the number of records of the type, their smallest TTL and, with
/// `dnssec`, whether the answer was authenticated.
fn metrics(config: &Config, records: &[&AnswerRecord], answer: &Answer) -> Vec<Metric> {
    let thresholds = config.time_thresholds();
    let mut metrics = vec![
        metric("time_query", us_to_ms(answer.time_us), "ms")
            .warn_opt(thresholds.warn)
            .crit_opt(thresholds.crit)
            .min(0.0),
    ];
    let min = config.min_records();
    let bounds = match (min, config.max_records) {
        (0, None) => None,
        (0, Some(max)) => Some(max.to_string()),
        (min, None) => Some(format!("{min}:")),
        (min, Some(max)) => Some(format!("{min}:{max}")),
    };
    metrics.push(metric("records", records.len() as f64, "").crit_opt(bounds).min(0.0));
    if let Some(ttl) = records.iter().map(|r| r.ttl).min() {
        metrics.push(metric("ttl_min", f64::from(ttl), "s").min(0.0));
    }
    if config.dnssec {
        metrics
            .push(metric("dnssec_authenticated", if answer.authenticated { 1.0 } else { 0.0 }, "").min(0.0).max(1.0));
    }
    metrics
}

/// The response code, the flags and the answer section, one record a line as zone files
/// write them.
fn details(answer: &Answer) -> String {
    let mut flags: Vec<&str> = Vec::new();
    if answer.authoritative {
        flags.push("aa");
    }
    if answer.authenticated {
        flags.push("ad");
    }
    let flags = if flags.is_empty() { "none".to_string() } else { flags.join(" ") };
    let mut lines = vec![format!(
        "{} from {}, flags: {flags}, {} in the answer section",
        sanitize(&answer.rcode, 16),
        sanitize(&answer.server, 64),
        plural(answer.records.len(), "record")
    )];
    for record in answer.records.iter().take(DETAIL_RECORDS) {
        lines.push(format!(
            "{} {} {} {}",
            sanitize(&record.name, MAX_DETAIL),
            record.ttl,
            record.kind.mnemonic(),
            sanitize(&record.data, MAX_DETAIL)
        ));
    }
    if answer.records.len() > DETAIL_RECORDS {
        lines.push(format!("... and {} more", answer.records.len() - DETAIL_RECORDS));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests;
