//! Judging the facts of the machine (plain values, as the host's `system` interface
//! returns them) against the config: the findings, worst first, and the metrics.

use vitals_sdk::system::{LoadAverage, MemoryUsage, Mount};
use vitals_sdk::{CheckResult, Metric, Range, Reason, Status, critical, format_bytes, metric, ok, sanitize, warning};

use crate::config::{Config, LoadWindow, Parts, Percent, normal_mount};

/// Most file systems with metrics of their own (three each), so that a machine with many
/// mounts stays within the host's 64 metrics; the fullest are kept.
pub const MAX_MOUNT_METRICS: usize = 12;
/// Longest mount point shown in a summary, in characters.
const MAX_PATH_SHOWN: usize = 60;
/// Longest part of a metric name taken from a mount point (`inode_used_pct.` + this fits
/// the host's 64 bytes, with room for a `-2` that tells two such names apart).
const MAX_LABEL: usize = 46;

/// What the host said about the machine, for the parts the config asks about.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The mounted file systems with storage (empty when disk is not asked about).
    pub mounts: Vec<Mount>,
    /// Memory and swap.
    pub memory: Option<MemoryUsage>,
    /// Load averages.
    pub load: Option<LoadAverage>,
    /// How many processes are named `process`.
    pub processes: Option<u32>,
    /// Each port of `listening`, and whether something listens on it.
    pub listening: Vec<(u16, bool)>,
}

/// One thing found, for the summary.
#[derive(Debug, Clone, PartialEq)]
struct Finding {
    status: Status,
    text: String,
}

impl Finding {
    fn new(status: Status, text: impl Into<String>) -> Finding {
        Finding { status, text: text.into() }
    }
}

/// How bad a status is, for putting the worst finding first.
fn severity(status: Status) -> u8 {
    match status {
        Status::Ok => 0,
        Status::Unknown => 1,
        Status::Warning => 2,
        Status::Critical => 3,
    }
}

/// The result of a run: every part asked about judged, the worst status wins, and the
/// summary names the worst finding first.
pub fn judge(config: &Config, parts: Parts, facts: &Facts) -> CheckResult {
    let mut findings = Vec::new();
    let mut metrics = Vec::new();
    let mut details = Vec::new();
    if parts.disk {
        let disks = disks(config, &facts.mounts);
        if disks.checked.is_empty() && disks.missing.is_empty() {
            let ignored = config.ignore_fs_types.iter().map(|t| sanitize(t, 20)).collect::<Vec<_>>().join(", ");
            return vitals_sdk::unknown(
                format!("no file system to check: every mounted one is of an ignored type ({ignored})"),
                Reason::PluginError,
            );
        }
        findings.extend(disks.findings);
        metrics.extend(disks.metrics);
        details.extend(disks.details);
    }
    if let Some(memory) = facts.memory.as_ref().filter(|_| parts.memory) {
        let (finding, mut m, line) = judge_memory(config, memory);
        findings.push(finding);
        metrics.append(&mut m);
        details.push(line);
    }
    if let Some(memory) = facts.memory.as_ref().filter(|_| parts.swap) {
        let (finding, m, line) = judge_swap(config, memory);
        findings.push(finding);
        metrics.push(m);
        details.push(line);
    }
    if let Some(load) = facts.load.as_ref().filter(|_| parts.load) {
        let (finding, mut m, line) = judge_load(config, load);
        findings.push(finding);
        metrics.append(&mut m);
        details.push(line);
    }
    if let (Some(name), Some(count), true) = (&config.process, facts.processes, parts.process) {
        let (finding, m) = judge_process(config, name, count);
        details.push(finding.text.clone());
        findings.push(finding);
        metrics.push(m);
    }
    if parts.listening && !facts.listening.is_empty() {
        let (mut f, mut m) = judge_listening(&facts.listening);
        findings.append(&mut f);
        metrics.append(&mut m);
        details.extend(
            facts
                .listening
                .iter()
                .map(|(port, on)| format!("port {port}: {}", if *on { "listening" } else { "not listening" })),
        );
    }
    // Worst first; a stable sort keeps the parts in their order among equals.
    findings.sort_by_key(|f| std::cmp::Reverse(severity(f.status)));
    let status = findings.first().map_or(Status::Ok, |f| f.status);
    let summary = findings.iter().map(|f| f.text.as_str()).collect::<Vec<_>>().join(", ");
    let result = match status {
        Status::Critical => critical(summary, Reason::Assertion),
        Status::Warning => warning(summary, Reason::Assertion),
        _ => ok(summary),
    };
    result.with_metrics(metrics).with_details(details.join("\n"))
}

/// The disk part's findings, metrics and detail lines.
struct Disks {
    /// The file systems judged.
    checked: Vec<Mount>,
    /// Mount points of `mounts` that are not mounted.
    missing: Vec<String>,
    findings: Vec<Finding>,
    metrics: Vec<Metric>,
    details: Vec<String>,
}

/// Used space as df shows it: of the space unprivileged users can have (used plus
/// available), in percent.
pub fn disk_used_pct(mount: &Mount) -> f64 {
    let usable = mount.used_bytes.saturating_add(mount.available_bytes);
    if usable == 0 { 0.0 } else { mount.used_bytes as f64 / usable as f64 * 100.0 }
}

/// Used inodes in percent, none for a file system that counts none.
pub fn inode_used_pct(mount: &Mount) -> Option<f64> {
    (mount.total_inodes > 0)
        .then(|| mount.total_inodes.saturating_sub(mount.free_inodes) as f64 / mount.total_inodes as f64 * 100.0)
}

/// The file systems the config picks: those of `mounts` (and which of them are not
/// mounted), or every one whose type is not ignored.
fn pick(config: &Config, mounts: &[Mount]) -> (Vec<Mount>, Vec<String>) {
    if config.mounts.is_empty() {
        let ignored = |m: &Mount| config.ignore_fs_types.iter().any(|t| t.trim() == m.fs_type);
        return (mounts.iter().filter(|m| !ignored(m)).cloned().collect(), Vec::new());
    }
    let mut wanted: Vec<String> = Vec::new();
    for path in config.mounts.iter().map(|m| normal_mount(m)) {
        if !wanted.contains(&path) {
            wanted.push(path);
        }
    }
    let mut checked = Vec::new();
    let mut missing = Vec::new();
    for path in wanted {
        match mounts.iter().find(|m| m.path == path) {
            Some(mount) => checked.push(mount.clone()),
            None => missing.push(path),
        }
    }
    (checked, missing)
}

fn disks(config: &Config, mounts: &[Mount]) -> Disks {
    let (checked, missing) = pick(config, mounts);
    let (disk_warn, disk_crit) = Config::ranges(config.disk_warn, config.disk_crit);
    let (inode_warn, inode_crit) = Config::ranges(config.inode_warn, config.inode_crit);
    let mut findings: Vec<Finding> = missing
        .iter()
        .map(|path| Finding::new(Status::Critical, format!("disk {} not mounted", sanitize(path, MAX_PATH_SHOWN))))
        .collect();
    let mut fine: Vec<(f64, String)> = Vec::new();
    let mut details = Vec::new();
    // (worst status, used %, metrics) per file system, to keep the fullest when there are many.
    let mut per_mount: Vec<(u8, f64, Vec<Metric>)> = Vec::new();
    let mut labels = Labels::default();
    for mount in &checked {
        let path = sanitize(&mount.path, MAX_PATH_SHOWN);
        let used = disk_used_pct(mount);
        let (status, why, limit) = level(used, config.disk_warn, config.disk_crit);
        let used_text = shown_pct(used, limit);
        if status == Status::Ok {
            fine.push((used, format!("{path} {used_text}% used")));
        } else {
            findings.push(Finding::new(status, format!("disk {path} {used_text}% used{why}")));
        }
        let mut worst = severity(status);
        let label = labels.of(&mount.path);
        let mut m = vec![
            metric(format!("disk_used_pct.{label}"), round2(used), "%")
                .warn_opt(disk_warn)
                .crit_opt(disk_crit)
                .min(0.0)
                .max(100.0),
            metric(format!("disk_free.{label}"), mount.available_bytes as f64, "B")
                .min(0.0)
                .max(mount.total_bytes as f64),
        ];
        let mut line = format!(
            "{path} ({}, {}): {}% used, {} free of {}",
            sanitize(&mount.fs_type, 20),
            sanitize(&mount.device, MAX_PATH_SHOWN),
            number(used, 1),
            format_bytes(mount.available_bytes),
            format_bytes(mount.total_bytes)
        );
        if let Some(inodes) = inode_used_pct(mount) {
            let (status, why, limit) = level(inodes, config.inode_warn, config.inode_crit);
            if status != Status::Ok {
                findings.push(Finding::new(status, format!("inodes {path} {}% used{why}", shown_pct(inodes, limit))));
            }
            worst = worst.max(severity(status));
            m.push(
                metric(format!("inode_used_pct.{label}"), round2(inodes), "%")
                    .warn_opt(inode_warn)
                    .crit_opt(inode_crit)
                    .min(0.0)
                    .max(100.0),
            );
            line.push_str(&format!(", inodes {}% used", number(inodes, 1)));
        }
        details.push(line);
        per_mount.push((worst, used, m));
    }
    match fine.len() {
        0 => {}
        1 => findings.push(Finding::new(Status::Ok, format!("disk {}", fine[0].1))),
        n => {
            let fullest = fine.iter().max_by(|a, b| a.0.total_cmp(&b.0)).map(|f| f.1.clone()).unwrap_or_default();
            findings.push(Finding::new(Status::Ok, format!("disk ok on {n} file systems, fullest {fullest}")));
        }
    }
    if per_mount.len() > MAX_MOUNT_METRICS {
        details.push(format!(
            "metrics of the {MAX_MOUNT_METRICS} fullest of {} file systems (the host keeps 64 metrics)",
            per_mount.len()
        ));
        // Worst first, then fullest; the rest go without metrics.
        let mut order: Vec<usize> = (0..per_mount.len()).collect();
        order.sort_by(|&a, &b| per_mount[b].0.cmp(&per_mount[a].0).then(per_mount[b].1.total_cmp(&per_mount[a].1)));
        let mut keep = vec![false; per_mount.len()];
        for &i in order.iter().take(MAX_MOUNT_METRICS) {
            keep[i] = true;
        }
        per_mount = per_mount.into_iter().zip(keep).filter(|(_, keep)| *keep).map(|(m, _)| m).collect();
    }
    let metrics = per_mount.into_iter().flat_map(|(_, _, m)| m).collect();
    Disks { checked, missing, findings, metrics, details }
}

/// Metric-name labels of mount points (`/` → `root`, `/var/lib` → `var_lib`), each used once.
#[derive(Default)]
struct Labels(Vec<String>);

impl Labels {
    fn of(&mut self, path: &str) -> String {
        let base = mount_label(path);
        let mut label = base.clone();
        let mut n = 2;
        while self.0.contains(&label) {
            label = format!("{base}-{n}");
            n += 1;
        }
        self.0.push(label.clone());
        label
    }
}

/// A mount point as part of a metric name: letters, digits, `_`, `-` and `.` only (the
/// host's rule), `/` → `root`, `/var/lib` → `var_lib`.
pub fn mount_label(path: &str) -> String {
    let inner = path.trim_matches('/');
    if inner.is_empty() {
        return "root".to_string();
    }
    inner
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '.') { c } else { '_' })
        .take(MAX_LABEL)
        .collect()
}

fn judge_memory(config: &Config, memory: &MemoryUsage) -> (Finding, Vec<Metric>, String) {
    let used = if memory.total_bytes == 0 {
        0.0
    } else {
        ((1.0 - memory.available_bytes as f64 / memory.total_bytes as f64) * 100.0).clamp(0.0, 100.0)
    };
    let (status, why, limit) = level(used, config.memory_warn, config.memory_crit);
    let (warn, crit) = Config::ranges(config.memory_warn, config.memory_crit);
    let metrics = vec![
        metric("memory_used_pct", round2(used), "%").warn_opt(warn).crit_opt(crit).min(0.0).max(100.0),
        metric("memory_available", memory.available_bytes as f64, "B").min(0.0).max(memory.total_bytes as f64),
    ];
    let line = format!(
        "memory: {}% used, {} available of {}",
        number(used, 1),
        format_bytes(memory.available_bytes),
        format_bytes(memory.total_bytes)
    );
    (Finding::new(status, format!("memory {}% used{why}", shown_pct(used, limit))), metrics, line)
}

fn judge_swap(config: &Config, memory: &MemoryUsage) -> (Finding, Metric, String) {
    let (warn, crit) = Config::ranges(config.swap_warn, config.swap_crit);
    if memory.swap_total_bytes == 0 {
        let m = metric("swap_used_pct", 0.0, "%").warn_opt(warn).crit_opt(crit).min(0.0).max(100.0);
        return (Finding::new(Status::Ok, "no swap"), m, "swap: none".to_string());
    }
    let free = memory.swap_free_bytes.min(memory.swap_total_bytes);
    let used = (memory.swap_total_bytes - free) as f64 / memory.swap_total_bytes as f64 * 100.0;
    let (status, why, limit) = level(used, config.swap_warn, config.swap_crit);
    let m = metric("swap_used_pct", round2(used), "%").warn_opt(warn).crit_opt(crit).min(0.0).max(100.0);
    let line = format!(
        "swap: {}% used, {} free of {}",
        number(used, 1),
        format_bytes(free),
        format_bytes(memory.swap_total_bytes)
    );
    (Finding::new(status, format!("swap {}% used{why}", shown_pct(used, limit))), m, line)
}

fn judge_load(config: &Config, load: &LoadAverage) -> (Finding, Vec<Metric>, String) {
    let cpus = load.cpus.max(1);
    let value = match config.load_average {
        LoadWindow::One => load.one,
        LoadWindow::Five => load.five,
        LoadWindow::Fifteen => load.fifteen,
    };
    let per_core = value / f64::from(cpus);
    let (status, why) = match (config.load_crit, config.load_warn) {
        (Some(crit), _) if per_core > crit => (Status::Critical, format!(" (critical > {})", number(crit, 2))),
        (_, Some(warn)) if per_core > warn => (Status::Warning, format!(" (warning > {})", number(warn, 2))),
        _ => (Status::Ok, String::new()),
    };
    let window = if config.load_average == LoadWindow::One {
        String::new()
    } else {
        format!(" ({} average)", config.load_average.label())
    };
    let upper = |limit: Option<f64>| limit.map(|end| Range { start: 0.0, end, inside: false });
    let metrics = vec![
        metric("load1", round2(load.one), "").min(0.0),
        metric("load5", round2(load.five), "").min(0.0),
        metric("load15", round2(load.fifteen), "").min(0.0),
        metric("load_per_core", round2(per_core), "")
            .warn_opt(upper(config.load_warn))
            .crit_opt(upper(config.load_crit))
            .min(0.0),
    ];
    let line = format!(
        "load: {} {} {} (1m 5m 15m) on {cpus} CPU{}",
        number(load.one, 2),
        number(load.five, 2),
        number(load.fifteen, 2),
        if cpus == 1 { "" } else { "s" }
    );
    let shown = if per_core < 0.1 && per_core > 0.0 { number(per_core, 2) } else { number(per_core, 1) };
    (Finding::new(status, format!("load {shown} per core{window}{why}")), metrics, line)
}

fn judge_process(config: &Config, name: &str, count: u32) -> (Finding, Metric) {
    let min = config.process_min;
    let name = sanitize(name.trim(), 40);
    let expected = match config.process_max {
        Some(max) if max == min => format!("exactly {min}"),
        Some(max) if min == 0 => format!("at most {max}"),
        Some(max) => format!("{min} to {max}"),
        None => format!("at least {min}"),
    };
    let outside = count < min || config.process_max.is_some_and(|max| count > max);
    let noun = if count == 1 { "process" } else { "processes" };
    let range =
        Range { start: f64::from(min), end: config.process_max.map_or(f64::INFINITY, f64::from), inside: false };
    let m = metric("processes", f64::from(count), "").crit(range).min(0.0);
    if outside {
        (Finding::new(Status::Critical, format!("{count} {noun} named {name} (critical, expected {expected})")), m)
    } else {
        (Finding::new(Status::Ok, format!("{count} {noun} named {name}")), m)
    }
}

fn judge_listening(ports: &[(u16, bool)]) -> (Vec<Finding>, Vec<Metric>) {
    let list = |on: bool| ports.iter().filter(|(_, l)| *l == on).map(|(p, _)| p.to_string()).collect::<Vec<_>>();
    let (up, down) = (list(true), list(false));
    let plural = |ports: &[String]| if ports.len() == 1 { "port" } else { "ports" };
    let mut findings = Vec::new();
    if !down.is_empty() {
        let text = format!("{} {} not listening (critical)", plural(&down), down.join(", "));
        findings.push(Finding::new(Status::Critical, text));
    }
    if !up.is_empty() {
        findings.push(Finding::new(Status::Ok, format!("{} {} listening", plural(&up), up.join(", "))));
    }
    let one = Range { start: 1.0, end: f64::INFINITY, inside: false };
    let metrics = ports
        .iter()
        .map(|(port, on)| metric(format!("listening.{port}"), f64::from(u8::from(*on)), "").crit(one).min(0.0).max(1.0))
        .collect();
    (findings, metrics)
}

/// The status of a percentage against its thresholds (alerting above them), the words
/// that say which was crossed (` (critical > 90%)`), and that threshold.
fn level(value: f64, warn: Option<Percent>, crit: Option<Percent>) -> (Status, String, Option<f64>) {
    match (crit, warn) {
        (Some(Percent(crit)), _) if value > crit => {
            (Status::Critical, format!(" (critical > {}%)", number(crit, 2)), Some(crit))
        }
        (_, Some(Percent(warn))) if value > warn => {
            (Status::Warning, format!(" (warning > {}%)", number(warn, 2)), Some(warn))
        }
        _ => (Status::Ok, String::new(), None),
    }
}

/// A percentage for a summary: whole from 10% up, one decimal below, and as many more
/// (up to two) as it takes to show that it is above the threshold `limit` it crossed.
fn shown_pct(value: f64, limit: Option<f64>) -> String {
    let mut decimals = if value >= 10.0 { 0 } else { 1 };
    let mut text = number(value, decimals);
    while let Some(limit) = limit {
        if decimals >= 2 || text.parse::<f64>().map_or(true, |shown| shown > limit) {
            break;
        }
        decimals += 1;
        text = number(value, decimals);
    }
    text
}

/// `value` with at most `decimals` decimals, without trailing zeros (`0.30` → `0.3`).
pub fn number(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text }
}

/// Two decimals are plenty for a metric in percent or a load.
fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}
