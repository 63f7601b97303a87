//! One check run in a fresh sandbox: arm the deadline and limits, call `run`, and turn
//! whatever happens (a result, a trap, a timeout, a limit breach) into a `CheckResult`.

use std::sync::Arc;
use std::time::{Duration, Instant as StdInstant, SystemTime};

use tokio::time::Instant;
use tracing::Instrument;
use wasmtime::{Store, Trap, UpdateDeadline};

use super::answers::Answers;
use super::output::{self, Draft};
use super::plugin::Plugin;
use super::state::{BudgetExceeded, RunGrant, RunState};
use super::wit::v0_1;
use crate::plan::CheckPlan;
use crate::result::{CheckResult, Reason, Status};
use vitals_units::{format_bytes, format_duration};

/// Installs the limiter and the epoch callback: a busy plugin yields to other checks
/// every tick, and traps once its wall-clock deadline has passed.
pub(crate) fn arm(store: &mut Store<RunState>, deadline: Instant) {
    store.limiter(|s| &mut s.limiter);
    store.set_epoch_deadline(1);
    let deadline = deadline.into_std();
    store.epoch_deadline_callback(move |_| {
        if StdInstant::now() >= deadline { Ok(UpdateDeadline::Interrupt) } else { Ok(UpdateDeadline::Yield(1)) }
    });
}

/// Runs `check` with `plugin`, its host calls answered by `answers`. Never fails: every
/// failure is a result.
pub async fn run(engine: &super::Engine, plugin: &Plugin, check: &CheckPlan, answers: Answers) -> CheckResult {
    let span = tracing::info_span!("check", check = %check.name, plugin = %plugin.label);
    async move {
        let started_at = SystemTime::now();
        let t0 = Instant::now();
        let deadline = t0 + check.timeout;
        let grant = RunGrant {
            check: Arc::from(check.name.as_str()),
            grants: Arc::clone(&check.grants),
            secrets: Arc::clone(&check.secrets),
            deadline,
            memory: check.memory,
            budget: check.budget,
            lanes: Some(engine.lanes().clone()),
            answers,
        };
        let mut store = Store::new(engine.wasmtime(), RunState::new(grant));
        arm(&mut store, deadline);
        let request = v0_1::request(&check.name, &check.target, check.config_json(), check.timeout);
        let call = async {
            let instance = plugin.pre.instantiate_async(&mut store).await?;
            instance.vitals_plugin_checker().call_run(&mut store, &request).await
        };
        // Epochs stop guest code; this stops time spent blocked in a host call.
        let outcome = tokio::time::timeout_at(deadline, call).await;
        let elapsed = t0.elapsed();
        let state = store.data();
        let (mut result, draft) = match outcome {
            Ok(Ok(raw)) => from_plugin(check, raw),
            Ok(Err(error)) => from_trap(check, state, &error),
            Err(_) => timed_out(check),
        };
        // The one exit: everything the plugin controlled, and the host's notes about the
        // run, cleaned, redacted and bounded last, after every append.
        let notes: Vec<String> = state.denials.note().into_iter().collect();
        let sealed = output::seal(draft, &notes, &check.secrets);
        result.summary = sealed.summary;
        result.details = sealed.details;
        result.metrics = sealed.metrics;
        result.plugin = plugin.label.clone();
        result.plugin_version = plugin.description.version.clone();
        result.started_at_ms = millis_since_epoch(started_at);
        result.duration = elapsed;
        log_output(check, state);
        tracing::debug!(status = %result.status, duration_ms = elapsed.as_millis() as u64, "check finished");
        result
    }
    .instrument(span)
    .await
}

fn base(check: &CheckPlan, status: Status, reason: Option<Reason>) -> CheckResult {
    CheckResult {
        check: check.name.clone(),
        plugin: String::new(),
        plugin_version: String::new(),
        target: check.target_display.clone(),
        started_at_ms: 0,
        duration: Duration::ZERO,
        status,
        summary: String::new(),
        reason,
        metrics: Vec::new(),
        details: None,
        state: None,
    }
}

/// The result a plugin returned, with its texts still untrusted (in the draft).
fn from_plugin(check: &CheckPlan, raw: v0_1::types::CheckResult) -> (CheckResult, Draft) {
    let raw = v0_1::outcome(raw);
    // `ok` carries no reason, whatever the plugin said.
    let reason = if raw.status == Status::Ok { None } else { raw.reason };
    (base(check, raw.status, reason), Draft { summary: raw.summary, details: raw.details, metrics: raw.metrics })
}

fn from_trap(check: &CheckPlan, state: &RunState, error: &wasmtime::Error) -> (CheckResult, Draft) {
    // The deadline first: a plugin that once hit its memory cap and then ran out of
    // time timed out.
    if matches!(error.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
        return timed_out(check);
    }
    let summary = if let Some(spent) = error.downcast_ref::<BudgetExceeded>() {
        spent.to_string()
    } else if state.limiter.exceeded() {
        format!("plugin exceeded its memory limit of {}", format_bytes(state.limiter.cap()))
    } else {
        match error.downcast_ref::<Trap>() {
            Some(Trap::StackOverflow) => "plugin overflowed its stack (runaway recursion?)".to_string(),
            Some(Trap::UnreachableCodeReached) => {
                let stderr = state.stderr.contents();
                match (panic_message(&stderr), last_line(&stderr)) {
                    (Some(msg), _) => format!("plugin panicked: {msg}"),
                    // Other guest runtimes (JavaScript, Python) print their error, then trap.
                    (None, Some(line)) => format!("plugin failed: {line}"),
                    (None, None) => "plugin trapped: unreachable code reached".to_string(),
                }
            }
            Some(trap) => format!("plugin trapped: {trap}"),
            None => format!("plugin failed: {}", root_message(error)),
        }
    };
    let draft = Draft { summary, details: Some(format!("{error:?}")), metrics: Vec::new() };
    (base(check, Status::Unknown, Some(Reason::PluginError)), draft)
}

fn timed_out(check: &CheckPlan) -> (CheckResult, Draft) {
    let summary = format!("timed out after {} (the check's timeout)", format_duration(check.timeout));
    (base(check, check.timeout_status, Some(Reason::Timeout)), Draft { summary, ..Draft::default() })
}

/// The message of a Rust panic, from the guest's captured stderr.
fn panic_message(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let mut lines = text.lines();
    lines.find(|l| l.contains("panicked at"))?;
    let msg = lines.next()?.trim();
    (!msg.is_empty()).then(|| output::one_line(msg, 300))
}

/// The last non-empty line a plugin wrote to stderr.
fn last_line(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    text.lines().rev().map(str::trim).find(|l| !l.is_empty()).map(|l| output::one_line(l, 300))
}

fn root_message(error: &wasmtime::Error) -> String {
    output::one_line(&format!("{error:#}"), 300)
}

fn log_output(check: &CheckPlan, state: &RunState) {
    for (stream, pipe) in [("stdout", &state.stdout), ("stderr", &state.stderr)] {
        let bytes = pipe.contents();
        if bytes.is_empty() {
            continue;
        }
        let text = output::lines(&String::from_utf8_lossy(&bytes), 4096, &check.secrets);
        tracing::debug!(check = %check.name, stream, bytes = bytes.len(), "plugin output: {text}");
    }
}

fn millis_since_epoch(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_panic_message_is_read_from_rust_stderr() {
        let stderr = b"\nthread '<unnamed>' panicked at src/lib.rs:10:5:\nboom went the plugin\nnote: run with RUST_BACKTRACE=1\n";
        assert_eq!(panic_message(stderr).as_deref(), Some("boom went the plugin"));
        assert_eq!(panic_message(b"nothing here"), None);
    }
}
