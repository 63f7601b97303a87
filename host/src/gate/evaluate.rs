//! What a condition measures on one check, and whether the measure passes: the aggregates
//! (worst status, nearest-rank percentiles, mean, min, max, latest metric value) over the
//! gate's own runs or over stored results, and the SLO figures from stored history.
//!
//! Pure computation: the results and stored figures come in, an [`Outcome`] goes out.

use std::cmp::Ordering;

use super::condition::{Condition, Function, Stat};
use super::history::Stored;
use super::quantity::{Amount, Value, status_rank};
use crate::result::{CheckResult, Metric, Status};
use vitals_units::format_duration;

/// The metric whose values are a check's response time, when the plugin reports one (as in
/// `vitals report`); otherwise the run's duration is.
const RESPONSE_TIME: &str = "time_total";

/// What a condition found on one check.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The check.
    pub check: String,
    /// The measured value; `None` when there was nothing to measure.
    pub measured: Option<Value>,
    /// Whether the condition holds for this check.
    pub passed: bool,
    /// Why there is no verdict on the value (no data, a metric no run reported, a unit that
    /// does not compare): the condition then fails.
    pub problem: Option<String>,
}

/// What there is to measure a check on.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    /// The gate's runs of the check in this attempt.
    pub runs: &'a [CheckResult],
    /// Stored figures over the condition's window (or the SLO window for `error_budget`),
    /// when the condition reads history.
    pub stored: Option<&'a Stored>,
}

/// Measures `condition` on `check` and compares.
pub fn evaluate(condition: &Condition, check: &str, evidence: Evidence<'_>) -> Outcome {
    match measure(condition, check, evidence) {
        Ok(value) => match compare(condition, &value) {
            Ok(passed) => Outcome { check: check.to_string(), measured: Some(value), passed, problem: None },
            Err(problem) => {
                Outcome { check: check.to_string(), measured: Some(value), passed: false, problem: Some(problem) }
            }
        },
        Err(problem) => Outcome { check: check.to_string(), measured: None, passed: false, problem: Some(problem) },
    }
}

/// Whether `value` satisfies the condition's comparison; an error when the kinds differ.
fn compare(condition: &Condition, value: &Value) -> Result<bool, String> {
    let ordering = match (value, &condition.threshold) {
        (Value::Status(a), Value::Status(b)) => Some(status_rank(*a).cmp(&status_rank(*b))),
        (Value::Amount(a), Value::Amount(b)) if a.dimension == b.dimension => a.value.partial_cmp(&b.value),
        _ => {
            return Err(format!(
                "measured {value}, which is {}; the condition compares it with {}",
                value.noun(),
                condition.threshold.noun()
            ));
        }
    };
    match ordering {
        Some(ordering) => Ok(condition.op.holds(ordering)),
        None => Err(format!("measured {value}, which is not a number")),
    }
}

/// Which results the condition reads, and how to say where they came from.
fn results<'a>(
    condition: &Condition,
    check: &str,
    evidence: Evidence<'a>,
) -> Result<(&'a [CheckResult], String), String> {
    match condition.window {
        None => {
            if evidence.runs.is_empty() {
                return Err(format!("no run of `{check}` in this gate"));
            }
            Ok((evidence.runs, format!("no run of `{check}`")))
        }
        Some(window) => {
            let stored = stored(condition, check, evidence)?;
            let within = format!("the last {}", format_duration(window));
            if stored.results.is_empty() {
                return Err(format!("no result of `{check}` is stored for {within}"));
            }
            Ok((&stored.results, format!("no result of `{check}` in {within}")))
        }
    }
}

fn stored<'a>(condition: &Condition, check: &str, evidence: Evidence<'a>) -> Result<&'a Stored, String> {
    evidence.stored.ok_or_else(|| format!("no stored history was read for `{check}` ({})", condition.function.name()))
}

fn measure(condition: &Condition, check: &str, evidence: Evidence<'_>) -> Result<Value, String> {
    match condition.function {
        Function::Status => {
            let (results, _) = results(condition, check, evidence)?;
            Ok(Value::Status(worst(results)))
        }
        Function::Stat(stat) => {
            let (results, none) = results(condition, check, evidence)?;
            let values = match &condition.metric {
                None => results.iter().map(response_time).collect(),
                Some(metric) => {
                    let values = metric_values(results, &metric.name);
                    if values.is_empty() {
                        return Err(format!("{none} reported metric `{}`", metric.name));
                    }
                    values
                }
            };
            statistic(stat, values).map(Value::Amount).ok_or_else(|| format!("{none} gave a value"))
        }
        Function::Metric => {
            let name = condition.metric.as_ref().map_or("", |m| m.name.as_str());
            let (results, none) = results(condition, check, evidence)?;
            let latest = results
                .iter()
                .filter_map(|r| find_metric(r, name).map(|m| (r.started_at_ms, Amount::of_metric(m))))
                .max_by_key(|(at, _)| *at);
            latest.map(|(_, a)| Value::Amount(a)).ok_or_else(|| format!("{none} reported metric `{name}`"))
        }
        Function::Availability => {
            let window = condition.window.map_or_else(String::new, format_duration);
            stored(condition, check, evidence)?
                .availability_percent
                .map(|p| Value::Amount(Amount::percent(p)))
                .ok_or_else(|| format!("no result of `{check}` is stored for the last {window}"))
        }
        Function::BurnRate => {
            let window = condition.window.map_or_else(String::new, format_duration);
            stored(condition, check, evidence)?
                .burn_rate
                .map(|b| Value::Amount(Amount::number(b)))
                .ok_or_else(|| format!("no result of `{check}` is stored for the last {window}"))
        }
        Function::ErrorBudget => {
            let stored = stored(condition, check, evidence)?;
            stored.error_budget_percent.map(|p| Value::Amount(Amount::percent(p))).ok_or_else(|| {
                if stored.results.is_empty() {
                    format!("no result of `{check}` is stored in its SLO window")
                } else {
                    // The budget is a share of the measured time, rounded to the millisecond.
                    format!("`{check}` has too little measured time in its SLO window for an error budget yet")
                }
            })
        }
    }
}

/// The worst status (unknown is the worst), ok for none.
fn worst(results: &[CheckResult]) -> Status {
    results.iter().fold(Status::Ok, |acc, r| if status_rank(r.status) > status_rank(acc) { r.status } else { acc })
}

/// A run's response time: its `time_total` metric in ms when it has one, else its duration.
fn response_time(r: &CheckResult) -> Amount {
    r.metrics
        .iter()
        .find(|m| m.name == RESPONSE_TIME && m.unit == "ms" && m.value.is_finite() && m.value >= 0.0)
        .map_or_else(|| Amount::ms(r.duration.as_secs_f64() * 1000.0), |m| Amount::ms(m.value))
}

/// The metric `name` of a run: the metric of that very name, else `time_<name>` (so that
/// `connect` reads `time_connect`).
fn find_metric<'a>(r: &'a CheckResult, name: &str) -> Option<&'a Metric> {
    let finite = |m: &&Metric| m.value.is_finite();
    r.metrics
        .iter()
        .filter(finite)
        .find(|m| m.name == name)
        .or_else(|| r.metrics.iter().filter(finite).find(|m| m.name.strip_prefix("time_") == Some(name)))
}

/// The values of metric `name` over `results`, in the dimension of the first one reported
/// (a run that reported it in another dimension is left out).
fn metric_values(results: &[CheckResult], name: &str) -> Vec<Amount> {
    let amounts: Vec<Amount> = results.iter().filter_map(|r| find_metric(r, name)).map(Amount::of_metric).collect();
    let Some(dimension) = amounts.first().map(|a| a.dimension) else { return Vec::new() };
    amounts.into_iter().filter(|a| a.dimension == dimension).collect()
}

/// A statistic of amounts of one dimension; `None` for none. Percentiles are nearest-rank,
/// as in `vitals report`: the value of rank `ceil(q × n)` in ascending order.
pub fn statistic(stat: Stat, amounts: Vec<Amount>) -> Option<Amount> {
    let dimension = amounts.first()?.dimension;
    let mut values: Vec<f64> = amounts.iter().map(|a| a.value).filter(|v| v.is_finite()).collect();
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
    let value = match stat.quantile() {
        None => values.iter().sum::<f64>() / values.len() as f64,
        Some(q) => {
            let n = values.len();
            // The tolerance keeps float noise (0.07 × 100 = 7.000000000000001) off the rank.
            let rank = ((q * n as f64) - 1e-9).ceil().clamp(1.0, n as f64) as usize;
            values[rank - 1]
        }
    };
    Some(Amount { dimension, value })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::gate::condition::parse;
    use crate::report::latency::exact_summary;
    use crate::result::fixture;

    fn run(at: i64, status: Status, total_ms: Option<f64>, metrics: &[(&str, f64, &str)]) -> CheckResult {
        let mut all: Vec<Metric> =
            metrics.iter().map(|(n, v, u)| Metric { unit: (*u).into(), ..fixture::ms(n, *v) }).collect();
        all.extend(total_ms.map(|t| fixture::ms("time_total", t)));
        CheckResult { duration: Duration::from_millis(999), ..fixture::result("web", at, status, all) }
    }

    fn eval(text: &str, runs: &[CheckResult], stored: Option<&Stored>) -> Outcome {
        evaluate(&parse(text).unwrap(), "web", Evidence { runs, stored })
    }

    fn measured(text: &str, runs: &[CheckResult]) -> Value {
        eval(text, runs, None).measured.unwrap_or_else(|| panic!("{text}: nothing measured"))
    }

    /// Ten runs of 10, 20, …, 100 ms, ok but for one warning.
    fn ten() -> Vec<CheckResult> {
        (1..=10)
            .map(|i| {
                let status = if i == 4 { Status::Warning } else { Status::Ok };
                run(i, status, Some(i as f64 * 10.0), &[("time_connect", i as f64, "ms"), ("lag", 0.5 * i as f64, "s")])
            })
            .collect()
    }

    #[test]
    fn percentiles_are_nearest_rank_over_the_runs() {
        let runs = ten();
        // ceil(0.5 × 10) = 5th, ceil(0.9 × 10) = 9th, ceil(0.95 × 10) = ceil(9.5) = 10th.
        assert_eq!(measured("p50(web) < 1s", &runs), Value::Amount(Amount::ms(50.0)));
        assert_eq!(measured("p90(web) < 1s", &runs), Value::Amount(Amount::ms(90.0)));
        assert_eq!(measured("p95(web) < 1s", &runs), Value::Amount(Amount::ms(100.0)));
        assert_eq!(measured("p99(web) < 1s", &runs), Value::Amount(Amount::ms(100.0)));
        assert_eq!(measured("min(web) < 1s", &runs), Value::Amount(Amount::ms(10.0)));
        assert_eq!(measured("max(web) < 1s", &runs), Value::Amount(Amount::ms(100.0)));
        // (10 + 20 + … + 100) / 10 = 55.
        assert_eq!(measured("mean(web) < 1s", &runs), Value::Amount(Amount::ms(55.0)));
    }

    #[test]
    fn percentiles_match_the_report_module() {
        let amounts: Vec<Amount> = (1..=100).rev().map(|v| Amount::ms(v as f64)).collect();
        let mut durations: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let s = exact_summary(&mut durations).unwrap();
        for (stat, expected) in [(Stat::P50, s.p50), (Stat::P90, s.p90), (Stat::P95, s.p95), (Stat::P99, s.p99)] {
            let got = statistic(stat, amounts.clone()).unwrap();
            assert_eq!(got, Amount::ms(expected.as_secs_f64() * 1000.0), "{stat:?}");
        }
        assert_eq!(statistic(Stat::P50, Vec::new()), None);
    }

    #[test]
    fn phases_and_metrics_by_name() {
        let runs = ten();
        // `connect` is `time_connect`: 1..=10 ms, p90 the 9th.
        assert_eq!(measured("p90(web, connect) < 1s", &runs), Value::Amount(Amount::ms(9.0)));
        assert_eq!(measured("p90(web, time_connect) < 1s", &runs), Value::Amount(Amount::ms(9.0)));
        // `lag` in seconds is a duration; its latest value is the run at t=10: 5 s.
        assert_eq!(measured("metric(web, lag) < 1m", &runs), Value::Amount(Amount::ms(5000.0)));
        assert_eq!(measured("max(web, lag) < 1m", &runs), Value::Amount(Amount::ms(5000.0)));
        let o = eval("metric(web, lag) < 6s", &runs, None);
        assert!(o.passed);
        let o = eval("metric(web, lag) < 4s", &runs, None);
        assert!(!o.passed && o.problem.is_none());
    }

    #[test]
    fn worst_status_of_the_runs() {
        let runs = ten();
        assert_eq!(measured("status(web) == ok", &runs), Value::Status(Status::Warning));
        assert!(!eval("status(web) == ok", &runs, None).passed);
        assert!(eval("status(web) <= warning", &runs, None).passed);
        assert!(eval("status(web) < critical", &runs, None).passed);
        let mut with_unknown = ten();
        with_unknown.push(run(11, Status::Unknown, None, &[]));
        with_unknown.push(run(12, Status::Critical, None, &[]));
        assert_eq!(measured("status(web) == ok", &with_unknown), Value::Status(Status::Unknown));
        assert!(eval("status(web) > critical", &with_unknown, None).passed);
    }

    #[test]
    fn a_run_without_time_total_counts_its_duration() {
        let runs = [run(1, Status::Ok, None, &[])];
        assert_eq!(measured("p95(web) < 1s", &runs), Value::Amount(Amount::ms(999.0)));
    }

    #[test]
    fn missing_data_fails_with_a_reason() {
        let runs = ten();
        let o = eval("metric(web, replication_lag) < 5s", &runs, None);
        assert!(!o.passed);
        assert_eq!(o.problem.as_deref(), Some("no run of `web` reported metric `replication_lag`"));
        let o = eval("p95(web, nope) < 5s", &runs, None);
        assert_eq!(o.problem.as_deref(), Some("no run of `web` reported metric `nope`"));
        let o = eval("status(web) == ok", &[], None);
        assert_eq!(o.problem.as_deref(), Some("no run of `web` in this gate"));
        let empty = Stored::default();
        let o = eval("p95(web, 7d) < 1s", &[], Some(&empty));
        assert_eq!(o.problem.as_deref(), Some("no result of `web` is stored for the last 7.0 d"));
        let o = eval("availability(web, 1h) > 99%", &[], Some(&empty));
        assert!(!o.passed && o.problem.is_some());
        let o = eval("error_budget(web) > 1%", &[], Some(&empty));
        assert_eq!(o.problem.as_deref(), Some("no result of `web` is stored in its SLO window"));
        let young = Stored { results: ten(), ..Stored::default() };
        let o = eval("error_budget(web) > 1%", &[], Some(&young));
        assert_eq!(
            o.problem.as_deref(),
            Some("`web` has too little measured time in its SLO window for an error budget yet")
        );
    }

    #[test]
    fn a_metric_of_another_dimension_fails_saying_so() {
        let runs = [run(1, Status::Ok, None, &[("size", 10.0, "B")])];
        let o = eval("metric(web, size) < 1s", &runs, None);
        assert!(!o.passed);
        assert_eq!(
            o.problem.as_deref(),
            Some("measured 10 B, which is a size; the condition compares it with a duration")
        );
    }

    #[test]
    fn windowed_statistics_read_stored_results() {
        let stored = Stored { results: ten(), ..Stored::default() };
        let o = eval("p50(web, 7d) < 51ms", &[], Some(&stored));
        assert_eq!((o.measured, o.passed), (Some(Value::Amount(Amount::ms(50.0))), true));
        let o = eval("status(web, 1h) == ok", &[], Some(&stored));
        assert_eq!((o.measured, o.passed), (Some(Value::Status(Status::Warning)), false));
    }

    #[test]
    fn slo_figures_come_from_stored_history() {
        let stored = Stored {
            results: Vec::new(),
            availability_percent: Some(99.95),
            burn_rate: Some(0.5),
            error_budget_percent: Some(-20.0),
        };
        let o = eval("availability(web, 30d) >= 99.9%", &[], Some(&stored));
        assert_eq!((o.measured, o.passed), (Some(Value::Amount(Amount::percent(99.95))), true));
        assert!(!eval("availability(web, 30d) >= 99.99%", &[], Some(&stored)).passed);
        let o = eval("burn_rate(web, 1h) < 14.4", &[], Some(&stored));
        assert_eq!((o.measured, o.passed), (Some(Value::Amount(Amount::number(0.5))), true));
        let o = eval("error_budget(web) > 10%", &[], Some(&stored));
        assert_eq!((o.measured, o.passed), (Some(Value::Amount(Amount::percent(-20.0))), false));
    }

    #[test]
    fn every_operator() {
        let runs = [run(1, Status::Ok, Some(100.0), &[])];
        for (text, expected) in [
            ("max(web) < 100ms", false),
            ("max(web) <= 100ms", true),
            ("max(web) > 100ms", false),
            ("max(web) >= 100ms", true),
            ("max(web) == 100ms", true),
            ("max(web) != 100ms", false),
            ("max(web) == 0.1s", true),
        ] {
            assert_eq!(eval(text, &runs, None).passed, expected, "{text}");
        }
    }
}
