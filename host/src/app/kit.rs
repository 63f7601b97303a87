//! The plugin author's kit: one check from the command line (`vitals plugin run`) and
//! recorded cases replayed in the real sandbox (`vitals plugin test`).
//!
//! Both build an ordinary one-check configuration and load it with the same code as
//! `checks.toml`, so a config refused by `vitals validate` is refused here too, with the
//! same words, and a case runs exactly as the check would.

use std::time::{Duration, Instant};

use vitals_cases::{Case, CaseFile, Outcome, judge};

use super::{Failure, prepare};
use crate::config;
use crate::plan::{Diagnostic, Plan, PluginRef, SourceFile};
use crate::result::{CheckResult, Reason, Status};
use crate::runtime::{Answers, LoadError, Runtime};
use crate::schedule::Prepared;

/// One check, as the command line or a case gives it.
#[derive(Debug, Clone)]
pub struct OneCheck {
    /// A built-in plugin name or a component file's absolute path.
    pub plugin: String,
    /// The check's name.
    pub name: String,
    /// Its target.
    pub target: String,
    /// Its `[check.config]` table.
    pub config: toml::Table,
    /// Extra grants (`host:port`), beside the target's.
    pub allow: Vec<String>,
    /// Its timeout, in the duration grammar.
    pub timeout: Option<String>,
}

impl OneCheck {
    /// The configuration file this check would be written as.
    pub fn to_toml(&self) -> Result<String, Failure> {
        let mut check = toml::Table::new();
        check.insert("name".into(), self.name.clone().into());
        check.insert("plugin".into(), self.plugin.clone().into());
        check.insert("target".into(), self.target.clone().into());
        if let Some(timeout) = &self.timeout {
            check.insert("timeout".into(), timeout.clone().into());
        }
        if !self.allow.is_empty() {
            check.insert("allow".into(), toml::Value::Array(self.allow.iter().cloned().map(Into::into).collect()));
        }
        check.insert("config".into(), toml::Value::Table(self.config.clone()));
        let mut doc = toml::Table::new();
        doc.insert("check".into(), toml::Value::Array(vec![toml::Value::Table(check)]));
        toml::to_string(&doc).map_err(|e| Failure::usage(format!("cannot write this check as TOML: {e}")))
    }

    /// The plan of this one check, checked like a `checks.toml`; `source` names where it
    /// came from in messages.
    pub fn plan(&self, source: &str) -> Result<Plan, Failure> {
        let text = self.to_toml()?;
        let file = SourceFile::new(source, text);
        config::parse(file, &|name| std::env::var(name).ok()).map_err(|e| Failure::config(e.to_string()))
    }
}

/// Loads the plugin of `plan`'s one check and validates its config, plugin's own check
/// included.
async fn prepare_one(runtime: &Runtime, plan: &Plan) -> Result<Prepared, Vec<Diagnostic>> {
    let mut prepared = prepare(runtime, plan, plan.checks.iter()).await?;
    prepared.pop().ok_or_else(Vec::new)
}

/// Loads `plugin`, with the exit code a plugin that cannot be used gets.
async fn load(runtime: &Runtime, plugin: &PluginRef) -> Result<(), Failure> {
    match runtime.load(plugin).await {
        Ok(_) => Ok(()),
        Err(e @ LoadError::UnknownBuiltin { .. }) => Err(Failure::usage(e.to_string())),
        Err(e) => Err(Failure::data(e.to_string())),
    }
}

/// Runs one check once (`vitals plugin run`): the result and the plugin's name.
pub async fn run_one(
    runtime: &Runtime,
    plugin: &PluginRef,
    check: &OneCheck,
) -> Result<(CheckResult, String), Failure> {
    load(runtime, plugin).await?;
    let plan = check.plan("(command line)")?;
    let prepared = prepare_one(runtime, &plan).await?;
    let result = runtime.run(&prepared.plugin, &prepared.check).await;
    Ok((result, prepared.plugin.description.name.clone()))
}

/// How one case went.
#[derive(Debug, Clone)]
pub struct CaseRun {
    /// The case's name.
    pub name: String,
    /// Every way it missed (its expectations, the replay's mismatches); empty if it passed.
    pub misses: Vec<String>,
    /// The result as a Monitoring Plugins line, or why the config was refused.
    pub line: String,
    /// How long it took.
    pub took: Duration,
}

impl CaseRun {
    /// Whether the case passed.
    pub fn passed(&self) -> bool {
        self.misses.is_empty()
    }
}

/// What `--record` saw, per case: the case's name and its new answers.
pub type Recorded = Vec<(String, Vec<vitals_cases::HttpAnswer>, Vec<vitals_cases::TcpAnswer>)>;

/// Runs every case of `file` with `plugin` (a built-in name or an absolute path): replayed
/// from the case's answers, or, with `record`, against the real hosts it is granted,
/// keeping what they answered.
pub async fn test_cases(
    runtime: &Runtime,
    plugin: &PluginRef,
    file: &CaseFile,
    record: bool,
) -> Result<(Vec<CaseRun>, Recorded), Failure> {
    // A plugin that cannot be loaded fails every case alike: say it once.
    load(runtime, plugin).await?;
    let plugin = plugin.to_string();
    let plugin = plugin.as_str();
    let mut runs = Vec::new();
    let mut recorded = Vec::new();
    for case in &file.cases {
        let answers = if record { Answers::record() } else { Answers::replay(vitals_cases::Replay::new(case)) };
        let started = Instant::now();
        let (outcome, line, ran) = run_case(runtime, plugin, case, &answers).await?;
        let mut misses = judge(&case.expect, &outcome);
        // A case whose config was refused never ran: its answers are neither judged as
        // unused nor replaced by a recording.
        if ran {
            misses.extend(answers.problems());
            if let Some((http, tcp)) = answers.recorded() {
                recorded.push((case.name.clone(), http, tcp));
            }
        }
        runs.push(CaseRun { name: case.name.clone(), misses, line, took: started.elapsed() });
    }
    Ok((runs, recorded))
}

/// One case's outcome, its line, and whether the plugin ran. A config the host refuses is
/// the `unknown` result a plugin gives for a bad config, as the SDK's native kit sees it.
async fn run_case(
    runtime: &Runtime,
    plugin: &str,
    case: &Case,
    answers: &Answers,
) -> Result<(Outcome, String, bool), Failure> {
    let one = OneCheck {
        plugin: plugin.to_string(),
        name: case.name.clone(),
        target: case.target.clone(),
        config: case.config.clone(),
        allow: case.allow.clone().unwrap_or_default(),
        timeout: case.timeout.clone(),
    };
    let plan = match one.plan(&format!("case `{}`", case.name)) {
        Ok(plan) => plan,
        Err(failure) => return Ok(refused(&case.name, failure.message())),
    };
    let prepared = match prepare_one(runtime, &plan).await {
        Ok(prepared) => prepared,
        Err(problems) => {
            let first = problems.first().map(|p| p.message().to_string()).unwrap_or_default();
            return Ok(refused(&case.name, &first));
        }
    };
    let result = runtime.run_with(&prepared.plugin, &prepared.check, answers.clone()).await;
    let line = result.plugin_line(&prepared.plugin.description.name);
    Ok((outcome(&result), line, true))
}

fn refused(case: &str, message: &str) -> (Outcome, String, bool) {
    let first = message.lines().next().unwrap_or_default().trim_start_matches("error: ");
    let first = first.strip_prefix(&format!("check `{case}`: ")).unwrap_or(first);
    let summary = format!("invalid config: {first}");
    let outcome = Outcome {
        status: vitals_cases::Status::Unknown,
        reason: Some(vitals_cases::Reason::PluginError),
        summary: summary.clone(),
        metrics: Vec::new(),
    };
    (outcome, format!("refused by validate: {first}"), false)
}

/// A result as a case judges it.
fn outcome(r: &CheckResult) -> Outcome {
    use vitals_cases::{Reason as R, Status as S};
    Outcome {
        status: match r.status {
            Status::Ok => S::Ok,
            Status::Warning => S::Warning,
            Status::Critical => S::Critical,
            Status::Unknown => S::Unknown,
        },
        reason: r.reason.map(|reason| match reason {
            Reason::Dns => R::Dns,
            Reason::Connect => R::Connect,
            Reason::Tls => R::Tls,
            Reason::Timeout => R::Timeout,
            Reason::HttpStatus => R::HttpStatus,
            Reason::Assertion => R::Assertion,
            Reason::Protocol => R::Protocol,
            Reason::Denied => R::Denied,
            Reason::PluginError => R::PluginError,
        }),
        summary: r.summary.clone(),
        metrics: r.metrics.iter().map(|m| (m.name.clone(), m.value)).collect(),
    }
}

/// The cases as TAP 14: a line per case, and for a failing one a YAML block of its
/// misses and result.
pub fn tap(runs: &[CaseRun]) -> String {
    use std::fmt::Write as _;
    let mut out = format!("TAP version 14\n1..{}\n", runs.len());
    for (i, run) in runs.iter().enumerate() {
        let word = if run.passed() { "ok" } else { "not ok" };
        let _ = writeln!(out, "{word} {} - {}", i + 1, tap_text(&run.name));
        if !run.passed() {
            let _ = writeln!(out, "  ---");
            let _ = writeln!(out, "  message: {}", yaml_str(&run.misses[0]));
            let _ = writeln!(out, "  misses:");
            for miss in &run.misses {
                let _ = writeln!(out, "    - {}", yaml_str(miss));
            }
            let _ = writeln!(out, "  result: {}", yaml_str(&run.line));
            let _ = writeln!(out, "  duration_ms: {}", run.took.as_millis());
            let _ = writeln!(out, "  ...");
        }
    }
    let failed = runs.iter().filter(|r| !r.passed()).count();
    let _ = writeln!(out, "# {} passed, {failed} failed", runs.len() - failed);
    out
}

/// A test point's description: one line, no `#` (TAP's directive marker).
fn tap_text(text: &str) -> String {
    text.chars().map(|c| if c.is_control() || c == '#' { ' ' } else { c }).collect()
}

/// A YAML string that is always one valid scalar: JSON's quoting is YAML's.
fn yaml_str(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

/// The cases as a JUnit XML document: one suite, a test case per case.
pub fn junit(suite_name: &str, runs: &[CaseRun]) -> Result<String, Failure> {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("vitals plugin test");
    let mut suite = TestSuite::new(suite_name);
    for run in runs {
        let status = if run.passed() {
            TestCaseStatus::success()
        } else {
            let mut failure = TestCaseStatus::non_success(NonSuccessKind::Failure);
            failure.set_message(run.misses[0].clone()).set_type("case").set_description(format!(
                "{}\nresult: {}",
                run.misses.join("\n"),
                run.line
            ));
            failure
        };
        let mut case = TestCase::new(run.name.as_str(), status);
        case.set_classname(format!("vitals.plugin.{suite_name}")).set_time(run.took);
        suite.add_test_case(case);
    }
    report.add_test_suite(suite);
    report.to_string().map_err(|e| Failure::internal(format!("cannot write JUnit XML: {e}")))
}

/// The cases file `text` with what `--record` saw written into each case.
pub fn write_recorded(text: &str, recorded: &Recorded) -> Result<String, Failure> {
    let mut text = text.to_string();
    for (case, http, tcp) in recorded {
        text = vitals_cases::write_answers(&text, case, http, tcp)
            .map_err(|e| Failure::data(format!("cannot write the answers of case `{case}`: {e}")))?;
    }
    Ok(text)
}

/// Parses a cases file, with its path in the message.
pub fn parse_cases(path: &std::path::Path, text: &str) -> Result<CaseFile, Failure> {
    CaseFile::parse(text).map_err(|e| Failure::data(format!("{}: {e}", path.display())))
}
