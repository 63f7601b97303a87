//! CI health gates: conditions over checks (`p95(web) < 300ms`, `error_budget(web) > 10%`)
//! that answer "may this deployment go on?", and the verdict of one evaluation.
//!
//! The data path: [`condition`] parses the text (with [`lexer`] and [`quantity`]), [`bind`]
//! ties it to the checks of the plan, [`evaluate`] measures it on the gate's runs and on
//! stored history (read only through [`history`]), and [`output`], [`junit`] and
//! [`markdown`] present the [`Verdict`]. Running the checks is `cli/gate.rs`'s job.

pub mod bind;
pub mod condition;
pub mod evaluate;
pub mod history;
pub mod junit;
pub mod lexer;
pub mod markdown;
pub mod output;
pub mod quantity;

use std::collections::HashMap;
use std::ops::Range;
use std::time::Duration;

use bind::{Bound, bind};
use condition::{ConditionError, Function, parse};
use evaluate::{Evidence, Outcome, evaluate};
use history::{Stored, stored};

use crate::plan::Plan;
use crate::plan::{Diagnostic, SourceFile};
use crate::result::CheckResult;
use crate::store::{ResultStore, StoreError};

/// The conditions that could not be loaded, by where they came from.
#[derive(Debug, Default)]
pub struct LoadErrors {
    /// Conditions of `[gate]` in the configuration file, located in it.
    pub config: Vec<Diagnostic>,
    /// Conditions given with `--condition`, each rendered with a caret under its column.
    pub command_line: Vec<String>,
}

/// Parses and binds the `[gate]` conditions of `plan` and then those of the command line;
/// every error is collected.
pub fn load(plan: &Plan, command_line: &[String]) -> Result<Vec<Bound>, LoadErrors> {
    let mut bound = Vec::new();
    let mut errors = LoadErrors::default();
    for written in &plan.gate {
        let (line, col) = plan.source.line_col(written.span.start);
        let source = format!("{}:{line}:{col}", plan.source.path.display());
        match parse(&written.text).and_then(|c| bind(c, source, plan)) {
            Ok(b) => bound.push(b),
            Err(e) => {
                let span = file_span(&plan.source, written.span.clone(), &written.text, &e.span);
                let mut d = Diagnostic::new(&plan.source, span, format!("gate condition: {}", e.message));
                if let Some(help) = e.help {
                    d = d.help(help);
                }
                errors.config.push(d);
            }
        }
    }
    for text in command_line {
        match parse(text).and_then(|c| bind(c, "--condition".into(), plan)) {
            Ok(b) => bound.push(b),
            Err(e) => errors.command_line.push(render_command_line(text, &e)),
        }
    }
    if errors.config.is_empty() && errors.command_line.is_empty() { Ok(bound) } else { Err(errors) }
}

/// Where `inner` (a byte span of the condition text) lies in the file, given the span of the
/// TOML string that holds it. A string with escapes cannot be mapped character for
/// character; the whole string is pointed at then.
fn file_span(source: &SourceFile, value: Range<usize>, text: &str, inner: &Range<usize>) -> Range<usize> {
    let raw = source.text.get(value.clone()).unwrap_or("");
    let quote = if raw.starts_with("\"\"\"") || raw.starts_with("'''") { 3 } else { 1 };
    let unquoted = raw.get(quote..raw.len().saturating_sub(quote));
    if unquoted == Some(text) {
        let start = value.start + quote;
        start + inner.start..start + inner.end.max(inner.start + 1)
    } else {
        value
    }
}

/// A condition error from the command line, shown the way configuration errors are: the
/// message, the column, the condition with a caret under the place.
pub fn render_command_line(text: &str, e: &ConditionError) -> String {
    let col = e.column(text);
    let width = text.get(e.span.clone()).map_or(1, |s| s.chars().count().max(1));
    let mut out = format!(
        "error: {}\n --> --condition, column {col}\n  |\n  | {text}\n  | {:pad$}{}",
        e.message,
        "",
        "^".repeat(width),
        pad = col - 1
    );
    if let Some(help) = &e.help {
        out.push_str(&format!("\n  = help: {help}"));
    }
    out
}

/// One condition's verdict: its outcome on every check it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionVerdict {
    /// The condition as written.
    pub condition: String,
    /// Where it was written (`checks.toml:12:5` or `--condition`).
    pub source: String,
    /// One outcome per check it covers, in file order.
    pub outcomes: Vec<Outcome>,
}

impl ConditionVerdict {
    /// Whether the condition holds on every check it covers.
    pub fn passed(&self) -> bool {
        self.outcomes.iter().all(|o| o.passed)
    }

    /// One sentence about an outcome, with the measured value or why there is none: what
    /// a JUnit failure, an annotation or a log line says.
    pub fn describe(&self, outcome: &Outcome) -> String {
        let verdict = if outcome.passed { "holds" } else { "failed" };
        let what = match (&outcome.problem, &outcome.measured) {
            (Some(problem), _) => problem.clone(),
            (None, Some(value)) => format!("measured {value}"),
            (None, None) => "nothing measured".into(),
        };
        format!("`{}` {verdict} on {}: {what}", self.condition, outcome.check)
    }
}

/// The verdict of the whole gate.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Every condition, in the order given (`[gate]` first, then `--condition`).
    pub conditions: Vec<ConditionVerdict>,
    /// How many times the runs and evaluation were made (more than one with
    /// `--wait-for-healthy`).
    pub attempts: u32,
}

impl Verdict {
    /// Whether every condition holds.
    pub fn passed(&self) -> bool {
        self.conditions.iter().all(ConditionVerdict::passed)
    }

    /// How many conditions failed.
    pub fn failed(&self) -> usize {
        self.conditions.iter().filter(|c| !c.passed()).count()
    }

    /// Every failed outcome with its condition.
    pub fn failures(&self) -> impl Iterator<Item = (&ConditionVerdict, &Outcome)> {
        self.conditions.iter().flat_map(|c| c.outcomes.iter().filter(|o| !o.passed).map(move |o| (c, o)))
    }

    /// The checks the conditions cover, in order of first mention.
    pub fn checks(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for o in self.conditions.iter().flat_map(|c| &c.outcomes) {
            if !names.contains(&o.check.as_str()) {
                names.push(&o.check);
            }
        }
        names
    }
}

/// Evaluates every condition on the gate's `runs` (of this attempt) and on the store's
/// history up to `now_ms`.
pub fn assess(
    bound: &[Bound],
    plan: &Plan,
    runs: &[CheckResult],
    store: &dyn ResultStore,
    now_ms: i64,
) -> Result<Vec<ConditionVerdict>, StoreError> {
    let mut by_check: HashMap<&str, Vec<CheckResult>> = HashMap::new();
    for r in runs {
        by_check.entry(r.check.as_str()).or_default().push(r.clone());
    }
    let mut cache: HashMap<(String, Duration), Stored> = HashMap::new();
    let mut verdicts = Vec::with_capacity(bound.len());
    for b in bound {
        let mut outcomes = Vec::with_capacity(b.checks.len());
        for name in &b.checks {
            let Some(check) = plan.checks.iter().find(|c| &c.name == name) else { continue };
            let span = match b.condition.function {
                Function::ErrorBudget => check.timing.slo.map(|slo| slo.window),
                _ => b.condition.window,
            };
            if let Some(span) = span
                && !cache.contains_key(&(name.clone(), span))
            {
                let figures = stored(store, check, span, now_ms)?;
                cache.insert((name.clone(), span), figures);
            }
            let evidence = Evidence {
                runs: by_check.get(name.as_str()).map(Vec::as_slice).unwrap_or(&[]),
                stored: span.and_then(|s| cache.get(&(name.clone(), s))),
            };
            outcomes.push(evaluate(&b.condition, name, evidence));
        }
        verdicts.push(ConditionVerdict { condition: b.condition.text.clone(), source: b.source.clone(), outcomes });
    }
    Ok(verdicts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;

    fn plan(text: &str) -> Plan {
        config::parse(SourceFile::new("checks.toml", text), &|_| None).unwrap()
    }

    const CHECK: &str = "[[check]]\nname = \"web\"\nplugin = \"http\"\ntarget = \"http://127.0.0.1:1/\"\n";

    #[test]
    fn config_errors_point_into_the_file() {
        let p = plan(&format!("{CHECK}\n[gate]\nconditions = [\n  \"status(web) == ok\",\n  \"p95(web) = 1s\",\n]\n"));
        let e = load(&p, &[]).unwrap_err();
        assert_eq!(e.config.len(), 1);
        let text = e.config[0].to_string();
        // Line 9 is `  "p95(web) = 1s",`; the `=` is at column 13.
        assert!(text.contains("--> checks.toml:9:13"), "{text}");
        assert!(text.contains("error: gate condition: `=` is not an operator"), "{text}");
        assert!(text.contains("            ^"), "{text}");
    }

    #[test]
    fn a_string_with_escapes_is_pointed_at_whole() {
        let p = plan(&format!("{CHECK}\n[gate]\nconditions = [\"status(\\\"nope\\\") == ok\"]\n"));
        let e = load(&p, &[]).unwrap_err();
        let text = e.config[0].to_string();
        assert!(text.contains("--> checks.toml:7:15"), "{text}");
        assert!(text.contains("no check is called `nope`"), "{text}");
    }

    #[test]
    fn command_line_errors_show_the_column() {
        let p = plan(CHECK);
        let e = load(&p, &["status(web) == ok".into(), "p95(web) < 5 s".into()]).unwrap_err();
        assert_eq!(
            e.command_line,
            ["error: expected the end of the condition, found `s`\n --> --condition, column 14\n  |\n  | \
              p95(web) < 5 s\n  |              ^\n  = help: write the unit right after the number, without a space: 300ms"]
        );
    }

    #[test]
    fn config_conditions_come_first_with_their_place() {
        let p = plan(&format!("{CHECK}\n[gate]\nconditions = [\"status(web) == ok\"]\n"));
        let bound = load(&p, &["p95(web) < 1s".into()]).unwrap();
        let sources: Vec<&str> = bound.iter().map(|b| b.source.as_str()).collect();
        assert_eq!(sources, ["checks.toml:7:15", "--condition"]);
    }
}
