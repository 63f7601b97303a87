//! Running cases through a check natively: the request a case makes, the run with its
//! answers installed, and the judging and report of the result.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::time::Duration;

use vitals_cases::{Case, CaseFile, Outcome, judge};

use super::host;
use crate::{Check, CheckRequest, CheckResult, Reason, Status, unknown};

/// A case's `deadline_ms` when it gives no `timeout`: the host's default check timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs every case of the cases file at `path` through `C::run`, and panics when any
/// fails, with a report naming each failing case and every way it failed, so that one
/// `cargo test` shows them all. A file that cannot be read or parsed, or holds no case,
/// fails too. [`test_cases!`](crate::test_cases) wraps this in a `#[test]`.
///
/// Each case prints one line (`case `name` ... ok`); what the plugin logs while it runs
/// ([`crate::log`]) goes to stderr just before that line. `cargo test` shows both for a
/// failing test.
///
/// ```
/// use vitals_sdk::{Check, CheckRequest, CheckResult, Description, Reason, critical, ok};
///
/// struct Echo;
///
/// impl Check for Echo {
///     fn describe() -> Description {
///         vitals_sdk::description("echo", "0.1.0", "Says the target.", vec![])
///     }
///     fn run(request: CheckRequest) -> CheckResult {
///         if request.target.is_empty() {
///             return critical("no target", Reason::PluginError);
///         }
///         ok(format!("{} within {} ms", request.target, request.deadline_ms))
///     }
/// }
///
/// let path = std::env::temp_dir().join(format!("vitals-sdk-doc-{}.toml", std::process::id()));
/// std::fs::write(&path, r#"
/// [[case]]
/// name = "says the target"
/// target = "api.test:443"
/// timeout = "2s"
/// expect = { status = "ok", summary = '^api\.test:443 within 2000 ms$' }
/// "#).unwrap();
/// vitals_sdk::testing::run_cases::<Echo>(&path);
/// # std::fs::remove_file(&path).ok();
/// ```
#[track_caller]
pub fn run_cases<C: Check>(path: impl AsRef<Path>) {
    let path = path.as_ref();
    let shown = path.display();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) => panic!("cannot read the cases file {shown}: {err}"),
    };
    let file = match CaseFile::parse(&text) {
        Ok(file) => file,
        Err(err) => panic!("{shown}: {err}"),
    };
    if file.cases.is_empty() {
        panic!("{shown} has no [[case]]: nothing was tested");
    }
    let mut report = String::new();
    let mut failed = 0;
    for case in &file.cases {
        let misses = match play::<C>(case) {
            Ok((_, misses)) if misses.is_empty() => {
                println!("case `{}` ... ok", case.name);
                continue;
            }
            Ok((result, mut misses)) => {
                misses.push(format!("the result was: {}", shown_result(&result)));
                misses
            }
            Err(why) => vec![why],
        };
        failed += 1;
        println!("case `{}` ... FAILED", case.name);
        report.push_str(&format!("\ncase `{}`:\n", case.name));
        for miss in misses {
            report.push_str(&format!("  - {miss}\n"));
        }
    }
    if failed > 0 {
        panic!("{failed} of {} cases in {shown} failed:\n{report}", file.cases.len());
    }
}

/// Runs one case through `C::run`: the result when it is what the case expects and the
/// plugin made exactly the host calls the case answers; otherwise every way it is not,
/// one line each. For assertions a case cannot say, on the result it returns.
///
/// ```
/// use vitals_sdk::http::{self, Request};
/// use vitals_sdk::testing::{CaseFile, run_case};
/// use vitals_sdk::{Check, CheckRequest, CheckResult, Description, Reason, critical, net_failure, ok};
///
/// struct Up;
///
/// impl Check for Up {
///     fn describe() -> Description {
///         vitals_sdk::description("up", "0.1.0", "GETs the target, wants a 200.", vec![])
///     }
///     fn run(request: CheckRequest) -> CheckResult {
///         let get = Request {
///             method: "GET".into(),
///             url: request.target.clone(),
///             headers: Vec::new(),
///             body: None,
///             timeout_ms: Some(request.deadline_ms),
///             max_redirects: 0,
///             tls_verify: true,
///             max_body_bytes: 1024,
///         };
///         match http::send(&get) {
///             Ok(response) if response.status == 200 => ok(format!("200 in {} µs", response.timings.total_us)),
///             Ok(response) => critical(format!("HTTP {}", response.status), Reason::HttpStatus),
///             Err(err) => net_failure(&format!("GET {}", request.target), &err),
///         }
///     }
/// }
///
/// let file = CaseFile::parse(r#"
/// [[case]]
/// name = "healthy"
/// target = "http://api.test/health"
/// expect = { status = "ok", summary = "^200 in 1500 µs$" }
/// http = [{ status = 200, timings = { connect = "500us", first_byte = "1ms" } }]
///
/// [[case]]
/// name = "wrongly expects a redirect to pass"
/// target = "http://api.test/health"
/// expect = { status = "ok" }
/// http = [{ status = 302 }, { status = 200 }]
/// "#).unwrap();
///
/// let result = run_case::<Up>(&file.cases[0]).unwrap();
/// assert_eq!(result.reason, None);
///
/// let misses = run_case::<Up>(&file.cases[1]).unwrap_err();
/// assert_eq!(misses, [
///     r#"status: expected ok, got critical ("HTTP 302")"#,
///     "replay: the plugin sent 1 HTTP request(s); the case answers 2",
/// ]);
/// ```
pub fn run_case<C: Check>(case: &Case) -> Result<CheckResult, Vec<String>> {
    match play::<C>(case) {
        Ok((result, misses)) if misses.is_empty() => Ok(result),
        Ok((_, misses)) => Err(misses),
        Err(why) => Err(vec![why]),
    }
}

/// Runs `C::run` on `case`'s request with its answers installed: the result and every
/// way it misses the case (judged, then the replay's problems); an error when the case
/// cannot be run at all.
fn play<C: Check>(case: &Case) -> Result<(CheckResult, Vec<String>), String> {
    let request = request(case)?;
    let (result, problems) = host::replaying(case, || run_caught::<C>(request));
    let mut misses = judge(&case.expect, &outcome(&result));
    misses.extend(problems.into_iter().map(|problem| format!("replay: {problem}")));
    Ok((result, misses))
}

/// The request the host would hand the plugin for `case`.
fn request(case: &Case) -> Result<CheckRequest, String> {
    let timeout = match &case.timeout {
        Some(text) => crate::parse_duration(text).map_err(|err| format!("timeout {text:?}: {err}"))?,
        None => DEFAULT_TIMEOUT,
    };
    Ok(CheckRequest {
        name: case.name.clone(),
        target: case.target.clone(),
        config: case.config_json(),
        deadline_ms: u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX),
    })
}

/// `C::run`, with a panic turned into the result the host makes of the trap it causes.
fn run_caught<C: Check>(request: CheckRequest) -> CheckResult {
    std::panic::catch_unwind(AssertUnwindSafe(|| C::run(request))).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_string());
        unknown(format!("plugin panicked: {message}"), Reason::PluginError)
    })
}

/// A result as a case judges it; `ok` carries no reason, whatever the plugin said, as in
/// the host.
fn outcome(result: &CheckResult) -> Outcome {
    let status = match result.status {
        Status::Ok => vitals_cases::Status::Ok,
        Status::Warning => vitals_cases::Status::Warning,
        Status::Critical => vitals_cases::Status::Critical,
        Status::Unknown => vitals_cases::Status::Unknown,
    };
    let reason = result.reason.filter(|_| result.status != Status::Ok).map(|reason| match reason {
        Reason::Dns => vitals_cases::Reason::Dns,
        Reason::Connect => vitals_cases::Reason::Connect,
        Reason::Tls => vitals_cases::Reason::Tls,
        Reason::Timeout => vitals_cases::Reason::Timeout,
        Reason::HttpStatus => vitals_cases::Reason::HttpStatus,
        Reason::Assertion => vitals_cases::Reason::Assertion,
        Reason::Protocol => vitals_cases::Reason::Protocol,
        Reason::Denied => vitals_cases::Reason::Denied,
        Reason::PluginError => vitals_cases::Reason::PluginError,
    });
    Outcome {
        status,
        reason,
        summary: result.summary.clone(),
        metrics: result.metrics.iter().map(|m| (m.name.clone(), m.value)).collect(),
    }
}

/// A result on one line for the report: status, reason, summary and metrics.
fn shown_result(result: &CheckResult) -> String {
    let outcome = outcome(result);
    let reason = outcome.reason.map(|r| format!(" ({})", r.as_str())).unwrap_or_default();
    let metrics: Vec<String> = outcome.metrics.iter().map(|(name, value)| format!("{name}={value}")).collect();
    format!("{}{reason} {:?} [{}]", outcome.status.as_str(), outcome.summary, metrics.join(" "))
}
