//! The scheduling keys of a check (`interval` or `cron`, `timezone`, `jitter`, retries,
//! recovery and flapping thresholds), resolved against `[defaults]` into typed values.

use std::time::Duration;

use serde_spanned::Spanned;

use super::Problem;
use super::model::{RawDefaults, RawShared, SpannedStr};
use crate::plan::schedule::ScheduleError;
use crate::plan::{NetBudget, Schedule, Slo, StatePolicy, Timing};

const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
const DEFAULT_RETRY_INTERVAL: Duration = Duration::from_secs(10);
const MAX_RETRIES: i64 = 10;
const DEFAULT_SLO_WINDOW: Duration = Duration::from_secs(30 * 86_400);

/// Resolves the scheduling keys of a check against those of `[defaults]`, reporting every key that
/// is wrong. `text` is the file's, to point inside a cron expression.
pub fn resolve(check: &RawShared, defaults: &RawShared, text: &str) -> Result<Timing, Vec<Problem>> {
    let mut problems = Vec::new();
    let jitter_src = check.jitter.as_ref().or(defaults.jitter.as_ref());
    let jitter = match jitter_src {
        Some(j) => kept(&mut problems, duration(j)),
        None => Some(Duration::ZERO),
    };
    // A bad jitter is reported once: the schedule is still checked, without it.
    let schedule = kept(&mut problems, schedule(check, defaults, jitter.unwrap_or_default(), text));
    let retry_interval = kept(&mut problems, retry_interval(check, defaults));
    let mut policy = StatePolicy::default();
    if let Some(r) = check.retries.as_ref().or(defaults.retries.as_ref()) {
        policy.retries = kept(&mut problems, bounded(r, 0, MAX_RETRIES, "retries")).unwrap_or(policy.retries);
    }
    if let Some(r) = check.recover_after.as_ref().or(defaults.recover_after.as_ref()) {
        policy.recover_after = kept(&mut problems, bounded(r, 1, 100, "recover_after")).unwrap_or(policy.recover_after);
    }
    kept(&mut problems, flapping(check, defaults, &mut policy));
    let slo = kept(&mut problems, slo(check, defaults));
    match (jitter, schedule, retry_interval, slo) {
        (Some(_), Some((schedule, interval)), Some(retry_interval), Some(slo)) if problems.is_empty() => {
            Ok(Timing { schedule, interval, retry_interval, policy, slo })
        }
        _ => Err(problems),
    }
}

/// The value of `result`, or `None` with its problem kept.
fn kept<T>(problems: &mut Vec<Problem>, result: Result<T, Problem>) -> Option<T> {
    result.map_err(|p| problems.push(p)).ok()
}

/// The schedule (interval or cron) and its nominal interval.
fn schedule(
    check: &RawShared,
    defaults: &RawShared,
    jitter: Duration,
    text: &str,
) -> Result<(Schedule, Duration), Problem> {
    if let (Some(i), Some(c)) = (&check.interval, &check.cron) {
        return Err((
            c.span(),
            format!("check sets both interval ({}) and cron ({})", i.get_ref(), c.get_ref()),
            "a check runs either every interval or on a cron schedule: remove one".into(),
        ));
    }
    let (interval_src, cron_src) = match (&check.interval, &check.cron) {
        (Some(i), None) => (Some(i), None),
        (None, Some(c)) => (None, Some(c)),
        _ => {
            if let (Some(_), Some(c)) = (&defaults.interval, &defaults.cron) {
                return Err((
                    c.span(),
                    "[defaults] sets both interval and cron".into(),
                    "keep one in [defaults]; a check may still choose the other".into(),
                ));
            }
            (defaults.interval.as_ref(), defaults.cron.as_ref())
        }
    };
    match cron_src {
        Some(cron) => {
            let tz = check.timezone.as_ref().or(defaults.timezone.as_ref());
            let tz_name = tz.map_or("UTC", |t| t.get_ref().as_str());
            let schedule =
                Schedule::cron(cron.get_ref(), tz_name, jitter).map_err(|e| cron_problem(&e, cron, tz, text))?;
            let first = schedule.next_after("", 0).unwrap_or(0);
            let second = schedule.next_after("", first).unwrap_or(first);
            Ok((schedule, Duration::from_millis(u64::try_from(second - first).unwrap_or(0))))
        }
        None => {
            let every = match interval_src {
                Some(i) => duration(i)?,
                None => DEFAULT_INTERVAL,
            };
            let jitter_src = check.jitter.as_ref().or(defaults.jitter.as_ref());
            let span = interval_src.or(jitter_src).map_or(0..0, Spanned::span);
            let schedule =
                Schedule::interval(every, jitter).map_err(|e| (span, e.to_string(), SCHEDULE_HELP.into()))?;
            Ok((schedule, every))
        }
    }
}

/// How to write a schedule, for the errors that have no better hint.
const SCHEDULE_HELP: &str = "write interval = \"30s\", or cron = \"*/5 * * * *\" with an optional timezone";

/// A cron schedule's error, located: at the time zone when that is what is wrong, at the
/// number itself when one is out of range, else at the expression.
pub fn cron_problem(e: &ScheduleError, cron: &SpannedStr, tz: Option<&SpannedStr>, text: &str) -> Problem {
    match (e, tz) {
        (ScheduleError::UnknownTimeZone { .. }, Some(tz)) => (tz.span(), e.to_string(), SCHEDULE_HELP.into()),
        (ScheduleError::CronFieldOutOfRange { at, .. }, _) => (
            inside(text, cron, at.clone()),
            e.to_string(),
            "the five fields are minute hour day-of-month month day-of-week; a sixth, in front, is seconds".into(),
        ),
        (ScheduleError::UnknownCronAlias { .. }, _) => (cron.span(), e.to_string(), String::new()),
        _ => (cron.span(), e.to_string(), SCHEDULE_HELP.into()),
    }
}

/// The span in the file of bytes `at` of a string value, when the file spells them as
/// they are (no escapes before them); else the whole value.
fn inside(text: &str, value: &SpannedStr, at: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let span = value.span();
    let quotes = if text.get(span.start..span.start + 3).is_some_and(|q| q == "\"\"\"" || q == "'''") { 3 } else { 1 };
    let inner = span.start + quotes + at.start..span.start + quotes + at.end;
    match (text.get(inner.clone()), value.get_ref().get(at)) {
        (Some(found), Some(wanted)) if found == wanted => inner,
        _ => span,
    }
}

fn retry_interval(check: &RawShared, defaults: &RawShared) -> Result<Duration, Problem> {
    match check.retry_interval.as_ref().or(defaults.retry_interval.as_ref()) {
        Some(r) => {
            let d = duration(r)?;
            if d < Duration::from_secs(1) {
                return Err((
                    r.span(),
                    "retry_interval must be at least 1s".into(),
                    "write for example \"10s\"".into(),
                ));
            }
            Ok(d)
        }
        None => Ok(DEFAULT_RETRY_INTERVAL),
    }
}

fn flapping(check: &RawShared, defaults: &RawShared, policy: &mut StatePolicy) -> Result<(), Problem> {
    let high = check.flap_high.as_ref().or(defaults.flap_high.as_ref());
    let low = check.flap_low.as_ref().or(defaults.flap_low.as_ref());
    if let Some(h) = high {
        policy.flap_high = *h.get_ref();
    }
    if let Some(l) = low {
        policy.flap_low = *l.get_ref();
    }
    if !(0.0 < policy.flap_low && policy.flap_low <= policy.flap_high && policy.flap_high <= 100.0) {
        let span = low.or(high).map_or(0..0, Spanned::span);
        return Err((
            span,
            format!("flapping thresholds {} (low) and {} (high) are not valid", policy.flap_low, policy.flap_high),
            "both are percentages with 0 < flap_low <= flap_high <= 100 (defaults 25 and 30)".into(),
        ));
    }
    Ok(())
}

fn slo(check: &RawShared, defaults: &RawShared) -> Result<Option<Slo>, Problem> {
    let Some(raw) = check.slo.as_ref().or(defaults.slo.as_ref()) else { return Ok(None) };
    let (window, calendar_month) = match check.slo_window.as_ref().or(defaults.slo_window.as_ref()) {
        Some(w) if w.get_ref().trim().eq_ignore_ascii_case("month") => (DEFAULT_SLO_WINDOW, true),
        Some(w) => (duration(w)?, false),
        None => (DEFAULT_SLO_WINDOW, false),
    };
    Ok(Some(Slo { target: percentage(raw)?, window, calendar_month }))
}

/// `"99.9%"` as the fraction 0.999.
fn percentage(raw: &SpannedStr) -> Result<f64, Problem> {
    let text = raw.get_ref().trim();
    let number = text.strip_suffix('%').unwrap_or(text).trim().parse::<f64>().ok();
    match number {
        Some(p) if p > 0.0 && p < 100.0 => Ok(p / 100.0),
        _ => Err((
            raw.span(),
            format!("invalid slo \"{text}\""),
            "write a percentage above 0 and below 100, such as \"99.9%\"".into(),
        )),
    }
}

fn duration(raw: &SpannedStr) -> Result<Duration, Problem> {
    super::duration(raw.get_ref()).map_err(|e| {
        (raw.span(), format!("invalid duration \"{}\": {e}", raw.get_ref()), super::hint::DURATION_HELP.into())
    })
}

fn bounded(raw: &Spanned<i64>, min: i64, max: i64, key: &str) -> Result<u32, Problem> {
    let v = *raw.get_ref();
    if (min..=max).contains(&v) {
        Ok(u32::try_from(v).unwrap_or(0))
    } else {
        Err((raw.span(), format!("{key} = {v} is out of range"), format!("choose a whole number from {min} to {max}")))
    }
}

/// A check's network budget, its own keys over those of `[defaults]` over the defaults.
pub fn budget(check: &RawShared, defaults: &RawShared) -> Result<NetBudget, Problem> {
    let pick = |own: &Option<Spanned<i64>>, inherited: &Option<Spanned<i64>>| own.clone().or_else(|| inherited.clone());
    let connections = match pick(&check.connections_per_run, &defaults.connections_per_run) {
        None => NetBudget::DEFAULT.connections,
        Some(raw) => bounded(&raw, 1, 10_000, "connections_per_run")?,
    };
    let refusals = match pick(&check.refusals_per_run, &defaults.refusals_per_run) {
        None => NetBudget::DEFAULT.refusals,
        Some(raw) => bounded(&raw, 0, 10_000, "refusals_per_run")?,
    };
    Ok(NetBudget { connections, refusals })
}

/// `max_per_host` from `[defaults]`: most runs at once against one target host.
pub fn max_per_host(defaults: &RawDefaults) -> Result<usize, Problem> {
    match &defaults.max_per_host {
        None => Ok(4),
        Some(raw) => bounded(raw, 1, 10_000, "max_per_host").map(|v| v as usize),
    }
}
