//! The verdict for people (aligned lines, PASS or FAIL, the measured value) and for
//! programs (one JSON object with a `schema_version`, documented in docs/ci.md).

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use serde::Serialize;

use super::evaluate::Outcome;
use super::quantity::Value;
use super::{ConditionVerdict, Verdict};

/// The version of the JSON verdict's schema; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

fn style(passed: bool) -> Style {
    let color = if passed { AnsiColor::Green } else { AnsiColor::Red };
    Style::new().fg_color(Some(color.into())).bold()
}

/// What was measured, or why nothing was, for one outcome.
pub fn measured_text(outcome: &Outcome) -> String {
    match (&outcome.problem, &outcome.measured) {
        (Some(problem), _) => problem.clone(),
        (None, Some(value)) => value.to_string(),
        (None, None) => "-".into(),
    }
}

/// One line per condition and check: PASS or FAIL, the condition, the check, the measured
/// value; then a closing line. Colour codes are always written; `anstream` strips them
/// when stdout is not a terminal.
pub fn text(verdict: &Verdict) -> String {
    let rows: Vec<(&ConditionVerdict, &Outcome)> =
        verdict.conditions.iter().flat_map(|c| c.outcomes.iter().map(move |o| (c, o))).collect();
    let cond_width = rows.iter().map(|(c, _)| c.condition.chars().count()).max().unwrap_or(9).max(9);
    let check_width = rows.iter().map(|(_, o)| o.check.chars().count()).max().unwrap_or(5).max(5);
    let mut out = String::new();
    let _ = writeln!(out, "{:<6}{:<cond_width$}  {:<check_width$}  MEASURED", "", "CONDITION", "CHECK");
    for (c, o) in rows {
        let s = style(o.passed);
        let word = if o.passed { "PASS" } else { "FAIL" };
        let _ = writeln!(
            out,
            "{s}{word}{s:#}  {:<cond_width$}  {:<check_width$}  {}",
            c.condition,
            o.check,
            measured_text(o)
        );
    }
    let total = verdict.conditions.len();
    let attempts = if verdict.attempts == 1 { String::new() } else { format!(" after {} attempts", verdict.attempts) };
    let _ = if verdict.passed() {
        writeln!(out, "\ngate passed: {total} of {total} conditions hold{attempts}")
    } else {
        writeln!(out, "\ngate failed: {} of {total} conditions failed{attempts}", verdict.failed())
    };
    out
}

#[derive(Serialize)]
struct JsonVerdict<'a> {
    schema_version: u32,
    passed: bool,
    attempts: u32,
    conditions: Vec<JsonCondition<'a>>,
}

#[derive(Serialize)]
struct JsonCondition<'a> {
    condition: &'a str,
    source: &'a str,
    passed: bool,
    checks: Vec<JsonOutcome<'a>>,
}

#[derive(Serialize)]
struct JsonOutcome<'a> {
    check: &'a str,
    passed: bool,
    measured: Option<JsonValue>,
    problem: Option<&'a str>,
    message: String,
}

#[derive(Serialize)]
struct JsonValue {
    kind: &'static str,
    value: serde_json::Value,
    unit: &'static str,
    text: String,
}

fn json_value(value: &Value) -> JsonValue {
    match value {
        Value::Status(s) => JsonValue { kind: "status", value: s.as_str().into(), unit: "", text: value.to_string() },
        Value::Amount(a) => JsonValue {
            kind: match a.dimension {
                super::quantity::Dimension::Time => "duration",
                super::quantity::Dimension::Percent => "percentage",
                super::quantity::Dimension::Size => "size",
                super::quantity::Dimension::Number => "number",
            },
            value: serde_json::Number::from_f64(a.value).map_or(serde_json::Value::Null, serde_json::Value::Number),
            unit: a.dimension.unit(),
            text: value.to_string(),
        },
    }
}

/// The verdict as one pretty-printed JSON object (schema in docs/ci.md).
pub fn json(verdict: &Verdict) -> String {
    let doc = JsonVerdict {
        schema_version: SCHEMA_VERSION,
        passed: verdict.passed(),
        attempts: verdict.attempts,
        conditions: verdict
            .conditions
            .iter()
            .map(|c| JsonCondition {
                condition: &c.condition,
                source: &c.source,
                passed: c.passed(),
                checks: c
                    .outcomes
                    .iter()
                    .map(|o| JsonOutcome {
                        check: &o.check,
                        passed: o.passed,
                        measured: o.measured.as_ref().map(json_value),
                        problem: o.problem.as_deref(),
                        message: c.describe(o),
                    })
                    .collect(),
            })
            .collect(),
    };
    // Plain data of strings, numbers and booleans: serialization cannot fail.
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::gate::quantity::Amount;
    use crate::result::Status;

    /// A verdict with a passing status condition and a failing p95 over two checks, one of
    /// them without data.
    pub fn sample() -> Verdict {
        let outcome = |check: &str, measured: Option<Value>, passed: bool, problem: Option<&str>| Outcome {
            check: check.into(),
            measured,
            passed,
            problem: problem.map(String::from),
        };
        Verdict {
            conditions: vec![
                ConditionVerdict {
                    condition: "status(web) == ok".into(),
                    source: "checks.toml:12:16".into(),
                    outcomes: vec![outcome("web", Some(Value::Status(Status::Ok)), true, None)],
                },
                ConditionVerdict {
                    condition: "p95(tag:api) < 300ms".into(),
                    source: "--condition".into(),
                    outcomes: vec![
                        outcome("web", Some(Value::Amount(Amount::ms(412.0))), false, None),
                        outcome("db", None, false, Some("no run of `db` in this gate")),
                    ],
                },
            ],
            attempts: 1,
        }
    }

    #[test]
    fn text_has_a_line_per_condition_and_check() {
        let text = anstream::adapter::strip_str(&text(&sample())).to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "PASS  status(web) == ok     web    ok");
        assert_eq!(lines[2], "FAIL  p95(tag:api) < 300ms  web    412.0 ms");
        assert_eq!(lines[3], "FAIL  p95(tag:api) < 300ms  db     no run of `db` in this gate");
        assert_eq!(lines[5], "gate failed: 1 of 2 conditions failed");
    }

    #[test]
    fn json_carries_the_schema_version_and_measured_values() {
        let doc: serde_json::Value = serde_json::from_str(&json(&sample())).unwrap();
        assert_eq!(doc["schema_version"], 1);
        assert_eq!(doc["passed"], false);
        let web = &doc["conditions"][1]["checks"][0];
        assert_eq!(
            web["measured"],
            serde_json::json!({"kind": "duration", "value": 412.0, "unit": "ms", "text": "412.0 ms"})
        );
        assert_eq!(web["message"], "`p95(tag:api) < 300ms` failed on web: measured 412.0 ms");
        assert_eq!(doc["conditions"][1]["checks"][1]["measured"], serde_json::Value::Null);
        assert_eq!(doc["conditions"][0]["measured"], serde_json::Value::Null);
        assert_eq!(doc["conditions"][0]["checks"][0]["measured"]["value"], "ok");
    }
}
