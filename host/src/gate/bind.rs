//! Binds a parsed condition to the configuration: its subject becomes the checks it covers,
//! and anything it names that does not exist (a check, a tag, an SLO) is an error, never a
//! condition that passes because it tests nothing.

use super::condition::{Condition, ConditionError, Function, Subject};
use crate::plan::{CheckPlan, Plan};

/// A condition and the checks it covers, in file order.
#[derive(Debug, Clone)]
pub struct Bound {
    /// The condition.
    pub condition: Condition,
    /// Where it was written, for output (`checks.toml:12:5` or `--condition`).
    pub source: String,
    /// The names of the checks it covers (never empty).
    pub checks: Vec<String>,
}

impl Bound {
    /// Whether the condition reads the gate's own runs (rather than stored history only).
    pub fn needs_runs(&self) -> bool {
        self.condition.window.is_none()
            && matches!(self.condition.function, Function::Status | Function::Stat(_) | Function::Metric)
    }
}

/// The checks `condition` covers, or an error pointing at its subject.
pub fn bind(condition: Condition, source: String, plan: &Plan) -> Result<Bound, ConditionError> {
    let at = condition.subject_span.clone();
    let checks: Vec<&CheckPlan> = match &condition.subject {
        Subject::All => plan.checks.iter().collect(),
        // The message stays without the file: the condition's own location says where.
        Subject::Check(name) => match plan.check(name) {
            Ok(check) => vec![check],
            Err(e) => return Err(ConditionError::new(at, format!("no check is called `{name}`")).help(e.help())),
        },
        Subject::Tag(tag) => match plan.tagged(std::slice::from_ref(tag)) {
            Ok(tagged) => tagged,
            Err(e) => return Err(ConditionError::new(at, format!("no check has the tag `{tag}`")).help(e.help())),
        },
    };
    if matches!(condition.function, Function::ErrorBudget | Function::BurnRate) {
        let without: Vec<&str> = checks.iter().filter(|c| c.timing.slo.is_none()).map(|c| c.name.as_str()).collect();
        if !without.is_empty() {
            let which = if without.len() == 1 {
                format!("check `{}` has no slo", without[0])
            } else {
                format!(
                    "checks {} have no slo",
                    without.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                )
            };
            return Err(ConditionError::new(at, format!("{which}; `{}` needs one", condition.function.name()))
                .help("set slo = \"99.9%\" (and slo_window, 30d by default) on the check in checks.toml"));
        }
    }
    let checks = checks.into_iter().map(|c| c.name.clone()).collect();
    Ok(Bound { condition, source, checks })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;
    use crate::gate::condition::parse;
    use crate::plan::SourceFile;

    fn plan() -> Plan {
        let text = "[[check]]\nname = \"web\"\nplugin = \"http\"\ntarget = \"http://127.0.0.1:1/\"\ntags = [\"api\"]\n\
                    slo = \"99.9%\"\n\n[[check]]\nname = \"db\"\nplugin = \"tcp\"\ntarget = \"127.0.0.1:5432\"\n";
        config::parse(SourceFile::new("checks.toml", text), &|_| None).unwrap()
    }

    fn bind_text(text: &str) -> Result<Bound, ConditionError> {
        bind(parse(text).unwrap(), "--condition".into(), &plan())
    }

    #[test]
    fn subjects_become_checks_in_file_order() {
        assert_eq!(bind_text("status(*) == ok").unwrap().checks, ["web", "db"]);
        assert_eq!(bind_text("status(all) == ok").unwrap().checks, ["web", "db"]);
        assert_eq!(bind_text("status(tag:api) == ok").unwrap().checks, ["web"]);
        assert_eq!(bind_text("status(db) == ok").unwrap().checks, ["db"]);
    }

    #[test]
    fn unknown_names_are_errors_at_the_subject() {
        let e = bind_text("status(wbe) == ok").unwrap_err();
        assert_eq!((e.message.as_str(), e.span.clone()), ("no check is called `wbe`", 7..10));
        assert_eq!(e.help.as_deref(), Some("did you mean `web`? (the checks are `web`, `db`)"));
        let e = bind_text("status(nothing_like_it) == ok").unwrap_err();
        assert_eq!(e.help.as_deref(), Some("the checks are `web`, `db`"));
        let e = bind_text("p95(tag:apx) < 1s").unwrap_err();
        assert_eq!((e.message.as_str(), e.span.clone()), ("no check has the tag `apx`", 4..11));
    }

    #[test]
    fn slo_functions_need_an_slo_on_every_check() {
        assert!(bind_text("error_budget(web) > 10%").is_ok());
        let e = bind_text("error_budget(db) > 10%").unwrap_err();
        assert_eq!(e.message, "check `db` has no slo; `error_budget` needs one");
        let e = bind_text("burn_rate(*, 1h) < 14.4").unwrap_err();
        assert_eq!(e.message, "check `db` has no slo; `burn_rate` needs one");
    }

    #[test]
    fn only_unwindowed_status_statistics_and_metrics_need_runs() {
        assert!(bind_text("status(web) == ok").unwrap().needs_runs());
        assert!(bind_text("metric(web, lag) < 1s").unwrap().needs_runs());
        assert!(!bind_text("p95(web, 7d) < 1s").unwrap().needs_runs());
        assert!(!bind_text("error_budget(web) > 1%").unwrap().needs_runs());
    }
}
