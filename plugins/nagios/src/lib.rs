//! The built-in `nagios` check plugin of Vitals: the migration path for Monitoring Plugins.
//!
//! It runs one program (check_disk, check_http, a team's own script) through the host's
//! `exec` interface, which runs only the exact path the check grants with
//! `allow = ["exec:PATH"]`, never through a shell, with a clean environment, no input, a
//! time limit and capped output. The exit code is the status, as the Monitoring Plugins
//! Development Guidelines define it; the output becomes the summary, details and metrics
//! ([`output`]). All of the judging is in pure functions of the program's exit, tested
//! natively (`exec` has no host there).

mod config;
mod output;

use std::time::Duration;

use vitals_sdk::exec::{self, Exit};
use vitals_sdk::{
    Check, CheckRequest, CheckResult, ConfigProblem, Deadline, Description, Metric, NetError, PluginConfig, Reason,
    Status, critical, description, first_line, format_duration, metric, net_failure, ok, register_check, sanitize,
    unknown, us_to_ms, warning,
};

use crate::config::{Config, Limit};
use crate::output::Perf;

/// Most perfdata items kept as metrics: the host keeps 64 metrics, one is `time_total`.
const MAX_PERF: usize = 63;
/// Notes about skipped perfdata quoted in the details; the rest are counted.
const MAX_NOTES: usize = 5;
/// How much of stderr a summary quotes when stdout was empty, in characters.
const MAX_STDERR_QUOTE: usize = 120;
/// Longest summary of a program the host would not run, in characters (its message names
/// the path and the grant to add).
const MAX_REFUSAL: usize = 400;

/// The `nagios` check.
pub struct Nagios;

impl Check for Nagios {
    fn describe() -> Description {
        description(
            "nagios",
            env!("CARGO_PKG_VERSION"),
            "Runs one Monitoring Plugins program (check_disk, check_http, a script of your own) outside \
             the sandbox: only the absolute path the check grants with allow = [\"exec:PATH\"], never \
             through a shell, with PATH=/usr/bin:/bin and LC_ALL=C as its whole environment, no input, \
             a time limit and its output capped. Exit code 0 is ok, 1 warning, 2 critical (reason \
             assertion), 3, any other code or a signal unknown (plugin-error); a program still running \
             at its time limit is ended with its process group, critical with reason timeout. The \
             first line of stdout (without its own \"SERVICE STATUS - \" prefix) is the summary, the \
             long output and stderr are the details, and perfdata ('label'=value[UOM];warn;crit;min;max, \
             on the first line and after a | in the long output) becomes metrics with their unit (s, ms, \
             us, %, B, KB, MB, GB, TB, c) and thresholds; a label becomes a metric name of letters, \
             digits, _, - and . (check_disk's / is root, /var/log is var_log). time_total is how long \
             the program ran, in ms. The target is host:port (for $HOST$ and $PORT$ in args) or \
             system:WHAT.",
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
        let args = match config::expand(&config.args, &request.target) {
            Ok(args) => args,
            Err(why) => return unknown(why, Reason::PluginError),
        };
        let limit = config::limit(config.timeout, deadline.remaining());
        let name = program_name(&config.command);
        if limit.time.is_zero() {
            return critical(format!("no time left to run {name}"), Reason::Timeout);
        }
        let limit_ms = u32::try_from(limit.time.as_millis()).unwrap_or(u32::MAX);
        match exec::run(&config.command, &args, limit_ms) {
            Ok(exit) => judge(&config.command, limit, &exit),
            Err(err) => refused(&config.command, &err),
        }
    }
}

register_check!(Nagios);

/// The program's file name, for summaries.
fn program_name(command: &str) -> &str {
    command.rsplit('/').find(|part| !part.is_empty()).unwrap_or(command)
}

/// The result of a program the host would not (or could not) start. A program the check
/// is not granted is `critical`, reason `denied` (not `unknown` as for a refused network
/// call): the check cannot run at all, as Nagios makes a missing plugin critical.
fn refused(command: &str, err: &NetError) -> CheckResult {
    let mut result = net_failure(&format!("run {}", program_name(command)), err);
    result.summary = sanitize(&result.summary, MAX_REFUSAL);
    if let NetError::Denied(_) = err {
        result.status = Status::Critical;
    }
    result.with_details(format!("program: {command}"))
}

/// The result of a program that ran: its status from the exit code (or the time limit),
/// its summary, details and metrics from its output.
fn judge(command: &str, limit: Limit, exit: &Exit) -> CheckResult {
    let name = program_name(command);
    let stdout = String::from_utf8_lossy(&exit.stdout);
    let stderr = String::from_utf8_lossy(&exit.stderr);
    let parts = output::split(&stdout);
    let mut notes = Vec::new();
    let perf = output::perfdata(&parts.perfdata, &mut notes);
    let metrics = metrics(perf, exit.time_us, &mut notes);
    let word = match exit.code {
        Some(0) => "OK",
        Some(1) => "WARNING",
        Some(2) => "CRITICAL",
        _ => "UNKNOWN",
    };
    let mut text = output::summary_text(&parts.summary, word);
    if text.is_empty() {
        text = no_output(&stderr);
    }
    let result = if exit.timed_out {
        critical(timed_out(name, limit), Reason::Timeout)
    } else {
        match exit.code {
            Some(0) => ok(text),
            Some(1) => warning(text, Reason::Assertion),
            Some(2) => critical(text, Reason::Assertion),
            Some(3) => unknown(text, Reason::PluginError),
            Some(code) => unknown(
                format!("{text} ({name} exited with {code}, not a Monitoring Plugins status)"),
                Reason::PluginError,
            ),
            None => unknown(format!("{text} ({name} was ended by a signal)"), Reason::PluginError),
        }
    };
    result.with_metrics(metrics).with_details(details(command, limit, exit, &parts.long, &stderr, &notes))
}

/// The summary of a program ended at its time limit.
fn timed_out(name: &str, limit: Limit) -> String {
    let within = format_duration(limit.time);
    if limit.by_check {
        format!("{name} did not finish within {within} (what was left of the check's timeout) and was ended")
    } else {
        format!("{name} did not finish within its timeout of {within} and was ended")
    }
}

/// The summary of a program that printed nothing on stdout: `(no output)`, with the first
/// line of stderr when there is one.
fn no_output(stderr: &str) -> String {
    match first_line(stderr.as_bytes(), MAX_STDERR_QUOTE) {
        line if line.is_empty() => "(no output)".to_string(),
        line => format!("(no output) stderr: {line}"),
    }
}

/// The perfdata items as metrics with unique names, then `time_total` (unless the program
/// reports a metric of that name itself).
fn metrics(perf: Vec<Perf>, time_us: u64, notes: &mut Vec<String>) -> Vec<Metric> {
    let total = perf.len();
    let mut taken: Vec<String> = Vec::new();
    let mut metrics = Vec::new();
    for p in perf.into_iter().take(MAX_PERF) {
        let name = output::unique(output::metric_name(&p.label), &taken);
        taken.push(name.clone());
        let mut m = metric(name, p.value, p.unit).warn_opt(p.warn).crit_opt(p.crit);
        m.min = p.min;
        m.max = p.max;
        metrics.push(m);
    }
    if total > MAX_PERF {
        notes.push(format!("{} more perfdata items dropped (at most {MAX_PERF} are kept)", total - MAX_PERF));
    }
    if !taken.iter().any(|n| n == "time_total") {
        metrics.push(metric("time_total", us_to_ms(time_us), "ms").min(0.0));
    }
    metrics
}

/// The details: the long output, stderr, what was skipped of the perfdata, and how the
/// program ended.
fn details(command: &str, limit: Limit, exit: &Exit, long: &str, stderr: &str, notes: &[String]) -> String {
    let mut blocks = Vec::new();
    let long = output::clean_lines(long, output::MAX_LONG_OUTPUT);
    if !long.is_empty() {
        blocks.push(long);
    }
    let stderr = output::clean_lines(stderr, output::MAX_STDERR);
    if !stderr.is_empty() {
        blocks.push(format!("stderr:\n{stderr}"));
    }
    let mut tail: Vec<String> = notes.iter().take(MAX_NOTES).cloned().collect();
    if notes.len() > MAX_NOTES {
        tail.push(format!("{} more perfdata notes", notes.len() - MAX_NOTES));
    }
    if exit.truncated {
        tail.push("the host cut the program's output (it keeps 64 KiB of stdout and 16 KiB of stderr)".to_string());
    }
    let ran = format_duration(Duration::from_micros(exit.time_us));
    let ended = match (exit.timed_out, exit.code) {
        (true, _) => format!("ended with its process group at its time limit of {}", format_duration(limit.time)),
        (false, Some(code)) => format!("exit code {code}"),
        (false, None) => "ended by a signal".to_string(),
    };
    tail.push(format!("program: {command}, {ended}, after {ran}"));
    blocks.push(tail.join("\n"));
    blocks.join("\n")
}

#[cfg(test)]
mod tests;
