//! The built-in `system` check plugin of Vitals.
//!
//! It asks the host about the machine Vitals runs on (the `system` interface of WIT
//! 0.1.3, for a check granted `allow = ["system"]`): how full its file systems are, how
//! much memory and swap is in use, the load per CPU, how many processes of a name run and
//! which TCP ports something listens on; and judges each against the check's thresholds,
//! like Nagios' check_disk, check_load, check_swap and check_procs. Its target is
//! `system:NAME`, where NAME is only a label (`system:disk`, `system:web-box`).

mod config;
mod judge;

use vitals_sdk::{
    Check, CheckRequest, CheckResult, ConfigProblem, Description, PluginConfig, Reason, description, net_failure,
    register_check, sanitize, system, unknown,
};

use crate::config::{Config, Parts};
use crate::judge::{Facts, judge};

/// The `system` check.
pub struct System;

impl Check for System {
    fn describe() -> Description {
        description(
            "system",
            env!("CARGO_PKG_VERSION"),
            "Checks the machine Vitals runs on; the target is system:NAME (NAME is a label) and \
             the check needs allow = [\"system\"]. Each part is checked when one of its keys is \
             given: disk (disk_warn/disk_crit on the used share of each file system as df shows \
             it, inode_warn/inode_crit, mounts, ignore_fs_types), memory (memory_warn/memory_crit \
             on 1 - available/total), swap (swap_warn/swap_crit), load (load_warn/load_crit on the \
             load average per CPU, load_average), a process count (process, process_min, \
             process_max) and listening TCP ports (listening). A config with none of these keys \
             reports disk, memory, swap and load without thresholds. Thresholds alert above the \
             value given; the worst finding decides the status and comes first in the summary. \
             Metrics: per file system disk_used_pct.LABEL (%), disk_free.LABEL (B) and \
             inode_used_pct.LABEL (%), where LABEL is the mount point with / as _ (root for /); \
             memory_used_pct (%), memory_available (B), swap_used_pct (%), load1, load5, load15, \
             load_per_core, processes and listening.PORT (1 or 0).",
            Config::keys(),
        )
    }

    fn validate(config: &str) -> Vec<ConfigProblem> {
        match Config::load(config) {
            Ok(_) => Vec::new(),
            Err(error) => error.problems().to_vec(),
        }
    }

    fn run(request: CheckRequest) -> CheckResult {
        let (config, parts) = match Config::load(&request.config) {
            Ok(loaded) => loaded,
            Err(error) => return error.into(),
        };
        if let Err(why) = check_target(&request.target) {
            return unknown(why, Reason::PluginError);
        }
        match gather(&config, parts) {
            Ok(facts) => judge(&config, parts, &facts),
            Err(failed) => failed,
        }
    }
}

register_check!(System);

/// A target `system:NAME`, or why it is not one.
pub fn check_target(target: &str) -> Result<(), String> {
    match target.trim().strip_prefix("system:") {
        Some(name) if !name.trim().is_empty() => Ok(()),
        _ => Err(format!(
            "invalid target \"{}\": the system check's target is system:NAME, e.g. system:disk",
            sanitize(target, 80)
        )),
    }
}

/// Asks the host about each part the config asks about; a failed call becomes its result
/// (a check without `allow = ["system"]` is refused with the host's message).
fn gather(config: &Config, parts: Parts) -> Result<Facts, CheckResult> {
    let mut facts = Facts::default();
    if parts.disk {
        facts.mounts = system::mounts().map_err(|e| net_failure("reading the mounted file systems", &e))?;
    }
    if parts.memory || parts.swap {
        facts.memory = Some(system::memory().map_err(|e| net_failure("reading memory and swap", &e))?);
    }
    if parts.load {
        facts.load = Some(system::load().map_err(|e| net_failure("reading the load averages", &e))?);
    }
    if let Some(name) = config.process.as_deref().filter(|_| parts.process) {
        let name = name.trim();
        let count = system::processes(name)
            .map_err(|e| net_failure(&format!("counting the processes named {}", sanitize(name, 40)), &e))?;
        facts.processes = Some(count);
    }
    if parts.listening {
        for &port in &config.listening {
            if facts.listening.iter().any(|(p, _)| *p == port) {
                continue;
            }
            let on = system::listening(port)
                .map_err(|e| net_failure(&format!("looking for a listener on port {port}"), &e))?;
            facts.listening.push((port, on));
        }
    }
    Ok(facts)
}

#[cfg(test)]
mod tests;
