//! `vitals gate`: run the checks the conditions need, evaluate every condition on those
//! runs and on stored history, print the verdict, and exit 0 when all hold, 1 otherwise;
//! with `--wait-for-healthy`, try again with backoff until they hold or time runs out.

use std::io::Write;
use std::time::{Duration, Instant};

use super::context::{self, Failure};
use super::run::run_once;
use super::sinks::Collect;
use super::{Cli, GateArgs, GateFormat};
use crate::exit;
use crate::gate::{self, LoadErrors, Verdict};
use crate::notify::NotifyHandle;
use crate::plan::Plan;
use crate::result::CheckResult;
use crate::runtime::Runtime;
use crate::schedule::{self, Prepared};
use crate::store::ResultStore;

/// The first pause of `--wait-for-healthy`; each next one is twice as long.
const FIRST_PAUSE: Duration = Duration::from_secs(1);
/// The longest pause of `--wait-for-healthy`: a service that comes up is noticed within it.
const MAX_PAUSE: Duration = Duration::from_secs(30);
/// How long the gate waits for notifiers to deliver its runs' state changes.
const NOTIFY_GRACE: Duration = Duration::from_secs(30);
/// The exit code of a gate with a failed condition.
const FAILED: u8 = 1;
/// The environment variable GitHub Actions sets to the job summary file.
const GITHUB_STEP_SUMMARY: &str = "GITHUB_STEP_SUMMARY";

/// Runs the command.
pub async fn gate(cli: &Cli, args: &GateArgs) -> Result<u8, Failure> {
    let plan = context::load_plan(cli)?;
    let bound = gate::load(&plan, &args.conditions).map_err(load_failure)?;
    if bound.is_empty() {
        return Err(Failure::usage(format!(
            "no gate conditions: add a [gate] table with conditions = [\"status(*) == ok\"] to {}, or pass \
             --condition \"status(*) == ok\" (docs/ci.md)",
            cli.config.display()
        )));
    }
    let runtime = context::runtime(cli)?;
    let needed = plan.checks.iter().filter(|c| bound.iter().any(|b| b.needs_runs() && b.checks.contains(&c.name)));
    let prepared = schedule::prepare(&runtime, &plan, needed).await?;
    let notifiers = context::notifiers(&runtime, &plan, &prepared).await?;
    let mut store = context::open_store(cli)?;
    let deadline = args.wait_for_healthy.then(|| Instant::now() + args.timeout);
    let mut pause = FIRST_PAUSE;
    let mut attempts = 0;
    let verdict = loop {
        attempts += 1;
        let runs = runs(&runtime, &prepared, &plan, args, &mut *store, notifiers.as_ref()).await?;
        let conditions = gate::assess(&bound, &plan, &runs, &*store, crate::schedule::scheduler::wall_clock_ms())
            .map_err(|e| Failure::store(e.to_string()))?;
        let verdict = Verdict { conditions, attempts };
        let Some(deadline) = deadline else { break verdict };
        let left = deadline.saturating_duration_since(Instant::now());
        if verdict.passed() || left.is_zero() {
            break verdict;
        }
        // Never sleep past the deadline: the last attempt is made at it.
        let wait = pause.min(left);
        eprintln!("{}", waiting(&verdict, wait, left));
        tokio::time::sleep(wait).await;
        pause = (pause * 2).min(MAX_PAUSE);
    };
    if let Some(notifiers) = notifiers {
        notifiers.finish(NOTIFY_GRACE).await;
    }
    if deadline.is_some() && !verdict.passed() {
        eprintln!(
            "vitals gate: still failing after --timeout {} ({attempts} attempts)",
            crate::config::units::format_duration(args.timeout)
        );
    }
    write_outputs(args, &verdict)?;
    Ok(if verdict.passed() { exit::OK } else { FAILED })
}

/// One attempt's runs: every needed check `--runs` times, `--spacing` apart, each round
/// stored as `run --once` stores it.
async fn runs(
    runtime: &std::sync::Arc<Runtime>,
    prepared: &[Prepared],
    plan: &Plan,
    args: &GateArgs,
    store: &mut dyn ResultStore,
    notifiers: Option<&NotifyHandle>,
) -> Result<Vec<CheckResult>, Failure> {
    let mut all = Vec::new();
    if prepared.is_empty() {
        return Ok(all);
    }
    for round in 0..args.runs {
        if round > 0 {
            tokio::time::sleep(args.spacing).await;
        }
        let sink = Collect { notify: notifiers.map(NotifyHandle::sender), ..Collect::default() };
        let concurrency = usize::from(args.concurrency);
        all.extend(run_once(runtime, prepared.to_vec(), plan.max_per_host, concurrency, store, sink).await?);
    }
    Ok(all)
}

/// The line shown on stderr between attempts.
fn waiting(verdict: &Verdict, wait: Duration, left: Duration) -> String {
    let first = verdict.failures().next().map_or_else(String::new, |(c, o)| format!(" ({})", c.describe(o)));
    format!(
        "vitals gate: attempt {}: {} of {} conditions failed{first}; next attempt in {}, {} left",
        verdict.attempts,
        verdict.failed(),
        verdict.conditions.len(),
        crate::config::units::format_duration(wait),
        crate::config::units::format_duration(left),
    )
}

/// The verdict on stdout, and in every file asked for.
fn write_outputs(args: &GateArgs, verdict: &Verdict) -> Result<(), Failure> {
    if let Some(path) = &args.junit {
        let xml = gate::junit::junit(verdict)
            .map_err(|e| Failure::internal(format!("cannot render the JUnit report: {e}")))?;
        write_file(path, xml.as_bytes(), "--junit")?;
    }
    if let Some(path) = &args.markdown {
        write_file(path, gate::markdown::markdown(verdict).as_bytes(), "--markdown")?;
    }
    let annotations = match std::env::var_os(GITHUB_STEP_SUMMARY).filter(|p| !p.is_empty()) {
        Some(path) => {
            append_file(std::path::Path::new(&path), gate::markdown::markdown(verdict).as_bytes())?;
            gate::markdown::github_annotations(verdict)
        }
        None => String::new(),
    };
    let stdout_failure = |e: std::io::Error| Failure::internal(format!("cannot write the verdict to stdout: {e}"));
    match args.format {
        GateFormat::Text => {
            let mut text = gate::output::text(verdict);
            text.push_str(&annotations);
            anstream::stdout().write_all(text.as_bytes()).map_err(stdout_failure)
        }
        GateFormat::Json => {
            // Annotations go to stderr so stdout stays one JSON document; the Actions
            // runner reads workflow commands from both.
            eprint!("{annotations}");
            std::io::stdout().write_all(gate::output::json(verdict).as_bytes()).map_err(stdout_failure)
        }
    }
}

fn write_file(path: &std::path::Path, bytes: &[u8], flag: &str) -> Result<(), Failure> {
    std::fs::write(path, bytes).map_err(|e| Failure::usage(format!("cannot write {flag} {}: {e}", path.display())))
}

fn append_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), Failure> {
    let appended =
        std::fs::OpenOptions::new().create(true).append(true).open(path).and_then(|mut f| f.write_all(bytes));
    appended.map_err(|e| Failure::usage(format!("cannot append to ${GITHUB_STEP_SUMMARY} ({}): {e}", path.display())))
}

/// Configuration errors (78) when any condition of checks.toml is wrong, else usage
/// errors (64) for the `--condition` ones; every error is shown.
fn load_failure(errors: LoadErrors) -> Failure {
    let in_config = !errors.config.is_empty();
    let mut parts: Vec<String> = errors.config.iter().map(ToString::to_string).collect();
    parts.extend(errors.command_line);
    let text = parts.join("\n\n");
    if in_config { Failure::config(text) } else { Failure::usage(text) }
}
