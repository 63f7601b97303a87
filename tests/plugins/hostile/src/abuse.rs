//! Modes that abuse the sandbox's CPU, memory, stack and output limits, or that fail.

use std::hint::black_box;
use std::io::Write;

use crate::vitals::plugin::log::{self, Level};
use crate::{CheckResult, metric, ok};

const MIB: usize = 1 << 20;

/// `loop`: spins forever without calling the host. Tests that the deadline (epoch
/// interruption or fuel) stops a plugin that never yields.
pub fn spin() -> CheckResult {
    let mut n: u64 = 0;
    loop {
        // black_box keeps the optimizer from proving the loop has no effect.
        n = black_box(n.wrapping_add(1));
    }
}

/// `membomb`: allocates 1 MiB chunks forever, writing every 4 KiB page so that the
/// memory is really used. Tests the store's memory limit.
pub fn membomb() -> CheckResult {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = vec![0u8; MIB];
        for page in chunk.chunks_mut(4096) {
            page[0] = 1;
        }
        hoard.push(black_box(chunk));
    }
}

/// `stack`: recurses without end. Tests that a stack overflow traps and is reported.
pub fn stack() -> CheckResult {
    let depth = recurse(0);
    ok(format!("recursion ended at depth {depth}"))
}

/// One level of `stack`: the local array passed to black_box has to live in this frame,
/// and the addition after the call keeps it from being a tail call the optimizer could
/// turn into a loop.
#[allow(unconditional_recursion)] // The recursion never ends on purpose.
fn recurse(depth: u64) -> u64 {
    let mut frame = [0u8; 256];
    frame[depth as usize % frame.len()] = depth as u8;
    black_box(&mut frame);
    recurse(black_box(depth + 1)) + u64::from(frame[0])
}

/// `panic`: panics. Tests that a panic traps and becomes an `unknown` result.
pub fn panic() -> CheckResult {
    panic!("hostile plugin panicked on purpose")
}

/// `trap`: executes `unreachable`. Tests that a bare trap becomes an `unknown` result.
pub fn trap() -> CheckResult {
    core::arch::wasm32::unreachable()
}

/// `huge-summary`: returns a summary of `bytes` bytes (default 10 MiB) and 100,000
/// metrics. Tests that the host bounds the size of a result.
pub fn huge_summary(bytes: Option<u64>) -> CheckResult {
    let len = bytes.map_or(10 * MIB, |b| b as usize);
    let mut result = ok("x".repeat(len));
    result.metrics = (0..100_000)
        .map(|i| metric(&format!("m{i}"), f64::from(i)))
        .collect();
    result
}

/// `log-flood`: writes 100,000 log lines of 1 KiB, then 10 MiB each to stdout and
/// stderr. Tests the log rate limit and the bounds on captured output.
pub fn log_flood() -> CheckResult {
    let line = "y".repeat(1023); // 1 KiB with the newline.
    for _ in 0..100_000 {
        log::write(Level::Info, &line);
    }
    // println! panics when a write fails; the host may close or cap the streams, so write
    // directly and ignore the errors.
    for _ in 0..10 * MIB / 1024 {
        let _ = writeln!(std::io::stdout(), "{line}");
        let _ = writeln!(std::io::stderr(), "{line}");
    }
    ok("flooded".into())
}

/// `echo-secret`: puts the `secret` config value in the summary, the details and a log
/// line. Tests that the host redacts secrets everywhere.
pub fn echo_secret(secret: Option<String>) -> CheckResult {
    let secret = secret.unwrap_or_default();
    let text = format!("the secret is {secret}");
    log::write(Level::Info, &text);
    let mut result = ok(text.clone());
    result.details = Some(format!("details: {text}\nsecret again: {secret}"));
    result
}

/// `sleep`: busy-waits `bytes` milliseconds (default 1000) on the monotonic clock, then
/// returns `ok`. Tests deadlines on a plugin that is slow but otherwise well-behaved.
pub fn sleep(ms: Option<u64>) -> CheckResult {
    let ms = ms.unwrap_or(1000);
    let start = std::time::Instant::now();
    while start.elapsed().as_millis() < u128::from(ms) {
        black_box(());
    }
    ok(format!("slept {ms} ms"))
}

/// `disguised-secret`: writes the `secret` config value where cleaning would rewrite it
/// back into the secret: a control character (and a bidi override) in place of each
/// space in the summary and details, `/` in place of each `_` or `-` in a metric name,
/// the secret as a threshold, and a disguised copy in a log line. Tests that the host
/// cleans first and redacts after.
pub fn disguised_secret(secret: Option<String>) -> CheckResult {
    let secret = secret.unwrap_or_default();
    let spaced = secret.replace(' ', "\u{1}");
    let bidi = secret.replace(' ', "\u{202E}");
    log::write(Level::Info, &format!("log {spaced}"));
    let mut result = ok(format!("summary {spaced}"));
    result.details = Some(format!("details {bidi}"));
    let name = secret.replace([' ', '_', '-'], "/");
    let mut m = metric(&name, 1.0);
    m.warn = Some(secret.clone());
    result.metrics.push(m);
    result
}

/// `forged-output`: tries to forge what Nagios, Icinga and Sensu parse and what a terminal
/// shows: perfdata labels injected through a unit and a range, a NaN and an infinite
/// value, a bidi override and an escape sequence in the summary.
pub fn forged_output() -> CheckResult {
    let mut result = ok("all \u{202E}KO\u{202C} \x1b[2J| fake=1;2;3 second line\nOK".into());
    let mut time = metric("time", 12.5);
    time.unit = "ms;1;2 'injected'=666".into();
    time.warn = Some("100;200 'also'=1".into());
    time.crit = Some("@~:500".into());
    result.metrics.push(time);
    result.metrics.push(metric("not-a-number", f64::NAN));
    result.metrics.push(metric("forever", f64::INFINITY));
    result
}
