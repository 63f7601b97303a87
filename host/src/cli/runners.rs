//! `vitals runners`: the membership of a shared store.

use std::fmt::Write as _;

use super::{Cli, Format, RunnersArgs, exit, stdout};
use crate::app::Failure;
use crate::store;

/// Lists the registered runners (exit 0), or says why it cannot (74 for a store that keeps
/// no membership or cannot be read).
pub fn list(cli: &Cli, args: &RunnersArgs) -> Result<u8, Failure> {
    let spec = cli.context().store_spec();
    let store = store::open(&spec).map_err(|e| Failure::store(e.to_string()))?;
    let membership = store.runners().map_err(|e| Failure::store(e.to_string()))?;
    let timeout = i64::try_from(args.timeout.as_millis()).unwrap_or(i64::MAX);
    let live = |heartbeat_ms: i64| membership.now_ms.saturating_sub(heartbeat_ms) <= timeout;
    let text = match args.format {
        Format::Json => {
            let runners: Vec<serde_json::Value> = membership
                .runners
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id,
                        "location": r.location,
                        "version": r.version,
                        "started_at_ms": r.started_at_ms,
                        "heartbeat_ms": r.heartbeat_ms,
                        "heartbeat_age_ms": membership.now_ms.saturating_sub(r.heartbeat_ms),
                        "live": live(r.heartbeat_ms),
                        "checks": r.checks,
                    })
                })
                .collect();
            let mut text = serde_json::json!({ "now_ms": membership.now_ms, "runners": runners }).to_string();
            text.push('\n');
            text
        }
        Format::Table => {
            let mut text = String::new();
            let _ = writeln!(
                text,
                "{:<32} {:<12} {:<10} {:>10} {:<8} {:>8}",
                "RUNNER", "LOCATION", "VERSION", "HEARTBEAT", "STATE", "CHECKS"
            );
            for r in &membership.runners {
                let age = membership.now_ms.saturating_sub(r.heartbeat_ms).max(0);
                let location = if r.location.is_empty() { "-" } else { &r.location };
                let state = if live(r.heartbeat_ms) { "live" } else { "expired" };
                let _ = writeln!(
                    text,
                    "{:<32} {:<12} {:<10} {:>9.1}s {:<8} {:>8}",
                    r.id,
                    location,
                    r.version,
                    age as f64 / 1000.0,
                    state,
                    r.checks
                );
            }
            if membership.runners.is_empty() {
                text.push_str("no runner is registered\n");
            }
            text
        }
    };
    stdout::write(text.as_bytes())?;
    Ok(exit::OK)
}
