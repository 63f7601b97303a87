//! `vitals gate`: evaluate the conditions (see `app::gate`), print the verdict and write
//! the files asked for, and exit 0 when all hold, 1 otherwise.

use std::io::Write;
use std::time::Duration;

use super::{Cli, GateArgs, GateFormat, exit, stdout};
use crate::app::Failure;
use crate::app::gate::{GateOptions, evaluate};
use crate::gate::{self, Verdict};

/// The environment variable GitHub Actions sets to the job summary file.
const GITHUB_STEP_SUMMARY: &str = "GITHUB_STEP_SUMMARY";

/// Runs the command.
pub async fn gate(cli: &Cli, args: &GateArgs) -> Result<u8, Failure> {
    let options = GateOptions {
        conditions: args.conditions.clone(),
        runs: args.runs,
        spacing: args.spacing,
        wait_for_healthy: args.wait_for_healthy.then_some(args.timeout),
        concurrency: usize::from(args.concurrency),
    };
    let on_retry = |verdict: &Verdict, wait: Duration, left: Duration| eprintln!("{}", waiting(verdict, wait, left));
    let verdict = evaluate(&cli.context(), &options, &on_retry).await?;
    if args.wait_for_healthy && !verdict.passed() {
        eprintln!(
            "vitals gate: still failing after --timeout {} ({} attempts)",
            vitals_units::format_duration(args.timeout),
            verdict.attempts
        );
    }
    write_outputs(args, &verdict)?;
    Ok(if verdict.passed() { exit::OK } else { exit::FAILED })
}

/// The line shown on stderr between attempts.
fn waiting(verdict: &Verdict, wait: Duration, left: Duration) -> String {
    let first = verdict.failures().next().map_or_else(String::new, |(c, o)| format!(" ({})", c.describe(o)));
    format!(
        "vitals gate: attempt {}: {} of {} conditions failed{first}; next attempt in {}, {} left",
        verdict.attempts,
        verdict.failed(),
        verdict.conditions.len(),
        vitals_units::format_duration(wait),
        vitals_units::format_duration(left),
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
    match args.format {
        GateFormat::Text => {
            let mut text = gate::output::text(verdict);
            text.push_str(&annotations);
            stdout::write(text.as_bytes())
        }
        GateFormat::Json => {
            // Annotations go to stderr so stdout stays one JSON document; the Actions
            // runner reads workflow commands from both.
            eprint!("{annotations}");
            stdout::write_plain(gate::output::json(verdict).as_bytes())
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
